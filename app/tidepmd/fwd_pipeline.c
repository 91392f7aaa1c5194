/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pipeline mode: the first forwarding lcore receives on every port, makes every packet a
 * message in place, classifies it by DSCP (test headers are stamped first: null ports
 * bring none) and sends it to a priority exchange, as long as the backlog there is short;
 * the other forwarding lcores receive from it, the highest priority first, do their work,
 * unmake the messages and transmit each on the peer of the port it came from, each lcore
 * on a TX queue of its own. With one forwarding lcore, that lcore runs both stages in
 * turn. Both stages take --burst packets at a time (set burst: at once). At the end the
 * messages still waiting in the exchange are freed and counted (freed_stop), and the
 * stages must hold nothing: the leak report says so.
 *
 * With --mp-workers N, stage 2 runs in other processes instead: secondary tidepmds in
 * --mode worker (worker.c) attach to the exchange, each of their lcores on a TX queue of
 * its own (mp.c hands them out); the primary's first lcore runs stage 1 only and its other
 * lcores stay idle.
 */

#define _GNU_SOURCE /* rte_cpuset_t */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_memzone.h>

#include "tide_app_pipe.h"
#include "tide_msg.h"
#include "tidepmd.h"

/* Receive only while the workers keep up: past this backlog the packets stay in the
 * port (a NIC would hold them in its ring, or drop them there).
 */
#define PIPE_BACKLOG 2048

static struct {
	struct tide_xchg *x;
	int rx_stage;
	int work_stage;
	unsigned int nb_workers; /* local lcores running stage 2 (the first one too, if alone) */
	unsigned int nb_mp;      /* --mp-workers: stage 2 in worker processes */
	uint32_t stamp;          /* stage 1 only */
	bool kept;               /* the exchange and stages of a run whose worker processes
				  * did not all leave: freed at a start once they are gone */
} pl = { .rx_stage = -1, .work_stage = -1 };

/* The first CPU lcore @p lc may run on (rte_lcore_to_cpu_id() is its core's id). */
static int
pipeline_lcore_cpu(unsigned int lc)
{
	rte_cpuset_t set = rte_lcore_cpuset(lc);

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return 0;
}

/*
 * How to start the worker processes, as one command: this process's file prefix (its own
 * or the one tidepmd chose), and lcores for a main lcore and nb_mp workers. Their ids
 * follow this process's: an lcore id has its own cache in every mempool, which two
 * processes must not share. Their CPUs are those this process leaves idle with
 * --mp-workers: its main lcore's (the stats line sleeps) and its forwarding lcores' but
 * the first's (stage 1).
 */
static void
pipeline_mp_hint(const struct tpmd *t)
{
	const char *dir = rte_eal_get_runtime_dir();
	const char *prefix = strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir;
	int cpus[TPMD_MAX_LCORES + 1];
	unsigned int nb_cpus = 0, next = 0, l;
	char lcores[512];
	int len;

	RTE_LCORE_FOREACH(l)
		next = RTE_MAX(next, l + 1);
	cpus[nb_cpus++] = pipeline_lcore_cpu(rte_get_main_lcore());
	for (unsigned int w = 1; w < t->nb_fwd_lcores; w++)
		cpus[nb_cpus++] = pipeline_lcore_cpu(t->lcores[w].lcore_id);
	len = snprintf(lcores, sizeof(lcores), "%u@%d", next, cpus[0]);
	for (unsigned int k = 0; k < pl.nb_mp && len > 0 && (size_t)len < sizeof(lcores); k++)
		len += snprintf(lcores + len, sizeof(lcores) - len, ",%u@%d", next + 1 + k,
			cpus[nb_cpus > 1 ? 1 + k % (nb_cpus - 1) : 0]);
	printf("tidepmd: pipeline: stage 2 runs in up to %u worker process lcore(s), each on "
		"its TX queue; start them with\n  tidepmd --proc-type=secondary --file-prefix %s%s "
		"--lcores %s -- --mode worker\ntidepmd: (a main lcore and %u workers; lcore ids "
		"from %u up: each lcore id has its own mempool caches, so no two processes may "
		"share one; several worker processes: give each ids of its own)\n", pl.nb_mp,
		prefix, rte_eal_has_pci() ? "" : " --no-pci", lcores, pl.nb_mp, next);
}

