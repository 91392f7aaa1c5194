/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Waiting at the wall: FIFO service with no barging, blocking and callback forms,
 * timeouts, cancellation, and a freed pool cancelling whoever still waits.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "test_common.h"
#include "test_pool_util.h"
#include "tide_fault.h"

#define MAXM 4096

/* A pool at its wall with every mbuf held in held[]; returns how many. */
static struct rte_mempool *
full_pool(const char *name, struct rte_mbuf **held, unsigned int *n)
{
	struct rte_mempool *mp = make_pool(name, 2 * MB, 2 * MB, 2 * MB, 0, 0);

	*n = 0;
	while (*n < MAXM && (held[*n] = rte_pktmbuf_alloc(mp)) != NULL)
		(*n)++;
	CU_ASSERT_FATAL(*n > 16 && *n < MAXM);
	return mp;
}

struct done_log {
	pthread_mutex_t lock;
	char order[16];
	unsigned int len;
	int status[16];
};

static struct done_log dlog = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
log_done(struct rte_mempool *mp __rte_unused, struct rte_mbuf **m __rte_unused,
	unsigned int n __rte_unused, int status, void *arg)
{
	pthread_mutex_lock(&dlog.lock);
	dlog.status[dlog.len] = status;
	dlog.order[dlog.len++] = (char)(uintptr_t)arg;
	pthread_mutex_unlock(&dlog.lock);
}

static void
log_reset(void)
{
	pthread_mutex_lock(&dlog.lock);
	memset(dlog.order, 0, sizeof(dlog.order));
	dlog.len = 0;
	pthread_mutex_unlock(&dlog.lock);
}

static unsigned int
log_len(void)
{
	unsigned int n;

	pthread_mutex_lock(&dlog.lock);
	n = dlog.len;
	pthread_mutex_unlock(&dlog.lock);
	return n;
}

static bool
log_has_2(void *arg __rte_unused)
{
	return log_len() >= 2;
}

static bool
log_has_3(void *arg __rte_unused)
{
	return log_len() >= 3;
}

static bool
log_has_4(void *arg __rte_unused)
{
	return log_len() >= 4;
}

static void
test_waiters_are_served_in_fifo_order_without_barging(void)
{
	struct rte_mbuf *held[MAXM], *a[2], *b[1], *c[1], *d[1];
	unsigned int n;
	struct rte_mempool *mp = full_pool("tw_fifo", held, &n);

	log_reset();
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, a, 2, 0, log_done, (void *)'A', NULL), 1);
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, b, 1, 0, log_done, (void *)'B', NULL), 1);
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, c, 1, 0, log_done, (void *)'C', NULL), 1);
	CU_ASSERT_EQUAL(pstats(mp).waiting, 3);
	/* One mbuf back: A needs two, and B may not pass A, however many ticks pass. */
	rte_pktmbuf_free(held[--n]);
	pool_wait_ticks(mp, 3);
	CU_ASSERT_EQUAL(log_len(), 0);
	/* A newcomer that one free mbuf would serve queues behind them too. */
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, d, 1, 0, log_done, (void *)'D', NULL), 1);
	/* Three more back: A, then B, then C; D waits. */
	rte_pktmbuf_free(held[--n]);
	rte_pktmbuf_free(held[--n]);
	rte_pktmbuf_free(held[--n]);
	CU_ASSERT_TRUE(tide_test_wait(log_has_3, NULL, 10000));
	CU_ASSERT_NSTRING_EQUAL(dlog.order, "ABC", 3);
	CU_ASSERT_EQUAL(dlog.status[0], 0);
	CU_ASSERT_EQUAL(pstats(mp).waiting, 1);
	rte_pktmbuf_free(held[--n]);
	CU_ASSERT_TRUE(tide_test_wait(log_has_4, NULL, 5000));
	CU_ASSERT_NSTRING_EQUAL(dlog.order, "ABCD", 4);
	CU_ASSERT_EQUAL(pstats(mp).waits_served, 4);
	rte_pktmbuf_free_bulk(a, 2);
	rte_pktmbuf_free(b[0]);
	rte_pktmbuf_free(c[0]);
	rte_pktmbuf_free(d[0]);
	rte_pktmbuf_free_bulk(held, n);
	CU_ASSERT_EQUAL(pstats(mp).nb_in_use, 0);
	tide_pool_free(mp);
}

static void
test_a_request_is_served_at_once_when_nobody_waits(void)
{
	struct rte_mempool *mp = make_pool("tw_now", 2 * MB, 2 * MB, 8 * MB, 0, 0);
	struct rte_mbuf *m[4];

	CU_ASSERT_EQUAL(tide_pool_alloc_wait(mp, m, 4, 1000, NULL), 0);
	rte_pktmbuf_free_bulk(m, 4);
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, 4, 0, log_done, NULL, NULL), 0);
	rte_pktmbuf_free_bulk(m, 4);
	CU_ASSERT_EQUAL(pstats(mp).waits_served, 0);
	tide_pool_free(mp);
}

