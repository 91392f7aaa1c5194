/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * fwd: io forwarding between two net_null ports, with the RX mbufs from an elastic tide
 * pool or from a stock ring_mp_mc pool. Each variant has its own pair of ports; rounds
 * alternate between them. Every worker lcore forwards on its own queue; the main lcore
 * keeps time.
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
#define FWD_ROUNDS 7
#define FWD_MS 400

struct fwd_variant {
	const char *name;
	struct rte_mempool *mp;
	uint16_t ports[2];
	char vdev[2][32];
};

struct fwd_run {
	struct fwd_variant *v;
	volatile bool stop;
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
		}
	if (strcmp(v->name, "tide") == 0)
		tide_pool_free(v->mp);
	else
		rte_mempool_free(v->mp);
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
	tide_app_fwd_io(r->v->ports, 2, (uint16_t)(rte_lcore_index(lc) - 1), FWD_BURST,
		&r->stop, &r->c[lc]);
	return 0;
}

static double
fwd_measure(struct fwd_variant *v, unsigned int ms)
{
	static struct fwd_run r;
	uint64_t t0, tx = 0;
	unsigned int lc;

	memset(&r, 0, sizeof(r));
	r.v = v;
	rte_eal_mp_remote_launch(fwd_worker, &r, SKIP_MAIN);
	t0 = bench_now_ns();
	while (bench_now_ns() - t0 < (uint64_t)ms * 1000000)
		rte_delay_us_sleep(1000);
	r.stop = true;
	rte_eal_mp_wait_lcore();
	RTE_LCORE_FOREACH_WORKER(lc)
		tx += r.c[lc].tx;
	return tx / ((bench_now_ns() - t0) / 1e3);
}

static int
fwd_run(const struct bench_opts *o)
{
	struct fwd_variant v[2] = { { .name = "tide" }, { .name = "ring_mp_mc" } };
	static double mpps[2][BENCH_MAX_ROUNDS];
	unsigned int workers = rte_lcore_count() - 1, rounds = bench_rounds(o, FWD_ROUNDS);
	double med[2];
	int ret = -1;

	if (workers == 0) {
		fprintf(stderr, "tide-bench fwd: needs at least 2 lcores\n");
		return -1;
	}
	v[0].mp = fwd_tide_pool();
	v[1].mp = rte_pktmbuf_pool_create_by_ops("bfwd_ring", FWD_MBUFS, FWD_CACHE, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY, "ring_mp_mc");
	for (unsigned int i = 0; i < 2; i++)
		if (v[i].mp == NULL || fwd_port(&v[i], 0, workers) != 0 ||
				fwd_port(&v[i], 1, workers) != 0) {
			fprintf(stderr, "tide-bench fwd: cannot set up %s: %s\n", v[i].name,
				rte_strerror(rte_errno));
			goto out;
		}
	for (unsigned int round = 0; round < rounds; round++)
		for (unsigned int k = 0; k < 2; k++) {
			unsigned int i = (k + round) % 2;

			mpps[i][round] = fwd_measure(&v[i], bench_ms(o, FWD_MS));
		}
	for (unsigned int i = 0; i < 2; i++) {
		med[i] = bench_median(mpps[i], rounds);
		bench_emit(v[i].name, "fwd", med[i], "Mpps");
	}
	bench_emit("tide:ring_mp_mc", "ratio", med[0] / med[1], "x");
	ret = 0;
out:
	for (unsigned int i = 0; i < 2; i++)
		if (v[i].mp != NULL)
			fwd_variant_close(&v[i]);
	return ret;
}

const struct bench_scenario bench_fwd = {
	.name = "fwd",
	.help = "io forwarding Mpps on net_null: tide pool vs ring_mp_mc pool",
	.run = fwd_run,
};
