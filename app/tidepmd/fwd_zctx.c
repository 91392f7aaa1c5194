/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * zctx mode: every forwarding lcore is an application thread that sends from a plain
 * malloc'd buffer through the zero-copy send agent, payload sizes taken in turn from a mix
 * (--zctx-sizes), ports in turn, a TX queue of its own on each (the agent transmits); it
 * polls completions, and frees what arrives on its RX queues (loopback ports bring the
 * packets back). The agent (a control thread) decides per size between copying and
 * zero-copy, and makes its own TX bursts: --burst is how many sends an lcore submits at a
 * time (tide_zctx_submit_burst(), TIDE_ZCTX_SUBMIT_BURST a call), and how many
 * completions and received packets it takes at a time (set burst: at once).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>

#include <rte_ethdev.h>

#include "tide_app_opt.h"
#include "tide_zctx.h"
#include "tidepmd.h"

#define ZS_HDR 42
/* At the end of a run, how long the main lcore takes back what comes back on the RX queues
 * and the completions, for the sends still in flight to complete before the agent is freed.
 */
#define ZS_DRAIN_NS (2ull * 1000000000ull)
/* Then how long the agent's stop waits for the PMDs to release what they still hold. */
#define ZS_STOP_MS 1000

struct zs_ctx {
	struct tide_zctx *z;
	uint8_t *buf;
	size_t buf_len;
	uint32_t sizes[TPMD_ZCTX_MAX_SIZES];
	unsigned int nb_sizes;
	uint8_t hdr[ZS_HDR];
	uint64_t bytes[TPMD_MAX_LCORES];  /* payload bytes completed, per lcore */
	uint64_t last_bytes;              /* stats: at the previous line */
	uint64_t last_ns;
	struct tpmd_counters *late_cnt;   /* kept past its run (zs_kept): where
					   * zs_agent_free() counts what it still completes
					   * or gets back, per lcore, before it adds that to
					   * the totals (not to the run that follows) */
};

/* One element of --zctx-sizes. */
static int
zs_parse_size(char *elem, void *arg)
{
	struct zs_ctx *c = arg;
	uint64_t max = RTE_MIN((uint64_t)TIDE_ZCTX_MAX_SEND, (uint64_t)c->buf_len), v;

	if (c->nb_sizes == TPMD_ZCTX_MAX_SIZES) {
		fprintf(stderr, "tidepmd: --zctx-sizes: at most %d sizes\n", TPMD_ZCTX_MAX_SIZES);
		return -EINVAL;
	}
	if (tide_app_opt_u64("--zctx-sizes", elem, 1, max, &v) != 0)
		return -EINVAL;
	c->sizes[c->nb_sizes++] = (uint32_t)v;
	return 0;
}

static int
zs_parse_sizes(struct zs_ctx *c, const char *list)
{
	uint64_t max = RTE_MIN((uint64_t)TIDE_ZCTX_MAX_SEND, (uint64_t)c->buf_len);
	char accepted[96];

	snprintf(accepted, sizeof(accepted), "1 to %d sizes of 1..%" PRIu64
		" bytes, comma-separated", TPMD_ZCTX_MAX_SIZES, max);
	return tide_app_opt_list("--zctx-sizes", list, accepted, zs_parse_size, c) == 0 ?
		0 : -EINVAL;
}

int
tpmd_zctx_sizes_check(const struct tpmd_config *cfg)
{
	struct zs_ctx c = { .buf_len = cfg->zctx_buf_mb << 20 };

	return zs_parse_sizes(&c, cfg->zctx_sizes);
}

/* A run's agent and buffer whose sends did not all complete at its end: kept, never freed
 * under a send still in flight; the next zctx start frees them once they have completed.
 */
static struct zs_ctx *zs_kept;

static int zs_agent_free(struct tpmd *t, struct zs_ctx *c);

/* A run's context whose agent is freed: the pin cache forgets the buffer before it goes. */
static void
zs_ctx_free(struct zs_ctx *c)
{
	tide_zctx_cache_flush();
	free(c->buf);
	free(c);
}

