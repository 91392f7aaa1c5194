/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * footprint: the same bursty trace through a fixed pool sized for the peak (ring_mp_mc,
 * the stock way), through an elastic tidepool pool (tide_pool_create()), and through a
 * pool an unmodified application creates: rte_pktmbuf_pool_create_by_ops() with the tide
 * ops, the fixed pool's size and nothing else (the plugin's case), in the same run.
 *
 * A worker lcore receives on a null port at the trace's rate, holds every packet for
 * --hold-ms (so rate x hold mbufs are out during a burst) and sends it on the peer port;
 * when idle the tidepool variant hands its cache back (tide_pool_cache_flush()), the
 * plugin variant does not (a stock application knows nothing of it). The main lcore
 * samples every 10 ms the hugepage MB each pool holds and integrates MB.s. Rounds turn the
 * order of the variants. --filter picks variants by these names; a ratio or a target
 * against the fixed pool needs it to have run.
 */

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bench.h"
#include "tide_app.h"
#include "tide_app_trace.h"
#include "tide_pool.h"

#define FP_TRACE "2:1000,0:9000"
#define FP_SAMPLE_NS (10ull * 1000 * 1000)
/* Samples a run takes at least: fewer would make its MB.s a figure of one or two. */
#define FP_MIN_SAMPLES 5
#define FP_CACHE 256
#define FP_RXD 1024 /* descriptors a queue (RX: what a late loop finds waiting) */
#define FP_ROUNDS 1

enum { FP_FIXED, FP_TIDE, FP_PLUGIN, FP_NB };
static const char *const fp_names[FP_NB] = { "fixed", "tide", "plugin" };

struct fp_result {
	double mb_s;        /* hugepage MB x seconds held over the run */
	double peak_mb;
	double avg_mb;
	double burst_mpps;  /* received during bursts / time in bursts */
	double nombuf;      /* packets not received for want of an mbuf */
	double drops;       /* packets dropped for other reasons */
	double missed;      /* packets due while the loop was late, past its RX ring */
	double grows;
	double reaps;
};

struct fp_run {
	struct tide_app_burst_io io;
	struct tide_app_burst_stats st;
	uint64_t start_ns, end_ns;
	volatile bool stop;
};

/* Hugepage bytes behind a stock mempool's memory chunks. */
static void
fp_chunk_bytes(struct rte_mempool *mp __rte_unused, void *arg,
	struct rte_mempool_memhdr *mh, unsigned int i __rte_unused)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(mh->addr);
	size_t pg = msl != NULL ? msl->page_sz : 4096;

	*(uint64_t *)arg += RTE_ALIGN_CEIL(mh->len, pg);
}

static struct rte_mempool *
fp_pool(unsigned int v, const struct tide_app_trace *t, uint64_t hold_ns, uint64_t *bytes)
{
	double peak = t->peak_mpps * 1e6 * (hold_ns / 1e9);
	struct tide_pool_params p;
	struct rte_mempool *mp;

	*bytes = 0;
	if (v == FP_TIDE) {
		tide_pool_params_init(&p, "fp_tide");
		p.base_bytes = 8 << 20;
		p.block_bytes = 8 << 20;
		p.wall_bytes = 2048ull << 20;
		p.cache_size = FP_CACHE;
		return tide_pool_create(&p);
	}
	/* Sized for the peak and no more: what is held at full rate, the RX and TX rings, and
	 * every lcore's cache up to its flush threshold (a margin on top would flatter the
	 * elastic pools' ratio). The plugin variant asks for the same, with the tide ops and
	 * its default profile.
	 */
	mp = rte_pktmbuf_pool_create_by_ops(v == FP_PLUGIN ? "fp_plugin" : "fp_fixed",
		(unsigned int)peak + 2 * FP_RXD + rte_lcore_count() * FP_CACHE * 3 / 2, FP_CACHE,
		0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY,
		v == FP_PLUGIN ? "tide" : "ring_mp_mc");
	if (mp != NULL && v == FP_FIXED)
		rte_mempool_mem_iter(mp, fp_chunk_bytes, bytes);
	return mp;
}

