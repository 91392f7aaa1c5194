/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Messages and exchanges under EAL, with an elastic pool and a stock pool: make/unmake in
 * place, FIFO and priority order (also with 2 lcores and non-EAL threads), blocking
 * receive, the broadcast interlock, proxies released in every order, checked release,
 * stage ownership, and no mbuf leaked at the end.
 */

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>


#include "test_common.h"
#include "test_pool_util.h"
#include "tide_mempool.h"
#include "tide_msg.h"
#include "tide_pool.h"

#define NB_PROXIES 4096

static struct rte_mempool *tide_mp;  /* an elastic pool */
static struct rte_mempool *stock_mp; /* a stock ring_mp_mc pool */

/* Mbufs of a pool out of it now. */
static unsigned int
in_use(struct rte_mempool *mp)
{
	if (tide_pool_is_elastic(mp)) {
		struct tide_pool_stats st;

		tide_pool_stats_get(mp, &st);
		return (unsigned int)(st.nb_in_use);
	}
	return rte_mempool_in_use_count(mp);
}

static int
suite_init(void)
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

static int
suite_fini(void)
{
	tide_pool_free(tide_mp);
	rte_mempool_free(stock_mp);
	return 0;
}

static struct rte_mbuf *
pkt(struct rte_mempool *mp, uint32_t seq, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rte_pktmbuf_append(m, len));
	*rte_pktmbuf_mtod(m, uint32_t *) = seq;
	return m;
}

static uint32_t
seq_of(struct rte_mbuf *m)
{
	return *rte_pktmbuf_mtod(m, uint32_t *);
}

static struct tide_xchg *
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

/* ---- make / unmake ---- */

static void
make_unmake_on(struct rte_mempool *mp)
{
	struct rte_mbuf *m = pkt(mp, 42, 100), copy;
	unsigned int before = in_use(mp);
	char data[100];

	memcpy(data, rte_pktmbuf_mtod(m, void *), sizeof(data));
	memcpy(&copy, m, sizeof(copy));
	CU_ASSERT_FALSE(tide_msg_is_made(m));
	tide_msg_make(m, 7, 3);
	/* In place: nothing allocated, the data where it was and as it was. */
	CU_ASSERT_EQUAL(in_use(mp), before);
	CU_ASSERT_TRUE(tide_msg_is_made(m));
	CU_ASSERT_EQUAL(tide_msg_owner(m), 7);
	CU_ASSERT_EQUAL(tide_msg_prio(m), 3);
	CU_ASSERT_FALSE(tide_msg_is_proxy(m));
	CU_ASSERT_PTR_EQUAL(m->buf_addr, copy.buf_addr);
	CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod(m, void *), data, sizeof(data)), 0);
	/* Unmade, the mbuf is as the PMD gave it: every field but the header's dynfield. */
	tide_msg_unmake(m);
	CU_ASSERT_FALSE(tide_msg_is_made(m));
	CU_ASSERT_EQUAL(memcmp(m, &copy, offsetof(struct rte_mbuf, dynfield1)), 0);
	CU_ASSERT_EQUAL(rte_mbuf_check(m, 1, NULL), 0);
	rte_pktmbuf_free(m);
}

static void
test_make_and_unmake_in_place_on_both_kinds_of_pool(void)
{
	struct rte_mbuf *m[32];

	make_unmake_on(tide_mp);
	make_unmake_on(stock_mp);
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(tide_mp, m, 32), 0);
	tide_msg_make_burst(m, 32, 1, 0);
	for (int i = 0; i < 32; i++)
		CU_ASSERT_TRUE(tide_msg_is_made(m[i]));
	tide_msg_unmake_burst(m, 32);
	for (int i = 0; i < 32; i++)
		CU_ASSERT_FALSE(tide_msg_is_made(m[i]));
	rte_pktmbuf_free_bulk(m, 32);
}

/* ---- FIFO and priority order ---- */

static void
test_fifo_exchange_keeps_order(void)
{
	struct tide_xchg *x = xchg("tm_fifo", TIDE_XCHG_FIFO, 1024, 0);
	struct rte_mbuf *m[64];
	uint32_t next = 0;

	for (uint32_t b = 0; b < 10; b++) {
		for (int i = 0; i < 64; i++) {
			m[i] = pkt(tide_mp, b * 64 + i, 64);
			tide_msg_make(m[i], 1, 0);
		}
		CU_ASSERT_EQUAL(tide_xchg_send_burst(x, m, 64), 64);
		CU_ASSERT_EQUAL(tide_msg_owner(m[0]), TIDE_STAGE_NONE);
	}
	CU_ASSERT_EQUAL(tide_xchg_count(x), 640);
	while (next < 640) {
		unsigned int n = tide_xchg_recv_burst(x, m, 50, 2);

		CU_ASSERT_FATAL(n > 0);
		for (unsigned int i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(seq_of(m[i]), next++);
			CU_ASSERT_EQUAL(tide_msg_owner(m[i]), 2);
		}
		tide_msg_release_burst(m, n);
	}
	CU_ASSERT_EQUAL(tide_xchg_recv_burst(x, m, 50, 2), 0);
	tide_xchg_free(x);
}

/* Receives read the ring's slots in place: a burst that runs past the ring's end must come
 * out whole, in order, each header written (owner, or unmade), on both kinds of exchange.
 */
static void
test_receives_that_wrap_the_ring_keep_order_and_write_every_header(void)
{
	struct tide_xchg *x[2] = { xchg("tm_wrap", TIDE_XCHG_FIFO, 7, 0),
		xchg("tm_wrap_p", TIDE_XCHG_PRIO, 7, 2) };
	unsigned int before = in_use(tide_mp);

	for (unsigned int k = 0; k < 2; k++) {
		uint32_t sent = 0, next = 0;

		/* Bursts of 5 and 3 through 8 slots: every few rounds a receive wraps. */
		for (unsigned int round = 0; round < 40; round++) {
			struct rte_mbuf *m[5];
			unsigned int n;

			for (int i = 0; i < 5; i++)
				m[i] = pkt(tide_mp, sent + (uint32_t)i, 64);
			CU_ASSERT_EQUAL_FATAL(tide_xchg_make_send_burst(x[k], m, 5, 1, 1), 5);
			sent += 5;
			while ((n = round % 2 ? tide_xchg_recv_unmake_burst(x[k], m, 3)
					      : tide_xchg_recv_burst(x[k], m, 3, 4)) > 0) {
				for (unsigned int i = 0; i < n; i++) {
					CU_ASSERT_EQUAL(seq_of(m[i]), next++);
					if (round % 2) {
						CU_ASSERT_FALSE(tide_msg_is_made(m[i]));
					} else {
						CU_ASSERT_TRUE(tide_msg_is_made(m[i]));
						CU_ASSERT_EQUAL(tide_msg_owner(m[i]), 4);
					}
				}
				if (round % 2)
					rte_pktmbuf_free_bulk(m, n);
				else
					tide_msg_release_burst(m, n);
			}
		}
		CU_ASSERT_EQUAL(next, sent);
		tide_xchg_free(x[k]);
	}
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
}

