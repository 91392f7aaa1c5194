/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Elastic pool creation, destruction and the registry of pools in this process.
 * Parameters are checked first; a pool is a pktmbuf mempool created empty with room for
 * the wall, set to the tide ops, and given its base block before anyone sees it. Pools an
 * application created the stock way come in through pool_adopt.c; both kinds are
 * registered the same way, and leave the registry when their mempool is freed (the
 * mempool library's DESTROY event, before it frees their memory).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include "pool_private.h"
#include "tide_config.h"
#include "tide_mempool.h"

RTE_LOG_REGISTER(tide_pool_logtype, tide.pool, NOTICE);


/*
 * The registry lock guards the list and the holds, never for longer than a few pointer
 * operations: the API's lookups (pool_hold()) take it, and they must not wait on a growth.
 * It is the innermost lock: a hold is released under a pool's wait or grow lock.
 */
static TAILQ_HEAD(, tide_pool) pool_list = TAILQ_HEAD_INITIALIZER(pool_list);
static pthread_mutex_t pool_list_lock = PTHREAD_MUTEX_INITIALIZER;
/* Signalled when a pool's holds drop to 0 (pool_unregister() waits for it). */
static pthread_cond_t pool_hold_cond = PTHREAD_COND_INITIALIZER;

void
pool_registry_lock(void)
{
	pthread_mutex_lock(&pool_list_lock);
}

void
pool_registry_unlock(void)
{
	pthread_mutex_unlock(&pool_list_lock);
}

struct tide_pool *
pool_lookup_locked(const struct rte_mempool *mp)
{
	struct tide_pool *tp;

	TAILQ_FOREACH(tp, &pool_list, next)
		if (tp->mp == mp)
			return tp;
	return NULL;
}

struct tide_pool *
pool_first_locked(void)
{
	return TAILQ_FIRST(&pool_list);
}

struct tide_pool *
pool_next_locked(struct tide_pool *tp)
{
	return TAILQ_NEXT(tp, next);
}

/* The pool behind mp, or NULL. The caller keeps the pool alive (it is creating it). */
struct tide_pool *
pool_get(const struct rte_mempool *mp)
{
	struct tide_pool *tp;

	pool_registry_lock();
	tp = pool_lookup_locked(mp);
	pool_registry_unlock();
	return tp;
}

/*
 * Held under the registry lock, where the lookup found it: once the lock is dropped another
 * thread's free may take the pool out of the registry, but then waits for the hold.
 */
struct tide_pool *
pool_hold(const struct rte_mempool *mp)
{
	struct tide_pool *tp;

	if (mp == NULL)
		return NULL;
	pool_registry_lock();
	tp = pool_lookup_locked(mp);
	if (tp != NULL)
		pool_hold_locked(tp);
	pool_registry_unlock();
	if (tp != NULL)
		TIDE_FAULT_HOLD(TIDE_HOLD_POOL_FOUND); /* tests: a free comes meanwhile */
	return tp;
}

void
pool_hold_locked(struct tide_pool *tp)
{
	tp->holds++;
}

void
pool_release_locked(struct tide_pool *tp)
{
	if (--tp->holds == 0 && !tp->listed)
		pthread_cond_broadcast(&pool_hold_cond);
}

void
pool_release(struct tide_pool *tp)
{
	pool_registry_lock();
	pool_release_locked(tp);
	pool_registry_unlock();
}

struct tide_pool *
pool_hold_named(const char *name)
{
	struct tide_pool *tp;

	pool_registry_lock();
	TAILQ_FOREACH(tp, &pool_list, next)
		if (strcmp(tp->name, name) == 0) {
			pool_hold_locked(tp);
			break;
		}
	pool_registry_unlock();
	return tp;
}

void
tide_pool_params_init(struct tide_pool_params *p, const char *name)
{
	if (p == NULL)
		return;
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->socket_id = SOCKET_ID_ANY;
	p->data_room_size = RTE_MBUF_DEFAULT_BUF_SIZE;
	p->cache_size = TIDE_POOL_DEFAULT_CACHE;
	p->base_bytes = TIDE_POOL_DEFAULT_BASE_BYTES;
	p->block_bytes = TIDE_POOL_DEFAULT_BLOCK_BYTES;
	p->wall_bytes = TIDE_POOL_DEFAULT_WALL_BYTES;
	p->tick_us = TIDE_POOL_TICK_US_DEFAULT;
	p->reap_period_ms = TIDE_POOL_REAP_PERIOD_MS_DEFAULT;
	p->idle_ms = TIDE_POOL_IDLE_MS_DEFAULT;
}

struct pool_pagesz {
	int socket;
	size_t min;
};

static int
pool_pagesz_walk(const struct rte_memseg_list *msl, void *arg)
{
	struct pool_pagesz *w = arg;

	if (msl->external)
		return 0;
	if (w->socket != SOCKET_ID_ANY && msl->socket_id != w->socket)
		return 0;
	/* A socket's own pool: not from a list of a size its node has no pages of. */
	if (w->socket != SOCKET_ID_ANY && !pool_numa_node_has_pages(msl->socket_id, msl->page_sz))
		return 0;
	if (msl->page_sz < w->min)
		w->min = msl->page_sz;
	return 0;
}

/* Smallest page size of the memory a pool on this socket gets; 0 if the socket has none. */
size_t
pool_page_size(int socket)
{
	struct pool_pagesz w = { .socket = socket, .min = SIZE_MAX };

	if (rte_eal_has_hugepages() == 0)
		return (size_t)sysconf(_SC_PAGESIZE);
	rte_memseg_list_walk(pool_pagesz_walk, &w);
	return w.min == SIZE_MAX ? 0 : w.min;
}

int
pool_params_caller_check(const struct tide_pool_params *p)
{
	if (p == NULL || p->name == NULL || p->name[0] == '\0') {
		POOL_LOG(ERR, "NULL parameters or empty name");
		return EINVAL;
	}
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		POOL_LOG(ERR, "%s: the primary process creates pools", p->name);
		return ENOTSUP;
	}
	return 0;
}

