/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * mempool: alloc+free throughput of the tide driver against ring_mp_mc and stack.
 *
 * As DPDK's mempool_perf test does, every lcore takes `keep` objects in bulks of n and
 * then puts them back in bulks of n, over and over, all lcores at once. Three patterns:
 * keep = n (alloc a bulk, free it: what a data path does, and what a per-lcore cache
 * absorbs), keep = 512 (more than the cache holds, so caches refill and flush through
 * the driver on every round: the driver's own cost), and "pipe", a pipeline's: the first
 * lcore allocates bulks (an RX refill) and hands them over an SP/SC ring to the second,
 * which frees them (TX completion), so neither lcore's cache balances and both reach the
 * driver from two cores at once. Rate: objects taken and returned per second, summed over
 * lcores (pipe: objects freed by the second lcore). Pipe also says where each lcore's time
 * goes: the ns per object spent inside rte_mempool_get_bulk() on the first lcore and inside
 * rte_mempool_put_bulk() on the second (the per-lcore cache and the driver), timed on a
 * random 1/32 of the calls (a clock read costs as much as a cached call, and a fixed stride
 * would meet the cache's refills and flushes always or never); the rest of a pipe's time
 * is the hand-over ring and the lcores waiting for each other. Pools are pktmbuf pools
 * created the stock way (rte_pktmbuf_pool_create_by_ops), one per driver and cache
 * setting; the tide ones with the profile "fixed" (populated whole: the driver alone, no
 * elastic pool). tide:tide_aa, tide against a second tide pool, shows how far a ratio
 * moves when nothing differs but the machine.
 */

#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bench.h"

#define MP_KEEP_MAX 512
#define MP_OBJS 16384
#define MP_CACHE 256
/* Many short rounds, as in fwd (scen_fwd.c). AMD EPYC, 2026-12-04, two runs each: from 9
 * rounds of 100 ms the cache-256 target's worst row was 0.923/0.922 and the A/A rows
 * spread over 0.80-1.07; from 27 of 33 ms, 0.965/0.996 and 0.94-1.03.
 */
#define MP_ROUNDS 27
#define MP_MS 33

/*
 * The drivers, and the name each one's rows go by. The last is tide again, on a pool of
 * its own: tide:tide_aa, the ratio of two identical drivers measured the same way, is
 * the noise floor that the other ratios are read against (an A/A test).
 */
static const char *const mp_drivers[] = { "tide", "ring_mp_mc", "stack", "tide" };
static const char *const mp_labels[] = { "tide", "ring_mp_mc", "stack", "tide_aa" };
#define MP_AA 3
static const unsigned int mp_caches[] = { MP_CACHE, 0 };
static const unsigned int mp_bulks[] = { 1, 8, 32, 128 };
#define MP_PIPE UINT32_MAX
#define MP_PIPE_RING 4096
/* 0: keep = bulk; MP_PIPE: the pipeline pattern */
static const unsigned int mp_keeps[] = { 0, MP_KEEP_MAX, MP_PIPE };

#define NB_DRV RTE_DIM(mp_drivers)
#define NB_CACHE RTE_DIM(mp_caches)
#define NB_BULK RTE_DIM(mp_bulks)
#define NB_KEEP RTE_DIM(mp_keeps)
/* pipe: the allocating lcore's cost and the freeing one's */
enum { MP_SIDE_ALLOC, MP_SIDE_FREE, NB_SIDE };
static const char *const mp_side_names[NB_SIDE] = { "alloc", "free" };
#define MP_SAMPLE_MASK 31

struct mp_run {
	struct rte_mempool *mp;
	struct rte_ring *ring;      /* pipe: from the allocating lcore to the freeing one */
	unsigned int bulk;
	unsigned int keep;
	uint64_t ns;
	volatile int ready;
	volatile int stop;          /* pipe: the allocating lcore is done */
	double rate[RTE_MAX_LCORE]; /* objects per second, per lcore */
	double cost[NB_SIDE];       /* pipe: ns per object inside the mempool call */
	int fail;
};

/* pipe: the sampled calls' cycles and objects, on one side */
struct mp_clock {
	uint32_t rnd; /* xorshift32 state: which calls are timed */
	uint64_t cycles;
	uint64_t objs;
};

/* One call in MP_SAMPLE_MASK + 1 at random, and every call until one has moved objects: a
 * side that made few calls (its lcore descheduled for most of a short run) still has a cost.
 */
static inline bool
mp_clock_sample(struct mp_clock *c)
{
	if (c->objs == 0)
		return true;
	c->rnd ^= c->rnd << 13;
	c->rnd ^= c->rnd >> 17;
	c->rnd ^= c->rnd << 5;
	return (c->rnd & MP_SAMPLE_MASK) == 0;
}

/* Around one call: the clock when this call is sampled, else 0. */
static inline uint64_t
mp_clock_start(struct mp_clock *c)
{
	return mp_clock_sample(c) ? rte_rdtsc() : 0;
}

/* After it: a sampled call's cycles and the n objects it moved (0 if it failed). */
static inline void
mp_clock_stop(struct mp_clock *c, uint64_t t, unsigned int n)
{
	if (t == 0)
		return;
	c->cycles += rte_rdtsc() - t;
	c->objs += n;
}

static double
mp_clock_ns(const struct mp_clock *c)
{
	return c->objs > 0 ? c->cycles * 1e9 / rte_get_tsc_hz() / c->objs : 0;
}

/* pipe: the main lcore allocates and hands over; the first worker frees; others idle. */
static int
mp_pipe_worker(struct mp_run *r)
{
	unsigned int lc = rte_lcore_id(), n;
	bool alloc = lc == rte_get_main_lcore(), fr = lc == rte_get_next_lcore(-1, 1, 0);
	void *objs[MP_KEEP_MAX];
	uint64_t done = 0, t0, t1, end;
	struct mp_clock clk = { .rnd = 2463534242u + lc };

	__atomic_fetch_add(&r->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) < (int)rte_lcore_count())
		rte_pause();
	t0 = bench_now_ns();
	end = t0 + r->ns;
	if (alloc) {
		do {
			for (unsigned int rep = 0; rep < 64; rep++) {
				uint64_t t;
				int ret;

				if (rte_ring_free_count(r->ring) < r->bulk)
					continue;
				t = mp_clock_start(&clk);
				ret = rte_mempool_get_bulk(r->mp, objs, r->bulk);
				mp_clock_stop(&clk, t, ret == 0 ? r->bulk : 0);
				if (ret != 0)
					continue; /* all in flight: the other side frees them */
				rte_ring_sp_enqueue_bulk(r->ring, objs, r->bulk, NULL);
			}
			t1 = bench_now_ns();
		} while (t1 < end && !bench_stopped());
		__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
		r->cost[MP_SIDE_ALLOC] = mp_clock_ns(&clk);
	} else if (fr) {
		do {
			n = rte_ring_sc_dequeue_burst(r->ring, objs, r->bulk, NULL);
			if (n > 0) {
				uint64_t t = mp_clock_start(&clk);

				rte_mempool_put_bulk(r->mp, objs, n);
				mp_clock_stop(&clk, t, n);
			}
			done += n;
		} while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE));
		t1 = bench_now_ns();
		while ((n = rte_ring_sc_dequeue_burst(r->ring, objs, MP_KEEP_MAX, NULL)) > 0) {
			uint64_t t = mp_clock_start(&clk);

			rte_mempool_put_bulk(r->mp, objs, n);
			mp_clock_stop(&clk, t, n);
		}
		r->rate[lc] = done / ((t1 - t0) / 1e9);
		r->cost[MP_SIDE_FREE] = mp_clock_ns(&clk);
	}
	return 0;
}