/* The RX and TX stage forms: make+send and receive+unmake, one pass each. */
static void
test_stage_forms_make_send_and_receive_unmake(void)
{
	struct tide_xchg *x = xchg("tm_forms", TIDE_XCHG_FIFO, 63, 0);
	struct tide_xchg *px = xchg("tm_forms_p", TIDE_XCHG_PRIO, 64, 3);
	struct rte_mbuf *m[80], *got[80];
	unsigned int before = in_use(tide_mp), sent, n;
	int st = tide_stage_register("tm_forms_rx");

	CU_ASSERT_FATAL(st >= 0);

	for (int i = 0; i < 80; i++)
		m[i] = pkt(tide_mp, (uint32_t)i, 64);
	/* 80 bare mbufs into an exchange of 63: the rest stay, made and held by the stage. */
	sent = tide_xchg_make_send_burst(x, m, 80, (uint16_t)st, 1);
	CU_ASSERT_EQUAL(sent, 63);
	for (unsigned int i = 0; i < sent; i++) {
		CU_ASSERT_TRUE(tide_msg_is_made(m[i]));
		CU_ASSERT_EQUAL(tide_msg_owner(m[i]), TIDE_STAGE_NONE);
		CU_ASSERT_EQUAL(tide_msg_prio(m[i]), 1);
	}
	for (unsigned int i = sent; i < 80; i++) {
		CU_ASSERT_TRUE(tide_msg_is_made(m[i]));
		CU_ASSERT_EQUAL(tide_msg_owner(m[i]), st);
		CU_ASSERT_EQUAL(seq_of(m[i]), i);
	}
	CU_ASSERT_EQUAL(tide_stage_list((uint16_t)st, NULL, 0), (int)(80 - sent));
	/* Out they come bare, in order, ready for rte_eth_tx_burst(). */
	n = tide_xchg_recv_unmake_burst(x, got, 80);
	CU_ASSERT_EQUAL(n, sent);
	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT_FALSE(tide_msg_is_made(got[i]));
		CU_ASSERT_EQUAL(seq_of(got[i]), i);
		CU_ASSERT_EQUAL(rte_mbuf_check(got[i], 1, NULL), 0);
	}
	rte_pktmbuf_free_bulk(got, n);
	tide_msg_release_burst(&m[sent], 80 - sent);
	/* On a priority exchange the burst goes to its level (clamped to the top). */
	for (int i = 0; i < 4; i++)
		m[i] = pkt(tide_mp, (uint32_t)i, 64);
	CU_ASSERT_EQUAL(tide_xchg_make_send_burst(px, m, 2, 4, 0), 2);
	CU_ASSERT_EQUAL(tide_xchg_make_send_burst(px, &m[2], 2, 4, 9), 2);
	CU_ASSERT_EQUAL(tide_xchg_recv_burst(px, got, 4, 5), 4);
	CU_ASSERT_EQUAL(seq_of(got[0]), 2);
	CU_ASSERT_EQUAL(seq_of(got[2]), 0);
	CU_ASSERT_EQUAL(tide_msg_prio(got[0]), 9);
	CU_ASSERT_EQUAL(tide_msg_owner(got[0]), 5);
	tide_msg_release_burst(got, 4);
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
	tide_xchg_free(x);
	tide_xchg_free(px);
	tide_stage_unregister((uint16_t)st);
}

static void
test_priority_exchange_serves_highest_first_fifo_within(void)
{
	struct tide_xchg *x = xchg("tm_prio", TIDE_XCHG_PRIO, 256, 4);
	struct rte_mbuf *m[200];
	uint32_t last[4] = { 0 };
	int lvl = 3;

	/* Interleaved levels; seq carries level * 1000 + order within the level. */
	for (uint32_t i = 0; i < 200; i++) {
		uint8_t p = (uint8_t)((i * 7) % 4);

		m[i] = pkt(tide_mp, p * 1000 + last[p]++, 64);
		tide_msg_make(m[i], 1, p);
	}
	CU_ASSERT_EQUAL(tide_xchg_send_burst(x, m, 200), 200);
	memset(last, 0, sizeof(last));
	for (unsigned int got = 0; got < 200;) {
		unsigned int n = tide_xchg_recv_burst(x, m, 33, 2);

		for (unsigned int i = 0; i < n; i++) {
			uint32_t s = seq_of(m[i]);
			int p = tide_msg_prio(m[i]);

			/* The receiver learns the level; levels only go down; FIFO within. */
			CU_ASSERT_EQUAL((int)(s / 1000), p);
			CU_ASSERT(p <= lvl);
			lvl = p;
			CU_ASSERT_EQUAL(s % 1000, last[p]++);
		}
		tide_msg_release_burst(m, n);
		got += n;
	}
	tide_xchg_free(x);
}

static void
test_a_full_exchange_refuses_and_the_caller_keeps_the_rest(void)
{
	struct tide_xchg *x = xchg("tm_full", TIDE_XCHG_FIFO, 8, 0);
	struct rte_mbuf *m[40];
	unsigned int sent;

	for (int i = 0; i < 40; i++) {
		m[i] = pkt(stock_mp, (uint32_t)i, 64);
		tide_msg_make(m[i], 1, 0);
	}
	sent = tide_xchg_send_burst(x, m, 40);
	CU_ASSERT(sent >= 8 && sent < 40);
	/* What was not sent is still ours, untouched, in order. */
	for (unsigned int i = sent; i < 40; i++) {
		CU_ASSERT_EQUAL(seq_of(m[i]), i);
		CU_ASSERT_EQUAL(tide_msg_owner(m[i]), 1);
	}
	tide_msg_release_burst(&m[sent], 40 - sent);
	tide_xchg_free(x); /* releases what it holds */
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
}

static void
test_a_priority_burst_goes_level_by_level_and_keeps_the_refused_in_order(void)
{
	struct tide_xchg *x = xchg("tm_part", TIDE_XCHG_PRIO, 4, 2);
	struct rte_mbuf *fill[8], *m[6], *got[16];
	unsigned int sent, n;

	/* Level 1 takes 7: leave room for one. */
	for (int i = 0; i < 6; i++) {
		fill[i] = pkt(stock_mp, 100 + i, 64);
		tide_msg_make(fill[i], 1, 1);
	}
	CU_ASSERT_EQUAL_FATAL(tide_xchg_send_burst(x, fill, 6), 6);
	/* a0 b1 c0 d1 e0 f1: all of level 0 fits, one of level 1. */
	for (int i = 0; i < 6; i++) {
		m[i] = pkt(stock_mp, (uint32_t)i, 64);
		tide_msg_make(m[i], 1, (uint8_t)(i % 2));
	}
	sent = tide_xchg_send_burst(x, m, 6);
	CU_ASSERT_EQUAL(sent, 4);
	CU_ASSERT_EQUAL(seq_of(m[4]), 3); /* d, then f: refused, in order, ours */
	CU_ASSERT_EQUAL(seq_of(m[5]), 5);
	CU_ASSERT_EQUAL(tide_msg_owner(m[4]), 1);
	tide_msg_release_burst(&m[4], 2);
	/* Level 1 first (the fill, then b), then level 0 in order: a, c, e. */
	n = tide_xchg_recv_burst(x, got, 16, 2);
	CU_ASSERT_EQUAL_FATAL(n, 10);
	CU_ASSERT_EQUAL(seq_of(got[5]), 105);
	CU_ASSERT_EQUAL(seq_of(got[6]), 1);
	CU_ASSERT_EQUAL(seq_of(got[7]), 0);
	CU_ASSERT_EQUAL(seq_of(got[8]), 2);
	CU_ASSERT_EQUAL(seq_of(got[9]), 4);
	tide_msg_release_burst(got, n);
	tide_xchg_free(x);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
}

