/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The tide mempool driver under EAL: stock creation, block add/remove, oldest-first
 * dequeue, bad pointers, MP/MC stress with blocks coming and going, and the plugin in
 * stock dpdk-testpmd.
 */

#define _GNU_SOURCE /* pthread_setaffinity_np */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_malloc.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "test_common.h"
#include "test_mempool_util.h"
#include "tide_fault.h"
#include "tide_mempool.h"

#define OBJ_SIZE 128
#define MAX_OBJS (1u << 20)
#define BLOCK_LEN (2u << 20)

/* Every test object starts with who holds it (0: the pool). */
struct tobj {
	uint64_t owner;
};

static void
obj_clear(struct rte_mempool *mp __rte_unused, void *arg __rte_unused, void *obj,
	unsigned int i __rte_unused)
{
	memset(obj, 0, OBJ_SIZE);
}

static struct rte_mempool *
empty_tide_pool(const char *name, unsigned int cache)
{
	return raw_tide_pool(name, MAX_OBJS, OBJ_SIZE, cache);
}

/* Reserve a memzone and add it as a block; returns the block id or a negative errno. */
static int64_t
add_block(struct rte_mempool *mp, size_t len)
{
	return raw_add_mz_block(mp, len, obj_clear);
}

static void
count_obj(struct rte_mempool *mp __rte_unused, void *arg, void *obj __rte_unused,
	unsigned int i __rte_unused)
{
	(*(unsigned int *)arg)++;
}

static unsigned int
obj_iter_count(struct rte_mempool *mp)
{
	unsigned int n = 0;

	rte_mempool_obj_iter(mp, count_obj, &n);
	return n;
}

static void
count_chunk(struct rte_mempool *mp __rte_unused, void *arg,
	struct rte_mempool_memhdr *mh __rte_unused, unsigned int i __rte_unused)
{
	(*(unsigned int *)arg)++;
}

static unsigned int
mem_iter_count(struct rte_mempool *mp)
{
	unsigned int n = 0;

	rte_mempool_mem_iter(mp, count_chunk, &n);
	return n;
}

/*
 * The stock queries agree with @p out objects allocated: in use counts exactly them,
 * avail counts the rest of the pool's size (free or not yet populated), full only at 0.
 */
static void
assert_stock_counts(const struct rte_mempool *mp, unsigned int out)
{
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), out);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), mp->size - out);
	CU_ASSERT_EQUAL(rte_mempool_full(mp), out == 0);
}

static struct tide_mempool_stats
stats(const struct rte_mempool *mp)
{
	struct tide_mempool_stats st;

	CU_ASSERT_EQUAL(tide_mempool_stats_get(mp, &st), 0);
	return st;
}

static bool
in_block(const struct rte_mempool *mp, unsigned int idx, const void *obj)
{
	struct tide_mempool_block_info bi;

	if (tide_mempool_block_info(mp, idx, &bi) != 0)
		return false;
	return (uintptr_t)obj - (uintptr_t)bi.addr < bi.len;
}

/*
 * The tide ops join the table during rte_eal_init(), after every driver EAL loaded (this
 * test links them, which used to put them first): processes that do not load tidepool see
 * the stock drivers at the same indexes, and -d order does not matter.
 */
static void
test_tide_ops_come_after_every_stock_driver(void)
{
	int tide = -1, last_stock = -1;

	for (uint32_t i = 0; i < rte_mempool_ops_table.num_ops; i++) {
		if (strcmp(rte_mempool_ops_table.ops[i].name, TIDE_MEMPOOL_OPS_NAME) == 0)
			tide = (int)i;
		else
			last_stock = (int)i;
	}
	CU_ASSERT(tide >= 0);
	CU_ASSERT(last_stock >= 0); /* ring_mp_mc at least (EAL's plugin directory) */
	CU_ASSERT(tide > last_stock);
}

/* A stock pktmbuf pool whose profile says "fixed" is populated whole, as stock DPDK does:
 * the driver alone, no elastic pool library in the way.
 */
static void
test_stock_pktmbuf_pool_uses_tide(void)
{
	struct rte_mempool *mp;
	struct rte_mbuf **m;
	unsigned int i, n = 4096;
	struct tide_mempool_stats st;

	tide_test_use_profiles("tmt_stock fixed\n");
	mp = rte_pktmbuf_pool_create_by_ops("tmt_stock", n, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY, TIDE_MEMPOOL_OPS_NAME);
	tide_test_use_profiles(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_TRUE(tide_mempool_is_tide(mp));
	st = stats(mp);
	CU_ASSERT_EQUAL(st.nb_objs, n);
	CU_ASSERT_EQUAL(st.nb_free, n);
	CU_ASSERT(st.nb_blocks >= 1);
	assert_stock_counts(mp, 0);

	m = calloc(n, sizeof(*m));
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n), 0);
	CU_ASSERT_PTR_NULL(rte_pktmbuf_alloc(mp));
	for (i = 0; i < n; i++) {
		CU_ASSERT_PTR_EQUAL(m[i]->pool, mp);
		CU_ASSERT_EQUAL(m[i]->buf_iova, rte_mempool_virt2iova(m[i]) + sizeof(**m));
		CU_ASSERT_EQUAL(m[i]->data_off, RTE_PKTMBUF_HEADROOM);
	}
	CU_ASSERT_EQUAL(stats(mp).nb_free, 0);
	assert_stock_counts(mp, n);
	CU_ASSERT_TRUE(rte_mempool_empty(mp));
	rte_pktmbuf_free_bulk(m, n);
	assert_stock_counts(mp, 0);
	CU_ASSERT_EQUAL(obj_iter_count(mp), n);
	rte_mempool_audit(mp);
	free(m);
	rte_mempool_free(mp);
}

/* Block ADD events heard: how many, and the objects each block had then. */
struct zone_events {
	unsigned int adds;
	uint32_t objs[8];
};

static int
zone_event(struct rte_mempool *mp __rte_unused, enum tide_mempool_block_event event,
	const struct tide_mempool_block_desc *blk, void *arg)
{
	struct zone_events *ev = arg;

	if (event == TIDE_MEMPOOL_BLOCK_ADD && ev->adds < RTE_DIM(ev->objs))
		ev->objs[ev->adds++] = blk->nb_objs;
	return 0;
}

/* Populate [va, va + len) as one chunk, as populate_virt does per run of pages. */
static int
populate_chunk(struct rte_mempool *mp, const struct rte_memzone *mz, size_t off, size_t len,
	bool first)
{
	char *va = RTE_PTR_ADD(mz->addr, off);

	return rte_mempool_populate_iova(mp, va, rte_mem_virt2iova(va), len,
		first ? raw_mz_free : NULL, first ? (void *)(uintptr_t)mz : NULL);
}

/*
 * populate_default hands each memzone over in chunks (in IOVA-as-PA mode, one per run of
 * physically contiguous pages). The chunks of one of its memzones, named after the pool,
 * make one block: from the first chunk that holds that block's header (the smaller one
 * before it is a block of its own) to the memzone's end, announced once, whole. Chunks of
 * other memory stay blocks of their own. Every object is in a block and can be taken, and
 * freeing the pool frees both memzones (the chunk that carries the free callback was kept).
 */