static int
mp_worker(void *arg)
{
	struct mp_run *r = arg;
	unsigned int lc = rte_lcore_id(), i;
	void *objs[MP_KEEP_MAX];
	uint64_t n = 0, t0, t1, end;

	if (r->keep == MP_PIPE)
		return mp_pipe_worker(r);
	__atomic_fetch_add(&r->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) < (int)rte_lcore_count())
		rte_pause();
	t0 = bench_now_ns();
	end = t0 + r->ns;
	do {
		/* Read the clock every 64 rounds: a clock read costs as much as a cached op. */
		for (unsigned int rep = 0; rep < 64; rep++) {
			for (i = 0; i < r->keep; i += r->bulk)
				if (rte_mempool_get_bulk(r->mp, &objs[i], r->bulk) != 0) {
					r->fail = 1;
					break;
				}
			for (unsigned int j = 0; j < i; j += r->bulk)
				rte_mempool_put_bulk(r->mp, &objs[j], r->bulk);
			n += i;
		}
		t1 = bench_now_ns();
	} while (t1 < end && !bench_stopped());
	r->rate[lc] = n / ((t1 - t0) / 1e9);
	return 0;
}

/* Total rate; *share is the slowest lcore's rate over the fastest's (1: even). */
static double
mp_measure(struct rte_mempool *mp, unsigned int bulk, unsigned int keep, unsigned int ms,
	double *share, double cost[NB_SIDE])
{
	struct mp_run r = {
		.mp = mp, .bulk = bulk, .keep = keep ? keep : bulk, .ns = (uint64_t)ms * 1000000,
	};
	double total = 0, lo = 1e18, hi = 0;
	unsigned int lc;

	if (keep == MP_PIPE) {
		r.ring = rte_ring_create("bmp_pipe", MP_PIPE_RING, SOCKET_ID_ANY,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (r.ring == NULL)
			return -1;
	}
	bench_on_all_lcores(mp_worker, &r);
	rte_ring_free(r.ring);
	if (r.fail)
		return -1;
	if (keep == MP_PIPE) {
		*share = 1;
		cost[MP_SIDE_ALLOC] = r.cost[MP_SIDE_ALLOC];
		cost[MP_SIDE_FREE] = r.cost[MP_SIDE_FREE];
		return r.rate[rte_get_next_lcore(-1, 1, 0)];
	}
	RTE_LCORE_FOREACH(lc) {
		total += r.rate[lc];
		lo = RTE_MIN(lo, r.rate[lc]);
		hi = RTE_MAX(hi, r.rate[lc]);
	}
	*share = hi > 0 ? lo / hi : 0;
	return total;
}

static struct rte_mempool *
mp_pool(unsigned int d, unsigned int cache)
{
	const char *driver = mp_drivers[d];
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	snprintf(name, sizeof(name), "bmp_%s_%u", mp_labels[d], cache);
	mp = rte_pktmbuf_pool_create_by_ops(name, MP_OBJS, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY, driver);
	if (mp != NULL && strcmp(driver, "tide") == 0 && mp->populated_size != mp->size) {
		fprintf(stderr, "tide-bench: the tide pool was made elastic (%u of %u "
			"populated): its profile should say fixed\n", mp->populated_size, mp->size);
		rte_mempool_free(mp);
		return NULL;
	}
	if (mp == NULL)
		fprintf(stderr, "tide-bench: cannot create a %s pool: %s\n", driver,
			rte_strerror(rte_errno));
	return mp;
}

static void
mp_variant(char *v, size_t len, const char *drv, unsigned int c, unsigned int b,
	unsigned int k)
{
	if (mp_keeps[k] == 0)
		snprintf(v, len, "%s/cache%u/bulk%u", drv, mp_caches[c], mp_bulks[b]);
	else if (mp_keeps[k] == MP_PIPE)
		snprintf(v, len, "%s/cache%u/bulk%u/pipe", drv, mp_caches[c], mp_bulks[b]);
	else
		snprintf(v, len, "%s/cache%u/bulk%u/keep%u", drv, mp_caches[c], mp_bulks[b],
			mp_keeps[k]);
}

static void
mp_pools_free(struct rte_mempool *pools[NB_DRV][NB_CACHE])
{
	for (unsigned int d = 0; d < NB_DRV; d++)
		for (unsigned int c = 0; c < NB_CACHE; c++) {
			rte_mempool_free(pools[d][c]);
			pools[d][c] = NULL;
		}
}

/* A configuration runs when --filter matches its name without the driver and its '/'
 * ("cache256/bulk32/pipe", which =NAME names too). */
static bool
mp_selected(const struct bench_opts *o, unsigned int c, unsigned int b, unsigned int k)
{
	char v[96];

	mp_variant(v, sizeof(v), "", c, b, k);
	return bench_selected(o, v + 1);
}

/*
 * Emit ratios of tide to each stock driver and give the worst against each (NaN if a ratio
 * had no figure); false when no pattern ran. A ratio is the median over rounds of the ratio
 * of the two measurements taken back to back in that round: the machine's speed drifts less
 * between neighbours than across the run.
 */
static bool
mp_ratios(const struct bench_opts *o,
	double rates[NB_DRV][NB_CACHE][NB_BULK][NB_KEEP][BENCH_MAX_ROUNDS],
	unsigned int c, unsigned int k, double worst[NB_DRV], double best[NB_DRV])
{
	unsigned int rounds = bench_rounds(o, MP_ROUNDS);
	char v[96], name[48];
	bool ran = false;

	for (unsigned int d = 1; d < NB_DRV; d++) {
		worst[d] = INFINITY;
		best[d] = 0;
		for (unsigned int b = 0; b < NB_BULK; b++) {
			double m;

			if (!mp_selected(o, c, b, k))
				continue;
			m = bench_median_ratio(rates[0][c][b][k], rates[d][c][b][k], rounds);
			snprintf(name, sizeof(name), "tide:%s", mp_labels[d]);
			mp_variant(v, sizeof(v), name, c, b, k);
			bench_emit(v, "ratio", m, "x");
			worst[d] = bench_worst(worst[d], m);
			best[d] = RTE_MAX(best[d], m);
			ran = true;
		}
	}
	return ran;
}

/*
 * pipe: each side's ns per object inside the mempool call, per driver (medians), and
 * tide's over each stock driver's (the median of the rounds' ratios; below 1: cheaper).
 */
static void
mp_costs(const struct bench_opts *o,
	double costs[NB_DRV][NB_CACHE][NB_BULK][NB_SIDE][BENCH_MAX_ROUNDS], unsigned int c,
	unsigned int k)
{
	unsigned int rounds = bench_rounds(o, MP_ROUNDS);
	double q[BENCH_MAX_ROUNDS];
	char v[96], name[48], metric[32];

	for (unsigned int b = 0; b < NB_BULK; b++) {
		if (!mp_selected(o, c, b, k))
			continue;
		for (unsigned int side = 0; side < NB_SIDE; side++)
			for (unsigned int d = 0; d < NB_DRV; d++) {
				double *t = costs[0][c][b][side], *x = costs[d][c][b][side];

				mp_variant(v, sizeof(v), mp_labels[d], c, b, k);
				snprintf(metric, sizeof(metric), "%s_ns", mp_side_names[side]);
				memcpy(q, x, rounds * sizeof(q[0]));
				bench_emit(v, metric, bench_median(q, rounds), "ns/obj");
				if (d == 0)
					continue;
				snprintf(name, sizeof(name), "tide:%s", mp_labels[d]);
				mp_variant(v, sizeof(v), name, c, b, k);
				snprintf(metric, sizeof(metric), "%s_cost", mp_side_names[side]);
				bench_emit(v, metric, bench_median_ratio(t, x, rounds), "x");
			}
	}
}

/*
 * The tide pools measure the driver: a profile makes them fixed (populated whole, as the
 * stock drivers' are) instead of elastic. Its file is a memfd, named to the library as
 * /proc/self/fd/N (each open reads it from the start): a run that is killed leaves no file.
 */
static int mp_profile_fd = -1;

static int
mp_profile_set(void)
{
	static const char text[] = "bmp_*\tfixed\n";
	char path[64];
	int fd;

	fd = memfd_create("tide-bench-profile", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, text, sizeof(text) - 1) != (ssize_t)sizeof(text) - 1) {
		close(fd);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (setenv("TIDE_POOL_PROFILES", path, 1) != 0) {
		close(fd);
		return -1;
	}
	mp_profile_fd = fd;
	return 0;
}

static void
mp_profile_unset(void)
{
	unsetenv("TIDE_POOL_PROFILES");
	if (mp_profile_fd >= 0)
		close(mp_profile_fd);
	mp_profile_fd = -1;
}

static int
mp_run(const struct bench_opts *o)
{
	static double rates[NB_DRV][NB_CACHE][NB_BULK][NB_KEEP][BENCH_MAX_ROUNDS];
	static double shares[NB_DRV][NB_CACHE][NB_BULK][NB_KEEP][BENCH_MAX_ROUNDS];
	static double costs[NB_DRV][NB_CACHE][NB_BULK][NB_SIDE][BENCH_MAX_ROUNDS];
	struct rte_mempool *pools[NB_DRV][NB_CACHE] = { { NULL } };
	double med[NB_DRV][NB_CACHE][NB_BULK][NB_KEEP];
	unsigned int rounds = bench_rounds(o, MP_ROUNDS);
	char v[96];
	int ret = -1;

	/*
	 * Interleave: every round measures every configuration, drivers in turning order,
	 * on pools created afresh, so that no driver keeps a lucky or unlucky memory
	 * layout (cache-set aliasing alone moves a cached-path figure by 20%).
	 */
	if (rte_lcore_count() < 2 || mp_profile_set() != 0) {
		fprintf(stderr, "tide-bench mempool: needs 2 lcores and a profile file\n");
		return -1;
	}
	for (unsigned int round = 0; round < rounds && !bench_stopped(); round++) {
		for (unsigned int i = 0; i < NB_DRV; i++)
			for (unsigned int c = 0; c < NB_CACHE; c++) {
				unsigned int d = (i + round) % NB_DRV;

				pools[d][c] = mp_pool(d, mp_caches[c]);
				if (pools[d][c] == NULL)
					goto out;
			}
		for (unsigned int c = 0; c < NB_CACHE; c++)
			for (unsigned int k = 0; k < NB_KEEP; k++)
				for (unsigned int b = 0; b < NB_BULK; b++)
					for (unsigned int i = 0; i < NB_DRV; i++) {
						unsigned int d = (i + round) % NB_DRV;
						double x = 0, cost[NB_SIDE] = { 0, 0 };

						if (mp_selected(o, c, b, k))
							x = mp_measure(pools[d][c], mp_bulks[b],
								mp_keeps[k], bench_ms(o, MP_MS),
								&shares[d][c][b][k][round], cost);
						if (x > 0 && mp_keeps[k] == MP_PIPE)
							for (unsigned int sd = 0; sd < NB_SIDE; sd++)
								costs[d][c][b][sd][round] = cost[sd];
						if (x < 0)
							goto out;
						rates[d][c][b][k][round] = x;
					}
		mp_pools_free(pools);
	}
	for (unsigned int c = 0; c < NB_CACHE; c++)
		for (unsigned int k = 0; k < NB_KEEP; k++)
			for (unsigned int b = 0; b < NB_BULK; b++)
				for (unsigned int d = 0; d < NB_DRV; d++) {
					med[d][c][b][k] = bench_median(rates[d][c][b][k], rounds);
					mp_variant(v, sizeof(v), mp_labels[d], c, b, k);
					if (!mp_selected(o, c, b, k))
						continue;
					bench_emit(v, "rate", med[d][c][b][k] / 1e6, "Mobj/s");
					/* Lock-based drivers may favour one lcore: show how much. */
					bench_emit(v, "lcore_share",
						bench_median(shares[d][c][b][k], rounds),
						"min/max");
				}
	for (unsigned int c = 0; c < NB_CACHE; c++) {
		double worst[NB_KEEP][NB_DRV], best[NB_KEEP][NB_DRV];
		double w = INFINITY, aa_lo = INFINITY, aa_hi = 0;
		bool ran = false;

		for (unsigned int k = 0; k < NB_KEEP; k++) {
			ran |= mp_ratios(o, rates, c, k, worst[k], best[k]);
			if (mp_keeps[k] == MP_PIPE)
				mp_costs(o, costs, c, k);
		}
		/* The targets, over every pattern: with a cache against ring_mp_mc, without
		 * against stack; and the A/A ratios' range, to read them against. */
		for (unsigned int k = 0; k < NB_KEEP; k++) {
			w = bench_worst(w, worst[k][mp_caches[c] != 0 ? 1 : 2]);
			aa_lo = bench_worst(aa_lo, worst[k][MP_AA]);
			aa_hi = RTE_MAX(aa_hi, best[k][MP_AA]);
		}
		if (ran) {
			bench_emit(mp_caches[c] != 0 ? "target:cache:tide>=0.95*ring_mp_mc" :
				"target:nocache:tide>=stack", "worst", w, "x");
			snprintf(v, sizeof(v), "noise:cache%u:tide:tide_aa", mp_caches[c]);
			bench_emit(v, "low", aa_lo, "x");
			bench_emit(v, "high", aa_hi, "x");
		}
	}
	ret = 0;
out:
	mp_pools_free(pools);
	mp_profile_unset();
	return ret;
}

const struct bench_scenario bench_mempool = {
	.name = "mempool",
	.help = "alloc+free bulk throughput: tide vs ring_mp_mc vs stack, cache on/off "
		"(and vs tide: the noise floor)",
	.filter = "the pattern, without the driver (cache256/bulk32/pipe, bulk8, keep): every "
		"driver runs it",
	.run = mp_run,
	.opts = BENCH_OPT_MS,
};