static void
fp_pool_free(unsigned int v, struct rte_mempool *mp)
{
	if (v == FP_TIDE)
		tide_pool_free(mp);
	else
		rte_mempool_free(mp);
}

static int
fp_port(const char *name, struct rte_mempool *mp, uint16_t *port)
{
	struct rte_eth_conf conf = { 0 };

	if (rte_vdev_init(name, NULL) != 0 || rte_eth_dev_get_port_by_name(name, port) != 0 ||
			rte_eth_dev_configure(*port, 1, 1, &conf) != 0 ||
			rte_eth_rx_queue_setup(*port, 0, FP_RXD, SOCKET_ID_ANY, NULL, mp) != 0 ||
			rte_eth_tx_queue_setup(*port, 0, FP_RXD, SOCKET_ID_ANY, NULL) != 0)
		return -1;
	return rte_eth_dev_start(*port);
}

static void
fp_port_close(const char *name, uint16_t port)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_vdev_uninit(name);
}

static int
fp_worker(void *arg)
{
	struct fp_run *r = arg;

	tide_app_burst_run(&r->io, r->start_ns, r->end_ns, &r->stop);
	return 0;
}

/* Sample MB held every 10 ms until the run ends; integrate, and log the series. */
static void
fp_sample(struct fp_run *r, unsigned int v, unsigned int round, struct rte_mempool *mp,
	uint64_t fixed_bytes, FILE *series, struct fp_result *res)
{
	uint64_t last = r->start_ns, last_rx = 0, n = 0;

	while (bench_now_ns() < r->start_ns)
		rte_delay_us_sleep(1000);
	while (!r->stop) {
		uint64_t now = bench_now_ns(), rx;
		struct tide_pool_stats st;
		double mb;

		if (bench_stopped())
			r->stop = true; /* the worker's trace ends too */
		if (now >= r->end_ns || r->stop)
			break;
		if (now - last < FP_SAMPLE_NS) {
			rte_delay_us_sleep(1000);
			continue;
		}
		mb = fixed_bytes / 1048576.0;
		if (v != FP_FIXED && tide_pool_stats_get(mp, &st) == 0)
			mb = st.bytes / 1048576.0;
		rx = __atomic_load_n(&r->st.rx, __ATOMIC_RELAXED);
		res->mb_s += mb * (now - last) / 1e9;
		res->peak_mb = RTE_MAX(res->peak_mb, mb);
		res->avg_mb += mb;
		n++;
		if (series != NULL)
			fprintf(series, "%s,%u,%.3f,%.4f,%.1f\n", fp_names[v], round,
				(now - r->start_ns) / 1e9, (rx - last_rx) / ((now - last) / 1e3),
				mb);
		last = now;
		last_rx = rx;
	}
	res->avg_mb = n ? res->avg_mb / n : 0;
}

static int
fp_run_one(const struct bench_opts *o, unsigned int v, unsigned int round,
	const struct tide_app_trace *t, FILE *series, struct fp_result *res)
{
	uint64_t hold_ns = (uint64_t)o->hold_ms * 1000000, fixed_bytes;
	static struct fp_run r;
	char names[2][32];
	uint16_t ports[2];
	struct tide_pool_stats st;
	struct rte_mempool *mp;
	int worker = (int)rte_get_next_lcore(-1, 1, 0), ret = -1;

	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	mp = fp_pool(v, t, hold_ns, &fixed_bytes);
	if (mp == NULL) {
		fprintf(stderr, "tide-bench footprint: no %s pool: %s\n", fp_names[v],
			rte_strerror(rte_errno));
		return -1;
	}
	for (unsigned int i = 0; i < 2; i++) {
		snprintf(names[i], sizeof(names[i]), "net_null_fp%u%u_%u", v, round, i);
		if (fp_port(names[i], mp, &ports[i]) != 0)
			goto out_pool;
	}
	r.io = (struct tide_app_burst_io){
		.rx_port = ports[0], .tx_port = ports[1], .queue = 0, .st = &r.st,
		.burst = TIDE_APP_BURST,
		.pool = v == FP_TIDE ? mp : NULL, /* whose cache the idle lcore hands back */
		.empty_is_nombuf = true, .rx_ring = FP_RXD,
	};
	if (tide_app_burst_init(&r.io, t, hold_ns) != 0)
		goto out_ports;
	r.start_ns = bench_now_ns() + 50 * 1000000ull;
	r.end_ns = r.start_ns + t->period_ns * o->cycles;
	if (rte_eal_remote_launch(fp_worker, &r, (unsigned int)worker) == 0) {
		fp_sample(&r, v, round, mp, fixed_bytes, series, res);
		rte_eal_wait_lcore((unsigned int)worker);
		ret = 0;
	}
	tide_app_burst_fini(&r.io);
	res->burst_mpps = r.st.on_ns ? r.st.rx_on / (r.st.on_ns / 1e3) : 0;
	res->nombuf = (double)r.st.nombuf;
	res->drops = (double)r.st.drops;
	res->missed = (double)r.st.missed;
	if (v != FP_FIXED && tide_pool_stats_get(mp, &st) == 0) {
		res->grows = (double)(st.grows_ahead + st.grows_sync);
		res->reaps = (double)st.reaps;
	}
out_ports:
	for (unsigned int i = 0; i < 2; i++)
		fp_port_close(names[i], ports[i]);
out_pool:
	fp_pool_free(v, mp);
	return ret;
}