int
pool_socket_flags_check(const char *name, int socket, uint32_t flags)
{
	if (!pool_numa_node_exists(socket)) {
		POOL_LOG(ERR, "%s: socket %d: no such NUMA node (%u socket(s) known)", name,
			socket, rte_socket_count());
		return EINVAL;
	}
	if ((flags & ~TIDE_POOL_F_ALL) != 0) {
		POOL_LOG(ERR, "%s: unknown flags %#x", name, flags & ~TIDE_POOL_F_ALL);
		return EINVAL;
	}
	return 0;
}

static bool pool_event_registered; /* under the registry lock */

static int
pool_params_check(const struct tide_pool_params *p)
{
	size_t len;
	int err = pool_params_caller_check(p);

	if (err != 0)
		return err;
	len = strnlen(p->name, RTE_MEMPOOL_NAMESIZE);
	if (len >= RTE_MEMPOOL_NAMESIZE) {
		POOL_LOG(ERR, "name longer than %d chars", (int)RTE_MEMPOOL_NAMESIZE - 1);
		return ENAMETOOLONG;
	}
	err = pool_socket_flags_check(p->name, p->socket_id, p->flags);
	if (err != 0)
		return err;
	if (p->block_bytes == 0 || p->block_bytes > POOL_MAX_BLOCK ||
			p->block_bytes > p->wall_bytes) {
		POOL_LOG(ERR, "%s: block of %zu bytes: must be > 0, <= 4 GB and <= the wall (%zu)",
			p->name, p->block_bytes, p->wall_bytes);
		return EINVAL;
	}
	if (p->base_bytes == 0 || p->wall_bytes < p->base_bytes) {
		POOL_LOG(ERR, "%s: base of %zu bytes must be > 0 and <= the wall (%zu)",
			p->name, p->base_bytes, p->wall_bytes);
		return EINVAL;
	}
	if (p->data_room_size < RTE_PKTMBUF_HEADROOM ||
			RTE_ALIGN(p->priv_size, RTE_MBUF_PRIV_ALIGN) != p->priv_size ||
			p->cache_size > RTE_MEMPOOL_CACHE_MAX_SIZE) {
		POOL_LOG(ERR, "%s: bad mbuf sizes (data room %u, private %u) or cache %u",
			p->name, p->data_room_size, p->priv_size, p->cache_size);
		return EINVAL;
	}
	if (p->tick_us == 0) {
		POOL_LOG(ERR, "%s: tick must be > 0 us", p->name);
		return EINVAL;
	}
	/* As tide_pool_reap_set() refuses it. */
	if (p->idle_ms == 0) {
		POOL_LOG(ERR, "%s: an idle threshold of 0 ms releases blocks still in use",
			p->name);
		return EINVAL;
	}
	if (rte_mempool_lookup(p->name) != NULL) {
		POOL_LOG(ERR, "%s: a mempool of that name exists", p->name);
		return EEXIST;
	}
	return 0;
}

