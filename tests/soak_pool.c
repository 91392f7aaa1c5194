/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Soak of an elastic pool, through its public API only (tide_pool.h, rte_mbuf): two
 * lcores and a non-EAL thread allocate and free random bursts for a while, each swinging
 * between holding many mbufs and few, on a pool of small blocks under a wall with little
 * headroom, reaped every millisecond. The demand ebbs and flows (every TIDE_MS the most
 * each may hold goes from HOLD to HOLD / 16 and back): the pool grows, hits its wall and
 * gives blocks back all the time, while its mbufs are in use everywhere.
 *
 * Every mbuf carries an owner tag in its private area: set on allocation (an mbuf that
 * already has one was handed out twice), checked and cleared on free (an mbuf freed by
 * someone who did not hold it). At the end every mbuf must be back and the pool's counters
 * consistent. Prints ops/s and the totals; exits 0 only if nothing was wrong (and, with
 * --min-ops, if at least that many allocations and frees were made).
 *
 *   soak_pool [EAL args] -- SECONDS [--min-ops N]
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "test_common.h"
#include "tide_app_opt.h"
#include "tide_pool.h"

#define MB (1u << 20)
/* Most mbufs one participant holds at high tide and at low tide; bursts of 1..MAX_BURST. */
#define HOLD 2048
#define HOLD_LOW (HOLD / 16)
#define MAX_BURST 32
#define PARTS 3
/* Milliseconds between high and low tide. */
#define TIDE_MS 25
/* Pool: 2 MB blocks, a wall below what the participants may hold at high tide. */
#define BLOCK_BYTES (2 * MB)
#define WALL_BYTES (14 * MB)
#define CACHE 64

struct part {
	uint64_t tag;               /* this participant's owner tag (never 0) */
	struct rte_mbuf *held[HOLD];
	unsigned int n;
	uint64_t rnd;
	uint64_t allocs, frees;     /* mbufs */
	uint64_t fails;             /* bulk allocations refused (at the wall) */
	uint64_t dups;              /* mbufs handed out while another held them */
	uint64_t bad_owner;         /* mbufs freed that this participant did not hold */
	uint64_t bad_mbuf;          /* mbufs of another pool, or with a wrong refcnt */
} __rte_cache_aligned;

static struct rte_mempool *mp;
static struct part parts[PARTS];
static volatile bool stop;
static unsigned int hold = HOLD; /* the most each may hold now (the timer sets it) */

static uint32_t
part_rand(struct part *p, uint32_t bound)
{
	p->rnd ^= p->rnd << 13;
	p->rnd ^= p->rnd >> 7;
	p->rnd ^= p->rnd << 17;
	return (uint32_t)((p->rnd >> 11) % bound);
}

