/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Exchanges (lib/msg/msg_xchg.c and the inline send and receive of tide_msg.h) under EAL:
 * FIFO and priority order, full levels and the exact room each takes, the RX and TX stage
 * forms, order with 2 lcores and non-EAL threads, many senders and receivers taking turns
 * on tiny levels, the blocking receive, and every error the calls document.
 */

#define _GNU_SOURCE /* gettid */

#include <limits.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "test_common.h"
#include "test_msg_util.h"
#include "tide_fault.h"
#include "tide_msg.h"
#include "tide_process.h"

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

/* A received message's header: unmade (@unmade), or still a message owned by stage 4. */
static void
taken_header_ok(struct rte_mbuf *m, bool unmade)
{
	if (unmade) {
		CU_ASSERT_FALSE(tide_msg_is_made(m));
	} else {
		CU_ASSERT_TRUE(tide_msg_is_made(m));
		CU_ASSERT_EQUAL(tide_msg_owner(m), 4);
	}
}

/* Back to the pool: n received mbufs, unmade (@unmade) or still messages. */
static void
give_back(struct rte_mbuf **m, unsigned int n, bool unmade)
{
	if (unmade)
		rte_pktmbuf_free_bulk(m, n);
	else
		tide_msg_release_burst(m, n);
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
					taken_header_ok(m[i], round % 2);
				}
				give_back(m, n, round % 2);
			}
		}
		CU_ASSERT_EQUAL(next, sent);
		tide_xchg_free(x[k]);
	}
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
}

/* A sender thread: make and send n messages numbered from first, at level prio. */
struct far_send {
	struct tide_xchg *x;
	uint32_t first;
	unsigned int n;
	uint8_t prio;
	unsigned int sent;
};

static void *
far_sender(void *arg)
{
	struct far_send *f = arg;
	struct rte_mbuf *m[64];

	for (unsigned int i = 0; i < f->n; i++)
		m[i] = pkt(tide_mp, f->first + i, 64);
	f->sent = tide_xchg_make_send_burst(f->x, m, f->n, 1, f->prio);
	return NULL;
}

/* A receiver behind messages another thread sent takes them on another path (each header's
 * line asked for ahead of its store): every message must still come out once, in order on
 * its level, the higher level first, each header written (unmade, or owned by the stage),
 * across the ring's end too, on both kinds of exchange, with a single receiver too.
 */
static void
test_a_receiver_behind_another_threads_sends_gets_every_message_in_order(void)
{
	struct tide_xchg_params sc = { .name = "tm_far_sc", .type = TIDE_XCHG_PRIO, .size = 63,
		.nb_prio = 2, .socket_id = SOCKET_ID_ANY,
		.flags = TIDE_XCHG_F_SP | TIDE_XCHG_F_SC };
	struct tide_xchg *x[3] = { xchg("tm_far", TIDE_XCHG_FIFO, 63, 0),
		xchg("tm_far_p", TIDE_XCHG_PRIO, 63, 2), tide_xchg_create(&sc) };
	unsigned int before = in_use(tide_mp);

	CU_ASSERT_PTR_NOT_NULL_FATAL(x[2]);
	for (unsigned int k = 0; k < 3; k++) {
		uint32_t seq = 0, next[2] = { 0, 0 }, got = 0, sent = 0;

		for (unsigned int round = 0; round < 30; round++) {
			/* 20 at level 0, then (priority exchange) 20 at level 1, from a thread. */
			uint32_t first[2] = { seq, seq + 20 };
			struct far_send f[2] = { { x[k], first[0], 20, 0, 0 },
				{ x[k], first[1], 20, 1, 0 } };
			unsigned int levels = k == 0 ? 1 : 2, n;
			struct rte_mbuf *m[9];
			pthread_t t;

			for (unsigned int l = 0; l < levels; l++) {
				int rc = pthread_create(&t, NULL, far_sender, &f[l]);

				CU_ASSERT_EQUAL_FATAL(rc, 0);
				pthread_join(t, NULL);
				CU_ASSERT_EQUAL_FATAL(f[l].sent, 20);
				sent += 20;
			}
			if (round == 0)
				for (unsigned int l = 0; l < levels; l++)
					next[l] = first[l];
			seq += 40;
			/* Sent by another thread, as the exchange's line says. */
			CU_ASSERT_FALSE(tide_xring_pvt_sent_here(&x[k]->ring));
			/* Bursts of 9 while up to 40 wait: behind, and across the ring's end. */
			while ((n = round % 2 ? tide_xchg_recv_unmake_burst(x[k], m, 9)
					      : tide_xchg_recv_burst(x[k], m, 9, 4)) > 0) {
				for (unsigned int i = 0; i < n; i++) {
					uint32_t s = seq_of(m[i]);
					unsigned int l = levels == 2 && s % 40 >= 20 ? 1 : 0;

					/* Level 1 drains before level 0 is served. */
					if (l == 0 && levels == 2)
						CU_ASSERT_EQUAL(got % 40 >= 20, true);
					CU_ASSERT_EQUAL(s, next[l]);
					next[l] = levels == 2 && s % 20 == 19 ? s + 21 : s + 1;
					got++;
					taken_header_ok(m[i], round % 2);
				}
				give_back(m, n, round % 2);
			}
			if (levels == 1)
				seq -= 20; /* the FIFO exchange got 20 a round */
		}
		CU_ASSERT_EQUAL(got, sent);
		tide_xchg_free(x[k]);
	}
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
}

