/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_POOL_UTIL_H
#define TIDE_TEST_POOL_UTIL_H

/* Helpers shared by the elastic pool suites. */

#include <stdbool.h>
#include <stddef.h>

#include <rte_mempool.h>

#include "tide_mempool.h"
#include "tide_pool.h"

#define MB (1ull << 20)
#define MS (1000ull * 1000)

/** Initialise @p p with the defaults but these sizes (other fields to set after). */
void pool_params(struct tide_pool_params *p, const char *name, size_t base, size_t block,
	size_t wall, unsigned int cache);

/** Create an elastic pool with the defaults but these sizes; CU_FAIL_FATAL on error. */
struct rte_mempool *make_pool(const char *name, size_t base, size_t block, size_t wall,
	unsigned int cache, uint32_t flags);

/** Like make_pool() with every parameter given. */
struct rte_mempool *make_pool_p(struct tide_pool_params *p);

/** The pool's counters (asserts the call succeeds). */
struct tide_pool_stats pstats(const struct rte_mempool *mp);

/** The pool's driver counters (tide_mempool_stats_get(); asserts the call succeeds). */
struct tide_mempool_stats mstats(const struct rte_mempool *mp);

/** True if obj lies in the pool's block at position idx (oldest first). */
bool in_block(const struct rte_mempool *mp, unsigned int idx, const void *obj);

/** Call create(p) with the log captured: it must return NULL, set rte_errno to err and
 *  log a line through the tidepool log types. */
void expect_refused(void *(*create)(const void *p), const void *p, int err, const char *what);

/** Leave exactly one mbuf out, in the block at position k (blocks before it full first,
 *  then freed): the mbuf. Needs a pool without cache. */
struct rte_mbuf *hold_one_in_block(struct rte_mempool *mp, unsigned int k);

/*
 * A stress on an elastic pool: the main lcore, a worker lcore and a non-EAL thread
 * allocate and free random bulks, each swinging between holding many mbufs and none so
 * that the pool must grow and may shrink all along. Every mbuf's private area (priv_size
 * >= 8) records who holds it: an mbuf handed to two holders, or freed by someone who did
 * not hold it, is counted.
 */
struct pool_stress {
	struct rte_mempool *mp;
	unsigned int hold;     /* most mbufs one participant holds */
	unsigned int max_bulk; /* bulks of 1..max_bulk */
	volatile bool stop;
	uint64_t dups;         /* mbufs handed to two holders */
	uint64_t bad_owner;    /* mbufs freed by someone who did not hold them */
	uint64_t fails;        /* failed bulk allocations */
	uint64_t ops;
	/* Optional: checks every mbuf allocated (false counts it in check_fails). */
	bool (*check)(const struct rte_mbuf *m, void *arg);
	void *check_arg;
	uint64_t check_fails;
};

/** Run the stress for @p ns, then hand every lcore cache back. */
void pool_stress_run(struct pool_stress *s, uint64_t ns);

/** Mbufs of the pool whose owner mark is not clear (should be 0 after a run). */
unsigned int pool_stress_dirty(struct rte_mempool *mp);

/**
 * Move the pool library's clock on by @p ns (the fake clock of tide_test_clock_fake()),
 * then wait until the control thread has ticked @p mp at least once more (CU_ASSERT when it
 * does not within 10 s). Without fault injection the clock is real: only the wait.
 */
void pool_advance(const struct rte_mempool *mp, uint64_t ns);

/** Wait until the control thread has ticked @p mp @p n more times (at most 10 s). */
void pool_wait_ticks(const struct rte_mempool *mp, unsigned int n);

/** Send a command to this process's telemetry socket, as dpdk-telemetry.py does; the reply
 *  (caller frees; empty on error). */
char *telemetry_query(const char *cmd);

/** Frees what a telemetry command describes (a pool, a set). */
typedef void (telemetry_free_fn)(void *arg);

/**
 * Whether freeing waits for a telemetry handler that found its object: the handler
 * answering @p cmd is held at @p hold (a TIDE_HOLD_* site) once it found it, @p fn(@p arg)
 * runs in another thread meanwhile, and it must be seen waiting, not done, before the
 * handler goes on: for the shared directory's lock (at the start of memzone @p dir_mz), or,
 * with @p dir_mz NULL, at hold site @p free_hold. @p reply gets the answer (caller frees).
 * Fault-injection builds only.
 */
bool telemetry_free_waits_for_reader(const char *cmd, unsigned int hold, const char *dir_mz,
	unsigned int free_hold, telemetry_free_fn *fn, void *arg, char **reply);

/**
 * Whether freeing pool @p mp waits for a call on it that found it: @p call(@p arg) runs in
 * a thread, held at @p hold (a TIDE_HOLD_* site) once it found the pool; tide_pool_free(@p mp)
 * runs in another meanwhile and must be seen at @p free_hold (TIDE_HOLD_POOL_FREE_HELD:
 * waiting for a holder, TIDE_HOLD_POOL_FREE_WAITS: for a pin) before the call goes on. Both
 * threads are joined: @p mp is freed on return. For TIDE_HOLD_POOL_FREE_HELD the control
 * thread must not tick @p mp meanwhile (it holds the pool it ticks, and the free would wait
 * for it): stop the clock before the pool is made, and wait for its first tick.
 * Fault-injection builds only.
 */
bool pool_free_waits_for_call(struct rte_mempool *mp, void *(*call)(void *), void *arg,
	unsigned int hold, unsigned int free_hold);

/**
 * Race @p cmd's handler against @p cycle (creating and freeing what it describes) for
 * @p rounds cycles; every answer must name @p name or say that none is there. The answers
 * that described it.
 */
unsigned int telemetry_race(const char *cmd, const char *name, telemetry_free_fn *cycle,
	unsigned int rounds);

/*
 * A block event callback that holds the thread adding (removing) a block in its event,
 * once armed, until released (10 s at most: then it goes on by itself, and says so in
 * left): tide_mempool_block_event_register(mp, block_hold_cb, &h).
 */
struct block_hold {
	enum tide_mempool_block_event event; /* the event to hold in */
	volatile bool armed, entered, release, left;
};

int block_hold_cb(struct rte_mempool *mp, enum tide_mempool_block_event ev,
	const struct tide_mempool_block_desc *blk, void *arg);

/** For tide_test_wait(): whether the armed block_hold has a thread held. */
bool block_hold_entered(void *arg);

#endif