static uint64_t *
tag_of(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

static void
part_alloc(struct part *p, unsigned int k)
{
	struct rte_mbuf **m = &p->held[p->n];

	if (rte_pktmbuf_alloc_bulk(mp, m, k) != 0) {
		p->fails++;
		return;
	}
	for (unsigned int i = 0; i < k; i++) {
		if (__atomic_exchange_n(tag_of(m[i]), p->tag, __ATOMIC_ACQ_REL) != 0)
			p->dups++;
		if (m[i]->pool != mp || rte_mbuf_refcnt_read(m[i]) != 1)
			p->bad_mbuf++;
	}
	p->n += k;
	p->allocs += k;
}

static void
part_free(struct part *p, unsigned int k)
{
	struct rte_mbuf **m;

	k = RTE_MIN(k, p->n);
	p->n -= k;
	m = &p->held[p->n];
	for (unsigned int i = 0; i < k; i++)
		if (__atomic_exchange_n(tag_of(m[i]), 0, __ATOMIC_ACQ_REL) != p->tag)
			p->bad_owner++;
	rte_pktmbuf_free_bulk(m, k);
	p->frees += k;
}

/* Random bursts, swinging between the most it may hold now and none: filling, mostly
 * allocations; draining, mostly frees. A refusal at the wall turns to draining.
 */
static void
part_run(struct part *p)
{
	bool filling = true;

	while (!stop) {
		unsigned int k = 1 + part_rand(p, MAX_BURST);
		unsigned int most = __atomic_load_n(&hold, __ATOMIC_RELAXED);
		bool alloc = part_rand(p, 4) != 0 ? filling : !filling;

		if (alloc && p->n + k <= most) {
			uint64_t fails = p->fails;

			part_alloc(p, k);
			if (p->fails != fails)
				filling = false;
		} else if (!alloc && p->n > 0) {
			part_free(p, k);
		}
		if (p->n + MAX_BURST > most) {
			filling = false;
		} else if (p->n == 0) {
			filling = true;
			/* Emptied at low tide: hand the lcore's cache back, as an idle loop
			 * would, so that the blocks its mbufs came from can go.
			 */
			if (most == HOLD_LOW)
				tide_pool_cache_flush(mp);
		}
	}
	part_free(p, p->n);
	tide_pool_cache_flush(mp); /* lcores: hand the cache back */
}

static int
lcore_main(void *arg)
{
	part_run(arg);
	return 0;
}

static void *
thread_main(void *arg)
{
	part_run(arg);
	return NULL;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
ops_now(void)
{
	uint64_t ops = 0;

	for (unsigned int i = 0; i < PARTS; i++)
		ops += __atomic_load_n(&parts[i].allocs, __ATOMIC_RELAXED) +
			__atomic_load_n(&parts[i].frees, __ATOMIC_RELAXED);
	return ops;
}

/* The timer: turns the tide every TIDE_MS, reports every 10 s, stops the participants at
 * the end.
 */
static void *
timer_main(void *arg)
{
	uint64_t secs = *(uint64_t *)arg, t0 = now_ns(), s = 0, turn = 0;

	while (now_ns() - t0 < secs * 1000000000ull) {
		struct timespec tick = { .tv_nsec = TIDE_MS * 1000000l };
		struct tide_pool_stats st;

		nanosleep(&tick, NULL);
		__atomic_store_n(&hold, ++turn % 2 ? HOLD_LOW : HOLD, __ATOMIC_RELAXED);
		if ((now_ns() - t0) / 1000000000ull < s + 1)
			continue;
		s++;
		if (s % 10 == 0 && s < secs && tide_pool_stats_get(mp, &st) == 0)
			printf("soak: %3" PRIu64 " s: %.1f Mops/s so far, %u blocks, %" PRIu64
				" grows, %" PRIu64 " reaps\n", s,
				ops_now() / ((now_ns() - t0) / 1e3), st.nb_blocks,
				st.grows_ahead + st.grows_sync, st.reaps);
	}
	stop = true;
	return NULL;
}

/* Counters of the pool that must agree with each other at the end. */
static int
check_pool(const struct tide_pool_stats *st)
{
	int bad = 0;

	if (st->nb_in_use != 0) {
		printf("soak: FAIL %" PRIu64 " mbufs not back in the pool\n", st->nb_in_use);
		bad++;
	}
	if (st->nb_objs != st->nb_free + st->nb_cached + st->nb_in_use) {
		printf("soak: FAIL objects %" PRIu64 " != free %" PRIu64 " + cached %" PRIu64
			" + in use %" PRIu64 "\n", st->nb_objs, st->nb_free, st->nb_cached,
			st->nb_in_use);
		bad++;
	}
	if (st->bytes > st->wall_bytes || st->wall_held > st->wall_bytes) {
		printf("soak: FAIL %" PRIu64 " bytes held over a wall of %" PRIu64 "\n",
			st->bytes, st->wall_bytes);
		bad++;
	}
	if (st->grows_ahead + st->grows_sync - st->reaps != st->nb_blocks - 1u) {
		printf("soak: FAIL %u blocks, but %" PRIu64 " grown and %" PRIu64 " reaped\n",
			st->nb_blocks, st->grows_ahead + st->grows_sync, st->reaps);
		bad++;
	}
	/* The stock view (size - available) is the driver's count, read without syncing its
	 * per-lcore state: shown, not checked.
	 */
	printf("soak: stock rte_mempool_in_use_count(): %u of %u\n",
		rte_mempool_in_use_count(mp), mp->size);
	return bad;
}

static int
report(double secs, uint64_t min_ops)
{
	uint64_t allocs = 0, frees = 0, fails = 0, dups = 0, bad_owner = 0, bad_mbuf = 0;
	struct tide_pool_stats st;
	int bad = 0;

	for (unsigned int i = 0; i < PARTS; i++) {
		allocs += parts[i].allocs;
		frees += parts[i].frees;
		fails += parts[i].fails;
		dups += parts[i].dups;
		bad_owner += parts[i].bad_owner;
		bad_mbuf += parts[i].bad_mbuf;
	}
	if (tide_pool_stats_get(mp, &st) != 0) {
		printf("soak: FAIL cannot read the pool's counters\n");
		return 1;
	}
	printf("soak: %.1f s, 2 lcores + 1 non-EAL thread: %" PRIu64 " ops (%" PRIu64
		" allocs, %" PRIu64 " frees), %.2f Mops/s\n", secs, allocs + frees, allocs, frees,
		(allocs + frees) / secs / 1e6);
	printf("soak: pool: %" PRIu64 " grows ahead, %" PRIu64 " sync, %" PRIu64 " failed, %"
		PRIu64 " at the wall, %" PRIu64 " reaps; %u blocks (%" PRIu64 " MB) at the end; %"
		PRIu64 " bursts refused, %" PRIu64 " dequeues the driver refused\n", st.grows_ahead,
		st.grows_sync, st.grow_fails, st.wall_hits, st.reaps, st.nb_blocks,
		st.bytes / MB, fails, st.deq_refused);
	for (unsigned int i = 0; i < PARTS; i++)
		printf("soak:   %s: %" PRIu64 " ops, %" PRIu64 " bursts refused\n",
			i == 0 ? "main lcore" : i == 1 ? "worker lcore" : "non-EAL thread",
			parts[i].allocs + parts[i].frees, parts[i].fails);
	printf("soak: handed out twice %" PRIu64 ", freed by a non-holder %" PRIu64
		", foreign or shared %" PRIu64 "\n", dups, bad_owner, bad_mbuf);
	bad += dups != 0 || bad_owner != 0 || bad_mbuf != 0;
	if (allocs != frees) {
		printf("soak: FAIL %" PRIu64 " allocated, %" PRIu64 " freed\n", allocs, frees);
		bad++;
	}
	bad += check_pool(&st);
	if (st.grows_ahead + st.grows_sync == 0 || st.reaps == 0) {
		printf("soak: FAIL the pool did not both grow and reap\n");
		bad++;
	}
	if (allocs + frees < min_ops) {
		printf("soak: FAIL %" PRIu64 " ops, fewer than %" PRIu64 "\n", allocs + frees,
			min_ops);
		bad++;
	}
	printf("soak: %s\n", bad == 0 ? "PASS" : "FAIL");
	return bad == 0 ? 0 : 1;
}

/* At most a week, as scripts/soak.sh allows. */
#define SOAK_MAX_SECS 604800

/* @p arg as a number, 1..@p max (0 for --min-ops), or a message naming @p what. */
static int
soak_number(const char *what, const char *arg, uint64_t max, uint64_t *v)
{
	char err[128];

	if (tide_app_parse_u64(arg, strcmp(what, "SECONDS") == 0 ? 1 : 0, max, v, err,
			sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "soak: %s: %s\n", what, err);
	return -1;
}

int
main(int argc, char **argv)
{
	struct tide_pool_params pp;
	uint64_t secs, min_ops = 0, t0;
	pthread_t thread, timer;
	unsigned int worker;
	int n, ret;

	n = rte_eal_init(argc, argv);
	/* After "--": SECONDS, then nothing or "--min-ops N". */
	if (n < 0 || (argc - n != 2 && (argc - n != 4 || strcmp(argv[n + 2], "--min-ops") != 0))) {
		fprintf(stderr, "usage: soak_pool [EAL args] -- SECONDS [--min-ops N]\n");
		return 2;
	}
	if (soak_number("SECONDS", argv[n + 1], SOAK_MAX_SECS, &secs) != 0 ||
			(argc - n == 4 && soak_number("--min-ops", argv[n + 3], UINT64_MAX,
				&min_ops) != 0))
		return 2;
	worker = rte_get_next_lcore(-1, 1, 0);
	if (worker >= RTE_MAX_LCORE) {
		fprintf(stderr, "soak: needs two lcores (-l 0-1)\n");
		return 2;
	}
	tide_pool_params_init(&pp, "soak");
	pp.priv_size = RTE_ALIGN(sizeof(uint64_t), RTE_MBUF_PRIV_ALIGN);
	pp.cache_size = CACHE;
	pp.base_bytes = BLOCK_BYTES;
	pp.block_bytes = BLOCK_BYTES;
	pp.wall_bytes = WALL_BYTES;
	pp.tick_us = 100;
	pp.reap_period_ms = 1;
	pp.idle_ms = 2;
	/* Growth at the low watermark only: at a soak's allocation rate the predicted target
	 * would keep every block free and nothing would be reaped.
	 */
	pp.flags = TIDE_POOL_F_NO_PREDICT;
	mp = tide_pool_create(&pp);
	if (mp == NULL) {
		fprintf(stderr, "soak: cannot create the pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	for (unsigned int i = 0; i < PARTS; i++)
		parts[i] = (struct part){ .tag = i + 1, .rnd = 0x9e3779b97f4a7c15ull * (i + 1) };
	t0 = now_ns();
	if (pthread_create(&timer, NULL, timer_main, &secs) != 0 ||
			pthread_create(&thread, NULL, thread_main, &parts[2]) != 0 ||
			rte_eal_remote_launch(lcore_main, &parts[1], worker) != 0) {
		fprintf(stderr, "soak: cannot start the participants\n");
		return 1;
	}
	part_run(&parts[0]);
	rte_eal_wait_lcore(worker);
	pthread_join(thread, NULL);
	pthread_join(timer, NULL);
	ret = report((now_ns() - t0) / 1e9, min_ops);
	tide_pool_free(mp);
	tide_test_eal_cleanup(); /* and the runtime directory DPDK leaves behind */
	return ret;
}
