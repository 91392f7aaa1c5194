/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_POOL_H
#define TIDE_POOL_H

/**
 * @file
 * Elastic mbuf pools.
 *
 * A tidepool pool is an ordinary pktmbuf `struct rte_mempool` (ops "tide") that starts
 * with a base block of hugepages and adds blocks, one memzone each, as demand grows, up
 * to a wall. Use it wherever a pktmbuf pool goes: rte_eth_rx_queue_setup(),
 * rte_pktmbuf_alloc(), rte_pktmbuf_free(), from any lcore or thread.
 *
 * Growth happens two ways:
 *  - ahead of need: a control thread ("tide-ctl", one per process) checks every pool
 *    each tick and adds blocks while the driver's free objects are below the pool's
 *    target (the low watermark, or more when the measured allocation rate says so), so
 *    the RX path does not wait on hugepage faults;
 *  - synchronously, as a last resort, inside an allocation that would otherwise fail
 *    (unless TIDE_POOL_F_NO_SYNC_GROW). That allocation waits for one block to be
 *    reserved and populated (milliseconds). When a growth is already under way (the
 *    control thread's, or tide_pool_grow()) it waits only until the mbufs it asks for
 *    are free, not for the rest of the blocks being added (stats: grow_waits).
 *
 * At the wall, allocations fail as with any exhausted mempool and are counted, with a log
 * line (at most one a second per pool); the pool keeps serving what it holds. When
 * hugepages run out during growth the same happens, with a log line (at most one a
 * second). The control thread then backs off: it tries
 * again two ticks later, then twice as long after each failure in a row, up to once a
 * second (TIDE_POOL_GROW_BACKOFF_MAX_MS), and at its next tick once memory comes back in
 * the process (a block reaped, a pool freed) or a growth succeeds (a failing
 * allocation's, or tide_pool_grow()). A failing allocation still tries to grow at once
 * (unless TIDE_POOL_F_NO_SYNC_GROW). A growth of several blocks that adds some and then
 * fails backs off as one that added none. Stats: grow_fails counts every failed attempt,
 * grow_backoff_ms is the wait left. Callers off the PMD path may wait for mbufs instead
 * (tide_pool_alloc_wait(), tide_pool_alloc_async()): requests queue in FIFO order and are
 * served, at the control thread's tick, as mbufs come back or as the control thread grows
 * the pool for them: the mbufs the head request asks for count in its growth target, and
 * the reaper releases no block the head request needs.
 *
 * Reaping: every reap period the control thread samples each block and releases the
 * newest block only when it has no mbuf out and has seen no allocation for the idle
 * threshold, and the block before it is idle the same way; never the base block. One
 * empty block therefore stays as headroom. A released block's memzone is freed and its
 * hugepages go back to the OS. Mbufs parked in per-lcore caches keep their block busy.
 * An lcore's idle loop hands them back with tide_pool_cache_flush(); without it, when
 * the only mbufs out of a reap candidate sit in lcore caches, the reaper makes those
 * caches hand them back until they hold none of them, then restores their flush threshold:
 * it alternates the threshold, a reap period each, between 0 (frees bypass the cache,
 * allocations empty it and refill it from the oldest blocks) and the cache's own (frees
 * fill it until it flushes itself whole). An lcore that
 * still allocates, or still frees, hands them back by itself. An lcore that neither
 * allocates nor frees keeps what its cache holds, at most 1.5 x cache_size mbufs. A block
 * that keeps the idle blocks above it only because a few of its mbufs are held for long
 * (nothing taken from it for the idle threshold: what such a cache, or a long-lived table,
 * holds) is ranked as old, just above the base: the blocks above it can then go, and new
 * allocations fill it first.
 *
 * Block events, for memory a device must have registered (DMA maps, RDMA regions): the
 * callbacks of tide_mempool_block_event_register() (tide_mempool.h) hear of every block an
 * elastic pool adds, before any allocation can take its mbufs, and of every block it
 * releases, before its memory goes. They run on the thread that grows or shrinks the
 * pool: the control thread (growth ahead of need, growth for a secondary, the reaper);
 * the caller of tide_pool_grow() or tide_pool_reap(); an allocating thread when a
 * failing allocation grows the pool (TIDE_POOL_F_NO_SYNC_GROW keeps that off the
 * lcores); the thread freeing the pool for its blocks' final removal. Never on an
 * allocation or free served from the free lists. A callback that vetoes a release keeps
 * the block; the reaper tries again the next period (reap_vetoes counts the refusals).
 *
 * NUMA: a pool's blocks are reserved on its socket (struct tide_pool_params.socket_id),
 * and after each block is populated the node of its pages is read back (move_pages(2));
 * tide_pool_block_list() and /tide/pool/info report each block's node, and a block that
 * landed on another node is logged and counted (node_misses). tide_pool_create_per_socket()
 * makes one pool per NUMA socket that has lcores or ports, so that each port's RX queue
 * and each lcore use the pool of their node (tide_pool_for_port(), tide_pool_for_lcore()).
 *
 * Size classes: a pool set (tide_pool_set_create()) holds one elastic pool per data-room
 * class, 2 KB x 2^k by default, growing and reaping on their own under one shared wall;
 * tide_pool_set_alloc() gives an mbuf of the smallest class that fits a size.
 *
 * Threads: tide_pool_create(), tide_pool_free(), tide_pool_grow(), tide_pool_reap() and
 * the pool set calls are control-path calls for EAL threads or control threads of the
 * primary process. tide_pool_stats_get() may be called from any thread. Allocation and
 * free go through the rte_mempool and rte_mbuf API and are safe from any thread;
 * tide_pool_cache_flush() from the lcore whose cache it flushes. tide_pool_alloc_wait()
 * blocks: non-EAL threads only; lcores use tide_pool_alloc_async(). Waiting at the wall
 * (tide_pool_alloc_wait(), tide_pool_alloc_async(), tide_pool_wait_cancel()) is for the
 * primary process only.
 *
 * Errors: functions that return int give a negative errno on failure, with rte_errno set
 * to the same errno; those that return a pointer give NULL and set rte_errno. Every
 * failure is logged except the outcomes a caller meets in normal work: a wait's timeout
 * or cancel (-ETIMEDOUT, -ECANCELED), a set's allocation that finds no class that large
 * or its class exhausted (ERANGE, ENOBUFS).
 *
 * Logs go to the log type "tide.pool"; telemetry commands are /tide/pool/list and
 * /tide/pool/info,<name>.
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tide_mempool.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Do not grow inside a failing allocation; only the control thread grows. */
#define TIDE_POOL_F_NO_SYNC_GROW (1u << 0)
/** Grow only at the low watermark; do not size growth from the measured rate. */
#define TIDE_POOL_F_NO_PREDICT (1u << 1)
/** Every TIDE_POOL_F_* flag: a pool or pool set with any other bit is refused (EINVAL). */
#define TIDE_POOL_F_ALL (TIDE_POOL_F_NO_SYNC_GROW | TIDE_POOL_F_NO_PREDICT)