/* A send of one message on @p x, and its sequence number back from a receive. */
static void
send_one_through(struct tide_xchg *x, uint32_t seq)
{
	struct rte_mbuf *m = pkt(tide_mp, seq, 64);

	CU_ASSERT_EQUAL_FATAL(tide_xchg_make_send_burst(x, &m, 1, 1, 0), 1);
	CU_ASSERT_EQUAL_FATAL(tide_xchg_recv_unmake_burst(x, &m, 1), 1);
	CU_ASSERT_EQUAL(seq_of(m), seq);
	rte_pktmbuf_free(m);
}

/*
 * A side's turn left held by a process that is gone is taken over by the next sender: one
 * whose id now names a process that started at another time (the id reused since its
 * holder died: the turn says the holder's start), and one that is dead. Each is counted.
 */
static void
test_a_turn_held_by_a_gone_process_is_taken_over(void)
{
	struct tide_xchg *x = xchg("tm_turn", TIDE_XCHG_FIFO, 63, 0);
	pid_t child = fork();
	uint64_t start;

	if (child == 0) {
		for (;;)
			pause();
	}
	CU_ASSERT_FATAL(child > 0);
	start = tide_process_start((uint32_t)child);
	CU_ASSERT_FATAL(start != 0);
	/* A live process, but not the one that took the turn. */
	__atomic_store_n(&x->ring.senders.held, tide_process_tag((uint32_t)child, start + 1),
		__ATOMIC_RELEASE);
	send_one_through(x, 1);
	CU_ASSERT_EQUAL(x->ring.senders.takeovers, 1);
	CU_ASSERT_EQUAL(x->ring.senders.held, 0);
	/* The process that took it, dead. */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	__atomic_store_n(&x->ring.senders.held, tide_process_tag((uint32_t)child, start),
		__ATOMIC_RELEASE);
	send_one_through(x, 2);
	CU_ASSERT_EQUAL(x->ring.senders.takeovers, 2);
	CU_ASSERT_EQUAL(x->ring.senders.held, 0);
	tide_xchg_free(x);
}

/*
 * A child forked without exec that dies holding a turn it took itself: the turn names the
 * child, not its parent (which would never take over a turn held in its own name, nor
 * would anyone else while the parent lives), and the parent's next send takes it over.
 */
static void
test_a_turn_a_forked_child_died_holding_is_taken_over(void)
{
	struct tide_xchg *x = xchg("tm_turn_fork", TIDE_XCHG_FIFO, 63, 0);
	pid_t child = fork();

	if (child == 0) {
		tide_xring_pvt_turn_take(&x->ring.senders);
		_exit(0);
	}
	CU_ASSERT_FATAL(child > 0);
	waitpid(child, NULL, 0);
	CU_ASSERT_NOT_EQUAL(x->ring.senders.held, 0);
	CU_ASSERT_NOT_EQUAL(x->ring.senders.held, tide_xring_pvt_self);
	if (x->ring.senders.held == tide_xring_pvt_self) /* the send would wait for ever */
		__atomic_store_n(&x->ring.senders.held, 0, __ATOMIC_RELEASE);
	send_one_through(x, 1);
	CU_ASSERT_EQUAL(x->ring.senders.held, 0);
	tide_xchg_free(x);
}

/*
 * A send of no message (an RX poll that found nothing, passed on as it is) writes nothing
 * to the tails' line receivers poll: not a tail, not the mark of who sent last.
 */