/* The mempool: empty, with room for as many objects as the wall could hold. */
static struct rte_mempool *
pool_mempool_create(const struct tide_pool_params *p)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = p->data_room_size,
		.mbuf_priv_size = p->priv_size,
	};
	unsigned int elt = sizeof(struct rte_mbuf) + p->priv_size + p->data_room_size;
	uint64_t n = p->wall_bytes / elt + 1;
	struct rte_mempool *mp;

	n = RTE_MAX(n, (uint64_t)p->cache_size * 3 / 2 + 1);
	if (n > UINT32_MAX / 2) {
		rte_errno = EINVAL;
		return NULL;
	}
	mp = rte_mempool_create_empty(p->name, (unsigned int)n, elt, p->cache_size,
		sizeof(struct rte_pktmbuf_pool_private), p->socket_id, 0);
	if (mp == NULL)
		return NULL;
	if (rte_mempool_set_ops_byname(mp, TIDE_MEMPOOL_OPS_NAME, NULL) != 0) {
		rte_mempool_free(mp);
		rte_errno = ENOTSUP;
		return NULL;
	}
	rte_pktmbuf_pool_init(mp, &priv);
	return mp;
}

void
pool_setup_policy(struct tide_pool *tp)
{
	const struct tide_pool_params *p = &tp->params;

	tp->block_objs = tide_mempool_block_capacity(tp->mp, tp->block_bytes - POOL_MZ_SLACK);
	tp->tick_ns = (uint64_t)p->tick_us * 1000;
	tp->grow_pol.block_objs = tp->block_objs;
	tp->grow_pol.low_watermark = p->low_watermark != 0 ? p->low_watermark :
		tp->block_objs / 2;
	tp->grow_pol.tick_ns = tp->tick_ns;
	tp->grow_pol.predictive = (p->flags & TIDE_POOL_F_NO_PREDICT) == 0;
	tp->target_free = tp->grow_pol.low_watermark;
	tp->reap_ns = (uint64_t)p->reap_period_ms * 1000000ull;
	tp->idle_ns = (uint64_t)p->idle_ms * 1000000ull;
}

/* A mutex (or condition variable) in shared memory: other processes read what it guards. */
void
pool_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(m, &attr);
	pthread_mutexattr_destroy(&attr);
}

void
pool_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

static uint64_t pool_serials; /* pools this process made records for (pool_alloc()) */

/*
 * The pool's record, in DPDK memory (every process reads it, at the same address): the
 * primary's control thread and API calls change it, secondaries read its counters and
 * blocks for stats and telemetry.
 */
struct tide_pool *
pool_alloc(const struct tide_pool_params *p, size_t page_sz, struct pool_wall *wall)
{
	struct tide_pool *tp = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL :
		rte_zmalloc_socket("tide_pool", sizeof(*tp), RTE_CACHE_LINE_SIZE, p->socket_id);

	if (tp == NULL) {
		POOL_LOG(ERR, "%s: no memory for the pool's record", p->name);
		return NULL;
	}
	strlcpy(tp->name, p->name, sizeof(tp->name));
	tp->serial = __atomic_add_fetch(&pool_serials, 1, __ATOMIC_RELAXED);
	tp->params = *p;
	tp->params.name = tp->name;
	tp->page_sz = page_sz;
	tp->base_bytes = RTE_ALIGN_CEIL(p->base_bytes, page_sz);
	tp->block_bytes = RTE_ALIGN_CEIL(p->block_bytes, page_sz);
	tp->wall_own.limit = p->wall_bytes;
	tp->wall_born = p->wall_bytes;
	tp->wall = wall != NULL ? wall : &tp->wall_own;
	pool_mutex_init(&tp->grow_lock);
	rte_seqlock_init(&tp->blocks_sl);
	pool_waiters_init(tp);
	return tp;
}

