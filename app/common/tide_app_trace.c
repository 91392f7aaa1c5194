/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "tide_app.h"
#include "tide_app_opt.h"
#include "tide_app_trace.h"
#include "tide_pool.h"

/* One phase, "MPPS:MS", appended to the trace. */
static int
trace_phase(char *tok, void *arg)
{
	struct tide_app_trace *t = arg;
	struct tide_app_phase *ph = &t->ph[t->nb];
	char *colon = strchr(tok, ':'), err[160];
	double ms;

	if (t->nb == TIDE_APP_TRACE_MAX_PHASES) {
		fprintf(stderr, "%s: --trace: at most %d phases\n", tide_app_prog(),
			TIDE_APP_TRACE_MAX_PHASES);
		return -EINVAL;
	}
	if (colon == NULL) {
		fprintf(stderr, "%s: --trace: bad phase '%s': want MPPS:MS\n", tide_app_prog(),
			tok);
		return -EINVAL;
	}
	*colon = '\0';
	if (tide_app_parse_double(tok, 0, 1000, &ph->mpps, err, sizeof(err)) != 0 ||
			tide_app_parse_double(colon + 1, 0.001, 86400000, &ms, err,
				sizeof(err)) != 0) {
		fprintf(stderr, "%s: --trace: phase %s:%s: %s\n", tide_app_prog(), tok, colon + 1,
			err);
		return -EINVAL;
	}
	ph->ns = (uint64_t)(ms * 1e6);
	t->period_ns += ph->ns;
	t->peak_mpps = RTE_MAX(t->peak_mpps, ph->mpps);
	t->nb++;
	return 0;
}

int
tide_app_trace_parse(const char *s, struct tide_app_trace *t)
{
	memset(t, 0, sizeof(*t));
	return tide_app_opt_list("--trace", s, "phases MPPS:MS (decimal numbers), "
		"comma-separated", trace_phase, t);
}

/* Packets held at the peak rate. */
static double
trace_held(const struct tide_app_trace *t, uint64_t hold_ns)
{
	return t->peak_mpps * 1e6 * (hold_ns / 1e9);
}

int
tide_app_trace_hold_check(const struct tide_app_trace *t, unsigned int hold_ms)
{
	double held = trace_held(t, (uint64_t)hold_ms * 1000000);

	if (held <= TIDE_APP_HOLD_MAX_PKTS)
		return 0;
	fprintf(stderr, "%s: --trace and --hold-ms: a peak of %g Mpps held %u ms is %.0f "
		"packets in flight; accepted: at most %u (peak Mpps x hold ms <= %u)\n",
		tide_app_prog(), t->peak_mpps, hold_ms, held, TIDE_APP_HOLD_MAX_PKTS,
		TIDE_APP_HOLD_MAX_PKTS / 1000);
	return -EINVAL;
}

double
tide_app_trace_rate(const struct tide_app_trace *t, uint64_t t_ns)
{
	uint64_t at = t_ns % t->period_ns;

	for (unsigned int i = 0; i < t->nb; i++) {
		if (at < t->ph[i].ns)
			return t->ph[i].mpps;
		at -= t->ph[i].ns;
	}
	return 0;
}

