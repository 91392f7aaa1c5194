/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * fanout: deliver one 1500-byte packet to 4 readers, on one lcore (the CPU cost of a
 * delivery, without cross-core noise):
 *   bcast - post it on a broadcast exchange; each reader reads it and is done with it;
 *   proxy - make 4 proxies, send one to each reader's exchange; each reader receives
 *           and releases its proxy; the real message is released;
 *   clone - rte_pktmbuf_clone() per reader, over a ring each; each reader frees its clone;
 *   copy  - rte_pktmbuf_copy() per reader (a deep copy), over a ring each.
 * Reported per delivery: the cost, and the bytes of packet data copied. --filter picks
 * variants by these names; a ratio needs both of its variants.
 */

#include <stdio.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bench.h"
#include "tide_msg.h"
#include "tide_pool.h"

#define FO_READERS 4
#define FO_LEN 1500
#define FO_ROUNDS 7
#define FO_MS 300

enum { FO_BCAST, FO_PROXY, FO_CLONE, FO_COPY, FO_NB };
static const char *const fo_names[FO_NB] = { "bcast", "proxy", "clone", "copy" };

struct fo_ctx {
	struct rte_mempool *mp;     /* packets */
	struct rte_mempool *clones; /* clones' and copies' mbufs */
	struct tide_bcast *b;
	struct tide_xchg *x[FO_READERS];
	struct rte_ring *ring[FO_READERS];
	uint64_t copied;            /* bytes of packet data copied */
};

/* Each variant delivers @p m (its own from then on) to the readers and says to how many:
 * a delivery that failed is not work done, and what it would have delivered goes back.
 */
static unsigned int
fo_bcast(struct fo_ctx *c, struct rte_mbuf *m)
{
	struct rte_mbuf *got;
	unsigned int n = 0;

	if (tide_bcast_post(c->b, m, NULL) != 0) {
		tide_msg_release(m);
		return 0;
	}
	for (unsigned int r = 0; r < FO_READERS; r++)
		if (tide_bcast_read(c->b, r, &got, NULL) == 0) {
			tide_bcast_done(c->b, r);
			n++;
		}
	/* NULL while a reader has not finished: nothing to release then. */
	got = tide_bcast_take(c->b);
	if (got != NULL)
		tide_msg_release(got);
	return n;
}

static unsigned int
fo_proxy(struct fo_ctx *c, struct rte_mbuf *m)
{
	static const struct tide_msg_range whole[FO_READERS] = {
		{ 0, FO_LEN }, { 0, FO_LEN }, { 0, FO_LEN }, { 0, FO_LEN },
	};
	struct rte_mbuf *p[FO_READERS], *got;
	unsigned int n = 0;

	if (tide_msg_proxy_make(m, FO_READERS, whole, p) != 0) {
		tide_msg_release(m);
		return 0;
	}
	for (unsigned int r = 0; r < FO_READERS; r++)
		if (tide_xchg_send_burst(c->x[r], &p[r], 1) != 1)
			tide_msg_proxy_release(p[r]);
	tide_msg_release(m);
	for (unsigned int r = 0; r < FO_READERS; r++)
		if (tide_xchg_recv_burst(c->x[r], &got, 1, 2) == 1) {
			tide_msg_proxy_release(got);
			n++;
		}
	return n;
}

static unsigned int
fo_clone(struct fo_ctx *c, struct rte_mbuf *m, bool deep)
{
	struct rte_mbuf *got;
	unsigned int n = 0;

	for (unsigned int r = 0; r < FO_READERS; r++) {
		struct rte_mbuf *k = deep ? rte_pktmbuf_copy(m, c->clones, 0, UINT32_MAX) :
			rte_pktmbuf_clone(m, c->clones);

		if (k == NULL)
			continue;
		if (rte_ring_enqueue(c->ring[r], k) != 0) {
			rte_pktmbuf_free(k);
			continue;
		}
		if (deep)
			c->copied += rte_pktmbuf_pkt_len(k);
	}
	rte_pktmbuf_free(m);
	for (unsigned int r = 0; r < FO_READERS; r++)
		if (rte_ring_dequeue(c->ring[r], (void **)&got) == 0) {
			rte_pktmbuf_free(got);
			n++;
		}
	return n;
}

