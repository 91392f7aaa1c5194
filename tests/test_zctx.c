/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Zero-copy TX under EAL, on real vdevs: net_null (the PMD frees at once) and net_ring
 * (the PMD's "wire" is a ring this test drains, so it decides when and in what order the
 * mbufs are freed). Pinning is checked against the kernel's own count (VmLck), and
 * translation against DPDK's own pagemap reader (rte_mem_virt2phy).
 */

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "test_common.h"
#include "tide_fault.h"
#include "tide_zctx.h"

#define KB 1024u
#define TEST_WAIT_MS 10000
#define HDR_LEN 42

static struct rte_mempool *rx_pool;
static uint16_t null_port;
static uint8_t hdr[TIDE_ZCTX_HDR_MAX];

/* ---- Helpers. */

static long
vmlck_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmLck:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

static int
port_setup(uint16_t port, uint16_t txq, uint16_t mtu)
{
	struct rte_eth_conf conf = { .rxmode = { .mtu = mtu } };
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port, &info) != 0)
		return -1;
	/* Zero-copy needs chains where the port says it can be asked for them. */
	conf.txmode.offloads = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;

	if (rte_eth_dev_configure(port, 1, txq, &conf) != 0 ||
			rte_eth_rx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL, rx_pool) != 0)
		return -1;
	for (uint16_t q = 0; q < txq; q++)
		if (rte_eth_tx_queue_setup(port, q, 512, SOCKET_ID_ANY, NULL) != 0)
			return -1;
	return rte_eth_dev_start(port);
}

/* A net_ring port whose TX ring (of @p size) the test drains. */
struct ring_port {
	char name[32];
	uint16_t port;
	struct rte_ring *rx, *tx;
};

static int
ring_port_open(struct ring_port *rp, const char *name, unsigned int size)
{
	char n[RTE_RING_NAMESIZE];
	int port;

	memset(rp, 0, sizeof(*rp));
	snprintf(rp->name, sizeof(rp->name), "%s", name);
	snprintf(n, sizeof(n), "%s_rx", name);
	rp->rx = rte_ring_create(n, 64, SOCKET_ID_ANY, 0);
	snprintf(n, sizeof(n), "%s_tx", name);
	rp->tx = rte_ring_create(n, size, SOCKET_ID_ANY, RING_F_EXACT_SZ);
	if (rp->rx == NULL || rp->tx == NULL)
		return -1;
	port = rte_eth_from_rings(name, &rp->rx, 1, &rp->tx, 1, SOCKET_ID_ANY);
	if (port < 0)
		return -1;
	rp->port = (uint16_t)port;
	return port_setup(rp->port, 1, 1500);
}

static unsigned int
ring_drain(struct ring_port *rp, struct rte_mbuf **pkts, unsigned int max)
{
	return rte_ring_dequeue_burst(rp->tx, (void **)pkts, max, NULL);
}

static void
ring_port_close(struct ring_port *rp)
{
	struct rte_mbuf *m[64];
	char vdev[48];
	unsigned int n;

	while ((n = ring_drain(rp, m, RTE_DIM(m))) > 0)
		rte_pktmbuf_free_bulk(m, n);
	rte_eth_dev_stop(rp->port);
	rte_eth_dev_close(rp->port);
	snprintf(vdev, sizeof(vdev), "net_ring_%s", rp->name);
	rte_vdev_uninit(vdev);
	rte_ring_free(rp->rx);
	rte_ring_free(rp->tx);
}

static struct tide_zctx *
zctx_make(const char *name, uint16_t port, uint32_t threshold, uint32_t flags,
	unsigned int depth)
{
	struct tide_zctx_params p;

	tide_zctx_params_init(&p, name);
	p.nb_ports = 1;
	p.ports[0] = port;
	p.copy_threshold = threshold;
	p.flags = flags;
	p.depth = depth;
	return tide_zctx_create(&p);
}

static void
cache_set(size_t idle, size_t pin_limit)
{
	struct tide_zctx_cache_params cp = { .idle_bytes = idle, .pin_limit = pin_limit };

	CU_ASSERT_EQUAL(tide_zctx_cache_configure(&cp), 0);
}

static int
send_one(struct tide_zctx *z, uint16_t port, uint64_t cookie, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct tide_zctx_send s = {
		.cookie = cookie, .port = port, .queue = 0, .hdr_len = HDR_LEN, .nb_iov = 1,
		.hdr = hdr, .iov = &iov,
	};

	return tide_zctx_submit(z, &s);
}

/* Poll until @p n completions arrived (or the wait expired); returns how many. */
static unsigned int
poll_n(struct tide_zctx *z, struct tide_zctx_cpl *cpl, unsigned int n)
{
	uint64_t end = tide_test_now_ns() + TEST_WAIT_MS * 1000000ull;
	unsigned int got = 0;

	while (got < n && tide_test_now_ns() < end) {
		unsigned int k = tide_zctx_poll(z, &cpl[got], n - got);

		got += k;
		if (k == 0)
			tide_test_sleep_us(100);
	}
	return got;
}

static void *
page_buf(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)p)[i] = (uint8_t)(i * 7 + 3);
	return p;
}

static uint64_t
port_opackets(uint16_t port)
{
	struct rte_eth_stats st;

	return rte_eth_stats_get(port, &st) == 0 ? st.opackets : UINT64_MAX;
}

/* Every byte of @p pkt: the header, then @p len payload bytes from @p src. */
static bool
pkt_is(const struct rte_mbuf *pkt, const uint8_t *src, uint32_t len)
{
	uint8_t buf[16 * KB];
	const uint8_t *d;

	if (pkt->pkt_len != HDR_LEN + len || pkt->pkt_len > sizeof(buf))
		return false;
	d = rte_pktmbuf_read(pkt, 0, pkt->pkt_len, buf);
	return memcmp(d, hdr, HDR_LEN) == 0 && memcmp(d + HDR_LEN, src, len) == 0;
}

/* ---- Translation and packets. */