static void
fp_emit(const char *v, const struct fp_result *r)
{
	bench_emit(v, "mb_s", r->mb_s, "MB.s");
	bench_emit(v, "peak", r->peak_mb, "MB");
	bench_emit(v, "avg", r->avg_mb, "MB");
	bench_emit(v, "burst_rate", r->burst_mpps, "Mpps");
	bench_emit(v, "nombuf", r->nombuf, "pkts");
	bench_emit(v, "drops", r->drops, "pkts");
	bench_emit(v, "missed", r->missed, "pkts");
	bench_emit(v, "grows", r->grows, "blocks");
	bench_emit(v, "reaps", r->reaps, "blocks");
}

/* The field at @p off of @p r (a double). */
static double
fp_field(const struct fp_result *r, size_t off)
{
	RTE_BUILD_BUG_ON(sizeof(struct fp_result) % sizeof(double) != 0);
	return *(const double *)((const char *)r + off);
}

/* Variant v's field at @p off over the fixed pool's: the median of each round's ratio (the
 * two ran back to back), NaN when no round measured both. */
static double
fp_ratio(struct fp_result res[][FP_NB], unsigned int rounds, unsigned int v, size_t off)
{
	double a[BENCH_MAX_ROUNDS], b[BENCH_MAX_ROUNDS];

	for (unsigned int r = 0; r < rounds; r++) {
		a[r] = fp_field(&res[r][v], off);
		b[r] = fp_field(&res[r][FP_FIXED], off);
	}
	return bench_median_ratio(a, b, rounds);
}

/* Median of one field over rounds; for packets lost (nombuf, drops, missed), the most any
 * round lost: a loss in a minority of rounds is a loss. */
static double
fp_median(struct fp_result res[][FP_NB], unsigned int rounds, unsigned int v, size_t off)
{
	bool loss = off == offsetof(struct fp_result, nombuf) ||
		off == offsetof(struct fp_result, drops) || off == offsetof(struct fp_result, missed);
	double x[BENCH_MAX_ROUNDS], most = 0;

	for (unsigned int r = 0; r < rounds; r++) {
		x[r] = fp_field(&res[r][v], off);
		most = RTE_MAX(most, x[r]);
	}
	return loss ? most : bench_median(x, rounds);
}

/* Before EAL: the trace (or the default one), long enough to sample, and its delay line. */
static int
fp_check(struct bench_opts *o)
{
	uint64_t run_ns;

	if (tide_app_trace_parse(o->trace_arg != NULL ? o->trace_arg : FP_TRACE, &o->trace) != 0)
		return -1;
	run_ns = o->trace.period_ns * o->cycles;
	if (run_ns < FP_MIN_SAMPLES * FP_SAMPLE_NS) {
		fprintf(stderr, "tide-bench footprint: --trace over --cycles %u lasts %.3f ms, "
			"under the %llu ms of %u samples (one every %llu ms): too short to "
			"measure a footprint\n", o->cycles, run_ns / 1e6,
			FP_MIN_SAMPLES * FP_SAMPLE_NS / 1000000, FP_MIN_SAMPLES,
			FP_SAMPLE_NS / 1000000);
		return -1;
	}
	return tide_app_trace_hold_check(&o->trace, o->hold_ms) == 0 ? 0 : -1;
}

