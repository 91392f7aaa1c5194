/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Broadcast exchanges (lib/msg/msg_bcast.c) under EAL: every reader (an lcore and non-EAL
 * threads) reads each message exactly once and writes its own section, the gate stays
 * closed until all are done, a waiter is woken when it opens (counted by process, or in
 * slices), and every error the calls document.
 */

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "msg_private.h"
#include "test_common.h"
#include "test_msg_util.h"
#include "tide_fault.h"
#include "tide_msg.h"
#include "tide_process.h"

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
		CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod_offset(m, char *, 4), "aaaaaaaaaa", 10),
			0);
		CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod_offset(m, char *, 14), "bbbbbbbbbb", 10),
			0);
		CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod_offset(m, char *, 24), "cccccccccc", 10),
			0);
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
	CU_ASSERT_EQUAL(rte_errno, EBUSY); /* reader 1 is not done */
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

/* A message its holder released while a proxy of it holds it on is no longer the holder's
 * to post: the proxy's release would free it under the readers.
 */
static void
test_a_message_released_under_its_proxies_is_not_posted(void)
{
	struct tide_bcast *b = tide_bcast_create("tm_bc_rel", 1);
	struct rte_mbuf *m = pkt(stock_mp, 1, 64), *p;
	const struct tide_msg_range r = { .offset = 0, .len = 16 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(m, 1, &r, &p), 0);
	tide_msg_release(m);
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(in_use(stock_mp), 1);
	tide_msg_proxy_release(p);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
	tide_bcast_free(b);
}

static void
test_broadcast_errors_are_reported(void)
{
	char longname[RTE_RING_NAMESIZE + 1];
	struct tide_bcast *b;
	struct rte_mbuf *m = pkt(stock_mp, 1, 64), *r;

	CU_ASSERT_PTR_NULL(tide_bcast_create(NULL, 1));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(tide_bcast_create("", 1));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(tide_bcast_create("tm_bcerr", 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(tide_bcast_create("tm_bcerr", TIDE_BCAST_MAX_READERS + 1));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CU_ASSERT_PTR_NULL(tide_bcast_create(longname, 1));
	CU_ASSERT_EQUAL(rte_errno, ENAMETOOLONG);
#ifdef TIDE_FAULT_INJECTION
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	CU_ASSERT_PTR_NULL(tide_bcast_create("tm_bcerr", 1));
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
#endif
	b = tide_bcast_create("tm_bcerr", TIDE_BCAST_MAX_READERS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	tide_msg_make(m, 1, 0);

	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_bcast_post(NULL, m, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_bcast_post(b, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_bcast_read(NULL, 0, &r, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, NULL, NULL), -EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &r, NULL), -EAGAIN);
	CU_ASSERT_EQUAL(rte_errno, EAGAIN);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_bcast_done(NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_bcast_done(b, TIDE_BCAST_MAX_READERS), -EINVAL);
	CU_ASSERT_FALSE(tide_bcast_complete(NULL));
	CU_ASSERT_FALSE(tide_bcast_complete(b));
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_bcast_wait(NULL, 1000), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_bcast_wait(b, 1000), -ENOENT);
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_PTR_NULL(tide_bcast_take(NULL));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(tide_bcast_take(b));
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), 0);
	CU_ASSERT_PTR_NULL(tide_bcast_take(b));
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_bcast_wait(b, 1000), -ETIMEDOUT);
	CU_ASSERT_EQUAL(rte_errno, ETIMEDOUT);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), -EBUSY);
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	tide_bcast_free(b); /* the posted message stays ours */
	tide_bcast_free(NULL);
	tide_msg_release(m);
}

/* The waiter has returned, or its thread sleeps in the kernel. */
static bool
bc_waiter_settled(void *arg)
{
	struct bc_waiter *w = arg;

	return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE) != 0 || tide_test_tid_asleep(&w->tid);
}

/*
 * A time limit too long for the clock's nanoseconds is no limit: the sender sleeps until
 * the post is complete, and does not time out at once (a limit whose nanoseconds wrap to
 * a moment already past). Seen as a state: the waiter asleep in the kernel, not returned.
 */
