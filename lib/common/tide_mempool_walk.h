/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_MEMPOOL_WALK_H
#define TIDE_MEMPOOL_WALK_H

/**
 * @file
 * @internal Every mempool of the process, visited while none can be freed (not an API).
 *
 * DPDK's mempool lock, then its tailq lock, held for reading: the order
 * rte_mempool_create_empty() takes them for writing. rte_mempool_free() takes the tailq
 * lock for writing to unlink a mempool before it frees anything of it, so the one visited
 * cannot be freed meanwhile. rte_mempool_walk() and rte_mempool_lookup() hold the mempool
 * lock alone, which rte_mempool_free() does not take: a mempool they hand over may be
 * freed while it is read.
 *
 * A visit must not create or free a mempool (it would wait for itself), and it holds up
 * every other thread's, and secondary's, until the walk ends.
 */

#include <stdbool.h>

#include <rte_eal_memconfig.h>
#include <rte_mempool.h>
#include <rte_tailq.h>

/** The mempool library's tailq (its rte_mempool_tailq; 22.11 names it in no header). */
#define TIDE_MEMPOOL_TAILQ "RTE_MEMPOOL"

/** What is done to each mempool; true stops the walk. */
typedef bool (tide_mempool_visit_t)(struct rte_mempool *mp, void *arg);

/** Call @p fn on every mempool, oldest first, none of which can be freed meanwhile. */
static inline void
tide_mempool_walk_held(tide_mempool_visit_t *fn, void *arg)
{
	struct rte_tailq_entry_head *list;
	struct rte_tailq_entry *te;

	rte_mcfg_mempool_read_lock();
	rte_mcfg_tailq_read_lock();
	list = RTE_TAILQ_LOOKUP(TIDE_MEMPOOL_TAILQ, rte_tailq_entry_head);
	if (list != NULL)
		TAILQ_FOREACH(te, list, next)
			if (fn(te->data, arg))
				break;
	rte_mcfg_tailq_read_unlock();
	rte_mcfg_mempool_read_unlock();
}

#endif /* TIDE_MEMPOOL_WALK_H */
