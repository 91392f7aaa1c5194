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
 *    reserved and populated (milliseconds).
 *
 * At the wall, allocations fail as with any exhausted mempool and are counted; the pool
 * keeps serving what it holds. When hugepages run out during growth the same happens,
 * with a log line.
 *
 * Threads: tide_pool_create(), tide_pool_free() and tide_pool_grow() are control-path
 * calls for EAL threads or control threads of the primary process. tide_pool_stats_get()
 * may be called from any thread. Allocation and free go through the rte_mempool and
 * rte_mbuf API and are safe from any thread.
 *
 * Logs go to the log type "tide.pool"; telemetry commands are /tide/pool/list and
 * /tide/pool/info,<name>.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Do not grow inside a failing allocation; only the control thread grows. */
#define TIDE_POOL_F_NO_SYNC_GROW (1u << 0)
/** Grow only at the low watermark; do not size growth from the measured rate. */
#define TIDE_POOL_F_NO_PREDICT (1u << 1)

/** Default control-thread tick, microseconds. */
#define TIDE_POOL_TICK_US_DEFAULT 1000

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
	unsigned int low_watermark; /**< grow while fewer objects are free (0: half a block) */
	unsigned int tick_us;     /**< control-thread check period, microseconds */
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
	uint64_t grows_ahead;   /**< blocks added by the control thread */
	uint64_t grows_sync;    /**< blocks added inside a failing allocation */
	uint64_t grow_fails;    /**< block additions that failed (hugepages exhausted...) */
	uint64_t wall_hits;     /**< growths refused because the wall was reached */
	uint64_t alloc_fails;   /**< allocations the driver refused (see tide_mempool.h) */
	uint64_t target_free;   /**< free objects the control thread currently aims for */
};

/**
 * Fill @p p with defaults: SOCKET_ID_ANY, RTE_MBUF_DEFAULT_BUF_SIZE data room, no private
 * area, a 256-object cache, 8 MB base, 8 MB blocks, 256 MB wall, 1 ms tick.
 *
 * @param p
 *   Parameters to fill.
 * @param name
 *   Pool name (not copied: it must live until tide_pool_create()).
 */
void tide_pool_params_init(struct tide_pool_params *p, const char *name);

/**
 * Create an elastic pktmbuf pool and reserve its base block.
 *
 * @param p
 *   Parameters; see struct tide_pool_params.
 * @return
 *   The pool, usable wherever a pktmbuf pool is; NULL on error with rte_errno set:
 *   EINVAL a NULL or bad parameter (zero or oversized block, wall below base, unknown
 *   socket, bad sizes), ENAMETOOLONG name too long, EEXIST a mempool of that name exists,
 *   ENOMEM no hugepages for the base block or the mempool header.
 */
struct rte_mempool *tide_pool_create(const struct tide_pool_params *p);

/**
 * Free a pool created by tide_pool_create(), and every block it holds.
 * All its mbufs must have been freed. NULL is a no-op.
 */
void tide_pool_free(struct rte_mempool *mp);

/**
 * Tell whether @p mp was created by tide_pool_create().
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
 *   Blocks added (possibly fewer, down to 0, at the wall), or a negative errno with
 *   rte_errno set: -EINVAL not an elastic pool; -ENOSPC at the wall before any block was
 *   added; -ENOMEM no hugepages for the first block.
 */
int tide_pool_grow(struct rte_mempool *mp, unsigned int nb_blocks);

/**
 * Read a pool's counters.
 *
 * @return
 *   0, or -EINVAL (rte_errno set) if @p mp is not an elastic pool or @p st is NULL.
 */
int tide_pool_stats_get(const struct rte_mempool *mp, struct tide_pool_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* TIDE_POOL_H */