/* Test builds: the buffer takes ZS_FAULT_FILL_NS more to fill (fault zctx-slow-fill), as
 * --zctx-buf-mb 1024 can on a slow machine: a set-up a run's time must not count.
 */
#define ZS_FAULT_FILL_NS (2ull * 1000000000ull)

static void
zs_test_slow_fill(void)
{
	uint64_t end = tide_app_now_ns() + ZS_FAULT_FILL_NS;

	if (!tpmd_test_fault("zctx-slow-fill"))
		return;
	while (!tide_app_quit() && tide_app_now_ns() < end)
		usleep(1000);
}

static int
zs_init(struct tpmd *t)
{
	struct tide_zctx_params p;
	struct zs_ctx *c;

	if (zs_kept != NULL) {
		if (zs_agent_free(t, zs_kept) != 0) {
			fprintf(stderr, "tidepmd: zctx: the send agent of the last run still has "
				"sends in flight: no zctx start until they complete\n");
			return -EBUSY;
		}
		zs_ctx_free(zs_kept);
		zs_kept = NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	t->engine_ctx = c;
	c->buf_len = t->cfg.zctx_buf_mb << 20;
	c->buf = tpmd_test_fault("zctx-buf") ? NULL : malloc(c->buf_len);
	if (c->buf == NULL) {
		fprintf(stderr, "tidepmd: no memory for the %zu MB buffer zctx sends from "
			"(--zctx-buf-mb)\n", c->buf_len >> 20);
		return -ENOMEM;
	}
	if (zs_parse_sizes(c, t->cfg.zctx_sizes) != 0)
		return -EINVAL;
	for (size_t i = 0; i < c->buf_len; i++)
		c->buf[i] = (uint8_t)i;
	zs_test_slow_fill();
	memcpy(c->hdr, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x88\xb5", 14);
	tide_zctx_params_init(&p, "tidepmd");
	p.copy_threshold = t->cfg.zctx_threshold;
	p.pool = t->pool;
	for (unsigned int i = 0; i < t->nb_ports && i < TIDE_ZCTX_MAX_PORTS; i++)
		p.ports[p.nb_ports++] = t->ports[i];
	c->z = tide_zctx_create(&p);
	if (c->z == NULL) {
		fprintf(stderr, "tidepmd: cannot create the send agent: %s\n",
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	c->last_ns = tide_app_now_ns(); /* the first stats line's rate counts from here */
	return 0;
}

static void
zs_fini(struct tpmd *t)
{
	struct zs_ctx *c = t->engine_ctx;

	t->engine_ctx = NULL;
	if (c == NULL)
		return;
	/* A zero-copy send in flight points into the buffer: both stay until it completes. */
	if (zs_agent_free(t, c) != 0) {
		fprintf(stderr, "tidepmd: zctx: the send agent still has sends in flight: it and "
			"its buffer are kept until they complete (the next zctx start tries "
			"again)\n");
		zs_kept = c;
		return;
	}
	zs_ctx_free(c);
}

/* Where forwarding lcore @p w's counts go: its run's, or the totals for an agent kept past
 * its run. */
static struct tpmd_counters *
zs_counters(struct tpmd *t, const struct zs_ctx *c, unsigned int w)
{
	return c->late_cnt != NULL ? &c->late_cnt[w] : &t->lcores[w].cnt;
}

/* Take up to @p burst completions, whoever's (cookies carry the lcore's index): a send
 * that went out counts as tx, one that failed or was cancelled as a drop. Returns how many.
 */
static unsigned int
zs_poll(struct tpmd *t, struct zs_ctx *c, unsigned int burst)
{
	struct tide_zctx_cpl cpl[TPMD_MAX_BURST];
	unsigned int n = tide_zctx_poll(c->z, cpl, burst);

	for (unsigned int i = 0; i < n; i++) {
		unsigned int w = (unsigned int)(cpl[i].cookie >> 48);
		struct tpmd_counters *cnt = zs_counters(t, c, w);

		if (cpl[i].status != 0) {
			__atomic_fetch_add(&cnt->drops, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_fetch_add(&c->bytes[w], cpl[i].bytes, __ATOMIC_RELAXED);
		__atomic_fetch_add(&cnt->tx, 1, __ATOMIC_RELAXED);
	}
	return n;
}

/* Free what came back on this lcore's RX queues, a burst of each, counted in @p cnt. */
static void
zs_drain(struct tpmd_lcore *lc, unsigned int burst, struct tpmd_counters *cnt)
{
	struct rte_mbuf *m[TPMD_MAX_BURST];

	for (unsigned int i = 0; i < lc->nb_streams; i++) {
		const struct tpmd_stream *s = lc->streams[i];
		uint16_t n = rte_eth_rx_burst(s->rx_port, s->rx_queue, m, (uint16_t)burst);

		if (n == 0)
			continue;
		rte_pktmbuf_free_bulk(m, n);
		tpmd_count(&cnt->rx, n);
	}
}

/* Test builds: the first ZS_FAULT_BUSY frees of the agent fail as if mbufs of its pools
 * were still out (fault zctx-busy).
 */
#define ZS_FAULT_BUSY 4

/*
 * Stop the agent, take every completion it posted (the free would discard them, and the
 * run's summary counts them: the last sends of a run, those the stop cancelled, those of
 * an agent stopped from elsewhere), then free it. 0, or -ETIMEDOUT with sends still in
 * flight, or -EBUSY the free refused.
 */
static int
zs_stop_free(struct tpmd *t, struct zs_ctx *c)
{
	static unsigned int faults;
	int ret = tide_zctx_stop(c->z, ZS_STOP_MS);

	while (zs_poll(t, c, TPMD_MAX_BURST) != 0)
		;
	if (ret != 0)
		return ret;
	if (tpmd_test_fault("zctx-busy") && faults < ZS_FAULT_BUSY) {
		faults++;
		return -EBUSY;
	}
	return tide_zctx_free(c->z);
}

/*
 * Free the agent once its sends have completed. At the end of a run some may still be in
 * flight: their packets on their way back (a loopback port holds them until they are
 * received and freed), or in a TX ring. The main lcore, the forwarding lcores stopped,
 * takes what comes back on their RX queues and the completions, for at most ZS_DRAIN_NS,
 * then stops the agent and takes the last completions; if sends are still in flight (the
 * agent then no longer calls the PMDs) or the free refuses, the ports are stopped, which
 * makes most PMDs free what they hold, and started again. 0, or -EBUSY with the agent kept
 * as it is.
 */
static int
zs_agent_free_counted(struct tpmd *t, struct zs_ctx *c, bool restart)
{
	unsigned int burst = __atomic_load_n(&t->burst, __ATOMIC_RELAXED);
	uint64_t end = tide_app_now_ns() + ZS_DRAIN_NS;
	struct tide_zctx_stats st;
	int ret;

	if (c->z == NULL)
		return 0;
	while (restart && tide_zctx_stats_get(c->z, &st) == 0 && st.inflight != 0 &&
			tide_app_now_ns() < end) {
		for (unsigned int w = 0; w < t->nb_fwd_lcores; w++)
			zs_drain(&t->lcores[w], burst, zs_counters(t, c, w));
		zs_poll(t, c, burst);
	}
	ret = zs_stop_free(t, c);
	if (ret != 0 && restart) {
		for (unsigned int i = 0; i < t->nb_ports; i++)
			rte_eth_dev_stop(t->ports[i]);
		ret = zs_stop_free(t, c);
		for (unsigned int i = 0; i < t->nb_ports; i++)
			if (rte_eth_dev_start(t->ports[i]) != 0)
				fprintf(stderr, "tidepmd: zctx: port %u does not start again\n",
					t->ports[i]);
	}
	if (ret != 0)
		return -EBUSY;
	c->z = NULL;
	return 0;
}

/*
 * zs_agent_free(), its ports stopped and started again on the way if @p restart (else they
 * are closed already). What an agent kept past its run still completes or gets back goes
 * to its lcores' counts and the totals, as it would have in its run.
 */
static int
zs_agent_free_ports(struct tpmd *t, struct zs_ctx *c, bool restart)
{
	struct tpmd_counters late[TPMD_MAX_LCORES];
	int ret;

	if (c != zs_kept)
		return zs_agent_free_counted(t, c, restart);
	memset(late, 0, sizeof(late));
	c->late_cnt = late;
	ret = zs_agent_free_counted(t, c, restart);
	c->late_cnt = NULL;
	for (unsigned int w = 0; w < TPMD_MAX_LCORES; w++) {
		tpmd_counters_add(&t->lcore_done[w], &late[w]);
		tpmd_counters_add(&t->done, &late[w]);
	}
	return ret;
}

static int
zs_agent_free(struct tpmd *t, struct zs_ctx *c)
{
	return zs_agent_free_ports(t, c, true);
}

bool
tpmd_zctx_kept_free(struct tpmd *t, bool ports_closed)
{
	if (zs_kept == NULL)
		return true;
	if (zs_agent_free_ports(t, zs_kept, !ports_closed) != 0)
		return false;
	printf("tidepmd: zctx: the send agent kept from the last run is freed, its sends "
		"completed\n");
	zs_ctx_free(zs_kept);
	zs_kept = NULL;
	return true;
}

/* This lcore's sends, a burst at a time: the sizes, ports and buffer offsets in turn. */
struct zs_lcore {
	struct tide_zctx_send s[TPMD_MAX_BURST];
	struct iovec iov[TPMD_MAX_BURST];
	uint64_t i;  /* sends made so far */
	size_t off;  /* in the buffer, of the next one */
};

/* Make the next @p n sends in z->s. */
static void
zs_make(const struct tpmd_lcore *lc, const struct zs_ctx *c, struct zs_lcore *z,
	unsigned int n)
{
	const struct tpmd *t = lc->t;

	for (unsigned int k = 0; k < n; k++, z->i++) {
		uint32_t len = c->sizes[z->i % c->nb_sizes];

		if (z->off + len > c->buf_len)
			z->off = 0;
		z->iov[k].iov_base = c->buf + z->off;
		z->iov[k].iov_len = len;
		z->s[k] = (struct tide_zctx_send){
			.queue = (uint16_t)(lc->idx % t->cfg.txq), .hdr_len = ZS_HDR, .nb_iov = 1,
			.hdr = c->hdr, .iov = &z->iov[k], .port = t->ports[z->i % t->nb_ports],
			.cookie = ((uint64_t)lc->idx << 48) | (z->i & ((1ull << 48) - 1)),
		};
		z->off += RTE_ALIGN_CEIL(len, 64);
	}
}

/* Test builds: the first lcore stops the agent after its first burst (fault zctx-stop), as
 * a stop from elsewhere would: the sends that follow are refused with -ESHUTDOWN.
 */
static void
zs_test_stop(const struct tpmd_lcore *lc, const struct zs_ctx *c, bool *armed)
{
	if (!*armed)
		return;
	*armed = false;
	if (tide_zctx_stop(c->z, 1000) != 0)
		fprintf(stderr, "tidepmd: lcore %u: zctx-stop: %s\n", lc->lcore_id,
			rte_strerror(rte_errno));
}

static int
zs_loop(struct tpmd_lcore *lc)
{
	struct tpmd *t = lc->t;
	struct zs_ctx *c = t->engine_ctx;
	struct zs_lcore *z = calloc(1, sizeof(*z));
	bool test_stop = lc->idx == 0 && tpmd_test_fault("zctx-stop");

	if (z == NULL) {
		fprintf(stderr, "tidepmd: lcore %u: no memory for its sends\n", lc->lcore_id);
		return -1;
	}
	while (!t->stop) {
		unsigned int burst = __atomic_load_n(&t->burst, __ATOMIC_RELAXED), done = 0;

		zs_make(lc, c, z, burst);
		/* The whole burst goes, the agent taking what its depth allows at a time. */
		while (done < burst && !t->stop) {
			int k = tide_zctx_submit_burst(c->z, &z->s[done], burst - done);

			if (k > 0) {
				done += (unsigned int)k;
				continue;
			}
			/* -EAGAIN (a full depth) is retried: completions make room. Any other
			 * refusal (the agent stopped, a send it never takes) would come back.
			 */
			if (k != -EAGAIN) {
				fprintf(stderr, "tidepmd: lcore %u: zctx: the send agent "
					"refused its sends: %s; the lcore stops forwarding\n",
					lc->lcore_id, rte_strerror(-k));
				free(z);
				return -1;
			}
			zs_poll(t, c, burst);
			zs_drain(lc, burst, &lc->cnt);
		}
		zs_drain(lc, burst, &lc->cnt);
		zs_test_stop(lc, c, &test_stop);
	}
	free(z);
	return 0;
}

static int
zs_stats(struct tpmd *t, char *buf, size_t len)
{
	struct zs_ctx *c = t->engine_ctx;
	struct tide_zctx_cache_stats cs;
	struct tide_zctx_stats st;
	uint64_t bytes = 0, now = tide_app_now_ns();
	int ret;

	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++)
		bytes += __atomic_load_n(&c->bytes[w], __ATOMIC_RELAXED);
	tide_zctx_stats_get(c->z, &st);
	tide_zctx_cache_stats_get(&cs);
	ret = snprintf(buf, len, " | zctx %.2f Gbps, zero-copy %" PRIu64 " copied %" PRIu64
		" failed %" PRIu64 ", threshold %s%u B, pinned %.1f MB (idle %.1f), eagain %"
		PRIu64,
		c->last_ns ? (bytes - c->last_bytes) * 8.0 / (double)(now - c->last_ns) : 0.0,
		st.zc_sends, st.copy_sends, st.failed, st.adaptive ? "adaptive " : "",
		st.threshold, cs.pinned_bytes / 1048576.0, cs.idle_bytes / 1048576.0, st.eagain);
	c->last_bytes = bytes;
	c->last_ns = now;
	return ret;
}

void
tpmd_zctx_show(const struct tpmd *t)
{
	const struct zs_ctx *c = t->running && t->engine == &tpmd_engine_zctx ?
		t->engine_ctx : NULL;
	struct tide_zctx_cache_stats cs;
	struct tide_zctx_stats st;

	tide_zctx_cache_stats_get(&cs);
	if (c == NULL) {
		printf("  No send agent running (set fwd zctx, then start).\n");
	} else {
		tide_zctx_stats_get(c->z, &st);
		printf("  ######################## zctx agent tidepmd ########################\n"
			"  sends:      submitted %" PRIu64 ", completed %" PRIu64 ", failed %"
			PRIu64 ", in flight %" PRIu64 ", refused (eagain) %" PRIu64 "\n"
			"  paths:      zero-copy %" PRIu64 " (%.1f MB), copied %" PRIu64
			" (%.1f MB)\n"
			"  threshold:  %s%u B\n"
			"  packets:    %" PRIu64 " in %" PRIu64 " TX bursts, segments %" PRIu64
			", TX stalls %" PRIu64 "\n",
			st.submitted, st.completed, st.failed, st.inflight, st.eagain, st.zc_sends,
			st.zc_bytes / 1048576.0, st.copy_sends, st.copy_bytes / 1048576.0,
			st.adaptive ? "adaptive, now " : "", st.threshold, st.packets, st.tx_bursts,
			st.segments, st.tx_stalls);
	}
	printf("  pin cache:  pinned %.1f MB (idle %.1f MB), limit %.1f MB\n",
		cs.pinned_bytes / 1048576.0, cs.idle_bytes / 1048576.0, cs.pin_limit / 1048576.0);
}

const struct tpmd_engine tpmd_engine_zctx = {
	.name = "zctx",
	.help = "send from a malloc'd buffer through the zero-copy send agent (size mix)",
	.layout = TPMD_LAYOUT_RX,
	.all_lcores = true,
	.begin = zs_init,
	.loop = zs_loop,
	.stats = zs_stats,
	.end = zs_fini,
};
