/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_MEMPOOL_H
#define TIDE_MEMPOOL_H

/**
 * @file
 * The `tide` mempool ops driver: control calls beyond the rte_mempool ops.
 *
 * A tide mempool keeps one free list per block. A block is one populated memory chunk
 * (or, when added with tide_mempool_block_add(), one memory area that may span several
 * IOVA-contiguous chunks). The driver finds an object's block from its address, counts
 * free and in-use objects per block, and serves every dequeue from the oldest block that
 * has free objects, so live objects gather in old blocks and new blocks drain.
 *
 * Any DPDK application can use the driver through the ops name "tide" (link it, or load
 * the plugin with `-d librte_mempool_tide.so` and pass `--mbuf-pool-ops-name=tide`). The
 * calls below add and remove blocks at run time; the elastic pool library (tide_pool.h)
 * builds its policy on them. They do not depend on that library.
 *
 * Threads: enqueue and dequeue (the rte_mempool ops) are multi-producer/multi-consumer
 * and safe from EAL and non-EAL threads. tide_mempool_block_add() and
 * tide_mempool_block_remove() are control-path calls, serialised per pool by the driver;
 * they may run while other threads enqueue and dequeue. They modify the mempool's object
 * and memory-chunk lists, so rte_mempool_obj_iter(), rte_mempool_mem_iter(),
 * rte_mempool_audit() and rte_mempool_dump() must not run on the same pool at the same
 * time. Primary process only.
 *
 * Telemetry: /tide/mempool/list names every mempool that uses the tide ops (elastic pools
 * of tide_pool.h among them), /tide/mempool/info,<name> shows one: its size, the counters
 * of tide_mempool_stats_get() and its first 64 blocks (tide_mempool_block_info()).
 *
 * Counting: the get_count op answers the pool's size minus the objects out (allocated
 * or in lcore caches), so rte_mempool_avail_count() counts what can still be allocated
 * (free objects and the room growth may fill alike), rte_mempool_in_use_count() the
 * objects really allocated and rte_mempool_full() whether all are back, however much of
 * the pool is populated. tide_mempool_stats_get() tells populated and free apart.
 *
 * Block events: memory that a device reads must be registered with it (VFIO maps,
 * rte_dev_dma_map(), RDMA memory regions, a SmartNIC's IOMMU table, an application's own
 * bookkeeping). DPDK's RTE_MEMPOOL_EVENT_READY fires only once a mempool is populated to
 * its full size, which a pool that grows by blocks may never be, and nothing in DPDK says
 * when a chunk comes or goes. tide_mempool_block_event_register() does: its callback hears
 * of every block after it is populated and before any dequeue can take its objects
 * (TIDE_MEMPOOL_BLOCK_ADD), and of every block before its memory is released
 * (TIDE_MEMPOOL_BLOCK_REMOVE, when all its objects are free and no dequeue can reach it
 * any more); the removal waits until every callback has returned, and a callback may veto
 * it. So an object is only ever handed out from a block every callback was told of, and
 * a block's memory never goes while a callback still counts it as its own.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Name of the ops, for rte_mempool_set_ops_byname() and --mbuf-pool-ops-name. */
#define TIDE_MEMPOOL_OPS_NAME "tide"

/**
 * Called by a dequeue that cannot be served from the free lists, before it fails.
 * It may add blocks (tide_mempool_block_add()) and returns how many objects it added,
 * 0 if none, or a negative errno. It runs on the dequeuing thread with no driver lock held.
 */
typedef int (tide_mempool_grow_cb_t)(struct rte_mempool *mp, unsigned int n, void *arg);

/** One block, as tide_mempool_block_info() reports it. */
struct tide_mempool_block_info {
	uint64_t id;      /**< block id: order of addition, from 1, never reused */
	void *addr;       /**< first byte of the block's memory */
	size_t len;       /**< bytes of memory the block covers */
	uint32_t nb_objs; /**< objects in the block */
	uint32_t nb_free; /**< of those, in the driver's free list */
	uint32_t nb_low;  /**< fewest free objects at any moment since the last
			   *   tide_mempool_block_sample(): nb_low == nb_objs means no object
			   *   of the block was out (allocated or cached) since then */
};

