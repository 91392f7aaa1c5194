/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pipeline mode: the first forwarding lcore receives on every port, makes every packet a
 * message in place, classifies it by DSCP (test headers are stamped first: null ports
 * bring none) and sends it to a priority exchange, as long as the backlog there is short;
 * the other forwarding lcores receive from it, the highest priority first, do their work,
 * unmake the messages and transmit each on the peer of the port it came from, each lcore
 * on a TX queue of its own. With one forwarding lcore, that lcore runs both stages in
 * turn. At the end the stages must hold nothing: the leak report says so.
 */

#include <stdio.h>

#include <rte_ethdev.h>

#include "tide_app_pipe.h"
#include "tide_msg.h"
#include "tidepmd.h"

#define PIPE_BURST 32
/* Receive only while the workers keep up: past this backlog the packets stay in the
 * port (a NIC would hold them in its ring, or drop them there).
 */
#define PIPE_BACKLOG 2048

static struct {
	struct tide_xchg *x;
	int rx_stage;
	int work_stage;
	unsigned int nb_workers; /* lcores running stage 2 (the first one too, if alone) */
	uint32_t stamp;          /* stage 1 only */
} pipe = { .rx_stage = -1, .work_stage = -1 };

static int
pipeline_begin(struct tpmd *t)
{
	struct tide_xchg_params p = {
		.name = "tidepmd_work", .type = TIDE_XCHG_PRIO, .size = 8192,
		.nb_prio = TIDE_APP_PRIO_LEVELS, .socket_id = SOCKET_ID_ANY,
	};

	pipe.nb_workers = t->nb_fwd_lcores == 1 ? 1 : RTE_MIN(t->nb_fwd_lcores - 1, t->cfg.txq);
	if (t->nb_fwd_lcores > 1 && t->nb_fwd_lcores - 1 > t->cfg.txq)
		printf("tidepmd: pipeline: %u worker lcore(s) but --txq %u: %u stay idle\n",
			t->nb_fwd_lcores - 1, t->cfg.txq, t->nb_fwd_lcores - 1 - t->cfg.txq);
	/* Only the first lcore sends; with one worker, only it receives. */
	p.flags = TIDE_XCHG_F_SP | (pipe.nb_workers == 1 ? TIDE_XCHG_F_SC : 0);
	if (tide_msg_init(NULL) != 0)
		goto fail;
	pipe.rx_stage = tide_stage_register("tidepmd_rx");
	pipe.work_stage = tide_stage_register("tidepmd_worker");
	pipe.x = tide_xchg_create(&p);
	if (pipe.rx_stage < 0 || pipe.work_stage < 0 || pipe.x == NULL)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "tidepmd: cannot set up the pipeline: %s\n", rte_strerror(rte_errno));
	return rte_errno != 0 ? -rte_errno : -EINVAL;
}

/* Stage 1: receive, make, classify, send. */
static void
pipeline_rx(struct tpmd_lcore *lc)
{
	struct rte_mbuf *m[PIPE_BURST];

	if (tide_xchg_count(pipe.x) >= PIPE_BACKLOG)
		return;
	for (unsigned int i = 0; i < lc->nb_streams; i++) {
		const struct tpmd_stream *s = lc->streams[i];
		uint16_t n = rte_eth_rx_burst(s->rx_port, s->rx_queue, m, PIPE_BURST);
		unsigned int sent;

		if (n == 0)
			continue;
		tide_msg_make_burst(m, n, (uint16_t)pipe.rx_stage, 0);
		for (uint16_t k = 0; k < n; k++) {
			m[k]->port = s->rx_port; /* not every PMD sets it */
			/* DSCP 0, 16, 32, 48 in turn: one packet in four at each level. */
			tide_app_stamp(m[k], (uint8_t)((pipe.stamp++ & 3) << 4));
			tide_msg_set_prio(m[k], tide_app_classify(m[k]));
		}
		sent = tide_xchg_send_burst(pipe.x, m, n);
		tide_msg_release_burst(&m[sent], n - sent);
		tpmd_count(&lc->cnt.rx, n);
		tpmd_count(&lc->cnt.drops, n - sent);
	}
}

/* Stage 2: receive, work, unmake, transmit on the peer of each packet's port. */
static void
pipeline_work(struct tpmd_lcore *lc, uint16_t queue)
{
	struct tpmd *t = lc->t;
	struct rte_mbuf *m[PIPE_BURST], *out[TPMD_MAX_PORTS][PIPE_BURST];
	unsigned int nb_out[TPMD_MAX_PORTS] = { 0 };
	unsigned int n = tide_xchg_recv_burst(pipe.x, m, PIPE_BURST, (uint16_t)pipe.work_stage);

	if (n == 0)
		return;
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
}

static int
pipeline_loop(struct tpmd_lcore *lc)
{
	struct tpmd *t = lc->t;
	bool rx = lc->idx == 0, work = t->nb_fwd_lcores == 1 || lc->idx - 1 < pipe.nb_workers;
	uint16_t queue = (uint16_t)(lc->idx == 0 ? 0 : lc->idx - 1);

	if (!rx && !work)
		return 0;
	while (!t->stop) {
		if (rx)
			pipeline_rx(lc);
		if (work)
			pipeline_work(lc, queue);
	}
	return 0;
}

static int
pipeline_stats(struct tpmd *t __rte_unused, char *buf, size_t len)
{
	return snprintf(buf, len, " | xchg waiting %u", tide_xchg_count(pipe.x));
}

static void
pipeline_end(struct tpmd *t __rte_unused)
{
	tide_xchg_free(pipe.x);
	pipe.x = NULL;
	if (tide_msg_leak_report(stdout) == 0)
		printf("tidepmd: no message left behind\n");
	if (pipe.rx_stage >= 0)
		tide_stage_unregister((uint16_t)pipe.rx_stage);
	if (pipe.work_stage >= 0)
		tide_stage_unregister((uint16_t)pipe.work_stage);
	pipe.rx_stage = pipe.work_stage = -1;
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