/* Deliveries per second of variant v. */
static double
fo_measure(struct fo_ctx *c, unsigned int v, unsigned int ms)
{
	uint64_t t0 = bench_now_ns(), t1, n = 0;

	do {
		for (int i = 0; i < 64; i++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(c->mp);

			if (m == NULL)
				continue;
			if (rte_pktmbuf_append(m, FO_LEN) == NULL) {
				rte_pktmbuf_free(m);
				continue;
			}
			if (v == FO_BCAST || v == FO_PROXY)
				tide_msg_make(m, 1, 0);
			if (v == FO_BCAST)
				n += fo_bcast(c, m);
			else if (v == FO_PROXY)
				n += fo_proxy(c, m);
			else
				n += fo_clone(c, m, v == FO_COPY);
		}
		t1 = bench_now_ns();
	} while (t1 - t0 < (uint64_t)ms * 1000000 && !bench_stopped());
	return n / ((t1 - t0) / 1e9);
}

static int
fo_setup(struct fo_ctx *c)
{
	struct tide_pool_params pp;
	char name[32];

	if (tide_msg_init(NULL) != 0)
		return -1;
	tide_pool_params_init(&pp, "bfo_pool");
	c->mp = tide_pool_create(&pp);
	c->clones = rte_pktmbuf_pool_create("bfo_clones", 4095, 256, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	c->b = tide_bcast_create("bfo_bcast", FO_READERS);
	if (c->mp == NULL || c->clones == NULL || c->b == NULL)
		return -1;
	for (unsigned int r = 0; r < FO_READERS; r++) {
		struct tide_xchg_params xp = { .name = name, .type = TIDE_XCHG_FIFO, .size = 64,
			.socket_id = SOCKET_ID_ANY };

		snprintf(name, sizeof(name), "bfo_x%u", r);
		c->x[r] = tide_xchg_create(&xp);
		snprintf(name, sizeof(name), "bfo_r%u", r);
		c->ring[r] = rte_ring_create(name, 64, SOCKET_ID_ANY, 0);
		if (c->x[r] == NULL || c->ring[r] == NULL)
			return -1;
	}
	return 0;
}

static void
fo_teardown(struct fo_ctx *c)
{
	for (unsigned int r = 0; r < FO_READERS; r++) {
		tide_xchg_free(c->x[r]);
		rte_ring_free(c->ring[r]);
	}
	tide_bcast_free(c->b);
	rte_mempool_free(c->clones);
	tide_pool_free(c->mp);
}

static int
fo_run(const struct bench_opts *o)
{
	static double rate[FO_NB][BENCH_MAX_ROUNDS];
	unsigned int rounds = bench_rounds(o, FO_ROUNDS);
	uint64_t deliveries[FO_NB] = { 0 }, copied[FO_NB] = { 0 };
	struct fo_ctx c = { 0 };
	bool ran[FO_NB];
	char v[48];
	int ret = -1;

	for (unsigned int i = 0; i < FO_NB; i++)
		ran[i] = bench_selected(o, fo_names[i]);
	if (fo_setup(&c) != 0) {
		fprintf(stderr, "tide-bench fanout: set-up failed\n");
		goto out;
	}
	for (unsigned int round = 0; round < rounds && !bench_stopped(); round++)
		for (unsigned int k = 0; k < FO_NB; k++) {
			unsigned int i = (k + round) % FO_NB;
			uint64_t before = c.copied;

			if (!ran[i])
				continue;
			rate[i][round] = fo_measure(&c, i, bench_ms(o, FO_MS));
			deliveries[i] += (uint64_t)(rate[i][round] * bench_ms(o, FO_MS) / 1e3);
			copied[i] += c.copied - before;
		}
	for (unsigned int i = 0; i < FO_NB; i++) {
		double x[BENCH_MAX_ROUNDS];

		if (!ran[i])
			continue;
		memcpy(x, rate[i], sizeof(x));
		bench_emit(fo_names[i], "cost", 1e9 / bench_median(x, rounds), "ns/delivery");
		bench_emit(fo_names[i], "copied", deliveries[i] ? (double)copied[i] / deliveries[i] :
			0, "bytes/delivery");
	}
	for (unsigned int i = 0; i < 2; i++) {
		if (!ran[i] || !ran[FO_CLONE])
			continue;
		snprintf(v, sizeof(v), "%s:clone", fo_names[i]);
		bench_emit(v, "cost_ratio", bench_median_ratio(rate[FO_CLONE], rate[i], rounds),
			"x");
	}
	ret = 0;
out:
	fo_teardown(&c);
	return ret;
}

const struct bench_scenario bench_fanout = {
	.name = "fanout",
	.help = "one packet to 4 readers: broadcast and proxies vs rte_pktmbuf_clone/copy",
	.filter = "the variant: bcast, proxy, clone, copy",
	.run = fo_run,
	.opts = BENCH_OPT_MS,
};