static void
test_a_send_of_nothing_writes_nothing(void)
{
	struct tide_xchg *xs[] = { xchg("tm_empty", TIDE_XCHG_FIFO, 63, 0),
		xchg("tm_empty_p", TIDE_XCHG_PRIO, 64, 4) };
	struct tide_xring_tails before;
	struct rte_mbuf *m[1] = { NULL };

	for (unsigned int i = 0; i < RTE_DIM(xs); i++) {
		struct tide_xchg *x = xs[i];

		__atomic_store_n(&x->ring.prod.by, (uintptr_t)1, __ATOMIC_RELAXED);
		before = x->ring.prod;
		CU_ASSERT_EQUAL(tide_xchg_send_burst(x, m, 0), 0);
		CU_ASSERT_EQUAL(tide_xchg_make_send_burst(x, m, 0, TIDE_STAGE_NONE, 0), 0);
		CU_ASSERT_EQUAL(memcmp(&before, &x->ring.prod, sizeof(before)), 0);
		send_one_through(x, 1);
		tide_xchg_free(x);
	}
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

/* Levels past an exchange's top are served at the top, in send order with the messages of
 * the top level itself, over every number of levels (the send splits a burst by level
 * 16 messages at a time: bursts of 150 leave odd tails).
 */
static void
test_levels_past_the_top_are_served_at_the_top(void)
{
	static const unsigned int levels[] = { 2, 3, 5, TIDE_XCHG_MAX_PRIO };
	uint32_t rnd = 12345;

	for (unsigned int t = 0; t < RTE_DIM(levels); t++) {
		unsigned int nb = levels[t], top = nb - 1;
		struct tide_xchg *x = xchg("tm_top", TIDE_XCHG_PRIO, 256, nb);
		struct rte_mbuf *m[150];
		int32_t last[TIDE_XCHG_MAX_PRIO];
		unsigned int lvl = top, got = 0;

		for (uint32_t i = 0; i < RTE_DIM(m); i++) {
			rnd = rnd * 1103515245u + 12345u;
			m[i] = pkt(tide_mp, i, 64);
			/* A third past the top, the rest spread over the levels. */
			tide_msg_make(m[i], 1, (uint8_t)((rnd >> 16) % 3 == 0 ?
				top + 1 + (rnd >> 8) % (256 - nb) : (rnd >> 8) % nb));
		}
		CU_ASSERT_EQUAL(tide_xchg_send_burst(x, m, RTE_DIM(m)), RTE_DIM(m));
		for (unsigned int l = 0; l < nb; l++)
			last[l] = -1;
		while (got < RTE_DIM(m)) {
			unsigned int n = tide_xchg_recv_burst(x, m, 17, 2);

			if (n == 0)
				break;
			for (unsigned int i = 0; i < n; i++) {
				unsigned int p = RTE_MIN(tide_msg_prio(m[i]), (uint8_t)top);
				int32_t s = (int32_t)seq_of(m[i]);

				CU_ASSERT(p <= lvl);
				lvl = p;
				CU_ASSERT(s > last[p]);
				last[p] = s;
			}
			tide_msg_release_burst(m, n);
			got += n;
		}
		CU_ASSERT_EQUAL(got, RTE_DIM(m));
		tide_xchg_free(x);
	}
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

/* Messages offered to @p x's sends and not sent, over every thread's counters. */
static uint64_t
refused_of(const struct tide_xchg *x)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i <= RTE_MAX_LCORE; i++)
		n += x->stats[i].refused;
	return n;
}

/*
 * Every message a send offers and does not send counts as refused, whatever the kind of
 * exchange: a priority burst of several chunks refused at its first counts the chunks it
 * did not try too.
 */
static void
test_every_message_a_full_exchange_refuses_is_counted(void)
{
	enum { N = 128 };
	const enum tide_xchg_type types[] = { TIDE_XCHG_FIFO, TIDE_XCHG_PRIO };
	struct rte_mbuf *m[N], *got[N];

	for (unsigned int t = 0; t < RTE_DIM(types); t++) {
		struct tide_xchg *x = xchg("tm_refused", types[t], 3, 2);
		unsigned int cap = tide_xring_pvt_capacity(&x->ring), full = 0, n;

		for (unsigned int i = 0; i < N; i++) {
			m[i] = pkt(stock_mp, i, 64);
			tide_msg_make(m[i], 1, (uint8_t)(i % 2));
		}
		/* Fill every level. */
		for (unsigned int i = 0; i < N && full < cap * x->nb_prio; i++)
			full += tide_xchg_send_burst(x, &m[i], 1);
		CU_ASSERT_EQUAL_FATAL(full, cap * x->nb_prio);
		CU_ASSERT_EQUAL(refused_of(x), 0);
		memmove(m, &m[full], (N - full) * sizeof(m[0]));
		for (unsigned int i = N - full; i < N; i++) {
			m[i] = pkt(stock_mp, 1000 + i, 64);
			tide_msg_make(m[i], 1, (uint8_t)(i % 2));
		}
		CU_ASSERT_EQUAL(tide_xchg_send_burst(x, m, N), 0);
		CU_ASSERT_EQUAL(refused_of(x), N);
		CU_ASSERT_EQUAL(tide_xchg_make_send_burst(x, m, 5, 1, 0), 0);
		CU_ASSERT_EQUAL(refused_of(x), N + 5);
		tide_msg_release_burst(m, N);
		while ((n = tide_xchg_recv_burst(x, got, N, 2)) > 0)
			tide_msg_release_burst(got, n);
		tide_xchg_free(x);
	}
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

#ifdef TIDE_FAULT_INJECTION
struct pub_sender {
	struct tide_xchg *x;
	struct rte_mbuf *m[2];
	unsigned int sent;
};

static void *
pub_sender_main(void *arg)
{
	struct pub_sender *ps = arg;

	ps->sent = tide_xchg_send_burst(ps->x, ps->m, 2);
	return NULL;
}

/*
 * A burst of a low and a high message, its sender held after it published its first
 * level: a receiver then finds the high one, never the low one alone (levels are published
 * from the top down). With every level room for the burst (@p fill 0: the one-pass send),
 * or level 0 short of it (@p fill 2 of its 3: sorted and put level by level), where the
 * low level's messages ahead of the burst are there to take.
 */
static void
publish_top_first(unsigned int fill)
{
	struct tide_xchg *x = xchg("tm_pubord", TIDE_XCHG_PRIO, 3, 2);
	struct pub_sender ps = { .x = x };
	struct rte_mbuf *f[2], *got[4];
	unsigned int n;
	pthread_t t;

	for (unsigned int i = 0; i < fill; i++) {
		f[i] = pkt(stock_mp, 100 + i, 64);
		tide_msg_make(f[i], 1, 0);
	}
	CU_ASSERT_EQUAL_FATAL(tide_xchg_send_burst(x, f, fill), fill);
	for (unsigned int i = 0; i < 2; i++) {
		ps.m[i] = pkt(stock_mp, i, 64);
		tide_msg_make(ps.m[i], 1, (uint8_t)i);
	}
	tide_fault_pvt_hold_arm(TIDE_HOLD_XCHG_PUBLISHED);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, pub_sender_main, &ps), 0);
	CU_ASSERT_FATAL(tide_fault_pvt_hold_wait(TIDE_HOLD_XCHG_PUBLISHED, 10000));
	n = tide_xchg_recv_burst(x, got, 1, 2);
	CU_ASSERT_EQUAL(n, 1);
	if (n == 1) {
		CU_ASSERT_EQUAL(tide_msg_prio(got[0]), 1);
		CU_ASSERT_EQUAL(seq_of(got[0]), 1);
		tide_msg_release(got[0]);
	}
	tide_fault_pvt_hold_release(TIDE_HOLD_XCHG_PUBLISHED);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(ps.sent, 2);
	n = tide_xchg_recv_burst(x, got, RTE_DIM(got), 2);
	CU_ASSERT_EQUAL(n, fill + 2 - 1);
	tide_msg_release_burst(got, n);
	tide_xchg_free(x);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
}