static void
test_chunks_of_a_pool_memzone_make_one_block(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_zone", 0);
	const struct rte_memzone *mz, *other;
	struct zone_events ev = { 0 };
	struct tide_mempool_block_info bi;
	char name[RTE_MEMZONE_NAMESIZE];
	const size_t small = 4096, q = BLOCK_LEN / 4;
	unsigned int n = 0, objs, i;
	void **all;
	int r;

	snprintf(name, sizeof(name), RTE_MEMPOOL_MZ_FORMAT "_0", mp->name);
	/* One hugepage each: populate_chunk() gives a chunk its first byte's IO address. */
	RTE_BUILD_BUG_ON(BLOCK_LEN > RTE_PGSIZE_2M);
	mz = rte_memzone_reserve_aligned(name, BLOCK_LEN, SOCKET_ID_ANY, 0, RTE_PGSIZE_2M);
	other = rte_memzone_reserve_aligned("tmt_zone_other", BLOCK_LEN, SOCKET_ID_ANY, 0,
		RTE_PGSIZE_2M);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	/* Too small for the header of a block of the whole memzone: a block of its own. */
	CU_ASSERT_FATAL(tide_mempool_block_capacity(mp, BLOCK_LEN) * sizeof(void *) > small);
	r = populate_chunk(mp, mz, 0, small, true);
	CU_ASSERT(r > 0);
	n += r > 0 ? (unsigned int)r : 0;
	/* Registered once the pool has its driver data: its first block is replayed. */
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(mp, zone_event, &ev), 0);
	CU_ASSERT_EQUAL(ev.adds, 1);
	r = populate_chunk(mp, mz, small, q - small, false);
	CU_ASSERT(r > 0);
	n += r > 0 ? (unsigned int)r : 0;
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 2);
	CU_ASSERT_EQUAL(ev.adds, 1); /* the memzone's block: not yet, it is not whole */
	for (i = 1; i < 4; i++) {
		r = populate_chunk(mp, mz, i * q, q, false);
		CU_ASSERT(r > 0);
		n += r > 0 ? (unsigned int)r : 0;
	}
	CU_ASSERT_EQUAL(mp->nb_mem_chunks, 5);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 2);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, 1, &bi), 0);
	CU_ASSERT_PTR_EQUAL(bi.addr, RTE_PTR_ADD(mz->addr, small));
	CU_ASSERT_EQUAL(bi.len, BLOCK_LEN - small);
	CU_ASSERT_EQUAL_FATAL(ev.adds, 2);
	CU_ASSERT_EQUAL(ev.objs[1], bi.nb_objs); /* announced whole */
	objs = bi.nb_objs;
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, 0, &bi), 0);
	CU_ASSERT_PTR_EQUAL(bi.addr, mz->addr);
	CU_ASSERT_EQUAL(bi.len, small);
	CU_ASSERT_EQUAL(bi.nb_objs + objs, n);

	/* Another memzone's chunks: a block each. */
	r = populate_chunk(mp, other, 0, q, true);
	CU_ASSERT(r > 0);
	n += r > 0 ? (unsigned int)r : 0;
	r = populate_chunk(mp, other, q, q, false);
	CU_ASSERT(r > 0);
	n += r > 0 ? (unsigned int)r : 0;
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 4);
	CU_ASSERT_EQUAL(ev.adds, 4);
	CU_ASSERT_EQUAL(mp->populated_size, n);
	CU_ASSERT_EQUAL(obj_iter_count(mp), n);

	all = calloc(n, sizeof(*all));
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, all, n), 0);
	for (i = 0; i < n; i++)
		CU_ASSERT_TRUE(tide_mempool_owns(mp, all[i]));
	CU_ASSERT_EQUAL(stats(mp).nb_free, 0);
	rte_mempool_put_bulk(mp, all, n);
	free(all);
	assert_stock_counts(mp, 0);
	rte_mempool_audit(mp);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(mp, zone_event, &ev), 0);
	rte_mempool_free(mp);
	CU_ASSERT_PTR_NULL(rte_memzone_lookup(name));
	CU_ASSERT_PTR_NULL(rte_memzone_lookup("tmt_zone_other"));
}

/* The mempool's object list and counts hold exactly the objects of the blocks left. */
static void
assert_lists_match_blocks(struct rte_mempool *mp)
{
	struct tide_mempool_block_info bi;
	unsigned int objs = 0;

	for (unsigned int i = 0; tide_mempool_block_info(mp, i, &bi) == 0; i++)
		objs += bi.nb_objs;
	CU_ASSERT_EQUAL(obj_iter_count(mp), objs);
	CU_ASSERT_EQUAL(mp->populated_size, objs);
	CU_ASSERT_EQUAL(mem_iter_count(mp), mp->nb_mem_chunks);
	rte_mempool_audit(mp);
}

/*
 * Blocks removed in any order (in the middle, the first, the last, one added after a
 * removal) leave the object list whole: a removal takes its block's run out of the list
 * without walking it, and the next addition appends where the list now ends.
 */
static void
test_blocks_removed_in_any_order_leave_the_object_list_whole(void)
{
	static const unsigned int order[] = { 3, 6, 1, 4, 7, 8, 2, 5 };
	struct rte_mempool *mp = empty_tide_pool("tmt_rmorder", 0);
	int64_t id[9] = { 0 };
	unsigned int k;

	for (k = 1; k <= 6; k++)
		id[k] = add_block(mp, BLOCK_LEN);
	CU_ASSERT_FATAL(id[1] > 0 && id[6] > id[5]);
	assert_lists_match_blocks(mp);
	for (k = 0; k < RTE_DIM(order); k++) {
		if (order[k] == 7) { /* two more, after the list's last block went */
			id[7] = add_block(mp, BLOCK_LEN);
			id[8] = add_block(mp, BLOCK_LEN);
			CU_ASSERT_FATAL(id[7] > id[6] && id[8] > id[7]);
			assert_lists_match_blocks(mp);
		}
		CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id[order[k]], 0), 0);
		assert_lists_match_blocks(mp);
	}
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 0);
	CU_ASSERT_EQUAL(mp->populated_size, 0);
	CU_ASSERT_PTR_NULL(STAILQ_FIRST(&mp->elt_list));
	CU_ASSERT_EQUAL(stats(mp).nb_list_walks, 0);
	/* Empty, then filled again: the list's end was put back at its head. */
	id[0] = add_block(mp, BLOCK_LEN);
	CU_ASSERT(id[0] > id[8]);
	CU_ASSERT(mp->populated_size > 0);
	assert_lists_match_blocks(mp);
	rte_mempool_free(mp);
}

static void
test_block_add_then_remove_when_all_free(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_addrm", 0);
	struct tide_mempool_block_info bi;
	int64_t id1, id2;
	unsigned int objs1, objs2;
	void *obj;

	id1 = add_block(mp, BLOCK_LEN);
	id2 = add_block(mp, BLOCK_LEN);
	CU_ASSERT_FATAL(id1 > 0 && id2 > id1);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 2);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 1, &bi), 0);
	CU_ASSERT_EQUAL(bi.id, (uint64_t)id2);
	objs2 = bi.nb_objs;
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 0, &bi), 0);
	objs1 = bi.nb_objs;
	CU_ASSERT(objs1 > 0 && objs1 <= tide_mempool_block_capacity(mp, BLOCK_LEN));
	CU_ASSERT_EQUAL(obj_iter_count(mp), objs1 + objs2);
	CU_ASSERT_EQUAL(mp->populated_size, objs1 + objs2);
	assert_stock_counts(mp, 0);

	/* Drain block 1 so the next object comes from block 2, keep it out. */
	void **all = calloc(objs1, sizeof(void *));
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, all, objs1), 0);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get(mp, &obj), 0);
	CU_ASSERT_TRUE(in_block(mp, 1, obj));
	assert_stock_counts(mp, objs1 + 1);
	rte_mempool_put_bulk(mp, all, objs1);
	free(all);
	assert_stock_counts(mp, 1);

	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id2, 0), -EBUSY);
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 2);
	rte_mempool_put(mp, obj);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id2, 0), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id2, 0), -ENOENT);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 1);
	CU_ASSERT_EQUAL(obj_iter_count(mp), objs1);
	CU_ASSERT_EQUAL(mp->populated_size, objs1);
	CU_ASSERT_EQUAL(mem_iter_count(mp), mp->nb_mem_chunks);
	assert_stock_counts(mp, 0);
	rte_mempool_audit(mp);
	rte_mempool_free(mp);
}

static void
test_sample_tells_whether_a_block_was_touched(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_sample", 0);
	struct tide_mempool_block_info bi;
	int64_t id;
	void *obj;

	id = add_block(mp, BLOCK_LEN);
	CU_ASSERT_FATAL(id > 0);
	CU_ASSERT_EQUAL(tide_mempool_block_sample(mp, 0, &bi), 0);
	CU_ASSERT_EQUAL(bi.nb_low, bi.nb_objs);
	/* One object out and back: all free again, but touched since the sample. */
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get(mp, &obj), 0);
	rte_mempool_put(mp, obj);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 0, &bi), 0);
	CU_ASSERT_EQUAL(bi.nb_free, bi.nb_objs);
	CU_ASSERT_EQUAL(bi.nb_low, bi.nb_objs - 1);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, TIDE_MEMPOOL_RM_UNTOUCHED),
		-EBUSY);
	/* block_info does not start a new interval; block_sample does. */
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 0, &bi), 0);
	CU_ASSERT_EQUAL(bi.nb_low, bi.nb_objs - 1);
	CU_ASSERT_EQUAL(tide_mempool_block_sample(mp, 0, &bi), 0);
	CU_ASSERT_EQUAL(bi.nb_low, bi.nb_objs - 1);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 0, &bi), 0);
	CU_ASSERT_EQUAL(bi.nb_low, bi.nb_objs);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, TIDE_MEMPOOL_RM_UNTOUCHED), 0);
	rte_mempool_free(mp);
}

struct mz_find {
	const void *addr;
	bool found;
};

static void
mz_find_cb(const struct rte_memzone *mz, void *arg)
{
	struct mz_find *f = arg;

	f->found |= mz->addr == f->addr;
}

/* Whether a memzone starts at @p addr. */
static bool
mz_at(const void *addr)
{
	struct mz_find f = { .addr = addr };

	rte_memzone_walk(mz_find_cb, &f);
	return f.found;
}

static void
test_removed_block_memory_is_freed(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_mzfree", 0);
	struct tide_mempool_block_info bi;
	int64_t id;

	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	id = add_block(mp, BLOCK_LEN);
	CU_ASSERT_FATAL(id > 0);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 1, &bi), 0);
	CU_ASSERT(mz_at(bi.addr));
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, 0), 0);
	CU_ASSERT(!mz_at(bi.addr));
	rte_mempool_free(mp);
}

/* Bytes allocated from DPDK's heaps, every socket's. */
static uint64_t
heap_allocated(void)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			sum += st.heap_allocsz_bytes;
	}
	return sum;
}

/*
 * A pool of several blocks, freed, gives every byte of the heap back: its blocks' memory,
 * and the driver's own tables of them, each time.
 */
