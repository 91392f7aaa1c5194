/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Forwarding: the table of engines, the streams of a run and the lcores that own them,
 * start and stop.
 *
 * Streams are laid out per engine (tidepmd.h): in the forwarding layout, RX queue q of
 * port i goes to TX queue q (mod --txq) of port i ^ 1, and the streams that share a TX
 * queue are given to the same lcore, so every queue has one owner. Streams go round robin
 * over the forwarding lcores; an lcore without a stream stays idle unless its engine runs
 * on every lcore.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "tidepmd.h"

/* A new engine: its fwd_<name>.c and one line here. */
static const struct tpmd_engine *const tpmd_engines[] = {
	&tpmd_engine_io,
	&tpmd_engine_macswap,
	&tpmd_engine_txonly,
	&tpmd_engine_rxonly,
	&tpmd_engine_bursty,
	&tpmd_engine_pipeline,
	&tpmd_engine_zctx,
};

const struct tpmd_engine *
tpmd_engine_find(const char *name)
{
	for (unsigned int i = 0; i < RTE_DIM(tpmd_engines); i++)
		if (strcmp(tpmd_engines[i]->name, name) == 0)
			return tpmd_engines[i];
	return NULL;
}

void
tpmd_engines_list(FILE *f, const char *indent)
{
	for (unsigned int i = 0; i < RTE_DIM(tpmd_engines); i++)
		fprintf(f, "%s%-9s %s\n", indent, tpmd_engines[i]->name, tpmd_engines[i]->help);
}

void
tpmd_send(struct tpmd_lcore *lc, uint16_t port, uint16_t queue, struct rte_mbuf **m,
	uint16_t n)
{
	uint16_t sent = rte_eth_tx_burst(port, queue, m, n);

	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(&m[sent], n - sent);
		tpmd_count(&lc->cnt.drops, n - sent);
	}
	tpmd_count(&lc->cnt.tx, sent);
}

/* This process's: runs stopped plus the one going on. */
static void
fwd_counters_local(const struct tpmd *t, struct tpmd_counters *c)
{
	*c = t->done;
	if (!t->running)
		return;
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++) {
		const struct tpmd_counters *l = &t->lcores[w].cnt;

		c->rx += __atomic_load_n(&l->rx, __ATOMIC_RELAXED);
		c->tx += __atomic_load_n(&l->tx, __ATOMIC_RELAXED);
		c->drops += __atomic_load_n(&l->drops, __ATOMIC_RELAXED);
		c->nombuf += __atomic_load_n(&l->nombuf, __ATOMIC_RELAXED);
		c->freed_stop += __atomic_load_n(&l->freed_stop, __ATOMIC_RELAXED);
	}
}

void
tpmd_counters_add(struct tpmd_counters *to, const struct tpmd_counters *from)
{
	to->rx += from->rx;
	to->tx += from->tx;
	to->drops += from->drops;
	to->nombuf += from->nombuf;
	to->freed_stop += from->freed_stop;
}

void
tpmd_counters_total(const struct tpmd *t, struct tpmd_counters *c)
{
	fwd_counters_local(t, c);
	tpmd_mp_counters_add(c);
}

static void
fwd_stream_add(struct tpmd *t, unsigned int key, const struct tpmd_stream *s)
{
	unsigned int w = t->engine->layout == TPMD_LAYOUT_RX_ONE ? 0 : key % t->nb_fwd_lcores;
	struct tpmd_lcore *lc = &t->lcores[w];

	t->streams[t->nb_streams] = *s;
	lc->streams[lc->nb_streams++] = &t->streams[t->nb_streams++];
}

/* The streams of the current engine, given to the lcores. */
static void
fwd_layout(struct tpmd *t)
{
	const struct tpmd_config *c = &t->cfg;
	enum tpmd_layout l = t->engine->layout;
	unsigned int nq = l == TPMD_LAYOUT_TX ? c->txq : c->rxq;

	t->nb_streams = 0;
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++)
		t->lcores[w].nb_streams = 0;
	for (unsigned int pi = 0; pi < t->nb_ports; pi++)
		for (unsigned int q = 0; q < nq; q++) {
			struct tpmd_stream s = { 0 };
			unsigned int key = t->nb_streams;

			if (l != TPMD_LAYOUT_TX) {
				s.has_rx = true;
				s.rx_port = t->ports[pi];
				s.rx_pi = (uint8_t)pi;
				s.rx_queue = (uint16_t)q;
				s.rx_null = t->port_null[pi];
			}
			if (l == TPMD_LAYOUT_FWD) {
				s.has_tx = true;
				s.tx_port = t->ports[pi ^ 1];
				s.tx_pi = (uint8_t)(pi ^ 1);
				s.tx_queue = (uint16_t)(q % c->txq);
				key = (pi ^ 1) * c->txq + q % c->txq;
			} else if (l == TPMD_LAYOUT_TX) {
				s.has_tx = true;
				s.tx_port = t->ports[pi];
				s.tx_pi = (uint8_t)pi;
				s.tx_queue = (uint16_t)q;
			}
			fwd_stream_add(t, key, &s);
		}
}

static bool
fwd_lcore_active(const struct tpmd *t, const struct tpmd_lcore *lc)
{
	return lc->nb_streams > 0 || t->engine->all_lcores;
}

static int
fwd_lcore_loop(struct tpmd_lcore *lc)
{
	struct tpmd *t = lc->t;
	const struct tpmd_engine *e = t->engine;

	if (e->loop != NULL)
		return e->loop(lc);
	while (!t->stop) {
		unsigned int burst = __atomic_load_n(&t->burst, __ATOMIC_RELAXED);

		for (unsigned int i = 0; i < lc->nb_streams; i++)
			e->burst(lc, lc->streams[i], burst);
	}
	return 0;
}

