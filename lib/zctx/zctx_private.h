/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_ZCTX_PRIVATE_H
#define TIDE_ZCTX_PRIVATE_H

/*
 * Internals of the zero-copy TX library (not installed). Functions shared between its
 * files are named tide_zctx_pvt_*: never exported (see version.map), never to be called
 * by an application.
 */

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memory.h>

#include "tide_refuse.h"
#include "tide_zctx.h"
#include "zctx_policy.h"

extern int tide_zctx_logtype;

#define ZC_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, tide_zctx_logtype, "tide_zctx: %s(): " fmt "\n", __func__, \
		##__VA_ARGS__)

#define ZC_NAMESIZE 32
/* Packets per TX burst. */
#define ZC_BURST 32
/* Longest external segment: buf_len is 16 bits. */
#define ZC_SEG_MAX 61440u
/* Pin and translation spans: 2 MB aligned windows of the address space. */
#define ZC_SPAN_SHIFT 21
#define ZC_SPAN_BYTES (1ul << ZC_SPAN_SHIFT)
/* Pieces (one span, or one DPDK memseg list and at most one pool block, each) a send's
 * payload may touch, in all: an iovec (at most 1 MB) crosses at most one span boundary,
 * and blocks cut pieces too (3 per iovec on average).
 */
#define ZC_MAX_PIECES (3 * TIDE_ZCTX_MAX_IOV)
/* tide_zctx_free() waits this long for the PMD before refusing with -EBUSY. */
#define ZC_FREE_TIMEOUT_MS 1000
/* Then polls this many milliseconds for the mbufs of its pools to come home. */
#define ZC_FREE_HOME_TRIES 100
/* How long rte_eal_cleanup() lets an instance not freed finish its sends. */
#define ZC_EXIT_TIMEOUT_MS 200

/* Counters have one writer (the agent) and readers anywhere. */
#define ZC_CNT(z, f, v) __atomic_store_n(&(z)->cnt.f, (z)->cnt.f + (v), __ATOMIC_RELAXED)

/* Refusals, as every library makes them (tide_refuse.h), logged through ZC_LOG. */
#define zc_error(err) tide_refuse_errno(err)
#define ZC_REFUSE(level, err, fmt, ...) TIDE_REFUSE(ZC_LOG, level, err, fmt, ##__VA_ARGS__)

/* ---- zctx_pin.c: mlock within the limit, and what a failure means. */

/* Pin [va, va + len) (page aligned). 0 or -EFAULT, -ENOMEM, -EPERM; logs why. */
int tide_zctx_pvt_pin(uintptr_t va, size_t len);
/* Unpin [va, va + len) (page aligned). */
void tide_zctx_pvt_unpin(uintptr_t va, size_t len);
/* The process's RLIMIT_MEMLOCK soft limit (SIZE_MAX when unlimited). */
size_t tide_zctx_pvt_memlock_rlimit(void);

/* ---- zctx_iova.c: virtual to IO addresses. */

/* Open what translation needs (pagemap in PA mode). 0 or -EPERM. */
int tide_zctx_pvt_iova_open(void);
void tide_zctx_pvt_iova_close(void);
/* IO addresses of @p n pages from page-aligned @p va into @p iova. 0, -EFAULT (a page
 * not present), -EPERM (no physical addresses for us) or -EIO.
 */
int tide_zctx_pvt_iova_pages(uintptr_t va, unsigned int n, size_t page_sz, rte_iova_t *iova);
/* IO address of @p va in DPDK memory list @p msl, and bytes IOVA-contiguous from it
 * (RTE_BAD_IOVA for memory registered without IO addresses, with the bytes of its memseg;
 * *contig 0 where no memseg is).
 */
rte_iova_t tide_zctx_pvt_iova_dpdk(const struct rte_memseg_list *msl, uintptr_t va, size_t *contig);

/* ---- zctx_dma.c: DMA mapping for the instances' devices (cache lock held). */

/* A DMA-mapped run: contiguous in VA and IOVA. */
struct zc_map {
	uintptr_t va;
	rte_iova_t iova;
	size_t len;
};