static void
test_a_receiver_never_sees_a_bursts_low_level_before_its_high_one(void)
{
	publish_top_first(0);
	publish_top_first(2);
}
#endif

/*
 * Random bursts onto small levels, lap after lap of every ring, with random receives
 * between: each burst is sent whole when every level has room for its part, and otherwise
 * each level takes exactly what fits (its capacity less what it holds), whatever the
 * sender last saw of the receivers; every message comes out once, in order within its
 * level, with its level.
 */
static void
test_priority_bursts_take_exactly_the_room_each_level_has(void)
{
	enum { LEVELS = 3, ROUNDS = 3000 };
	struct tide_xchg *x = xchg("tm_room", TIDE_XCHG_PRIO, 8, LEVELS);
	uint32_t next[LEVELS] = { 0 }, expect[LEVELS] = { 0 }, held[LEVELS] = { 0 };
	unsigned int cap = tide_xring_pvt_capacity(&x->ring), errors = 0, partial = 0;
	struct rte_mbuf *m[24], *got[24];
	uint64_t rnd = 0x9e3779b97f4a7c15ull;

	for (int round = 0; round < ROUNDS; round++) {
		unsigned int n = 1 + thread_rand(&rnd, 24), cnt[LEVELS] = { 0 }, want = 0, sent;
		bool whole = true;

		for (unsigned int i = 0; i < n; i++) {
			uint8_t l = (uint8_t)thread_rand(&rnd, LEVELS);

			m[i] = pkt(stock_mp, (uint32_t)l << 20 | next[l]++, 64);
			tide_msg_make(m[i], 1, l);
			cnt[l]++;
		}
		for (unsigned int l = 0; l < LEVELS; l++) {
			want += RTE_MIN(cnt[l], cap - held[l]);
			whole &= cnt[l] <= cap - held[l];
		}
		sent = tide_xchg_send_burst(x, m, n);
		errors += sent != (whole ? n : want);
		partial += !whole;
		/* The refused are ours, in order; their levels count them again next time. */
		for (unsigned int i = sent; i < n; i++) {
			uint32_t l = seq_of(m[i]) >> 20;

			errors += tide_msg_owner(m[i]) != 1;
			next[l] = RTE_MIN(next[l], seq_of(m[i]) & 0xfffff);
		}
		for (unsigned int l = 0; l < LEVELS; l++)
			held[l] += RTE_MIN(cnt[l], cap - held[l]);
		tide_msg_release_burst(&m[sent], n - sent);
		/* Receive a random number, highest level first. */
		n = tide_xchg_recv_burst(x, got, thread_rand(&rnd, 24), 2);
		for (unsigned int i = 0; i < n; i++) {
			uint32_t l = seq_of(got[i]) >> 20;

			errors += l != tide_msg_prio(got[i]) || (seq_of(got[i]) & 0xfffff) !=
				expect[l]++;
			held[l]--;
		}
		tide_msg_release_burst(got, n);
	}
	CU_ASSERT_EQUAL(errors, 0);
	CU_ASSERT(partial > ROUNDS / 10); /* the levels were full often */
	for (unsigned int l = 0; l < LEVELS; l++)
		CU_ASSERT(expect[l] > 4 * cap); /* and lapped */
	tide_xchg_free(x);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
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
	pid_t tid;
	int ret;
	int done;
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

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	w->ret = tide_xchg_recv_wait(w->x, w->m, 4, 3, w->timeout_us);
	w->cpu_ms = thread_cpu_ms() - cpu0;
	w->wall_ms = (tide_test_now_ns() - t0) / 1e6;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The waiter announced itself to senders and its thread sleeps in the kernel. */
static bool
waiter_asleep(void *arg)
{
	struct waiter *w = arg;

	return __atomic_load_n(&w->x->sleepers.n, __ATOMIC_ACQUIRE) == 1 &&
		tide_test_tid_asleep(&w->tid);
}

/*
 * A receiver with nothing to take sleeps (announced to senders, its thread asleep in the
 * kernel, not returned) until a send wakes it; with a time limit it returns -ETIMEDOUT,
 * not before the limit. Waited for by looking, not by sleeping a while.
 */
static void
test_blocking_receive_sleeps_until_a_send(void)
{
	struct waiter w = { .x = xchg("tm_wait", TIDE_XCHG_FIFO, 64, 0) };
	struct rte_mbuf *m = pkt(tide_mp, 99, 64);
	pthread_t t;

	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, waiter_main, &w), 0);
	CU_ASSERT_FATAL(tide_test_wait(waiter_asleep, &w, 10000));
	CU_ASSERT_EQUAL(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), 0);
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(w.x, &m, 1), 1);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.ret, 1);
	CU_ASSERT_PTR_EQUAL(w.m[0], m);
	CU_ASSERT_EQUAL(tide_msg_owner(m), 3);
	CU_ASSERT_EQUAL(w.x->sleepers.n, 0);
	/* It slept: its whole life cost a few system calls, not a spin. */
	printf("\n    waited %.0f ms using %.2f ms of CPU ", w.wall_ms, w.cpu_ms);
	CU_ASSERT(w.cpu_ms < 20);
	tide_msg_release(m);

	w.timeout_us = 50 * 1000;
	w.tid = 0;
	w.done = 0;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, waiter_main, &w), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.ret, -ETIMEDOUT);
	CU_ASSERT(w.wall_ms >= 50); /* the deadline is on the monotonic clock */
	CU_ASSERT(w.cpu_ms < 20);
	tide_xchg_free(w.x);
}

