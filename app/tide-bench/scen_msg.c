/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * msg: what making packets messages costs. Per packet: make + send + receive + unmake
 * over a FIFO exchange, against passing the raw mbuf pointers over an rte_ring; all
 * also allocate and free the mbuf, as a pipeline does. Two message variants: "msg", the
 * RX and TX stage calls (tide_xchg_make_send_burst, tide_xchg_recv_unmake_burst: one
 * pass over the headers each), and "msg_steps", the four calls one by one. A reference,
 * "ring_made": the raw ring with tide_msg_make_burst() before the enqueue and
 * tide_msg_unmake_burst() after the dequeue. That is the header's two stores per packet
 * without the exchange, and tells what the stores cost apart from what the exchange costs.
 * Two layouts: on one lcore (producer and consumer in turn: the CPU cost) and across two
 * lcores (producer and consumer on each: the header's cache line travels with the packet).
 * --filter picks variants by their names with the layout ("msg/2lcores"); a ratio needs
 * both of its variants.
 */

#include <stdio.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bench.h"
#include "tide_msg.h"
#include "tide_pool.h"

#define MSG_BURST 32
/* Many short rounds, as in fwd (scen_fwd.c). */
#define MSG_ROUNDS 40
#define MSG_MS 50

enum { V_RAW, V_MSG, V_STEPS, V_MADE, V_NB };
static const char *const msg_names[V_NB] = { "ring", "msg", "msg_steps", "ring_made" };

struct msg_run {
	unsigned int v;
	struct rte_mempool *mp;
	struct rte_ring *ring;
	struct tide_xchg *x;
	uint64_t ns;
	volatile bool stop;
	uint64_t consumed;
};

/* Producer side: allocate a burst and hand it over; returns how many went. */
static unsigned int
msg_produce(struct msg_run *r)
{
	struct rte_mbuf *m[MSG_BURST];
	unsigned int sent;

	if (rte_pktmbuf_alloc_bulk(r->mp, m, MSG_BURST) != 0)
		return 0;
	if (r->v == V_MSG) {
		sent = tide_xchg_make_send_burst(r->x, m, MSG_BURST, 1, 0);
		tide_msg_release_burst(&m[sent], MSG_BURST - sent);
	} else if (r->v == V_STEPS) {
		tide_msg_make_burst(m, MSG_BURST, 1, 0);
		sent = tide_xchg_send_burst(r->x, m, MSG_BURST);
		tide_msg_release_burst(&m[sent], MSG_BURST - sent);
	} else {
		if (r->v == V_MADE)
			tide_msg_make_burst(m, MSG_BURST, 1, 0);
		sent = rte_ring_enqueue_burst(r->ring, (void **)m, MSG_BURST, NULL);
		if (r->v == V_MADE)
			tide_msg_unmake_burst(&m[sent], MSG_BURST - sent);
		rte_pktmbuf_free_bulk(&m[sent], MSG_BURST - sent);
	}
	return sent;
}

/* Consumer side: take a burst and free it; returns how many. */
static unsigned int
msg_consume(struct msg_run *r)
{
	struct rte_mbuf *m[MSG_BURST];
	unsigned int n;

	if (r->v == V_MSG) {
		n = tide_xchg_recv_unmake_burst(r->x, m, MSG_BURST);
	} else if (r->v == V_STEPS) {
		n = tide_xchg_recv_burst(r->x, m, MSG_BURST, 2);
		tide_msg_unmake_burst(m, n);
	} else {
		n = rte_ring_dequeue_burst(r->ring, (void **)m, MSG_BURST, NULL);
		if (r->v == V_MADE)
			tide_msg_unmake_burst(m, n);
	}
	rte_pktmbuf_free_bulk(m, n);
	return n;
}

static int
msg_producer_lcore(void *arg)
{
	struct msg_run *r = arg;

	while (!r->stop)
		msg_produce(r);
	return 0;
}

/* Packets per second through one layout: both ends on this lcore, or the producer on a
 * worker lcore.
 */
static double
msg_measure(struct msg_run *r, bool two_lcores)
{
	unsigned int worker = rte_get_next_lcore(-1, 1, 0);
	uint64_t t0, t1, n = 0;

	r->stop = false;
	if (two_lcores)
		rte_eal_remote_launch(msg_producer_lcore, r, worker);
	t0 = bench_now_ns();
	do {
		for (int i = 0; i < 64; i++) {
			if (!two_lcores)
				msg_produce(r);
			n += msg_consume(r);
		}
		t1 = bench_now_ns();
	} while (t1 - t0 < r->ns && !bench_stopped());
	r->stop = true;
	if (two_lcores)
		rte_eal_wait_lcore(worker);
	while (msg_consume(r) > 0)
		;
	return n / ((t1 - t0) / 1e9);
}

static int
msg_run(const struct bench_opts *o)
{
	static double pps[2][V_NB][BENCH_MAX_ROUNDS];
	static enum bench_state state[V_NB][BENCH_MAX_ROUNDS];
	unsigned int rounds = bench_rounds(o, MSG_ROUNDS);
	double probe;
	struct tide_xchg_params xp = { .name = "bmsg", .type = TIDE_XCHG_FIFO, .size = 1024,
		.socket_id = SOCKET_ID_ANY };
	struct tide_pool_params pp;
	struct msg_run r = { .ns = (uint64_t)bench_ms(o, MSG_MS) * 1000000 };
	char v[64];
	int ret = -1;

	if (tide_msg_init(NULL) != 0)
		return -1;
	tide_pool_params_init(&pp, "bmsg_pool");
	pp.base_bytes = 32 << 20;
	r.mp = tide_pool_create(&pp);
	r.ring = rte_ring_create("bmsg_ring", 1024, SOCKET_ID_ANY, 0);
	r.x = tide_xchg_create(&xp);
	if (r.mp == NULL || r.ring == NULL || r.x == NULL) {
		fprintf(stderr, "tide-bench msg: set-up failed\n");
		goto out;
	}
	for (unsigned int lay = 0; lay < 2; lay++) {
		const char *layout = lay ? "2lcores" : "1lcore";
		bool sel[V_NB], any = false;

		if (lay == 1 && rte_lcore_count() < 2)
			break;
		for (unsigned int i = 0; i < V_NB; i++) {
			snprintf(v, sizeof(v), "%s/%s", msg_names[i], layout);
			sel[i] = bench_selected(o, v);
			any |= sel[i];
		}
		if (!any)
			continue;
		/* Across lcores, the machine's state around every measurement. */
		probe = lay == 1 ? bench_machine_c2c(BENCH_C2C_QUICK_TRIPS) : 0;
		for (unsigned int round = 0; round < rounds && !bench_stopped(); round++)
			for (unsigned int k = 0; k < V_NB; k++) {
				r.v = (k + round) % V_NB;
				if (!sel[r.v])
					continue;
				pps[lay][r.v][round] = msg_measure(&r, lay == 1);
				if (lay == 1)
					state[r.v][round] = bench_machine_state_after(&probe);
			}
		for (unsigned int i = 0; i < V_NB; i++) {
			double x[BENCH_MAX_ROUNDS];

			if (!sel[i])
				continue;
			memcpy(x, pps[lay][i], sizeof(x));
			snprintf(v, sizeof(v), "%s/%s", msg_names[i], layout);
			bench_emit(v, "cost", 1e9 / bench_median(x, rounds), "ns/pkt");
		}
		for (unsigned int i = V_MSG; i < V_NB; i++) {
			if (!sel[V_RAW] || !sel[i])
				continue;
			snprintf(v, sizeof(v), "%s:ring/%s", msg_names[i], layout);
			bench_emit(v, "cost_ratio",
				bench_median_ratio(pps[lay][V_RAW], pps[lay][i], rounds), "x");
		}
		if (lay == 1 && sel[V_RAW] && sel[V_MSG])
			bench_emit_ratio_by_state("msg:ring/2lcores", "cost_ratio", pps[1][V_RAW],
				pps[1][V_MSG], state[V_RAW], state[V_MSG], rounds);
	}
	ret = 0;
out:
	tide_xchg_free(r.x);
	rte_ring_free(r.ring);
	tide_pool_free(r.mp);
	return ret;
}

const struct bench_scenario bench_msg = {
	.name = "msg",
	.help = "per-packet cost of make+send+receive+unmake vs raw mbuf pointers over a ring",
	.filter = "variant/layout: ring, msg, msg_steps, ring_made; 1lcore, 2lcores "
		"(msg/2lcores)",
	.run = msg_run,
	.opts = BENCH_OPT_MS,
};
