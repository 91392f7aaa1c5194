/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * tidepmd [EAL args --] [options]
 *
 * Without EAL arguments it runs on "-l 0-1 --no-pci --huge-unlink --vdev net_null0
 * --vdev net_null1":
 * io forwarding between two null ports, every mbuf from an elastic tidepool pool.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "tide_app.h"
#include "tide_pool.h"
#include "tidepmd.h"

static const struct tpmd_mode *const tpmd_modes[] = {
	&tpmd_mode_io,
	&tpmd_mode_bursty,
	&tpmd_mode_pipeline,
	&tpmd_mode_zctx,
};

static struct tpmd tpmd;

static void
tpmd_usage(const char *prog)
{
	printf("usage: %s [EAL args --] [options]\n"
		"  --mode NAME          forwarding mode (default io)\n"
		"  --duration SEC       stop after SEC seconds (default: until Ctrl-C)\n"
		"  --burst N            packets per burst (default 32)\n"
		"  --stats-period MS    stats line period (default 1000)\n"
		"  --rxd N, --txd N     descriptors per queue (default 1024)\n"
		"  --pool-base MB       elastic pool base block (default 16)\n"
		"  --pool-block MB      elastic pool added block (default 8)\n"
		"  --pool-wall MB       elastic pool wall (default 512)\n"
		"  --pool-cache N       per-lcore cache (default 256)\n"
		"  --trace RATE:MS,...  bursty mode: receive rate phases, Mpps:ms, repeated\n"
		"                       (default 2:1000,0:4000)\n"
		"  --hold-ms MS         bursty mode: how long each packet is held (default 50)\n"
		"  --zctx-sizes LIST    zctx mode: payload sizes, cycled (default 64,1500,9000,65536)\n"
		"  --zctx-buf-mb MB     zctx mode: malloc'd buffer sent from (default 4)\n"
		"  --zctx-threshold N   zctx mode: copy below N bytes, or 'adaptive' (default)\n"
		"modes:\n", prog);
	for (unsigned int i = 0; i < RTE_DIM(tpmd_modes); i++)
		printf("  %-8s %s\n", tpmd_modes[i]->name, tpmd_modes[i]->help);
}

static int
tpmd_parse(int argc, char **argv, struct tpmd_config *c)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "duration", required_argument, NULL, 'd' },
		{ "burst", required_argument, NULL, 'b' },
		{ "stats-period", required_argument, NULL, 's' },
		{ "rxd", required_argument, NULL, 'r' },
		{ "txd", required_argument, NULL, 't' },
		{ "pool-base", required_argument, NULL, 'B' },
		{ "pool-block", required_argument, NULL, 'K' },
		{ "pool-wall", required_argument, NULL, 'W' },
		{ "pool-cache", required_argument, NULL, 'C' },
		{ "trace", required_argument, NULL, 'T' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "zctx-sizes", required_argument, NULL, 'S' },
		{ "zctx-buf-mb", required_argument, NULL, 'U' },
		{ "zctx-threshold", required_argument, NULL, 'Z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*c = (struct tpmd_config){
		.burst = 32, .stats_period_ms = 1000, .rxd = 1024, .txd = 1024,
		.pool_base_mb = 16, .pool_block_mb = 8, .pool_wall_mb = 512, .pool_cache = 256,
		.mode = "io", .hold_ms = 50,
		.zctx_sizes = "64,1500,9000,65536", .zctx_buf_mb = 4, .zctx_threshold = UINT32_MAX,
	};
	if (tide_app_trace_parse("2:1000,0:4000", &c->trace) != 0)
		return -EINVAL;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': c->mode = optarg; break;
		case 'd': c->duration_s = strtoull(optarg, NULL, 0); break;
		case 'b': c->burst = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 's': c->stats_period_ms = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'r': c->rxd = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 't': c->txd = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'B': c->pool_base_mb = strtoull(optarg, NULL, 0); break;
		case 'K': c->pool_block_mb = strtoull(optarg, NULL, 0); break;
		case 'W': c->pool_wall_mb = strtoull(optarg, NULL, 0); break;
		case 'C': c->pool_cache = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'T':
			if (tide_app_trace_parse(optarg, &c->trace) != 0)
				return -EINVAL;
			break;
		case 'H': c->hold_ms = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'S': c->zctx_sizes = optarg; break;
		case 'U': c->zctx_buf_mb = strtoull(optarg, NULL, 0); break;
		case 'Z':
			c->zctx_threshold = strcmp(optarg, "adaptive") == 0 ? UINT32_MAX :
				(uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'h': tpmd_usage(argv[0]); exit(0);
		default:
			tpmd_usage(argv[0]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tidepmd: unexpected argument '%s' (EAL arguments go first, "
			"then --)\n", argv[optind]);
		return -EINVAL;
	}
	if (c->burst == 0 || c->stats_period_ms == 0) {
		fprintf(stderr, "tidepmd: --burst and --stats-period must be > 0\n");
		return -EINVAL;
	}
	return 0;
}

