/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_MSG_UTIL_H
#define TIDE_TEST_MSG_UTIL_H

/*
 * Helpers shared by the message suites (one executable per module of lib/msg): the library
 * initialised with NB_PROXIES proxies, an elastic pool and a stock pool, messages with a
 * sequence number in their body, and the end-of-suite leak check.
 */

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tide_msg.h"

#define NB_PROXIES 4096

extern struct rte_mempool *tide_mp;  /* an elastic pool */
extern struct rte_mempool *stock_mp; /* a stock ring_mp_mc pool */

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

/** Check, as the last test of a suite, that no message and no mbuf is left. */
void test_nothing_leaked_at_the_end(void);

#endif