/*
 * The block tables, for as many blocks as the wall allows (allocated once: secondaries
 * read them while the primary changes them).
 */
int
pool_blocks_init(struct tide_pool *tp)
{
	uint64_t above = tp->wall->limit > tp->base_bytes ? tp->wall->limit - tp->base_bytes : 0;
	uint32_t cap = (uint32_t)RTE_MIN(above / tp->block_bytes + 3, (uint64_t)UINT32_MAX / 64);
	int socket = tp->params.socket_id;

	if (TIDE_FAULT(TIDE_FAULT_MALLOC)) {
		POOL_LOG(ERR, "%s: no memory for the tables of %u blocks", tp->name, cap);
		return -ENOMEM;
	}
	tp->blocks = rte_zmalloc_socket("tide_pool_blk", cap * sizeof(*tp->blocks), 0, socket);
	tp->reap_view = rte_zmalloc_socket("tide_pool_view", cap * sizeof(*tp->reap_view), 0,
		socket);
	tp->block_info = rte_zmalloc_socket("tide_pool_info", cap * sizeof(*tp->block_info),
		0, socket);
	if (tp->blocks == NULL || tp->reap_view == NULL || tp->block_info == NULL) {
		POOL_LOG(ERR, "%s: no memory for the tables of %u blocks", tp->name, cap);
		return -ENOMEM;
	}
	tp->cap_blocks = cap;
	/* From now on the pool's blocks are the library's alone. */
	return tide_mempool_pvt_owned_set(tp->mp, true);
}

void
pool_dealloc(struct tide_pool *tp)
{
	pthread_mutex_destroy(&tp->grow_lock);
	pthread_mutex_destroy(&tp->wait_lock);
	pthread_cond_destroy(&tp->blocked_gone);
	rte_free(tp->blocks);
	rte_free(tp->reap_view);
	rte_free(tp->block_info);
	rte_free(tp);
}

/*
 * A low watermark the pool can keep free with a block to spare under its wall: above that
 * the pool would grow to its wall at once and never give a block back (the reaper keeps
 * a block only while the rest leave the watermark free). Once the blocks' capacity is
 * known (pool_setup_policy()).
 */
static int
pool_watermark_check(const struct tide_pool *tp)
{
	uint64_t blocks = (tp->params.wall_bytes - tp->base_bytes) / tp->block_bytes;
	uint64_t most = tide_mempool_block_capacity(tp->mp, tp->base_bytes - POOL_MZ_SLACK) +
		(uint64_t)tp->block_objs * blocks;

	if (tp->block_objs == 0) {
		/* It would be made, and every growth would fail. */
		POOL_LOG(ERR, "%s: a block of %zu bytes holds no mbuf of %u bytes once laid out "
			"on its pages", tp->name, tp->block_bytes, tp->mp->elt_size);
		return ENOBUFS;
	}
	if (tp->params.low_watermark == 0 ||
			(uint64_t)tp->params.low_watermark + tp->block_objs <= most)
		return 0;
	POOL_LOG(ERR, "%s: a low watermark of %u free objects leaves no block to reap under the "
		"wall: the wall holds about %" PRIu64 " objects, a block %u", tp->name,
		tp->params.low_watermark, most, tp->block_objs);
	return EINVAL;
}

struct rte_mempool *
tide_pool_create(const struct tide_pool_params *p)
{
	return pool_create(p, NULL, false);
}

