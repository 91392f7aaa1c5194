/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Size classes: the class chosen at every boundary, classes growing under one shared
 * wall and reaping on their own, bad parameters, telemetry.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include "test_common.h"
#include "test_pool_util.h"
#include "tide_fault.h"

static struct tide_pool_set *
make_set(const char *name, unsigned int classes, size_t wall)
{
	struct tide_pool_set_params p;
	struct tide_pool_set *s;

	tide_pool_set_params_init(&p, name);
	p.nb_classes = classes;
	p.base_bytes = 2 * MB;
	p.block_bytes = 2 * MB;
	p.wall_bytes = wall;
	p.cache_size = 0;
	p.reap_period_ms = 0;
	p.idle_ms = 10;
	p.flags = TIDE_POOL_F_NO_PREDICT;
	s = tide_pool_set_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

/* The mbuf for size came from class k, and its data room holds size after the headroom. */
static void
expect_class(const struct tide_pool_set *s, uint32_t size, int k)
{
	struct rte_mbuf *m;

	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_pool_set_class(s, size), k);
	if (k < 0)
		CU_ASSERT_EQUAL(rte_errno, -k);
	m = tide_pool_set_alloc(s, size);
	if (k < 0) {
		CU_ASSERT_PTR_NULL(m);
		CU_ASSERT_PTR_NULL(tide_pool_set_pool(s, size));
		CU_ASSERT_EQUAL(rte_errno, ERANGE);
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_EQUAL(m->pool, s->pools[k]);
	CU_ASSERT(rte_pktmbuf_tailroom(m) >= size);
	/* The smallest that fits: the class below would not hold it. */
	if (k > 0)
		CU_ASSERT(size > (2048u << (k - 1)));
	rte_pktmbuf_free(m);
}

static void
test_class_choice_at_every_boundary(void)
{
	struct tide_pool_set *s = make_set("ts_bound", 5, 64 * MB);

	CU_ASSERT_EQUAL(s->nb_classes, 5);
	CU_ASSERT_EQUAL(s->max_size, 32768);
	expect_class(s, 0, 0);
	expect_class(s, 1, 0);
	for (unsigned int k = 0; k < 5; k++) {
		uint32_t top = 2048u << k;

		expect_class(s, top - 1, (int)k);
		expect_class(s, top, (int)k);
		if (k + 1 < 5)
			expect_class(s, top + 1, (int)k + 1);
	}
	expect_class(s, 32769, -ERANGE);
	expect_class(s, UINT32_MAX, -ERANGE);
	CU_ASSERT_PTR_NULL(tide_pool_set_pool(s, 40000));
	CU_ASSERT_PTR_EQUAL(tide_pool_set_pool(s, 3000), s->pools[1]);
	tide_pool_set_free(s);
}

static void
test_classes_grow_under_one_shared_wall(void)
{
	struct rte_mbuf **m = calloc(16384, sizeof(*m));
	struct tide_pool_stats st0, st1;
	struct tide_pool_set *s;
	unsigned int n = 0;

	/* 3 classes, 2 MB bases: 6 MB held at creation, wall 12 MB: 3 blocks to share. */
	tide_test_clock_fake();
	s = make_set("ts_wall", 3, 12 * MB);

	CU_ASSERT_EQUAL(pstats(s->pools[0]).wall_held, 6 * MB);
	/* Class 0 takes everything it can: the shared wall stops it at 12 MB in all. */
	while (n < 16384 && (m[n] = rte_pktmbuf_alloc(s->pools[0])) != NULL)
		n++;
	st0 = pstats(s->pools[0]);
	st1 = pstats(s->pools[1]);
	CU_ASSERT_EQUAL(st0.nb_blocks, 4);
	CU_ASSERT_EQUAL(st0.wall_held, 12 * MB);
	CU_ASSERT_EQUAL(st0.wall_bytes, 12 * MB);
	CU_ASSERT_EQUAL(st1.wall_held, 12 * MB);
	/* The set's allocation from the exhausted class says so (not an earlier ERANGE). */
	rte_errno = ERANGE;
	CU_ASSERT_PTR_NULL(tide_pool_set_alloc(s, 1000));
	CU_ASSERT_EQUAL(rte_errno, ENOBUFS);
	/* Class 1 cannot grow now, though its own blocks are far from the wall. */
	CU_ASSERT_EQUAL(tide_pool_grow(s->pools[1], 1), -ENOSPC);
	CU_ASSERT(pstats(s->pools[1]).wall_hits >= 1);
	/* Class 0 gives its blocks back (the first sample sees them busy, the next one idle
	 * past the threshold): class 1 may grow again.
	 */
	rte_pktmbuf_free_bulk(m, n);
	CU_ASSERT_EQUAL(tide_pool_reap(s->pools[0]), 0);
	tide_test_clock_pass(20 * MS);
	CU_ASSERT_EQUAL(tide_pool_reap(s->pools[0]), 3);
	CU_ASSERT_EQUAL(pstats(s->pools[1]).wall_held, 6 * MB);
	CU_ASSERT_EQUAL(tide_pool_grow(s->pools[1], 1), 1);
	CU_ASSERT_EQUAL(pstats(s->pools[2]).wall_held, 8 * MB);
	free(m);
	tide_pool_set_free(s);
	tide_test_clock_real();
}

static void
test_classes_reap_on_their_own(void)
{
	struct tide_pool_set *s;
	struct rte_mbuf *busy;

	tide_test_clock_fake();
	s = make_set("ts_reap", 3, 64 * MB);

	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(s->pools[0], 2), 2);
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(s->pools[2], 2), 2);
	/* Class 0's newest block stays busy; class 2 is idle. */
	busy = hold_one_in_block(s->pools[0], 2);
	tide_pool_reap(s->pools[0]);
	tide_test_clock_pass(20 * MS);
	CU_ASSERT_EQUAL(tide_pool_reap(s->pools[2]), 2);
	CU_ASSERT_EQUAL(tide_pool_reap(s->pools[0]), 0);
	CU_ASSERT_EQUAL(pstats(s->pools[0]).nb_blocks, 3);
	CU_ASSERT_EQUAL(pstats(s->pools[2]).nb_blocks, 1);
	rte_pktmbuf_free(busy);
	tide_pool_set_free(s);
	tide_test_clock_real();
}

