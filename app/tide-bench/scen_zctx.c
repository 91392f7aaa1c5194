/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * zctx: zero-copy TX against the copy path, through the same send agent, from plain
 * malloc'd memory, for payloads of 64 B to 64 KB, on two ports in the same run:
 *  - null: net_null (the PMD frees every packet at once; nothing reads the payload);
 *  - afp: net_af_packet on a veth pair in a network namespace of this process's own
 *    (unshare(CLONE_NEWNET) of the main thread, gone when the process exits): the PMD
 *    copies each frame into its TX ring and the kernel delivers it to the peer veth,
 *    whose received bytes are checked.
 * Variants per port and size: zc (threshold 0), copy (everything copied) and adaptive
 * (the threshold learns from scratch in every measurement). Size "mix" sends the eleven
 * sizes in turn (a stride through them, each as often), as a server's replies come: there
 * adaptive's sends change path from one to the next. The main lcore submits and polls,
 * keeping the agent's queue full; the agent runs on the worker lcore. Figures:
 * payload throughput (Gbps), the agent's busy TSC cycles per payload byte, ratios as
 * medians of back-to-back pairs, the crossover size, the targets, and the pinned bytes
 * over time while a buffer larger than the pin limit's share is sent from.
 *
 * The buffer is plain malloc'd memory: 4 KB pages, rarely physically contiguous, so in
 * IOVA-as-PA mode a zero-copy send has a segment per page. For 16 KB and up on net_null
 * the run also measures zc and copy from a buffer the kernel backs with transparent huge
 * pages (madvise(MADV_HUGEPAGE): still ordinary anonymous memory, not DPDK's), variant
 * "thp", where a frame's payload is one segment.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "bench.h"
#include "tide_app_opt.h"
#include "tide_zctx.h"

#define ZB_MTU 9000
#define ZB_FRAME (ZB_MTU + 14)
#define ZB_BUF (4u << 20)
#define ZB_DEPTH 256
#define ZB_HDR 42
#define ZB_NB_SIZES 11 /* 64 B ... 64 KB */
#define ZB_MIX ZB_NB_SIZES /* the size index of the mix */
#define ZB_NB_ROWS (ZB_NB_SIZES + 1)
#define ZB_MIX_STRIDE 7 /* prime to ZB_NB_SIZES: each size once in ZB_NB_SIZES sends */
#define ZB_NB_VAR 3
#define ZB_PORTS 2
/* Many rounds: with 5 the adaptive:best rows of one net_null run spread over 0.76-1.10 (AMD
 * EPYC, the machine's speed moving between neighbouring measurements); with 18, in three
 * runs, over 0.88-1.00. A multiple of 6, so that the variants' order (zb_variant()) comes
 * out even.
 */
#define ZB_ROUNDS 18
#define ZB_MS 100

static const char *const zb_vars[ZB_NB_VAR] = { "zc", "copy", "adaptive" };
static const uint32_t zb_thresholds[ZB_NB_VAR] = {
	0, UINT32_MAX - 1, TIDE_ZCTX_THRESHOLD_ADAPTIVE,
};

struct zb_port {
	const char *name;
	char vdev[32];
	const char *args;
	uint16_t id;
	bool up;
};

struct zb_run {
	struct tide_zctx *z;
	struct zb_port port[ZB_PORTS];
	uint8_t *buf;
	uint8_t *buf_thp;   /* ZB_BUF, 2 MB aligned, MADV_HUGEPAGE */
	double thp_mb;      /* the process's anonymous huge pages once both are filled */
	uint8_t hdr[ZB_HDR];
	/* [port][size][variant][round] */
	double gbps[ZB_PORTS][ZB_NB_ROWS][ZB_NB_VAR][BENCH_MAX_ROUNDS];
	double cpb[ZB_PORTS][ZB_NB_ROWS][ZB_NB_VAR][BENCH_MAX_ROUNDS];
	/* net_null from the THP buffer, sizes from ZB_THP_FROM: [size][zc, copy][round] */
	double thp[ZB_NB_SIZES][2][BENCH_MAX_ROUNDS];
	uint32_t sel;       /* sizes to run: bit i for zb_size(i), bit ZB_MIX for the mix */
};

#define ZB_THP_FROM 8 /* size index: 16 KB */

/* The size of row @p i; 0 for the mix. */
static uint32_t
zb_size(unsigned int i)
{
	return i == ZB_MIX ? 0 : 64u << i;
}

/* The payload of send @p seq of row @p si. */
static uint32_t
zb_send_size(unsigned int si, uint64_t seq)
{
	return si == ZB_MIX ? zb_size((unsigned int)(seq * ZB_MIX_STRIDE % ZB_NB_SIZES)) :
		zb_size(si);
}

/* Row @p si's name in the output: its size, or "mix". */
static const char *
zb_row_name(unsigned int si, char *buf, size_t len)
{
	if (si == ZB_MIX)
		return "mix";
	snprintf(buf, len, "%u", zb_size(si));
	return buf;
}

/* One element of --sizes: a size of the set, or "mix". */
static int
zb_size_parse(char *elem, void *arg)
{
	uint32_t *sel = arg;
	unsigned int i;
	char err[160];
	uint64_t v;

	if (strcmp(elem, "mix") == 0) {
		*sel |= 1u << ZB_MIX;
		return 0;
	}
	if (tide_app_parse_u64(elem, zb_size(0), zb_size(ZB_NB_SIZES - 1), &v, err,
			sizeof(err)) != 0) {
		fprintf(stderr, "tide-bench: --sizes: %s, a power of 2, or mix\n", err);
		return -EINVAL;
	}
	for (i = 0; i < ZB_NB_SIZES && zb_size(i) != v; i++)
		;
	if (i == ZB_NB_SIZES) {
		fprintf(stderr, "tide-bench: --sizes: '%s' is not a power of 2; accepted: "
			"%u..%u, a power of 2, or mix\n", elem, zb_size(0),
			zb_size(ZB_NB_SIZES - 1));
		return -EINVAL;
	}
	*sel |= 1u << i;
	return 0;
}

/* Before EAL: --sizes, a comma-separated list of sizes of the set and "mix"; all without it. */
static int
zb_check(struct bench_opts *o)
{
	if (o->sizes_arg == NULL) {
		o->sizes = (1u << ZB_NB_ROWS) - 1;
		return 0;
	}
	o->sizes = 0;
	return tide_app_opt_list("--sizes", o->sizes_arg, "sizes of 64, 128, ... 65536 bytes "
		"and mix, comma-separated", zb_size_parse, &o->sizes) == 0 ? 0 : -1;
}

static bool
zb_selected(const struct zb_run *r, unsigned int si)
{
	return (r->sel & (1u << si)) != 0;
}

static int
zb_port_start(struct zb_port *p, struct rte_mempool *mp, uint16_t mtu)
{
	struct rte_eth_conf conf = { .rxmode = { .mtu = mtu } };
	struct rte_eth_dev_info info;

	if (rte_vdev_init(p->vdev, p->args) != 0 ||
			rte_eth_dev_get_port_by_name(p->vdev, &p->id) != 0 ||
			rte_eth_dev_info_get(p->id, &info) != 0)
		return -1;
	conf.txmode.offloads = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (rte_eth_dev_configure(p->id, 1, 1, &conf) != 0 ||
			rte_eth_rx_queue_setup(p->id, 0, 256, SOCKET_ID_ANY, NULL, mp) != 0 ||
			rte_eth_tx_queue_setup(p->id, 0, 1024, SOCKET_ID_ANY, NULL) != 0 ||
			rte_eth_dev_start(p->id) != 0)
		return -1;
	p->up = true;
	return 0;
}

static void
zb_port_stop(struct zb_port *p)
{
	/* Also a port that failed half-way through its start. */
	if (p->up)
		rte_eth_dev_stop(p->id);
	if (rte_eth_dev_get_port_by_name(p->vdev, &p->id) != 0)
		return;
	rte_eth_dev_close(p->id);
	rte_vdev_uninit(p->vdev);
	p->up = false;
}

/* The veth pair, in a network namespace of the main thread's own. */
static int
zb_netns(void)
{
	if (unshare(CLONE_NEWNET) != 0) {
		perror("tide-bench zctx: unshare(CLONE_NEWNET)");
		return -1;
	}
	return system("ip link add tzc0 type veth peer name tzc1 && "
		"ip link set tzc0 mtu 9000 up && ip link set tzc1 mtu 9000 up") == 0 ? 0 : -1;
}

/* Bytes the peer veth received (this namespace's /proc/self/net/dev). */
static uint64_t
zb_peer_rx_bytes(void)
{
	char line[512];
	uint64_t v = 0;
	FILE *f = fopen("/proc/self/net/dev", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *c = strstr(line, "tzc1:");

		if (c != NULL)
			v = strtoull(c + 5, NULL, 10);
	}
	fclose(f);
	return v;
}

/* Take the completions of the @p out sends still outstanding: still queued for the agent,
 * in flight, or completed and not yet polled. None may count in the next measurement.
 */
static void
zb_drain(struct tide_zctx *z, uint64_t out)
{
	struct tide_zctx_cpl cpl[64];

	while (out > 0)
		out -= tide_zctx_poll(z, cpl, RTE_DIM(cpl));
}

/* Send row @p si's payloads to @p port for @p ms; returns Gbps, *cpb cycles per byte. */
static double
zb_measure(struct zb_run *r, const uint8_t *buf, uint16_t port, unsigned int si,
	unsigned int ms, double *cpb)
{
	struct tide_zctx_cpl cpl[64];
	struct tide_zctx_stats s0, s1;
	struct iovec iov[TIDE_ZCTX_SUBMIT_BURST];
	struct tide_zctx_send s[TIDE_ZCTX_SUBMIT_BURST];
	uint64_t t0, t1, end, bytes = 0, off = 0, out = 0, seq = 0;
	unsigned int ready = 0; /* s[0..ready-1] filled in, not yet queued */

	tide_zctx_stats_get(r->z, &s0);
	t0 = bench_now_ns();
	end = t0 + (uint64_t)ms * 1000000;
	do {
		unsigned int n = tide_zctx_poll(r->z, cpl, RTE_DIM(cpl));

		out -= n;
		for (unsigned int i = 0; i < n; i++)
			bytes += cpl[i].bytes;
		/* A burst of sends from the buffer, one after another, as a server would. */
		for (; ready < TIDE_ZCTX_SUBMIT_BURST; ready++) {
			uint32_t size = zb_send_size(si, seq++);

			iov[ready] = (struct iovec){
				.iov_base = (void *)(uintptr_t)(buf + off), .iov_len = size,
			};
			s[ready] = (struct tide_zctx_send){
				.port = port, .hdr_len = ZB_HDR, .nb_iov = 1, .hdr = r->hdr,
				.iov = &iov[ready],
			};
			off = (off + RTE_ALIGN_CEIL(size, 64)) % (ZB_BUF - 65536);
		}
		int q = tide_zctx_submit_burst(r->z, s, ready);

		if (q > 0) {
			/* What did not go waits at the front for the next burst. */
			memmove(iov, &iov[q], (ready - q) * sizeof(iov[0]));
			memmove(s, &s[q], (ready - q) * sizeof(s[0]));
			for (unsigned int i = 0; i < ready - q; i++)
				s[i].iov = &iov[i];
			ready -= q;
			out += q;
		}
		t1 = bench_now_ns();
	} while (t1 < end && !bench_stopped());
	tide_zctx_stats_get(r->z, &s1);
	zb_drain(r->z, out);
	*cpb = (double)(s1.busy_cycles - s0.busy_cycles) /
		(double)RTE_MAX(s1.zc_bytes + s1.copy_bytes - s0.zc_bytes - s0.copy_bytes, 1ul);
	return bytes * 8.0 / (double)(t1 - t0);
}

/* Kilobytes of the process's anonymous memory in transparent huge pages. */
static double
zb_anon_huge_kb(void)
{
	char line[256];
	double kb = 0, v;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "AnonHugePages: %lf", &v) == 1)
			kb = v;
	fclose(f);
	return kb;
}

