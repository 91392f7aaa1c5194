/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * tidepmd [EAL args --] [options]
 *
 * Without EAL arguments it runs on "-l 0-1 --no-pci --huge-unlink --vdev net_null0
 * --vdev net_null1": the default bursty workload between two null ports, every mbuf from
 * an elastic tidepool pool that grows during the bursts and shrinks between them. With
 * -i, a prompt (cmdline.c) instead of the stats line.
 *
 * A secondary tidepmd (--proc-type=secondary) runs --mode worker: stage 2 of a primary
 * tidepmd's --mode pipeline --mp-workers N (worker.c). The primary answers dpdk-pdump and
 * dpdk-dumpcap (rte_pdump_init), and dpdk-proc-info reads its ports and its pool.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_pdump.h>

#include "tide_app.h"
#include "tide_pool.h"
#include "tidepmd.h"

static struct tpmd tpmd;

/* One elastic pool per NUMA socket with lcores or ports: "tidepmd_s<socket>". */
static struct tide_pool_per_socket *
tpmd_pools_create(const struct tpmd_config *c)
{
	struct tide_pool_params p;
	struct tide_pool_per_socket *ps;

	tide_pool_params_init(&p, "tidepmd");
	p.base_bytes = c->pool_base_mb << 20;
	p.block_bytes = c->pool_block_mb << 20;
	p.wall_bytes = c->pool_wall_mb << 20;
	p.cache_size = c->pool_cache;
	ps = tide_pool_create_per_socket(&p);
	if (ps == NULL)
		fprintf(stderr, "tidepmd: cannot create the elastic pools: %s\n",
			rte_strerror(rte_errno));
	return ps;
}

/*
 * The forwarding lcores: the first --nb-cores workers, or all of them, and then at most
 * TPMD_MAX_LCORES: more are refused, not left idle without a word.
 */
static int
tpmd_lcores_init(struct tpmd *t)
{
	unsigned int lc, n = 0, want = t->cfg.nb_cores;

	if (want == 0 && rte_lcore_count() - 1 > TPMD_MAX_LCORES) {
		fprintf(stderr, "tidepmd: %u worker lcores; tidepmd forwards on at most %u: give "
			"EAL fewer (-l, --lcores) or --nb-cores 1..%u\n", rte_lcore_count() - 1,
			TPMD_MAX_LCORES, TPMD_MAX_LCORES);
		return -EINVAL;
	}
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (want != 0 && n == want)
			break;
		t->lcores[n] = (struct tpmd_lcore){ .t = t, .lcore_id = lc, .idx = n };
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "tidepmd: needs at least 2 lcores (the main one runs the stats "
			"line or the prompt, the others forward)\n");
		return -EINVAL;
	}
	if (want > n) {
		fprintf(stderr, "tidepmd: --nb-cores %u: EAL has only %u worker lcore(s); give it "
			"more (-l, or --lcores to put several on one CPU)\n", want, n);
		return -EINVAL;
	}
	t->nb_fwd_lcores = n;
	return 0;
}

