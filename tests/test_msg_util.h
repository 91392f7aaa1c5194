/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_MSG_UTIL_H
#define TIDE_TEST_MSG_UTIL_H

/*
 * Helpers shared by the message suites (one executable per module of lib/msg): the library
 * initialised with NB_PROXIES proxies, an elastic pool and a stock pool, messages with a
 * sequence number in their body, and the end-of-suite leak check.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tide_msg.h"
#include "tide_msg_pvt.h"

#define NB_PROXIES 4096

extern struct rte_mempool *tide_mp;  /* an elastic pool */
extern struct rte_mempool *stock_mp; /* a stock ring_mp_mc pool */

/** A sender waiting in tide_bcast_wait(b, timeout_us) on a thread of its own. */
struct bc_waiter {
	struct tide_bcast *b;
	uint64_t timeout_us;
	pid_t tid;  /* its thread, once it runs */
	int ret;    /* what the wait returned */
	int done;   /* it returned */
};

/** The waiter's thread (pthread_create() it with a struct bc_waiter). */
void *bc_waiter_main(void *arg);

/** tide_test_wait() predicates: it has not returned and its thread sleeps in the kernel;
 *  it has returned. */
bool bc_waiter_asleep(void *arg);
bool bc_waiter_returned(void *arg);

/** tide_msg_init() with NB_PROXIES proxies, then the two pools: 0, or -1 (CUnit init). */
int msg_suite_init(void);

/** Free the two pools (CUnit fini). */
int msg_suite_fini(void);

/** Mbufs of a pool out of it now. */
unsigned int in_use(struct rte_mempool *mp);

/** A bare mbuf of @p len bytes whose body starts with @p seq. */
struct rte_mbuf *pkt(struct rte_mempool *mp, uint32_t seq, uint16_t len);

/** The sequence number pkt() wrote. */
uint32_t seq_of(struct rte_mbuf *m);

/** An exchange (CU_FAIL_FATAL if it cannot be made). */
struct tide_xchg *xchg(const char *name, enum tide_xchg_type type, unsigned int size,
	unsigned int levels);

/** A thread's own random numbers (rte_rand() is for lcores): 0..bound-1. */
uint32_t thread_rand(uint64_t *state, uint32_t bound);

/** Sleepers' slots as other processes left them (sleepers_slots_take()). */
struct slots_taken {
	pid_t live;        /* a child that pauses until killed (or the test ends) */
	uint32_t live_tag; /* its tag */
	uint32_t dead_tag; /* the tag of a child already reaped */
};

/**
 * Every slot of @p s but the last held by a live process (another than this one), the last
 * by a process that is gone, counting @p n sleepers, the total @p n: a thread of this
 * process finds no free slot, and one a gone process left.
 */
void sleepers_slots_take(struct tide_sleepers *s, uint32_t n, struct slots_taken *t);

/** Every slot of @p s free again, and the live process of @p t ended. */
void sleepers_slots_free(struct tide_sleepers *s, struct slots_taken *t);

/** Check, as the last test of a suite, that no message and no mbuf is left. */
void test_nothing_leaked_at_the_end(void);

#endif