static void
test_segments_carry_pagemap_addresses(void)
{
	struct tide_zctx_cpl cpl;
	struct rte_mbuf *pkts[64];
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(64 * KB);
	unsigned int n, segs = 0;
	uint32_t off = 0;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_xl", 1024) == 0);
	cache_set(0, 0);
	z = zctx_make("xl", rp.port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	/* Not page aligned, several pages, several packets (MTU 1500). */
	CU_ASSERT_EQUAL(send_one(z, rp.port, 7, buf + 100, 9000), 0);
	while (off < 9000) {
		n = 0;
		while (n == 0)
			n = ring_drain(&rp, pkts, 1);
		CU_ASSERT(pkts[0]->pkt_len <= 1514);
		CU_ASSERT(pkt_is(pkts[0], buf + 100 + off, pkts[0]->pkt_len - HDR_LEN));
		for (struct rte_mbuf *m = pkts[0]->next; m != NULL; m = m->next) {
			void *va = rte_pktmbuf_mtod(m, void *);

			const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(va);

			CU_ASSERT(!!RTE_MBUF_HAS_EXTBUF(m));
			CU_ASSERT_EQUAL(rte_pktmbuf_iova(m), rte_mem_virt2phy(va));
			/* DPDK knows the memory: its memseg shows the same address. */
			CU_ASSERT_FATAL(msl != NULL && msl->external);
			CU_ASSERT_EQUAL(rte_mem_virt2memseg(va, msl)->iova +
				((uintptr_t)va & 4095), rte_pktmbuf_iova(m));
			segs++;
		}
		off += pkts[0]->pkt_len - HDR_LEN;
		rte_pktmbuf_free(pkts[0]);
	}
	CU_ASSERT_EQUAL(off, 9000);
	CU_ASSERT(segs >= 7); /* 9000 bytes over 3+ pages, 7 packets */
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.cookie, 7);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(cpl.bytes, 9000);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	munmap(buf, 64 * KB);
}

static void
test_copies_below_the_threshold_carry_the_same_bytes(void)
{
	struct tide_zctx_stats st;
	struct tide_zctx_cpl cpl[2];
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(16 * KB);

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_cp", 1024) == 0);
	z = zctx_make("cp", rp.port, 1000, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 1, buf + 5, 999), 0);  /* copied */
	CU_ASSERT_EQUAL(send_one(z, rp.port, 2, buf + 5, 1000), 0); /* zero-copy */
	for (unsigned int i = 0; i < 2; i++) {
		while (ring_drain(&rp, &pkt, 1) == 0)
			;
		CU_ASSERT(pkt_is(pkt, buf + 5, 999 + i));
		CU_ASSERT_EQUAL(!!RTE_MBUF_HAS_EXTBUF(pkt->next != NULL ? pkt->next : pkt), i == 1);
		rte_pktmbuf_free(pkt);
	}
	CU_ASSERT_EQUAL(poll_n(z, cpl, 2), 2);
	tide_zctx_stats_get(z, &st);
	CU_ASSERT_EQUAL(st.copy_sends, 1);
	CU_ASSERT_EQUAL(st.zc_sends, 1);
	CU_ASSERT_EQUAL(st.zc_released, 1);
	CU_ASSERT_EQUAL(st.threshold, 1000);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	munmap(buf, 16 * KB);
}

/*
 * A send travels packed (its iovecs, then its header bytes): sends of every shape, back to
 * back through the same ring elements, must arrive byte for byte, copied or zero-copy.
 */
static void
test_sends_of_every_shape_arrive_whole(void)
{
	static const uint32_t thresholds[2] = { 0, UINT32_MAX - 1 };
	uint8_t *buf = page_buf(64 * KB), want[2048], got[2048], h[TIDE_ZCTX_HDR_MAX];
	struct tide_zctx_cpl cpl[8];
	struct ring_port rp;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_shape", 1024) == 0);
	for (unsigned int t = 0; t < 2; t++) {
		struct tide_zctx *z = zctx_make(t ? "shape_c" : "shape_z", rp.port,
			thresholds[t], 0, 64);

		CU_ASSERT_FATAL(z != NULL);
		/* Many iovecs and a long header, then few and short, then many again. */
		for (unsigned int k = 0; k < 6; k++) {
			unsigned int nb = k % 2 ? 1 + k : TIDE_ZCTX_MAX_IOV - k;
			uint16_t hl = (uint16_t)(k % 2 ? 10 + k : TIDE_ZCTX_HDR_MAX - k);
			struct iovec iov[TIDE_ZCTX_MAX_IOV];
			struct tide_zctx_send s = {
				.cookie = k, .port = rp.port, .hdr_len = hl, .nb_iov = (uint16_t)nb,
				.hdr = h, .iov = iov,
			};
			struct rte_mbuf *pkt;
			uint32_t len = hl;

			for (unsigned int i = 0; i < hl; i++)
				h[i] = (uint8_t)(k * 31 + i);
			memcpy(want, h, hl);
			for (unsigned int i = 0; i < nb; i++) {
				/* Scattered over the buffer, odd lengths. */
				iov[i].iov_base = buf + 4096 * i + 37 * k + i;
				iov[i].iov_len = 17 + 5 * i + k;
				memcpy(want + len, iov[i].iov_base, iov[i].iov_len);
				len += (uint32_t)iov[i].iov_len;
			}
			CU_ASSERT_EQUAL_FATAL(tide_zctx_submit(z, &s), 0);
			while (ring_drain(&rp, &pkt, 1) == 0)
				;
			CU_ASSERT_EQUAL(pkt->pkt_len, len);
			CU_ASSERT(pkt->pkt_len <= sizeof(got) && memcmp(rte_pktmbuf_read(pkt, 0,
				pkt->pkt_len, got), want, len) == 0);
			rte_pktmbuf_free(pkt);
			CU_ASSERT_EQUAL(poll_n(z, cpl, 1), 1);
			CU_ASSERT_EQUAL(cpl[0].cookie, k);
			CU_ASSERT_EQUAL(cpl[0].status, 0);
			CU_ASSERT_EQUAL(cpl[0].bytes, len - hl);
		}
		CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	}
	ring_port_close(&rp);
	munmap(buf, 64 * KB);
}