static void
test_a_freed_pool_gives_all_its_memory_back(void)
{
	uint64_t before = 0;

	for (int round = 0; round < 4; round++) {
		struct rte_mempool *mp = empty_tide_pool("tmt_heap", 0);

		CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
		for (int b = 0; b < 3; b++)
			CU_ASSERT(add_block(mp, BLOCK_LEN) > 0);
		rte_mempool_free(mp);
		/* The first round warms what DPDK keeps once made. */
		if (round == 0)
			before = heap_allocated();
		else
			CU_ASSERT_EQUAL(heap_allocated(), before);
	}
}

/*
 * A memzone populated in two chunks, as rte_mempool_populate_virt() does in IOVA-as-PA
 * mode (one chunk per run of physically contiguous pages): the first chunk carries the
 * callback that frees the whole memzone, the second none, and each chunk is a block.
 * Removing the first block while the second has an object out must not free the memzone
 * under it: the callback goes with the memzone's last block.
 */
static void
test_a_memzone_shared_by_blocks_goes_with_the_last(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_split", 0);
	const struct rte_memzone *mz;
	struct tide_mempool_block_info bi;
	uint64_t id[2];
	void *held = NULL, **obj = calloc(BLOCK_LEN / OBJ_SIZE, sizeof(*obj));
	unsigned int n = 0;
	size_t half;

	CU_ASSERT_PTR_NOT_NULL_FATAL(obj);

	mz = rte_memzone_reserve_aligned("tmt_split_mz", BLOCK_LEN, SOCKET_ID_ANY, 0, 4096);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	half = mz->len / 2;
	CU_ASSERT_FATAL(rte_mempool_populate_iova(mp, mz->addr, mz->iova, half, raw_mz_free,
		(void *)(uintptr_t)mz) > 0);
	CU_ASSERT_FATAL(rte_mempool_populate_iova(mp, RTE_PTR_ADD(mz->addr, half),
		mz->iova + half, mz->len - half, NULL, NULL) > 0);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_count(mp), 2);
	for (unsigned int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, i, &bi), 0);
		id[i] = bi.id;
	}
	/* An object of the second block out: the oldest block's go first. */
	while (held == NULL && n < BLOCK_LEN / OBJ_SIZE) {
		CU_ASSERT_EQUAL_FATAL(rte_mempool_get(mp, &obj[n]), 0);
		if (in_block(mp, 1, obj[n]))
			held = obj[n];
		else
			n++;
	}
	rte_mempool_put_bulk(mp, obj, n);
	free(obj);
	CU_ASSERT_PTR_NOT_NULL_FATAL(held);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, id[0], 0), 0);
	CU_ASSERT(mz_at(mz->addr));
	memset(held, 0xa5, OBJ_SIZE); /* still the memzone's */
	rte_mempool_put(mp, held);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, id[1], 0), 0);
	CU_ASSERT(!mz_at(mz->addr));
	rte_mempool_free(mp);
}

static void
test_dequeue_takes_from_oldest_block(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_oldest", 0);
	struct tide_mempool_block_info b0;
	unsigned int i;
	void **objs;

	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 0, &b0), 0);
	objs = calloc(b0.nb_objs * 2, sizeof(void *));

	/* A fresh pool serves the whole oldest block before touching the next. */
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, objs, b0.nb_objs), 0);
	for (i = 0; i < b0.nb_objs; i++)
		CU_ASSERT_TRUE(in_block(mp, 0, objs[i]));
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, objs + b0.nb_objs, 10), 0);
	for (i = 0; i < 10; i++)
		CU_ASSERT_TRUE(in_block(mp, 1, objs[b0.nb_objs + i]));

	/* Objects freed into the oldest block are served before the younger blocks' ones. */
	rte_mempool_put_bulk(mp, objs + b0.nb_objs, 10);
	rte_mempool_put_bulk(mp, objs, 5);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, objs, 5), 0);
	for (i = 0; i < 5; i++)
		CU_ASSERT_TRUE(in_block(mp, 0, objs[i]));
	/* A bulk larger than the oldest block's free objects spills into the next one. */
	void *spill[8];
	rte_mempool_put_bulk(mp, objs, 3);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, spill, 8), 0);
	for (i = 0; i < 3; i++)
		CU_ASSERT_TRUE(in_block(mp, 0, spill[i]));
	for (i = 3; i < 8; i++)
		CU_ASSERT_TRUE(in_block(mp, 1, spill[i]));
	rte_mempool_put_bulk(mp, spill, 8);
	rte_mempool_put_bulk(mp, objs + 3, b0.nb_objs - 3);
	CU_ASSERT_EQUAL(stats(mp).nb_free, stats(mp).nb_objs);
	free(objs);
	rte_mempool_free(mp);
}

struct take {
	struct rte_mempool *mp;
	void **objs;
	unsigned int n;
	int ret;
};

static void *
take_thread(void *arg)
{
	struct take *t = arg;

	t->ret = rte_mempool_get_bulk(t->mp, t->objs, t->n);
	return NULL;
}

/* Take n objects from a thread of its own: not the thread that put last. */
static int
take_elsewhere(struct rte_mempool *mp, void **objs, unsigned int n)
{
	struct take t = { .mp = mp, .objs = objs, .n = n, .ret = -1 };
	pthread_t th;

	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, take_thread, &t), 0);
	pthread_join(th, NULL);
	return t.ret;
}

#define ENDS_RUN 64u

/*
 * A block's free list is a ring: the thread that put last takes back what it has just put
 * (newest first, as a stack), another thread takes the objects freed longest ago (as a
 * queue). Laps of queue takes and puts wrap around the ring: every take must match a model
 * of it.
 */
static void
test_the_putter_takes_its_newest_others_the_oldest(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_ends", 0);
	unsigned int total, head = 0, len, i, lap;
	void **all, **model, *got[ENDS_RUN];

	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	total = stats(mp).nb_objs;
	all = calloc(total, sizeof(void *));
	model = calloc(total, sizeof(void *));
	CU_ASSERT_FATAL(all != NULL && model != NULL);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, all, total), 0);
	/* Everything back in a known order, by this thread: the model is that queue. */
	for (i = 0; i < total; i += ENDS_RUN)
		rte_mempool_put_bulk(mp, &all[i], RTE_MIN(ENDS_RUN, total - i));
	memcpy(model, all, total * sizeof(void *));
	len = total;

	/* This thread put last: it takes its newest, in the order they were put. */
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, got, ENDS_RUN), 0);
	for (i = 0; i < ENDS_RUN; i++)
		CU_ASSERT_PTR_EQUAL(got[i], model[len - ENDS_RUN + i]);
	rte_mempool_put_bulk(mp, got, ENDS_RUN);

	/*
	 * Two laps: another thread takes the oldest, this one puts them back at the end. Sizes
	 * 1 to ENDS_RUN, so that copies cross the ring's end at many offsets.
	 */
	for (lap = 0; lap < 2 * total / (ENDS_RUN / 2) + 1; lap++) {
		unsigned int n = 1 + lap % ENDS_RUN;

		CU_ASSERT_EQUAL_FATAL(take_elsewhere(mp, got, n), 0);
		for (i = 0; i < n; i++) {
			CU_ASSERT_PTR_EQUAL(got[i], model[(head + i) % total]);
			/* Put back where the model's newest end is: the slots just taken. */
			model[(head + i) % total] = got[i];
		}
		head = (head + n) % total;
		rte_mempool_put_bulk(mp, got, n);
		if (CU_get_number_of_failures() > 0)
			break;
	}
	CU_ASSERT_EQUAL(stats(mp).nb_free, total);
	CU_ASSERT_EQUAL(stats(mp).nb_double, 0);
	CU_ASSERT_EQUAL(stats(mp).nb_foreign, 0);
	rte_mempool_audit(mp);
	free(model);
	free(all);
	rte_mempool_free(mp);
}

static void
test_bulk_sizes_all_or_nothing(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_bulk", 0);
	unsigned int n, total;
	void *objs[512];

	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	total = stats(mp).nb_objs;
	for (n = 1; n <= 512; n++) {
		CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, objs, n), 0);
		CU_ASSERT_EQUAL(stats(mp).nb_free, total - n);
		rte_mempool_put_bulk(mp, objs, n);
	}
	/* Asking for more than there is takes nothing. */
	void **all = calloc(total + 1, sizeof(void *));
	CU_ASSERT_EQUAL(rte_mempool_get_bulk(mp, all, total + 1), -ENOBUFS);
	CU_ASSERT_EQUAL(stats(mp).nb_free, total);
	CU_ASSERT(stats(mp).nb_deq_refused >= 1);
	CU_ASSERT_EQUAL(rte_mempool_get_bulk(mp, all, total), 0);
	rte_mempool_put_bulk(mp, all, total);
	free(all);
	rte_mempool_free(mp);
}