/** Most elastic pools (adopted ones included) a primary process and its secondaries hold
 *  at once; as many pool sets again. */
#define TIDE_POOL_MAX_POOLS 256

/** Longest wait between two growth attempts of the control thread while they fail, ms. */
#define TIDE_POOL_GROW_BACKOFF_MAX_MS 1000

/** Default control-thread tick, microseconds. */
#define TIDE_POOL_TICK_US_DEFAULT 1000
/** Default reap period, milliseconds. */
#define TIDE_POOL_REAP_PERIOD_MS_DEFAULT 50
/** Default idle threshold before a block may be released, milliseconds. */
#define TIDE_POOL_IDLE_MS_DEFAULT 500

/** Parameters of a pool. Fill with tide_pool_params_init(), then change what you need. */
struct tide_pool_params {
	const char *name;         /**< mempool name, unique, < RTE_MEMPOOL_NAMESIZE chars */
	int socket_id;            /**< NUMA socket, or SOCKET_ID_ANY */
	uint16_t data_room_size;  /**< bytes of data room per mbuf, headroom included */
	uint16_t priv_size;       /**< bytes of application private area per mbuf,
				   *   a multiple of RTE_MBUF_PRIV_ALIGN */
	unsigned int cache_size;  /**< per-lcore cache, objects (0 for none) */
	size_t base_bytes;        /**< memory reserved at creation; rounded up to hugepages */
	size_t block_bytes;       /**< memory per added block; rounded up to hugepages */
	size_t wall_bytes;        /**< most hugepage memory the pool may hold, base included */
	unsigned int low_watermark; /**< grow while fewer objects are free (0: half a block);
				     *   at most what the wall holds less a block's */
	unsigned int tick_us;     /**< control-thread check period, microseconds */
	unsigned int reap_period_ms; /**< how often the reaper samples blocks (0: never reap) */
	unsigned int idle_ms;     /**< a block may go after this long without allocation
				   *   (at least 1) */
	uint32_t flags;           /**< TIDE_POOL_F_* */
};

