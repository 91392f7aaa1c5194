/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * donor: memory from donor processes against the process's own, in the same run.
 *
 * Obtaining: the time to get 64 MB and to give it back -- from the process's own heap
 * (rte_memzone_reserve of hugepages, "heap"), from hugepage donors ("donor_huge/kK": K
 * donors of 64/K MB each) and from pinned donors ("donor_pinned": K from RLIMIT_MEMLOCK,
 * memfd + mlock in each), in interleaved rounds. The donor time covers starting the
 * processes, their allocation, the descriptors' transfer and checks, the mapping, the IO
 * addresses and the registration with DPDK; giving back covers terminating them. Donors
 * inherit the CPU affinity of the manager's control thread (DPDK's control cpuset: with
 * every CPU an lcore, the main lcore's CPU), so K donors allocate one after another.
 *
 * Sending: zero-copy throughput through the zctx agent (net_null, agent on a worker lcore)
 * from a 32 MB buffer, four times RLIMIT_MEMLOCK's 8 MB: from donor memory
 * (tide_donor_alloc(): pinned by the donors, DPDK memory to the agent, no pin per send)
 * against the same size of malloc'd memory that the agent pins on demand within its pin
 * cache (limited by RLIMIT_MEMLOCK, so sweeping the buffer evicts and pins again), and a
 * malloc'd 2 MB buffer that fits the cache (pinned once: on-demand pinning at its best).
 * Payloads of 16 KB and 64 KB.
 *
 * Donors are the tide-donor helper: the build tree's, the installed one, or TIDE_DONOR_HELPER.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_memzone.h>

#include "bench.h"
#include "tide_app.h"
#include "tide_donor.h"
#include "tide_zctx.h"

#define DB_OBTAIN (64ull << 20)
#define DB_SEND_BUF (32ull << 20)
#define DB_FIT_BUF (2ull << 20)
#define DB_DEPTH 64
#define DB_HDR 42
#define DB_NB_OBTAIN 4
#define DB_NB_SEND 3
#define DB_NB_SIZES 2

static const char *const db_obtain_names[DB_NB_OBTAIN] = {
	"heap", "donor_huge/k1", "donor_huge/k4", "donor_pinned",
};
static const char *const db_send_names[DB_NB_SEND] = { "donor", "malloc", "malloc_fit" };
static const uint32_t db_sizes[DB_NB_SIZES] = { 16384, 65536 };

struct db_run {
	struct tide_donor_mgr *mgr[DB_NB_OBTAIN];
	struct tide_zctx *z;
	struct rte_mempool *rx;
	uint16_t port;
	bool port_up;
	uint8_t *buf[DB_NB_SEND];
	size_t buf_len[DB_NB_SEND];
	uint8_t hdr[DB_HDR];
	double obtain_ms[DB_NB_OBTAIN][BENCH_MAX_ROUNDS];
	double release_ms[DB_NB_OBTAIN][BENCH_MAX_ROUNDS];
	unsigned int donors[DB_NB_OBTAIN];
	double gbps[DB_NB_SEND][DB_NB_SIZES][BENCH_MAX_ROUNDS];
	uint64_t failed[DB_NB_SEND];
};

static struct tide_donor_mgr *
db_mgr(const char *name, uint64_t huge_max)
{
	struct tide_donor_params p;
	struct tide_donor_mgr *m;

	tide_donor_params_init(&p, name);
	p.helper = tide_app_donor_helper();
	p.donor_max[TIDE_DONOR_HUGE] = huge_max;
	p.own_max[TIDE_DONOR_HUGE] = p.own_max[TIDE_DONOR_PINNED] = 0;
	p.heap_grow = DB_SEND_BUF + (1u << 20);
	m = tide_donor_mgr_create(&p);
	if (m == NULL)
		fprintf(stderr, "tide-bench donor: %s: %s (is TIDE_DONOR_HELPER set?)\n", name,
			rte_strerror(rte_errno));
	return m;
}

/* ---- Obtaining 64 MB. */

static int
db_obtain_one(struct db_run *r, unsigned int v, unsigned int round)
{
	const struct rte_memzone *mz = NULL;
	struct tide_donor_region_info ri;
	struct tide_donor_region *reg = NULL;
	uint64_t t0, t1, t2;

	t0 = bench_now_ns();
	if (v == 0)
		mz = rte_memzone_reserve("bdn_heap", DB_OBTAIN, SOCKET_ID_ANY, 0);
	else
		reg = tide_donor_request(r->mgr[v], DB_OBTAIN,
			v == 3 ? TIDE_DONOR_PINNED : TIDE_DONOR_HUGE, 0);
	t1 = bench_now_ns();
	if (mz == NULL && reg == NULL) {
		fprintf(stderr, "tide-bench donor: %s: cannot get 64 MB: %s\n",
			db_obtain_names[v], rte_strerror(rte_errno));
		return -1;
	}
	if (reg != NULL && tide_donor_region_info(reg, &ri) == 0)
		r->donors[v] = ri.nb_donors;
	if (mz != NULL)
		rte_memzone_free(mz);
	tide_donor_region_free(reg);
	t2 = bench_now_ns();
	r->obtain_ms[v][round] = (double)(t1 - t0) / 1e6;
	r->release_ms[v][round] = (double)(t2 - t1) / 1e6;
	return 0;
}

