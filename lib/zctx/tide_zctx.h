/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_ZCTX_H
#define TIDE_ZCTX_H

/**
 * @file
 * Zero-copy TX from ordinary memory: a send agent that pins, translates, attaches,
 * transmits and unpins.
 *
 * An application thread (an EAL lcore or any other thread) submits a send: a destination
 * port and TX queue, header bytes (copied at submission) and a payload given as iovecs of
 * ordinary memory (malloc, mmap). A send agent thread takes the submissions in order and,
 * for each, pins the payload's pages (mlock, within the memlock limit), finds their IO
 * addresses (the virtual address in IOVA-as-VA mode, the physical address from
 * /proc/self/pagemap in PA mode), registers them with DPDK (rte_extmem_register and
 * rte_dev_dma_map for each port's device), builds packets whose segments attach the
 * payload as external buffers (rte_pktmbuf_attach_extbuf) -- a new segment wherever the
 * IO addresses are not contiguous, a new packet at the port's frame size and segment
 * limits, each packet starting with its own copy of the header -- and transmits them.
 * When the PMD has freed the last mbuf that references the payload (the external buffer's
 * free callback), the pages are released -- exactly once -- and a completion is posted.
 * Below a size threshold the agent copies the payload into pool mbufs instead; the
 * threshold adapts to measured costs unless fixed by configuration.
 *
 * The contract:
 *  - Between tide_zctx_submit() and the send's completion the payload memory belongs to
 *    the agent: do not free it, unmap it or write to it (a write may or may not be sent).
 *    The header is copied at submission: its memory is yours again at once.
 *  - Pinned pages stay in a process-wide pin and translation cache after the completion
 *    (so that sending from the same buffer again costs no mlock and no pagemap read),
 *    within the cache's byte limit. Before you free or unmap memory you have sent from,
 *    call tide_zctx_mem_invalidate() on it (or tide_zctx_cache_flush()); otherwise a
 *    later mapping at the same address could be sent with stale IO addresses.
 *  - tidepool unpins with munlock(): if the application mlock()s the same pages itself,
 *    an eviction from the cache undoes that lock.
 *  - Memory DPDK already knows (hugepage memory from rte_malloc, memzones or mempools,
 *    and memory the application registered with rte_extmem_register()) is sent zero-copy
 *    as it is: its IO addresses come from DPDK's memseg lists and it is neither pinned
 *    nor cached. The same contract applies. Memory registered without IO addresses
 *    (iova_addrs NULL) goes zero-copy only to PMDs that read what they send by virtual
 *    address (net_null, net_af_packet, net_memif, net_tap, net_pcap); to other ports an
 *    adaptive threshold copies it, and a fixed threshold under which it would go
 *    zero-copy fails the send with -EADDRNOTAVAIL.
 *  - The blocks of elastic pools (tide mempools) are followed through block events
 *    (tide_mempool_block_event_register(), primary process): a payload in a block holds
 *    the block until its send's completion (the pool's reaper cannot release it before).
 *    Their memory is DMA-mapped by its owner (EAL for its heap; the donor manager, or the
 *    pool's block source, for external memory), not by the agent. A payload is cut into
 *    pieces at 2 MB span and block boundaries; one that needs more than
 *    3 * TIDE_ZCTX_MAX_IOV pieces in all is refused with -EFAULT.
 *  - A zero-copy mbuf must be freed in the process that sent it: its segments carry a
 *    free callback, a function pointer of this process, and another process that frees
 *    them (a primary stopping a port a secondary's sends are in flight on, a net_ring
 *    consumer in another process) calls an address that means nothing there. Nothing
 *    detects it. Stop or clean up a port from the sending process, only with none of its
 *    sends in flight, and give a consumer in another process copies only (copy_threshold
 *    above TIDE_ZCTX_MAX_SEND), or have it hand the mbufs back to be freed here.
 *  - In PA mode the translation holds only while the kernel does not move the pages:
 *    mlocked pages are not swapped, but memory compaction may migrate them unless
 *    vm.compact_unevictable_allowed is 0. Use IOVA-as-VA (VFIO) for real DMA safety.
 *
 * Completions are posted in submission order: the order in which tide_zctx_submit()
 * calls (from all threads) entered the submission queue. A send whose memory the PMD
 * holds longer delays the completions of the sends behind it. Each accepted send gets
 * exactly one completion: status 0 when all of it was handed to the PMD and the PMD
 * released it, a negative errno when it was refused by the agent (nothing sent:
 * -EFAULT unmapped memory or memory mapped without read access, or a span at its
 * address registered already (by another process); -ENOMEM over the memlock limit, or no
 * memory for the cache's tables or for the shared record of spans; -EPERM no right to
 * pin (RLIMIT_MEMLOCK 0, the cache's limit unless pin_limit is set, or no CAP_IPC_LOCK)
 * or no access to /proc/self/pagemap; -ENOSPC the cache
 * cannot hold it, or no memseg list or span record is left; -EPROTO the record of spans
 * is another tidepool build's; -EIO reading
 * /proc/self/pagemap or DMA-mapping for the port's device failed; -EMSGSIZE the pool's
 * mbufs cannot hold the header, not expected as tide_zctx_create() checks the pool: what
 * was handed to the PMD before goes out; -EADDRNOTAVAIL memory registered with DPDK
 * without IO addresses, to a port whose PMD may DMA, under a fixed threshold that says
 * zero-copy), or -ECANCELED when
 * tide_zctx_stop() cancelled it before all of it reached the PMD.
 *
 * Back-pressure: at most `depth` sends are outstanding (submitted, completion not yet
 * polled). tide_zctx_submit() beyond that returns -EAGAIN and counts it; nothing is ever
 * dropped silently.
 *
 * Threads: tide_zctx_submit() and tide_zctx_poll() may be called from any thread, EAL or
 * not, concurrently. The agent is the only thread that uses the TX queues named in
 * submissions (it transmits on them, and asks the PMD to reclaim descriptors on those of a
 * port that sends in flight went to): the application must not use them itself. A port's
 * other TX queues are left alone (the application's, or another instance's).
 * tide_zctx_create(), tide_zctx_stop() and tide_zctx_free() are control-path calls, not
 * to be called concurrently on one instance. The cache calls may be called from any
 * thread.
 *
 * Ports: configured, with every TX queue set up, before tide_zctx_create(); no RX queue
 * needed; started before sends to them are submitted, and started or stopped only while
 * no send to them is in flight (see tide_zctx_create()).
 *
 * Errors: functions that return int give 0 (or a count) on success and a negative errno
 * on failure, with rte_errno set to the same errno; tide_zctx_create() gives NULL and sets
 * rte_errno. Every failure is logged except a submit's -EAGAIN (no room now: a data
 * path's back-pressure). The inline submit and poll do not check the instance pointer.
 *
 * Logs go to the log type "tide.zctx"; telemetry: /tide/zctx/list and
 * /tide/zctx/info,<name>. Every process's instances are entered in a directory in shared
 * memory, so that the primary's telemetry (DPDK 22.11 serves it there only) also lists a
 * secondary's, as <name>@<pid>, with its counters (not its pin cache, which is its own).
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring_elem.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most iovecs in one send. */
#define TIDE_ZCTX_MAX_IOV 16
/** Most header bytes in one send (copied at the start of every packet). */
#define TIDE_ZCTX_HDR_MAX 128
/** Most payload bytes in one send. */
#define TIDE_ZCTX_MAX_SEND (1u << 20)
/** Most ports one instance sends on. */
#define TIDE_ZCTX_MAX_PORTS 8
/** copy_threshold value: let the agent choose from measured costs (the default): per size
 *  class, and for the mix of sizes as a whole (a threshold that splits the mix must save
 *  a few percent of the whole mix's cost, and is tried now and then against sending all
 *  of it zero-copy). */