static void
test_foreign_and_double_enqueue_are_dropped(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_foreign", 0);
	uint64_t outside[16] = { 0 }, copy[16];
	void *p = &outside[4];
	void *obj;
	unsigned int total;

	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	total = stats(mp).nb_objs;
	memcpy(copy, outside, sizeof(copy));
	rte_mempool_ops_enqueue_bulk(mp, &p, 1);
	CU_ASSERT_EQUAL(stats(mp).nb_foreign, 1);
	CU_ASSERT_EQUAL(stats(mp).nb_free, total);
	CU_ASSERT_EQUAL(memcmp(copy, outside, sizeof(copy)), 0);

	/* All objects free: one more enqueue of a member is a double free. */
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get(mp, &obj), 0);
	rte_mempool_put(mp, obj);
	rte_mempool_ops_enqueue_bulk(mp, &obj, 1);
	CU_ASSERT_EQUAL(stats(mp).nb_double, 1);
	CU_ASSERT_EQUAL(stats(mp).nb_free, total);
	rte_mempool_free(mp);
}

/* Take every object of a pool of total objects: none of the nb_bad pointers at bad is
 * handed out; then put them all back.
 */
static void
assert_none_handed_out(struct rte_mempool *mp, unsigned int total, void * const *bad,
	unsigned int nb_bad)
{
	void **objs = calloc(total, sizeof(*objs));

	CU_ASSERT_FATAL(objs != NULL);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, objs, total), 0);
	for (unsigned int i = 0; i < total; i++)
		for (unsigned int j = 0; j < nb_bad; j++)
			CU_ASSERT(objs[i] != bad[j]);
	rte_mempool_put_bulk(mp, objs, total);
	CU_ASSERT_EQUAL(stats(mp).nb_free, total);
	free(objs);
}

/*
 * A pointer into a block's header or free ring is no object: counted as foreign, never
 * listed (its next holder would write over the ring), alone or after a real object in
 * the same bulk, while the block is the one dequeue serves and one of its objects is out.
 */
static void
test_pointers_into_a_block_header_are_foreign(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_hdrptr", 0);
	struct tide_mempool_block_info bi;
	void *bad[2], *held, *pair[2];
	unsigned int total, i;

	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, 0, &bi), 0);
	total = bi.nb_objs;
	bad[0] = RTE_PTR_ADD(bi.addr, sizeof(void *));            /* the header */
	bad[1] = RTE_PTR_ADD(bi.addr, RTE_CACHE_LINE_SIZE + 8);   /* free[1] */
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get(mp, &held), 0);
	for (i = 0; i < 2; i++) {
		rte_mempool_ops_enqueue_bulk(mp, &bad[i], 1);
		CU_ASSERT_EQUAL(stats(mp).nb_foreign, i + 1);
		CU_ASSERT_EQUAL(stats(mp).nb_free, total - 1);
	}
	pair[0] = held;
	pair[1] = bad[0];
	rte_mempool_ops_enqueue_bulk(mp, pair, 2);
	CU_ASSERT_EQUAL(stats(mp).nb_foreign, 3);
	CU_ASSERT_EQUAL(stats(mp).nb_double, 0);
	CU_ASSERT_EQUAL(stats(mp).nb_free, total);
	assert_none_handed_out(mp, total, bad, RTE_DIM(bad));
	rte_mempool_free(mp);
}

/*
 * An enqueue finds how many of its objects lead in the current block eight at a time: a
 * foreign pointer anywhere in a bulk, in the first eight, on an eight's edge or in the
 * tail, ends the run there; the objects before and after it are listed, it is not.
 */
static void
test_a_foreign_pointer_anywhere_in_a_bulk_ends_the_run_there(void)
{
	static const unsigned int at[] = { 0, 1, 7, 8, 9, 15, 16, 17, 23 };
	struct rte_mempool *mp = empty_tide_pool("tmt_runs", 0);
	uint64_t outside[4] = { 0 };
	void *foreign = &outside[1], *objs[24], *bulk[25];
	unsigned int total, i, j, k;

	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	total = stats(mp).nb_objs;
	CU_ASSERT_FATAL(total >= RTE_DIM(objs));
	for (k = 0; k < RTE_DIM(at); k++) {
		CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, objs, RTE_DIM(objs)), 0);
		for (i = 0, j = 0; i < RTE_DIM(bulk); i++)
			bulk[i] = i == at[k] ? foreign : objs[j++];
		rte_mempool_ops_enqueue_bulk(mp, bulk, RTE_DIM(bulk));
		CU_ASSERT_EQUAL(stats(mp).nb_foreign, k + 1);
		CU_ASSERT_EQUAL(stats(mp).nb_double, 0);
		CU_ASSERT_EQUAL(stats(mp).nb_free, total);
	}
	assert_none_handed_out(mp, total, &foreign, 1);
	rte_mempool_free(mp);
}

static void
test_cached_objects_keep_block_busy(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_cache", 64);
	struct rte_mempool_cache *cache = rte_mempool_default_cache(mp, rte_lcore_id());
	int64_t id;
	void *obj;

	id = add_block(mp, BLOCK_LEN);
	CU_ASSERT_FATAL(id > 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get(mp, &obj), 0);
	rte_mempool_put(mp, obj);
	CU_ASSERT(cache->len > 0);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, 0), -EBUSY);
	rte_mempool_cache_flush(cache, mp);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, 0), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 0);
	rte_mempool_free(mp);
}

/* A page of the memory list of @p addr that DPDK has not allocated, or NULL. */
static void *
unallocated_page(const void *addr)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(addr);
	uintptr_t va;

	if (msl == NULL || msl->external)
		return NULL;
	for (va = (uintptr_t)msl->base_va + msl->len - msl->page_sz;
			va >= (uintptr_t)msl->base_va; va -= msl->page_sz) {
		const struct rte_memseg *ms = rte_mem_virt2memseg((void *)va, msl);

		if (ms == NULL || ms->len == 0)
			return (void *)va;
	}
	return NULL;
}

static void
test_bad_arguments_are_refused(void)
{
	struct rte_mempool *ring, *mp = empty_tide_pool("tmt_bad", 0);
	const struct rte_memzone *small = rte_memzone_reserve_aligned("tmt_bad_mz", 4096,
		SOCKET_ID_ANY, 0, RTE_CACHE_LINE_SIZE);
	char buf[256] __rte_cache_aligned;
	struct tide_mempool_block_info bi;
	struct tide_mempool_block_info binfo;
	struct rte_mempool *other;
	void *unallocated;
	int64_t id;

	ring = rte_mempool_create("tmt_ring", 1023, OBJ_SIZE, 0, 0, NULL, NULL, NULL, NULL,
		SOCKET_ID_ANY, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_PTR_NOT_NULL_FATAL(small);
	CU_ASSERT_FALSE(tide_mempool_is_tide(ring));
	CU_ASSERT_FALSE(tide_mempool_is_tide(NULL));
	CU_ASSERT_EQUAL(tide_mempool_block_add(ring, buf, sizeof(buf), NULL, NULL, NULL, NULL),
		-EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_add(NULL, buf, sizeof(buf), NULL, NULL, NULL, NULL),
		-EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, NULL, 4096, NULL, NULL, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, RTE_PTR_ADD(small->addr, 1), 64, NULL, NULL,
		NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, small->addr, 64, NULL, NULL, NULL, NULL),
		-ENOBUFS);
	CU_ASSERT_EQUAL(rte_errno, ENOBUFS);
	/* Memory DPDK does not know (this stack), a range that wraps around the address space
	 * or runs past the memory DPDK knows there: refused before anything is written.
	 */
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, buf, sizeof(buf), NULL, NULL, NULL, NULL),
		-EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, small->addr, SIZE_MAX - 100, NULL, NULL, NULL,
		NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, small->addr, (size_t)1 << 48, NULL, NULL, NULL,
		NULL), -EINVAL);
	/* Inside DPDK's memory list, on a page of it DPDK has not allocated (writing there
	 * would fault).
	 */
	unallocated = unallocated_page(small->addr);
	CU_ASSERT_PTR_NOT_NULL(unallocated);
	if (unallocated != NULL)
		CU_ASSERT_EQUAL(tide_mempool_block_add(mp, unallocated, 4096, NULL, NULL, NULL,
			NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 0);
	/* Another tide mempool's block: refused, logged, both pools as they were. */
	other = empty_tide_pool("tmt_bad_other", 0);
	CU_ASSERT_FATAL(add_block(other, BLOCK_LEN) > 0);
	CU_ASSERT_EQUAL(tide_mempool_block_info(other, 0, &binfo), 0);
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_add(mp, binfo.addr, 8192, NULL, NULL, NULL,
		NULL), EINVAL, "tide_mempool_block_add");
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_count(other), 1);
	rte_mempool_free(other);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(ring, 1, 0), -EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, 12345, 0), -ENOENT);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 0, &bi), -ENOENT);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_stats_get(ring, NULL), -EINVAL);

	/* Overlapping an existing block is refused and leaves it alone. */
	id = add_block(mp, BLOCK_LEN);
	CU_ASSERT_FATAL(id > 0);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 0, &binfo), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, RTE_PTR_ADD(binfo.addr, 4096), 8192, NULL,
		NULL, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 1);
	CU_ASSERT_EQUAL(stats(mp).nb_free, binfo.nb_objs);
	/* A flag it does not know: refused, the block left alone. */
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, 0x80), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 1);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, 0), 0);
	rte_mempool_free(ring);
	rte_mempool_free(mp);
	rte_memzone_free(small);
}