static void *
create_set(const void *p)
{
	return tide_pool_set_create(p);
}

static int
page_size_walk(const struct rte_memseg_list *msl, void *arg)
{
	uint64_t *min = arg;

	/* The smallest, as the library rounds to (EAL lists the largest pages first). */
	if (!msl->external && (*min == 0 || msl->page_sz < *min))
		*min = msl->page_sz;
	return 0;
}

/*
 * A class of a set can never hold more than its base and the blocks the shared wall leaves
 * room for once the other classes hold their bases: a request for more is refused rather
 * than left waiting for ever.
 */
static void
test_a_class_request_past_what_the_shared_wall_leaves_is_refused(void)
{
	struct tide_pool_set *s = make_set("ts_most", 2, 4 * MB); /* room for the bases only */
	struct rte_mempool *mp = s->pools[0];
	unsigned int n = (unsigned int)pstats(mp).nb_objs;
	struct rte_mbuf **m = calloc(n + 1, sizeof(*m));

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(tide_pool_alloc_wait(mp, m, n + 1, 1000, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_pool_alloc_wait(mp, m, n, 1000, NULL), 0);
	rte_pktmbuf_free_bulk(m, n);
	free(m);
	tide_pool_set_free(s);
}

/*
 * The shared wall, changed through any class, holds every class's base: a wall below their
 * sum is refused (EINVAL, logged), the wall left as it was; their sum is taken.
 */
static void
test_a_shared_wall_below_the_classes_bases_is_refused(void)
{
	struct tide_pool_set *s = make_set("ts_floor", 3, 16 * MB);

	TIDE_TEST_REFUSED_LOGGED(tide_pool_wall_set(s->pools[0], 4 * MB), EINVAL,
		"tide_pool_wall_set");
	TIDE_TEST_REFUSED_LOGGED(tide_pool_wall_set(s->pools[2], 2 * MB), EINVAL,
		"tide_pool_wall_set");
	CU_ASSERT_EQUAL(pstats(s->pools[1]).wall_bytes, 16 * MB);
	CU_ASSERT_EQUAL(tide_pool_wall_set(s->pools[1], 6 * MB), 0);
	CU_ASSERT_EQUAL(pstats(s->pools[0]).wall_bytes, 6 * MB);
	tide_pool_set_free(s);
}

static void
test_bad_set_parameters_are_refused(void)
{
	struct tide_pool_set_params p;
	struct tide_pool_set *s;
	uint64_t page = 0;

	expect_refused(create_set, NULL, EINVAL, "NULL");
	tide_pool_set_params_init(&p, "ts_bad");
	p.nb_classes = 0;
	expect_refused(create_set, &p, EINVAL, "no class");
	tide_pool_set_params_init(&p, "ts_bad");
	p.nb_classes = TIDE_POOL_SET_MAX_CLASSES + 1;
	expect_refused(create_set, &p, EINVAL, "too many classes");
	tide_pool_set_params_init(&p, "ts_bad");
	p.min_size = 3000;
	expect_refused(create_set, &p, EINVAL, "not a power of 2");
	tide_pool_set_params_init(&p, "ts_bad");
	p.min_size = 32768;
	p.nb_classes = 2;
	expect_refused(create_set, &p, EINVAL, "class over an mbuf's data room");
	tide_pool_set_params_init(&p, "ts_bad");
	p.wall_bytes = p.base_bytes * p.nb_classes - 1;
	expect_refused(create_set, &p, EINVAL, "bases over the wall");
	/* Under the wall as given, over it once each base is a whole hugepage. */
	rte_memseg_list_walk(page_size_walk, &page);
	CU_ASSERT_FATAL(page >= 2 * 4096);
	tide_pool_set_params_init(&p, "ts_bad");
	p.nb_classes = 2;
	p.base_bytes = page / 2;
	p.block_bytes = page / 2;
	p.wall_bytes = page + page / 2;
	expect_refused(create_set, &p, EINVAL, "bases over the wall after rounding");
	tide_pool_set_params_init(&p, "ts_bad");
	p.flags = 0xff00;
	expect_refused(create_set, &p, EINVAL, "unknown flags");
	tide_pool_set_params_init(&p, "ts_bad");
	p.socket_id = RTE_MAX_NUMA_NODES - 1;
	expect_refused(create_set, &p, EINVAL, "no such socket");
	tide_pool_set_params_init(&p, "a_set_name_that_is_far_too_long");
	expect_refused(create_set, &p, ENAMETOOLONG, "long name");
	s = make_set("ts_dup", 2, 32 * MB);
	tide_pool_set_params_init(&p, "ts_dup");
	p.nb_classes = 2;
	expect_refused(create_set, &p, EEXIST, "duplicate");
	/* A class is the set's: freed alone, the set would hand out mbufs of a freed pool. */
	rte_errno = 0;
	tide_pool_free(s->pools[0]);
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	CU_ASSERT_TRUE(tide_pool_is_elastic(s->pools[0]));
	expect_class(s, 100, 0);
	tide_pool_set_free(s);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("ts_dup_0"));
	tide_pool_set_free(NULL);
#ifdef TIDE_FAULT_INJECTION
	tide_pool_set_params_init(&p, "ts_nomem");
	p.nb_classes = 2;
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	expect_refused(create_set, &p, ENOMEM, "no memory for the set's records");
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
#endif
}