/* A burst goes in order, stops before a bad send and at the depth, and completes. */
static void
test_a_burst_of_sends_queues_in_order_and_stops_where_it_must(void)
{
	uint8_t *buf = page_buf(64 * KB);
	struct tide_zctx_send s[TIDE_ZCTX_SUBMIT_BURST];
	struct iovec iov[TIDE_ZCTX_SUBMIT_BURST];
	struct tide_zctx_cpl cpl[TIDE_ZCTX_SUBMIT_BURST];
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;
	unsigned int got = 0;
	char *log;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_burst", 1024) == 0);
	z = zctx_make("burst", rp.port, 512, 0, 16);
	CU_ASSERT_FATAL(z != NULL);
	for (unsigned int i = 0; i < RTE_DIM(s); i++) {
		/* Both paths: 100 B copied, 1000 B zero-copy. */
		iov[i] = (struct iovec){ .iov_base = buf + 1000 * i, .iov_len = i % 2 ? 1000 : 100 };
		s[i] = (struct tide_zctx_send){
			.cookie = i, .port = rp.port, .hdr_len = HDR_LEN, .nb_iov = 1, .hdr = hdr,
			.iov = &iov[i],
		};
	}
	/* A bad send (s[5]) stops the burst before it; alone, it is refused. */
	iov[5].iov_len = 0;
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, s, 10), 5);
	tide_test_log_begin();
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, &s[5], 5), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, s, 0), -EINVAL);
	log = tide_test_log_end();
	CU_ASSERT(log != NULL && strstr(log, "zero length") != NULL);
	free(log);
	iov[5].iov_len = 100;
	/* Depth 16, 5 outstanding: 11 go, then back-pressure. */
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, &s[5], 40), 11);
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, &s[16], 40), -EAGAIN);
	CU_ASSERT_EQUAL(rte_errno, EAGAIN);
	for (unsigned int i = 0; i < 16; i++) {
		while (ring_drain(&rp, &pkt, 1) == 0)
			;
		CU_ASSERT(pkt_is(pkt, iov[i].iov_base, (uint32_t)iov[i].iov_len));
		rte_pktmbuf_free(pkt);
	}
	while (got < 16) {
		unsigned int n = poll_n(z, &cpl[got], 16 - got);

		CU_ASSERT_FATAL(n > 0);
		got += n;
	}
	for (unsigned int i = 0; i < 16; i++) {
		CU_ASSERT_EQUAL(cpl[i].cookie, i);
		CU_ASSERT_EQUAL(cpl[i].status, 0);
		CU_ASSERT_EQUAL(cpl[i].bytes, iov[i].iov_len);
	}
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	munmap(buf, 64 * KB);
}

/* ---- Pinning. */