/* ---- Sending. */

static int
db_port(struct db_run *r)
{
	struct rte_eth_conf conf = { .rxmode = { .mtu = 9000 } };
	struct rte_eth_dev_info info;

	r->rx = rte_pktmbuf_pool_create("bdn_rx", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	if (r->rx == NULL || rte_vdev_init("net_null_bdn", NULL) != 0 ||
			rte_eth_dev_get_port_by_name("net_null_bdn", &r->port) != 0 ||
			rte_eth_dev_info_get(r->port, &info) != 0)
		return -1;
	conf.txmode.offloads = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (rte_eth_dev_configure(r->port, 1, 1, &conf) != 0 ||
			rte_eth_rx_queue_setup(r->port, 0, 256, SOCKET_ID_ANY, NULL, r->rx) != 0 ||
			rte_eth_tx_queue_setup(r->port, 0, 1024, SOCKET_ID_ANY, NULL) != 0 ||
			rte_eth_dev_start(r->port) != 0)
		return -1;
	r->port_up = true;
	return 0;
}

static int
db_send_setup(struct db_run *r)
{
	unsigned int agent = rte_get_next_lcore(-1, 1, 0);
	struct tide_zctx_params p;

	if (agent >= RTE_MAX_LCORE) {
		fprintf(stderr, "tide-bench donor: needs 2 lcores (submitter, agent)\n");
		return -1;
	}
	if (db_port(r) != 0)
		return -1;
	tide_zctx_params_init(&p, "bench_donor");
	p.depth = DB_DEPTH;
	p.agent_lcore = (int)agent;
	p.copy_threshold = 0;
	p.max_frame_len = 9014;
	p.ports[p.nb_ports++] = r->port;
	r->z = tide_zctx_create(&p);
	if (r->z == NULL)
		return -1;
	memcpy(r->hdr, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x88\xb5", 14);
	r->buf_len[0] = r->buf_len[1] = DB_SEND_BUF;
	r->buf_len[2] = DB_FIT_BUF;
	r->buf[0] = tide_donor_alloc(r->mgr[3], DB_SEND_BUF, 4096);
	r->buf[1] = malloc(DB_SEND_BUF);
	r->buf[2] = malloc(DB_FIT_BUF);
	if (r->buf[0] == NULL)
		fprintf(stderr, "tide-bench donor: tide_donor_alloc: %s\n", rte_strerror(rte_errno));
	for (unsigned int i = 0; i < DB_NB_SEND; i++) {
		if (r->buf[i] == NULL)
			return -1;
		memset(r->buf[i], (int)i, r->buf_len[i]);
	}
	return 0;
}

/* Send @p size payloads sweeping buffer @p b for @p ms; Gbps of completed sends. */
static double
db_measure(struct db_run *r, unsigned int b, uint32_t size, unsigned int ms)
{
	uint64_t t0 = bench_now_ns(), end = t0 + (uint64_t)ms * 1000000, bytes = 0, t1;
	unsigned int out = 0;
	size_t off = 0;

	do {
		struct tide_zctx_cpl cpl[32];
		struct iovec iov = { .iov_base = r->buf[b] + off, .iov_len = size };
		struct tide_zctx_send s = { .port = r->port, .nb_iov = 1, .iov = &iov,
			.hdr = r->hdr, .hdr_len = DB_HDR };
		unsigned int n;

		if (tide_zctx_submit(r->z, &s) == 0) {
			out++;
			off = (off + size) % (r->buf_len[b] - size + 1);
		}
		n = tide_zctx_poll(r->z, cpl, RTE_DIM(cpl));
		out -= n;
		for (unsigned int i = 0; i < n; i++) {
			bytes += cpl[i].bytes;
			r->failed[b] += cpl[i].status != 0;
		}
		t1 = bench_now_ns();
	} while (t1 < end && !bench_stopped());
	while (out > 0) {
		struct tide_zctx_cpl cpl[32];
		unsigned int n = tide_zctx_poll(r->z, cpl, RTE_DIM(cpl));

		out -= n;
		for (unsigned int i = 0; i < n; i++)
			r->failed[b] += cpl[i].status != 0;
	}
	return (double)bytes * 8.0 / (double)(t1 - t0);
}

/* ---- Report. */

static double
db_med(const struct bench_opts *o, const double *v)
{
	double t[BENCH_MAX_ROUNDS];

	memcpy(t, v, sizeof(t));
	return bench_median(t, o->rounds);
}

static void
db_report(const struct bench_opts *o, struct db_run *r)
{
	struct tide_zctx_cache_stats cs;
	char v[96];

	for (unsigned int i = 0; i < DB_NB_OBTAIN; i++) {
		if (!bench_selected(o, db_obtain_names[i]))
			continue;
		snprintf(v, sizeof(v), "obtain64MB/%s", db_obtain_names[i]);
		bench_emit(v, "obtain", db_med(o, r->obtain_ms[i]), "ms");
		bench_emit(v, "release", db_med(o, r->release_ms[i]), "ms");
		if (i != 0)
			bench_emit(v, "donors", r->donors[i], "");
		if (i != 0 && bench_selected(o, db_obtain_names[0])) {
			/* A time against a time: lower is better, unlike the rate ratios. */
			snprintf(v, sizeof(v), "obtain64MB/%s:heap", db_obtain_names[i]);
			bench_emit(v, "time_ratio", bench_median_ratio(r->obtain_ms[i],
				r->obtain_ms[0], o->rounds), "x");
		}
	}
	for (unsigned int si = 0; si < DB_NB_SIZES && bench_selected(o, "send"); si++) {
		for (unsigned int b = 0; b < DB_NB_SEND; b++) {
			snprintf(v, sizeof(v), "send/%s/%u", db_send_names[b], db_sizes[si]);
			bench_emit(v, "tput", db_med(o, r->gbps[b][si]), "Gbps");
		}
		for (unsigned int b = 1; b < DB_NB_SEND; b++) {
			snprintf(v, sizeof(v), "send/donor:%s/%u", db_send_names[b], db_sizes[si]);
			bench_emit(v, "ratio", bench_median_ratio(r->gbps[0][si], r->gbps[b][si],
				o->rounds), "x");
		}
	}
	if (bench_selected(o, "send")) {
		for (unsigned int b = 0; b < DB_NB_SEND; b++) {
			snprintf(v, sizeof(v), "send/%s", db_send_names[b]);
			bench_emit(v, "failed", (double)r->failed[b], "sends");
		}
		tide_zctx_cache_stats_get(&cs);
		bench_emit("send/pin_cache", "limit", cs.pin_limit / 1048576.0, "MB");
		bench_emit("send/pin_cache", "pinned_total", cs.pinned_total / 1048576.0, "MB");
	}
}

static void
db_cleanup(struct db_run *r)
{
	if (r->z != NULL)
		tide_zctx_free(r->z);
	if (r->port_up) {
		rte_eth_dev_stop(r->port);
		rte_eth_dev_close(r->port);
	}
	rte_vdev_uninit("net_null_bdn");
	rte_mempool_free(r->rx);
	tide_donor_free(r->mgr[3], r->buf[0]);
	free(r->buf[1]);
	free(r->buf[2]);
	for (unsigned int i = 0; i < DB_NB_OBTAIN; i++)
		tide_donor_mgr_free(r->mgr[i]);
}

static int
db_run(const struct bench_opts *o_in)
{
	static struct db_run r;
	struct bench_opts o = *o_in;
	unsigned int ms;
	int ret = -1;

	memset(&r, 0, sizeof(r));
	o.rounds = bench_rounds(o_in, 5);
	ms = bench_ms(o_in, 200);
	r.mgr[1] = db_mgr("bench_k1", 0);
	r.mgr[2] = db_mgr("bench_k4", DB_OBTAIN / 4);
	r.mgr[3] = db_mgr("bench_pin", 0);
	if (r.mgr[1] == NULL || r.mgr[2] == NULL || r.mgr[3] == NULL)
		goto out;
	for (unsigned int round = 0; round < o.rounds && !bench_stopped(); round++)
		for (unsigned int k = 0; k < DB_NB_OBTAIN; k++) {
			unsigned int v = (k + round) % DB_NB_OBTAIN;

			if (bench_selected(&o, db_obtain_names[v]) && db_obtain_one(&r, v, round))
				goto out;
		}
	if (bench_selected(&o, "send")) {
		if (db_send_setup(&r) != 0)
			goto out;
		for (unsigned int round = 0; round < o.rounds && !bench_stopped(); round++)
			for (unsigned int si = 0; si < DB_NB_SIZES; si++)
				for (unsigned int k = 0; k < DB_NB_SEND; k++) {
					unsigned int b = (k + round) % DB_NB_SEND;

					r.gbps[b][si][round] = db_measure(&r, b, db_sizes[si], ms);
				}
	}
	db_report(&o, &r);
	ret = 0;
out:
	db_cleanup(&r);
	return ret;
}

const struct bench_scenario bench_donor = {
	.name = "donor",
	.help = "64 MB from donors vs the own heap; zero-copy from donor memory vs malloc "
		"pinned on demand (needs TIDE_DONOR_HELPER in the build tree)",
	.filter = "what obtains 64 MB: heap, donor_huge/k1, donor_huge/k4, donor_pinned; "
		"send: every send row",
	.run = db_run,
	.opts = BENCH_OPT_MS,
};