/** Counters and gauges of a pool, as tide_pool_stats_get() reports them. */
struct tide_pool_stats {
	uint32_t nb_blocks;     /**< blocks held, base included */
	uint64_t bytes;         /**< hugepage bytes held */
	uint64_t nb_objs;       /**< mbufs in the pool's blocks */
	uint64_t nb_free;       /**< of those, in the driver's free lists */
	uint64_t nb_cached;     /**< of those, parked in per-lcore caches */
	uint64_t nb_in_use;     /**< of those, allocated (nb_objs - nb_free - nb_cached) */
	uint64_t grows_ahead;   /**< blocks added by the control thread or tide_pool_grow() */
	uint64_t grows_sync;    /**< blocks added inside a failing allocation */
	uint64_t grows_remote;  /**< blocks added for a secondary process's failing
				 *   allocation */
	uint64_t grows_ext;     /**< of all blocks added, those from the block source
				 *   (tide_pool_block_source_set()) */
	uint32_t nb_ext_blocks; /**< blocks held now that came from the block source */
	uint64_t grow_fails;    /**< block additions that failed (hugepages exhausted...) */
	uint32_t grow_backoff_ms; /**< while growth keeps failing: time left before the
				   *   control thread tries again (0: not backing off) */
	uint64_t wall_hits;     /**< growths refused because the wall was reached (logged at
				 *   most once a second) */
	uint64_t deq_refused;   /**< dequeues the driver refused when it had too few free
				 *   mbufs and could not grow: without a cache one per failed
				 *   allocation; with a cache a failed refill counts even when
				 *   the direct dequeue after it serves the allocation, and an
				 *   allocation failing both counts twice (nb_deq_refused of
				 *   tide_mempool.h) */
	uint64_t lock_yields;   /**< waits for the driver's lock that yielded the CPU */
	uint64_t target_free;   /**< free objects the control thread currently aims for (at
				 *   least what the head waiter asks for) */
	uint64_t reaps;         /**< blocks released */
	uint64_t reap_vetoes;   /**< releases a block event callback refused (the block
				 *   stayed; the reaper tries again next period) */
	uint64_t cache_drains;  /**< lcore caches made to hand back the mbufs that alone kept
				 *   a reap candidate (see the file comment) */
	uint64_t demotes;       /**< blocks ranked as old because a few long-held mbufs kept
				 *   the idle blocks above them (see the file comment) */
	uint64_t base_bytes;    /**< the base block: tide_pool_params.base_bytes rounded up to
				 *   whole hugepages */
	uint64_t block_bytes;   /**< an added block: tide_pool_params.block_bytes rounded up
				 *   to whole hugepages */
	uint64_t wall_bytes;    /**< the wall (shared by a pool set's classes) */
	uint64_t wall_held;     /**< bytes held under that wall, by all its pools */
	uint32_t waiting;       /**< requests queued at the wall now */
	uint64_t waits_served;  /**< queued requests served */
	uint64_t waits_timedout; /**< queued requests that timed out */
	uint64_t waits_cancelled; /**< queued requests cancelled (or the pool freed) */
	uint64_t ticks;         /**< control-thread passes over the pool (growth checked,
				 *   reaper run when due, waiters served) */
	uint64_t node_misses;   /**< blocks whose pages landed (in part) on another NUMA node
				 *   than the pool's socket */
	uint64_t foreign_frees; /**< pointers freed to the pool that none of its blocks owns,
				 *   or that point into a block's header: dropped (nb_foreign
				 *   of tide_mempool.h) */
	uint64_t double_frees;  /**< mbufs freed into a block whose mbufs were all free
				 *   already: dropped (nb_double of tide_mempool.h) */
	uint64_t lock_recovered; /**< the driver's lock taken over from a process that died
				  *   holding it */
	uint64_t grow_waits;    /**< allocations that found the pool short while a growth
				 *   was under way, and waited for it only until the mbufs
				 *   they asked for were free */
	uint32_t reap_period_ms; /**< the reaper's period now (0: it does not reap); what
				  *   tide_pool_reap_set() last set */
	uint32_t idle_ms;       /**< the idle threshold now (tide_pool_reap_set()) */
};

/** Block node: its pages are on several NUMA nodes. */
#define TIDE_POOL_NODE_MIXED (-2)

/** One block of an elastic pool, as tide_pool_block_list() reports it. */
struct tide_pool_block {
	uint64_t id;            /**< the driver's block id (tide_mempool.h) */
	uint64_t bytes;         /**< hugepage bytes it holds */
	int node;               /**< NUMA node of its pages, read after it was populated;
				 *   -1 not known, TIDE_POOL_NODE_MIXED on several nodes */
	bool off_node;          /**< not (wholly) on the pool's socket: counted in node_misses */
	uint64_t age_ms;        /**< since it was added */
	uint64_t idle_ms;       /**< since an mbuf of it was last seen out (reaper samples) */
};

/**
 * Fill @p p with defaults: SOCKET_ID_ANY, RTE_MBUF_DEFAULT_BUF_SIZE data room, no private
 * area, a 256-object cache, 8 MB base, 8 MB blocks, 256 MB wall, 1 ms tick, reaping every
 * 50 ms blocks idle for 500 ms.
 *
 * @param p
 *   Parameters to fill.
 * @param name
 *   Pool name (not copied: it must live until tide_pool_create()).
 */
void tide_pool_params_init(struct tide_pool_params *p, const char *name);

/**
 * Create an elastic pktmbuf pool and reserve its base block (on p->socket_id: a socket
 * that DPDK knows and that exists as a NUMA node, numa_max_node()). Primary process only.
 *
 * @param p
 *   Parameters; see struct tide_pool_params.
 * @return
 *   The pool, usable wherever a pktmbuf pool is; NULL on error with rte_errno set:
 *   - EINVAL: a NULL or bad parameter (zero or oversized block, wall below base, a base
 *     or a block over the wall once rounded up to whole hugepages, a socket that does not
 *     exist or has no hugepages, bad sizes, a tick or an idle threshold of 0, a low
 *     watermark that leaves no block to reap under the wall, a flag that is not in
 *     TIDE_POOL_F_ALL);
 *   - ENAMETOOLONG: name too long;
 *   - EEXIST: a mempool of that name exists;
 *   - ENOMEM: no hugepages for the base block, the mempool header or the pool's records,
 *     or no memzone left in DPDK's table for the base block;
 *   - ENOSPC: no room left in the directory of pools (TIDE_POOL_MAX_POOLS), or no memzone
 *     left in DPDK's table for the mempool header;
 *   - EPROTO: the directory of pools was made by another tidepool build (another copy of
 *     the library in this process);
 *   - ENOBUFS: the base block, once its memzone is laid out, holds no mbuf (a base too
 *     small for one, as can happen with 4 KB pages), or an added block would hold none;
 *   - ENOTSUP: a secondary process, or the tide mempool ops are not registered;
 *   - EAGAIN, EPERM or ENOMEM: the pool library's control thread could not start (the
 *     error pthread_create() gave);
 *   - EAGAIN: also, pages were freed and a secondary process has not yet answered the
 *     memory sync that makes it let go of them (see tide_pool_grow());
 *   - ESHUTDOWN: rte_eal_cleanup() has begun (the control thread has stopped for good).
 */
struct rte_mempool *tide_pool_create(const struct tide_pool_params *p);