#define TIDE_ZCTX_THRESHOLD_ADAPTIVE UINT32_MAX
/** agent_lcore value: run the agent on a control thread of its own (the default). */
#define TIDE_ZCTX_AGENT_CTRL_THREAD (-1)

/** Signal completions on an eventfd (see tide_zctx_eventfd()). */
#define TIDE_ZCTX_F_EVENTFD (1u << 0)

struct tide_zctx;

/** Where one packet of a send sits in its payload, for the pkt_prep callback. */
struct tide_zctx_pkt_info {
	uint64_t cookie;      /**< the send's cookie */
	uint32_t offset;      /**< payload offset of this packet's first byte */
	uint32_t payload_len; /**< payload bytes in this packet (after the header) */
	uint32_t send_len;    /**< payload bytes of the whole send */
	uint16_t index;       /**< packet number within the send, from 0 */
	bool last;            /**< last packet of the send */
};

/**
 * Called by the agent for every packet it built, before transmitting it: adjust the
 * header copy at the start of @p pkt (lengths, sequence numbers) or set offload flags.
 */
typedef void (tide_zctx_pkt_prep_t)(struct rte_mbuf *pkt, const struct tide_zctx_pkt_info *info,
	void *arg);

/** Parameters of an instance. Fill with tide_zctx_params_init(), then change what you need. */
struct tide_zctx_params {
	const char *name;        /**< unique, < 32 chars, no '@' */
	int socket_id;           /**< NUMA socket of the rings and tables, or SOCKET_ID_ANY */
	unsigned int depth;      /**< most sends outstanding, rounded up to a power of 2 */
	uint16_t nb_ports;       /**< ports this instance sends on */
	uint16_t ports[TIDE_ZCTX_MAX_PORTS]; /**< configured ethdev ports; the TX queues
					     *   sends name are the agent's to use */
	struct rte_mempool *pool; /**< pktmbuf pool for headers and copies, with a data
				   *   room of at least RTE_PKTMBUF_HEADROOM + the longest
				   *   header (TIDE_ZCTX_HDR_MAX, or the frame length - 1 if
				   *   less) + 1 bytes; NULL: an elastic tidepool pool is
				   *   created */
	uint32_t copy_threshold; /**< payloads shorter than this many bytes are copied;
				  *   0: never copy; TIDE_ZCTX_THRESHOLD_ADAPTIVE */
	uint32_t max_frame_len;  /**< bytes per packet, header included; 0: each port's
				  *   MTU + Ethernet header */
	int agent_lcore;         /**< an idle worker lcore to run the agent on, or
				  *   TIDE_ZCTX_AGENT_CTRL_THREAD */
	uint32_t flags;          /**< TIDE_ZCTX_F_* */
	tide_zctx_pkt_prep_t *pkt_prep; /**< optional per-packet callback */
	void *pkt_prep_arg;      /**< its argument */
};