static void
test_pinned_bytes_return_to_zero_after_completions(void)
{
	struct tide_zctx_cache_stats cs;
	struct tide_zctx_cpl cpl[64];
	struct tide_zctx *z;
	uint8_t *buf = page_buf(1024 * KB);
	long base = vmlck_kb();

	CU_ASSERT_FATAL(buf != NULL && base >= 0);
	/* No idle cache: pins end with the sends. */
	cache_set(0, 0);
	z = zctx_make("pin", null_port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	for (unsigned int i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(send_one(z, null_port, i, buf + (i % 4) * 256 * KB, 200 * KB), 0);
	CU_ASSERT_EQUAL(poll_n(z, cpl, 64), 64);
	for (unsigned int i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(cpl[i].status, 0);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.pinned_bytes, 0);
	CU_ASSERT_EQUAL(cs.pinned_total, cs.unpinned_total);
	CU_ASSERT_EQUAL(vmlck_kb(), base);
	/* With an idle cache the pins stay until flushed, and sending again hits. */
	cache_set(4u << 20, 0);
	for (unsigned int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(send_one(z, null_port, i, buf, 200 * KB), 0);
	CU_ASSERT_EQUAL(poll_n(z, cpl, 8), 8);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.pinned_bytes, 200 * KB);
	CU_ASSERT_EQUAL(vmlck_kb(), base + 200);
	CU_ASSERT(cs.hits >= 7);
	CU_ASSERT_EQUAL(tide_zctx_cache_flush(), 200 * KB);
	CU_ASSERT_EQUAL(vmlck_kb(), base);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	cache_set(0, 0);
	munmap(buf, 1024 * KB);
}

/* Free every segment of the send separately, in shuffled order. */
static void
test_unpinned_once_when_segments_are_freed_out_of_order(void)
{
	struct tide_zctx_cache_stats c0, c1;
	struct rte_mbuf *pkts[128], *segs[512];
	struct tide_zctx_stats st;
	struct tide_zctx_cpl cpl;
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(128 * KB);
	unsigned int np = 0, ns = 0;
	long base = vmlck_kb();

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_oo", 1024) == 0);
	cache_set(0, 0);
	tide_zctx_cache_stats_get(&c0);
	z = zctx_make("oo", rp.port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 99, buf + 1000, 100 * KB), 0);
	while (np < 70) { /* 100 KB in 1472-byte payloads: 70 packets */
		np += ring_drain(&rp, &pkts[np], RTE_DIM(pkts) - np);
		tide_test_sleep_us(100);
	}
	CU_ASSERT_EQUAL(np, 70);
	for (unsigned int i = 0; i < np; i++)
		for (struct rte_mbuf *m = pkts[i]; m != NULL; m = m->next)
			segs[ns++] = m;
	for (unsigned int i = ns - 1; i > 0; i--) { /* deterministic shuffle */
		unsigned int j = (i * 2654435761u) % (i + 1);
		struct rte_mbuf *t = segs[i];

		segs[i] = segs[j];
		segs[j] = t;
	}
	/* Hold back a segment that carries pinned pages (not a header). How many
	 * segments there are depends on which pages happen to be physically
	 * contiguous, so the shuffle alone cannot choose it. */
	for (unsigned int i = ns; i-- > 0;)
		if (RTE_MBUF_HAS_EXTBUF(segs[i])) {
			struct rte_mbuf *t = segs[ns - 1];

			segs[ns - 1] = segs[i];
			segs[i] = t;
			break;
		}
	CU_ASSERT_FATAL(RTE_MBUF_HAS_EXTBUF(segs[ns - 1]) != 0); /* a 64-bit flag */
	for (unsigned int i = 0; i + 1 < ns; i++)
		rte_pktmbuf_free_seg(segs[i]);
	/* One segment still out: the pages stay pinned, no completion. */
	tide_test_sleep_us(20000);
	tide_zctx_stats_get(z, &st);
	CU_ASSERT_EQUAL(st.zc_released, 0);
	CU_ASSERT_EQUAL(tide_zctx_poll(z, &cpl, 1), 0);
	CU_ASSERT(vmlck_kb() >= base + 100);
	rte_pktmbuf_free_seg(segs[ns - 1]);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(cpl.bytes, 100 * KB);
	tide_zctx_stats_get(z, &st);
	CU_ASSERT_EQUAL(st.zc_released, 1);
	tide_zctx_cache_stats_get(&c1);
	CU_ASSERT_EQUAL(c1.pinned_bytes, 0);
	/* 100 KB from offset 1000 touch 26 pages: pinned once, unpinned once. */
	CU_ASSERT_EQUAL(c1.pinned_total - c0.pinned_total, 26 * 4 * KB);
	CU_ASSERT_EQUAL(c1.unpinned_total - c0.unpinned_total, 26 * 4 * KB);
	CU_ASSERT_EQUAL(vmlck_kb(), base);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	munmap(buf, 128 * KB);
}

/* ---- Bad input. */

static void
expect_refused(struct tide_zctx *z, const struct tide_zctx_send *s, int err)
{
	CU_ASSERT_EQUAL(tide_zctx_submit(z, s), -err);
	CU_ASSERT_EQUAL(rte_errno, err);
}

static void
test_bad_iovecs_are_refused_at_submission(void)
{
	struct tide_zctx_stats st;
	struct tide_zctx *z;
	static uint8_t data[4096];
	struct iovec iov[TIDE_ZCTX_MAX_IOV + 1];
	struct tide_zctx_send s = {
		.port = null_port, .hdr_len = HDR_LEN, .nb_iov = 1, .hdr = hdr, .iov = iov,
	};
	uint64_t op0 = port_opackets(null_port);
	char *log;

	for (unsigned int i = 0; i < RTE_DIM(iov); i++)
		iov[i] = (struct iovec){ .iov_base = data, .iov_len = 64 };
	z = zctx_make("bad", null_port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	tide_test_log_begin();
	iov[0].iov_base = NULL;
	expect_refused(z, &s, EINVAL);
	iov[0] = (struct iovec){ .iov_base = data, .iov_len = 0 };
	expect_refused(z, &s, EINVAL);
	iov[0] = (struct iovec){ .iov_base = (void *)(UINTPTR_MAX - 10), .iov_len = 64 };
	expect_refused(z, &s, EOVERFLOW);
	iov[0] = (struct iovec){ .iov_base = data, .iov_len = TIDE_ZCTX_MAX_SEND + 1 };
	expect_refused(z, &s, EMSGSIZE);
	iov[0] = (struct iovec){ .iov_base = data, .iov_len = 64 };
	s.nb_iov = 0;
	expect_refused(z, &s, EINVAL);
	s.nb_iov = TIDE_ZCTX_MAX_IOV + 1;
	expect_refused(z, &s, EINVAL);
	s.nb_iov = 1;
	s.iov = NULL;
	expect_refused(z, &s, EINVAL);
	s.iov = iov;
	s.queue = 5;
	expect_refused(z, &s, EINVAL);
	s.queue = 0;
	s.hdr_len = TIDE_ZCTX_HDR_MAX + 1;
	expect_refused(z, &s, EINVAL);
	s.hdr_len = 10;
	s.hdr = NULL;
	expect_refused(z, &s, EINVAL);
	log = tide_test_log_end();
	CU_ASSERT(strstr(log, "send refused") != NULL);
	CU_ASSERT(strstr(log, "NULL base or zero length") != NULL);
	CU_ASSERT(strstr(log, "wraps around") != NULL);
	free(log);
	tide_zctx_stats_get(z, &st);
	CU_ASSERT_EQUAL(st.rejected, 10);
	CU_ASSERT_EQUAL(st.submitted, 0);
	CU_ASSERT_EQUAL(port_opackets(null_port), op0);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

/* Memory found bad by the agent: the completion says why; nothing is sent. */
static void
agent_refuses(uint32_t threshold, const void *buf, size_t len, int err, const char *why)
{
	struct tide_zctx_cache_stats cs;
	struct tide_zctx_cpl cpl;
	struct tide_zctx *z = zctx_make("refuse", null_port, threshold, 0, 64);
	uint64_t op0 = port_opackets(null_port);
	long lck = vmlck_kb();
	char *log;

	CU_ASSERT_FATAL(z != NULL);
	tide_test_log_begin();
	CU_ASSERT_EQUAL(send_one(z, null_port, 5, buf, len), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	log = tide_test_log_end();
	CU_ASSERT_EQUAL(cpl.cookie, 5);
	CU_ASSERT_EQUAL(cpl.status, -err);
	CU_ASSERT_EQUAL(cpl.bytes, 0);
	CU_ASSERT(strstr(log, why) != NULL);
	free(log);
	CU_ASSERT_EQUAL(port_opackets(null_port), op0);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.pinned_bytes, 0);
	CU_ASSERT_EQUAL(vmlck_kb(), lck);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

static void
test_unmapped_and_over_limit_memory_is_refused_by_the_agent(void)
{
	uint8_t *buf = page_buf(1024 * KB);

	CU_ASSERT_FATAL(buf != NULL);
	cache_set(0, 0);
	munmap(buf + 64 * KB, 64 * KB);
	/* Zero-copy and copy alike: the agent never touches unmapped memory. */
	agent_refuses(0, buf, 100 * KB, EFAULT, "not mapped");
	agent_refuses(UINT32_MAX - 1, buf + 60 * KB, 8 * KB, EFAULT, "not mapped");
	/* Over the pin limit. */
	cache_set(0, 256 * KB);
	agent_refuses(0, buf + 512 * KB, 300 * KB, ENOMEM, "memlock limit");
	/* A kernel refusal (injected). */
	cache_set(0, 0);
#ifdef TIDE_FAULT_INJECTION
	tide_fault_arm(TIDE_FAULT_PIN, 0, 1);
	agent_refuses(0, buf + 512 * KB, 64 * KB, ENOMEM, "cannot pin");
	tide_fault_arm(TIDE_FAULT_PIN, 0, 0);
#endif
	munmap(buf, 64 * KB);
	munmap(buf + 128 * KB, 896 * KB);
}

static void
test_registration_errors_are_clear(void)
{
	uint8_t *buf = page_buf(512 * KB);

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(NULL, 10), -EINVAL);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(buf, 0), -EINVAL);
	munmap(buf + 256 * KB, 256 * KB);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(buf, 512 * KB), -EFAULT);
	CU_ASSERT_EQUAL(rte_errno, EFAULT);
	cache_set(0, 64 * KB);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(buf, 128 * KB), -ENOMEM);
	cache_set(0, 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(buf, 128 * KB), -ENOENT);
	munmap(buf, 256 * KB);
}

/* ---- Back-pressure, completions, order. */

static void
test_back_pressure_is_eagain_and_counted(void)
{
	struct tide_zctx_cpl cpl[8];
	struct tide_zctx_stats st;
	struct rte_mbuf *pkts[8];
	struct ring_port rp;
	struct tide_zctx *z;
	static uint8_t data[1000];
	unsigned int n = 0;

	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_bp", 1024) == 0);
	z = zctx_make("bp", rp.port, 0, 0, 8);
	CU_ASSERT_FATAL(z != NULL);
	for (unsigned int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(send_one(z, rp.port, i, data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 8, data, sizeof(data)), -EAGAIN);
	CU_ASSERT_EQUAL(rte_errno, EAGAIN);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 8, data, sizeof(data)), -EAGAIN);
	tide_zctx_stats_get(z, &st);
	CU_ASSERT_EQUAL(st.eagain, 2);
	while (n < 8)
		n += ring_drain(&rp, &pkts[n], 8 - n);
	rte_pktmbuf_free_bulk(pkts, 8);
	/* Completions posted but not polled still count against the depth. */
	tide_test_sleep_us(20000);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 8, data, sizeof(data)), -EAGAIN);
	CU_ASSERT_EQUAL(poll_n(z, cpl, 8), 8);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 8, data, sizeof(data)), 0);
	while (ring_drain(&rp, pkts, 1) == 0)
		;
	rte_pktmbuf_free(pkts[0]);
	CU_ASSERT_EQUAL(poll_n(z, cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl[0].cookie, 8);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
}