/**
 * Free a pool created by tide_pool_create(), and every block it holds.
 * All its mbufs must have been freed. Primary process only. NULL is a no-op. A call on the
 * pool that another thread is in (growing, reaping, tuning it, queueing or cancelling a
 * request at its wall) is let finish first; requests still queued then end with
 * -ECANCELED. Refused (the mempool left alone, a line logged at ERR and rte_errno set):
 *   - EINVAL: a mempool that is not an elastic pool, or one that another thread's
 *     tide_pool_free() freed meanwhile (of two calls at once, one frees the pool);
 *   - EDEADLK: called from a waiter's callback (tide_pool_wait_cb_t), which holds the
 *     pool it was called for: the free would wait for it for ever;
 *   - EBUSY: a class of a pool set or a socket's pool of tide_pool_create_per_socket():
 *     it is freed with them (tide_pool_set_free(), tide_pool_per_socket_free());
 *   - ENOTSUP: a secondary process (the pool stays the primary's).
 */
void tide_pool_free(struct rte_mempool *mp);

/**
 * Tell whether @p mp is an elastic pool: made by tide_pool_create() (or as a class of a
 * pool set, or a socket's pool), or a stock-created pool the tide driver adopted.
 */
bool tide_pool_is_elastic(const struct rte_mempool *mp);

/**
 * Add blocks now, on the calling thread, as the control thread would.
 *
 * @param mp
 *   An elastic pool.
 * @param nb_blocks
 *   Blocks to add.
 * @return
 *   Blocks added (possibly fewer than asked when the wall or the hugepages ran out on the
 *   way; 0 when @p nb_blocks is 0), or a negative errno with rte_errno set when no block
 *   was added:
 *   - -EINVAL: not an elastic pool;
 *   - -ENOSPC: at the wall (or the mempool's size, for an adopted pool);
 *   - -ENOMEM: no hugepages (or no memzone) for the block, or no memory to populate it;
 *   - -EAGAIN: pages were freed and a secondary process has not answered the memory sync
 *     that makes it let go of them (DPDK waits 5 s for it): a block there would look
 *     like the old pages to it; try again (tide_mp_stats.resync_failures counts these);
 *   - -ENOTSUP: called in a secondary process (the primary grows pools);
 *   - -ENOBUFS: a block of the pool's block size holds no mbuf (the size is too small
 *     for its header and one object);
 *   - with a block source (tide_pool_block_source_set()), when DPDK's heap had no memory:
 *     the negative errno the source returned; -EINVAL also when the source gave a bad
 *     block (NULL, or shorter than asked); -ENOBUFS when a block holds no mbuf.
 */
int tide_pool_grow(struct rte_mempool *mp, unsigned int nb_blocks);

/**
 * Run the reaper on a pool now, as the control thread does every reap period: sample
 * every block, then release what the reap rule allows.
 *
 * @return
 *   Blocks released (0 or more), or a negative errno with rte_errno set:
 *   - -EINVAL: not an elastic pool;
 *   - -ENOTSUP: called in a secondary process (the primary reaps pools);
 *   - -EIO: the pool's record of its blocks disagrees with the driver's (a bug: logged).
 */
int tide_pool_reap(struct rte_mempool *mp);

/** Leave this limit as it is (tide_pool_reap_set()). */
#define TIDE_POOL_UNCHANGED UINT_MAX

/**
 * Change a running pool's wall. Below what the pool holds, it grows no more until it holds
 * less, and the reaper brings it down as blocks go idle; for a pool of a set, the set's
 * shared wall changes. Primary process.
 *
 * @param mp
 *   An elastic pool.
 * @param wall_bytes
 *   The new wall: at least the base block (for a pool of a set, every class's base: the
 *   shared wall holds them all), at most the wall the pool was created with (its mempool
 *   was sized for it).
 * @return
 *   0, or a negative errno with rte_errno set: -EINVAL not an elastic pool, or the wall
 *   out of that range; -ENOTSUP in a secondary process.
 */
int tide_pool_wall_set(struct rte_mempool *mp, size_t wall_bytes);

/**
 * Change a running pool's reap period and idle threshold; the control thread uses them
 * from its next tick. Primary process.
 *
 * @param mp
 *   An elastic pool.
 * @param reap_period_ms
 *   How often the reaper samples blocks (0: never reap), or TIDE_POOL_UNCHANGED.
 * @param idle_ms
 *   How long a block must go without an allocation before it may go (at least 1), or
 *   TIDE_POOL_UNCHANGED.
 * @return
 *   0, or a negative errno with rte_errno set: -EINVAL not an elastic pool, or an idle
 *   threshold of 0; -ENOTSUP in a secondary process.
 */
int tide_pool_reap_set(struct rte_mempool *mp, unsigned int reap_period_ms,
	unsigned int idle_ms);

/**
 * A block of memory for an elastic pool from elsewhere than DPDK's heap, as a block source
 * gives it (tide_pool_block_source_set()). The memory must be registered with DPDK (its IO
 * addresses known to rte_mem_virt2iova(): rte_extmem_register(), an external heap) and
 * stay mapped until free_cb is called.
 */
struct tide_pool_ext_block {
	void *addr;                              /**< first byte */
	size_t len;                              /**< bytes, at least those asked for */
	rte_mempool_memchunk_free_cb_t *free_cb; /**< called once when the block leaves the
						  *   pool (reaped, or the pool freed), or with
						  *   a NULL memhdr if the pool could not take it */
	void *opaque;                            /**< free_cb's argument */
};