/* The exchange (what waits there is freed and counted) and the stages. */
static void
pipeline_free(struct tpmd *t)
{
	unsigned int waiting = 0;

	/* Every stage has stopped: what waits in the exchange now, its free releases. */
	if (pl.x != NULL)
		waiting = tide_xchg_count(pl.x);
	t->done.freed_stop += waiting;
	tide_xchg_free(pl.x);
	pl.x = NULL;
	if (tide_msg_leak_report(stdout) == 0)
		printf("tidepmd: no message left behind (%u freed from the exchange at stop)\n",
			waiting);
	if (pl.rx_stage >= 0)
		tide_stage_unregister((uint16_t)pl.rx_stage);
	if (pl.work_stage >= 0)
		tide_stage_unregister((uint16_t)pl.work_stage);
	pl.rx_stage = pl.work_stage = -1;
}

/* At a start (its workers gone: tpmd_fwd_start()): what the last run kept, freed. */
static void
pipeline_kept_free(struct tpmd *t)
{
	pl.kept = false;
	pipeline_free(t);
}

static int
pipeline_begin(struct tpmd *t)
{
	struct tide_xchg_params p = {
		.name = "tidepmd_work", .type = TIDE_XCHG_PRIO, .size = 8192,
		.nb_prio = TIDE_APP_PRIO_LEVELS, .socket_id = SOCKET_ID_ANY,
	};
	int ret;

	if (pl.kept)
		pipeline_kept_free(t);
	pl.nb_mp = t->cfg.mp_workers;
	pl.nb_workers = t->nb_fwd_lcores == 1 ? 1 : RTE_MIN(t->nb_fwd_lcores - 1, t->cfg.txq);
	if (pl.nb_mp != 0)
		pl.nb_workers = 0;
	else if (t->nb_fwd_lcores > 1 && t->nb_fwd_lcores - 1 > t->cfg.txq)
		printf("tidepmd: pipeline: %u worker lcore(s) but --txq %u: %u stay idle\n",
			t->nb_fwd_lcores - 1, t->cfg.txq, t->nb_fwd_lcores - 1 - t->cfg.txq);
	/* Only the first lcore sends; with one worker, only it receives. */
	p.flags = TIDE_XCHG_F_SP | (pl.nb_workers == 1 ? TIDE_XCHG_F_SC : 0);
	if (tide_msg_init(NULL) != 0)
		goto fail;
	pl.rx_stage = tide_stage_register("tidepmd_rx");
	pl.work_stage = tide_stage_register("tidepmd_worker");
	pl.x = tide_xchg_create(&p);
	if (pl.rx_stage < 0 || pl.work_stage < 0 || pl.x == NULL)
		goto fail;
	if (pl.nb_mp != 0) {
		ret = tpmd_mp_open(pl.nb_mp, &t->done);
		if (ret != 0)
			return ret;
		pipeline_mp_hint(t);
	}
	return 0;
fail:
	fprintf(stderr, "tidepmd: cannot set up the pipeline: %s\n", rte_strerror(rte_errno));
	return rte_errno != 0 ? -rte_errno : -EINVAL;
}

/* Stage 1: receive, make, classify, send. */
static void
pipeline_rx(struct tpmd_lcore *lc, unsigned int burst)
{
	struct rte_mbuf *m[TPMD_MAX_BURST];

	if (tide_xchg_count(pl.x) >= PIPE_BACKLOG)
		return;
	for (unsigned int i = 0; i < lc->nb_streams; i++) {
		const struct tpmd_stream *s = lc->streams[i];
		uint16_t n = rte_eth_rx_burst(s->rx_port, s->rx_queue, m, (uint16_t)burst);
		unsigned int sent;

		if (n == 0)
			continue;
		tide_msg_make_burst(m, n, (uint16_t)pl.rx_stage, 0);
		for (uint16_t k = 0; k < n; k++) {
			m[k]->port = s->rx_port; /* not every PMD sets it */
			/* A null port's packets carry no headers: DSCP 0, 16, 32, 48 in turn, one
			 * packet in four at each level. Other ports' packets are classified as
			 * they came (and sent on as they came, MACs swapped).
			 */
			if (s->rx_null && rte_pktmbuf_data_len(m[k]) >= TIDE_APP_STAMP_LEN)
				tide_app_stamp(m[k], (uint8_t)((pl.stamp++ & 3) << 4));
			tide_msg_set_prio(m[k], tide_app_classify(m[k]));
		}
		sent = tide_xchg_send_burst(pl.x, m, n);
		tide_msg_release_burst(&m[sent], n - sent);
		tpmd_count(&lc->cnt.rx, n);
		tpmd_count(&lc->cnt.drops, n - sent);
	}
}