static void
test_eventfd_signals_completions(void)
{
	struct tide_zctx_cpl cpl[16];
	struct tide_zctx *z;
	static uint8_t data[3000];
	unsigned int got = 0;
	uint64_t v;
	int fd;

	z = zctx_make("efd", null_port, 0, 0, 16);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_EQUAL(tide_zctx_eventfd(z), -ENOTSUP);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	z = zctx_make("efd", null_port, TIDE_ZCTX_THRESHOLD_ADAPTIVE, TIDE_ZCTX_F_EVENTFD, 16);
	CU_ASSERT_FATAL(z != NULL);
	fd = tide_zctx_eventfd(z);
	CU_ASSERT_FATAL(fd >= 0);
	for (unsigned int i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(send_one(z, null_port, i, data, 100 + i * 150), 0);
	while (got < 16) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		CU_ASSERT_FATAL(poll(&pfd, 1, TEST_WAIT_MS) == 1);
		CU_ASSERT_EQUAL(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
		got += tide_zctx_poll(z, &cpl[got], 16 - got);
	}
	for (unsigned int i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(cpl[i].cookie, i);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

static void
test_completions_wait_for_earlier_sends(void)
{
	struct tide_zctx_cpl cpl[2];
	struct tide_zctx_stats st;
	struct rte_mbuf *pkts[2];
	struct ring_port rp;
	struct tide_zctx *z;
	static uint8_t data[2][800];
	unsigned int n = 0;

	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_or", 1024) == 0);
	z = zctx_make("order", rp.port, 0, 0, 8);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 1, data[0], 800), 0);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 2, data[1], 800), 0);
	while (n < 2)
		n += ring_drain(&rp, &pkts[n], 2 - n);
	rte_pktmbuf_free(pkts[1]); /* the later send is released first */
	do {
		tide_zctx_stats_get(z, &st);
	} while (st.zc_released == 0);
	tide_test_sleep_us(20000);
	CU_ASSERT_EQUAL(tide_zctx_poll(z, cpl, 2), 0);
	rte_pktmbuf_free(pkts[0]);
	CU_ASSERT_EQUAL(poll_n(z, cpl, 2), 2);
	CU_ASSERT_EQUAL(cpl[0].cookie, 1);
	CU_ASSERT_EQUAL(cpl[1].cookie, 2);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
}

#define SUBMITTERS 3
#define PER_THREAD 3000

struct submitter {
	struct tide_zctx *z;
	uint16_t port;
	unsigned int id;
	uint8_t *buf;
	volatile bool *stop;         /* stop early (shutdown test) */
	unsigned int accepted;       /* cookies 0..accepted-1 were taken */
	unsigned int shutdown;       /* -ESHUTDOWN answers */
};

static void *
submit_loop(void *arg)
{
	struct submitter *s = arg;
	unsigned int i = 0;

	while (i < PER_THREAD && !(s->stop != NULL && *s->stop && s->shutdown > 0)) {
		/* A mix of sizes: copied and zero-copy. */
		size_t len = 64u << (i % 9);
		int ret = send_one(s->z, s->port, ((uint64_t)s->id << 32) | i,
			s->buf + (i % 16) * 1024, len);

		if (ret == 0)
			i++;
		else if (ret == -ESHUTDOWN)
			s->shutdown++;
		else if (ret != -EAGAIN)
			break;
	}
	s->accepted = i;
	return NULL;
}

/* Poll until every thread is done (want UINT32_MAX: join them here) and every accepted
 * send has its completion.
 */
static unsigned int
collect(struct tide_zctx *z, struct submitter *sub, pthread_t *th, unsigned int want,
	unsigned int *count, unsigned int *last, bool *in_order)
{
	struct tide_zctx_cpl cpl[64];
	unsigned int total = 0;
	uint64_t end = tide_test_now_ns() + 30 * 1000000000ull;

	for (unsigned int t = 0; t < SUBMITTERS; t++)
		last[t] = UINT32_MAX;
	while (total < want && tide_test_now_ns() < end) {
		unsigned int n = tide_zctx_poll(z, cpl, RTE_DIM(cpl));

		for (unsigned int i = 0; i < n; i++) {
			unsigned int t = (unsigned int)(cpl[i].cookie >> 32);
			unsigned int k = (unsigned int)cpl[i].cookie;

			if (t >= SUBMITTERS || k >= PER_THREAD) {
				*in_order = false;
				continue;
			}
			count[t * PER_THREAD + k]++;
			if (last[t] != UINT32_MAX && k != last[t] + 1)
				*in_order = false;
			last[t] = k;
		}
		total += n;
		if (want == UINT32_MAX && th != NULL) {
			bool all = true;

			for (unsigned int t = 0; t < SUBMITTERS; t++)
				all = all && __atomic_load_n(&sub[t].accepted, __ATOMIC_ACQUIRE) != 0;
			if (all) {
				want = 0;
				for (unsigned int t = 0; t < SUBMITTERS; t++) {
					pthread_join(th[t], NULL);
					want += sub[t].accepted;
				}
			}
		}
		if (n == 0)
			tide_test_sleep_us(50);
	}
	return total;
}

static void
test_completions_of_several_threads_arrive_in_their_order(void)
{
	static unsigned int count[SUBMITTERS * PER_THREAD];
	struct tide_zctx_cache_stats cs;
	struct submitter sub[SUBMITTERS];
	unsigned int last[SUBMITTERS], total;
	pthread_t th[SUBMITTERS];
	struct tide_zctx *z;
	uint8_t *buf = page_buf(64 * KB);
	bool in_order = true;

	CU_ASSERT_FATAL(buf != NULL);
	memset(count, 0, sizeof(count));
	cache_set(1u << 20, 0);
	z = zctx_make("mt", null_port, TIDE_ZCTX_THRESHOLD_ADAPTIVE, 0, 128);
	CU_ASSERT_FATAL(z != NULL);
	for (unsigned int t = 0; t < SUBMITTERS; t++) {
		sub[t] = (struct submitter){ .z = z, .port = null_port, .id = t, .buf = buf };
		CU_ASSERT_FATAL(pthread_create(&th[t], NULL, submit_loop, &sub[t]) == 0);
	}
	total = collect(z, sub, th, UINT32_MAX, count, last, &in_order);
	CU_ASSERT_EQUAL(total, SUBMITTERS * PER_THREAD);
	CU_ASSERT(in_order);
	for (unsigned int i = 0; i < SUBMITTERS * PER_THREAD; i++)
		CU_ASSERT_EQUAL(count[i], 1);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT(cs.pinned_bytes > 0); /* idle in the cache... */
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.pinned_bytes, 0); /* ...until its last user left */
	cache_set(0, 0);
	munmap(buf, 64 * KB);
}

