/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Proxies (lib/msg/msg_proxy.c) under EAL: they point into the real message, are counted
 * afresh when it is made again, are released with it in every order, carry servers'
 * replies across threads, exhaust the proxy area all or nothing, and every error the
 * calls document.
 */

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "test_common.h"
#include "test_msg_util.h"
#include "tide_msg.h"

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

static void
test_proxy_errors_are_reported(void)
{
	enum { MANY = UINT16_MAX };
	struct tide_msg_range r = { 0, 8 }, outside = { 60, 8 };
	struct tide_msg_range *many = calloc(MANY, sizeof(*many));
	struct rte_mbuf *real = pkt(tide_mp, 0, 64), *p[2];

	CU_ASSERT_PTR_NOT_NULL_FATAL(many);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, 1, &r, p), -EINVAL); /* not made */
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	tide_msg_make(real, 1, 0);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(NULL, 1, &r, p), -EINVAL);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, 0, &r, p), -EINVAL);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, 1, NULL, p), -EINVAL);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, 1, &r, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, 1, &outside, p), -EINVAL);
	/* A proxy is not a real message: no proxies of proxies. */
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(real, 1, &r, p), 0);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(p[0], 1, &r, &p[1]), -EINVAL);
	/* 65535 more references than the real message can count: refused before any is
	 * taken (the proxy area holds far fewer).
	 */
	for (unsigned int i = 0; i < MANY; i++)
		many[i] = r;
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, MANY, many, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, MANY, many, p), -ENOSPC);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(real), 2);
	CU_ASSERT_EQUAL(tide_msg_nb_proxies(real), 1);
	/* A count that wraps the sum with what the message counts already (1 + UINT_MAX is
	 * 0): refused the same way, and none of its ranges read (there is one).
	 */
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, UINT_MAX, &r, p), -ENOSPC);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(real), 2);
	CU_ASSERT_EQUAL(tide_msg_nb_proxies(real), 1);
	/* Replies only on live proxies. */
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_reply(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_msg_reply(real), -EINVAL);
	CU_ASSERT_EQUAL(tide_msg_reply(p[0]), 1);
	tide_msg_proxy_release(p[0]);
	CU_ASSERT_EQUAL(tide_msg_reply(p[0]), -EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_proxy_release_checked(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	tide_msg_release(real);
	free(many);
}

/* Released by its holder while a proxy holds it on, a real message is no longer one to make
 * proxies of: that proxy's release frees it.
 */
static void
test_no_proxies_of_a_message_its_holder_released(void)
{
	struct tide_msg_range r = { 0, 8 };
	struct rte_mbuf *real = pkt(stock_mp, 0, 64), *p, *more;

	tide_msg_make(real, 1, 0);
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(real, 1, &r, &p), 0);
	tide_msg_release(real);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, 1, &r, &more), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(real), 1);
	tide_msg_proxy_release(p);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
}

/*
 * The proxy count is of every proxy made since the message was made: 65535 of them, made
 * and released, and no more can be made though the message holds no proxy now; made
 * again, it starts from 0.
 */
static void
test_proxies_made_since_the_message_was_are_bounded(void)
{
	enum { STEP = NB_PROXIES - 1 };
	struct tide_msg_range *r = calloc(STEP, sizeof(*r));
	struct rte_mbuf **p = calloc(STEP, sizeof(*p));
	struct rte_mbuf *real = pkt(stock_mp, 0, 64);
	unsigned int made = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (unsigned int i = 0; i < STEP; i++)
		r[i] = (struct tide_msg_range){ 0, 8 };
	tide_msg_make(real, 1, 0);
	while (made < UINT16_MAX) {
		unsigned int k = RTE_MIN((unsigned int)STEP, UINT16_MAX - made);

		CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(real, k, r, p), 0);
		for (unsigned int i = 0; i < k; i++)
			tide_msg_proxy_release(p[i]);
		made += k;
	}
	CU_ASSERT_EQUAL(tide_msg_nb_proxies(real), UINT16_MAX);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(real), 1);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, 1, r, p), -ENOSPC);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	tide_msg_make(real, 1, 0);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(real, 1, r, p), 0);
	tide_msg_proxy_release(p[0]);
	tide_msg_release(real);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
	free(r);
	free(p);
}

struct far_maker {
	struct rte_mbuf *real;
	const struct tide_msg_range *r;
	struct rte_mbuf **p;
	unsigned int n;
	int ret;
};

static void *
far_maker_main(void *arg)
{
	struct far_maker *f = arg;

	f->ret = tide_msg_proxy_make(f->real, f->n, f->r, f->p);
	return NULL;
}

/*
 * An lcore keeps free proxies at hand that other threads cannot take (as a mempool's lcore
 * cache does): a non-EAL thread still gets every proxy but 64 for each lcore (the sizing
 * struct tide_msg_conf gives).
 */
static void
test_a_thread_gets_every_proxy_but_what_lcores_keep_at_hand(void)
{
	const unsigned int kept = 64 * rte_lcore_count();
	struct tide_msg_range *r = calloc(NB_PROXIES, sizeof(*r));
	struct rte_mbuf **p = calloc(NB_PROXIES, sizeof(*p));
	struct rte_mbuf *real = pkt(stock_mp, 0, 64), *one;
	struct far_maker f = { .real = real, .r = r, .p = p, .n = NB_PROXIES - kept };
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (unsigned int i = 0; i < NB_PROXIES; i++)
		r[i] = (struct tide_msg_range){ 0, 8 };
	tide_msg_make(real, 1, 0);
	/* This lcore makes and releases one: it keeps some at hand. */
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(real, 1, r, &one), 0);
	tide_msg_proxy_release(one);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, far_maker_main, &f), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(f.ret, 0);
	if (f.ret == 0)
		for (unsigned int i = 0; i < f.n; i++)
			tide_msg_proxy_release(p[i]);
	tide_msg_release(real);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
	free(r);
	free(p);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("msg_proxy", msg_suite_init, msg_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_proxies_point_into_the_real_message);
	CU_ADD_TEST(s, test_a_remade_message_starts_with_no_proxies);
	CU_ADD_TEST(s, test_real_and_proxies_released_in_every_order);
	CU_ADD_TEST(s, test_proxies_multicast_to_servers_who_reply);
	CU_ADD_TEST(s, test_proxy_area_exhaustion_is_refused_whole);
	CU_ADD_TEST(s, test_proxy_errors_are_reported);
	CU_ADD_TEST(s, test_no_proxies_of_a_message_its_holder_released);
	CU_ADD_TEST(s, test_proxies_made_since_the_message_was_are_bounded);
	CU_ADD_TEST(s, test_a_thread_gets_every_proxy_but_what_lcores_keep_at_hand);
	CU_ADD_TEST(s, test_nothing_leaked_at_the_end);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "msg_proxy", true, register_tests);
}