static void
tpmd_banner(struct tpmd *t)
{
	const struct tpmd_config *c = &t->cfg;
	struct tide_pool_stats st;

	/* The sizes the pool has: the library rounds base and block up to whole hugepages. */
	if (tide_pool_stats_get(t->pool, &st) != 0)
		st = (struct tide_pool_stats){ .base_bytes = c->pool_base_mb << 20,
			.block_bytes = c->pool_block_mb << 20 };
	printf("tidepmd: mode %s on %u forwarding lcore(s), %u ports, %u stream(s); pool %s%s "
		"(base %.1f MB, blocks %.1f MB, wall %zu MB)\n", t->engine->name,
		t->nb_fwd_lcores, t->nb_ports, t->nb_streams, t->pool->name,
		t->pools->nb_pools > 1 ? " and one per other socket" : "",
		st.base_bytes / 1048576.0, st.block_bytes / 1048576.0, c->pool_wall_mb);
	if (st.base_bytes != c->pool_base_mb << 20 || st.block_bytes != c->pool_block_mb << 20)
		printf("tidepmd: --pool-base %zu and --pool-block %zu MB rounded up to whole "
			"hugepages\n", c->pool_base_mb, c->pool_block_mb);
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++)
		if (t->lcores[w].nb_streams == 0 && !t->engine->all_lcores)
			printf("tidepmd: lcore %u has no stream and stays idle (more queues: --rxq, "
				"--txq)\n", t->lcores[w].lcore_id);
	if (t->engine == &tpmd_engine_bursty) {
		printf("tidepmd: every stream receives in bursts (");
		for (unsigned int i = 0; i < c->trace.nb; i++)
			printf("%s%.2f Mpps for %.0f ms", i ? ", then " : "", c->trace.ph[i].mpps,
				c->trace.ph[i].ns / 1e6);
		printf(") and holds each packet %u ms:\n"
			"tidepmd: watch 'held' grow in a burst and shrink after it; Ctrl-C for the "
			"summary\n", c->hold_ms);
	}
	fflush(stdout);
}

/* A secondary process: a worker for the primary's pipeline, nothing else. */
static int
tpmd_worker_main(struct tpmd *t)
{
	if (rte_eal_process_type() == RTE_PROC_PRIMARY) {
		fprintf(stderr, "tidepmd: --mode worker runs in a secondary process "
			"(--proc-type=secondary, the primary's --file-prefix) beside a primary "
			"tidepmd --mode pipeline --mp-workers N\n");
		return -EINVAL;
	}
	if (tpmd_lcores_init(t) != 0 || tpmd_ports_find(t) != 0)
		return -EINVAL;
	return tpmd_worker_run(t);
}

/*
 * A signal during start-up: the handlers are in before EAL starts, so start-up ends at
 * the next step and cleans up as a run's end does (killed, the process would leave its
 * runtime directory and, without --huge-unlink, its hugepage files).
 */
static bool
tpmd_start_interrupted(int *ret)
{
	if (!tide_app_quit())
		return false;
	printf("tidepmd: interrupted while starting: nothing forwarded\n");
	*ret = 0;
	return true;
}

/* Test builds: start-up waits here (TIDEPMD_TEST_FAULT=start-hold) until a signal, at most
 * 10 s, so that a test can signal it mid-start.
 */
static void
tpmd_test_start_hold(void)
{
	uint64_t end = tide_app_now_ns() + 10ull * 1000000000ull;

	if (!tpmd_test_fault("start-hold"))
		return;
	printf("tidepmd: start-up held (test)\n");
	fflush(stdout);
	while (!tide_app_quit() && tide_app_now_ns() < end)
		usleep(1000);
}

static int
tpmd_run(struct tpmd *t)
{
	int ret;

	if (t->cfg.interactive)
		setvbuf(stdout, NULL, _IOLBF, 0);
	/* The prompt starts forwarding only with --auto-start (and never sends --tx-first's
	 * burst, refused with -i: the prompt has start tx_first); a failed start says so the
	 * same way either way.
	 */
	if (!t->cfg.interactive || t->cfg.auto_start) {
		tpmd_fwd_stats_mark(t);
		ret = tpmd_fwd_start(t, t->cfg.tx_first ? 1 : 0);
		if (ret != 0) {
			fprintf(stderr, "tidepmd: cannot start forwarding: %s\n",
				rte_strerror(-ret));
			return ret;
		}
	}
	if (!t->cfg.interactive) {
		tpmd_banner(t);
		return tpmd_stats_loop(t);
	}
	ret = tpmd_prompt(t);
	if (t->running) {
		/* (After the signal that may have ended the prompt: another cuts the waits.) */
		tpmd_fwd_stop(t, tide_app_signal_count());
		tpmd_fwd_stats_show(t);
	}
	/* Any run of the session whose lcore failed, stopped at quit or before. */
	return ret != 0 ? ret : t->run_failed ? -EIO : 0;
}