/* Stage 2: receive, work, unmake, transmit on the peer of each packet's port. */
unsigned int
tpmd_pipeline_work(struct tpmd_lcore *lc, uint16_t queue)
{
	struct tpmd *t = lc->t;
	unsigned int burst = __atomic_load_n(&t->burst, __ATOMIC_RELAXED);
	struct rte_mbuf *m[TPMD_MAX_BURST], *out[TPMD_MAX_PORTS][TPMD_MAX_BURST];
	unsigned int nb_out[TPMD_MAX_PORTS] = { 0 };
	unsigned int n = tide_xchg_recv_burst(pl.x, m, burst, (uint16_t)pl.work_stage);

	if (n == 0)
		return 0;
	for (unsigned int k = 0; k < n; k++)
		tide_app_work(m[k]);
	tide_msg_unmake_burst(m, n);
	for (unsigned int k = 0; k < n; k++) {
		int pi = tpmd_port_idx(t, m[k]->port);
		unsigned int to = pi < 0 ? 1 : (unsigned int)pi ^ 1;

		out[to][nb_out[to]++] = m[k];
	}
	for (unsigned int pi = 0; pi < t->nb_ports; pi++)
		if (nb_out[pi] > 0)
			tpmd_send(lc, t->ports[pi], queue, out[pi], (uint16_t)nb_out[pi]);
	return n;
}

int
tpmd_pipeline_attach(void)
{
	char name[RTE_MEMZONE_NAMESIZE];

	if (tide_msg_init(NULL) != 0)
		goto fail;
	pl.x = tide_xchg_lookup("tidepmd_work");
	if (pl.x == NULL) {
		fprintf(stderr, "tidepmd: the primary has no pipeline exchange (is it running "
			"--mode pipeline --mp-workers N, and started?)\n");
		return -ENOENT;
	}
	snprintf(name, sizeof(name), "tidepmd_worker_%d", (int)getpid());
	pl.work_stage = tide_stage_register(name);
	if (pl.work_stage < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "tidepmd: cannot attach to the pipeline: %s\n", rte_strerror(rte_errno));
	return -rte_errno;
}

void
tpmd_pipeline_detach(void)
{
	if (pl.work_stage >= 0)
		tide_stage_unregister((uint16_t)pl.work_stage);
	pl.work_stage = -1;
	pl.x = NULL;
}

static int
pipeline_loop(struct tpmd_lcore *lc)
{
	struct tpmd *t = lc->t;
	bool rx = lc->idx == 0;
	bool work = pl.nb_mp == 0 && (t->nb_fwd_lcores == 1 || lc->idx - 1 < pl.nb_workers);
	uint16_t queue = (uint16_t)(lc->idx == 0 ? 0 : lc->idx - 1);

	if (!rx && !work)
		return 0;
	while (!t->stop) {
		if (rx)
			pipeline_rx(lc, __atomic_load_n(&t->burst, __ATOMIC_RELAXED));
		if (work)
			tpmd_pipeline_work(lc, queue);
	}
	return 0;
}

static int
pipeline_stats(struct tpmd *t __rte_unused, char *buf, size_t len)
{
	if (pl.nb_mp != 0)
		return snprintf(buf, len, " | xchg waiting %u | worker lcores %u/%u",
			tide_xchg_count(pl.x), tpmd_mp_workers(), pl.nb_mp);
	return snprintf(buf, len, " | xchg waiting %u", tide_xchg_count(pl.x));
}

static void
pipeline_end(struct tpmd *t)
{
	/* A start refused (pipeline_begin()) over what the last run kept: still kept. */
	if (pl.kept)
		return;
	/* A worker still there may read the exchange: freeing it would pull it from under
	 * the worker, and the next start would wipe the slot it holds. The workers forward
	 * until their lcores leave: the run ends then, not when their processes have exited.
	 */
	if (pl.nb_mp != 0 && tpmd_mp_stop(t->pools, t->stop_sigs, &t->end_ns) != 0) {
		fprintf(stderr, "tidepmd: pipeline: the exchange is kept for the worker(s) still "
			"there; no pipeline start until they are gone\n");
		pl.kept = true;
		return;
	}
	pipeline_free(t);
}

const struct tpmd_engine tpmd_engine_pipeline = {
	.name = "pipeline",
	.help = "RX -> make -> classify (DSCP) -> priority exchange -> workers -> unmake -> TX",
	.layout = TPMD_LAYOUT_RX_ONE,
	.all_lcores = true,
	.begin = pipeline_begin,
	.loop = pipeline_loop,
	.stats = pipeline_stats,
	.end = pipeline_end,
};