/**
 * A block source: fill @p blk with a block of at least @p bytes. Called on the control
 * thread (growth ahead of need) or by tide_pool_grow(), with the pool's growth lock held,
 * never inside an allocation; it may take its time (starting processes...).
 *
 * @return
 *   0 and @p blk filled, or a negative errno.
 */
typedef int (tide_pool_block_source_t)(void *arg, size_t bytes,
	struct tide_pool_ext_block *blk);

/**
 * Give an elastic pool a second source of blocks, used when DPDK's heap refuses a new
 * block for want of memory (ENOMEM: its --socket-limit, a cgroup's hugetlb limit, or no
 * free hugepages). The blocks count under the pool's wall and are reaped like the others,
 * which gives them back through their free_cb. tide_donor.h's tide_donor_pool_source() is
 * such a source: blocks from donor processes. With a source, an allocation that would
 * grow the pool itself while the pool is already growing (adding blocks, from DPDK's heap
 * or the source) fails at once instead of waiting (a block from the source may take long);
 * it waits for the pool's other control work (the control thread's decision, the reaper,
 * a change of limits). Primary process.
 *
 * A source's blocks are mapped in this process alone: while a pool has had a source (until
 * it is freed), secondary processes are refused at their attach, and a source is refused
 * while one is attached.
 *
 * @param mp
 *   An elastic pool.
 * @param src
 *   The source, or NULL to have none (blocks it gave stay until reaped).
 * @param arg
 *   Its argument.
 * @return
 *   0, or a negative errno with rte_errno set: -EINVAL not an elastic pool, or freed
 *   during the call (by a death callback, say: counting secondaries recovers dead ones);
 *   -ENOTSUP in a secondary process; -EBUSY a secondary process is attached (@p src not
 *   NULL).
 */
int tide_pool_block_source_set(struct rte_mempool *mp, tide_pool_block_source_t *src,
	void *arg);

/**
 * Read a pool's counters. Any thread of any process attached to the pool's primary: the
 * pool's free (in the primary) waits until the read is done.
 *
 * @return
 *   0, or -EINVAL (rte_errno set) if @p mp is not an elastic pool, @p st is NULL or the
 *   driver does not take the pool's mempool for a tide mempool; @p st is then not filled
 *   in (all zero if it was not NULL).
 */
int tide_pool_stats_get(const struct rte_mempool *mp, struct tide_pool_stats *st);

/**
 * List a pool's blocks, oldest (the base) first. Any thread of any process attached to
 * the pool's primary (a consistent snapshot; the pool's free waits until it is taken).
 *
 * @param blk
 *   Filled with up to @p max blocks (may be NULL when @p max is 0).
 * @return
 *   The pool's number of blocks (may exceed @p max), or a negative errno with rte_errno
 *   set: -EINVAL if @p mp is not an elastic pool or @p blk is NULL with @p max > 0;
 *   -ENOMEM no memory for the snapshot of the blocks.
 */
int tide_pool_block_list(const struct rte_mempool *mp, struct tide_pool_block *blk,
	unsigned int max);

/**
 * Hand the calling lcore's cached mbufs back to the pool, so that the blocks they came
 * from can be reaped. Cheap when the cache is empty; meant for an lcore's idle loop.
 * A no-op on non-EAL threads (they have no cache).
 */
static inline void
tide_pool_cache_flush(struct rte_mempool *mp)
{
	struct rte_mempool_cache *c = rte_mempool_default_cache(mp, rte_lcore_id());

	if (c != NULL && c->len != 0)
		rte_mempool_cache_flush(c, mp);
}

/* ---- waiting at the wall (callers off the PMD path) ---- */

/**
 * Called when a queued request ends: @p status is 0 (m[] holds n mbufs), -ETIMEDOUT or
 * -ECANCELED (m[] untouched). Runs once, with no lock of the pool library held: on the
 * control thread when the request is served or times out, on the thread calling
 * tide_pool_wait_cancel() when cancelled, on the thread freeing the pool when that
 * cancels it.
 *
 * A callback may allocate and free mbufs, queue requests (tide_pool_alloc_async()), cancel
 * them, read stats, and grow, reap or tune pools (tide_pool_grow(), tide_pool_reap(),
 * tide_pool_wall_set()...). It must not free a pool (a pool's free waits for the control
 * thread, or the cancelling thread, to leave the pool, and that thread is the one running
 * the callback: tide_pool_free(), tide_pool_set_free() and tide_pool_per_socket_free() are
 * refused with EDEADLK there; rte_mempool_free() cannot be) nor block in
 * tide_pool_alloc_wait() (refused with EDEADLK); and it should return quickly: while it
 * runs the control thread serves no pool. (Called by a pool's free, which cancels it, a
 * callback holds nothing, and neither is refused.)
 */
typedef void (tide_pool_wait_cb_t)(struct rte_mempool *mp, struct rte_mbuf **m,
	unsigned int n, int status, void *arg);

