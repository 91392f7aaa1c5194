/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Stages and ownership (lib/msg/msg_stage.c, the walk of msg.c) under EAL: what a stage
 * holds is listed and released when it stops, a real message held only by proxies belongs
 * to no stage, the leak report, and every error the calls document.
 */

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "test_common.h"
#include "test_msg_util.h"
#include "tide_fault.h"
#include "tide_msg.h"

static void
test_stages_list_stop_and_leak_report(void)
{
	int a = tide_stage_register("tm_stage_a"), b = tide_stage_register("tm_stage_b");
	struct tide_xchg *x = xchg("tm_stages", TIDE_XCHG_FIFO, 64, 0);
	struct rte_mbuf *m[10], *got[10], *listed[16];
	struct tide_msg_range r = { 0, 4 };
	struct rte_mbuf *px;
	unsigned int before = in_use(tide_mp);

	CU_ASSERT_FATAL(a >= 0 && b >= 0 && a != b);
	CU_ASSERT_EQUAL(tide_stage_register("tm_stage_a"), -EEXIST);
	CU_ASSERT_EQUAL(tide_msg_leak_report(NULL), 0);
	for (int i = 0; i < 10; i++) {
		m[i] = pkt(tide_mp, (uint32_t)i, 64);
		tide_msg_make(m[i], (uint16_t)a, 0);
	}
	CU_ASSERT_EQUAL(tide_xchg_send_burst(x, m, 4), 4);
	CU_ASSERT_EQUAL(tide_xchg_recv_burst(x, got, 3, (uint16_t)b), 3);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(m[9], 1, &r, &px), 0);
	/* a: m[4..9] and the proxy; b: three; one in transit. */
	CU_ASSERT_EQUAL(tide_stage_list((uint16_t)a, listed, 16), 7);
	CU_ASSERT_EQUAL(tide_stage_list((uint16_t)b, NULL, 0), 3);
	CU_ASSERT_EQUAL(tide_stage_list(TIDE_STAGE_NONE, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(tide_msg_leak_report(NULL), 11);
	/* Stopping b releases what b holds, nothing else. */
	CU_ASSERT_EQUAL(tide_stage_stop((uint16_t)b), 3);
	CU_ASSERT_EQUAL(in_use(tide_mp), before + 7);
	CU_ASSERT_EQUAL(tide_stage_list((uint16_t)b, NULL, 0), 0);
	CU_ASSERT_EQUAL(tide_stage_stop((uint16_t)a), 7);
	CU_ASSERT_EQUAL(tide_msg_leak_report(NULL), 1); /* the one still in the exchange */
	tide_xchg_free(x);
	CU_ASSERT_EQUAL(tide_msg_leak_report(stdout), 0);
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
	tide_stage_unregister((uint16_t)a);
	tide_stage_unregister((uint16_t)b);
}

static void
test_a_released_message_held_by_proxies_belongs_to_no_stage(void)
{
	int a = tide_stage_register("tm_own_a"), b = tide_stage_register("tm_own_b");
	struct tide_msg_range r = { 0, 8 };
	struct rte_mbuf *real = pkt(tide_mp, 0, 64), *p;
	unsigned int before = in_use(tide_mp);

	tide_msg_make(real, (uint16_t)a, 0);
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(real, 1, &r, &p), 0);
	tide_msg_hdr(p)->owner = (uint16_t)b; /* as if b had received it */
	tide_msg_release(real);
	/* a let go: stopping a releases nothing (no double release); b's proxy keeps it. */
	CU_ASSERT_EQUAL(tide_stage_list((uint16_t)a, NULL, 0), 0);
	CU_ASSERT_EQUAL(tide_stage_stop((uint16_t)a), 0);
	CU_ASSERT_TRUE(tide_msg_is_made(real));
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
	CU_ASSERT_EQUAL(tide_stage_stop((uint16_t)b), 1);
	CU_ASSERT_EQUAL(in_use(tide_mp), before - 1);
	tide_stage_unregister((uint16_t)a);
	tide_stage_unregister((uint16_t)b);
}

/* Ids are 0..TIDE_STAGE_MAX-1 (they fit the uint16_t every stage argument takes) and are
 * handed out again once unregistered; names are checked.
 */