/* The runs of one span or block, each mapped for every device of the table. */
struct zc_maps {
	struct zc_map *v;
	unsigned int nb, cap;
};

/* One reference on @p dev; @p first says it is new (map what exists for it). 0 or
 * -ENOSPC (table full).
 */
int tide_zctx_pvt_dma_dev_ref(struct rte_device *dev, bool *first);
/* Drop one reference; true when it was the last (unmap what exists for it). */
bool tide_zctx_pvt_dma_dev_unref(struct rte_device *dev);
/* Add a run and map it for every device. 0, -ENOMEM or -EIO (nothing added). */
int tide_zctx_pvt_maps_add(struct zc_maps *ms, uintptr_t va, rte_iova_t iova, size_t len);
/* Map or unmap every run for one device. Mapping: 0, or -EIO with none of them mapped. */
int tide_zctx_pvt_maps_dma(const struct zc_maps *ms, struct rte_device *dev, bool map);
/* Unmap the runs from the @p nb th on for every device and forget them. */
void tide_zctx_pvt_maps_trim(struct zc_maps *ms, unsigned int nb);
/* Unmap every run for every device and forget them. */
void tide_zctx_pvt_maps_clear(struct zc_maps *ms);

/* ---- zctx_blocks.c: the blocks of tide mempools, followed by block events. */

struct zc_block;

/* Start or stop following (no lock held: registration replays into the callback). One
 * unfollow per follow; the first registers, the last unregisters.
 */
void tide_zctx_pvt_blocks_follow(void);
void tide_zctx_pvt_blocks_unfollow(void);
/* Cache lock held: the block holding @p va, referenced, and its bytes from @p va in
 * @p room; NULL if @p va is in no followed block (@p room: bytes up to the next block,
 * SIZE_MAX if none).
 */
struct zc_block *tide_zctx_pvt_block_hold(uintptr_t va, size_t *room);
void tide_zctx_pvt_block_release(struct zc_block *b);
/* Cache lock held: the block fields of @p st. */
void tide_zctx_pvt_blocks_stats(struct tide_zctx_cache_stats *st);

/* ---- zctx_cache.c: the process-wide pin and translation cache. */

struct zc_span;

/* One piece of a payload: within one span, or within one DPDK memseg list (and then
 * within at most one pool block).
 */
struct zc_piece {
	uintptr_t va;
	size_t len;
	struct zc_span *span;                /* NULL: DPDK memory */
	const struct rte_memseg_list *msl;   /* DPDK memory */
	struct zc_block *blk;                /* DPDK memory in a followed block: held */
	bool no_iova;                        /* DPDK memory without IO addresses
					      * (rte_extmem_register() without them) */
};

int tide_zctx_pvt_cache_get(void);
void tide_zctx_pvt_cache_put(void);
/* Acquisitions for several sends take the cache's lock once: begin, acquire for each,
 * end (which also trims the idle spans to their limit).
 */
void tide_zctx_pvt_cache_acquire_begin(void);
void tide_zctx_pvt_cache_acquire_end(void);
/* Between begin and end: pin and translate the iovecs and hold them for one send. Fills
 * @p pieces. 0, -EAGAIN (pins held by sends in flight must be released first: retry), or
 * a negative errno (logged).
 */
int tide_zctx_pvt_cache_acquire(const struct iovec *iov, unsigned int nb_iov,
	struct zc_piece *pieces, unsigned int *nb_pieces);
/* Release what acquires took: the spans and blocks of @p n pieces. */
void tide_zctx_pvt_cache_release(const struct zc_piece *const *pieces, unsigned int n);
/* IO address of @p va in a held span, and bytes IOVA-contiguous from it up to @p end. */
rte_iova_t tide_zctx_pvt_span_iova(const struct zc_span *sp, uintptr_t va, uintptr_t end,
	size_t *contig);
/* Devices the spans are DMA-mapped for: one reference per instance port. Adding: 0,
 * -ENOSPC (table full) or -EIO (mapping the spans for a new device failed).
 */