struct rte_mempool *
pool_create(const struct tide_pool_params *p, struct pool_wall *wall, bool base_held)
{
	struct tide_pool *tp;
	size_t page_sz;
	int err;

	err = pool_params_check(p);
	if (err != 0)
		goto fail_params;
	page_sz = pool_page_size(p->socket_id);
	if (page_sz == 0) {
		POOL_LOG(ERR, "%s: socket %d has no hugepages", p->name, p->socket_id);
		err = EINVAL;
		goto fail_params;
	}
	tp = pool_alloc(p, page_sz, wall);
	if (tp == NULL) {
		err = ENOMEM;
		goto fail_params;
	}
	tp->base_held = base_held;
	if (tp->base_bytes > p->wall_bytes) {
		POOL_LOG(ERR, "%s: base rounded up to %zu bytes of hugepages exceeds the wall",
			p->name, tp->base_bytes);
		err = EINVAL;
		goto fail_mempool;
	}
	/* Such a pool could never grow: its every block would pass the wall. */
	if (tp->block_bytes > p->wall_bytes) {
		POOL_LOG(ERR, "%s: block rounded up to %zu bytes of hugepages exceeds the wall",
			p->name, tp->block_bytes);
		err = EINVAL;
		goto fail_mempool;
	}
	tp->mp = pool_mempool_create(p);
	if (tp->mp == NULL) {
		err = rte_errno;
		POOL_LOG(ERR, "%s: cannot create the mempool: %s", p->name, rte_strerror(err));
		goto fail_mempool;
	}
	pool_setup_policy(tp);
	err = pool_watermark_check(tp);
	if (err != 0)
		goto fail_base;
	err = -pool_blocks_init(tp);
	if (err != 0)
		goto fail_base;

	pthread_mutex_lock(&tp->grow_lock);
	err = pool_grow_locked(tp, 1, POOL_GROW_BASE);
	pthread_mutex_unlock(&tp->grow_lock);
	if (err < 0) {
		err = -err;
		POOL_LOG(ERR, "%s: cannot reserve the base block of %zu bytes: %s", p->name,
			tp->base_bytes, rte_strerror(err));
		goto fail_base;
	}
	pool_most_set(tp, 0);
	err = pool_register(tp);
	if (err != 0)
		goto fail_base;
	POOL_LOG(INFO, "%s: created, base %zu bytes, blocks of %zu bytes (%u objects), wall %zu",
		tp->name, tp->base_bytes, tp->block_bytes, tp->block_objs, p->wall_bytes);
	return tp->mp;

fail_base:
	rte_mempool_free(tp->mp);
	pool_wall_give(tp->wall, tp->bytes);
fail_mempool:
	pool_dealloc(tp);
fail_params:
	rte_errno = err;
	return NULL;
}

void
pool_most_set(struct tide_pool *tp, uint64_t others)
{
	const struct rte_mempool *mp = tp->mp;
	struct tide_mempool_block_info bi;
	uint64_t wall = tp->wall_born > others ? tp->wall_born - others : 0;
	uint64_t above = wall > tp->base_bytes ? wall - tp->base_bytes : 0;
	uint64_t most = above / tp->block_bytes * tp->block_objs;

	tp->wall_floor = tp->base_bytes + others;
	/* The base as populated: whatever its pages' layout lost. */
	if (tide_mempool_block_info(tp->mp, 0, &bi) == 0)
		most += bi.nb_objs;
	tp->most_objs = RTE_MIN(most, (uint64_t)mp->size);
}

/* Watch mempools being freed, once: 0, or a positive errno. Caller holds the registry. */
static int
pool_events_watch_locked(void)
{
	if (pool_event_registered)
		return 0;
	if (pool_compat_watch_destroy() != 0)
		return rte_errno;
	pool_event_registered = true;
	/* Without it the pools work; only an exit that did not free them is lost. */
	pool_compat_watch_eal_cleanup();
	return 0;
}

void
pool_events_watch(void)
{
	pool_registry_lock();
	pool_events_watch_locked();
	pool_registry_unlock();
}

/*
 * Let the pool's growth start (sync growth, the control thread) and make it visible to the
 * registry. Returns 0, or a positive errno with nothing registered.
 */
int
pool_register(struct tide_pool *tp)
{
	bool listed = false;
	int err = 0;

	if ((tp->params.flags & TIDE_POOL_F_NO_SYNC_GROW) == 0)
		tide_mempool_pvt_grow_cb_set(tp->mp, pool_grow_sync_cb, tp);
	pool_registry_lock();
	err = pool_events_watch_locked();
	if (err == 0)
		err = -pool_dir_add_pool(tp);
	if (err == 0) {
		TAILQ_INSERT_TAIL(&pool_list, tp, next);
		tp->listed = true;
		err = pool_ctl_start();
		if (err != 0) {
			TAILQ_REMOVE(&pool_list, tp, next);
			tp->listed = false;
			pool_dir_remove_pool(tp);
			listed = true;
		}
	}
	pool_registry_unlock();
	/* A reader (telemetry) may have pinned it while it was listed: the caller frees it
	 * next, as pool_forget() would, only once they are done.
	 */
	if (listed)
		pool_dir_pins_wait(tp);
	if (err != 0) {
		POOL_LOG(ERR, "%s: cannot register the pool (directory full?), start the "
			"control thread or watch the mempool: %s", tp->name, rte_strerror(err));
		tide_mempool_pvt_grow_cb_set(tp->mp, NULL, NULL);
	}
	return err;
}

