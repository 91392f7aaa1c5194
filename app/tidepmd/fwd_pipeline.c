/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pipeline mode: the main lcore receives on the even ports, makes every packet a message
 * in place, classifies it by DSCP (test headers are stamped first: null ports bring
 * none) and sends it to a priority exchange, as long as the backlog there is short; the
 * worker lcores receive from it, the
 * highest priority first, do their work, unmake the messages and transmit them on the
 * odd ports. At the end the stages must hold nothing: the leak report says so.
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
	uint32_t stamp;
} pipe;

static int
pipeline_setup(struct tpmd *t)
{
	/* Only the main lcore sends; with one worker, only it receives. */
	struct tide_xchg_params p = {
		.name = "tidepmd_work", .type = TIDE_XCHG_PRIO, .size = 8192,
		.nb_prio = TIDE_APP_PRIO_LEVELS, .socket_id = SOCKET_ID_ANY,
		.flags = TIDE_XCHG_F_SP | (t->nb_workers == 1 ? TIDE_XCHG_F_SC : 0),
	};

	if (tide_msg_init(NULL) != 0)
		return -1;
	pipe.rx_stage = tide_stage_register("tidepmd_rx");
	pipe.work_stage = tide_stage_register("tidepmd_worker");
	pipe.x = tide_xchg_create(&p);
	if (pipe.rx_stage < 0 || pipe.work_stage < 0 || pipe.x == NULL) {
		fprintf(stderr, "tidepmd: cannot set up the pipeline: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/* Stage 1, on the main lcore: receive, make, classify, send. */
static void
pipeline_main_poll(struct tpmd *t)
{
	struct tide_app_fwd_counts *c = &t->main_counters.fwd;
	struct rte_mbuf *m[PIPE_BURST];

	if (tide_xchg_count(pipe.x) >= PIPE_BACKLOG)
		return;
	for (unsigned int i = 0; i < t->nb_ports; i += 2) {
		uint16_t n = rte_eth_rx_burst(t->ports[i], 0, m, PIPE_BURST);
		unsigned int sent;

		if (n == 0)
			continue;
		tide_msg_make_burst(m, n, (uint16_t)pipe.rx_stage, 0);
		for (uint16_t k = 0; k < n; k++) {
			/* DSCP 0, 16, 32, 48 in turn: one packet in four at each level. */
			tide_app_stamp(m[k], (uint8_t)((pipe.stamp++ & 3) << 4));
			tide_msg_set_prio(m[k], tide_app_classify(m[k]));
		}
		sent = tide_xchg_send_burst(pipe.x, m, n);
		tide_msg_release_burst(&m[sent], n - sent);
		c->rx += n;
		c->dropped += n - sent;
	}
}

/* Stage 2, on every worker: receive, work, unmake, transmit. */
static int
pipeline_worker(struct tpmd *t, unsigned int w)
{
	struct tide_app_fwd_counts *c = &t->counters[w].fwd;
	struct rte_mbuf *m[PIPE_BURST];

	while (!t->stop) {
		unsigned int n = tide_xchg_recv_burst(pipe.x, m, PIPE_BURST,
			(uint16_t)pipe.work_stage);
		uint16_t sent;

		if (n == 0)
			continue;
		for (unsigned int k = 0; k < n; k++)
			tide_app_work(m[k]);
		tide_msg_unmake_burst(m, n);
		sent = rte_eth_tx_burst(t->ports[1], (uint16_t)w, m, (uint16_t)n);
		rte_pktmbuf_free_bulk(&m[sent], n - sent);
		c->tx += sent;
		c->dropped += n - sent;
	}
	return 0;
}

static int
pipeline_stats(struct tpmd *t, char *buf, size_t len)
{
	return snprintf(buf, len, " | xchg waiting %u dropped %" PRIu64, tide_xchg_count(pipe.x),
		t->main_counters.fwd.dropped);
}

static void
pipeline_teardown(struct tpmd *t __rte_unused)
{
	tide_xchg_free(pipe.x);
	if (tide_msg_leak_report(stdout) == 0)
		printf("tidepmd: no message left behind\n");
	tide_stage_unregister((uint16_t)pipe.rx_stage);
	tide_stage_unregister((uint16_t)pipe.work_stage);
}

const struct tpmd_mode tpmd_mode_pipeline = {
	.name = "pipeline",
	.help = "RX -> make -> classify (DSCP) -> priority exchange -> workers -> unmake -> TX",
	.setup = pipeline_setup,
	.worker = pipeline_worker,
	.main_poll = pipeline_main_poll,
	.stats = pipeline_stats,
	.teardown = pipeline_teardown,
};
