/* SPDX-License-Identifier: BSD-3-Clause */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "test_common.h"
#include "test_port.h"
#include "tide_process.h"
#include "test_zctx_util.h"

struct rte_mempool *rx_pool;
uint16_t null_port;
uint8_t hdr[TIDE_ZCTX_HDR_MAX];

static void
mz_count_cb(const struct rte_memzone *mz __rte_unused, void *arg)
{
	(*(unsigned int *)arg)++;
}

unsigned int
memzones(void)
{
	unsigned int n = 0;

	rte_memzone_walk(mz_count_cb, &n);
	return n;
}

long
vmlck_kb(void)
{
	return tide_process_status((uint32_t)getpid(), "VmLck");
}

int
ring_port_open(struct ring_port *rp, const char *name, unsigned int size)
{
	return ring_port_open_chains(rp, name, size, true);
}

int
ring_port_open_chains(struct ring_port *rp, const char *name, unsigned int size, bool chains)
{
	char n[RTE_RING_NAMESIZE];
	int port;

	memset(rp, 0, sizeof(*rp));
	snprintf(rp->name, sizeof(rp->name), "%s", name);
	snprintf(n, sizeof(n), "%s_rx", name);
	rp->rx = rte_ring_create(n, 64, SOCKET_ID_ANY, 0);
	snprintf(n, sizeof(n), "%s_tx", name);
	rp->tx = rte_ring_create(n, size, SOCKET_ID_ANY, RING_F_EXACT_SZ);
	snprintf(n, sizeof(n), "%s_tx1", name);
	rp->tx1 = rte_ring_create(n, size, SOCKET_ID_ANY, RING_F_EXACT_SZ);
	if (rp->rx == NULL || rp->tx == NULL || rp->tx1 == NULL)
		return -1;
	port = rte_eth_from_rings(name, &rp->rx, 1, (struct rte_ring *[]){ rp->tx, rp->tx1 }, 2,
		SOCKET_ID_ANY);
	if (port < 0)
		return -1;
	rp->port = (uint16_t)port;
	return tide_test_port_start_chains(rp->port, rx_pool, 2, 512, 1500, chains);
}

unsigned int
ring_drain(struct ring_port *rp, struct rte_mbuf **pkts, unsigned int max)
{
	return rte_ring_dequeue_burst(rp->tx, (void **)pkts, max, NULL);
}

void
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
	rte_ring_free(rp->tx1);
}

static struct tide_zctx *
zctx_make_with(const char *name, uint16_t port, uint32_t threshold, uint32_t flags,
	unsigned int depth, struct rte_mempool *mp)
{
	struct tide_zctx_params p;

	tide_zctx_params_init(&p, name);
	p.nb_ports = 1;
	p.ports[0] = port;
	p.copy_threshold = threshold;
	p.flags = flags;
	p.depth = depth;
	p.pool = mp;
	return tide_zctx_create(&p);
}

struct tide_zctx *
zctx_make(const char *name, uint16_t port, uint32_t threshold, uint32_t flags,
	unsigned int depth)
{
	return zctx_make_with(name, port, threshold, flags, depth, NULL);
}

struct tide_zctx *
zctx_make_on(const char *name, uint16_t port, uint32_t threshold, unsigned int depth,
	struct rte_mempool *mp)
{
	return zctx_make_with(name, port, threshold, 0, depth, mp);
}

void
cache_set(size_t idle, size_t pin_limit)
{
	struct tide_zctx_cache_params cp = { .idle_bytes = idle, .pin_limit = pin_limit };

	CU_ASSERT_EQUAL(tide_zctx_cache_configure(&cp), 0);
}