/** One send, as given to tide_zctx_submit(). */
struct tide_zctx_send {
	uint64_t cookie;          /**< returned in the completion */
	uint16_t port;            /**< one of the instance's ports */
	uint16_t queue;           /**< a configured TX queue of that port */
	uint16_t hdr_len;         /**< header bytes, at most TIDE_ZCTX_HDR_MAX (may be 0) */
	uint16_t nb_iov;          /**< payload iovecs, 1..TIDE_ZCTX_MAX_IOV */
	const void *hdr;          /**< header, copied at submission */
	const struct iovec *iov;  /**< payload; read at submission, the memory later */
};

/** One completion, as tide_zctx_poll() returns it. */
struct tide_zctx_cpl {
	uint64_t cookie;  /**< the send's cookie */
	int32_t status;   /**< 0, or a negative errno (see the file comment) */
	uint32_t bytes;   /**< payload bytes the PMD took */
};

/** Counters of an instance, as tide_zctx_stats_get() reports them. */
struct tide_zctx_stats {
	uint64_t submitted;     /**< sends the agent took from the submission queue */
	uint64_t completed;     /**< completions posted with status 0 */
	uint64_t failed;        /**< completions posted with an error (nothing sent) */
	uint64_t cancelled;     /**< completions posted with -ECANCELED */
	uint64_t eagain;        /**< submissions refused for back-pressure */
	uint64_t rejected;      /**< submissions refused as invalid */
	uint64_t zc_sends;      /**< sends sent zero-copy */
	uint64_t copy_sends;    /**< sends copied */
	uint64_t zc_bytes;      /**< payload bytes sent zero-copy */
	uint64_t copy_bytes;    /**< payload bytes copied */
	uint64_t packets;       /**< packets the PMD took */
	uint64_t tx_bursts;     /**< rte_eth_tx_burst() calls the agent made (packets /
				 *   tx_bursts: how full its bursts are) */
	uint64_t segments;      /**< external-buffer segments attached */
	uint64_t zc_released;   /**< zero-copy sends whose last mbuf was freed (free
				 *   callbacks: one per zero-copy send, never more) */
	uint64_t tx_stalls;     /**< TX bursts the PMD took only part of */
	uint64_t busy_cycles;   /**< TSC cycles the agent spent on work (not idle polls) */
	uint64_t inflight;      /**< sends taken by the agent, completion not yet posted */
	uint32_t threshold;     /**< current copy threshold, bytes */
	bool adaptive;          /**< the threshold adapts */
};