#ifdef TIDE_FAULT_INJECTION
static void
test_failed_populate_leaves_pool_intact(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_popfail", 0);
	const struct rte_memzone *mz;
	unsigned int objs, chunks;

	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	objs = obj_iter_count(mp);
	chunks = mp->nb_mem_chunks;
	mz = rte_memzone_reserve_aligned("tmt_popfail_mz", BLOCK_LEN, SOCKET_ID_ANY, 0,
		RTE_CACHE_LINE_SIZE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	tide_fault_pvt_arm(TIDE_FAULT_POPULATE, 0, 1);
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, mz->addr, mz->len, obj_clear, NULL,
		raw_mz_free, (void *)(uintptr_t)mz), -ENOMEM);
	tide_fault_pvt_arm(TIDE_FAULT_POPULATE, 0, 0);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 1);
	CU_ASSERT_EQUAL(obj_iter_count(mp), objs);
	CU_ASSERT_EQUAL(mp->nb_mem_chunks, chunks);
	/* The memory is still ours and can be added afterwards. */
	CU_ASSERT(tide_mempool_block_add(mp, mz->addr, mz->len, obj_clear, NULL, raw_mz_free,
		(void *)(uintptr_t)mz) > 0);
	CU_ASSERT_EQUAL(obj_iter_count(mp), stats(mp).nb_objs);
	rte_mempool_audit(mp);
	rte_mempool_free(mp);
}
#endif

/*
 * A pool made with RTE_MEMPOOL_F_NO_CACHE_ALIGN, given memory 8 bytes past a cache line
 * (DPDK aligns such a chunk to 8 bytes only): the chunk, where the driver would keep a block
 * header of one cache line, is refused with a log line; nothing is populated.
 */
static void
test_a_chunk_off_a_cache_line_is_refused(void)
{
	struct rte_mempool *mp = rte_mempool_create_empty("tmt_unaligned", 64, OBJ_SIZE, 0, 0,
		SOCKET_ID_ANY, RTE_MEMPOOL_F_NO_CACHE_ALIGN);
	const struct rte_memzone *mz;
	char *log;
	int ret;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_set_ops_byname(mp, TIDE_MEMPOOL_OPS_NAME, NULL), 0);
	mz = rte_memzone_reserve_aligned("tmt_unaligned_mz", BLOCK_LEN, SOCKET_ID_ANY, 0, 4096);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	tide_test_log_begin();
	ret = rte_mempool_populate_iova(mp, RTE_PTR_ADD(mz->addr, 8), mz->iova + 8,
		mz->len - 8, NULL, NULL);
	log = tide_test_log_end();
	CU_ASSERT(ret <= 0);
	CU_ASSERT_EQUAL(mp->populated_size, 0);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "tmt_unaligned: a chunk at"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "is not aligned to a cache line"));
	free(log);
	rte_mempool_free(mp);
	CU_ASSERT_EQUAL(rte_memzone_free(mz), 0);
}

/* A mempool that its first block fills: @p n objects. */
static struct rte_mempool *
small_tide_pool(const char *name, unsigned int n)
{
	struct rte_mempool *mp;

	mp = rte_mempool_create_empty(name, n, OBJ_SIZE, 0, 0, SOCKET_ID_ANY, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_set_ops_byname(mp, TIDE_MEMPOOL_OPS_NAME, NULL), 0);
	return mp;
}

/*
 * A block bigger than the pool has room for: the pool fills before the block's memory ends
 * (in IOVA-as-PA mode, before its last run of physically contiguous pages), as the last
 * block of a pool often does. The add takes what fits, as populate_virt would, and the
 * block is the pool's.
 */
static void
test_a_block_the_pool_fills_before_its_end_is_added(void)
{
	struct rte_mempool *mp = small_tide_pool("tmt_fill", 100);
	struct tide_mempool_block_info bi;
	const struct rte_memzone *mz;
	void *objs[100];

	mz = rte_memzone_reserve_aligned("tmt_fill_mz", 4 * BLOCK_LEN, SOCKET_ID_ANY, 0,
		RTE_CACHE_LINE_SIZE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	CU_ASSERT(tide_mempool_block_add(mp, mz->addr, mz->len, obj_clear, NULL, raw_mz_free,
		(void *)(uintptr_t)mz) > 0);
	CU_ASSERT_EQUAL(mp->populated_size, 100);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, 0, &bi), 0);
	CU_ASSERT_EQUAL(bi.nb_objs, 100);
	CU_ASSERT_EQUAL(rte_mempool_get_bulk(mp, objs, 100), 0);
	rte_mempool_put_bulk(mp, objs, 100);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), 100);
	rte_mempool_free(mp);
	CU_ASSERT_PTR_NULL(rte_memzone_lookup("tmt_fill_mz"));
}

/* Every errno tide_mempool.h lists, each from the cause it names. */
static void
test_each_documented_error_of_the_control_calls(void)
{
	struct rte_mempool *mp = small_tide_pool("tmt_errno", 100);
	const struct rte_memzone *mz;

	/* -ENOSPC: the mempool's size is reached (the first block holds all 100). */
	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0);
	CU_ASSERT_EQUAL(mp->populated_size, 100);
	mz = rte_memzone_reserve_aligned("tmt_errno_mz", BLOCK_LEN, SOCKET_ID_ANY, 0,
		RTE_CACHE_LINE_SIZE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, mz->addr, mz->len, NULL, NULL, NULL, NULL),
		-ENOSPC);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	/* -EINVAL: a NULL callback for the safe object walk. */
	CU_ASSERT_EQUAL(tide_mempool_obj_iter(mp, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_obj_iter(NULL, count_obj, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_grow_cb_set(NULL, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_mempool_free(mp);

#ifdef TIDE_FAULT_INJECTION
	/* -ENOMEM: no memory for the pool data of a mempool created empty. */
	mp = small_tide_pool("tmt_errno2", 1000);
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, mz->addr, mz->len, NULL, NULL, NULL, NULL),
		-ENOMEM);
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	CU_ASSERT_EQUAL(tide_mempool_grow_cb_set(mp, NULL, NULL), -ENOMEM);
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	/* The pool data now exists; -ENOMEM: no memory for the driver's block tables. */
	CU_ASSERT_EQUAL(tide_mempool_grow_cb_set(mp, NULL, NULL), 0);
	CU_ASSERT_TRUE(tide_mempool_is_tide(mp));
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	CU_ASSERT_EQUAL(tide_mempool_block_add(mp, mz->addr, mz->len, NULL, NULL, NULL, NULL),
		-ENOMEM);
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 0);
	/* Nothing was lost on the way: the memory is still the caller's, and usable. */
	CU_ASSERT(tide_mempool_block_add(mp, mz->addr, mz->len, NULL, NULL, raw_mz_free,
		(void *)(uintptr_t)mz) > 0);
	CU_ASSERT_EQUAL(stats(mp).nb_free, mp->populated_size);
	rte_mempool_free(mp);
#else
	rte_memzone_free(mz);
#endif
}

/* ---- MP/MC stress: 2 lcores + 2 non-EAL threads churn, one thread adds/removes ---- */

#define STRESS_HOLD 2048
#define STRESS_NS (1500ull * 1000 * 1000)

struct stress {
	struct rte_mempool *mp;
	volatile bool stop;
	uint64_t dups;      /* an object handed to two holders */
	uint64_t bad_owner; /* an object freed by someone who did not hold it */
	uint64_t ops;
	uint64_t adds, removes, busy;
};

/*
 * Hand n objects from holder @from to holder @to (0: the pool): each must have been
 * @from's. Taking one that someone holds is a dup; giving back one that someone else
 * holds, a bad owner.
 */
static void
stress_tag(struct stress *s, void **objs, unsigned int n, uint64_t from, uint64_t to)
{
	for (unsigned int i = 0; i < n; i++)
		if (__atomic_exchange_n(&((struct tobj *)objs[i])->owner, to,
				__ATOMIC_ACQ_REL) != from)
			__atomic_fetch_add(to != 0 ? &s->dups : &s->bad_owner, 1,
				__ATOMIC_RELAXED);
}

static void
stress_churn(struct stress *s, uint64_t me)
{
	void **held = malloc(STRESS_HOLD * sizeof(void *));
	unsigned int nheld = 0;
	uint64_t ops = 0;

	while (!s->stop) {
		unsigned int n = 1 + rte_rand_max(512);

		if (nheld + n <= STRESS_HOLD && (rte_rand() & 1)) {
			if (rte_mempool_get_bulk(s->mp, &held[nheld], n) != 0)
				continue;
			stress_tag(s, &held[nheld], n, 0, me);
			nheld += n;
		} else {
			n = RTE_MIN(n, nheld);
			stress_tag(s, &held[nheld - n], n, me, 0);
			rte_mempool_put_bulk(s->mp, &held[nheld - n], n);
			nheld -= n;
		}
		ops++;
	}
	stress_tag(s, held, nheld, me, 0);
	rte_mempool_put_bulk(s->mp, held, nheld);
	__atomic_fetch_add(&s->ops, ops, __ATOMIC_RELAXED);
	free(held);
}

static int
stress_lcore(void *arg)
{
	stress_churn(arg, 100 + rte_lcore_id());
	return 0;
}

static void *
stress_thread(void *arg)
{
	static uint64_t next_id = 1000;

	stress_churn(arg, __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED));
	return NULL;
}