static const struct tpmd_mode *
tpmd_mode_find(const char *name)
{
	for (unsigned int i = 0; i < RTE_DIM(tpmd_modes); i++)
		if (strcmp(tpmd_modes[i]->name, name) == 0)
			return tpmd_modes[i];
	return NULL;
}

static struct rte_mempool *
tpmd_pool_create(const struct tpmd_config *c)
{
	struct tide_pool_params p;
	struct rte_mempool *mp;

	tide_pool_params_init(&p, "tidepmd_pool");
	p.base_bytes = c->pool_base_mb << 20;
	p.block_bytes = c->pool_block_mb << 20;
	p.wall_bytes = c->pool_wall_mb << 20;
	p.cache_size = c->pool_cache;
	mp = tide_pool_create(&p);
	if (mp == NULL)
		fprintf(stderr, "tidepmd: cannot create the elastic pool: %s\n",
			rte_strerror(rte_errno));
	return mp;
}

static int
tpmd_worker_main(void *arg)
{
	return tpmd.mode->worker(&tpmd, (unsigned int)(uintptr_t)arg);
}

static int
tpmd_launch(struct tpmd *t)
{
	unsigned int lc, w = 0;

	RTE_LCORE_FOREACH_WORKER(lc) {
		t->worker_lcore[w] = lc;
		if (rte_eal_remote_launch(tpmd_worker_main, (void *)(uintptr_t)w, lc) != 0)
			return -1;
		w++;
	}
	printf("tidepmd: mode %s on %u worker lcore(s), %u ports, pool %s "
		"(base %zu MB, blocks %zu MB, wall %zu MB)\n", t->mode->name, w, t->nb_ports,
		t->pool->name, t->cfg.pool_base_mb, t->cfg.pool_block_mb, t->cfg.pool_wall_mb);
	return 0;
}

int
main(int argc, char **argv)
{
	char defaults[128];
	char **args;
	int nargs, ret = 1;

	snprintf(defaults, sizeof(defaults),
		"%s --no-pci --huge-unlink --vdev net_null0 --vdev net_null1", tide_app_lcores(2));
	if (tide_app_eal_init(argc, argv, "tidepmd", defaults, &nargs, &args) < 0)
		return 1;
	if (tpmd_parse(nargs, args, &tpmd.cfg) < 0)
		goto out_eal;
	tpmd.mode = tpmd_mode_find(tpmd.cfg.mode);
	if (tpmd.mode == NULL) {
		fprintf(stderr, "tidepmd: unknown mode '%s'\n", tpmd.cfg.mode);
		goto out_eal;
	}
	tpmd.nb_workers = rte_lcore_count() - 1;
	if (tpmd.nb_workers == 0) {
		fprintf(stderr, "tidepmd: needs at least 2 lcores (one prints, one forwards)\n");
		goto out_eal;
	}
	tpmd.pool = tpmd_pool_create(&tpmd.cfg);
	if (tpmd.pool == NULL)
		goto out_eal;
	if (tpmd_ports_init(&tpmd) != 0)
		goto out_ports;
	if (tpmd.mode->setup != NULL && tpmd.mode->setup(&tpmd) != 0)
		goto out_ports;
	tide_app_signals();
	if (tpmd_launch(&tpmd) == 0) {
		tpmd_stats_loop(&tpmd);
		ret = 0;
	}
	tpmd.stop = true;
	rte_eal_mp_wait_lcore();
	if (tpmd.mode->teardown != NULL)
		tpmd.mode->teardown(&tpmd);
out_ports:
	tpmd_ports_close(&tpmd);
	tide_pool_free(tpmd.pool);
out_eal:
	tide_app_eal_cleanup();
	return ret;
}