/** Process-wide pin and translation cache configuration. */
struct tide_zctx_cache_params {
	size_t idle_bytes; /**< pinned bytes kept after their sends completed (LRU beyond) */
	size_t pin_limit;  /**< most bytes pinned at once; 0: RLIMIT_MEMLOCK's soft limit */
	unsigned int max_spans; /**< most 2 MB spans registered with DPDK at once (each is
				 *   one external memseg list); 0: the default (64) */
};

/** Counters and gauges of the pin and translation cache. */
struct tide_zctx_cache_stats {
	uint64_t spans;          /**< spans held (each a 2 MB aligned window) */
	uint64_t pinned_bytes;   /**< bytes pinned now */
	uint64_t idle_bytes;     /**< of those, in spans no send or registration uses */
	uint64_t pin_limit;      /**< the limit in force */
	uint64_t idle_limit;     /**< idle bytes kept */
	uint64_t hits;           /**< span lookups served from the cache */
	uint64_t misses;         /**< span lookups that registered a new span */
	uint64_t evictions;      /**< spans dropped (LRU, limit, invalidate, flush) */
	uint64_t pinned_total;   /**< bytes ever pinned */
	uint64_t unpinned_total; /**< bytes ever unpinned */
	uint64_t dpdk_mem;       /**< iovecs found in DPDK memory (sent unpinned) */
	uint64_t blocks;         /**< blocks of tide mempools followed now (block events,
				  *   primary process, while an instance or registration
				  *   exists) */
	uint64_t blocks_in_use;  /**< of those, used by sends in flight */
	uint64_t block_holds;    /**< payload pieces found in such blocks: each holds its
				  *   block until its send's completion */
	uint64_t block_vetoes;   /**< block removals refused because sends in flight used
				  *   the block (the pool retries later) */
	uint64_t blocks_lost;    /**< blocks not followed for want of memory (logged) */
};

#include "tide_zctx_pvt.h"

/**
 * Fill @p p with defaults: depth 1024, adaptive threshold, a control-thread agent,
 * frames of the port's MTU, an elastic pool created for headers and copies, no ports.
 *
 * @param p
 *   Parameters to fill; NULL is a no-op.
 * @param name
 *   Instance name (not copied: it must live until tide_zctx_create()).
 */
void tide_zctx_params_init(struct tide_zctx_params *p, const char *name);

