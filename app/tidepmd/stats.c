/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Figures: the stats line of a non-interactive run, once per period, and its summary (made
 * from the very samples the lines print, so the two agree); port statistics for the
 * prompt, as testpmd prints them.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "tide_app.h"
#include "tide_pool.h"
#include "tidepmd.h"

#define STATS_BAR_MIN 16
#define STATS_BAR_MAX 64

/* One stats line. */
struct stats_sample {
	uint64_t ns;                 /* when, since the run started */
	struct tpmd_counters c;      /* totals */
	uint64_t port_nombuf;        /* rx_nombuf the ports count */
	struct tide_pool_stats pool;
};

/* What the summary is made of: every sample, integrated. */
struct stats_run {
	uint64_t start_ns;
	struct stats_sample last;
	unsigned int bar_width;
	double mb_s;                 /* MB held x seconds */
	double peak_mb, low_mb;
	double peak_mpps;
	uint64_t base_bytes;
};

static uint64_t
stats_port_nombuf(const struct tpmd *t)
{
	struct rte_eth_stats st;
	uint64_t n = 0;

	for (unsigned int i = 0; i < t->nb_ports; i++)
		if (rte_eth_stats_get(t->ports[i], &st) == 0)
			n += st.rx_nombuf;
	return n;
}

static void
stats_take(const struct tpmd *t, const struct stats_run *r, struct stats_sample *s)
{
	s->ns = tide_app_now_ns() - r->start_ns;
	tpmd_counters_total(t, &s->c);
	s->port_nombuf = stats_port_nombuf(t);
	/* Every socket's pool together. */
	memset(&s->pool, 0, sizeof(s->pool));
	for (unsigned int k = 0; k < t->pools->nb_pools; k++) {
		struct tide_pool_stats p;

		if (tide_pool_stats_get(t->pools->pools[k], &p) != 0)
			continue;
		s->pool.nb_blocks += p.nb_blocks;
		s->pool.bytes += p.bytes;
		s->pool.nb_in_use += p.nb_in_use;
		s->pool.grows_ahead += p.grows_ahead;
		s->pool.grows_sync += p.grows_sync;
		s->pool.grows_ext += p.grows_ext;
		s->pool.reaps += p.reaps;
		s->pool.grow_fails += p.grow_fails;
		/* Every socket's pool has the same sizes. */
		s->pool.base_bytes = p.base_bytes;
		s->pool.block_bytes = p.block_bytes;
	}
}

/* Held memory as a bar, one '#' per added block's size. */
static void
stats_bar(const struct tpmd *t, struct stats_run *r, uint64_t bytes, char *bar, size_t len)
{
	uint64_t block = r->last.pool.block_bytes != 0 ? r->last.pool.block_bytes :
		(uint64_t)t->cfg.pool_block_mb << 20;
	unsigned int n = (unsigned int)(bytes / block), w;

	n = RTE_MIN(n, (unsigned int)STATS_BAR_MAX);
	r->bar_width = RTE_MAX(r->bar_width, RTE_MAX(n, (unsigned int)STATS_BAR_MIN));
	w = RTE_MIN(r->bar_width, (unsigned int)len - 1);
	for (unsigned int i = 0; i < w; i++)
		bar[i] = i < n ? '#' : ' ';
	bar[w] = '\0';
}

/* Print the line for sample s and add it to the run's integrals. */
static void
stats_line(struct tpmd *t, struct stats_run *r, const struct stats_sample *s, const char *tag)
{
	const struct stats_sample *p = &r->last;
	double dt = (s->ns - p->ns) / 1e9, mb = s->pool.bytes / 1048576.0;
	double rx = dt > 0 ? (s->c.rx - p->c.rx) / dt / 1e6 : 0;
	double tx = dt > 0 ? (s->c.tx - p->c.tx) / dt / 1e6 : 0;
	char bar[STATS_BAR_MAX + 1], extra[192] = "";

	stats_bar(t, r, s->pool.bytes, bar, sizeof(bar));
	if (t->running && t->engine->stats != NULL)
		t->engine->stats(t, extra, sizeof(extra));
	tpmd_donors_stats(extra + strlen(extra), sizeof(extra) - strlen(extra));
	printf("tidepmd %7.2fs%s | rx %7.2f tx %7.2f Mpps | held %7.1f MB [%s] %3u blocks, "
		"in use %7" PRIu64 " | grows %4" PRIu64 " reaps %4" PRIu64 " | drops %" PRIu64
		" rx_nombuf %" PRIu64 "%s\n",
		s->ns / 1e9, tag, rx, tx, mb, bar, s->pool.nb_blocks, s->pool.nb_in_use,
		s->pool.grows_ahead + s->pool.grows_sync, s->pool.reaps, s->c.drops,
		s->c.nombuf + s->port_nombuf, extra);
	fflush(stdout);
	r->mb_s += mb * dt;
	r->peak_mb = RTE_MAX(r->peak_mb, mb);
	r->low_mb = r->low_mb == 0 ? mb : RTE_MIN(r->low_mb, mb);
	r->peak_mpps = RTE_MAX(r->peak_mpps, tx);
	r->last = *s;
}