/** Counters of a tide mempool, as tide_mempool_stats_get() reports them. */
struct tide_mempool_stats {
	uint32_t nb_blocks;   /**< live blocks */
	uint64_t bytes;       /**< bytes of memory the live blocks cover */
	uint64_t nb_objs;     /**< objects in live blocks */
	uint64_t nb_free;     /**< of those, in the driver's free lists (not lcore caches) */
	uint64_t nb_deq_refused; /**< dequeues the driver refused (too few free objects, no
				  *   growth). Not a count of failed allocations: a failed
				  *   cache refill counts even when the direct dequeue that
				  *   follows serves the allocation, and an allocation that
				  *   fails both counts twice */
	uint64_t nb_foreign;  /**< enqueued pointers that no block owns, or that point into a
			       *   block's header or free list: dropped */
	uint64_t nb_double;   /**< enqueued into a block whose objects were all free: dropped */
	uint64_t nb_lock_yields; /**< waits for the driver's lock that yielded the CPU (the
				  *   holder had been preempted: more threads than cores) */
	uint64_t nb_lock_recovered; /**< the lock taken over from a process that died holding
				     *   it (a secondary killed mid-operation) */
	uint64_t nb_list_walks; /**< block removals that walked the mempool's whole object
				 *   list, the block's objects not being one known run in it
				 *   (each walk costs a pass over every object, under the
				 *   driver's ctl lock) */
};

/**
 * Tell whether a mempool uses the tide ops (and has its pool data: a mempool created
 * empty gets it at its first population or block).
 *
 * @param mp
 *   A mempool, or NULL.
 * @return
 *   true if @p mp is a tide mempool.
 */
bool tide_mempool_is_tide(const struct rte_mempool *mp);

/**
 * How many objects of @p mp a block of @p len bytes holds, before page-boundary losses.
 * Cheap, no lock; rte_errno is not touched.
 *
 * @return
 *   Object count, 0 if @p mp is not a tide mempool or @p len holds none.
 */
unsigned int tide_mempool_block_capacity(const struct rte_mempool *mp, size_t len);

/**
 * Add a block of memory to a tide mempool at run time.
 *
 * The driver puts its block header at @p addr, populates the rest with objects
 * (one rte_mempool memory chunk per IOVA-contiguous run), calls @p init on every new
 * object, tells the block event callbacks (TIDE_MEMPOOL_BLOCK_ADD, on this thread), and
 * only then lets dequeues take them. The mempool must have been created with room to
 * spare (its `size` is the most objects it may ever hold).
 *
 * @param mp
 *   A tide mempool.
 * @param addr
 *   DPDK memory (a memzone, or external memory registered with DPDK) for all of @p len,
 *   cache-line aligned, not already part of the pool.
 * @param len
 *   Bytes at @p addr.
 * @param init
 *   Called once per new object before any thread can dequeue it (rte_pktmbuf_init for a
 *   pktmbuf pool), or NULL.
 * @param init_arg
 *   Passed to @p init.
 * @param free_cb
 *   Called once, with @p opaque, when the block is removed or the mempool freed, to
 *   release the memory; may be NULL. On failure it is not called: the memory stays the
 *   caller's.
 * @param opaque
 *   Passed to @p free_cb.
 * @return
 *   The block id (> 0) on success, or a negative errno (rte_errno is set too):
 *   -EINVAL a bad argument (NULL or unaligned @p addr, @p len 0, a range that is not all
 *   in one of DPDK's memseg lists, covers a page of it DPDK has not allocated, wraps
 *   around, or overlaps a block of this pool or of another tide mempool) or @p mp does not
 *   use the tide ops; -ENOSPC the mempool's size is
 *   reached; -ENOBUFS @p len holds no object; -ENOMEM no memory for the pool data, the
 *   driver's tables or the mempool's chunk headers; -ENOTSUP a secondary process; -EPERM
 *   an elastic pool (tide_pool.h), whose blocks its library alone adds and removes;
 *   -EDEADLK called from a block event callback.
 */