int
main(int argc, char **argv)
{
	char defaults[128];
	char **args;
	int nargs, ret;
	bool kept_gone;

	/* Check the command line before EAL starts: a bad one does not wait for it. */
	tide_app_args(argc, argv, "tidepmd", &nargs, &args);
	ret = tpmd_parse(nargs, args, &tpmd.cfg);
	if (ret != 0)
		return ret < 0 ? 1 : 0;
	tpmd.engine = tpmd_engine_find(tpmd.cfg.mode);
	tpmd.burst = tpmd.cfg.burst;
	/* Worker processes map the primary's hugepage files: keep them then. */
	snprintf(defaults, sizeof(defaults), "%s --no-pci%s --vdev net_null0 --vdev net_null1",
		tide_app_lcores(2, 2, true), tpmd.cfg.mp_workers != 0 ? "" : " --huge-unlink");
	/* The handlers before EAL: a signal while EAL starts ends start-up at its first step
	 * (tpmd_start_interrupted()) instead of killing the process mid-way, which would
	 * leave its runtime directory and, without --huge-unlink, its hugepage files.
	 */
	tide_app_signals();
	if (tpmd_test_fault("eal-signal"))
		raise(SIGTERM);
	if (tide_app_eal_init(defaults) < 0)
		return 1;
	ret = 1;
	if (tpmd.engine == NULL) { /* --mode worker */
		if (tpmd_worker_main(&tpmd) == 0)
			ret = 0;
		goto out_eal;
	}
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		fprintf(stderr, "tidepmd: a secondary tidepmd runs --mode worker (stage 2 of a "
			"primary's --mode pipeline --mp-workers N)\n");
		goto out_eal;
	}
	if (tpmd_lcores_init(&tpmd) != 0 || tpmd_ports_find(&tpmd) != 0 ||
			tpmd_start_interrupted(&ret))
		goto out_eal;
	tpmd.pools = tpmd_pools_create(&tpmd.cfg);
	if (tpmd.pools == NULL)
		goto out_eal;
	tpmd.pool = tide_pool_for_lcore(tpmd.pools, rte_get_main_lcore());
	tpmd_test_start_hold();
	if (tpmd_start_interrupted(&ret))
		goto out_ports;
	if (tpmd.cfg.donors && (tpmd_donors_start(&tpmd) != 0 || tpmd_start_interrupted(&ret)))
		goto out_ports;
	if (tpmd_ports_init(&tpmd) != 0 || tpmd_start_interrupted(&ret))
		goto out_ports;
	/* Capture tools (dpdk-pdump, dpdk-dumpcap) ask this process for its packets. */
	if (rte_pdump_init() != 0)
		fprintf(stderr, "tidepmd: packet capture unavailable: %s\n",
			rte_strerror(rte_errno));
	if (tpmd_run(&tpmd) == 0)
		ret = 0;
	rte_pdump_uninit();
out_ports:
	/* A send agent kept past its run (sends in flight): freed before the ports and pools
	 * its sends use go, else once the ports' close has freed what their PMDs held.
	 */
	kept_gone = tpmd_zctx_kept_free(&tpmd, false);
	tpmd_ports_close(&tpmd);
	if (!kept_gone && !tpmd_zctx_kept_free(&tpmd, true)) {
		fprintf(stderr, "tidepmd: zctx: the send agent still has sends in flight with its "
			"ports closed: its pools and DPDK's memory are left as they are at exit\n");
		tpmd_donors_stop();
		return EXIT_FAILURE;
	}
	tide_pool_per_socket_free(tpmd.pools);
	tpmd_donors_stop();
out_eal:
	tide_app_eal_cleanup();
	return ret;
}