static void
test_a_wait_longer_than_the_clock_counts_waits_without_limit(void)
{
	const uint64_t limits[] = { UINT64_MAX, UINT64_MAX / 1000 + 1 };
	struct tide_bcast *b = tide_bcast_create("tm_bcfar", 1);
	struct rte_mbuf *m = pkt(stock_mp, 1, 64), *r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	tide_msg_make(m, 1, 0);
	for (unsigned int i = 0; i < RTE_DIM(limits); i++) {
		struct bc_waiter w = { .b = b, .timeout_us = limits[i] };
		pthread_t t;

		CU_ASSERT_EQUAL_FATAL(tide_bcast_post(b, m, NULL), 0);
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, bc_waiter_main, &w), 0);
		CU_ASSERT_FATAL(tide_test_wait(bc_waiter_settled, &w, 10000));
		CU_ASSERT_EQUAL(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), 0);
		CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &r, NULL), 0);
		CU_ASSERT_EQUAL(tide_bcast_done(b, 0), 0);
		pthread_join(t, NULL);
		CU_ASSERT_EQUAL(w.ret, 0);
		CU_ASSERT_PTR_EQUAL(tide_bcast_take(b), m);
	}
	tide_bcast_free(b);
	tide_msg_release(m);
}

/* The waiter is counted among the sleepers, alone, and its thread sleeps in the kernel. */
static bool
bc_waiter_counted_asleep(void *arg)
{
	struct bc_waiter *w = arg;

	return __atomic_load_n(&w->b->sleepers.n, __ATOMIC_ACQUIRE) == 1 &&
		tide_test_tid_asleep(&w->tid);
}

/* Read and finish the post of @p b (one reader), then see that waiter @p w (thread @p t)
 * returns 0 within a second. A waiter nobody woke is woken here, to end the test. */
static void
bc_complete_and_join(struct tide_bcast *b, struct bc_waiter *w, pthread_t t)
{
	struct rte_mbuf *r;

	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &r, NULL), 0);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 0), 0);
	if (!tide_test_wait(bc_waiter_returned, w, 1000)) {
		CU_FAIL("the post is complete and its waiter still asleep: a lost wake-up");
		syscall(SYS_futex, &b->done, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w->ret, 0);
}

/*
 * Threads asleep in tide_bcast_wait() are counted by process, for a dead one's count to be
 * taken back: with every slot taken, one a gone process left is given back (its count off
 * the sleepers) and the waiter counts itself there; with every slot another live process's,
 * a waiter sleeps uncounted, in slices, and still returns once the post is complete (the
 * last done makes no wake-up call for it).
 */
static void
test_wait_slots_of_gone_processes_are_given_back(void)
{
	struct tide_bcast *b = tide_bcast_create("tm_bcslots", 1);
	struct rte_mbuf *m = pkt(stock_mp, 3, 64);
	const unsigned int last = TIDE_SLEEPERS_PVT_SLOTS - 1;
	struct bc_waiter w = { .b = b };
	struct tide_sleepers *s;
	struct slots_taken taken;
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	s = &b->sleepers;
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL_FATAL(tide_bcast_post(b, m, NULL), 0);
	sleepers_slots_take(s, 2, &taken); /* the gone process's two waiters */

	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, bc_waiter_main, &w), 0);
	CU_ASSERT(tide_test_wait(bc_waiter_counted_asleep, &w, 10000));
	CU_ASSERT_EQUAL(s->n, 1);
	CU_ASSERT_EQUAL(s->by[last].tag, tide_xring_pvt_self);
	CU_ASSERT_EQUAL(s->by[last].n, 1);
	bc_complete_and_join(b, &w, t);
	CU_ASSERT_EQUAL(s->n, 0);
	CU_ASSERT_EQUAL(s->by[last].n, 0);
	CU_ASSERT_PTR_EQUAL(tide_bcast_take(b), m);

	/* No slot: uncounted, woken by its slice. */
	s->by[last].tag = taken.live_tag;
	w = (struct bc_waiter){ .b = b };
	CU_ASSERT_EQUAL_FATAL(tide_bcast_post(b, m, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, bc_waiter_main, &w), 0);
	CU_ASSERT(tide_test_wait(bc_waiter_asleep, &w, 10000));
	CU_ASSERT_EQUAL(s->n, 0);
	bc_complete_and_join(b, &w, t);
	CU_ASSERT_EQUAL(s->n, 0);
	CU_ASSERT_PTR_EQUAL(tide_bcast_take(b), m);

	sleepers_slots_free(s, &taken);
	tide_bcast_free(b);
	tide_msg_release(m);
}

/*
 * A posted message is the exchange's while readers may read it: stopping the stage that
 * posted it releases nothing, the readers' handle stays a made message of its pool, and the
 * take gives it back to that stage (which a stop then releases). Freed with a post, the
 * exchange gives the message back to that stage too.
 */
