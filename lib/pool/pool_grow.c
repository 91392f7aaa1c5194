/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Growth mechanism: reserve one memzone per block and hand it to the tide driver, which
 * populates it, initialises every mbuf (rte_pktmbuf_init) and only then lets allocations
 * take them. The memzone is freed by the driver's chunk free callback when the block is
 * removed or the mempool freed. Callers hold the pool's grow lock.
 */

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "pool_private.h"
#include "tide_fault.h"
#include "tide_mempool.h"

/* At most one "cannot grow" log line per pool per this many ns. */
#define POOL_FAIL_LOG_NS (1000ull * 1000 * 1000)
/* An allocation waiting for a growth under way counts the free mbufs at least every this
 * many looks (and whenever a block landed). */
#define POOL_GROW_WAIT_LOOKS 64

_Static_assert(TIDE_GROW_BACKOFF_MAX_NS == TIDE_POOL_GROW_BACKOFF_MAX_MS * 1000000ull,
	"the policy's back-off bound is the one tide_pool.h documents");

static uint32_t pool_mz_seq;
/* Moves whenever memory comes back in this process (a block given back, a pool freed):
 * ends the growth policies' back-off (pool_policy.h).
 */
static uint64_t pool_mem_generation;

void
pool_mem_back(void)
{
	__atomic_fetch_add(&pool_mem_generation, 1, __ATOMIC_RELAXED);
}

uint64_t
pool_mem_gen(void)
{
	return __atomic_load_n(&pool_mem_generation, __ATOMIC_RELAXED);
}

static void
pool_mz_free(struct rte_mempool_memhdr *memhdr __rte_unused, void *opaque)
{
	rte_memzone_free(opaque);
}

static unsigned int
pool_mz_flags(size_t page_sz)
{
	switch (page_sz) {
	case RTE_PGSIZE_2M:
		return RTE_MEMZONE_2MB | RTE_MEMZONE_SIZE_HINT_ONLY;
	case RTE_PGSIZE_1G:
		return RTE_MEMZONE_1GB | RTE_MEMZONE_SIZE_HINT_ONLY;
	default:
		return 0;
	}
}