/* Take the pool behind mp out of the registry once the control thread no longer works on
 * it, stopping the control thread if it was the last one; NULL if mp is not an elastic pool
 * (or not the one of @p serial, when not 0).
 */
static struct tide_pool *
pool_unregister(const struct rte_mempool *mp, uint64_t serial)
{
	struct tide_pool *tp;
	bool last;

	pool_registry_lock();
	tp = pool_lookup_locked(mp);
	if (tp != NULL && serial != 0 && tp->serial != serial)
		tp = NULL; /* another pool made since at the same address */
	if (tp != NULL) {
		TAILQ_REMOVE(&pool_list, tp, next);
		tp->listed = false;
		pool_dir_remove_pool(tp);
#ifdef TIDE_FAULT_INJECTION
		if (tp->holds != 0) {
			/* tests: the free waits for a holder (no lookup finds the pool now) */
			pool_registry_unlock();
			TIDE_FAULT_HOLD(TIDE_HOLD_POOL_FREE_HELD);
			pool_registry_lock();
		}
#endif
		while (tp->holds != 0)
			pthread_cond_wait(&pool_hold_cond, &pool_list_lock);
	}
	last = TAILQ_EMPTY(&pool_list);
	pool_registry_unlock();
	if (tp != NULL && last)
		pool_ctl_stop();
	return tp;
}

/*
 * The mempool behind an elastic pool is being freed: stop growing it, end its waiters and
 * drop the library's side. The control thread no longer sees it once it left the registry.
 */
bool
pool_forget(struct rte_mempool *mp, uint64_t serial)
{
	struct tide_pool *tp = pool_unregister(mp, serial);

	if (tp == NULL)
		return false;
	pool_dir_pins_wait(tp);
	pool_waiters_close(tp);
	tide_mempool_pvt_grow_cb_set(mp, NULL, NULL);
	tide_mempool_pvt_owned_set(mp, false);
	pool_cache_drain_end(tp);
	pool_wall_give(tp->wall, tp->bytes);
	if (tp->src_counted)
		pool_mp_source_put(); /* secondaries may attach again once no pool has one */
	pool_mem_back();
	POOL_LOG(INFO, "%s: freed after %" PRIu64 " grows and %" PRIu64 " reaps", tp->name,
		tp->grows_ahead + tp->grows_sync, tp->reaps);
	pool_dealloc(tp);
	return true;
}

bool
pool_secondary_refuses_free(const char *what, const char *name)
{
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		return false;
	/*
	 * The secondary's own registry never holds the primary's pools: freeing would skip
	 * the library's side and hand the primary's live mempool to rte_mempool_free().
	 */
	POOL_REFUSE(ERR, ENOTSUP, "%s %s: only the primary process frees it; left alone", what,
		name);
	return true;
}

void
pool_member_set(struct rte_mempool *mp, uint8_t member)
{
	struct tide_pool *tp = pool_get(mp);

	if (tp != NULL)
		tp->member = member;
}

void
pool_free(struct rte_mempool *mp, bool owner)
{
	static const char *const owners[] = {
		[POOL_MEMBER_SET] = "a pool set (tide_pool_set_free())",
		[POOL_MEMBER_SOCKET] = "per-socket pools (tide_pool_per_socket_free())",
	};
	char name[RTE_MEMPOOL_NAMESIZE];
	struct tide_pool *tp;
	uint32_t *pin = NULL;
	uint64_t serial;
	uint8_t member;

	if (mp == NULL)
		return;
	/* Not read before it is known to be a pool: it may point anywhere. Pinned while read:
	 * another call may free it meanwhile.
	 */
	tp = pool_dir_pin(mp, NULL, &pin);
	if (tp == NULL) {
		POOL_REFUSE(ERR, EINVAL, "%p is not an elastic pool: left alone", (void *)mp);
		return;
	}
	member = tp->member;
	serial = tp->serial;
	strlcpy(name, tp->name, sizeof(name));
	pool_dir_unpin(pin);
	if (!owner && member != POOL_MEMBER_NONE && member < RTE_DIM(owners)) {
		POOL_REFUSE(ERR, EBUSY, "%s is a part of %s: it is freed with them; left alone",
			name, owners[member]);
		return;
	}
	if (pool_secondary_refuses_free("pool", name))
		return;
	TIDE_FAULT_HOLD(TIDE_HOLD_POOL_FREE_CHECKED); /* tests: another free comes meanwhile */
	/* Of two calls at once, the one that took the library's side frees the mempool; a
	 * pool made since at the same address is not the one this call was given.
	 */
	if (!pool_forget(mp, serial)) {
		POOL_REFUSE(ERR, EINVAL, "%s (%p) was freed by another call meanwhile: left alone",
			name, (void *)mp);
		return;
	}
	rte_mempool_free(mp);
}