/**
 * Allocate @p n mbufs, waiting for them if the pool cannot serve them now (at its wall,
 * or hugepages exhausted). Requests wait in FIFO order; while any waits, a new request
 * queues behind it even if it could be served (no barging). Non-EAL threads only: the
 * call blocks on a condition variable.
 *
 * @param ticket
 *   If not NULL, set before the call blocks to a value tide_pool_wait_cancel() accepts.
 * @param timeout_us
 *   Longest wait, microseconds; 0 (or more than 2^64 nanoseconds from now) waits without
 *   limit. The control thread ends the wait at its first tick past the deadline (so up to
 *   a tick late).
 * @return
 *   0 with m[0..n-1] allocated; -EINVAL bad arguments (not an elastic pool, NULL @p m,
 *   @p n of 0 or more than the pool can ever hold: what its base block holds and the whole
 *   blocks its wall at creation leaves room for, less, for a class of a pool set, the
 *   other classes' bases under the shared wall; at most the mempool's size); -ETIMEDOUT;
 *   -ECANCELED cancelled or the pool freed; -ENOTSUP called in a secondary process (the
 *   primary's control thread serves the requests, for callers of its own process only);
 *   -EDEADLK called from a waiter's callback (tide_pool_wait_cb_t: the control thread
 *   runs it, and would serve the request; a cancelling thread runs it holding the pool).
 *   rte_errno is set on failure.
 */
int tide_pool_alloc_wait(struct rte_mempool *mp, struct rte_mbuf **m, unsigned int n,
	uint64_t timeout_us, uint64_t *ticket);

/**
 * Allocate @p n mbufs now, or queue the request and return: for lcores, which must not
 * block (the call waits for no growth of the control thread's; an allocation served at
 * once may grow this pool itself, as any allocation does, unless TIDE_POOL_F_NO_SYNC_GROW).
 * A queued request ends by a call to @p cb (see tide_pool_wait_cb_t for where it runs and
 * what it may call).
 *
 * @param m
 *   Where the mbufs go; must stay valid until @p cb runs.
 * @param timeout_us
 *   Longest wait, microseconds; 0 (or more than 2^64 nanoseconds from now) waits without
 *   limit.
 * @param ticket
 *   If not NULL, set when the request is queued.
 * @return
 *   0 served at once (m[] filled, @p cb not called); 1 queued (@p cb will be called); or
 *   a negative errno with rte_errno set: -EINVAL bad arguments (not an elastic pool, NULL
 *   @p m or @p cb, @p n of 0 or more than the pool can ever hold, as for
 *   tide_pool_alloc_wait()); -ENOMEM no memory for the request; -ENOTSUP called in a
 *   secondary process (as for tide_pool_alloc_wait()). A request queued when the pool is
 *   freed ends with -ECANCELED, through @p cb.
 */
int tide_pool_alloc_async(struct rte_mempool *mp, struct rte_mbuf **m, unsigned int n,
	uint64_t timeout_us, tide_pool_wait_cb_t *cb, void *arg, uint64_t *ticket);

/**
 * Cancel a queued request: it ends with -ECANCELED (its callback runs, or its blocked
 * caller returns).
 *
 * @return
 *   0; or a negative errno with rte_errno set: -EINVAL not an elastic pool; -ENOENT no
 *   such request queued (already served, timed out or cancelled); -ENOTSUP called in a
 *   secondary process (no request of one is ever queued).
 */
int tide_pool_wait_cancel(struct rte_mempool *mp, uint64_t ticket);

/* ---- size classes ---- */

/** Most classes in a pool set. */
#define TIDE_POOL_SET_MAX_CLASSES 8

/** Parameters of a pool set. Fill with tide_pool_set_params_init(). */
struct tide_pool_set_params {
	const char *name;        /**< set name; class k's pool is "<name>_<k>" */
	int socket_id;           /**< NUMA socket, or SOCKET_ID_ANY */
	unsigned int nb_classes; /**< classes, 1..TIDE_POOL_SET_MAX_CLASSES */
	uint32_t min_size;       /**< bytes class 0 holds (after headroom), a power of 2;
				  *   class k holds min_size << k */
	uint16_t priv_size;      /**< application private area per mbuf */
	unsigned int cache_size; /**< per-lcore cache of every class */
	size_t base_bytes;       /**< base block of every class */
	size_t block_bytes;      /**< added block of every class */
	size_t wall_bytes;       /**< most hugepage memory all classes hold together */
	unsigned int reap_period_ms; /**< as in struct tide_pool_params */
	unsigned int idle_ms;    /**< as in struct tide_pool_params */
	uint32_t flags;          /**< TIDE_POOL_F_* for every class */
};

/**
 * A pool set. The fields are for the inline fast path below; treat them as read-only.
 */
struct tide_pool_set {
	uint8_t min_shift;      /**< log2 of class 0's size */
	uint8_t nb_classes;     /**< classes in pools[] */
	uint32_t max_size;      /**< bytes the largest class holds */
	struct rte_mempool *pools[TIDE_POOL_SET_MAX_CLASSES]; /**< class k's pool */
	void *internal;         /**< the library's own state */
} __rte_cache_aligned;

/**
 * Fill @p p with defaults: 4 classes of 2, 4, 8 and 16 KB, a 256-mbuf cache, 4 MB base
 * and 4 MB blocks per class, a 256 MB shared wall, the default reap period and threshold.
 */
void tide_pool_set_params_init(struct tide_pool_set_params *p, const char *name);

/**
 * Create a pool set: one elastic pool per class, under one shared wall. Primary process
 * only.
 *
 * @return
 *   The set, or NULL with rte_errno set:
 *   - EINVAL: bad parameters (NULL, no class, too many, min_size not a power of 2, a
 *     class too large for an mbuf, bases over the wall once rounded up to whole
 *     hugepages, a socket that does not exist, a flag that is not in TIDE_POOL_F_ALL);
 *   - ENAMETOOLONG: the set's name leaves no room for the class suffix "_<k>";
 *   - EEXIST: a set, or a class's mempool, of that name exists;
 *   - ENOMEM: no memory for the set's records;
 *   - ENOSPC: no room left in the directory of sets;
 *   - EPROTO: the directory of sets was made by another tidepool build;
 *   - ENOTSUP: a secondary process (nothing is made);
 *   - any other error of tide_pool_create() for one of the classes (the set is then
 *     undone).
 */