/* ---- Shutdown. */

static void
test_stop_cancels_or_completes_each_send_once(void)
{
	struct tide_zctx_cpl cpl[48];
	struct rte_mbuf *pkts[64];
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(64 * KB);
	unsigned int held = 0, ok = 0, i;
	long base = vmlck_kb();

	CU_ASSERT_FATAL(buf != NULL);
	cache_set(0, 0);
	/* The "wire" takes 16 packets, then refuses: the rest waits at the agent. */
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_st", 16) == 0);
	z = zctx_make("stop", rp.port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	for (i = 0; i < 48; i++)
		CU_ASSERT_EQUAL(send_one(z, rp.port, i, buf + i * 1000, 1000), 0);
	while (rte_ring_count(rp.tx) < 16)
		tide_test_sleep_us(100);
	/* The PMD holds 16 sends: stopping cannot finish them. */
	CU_ASSERT_EQUAL(tide_zctx_stop(z, 50), -ETIMEDOUT);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 100, buf, 1000), -ESHUTDOWN);
	CU_ASSERT(vmlck_kb() > base);
	held = ring_drain(&rp, pkts, RTE_DIM(pkts));
	CU_ASSERT_EQUAL(held, 16);
	rte_pktmbuf_free_bulk(pkts, held);
	CU_ASSERT_EQUAL(tide_zctx_stop(z, TEST_WAIT_MS), 0);
	CU_ASSERT_EQUAL(poll_n(z, cpl, 48), 48);
	CU_ASSERT_EQUAL(tide_zctx_poll(z, cpl, 1), 0);
	/* In order: those the PMD had first, then the cancelled ones. */
	for (i = 0; i < 48; i++) {
		CU_ASSERT_EQUAL(cpl[i].cookie, i);
		if (cpl[i].status == 0) {
			CU_ASSERT_EQUAL(ok, i);
			CU_ASSERT_EQUAL(cpl[i].bytes, 1000);
			ok++;
		} else {
			CU_ASSERT_EQUAL(cpl[i].status, -ECANCELED);
			CU_ASSERT_EQUAL(cpl[i].bytes, 0);
		}
	}
	CU_ASSERT_EQUAL(ok, held);
	CU_ASSERT_EQUAL(rte_ring_count(rp.tx), 0);
	CU_ASSERT_EQUAL(vmlck_kb(), base);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	munmap(buf, 64 * KB);
}

/* One send, its segments freed by two threads: those the PMD took by this thread, those
 * still at the agent by the agent's (cancelled). It completes once, unpinned once.
 */
static void
test_a_send_freed_partly_by_the_agent_and_partly_elsewhere_completes_once(void)
{
	struct tide_zctx_cpl cpl[2];
	struct tide_zctx_stats st;
	struct rte_mbuf *pkts[64];
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(64 * KB);
	unsigned int held;
	long base = vmlck_kb();

	CU_ASSERT_FATAL(buf != NULL);
	cache_set(0, 0);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_mix", 16) == 0);
	z = zctx_make("mix", rp.port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	/* 60 KB in 1472-byte payloads: 42 packets; the wire takes 16. */
	CU_ASSERT_EQUAL(send_one(z, rp.port, 7, buf + 100, 60 * KB), 0);
	while (rte_ring_count(rp.tx) < 16)
		tide_test_sleep_us(100);
	CU_ASSERT_EQUAL(tide_zctx_stop(z, 50), -ETIMEDOUT);
	held = ring_drain(&rp, pkts, RTE_DIM(pkts));
	CU_ASSERT_EQUAL(held, 16);
	rte_pktmbuf_free_bulk(pkts, held);
	CU_ASSERT_EQUAL(tide_zctx_stop(z, TEST_WAIT_MS), 0);
	CU_ASSERT_EQUAL(poll_n(z, cpl, 1), 1);
	CU_ASSERT_EQUAL(tide_zctx_poll(z, &cpl[1], 1), 0);
	CU_ASSERT_EQUAL(cpl[0].cookie, 7);
	CU_ASSERT_EQUAL(cpl[0].status, -ECANCELED);
	CU_ASSERT_EQUAL(cpl[0].bytes, 16 * 1472);
	tide_zctx_stats_get(z, &st);
	CU_ASSERT_EQUAL(st.zc_released, 1);
	CU_ASSERT_EQUAL(st.cancelled, 1);
	CU_ASSERT_EQUAL(st.inflight, 0);
	CU_ASSERT_EQUAL(vmlck_kb(), base);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	munmap(buf, 64 * KB);
}

/* A "wire" thread that frees what the port sent, segments in a scrambled order. */
struct wire {
	struct ring_port *rp;
	volatile bool stop;
	uint64_t segs;
	unsigned int seed;
};

static void *
wire_loop(void *arg)
{
	struct wire *w = arg;
	struct rte_mbuf *pkts[32], *segs[32 * 8];
	unsigned int n, ns;

	while (!w->stop || rte_ring_count(w->rp->tx) > 0) {
		n = ring_drain(w->rp, pkts, RTE_DIM(pkts));
		ns = 0;
		for (unsigned int i = 0; i < n; i++)
			for (struct rte_mbuf *m = pkts[i], *next; m != NULL; m = next) {
				next = m->next;
				if (ns < RTE_DIM(segs))
					segs[ns++] = m;
				else
					rte_pktmbuf_free_seg(m);
			}
		for (unsigned int i = ns; i > 1; i--) { /* any order: shuffle */
			unsigned int j = (unsigned int)(rand_r(&w->seed) % i);
			struct rte_mbuf *t = segs[i - 1];

			segs[i - 1] = segs[j];
			segs[j] = t;
		}
		for (unsigned int i = 0; i < ns; i++)
			rte_pktmbuf_free_seg(segs[i]);
		w->segs += ns;
	}
	return NULL;
}

/* Many zero-copy sends whose segments another thread frees while the agent sends more:
 * each completes once, in order, and every pin goes.
 */
static void
test_sends_freed_by_another_thread_complete_once_each(void)
{
	enum { SENDS = 3000 };
	static uint8_t done[SENDS];
	struct tide_zctx_cpl cpl[64];
	struct tide_zctx_stats st;
	struct ring_port rp;
	struct tide_zctx *z;
	struct wire w = { .rp = &rp, .seed = 12345 };
	pthread_t th;
	uint8_t *buf = page_buf(64 * KB);
	unsigned int sent = 0, got = 0, next = 0;
	uint64_t end = tide_test_now_ns() + 30 * 1000000000ull;
	long base = vmlck_kb();

	CU_ASSERT_FATAL(buf != NULL);
	memset(done, 0, sizeof(done));
	cache_set(0, 0);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_wire", 64) == 0);
	z = zctx_make("wire", rp.port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, wire_loop, &w) == 0);
	while (got < SENDS && tide_test_now_ns() < end) {
		/* 100 B .. 6 KB at odd offsets: one to a few segments, page-crossing. */
		if (sent < SENDS && send_one(z, rp.port, sent, buf + (sent * 997) % (56 * KB),
				100 + (sent * 131) % (6 * KB)) == 0)
			sent++;
		unsigned int n = tide_zctx_poll(z, cpl, RTE_DIM(cpl));

		for (unsigned int i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(cpl[i].cookie, next);
			CU_ASSERT_EQUAL(cpl[i].status, 0);
			if (cpl[i].cookie < SENDS)
				done[cpl[i].cookie]++;
			next = (unsigned int)cpl[i].cookie + 1;
		}
		got += n;
	}
	w.stop = true;
	pthread_join(th, NULL);
	CU_ASSERT_FATAL(got == SENDS); /* or the instance could not be freed */
	for (unsigned int i = 0; i < SENDS; i++)
		CU_ASSERT_EQUAL(done[i], 1);
	tide_zctx_stats_get(z, &st);
	CU_ASSERT_EQUAL(st.zc_released, SENDS);
	CU_ASSERT_EQUAL(st.zc_sends, SENDS);
	CU_ASSERT(w.segs >= 2 * SENDS); /* a header and at least one payload segment each */
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	tide_zctx_cache_flush();
	CU_ASSERT_EQUAL(vmlck_kb(), base);
	ring_port_close(&rp);
	munmap(buf, 64 * KB);
}