/* A thread's own random numbers (rte_rand() is for lcores). */
static uint32_t
thread_rand(uint64_t *state, uint32_t bound)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (uint32_t)((*state >> 11) % bound);
}

/* ---- concurrency: 2 producers and 2 consumers (lcores and non-EAL threads) ---- */

#define CONC_PER_PRODUCER 20000
#define CONC_LEVELS 3

struct conc {
	struct tide_xchg *x;
	volatile int producers_done;
	uint64_t received;
	uint64_t order_errors;
	uint64_t prio_errors;
};

/* Producer p sends seq = p << 24 | level << 20 | counter-within-level. */
static void
conc_produce(struct conc *c, uint32_t p)
{
	uint32_t count[CONC_LEVELS] = { 0 };
	uint64_t rnd = 0x2545f4914f6cdd1dull * (p + 1);
	struct rte_mbuf *m[16];
	unsigned int total = 0;

	while (total < CONC_PER_PRODUCER) {
		unsigned int n = RTE_MIN(16u, CONC_PER_PRODUCER - total), sent = 0;

		if (rte_pktmbuf_alloc_bulk(tide_mp, m, n) != 0)
			continue;
		for (unsigned int i = 0; i < n; i++) {
			uint8_t lvl = (uint8_t)thread_rand(&rnd, CONC_LEVELS);

			rte_pktmbuf_append(m[i], 64);
			*rte_pktmbuf_mtod(m[i], uint32_t *) = p << 24 | (uint32_t)lvl << 20 |
				count[lvl]++;
			tide_msg_make(m[i], (uint16_t)p, lvl);
		}
		while (sent < n)
			sent += tide_xchg_send_burst(c->x, &m[sent], n - sent);
		total += n;
	}
	__atomic_fetch_add(&c->producers_done, 1, __ATOMIC_RELEASE);
}

/* Each consumer sees, per producer and level, increasing counters. */
static void
conc_consume(struct conc *c, uint16_t stage)
{
	uint32_t last[2][CONC_LEVELS];
	struct rte_mbuf *m[32];

	memset(last, 0xff, sizeof(last));
	for (;;) {
		unsigned int n = tide_xchg_recv_burst(c->x, m, 32, stage);

		if (n == 0) {
			if (__atomic_load_n(&c->producers_done, __ATOMIC_ACQUIRE) == 2 &&
					tide_xchg_count(c->x) == 0)
				break;
			continue;
		}
		for (unsigned int i = 0; i < n; i++) {
			uint32_t s = seq_of(m[i]), p = s >> 24, lvl = (s >> 20) & 0xf;
			uint32_t k = s & 0xfffff;

			if (p > 1 || lvl >= CONC_LEVELS || lvl != tide_msg_prio(m[i]))
				__atomic_fetch_add(&c->prio_errors, 1, __ATOMIC_RELAXED);
			else if (last[p][lvl] != UINT32_MAX && k <= last[p][lvl])
				__atomic_fetch_add(&c->order_errors, 1, __ATOMIC_RELAXED);
			else
				last[p][lvl] = k;
		}
		tide_msg_release_burst(m, n);
		__atomic_fetch_add(&c->received, n, __ATOMIC_RELAXED);
	}
}

static int
conc_lcore(void *arg)
{
	conc_produce(arg, 0);
	conc_consume(arg, 10);
	return 0;
}

static void *
conc_producer_thread(void *arg)
{
	conc_produce(arg, 1);
	return NULL;
}

static void *
conc_consumer_thread(void *arg)
{
	conc_consume(arg, 11);
	return NULL;
}

static void
test_order_holds_with_two_lcores_and_threads(void)
{
	struct conc c = { .x = xchg("tm_conc", TIDE_XCHG_PRIO, 512, CONC_LEVELS) };
	int worker = tide_test_worker_lcore();
	unsigned int before = in_use(tide_mp);
	pthread_t prod, cons;

	CU_ASSERT_FATAL(worker >= 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&cons, NULL, conc_consumer_thread, &c), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&prod, NULL, conc_producer_thread, &c), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(conc_lcore, &c, (unsigned int)worker), 0);
	conc_consume(&c, 12);
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	rte_eal_wait_lcore((unsigned int)worker);
	CU_ASSERT_EQUAL(c.received, 2 * CONC_PER_PRODUCER);
	CU_ASSERT_EQUAL(c.order_errors, 0);
	CU_ASSERT_EQUAL(c.prio_errors, 0);
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
	tide_xchg_free(c.x);
}

/* ---- the rings under an exchange, under stress ---- */

#define STRESS_THREADS 4
#define STRESS_PER_SENDER 20000
#define STRESS_LEVELS 4

struct stress {
	struct tide_xchg *x;
	unsigned int senders, receivers;
	int senders_done;
	uint32_t *seen;       /* times each message id was received */
	uint64_t received;
	uint64_t order_errors;
	uint64_t level_errors;
	unsigned int next_id; /* thread ids handed out */
};