int
tide_app_burst_init(struct tide_app_burst_io *b, const struct tide_app_trace *t,
	uint64_t hold_ns)
{
	double pkts = trace_held(t, hold_ns);

	b->slots = NULL;
	b->mbufs = NULL;
	if (pkts > TIDE_APP_HOLD_MAX_PKTS || b->burst < 1 || b->burst > TIDE_APP_MAX_BURST)
		return -EINVAL;
	b->trace = t;
	b->hold_ns = hold_ns;
	b->nb_slots = (uint32_t)(pkts / b->burst * 2) + 64;
	b->slots = calloc(b->nb_slots, sizeof(*b->slots));
	b->mbufs = calloc((size_t)b->nb_slots * b->burst, sizeof(*b->mbufs));
	b->head = b->tail = 0;
	b->last_ns = 0;
	b->tokens = 0;
	b->flushed = false;
	memset(b->st, 0, sizeof(*b->st));
	if (b->slots == NULL || b->mbufs == NULL) {
		free(b->slots);
		free(b->mbufs);
		b->slots = NULL;
		b->mbufs = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Slot i's mbufs. */
static inline struct rte_mbuf **
burst_slot_mbufs(const struct tide_app_burst_io *b, uint32_t i)
{
	return &b->mbufs[(size_t)i * b->burst];
}

void
tide_app_burst_fini(struct tide_app_burst_io *b)
{
	for (; b->head != b->tail; b->head = (b->head + 1) % b->nb_slots)
		rte_pktmbuf_free_bulk(burst_slot_mbufs(b, b->head), b->slots[b->head].n);
	b->st->in_flight = 0;
	free(b->slots);
	free(b->mbufs);
	b->slots = NULL;
	b->mbufs = NULL;
}

/* Receive one burst into the delay line. */
static void
burst_receive(struct tide_app_burst_io *b, uint64_t now)
{
	uint32_t next = (b->tail + 1) % b->nb_slots;
	struct tide_app_slot *s = &b->slots[b->tail];
	struct rte_mbuf **m = burst_slot_mbufs(b, b->tail);
	uint16_t n;

	n = rte_eth_rx_burst(b->rx_port, b->queue, m, (uint16_t)b->burst);
	if (n == 0) {
		/* A paced null port always has packets: none means no mbuf for them. */
		if (b->empty_is_nombuf)
			b->st->nombuf += b->burst;
		return;
	}
	b->st->rx += n;
	b->st->rx_on += n;
	if (next == b->head) {
		rte_pktmbuf_free_bulk(m, n);
		b->st->drops += n;
		return;
	}
	s->n = n;
	s->due_ns = now + b->hold_ns;
	b->tail = next;
	b->st->in_flight += n;
}

/* Send whatever has been held long enough. */
static void
burst_send_due(struct tide_app_burst_io *b, uint64_t now)
{
	while (b->head != b->tail && b->slots[b->head].due_ns <= now) {
		struct tide_app_slot *s = &b->slots[b->head];
		struct rte_mbuf **m = burst_slot_mbufs(b, b->head);
		uint16_t sent = rte_eth_tx_burst(b->tx_port, b->tx_queue, m, s->n);

		if (sent < s->n) {
			rte_pktmbuf_free_bulk(&m[sent], s->n - sent);
			b->st->drops += s->n - sent;
		}
		b->st->tx += sent;
		b->st->in_flight -= s->n;
		b->head = (b->head + 1) % b->nb_slots;
	}
}

void
tide_app_burst_step(struct tide_app_burst_io *b, uint64_t start_ns, uint64_t now)
{
	uint64_t dt = b->last_ns != 0 ? now - b->last_ns : 0;
	double mpps = tide_app_trace_rate(b->trace, now - start_ns);

	b->last_ns = now;
	if (mpps > 0) {
		b->st->on_ns += dt;
		b->flushed = false;
		/* Pace: a late loop finds what the port's RX ring held for it, and loses the
		 * rest, as a NIC would (imissed).
		 */
		double due = b->tokens + mpps * dt / 1e3;
		double ring = RTE_MAX(2.0 * b->burst, (double)b->rx_ring);

		if (due > ring) {
			b->missed += due - ring;
			b->st->missed = (uint64_t)b->missed;
			due = ring;
		}
		b->tokens = due;
		for (; b->tokens >= b->burst; b->tokens -= b->burst)
			burst_receive(b, now);
	} else {
		b->tokens = 0;
		if (!b->flushed && b->head == b->tail && b->pool != NULL) {
			/* Idle with nothing held: let the reaper have this lcore's mbufs. */
			tide_pool_cache_flush(b->pool);
			b->flushed = true;
		}
	}
	burst_send_due(b, now);
}

void
tide_app_burst_run(struct tide_app_burst_io *b, uint64_t start_ns, uint64_t end_ns,
	volatile bool *stop)
{
	while (!*stop) {
		uint64_t now = tide_app_now_ns();

		if (end_ns != 0 && now >= end_ns)
			break;
		tide_app_burst_step(b, start_ns, now);
	}
}
