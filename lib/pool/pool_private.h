/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_POOL_PRIVATE_H
#define TIDE_POOL_PRIVATE_H

/* Internals of the elastic pool library (not installed). */

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memzone.h>
#include <rte_mempool.h>

#include "pool_policy.h"
#include "tide_pool.h"

extern int tide_pool_logtype;

#define POOL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, tide_pool_logtype, "tide_pool: %s(): " fmt "\n", __func__, \
		##__VA_ARGS__)

/* Bytes a block's memzone leaves unused in its last page, so that the heap element
 * header fits and a block of k pages maps exactly k new pages.
 */
#define POOL_MZ_SLACK 1024

/* How growth was asked for. */
enum pool_grow_kind {
	POOL_GROW_BASE,  /* the base block, at creation */
	POOL_GROW_AHEAD, /* control thread, below target */
	POOL_GROW_SYNC,  /* inside a failing allocation */
	POOL_GROW_USER,  /* tide_pool_grow() */
};

/* One block the pool holds. */
struct pool_blk {
	uint64_t id;                  /* the driver's block id */
	const struct rte_memzone *mz; /* its memory */
	size_t bytes;                 /* hugepage bytes it holds */
	uint64_t born_ns;             /* when it was added */
};

struct tide_pool {
	TAILQ_ENTRY(tide_pool) next;     /* in the registry; under the registry lock */
	struct rte_mempool *mp;
	char name[RTE_MEMPOOL_NAMESIZE];
	struct tide_pool_params params;  /* as given, name pointing at name[] */
	size_t page_sz;                  /* hugepage size blocks are made of */
	size_t base_bytes;               /* base block, whole pages */
	size_t block_bytes;              /* added block, whole pages */
	unsigned int block_objs;         /* objects an added block holds (estimate) */
	uint64_t tick_ns;                /* control-thread period */
	uint64_t next_tick_ns;           /* control thread: next check; its own */

	pthread_mutex_t grow_lock;       /* guards everything below up to the counters */
	struct pool_blk *blocks;         /* oldest first; [0] is the base */
	uint32_t nb_blocks;
	uint32_t cap_blocks;
	uint64_t bytes;                  /* hugepage bytes held; read without the lock */
	struct tide_grow_policy grow_pol;
	struct tide_grow_state grow_st;
	uint64_t target_free;            /* read without the lock */
	uint64_t fail_log_ns;            /* last "cannot grow" log line */

	/* Counters, updated atomically. */
	uint64_t grows_ahead;
	uint64_t grows_sync;
	uint64_t grow_fails;
	uint64_t wall_hits;
};

static inline uint64_t
pool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int
pool_error(int err)
{
	rte_errno = err;
	return -err;
}

/* pool.c: the registry of elastic pools in this process. */
void pool_registry_lock(void);
void pool_registry_unlock(void);
struct tide_pool *pool_lookup_locked(const struct rte_mempool *mp);
struct tide_pool *pool_by_name_locked(const char *name);
struct tide_pool *pool_first_locked(void);
struct tide_pool *pool_next_locked(struct tide_pool *tp);

/* pool_grow.c */
int pool_grow_locked(struct tide_pool *tp, unsigned int nb_blocks, enum pool_grow_kind kind);
int pool_grow_sync_cb(struct rte_mempool *mp, unsigned int n, void *arg);

/* pool_ctl.c: the control thread. */
int pool_ctl_start(void);
void pool_ctl_stop(void);
void pool_tick(struct tide_pool *tp, uint64_t now);

/* pool_stats.c */
int pool_stats_locked(const struct tide_pool *tp, struct tide_pool_stats *st);

#endif /* TIDE_POOL_PRIVATE_H */