struct blocker {
	struct rte_mempool *mp;
	struct rte_mbuf *m[8];
	unsigned int n;
	uint64_t timeout_us;
	volatile uint64_t ticket;
	int ret;
	int err;
};

static void *
blocker_main(void *arg)
{
	struct blocker *b = arg;

	b->ret = tide_pool_alloc_wait(b->mp, b->m, b->n, b->timeout_us, (uint64_t *)&b->ticket);
	b->err = rte_errno;
	return NULL;
}

/* Start a blocked caller and wait until it is queued. */
static void
blocker_start(pthread_t *t, struct blocker *b, struct rte_mempool *mp, unsigned int n,
	uint64_t timeout_us)
{
	uint32_t before = pstats(mp).waiting;

	b->mp = mp;
	b->n = n;
	b->timeout_us = timeout_us;
	CU_ASSERT_EQUAL_FATAL(pthread_create(t, NULL, blocker_main, b), 0);
	for (int i = 0; i < 2000 && pstats(mp).waiting == before; i++)
		tide_test_sleep_us(1000);
	CU_ASSERT_EQUAL(pstats(mp).waiting, before + 1);
}

static void
test_a_blocked_caller_is_served_when_mbufs_come_back(void)
{
	struct rte_mbuf *held[MAXM];
	struct blocker b = { 0 };
	unsigned int n;
	struct rte_mempool *mp = full_pool("tw_block", held, &n);
	pthread_t t;

	blocker_start(&t, &b, mp, 3, 0);
	rte_pktmbuf_free_bulk(&held[n - 3], 3);
	n -= 3;
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(b.ret, 0);
	CU_ASSERT_PTR_EQUAL(b.m[0]->pool, mp);
	rte_pktmbuf_free_bulk(b.m, 3);
	rte_pktmbuf_free_bulk(held, n);
	tide_pool_free(mp);
}

/* End to end on the real clock: a blocked caller's timeout, with generous bounds. */
static void
test_a_blocked_caller_times_out_and_takes_nothing(void)
{
	struct rte_mbuf *held[MAXM];
	struct blocker b = { 0 };
	unsigned int n;
	struct rte_mempool *mp = full_pool("tw_tmo", held, &n);
	uint64_t t0;
	pthread_t t;

	b.mp = mp;
	b.n = 2;
	b.timeout_us = 30 * 1000;
	t0 = tide_test_now_ns();
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, blocker_main, &b), 0);
	pthread_join(t, NULL);
	CU_ASSERT(tide_test_now_ns() - t0 >= 30 * MS);
	CU_ASSERT(tide_test_now_ns() - t0 < 10000 * MS);
	CU_ASSERT_EQUAL(b.ret, -ETIMEDOUT);
	CU_ASSERT_EQUAL(b.err, ETIMEDOUT);
	CU_ASSERT_EQUAL(pstats(mp).waiting, 0);
	CU_ASSERT_EQUAL(pstats(mp).waits_timedout, 1);
	/* What comes back afterwards stays in the pool. */
	rte_pktmbuf_free_bulk(held, n);
	CU_ASSERT_EQUAL(pstats(mp).nb_in_use, 0);
	tide_pool_free(mp);
}

#ifdef TIDE_FAULT_INJECTION
/*
 * A blocked caller times out at the first tick at or past its deadline, not before:
 * driven by the fake clock, a tick per 10 ms step.
 */
static void
test_a_blocked_caller_times_out_at_its_deadline(void)
{
	struct rte_mbuf *held[MAXM];
	struct blocker b = { 0 };
	unsigned int n;
	struct rte_mempool *mp;
	pthread_t t;

	tide_test_clock_fake();
	mp = full_pool("tw_tmo_fake", held, &n);
	blocker_start(&t, &b, mp, 2, 30 * 1000);
	pool_advance(mp, 10 * MS);
	pool_advance(mp, 10 * MS);
	pool_advance(mp, 9 * MS);
	/* 29 ms of its 30: still waiting. */
	CU_ASSERT_EQUAL(pstats(mp).waiting, 1);
	CU_ASSERT_EQUAL(pstats(mp).waits_timedout, 0);
	pool_advance(mp, 1 * MS);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(b.ret, -ETIMEDOUT);
	CU_ASSERT_EQUAL(b.err, ETIMEDOUT);
	CU_ASSERT_EQUAL(pstats(mp).waiting, 0);
	CU_ASSERT_EQUAL(pstats(mp).waits_timedout, 1);
	rte_pktmbuf_free_bulk(held, n);
	CU_ASSERT_EQUAL(pstats(mp).nb_in_use, 0);
	tide_pool_free(mp);
	tide_test_clock_real();
}

