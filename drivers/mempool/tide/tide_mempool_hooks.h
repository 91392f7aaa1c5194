/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_MEMPOOL_HOOKS_H
#define TIDE_MEMPOOL_HOOKS_H

/*
 * What the elastic pool library plugs into the driver (internal, not installed; both are
 * built into one shared object).
 *
 * Adoption of stock-created pools.
 *
 * An application that creates a tide mempool the stock way (rte_pktmbuf_pool_create*,
 * rte_mempool_create_empty + rte_mempool_populate_default) gives the driver no other hook
 * than its ops. When populate_default asks the calc_mem_size op for the memory of the whole
 * pool, the driver asks the adopter (the elastic pool library) how much to populate now.
 * If the answer is less than the whole pool, the driver sizes the first memzone to it, makes
 * that memzone one block, and, on its last chunk, reports the rest of the pool as populated
 * to rte_mempool_populate_default() so that it reserves nothing more (populated_size counts
 * only the objects really there). The adopter is then told the pool is its own to grow.
 *
 * Both calls run on the thread creating the pool, inside rte_mempool_populate_default(),
 * with no driver lock held.
 */

#include <stdbool.h>
#include <stddef.h>

#include <rte_memzone.h>
#include <rte_mempool.h>

/*
 * Register the tide ops in this process's mempool ops table, once: their index, or a
 * negative errno. The driver does it from rte_eal_init()'s vdev bus scan, after EAL has
 * loaded its plugins; the pool library calls it first in the same scan, before it tells a
 * primary which index the ops have here.
 */
int tide_mempool_ops_register(void);

/* The stamp of the driver's state that processes share (tide_layout.h): a pool's data and
 * its blocks' headers. The pool library folds it into what a secondary tells the primary.
 */
uint64_t tide_mempool_pvt_layout(void);

/*
 * Whether the elastic pool library owns @p mp's blocks from now on (@p owned) or no longer:
 * while it does, tide_mempool_block_add(), _remove(), _move() and tide_mempool_grow_cb_set()
 * on @p mp are refused with -EPERM, and the library makes those changes through the forms
 * below, which do not check.
 * 0, or -EINVAL (not a tide mempool) or -ENOMEM (no memory for its pool data).
 */
int tide_mempool_pvt_owned_set(struct rte_mempool *mp, bool owned);
int64_t tide_mempool_pvt_block_add(struct rte_mempool *mp, void *addr, size_t len,
	rte_mempool_obj_cb_t *init, void *init_arg,
	rte_mempool_memchunk_free_cb_t *free_cb, void *opaque);
int tide_mempool_pvt_block_remove(struct rte_mempool *mp, uint64_t id, uint32_t flags);
int tide_mempool_pvt_block_move(struct rte_mempool *mp, uint64_t id, unsigned int pos);
int tide_mempool_pvt_grow_cb_set(struct rte_mempool *mp, tide_mempool_grow_cb_t *cb, void *arg);

struct tide_mempool_adopt_hook {
	/*
	 * Bytes of the first memzone of a stock pool that is being populated: the base the
	 * pool starts with. 0 declines: the pool is populated whole, as stock DPDK does.
	 */
	size_t (*base_bytes)(const struct rte_mempool *mp);
	/*
	 * The stock population of @mp ended with only the base block (@mz, block id 1): the
	 * adopter now owns the pool's growth. Objects are not initialised yet (the stock
	 * creation does that after populate_default returns): do not grow the pool before
	 * tide_mempool_in_use_started() says an object was taken. Returns 0, or a negative
	 * errno: the pool is then populated whole, the stock way.
	 */
	int (*adopted)(struct rte_mempool *mp, const struct rte_memzone *mz);
};

/* Install the adopter (NULL: none; every stock pool is populated whole). */
void tide_mempool_adopt_hook_set(const struct tide_mempool_adopt_hook *hook);

/* True once any object of @mp has been taken from the driver (the application uses it). */
bool tide_mempool_in_use_started(const struct rte_mempool *mp);

/*
 * Growth for a secondary process. A dequeue that finds the free lists short in a process
 * that cannot grow the pool itself (a secondary: memzones are reserved and freed by the
 * primary only) calls this, on the dequeuing thread with no driver lock held: it asks the
 * primary to grow @mp by @n objects and waits, a bounded time, for the answer. Returns the
 * objects added, 0 if none, or a negative errno.
 */
typedef int (tide_mempool_remote_grow_t)(struct rte_mempool *mp, unsigned int n);

/* Install it (NULL: a secondary's dequeue fails at once when the lists are short). */
void tide_mempool_remote_grow_set(tide_mempool_remote_grow_t *fn);

#endif /* TIDE_MEMPOOL_HOOKS_H */