/* The waiter's thread runs (its tid published), and sleeps in the kernel. */
static bool
waiter_in_kernel(void *arg)
{
	return tide_test_tid_asleep(&((struct waiter *)arg)->tid);
}

/*
 * Sleepers are counted by process, for a dead one's count to be taken back: a slot a gone
 * process left is given back (its count off sleepers) and reused; with every slot another
 * live process's, a receiver sleeps unannounced, in slices, and still gets what is sent.
 */
static void
test_sleep_slots_of_gone_processes_are_given_back(void)
{
	struct waiter w = { .x = xchg("tm_slots", TIDE_XCHG_FIFO, 64, 0) };
	struct rte_mbuf *m = pkt(tide_mp, 98, 64);
	const unsigned int last = TIDE_SLEEPERS_PVT_SLOTS - 1;
	struct slots_taken taken;
	pthread_t t;

	sleepers_slots_take(&w.x->sleepers, 2, &taken); /* the gone process's two receivers */

	w.timeout_us = 20 * 1000;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, waiter_main, &w), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.ret, -ETIMEDOUT);
	CU_ASSERT_EQUAL(w.x->sleepers.n, 0);
	CU_ASSERT_EQUAL(w.x->sleepers.by[last].tag, tide_xring_pvt_self);
	CU_ASSERT_EQUAL(w.x->sleepers.by[last].n, 0);

	/* No slot: unannounced, woken by its slice. */
	w.x->sleepers.by[last].tag = taken.live_tag;
	w.timeout_us = 0;
	w.tid = 0;
	w.done = 0;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, waiter_main, &w), 0);
	CU_ASSERT(tide_test_wait(waiter_in_kernel, &w, 10000));
	CU_ASSERT_EQUAL(w.x->sleepers.n, 0);
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(w.x, &m, 1), 1);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.ret, 1);
	CU_ASSERT_PTR_EQUAL(w.m[0], m);
	CU_ASSERT_EQUAL(w.x->sleepers.n, 0);
	tide_msg_release(m);
	sleepers_slots_free(&w.x->sleepers, &taken);
	tide_xchg_free(w.x);
}

/*
 * A receiver blocked with no time limit is woken for every message: one message at a
 * time, each waited for by a receiver free to run on any CPU. Once the send has returned
 * (its wake-up, if any, done), a receiver whose thread sleeps in the kernel while the
 * message waits in the exchange was not woken: a lost wake-up, seen as a state, not
 * inferred from a wait. (This catches a receive that does not look again after announcing
 * itself; the store-load window the fences close is a few nanoseconds wide, too narrow to
 * hit here.)
 */
#define PINGS 20000
/* Neither taken nor asleep for this long: the receiver is stuck elsewhere (a failure). */
#define PING_STUCK_NS (10ull * 1000 * 1000 * 1000)

struct ping {
	struct tide_xchg *x;
	pid_t tid;
	uint32_t got;
	int ret;
	int exited;
};