static void
stats_summary(const struct tpmd *t, const struct stats_run *r)
{
	const struct stats_sample *s = &r->last;
	double secs = s->ns / 1e9, mean = secs > 0 ? r->mb_s / secs : 0;
	double fixed_mb_s = r->peak_mb * secs;

	printf("tidepmd: done after %.1f s: %" PRIu64 " packets forwarded, %.2f Mpps average\n",
		secs, s->c.tx, secs > 0 ? s->c.tx / secs / 1e6 : 0.0);
	printf("  mode        %s, %u ports, %u forwarding lcore(s), %u stream(s)\n",
		t->engine->name, t->nb_ports, t->nb_fwd_lcores, t->nb_streams);
	/* Every packet received was sent, dropped, or freed at the stop (held or waiting). */
	printf("  packets     rx %" PRIu64 ", tx %" PRIu64 ", dropped %" PRIu64 ", rx_nombuf %"
		PRIu64 ", freed at stop %" PRIu64 "\n", s->c.rx, s->c.tx, s->c.drops,
		s->c.nombuf + s->port_nombuf, s->c.freed_stop);
	printf("  lcores     ");
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++)
		printf("%s %u: rx %" PRIu64 " tx %" PRIu64, w ? " |" : "", t->lcores[w].lcore_id,
			t->lcore_done[w].rx, t->lcore_done[w].tx);
	printf("\n");
	printf("  rate        mean %.2f Mpps, peak %.2f Mpps (tx, per line)\n",
		secs > 0 ? s->c.tx / secs / 1e6 : 0.0, r->peak_mpps);
	printf("  pool held   peak %.1f MB, mean %.1f MB, low %.1f MB (base %.1f MB, wall %zu "
		"MB)\n", r->peak_mb, mean, r->low_mb, s->pool.base_bytes / 1048576.0,
		t->cfg.pool_wall_mb);
	printf("  pool blocks grows %" PRIu64 " (%" PRIu64 " ahead of need, %" PRIu64
		" inside an allocation; %" PRIu64 " from donors), reaps %" PRIu64 ", grow fails %"
		PRIu64 "\n",
		s->pool.grows_ahead + s->pool.grows_sync, s->pool.grows_ahead,
		s->pool.grows_sync, s->pool.grows_ext, s->pool.reaps, s->pool.grow_fails);
	printf("  fixed pool  a stock pool sized for this peak holds %.1f MB all along: tidepool "
		"held %.0f%% of that\n              (%.0f MB.s against %.0f MB.s)\n",
		r->peak_mb, fixed_mb_s > 0 ? 100.0 * r->mb_s / fixed_mb_s : 0.0, r->mb_s,
		fixed_mb_s);
}

int
tpmd_stats_loop(struct tpmd *t)
{
	uint64_t period = (uint64_t)t->cfg.stats_period_ms * 1000000ull;
	uint64_t end = t->cfg.duration_s * 1000000000ull;
	struct stats_run r = { .start_ns = t->start_ns };
	struct stats_sample s;
	int ret;

	stats_take(t, &r, &r.last);
	r.last.ns = 0;
	while (!tide_app_quit() && !t->lcore_failed) {
		uint64_t now = tide_app_now_ns() - r.start_ns;
		uint64_t next = RTE_MIN(r.last.ns + period, end != 0 ? end : UINT64_MAX);

		if (now < next) {
			usleep((useconds_t)RTE_MIN((next - now) / 1000, 10000ull));
			continue;
		}
		if (end != 0 && now >= end)
			break;
		stats_take(t, &r, &s);
		stats_line(t, &r, &s, "");
	}
	/* The last line counts what the lcores did up to their stop, and is dated then: the
	 * stop's own wait (workers' processes exiting) is not forwarding time.
	 */
	ret = tpmd_fwd_stop(t, tide_app_signal_count()); /* past the signal that ended it */
	stats_take(t, &r, &s);
	if (t->end_ns > r.start_ns && t->end_ns - r.start_ns < s.ns)
		s.ns = t->end_ns - r.start_ns;
	stats_line(t, &r, &s, " end");
	stats_summary(t, &r);
	return ret;
}

/* ---- port statistics, for the prompt ---- */

static struct rte_eth_stats stats_shown[RTE_MAX_ETHPORTS];  /* at the last show */
static uint64_t stats_shown_ns[RTE_MAX_ETHPORTS];
static struct rte_eth_stats stats_mark[RTE_MAX_ETHPORTS];   /* at the last start */