static void
test_set_telemetry(void)
{
	struct tide_pool_set *s = make_set("ts_tel", 2, 32 * MB);
	char *out;

	out = telemetry_query("/tide/pool_set/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"ts_tel\""));
	free(out);
	out = telemetry_query("/tide/pool_set/info,ts_tel");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"classes\":[\"ts_tel_0\",\"ts_tel_1\"]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"wall_bytes\":33554432"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"max_size\":4096"));
	free(out);
	tide_pool_set_free(s);
}

#ifdef TIDE_FAULT_INJECTION
static void
tel_free_set(void *s)
{
	tide_pool_set_free(s);
}

/* A set freed while /tide/pool_set/info reads it is freed only once the answer is made. */
static void
test_set_telemetry_keeps_the_set_until_it_answered(void)
{
	struct tide_pool_set *s = make_set("ts_telfree", 2, 32 * MB);
	char *out;

	CU_ASSERT(telemetry_free_waits_for_reader("/tide/pool_set/info,ts_telfree",
		TIDE_HOLD_POOL_TEL_READ, "tide_pool_dir", 0, tel_free_set, s, &out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"classes\":[\"ts_telfree_0\",\"ts_telfree_1\"]"));
	free(out);
	CU_ASSERT_PTR_NULL(tide_pool_set_lookup("ts_telfree"));
}

struct early_grower {
	int grown;  /* what class 0's growth returned */
	bool found; /* whether class 0 was found while the set was being made */
};

/* While the set's creation waits before its second class: grow the first all it can. */
static void *
grow_first_class(void *arg)
{
	struct early_grower *g = arg;
	struct rte_mempool *mp;

	if (!tide_fault_pvt_hold_wait(TIDE_HOLD_SET_CLASS_MADE, 5000))
		return NULL;
	mp = rte_mempool_lookup("ts_early_0");
	g->found = mp != NULL;
	if (mp != NULL)
		g->grown = tide_pool_grow(mp, 8);
	tide_fault_pvt_hold_release(TIDE_HOLD_SET_CLASS_MADE);
	return NULL;
}

/*
 * A class grows as soon as it is made, before the set's later classes exist: it may take
 * only the room that their bases leave under the shared wall, and the set is made.
 */