static void *
ping_receiver(void *arg)
{
	struct ping *pg = arg;
	struct rte_mbuf *m;

	__atomic_store_n(&pg->tid, gettid(), __ATOMIC_RELEASE);
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

/* Message @p i waits in the exchange while the receiver sleeps in the kernel. */
static bool
ping_lost(struct ping *pg, uint32_t i)
{
	return tide_test_tid_asleep(&pg->tid) && tide_xchg_count(pg->x) > 0 &&
		__atomic_load_n(&pg->got, __ATOMIC_ACQUIRE) <= i;
}

/*
 * PINGS messages, one at a time, each waited for by the receiver. @p sliced: its barrier
 * is refused, so it sleeps in slices and may wait out one for a wake-up it missed: a
 * message waiting while it sleeps is no failure then, only one it never takes.
 */
static void
run_pings(bool sliced)
{
	struct ping pg = { .x = xchg("tm_ping", TIDE_XCHG_FIFO, 8, 1) };
	unsigned int before = in_use(stock_mp), lost = 0, stuck = 0;
	pthread_t t;

	CU_ASSERT_EQUAL_FATAL(tide_test_thread_anywhere(&t, ping_receiver, &pg), 0);
	for (uint32_t i = 0; i < PINGS && lost + stuck == 0; i++) {
		struct rte_mbuf *m = pkt(stock_mp, i, 64);
		uint64_t t0;

		tide_msg_make(m, 3, 0);
		CU_ASSERT_EQUAL_FATAL(tide_xchg_send_burst(pg.x, &m, 1), 1);
		t0 = tide_test_now_ns();
		while (__atomic_load_n(&pg.got, __ATOMIC_ACQUIRE) <= i &&
				!__atomic_load_n(&pg.exited, __ATOMIC_ACQUIRE)) {
			if (!sliced && ping_lost(&pg, i)) {
				lost++;
				break;
			}
			if (tide_test_now_ns() - t0 > PING_STUCK_NS) {
				stuck++;
				break;
			}
		}
	}
	CU_ASSERT_EQUAL(lost, 0);
	CU_ASSERT_EQUAL(stuck, 0);
	if (lost + stuck > 0) {
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

static void
test_a_blocked_receiver_is_never_left_asleep(void)
{
	/* The kernel has membarrier(2): sends of this process do not fence. */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0) &
			MEMBARRIER_CMD_GLOBAL_EXPEDITED)
		CU_ASSERT_EQUAL(tide_msg_pvt_send_fence, 0);
	run_pings(false);
}

#ifdef TIDE_FAULT_INJECTION
/* A receiver whose barrier the kernel refuses still takes every message. */
static void
test_a_receiver_without_its_barrier_sleeps_in_slices(void)
{
	tide_fault_pvt_arm(TIDE_FAULT_MEMBARRIER, 0, UINT_MAX);
	run_pings(true);
	tide_fault_pvt_arm(TIDE_FAULT_MEMBARRIER, 0, 0);
}
#endif

/* ---- bad arguments: every documented error ---- */

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

/* Two threads create an exchange of one name at once, over and over: both spin until the
 * main one says go (a barrier's wake-up would let one finish before the other starts). */
struct race_create {
	uint32_t ready, go;
	struct tide_xchg *x[2];
	int err[2];
};

static void *
race_create_main(void *arg)
{
	struct race_create *rc = arg;
	struct tide_xchg_params p = { .name = "tm_race", .type = TIDE_XCHG_FIFO, .size = 64,
		.socket_id = SOCKET_ID_ANY };

	__atomic_store_n(&rc->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&rc->go, __ATOMIC_ACQUIRE))
		rte_pause();
	rc->x[1] = tide_xchg_create(&p);
	rc->err[1] = rc->x[1] == NULL ? rte_errno : 0;
	return NULL;
}

/* Exactly one of two creators racing for one name gets the exchange; the other EEXIST. */
static void
test_two_creators_of_one_name_get_one_exchange(void)
{
	struct tide_xchg_params p = { .name = "tm_race", .type = TIDE_XCHG_FIFO, .size = 64,
		.socket_id = SOCKET_ID_ANY };
	unsigned int both = 0, none = 0;
	pthread_attr_t attr;
	rte_cpuset_t cpus;

	/* The other creator on another CPU than this lcore's (whose one CPU it would inherit):
	 * the two run at once.
	 */
	CPU_ZERO(&cpus);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (c != sched_getcpu())
			CPU_SET(c, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	for (unsigned int round = 0; round < 300; round++) {
		struct race_create rc = { 0 };
		pthread_t t;

		CU_ASSERT_EQUAL_FATAL(pthread_create(&t, &attr, race_create_main, &rc), 0);
		while (!__atomic_load_n(&rc.ready, __ATOMIC_ACQUIRE))
			rte_pause();
		__atomic_store_n(&rc.go, 1, __ATOMIC_RELEASE);
		rc.x[0] = tide_xchg_create(&p);
		rc.err[0] = rc.x[0] == NULL ? rte_errno : 0;
		pthread_join(t, NULL);
		both += rc.x[0] != NULL && rc.x[1] != NULL;
		none += rc.x[0] == NULL && rc.x[1] == NULL;
		for (int i = 0; i < 2; i++) {
			if (rc.x[i] == NULL)
				CU_ASSERT_EQUAL(rc.err[i], EEXIST);
			tide_xchg_free(rc.x[i]);
		}
	}
	pthread_attr_destroy(&attr);
	CU_ASSERT_EQUAL(both, 0);
	CU_ASSERT_EQUAL(none, 0);
	CU_ASSERT_PTR_NULL(tide_xchg_lookup("tm_race"));
}

static void
test_lookup_and_receive_errors_are_reported(void)
{
	struct tide_xchg *x = xchg("tm_errs", TIDE_XCHG_FIFO, 8, 0);
	struct rte_mbuf *m;

	CU_ASSERT_PTR_NULL(tide_xchg_lookup(NULL));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(tide_xchg_lookup("tm_none"));
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_PTR_EQUAL(tide_xchg_lookup("tm_errs"), x);
	CU_ASSERT_EQUAL(tide_xchg_count(NULL), 0);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_xchg_recv_wait(NULL, &m, 1, 0, 1000), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_xchg_recv_wait(x, &m, 0, 0, 1000), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_xchg_recv_wait(x, &m, 1, 0, 1000), -ETIMEDOUT);
	CU_ASSERT_EQUAL(rte_errno, ETIMEDOUT);
	CU_ASSERT_EQUAL(tide_xchg_count(x), 0);
	/* A stage past the ids is refused before anything is taken. */
	m = pkt(tide_mp, 1, 64);
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL_FATAL(tide_xchg_send_burst(x, &m, 1), 1);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_xchg_recv_wait(x, &m, 1, TIDE_STAGE_MAX, 0), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_xchg_count(x), 1);
	if (tide_xchg_recv_wait(x, &m, 1, TIDE_STAGE_NONE, 1000 * 1000) == 1)
		tide_msg_release(m);
	else
		CU_FAIL("the message did not stay in the exchange");
	tide_xchg_free(x);
	CU_ASSERT_PTR_NULL(tide_xchg_lookup("tm_errs"));
}