static void
test_stop_under_concurrent_submitters_answers_each_once(void)
{
	static unsigned int count[SUBMITTERS * PER_THREAD];
	struct submitter sub[SUBMITTERS];
	unsigned int last[SUBMITTERS], total, want = 0;
	pthread_t th[SUBMITTERS];
	struct tide_zctx_stats st;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(64 * KB);
	volatile bool stop = false;
	bool in_order = true;

	CU_ASSERT_FATAL(buf != NULL);
	memset(count, 0, sizeof(count));
	z = zctx_make("mtstop", null_port, TIDE_ZCTX_THRESHOLD_ADAPTIVE, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	for (unsigned int t = 0; t < SUBMITTERS; t++) {
		sub[t] = (struct submitter){ .z = z, .port = null_port, .id = t, .buf = buf,
			.stop = &stop };
		CU_ASSERT_FATAL(pthread_create(&th[t], NULL, submit_loop, &sub[t]) == 0);
	}
	tide_test_sleep_us(2000);
	stop = true;
	CU_ASSERT_EQUAL(tide_zctx_stop(z, TEST_WAIT_MS), 0);
	for (unsigned int t = 0; t < SUBMITTERS; t++) {
		pthread_join(th[t], NULL);
		want += sub[t].accepted;
	}
	total = collect(z, sub, NULL, want, count, last, &in_order);
	CU_ASSERT_EQUAL(total, want);
	CU_ASSERT(in_order);
	for (unsigned int t = 0; t < SUBMITTERS; t++)
		for (unsigned int k = 0; k < PER_THREAD; k++)
			CU_ASSERT_EQUAL(count[t * PER_THREAD + k], k < sub[t].accepted ? 1 : 0);
	tide_zctx_stats_get(z, &st);
	CU_ASSERT_EQUAL(st.completed + st.cancelled, want);
	CU_ASSERT_EQUAL(st.inflight, 0);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	tide_zctx_cache_flush();
	munmap(buf, 64 * KB);
}

/* ---- The cache. */

#define SPAN(b, i) ((b) + (size_t)(i) * (2u << 20))

/* A 64 KB window in each of four different 2 MB spans. */
static uint8_t *
spans_buf(uint8_t **base)
{
	uint8_t *p = mmap(NULL, 10u << 20, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	*base = p;
	return (uint8_t *)RTE_ALIGN_CEIL((uintptr_t)p, 2u << 20);
}

static void
test_cache_refcounts_and_invalidates(void)
{
	struct tide_zctx_cache_stats cs;
	uint8_t *base = NULL, *b = spans_buf(&base);
	long lck = vmlck_kb();

	CU_ASSERT_FATAL(b != NULL);
	cache_set(1u << 20, 0);
	/* A registration elsewhere keeps the cache alive between the calls below. */
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 3), 4 * KB), 0);
	lck = vmlck_kb();
	CU_ASSERT_EQUAL(tide_zctx_mem_register(b, 64 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(b, 64 * KB), 0); /* twice: two references */
	CU_ASSERT_EQUAL(vmlck_kb(), lck + 64);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.spans, 2);
	CU_ASSERT_EQUAL(cs.pinned_bytes, 68 * KB);
	CU_ASSERT_EQUAL(cs.idle_bytes, 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(b, 64 * KB), -EBUSY);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(b, 64 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(b, 64 * KB), -EBUSY);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(b, 64 * KB), 0);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.idle_bytes, 64 * KB);
	CU_ASSERT_EQUAL(vmlck_kb(), lck + 64);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(b + 100, 10), 0);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.spans, 1);
	CU_ASSERT_EQUAL(cs.pinned_bytes, 4 * KB);
	CU_ASSERT_EQUAL(vmlck_kb(), lck);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(b, 64 * KB), -ENOENT);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 3), 4 * KB), 0);
	cache_set(0, 0);
	munmap(base, 10u << 20);
}