static void *
stress_timer(void *arg)
{
	struct stress *s = arg;

	tide_test_sleep_us(STRESS_NS / 1000);
	s->stop = true;
	return NULL;
}

/* Adds blocks and keeps trying to remove one, the newest or any, while the others churn. */
static void *
stress_blocks(void *arg)
{
	struct stress *s = arg;

	while (!s->stop) {
		unsigned int n = tide_mempool_block_count(s->mp);
		struct tide_mempool_block_info bi;

		if (n < 12 && (rte_rand() & 1)) {
			if (add_block(s->mp, BLOCK_LEN) > 0)
				s->adds++;
		} else if (n > 3 && tide_mempool_block_info(s->mp,
				(rte_rand() & 1) ? n - 1 : rte_rand_max(n), &bi) == 0) {
			int ret = tide_mempool_block_remove(s->mp, bi.id, 0);

			if (ret == 0)
				s->removes++;
			else if (ret == -EBUSY)
				s->busy++;
		}
		tide_test_sleep_us(200);
	}
	return NULL;
}

static void
check_owner_clear(struct rte_mempool *mp __rte_unused, void *arg, void *obj,
	unsigned int i __rte_unused)
{
	if (((struct tobj *)obj)->owner != 0)
		(*(unsigned int *)arg)++;
}

static void
stress_run(unsigned int cache)
{
	struct stress s = { 0 };
	pthread_t th[2], blk, tmr;
	int worker = tide_test_worker_lcore();
	struct tide_mempool_stats st;
	unsigned int i, dirty = 0;
	char name[32];

	snprintf(name, sizeof(name), "tmt_stress_%u", cache);
	s.mp = empty_tide_pool(name, cache);
	for (i = 0; i < 4; i++)
		CU_ASSERT_FATAL(add_block(s.mp, BLOCK_LEN) > 0);
	CU_ASSERT_FATAL(worker >= 0);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(stress_lcore, &s, worker), 0);
	for (i = 0; i < 2; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, stress_thread, &s), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&blk, NULL, stress_blocks, &s), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&tmr, NULL, stress_timer, &s), 0);
	stress_churn(&s, 7); /* the main lcore churns too, until the timer stops everyone */
	pthread_join(tmr, NULL);
	s.stop = true;
	rte_eal_wait_lcore(worker);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_join(blk, NULL);

	/* Hand the lcore caches back, then every object must be home, once. */
	if (cache != 0)
		RTE_LCORE_FOREACH(i)
			rte_mempool_cache_flush(rte_mempool_default_cache(s.mp, i), s.mp);
	st = stats(s.mp);
	printf("\n    cache %u: %" PRIu64 " churn ops, %" PRIu64 " adds, %" PRIu64
		" removes, %" PRIu64 " busy refusals, %u blocks ", cache, s.ops, s.adds,
		s.removes, s.busy, st.nb_blocks);
	CU_ASSERT_EQUAL(s.dups, 0);
	CU_ASSERT_EQUAL(s.bad_owner, 0);
	CU_ASSERT_EQUAL(st.nb_foreign, 0);
	CU_ASSERT_EQUAL(st.nb_double, 0);
	CU_ASSERT_EQUAL(st.nb_free, st.nb_objs);
	assert_stock_counts(s.mp, 0);
	CU_ASSERT_EQUAL(obj_iter_count(s.mp), st.nb_objs);
	CU_ASSERT_EQUAL(s.mp->populated_size, st.nb_objs);
	CU_ASSERT(s.adds > 0);
	CU_ASSERT(s.removes > 0);
	rte_mempool_obj_iter(s.mp, check_owner_clear, &dirty);
	CU_ASSERT_EQUAL(dirty, 0);
	rte_mempool_audit(s.mp);
	rte_mempool_free(s.mp);
}

static void
test_mpmc_stress_with_cache_while_blocks_come_and_go(void)
{
	stress_run(256);
}

static void
test_mpmc_stress_without_cache_while_blocks_come_and_go(void)
{
	stress_run(0);
}

/*
 * The pipeline pattern: one lcore allocates every object and hands it over a ring to
 * another lcore, which frees it. With lcore caches the pool has a take lock and a put lock
 * (rte_mempool_tide.c), so the two lcores' refills and flushes run at once in the same
 * block.
 */
#define PIPE_TAG 1

struct pipe_stress {
	struct stress s;
	struct rte_ring *r;
	struct rte_mempool_cache *cache[RTE_MAX_LCORE]; /* each lcore's, or none */
	volatile bool alloc_done;
	uint64_t short_gets; /* gets refused: the pool had fewer objects free */
	uint64_t handed;
	uint64_t freed;
};

static void
pipe_alloc(struct pipe_stress *p)
{
	struct rte_mempool_cache *cache = p->cache[rte_lcore_id()];
	void *objs[64];

	while (!p->s.stop) {
		unsigned int n = 1 + rte_rand_max(RTE_DIM(objs)), k;

		if (rte_mempool_generic_get(p->s.mp, objs, n, cache) != 0) {
			p->short_gets++;
			continue;
		}
		stress_tag(&p->s, objs, n, 0, PIPE_TAG);
		k = rte_ring_sp_enqueue_burst(p->r, objs, n, NULL);
		if (k < n) {
			stress_tag(&p->s, &objs[k], n - k, PIPE_TAG, 0);
			rte_mempool_generic_put(p->s.mp, &objs[k], n - k, cache);
		}
		p->handed += k;
	}
	__atomic_store_n(&p->alloc_done, true, __ATOMIC_RELEASE);
}

static int
pipe_free(void *arg)
{
	struct pipe_stress *p = arg;
	struct rte_mempool_cache *cache = p->cache[rte_lcore_id()];
	void *objs[64];
	bool last = false;

	for (;;) {
		unsigned int n = rte_ring_sc_dequeue_burst(p->r, objs,
			1 + rte_rand_max(RTE_DIM(objs)), NULL);

		/* Shuffled: each lap lists the objects in another order, so that a slot read
		 * before it is written holds another object than the one put there.
		 */
		for (unsigned int i = n; i > 1; i--) {
			unsigned int j = rte_rand_max(i);
			void *o = objs[i - 1];

			objs[i - 1] = objs[j];
			objs[j] = o;
		}
		stress_tag(&p->s, objs, n, PIPE_TAG, 0);
		rte_mempool_generic_put(p->s.mp, objs, n, cache);
		p->freed += n;
		if (n == 0 && last)
			break;
		last = __atomic_load_n(&p->alloc_done, __ATOMIC_ACQUIRE);
	}
	return 0;
}

/*
 * Run the pipeline on a pool with lcore caches (@p cached: through them, else straight to
 * the driver) over a ring of @p ring_size, with @p blocks the pool starts with; @p churn
 * adds a thread without a cache churning beside it and blocks that come and go.
 */
static void
pipe_run(const char *name, bool cached, unsigned int ring_size, unsigned int blocks,
	bool churn)
{
	struct pipe_stress p = { 0 };
	int worker = tide_test_worker_lcore();
	struct tide_mempool_stats st;
	pthread_t th, blk, tmr;
	unsigned int i, dirty = 0;

	p.s.mp = empty_tide_pool(name, 256);
	p.r = rte_ring_create(name, ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p.r);
	for (i = 0; i < blocks; i++)
		CU_ASSERT_FATAL(add_block(p.s.mp, BLOCK_LEN) > 0);
	CU_ASSERT_FATAL(worker >= 0);
	RTE_LCORE_FOREACH(i)
		p.cache[i] = cached ? rte_mempool_default_cache(p.s.mp, i) : NULL;
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(pipe_free, &p, worker), 0);
	if (churn) {
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, stress_thread, &p.s), 0);
		CU_ASSERT_EQUAL_FATAL(pthread_create(&blk, NULL, stress_blocks, &p.s), 0);
	}
	CU_ASSERT_EQUAL_FATAL(pthread_create(&tmr, NULL, stress_timer, &p.s), 0);
	pipe_alloc(&p);
	pthread_join(tmr, NULL);
	rte_eal_wait_lcore(worker);
	if (churn) {
		pthread_join(th, NULL);
		pthread_join(blk, NULL);
	}

	RTE_LCORE_FOREACH(i)
		rte_mempool_cache_flush(rte_mempool_default_cache(p.s.mp, i), p.s.mp);
	st = stats(p.s.mp);
	printf("\n    %" PRIu64 " handed over, %" PRIu64 " freed, %" PRIu64 " adds, %" PRIu64
		" removes, %" PRIu64 " objects, %" PRIu64 " short gets ", p.handed, p.freed,
		p.s.adds, p.s.removes, (uint64_t)st.nb_objs, p.short_gets);
	CU_ASSERT(p.handed > 0);
	CU_ASSERT_EQUAL(p.freed, p.handed);
	CU_ASSERT_EQUAL(p.s.dups, 0);
	CU_ASSERT_EQUAL(p.s.bad_owner, 0);
	CU_ASSERT_EQUAL(st.nb_foreign, 0);
	CU_ASSERT_EQUAL(st.nb_double, 0);
	CU_ASSERT_EQUAL(st.nb_free, st.nb_objs);
	assert_stock_counts(p.s.mp, 0);
	if (churn) {
		CU_ASSERT(p.s.adds > 0);
		CU_ASSERT(p.s.removes > 0);
	}
	rte_mempool_obj_iter(p.s.mp, check_owner_clear, &dirty);
	CU_ASSERT_EQUAL(dirty, 0);
	rte_mempool_audit(p.s.mp);
	rte_ring_free(p.r);
	rte_mempool_free(p.s.mp);
}

