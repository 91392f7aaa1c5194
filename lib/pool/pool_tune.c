/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Changing a running pool's limits: its wall, reap period and idle threshold, and its
 * block source. The control thread reads them at its next tick; nothing else changes.
 */

#include <errno.h>
#include <limits.h>

#include "pool_private.h"

/* What only the primary does, for the line that refuses a secondary. */
#define TUNE_WHAT "sets a pool's limits"

/* The elastic pool behind @mp, held, with its grow lock taken (pool_primary_unlock()), or
 * NULL with rte_errno set. */
static struct tide_pool *
tune_lock(struct rte_mempool *mp)
{
	return pool_primary_lock(mp, TUNE_WHAT);
}

int
tide_pool_wall_set(struct rte_mempool *mp, size_t wall_bytes)
{
	struct tide_pool *tp = tune_lock(mp);

	if (tp == NULL)
		return -rte_errno;
	/* The mempool's size and the block tables were made for the wall it was born with. */
	if (wall_bytes < tp->wall_floor || wall_bytes > tp->wall_born) {
		pthread_mutex_unlock(&tp->grow_lock);
		POOL_LOG(ERR, "%s: wall of %zu bytes: at least the base%s (%" PRIu64 "), at most "
			"the wall it was created with (%" PRIu64 ")", tp->name, wall_bytes,
			tp->wall_floor > tp->base_bytes ? "s of its set's classes" : "",
			tp->wall_floor, tp->wall_born);
		pool_release(tp);
		return pool_error(EINVAL);
	}
	__atomic_store_n(&tp->wall->limit, wall_bytes, __ATOMIC_RELEASE);
	tp->params.wall_bytes = wall_bytes;
	pthread_mutex_unlock(&tp->grow_lock);
	POOL_LOG(INFO, "%s: wall now %zu bytes (holding %" PRIu64 ")", tp->name, wall_bytes,
		tp->bytes);
	pool_release(tp);
	return 0;
}

int
tide_pool_reap_set(struct rte_mempool *mp, unsigned int reap_period_ms, unsigned int idle_ms)
{
	struct tide_pool *tp;

	if (idle_ms == 0) {
		POOL_LOG(ERR, "an idle threshold of 0 ms releases blocks still in use");
		return pool_error(EINVAL);
	}
	tp = tune_lock(mp);
	if (tp == NULL)
		return -rte_errno;
	if (reap_period_ms != TIDE_POOL_UNCHANGED) {
		tp->params.reap_period_ms = reap_period_ms;
		tp->reap_ns = (uint64_t)reap_period_ms * 1000000ull;
		tp->next_reap_ns = 0; /* at the next tick */
	}
	if (idle_ms != TIDE_POOL_UNCHANGED) {
		tp->params.idle_ms = idle_ms;
		tp->idle_ns = (uint64_t)idle_ms * 1000000ull;
	}
	pool_primary_unlock(tp);
	return 0;
}

int
tide_pool_block_source_set(struct rte_mempool *mp, tide_pool_block_source_t *src, void *arg)
{
	struct tide_pool *tp = pool_primary_hold(mp, TUNE_WHAT);

	if (tp == NULL)
		return -rte_errno;
	/*
	 * Counted with the pool not held: counting may recover a dead secondary, and its death
	 * callbacks may free this very pool, whose free waits for every hold. Counted before
	 * the pool's lock is taken too (the count's own lock is taken where a dead secondary
	 * is recovered); given back if the pool counts already, or is gone meanwhile.
	 */
	if (src != NULL) {
		uint64_t serial = tp->serial;

		pool_release(tp);
		if (pool_mp_source_get() != 0)
			return POOL_REFUSE(ERR, EBUSY, "a secondary process is attached: a block "
				"source's memory would be mapped in this process alone, and that "
				"one would fault on its mbufs");
		tp = pool_hold(mp);
		if (tp == NULL || tp->serial != serial) {
			/* Freed meanwhile, and maybe another pool made at the same place. */
			if (tp != NULL)
				pool_release(tp);
			pool_mp_source_put();
			return POOL_REFUSE(ERR, EINVAL, "the pool was freed during the call");
		}
	}
	pthread_mutex_lock(&tp->grow_lock);
	/* Counted once a pool, until it is freed (pool_forget()). */
	if (src != NULL && tp->src_counted)
		pool_mp_source_put();
	else if (src != NULL)
		tp->src_counted = true;
	tp->src = src;
	tp->src_arg = arg;
	pthread_mutex_unlock(&tp->grow_lock);
	POOL_LOG(INFO, "%s: %s block source", tp->name, src != NULL ? "a" : "no");
	pool_release(tp);
	return 0;
}