/* Sender p: id = p * STRESS_PER_SENDER + k; the payload says p, level, count in level. */
static void *
stress_send(void *arg)
{
	struct stress *st = arg;
	uint32_t p = __atomic_fetch_add(&st->next_id, 1, __ATOMIC_RELAXED);
	uint32_t count[STRESS_LEVELS] = { 0 }, k = 0, full = 0;
	uint64_t rnd = 0x9e3779b97f4a7c15ull * (p + 1);
	struct rte_mbuf *m[8];

	while (k < STRESS_PER_SENDER) {
		unsigned int n = RTE_MIN(1u + thread_rand(&rnd, 8), STRESS_PER_SENDER - k);
		unsigned int sent = 0;

		if (rte_pktmbuf_alloc_bulk(tide_mp, m, n) != 0)
			continue;
		for (unsigned int i = 0; i < n; i++) {
			uint8_t lvl = (uint8_t)thread_rand(&rnd, STRESS_LEVELS);
			uint32_t *d = (uint32_t *)rte_pktmbuf_append(m[i], 12);

			d[0] = p * STRESS_PER_SENDER + k + i;
			d[1] = lvl;
			d[2] = count[lvl]++;
			tide_msg_make(m[i], 20, lvl);
		}
		/* A full level refuses: what did not go is at the back, in order. */
		while (sent < n) {
			unsigned int k2 = tide_xchg_send_burst(st->x, &m[sent], n - sent);

			if (k2 == 0 && ++full % 1024 == 0)
				sched_yield(); /* full for long: a receiver may need the CPU */
			sent += k2;
		}
		k += n;
	}
	__atomic_fetch_add(&st->senders_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Each receiver sees, per sender and level, counts that only grow; every id once. */
static void *
stress_recv(void *arg)
{
	struct stress *st = arg;
	uint32_t last[STRESS_THREADS][STRESS_LEVELS], empty = 0;
	uint64_t rnd = (uint64_t)(uintptr_t)&last | 1;
	struct rte_mbuf *m[16];

	memset(last, 0xff, sizeof(last));
	for (;;) {
		unsigned int n = tide_xchg_recv_burst(st->x, m, 1 + thread_rand(&rnd, 16),
			21);

		if (n == 0) {
			if (__atomic_load_n(&st->senders_done, __ATOMIC_ACQUIRE) ==
					(int)__atomic_load_n(&st->senders, __ATOMIC_ACQUIRE) &&
					tide_xchg_count(st->x) == 0)
				break;
			if (++empty % 1024 == 0)
				sched_yield(); /* empty for long: a sender may need the CPU */
			continue;
		}
		for (unsigned int i = 0; i < n; i++) {
			const uint32_t *d = rte_pktmbuf_mtod(m[i], const uint32_t *);
			uint32_t p = d[0] / STRESS_PER_SENDER;

			if (p >= __atomic_load_n(&st->senders, __ATOMIC_RELAXED) ||
					d[1] >= STRESS_LEVELS ||
					d[1] != tide_msg_prio(m[i]) || tide_msg_owner(m[i]) != 21) {
				__atomic_fetch_add(&st->level_errors, 1, __ATOMIC_RELAXED);
				continue;
			}
			if (last[p][d[1]] != UINT32_MAX && d[2] <= last[p][d[1]])
				__atomic_fetch_add(&st->order_errors, 1, __ATOMIC_RELAXED);
			last[p][d[1]] = d[2];
			__atomic_fetch_add(&st->seen[d[0]], 1, __ATOMIC_RELAXED);
		}
		tide_msg_release_burst(m, n);
		__atomic_fetch_add(&st->received, n, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* @p senders and @p receivers threads on a priority exchange of @p size messages a level. */
static void
stress_run(const char *name, unsigned int size, unsigned int flags, unsigned int senders,
	unsigned int receivers)
{
	struct tide_xchg_params p = {
		.name = name, .type = TIDE_XCHG_PRIO, .size = size, .nb_prio = STRESS_LEVELS,
		.socket_id = SOCKET_ID_ANY, .flags = flags,
	};
	struct stress st = { .senders = senders, .receivers = receivers };
	pthread_t snd[STRESS_THREADS], rcv[STRESS_THREADS];
	unsigned int before = in_use(tide_mp), once = 0, nr, ns;

	st.x = tide_xchg_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st.x);
	st.seen = calloc(senders * STRESS_PER_SENDER, sizeof(st.seen[0]));
	CU_ASSERT_PTR_NOT_NULL_FATAL(st.seen);
	/* Receivers end once every sender that started is done: a sender that could not
	 * start is not waited for (and the test fails on the count).
	 */
	for (nr = 0; nr < receivers; nr++)
		if (tide_test_thread_anywhere(&rcv[nr], stress_recv, &st) != 0)
			break;
	for (ns = 0; nr == receivers && ns < senders; ns++)
		if (tide_test_thread_anywhere(&snd[ns], stress_send, &st) != 0)
			break;
	__atomic_store_n(&st.senders, ns, __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(nr, receivers);
	CU_ASSERT_EQUAL(ns, senders);
	for (unsigned int i = 0; i < ns; i++)
		pthread_join(snd[i], NULL);
	for (unsigned int i = 0; i < nr; i++)
		pthread_join(rcv[i], NULL);
	for (unsigned int i = 0; i < senders * STRESS_PER_SENDER; i++)
		once += st.seen[i] == 1;
	CU_ASSERT_EQUAL(st.received, senders * STRESS_PER_SENDER);
	CU_ASSERT_EQUAL(once, senders * STRESS_PER_SENDER);
	CU_ASSERT_EQUAL(st.order_errors, 0);
	CU_ASSERT_EQUAL(st.level_errors, 0);
	CU_ASSERT_EQUAL(tide_xchg_count(st.x), 0);
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
	free(st.seen);
	tide_xchg_free(st.x);
}

/*
 * The level rings against a model, one thread, positions starting 256 short of 2^32: puts
 * of 0..9 on random levels of 7 messages (the refused part must be exactly what does not
 * fit), takes of random sizes read in place, bursts that wrap the end of a level.
 */
static void
test_level_rings_keep_order_across_the_32_bit_wrap(void)
{
	enum { LV = 3, CAP = 7, OPS = 200000 };
	uintptr_t model[LV][CAP], next = 1;
	unsigned int head[LV] = { 0 }, count[LV] = { 0 }, errors = 0;
	uint64_t rnd = 12345;
	struct tide_xring r;

	CU_ASSERT_EQUAL_FATAL(tide_xring_init(&r, 5, LV, false, false, SOCKET_ID_ANY), 0);
	CU_ASSERT_EQUAL(tide_xring_capacity(&r), CAP);
	for (unsigned int l = 0; l < LV; l++)
		r.prod.tail[l] = r.cons.tail[l] = r.senders.cons_seen[l] = UINT32_MAX - 255;
	for (unsigned int op = 0; op < OPS; op++) {
		unsigned int l = thread_rand(&rnd, LV), k = thread_rand(&rnd, 10), n, i;
		void *obj[10];

		if (thread_rand(&rnd, 2) == 0) {
			for (i = 0; i < k; i++)
				obj[i] = (void *)(next + i);
			tide_xring_turn_take(&r.senders);
			n = tide_xring_put(&r, l, obj, k);
			tide_xring_turn_give(&r.senders);
			errors += n != RTE_MIN(k, CAP - count[l]);
			for (i = 0; i < n; i++)
				model[l][(head[l] + count[l] + i) % CAP] = next + i;
			count[l] += n;
			next += k;
		} else {
			uint32_t first;

			tide_xring_turn_take(&r.receivers);
			n = RTE_MIN(tide_xring_ready(&r, l), k);
			errors += tide_xring_ready(&r, l) != count[l];
			first = tide_xring_first(&r, l);
			for (i = 0; i < n; i++)
				errors += (uintptr_t)*tide_xring_slot(&r, l, first + i) !=
					model[l][(head[l] + i) % CAP];
			tide_xring_taken(&r, l, n);
			tide_xring_turn_give(&r.receivers);
			head[l] = (head[l] + n) % CAP;
			count[l] -= n;
		}
		errors += tide_xring_count(&r, l) != count[l];
	}
	for (unsigned int l = 0; l < LV; l++)
		CU_ASSERT(r.prod.tail[l] < UINT32_MAX - 255); /* every level went past 2^32 */
	CU_ASSERT_EQUAL(errors, 0);
	tide_xring_fini(&r);
}

/* Many senders and receivers take turns on levels of 3 messages: full and empty all the
 * time, every slot reused thousands of times (the 32-bit wrap of positions: below). */
static void
test_a_tiny_exchange_under_many_senders_and_receivers_loses_nothing(void)
{
	stress_run("tm_stress", 2, 0, STRESS_THREADS, STRESS_THREADS);
}

/* Declared single sender and receiver: no turns, the same guarantees. */
static void
test_a_single_sender_and_receiver_exchange_keeps_every_guarantee(void)
{
	stress_run("tm_spsc", 2, TIDE_XCHG_F_SP | TIDE_XCHG_F_SC, 1, 1);
	stress_run("tm_spsc_big", 1000, TIDE_XCHG_F_SP | TIDE_XCHG_F_SC, 1, 1);
}

/* ---- blocking receive ---- */

struct waiter {
	struct tide_xchg *x;
	uint64_t timeout_us;
	int ret;
	struct rte_mbuf *m[4];
	double cpu_ms, wall_ms;
};

static double
thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;
	double cpu0 = thread_cpu_ms();
	uint64_t t0 = tide_test_now_ns();

	w->ret = tide_xchg_recv_wait(w->x, w->m, 4, 3, w->timeout_us);
	w->cpu_ms = thread_cpu_ms() - cpu0;
	w->wall_ms = (tide_test_now_ns() - t0) / 1e6;
	return NULL;
}

static void
test_blocking_receive_sleeps_until_a_send(void)
{
	struct waiter w = { .x = xchg("tm_wait", TIDE_XCHG_FIFO, 64, 0) };
	struct rte_mbuf *m = pkt(tide_mp, 99, 64);
	pthread_t t;

	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, waiter_main, &w), 0);
	tide_test_sleep_us(200 * 1000);
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(w.x, &m, 1), 1);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.ret, 1);
	CU_ASSERT_PTR_EQUAL(w.m[0], m);
	CU_ASSERT_EQUAL(tide_msg_owner(m), 3);
	/* It slept: a spin would have burnt the 200 ms it waited. */
	printf("\n    waited %.0f ms using %.2f ms of CPU ", w.wall_ms, w.cpu_ms);
	CU_ASSERT(w.wall_ms >= 150);
	CU_ASSERT(w.cpu_ms < 20);
	tide_msg_release(m);

	w.timeout_us = 50 * 1000;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, waiter_main, &w), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.ret, -ETIMEDOUT);
	CU_ASSERT(w.cpu_ms < 20);
	tide_xchg_free(w.x);
}