static void
test_a_pipeline_loses_nothing_while_blocks_come_and_go(void)
{
	pipe_run("tmt_pipe", true, 4096, 4, true);
}

/* A ring longer than the pool: the allocating lcore takes what the other has just put. */
static void
test_a_pipeline_that_drains_the_pool_takes_only_what_was_put(void)
{
	pipe_run("tmt_pipe_chase", false, 32768, 1, false);
}

/* ---- the plugin in stock dpdk-testpmd ---- */

/* Two threads on one CPU, taking and giving back objects without a cache. */
struct one_cpu {
	struct rte_mempool *mp;
	cpu_set_t cpu;
	volatile bool stop;
	uint64_t ops;
};

static void *
one_cpu_churn(void *arg)
{
	struct one_cpu *o = arg;
	void *objs[8];
	uint64_t ops = 0;

	if (pthread_setaffinity_np(pthread_self(), sizeof(o->cpu), &o->cpu) != 0)
		return NULL;
	while (!o->stop) {
		if (rte_mempool_get_bulk(o->mp, objs, RTE_DIM(objs)) == 0) {
			rte_mempool_put_bulk(o->mp, objs, RTE_DIM(objs));
			ops++;
		}
	}
	__atomic_fetch_add(&o->ops, ops, __ATOMIC_RELAXED);
	return NULL;
}

/*
 * A thread that waits for the driver's lock while its holder is preempted (more threads
 * than cores: here two on one CPU, each preempted by the other at the end of its slice,
 * sometimes inside the lock) yields the CPU to it instead of spinning out its own slice;
 * nothing is lost on the way.
 */
static void
test_a_waiter_whose_holder_is_preempted_yields(void)
{
	struct one_cpu o = { 0 };
	struct tide_mempool_stats st;
	cpu_set_t mine;
	pthread_t th[2];
	unsigned int i;

	CU_ASSERT_EQUAL_FATAL(pthread_getaffinity_np(pthread_self(), sizeof(mine), &mine), 0);
	for (i = 0; i < CPU_SETSIZE && !CPU_ISSET(i, &mine); i++)
		;
	CU_ASSERT_FATAL(i < CPU_SETSIZE);
	CPU_ZERO(&o.cpu);
	CPU_SET(i, &o.cpu);
	o.mp = empty_tide_pool("tmt_one_cpu", 0);
	CU_ASSERT_FATAL(add_block(o.mp, BLOCK_LEN) > 0);
	for (i = 0; i < 2; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, one_cpu_churn, &o), 0);
	/* Until the first yield (a preemption inside the lock is a matter of time slices,
	 * not of the machine's speed), at least half a second, at most a minute.
	 */
	tide_test_sleep_us(500 * 1000);
	for (i = 0; i < 600 && stats(o.mp).nb_lock_yields == 0; i++)
		tide_test_sleep_us(100 * 1000);
	o.stop = true;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	st = stats(o.mp);
	printf("\n    %" PRIu64 " ops, %" PRIu64 " yields ", o.ops, st.nb_lock_yields);
	CU_ASSERT(o.ops > 0);
	CU_ASSERT(st.nb_lock_yields > 0);
	CU_ASSERT_EQUAL(st.nb_free, st.nb_objs);
	assert_stock_counts(o.mp, 0);
	rte_mempool_free(o.mp);
}

static long
parse_after(const char *text, const char *anchor, const char *key)
{
	const char *p = strstr(text, anchor);

	if (p == NULL || (p = strstr(p, key)) == NULL)
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

/*
 * Whether port 0's RX and TX packets, in the last statistics dpdk-testpmd printed to @p out
 * (--stats-period), are both over @p want. The forward statistics it prints at its end add
 * up both ports' packets since forwarding began (none move before): at least these.
 */
static bool
testpmd_port0_over(const char *out, long want)
{
	char *text = tide_test_read_file(out), *last = NULL;
	bool over;

	for (char *p = text; (p = strstr(p, "NIC statistics for port 0")) != NULL; p++)
		last = p;
	over = last != NULL && tide_test_number_after(last, "%s:", "RX-packets") > want &&
		tide_test_number_after(last, "%s:", "TX-packets") > want;
	free(text);
	return over;
}

static void
test_plugin_forwards_in_stock_testpmd(void)
{
	char stage_dir[64];
	const char *plugin = getenv("TIDE_PLUGIN");
	const char *testpmd = "/usr/bin/dpdk-testpmd";
	char prefix[96], out[] = "/tmp/tide-testpmd-XXXXXX";
	char *text;
	long rx, tx;
	bool ended = false;
	FILE *f;
	pid_t pid;
	int fd, status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(plugin);
	CU_ASSERT_EQUAL_FATAL(access(testpmd, X_OK), 0);
	plugin = tide_test_stage_plugin(stage_dir, sizeof(stage_dir));
	CU_ASSERT_PTR_NOT_NULL_FATAL(plugin);
	fd = mkstemp(out);
	CU_ASSERT_FATAL(fd >= 0);
	snprintf(prefix, sizeof(prefix), "%s-testpmd", tide_test_file_prefix());
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		const char *preload = getenv("TIDE_CHILD_PRELOAD");

		if (preload != NULL) {
			setenv("LD_PRELOAD", preload, 1);
			setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
		}
		setenv("LD_LIBRARY_PATH", stage_dir, 1);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(testpmd, testpmd, "-l", "0-1", "--no-pci", "--vdev", "net_null0",
			"--vdev", "net_null1", "-d", plugin, "--mbuf-pool-ops-name=tide",
			"--file-prefix", prefix, "--huge-unlink", "--", "--total-num-mbufs=16384",
			"--stats-period=1", "--no-mlockall", (char *)NULL);
		_exit(127);
	}
	/* Until it has forwarded what is asserted below (a minute at most; it prints its
	 * ports' counts every second), or ended: a fixed time is not enough on a loaded
	 * machine, under ASan.
	 */
	for (unsigned int i = 0; i < 600 && !ended && !testpmd_port0_over(out, 1000000); i++) {
		ended = waitpid(pid, &status, WNOHANG) == pid;
		if (!ended)
			tide_test_sleep_us(100 * 1000);
	}
	if (!ended) {
		kill(pid, SIGINT);
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	}
	tide_test_rm_runtime(prefix);
	tide_test_unstage_plugin(stage_dir);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	text = calloc(1, len + 1);
	CU_ASSERT_EQUAL(fread(text, 1, len, f), (size_t)len);
	fclose(f);
	unlink(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "mempool ops selected: tide"));
	rx = parse_after(text, "Accumulated forward statistics", "RX-packets:");
	tx = parse_after(text, "Accumulated forward statistics", "TX-packets:");
	printf("\n    testpmd with the tide plugin forwarded rx=%ld tx=%ld ", rx, tx);
	CU_ASSERT(rx > 1000000);
	CU_ASSERT(tx > 1000000);
	if (rx <= 0)
		fprintf(stderr, "%s\n", text);
	free(text);
}

static int
no_grow(struct rte_mempool *mp __rte_unused, unsigned int n __rte_unused,
	void *arg __rte_unused)
{
	return 0;
}

static int
no_event(struct rte_mempool *mp __rte_unused, enum tide_mempool_block_event ev __rte_unused,
	const struct tide_mempool_block_desc *blk __rte_unused, void *arg __rte_unused)
{
	return 0;
}

/*
 * Bad input to the block API is refused with rte_errno set and a log line of the call's
 * own; a plain miss (no such block, index past the last, no such registration) at DEBUG.
 * A stock mempool (ring ops) is foreign here.
 */