/* Driven by the fake clock: the deadline passes when the test says, not the machine. */
static void
test_an_async_request_times_out_through_its_callback(void)
{
	struct rte_mbuf *held[MAXM], *m[2], *v[2];
	unsigned int n;
	struct rte_mempool *mp;

	tide_test_clock_fake();
	mp = full_pool("tw_atmo", held, &n);
	log_reset();
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, 2, 20 * 1000, log_done, (void *)'T',
		NULL), 1);
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, 2, 0, log_done, (void *)'U', NULL), 1);
	/* A timeout too long for a deadline: none (not one wrapped into the past). */
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, v, 2, UINT64_MAX, log_done, (void *)'V',
		NULL), 1);
	pool_advance(mp, 10 * MS);
	pool_advance(mp, 9 * MS);
	CU_ASSERT_EQUAL(log_len(), 0);
	pool_advance(mp, 1 * MS);
	CU_ASSERT_EQUAL(log_len(), 1);
	CU_ASSERT_EQUAL(dlog.order[0], 'T');
	CU_ASSERT_EQUAL(dlog.status[0], -ETIMEDOUT);
	/* Those without a deadline still wait, then are served at the next tick, in turn. */
	pool_advance(mp, 1000 * MS);
	CU_ASSERT_EQUAL(log_len(), 1);
	rte_pktmbuf_free_bulk(&held[n - 2], 2);
	n -= 2;
	pool_advance(mp, 1 * MS);
	CU_ASSERT_EQUAL(log_len(), 2);
	CU_ASSERT_EQUAL(dlog.order[1], 'U');
	CU_ASSERT_EQUAL(dlog.status[1], 0);
	rte_pktmbuf_free_bulk(m, 2);
	pool_advance(mp, 1 * MS);
	CU_ASSERT_EQUAL(log_len(), 3);
	CU_ASSERT_EQUAL(dlog.order[2], 'V');
	CU_ASSERT_EQUAL(dlog.status[2], 0);
	rte_pktmbuf_free_bulk(v, 2);
	rte_pktmbuf_free_bulk(held, n);
	tide_pool_free(mp);
	tide_test_clock_real();
}

/* Its mbufs came back in the tick its deadline passed: the request is served, not timed
 * out (the control thread serves the head before it looks at deadlines).
 */
static void
test_a_request_whose_mbufs_come_with_its_deadline_is_served(void)
{
	struct rte_mbuf *held[MAXM], *m[2];
	struct rte_mempool *mp;
	unsigned int n;

	tide_test_clock_fake();
	mp = full_pool("tw_tie", held, &n);
	log_reset();
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, 2, 20 * 1000, log_done, (void *)'T',
		NULL), 1);
	pool_advance(mp, 10 * MS);
	CU_ASSERT_EQUAL(log_len(), 0);
	rte_pktmbuf_free_bulk(&held[n - 2], 2);
	n -= 2;
	pool_advance(mp, 15 * MS);
	CU_ASSERT_EQUAL_FATAL(log_len(), 1);
	CU_ASSERT_EQUAL(dlog.status[0], 0);
	CU_ASSERT_EQUAL(pstats(mp).waits_timedout, 0);
	rte_pktmbuf_free_bulk(m, 2);
	rte_pktmbuf_free_bulk(held, n);
	tide_pool_free(mp);
	tide_test_clock_real();
}
#endif

static void
test_requests_can_be_cancelled(void)
{
	struct rte_mbuf *held[MAXM], *m[2];
	struct blocker b = { 0 };
	uint64_t ticket = 0;
	unsigned int n;
	struct rte_mempool *mp = full_pool("tw_cancel", held, &n);
	pthread_t t;

	log_reset();
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, 2, 0, log_done, (void *)'X', &ticket), 1);
	CU_ASSERT(ticket != 0);
	blocker_start(&t, &b, mp, 1, 0);
	CU_ASSERT(b.ticket != 0 && b.ticket != ticket);
	CU_ASSERT_EQUAL(tide_pool_wait_cancel(mp, ticket), 0);
	CU_ASSERT_EQUAL(log_len(), 1);
	CU_ASSERT_EQUAL(dlog.status[0], -ECANCELED);
	CU_ASSERT_EQUAL(tide_pool_wait_cancel(mp, ticket), -ENOENT);
	CU_ASSERT_EQUAL(tide_pool_wait_cancel(mp, b.ticket), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(b.ret, -ECANCELED);
	CU_ASSERT_EQUAL(pstats(mp).waits_cancelled, 2);
	CU_ASSERT_EQUAL(pstats(mp).waiting, 0);
	rte_pktmbuf_free_bulk(held, n);
	tide_pool_free(mp);
}