/*
 * A receiver blocked with no time limit is woken for every message: one message at a
 * time, each waited for by a receiver free to run on any CPU; the sender waits (2 s at
 * most) for each to arrive. A lost wake-up leaves the receiver asleep with a message
 * waiting. (This catches a receive that does not look again after announcing itself; the
 * store-load window the fences close is a few nanoseconds wide, too narrow to hit here.)
 */
#define PINGS 20000

struct ping {
	struct tide_xchg *x;
	uint32_t got;
	int ret;
	int exited;
};

static void *
ping_receiver(void *arg)
{
	struct ping *pg = arg;
	struct rte_mbuf *m;

	while (__atomic_load_n(&pg->got, __ATOMIC_RELAXED) < PINGS) {
		pg->ret = tide_xchg_recv_wait(pg->x, &m, 1, 4, 0);
		if (pg->ret != 1)
			break;
		tide_msg_release(m);
		__atomic_fetch_add(&pg->got, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&pg->exited, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_a_blocked_receiver_is_never_left_asleep(void)
{
	struct ping pg = { .x = xchg("tm_ping", TIDE_XCHG_FIFO, 8, 1) };
	unsigned int before = in_use(stock_mp), lost = 0;
	pthread_t t;

	CU_ASSERT_EQUAL_FATAL(tide_test_thread_anywhere(&t, ping_receiver, &pg), 0);
	for (uint32_t i = 0; i < PINGS; i++) {
		struct rte_mbuf *m = pkt(stock_mp, i, 64);
		uint64_t t0;

		tide_msg_make(m, 3, 0);
		CU_ASSERT_EQUAL_FATAL(tide_xchg_send_burst(pg.x, &m, 1), 1);
		t0 = tide_test_now_ns();
		while (__atomic_load_n(&pg.got, __ATOMIC_ACQUIRE) <= i &&
				tide_test_now_ns() - t0 <= 2000000000ull &&
				!__atomic_load_n(&pg.exited, __ATOMIC_ACQUIRE))
			;
		/* Counted as lost only if it is still not there (the receiver counts, then
		 * may exit, between two of the looks above).
		 */
		if (__atomic_load_n(&pg.got, __ATOMIC_ACQUIRE) <= i) {
			lost++;
			break;
		}
	}
	CU_ASSERT_EQUAL(lost, 0);
	if (lost > 0) {
		/* Wake it with a message it can take, so that it ends. */
		while (__atomic_load_n(&pg.got, __ATOMIC_ACQUIRE) < PINGS &&
				!__atomic_load_n(&pg.exited, __ATOMIC_ACQUIRE)) {
			struct rte_mbuf *m = pkt(stock_mp, 0, 64);

			tide_msg_make(m, 3, 0);
			if (tide_xchg_send_burst(pg.x, &m, 1) != 1)
				tide_msg_release(m);
			rte_delay_us_sleep(100);
		}
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(pg.ret, 1);
	CU_ASSERT_EQUAL(pg.got, PINGS);
	tide_xchg_free(pg.x);
	CU_ASSERT_EQUAL(in_use(stock_mp), before);
}

/* ---- broadcast ---- */

#define BC_READERS 3
#define BC_MSGS 300

struct bc {
	struct tide_bcast *b;
	volatile bool stop;
	uint32_t seen[BC_READERS][BC_MSGS]; /* times reader r read message k */
	uint32_t out_of_order[BC_READERS];
};

static void
bc_read_loop(struct bc *c, unsigned int r)
{
	int32_t last = -1;

	while (!c->stop) {
		struct rte_mbuf *m;
		struct tide_bcast_section sec;
		uint32_t k;

		if (tide_bcast_read(c->b, r, &m, &sec) != 0)
			continue;
		k = seq_of(m);
		if (k < BC_MSGS)
			c->seen[r][k]++;
		if ((int32_t)k <= last)
			c->out_of_order[r]++;
		last = (int32_t)k;
		/* Distributed assembly: write our own section. */
		memset(rte_pktmbuf_mtod_offset(m, char *, sec.offset), 'a' + (int)r, sec.len);
		tide_bcast_done(c->b, r);
	}
}

static int
bc_lcore(void *arg)
{
	bc_read_loop(arg, 0);
	return 0;
}

static void *
bc_thread1(void *arg)
{
	bc_read_loop(arg, 1);
	return NULL;
}

static void *
bc_thread2(void *arg)
{
	bc_read_loop(arg, 2);
	return NULL;
}

static void
test_broadcast_every_reader_sees_each_message_exactly_once(void)
{
	static struct bc c;
	struct tide_bcast_section sec[BC_READERS] = { { 4, 10 }, { 14, 10 }, { 24, 10 } };
	int worker = tide_test_worker_lcore();
	pthread_t t1, t2;
	unsigned int before = in_use(tide_mp);

	memset(&c, 0, sizeof(c));
	c.b = tide_bcast_create("tm_bcast", BC_READERS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.b);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(bc_lcore, &c, (unsigned int)worker), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t1, NULL, bc_thread1, &c), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t2, NULL, bc_thread2, &c), 0);
	for (uint32_t k = 0; k < BC_MSGS; k++) {
		struct rte_mbuf *m = pkt(tide_mp, k, 64), *back, *extra = pkt(tide_mp, 9999, 64);

		tide_msg_make(m, 1, 0);
		tide_msg_make(extra, 1, 0);
		CU_ASSERT_EQUAL(tide_bcast_post(c.b, m, sec), 0);
		/* The gate is closed until every reader is done. */
		CU_ASSERT_EQUAL(tide_bcast_post(c.b, extra, NULL), -EBUSY);
		tide_msg_release(extra);
		if (k % 2 == 0) {
			CU_ASSERT_EQUAL(tide_bcast_wait(c.b, 5000 * 1000), 0);
		} else {
			while (!tide_bcast_complete(c.b))
				;
		}
		back = tide_bcast_take(c.b);
		CU_ASSERT_PTR_EQUAL(back, m);
		/* Every reader wrote its section: the body is assembled. */
		CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod_offset(m, char *, 4), "aaaaaaaaaa", 10), 0);
		CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod_offset(m, char *, 14), "bbbbbbbbbb", 10), 0);
		CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod_offset(m, char *, 24), "cccccccccc", 10), 0);
		tide_msg_release(back);
	}
	c.stop = true;
	rte_eal_wait_lcore((unsigned int)worker);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	for (unsigned int r = 0; r < BC_READERS; r++) {
		unsigned int wrong = 0;

		for (unsigned int k = 0; k < BC_MSGS; k++)
			wrong += c.seen[r][k] != 1;
		CU_ASSERT_EQUAL(wrong, 0);
		CU_ASSERT_EQUAL(c.out_of_order[r], 0);
	}
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
	tide_bcast_free(c.b);
}