static int
fwd_lcore_main(void *arg)
{
	struct tpmd_lcore *lc = arg;
	int ret = fwd_lcore_loop(lc);

	/* Its streams forward nothing now: the run must not go on as if they did. */
	if (ret != 0)
		lc->t->lcore_failed = true;
	return ret;
}

/* testpmd's "start tx_first": txonly packets on every TX queue, before forwarding. */
static void
fwd_tx_first(struct tpmd *t, unsigned int bursts)
{
	struct rte_mbuf *m[TPMD_MAX_BURST];
	uint64_t sent = 0;

	for (unsigned int b = 0; b < bursts; b++)
		for (unsigned int pi = 0; pi < t->nb_ports; pi++)
			for (unsigned int q = 0; q < t->cfg.txq; q++) {
				uint16_t n;

				if (rte_pktmbuf_alloc_bulk(tide_pool_for_port(t->pools,
						t->ports[pi]), m, t->burst) != 0)
					continue;
				tpmd_txonly_fill(t, pi, m, t->burst);
				n = rte_eth_tx_burst(t->ports[pi], (uint16_t)q, m,
					(uint16_t)t->burst);
				rte_pktmbuf_free_bulk(&m[n], t->burst - n);
				sent += n;
			}
	t->done.tx += sent;
	printf("tidepmd: tx_first: %" PRIu64 " packets sent\n", sent);
}

int
tpmd_fwd_start(struct tpmd *t, unsigned int tx_first_bursts)
{
	int ret;

	if (t->running)
		return -EALREADY;
	/* They hold TX queues (and read the exchange a pipeline run kept): no mode may run
	 * beside them.
	 */
	if (tpmd_mp_remain()) {
		fprintf(stderr, "tidepmd: %u worker lcore(s) of the last pipeline run still there "
			"(or their processes): no start until they are gone (end them: their TX "
			"queues are given back)\n", tpmd_mp_workers());
		return -EBUSY;
	}
	fwd_layout(t);
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++)
		memset(&t->lcores[w].cnt, 0, sizeof(t->lcores[w].cnt));
	t->stop = false;
	t->lcore_failed = false;
	t->engine_ctx = NULL;
	if (t->engine->begin != NULL) {
		ret = t->engine->begin(t);
		if (ret != 0) {
			if (t->engine->end != NULL)
				t->engine->end(t);
			return ret;
		}
	}
	if (tx_first_bursts > 0)
		fwd_tx_first(t, tx_first_bursts);
	/* The run starts with its lcores: the set-up above (zctx fills a buffer of up to 1 GB)
	 * is no forwarding time for the rates, the duration and "done after".
	 */
	t->start_ns = tide_app_now_ns();
	t->running = true;
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++) {
		struct tpmd_lcore *lc = &t->lcores[w];

		if (!fwd_lcore_active(t, lc))
			continue;
		ret = rte_eal_remote_launch(fwd_lcore_main, lc, lc->lcore_id);
		if (ret != 0) {
			fprintf(stderr, "tidepmd: cannot launch lcore %u: %s\n", lc->lcore_id,
				rte_strerror(-ret));
			tpmd_fwd_stop(t, tide_app_signal_count());
			return ret;
		}
		lc->launched = true;
	}
	return 0;
}

int
tpmd_fwd_stop(struct tpmd *t, unsigned int sigs)
{
	struct tpmd_counters c;
	int ret = 0;

	if (!t->running)
		return 0;
	t->stop_sigs = sigs; /* for the engine's end */
	t->stop = true;
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++) {
		struct tpmd_lcore *lc = &t->lcores[w];

		/* EAL keeps an lcore's last result: only this run's launches count. */
		if (!lc->launched)
			continue;
		lc->launched = false;
		if (rte_eal_wait_lcore(lc->lcore_id) != 0) {
			fprintf(stderr, "tidepmd: forwarding lcore %u failed: its streams "
				"forwarded nothing after that\n", lc->lcore_id);
			ret = -EIO;
		}
	}
	t->end_ns = tide_app_now_ns(); /* an engine's end may move it later, not its own wait */
	if (t->engine->end != NULL)
		t->engine->end(t);
	fwd_counters_local(t, &c);
	t->done = c;
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++)
		tpmd_counters_add(&t->lcore_done[w], &t->lcores[w].cnt);
	t->running = false;
	/* Remembered past this run: the prompt may stop it and start another before quit. */
	if (ret != 0)
		t->run_failed = true;
	return ret;
}

void
tpmd_fwd_config_show(struct tpmd *t)
{
	if (!t->running)
		fwd_layout(t); /* what the next start will run */
	printf("%s packet forwarding - ports=%u - cores=%u - streams=%u - burst=%u\n",
		t->engine->name, t->nb_ports, t->nb_fwd_lcores, t->nb_streams, t->burst);
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++) {
		const struct tpmd_lcore *lc = &t->lcores[w];

		printf("Logical Core %u (socket %u) forwards packets on %u streams%s\n",
			lc->lcore_id, rte_lcore_to_socket_id(lc->lcore_id), lc->nb_streams,
			fwd_lcore_active(t, lc) ? "" : " (idle)");
		for (unsigned int i = 0; i < lc->nb_streams; i++) {
			const struct tpmd_stream *s = lc->streams[i];

			if (s->has_rx)
				printf("  RX P=%u/Q=%u", s->rx_port, s->rx_queue);
			else
				printf(" ");
			if (s->has_tx)
				printf(" -> TX P=%u/Q=%u", s->tx_port, s->tx_queue);
			printf("\n");
		}
	}
}