static void
test_stopping_the_senders_stage_leaves_a_posted_message_alone(void)
{
	int st = tide_stage_register("tm_bc_sender");
	struct tide_bcast *b = tide_bcast_create("tm_bcstop", 1);
	struct rte_mbuf *m = pkt(stock_mp, 7, 64), *r;
	unsigned int before = in_use(stock_mp);

	CU_ASSERT_FATAL(st >= 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	tide_msg_make(m, (uint16_t)st, 0);
	CU_ASSERT_EQUAL_FATAL(tide_bcast_post(b, m, NULL), 0);
	CU_ASSERT_EQUAL(tide_msg_owner(m), TIDE_STAGE_NONE);
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &r, NULL), 0);
	CU_ASSERT_EQUAL(tide_stage_list((uint16_t)st, NULL, 0), 0);
	CU_ASSERT_EQUAL(tide_stage_stop((uint16_t)st), 0);
	/* The reader's handle is still a message, still out of its pool. */
	CU_ASSERT_TRUE(tide_msg_is_made(r));
	CU_ASSERT_EQUAL(in_use(stock_mp), before);
	CU_ASSERT_EQUAL(seq_of(r), 7);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 0), 0);
	CU_ASSERT_PTR_EQUAL(tide_bcast_take(b), m);
	CU_ASSERT_EQUAL(tide_msg_owner(m), (uint16_t)st);
	/* Posted again and the exchange freed: the message is the stage's again. */
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), 0);
	tide_bcast_free(b);
	CU_ASSERT_TRUE(tide_msg_is_made(m));
	CU_ASSERT_EQUAL(tide_msg_owner(m), (uint16_t)st);
	CU_ASSERT_EQUAL(tide_stage_stop((uint16_t)st), 1);
	CU_ASSERT_EQUAL(in_use(stock_mp), before - 1);
	CU_ASSERT_EQUAL(tide_stage_unregister((uint16_t)st), 0);
}

/*
 * Bad input to the control calls of exchanges, broadcasts and stages is refused with
 * rte_errno set and a log line of the call's own; a plain miss (no such name, nothing
 * posted) at DEBUG. A poll that finds nothing new (EAGAIN) is not logged.
 */
static void
test_bad_input_to_control_calls_is_logged(void)
{
	struct tide_bcast *b = tide_bcast_create("tm_bclog", 2);
	struct rte_mbuf *m = pkt(stock_mp, 1, 64), *r;
	char *log;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	TIDE_TEST_REFUSED_LOGGED(tide_xchg_lookup(NULL), EINVAL, "tide_xchg_lookup");
	TIDE_TEST_REFUSED_LOGGED(tide_xchg_recv_wait(NULL, &r, 1, 0, 0), EINVAL,
		"tide_xchg_recv_wait");
	TIDE_TEST_REFUSED_LOGGED(tide_bcast_lookup(NULL), EINVAL, "tide_bcast_lookup");
	TIDE_TEST_REFUSED_LOGGED(tide_bcast_read(b, 2, &r, NULL), EINVAL, "tide_bcast_read");
	TIDE_TEST_REFUSED_LOGGED(tide_bcast_done(b, 0), EINVAL, "tide_bcast_done");
	TIDE_TEST_REFUSED_LOGGED(tide_bcast_wait(NULL, 0), EINVAL, "tide_bcast_wait");
	TIDE_TEST_REFUSED_LOGGED(tide_bcast_take(NULL), EINVAL, "tide_bcast_take");
	TIDE_TEST_REFUSED_LOGGED(tide_msg_reply(m), EINVAL, "tide_msg_reply");
	TIDE_TEST_REFUSED_LOGGED(tide_stage_unregister(TIDE_STAGE_MAX), EINVAL,
		"tide_stage_unregister");
	TIDE_TEST_REFUSED_LOGGED(tide_stage_list(TIDE_STAGE_MAX, NULL, 0), EINVAL,
		"tide_stage_list");
	TIDE_TEST_REFUSED_LOGGED(tide_stage_stop(TIDE_STAGE_MAX), EINVAL, "tide_stage_stop");
	TIDE_TEST_MISS_LOGGED(tide_xchg_lookup("tm_no_such_xchg"), ENOENT, "tide_xchg_lookup");
	TIDE_TEST_MISS_LOGGED(tide_bcast_lookup("tm_no_such_bcast"), ENOENT,
		"tide_bcast_lookup");
	TIDE_TEST_MISS_LOGGED(tide_bcast_wait(b, 0), ENOENT, "tide_bcast_wait");
	TIDE_TEST_MISS_LOGGED(tide_bcast_take(b), ENOENT, "tide_bcast_take");
	tide_test_log_debug(true);
	tide_test_log_begin();
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &r, NULL), -EAGAIN);
	log = tide_test_log_end();
	CU_ASSERT_PTR_NULL(strstr(log, "tide_bcast_read"));
	free(log);
	tide_test_log_debug(false);
	/* Posting over a post not taken back is the sender's mistake: logged. Taking one not
	 * complete yet is a poll: not logged, not even at DEBUG.
	 */
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL_FATAL(tide_bcast_post(b, m, NULL), 0);
	TIDE_TEST_REFUSED_LOGGED(tide_bcast_post(b, m, NULL), EBUSY, "tide_bcast_post");
	tide_test_log_debug(true);
	tide_test_log_begin();
	CU_ASSERT_PTR_NULL(tide_bcast_take(b));
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	log = tide_test_log_end();
	CU_ASSERT_PTR_NULL(strstr(log, "tide_bcast_take"));
	free(log);
	tide_test_log_debug(false);
	tide_bcast_free(b);
	tide_msg_release(m);
}

