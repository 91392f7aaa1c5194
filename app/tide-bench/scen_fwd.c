/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * fwd: io forwarding between two net_null ports, with the RX mbufs from an elastic tide
 * pool or from a stock ring_mp_mc pool. Each variant has its own pair of ports; rounds
 * alternate between them. Every worker lcore forwards on its own queue; the main lcore
 * keeps time. A third variant, ring_mp_mc_aa, is a second stock pool with ports of its
 * own: ring_mp_mc_aa:ring_mp_mc, two identical set-ups measured the same way, is the
 * noise floor tide:ring_mp_mc is read against (an A/A test). --filter picks variants by
 * name (tide, ring_mp_mc, ring_mp_mc_aa); a ratio needs both of its variants.
 *
 * Where a pool's memory lands moves a cached path's rate by several percent (cache-set
 * aliasing, and which hugepages back it: docs/design.md), the same way in every round of
 * one set-up: with one set-up per run the A/A ratio of one run was 1.067 and tide's 1.062.
 * So the pools and ports are made again every FWD_EPOCH rounds, in a turning order, and
 * each set-up forwards once unmeasured first (a tide pool grows to its working set).
 */

#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bench.h"
#include "tide_app.h"
#include "tide_pool.h"

#define FWD_MBUFS 16384
#define FWD_CACHE 256
#define FWD_BURST 32
/* Many short rounds: this machine's speed moves by a quarter from one 400 ms measurement to
 * the next, and a pair 50 ms long mostly runs in one state. AMD EPYC, 2026-12-04: from 7
 * rounds of 400 ms tide:ring_mp_mc was 0.85-1.15 over six runs (the A/A 0.91-1.05), from
 * 60 rounds of 50 ms 0.993-1.004 over seven (the A/A 0.992-1.008).
 */
#define FWD_ROUNDS 60
#define FWD_MS 50
#define FWD_NB 3 /* variants */
#define FWD_EPOCH 6 /* rounds between two set-ups */

struct fwd_variant {
	const char *name;
	struct rte_mempool *mp;
	uint16_t ports[2];
	char vdev[2][32];
};

struct fwd_run {
	struct fwd_variant *v;
	volatile bool stop;
	uint16_t queue[RTE_MAX_LCORE]; /* each worker's: 0.. in worker order */
	struct tide_app_fwd_counts c[RTE_MAX_LCORE];
};

static int
fwd_port(struct fwd_variant *v, unsigned int i, unsigned int queues)
{
	struct rte_eth_conf conf = { 0 };
	uint16_t port;

	snprintf(v->vdev[i], sizeof(v->vdev[i]), "net_null_%s%u", v->name, i);
	if (rte_vdev_init(v->vdev[i], NULL) != 0 ||
			rte_eth_dev_get_port_by_name(v->vdev[i], &port) != 0)
		return -1;
	if (rte_eth_dev_configure(port, queues, queues, &conf) != 0)
		return -1;
	for (unsigned int q = 0; q < queues; q++)
		if (rte_eth_rx_queue_setup(port, q, 1024, SOCKET_ID_ANY, NULL, v->mp) != 0 ||
				rte_eth_tx_queue_setup(port, q, 1024, SOCKET_ID_ANY, NULL) != 0)
			return -1;
	v->ports[i] = port;
	return rte_eth_dev_start(port);
}

static void
fwd_variant_close(struct fwd_variant *v)
{
	for (unsigned int i = 0; i < 2; i++)
		if (v->vdev[i][0] != '\0') {
			rte_eth_dev_stop(v->ports[i]);
			rte_eth_dev_close(v->ports[i]);
			rte_vdev_uninit(v->vdev[i]);
			v->vdev[i][0] = '\0';
		}
	if (strcmp(v->name, "tide") == 0)
		tide_pool_free(v->mp);
	else
		rte_mempool_free(v->mp);
	v->mp = NULL;
}

static struct rte_mempool *
fwd_ring_pool(const char *name)
{
	return rte_pktmbuf_pool_create_by_ops(name, FWD_MBUFS, FWD_CACHE, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY, "ring_mp_mc");
}

static struct rte_mempool *
fwd_tide_pool(void)
{
	struct tide_pool_params p;

	tide_pool_params_init(&p, "bfwd_tide");
	p.base_bytes = 16 << 20;
	p.block_bytes = 8 << 20;
	p.wall_bytes = 256 << 20;
	p.cache_size = FWD_CACHE;
	return tide_pool_create(&p);
}

static int
fwd_worker(void *arg)
{
	struct fwd_run *r = arg;
	unsigned int lc = rte_lcore_id();

	if (lc == rte_get_main_lcore())
		return 0;
	tide_app_fwd_io(r->v->ports, 2, r->queue[lc], FWD_BURST, &r->stop, &r->c[lc]);
	return 0;
}