static void
test_stage_registration_errors_are_reported(void)
{
	static int ids[TIDE_STAGE_MAX];
	char name[TIDE_STAGE_NAMESIZE + 1];
	unsigned int n = 0;
	int id;

	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_stage_register(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_stage_register(""), -EINVAL);
	memset(name, 's', sizeof(name) - 1);
	name[TIDE_STAGE_NAMESIZE] = '\0'; /* TIDE_STAGE_NAMESIZE chars: one too many */
	CU_ASSERT_EQUAL(tide_stage_register(name), -EINVAL);
	name[TIDE_STAGE_NAMESIZE - 1] = '\0';
	id = tide_stage_register(name);
	CU_ASSERT(id >= 0 && id < TIDE_STAGE_MAX);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_stage_register(name), -EEXIST);
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
	CU_ASSERT_EQUAL(tide_stage_unregister((uint16_t)id), 0);
	/* Every id, then no more. */
	for (;;) {
		snprintf(name, sizeof(name), "tm_many_%u", n);
		id = tide_stage_register(name);
		if (id < 0)
			break;
		CU_ASSERT(id < TIDE_STAGE_MAX && id == (uint16_t)id);
		CU_ASSERT_FATAL(n < TIDE_STAGE_MAX);
		ids[n++] = id;
	}
	CU_ASSERT_EQUAL(id, -ENOSPC);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	CU_ASSERT_EQUAL(n, TIDE_STAGE_MAX);
	CU_ASSERT_EQUAL(tide_stage_unregister((uint16_t)ids[7]), 0);
	CU_ASSERT_EQUAL(tide_stage_register("tm_again"), ids[7]);
	for (unsigned int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(tide_stage_unregister((uint16_t)ids[i]), 0);
	/* Unregistered, out of range, or no stage at all. */
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_stage_unregister((uint16_t)ids[0]), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_stage_unregister(TIDE_STAGE_MAX), -EINVAL);
	CU_ASSERT_EQUAL(tide_stage_unregister(TIDE_STAGE_NONE), -EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_stage_list(TIDE_STAGE_MAX, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_stage_stop(TIDE_STAGE_NONE), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	/* An unregistered id still lists (and stops) what carries it. */
	CU_ASSERT_EQUAL(tide_stage_list((uint16_t)ids[0], NULL, 0), 0);
	CU_ASSERT_EQUAL(tide_stage_stop((uint16_t)ids[0]), 0);
}

#ifdef TIDE_FAULT_INJECTION
struct walk_free {
	struct rte_mempool *mp;
	uint16_t stage;
	int listed;
	bool freed;
};

static void *
walk_list(void *arg)
{
	struct walk_free *w = arg;

	w->listed = tide_stage_list(w->stage, NULL, 0);
	return NULL;
}

static void *
walk_free_pool(void *arg)
{
	struct walk_free *w = arg;

	rte_mempool_free(w->mp);
	__atomic_store_n(&w->freed, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A pool freed while the walk over live messages is on (tide_stage_list(), the leak
 * report, /tide/stage/info) goes only once the walk is over: the walk holds DPDK's list of
 * mempools as rte_mempool_free() needs it. Before, the free went on meanwhile, and the walk
 * read what it freed (here: missed its three messages). The free is given a second to go
 * on while the walk is held; it must not have.
 */
static void
test_a_pool_freed_during_a_walk_waits_for_it(void)
{
	int s = tide_stage_register("tm_walk");
	struct walk_free w = { .listed = -1 };
	struct rte_mbuf *m[3];
	pthread_t walker, freer;
	uint64_t deadline;

	CU_ASSERT_FATAL(s >= 0);
	w.stage = (uint16_t)s;
	w.mp = rte_pktmbuf_pool_create("tm_walkfree", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	CU_ASSERT_FATAL(w.mp != NULL);
	for (int i = 0; i < 3; i++) {
		m[i] = pkt(w.mp, (uint32_t)i, 64);
		CU_ASSERT_FATAL(m[i] != NULL);
		tide_msg_make(m[i], (uint16_t)s, 0);
	}
	tide_fault_pvt_hold_arm(TIDE_HOLD_MSG_WALK_POOL);
	CU_ASSERT_FATAL(pthread_create(&walker, NULL, walk_list, &w) == 0);
	CU_ASSERT(tide_fault_pvt_hold_wait(TIDE_HOLD_MSG_WALK_POOL, 10000));
	CU_ASSERT_FATAL(pthread_create(&freer, NULL, walk_free_pool, &w) == 0);
	deadline = tide_test_now_ns() + 1000000000ull;
	while (!__atomic_load_n(&w.freed, __ATOMIC_ACQUIRE) && tide_test_now_ns() < deadline)
		rte_pause();
	CU_ASSERT(!__atomic_load_n(&w.freed, __ATOMIC_ACQUIRE));
	tide_fault_pvt_hold_release(TIDE_HOLD_MSG_WALK_POOL);
	pthread_join(walker, NULL);
	pthread_join(freer, NULL);
	CU_ASSERT_EQUAL(w.listed, 3);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tm_walkfree"));
	CU_ASSERT_EQUAL(tide_stage_list((uint16_t)s, NULL, 0), 0);
	tide_stage_unregister((uint16_t)s);
}
#endif

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("msg_stage", msg_suite_init, msg_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_stages_list_stop_and_leak_report);
	CU_ADD_TEST(s, test_a_released_message_held_by_proxies_belongs_to_no_stage);
	CU_ADD_TEST(s, test_stage_registration_errors_are_reported);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_pool_freed_during_a_walk_waits_for_it);
#endif
	CU_ADD_TEST(s, test_nothing_leaked_at_the_end);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "msg_stage", true, register_tests);
}