void
send_init(struct tide_zctx_send *s, struct iovec *iov, uint16_t port, uint64_t cookie,
	const void *buf, size_t len)
{
	*iov = (struct iovec){ .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	*s = (struct tide_zctx_send){
		.cookie = cookie, .port = port, .queue = 0, .hdr_len = HDR_LEN, .nb_iov = 1,
		.hdr = hdr, .iov = iov,
	};
}

int
send_one(struct tide_zctx *z, uint16_t port, uint64_t cookie, const void *buf, size_t len)
{
	struct tide_zctx_send s;
	struct iovec iov;

	send_init(&s, &iov, port, cookie, buf, len);
	return tide_zctx_submit(z, &s);
}

/* Poll until @p n completions arrived (or the wait expired); returns how many. */
unsigned int
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

/*
 * Fresh pages, far below where mappings go (the kernel gives the highest gap that fits): a
 * hole a test punches in them stays a hole. Where they were given, near the others, the
 * next small mapping of any thread (a sanitizer's allocator, say) could land in the hole,
 * and a send the test meant to be refused as "not mapped" went out. Each call 16 MB
 * further on; a hint taken already just gives pages elsewhere.
 */
void *
page_buf(size_t len)
{
	static uint64_t next;
	void *hint = (void *)(uintptr_t)(0x500000000000ull +
		(__atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % 4096) * (16ull << 20));
	void *p = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)p)[i] = (uint8_t)(i * 7 + 3);
	return p;
}

uint64_t
port_opackets(uint16_t port)
{
	struct rte_eth_stats st;

	return rte_eth_stats_get(port, &st) == 0 ? st.opackets : UINT64_MAX;
}

/* Every byte of @p pkt: the header, then @p len payload bytes from @p src. */
bool
pkt_is(const struct rte_mbuf *pkt, const uint8_t *src, uint32_t len)
{
	uint8_t buf[16 * KB];
	const uint8_t *d;

	if (pkt->pkt_len != HDR_LEN + len || pkt->pkt_len > sizeof(buf))
		return false;
	d = rte_pktmbuf_read(pkt, 0, pkt->pkt_len, buf);
	return memcmp(d, hdr, HDR_LEN) == 0 && memcmp(d + HDR_LEN, src, len) == 0;
}

int
zctx_suite_init(void)
{
	for (unsigned int i = 0; i < sizeof(hdr); i++)
		hdr[i] = (uint8_t)(0xa0 + i);
	rx_pool = rte_pktmbuf_pool_create("zt_rx", 2048, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	if (rx_pool == NULL || rte_vdev_init("net_null_zt", NULL) != 0 ||
			rte_eth_dev_get_port_by_name("net_null_zt", &null_port) != 0)
		return -1;
	return tide_test_port_start(null_port, rx_pool, 2, 512, 1500);
}

int
zctx_suite_fini(void)
{
	rte_eth_dev_stop(null_port);
	rte_eth_dev_close(null_port);
	rte_vdev_uninit("net_null_zt");
	rte_mempool_free(rx_pool);
	return 0;
}

static uint32_t
threshold_now(struct tide_zctx *z)
{
	struct tide_zctx_stats st;

	CU_ASSERT_EQUAL_FATAL(tide_zctx_stats_get(z, &st), 0);
	CU_ASSERT_FATAL(!st.adaptive);
	return st.threshold;
}

static void
threshold_apply(struct tide_zctx *z, uint32_t t)
{
	uint64_t end = tide_test_now_ns() + TEST_WAIT_MS * 1000000ull;

	CU_ASSERT_EQUAL_FATAL(tide_zctx_threshold_set(z, t), 0);
	while (threshold_now(z) != t && tide_test_now_ns() < end)
		tide_test_sleep_us(50);
	CU_ASSERT_EQUAL_FATAL(threshold_now(z), t);
}

void
agent_pass(struct tide_zctx *z)
{
	uint32_t was = threshold_now(z);

	threshold_apply(z, was == 1 ? 2 : 1);
	threshold_apply(z, was);
}

bool
stats_wait(struct tide_zctx *z, bool (*cond)(const struct tide_zctx_stats *st, void *arg),
	void *arg)
{
	uint64_t end = tide_test_now_ns() + TEST_WAIT_MS * 1000000ull;
	struct tide_zctx_stats st;

	do {
		CU_ASSERT_EQUAL_FATAL(tide_zctx_stats_get(z, &st), 0);
		if (cond(&st, arg))
			return true;
		tide_test_sleep_us(50);
	} while (tide_test_now_ns() < end);
	return false;
}

static bool
completed_at_least(const struct tide_zctx_stats *st, void *arg)
{
	return st->completed >= *(const uint64_t *)arg;
}

bool
stats_wait_completed(struct tide_zctx *z, uint64_t n, struct tide_zctx_stats *st)
{
	bool ok = stats_wait(z, completed_at_least, &n);

	CU_ASSERT_EQUAL_FATAL(tide_zctx_stats_get(z, st), 0);
	return ok;
}