void
tpmd_port_stats_show(const struct tpmd *t, int port)
{
	for (unsigned int i = 0; i < t->nb_ports; i++) {
		uint16_t p = t->ports[i];
		struct rte_eth_stats st, *o = &stats_shown[p];
		uint64_t now = tide_app_now_ns();
		double dt = stats_shown_ns[p] ? (now - stats_shown_ns[p]) / 1e9 : 0;

		if (port >= 0 && p != port)
			continue;
		if (rte_eth_stats_get(p, &st) != 0)
			continue;
		printf("\n  ######################## NIC statistics for port %-2u "
			"########################\n", p);
		printf("  RX-packets: %-10" PRIu64 " RX-missed: %-10" PRIu64 " RX-bytes:  %"
			PRIu64 "\n", st.ipackets, st.imissed, st.ibytes);
		printf("  RX-errors: %" PRIu64 "\n  RX-nombuf:  %-10" PRIu64 "\n", st.ierrors,
			st.rx_nombuf);
		printf("  TX-packets: %-10" PRIu64 " TX-errors: %-10" PRIu64 " TX-bytes:  %"
			PRIu64 "\n", st.opackets, st.oerrors, st.obytes);
		printf("\n  Throughput (since last show)\n");
		printf("  Rx-pps: %12.0f          Rx-bps: %12.0f\n",
			dt > 0 ? (st.ipackets - o->ipackets) / dt : 0,
			dt > 0 ? (st.ibytes - o->ibytes) * 8 / dt : 0);
		printf("  Tx-pps: %12.0f          Tx-bps: %12.0f\n",
			dt > 0 ? (st.opackets - o->opackets) / dt : 0,
			dt > 0 ? (st.obytes - o->obytes) * 8 / dt : 0);
		printf("  ############################################################"
			"################\n");
		*o = st;
		stats_shown_ns[p] = now;
	}
	fflush(stdout);
}

void
tpmd_port_stats_clear(const struct tpmd *t, int port)
{
	for (unsigned int i = 0; i < t->nb_ports; i++) {
		uint16_t p = t->ports[i];

		if (port >= 0 && p != port)
			continue;
		rte_eth_stats_reset(p);
		memset(&stats_shown[p], 0, sizeof(stats_shown[p]));
		memset(&stats_mark[p], 0, sizeof(stats_mark[p]));
		stats_shown_ns[p] = 0;
		printf("\n  NIC statistics for port %u cleared\n", p);
	}
}

void
tpmd_fwd_stats_mark(const struct tpmd *t)
{
	for (unsigned int i = 0; i < t->nb_ports; i++)
		if (rte_eth_stats_get(t->ports[i], &stats_mark[t->ports[i]]) != 0)
			memset(&stats_mark[t->ports[i]], 0, sizeof(stats_mark[0]));
}

/* What the ports did since the last start, and tidepmd's own counts (at a stop). */
void
tpmd_fwd_stats_show(const struct tpmd *t)
{
	uint64_t rx = 0, rxd = 0, tx = 0, txd = 0;
	struct tpmd_counters c;

	for (unsigned int i = 0; i < t->nb_ports; i++) {
		uint16_t p = t->ports[i];
		const struct rte_eth_stats *m = &stats_mark[p];
		struct rte_eth_stats st;
		uint64_t prx, prxd, ptx, ptxd;

		if (rte_eth_stats_get(p, &st) != 0)
			continue;
		prx = st.ipackets - m->ipackets;
		prxd = st.imissed - m->imissed + st.rx_nombuf - m->rx_nombuf;
		ptx = st.opackets - m->opackets;
		ptxd = st.oerrors - m->oerrors;
		printf("\n  ---------------------- Forward statistics for port %-2u "
			"----------------------\n", p);
		printf("  RX-packets: %-14" PRIu64 " RX-dropped: %-14" PRIu64 " RX-total: %" PRIu64
			"\n", prx, prxd, prx + prxd);
		printf("  TX-packets: %-14" PRIu64 " TX-dropped: %-14" PRIu64 " TX-total: %" PRIu64
			"\n", ptx, ptxd, ptx + ptxd);
		rx += prx;
		rxd += prxd;
		tx += ptx;
		txd += ptxd;
	}
	tpmd_counters_total(t, &c);
	printf("\n  +++++++++++++++ Accumulated forward statistics for all ports"
		"+++++++++++++++\n");
	printf("  RX-packets: %-14" PRIu64 " RX-dropped: %-14" PRIu64 " RX-total: %" PRIu64 "\n",
		rx, rxd, rx + rxd);
	printf("  TX-packets: %-14" PRIu64 " TX-dropped: %-14" PRIu64 " TX-total: %" PRIu64 "\n",
		tx, txd, tx + txd);
	printf("  tidepmd (since launch): rx %" PRIu64 ", tx %" PRIu64 ", freed (TX refused or "
		"no room) %" PRIu64 ", freed at stop (held or waiting) %" PRIu64 ", rx_nombuf %"
		PRIu64 "\n", c.rx, c.tx, c.drops, c.freed_stop, c.nombuf);
	printf("  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++"
		"++++++++++++++\n");
	fflush(stdout);
}