/* Memory that is no exchange, with zeros before it: were it handed to rte_free(), DPDK
 * would find no heap element there and refuse it, instead of freeing what is not its own. */
static struct {
	uint8_t before[4 * RTE_CACHE_LINE_SIZE];
	struct tide_xchg x;
} foreign_xchg;

/*
 * A second free of an exchange, or a pointer that is no exchange, is refused and left
 * alone: freeing it would read the address of its rings from memory that is no exchange's
 * (another object's, once that memory is handed out again) and free what it points to.
 * The other exchanges carry on.
 */
static void
test_a_second_free_or_a_foreign_pointer_is_refused(void)
{
	struct tide_xchg *x = xchg("tm_twice", TIDE_XCHG_FIFO, 8, 0);
	struct tide_xchg *y = xchg("tm_live", TIDE_XCHG_PRIO, 8, 2);
	struct rte_mbuf *m = pkt(stock_mp, 5, 64), *got = NULL;
	unsigned int before = in_use(stock_mp) - 1;
	uint8_t zero[sizeof(foreign_xchg)] = { 0 };

	tide_msg_make(m, 1, 1);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(y, &m, 1), 1);
	tide_xchg_free(x);
	CU_ASSERT_PTR_NULL(tide_xchg_lookup("tm_twice"));
	TIDE_TEST_REFUSED_LOGGED(tide_xchg_free(x), EINVAL, "tide_xchg_free");
	TIDE_TEST_REFUSED_LOGGED(tide_xchg_free(&foreign_xchg.x), EINVAL, "tide_xchg_free");
	CU_ASSERT_EQUAL(memcmp(&foreign_xchg, zero, sizeof(zero)), 0);
	rte_errno = 0;
	tide_xchg_free(NULL); /* a no-op, not a refusal */
	CU_ASSERT_EQUAL(rte_errno, 0);

	CU_ASSERT_PTR_EQUAL(tide_xchg_lookup("tm_live"), y);
	CU_ASSERT_EQUAL(tide_xchg_count(y), 1);
	CU_ASSERT_EQUAL(tide_xchg_recv_burst(y, &got, 1, 2), 1);
	CU_ASSERT_PTR_EQUAL(got, m);
	CU_ASSERT_EQUAL(seq_of(got), 5);
	tide_msg_release(got);
	tide_xchg_free(y);
	CU_ASSERT_EQUAL(in_use(stock_mp), before);
}

static void
test_an_exchange_on_an_unknown_socket_or_without_memory_is_refused(void)
{
	struct tide_xchg_params p = { .name = "tm_sock", .type = TIDE_XCHG_FIFO, .size = 16,
		.socket_id = 4096 };

	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	p.socket_id = -5;
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	p.socket_id = SOCKET_ID_ANY;
#ifdef TIDE_FAULT_INJECTION
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
	/* Nothing of it was left behind: the name is free. */
	CU_ASSERT_PTR_NULL(tide_xchg_lookup("tm_sock"));
#endif
	tide_xchg_free(xchg("tm_sock", TIDE_XCHG_FIFO, 16, 0));
}

#ifdef TIDE_FAULT_INJECTION
/* Whether sleepers @p arg count two. */
static bool
two_counted(void *arg)
{
	return __atomic_load_n(&((struct tide_sleepers *)arg)->n, __ATOMIC_ACQUIRE) == 2;
}

/* Whether the receive of one of two waiters (@p arg) is over. */
static bool
one_waiter_done(void *arg)
{
	struct waiter **w = arg;

	return __atomic_load_n(&w[0]->done, __ATOMIC_ACQUIRE) != 0 ||
		__atomic_load_n(&w[1]->done, __ATOMIC_ACQUIRE) != 0;
}

/*
 * Two receivers find the same gone process's slot at once, every other slot taken: one
 * gives it back and claims it, and sleeps counted in it; the other, held between finding
 * the slot gone and giving it back, then takes nothing from it. Before, it took the first
 * one's share: the count said one sleeper for two, and went below zero (wrapped) when both
 * had left, every send then a wake for nobody.
 */
