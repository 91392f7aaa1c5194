/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * bursty mode (the default): every stream receives at the trace's rate (--trace, per
 * stream), holds each packet --hold-ms and sends it on. During a burst the pool grows to
 * what is held (rate x hold); between bursts the lcores hand their caches back and the
 * reaper gives the blocks back: the stats line shows the pool breathing.
 *
 * On net_null ports a paced receive always finds packets, so an empty one means no mbuf
 * was there for them (counted as rx_nombuf); other ports bring what they bring (use
 * --tx-first on loopback ports). A receive asks for --burst packets (set burst: from the
 * next start, as the delay lines are made of slots of one burst); what the delay lines
 * still hold at stop is freed and counted (freed_stop).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tide_app.h"
#include "tidepmd.h"

struct bursty_lcore {
	unsigned int nb;
	struct tide_app_burst_io io[TPMD_MAX_STREAMS];
	struct tide_app_burst_stats st[TPMD_MAX_STREAMS];
};

static void
bursty_free(struct bursty_lcore *b)
{
	for (unsigned int i = 0; i < b->nb; i++)
		tide_app_burst_fini(&b->io[i]);
	free(b);
}

static struct bursty_lcore *
bursty_alloc(struct tpmd_lcore *lc)
{
	struct tpmd *t = lc->t;
	unsigned int burst = __atomic_load_n(&t->burst, __ATOMIC_RELAXED);
	struct bursty_lcore *b;

	/* Tests fail this lcore as a delay line too large for memory would. */
	if (tpmd_test_fault("delay-line"))
		return NULL;
	/* Its counters are cache-aligned: so must it be. */
	if (posix_memalign((void **)&b, RTE_CACHE_LINE_SIZE, sizeof(*b)) != 0)
		return NULL;
	memset(b, 0, sizeof(*b));
	for (unsigned int i = 0; i < lc->nb_streams; i++) {
		const struct tpmd_stream *s = lc->streams[i];

		b->io[i] = (struct tide_app_burst_io){
			.rx_port = s->rx_port, .queue = s->rx_queue,
			.tx_port = s->tx_port, .tx_queue = s->tx_queue, .burst = burst,
			.pool = tide_pool_for_port(t->pools, s->rx_port), .st = &b->st[i],
			.empty_is_nombuf = s->rx_null, .rx_ring = t->cfg.rxd,
		};
		if (tide_app_burst_init(&b->io[i], &t->cfg.trace,
				(uint64_t)t->cfg.hold_ms * 1000000) != 0) {
			bursty_free(b);
			return NULL;
		}
		b->nb++;
	}
	return b;
}

/* This lcore's counters from its streams'. */
static void
bursty_publish(struct tpmd_lcore *lc, const struct bursty_lcore *b)
{
	struct tpmd_counters c = { 0 };

	for (unsigned int i = 0; i < b->nb; i++) {
		c.rx += b->st[i].rx;
		c.tx += b->st[i].tx;
		c.drops += b->st[i].drops;
		c.nombuf += b->st[i].nombuf;
	}
	__atomic_store_n(&lc->cnt.rx, c.rx, __ATOMIC_RELAXED);
	__atomic_store_n(&lc->cnt.tx, c.tx, __ATOMIC_RELAXED);
	__atomic_store_n(&lc->cnt.drops, c.drops, __ATOMIC_RELAXED);
	__atomic_store_n(&lc->cnt.nombuf, c.nombuf, __ATOMIC_RELAXED);
}

static int
bursty_loop(struct tpmd_lcore *lc)
{
	struct tpmd *t = lc->t;
	struct bursty_lcore *b = bursty_alloc(lc);

	if (b == NULL) {
		fprintf(stderr, "tidepmd: lcore %u: no memory for the delay lines\n",
			lc->lcore_id);
		return -1;
	}
	__atomic_store_n(&lc->ctx, b, __ATOMIC_RELEASE);
	while (!t->stop) {
		uint64_t now = tide_app_now_ns();

		for (unsigned int i = 0; i < b->nb; i++)
			tide_app_burst_step(&b->io[i], t->start_ns, now);
		bursty_publish(lc, b);
	}
	__atomic_store_n(&lc->ctx, NULL, __ATOMIC_RELEASE);
	/* What the delay lines still hold goes back to the pool now. */
	for (unsigned int i = 0; i < b->nb; i++)
		tpmd_count(&lc->cnt.freed_stop, b->st[i].in_flight);
	bursty_free(b);
	return 0;
}

static int
bursty_stats(struct tpmd *t, char *buf, size_t len)
{
	uint64_t held = 0;

	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++) {
		const struct bursty_lcore *b = __atomic_load_n(&t->lcores[w].ctx,
			__ATOMIC_ACQUIRE);

		for (unsigned int i = 0; b != NULL && i < b->nb; i++)
			held += __atomic_load_n(&b->st[i].in_flight, __ATOMIC_RELAXED);
	}
	return snprintf(buf, len, " | held pkts %" PRIu64, held);
}

const struct tpmd_engine tpmd_engine_bursty = {
	.name = "bursty",
	.help = "bursts (--trace) held --hold-ms: the pool grows and shrinks (default)",
	.layout = TPMD_LAYOUT_FWD,
	.loop = bursty_loop,
	.stats = bursty_stats,
};