int64_t tide_mempool_block_add(struct rte_mempool *mp, void *addr, size_t len,
	rte_mempool_obj_cb_t *init, void *init_arg,
	rte_mempool_memchunk_free_cb_t *free_cb, void *opaque);

/** tide_mempool_block_remove() flag: refuse also if an object of the block was out at any
 *  moment since the last tide_mempool_block_sample() (a reaper's "no allocation since"). */
#define TIDE_MEMPOOL_RM_UNTOUCHED (1u << 0)

/**
 * Remove a block whose objects are all in the driver's free list, then release its
 * memory through the block's free callback.
 *
 * A memzone shared by several blocks (DPDK's populate splits one into a chunk per run of
 * physically contiguous pages in IOVA-as-PA mode, and gives the first chunk the callback
 * that frees the whole memzone) goes with the last of those blocks: the callback passes
 * to a chunk of the memzone that stays.
 *
 * The check and the unlinking happen under the lock every dequeue takes, so no thread
 * can take an object of the block once the call has decided to remove it. Block event
 * callbacks then hear of the removal (TIDE_MEMPOOL_BLOCK_REMOVE) before the memory goes;
 * one of them may veto it.
 *
 * @param mp
 *   A tide mempool.
 * @param id
 *   The block's id.
 * @param flags
 *   0 or TIDE_MEMPOOL_RM_UNTOUCHED.
 * @return
 *   0 on success, or a negative errno (rte_errno is set too): -EINVAL not a tide
 *   mempool, or a flag other than TIDE_MEMPOOL_RM_UNTOUCHED; -ENOENT no live block has
 *   that id; -EBUSY an object of the block is out
 *   (allocated or in an lcore cache), or was since the last sample with
 *   TIDE_MEMPOOL_RM_UNTOUCHED; -EAGAIN a block event callback vetoed the removal (the
 *   block stays, as it was: try again later); -ENOTSUP a secondary process; -EPERM an
 *   elastic pool (tide_pool.h), whose blocks its library alone adds and removes;
 *   -EDEADLK called from a block event callback.
 */
int tide_mempool_block_remove(struct rte_mempool *mp, uint64_t id, uint32_t flags);

/**
 * Move a live block to position @p pos of the age order (0 is the oldest): dequeue then
 * prefers it as its new age says, and a reaper sees it there. A pool library ranks as old
 * a block it cannot release for now (a few long-held objects), so that the idle blocks
 * above it can go and new allocations fill it first.
 *
 * @param mp
 *   A tide mempool.
 * @param id
 *   The block's id.
 * @param pos
 *   Its new position, below the number of live blocks.
 * @return
 *   0 on success, or a negative errno (rte_errno is set too): -EINVAL bad arguments or
 *   @p pos out of range; -ENOENT no live block has that id; -ENOTSUP a secondary
 *   process; -EPERM an elastic pool (tide_pool.h), whose blocks its library alone orders;
 *   -EDEADLK called from a block event callback.
 */
int tide_mempool_block_move(struct rte_mempool *mp, uint64_t id, unsigned int pos);

/**
 * Number of live blocks.
 *
 * @return
 *   Block count; 0 if @p mp is not a tide mempool.
 */
unsigned int tide_mempool_block_count(const struct rte_mempool *mp);

/**
 * Describe the live block at position @p idx, oldest first.
 *
 * @return
 *   0 on success, or a negative errno (rte_errno is set too): -EINVAL not a tide mempool
 *   or @p info is NULL; -ENOENT no block at that position.
 */
int tide_mempool_block_info(const struct rte_mempool *mp, unsigned int idx,
	struct tide_mempool_block_info *info);

/**
 * Like tide_mempool_block_info(), and start a new sampling interval: the block's nb_low
 * restarts from its current free count. A reaper calls this every period to learn whether
 * a block saw any allocation since the previous call.
 *
 * @return
 *   0 on success, or a negative errno (rte_errno is set too): -EINVAL not a tide mempool
 *   or @p info is NULL; -ENOENT no block at that position.
 */