static void
test_freeing_the_pool_cancels_whoever_waits(void)
{
	struct rte_mbuf *held[MAXM], *m[2];
	struct blocker b = { 0 };
	unsigned int n;
	struct rte_mempool *mp = full_pool("tw_free", held, &n);
	pthread_t t;

	log_reset();
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, 2, 0, log_done, (void *)'F', NULL), 1);
	blocker_start(&t, &b, mp, 1, 0);
	/* Nothing comes back: freeing the pool ends both requests, cancelled, once each
	 * (its memory goes with it, the held mbufs too).
	 */
	tide_pool_free(mp);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(log_len(), 1);
	CU_ASSERT_EQUAL(b.ret, -ECANCELED);
	CU_ASSERT_EQUAL(dlog.status[0], -ECANCELED);
}

/* A callback that queues another request, as an lcore's state machine does. */
struct requeue {
	struct rte_mempool *mp;
	struct rte_mbuf *m[1];
	int ret;             /* what the callback's own request got */
	int err;             /* rte_errno after it */
	volatile bool returned;
};

static void
requeue_cb(struct rte_mempool *mp, struct rte_mbuf **m __rte_unused, unsigned int n __rte_unused,
	int status, void *arg)
{
	struct requeue *r = arg;

	log_done(mp, m, n, status, (void *)'A');
	r->ret = tide_pool_alloc_async(r->mp, r->m, 1, 0, log_done, (void *)'B', NULL);
	r->returned = true;
}

static bool
requeue_returned(void *arg)
{
	return ((struct requeue *)arg)->returned;
}

/*
 * A full pool @p name whose request for one mbuf (into a[0]) is served on the control
 * thread by @p cb with @p r: queued, one mbuf freed, then @p cb waited for until it
 * returned. A control thread stuck in it runs nothing else: the test gives up, with a line
 * saying so.
 */
static struct rte_mempool *
served_by_callback(const char *name, tide_pool_wait_cb_t *cb, struct requeue *r,
	struct rte_mbuf **held, unsigned int *n, struct rte_mbuf **a)
{
	struct rte_mempool *mp = full_pool(name, held, n);

	r->mp = mp;
	log_reset();
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, a, 1, 0, cb, r, NULL), 1);
	rte_pktmbuf_free(held[--*n]);
	if (tide_test_wait(requeue_returned, r, 5000))
		return mp;
	CU_FAIL("a waiter's callback did not return");
	fprintf(stderr, "%s: the control thread is deadlocked; giving up\n", name);
	_exit(1);
}

/* The control thread goes on after a callback: three more ticks of @p mp. */
static void
control_thread_goes_on(struct rte_mempool *mp)
{
	uint64_t ticks = pstats(mp).ticks;

	pool_wait_ticks(mp, 3);
	CU_ASSERT(pstats(mp).ticks >= ticks + 3);
}

static void
test_a_callback_may_queue_another_request(void)
{
	struct rte_mbuf *held[MAXM], *a[1];
	struct requeue r = { .ret = -1 };
	unsigned int n;
	/* Served on the control thread, whose callback queues the next request. */
	struct rte_mempool *mp = served_by_callback("tw_requeue", requeue_cb, &r, held, &n, a);

	CU_ASSERT_EQUAL(r.ret, 1);
	control_thread_goes_on(mp);
	rte_pktmbuf_free(held[--n]);
	CU_ASSERT_TRUE(tide_test_wait(log_has_2, NULL, 5000));
	CU_ASSERT_NSTRING_EQUAL(dlog.order, "AB", 2);
	CU_ASSERT_EQUAL(dlog.status[1], 0);
	rte_pktmbuf_free(a[0]);
	rte_pktmbuf_free(r.m[0]);
	rte_pktmbuf_free_bulk(held, n);
	tide_pool_free(mp);
}

/* A callback that blocks for more mbufs: what would wait for the control thread running it. */
static void
block_cb(struct rte_mempool *mp, struct rte_mbuf **m __rte_unused, unsigned int n __rte_unused,
	int status, void *arg)
{
	struct requeue *r = arg;

	log_done(mp, m, n, status, (void *)'A');
	r->ret = tide_pool_alloc_wait(r->mp, r->m, 1, 0, NULL);
	r->err = rte_errno;
	r->returned = true;
}

/*
 * A callback may not block in tide_pool_alloc_wait(): the control thread running it is
 * the one that would serve the request, and would wait for itself for ever (no pool served
 * again). The call is refused with EDEADLK, and the control thread goes on.
 */