static void
test_broadcast_refuses_misuse(void)
{
	struct tide_bcast *b = tide_bcast_create("tm_bc2", 2);
	struct tide_bcast_section overlap[2] = { { 0, 10 }, { 5, 10 } }, outside[2] = { { 0, 8 },
		{ 60, 10 } };
	struct rte_mbuf *m = pkt(stock_mp, 1, 64), *r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NULL(tide_bcast_create("tm_bc2", 2));
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), -EINVAL); /* not a message */
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, overlap), -EINVAL);
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, outside), -EINVAL);
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &r, NULL), -EAGAIN);
	CU_ASSERT_EQUAL(tide_bcast_wait(b, 1000), -ENOENT);
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), 0);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 0), -EINVAL); /* not read yet */
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &r, NULL), 0);
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &r, NULL), -EAGAIN); /* once only */
	CU_ASSERT_EQUAL(tide_bcast_read(b, 2, &r, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 0), 0);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 0), -EINVAL); /* done twice */
	CU_ASSERT_PTR_NULL(tide_bcast_take(b));
	CU_ASSERT_EQUAL(tide_bcast_wait(b, 20 * 1000), -ETIMEDOUT);
	/* Posted again after taking: every reader reads it once more. */
	CU_ASSERT_EQUAL(tide_bcast_read(b, 1, &r, NULL), 0);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 1), 0);
	CU_ASSERT_PTR_EQUAL(tide_bcast_take(b), m);
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), 0);
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &r, NULL), 0);
	/* Freeing the exchange leaves the posted message its sender's. */
	tide_bcast_free(b);
	CU_ASSERT_TRUE(tide_msg_is_made(m));
	tide_msg_release(m);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
}

/* ---- proxies ---- */

static void
test_proxies_point_into_the_real_message(void)
{
	struct tide_msg_range ranges[3] = { { 0, 16 }, { 16, 16 }, { 40, 24 } };
	struct rte_mbuf *real = pkt(tide_mp, 0, 64), *p[3];
	unsigned int before = in_use(tide_mp);

	memset(rte_pktmbuf_mtod(real, char *), 'x', 64);
	tide_msg_make(real, 5, 2);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, 3, ranges, p), 0);
	/* No pool of their own: the pool lent nothing more. */
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_TRUE(tide_msg_is_proxy(p[i]));
		CU_ASSERT_PTR_NULL(p[i]->pool);
		CU_ASSERT_PTR_EQUAL(tide_msg_proxy_real(p[i]), real);
		CU_ASSERT_PTR_EQUAL(rte_pktmbuf_mtod(p[i], char *),
			rte_pktmbuf_mtod_offset(real, char *, ranges[i].offset));
		CU_ASSERT_EQUAL(rte_pktmbuf_data_len(p[i]), ranges[i].len);
		CU_ASSERT_EQUAL(tide_msg_prio(p[i]), 2);
		CU_ASSERT_EQUAL(tide_msg_owner(p[i]), 5);
	}
	/* A proxy writes into the real body. */
	memset(rte_pktmbuf_mtod(p[2], char *), 'y', 24);
	CU_ASSERT_EQUAL(*rte_pktmbuf_mtod_offset(real, char *, 40), 'y');
	CU_ASSERT_FALSE(tide_msg_all_replied(real));
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(tide_msg_reply(p[i]), i + 1);
	CU_ASSERT_TRUE(tide_msg_all_replied(real));
	for (int i = 0; i < 3; i++)
		tide_msg_proxy_release(p[i]);
	tide_msg_release(real);
	CU_ASSERT_EQUAL(in_use(tide_mp), before - 1);
}

/* Make writes half the header: the proxy counts of an mbuf's earlier life as a message
 * must not show through when it is made again.
 */
static void
test_a_remade_message_starts_with_no_proxies(void)
{
	struct tide_msg_range r = { 0, 8 };
	struct rte_mbuf *real = pkt(stock_mp, 0, 64), *p[2], *again;

	tide_msg_make(real, 1, 0);
	CU_ASSERT_EQUAL(tide_msg_nb_proxies(real), 0);
	CU_ASSERT_TRUE(tide_msg_all_replied(real));
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(real, 2, (struct tide_msg_range[]){ r, r },
		p), 0);
	CU_ASSERT_EQUAL(tide_msg_nb_proxies(real), 2);
	CU_ASSERT_EQUAL(tide_msg_reply(p[0]), 1);
	CU_ASSERT_FALSE(tide_msg_all_replied(real));
	tide_msg_proxy_release(p[0]);
	tide_msg_proxy_release(p[1]);
	/* Unmade (sent, say) and made again: its header bytes still hold the old counts. */
	tide_msg_unmake(real);
	again = real;
	tide_msg_make(again, 1, 0);
	CU_ASSERT_EQUAL(tide_msg_nb_proxies(again), 0);
	CU_ASSERT_TRUE(tide_msg_all_replied(again));
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(again, 1, &r, p), 0);
	CU_ASSERT_EQUAL(tide_msg_nb_proxies(again), 1);
	CU_ASSERT_EQUAL(tide_msg_reply(p[0]), 1);
	CU_ASSERT_TRUE(tide_msg_all_replied(again));
	tide_msg_proxy_release(p[0]);
	tide_msg_release(again);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
}