int tide_mempool_block_sample(struct rte_mempool *mp, unsigned int idx,
	struct tide_mempool_block_info *info);

/**
 * Call @p cb on every object of the pool, as rte_mempool_obj_iter() does, but safe
 * against blocks being added or removed meanwhile (they wait).
 *
 * @return
 *   Objects visited, or a negative errno (rte_errno set, a line logged): -EINVAL @p mp is
 *   not a tide mempool or @p cb is NULL; -EDEADLK called from a block event callback.
 */
int tide_mempool_obj_iter(struct rte_mempool *mp, rte_mempool_obj_cb_t *cb, void *arg);

/**
 * Tell whether @p obj is the start of an object of the pool, reading nothing outside the
 * pool's memory.
 *
 * @return
 *   true if it is; false otherwise (or if @p mp is not a tide mempool).
 */
bool tide_mempool_owns(const struct rte_mempool *mp, const void *obj);

/**
 * Read the driver's counters.
 *
 * @return
 *   0 on success; -EINVAL (rte_errno set) if @p mp is not a tide mempool or @p st is NULL.
 */
int tide_mempool_stats_get(const struct rte_mempool *mp, struct tide_mempool_stats *st);

/**
 * Install (or, with NULL, remove) the callback a failing dequeue calls to grow the pool.
 * A mempool created empty with the tide ops gets its pool data here if it has none yet.
 * Primary process: the callback is called by the primary's dequeues only (a secondary's
 * ask the primary).
 *
 * @return
 *   0 on success, or a negative errno (rte_errno is set too, and a line logged): -EINVAL
 *   @p mp is NULL or does not use the tide ops; -ENOMEM no memory for the pool data;
 *   -ENOTSUP called in a secondary process; -EPERM @p mp is an elastic pool, whose pool
 *   library grows it.
 */
int tide_mempool_grow_cb_set(struct rte_mempool *mp, tide_mempool_grow_cb_t *cb, void *arg);

/* ---- block events (see the file comment) ---- */

/** What happens to a block. */
enum tide_mempool_block_event {
	/** The block is populated, its objects initialised; no dequeue can take them yet
	 *  (dequeues may as soon as every callback has returned). One exception: a chunk
	 *  that a stock population (rte_mempool_populate_*()) hands the driver has its
	 *  objects in the free lists as DPDK populates it, and its ADD comes once it is
	 *  populated, before that call returns: as with any mempool, take nothing from a
	 *  mempool before its population has returned. */
	TIDE_MEMPOOL_BLOCK_ADD,
	/** The block is about to go: all its objects are free and no dequeue can reach them;
	 *  its memory is released once every callback has returned 0. A callback that cannot
	 *  let it go yet returns a negative errno: the block stays (the removal fails with
	 *  -EAGAIN, to be retried), and the callbacks that had already accepted the removal
	 *  get a TIDE_MEMPOOL_BLOCK_ADD for it again, flagged TIDE_MEMPOOL_BLOCK_F_RESTORED. A
	 *  removal flagged TIDE_MEMPOOL_BLOCK_F_FINAL cannot be vetoed: the mempool is being
	 *  freed, or DPDK already freed the block's memory (a failed
	 *  rte_mempool_populate_default() frees every chunk of the mempool; the next call
	 *  on the pool tells the callbacks). */
	TIDE_MEMPOOL_BLOCK_REMOVE,
};

/** Block event flag: an ADD replaying a block that existed when the callback registered. */
#define TIDE_MEMPOOL_BLOCK_F_REPLAY (1u << 0)
/** Block event flag: an ADD undoing a REMOVE that another callback vetoed. */
#define TIDE_MEMPOOL_BLOCK_F_RESTORED (1u << 1)
/** Block event flag: a REMOVE that cannot be vetoed (the mempool is being freed, or its
 *  memory already was). */
#define TIDE_MEMPOOL_BLOCK_F_FINAL (1u << 2)