static void
test_a_callback_that_would_block_is_refused(void)
{
	struct rte_mbuf *held[MAXM], *a[1];
	struct requeue r = { .ret = -1 };
	unsigned int n;
	struct rte_mempool *mp = served_by_callback("tw_block", block_cb, &r, held, &n, a);

	CU_ASSERT_EQUAL(r.ret, -EDEADLK);
	CU_ASSERT_EQUAL(r.err, EDEADLK);
	control_thread_goes_on(mp);
	rte_pktmbuf_free(a[0]);
	rte_pktmbuf_free_bulk(held, n);
	tide_pool_free(mp);
}

/* A callback that frees the pool it was called for, then blocks for an mbuf of it. */
static void
free_cb(struct rte_mempool *mp, struct rte_mbuf **m __rte_unused, unsigned int n __rte_unused,
	int status, void *arg)
{
	struct requeue *r = arg;

	log_done(mp, m, n, status, (void *)'F');
	rte_errno = 0;
	tide_pool_free(r->mp);
	r->err = rte_errno;
	r->ret = tide_pool_alloc_wait(r->mp, r->m, 1, 1000, NULL);
	r->returned = true;
}

struct cancel_call {
	struct rte_mempool *mp;
	uint64_t ticket;
	int ret;
};

static void *
cancel_call_main(void *arg)
{
	struct cancel_call *c = arg;

	c->ret = tide_pool_wait_cancel(c->mp, c->ticket);
	return NULL;
}

/*
 * A callback runs holding its pool: on the control thread (served) or on the thread that
 * cancels its request. From there a free of the pool would wait for that hold for ever (the
 * control thread stopped for every pool, or the cancelling thread), and a blocking request
 * could be cancelled by no free. Both are refused with EDEADLK, in both places, and the
 * pool goes on.
 */
static void
test_a_callback_that_would_free_its_pool_is_refused(void)
{
	struct requeue r = { .ret = -1 }, rc = { .ret = -1 };
	struct rte_mbuf *held[MAXM], *a[1], *b[1];
	struct cancel_call c = { .ret = -1 };
	unsigned int n;
	struct rte_mempool *mp = served_by_callback("tw_cbfree", free_cb, &r, held, &n, a);
	pthread_t t;

	CU_ASSERT_EQUAL(r.err, EDEADLK);
	CU_ASSERT_EQUAL(r.ret, -EDEADLK);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	control_thread_goes_on(mp);

	rc.mp = c.mp = mp;
	CU_ASSERT_EQUAL_FATAL(tide_pool_alloc_async(mp, b, 1, 0, free_cb, &rc, &c.ticket), 1);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, cancel_call_main, &c), 0);
	if (!tide_test_wait(requeue_returned, &rc, 5000)) {
		CU_FAIL("a cancelled request's callback did not return");
		fprintf(stderr, "tw_cbfree: the cancelling thread is deadlocked; giving up\n");
		_exit(1);
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(c.ret, 0);
	CU_ASSERT_EQUAL(rc.err, EDEADLK);
	CU_ASSERT_EQUAL(rc.ret, -EDEADLK);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	control_thread_goes_on(mp);
	rte_pktmbuf_free(a[0]);
	rte_pktmbuf_free_bulk(held, n);
	tide_pool_free(mp);
	CU_ASSERT_FALSE(tide_pool_is_elastic(mp));
}

struct async_call {
	struct rte_mempool *mp;
	struct rte_mbuf *m[1];
	int ret;
	volatile bool returned;
};

static void *
async_call_main(void *arg)
{
	struct async_call *c = arg;

	c->ret = tide_pool_alloc_async(c->mp, c->m, 1, 0, log_done, NULL, NULL);
	c->returned = true;
	return NULL;
}

static bool
async_call_returned(void *arg)
{
	return ((struct async_call *)arg)->returned;
}

/* tide_pool_alloc_async() is for lcores that must not block: another pool's growth on the
 * control thread (hugepage faults, a block source) must not hold it up.
 */