/**
 * Create an instance and start its agent. The parameters and the name are checked before
 * anything is built, the ports before any ring or pool; on failure nothing is left behind.
 *
 * The ports must be configured (rte_eth_dev_configure()) with at least one TX queue, and
 * every TX queue set up (rte_eth_tx_queue_setup()): their MTU, offloads and TX queue count
 * are read now, and later changes are not seen. A port needs no RX queue, and it need not
 * be started yet; start it before submitting sends to it. While a send to a port is in
 * flight the agent uses the port's TX queues that sends name (it transmits, and asks the
 * PMD to reclaim descriptors on each), and DPDK does not allow using a queue while its
 * port starts or stops (the PMD may be handed ethdev's placeholder queue and write into
 * it): start or stop a port only while none of the sends to it is in flight, every one
 * completed, or after tide_zctx_stop() timed out. A send to a port that is not started waits at the
 * agent, counted as in flight, until tide_zctx_stop() cancels it (DPDK logs the agent's
 * first attempt to transmit on it as an error). A port that advertises
 * RTE_ETH_TX_OFFLOAD_MULTI_SEGS gets zero-copy sends only if that offload is enabled in
 * its configuration; a port that
 * advertises no TX offload at all (as net_null) is taken to accept
 * mbuf chains. Other ports get copies only, each frame in one mbuf of the instance's pool
 * (frames shorter than the port's MTU allows where its mbufs are shorter). A port
 * configured with
 * RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE, or with a TX queue set up with it (as far as its
 * PMD reports queue information), is refused: fast free puts mbufs back without the
 * free callbacks zero-copy sends complete on, and into the first mbuf's pool.
 *
 * @param p
 *   Parameters (see tide_zctx_params_init()).
 * @return
 *   The instance, or NULL with rte_errno set:
 *   - EINVAL: @p p NULL; a name empty, of 32 chars or more, or holding '@' (telemetry
 *     names another process's instance <name>@<pid>); depth 0 or above 65536;
 *     no port or more than TIDE_ZCTX_MAX_PORTS; a port given twice, not a valid ethdev
 *     port, with no TX queue configured or one not set up, or with
 *     RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE (port or queue); a frame length below 2;
 *     unknown flags; an agent lcore that is not an idle worker lcore; a socket EAL does
 *     not know; a @p p->pool that is not a pktmbuf pool, or whose data room is below
 *     RTE_PKTMBUF_HEADROOM + the longest header a send to one of the ports may carry + 1
 *     (the log line gives the minimum);
 *   - EEXIST: an instance of that name exists;
 *   - ENOSPC: no memzone left for its rings and pools, no room in the device table (more
 *     devices than RTE_MAX_ETHPORTS in use by instances), or the shared directory of
 *     every process's instances is full (128 live ones);
 *   - EMFILE, ENFILE: no file descriptor left (in the process, in the system) for its
 *     eventfds, or (IOVA mode PA, the pin cache's first user) to open /proc/self/pagemap;
 *   - EPERM: IOVA mode PA and no right to open /proc/self/pagemap;
 *   - EIO: the memory pinned in the cache (registrations, idle spans) could not be
 *     DMA-mapped for a port's device, or (IOVA mode PA) /proc/self/pagemap cannot be
 *     opened for another reason than the two above;
 *   - EAGAIN: the agent's thread could not be started;
 *   - ENOMEM: no memory for the instance, its rings, its pools, its eventfds or the shared
 *     directory of instances;
 *   - EPROTO: the shared directory of instances was made by a process of another tidepool
 *     build;
 *   - ENOTSUP: a secondary process and no @p p->pool (tide_pool_create() makes the
 *     instance's own pool in the primary only);
 *   - otherwise the error rte_pktmbuf_pool_create(), tide_pool_create() or
 *     rte_ring_create_elem() gave for its pools and rings (see those; the log line says
 *     which), e.g. EAGAIN or EPERM when the pool library's control thread cannot start.
 */
struct tide_zctx *tide_zctx_create(const struct tide_zctx_params *p);

/**
 * Stop accepting sends and finish the ones in flight: sends not yet handed to the PMD
 * are cancelled (-ECANCELED); the agent waits for the PMD to release the others, asking
 * it to reclaim its TX descriptors (rte_eth_tx_done_cleanup()). Every accepted send gets
 * exactly one completion; poll them (before or after this call).
 *
 * On -ETIMEDOUT the agent has stopped using the ports' queues, for the rest of the
 * instance's life (no more rte_eth_tx_done_cleanup()): the ports may be stopped, which
 * makes most PMDs free their TX mbufs, and their free completes the sends; call this (or
 * tide_zctx_free()) again after that. A PMD that frees transmitted mbufs only when asked
 * is no longer asked: stop its port. After 0, submissions fail with -ESHUTDOWN.
 *
 * @param z
 *   The instance.
 * @param timeout_ms
 *   How long to wait for the PMD; 0 waits for ever.
 * @return
 *   0 when every accepted send has its completion posted and the agent has stopped, or a
 *   negative errno with rte_errno set: -ETIMEDOUT the PMD still holds some after
 *   @p timeout_ms (the agent keeps waiting for them); -EINVAL @p z is NULL, or not a live
 *   instance of this process (freed already, or not from tide_zctx_create()): refused
 *   with a log line, nothing read or written through it.
 */
int tide_zctx_stop(struct tide_zctx *z, unsigned int timeout_ms);