static void
test_a_gone_slot_found_by_two_is_given_back_once(void)
{
	struct waiter w1 = { .x = xchg("tm_slot2", TIDE_XCHG_FIFO, 64, 0) }, w2;
	const unsigned int last = TIDE_SLEEPERS_PVT_SLOTS - 1;
	struct tide_sleepers *sl = &w1.x->sleepers;
	struct rte_mbuf *m[2] = { pkt(tide_mp, 96, 64), pkt(tide_mp, 97, 64) };
	struct slots_taken taken;
	pthread_t t1, t2;

	w1.timeout_us = 10 * 1000 * 1000; /* a wake-up lost fails the test, not hangs it */
	w2 = w1;
	sleepers_slots_take(sl, 1, &taken);

	tide_fault_pvt_hold_arm(TIDE_HOLD_SLEEPER_GONE);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t1, NULL, waiter_main, &w1), 0);
	CU_ASSERT_FATAL(tide_fault_pvt_hold_wait(TIDE_HOLD_SLEEPER_GONE, 10000));
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t2, NULL, waiter_main, &w2), 0);
	CU_ASSERT(tide_test_wait(waiter_asleep, &w2, 10000));
	CU_ASSERT_EQUAL(sl->by[last].tag, tide_xring_pvt_self);
	tide_fault_pvt_hold_release(TIDE_HOLD_SLEEPER_GONE);
	CU_ASSERT(tide_test_wait(two_counted, sl, 10000));
	CU_ASSERT(tide_test_wait(waiter_in_kernel, &w1, 10000));
	CU_ASSERT_EQUAL(sl->n, 2);
	CU_ASSERT_EQUAL(sl->by[last].n, 2);

	/* One message each: both wake, and the counts come back to 0, not below. */
	tide_msg_make(m[0], 1, 0);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(w1.x, &m[0], 1), 1);
	CU_ASSERT(tide_test_wait(one_waiter_done, (struct waiter *[]){ &w1, &w2 }, 10000));
	tide_msg_make(m[1], 1, 0);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(w1.x, &m[1], 1), 1);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CU_ASSERT_EQUAL(w1.ret + w2.ret, 2);
	CU_ASSERT_EQUAL(sl->n, 0);
	CU_ASSERT_EQUAL(sl->by[last].n, 0);
	for (int i = 0; i < w1.ret; i++)
		tide_msg_release(w1.m[i]);
	for (int i = 0; i < w2.ret; i++)
		tide_msg_release(w2.m[i]);
	sleepers_slots_free(sl, &taken);
	tide_xchg_free(w1.x);
}
#endif

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("msg_xchg", msg_suite_init, msg_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_fifo_exchange_keeps_order);
	CU_ADD_TEST(s, test_receives_that_wrap_the_ring_keep_order_and_write_every_header);
	CU_ADD_TEST(s, test_a_receiver_behind_another_threads_sends_gets_every_message_in_order);
	CU_ADD_TEST(s, test_a_turn_held_by_a_gone_process_is_taken_over);
	CU_ADD_TEST(s, test_a_turn_a_forked_child_died_holding_is_taken_over);
	CU_ADD_TEST(s, test_a_send_of_nothing_writes_nothing);
	CU_ADD_TEST(s, test_stage_forms_make_send_and_receive_unmake);
	CU_ADD_TEST(s, test_priority_exchange_serves_highest_first_fifo_within);
	CU_ADD_TEST(s, test_levels_past_the_top_are_served_at_the_top);
	CU_ADD_TEST(s, test_a_full_exchange_refuses_and_the_caller_keeps_the_rest);
	CU_ADD_TEST(s, test_a_priority_burst_goes_level_by_level_and_keeps_the_refused_in_order);
	CU_ADD_TEST(s, test_every_message_a_full_exchange_refuses_is_counted);
	CU_ADD_TEST(s, test_priority_bursts_take_exactly_the_room_each_level_has);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_receiver_never_sees_a_bursts_low_level_before_its_high_one);
#endif
	CU_ADD_TEST(s, test_order_holds_with_two_lcores_and_threads);
	CU_ADD_TEST(s, test_a_tiny_exchange_under_many_senders_and_receivers_loses_nothing);
	CU_ADD_TEST(s, test_a_single_sender_and_receiver_exchange_keeps_every_guarantee);
	CU_ADD_TEST(s, test_blocking_receive_sleeps_until_a_send);
	CU_ADD_TEST(s, test_sleep_slots_of_gone_processes_are_given_back);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_gone_slot_found_by_two_is_given_back_once);
#endif
	CU_ADD_TEST(s, test_a_blocked_receiver_is_never_left_asleep);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_receiver_without_its_barrier_sleeps_in_slices);
#endif
	CU_ADD_TEST(s, test_bad_exchange_parameters_are_refused);
	CU_ADD_TEST(s, test_two_creators_of_one_name_get_one_exchange);
	CU_ADD_TEST(s, test_lookup_and_receive_errors_are_reported);
	CU_ADD_TEST(s, test_a_second_free_or_a_foreign_pointer_is_refused);
	CU_ADD_TEST(s, test_an_exchange_on_an_unknown_socket_or_without_memory_is_refused);
	CU_ADD_TEST(s, test_nothing_leaked_at_the_end);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "msg_xchg", true, register_tests);
}