static double
fwd_measure(struct fwd_variant *v, unsigned int ms)
{
	static struct fwd_run r;
	uint64_t t0, tx = 0;
	unsigned int lc, q = 0;

	memset(&r, 0, sizeof(r));
	r.v = v;
	/* Queues by the workers' order, not rte_lcore_index() - 1: the main lcore need not
	 * be the lowest (--main-lcore), and a worker before it would get queue -1. */
	RTE_LCORE_FOREACH_WORKER(lc)
		r.queue[lc] = (uint16_t)q++;
	rte_eal_mp_remote_launch(fwd_worker, &r, SKIP_MAIN);
	t0 = bench_now_ns();
	while (bench_now_ns() - t0 < (uint64_t)ms * 1000000 && !bench_stopped())
		rte_delay_us_sleep(1000);
	r.stop = true;
	rte_eal_mp_wait_lcore();
	RTE_LCORE_FOREACH_WORKER(lc)
		tx += r.c[lc].tx;
	return tx / ((bench_now_ns() - t0) / 1e3);
}

/* Set-up @p epoch: every selected variant's pool and ports made again, the first made
 * turning from one set-up to the next, each forwarding once unmeasured. */
static int
fwd_setup(struct fwd_variant *v, const bool *ran, unsigned int epoch, unsigned int workers,
	unsigned int ms)
{
	for (unsigned int i = 0; i < FWD_NB; i++)
		if (v[i].mp != NULL)
			fwd_variant_close(&v[i]);
	for (unsigned int k = 0; k < FWD_NB; k++) {
		unsigned int i = (k + epoch) % FWD_NB;

		if (!ran[i])
			continue;
		v[i].mp = i == 0 ? fwd_tide_pool() :
			fwd_ring_pool(i == 1 ? "bfwd_ring" : "bfwd_ring_aa");
		if (v[i].mp == NULL || fwd_port(&v[i], 0, workers) != 0 ||
				fwd_port(&v[i], 1, workers) != 0) {
			fprintf(stderr, "tide-bench fwd: cannot set up %s: %s\n", v[i].name,
				rte_strerror(rte_errno));
			return -1;
		}
	}
	for (unsigned int i = 0; i < FWD_NB; i++)
		if (ran[i])
			fwd_measure(&v[i], ms);
	return 0;
}

static int
fwd_run(const struct bench_opts *o)
{
	struct fwd_variant v[FWD_NB] = { { .name = "tide" }, { .name = "ring_mp_mc" },
		{ .name = "ring_mp_mc_aa" } };
	static double mpps[FWD_NB][BENCH_MAX_ROUNDS];
	unsigned int workers = rte_lcore_count() - 1, rounds = bench_rounds(o, FWD_ROUNDS);
	double ratio, noise;
	bool ran[FWD_NB];
	int ret = -1;

	if (workers == 0) {
		fprintf(stderr, "tide-bench fwd: needs at least 2 lcores\n");
		return -1;
	}
	for (unsigned int i = 0; i < FWD_NB; i++)
		ran[i] = bench_selected(o, v[i].name);
	for (unsigned int round = 0; round < rounds && !bench_stopped(); round++) {
		if (round % FWD_EPOCH == 0 && fwd_setup(v, ran, round / FWD_EPOCH, workers,
				bench_ms(o, FWD_MS)) != 0)
			goto out;
		for (unsigned int k = 0; k < FWD_NB; k++) {
			unsigned int i = (k + round) % FWD_NB;

			if (ran[i])
				mpps[i][round] = fwd_measure(&v[i], bench_ms(o, FWD_MS));
		}
	}
	/* The ratios of each round's pairs, before the medians reorder the rates. */
	ratio = bench_median_ratio(mpps[0], mpps[1], rounds);
	noise = bench_median_ratio(mpps[2], mpps[1], rounds);
	for (unsigned int i = 0; i < FWD_NB; i++)
		if (ran[i])
			bench_emit(v[i].name, "fwd", bench_median(mpps[i], rounds), "Mpps");
	if (ran[0] && ran[1])
		bench_emit("tide:ring_mp_mc", "ratio", ratio, "x");
	if (ran[2] && ran[1])
		bench_emit("ring_mp_mc_aa:ring_mp_mc", "ratio", noise, "x");
	ret = 0;
out:
	for (unsigned int i = 0; i < FWD_NB; i++)
		if (v[i].mp != NULL)
			fwd_variant_close(&v[i]);
	return ret;
}

const struct bench_scenario bench_fwd = {
	.name = "fwd",
	.help = "io forwarding Mpps on net_null: tide pool vs ring_mp_mc pool (and vs a second "
		"ring_mp_mc pool: the noise floor)",
	.filter = "the pool: tide, ring_mp_mc, ring_mp_mc_aa",
	.run = fwd_run,
	.opts = BENCH_OPT_MS,
};