/* Release 1 real + 3 proxies in order perm[]; the body goes back only at the last. */
static void
release_in_order(const int *perm)
{
	struct tide_msg_range r[3] = { { 0, 8 }, { 8, 8 }, { 16, 8 } };
	struct rte_mbuf *real = pkt(stock_mp, 0, 64), *h[4];
	unsigned int before = in_use(stock_mp);

	tide_msg_make(real, 1, 0);
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(real, 3, r, &h[1]), 0);
	h[0] = real;
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(in_use(stock_mp), before);
		CU_ASSERT_TRUE(tide_msg_is_made(real));
		int ret = perm[i] == 0 ? tide_msg_release_checked(h[0]) :
			tide_msg_proxy_release_checked(h[perm[i]]);

		CU_ASSERT_EQUAL(ret, 0);
	}
	CU_ASSERT_EQUAL(in_use(stock_mp), before - 1);
}

static void
test_real_and_proxies_released_in_every_order(void)
{
	int perm[4] = { 0, 1, 2, 3 }, orders = 0;

	/* All 24 orders (Heap's algorithm). */
	int c[4] = { 0 }, i = 0;

	release_in_order(perm);
	orders++;
	while (i < 4) {
		if (c[i] < i) {
			int j = i % 2 == 0 ? 0 : c[i], t = perm[j];

			perm[j] = perm[i];
			perm[i] = t;
			release_in_order(perm);
			orders++;
			c[i]++;
			i = 0;
		} else {
			c[i++] = 0;
		}
	}
	CU_ASSERT_EQUAL(orders, 24);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
}

struct server {
	struct tide_xchg *x;
	int replied;
};

static void *
server_main(void *arg)
{
	struct server *s = arg;
	struct rte_mbuf *p;

	if (tide_xchg_recv_wait(s->x, &p, 1, 20, 5000 * 1000) == 1) {
		/* A server sees only its part of the body, answers, and lets go. */
		s->replied = rte_pktmbuf_data_len(p) == 20 && tide_msg_is_proxy(p);
		tide_msg_reply(p);
		tide_msg_proxy_release(p);
	}
	return NULL;
}

static void
test_proxies_multicast_to_servers_who_reply(void)
{
	struct server s[3];
	struct tide_msg_range r[3] = { { 0, 20 }, { 20, 20 }, { 40, 20 } };
	struct rte_mbuf *real = pkt(tide_mp, 0, 64), *p[3], *fwd;
	struct tide_xchg *next = xchg("tm_next", TIDE_XCHG_FIFO, 16, 0);
	unsigned int before = in_use(tide_mp);
	pthread_t t[3];
	char name[16];

	tide_msg_make(real, 1, 0);
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(real, 3, r, p), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "tm_srv%d", i);
		s[i] = (struct server){ .x = xchg(name, TIDE_XCHG_FIFO, 16, 0) };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, server_main, &s[i]), 0);
		CU_ASSERT_EQUAL(tide_xchg_send_burst(s[i].x, &p[i], 1), 1);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(s[i].replied, 1);
	}
	CU_ASSERT_TRUE(tide_msg_all_replied(real));
	/* Every server let go of its proxy; the client forwards the real message. */
	CU_ASSERT_EQUAL(tide_xchg_send_burst(next, &real, 1), 1);
	CU_ASSERT_EQUAL(tide_xchg_recv_burst(next, &fwd, 1, 2), 1);
	CU_ASSERT_PTR_EQUAL(fwd, real);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(fwd), 1);
	tide_msg_release(fwd);
	CU_ASSERT_EQUAL(in_use(tide_mp), before - 1);
	for (int i = 0; i < 3; i++)
		tide_xchg_free(s[i].x);
	tide_xchg_free(next);
}

static void
test_proxy_area_exhaustion_is_refused_whole(void)
{
	struct tide_msg_range *r = calloc(NB_PROXIES, sizeof(*r));
	struct rte_mbuf **p = calloc(NB_PROXIES, sizeof(*p));
	struct rte_mbuf *a = pkt(tide_mp, 0, 64), *b = pkt(tide_mp, 1, 64);

	tide_msg_make(a, 1, 0);
	tide_msg_make(b, 1, 0);
	for (int i = 0; i < NB_PROXIES; i++)
		r[i] = (struct tide_msg_range){ 0, 8 };
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(a, NB_PROXIES - 1, r, p), 0);
	/* One header left: two proxies cannot be made, and none is taken. */
	CU_ASSERT_EQUAL(tide_msg_proxy_make(b, 2, r, &p[NB_PROXIES - 1]), -ENOBUFS);
	CU_ASSERT_EQUAL(rte_errno, ENOBUFS);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(b), 1);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(b, 1, r, &p[NB_PROXIES - 1]), 0);
	for (int i = 0; i < NB_PROXIES; i++)
		tide_msg_proxy_release(p[i]);
	tide_msg_release(a);
	tide_msg_release(b);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(a, 1, r, p), -EINVAL); /* released: not a msg */
	free(r);
	free(p);
}

/* ---- checked release ---- */

static void
expect_einval(int ret, const char *log, const char *what)
{
	if (ret != -EINVAL)
		printf("\n    %s: %d ", what, ret);
	CU_ASSERT_EQUAL(ret, -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "tide_msg"));
}

static void
test_checked_release_refuses_and_writes_nothing(void)
{
	uint64_t outside[32] = { 0 }, copy[32];
	struct tide_msg_range r = { 0, 8 };
	struct rte_mbuf *m = pkt(tide_mp, 5, 64), *s = pkt(stock_mp, 6, 64), *p;
	unsigned int before = in_use(tide_mp), sbefore = in_use(stock_mp);
	char *log;
	int ret;

	tide_msg_make(m, 1, 0);
	tide_msg_make(s, 1, 0);
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(m, 1, &r, &p), 0);
	memcpy(copy, outside, sizeof(copy));

	tide_test_log_begin();
	ret = tide_msg_release_checked(NULL);
	expect_einval(ret, "tide_msg", "NULL");
	ret = tide_msg_release_checked((struct rte_mbuf *)&outside[8]);
	log = tide_test_log_end();
	expect_einval(ret, log, "no pool owns it");
	free(log);
	CU_ASSERT_EQUAL(memcmp(copy, outside, sizeof(copy)), 0);

	/* Inside an mbuf, where its own pool field sits where an object header would. */
	tide_test_log_begin();
	ret = tide_msg_release_checked((struct rte_mbuf *)RTE_PTR_ADD(m, 72));
	expect_einval(ret, log = tide_test_log_end(), "inside an mbuf");
	free(log);
	tide_test_log_begin();
	ret = tide_msg_release_checked(p);
	expect_einval(ret, log = tide_test_log_end(), "a proxy released as real");
	free(log);
	tide_test_log_begin();
	ret = tide_msg_proxy_release_checked(s);
	expect_einval(ret, log = tide_test_log_end(), "a real message released as proxy");
	free(log);

	/* Good releases, then the same again: refused, counts unchanged. */
	CU_ASSERT_EQUAL(tide_msg_proxy_release_checked(p), 0);
	CU_ASSERT_EQUAL(tide_msg_release_checked(m), 0);
	CU_ASSERT_EQUAL(tide_msg_release_checked(s), 0);
	CU_ASSERT_EQUAL(in_use(tide_mp), before - 1);
	CU_ASSERT_EQUAL(in_use(stock_mp), sbefore - 1);
	tide_test_log_begin();
	ret = tide_msg_release_checked(m);
	expect_einval(ret, log = tide_test_log_end(), "double release (tide pool)");
	free(log);
	tide_test_log_begin();
	ret = tide_msg_release_checked(s);
	expect_einval(ret, log = tide_test_log_end(), "double release (stock pool)");
	free(log);
	tide_test_log_begin();
	ret = tide_msg_proxy_release_checked(p);
	expect_einval(ret, log = tide_test_log_end(), "proxy released twice");
	free(log);
	CU_ASSERT_EQUAL(in_use(tide_mp), before - 1);
	CU_ASSERT_EQUAL(in_use(stock_mp), sbefore - 1);
}