/** A block, as block event callbacks see it. */
struct tide_mempool_block_desc {
	uint64_t id;        /**< block id: order of addition, from 1, never reused */
	void *addr;         /**< first byte of the block's memory */
	size_t len;         /**< bytes of memory the block covers, from @p addr */
	rte_iova_t iova;    /**< IO address of @p addr; RTE_BAD_IOVA if it has none */
	bool iova_contig;   /**< [iova, iova + len) is one IOVA-contiguous run (always so in
			     *   IOVA-as-VA mode); if false, look the pages up
			     *   (rte_mem_virt2iova()) */
	uint32_t nb_objs;   /**< objects in the block */
	uint32_t flags;     /**< TIDE_MEMPOOL_BLOCK_F_* */
};

/**
 * A block event callback.
 *
 * Runs on the thread that adds or removes the block (never on the dequeue/enqueue fast
 * path): for an ADD, the thread calling tide_mempool_block_add() or populating the
 * mempool the stock way; for a REMOVE, the thread calling tide_mempool_block_remove() or
 * freeing the mempool. Events of one mempool come one at a time, in order; events of
 * different mempools may run at the same time on different threads. A callback must not
 * add, remove or move blocks, walk objects with tide_mempool_obj_iter() or register
 * callbacks (each is refused with -EDEADLK), nor grow (an allocation that would grow an
 * elastic pool comes up short) or free a mempool; it may unregister (itself or others) and
 * read the pool (tide_mempool_block_info(), tide_mempool_stats_get()).
 *
 * @param mp
 *   The mempool.
 * @param event
 *   TIDE_MEMPOOL_BLOCK_ADD or TIDE_MEMPOOL_BLOCK_REMOVE.
 * @param blk
 *   The block; valid during the call only.
 * @param arg
 *   As registered.
 * @return
 *   0; for a REMOVE not flagged FINAL, a negative errno vetoes the removal. The return of
 *   an ADD, and of a FINAL REMOVE, is ignored.
 */
typedef int (tide_mempool_block_cb_t)(struct rte_mempool *mp,
	enum tide_mempool_block_event event, const struct tide_mempool_block_desc *blk,
	void *arg);

/** Most block event callbacks registered at once in a process. */
#define TIDE_MEMPOOL_BLOCK_EVENT_MAX 32

/**
 * Register a block event callback for one tide mempool, or for every tide mempool of the
 * process, present and future. The blocks that exist already are replayed first, in the
 * order they were added (ADD flagged TIDE_MEMPOOL_BLOCK_F_REPLAY), on the calling thread,
 * before the call returns; no event is missed or told twice between the replay and the
 * events that follow. Primary process (where blocks are added and removed).
 *
 * @param mp
 *   A tide mempool, or NULL for all of them. A mempool's registrations end when it is
 *   freed (after its blocks' final REMOVE events).
 * @param cb
 *   The callback.
 * @param arg
 *   Passed to @p cb.
 * @return
 *   0, or a negative errno (rte_errno is set too): -EINVAL @p cb is NULL or @p mp is not a
 *   tide mempool; -EEXIST @p cb and @p arg are registered for @p mp already; -ENOSPC
 *   TIDE_MEMPOOL_BLOCK_EVENT_MAX callbacks are registered; -ENOMEM no memory for the
 *   replay (@p cb was not called); -ENOTSUP a secondary process; -EDEADLK called from a
 *   block event callback.
 */
int tide_mempool_block_event_register(struct rte_mempool *mp, tide_mempool_block_cb_t *cb,
	void *arg);

/**
 * Unregister a block event callback registered with the same @p mp, @p cb and @p arg.
 * Safe while events fire: once it returns, @p cb is not called again and no call of it is
 * running (from inside a block event callback it does not wait for calls running on
 * other threads, and the callback's own call goes on to its end).
 *
 * @return
 *   0, or a negative errno (rte_errno is set too): -EINVAL @p cb is NULL; -ENOENT no such
 *   registration.
 */
int tide_mempool_block_event_unregister(struct rte_mempool *mp, tide_mempool_block_cb_t *cb,
	void *arg);

#ifdef __cplusplus
}
#endif

#endif /* TIDE_MEMPOOL_H */