/**
 * Free an instance: stops it first (as tide_zctx_stop() with a 1 s limit) if not done.
 * Completions not yet polled are discarded.
 *
 * A completed send's mbufs may outlive it: a copied send completes once the PMD took its
 * packets, and a PMD may keep transmitted mbufs until it reclaims their descriptors, or
 * hand them on (net_ring: to whoever dequeues them). The instance's own pools (its
 * data-less mbufs for zero-copy segments and, without @p p->pool, its pool for headers
 * and copies) are freed only when every one of their mbufs is home: the free asks the PMD
 * to reclaim (rte_eth_tx_done_cleanup() on each TX queue, unless a stop timed out
 * before), waits up to 100 ms, and otherwise refuses with -EBUSY. The usual order: poll
 * the completions, stop the ports (most PMDs free what they hold), then free the instance.
 *
 * @param z
 *   The instance, or NULL (a no-op).
 * @return
 *   0, or a negative errno with rte_errno set:
 *   - -EBUSY and the instance not freed (call again later):
 *     - sends still in flight after the stop's time limit; its agent then no longer uses
 *       the ports' queues (as after tide_zctx_stop()'s -ETIMEDOUT): stop the ports;
 *     - mbufs of its pools still out (in a TX queue or with the port's consumer): stop the
 *       ports, or free what the consumer holds;
 *   - -EINVAL @p z is not a live instance of this process (freed already, or not from
 *     tide_zctx_create()): refused with a log line, nothing read or written through it.
 *     An instance made since at the same address is live: the pointer names it.
 */
int tide_zctx_free(struct tide_zctx *z);

/**
 * The eventfd signalled when completions are posted (TIDE_ZCTX_F_EVENTFD): readable
 * while completions are waiting to be polled; read it (8 bytes) before polling.
 *
 * @param z
 *   The instance.
 * @return
 *   The file descriptor (the instance's: do not close it), or a negative errno with
 *   rte_errno set: -ENOTSUP the instance was created without TIDE_ZCTX_F_EVENTFD;
 *   -EINVAL @p z is NULL, or not a live instance of this process (freed already, or not
 *   from tide_zctx_create()): refused with a log line, nothing read through it.
 */
int tide_zctx_eventfd(const struct tide_zctx *z);

/**
 * Set the copy threshold at run time: payloads shorter than @p bytes are copied;
 * TIDE_ZCTX_THRESHOLD_ADAPTIVE lets measured costs decide (starting afresh). The agent
 * applies it before it takes its next send (the send it is building, if any, keeps its
 * path).
 *
 * @param z
 *   The instance.
 * @param bytes
 *   The threshold: 0 never copies; TIDE_ZCTX_THRESHOLD_ADAPTIVE.
 * @return
 *   0, or -EINVAL (rte_errno set, a log line) if @p z is NULL, or not a live instance of
 *   this process (freed already, or not from tide_zctx_create()): nothing written through
 *   it.
 */
int tide_zctx_threshold_set(struct tide_zctx *z, uint32_t bytes);

/**
 * Read an instance's counters (any thread).
 *
 * @param z
 *   The instance: this process's (another process's shows in telemetry).
 * @param st
 *   Where the counters go.
 * @return
 *   0, or -EINVAL (rte_errno set, a log line) if an argument is NULL, or @p z is not a
 *   live instance of this process (freed already, or not from tide_zctx_create()):
 *   nothing read through it.
 */
int tide_zctx_stats_get(const struct tide_zctx *z, struct tide_zctx_stats *st);

/** Most sends one tide_zctx_submit_burst() call takes. */
#define TIDE_ZCTX_SUBMIT_BURST 64

/**
 * Submit up to @p n sends at once (any thread): what @p n tide_zctx_submit() calls do,
 * with one credit update, one ring enqueue and one memory fence for all of them. The
 * headers and iovec arrays are copied; the payload memory is read later by the agent or
 * the NIC: leave it alone until its completion.
 *
 * Sends are queued in order from s[0]. The burst stops before a send that fails its
 * checks (call again from there to get its error), at @p n, at
 * TIDE_ZCTX_SUBMIT_BURST, or when `depth` sends are outstanding.
 *
 * @param z
 *   A live instance (unchecked).
 * @param s
 *   The sends.
 * @param n
 *   How many, at least 1.
 * @return
 *   How many were queued (> 0, one completion each), or, when none was, a negative
 *   errno with rte_errno set: -EINVAL @p n is 0, or as tide_zctx_submit() for s[0].
 */