struct tide_pool_set *tide_pool_set_create(const struct tide_pool_set_params *p);

/**
 * Find a pool set by name, in any process attached to the one that created it (the set
 * and its pools live in DPDK memory).
 *
 * @return
 *   The set, or NULL with rte_errno ENOENT (no such set, or @p name is NULL).
 */
struct tide_pool_set *tide_pool_set_lookup(const char *name);

/**
 * Free a pool set and its pools (all their mbufs must be back). Primary process only: in a
 * secondary the call is refused, logged at ERR and rte_errno set to ENOTSUP, the set left
 * as it is. A pointer that is not a pool set (one freed already) is refused the same way
 * with EINVAL, and not read; a call from a waiter's callback with EDEADLK (see
 * tide_pool_free()). NULL is a no-op.
 */
void tide_pool_set_free(struct tide_pool_set *s);

/**
 * The class for @p size bytes: the smallest whose mbufs hold it. Any thread; @p s must be
 * a set (not NULL): nothing is checked but the size.
 *
 * @return
 *   The class index (>= 0), or -ERANGE (rte_errno set) if no class holds @p size bytes.
 */
static inline int
tide_pool_set_class(const struct tide_pool_set *s, uint32_t size)
{
	uint32_t min = 1u << s->min_shift;

	if (unlikely(size > s->max_size)) {
		rte_errno = ERANGE;
		return -ERANGE;
	}
	if (size <= min)
		return 0;
	return 32 - __builtin_clz(size - 1) - s->min_shift;
}

/**
 * The pool of the smallest class that holds @p size bytes, or NULL with rte_errno ERANGE
 * if none does.
 */
static inline struct rte_mempool *
tide_pool_set_pool(const struct tide_pool_set *s, uint32_t size)
{
	int k = tide_pool_set_class(s, size);

	return k < 0 ? NULL : s->pools[k];
}

/**
 * Allocate an mbuf whose data room holds @p size bytes after the headroom, from the
 * smallest class that fits. Any thread.
 *
 * @return
 *   The mbuf, or NULL with rte_errno set: ERANGE no class that large; ENOBUFS that class
 *   is exhausted (at the wall, or no hugepages). Neither is logged: a data path's miss.
 */
static inline struct rte_mbuf *
tide_pool_set_alloc(const struct tide_pool_set *s, uint32_t size)
{
	struct rte_mempool *mp = tide_pool_set_pool(s, size);
	struct rte_mbuf *m;

	if (mp == NULL)
		return NULL;
	m = rte_pktmbuf_alloc(mp);
	if (unlikely(m == NULL))
		rte_errno = ENOBUFS; /* whatever a growth on the way said */
	return m;
}

/* ---- NUMA: a pool per socket ---- */

/**
 * Pools of one kind, one per NUMA socket that needs one, made by
 * tide_pool_create_per_socket(). Read-only for the application.
 */
struct tide_pool_per_socket {
	unsigned int nb_pools;                 /**< pools made */
	int socket[RTE_MAX_NUMA_NODES];        /**< pools[k]'s socket, ascending */
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES]; /**< the pools, k < nb_pools */
	/** The pool that serves socket s: its own, or the nearest one's (a socket without
	 *  hugepage memory, or without lcores and ports when the pools were made). */
	struct rte_mempool *by_socket[RTE_MAX_NUMA_NODES];
	struct rte_mempool *first;             /**< serves what has no known socket */
};

/**
 * Make one elastic pool on each NUMA socket that has lcores of this application or ports
 * (ethdev devices, probed before the call) and hugepage memory: pool "<name>_s<socket>"
 * with the parameters @p p, its blocks reserved on its socket, its wall its own. A socket
 * with lcores or ports but no hugepage memory is served by the nearest pool
 * (numa_distance()). Primary process, after the ports are probed.
 *
 * @param p
 *   As for tide_pool_create(); socket_id is ignored.
 * @return
 *   The pools, or NULL with rte_errno set: EINVAL NULL parameters or an empty name;
 *   ENOTSUP a secondary process; ENAMETOOLONG the name leaves no room for "_s<socket>";
 *   ENOMEM no memory for the set, or no socket has hugepage memory; or an error of
 *   tide_pool_create() for one of the pools (those made are freed).
 */
struct tide_pool_per_socket *tide_pool_create_per_socket(const struct tide_pool_params *p);

/**
 * Free the pools of tide_pool_create_per_socket() (all their mbufs must be back). Primary
 * process only: in a secondary the call is refused, logged at ERR and rte_errno set to
 * ENOTSUP, the pools left as they are. A pointer that tide_pool_create_per_socket() did not
 * give, or whose pools were freed already, is refused the same way with EINVAL, and not
 * read; a call from a waiter's callback with EDEADLK (see tide_pool_free()). NULL is a
 * no-op.
 */
void tide_pool_per_socket_free(struct tide_pool_per_socket *ps);

/**
 * The pool for a device or an lcore on @p socket: the socket's own, the nearest, or, for
 * SOCKET_ID_ANY or a socket out of range, the first pool. Any thread. Inline fast path:
 * @p ps must be the pools of tide_pool_create_per_socket(), not NULL (not checked).
 */