/* Take @bytes from the wall, or refuse when they do not fit under it. */
static bool
pool_wall_take(struct pool_wall *w, uint64_t bytes)
{
	uint64_t held = __atomic_load_n(&w->held, __ATOMIC_RELAXED);

	do {
		if (held + bytes > w->limit)
			return false;
	} while (!__atomic_compare_exchange_n(&w->held, &held, held + bytes, false,
			__ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	return true;
}

void
pool_wall_give(struct pool_wall *w, uint64_t bytes)
{
	__atomic_fetch_sub(&w->held, bytes, __ATOMIC_ACQ_REL);
}

/* Blocks the wall still allows this pool to add. */
uint32_t
pool_wall_room(const struct tide_pool *tp)
{
	uint64_t held = __atomic_load_n(&tp->wall->held, __ATOMIC_RELAXED);
	uint64_t room = tp->wall->limit > held ? (tp->wall->limit - held) / tp->block_bytes : 0;

	return (uint32_t)RTE_MIN(room, (uint64_t)UINT32_MAX);
}

/* Room in the block tables (sized for the wall at creation) for one more block. */
static int
pool_blocks_reserve(const struct tide_pool *tp)
{
	return tp->nb_blocks < tp->cap_blocks ? 0 : -ENOSPC;
}

static const struct rte_memzone *
pool_mz_reserve(const struct tide_pool *tp, size_t bytes)
{
	char name[RTE_MEMZONE_NAMESIZE];

	snprintf(name, sizeof(name), "tide_%u",
		__atomic_add_fetch(&pool_mz_seq, 1, __ATOMIC_RELAXED));
	if (TIDE_FAULT(TIDE_FAULT_MEMZONE)) {
		rte_errno = ENOMEM;
		return NULL;
	}
	/* Not on a page a secondary may still map as it was (pool_memsync.c). */
	if (pool_memsync() != 0) {
		rte_errno = EAGAIN;
		return NULL;
	}
	return rte_memzone_reserve_aligned(name, bytes - POOL_MZ_SLACK, tp->params.socket_id,
		pool_mz_flags(tp->page_sz), RTE_CACHE_LINE_SIZE);
}

/*
 * Record a block the driver holds at position tp->nb_blocks: its memory [addr, addr + len),
 * a memzone's (mz), or one from the block source (mz NULL).
 */
static void
pool_blk_record(struct tide_pool *tp, uint64_t id, const struct rte_memzone *mz, void *addr,
	size_t len, size_t bytes)
{
	uint64_t now = pool_now_ns();
	bool off_node;
	int node = pool_numa_check(tp, addr, len, &off_node);

	rte_seqlock_write_lock(&tp->blocks_sl);
	tp->blocks[tp->nb_blocks++] = (struct pool_blk){
		.id = id,
		.mz = mz,
		.bytes = bytes,
		.born_ns = now,
		.last_busy_ns = now,
		.last_alloc_ns = now,
		.prev_free = UINT32_MAX, /* the first sample sees whatever was taken */
		.node = node,
		.off_node = off_node,
		.ext = mz == NULL,
	};
	__atomic_store_n(&tp->bytes, tp->bytes + bytes, __ATOMIC_RELEASE);
	rte_seqlock_write_unlock(&tp->blocks_sl);
}

/* A block of @bytes from the pool's block source, populated and recorded. */
static int
pool_add_ext_block(struct tide_pool *tp, size_t bytes)
{
	struct tide_pool_ext_block eb = { 0 };
	int64_t id;
	int ret;

	ret = tp->src(tp->src_arg, bytes, &eb);
	if (ret < 0)
		return ret;
	if (eb.addr == NULL || eb.len < bytes - POOL_MZ_SLACK) {
		POOL_LOG(ERR, "%s: the block source gave %zu bytes at %p for %zu", tp->name,
			eb.len, eb.addr, bytes);
		ret = -EINVAL;
		goto give_back;
	}
	id = tide_mempool_pvt_block_add(tp->mp, eb.addr, eb.len, rte_pktmbuf_init, NULL,
		eb.free_cb, eb.opaque);
	if (id < 0) {
		ret = -rte_errno;
		goto give_back;
	}
	pool_blk_record(tp, (uint64_t)id, NULL, eb.addr, eb.len, bytes);
	__atomic_fetch_add(&tp->grows_ext, 1, __ATOMIC_RELAXED);
	POOL_LOG(DEBUG, "%s: a block of %zu bytes from the block source", tp->name, eb.len);
	return 0;
give_back:
	if (eb.free_cb != NULL)
		eb.free_cb(NULL, eb.opaque);
	return ret;
}

/*
 * Reserve, populate and record one block of @bytes hugepage bytes: a memzone, or when
 * DPDK's heap has no memory for it, a block from the pool's source (not inside an
 * allocation: the source may take its time).
 */
static int
pool_add_block(struct tide_pool *tp, size_t bytes, enum pool_grow_kind kind)
{
	const struct rte_memzone *mz;
	int64_t id;
	int ret;

	ret = pool_blocks_reserve(tp);
	if (ret < 0)
		return ret;
	mz = pool_mz_reserve(tp, bytes);
	if (mz == NULL) {
		/* Out of hugepages, or of memzones: either way no memory for the block; or a
		 * secondary may still map freed pages (EAGAIN).
		 */
		POOL_LOG(DEBUG, "%s: no memzone of %zu bytes: %s", tp->name, bytes,
			rte_strerror(rte_errno));
		if (tp->src != NULL && (kind == POOL_GROW_AHEAD || kind == POOL_GROW_USER))
			return pool_add_ext_block(tp, bytes);
		return rte_errno == EAGAIN ? -EAGAIN : -ENOMEM;
	}
	id = tide_mempool_pvt_block_add(tp->mp, mz->addr, mz->len, rte_pktmbuf_init, NULL,
		pool_mz_free, (void *)(uintptr_t)mz);
	if (id < 0) {
		ret = -rte_errno;
		rte_memzone_free(mz);
		return ret;
	}
	pool_blk_record(tp, (uint64_t)id, mz, mz->addr, mz->len, bytes);
	return 0;
}

/*
 * An adopted pool's base: the block the driver made of populate_default's first memzone.
 * Its memory belongs to the mempool (freed with it), and counts under the wall.
 */
int
pool_base_record(struct tide_pool *tp, const struct rte_memzone *mz, size_t bytes)
{
	struct tide_mempool_block_info bi;
	int ret;

	ret = pool_blocks_reserve(tp);
	if (ret == 0)
		ret = tide_mempool_block_info(tp->mp, 0, &bi);
	if (ret < 0)
		return ret;
	__atomic_fetch_add(&tp->wall->held, bytes, __ATOMIC_ACQ_REL);
	pool_blk_record(tp, bi.id, mz, mz->addr, mz->len, bytes);
	return 0;
}

/*
 * Bytes of the next block: a whole block, or fewer pages when the mempool has room for
 * fewer objects than a block holds (its size, the wall an adopted pool got from the
 * application, is near); 0 when it has no room at all.
 */
static size_t
pool_next_block_bytes(const struct tide_pool *tp)
{
	const struct rte_mempool *mp = tp->mp;
	unsigned int room = mp->size > mp->populated_size ? mp->size - mp->populated_size : 0;
	size_t pages, max = tp->block_bytes / tp->page_sz, elt;

	if (room == 0)
		return 0;
	if (tide_mempool_block_capacity(mp, tp->block_bytes - POOL_MZ_SLACK) <= room)
		return tp->block_bytes;
	elt = mp->header_size + mp->elt_size + mp->trailer_size + sizeof(void *);
	pages = RTE_MAX((room * elt + POOL_MZ_SLACK) / tp->page_sz, (size_t)1);
	while (pages < max &&
			tide_mempool_block_capacity(mp, pages * tp->page_sz - POOL_MZ_SLACK) < room)
		pages++;
	return pages * tp->page_sz;
}

/*
 * Whether a line of @p l is due @p now (one at most every POOL_FAIL_LOG_NS), and then in
 * *@p since how much its counter, at @p count now, moved since the last line.
 */
static bool
pool_log_due(struct pool_log_limit *l, uint64_t now, uint64_t count, uint64_t *since)
{
	if (l->at_ns != 0 && now - l->at_ns < POOL_FAIL_LOG_NS)
		return false;
	*since = count - l->logged;
	l->at_ns = now;
	l->logged = count;
	return true;
}

/*
 * A growth failed for want of memory: count it, say so (once a second), and when it was
 * the control thread's, back off. Only the control thread's own attempts move its
 * back-off: allocations that keep failing (and growing inside themselves, which a block
 * source never serves) must not push its next attempt further away for ever.
 */
static void
pool_grow_failed(struct tide_pool *tp, int err, enum pool_grow_kind kind)
{
	uint64_t now = pool_now_ns();
	uint64_t fails = __atomic_add_fetch(&tp->grow_fails, 1, __ATOMIC_RELAXED);
	uint64_t wait = kind == POOL_GROW_AHEAD ?
		tide_grow_failed(&tp->grow_pol, &tp->grow_st, now, pool_mem_gen()) :
		tide_grow_backoff_left(&tp->grow_st, now);
	uint64_t since;

	if (!pool_log_due(&tp->fail_log, now, fails, &since))
		return;
	POOL_LOG(ERR, "%s: cannot add a block of %zu bytes (holding %" PRIu64 "): %s; "
		"serving from what it holds; %" PRIu64 " failed attempt(s) since the last line, "
		"next in %" PRIu64 " ms", tp->name, tp->block_bytes, tp->bytes,
		rte_strerror(-err), since, wait / 1000000);
}

/* A growth refused at the wall: count it, and say so once a second. */
static void
pool_wall_hit(struct tide_pool *tp)
{
	uint64_t now = pool_now_ns();
	uint64_t hits = __atomic_add_fetch(&tp->wall_hits, 1, __ATOMIC_RELAXED), since;

	if (!pool_log_due(&tp->wall_log, now, hits, &since))
		return;
	POOL_LOG(WARNING, "%s: at its wall (%" PRIu64 " bytes, %" PRIu64 " held under it): "
		"serving from what it holds; %" PRIu64 " growth(s) refused since the last line",
		tp->name, __atomic_load_n(&tp->wall->limit, __ATOMIC_RELAXED),
		__atomic_load_n(&tp->wall->held, __ATOMIC_RELAXED), since);
}

/* A block was added: any back-off is over. */
static void
pool_grow_succeeded(struct tide_pool *tp)
{
	uint32_t fails = tide_grow_succeeded(&tp->grow_st);

	if (fails > 0)
		POOL_LOG(NOTICE, "%s: growing again after %u failed attempt(s)", tp->name,
			fails);
}

static uint64_t *
pool_grow_counter(struct tide_pool *tp, enum pool_grow_kind kind)
{
	switch (kind) {
	case POOL_GROW_SYNC:
		return &tp->grows_sync;
	case POOL_GROW_REMOTE:
		return &tp->grows_remote;
	case POOL_GROW_AHEAD:
	case POOL_GROW_USER:
		return &tp->grows_ahead;
	default:
		return NULL;
	}
}

int
pool_grow_locked(struct tide_pool *tp, unsigned int nb_blocks, enum pool_grow_kind kind)
{
	uint64_t *counter = pool_grow_counter(tp, kind);
	unsigned int i;
	size_t bytes;
	int ret = 0;

	__atomic_store_n(&tp->growing, 1, __ATOMIC_RELEASE);
	for (i = 0; i < nb_blocks; i++) {
		bool held = kind == POOL_GROW_BASE && tp->base_held;

		bytes = kind == POOL_GROW_BASE ? tp->base_bytes : pool_next_block_bytes(tp);
		if (bytes == 0 || (!held && !pool_wall_take(tp->wall, bytes))) {
			pool_wall_hit(tp);
			ret = -ENOSPC;
			break;
		}
		ret = pool_add_block(tp, bytes, kind);
		if (ret < 0) {
			if (!held) /* else the wall's owner keeps holding them */
				pool_wall_give(tp->wall, bytes);
			if (kind != POOL_GROW_BASE)
				pool_grow_failed(tp, ret, kind);
			break;
		}
		tp->base_held = false; /* its bytes are the pool's now (tp->bytes) */
		if (counter != NULL)
			__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
		/* At each block, before the next attempt: a later failure backs off again. */
		if (kind != POOL_GROW_BASE)
			pool_grow_succeeded(tp);
		if (i + 1 < nb_blocks)
			TIDE_FAULT_HOLD(TIDE_HOLD_POOL_GROWN);
	}
	__atomic_store_n(&tp->growing, 0, __ATOMIC_RELEASE);
	if (i > 0)
		return (int)i;
	return ret < 0 ? pool_error(-ret) : 0;
}

/* Whether the driver's free lists hold @p n objects now (counted into *@p st). */
static bool
pool_free_covers(struct tide_pool *tp, unsigned int n, struct tide_mempool_stats *st)
{
	return tide_mempool_stats_get(tp->mp, st) == 0 && st->nb_free >= n;
}

/* What pool_grow_demand() answers when the free lists cover the demand: their count. */
static int
pool_free_answer(const struct tide_mempool_stats *st)
{
	return (int)RTE_MIN(st->nb_free, (uint64_t)INT32_MAX);
}

/*
 * Grow for a demand of n objects now (a failing allocation here, or a secondary's): unless
 * someone grew meanwhile, add the blocks n needs. Returns the objects added (or found
 * free), 0 if none could be.
 */
int
pool_grow_demand(struct tide_pool *tp, unsigned int n, enum pool_grow_kind kind)
{
	struct tide_mempool_stats st;
	uint32_t blocks_seen = 0;
	unsigned int blocks;
	bool counted = false;
	int ret;

	/*
	 * Other holders of the lock (the control thread's decision, the reaper, a change of
	 * limits) are waited for, but not a growth under way for longer than it takes to
	 * serve n: the control thread may be adding many blocks, each taking milliseconds,
	 * and an RX lcore waiting for all of them overflows its ring. With a block source, a
	 * growth under way may be waiting for one: do not wait for it at all.
	 */
	for (unsigned int looks = 0; pthread_mutex_trylock(&tp->grow_lock) != 0; looks++) {
		uint32_t blocks_now = __atomic_load_n(&tp->nb_blocks, __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&tp->growing, __ATOMIC_ACQUIRE) != 0) {
			if (tp->src != NULL)
				return 0;
			if (!counted) {
				__atomic_fetch_add(&tp->grow_waits, 1, __ATOMIC_RELAXED);
				counted = true;
			}
			/* Counting takes the driver's lock, which the growth needs too: count
			 * when a block landed, else now and then (mbufs freed meanwhile).
			 */
			if ((blocks_now != blocks_seen || looks % POOL_GROW_WAIT_LOOKS == 0) &&
					pool_free_covers(tp, n, &st))
				return pool_free_answer(&st);
		}
		blocks_seen = blocks_now;
		sched_yield();
	}
	if (pool_free_covers(tp, n, &st)) {
		/* Someone grew while we waited for the lock. */
		pthread_mutex_unlock(&tp->grow_lock);
		return pool_free_answer(&st);
	}
	blocks = tp->block_objs ? (n - st.nb_free + tp->block_objs - 1) / tp->block_objs : 1;
	ret = pool_grow_locked(tp, RTE_MAX(blocks, 1u), kind);
	pthread_mutex_unlock(&tp->grow_lock);
	return ret > 0 ? ret * (int)RTE_MAX(tp->block_objs, 1u) : 0;
}

/* Driver callback: a dequeue of n objects found the free lists short. */
int
pool_grow_sync_cb(struct rte_mempool *mp __rte_unused, unsigned int n, void *arg)
{
	return pool_grow_demand(arg, n, POOL_GROW_SYNC);
}