static inline int
tide_zctx_submit_burst(struct tide_zctx *z, const struct tide_zctx_send *s, unsigned int n)
{
	struct tide_zctx_fast *f = (struct tide_zctx_fast *)z;
	uint32_t len[TIDE_ZCTX_SUBMIT_BURST];
	struct rte_ring_zc_data zc;
	const char *why = NULL;
	unsigned int idx, m, k;
	int err = 0;

	n = RTE_MIN(n, (unsigned int)TIDE_ZCTX_SUBMIT_BURST);
	for (m = 0; m < n; m++) {
		err = tide_zctx_pvt_send_check(f, &s[m], &len[m], &why, &idx);
		if (unlikely(err != 0))
			break;
	}
	if (unlikely(m == 0))
		return tide_zctx_pvt_refuse(z, n == 0 ? EINVAL : err,
			n == 0 ? "no sends" : why, n == 0 ? 0 : idx);
	if (unlikely(__atomic_load_n(&f->state, __ATOMIC_RELAXED) !=
			TIDE_ZCTX_PVT_STATE_RUNNING))
		return tide_zctx_pvt_refuse(z, ESHUTDOWN, "the instance is stopped", 0);
	k = tide_zctx_pvt_credits_take(f, m);
	if (unlikely(k == 0)) {
		__atomic_fetch_add(&f->eagain, 1, __ATOMIC_RELAXED);
		rte_errno = EAGAIN;
		return -EAGAIN;
	}
	/* Checked again: a stop that began meanwhile must see these credits or refuse them. */
	if (unlikely(__atomic_load_n(&f->state, __ATOMIC_SEQ_CST) !=
			TIDE_ZCTX_PVT_STATE_RUNNING)) {
		__atomic_fetch_sub(&f->credits, k, __ATOMIC_RELEASE);
		return tide_zctx_pvt_refuse(z, ESHUTDOWN, "the instance is stopped", 0);
	}
	/* Credits bound what is queued: the ring has room. Written in place (the ring is
	 * MP HTS), only the bytes each send uses.
	 */
	if (unlikely(rte_ring_enqueue_zc_bulk_elem_start(f->sq, sizeof(struct tide_zctx_sqe),
			k, &zc, NULL) == 0)) {
		__atomic_fetch_sub(&f->credits, k, __ATOMIC_RELEASE);
		rte_errno = EAGAIN;
		return -EAGAIN;
	}
	for (unsigned int i = 0; i < k; i++)
		tide_zctx_pvt_sqe_pack(i < zc.n1 ? (struct tide_zctx_sqe *)zc.ptr1 + i :
			(struct tide_zctx_sqe *)zc.ptr2 + (i - zc.n1), &s[i], len[i]);
	rte_ring_enqueue_zc_elem_finish(f->sq, k);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (unlikely(__atomic_load_n(&f->agent_sleeping, __ATOMIC_RELAXED)))
		tide_zctx_pvt_wake(z);
	return (int)k;
}

/**
 * Submit one send (any thread). The header and the iovec array are copied; the payload
 * memory is read later by the agent or the NIC: leave it alone until the completion.
 *
 * @param z
 *   A live instance (unchecked).
 * @param s
 *   The send.
 * @return
 *   0 when queued (one completion will follow), or a negative errno with rte_errno set
 *   and nothing queued: -EAGAIN `depth` sends are outstanding (poll completions, retry);
 *   -EINVAL NULL send, iovec or header, an iovec with a NULL base or zero length, an
 *   iovec count out of 1..TIDE_ZCTX_MAX_IOV, a port or queue not the instance's, a header
 *   longer than TIDE_ZCTX_HDR_MAX or the port's frame; -EOVERFLOW an iovec wraps around
 *   the address space; -EMSGSIZE payload (or one iovec) over TIDE_ZCTX_MAX_SEND; -ESHUTDOWN the
 *   instance is stopped. Unmapped memory and the memlock limit are found by the agent:
 *   see the completion's status.
 */
static inline int
tide_zctx_submit(struct tide_zctx *z, const struct tide_zctx_send *s)
{
	int ret = tide_zctx_submit_burst(z, s, 1);

	return ret < 0 ? ret : 0;
}

/**
 * Take up to @p n completions (any thread), in submission order. Each frees one of the
 * `depth` places for sends.
 *
 * @param z
 *   A live instance (unchecked).
 * @param cpl
 *   Where the completions go.
 * @param n
 *   Room in @p cpl.
 * @return
 *   Completions written to @p cpl (0 if none).
 */