static void
reg_unreg(uint8_t *p)
{
	CU_ASSERT_EQUAL(tide_zctx_mem_register(p, 64 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(p, 64 * KB), 0);
}

static void
test_cache_evicts_least_recently_used_beyond_its_limit(void)
{
	struct tide_zctx_cache_stats c0, c1;
	uint8_t *base = NULL, *b = spans_buf(&base);

	CU_ASSERT_FATAL(b != NULL);
	cache_set(128 * KB, 0); /* two idle 64 KB windows */
	/* A registration keeps the cache alive between the calls below. */
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 3), 4 * KB), 0);
	tide_zctx_cache_stats_get(&c0);
	reg_unreg(SPAN(b, 0));
	reg_unreg(SPAN(b, 1));
	reg_unreg(SPAN(b, 2));          /* A (0) is the oldest: evicted */
	tide_zctx_cache_stats_get(&c1);
	CU_ASSERT_EQUAL(c1.evictions - c0.evictions, 1);
	CU_ASSERT_EQUAL(c1.idle_bytes, 128 * KB);
	reg_unreg(SPAN(b, 1));          /* a hit; B is now the newest */
	tide_zctx_cache_stats_get(&c0);
	CU_ASSERT_EQUAL(c0.misses, c1.misses);
	reg_unreg(SPAN(b, 0));          /* a miss; C (2) is the oldest now: evicted */
	tide_zctx_cache_stats_get(&c1);
	CU_ASSERT_EQUAL(c1.misses, c0.misses + 1);
	reg_unreg(SPAN(b, 1));          /* B survived */
	tide_zctx_cache_stats_get(&c0);
	CU_ASSERT_EQUAL(c0.misses, c1.misses);
	reg_unreg(SPAN(b, 2));          /* C did not */
	tide_zctx_cache_stats_get(&c1);
	CU_ASSERT_EQUAL(c1.misses, c0.misses + 1);
	CU_ASSERT(c1.pinned_bytes <= 128 * KB + 4 * KB);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 3), 4 * KB), 0);
	cache_set(0, 0);
	munmap(base, 10u << 20);
}

static void
test_cache_pin_limit_evicts_idle_then_refuses(void)
{
	struct tide_zctx_cache_stats cs;
	uint8_t *base = NULL, *b = spans_buf(&base);

	CU_ASSERT_FATAL(b != NULL);
	cache_set(1u << 20, 192 * KB);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 0), 128 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 1), 128 * KB), -ENOMEM);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 0), 128 * KB), 0);
	/* The first is idle now: evicted to make room. */
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 1), 128 * KB), 0);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.pinned_bytes, 128 * KB);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 1), 128 * KB), 0);
	cache_set(0, 0);
	munmap(base, 10u << 20);
}

static void
test_cache_refuses_invalidating_memory_in_flight(void)
{
	struct tide_zctx_cpl cpl;
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(16 * KB);

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_inv", 1024) == 0);
	cache_set(1u << 20, 0);
	z = zctx_make("inv", rp.port, 0, 0, 8);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 1, buf, 1000), 0);
	while (ring_drain(&rp, &pkt, 1) == 0)
		;
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(buf, 16 * KB), -EBUSY);
	rte_pktmbuf_free(pkt);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(buf, 16 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	cache_set(0, 0);
	munmap(buf, 16 * KB);
}

static void
test_dpdk_memory_is_sent_unpinned(void)
{
	struct tide_zctx_cache_stats c0, c1;
	struct tide_zctx_cpl cpl;
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = rte_malloc(NULL, 8 * KB, 4096);

	CU_ASSERT_FATAL(buf != NULL);
	memset(buf, 0x5a, 8 * KB);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_dp", 1024) == 0);
	z = zctx_make("dpdkmem", rp.port, 0, 0, 8);
	CU_ASSERT_FATAL(z != NULL);
	tide_zctx_cache_stats_get(&c0);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 1, buf, 1400), 0);
	while (ring_drain(&rp, &pkt, 1) == 0)
		;
	CU_ASSERT(pkt_is(pkt, buf, 1400));
	CU_ASSERT_EQUAL(rte_pktmbuf_iova(pkt->next), rte_malloc_virt2iova(buf));
	rte_pktmbuf_free(pkt);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	tide_zctx_cache_stats_get(&c1);
	CU_ASSERT_EQUAL(c1.dpdk_mem, c0.dpdk_mem + 1);
	CU_ASSERT_EQUAL(c1.pinned_total, c0.pinned_total);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	rte_free(buf);
}

/* ---- Suite. */

static int
suite_init(void)
{
	for (unsigned int i = 0; i < sizeof(hdr); i++)
		hdr[i] = (uint8_t)(0xa0 + i);
	rx_pool = rte_pktmbuf_pool_create("zt_rx", 2048, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	if (rx_pool == NULL || rte_vdev_init("net_null_zt", NULL) != 0 ||
			rte_eth_dev_get_port_by_name("net_null_zt", &null_port) != 0)
		return -1;
	return port_setup(null_port, 2, 1500);
}

static int
suite_fini(void)
{
	rte_eth_dev_stop(null_port);
	rte_eth_dev_close(null_port);
	rte_vdev_uninit("net_null_zt");
	rte_mempool_free(rx_pool);
	return 0;
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("zctx", suite_init, suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_segments_carry_pagemap_addresses);
	CU_ADD_TEST(s, test_copies_below_the_threshold_carry_the_same_bytes);
	CU_ADD_TEST(s, test_sends_of_every_shape_arrive_whole);
	CU_ADD_TEST(s, test_a_burst_of_sends_queues_in_order_and_stops_where_it_must);
	CU_ADD_TEST(s, test_pinned_bytes_return_to_zero_after_completions);
	CU_ADD_TEST(s, test_unpinned_once_when_segments_are_freed_out_of_order);
	CU_ADD_TEST(s, test_bad_iovecs_are_refused_at_submission);
	CU_ADD_TEST(s, test_unmapped_and_over_limit_memory_is_refused_by_the_agent);
	CU_ADD_TEST(s, test_registration_errors_are_clear);
	CU_ADD_TEST(s, test_back_pressure_is_eagain_and_counted);
	CU_ADD_TEST(s, test_eventfd_signals_completions);
	CU_ADD_TEST(s, test_completions_wait_for_earlier_sends);
	CU_ADD_TEST(s, test_completions_of_several_threads_arrive_in_their_order);
	CU_ADD_TEST(s, test_stop_cancels_or_completes_each_send_once);
	CU_ADD_TEST(s, test_a_send_freed_partly_by_the_agent_and_partly_elsewhere_completes_once);
	CU_ADD_TEST(s, test_sends_freed_by_another_thread_complete_once_each);
	CU_ADD_TEST(s, test_stop_under_concurrent_submitters_answers_each_once);
	CU_ADD_TEST(s, test_cache_refcounts_and_invalidates);
	CU_ADD_TEST(s, test_cache_evicts_least_recently_used_beyond_its_limit);
	CU_ADD_TEST(s, test_cache_pin_limit_evicts_idle_then_refuses);
	CU_ADD_TEST(s, test_cache_refuses_invalidating_memory_in_flight);
	CU_ADD_TEST(s, test_dpdk_memory_is_sent_unpinned);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "zctx", true, register_tests);
}