static int
fp_run(const struct bench_opts *o)
{
	static struct fp_result res[BENCH_MAX_ROUNDS][FP_NB];
	unsigned int rounds = bench_rounds(o, FP_ROUNDS);
	const struct tide_app_trace *t = &o->trace;
	struct fp_result med[FP_NB];
	FILE *series = NULL;
	bool ran[FP_NB];
	int ret = -1;

	if (rte_lcore_count() < 2) {
		fprintf(stderr, "tide-bench footprint: needs at least 2 lcores\n");
		return -1;
	}
	if (o->series != NULL && (series = fopen(o->series, "w")) == NULL) {
		fprintf(stderr, "tide-bench footprint: cannot write %s\n", o->series);
		return -1;
	}
	if (series != NULL)
		fprintf(series, "variant,round,t_s,mpps,mb_held\n");
	for (unsigned int v = 0; v < FP_NB; v++)
		ran[v] = bench_selected(o, fp_names[v]);
	for (unsigned int round = 0; round < rounds && !bench_stopped(); round++)
		for (unsigned int k = 0; k < FP_NB; k++) {
			unsigned int v = (k + round) % FP_NB;

			if (ran[v] && fp_run_one(o, v, round, t, series, &res[round][v]) != 0)
				goto out;
		}
	for (unsigned int v = 0; v < FP_NB; v++) {
		if (!ran[v])
			continue;
		for (size_t f = 0; f < sizeof(struct fp_result) / sizeof(double); f++)
			((double *)&med[v])[f] = fp_median(res, rounds, v, f * sizeof(double));
		fp_emit(fp_names[v], &med[v]);
	}
	for (unsigned int v = FP_TIDE; v < FP_NB; v++) {
		char name[32], target[64];
		double mb_s, burst;

		if (!ran[v] || !ran[FP_FIXED])
			continue;
		/* As the other scenarios: each round's ratio, then their median (a NaN, no
		 * figure, meets no target: a comparison with it is false). */
		mb_s = fp_ratio(res, rounds, v, offsetof(struct fp_result, mb_s));
		burst = fp_ratio(res, rounds, v, offsetof(struct fp_result, burst_mpps));
		snprintf(name, sizeof(name), "%s:fixed", fp_names[v]);
		bench_emit(name, "mb_s", mb_s, "x");
		bench_emit(name, "burst_rate", burst, "x");
		snprintf(target, sizeof(target), "target:%s_mb_s<=0.25*fixed", fp_names[v]);
		bench_emit(target, "met", med[FP_FIXED].mb_s > 0 && mb_s <= 0.25, "bool");
		snprintf(target, sizeof(target), "target:%s_nombuf=0", fp_names[v]);
		bench_emit(target, "met", med[v].nombuf == 0 && med[v].drops == 0, "bool");
		snprintf(target, sizeof(target), "target:%s_burst_rate>=0.97*fixed", fp_names[v]);
		bench_emit(target, "met", med[FP_FIXED].burst_mpps > 0 && burst >= 0.97, "bool");
	}
	ret = 0;
out:
	if (series != NULL)
		fclose(series);
	return ret;
}

const struct bench_scenario bench_footprint = {
	.name = "footprint",
	.help = "hugepage MB.s, peak, drops and burst rate of a bursty trace: fixed pool sized "
		"for the peak vs tidepool vs the same pool created the stock way with the tide ops",
	.filter = "the pool: fixed, tide, plugin",
	.opts = BENCH_OPT_TRACE | BENCH_OPT_HOLD_MS | BENCH_OPT_CYCLES | BENCH_OPT_SERIES,
	.check = fp_check,
	.run = fp_run,
};