/* ---- pool of origin, from any stage ---- */

static void *
releaser_main(void *arg)
{
	struct tide_xchg *x = arg;
	struct rte_mbuf *m[16];
	int got = 0;

	while (got < 200) {
		int n = tide_xchg_recv_wait(x, m, 16, 30, 5000 * 1000);

		if (n <= 0)
			break;
		tide_msg_release_burst(m, (unsigned int)n);
		got += n;
	}
	return NULL;
}

static void
test_release_from_another_thread_returns_each_mbuf_to_its_pool(void)
{
	struct tide_xchg *x = xchg("tm_origin", TIDE_XCHG_FIFO, 256, 0);
	unsigned int t0 = in_use(tide_mp), s0 = in_use(stock_mp);
	pthread_t t;

	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, releaser_main, x), 0);
	for (int i = 0; i < 200; i++) {
		struct rte_mbuf *m = pkt(i % 2 ? tide_mp : stock_mp, (uint32_t)i, 64);

		tide_msg_make(m, 1, 0);
		while (tide_xchg_send_burst(x, &m, 1) != 1)
			;
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(in_use(tide_mp), t0);
	CU_ASSERT_EQUAL(in_use(stock_mp), s0);
	tide_xchg_free(x);
}

/* ---- stages ---- */

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

/* ---- bad arguments and telemetry ---- */

static void
test_bad_exchange_parameters_are_refused(void)
{
	struct tide_xchg_params p = { .name = "tm_bad", .type = TIDE_XCHG_PRIO, .size = 16,
		.nb_prio = 1, .socket_id = SOCKET_ID_ANY };
	struct tide_xchg *x;

	CU_ASSERT_PTR_NULL(tide_xchg_create(NULL));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	p.nb_prio = TIDE_XCHG_MAX_PRIO + 1;
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	p.nb_prio = 2;
	p.size = 0;
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	p.size = 16;
	p.flags = 1u << 7; /* unknown */
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	p.flags = 0;
	p.size = 1u << 29; /* 2^30 slots a level, 2^31 pointers for the two levels */
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	p.size = UINT32_MAX; /* size + 1 overflows */
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	p.size = 16;
	p.name = "a_name_much_too_long_for_a_ring";
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	CU_ASSERT_EQUAL(rte_errno, ENAMETOOLONG);
	p.name = "tm_bad";
	x = tide_xchg_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
	CU_ASSERT_PTR_EQUAL(tide_xchg_lookup("tm_bad"), x);
	CU_ASSERT_PTR_NULL(tide_xchg_lookup("tm_none"));
	CU_ASSERT_EQUAL(tide_xchg_recv_wait(x, NULL, 1, 0, 0), -EINVAL);
	tide_xchg_free(x);
	tide_xchg_free(NULL);
}

static void
test_telemetry_shows_exchanges_and_stages(void)
{
	struct tide_xchg *x = xchg("tm_tel", TIDE_XCHG_PRIO, 64, 3);
	int st = tide_stage_register("tm_tel_stage");
	struct rte_mbuf *m = pkt(tide_mp, 1, 64);
	char *out, cmd[64];

	tide_msg_make(m, (uint16_t)st, 2);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(x, &m, 1), 1);
	out = telemetry_query("/tide/xchg/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"tm_tel\""));
	free(out);
	out = telemetry_query("/tide/xchg/info,tm_tel");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"sent\":[0,0,1]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"waiting\":[0,0,1]"));
	free(out);
	out = telemetry_query("/tide/stage/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "tm_tel_stage"));
	free(out);
	CU_ASSERT_EQUAL(tide_xchg_recv_burst(x, &m, 1, (uint16_t)st), 1);
	snprintf(cmd, sizeof(cmd), "/tide/stage/info,%d", st);
	out = telemetry_query(cmd);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"held\":1"));
	free(out);
	tide_msg_release(m);
	tide_xchg_free(x);
	tide_stage_unregister((uint16_t)st);
}

static void
test_nothing_leaked_at_the_end(void)
{
	CU_ASSERT_EQUAL(tide_msg_leak_report(stdout), 0);
	CU_ASSERT_EQUAL(in_use(tide_mp), 0);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("msg", suite_init, suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_make_and_unmake_in_place_on_both_kinds_of_pool);
	CU_ADD_TEST(s, test_fifo_exchange_keeps_order);
	CU_ADD_TEST(s, test_receives_that_wrap_the_ring_keep_order_and_write_every_header);
	CU_ADD_TEST(s, test_stage_forms_make_send_and_receive_unmake);
	CU_ADD_TEST(s, test_priority_exchange_serves_highest_first_fifo_within);
	CU_ADD_TEST(s, test_a_full_exchange_refuses_and_the_caller_keeps_the_rest);
	CU_ADD_TEST(s, test_a_priority_burst_goes_level_by_level_and_keeps_the_refused_in_order);
	CU_ADD_TEST(s, test_order_holds_with_two_lcores_and_threads);
	CU_ADD_TEST(s, test_level_rings_keep_order_across_the_32_bit_wrap);
	CU_ADD_TEST(s, test_a_tiny_exchange_under_many_senders_and_receivers_loses_nothing);
	CU_ADD_TEST(s, test_a_single_sender_and_receiver_exchange_keeps_every_guarantee);
	CU_ADD_TEST(s, test_blocking_receive_sleeps_until_a_send);
	CU_ADD_TEST(s, test_a_blocked_receiver_is_never_left_asleep);
	CU_ADD_TEST(s, test_broadcast_every_reader_sees_each_message_exactly_once);
	CU_ADD_TEST(s, test_broadcast_refuses_misuse);
	CU_ADD_TEST(s, test_proxies_point_into_the_real_message);
	CU_ADD_TEST(s, test_a_remade_message_starts_with_no_proxies);
	CU_ADD_TEST(s, test_real_and_proxies_released_in_every_order);
	CU_ADD_TEST(s, test_proxies_multicast_to_servers_who_reply);
	CU_ADD_TEST(s, test_proxy_area_exhaustion_is_refused_whole);
	CU_ADD_TEST(s, test_checked_release_refuses_and_writes_nothing);
	CU_ADD_TEST(s, test_release_from_another_thread_returns_each_mbuf_to_its_pool);
	CU_ADD_TEST(s, test_stages_list_stop_and_leak_report);
	CU_ADD_TEST(s, test_a_released_message_held_by_proxies_belongs_to_no_stage);
	CU_ADD_TEST(s, test_bad_exchange_parameters_are_refused);
	CU_ADD_TEST(s, test_telemetry_shows_exchanges_and_stages);
	CU_ADD_TEST(s, test_nothing_leaked_at_the_end);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "msg", true, register_tests);
}