static void
test_an_async_request_does_not_wait_for_another_pools_growth(void)
{
	struct rte_mempool *grower = make_pool("tw_grower", 2 * MB, 2 * MB, 16 * MB, 0,
		TIDE_POOL_F_NO_SYNC_GROW);
	struct rte_mempool *other = make_pool("tw_other", 2 * MB, 2 * MB, 8 * MB, 0, 0);
	struct block_hold g = { .event = TIDE_MEMPOOL_BLOCK_ADD };
	struct async_call c = { .mp = other };
	struct rte_mbuf *held[MAXM];
	unsigned int n = 0;
	pthread_t t;

	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(grower, block_hold_cb, &g), 0);
	g.armed = true;
	/* Below the low watermark: the control thread grows, and stays in the growth. */
	while (n < MAXM && pstats(grower).nb_free > 8 &&
			(held[n] = rte_pktmbuf_alloc(grower)) != NULL)
		n++;
	CU_ASSERT_TRUE_FATAL(tide_test_wait(block_hold_entered, &g, 5000));
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, async_call_main, &c), 0);
	/* Returned while the growth is still held: the hold ends by itself after 10 s, and a
	 * call that waited for the growth would return then, within this bound too.
	 */
	CU_ASSERT_TRUE(tide_test_wait(async_call_returned, &c, 10000));
	CU_ASSERT_FALSE(g.left);
	g.release = true;
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(c.ret, 0);
	if (c.ret == 0)
		rte_pktmbuf_free(c.m[0]);
	rte_pktmbuf_free_bulk(held, n);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(grower, block_hold_cb, &g), 0);
	tide_pool_free(grower);
	tide_pool_free(other);
}

static bool
log_has_1(void *arg __rte_unused)
{
	return log_len() >= 1;
}

/*
 * A request for more mbufs than the growth target, with room under the wall: the control
 * thread grows for it (no growth inside allocations here), rather than leave it waiting
 * for frees that may never come.
 */
static void
test_a_request_above_the_target_makes_the_pool_grow(void)
{
	struct rte_mempool *mp = make_pool("tw_demand", 8 * MB, 2 * MB, 256 * MB, 0,
		TIDE_POOL_F_NO_SYNC_GROW | TIDE_POOL_F_NO_PREDICT);
	unsigned int n = (unsigned int)pstats(mp).nb_free + 2000;
	struct rte_mbuf **m = calloc(n, sizeof(*m));

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	log_reset();
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, n, 0, log_done, (void *)'G', NULL), 1);
	CU_ASSERT_TRUE(tide_test_wait(log_has_1, NULL, 5000));
	CU_ASSERT_EQUAL(dlog.status[0], 0);
	CU_ASSERT(pstats(mp).nb_blocks > 1);
	CU_ASSERT_EQUAL(pstats(mp).waiting, 0);
	if (log_len() == 1 && dlog.status[0] == 0)
		rte_pktmbuf_free_bulk(m, n);
	tide_pool_free(mp); /* ends the request if it still waits */
	free(m);
}

#ifdef TIDE_FAULT_INJECTION
/*
 * The reaper leaves the free blocks the head waiter needs: they are what it waits for, as
 * the mbufs it lacks come back. Driven by the fake clock.
 */
static void
test_the_reaper_keeps_what_the_head_waiter_needs(void)
{
	struct tide_pool_params p;
	struct rte_mbuf *held[100], **m;
	struct rte_mempool *mp;
	unsigned int n;

	tide_test_clock_fake();
	pool_params(&p, "tw_keep", 2 * MB, 2 * MB, 8 * MB, 0);
	p.reap_period_ms = 0;
	p.idle_ms = 10;
	p.flags = TIDE_POOL_F_NO_SYNC_GROW | TIDE_POOL_F_NO_PREDICT;
	mp = make_pool_p(&p);
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 3), 3);
	CU_ASSERT_EQUAL_FATAL(pstats(mp).nb_blocks, 4);
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, held, RTE_DIM(held)), 0);
	/* 50 more than are free: it waits for 50 of the held ones. */
	n = (unsigned int)pstats(mp).nb_free + 50;
	m = calloc(n, sizeof(*m));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	log_reset();
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, n, 0, log_done, (void *)'K', NULL), 1);
	tide_pool_reap(mp);
	tide_test_clock_pass(30 * MS);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 4);
	rte_pktmbuf_free_bulk(held, RTE_DIM(held));
	pool_advance(mp, 1 * MS);
	CU_ASSERT_EQUAL(log_len(), 1);
	CU_ASSERT_EQUAL(dlog.status[0], 0);
	if (log_len() == 1)
		rte_pktmbuf_free_bulk(m, n);
	tide_pool_free(mp);
	free(m);
	tide_test_clock_real();
}
#endif

/*
 * More mbufs than the pool's blocks can ever hold is refused, counted from what they
 * really hold (block headers, page layout), not from the wall over an mbuf's size: such a
 * request would wait for ever, and every request behind it.
 */
