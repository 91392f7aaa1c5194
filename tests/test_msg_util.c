/* SPDX-License-Identifier: BSD-3-Clause */

#define _GNU_SOURCE /* gettid() */

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "test_common.h"
#include "test_msg_util.h"
#include "test_pool_util.h"
#include "tide_pool.h"
#include "tide_process.h"

struct rte_mempool *tide_mp;
struct rte_mempool *stock_mp;

void *
bc_waiter_main(void *arg)
{
	struct bc_waiter *w = arg;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	w->ret = tide_bcast_wait(w->b, w->timeout_us);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

bool
bc_waiter_asleep(void *arg)
{
	struct bc_waiter *w = arg;

	return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE) == 0 && tide_test_tid_asleep(&w->tid);
}

bool
bc_waiter_returned(void *arg)
{
	return __atomic_load_n(&((struct bc_waiter *)arg)->done, __ATOMIC_ACQUIRE) != 0;
}

void
sleepers_slots_take(struct tide_sleepers *s, uint32_t n, struct slots_taken *t)
{
	const unsigned int last = TIDE_SLEEPERS_PVT_SLOTS - 1;
	pid_t dead;

	t->live = fork();
	if (t->live == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* ends with the test, however it ends */
		for (;;)
			pause();
	}
	dead = fork();
	if (dead == 0)
		_exit(0);
	CU_ASSERT_FATAL(t->live > 0 && dead > 0);
	t->live_tag = tide_process_tag((uint32_t)t->live, tide_process_start((uint32_t)t->live));
	t->dead_tag = tide_process_tag((uint32_t)dead, tide_process_start((uint32_t)dead));
	waitpid(dead, NULL, 0);
	for (unsigned int i = 0; i < last; i++)
		s->by[i] = (struct tide_sleepers_slot){ .tag = t->live_tag };
	s->by[last] = (struct tide_sleepers_slot){ .tag = t->dead_tag, .n = n };
	s->n = n;
}

void
sleepers_slots_free(struct tide_sleepers *s, struct slots_taken *t)
{
	memset(s->by, 0, sizeof(s->by));
	kill(t->live, SIGKILL);
	waitpid(t->live, NULL, 0);
}

unsigned int
in_use(struct rte_mempool *mp)
{
	if (tide_pool_is_elastic(mp)) {
		struct tide_pool_stats st;

		tide_pool_stats_get(mp, &st);
		return (unsigned int)(st.nb_in_use);
	}
	return rte_mempool_in_use_count(mp);
}

int
msg_suite_init(void)
{
	struct tide_msg_conf conf = { .nb_proxies = NB_PROXIES, .socket_id = SOCKET_ID_ANY };
	struct tide_pool_params p;

	if (tide_msg_init(&conf) != 0)
		return -1;
	pool_params(&p, "tm_tide", 16 * MB, 8 * MB, 256 * MB, 0);
	tide_mp = tide_pool_create(&p);
	stock_mp = rte_pktmbuf_pool_create("tm_stock", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	return tide_mp != NULL && stock_mp != NULL ? 0 : -1;
}

int
msg_suite_fini(void)
{
	tide_pool_free(tide_mp);
	rte_mempool_free(stock_mp);
	return 0;
}

struct rte_mbuf *
pkt(struct rte_mempool *mp, uint32_t seq, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rte_pktmbuf_append(m, len));
	*rte_pktmbuf_mtod(m, uint32_t *) = seq;
	return m;
}

uint32_t
seq_of(struct rte_mbuf *m)
{
	return *rte_pktmbuf_mtod(m, uint32_t *);
}

struct tide_xchg *
xchg(const char *name, enum tide_xchg_type type, unsigned int size, unsigned int levels)
{
	struct tide_xchg_params p = {
		.name = name, .type = type, .size = size, .nb_prio = levels,
		.socket_id = SOCKET_ID_ANY,
	};
	struct tide_xchg *x = tide_xchg_create(&p);

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	return x;
}

uint32_t
thread_rand(uint64_t *state, uint32_t bound)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (uint32_t)((*state >> 11) % bound);
}

void
test_nothing_leaked_at_the_end(void)
{
	CU_ASSERT_EQUAL(tide_msg_leak_report(stdout), 0);
	CU_ASSERT_EQUAL(in_use(tide_mp), 0);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
}