void
tide_pool_free(struct rte_mempool *mp)
{
	if (mp != NULL && !pool_free_refused_in_callback("a pool"))
		pool_free(mp, false);
}

bool
tide_pool_is_elastic(const struct rte_mempool *mp)
{
	return mp != NULL && pool_dir_find(mp, NULL) != NULL;
}

/*
 * The elastic pool behind mp, held, or NULL with rte_errno EINVAL (not an elastic pool) or
 * ENOTSUP (a secondary process: the primary "@p what"). The hold keeps the pool's free out
 * until pool_release(): the free never takes the grow lock, which pool_primary_lock() takes
 * too (pool_primary_unlock() undoes both).
 */
struct tide_pool *
pool_primary_hold(struct rte_mempool *mp, const char *what)
{
	struct tide_pool *tp;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		POOL_LOG(ERR, "the primary process %s", what);
		rte_errno = ENOTSUP;
		return NULL;
	}
	tp = pool_hold(mp);
	if (tp == NULL) {
		POOL_LOG(ERR, "not an elastic pool");
		rte_errno = EINVAL;
	}
	return tp;
}

struct tide_pool *
pool_primary_lock(struct rte_mempool *mp, const char *what)
{
	struct tide_pool *tp = pool_primary_hold(mp, what);

	if (tp != NULL)
		pthread_mutex_lock(&tp->grow_lock);
	return tp;
}

void
pool_primary_unlock(struct tide_pool *tp)
{
	pthread_mutex_unlock(&tp->grow_lock);
	pool_release(tp);
}

int
tide_pool_grow(struct rte_mempool *mp, unsigned int nb_blocks)
{
	struct tide_pool *tp = pool_primary_lock(mp, "grows and reaps pools");
	int ret;

	if (tp == NULL)
		return -rte_errno;
	ret = pool_grow_locked(tp, nb_blocks, POOL_GROW_USER);
	/* Its own line each time: the pool's lines on failed growth come once a second. */
	if (ret < 0)
		POOL_LOG(DEBUG, "%s: tide_pool_grow(%u): %s", tp->name, nb_blocks,
			rte_strerror(-ret));
	pool_primary_unlock(tp);
	return ret;
}

int
tide_pool_reap(struct rte_mempool *mp)
{
	struct tide_pool *tp = pool_primary_lock(mp, "grows and reaps pools");
	int ret;

	if (tp == NULL)
		return -rte_errno;
	ret = pool_reap_locked(tp, pool_now_ns());
	pool_primary_unlock(tp);
	if (ret > 0)
		pool_memsync(); /* as the control thread's reaping does */
	return ret;
}

/* Pinned: any thread of any process may read a pool that the primary frees meanwhile. */
int
tide_pool_stats_get(const struct rte_mempool *mp, struct tide_pool_stats *st)
{
	struct tide_pool *tp;
	uint32_t *pin = NULL;
	int ret;

	tp = mp == NULL || st == NULL ? NULL : pool_dir_pin(mp, NULL, &pin);
	if (tp == NULL) {
		if (st != NULL)
			memset(st, 0, sizeof(*st));
		/* @p mp is not read: it may point anywhere. */
		return POOL_REFUSE(ERR, EINVAL, "%p is not an elastic pool, or st is NULL",
			(const void *)mp);
	}
	TIDE_FAULT_HOLD(TIDE_HOLD_POOL_STATS_READ); /* tests: the pool's free comes meanwhile */
	ret = pool_stats_locked(tp, st);
	pool_dir_unpin(pin);
	return ret;
}