int tide_zctx_pvt_cache_dev_add(struct rte_device *dev);
void tide_zctx_pvt_cache_dev_del(struct rte_device *dev);
/* The cache lock, for zctx_blocks.c's event callback. */
void tide_zctx_pvt_cache_lock(void);
void tide_zctx_pvt_cache_unlock(void);

/* ---- Instances. */

enum zc_path {
	ZC_PATH_COPY = TIDE_ZCP_COPY,
	ZC_PATH_ZC = TIDE_ZCP_ZC,
};

/* A port as the agent sees it. */
struct zc_port {
	uint16_t port_id;
	uint16_t nb_txq;
	uint16_t max_segs;       /* segments per packet */
	bool zc_ok;              /* takes mbuf chains */
	bool by_va;              /* its PMD reads segments by virtual address only (it copies
				  * them: no DMA), so a segment may span pages whose IO
				  * addresses are apart; buf_iova is then its first byte's */
	uint32_t max_frame;      /* bytes per packet, header included */
	struct rte_device *dev;
	/* The TX queues the agent transmitted on, a bit each (set by the agent, read by it
	 * and by the free): the only ones it asks the PMD to reclaim descriptors on. */
	uint64_t used_q[RTE_MAX_QUEUES_PER_PORT / 64];
};

/* Mark TX queue @p q of @p p used by the agent. */
static inline void
zc_port_queue_used(struct zc_port *p, uint16_t q)
{
	uint64_t bit = UINT64_C(1) << (q % 64);

	if (!(__atomic_load_n(&p->used_q[q / 64], __ATOMIC_RELAXED) & bit))
		__atomic_fetch_or(&p->used_q[q / 64], bit, __ATOMIC_RELEASE);
}

/* Ask the PMD to reclaim descriptors on every TX queue of @p p the agent transmitted on. */
static inline void
zc_port_cleanup(const struct zc_port *p)
{
	for (uint16_t q = 0; q < p->nb_txq; q++)
		if (__atomic_load_n(&p->used_q[q / 64], __ATOMIC_ACQUIRE) &
				(UINT64_C(1) << (q % 64)))
			rte_eth_tx_done_cleanup(p->port_id, q, 0);
}

/* A zero-copy segment freed by another thread than the agent's: its count is in the low
 * bits of zc_slot.segs_freed_remote; this bit says that thread also saw the send's last
 * segment freed and counted the send released.
 */
#define ZC_FREED_COUNTED (1u << 31)

/* One send taken by the agent, until its completion is posted. */
struct zc_slot {
	uint32_t done;          /* copy: every packet taken by the PMD */
	uint32_t segs;          /* zc: segments attached; final once built */
	uint32_t segs_freed;    /* zc: of those, freed on the agent's thread (its own
				 * counter: stored, not read-modify-written atomically) */
	uint32_t segs_freed_remote; /* zc: freed on other threads, | ZC_FREED_COUNTED */
	struct tide_zctx *z;
	int32_t status;         /* refused by the agent: negative errno */
	uint8_t path;
	bool cancelled;         /* some of it was cancelled */
	bool built;             /* every packet built (or none will be) */
	bool prepared;          /* memory held and path chosen, or failed (status) */
	uint8_t epoch;          /* the policy's stamp when its path was chosen */
	uint16_t nb_pieces;
	uint32_t pkts_left;     /* copy: packets built but not yet taken by the PMD */
	uint32_t bytes_sent;    /* payload bytes the PMD took */
	uint64_t cycles;        /* measured cost */
	struct zc_piece pieces[ZC_MAX_PIECES];
	struct tide_zctx_sqe sqe;
};

/* Where the agent is in building the current send. */
struct zc_cursor {
	bool active;            /* slots[cur] is taken and being built */
	uint32_t off;           /* payload bytes built */
	uint16_t iov;           /* position: iovec, and byte within it */
	size_t iov_off;
	uint16_t piece;         /* zc: piece, and byte within it */
	size_t piece_off;
	uint16_t pkt_index;
};

/* Packets waiting for one TX queue, copied and zero-copy alike. */
struct zc_txb {
	uint16_t port;
	uint16_t queue;
	uint16_t n;
	struct rte_mbuf *pkts[ZC_BURST];
	struct zc_slot *slot[ZC_BURST];
	uint32_t bytes[ZC_BURST];
};