static int
zb_setup(struct zb_run *r, struct rte_mempool **mp)
{
	struct tide_zctx_params p;
	unsigned int agent = rte_get_next_lcore(-1, 1, 0);

	if (agent >= RTE_MAX_LCORE) {
		fprintf(stderr, "tide-bench zctx: needs 2 lcores (submitter, agent)\n");
		return -1;
	}
	/* RX queues are set up but never polled; af_packet wants a whole frame per mbuf. */
	*mp = rte_pktmbuf_pool_create("bzc_rx", 1024, 0, 0, RTE_PKTMBUF_HEADROOM + 16384,
		SOCKET_ID_ANY);
	if (*mp == NULL)
		return -1;
	r->port[0].name = "null";
	snprintf(r->port[0].vdev, sizeof(r->port[0].vdev), "net_null_bzc");
	if (zb_port_start(&r->port[0], *mp, ZB_MTU) != 0)
		return -1;
	r->port[1].name = "afp";
	snprintf(r->port[1].vdev, sizeof(r->port[1].vdev), "net_af_packet_bzc");
	r->port[1].args = "iface=tzc0,qpairs=1,blocksz=16384,framesz=16384,framecnt=512,"
		"qdisc_bypass=1";
	if (zb_netns() != 0 || zb_port_start(&r->port[1], *mp, 0) != 0) {
		fprintf(stderr, "tide-bench zctx: no af_packet consumer (veth in a namespace): "
			"null only\n");
		zb_port_stop(&r->port[1]);
	}
	tide_zctx_params_init(&p, "bench");
	p.depth = ZB_DEPTH;
	p.agent_lcore = (int)agent;
	p.max_frame_len = ZB_FRAME;
	p.ports[p.nb_ports++] = r->port[0].id;
	if (r->port[1].up)
		p.ports[p.nb_ports++] = r->port[1].id;
	r->z = tide_zctx_create(&p);
	if (r->z == NULL) {
		fprintf(stderr, "tide-bench zctx: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	/* Ethernet (locally administered MACs) + a local experimental ethertype. */
	memset(r->hdr, 0, sizeof(r->hdr));
	memcpy(r->hdr, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x88\xb5", 14);
	r->buf = malloc(ZB_BUF);
	if (r->buf == NULL || posix_memalign((void **)&r->buf_thp, 2u << 20, ZB_BUF) != 0)
		return -1;
	if (madvise(r->buf_thp, ZB_BUF, MADV_HUGEPAGE) != 0)
		perror("tide-bench zctx: madvise(MADV_HUGEPAGE)");
	for (size_t i = 0; i < ZB_BUF; i++)
		r->buf[i] = r->buf_thp[i] = (uint8_t)i;
	r->thp_mb = zb_anon_huge_kb() / 1024.0;
	return 0;
}

/*
 * The variant measured @p k-th in round @p round. Rotated, so that each is first as often,
 * and in reverse every other three rounds, so that each follows each other one as often: in
 * one order only, the rows of a round go zc, copy, adaptive, zc, copy, ..., and adaptive
 * is always measured right after copy, whose caches and pool it then starts from.
 */
static unsigned int
zb_variant(unsigned int round, unsigned int k)
{
	unsigned int vi = (k + round) % ZB_NB_VAR;

	return (round / ZB_NB_VAR) % 2 ? ZB_NB_VAR - 1 - vi : vi;
}

static void
zb_report_port(const struct bench_opts *o, struct zb_run *r, unsigned int pi)
{
	double worst_zc = INFINITY, worst_ad = INFINITY;
	bool ran_zc = false, ran_ad = false; /* some size from 16 KB on, some size */
	uint32_t crossover = 0;
	char v[96], name[16];

	for (unsigned int si = 0; si < ZB_NB_ROWS; si++) {
		double med[ZB_NB_VAR], tmp[BENCH_MAX_ROUNDS], zc_copy, ad_best;
		const char *row = zb_row_name(si, name, sizeof(name));

		if (!zb_selected(r, si))
			continue;

		for (unsigned int vi = 0; vi < ZB_NB_VAR; vi++) {
			double c[BENCH_MAX_ROUNDS];

			memcpy(c, r->cpb[pi][si][vi], sizeof(c));
			med[vi] = bench_median(memcpy(tmp, r->gbps[pi][si][vi], sizeof(tmp)),
				o->rounds);
			snprintf(v, sizeof(v), "%s/%s/%s", r->port[pi].name, zb_vars[vi], row);
			bench_emit(v, "tput", med[vi], "Gbps");
			bench_emit(v, "cpu", bench_median(c, o->rounds), "cycles/B");
		}
		/*
		 * The better path is the one with the higher median; adaptive is paired with
		 * it round by round. (The per-round maximum of two noisy measurements would
		 * overstate the better path by the noise wherever the two are close.)
		 */
		zc_copy = bench_median_ratio(r->gbps[pi][si][0], r->gbps[pi][si][1], o->rounds);
		ad_best = bench_median_ratio(r->gbps[pi][si][2],
			r->gbps[pi][si][med[0] >= med[1] ? 0 : 1], o->rounds);
		snprintf(v, sizeof(v), "%s/zc:copy/%s", r->port[pi].name, row);
		bench_emit(v, "ratio", zc_copy, "x");
		snprintf(v, sizeof(v), "%s/adaptive:best/%s", r->port[pi].name, row);
		bench_emit(v, "ratio", ad_best, "x");
		if (si == ZB_MIX) /* the targets and the crossover are per size */
			continue;
		if (zb_size(si) >= 16384) {
			worst_zc = bench_worst(worst_zc, zc_copy);
			ran_zc = true;
		}
		worst_ad = bench_worst(worst_ad, ad_best);
		ran_ad = true;
		if (crossover == 0 && med[0] >= med[1])
			crossover = zb_size(si);
		else if (med[0] < med[1])
			crossover = 0; /* zero-copy must win from here on */
	}
	snprintf(v, sizeof(v), "%s/crossover", r->port[pi].name);
	bench_emit(v, "size", crossover, crossover ? "B" : "B(none)");
	snprintf(v, sizeof(v), "target:%s:zc>=2*copy@>=16K", r->port[pi].name);
	if (ran_zc)
		bench_emit(v, "worst", worst_zc, "x");
	snprintf(v, sizeof(v), "target:%s:adaptive>=0.95*best", r->port[pi].name);
	if (ran_ad)
		bench_emit(v, "worst", worst_ad, "x");
}

static void
zb_report_thp(const struct bench_opts *o, struct zb_run *r)
{
	double worst = INFINITY;
	bool ran = false;
	char v[96];

	bench_emit("null/thp/buffer", "anon_huge", r->thp_mb, "MB");
	for (unsigned int si = ZB_THP_FROM; si < ZB_NB_SIZES; si++) {
		double x[BENCH_MAX_ROUNDS], ratio;

		if (!zb_selected(r, si))
			continue;

		for (unsigned int vi = 0; vi < 2; vi++) {
			memcpy(x, r->thp[si][vi], sizeof(x));
			snprintf(v, sizeof(v), "null/thp/%s/%u", zb_vars[vi], zb_size(si));
			bench_emit(v, "tput", bench_median(x, o->rounds), "Gbps");
		}
		ratio = bench_median_ratio(r->thp[si][0], r->thp[si][1], o->rounds);
		snprintf(v, sizeof(v), "null/thp/zc:copy/%u", zb_size(si));
		bench_emit(v, "ratio", ratio, "x");
		worst = bench_worst(worst, ratio);
		ran = true;
	}
	if (ran)
		bench_emit("target:null/thp:zc>=2*copy@>=16K", "worst", worst, "x");
}

/* Pinned bytes over time: 64 KB sends sweeping 4 MB, then idle, then a flush. */
static void
zb_pinned_timeline(struct zb_run *r)
{
	struct tide_zctx_cache_stats cs;
	char v[64];
	double cpb;
	unsigned int t;

	tide_zctx_cache_flush();
	tide_zctx_threshold_set(r->z, 0);
	for (t = 0; t <= 1000; t += 100) {
		tide_zctx_cache_stats_get(&cs);
		snprintf(v, sizeof(v), "pinned@%ums%s", t, t == 0 ? "(start)" : "");
		bench_emit(v, "pinned", cs.pinned_bytes / 1048576.0, "MB");
		if (t < 600)
			zb_measure(r, r->buf, r->port[0].id, ZB_NB_SIZES - 1, 100, &cpb);
		else
			rte_delay_us_sleep(100 * 1000);
	}
	snprintf(v, sizeof(v), "pinned@%ums(flushed)", t);
	tide_zctx_cache_flush();
	tide_zctx_cache_stats_get(&cs);
	bench_emit(v, "pinned", cs.pinned_bytes / 1048576.0, "MB");
	bench_emit("pin_limit", "limit", cs.pin_limit / 1048576.0, "MB");
}

static int
zb_run(const struct bench_opts *given)
{
	static struct zb_run r;
	struct bench_opts opts = *given, *o = &opts;
	struct rte_mempool *mp = NULL;
	uint64_t rx0;
	int ret = -1;

	opts.rounds = bench_rounds(given, ZB_ROUNDS);
	opts.ms = bench_ms(given, ZB_MS);

	memset(&r, 0, sizeof(r));
	r.sel = o->sizes;
	if (zb_setup(&r, &mp) != 0)
		goto out;
	rx0 = zb_peer_rx_bytes();
	/* In PA mode a segment ends at every page boundary that is not physically
	 * contiguous; in VA mode (an IOMMU's, or no DMA at all) only at the frame's end.
	 */
	bench_emit(rte_eal_iova_mode() == RTE_IOVA_VA ? "iova/va" : "iova/pa", "mode", 1, "");
	for (unsigned int round = 0; round < o->rounds && !bench_stopped(); round++) {
		for (unsigned int pi = 0; pi < ZB_PORTS; pi++)
			for (unsigned int si = 0; si < ZB_NB_ROWS; si++)
				for (unsigned int k = 0; k < ZB_NB_VAR; k++) {
					unsigned int vi = zb_variant(round, k);
					double *g = &r.gbps[pi][si][vi][round];

					if (!r.port[pi].up || !bench_selected(o, r.port[pi].name) ||
							!zb_selected(&r, si))
						continue;
					tide_zctx_threshold_set(r.z, zb_thresholds[vi]);
					*g = zb_measure(&r, r.buf, r.port[pi].id, si, o->ms,
						&r.cpb[pi][si][vi][round]);
				}
		for (unsigned int si = ZB_THP_FROM; si < ZB_NB_SIZES && bench_selected(o, "null");
				si++)
			for (unsigned int k = 0; k < 2 && zb_selected(&r, si); k++) {
				unsigned int vi = (k + round) % 2;
				double cpb;

				tide_zctx_threshold_set(r.z, zb_thresholds[vi]);
				r.thp[si][vi][round] = zb_measure(&r, r.buf_thp, r.port[0].id,
					si, o->ms, &cpb);
			}
	}
	for (unsigned int pi = 0; pi < ZB_PORTS; pi++)
		if (r.port[pi].up && bench_selected(o, r.port[pi].name))
			zb_report_port(o, &r, pi);
	if (bench_selected(o, "null"))
		zb_report_thp(o, &r);
	if (r.port[1].up)
		bench_emit("afp/peer_rx", "bytes", (double)(zb_peer_rx_bytes() - rx0), "B");
	zb_pinned_timeline(&r);
	ret = 0;
out:
	if (r.z != NULL && tide_zctx_free(r.z) != 0)
		ret = -1;
	for (unsigned int pi = 0; pi < ZB_PORTS; pi++)
		zb_port_stop(&r.port[pi]);
	rte_mempool_free(mp);
	free(r.buf);
	free(r.buf_thp);
	return ret;
}

const struct bench_scenario bench_zctx = {
	.name = "zctx",
	.help = "zero-copy vs copy vs adaptive TX from malloc'd memory, 64 B..64 KB, "
		"net_null and af_packet/veth",
	.filter = "the port: null (with its thp rows), afp; every size and path of it "
		"(--sizes picks sizes)",
	.opts = BENCH_OPT_MS | BENCH_OPT_SIZES,
	.check = zb_check,
	.run = zb_run,
};