static void
test_a_request_the_wall_can_never_serve_is_refused(void)
{
	struct rte_mempool *mp = make_pool("tw_most", 8 * MB, 2 * MB, 8 * MB, 0, 0);
	unsigned int n = (unsigned int)pstats(mp).nb_objs;
	struct rte_mbuf **m = calloc(n + 1, sizeof(*m));

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	TIDE_TEST_REFUSED_LOGGED(tide_pool_alloc_wait(mp, m, n + 1, 1000, NULL), EINVAL,
		"wait_args_check");
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, n + 1, 1000, log_done, NULL, NULL),
		-EINVAL);
	CU_ASSERT_EQUAL(pstats(mp).waiting, 0);
	CU_ASSERT_EQUAL(tide_pool_alloc_wait(mp, m, n, 1000, NULL), 0);
	rte_pktmbuf_free_bulk(m, n);
	free(m);
	tide_pool_free(mp);
}

static void
test_bad_wait_arguments_are_refused(void)
{
	struct rte_mempool *mp = make_pool("tw_bad", 2 * MB, 2 * MB, 8 * MB, 0, 0);
	struct rte_mbuf *m[2], **big;
	uint64_t ticket = 0;
	unsigned int most;
	int ret;

	CU_ASSERT_EQUAL(tide_pool_alloc_wait(NULL, m, 1, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_pool_alloc_wait(mp, NULL, 1, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_alloc_wait(mp, m, 0, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, 1, 0, NULL, NULL, NULL), -EINVAL);
	/* More than the pool can ever hold (its 8 MB wall over an mbuf's whole element, which
	 * the mempool's size, counting the data room only, exceeds): never served, and all
	 * behind it would wait.
	 */
	most = 8 * MB / (mp->header_size + mp->elt_size + mp->trailer_size);
	CU_ASSERT_FATAL(most < mp->size);
	big = calloc(mp->size + 1, sizeof(*big));
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	CU_ASSERT_EQUAL(tide_pool_alloc_wait(mp, big, mp->size + 1, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	ret = tide_pool_alloc_async(mp, big, most + 1, 0, log_done, NULL, &ticket);
	CU_ASSERT_EQUAL(ret, -EINVAL);
	if (ret == 1) { /* queued: it would wait for ever, and every request behind it */
		CU_ASSERT_EQUAL(tide_pool_wait_cancel(mp, ticket), 0);
	} else if (ret == 0) {
		rte_pktmbuf_free_bulk(big, most + 1);
	}
	free(big);
	CU_ASSERT_EQUAL(pstats(mp).waiting, 0);
	CU_ASSERT_EQUAL(tide_pool_wait_cancel(NULL, 1), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_wait_cancel(mp, 12345), -ENOENT);
	tide_pool_free(mp);
}

#ifdef TIDE_FAULT_INJECTION
/* For tide_test_wait(): the control thread ticked pool @p arg once at least. */
static bool
pool_ticked(void *arg)
{
	return pstats(arg).ticks > 0;
}

/*
 * full_pool() that the control thread no longer ticks (it holds the pool it ticks, which
 * a free would wait for too): made with the clock stopped, its first tick, at once, is its
 * last until the clock moves. tide_test_clock_real() after.
 */
static struct rte_mempool *
full_pool_untouched(const char *name, struct rte_mbuf **held, unsigned int *n)
{
	struct rte_mempool *mp;

	tide_test_clock_fake();
	mp = full_pool(name, held, n);
	CU_ASSERT_FATAL(tide_test_wait(pool_ticked, mp, 5000));
	return mp;
}

/*
 * A ticket of a freed pool does not cancel a request of a pool made since at the same
 * address: the stale ticket is not found there.
 */
static void
test_a_stale_ticket_cancels_nothing_in_a_pool_made_again(void)
{
	struct rte_mbuf *held[MAXM], *m[1], *m2[1];
	uint64_t old = 0, ticket = 0;
	struct rte_mempool *mp, *again;
	unsigned int n;

	/* The clock stopped: no tick serves a request, only the free cancels it. */
	mp = full_pool_untouched("tw_stale", held, &n);
	CU_ASSERT_EQUAL(tide_pool_alloc_async(mp, m, 1, 0, log_done, (void *)'S', &old), 1);
	rte_pktmbuf_free_bulk(held, n);
	tide_pool_free(mp); /* cancels it */
	again = full_pool_untouched("tw_stale2", held, &n);
	if (again != mp)
		printf("(the new pool is not where the freed one was) ");
	CU_ASSERT_EQUAL(tide_pool_alloc_async(again, m2, 1, 0, log_done, (void *)'N', &ticket),
		1);
	CU_ASSERT_NOT_EQUAL(ticket, old);
	CU_ASSERT_EQUAL(tide_pool_wait_cancel(again, old), -ENOENT);
	CU_ASSERT_EQUAL(pstats(again).waiting, 1);
	CU_ASSERT_EQUAL(tide_pool_wait_cancel(again, ticket), 0);
	rte_pktmbuf_free_bulk(held, n);
	tide_pool_free(again);
	tide_test_clock_real();
}

/*
 * A free that comes while tide_pool_alloc_wait() has found the pool but not yet queued
 * waits for it, then cancels the request: the caller is never left in a freed pool.
 */
static void
test_a_free_waits_for_a_blocking_call_that_found_the_pool(void)
{
	struct rte_mbuf *held[MAXM];
	struct blocker b = { .n = 1 };
	unsigned int n;

	b.mp = full_pool_untouched("tw_found_wait", held, &n);
	CU_ASSERT(pool_free_waits_for_call(b.mp, blocker_main, &b, TIDE_HOLD_POOL_FOUND,
		TIDE_HOLD_POOL_FREE_HELD));
	CU_ASSERT_EQUAL(b.ret, -ECANCELED);
	CU_ASSERT_EQUAL(b.err, ECANCELED);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tw_found_wait"));
	tide_test_clock_real();
}

/* The same for tide_pool_alloc_async(): queued once the free lets it, then cancelled. */
static void
test_a_free_waits_for_an_async_call_that_found_the_pool(void)
{
	struct rte_mbuf *held[MAXM];
	struct async_call c = { .ret = -1 };
	unsigned int n;

	c.mp = full_pool_untouched("tw_found_async", held, &n);
	log_reset();
	CU_ASSERT(pool_free_waits_for_call(c.mp, async_call_main, &c, TIDE_HOLD_POOL_FOUND,
		TIDE_HOLD_POOL_FREE_HELD));
	CU_ASSERT_EQUAL(c.ret, 1);
	CU_ASSERT_EQUAL(log_len(), 1);
	CU_ASSERT_EQUAL(dlog.status[0], -ECANCELED);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tw_found_async"));
	tide_test_clock_real();
}

/* The same for tide_pool_wait_cancel(): it cancels the request before the free can. */
static void
test_a_free_waits_for_a_cancel_that_found_the_pool(void)
{
	struct rte_mbuf *held[MAXM], *m[1];
	struct cancel_call c = { .ret = -1 };
	unsigned int n;

	c.mp = full_pool_untouched("tw_found_cancel", held, &n);
	log_reset();
	CU_ASSERT_EQUAL_FATAL(tide_pool_alloc_async(c.mp, m, 1, 0, log_done, (void *)'C',
		&c.ticket), 1);
	CU_ASSERT(pool_free_waits_for_call(c.mp, cancel_call_main, &c, TIDE_HOLD_POOL_FOUND,
		TIDE_HOLD_POOL_FREE_HELD));
	CU_ASSERT_EQUAL(c.ret, 0);
	CU_ASSERT_EQUAL(log_len(), 1);
	CU_ASSERT_EQUAL(dlog.status[0], -ECANCELED);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tw_found_cancel"));
	tide_test_clock_real();
}
#endif

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("pool_wait");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_waiters_are_served_in_fifo_order_without_barging);
	CU_ADD_TEST(s, test_a_request_is_served_at_once_when_nobody_waits);
	CU_ADD_TEST(s, test_a_blocked_caller_is_served_when_mbufs_come_back);
	CU_ADD_TEST(s, test_a_blocked_caller_times_out_and_takes_nothing);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_blocked_caller_times_out_at_its_deadline);
	CU_ADD_TEST(s, test_an_async_request_times_out_through_its_callback);
	CU_ADD_TEST(s, test_a_request_whose_mbufs_come_with_its_deadline_is_served);
#endif
	CU_ADD_TEST(s, test_requests_can_be_cancelled);
	CU_ADD_TEST(s, test_freeing_the_pool_cancels_whoever_waits);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_free_waits_for_a_blocking_call_that_found_the_pool);
	CU_ADD_TEST(s, test_a_free_waits_for_an_async_call_that_found_the_pool);
	CU_ADD_TEST(s, test_a_free_waits_for_a_cancel_that_found_the_pool);
	CU_ADD_TEST(s, test_a_stale_ticket_cancels_nothing_in_a_pool_made_again);
#endif
	CU_ADD_TEST(s, test_a_callback_may_queue_another_request);
	CU_ADD_TEST(s, test_a_callback_that_would_block_is_refused);
	CU_ADD_TEST(s, test_a_callback_that_would_free_its_pool_is_refused);
	CU_ADD_TEST(s, test_an_async_request_does_not_wait_for_another_pools_growth);
	CU_ADD_TEST(s, test_a_request_above_the_target_makes_the_pool_grow);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_the_reaper_keeps_what_the_head_waiter_needs);
#endif
	CU_ADD_TEST(s, test_a_request_the_wall_can_never_serve_is_refused);
	CU_ADD_TEST(s, test_bad_wait_arguments_are_refused);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "pool_wait", true, register_tests);
}