static inline unsigned int
tide_zctx_poll(struct tide_zctx *z, struct tide_zctx_cpl *cpl, unsigned int n)
{
	struct tide_zctx_fast *f = (struct tide_zctx_fast *)z;
	unsigned int got;

	got = rte_ring_mc_dequeue_burst_elem(f->cq, cpl, sizeof(*cpl), n, NULL);
	if (got != 0)
		__atomic_fetch_sub(&f->credits, got, __ATOMIC_RELEASE);
	return got;
}

/**
 * Configure the process-wide pin and translation cache. Takes effect at once (idle spans
 * beyond the new limits are evicted).
 *
 * @param p
 *   The configuration.
 * @return
 *   0, or -EINVAL (rte_errno set) if @p p is NULL or max_spans is above
 *   RTE_MAX_MEMSEG_LISTS.
 */
int tide_zctx_cache_configure(const struct tide_zctx_cache_params *p);

/**
 * Pin, translate and register [addr, addr + len) now, on the calling thread, and keep it
 * in the cache until tide_zctx_mem_unregister(): sends from it then pay no pinning cost,
 * and errors show here rather than in a completion. Memory DPDK knows already is noted,
 * not pinned.
 *
 * @param addr
 *   Start of the range.
 * @param len
 *   Bytes.
 * @return
 *   0, or a negative errno with rte_errno set (nothing stays registered):
 *   - -EINVAL: @p addr NULL, @p len 0, or a range that wraps around the address space;
 *   - -EFAULT: part of the range is not mapped (or mapped without read access), or it
 *     straddles the end of DPDK memory, or a span at its address is registered already
 *     (by another process);
 *   - -ENOMEM: pinning it would exceed the memlock limit (RLIMIT_MEMLOCK or the cache's
 *     pin_limit), or no memory for the cache's tables, or no memzone for the shared
 *     record of spans (the directory of instances);
 *   - -EPERM: the process may not pin (RLIMIT_MEMLOCK 0: the cache's limit then, unless
 *     pin_limit is configured, and the kernel's without CAP_IPC_LOCK), or, in IOVA mode
 *     PA, may not read physical addresses (/proc/self/pagemap);
 *   - -ENOSPC: no span left (the cache's max_spans, DPDK's memseg lists, or the shared
 *     record of every process's spans, as many as those lists), or DPDK's memzone table
 *     is full, so the shared record of spans cannot be made;
 *   - -EPROTO: the shared record of spans was made by a process of another tidepool build;
 *   - -EMFILE, -ENFILE: IOVA mode PA, the cache's first user, and no file descriptor left
 *     (in the process, in the system) to open /proc/self/pagemap;
 *   - -EIO: opening (for another reason) or reading /proc/self/pagemap, or DMA-mapping for
 *     an instance's device, failed.
 */
int tide_zctx_mem_register(const void *addr, size_t len);

/**
 * Undo one tide_zctx_mem_register() of the same range; the pages stay cached as idle.
 *
 * @param addr
 *   Start of the range, as registered.
 * @param len
 *   Bytes, as registered.
 * @return
 *   0, or -ENOENT (rte_errno set) if that range is not registered.
 */
int tide_zctx_mem_unregister(const void *addr, size_t len);

/**
 * Drop every cached pin and translation of [addr, addr + len) now (call it before
 * freeing or unmapping memory you sent from).
 *
 * @param addr
 *   Start of the range.
 * @param len
 *   Bytes.
 * @return
 *   0, or a negative errno with rte_errno set: -EBUSY a send in flight or a registration
 *   still uses it (nothing is dropped then); -EINVAL @p addr NULL, @p len 0, or a range
 *   that wraps around the address space.
 */
int tide_zctx_mem_invalidate(const void *addr, size_t len);

/**
 * Drop every idle span of the cache (pages no send and no registration uses).
 *
 * @return
 *   Bytes unpinned.
 */
size_t tide_zctx_cache_flush(void);

/**
 * Read the cache's counters.
 *
 * @param st
 *   Where the counters go.
 * @return
 *   0, or -EINVAL (rte_errno set) if @p st is NULL.
 */
int tide_zctx_cache_stats_get(struct tide_zctx_cache_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* TIDE_ZCTX_H */