/* Memory that is no broadcast exchange, with zeros before it: were it handed to
 * rte_free(), DPDK would find no heap element there and refuse it. */
static struct {
	uint8_t before[4 * RTE_CACHE_LINE_SIZE];
	uint8_t b[1024];
} foreign_bcast __rte_cache_aligned;

/*
 * A second free of a broadcast exchange, or a pointer that is no broadcast exchange, is
 * refused and left alone: freeing it would write through the message pointer it would
 * read there and free its sections' address. The other broadcast exchanges carry on.
 */
static void
test_a_second_free_or_a_foreign_pointer_is_refused(void)
{
	struct tide_bcast *b = tide_bcast_create("tm_bc_twice", 1);
	struct tide_bcast *live = tide_bcast_create("tm_bc_live", 1);
	struct rte_mbuf *m = pkt(stock_mp, 9, 64), *r = NULL;
	uint8_t zero[sizeof(foreign_bcast)] = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(live);
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL(tide_bcast_post(live, m, NULL), 0);
	tide_bcast_free(b);
	CU_ASSERT_PTR_NULL(tide_bcast_lookup("tm_bc_twice"));
	TIDE_TEST_REFUSED_LOGGED(tide_bcast_free(b), EINVAL, "tide_bcast_free");
	TIDE_TEST_REFUSED_LOGGED(tide_bcast_free((struct tide_bcast *)foreign_bcast.b), EINVAL,
		"tide_bcast_free");
	CU_ASSERT_EQUAL(memcmp(&foreign_bcast, zero, sizeof(zero)), 0);
	rte_errno = 0;
	tide_bcast_free(NULL); /* a no-op, not a refusal */
	CU_ASSERT_EQUAL(rte_errno, 0);

	CU_ASSERT_PTR_EQUAL(tide_bcast_lookup("tm_bc_live"), live);
	CU_ASSERT_EQUAL(tide_bcast_read(live, 0, &r, NULL), 0);
	CU_ASSERT_PTR_EQUAL(r, m);
	CU_ASSERT_EQUAL(tide_bcast_done(live, 0), 0);
	CU_ASSERT_PTR_EQUAL(tide_bcast_take(live), m);
	tide_bcast_free(live);
	tide_msg_release(m);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("msg_bcast", msg_suite_init, msg_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_broadcast_every_reader_sees_each_message_exactly_once);
	CU_ADD_TEST(s, test_broadcast_refuses_misuse);
	CU_ADD_TEST(s, test_a_message_released_under_its_proxies_is_not_posted);
	CU_ADD_TEST(s, test_broadcast_errors_are_reported);
	CU_ADD_TEST(s, test_a_wait_longer_than_the_clock_counts_waits_without_limit);
	CU_ADD_TEST(s, test_wait_slots_of_gone_processes_are_given_back);
	CU_ADD_TEST(s, test_stopping_the_senders_stage_leaves_a_posted_message_alone);
	CU_ADD_TEST(s, test_bad_input_to_control_calls_is_logged);
	CU_ADD_TEST(s, test_a_second_free_or_a_foreign_pointer_is_refused);
	CU_ADD_TEST(s, test_nothing_leaked_at_the_end);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "msg_bcast", true, register_tests);
}