static inline struct rte_mempool *
tide_pool_for_socket(const struct tide_pool_per_socket *ps, int socket)
{
	if (socket < 0 || socket >= RTE_MAX_NUMA_NODES || ps->by_socket[socket] == NULL)
		return ps->first;
	return ps->by_socket[socket];
}

/**
 * The pool for lcore @p lcore_id: its socket's; for an lcore id out of range (LCORE_ID_ANY,
 * what rte_lcore_id() gives on a thread that is not an EAL lcore) the first pool, as for
 * an unknown socket. Any thread. Inline fast path: @p ps must not be NULL (not checked).
 */
static inline struct rte_mempool *
tide_pool_for_lcore(const struct tide_pool_per_socket *ps, unsigned int lcore_id)
{
	/* rte_lcore_to_socket_id() indexes its table without a bound check. */
	if (unlikely(lcore_id >= RTE_MAX_LCORE))
		return ps->first;
	return tide_pool_for_socket(ps, (int)rte_lcore_to_socket_id(lcore_id));
}

/**
 * The pool for port @p port_id's RX queues: its device's socket's; for a device whose
 * socket is not known (a virtual device), the calling lcore's socket's.
 *
 * @return
 *   The pool, or NULL with rte_errno EINVAL if @p ps is NULL or @p port_id is not a port.
 */
struct rte_mempool *tide_pool_for_port(const struct tide_pool_per_socket *ps,
	uint16_t port_id);

/* ---- multi-process ---- */

/** Longest a secondary's failing allocation waits for the primary to grow the pool, ms. */
#define TIDE_MP_GROW_TIMEOUT_MS 200

/**
 * Called on the primary when an attached secondary process is gone (exited or killed: the
 * two look alike), after the mbufs its lcores' caches held went back to their pools and
 * before any new process may take its lcores: release what the process held in the
 * caller's own structures.
 *
 * @param pid
 *   The dead process.
 * @param arg
 *   As registered.
 */
typedef void (tide_mp_death_cb_t)(int pid, void *arg);

/**
 * Register a callback for the death of secondary processes (primary; runs on the pool
 * library's control thread, or on DPDK's IPC thread when a new secondary attaches). The
 * control thread runs while a callback is registered, elastic pools or not: it looks for
 * dead secondaries every few milliseconds.
 *
 * @return
 *   0; -EINVAL NULL callback; -ENOMEM; -ENOTSUP a secondary process; -EAGAIN (or another
 *   error of rte_ctrl_thread_create()) the control thread cannot start; -ESHUTDOWN
 *   rte_eal_cleanup() has begun. rte_errno is set on failure.
 */
int tide_mp_death_cb_register(tide_mp_death_cb_t *cb, void *arg);

/**
 * Unregister a callback registered with the same @p cb and @p arg. Once it returns, the
 * callback runs no more (a run in progress is waited for): so it must not be called from a
 * death callback, which would wait for itself. The last one unregistered stops the control
 * thread if no elastic pool needs it.
 *
 * @return
 *   0; -ENOENT none registered. rte_errno is set on failure.
 */
int tide_mp_death_cb_unregister(tide_mp_death_cb_t *cb, void *arg);

/**
 * In a secondary, whether the primary process is still alive (a secondary cannot go on
 * without it: its pools stop growing and its exchanges stop being served). In the primary,
 * true.
 */
bool tide_mp_primary_alive(void);

/** An attached secondary process, as tide_mp_peers() reports it. */
struct tide_mp_peer {
	int pid;                 /**< its process id */
	unsigned int nb_lcores;  /**< lcores it runs */
	bool alive;              /**< false: dead, not recovered yet */
};

/**
 * List the secondary processes attached to this primary.
 *
 * @param peers
 *   Filled with up to @p max entries (may be NULL when @p max is 0).
 * @return
 *   The number of attached secondaries (may exceed @p max); -EINVAL bad arguments;
 *   -ENOTSUP in a secondary. rte_errno is set on failure.
 */
int tide_mp_peers(struct tide_mp_peer *peers, unsigned int max);

/** Counters of the primary's multi-process side. */
struct tide_mp_stats {
	uint64_t gone;     /**< secondaries found gone (exited or killed) and cleaned up
			    *   after */
	uint64_t returned; /**< mbufs their lcore caches held, given back to their pools */
	uint64_t unstuck;  /**< primary: processes killed because they had closed their IPC
			    *   channel (inside rte_eal_cleanup()) while holding the hugepage
			    *   directory lock this process waited for: DPDK 22.11's deadlock
			    *   between a secondary's exit and the primary's memory operations */
	uint64_t resyncs;  /**< primary: rounds of DPDK's memory sync it sent again after it
			    *   freed pages, answered by every secondary (DPDK 22.11 stops a
			    *   sync at the first secondary that does not answer: those after it
			    *   would keep the freed pages mapped and see a block grown there
			    *   later as zeros) */
	uint64_t resync_failures; /**< primary: such rounds some secondary did not answer in
			    *   time; no block is grown until one round reaches them all */
	uint64_t refused;  /**< primary: secondaries refused at their attach (their tide ops
			    *   at another index, another pid namespace, or a request of another
			    *   build's size or layout); a secondary of this build then exits */
};

/**
 * Read the multi-process counters.
 *
 * @return
 *   0; -EINVAL @p st is NULL (rte_errno set).
 */
int tide_mp_stats_get(struct tide_mp_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* TIDE_POOL_H */