static void
test_a_class_that_grows_before_the_next_is_made_leaves_it_its_base(void)
{
	struct early_grower g = { .grown = -1 };
	struct tide_pool_set *s;
	pthread_t t;

	tide_fault_pvt_hold_arm(TIDE_HOLD_SET_CLASS_MADE);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, grow_first_class, &g), 0);
	/* 4 pages under the wall: three classes' bases and one block. */
	s = make_set("ts_early", 3, 8 * MB);
	pthread_join(t, NULL);
	CU_ASSERT_TRUE(g.found);
	CU_ASSERT_EQUAL(g.grown, 1);
	for (unsigned int k = 0; k < 3; k++)
		CU_ASSERT_EQUAL(pstats(s->pools[k]).nb_blocks, k == 0 ? 2 : 1);
	CU_ASSERT_EQUAL(tide_pool_grow(s->pools[1], 1), -ENOSPC);
	tide_pool_set_free(s);
}
#endif

static void
expect_tel_error(const char *cmd, const char *want)
{
	char *out = telemetry_query(cmd);
	const char *got = out != NULL ? out : "(no reply)";

	if (strcmp(got, want) != 0)
		printf("\n    %s: %s, expected %s ", cmd, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(out);
}

static void
test_set_telemetry_answers_a_bad_request_with_a_reason(void)
{
	char want[128];

	expect_tel_error("/tide/pool_set/info,nosuchset",
		"{\"/tide/pool_set/info\":{\"error\":\"no pool set named nosuchset\"}}");
	expect_tel_error("/tide/pool_set/info", "{\"/tide/pool_set/info\":{\"error\":"
		"\"missing parameter: a pool set name (/tide/pool_set/list lists them)\"}}");
	/* Class names append "_<k>": a set's name is 3 characters shorter than a pool's. */
	snprintf(want, sizeof(want), "{\"/tide/pool_set/info\":{\"error\":\"pool set name "
		"longer than %d characters\"}}", (int)RTE_MEMPOOL_NAMESIZE - 3);
	expect_tel_error("/tide/pool_set/info,a_set_name_that_is_far_too_long", want);
	expect_tel_error("/tide/pool_set/list,x",
		"{\"/tide/pool_set/list\":{\"error\":\"this command takes no parameters\"}}");
}

/*
 * A set freed twice: the second free is refused (EINVAL, logged) without reading the freed
 * set, and a pool made in between, made as the set's class was so that DPDK's heap may
 * well give it the class's memory (the freed set's stale class pointer would then name it),
 * survives. Any other pointer is refused alike.
 */
static void
test_a_set_freed_twice_is_refused_the_second_time(void)
{
	struct tide_pool_set *s = make_set("ts_twice", 1, 8 * MB);
	struct rte_mempool *old = s->pools[0], *mp;
	uint16_t room = old->elt_size - sizeof(struct rte_mbuf);
	struct tide_pool_params p;

	tide_pool_set_free(s);
	CU_ASSERT_PTR_NULL(tide_pool_set_lookup("ts_twice"));
	pool_params(&p, "ts_after", 2 * MB, 2 * MB, 8 * MB, 0);
	p.data_room_size = room;
	p.reap_period_ms = 0;
	p.idle_ms = 10;
	p.flags = TIDE_POOL_F_NO_PREDICT;
	mp = make_pool_p(&p);
	if (mp != old)
		printf("(the new pool is not where the class was) ");
	TIDE_TEST_REFUSED_LOGGED(tide_pool_set_free(s), EINVAL, "tide_pool_set_free");
	CU_ASSERT_PTR_EQUAL(rte_mempool_lookup("ts_after"), mp);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 1);
	tide_pool_free(mp);
	TIDE_TEST_REFUSED_LOGGED(tide_pool_set_free((struct tide_pool_set *)&p), EINVAL,
		"tide_pool_set_free");
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("pool_set");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_class_choice_at_every_boundary);
	CU_ADD_TEST(s, test_classes_grow_under_one_shared_wall);
	CU_ADD_TEST(s, test_classes_reap_on_their_own);
	CU_ADD_TEST(s, test_bad_set_parameters_are_refused);
	CU_ADD_TEST(s, test_a_class_request_past_what_the_shared_wall_leaves_is_refused);
	CU_ADD_TEST(s, test_a_shared_wall_below_the_classes_bases_is_refused);
	CU_ADD_TEST(s, test_set_telemetry);
	CU_ADD_TEST(s, test_set_telemetry_answers_a_bad_request_with_a_reason);
	CU_ADD_TEST(s, test_a_set_freed_twice_is_refused_the_second_time);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_set_telemetry_keeps_the_set_until_it_answered);
	CU_ADD_TEST(s, test_a_class_that_grows_before_the_next_is_made_leaves_it_its_base);
#endif
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "pool_set", true, register_tests);
}