static void
test_bad_input_to_the_block_api_is_logged(void)
{
	struct rte_mempool *mp = raw_tide_pool("tmt_badlog", MAX_OBJS, OBJ_SIZE, 0);
	struct rte_mempool *ring = rte_mempool_create("tmt_ringlog", 63, 64, 0, 0, NULL, NULL,
		NULL, NULL, SOCKET_ID_ANY, 0);
	struct tide_mempool_block_info bi;
	struct tide_mempool_stats st;
	unsigned int n = 0;
	int64_t id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	id = raw_add_mz_block(mp, 1 << 20, NULL);
	CU_ASSERT_FATAL(id >= 0);
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_remove(ring, 1, 0), EINVAL,
		"tide_mempool_block_remove");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_move(NULL, 1, 0), EINVAL,
		"tide_mempool_block_move");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_move(mp, (uint64_t)id, 5), EINVAL,
		"tide_mempool_block_move");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_info(ring, 0, &bi), EINVAL,
		"tmp_block_read");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_sample(mp, 0, NULL), EINVAL,
		"tmp_block_read");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_stats_get(ring, &st), EINVAL,
		"tide_mempool_stats_get");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_obj_iter(mp, NULL, NULL), EINVAL,
		"tide_mempool_obj_iter");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_grow_cb_set(ring, no_grow, NULL), EINVAL,
		"tide_mempool_grow_cb_set");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_event_register(ring, no_event, NULL),
		EINVAL, "tide_mempool_block_event_register");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_event_unregister(mp, NULL, NULL), EINVAL,
		"tide_mempool_block_event_unregister");
	TIDE_TEST_MISS_LOGGED(tide_mempool_block_move(mp, UINT64_MAX, 0), ENOENT,
		"tide_mempool_block_move");
	TIDE_TEST_MISS_LOGGED(tide_mempool_block_info(mp, 1, &bi), ENOENT, "tmp_block_read");
	TIDE_TEST_MISS_LOGGED(tide_mempool_block_event_unregister(mp, no_event, NULL),
		ENOENT, "tide_mempool_block_event_unregister");
	/* Nothing refused was touched: the block and its objects are all there. */
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 1);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, 0, &bi), 0);
	CU_ASSERT_EQUAL(bi.id, (uint64_t)id);
	CU_ASSERT(bi.nb_objs > 0);
	CU_ASSERT_EQUAL(bi.nb_free, bi.nb_objs);
	CU_ASSERT(tide_mempool_obj_iter(mp, count_obj, &n) > 0);
	CU_ASSERT(n >= bi.nb_objs);
	rte_mempool_free(ring);
	rte_mempool_free(mp);
}

/* ---- telemetry: /tide/mempool/list and /tide/mempool/info ---- */

/* Whether the stock client's answer to @p cmd holds @p want (when not, it is printed). */
static bool
stock_has(const char *cmd, const char *want)
{
	char *out = tide_test_stock_telemetry(cmd);
	bool ok = out != NULL && strstr(out, want) != NULL;

	if (!ok)
		printf("\n    %s: want %s, the stock client says: %s ", cmd, want, out);
	free(out);
	return ok;
}

/*
 * A tide mempool made on the driver alone (no pool library, no pktmbuf) is listed and
 * shown: its size, the driver's counters, its blocks with the object out; a mempool of
 * other ops is neither listed nor shown; an unknown name, a missing one, junk after a name
 * and a parameter to the list are refused.
 */
static void
test_telemetry_lists_and_shows_a_tide_mempool_made_on_the_driver_alone(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_tel", 0), *ring;
	struct tide_mempool_block_info b[2];
	char want[256], *out;
	void *obj;

	ring = rte_mempool_create("tmt_tel_ring", 1023, OBJ_SIZE, 0, 0, NULL, NULL, NULL, NULL,
		SOCKET_ID_ANY, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_FATAL(add_block(mp, BLOCK_LEN) > 0 && add_block(mp, BLOCK_LEN) > 0);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get(mp, &obj), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 0, &b[0]), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 1, &b[1]), 0);

	out = tide_test_stock_telemetry("/tide/mempool/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"tmt_tel\""));
	CU_ASSERT_PTR_NULL(strstr(out, "tmt_tel_ring"));
	free(out);
	snprintf(want, sizeof(want), "{\"/tide/mempool/info\": {\"name\": \"tmt_tel\", "
		"\"socket\": %d, \"size\": %u, \"elt_size\": %u, \"cache_size\": 0, "
		"\"populated_size\": %u, ", mp->socket_id, mp->size, mp->elt_size,
		b[0].nb_objs + b[1].nb_objs);
	CU_ASSERT(stock_has("/tide/mempool/info,tmt_tel", want));
	snprintf(want, sizeof(want), "\"blocks\": 2, \"bytes\": %zu, \"objs\": %u, "
		"\"free\": %u, \"deq_refused\": 0, \"foreign\": 0, \"double\": 0, ",
		b[0].len + b[1].len, b[0].nb_objs + b[1].nb_objs, b[0].nb_objs + b[1].nb_objs - 1);
	CU_ASSERT(stock_has("/tide/mempool/info,tmt_tel", want));
	snprintf(want, sizeof(want), "\"blocks_unlisted\": 0, \"block_list\": {\"b1\": "
		"{\"bytes\": %zu, \"objs\": %u, \"free\": %u, \"out\": 1, ", b[0].len,
		b[0].nb_objs, b[0].nb_objs - 1);
	CU_ASSERT(stock_has("/tide/mempool/info,tmt_tel", want));
	snprintf(want, sizeof(want), "\"b2\": {\"bytes\": %zu, \"objs\": %u, \"free\": %u, "
		"\"out\": 0, ", b[1].len, b[1].nb_objs, b[1].nb_objs);
	CU_ASSERT(stock_has("/tide/mempool/info,tmt_tel", want));

	CU_ASSERT(tide_test_stock_refused("/tide/mempool/info,tmt_tel_ring"));
	CU_ASSERT(tide_test_stock_refused("/tide/mempool/info,tmt_nope"));
	CU_ASSERT(tide_test_stock_refused("/tide/mempool/info"));
	CU_ASSERT(tide_test_stock_refused("/tide/mempool/info,tmt_tel,junk"));
	CU_ASSERT(tide_test_stock_refused("/tide/mempool/list,junk"));
	rte_mempool_put(mp, obj);
	rte_mempool_free(ring);
	rte_mempool_free(mp);
	out = tide_test_stock_telemetry("/tide/mempool/list");
	CU_ASSERT_PTR_NULL(strstr(out, "\"tmt_tel\""));
	free(out);
	CU_ASSERT(tide_test_stock_refused("/tide/mempool/info,tmt_tel"));
}

#define TEL_MANY_BLOCKS 66

/* A mempool of 66 blocks: the first 64 are listed, oldest first, the 2 others counted. */
static void
test_telemetry_lists_the_first_64_blocks_and_counts_the_others(void)
{
	struct rte_mempool *mp = empty_tide_pool("tmt_tel_many", 0);
	unsigned int added = 0;
	char *out;

	for (unsigned int i = 0; i < TEL_MANY_BLOCKS; i++)
		added += add_block(mp, 64 << 10) > 0;
	CU_ASSERT_EQUAL_FATAL(added, TEL_MANY_BLOCKS);
	out = tide_test_stock_telemetry("/tide/mempool/info,tmt_tel_many");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"blocks\": 66, "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"blocks_unlisted\": 2, "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"b1\": {\"bytes\": "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"b64\": {\"bytes\": "));
	CU_ASSERT_PTR_NULL(strstr(out, "\"b65\""));
	free(out);
	rte_mempool_free(mp);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("mempool_tide");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_tide_ops_come_after_every_stock_driver);
	CU_ADD_TEST(s, test_stock_pktmbuf_pool_uses_tide);
	CU_ADD_TEST(s, test_chunks_of_a_pool_memzone_make_one_block);
	CU_ADD_TEST(s, test_block_add_then_remove_when_all_free);
	CU_ADD_TEST(s, test_blocks_removed_in_any_order_leave_the_object_list_whole);
	CU_ADD_TEST(s, test_bad_input_to_the_block_api_is_logged);
	CU_ADD_TEST(s, test_a_chunk_off_a_cache_line_is_refused);
	CU_ADD_TEST(s, test_removed_block_memory_is_freed);
	CU_ADD_TEST(s, test_a_freed_pool_gives_all_its_memory_back);
	CU_ADD_TEST(s, test_a_memzone_shared_by_blocks_goes_with_the_last);
	CU_ADD_TEST(s, test_sample_tells_whether_a_block_was_touched);
	CU_ADD_TEST(s, test_dequeue_takes_from_oldest_block);
	CU_ADD_TEST(s, test_the_putter_takes_its_newest_others_the_oldest);
	CU_ADD_TEST(s, test_bulk_sizes_all_or_nothing);
	CU_ADD_TEST(s, test_foreign_and_double_enqueue_are_dropped);
	CU_ADD_TEST(s, test_pointers_into_a_block_header_are_foreign);
	CU_ADD_TEST(s, test_a_foreign_pointer_anywhere_in_a_bulk_ends_the_run_there);
	CU_ADD_TEST(s, test_cached_objects_keep_block_busy);
	CU_ADD_TEST(s, test_a_waiter_whose_holder_is_preempted_yields);
	CU_ADD_TEST(s, test_bad_arguments_are_refused);
	CU_ADD_TEST(s, test_each_documented_error_of_the_control_calls);
	CU_ADD_TEST(s, test_a_block_the_pool_fills_before_its_end_is_added);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_failed_populate_leaves_pool_intact);
#endif
	CU_ADD_TEST(s, test_mpmc_stress_with_cache_while_blocks_come_and_go);
	CU_ADD_TEST(s, test_mpmc_stress_without_cache_while_blocks_come_and_go);
	CU_ADD_TEST(s, test_a_pipeline_loses_nothing_while_blocks_come_and_go);
	CU_ADD_TEST(s, test_a_pipeline_that_drains_the_pool_takes_only_what_was_put);
	CU_ADD_TEST(s, test_plugin_forwards_in_stock_testpmd);
	CU_ADD_TEST(s, test_telemetry_lists_and_shows_a_tide_mempool_made_on_the_driver_alone);
	CU_ADD_TEST(s, test_telemetry_lists_the_first_64_blocks_and_counts_the_others);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "mempool_tide", true, register_tests);
}