/* Counters the agent writes (others read them atomically). */
struct zc_counters {
	uint64_t submitted, completed, failed, cancelled;
	uint64_t zc_sends, copy_sends, zc_bytes, copy_bytes;
	uint64_t packets, tx_bursts, segments, tx_stalls, busy_cycles;
	uint64_t zc_released; /* zc sends released on the agent's thread (tide_zctx's own
			       * field: on others) */
	/* The adaptive policy's trials of the whole mix (published with threshold_now). */
	uint64_t mix_trials, mix_switches, mix_all_zc;
};

struct tide_zctx {
	struct tide_zctx_fast fast;        /* first: the inline fast path casts to it */
	TAILQ_ENTRY(tide_zctx) next;       /* in the registry */
	char name[ZC_NAMESIZE];
	struct tide_zctx_params params;
	struct zc_port ports[TIDE_ZCTX_MAX_PORTS];
	int8_t port_idx[RTE_MAX_ETHPORTS]; /* index in ports[], -1: not ours */
	struct rte_mempool *pool;          /* headers and copies */
	bool own_pool;
	struct rte_mempool *shells;        /* data-less mbufs for external buffers */
	struct rte_mempool *extrefs;       /* their segments' struct zc_extref */
	struct rte_mempool_cache *extref_cache; /* the agent's own (it may be no lcore):
					    * its builds, and the frees on its thread */
	int cpl_fd;                        /* completion eventfd, -1 without */
	uint64_t rejected;                 /* refused submissions, atomically */
	uint64_t zc_released;              /* zc sends whose last segment was freed on
					    * another thread than the agent's, atomically */
	pthread_t agent_tid;               /* the agent's thread, set before it builds */
	uint32_t agent_pid;                /* and its process */

	/* Agent state: its own. */
	struct zc_slot *slots;             /* depth slots, by sequence number */
	uint32_t mask;
	uint64_t head;                     /* oldest send without a completion */
	uint64_t cur;                      /* send being built (tail of the taken ones) */
	uint64_t staged;                   /* [cur, staged): sends out of the submission
					    * ring, unpacked into their slots, not taken */
	struct zc_cursor cursor;
	struct zc_txb txb;
	uint64_t stage_tsc;                /* when the last staging ended */
	struct tide_zcp_state pol;
	uint32_t pol_gen;                  /* the threshold request it applied */
	uint64_t last_cleanup_ns;
	struct zc_counters cnt;

	/* Between the control path and the agent. */
	uint32_t threshold_req;            /* tide_zctx_threshold_set(), with... */
	uint32_t threshold_gen;            /* ...its generation */
	uint32_t agent_done;               /* the agent finished stopping and left */
	/* A stop that timed out asks the agent to call the PMD no more (the application may
	 * stop the ports now, which DPDK does not allow while a queue is in use); the agent
	 * answers once it no longer will.
	 */
	uint32_t pmd_hands_off;
	uint32_t pmd_released;
	/* rte_eal_cleanup() came with the instance not freed and its sends not done: the agent
	 * leaves at once, what is in flight left to the process's end.
	 */
	uint32_t agent_abandon;
	bool agent_started;
	bool agent_joined;
	pthread_t thread;                  /* control-thread agent */
	uint32_t threshold_now;            /* for stats */
};

/* zctx.c */
struct tide_zctx *tide_zctx_pvt_registry_first_locked(void);
struct tide_zctx *tide_zctx_pvt_registry_next_locked(struct tide_zctx *z);
struct tide_zctx *tide_zctx_pvt_registry_find_locked(const char *name);
void tide_zctx_pvt_registry_lock(void);
void tide_zctx_pvt_registry_unlock(void);
/* tide_zctx_stats_get() without its checks: for an instance found in the registry (under
 * its lock, which the check takes) or in the directory (another process's).
 */
void tide_zctx_pvt_stats_read(const struct tide_zctx *z, struct tide_zctx_stats *st);

/* zctx_dir.c: the directory of every process's instances, in shared memory. */
/* An instance @p z named @p name of process @p pid; @p mine: this process's; @p alive: its
 * process is not gone. Called with the directory read-locked: @p z is not freed meanwhile,
 * but only what tide_zctx_pvt_stats_read() reads may be read of another process's instance.
 */
typedef void (zc_dir_cb_t)(const struct tide_zctx *z, const char *name, uint32_t pid,
	bool mine, bool alive, void *arg);
/* Enter @p z (created, not yet started); 0, -ENOMEM (no directory) or -ENOSPC (full). */
int tide_zctx_pvt_dir_add(struct tide_zctx *z);
/* Remove @p z, waiting for its readers: before its memory is freed. */
void tide_zctx_pvt_dir_remove(const struct tide_zctx *z);
/* Record that this process registers the span at @base as external memory (before it
 * does): 0, or -ENOSPC / -ENOMEM with a log line. */
int tide_zctx_pvt_dir_span_add(uintptr_t base);
/* Drop this process's record of the span at @base (once it unregistered it). */
void tide_zctx_pvt_dir_span_remove(uintptr_t base);
/* Who recorded a span at @base: none (DPDK memory there is DPDK's), this process, another
 * live one, or only processes that are gone. */
enum zc_span_whose { ZC_SPAN_NONE, ZC_SPAN_MINE, ZC_SPAN_OTHER, ZC_SPAN_GONE };
enum zc_span_whose tide_zctx_pvt_dir_span_whose(uintptr_t base);
/* Unregister the spans of processes that are gone, now (the directory's write lock). */
void tide_zctx_pvt_dir_drop_dead_spans(void);
/* Call @p cb for every instance of every process. */
void tide_zctx_pvt_dir_foreach(zc_dir_cb_t *cb, void *arg);
/* Call @p cb for the instance @p name of process @p pid, another process than this one
 * (one of another pid namespace may have this one's id); 0 or -ENOENT. */
int tide_zctx_pvt_dir_read(const char *name, uint32_t pid, zc_dir_cb_t *cb, void *arg);

/* zctx_build.c: packets of the current send into the TX batch. */
/* Build the next packet of slot @p s; returns payload bytes put in it, 0 when mbufs are
 * short (retry later) or, with s->status set, when it cannot be built (the send fails).
 */
uint32_t tide_zctx_pvt_build_packet(struct tide_zctx *z, struct zc_slot *s, struct rte_mbuf **pkt);
/* Note this process's id for the free callback, and return it (the agent, as it starts). */
uint32_t tide_zctx_pvt_build_pid(void);
/*
 * A zero-copy segment's reference count and free callback, from a pool of its own (not in
 * the shell's private area): a clone of the segment (rte_pktmbuf_clone(), attach) holds
 * the count, not the shell, so the shell may go home and be reused while a clone still
 * counts here. Back home when the last reference goes, before the segment is counted freed.
 */
struct zc_extref {
	struct rte_mbuf_ext_shared_info si;
	struct zc_slot *slot;
	struct rte_mempool *home;
};
/* Whether every zero-copy segment of @p s has been freed (only once it is built). The
 * agent's view; *counted says another thread already counted the send released.
 */
static inline bool
zc_slot_segs_freed(const struct zc_slot *s, bool *counted)
{
	uint32_t r = __atomic_load_n(&s->segs_freed_remote, __ATOMIC_ACQUIRE);

	*counted = (r & ZC_FREED_COUNTED) != 0;
	return s->segs_freed + (r & ~ZC_FREED_COUNTED) == s->segs;
}

/* zctx_agent.c */
int tide_zctx_pvt_agent_start(struct tide_zctx *z);
/* Wait until the agent has stopped; 0, or -ETIMEDOUT after @p timeout_ms (0: for ever). */
int tide_zctx_pvt_agent_wait(struct tide_zctx *z, unsigned int timeout_ms);
/* Make the agent stop calling the PMD (after a stop timed out); returns once it has. */
void tide_zctx_pvt_agent_release_pmd(struct tide_zctx *z);

#endif /* TIDE_ZCTX_PRIVATE_H */
