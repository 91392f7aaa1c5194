/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Donor processes under EAL, with real processes, real limits and real hugepages. Every
 * scenario runs in a consumer process of its own (test_donor_util.h): pinned memory past
 * a 4 MB RLIMIT_MEMLOCK (CAP_IPC_LOCK given up, so the limit binds root too) sent
 * zero-copy by the zctx agent; a tide mempool grown past --socket-limit on donor blocks
 * and shrunk back; donors killed mid-run; the consumer killed; every bad input and a
 * donor misbehaving at every step of the handshake (the tide-donor test hooks); telemetry.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include "donor_proto.h"
#include "test_common.h"
#include "test_donor_util.h"
#include "test_port.h"
#include "tide_donor.h"
#include "tide_fault.h"
#include "tide_mempool.h"
#include "tide_pool.h"
#include "tide_zctx.h"

#define KB 1024ul
#define MB (1024ul * KB)
#define HDR_LEN 42
#define WAIT_MS 10000

static uint8_t hdr[HDR_LEN];

/* ---- Helpers (in the consumer). */

static struct tide_donor_mgr *
mgr_make(const char *name, uint64_t pinned_max, uint64_t huge_max, bool own)
{
	struct tide_donor_params p;

	tide_donor_params_init(&p, name);
	p.donor_max[TIDE_DONOR_PINNED] = pinned_max;
	p.donor_max[TIDE_DONOR_HUGE] = huge_max;
	if (!own)
		p.own_max[TIDE_DONOR_PINNED] = p.own_max[TIDE_DONOR_HUGE] = 0;
	return tide_donor_mgr_create(&p);
}

static struct tide_donor_stats
stats(struct tide_donor_mgr *m)
{
	struct tide_donor_stats st;

	memset(&st, 0xff, sizeof(st));
	tide_donor_stats_get(m, &st);
	return st;
}

/* Pids of the donor parts of @p r (0 for the own part). */
static unsigned int
region_pids(const struct tide_donor_region *r, pid_t *pids, unsigned int max)
{
	struct tide_donor_part_info pi;
	unsigned int n = 0;

	for (unsigned int i = 0; n < max && tide_donor_region_part(r, i, &pi) == 0; i++)
		pids[n++] = pi.state == TIDE_DONOR_STATE_OWN ? 0 : pi.pid;
	return n;
}

static bool
all_gone(const pid_t *pids, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (pids[i] != 0 && tdu_pid_alive(pids[i]))
			return false;
	return true;
}

static bool
stat_reached(struct tide_donor_mgr *m, size_t off, uint64_t want)
{
	for (unsigned int i = 0; i < WAIT_MS; i++) {
		struct tide_donor_stats st = stats(m);

		if (*(uint64_t *)((char *)&st + off) >= want)
			return true;
		tide_test_sleep_us(1000);
	}
	return false;
}
#define STAT_REACHED(m, f, v) stat_reached(m, offsetof(struct tide_donor_stats, f), v)

/* Occurrences of @p what in @p s. */
static unsigned int
count_of(const char *s, const char *what)
{
	unsigned int n = 0;

	for (const char *p = strstr(s, what); p != NULL; p = strstr(p + 1, what))
		n++;
	return n;
}

/* The agent counts a send just after it posts its completion: wait for @p n counted. */
static bool
zctx_counted(struct tide_zctx *z, uint64_t n, struct tide_zctx_stats *st)
{
	for (unsigned int i = 0; i < WAIT_MS; i++) {
		if (tide_zctx_stats_get(z, st) == 0 && st->completed >= n)
			return true;
		tide_test_sleep_us(1000);
	}
	return false;
}

/* The port given with --vdev, started; its RX pool in *rx. */
static int
null_port(struct rte_mempool **rx, uint16_t *port)
{
	*rx = rte_pktmbuf_pool_create("tdn_rx", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	if (*rx == NULL || rte_eth_dev_count_avail() == 0)
		return -1;
	*port = 0;
	return tide_test_port_start(*port, *rx, 1, 512, 1500);
}

static void
null_port_close(struct rte_mempool *rx, uint16_t port)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_mempool_free(rx);
}

static struct tide_zctx *
zctx_make(const char *name, uint16_t port)
{
	struct tide_zctx_params p;

	tide_zctx_params_init(&p, name);
	p.nb_ports = 1;
	p.ports[0] = port;
	p.copy_threshold = 0; /* all zero-copy */
	p.depth = 256;
	return tide_zctx_create(&p);
}

/* Send [buf, buf + len) in sends of @p chunk bytes; count completions with status 0. */
static unsigned int
send_all(struct tide_zctx *z, uint16_t port, uint8_t *buf, size_t len, size_t chunk,
	uint64_t *bytes)
{
	unsigned int sent = 0, done = 0, ok = 0;
	uint64_t end = tide_test_now_ns() + 60ull * 1000000000;
	size_t off = 0;

	while ((off < len || done < sent) && tide_test_now_ns() < end) {
		struct tide_zctx_cpl cpl[32];
		unsigned int n;

		if (off < len) {
			struct iovec iov = { .iov_base = buf + off,
				.iov_len = RTE_MIN(chunk, len - off) };
			struct tide_zctx_send s = { .port = port, .cookie = sent, .nb_iov = 1,
				.iov = &iov, .hdr = hdr, .hdr_len = HDR_LEN };

			if (tide_zctx_submit(z, &s) == 0) {
				off += iov.iov_len;
				sent++;
			}
		}
		n = tide_zctx_poll(z, cpl, RTE_DIM(cpl));
		for (unsigned int i = 0; i < n; i++) {
			ok += cpl[i].status == 0;
			*bytes += cpl[i].bytes;
			if (cpl[i].status != 0)
				fprintf(stderr, "send %lu: status %d\n",
					(unsigned long)cpl[i].cookie, cpl[i].status);
		}
		done += n;
	}
	return ok == sent && done == sent ? sent : 0;
}

/* IO addresses of a region agree with DPDK's view of it, page by page (sampled). */
static bool
iovas_agree(const struct tide_donor_region *r)
{
	struct tide_donor_region_info ri;

	tide_donor_region_info(r, &ri);
	for (size_t off = 0; off < ri.len; off += ri.page_sz * 7 + ri.page_sz / 2) {
		uint8_t *a = (uint8_t *)ri.addr + off;
		const struct rte_memseg *ms = rte_mem_virt2memseg(a, NULL);
		rte_iova_t mine = tide_donor_region_iova(r, a);

		if (ms == NULL || mine != rte_mem_virt2iova(a) ||
				mine != ms->iova + (uintptr_t)(a - (uint8_t *)ms->addr)) {
			fprintf(stderr, "IOVA of %p: mine %#lx, DPDK %#lx\n", (void *)a,
				(unsigned long)mine, (unsigned long)rte_mem_virt2iova(a));
			return false;
		}
	}
	/* Just past its end is not in it. */
	rte_errno = 0;
	return tide_donor_region_iova(r, (uint8_t *)ri.addr + ri.len) == RTE_BAD_IOVA &&
		rte_errno == ENOENT;
}

/* ---- 64 MB pinned from 16 donors past a 4 MB RLIMIT_MEMLOCK, sent zero-copy. */

static int
pre_memlock_4mb(void)
{
	return tdu_memlock_limit(4 * MB);
}

static int
check_64mb_region(struct tide_donor_region *r, long lck0, pid_t *pids)
{
	struct tide_donor_region_info ri;
	struct tide_donor_part_info pi;

	TDU_REQUIRE(tide_donor_region_info(r, &ri) == 0);
	TDU_CHECK(ri.len == 68 * MB && ri.page_sz == 4 * KB && ri.kind == TIDE_DONOR_PINNED);
	TDU_CHECK(ri.own_bytes == 4 * MB); /* the own allowance first */
	TDU_CHECK(ri.nb_donors == 16);     /* K = ceil(64 MB / 4 MB) */
	TDU_CHECK(ri.registered && ri.unpinned_bytes == 0);
	TDU_CHECK(region_pids(r, pids, 17) == 17);
	TDU_CHECK(tide_donor_region_part(r, 0, &pi) == 0 && pi.state == TIDE_DONOR_STATE_OWN &&
		pi.pid == getpid() && pi.bytes == 4 * MB);
	for (unsigned int i = 1; i <= 16; i++) {
		TDU_CHECK(tide_donor_region_part(r, i, &pi) == 0);
		TDU_CHECK(pi.state == TIDE_DONOR_STATE_LIVE && pi.bytes == 4 * MB);
		TDU_CHECK(pi.offset == i * 4 * MB && pi.locked_kb >= 4096);
		TDU_CHECK(tdu_vmlck_kb(pi.pid) >= 4096); /* the donor holds the lock */
	}
	TDU_CHECK(tdu_vmlck_kb(getpid()) == lck0 + 4096); /* the own part only */
	return 0;
}

static bool
resident(const void *addr, size_t len)
{
	size_t n = len / (4 * KB);
	unsigned char *v = malloc(n);
	bool all = v != NULL && mincore((void *)(uintptr_t)addr, len, v) == 0;

	for (size_t i = 0; all && i < n; i++)
		all = v[i] & 1;
	free(v);
	return all;
}

static int
scen_pinned_64mb(void)
{
	struct tide_zctx_cache_stats c0, c1;
	struct tide_zctx_stats zs;
	struct tide_donor_region_info ri;
	struct tide_donor_region *r;
	struct tide_donor_mgr *m;
	struct rte_mempool *rx;
	struct tide_zctx *z;
	uint64_t bytes = 0;
	uint16_t port;
	pid_t pids[17];
	void *probe;
	long lck0;

	/* The limit binds: this process cannot lock 8 MB itself. */
	probe = mmap(NULL, 8 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TDU_REQUIRE(probe != MAP_FAILED);
	TDU_CHECK(syscall(SYS_mlock, probe, 8 * MB) != 0 && errno == ENOMEM);
	munmap(probe, 8 * MB);
	lck0 = tdu_vmlck_kb(getpid());
	m = mgr_make("pin64", 0, 0, true);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, 68 * MB, TIDE_DONOR_PINNED, 0);
	TDU_REQUIRE(r != NULL);
	check_64mb_region(r, lck0, pids);
	tide_donor_region_info(r, &ri);
	tdu_report("iova_va", rte_eal_iova_mode() == RTE_IOVA_VA);
	TDU_CHECK(iovas_agree(r));
	memset(ri.addr, 0x5a, ri.len);
	TDU_CHECK(resident(ri.addr, ri.len));

	/* Zero-copy through the agent, as DPDK memory: no pin by the consumer. */
	TDU_REQUIRE(null_port(&rx, &port) == 0);
	z = zctx_make("pin64", port);
	TDU_REQUIRE(z != NULL);
	tide_zctx_cache_stats_get(&c0);
	TDU_CHECK(send_all(z, port, ri.addr, ri.len, 1 * MB, &bytes) == 68);
	TDU_CHECK(bytes == 68 * MB);
	TDU_CHECK(zctx_counted(z, 68, &zs));
	tide_zctx_cache_stats_get(&c1);
	TDU_CHECK(zs.zc_bytes == 68 * MB && zs.copy_bytes == 0);
	TDU_CHECK(c1.pinned_total == c0.pinned_total && c1.pinned_bytes == 0);
	TDU_CHECK(c1.dpdk_mem == c0.dpdk_mem + 68);
	TDU_CHECK(tdu_vmlck_kb(getpid()) == lck0 + 4096);
	tdu_report("zc_bytes", (long)zs.zc_bytes);
	tdu_report("segments", (long)zs.segments);
	TDU_CHECK(tide_zctx_free(z) == 0);
	null_port_close(rx, port);

	/* Still every page resident and every donor holding its lock. */
	TDU_CHECK(resident(ri.addr, ri.len));
	for (unsigned int i = 1; i <= 16; i++)
		TDU_CHECK(tdu_vmlck_kb(pids[i]) >= 4096);
	TDU_CHECK(stats(m).deaths == 0 && stats(m).donors == 16);
	tide_donor_region_free(r);
	TDU_CHECK(all_gone(pids, 17));
	TDU_CHECK(stats(m).terminated == 16 && stats(m).donors == 0 && stats(m).killed == 0);
	TDU_CHECK(tdu_vmlck_kb(getpid()) == lck0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	tdu_report("donors", 16);
	return 0;
}

/* ---- A tide mempool grown past --socket-limit on donor blocks, and back. */

#define POOL_OBJS 65535
#define POOL_ROOM (RTE_MBUF_DEFAULT_BUF_SIZE)
#define POOL_ELT (sizeof(struct rte_mbuf) + POOL_ROOM)

static void
mz_free_cb(struct rte_mempool_memhdr *mh __rte_unused, void *opaque)
{
	rte_memzone_free(opaque);
}

static struct rte_mempool *
mbuf_pool(const char *name)
{
	struct rte_pktmbuf_pool_private priv = { .mbuf_data_room_size = POOL_ROOM };
	struct rte_mempool *mp;

	mp = rte_mempool_create_empty(name, POOL_OBJS, POOL_ELT, 0, sizeof(priv), SOCKET_ID_ANY,
		0);
	if (mp == NULL)
		return NULL;
	if (rte_mempool_set_ops_byname(mp, TIDE_MEMPOOL_OPS_NAME, NULL) != 0) {
		rte_mempool_free(mp);
		return NULL;
	}
	rte_pktmbuf_pool_init(mp, &priv);
	return mp;
}

/* Add own memzones of @p len until the heap refuses; how many. */
static unsigned int
own_blocks(struct rte_mempool *mp, size_t len)
{
	unsigned int n = 0;

	for (;;) {
		char name[RTE_MEMZONE_NAMESIZE];
		const struct rte_memzone *mz;

		snprintf(name, sizeof(name), "tdn_own%u", n);
		mz = rte_memzone_reserve(name, len, SOCKET_ID_ANY, 0);
		if (mz == NULL)
			return n;
		if (tide_mempool_block_add(mp, mz->addr, mz->len, rte_pktmbuf_init, NULL,
				mz_free_cb, (void *)(uintptr_t)mz) < 0) {
			rte_memzone_free(mz);
			return n;
		}
		n++;
	}
}

struct donor_blk {
	struct tide_donor_block b;
	int64_t id;
	pid_t pids[4];
	unsigned int nb_pids;
};

static bool
in_blk(const struct donor_blk *d, const void *p)
{
	return (const uint8_t *)p >= (uint8_t *)d->b.addr &&
		(const uint8_t *)p < (uint8_t *)d->b.addr + d->b.len;
}

/* Take every mbuf; check those on donor blocks (IOVA, writable); give them back. */
static unsigned int
use_all_mbufs(struct rte_mempool *mp, struct donor_blk *d, unsigned int nd)
{
	struct rte_mbuf **all = calloc(POOL_OBJS, sizeof(*all));
	unsigned int n = 0, on_donors = 0;

	if (all == NULL)
		return 0;
	while (n < POOL_OBJS && (all[n] = rte_pktmbuf_alloc(mp)) != NULL)
		n++;
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int k = 0; k < nd; k++) {
			struct rte_mbuf *mb = all[i];

			if (!in_blk(&d[k], mb))
				continue;
			on_donors++;
			TDU_CHECK(mb->buf_iova == rte_mem_virt2iova(mb->buf_addr));
			TDU_CHECK(mb->buf_iova ==
				tide_donor_region_iova(d[k].b.opaque, mb->buf_addr));
			memset(rte_pktmbuf_mtod(mb, void *), (int)i, 64);
		}
	for (unsigned int i = 0; i < n; i++)
		rte_pktmbuf_free(all[i]);
	free(all);
	tdu_report("mbufs", n);
	return on_donors;
}

static int
scen_pool_past_socket_limit(void)
{
	struct tide_mempool_stats ms;
	struct donor_blk d[4];
	struct tide_donor_mgr *m;
	struct rte_mempool *mp;
	unsigned int nown;
	long huge0;
	char *tel;

	/* 8 MB per donor: two donors for each 16 MB block. */
	m = mgr_make("pool", 0, 8 * MB, true);
	TDU_REQUIRE(m != NULL);
	tel = tdu_telemetry("/tide/donor/info,pool");
	TDU_CHECK(tel != NULL && strstr(tel, "\"heap_limit\":67108864") != NULL);
	free(tel);
	mp = mbuf_pool("tdn_pool");
	TDU_REQUIRE(mp != NULL);
	nown = own_blocks(mp, 8 * MB);
	TDU_CHECK(nown >= 1);
	TDU_CHECK(rte_memzone_reserve("tdn_more", 8 * MB, SOCKET_ID_ANY, 0) == NULL);
	tdu_report("own_blocks", nown);
	huge0 = tide_test_hugetlb_kb();
	/* Past the limit: blocks from donors. */
	for (unsigned int k = 0; k < 4; k++) {
		TDU_REQUIRE(tide_donor_block_get(m, 16 * MB, &d[k].b) == 0);
		TDU_CHECK(d[k].b.len == 16 * MB && d[k].b.free_cb != NULL);
		TDU_CHECK(d[k].b.iova == rte_mem_virt2iova(d[k].b.addr));
		d[k].nb_pids = region_pids(d[k].b.opaque, d[k].pids, 4);
		TDU_CHECK(d[k].nb_pids == 2 && d[k].pids[0] != 0 && d[k].pids[1] != 0);
		d[k].id = tide_mempool_block_add(mp, d[k].b.addr, d[k].b.len, rte_pktmbuf_init,
			NULL, d[k].b.free_cb, d[k].b.opaque);
		TDU_REQUIRE(d[k].id > 0);
	}
	TDU_CHECK(stats(m).donors == 8 && stats(m).donated_bytes == 64 * MB);
	TDU_CHECK(tide_test_hugetlb_kb() >= huge0 + 64 * 1024);
	TDU_CHECK(tide_mempool_stats_get(mp, &ms) == 0 && ms.nb_blocks == nown + 4);
	TDU_CHECK(use_all_mbufs(mp, d, 4) > 4 * 16 * MB / POOL_ELT * 9 / 10);
	/* And back: removing a block returns it and terminates its donors. */
	for (unsigned int k = 0; k < 4; k++) {
		TDU_CHECK(tide_mempool_block_remove(mp, (uint64_t)d[k].id, 0) == 0);
		TDU_CHECK(all_gone(d[k].pids, d[k].nb_pids));
	}
	TDU_CHECK(stats(m).terminated == 8 && stats(m).donors == 0 && stats(m).regions == 0);
	TDU_CHECK(tide_test_hugetlb_kb() == huge0);
	TDU_CHECK(tide_mempool_stats_get(mp, &ms) == 0 && ms.nb_blocks == nown);
	rte_mempool_free(mp);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/*
 * ---- An elastic pool grows past --socket-limit on donor blocks by itself (its block
 * source), and gives them back: its reaper frees them and their donors terminate.
 */

#define ELASTIC_HOLD 50000   /* mbufs held at the peak: about 115 MB, the limit is 64 */

static struct tide_pool_stats
pstats(struct rte_mempool *mp)
{
	struct tide_pool_stats st;

	memset(&st, 0, sizeof(st));
	tide_pool_stats_get(mp, &st);
	return st;
}

static int
scen_elastic_pool_on_donor_blocks(void)
{
	struct rte_mbuf **m = calloc(ELASTIC_HOLD, sizeof(*m));
	struct tide_pool_params pp;
	struct tide_donor_mgr *dm;
	struct rte_mempool *mp;
	unsigned int n = 0, on_donors = 0, tries = 0;
	long huge0;

	TDU_REQUIRE(m != NULL);
	dm = mgr_make("elastic", 0, 8 * MB, true);
	TDU_REQUIRE(dm != NULL);
	tide_pool_params_init(&pp, "tdn_elastic");
	pp.base_bytes = 16 * MB;
	pp.block_bytes = 16 * MB;
	pp.wall_bytes = 256 * MB;
	pp.cache_size = 0;
	pp.reap_period_ms = 10;
	pp.idle_ms = 20;
	mp = tide_pool_create(&pp);
	TDU_REQUIRE(mp != NULL);
	TDU_CHECK(tide_pool_block_source_set(mp, tide_donor_pool_source, dm) == 0);
	huge0 = tide_test_hugetlb_kb();
	/* Take mbufs as a receiver does: when the pool is short, come back a little later. */
	while (n < ELASTIC_HOLD && tries < WAIT_MS) {
		unsigned int k = RTE_MIN(64u, ELASTIC_HOLD - n);

		if (rte_pktmbuf_alloc_bulk(mp, &m[n], k) == 0) {
			n += k;
			continue;
		}
		tries++;
		usleep(1000);
	}
	TDU_CHECK(n == ELASTIC_HOLD);
	TDU_CHECK(pstats(mp).grows_ext >= 2 && pstats(mp).nb_ext_blocks >= 2);
	TDU_CHECK(stats(dm).donors >= 4 && stats(dm).regions >= 2);
	TDU_CHECK(tide_test_hugetlb_kb() > huge0 + 32 * 1024);
	for (unsigned int i = 0; i < n; i++) {
		const struct tide_donor_region *r = tide_donor_region_lookup(dm, m[i]);

		if (r == NULL)
			continue;
		on_donors++;
		TDU_CHECK(m[i]->buf_iova == rte_mem_virt2iova(m[i]->buf_addr));
		TDU_CHECK(m[i]->buf_iova == tide_donor_region_iova(r, m[i]->buf_addr));
		memset(rte_pktmbuf_mtod(m[i], void *), (int)i, 64);
	}
	TDU_CHECK(on_donors > 2 * 16 * MB / POOL_ELT * 9 / 10);
	tdu_report("on_donor_blocks", on_donors);
	tdu_report("donor_blocks", pstats(mp).nb_ext_blocks);
	/* All home: the reaper walks the pool back down, donor blocks and their donors go. */
	rte_pktmbuf_free_bulk(m, n);
	for (tries = 0; tries < WAIT_MS && (pstats(mp).nb_ext_blocks != 0 ||
			stats(dm).donors != 0); tries++)
		usleep(1000);
	TDU_CHECK(pstats(mp).nb_ext_blocks == 0);
	TDU_CHECK(pstats(mp).reaps >= pstats(mp).grows_ext);
	TDU_CHECK(stats(dm).donors == 0 && stats(dm).regions == 0);
	TDU_CHECK(stats(dm).terminated >= 4 && stats(dm).killed == 0);
	tide_pool_free(mp);
	TDU_CHECK(tide_test_hugetlb_kb() <= huge0);
	TDU_CHECK(tide_donor_mgr_free(dm) == 0);
	free(m);
	return 0;
}

/* ---- Own hugepages and DPDK's heap share one allowance (--socket-limit). */

static int
scen_own_hugepages_count_against_the_limit(void)
{
	const struct rte_memzone *mz[32];
	struct tide_donor_region_info ri;
	struct rte_malloc_socket_stats hs;
	struct tide_donor_region *r, *r2;
	struct tide_donor_mgr *m;
	unsigned int n = 0;

	m = mgr_make("ownhuge", 0, 0, true);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, 8 * MB, TIDE_DONOR_HUGE, 0);
	TDU_REQUIRE(r != NULL);
	tide_donor_region_info(r, &ri);
	TDU_CHECK(ri.own_bytes == 8 * MB && ri.nb_donors == 0 && ri.page_sz == 2 * MB);
	TDU_CHECK(iovas_agree(r));
	/* The heap grows only to 64 MB less those 8 MB (and less one page: EAL's limit is
	 * exclusive).
	 */
	while (n < RTE_DIM(mz)) {
		char name[RTE_MEMZONE_NAMESIZE];

		snprintf(name, sizeof(name), "tdn_fill%u", n);
		mz[n] = rte_memzone_reserve(name, 2 * MB - 64 * KB, SOCKET_ID_ANY, 0);
		if (mz[n] == NULL)
			break;
		n++;
	}
	rte_malloc_get_socket_stats(0, &hs);
	tdu_report("heap_total", (long)hs.heap_totalsz_bytes);
	TDU_CHECK(hs.heap_totalsz_bytes + 8 * MB < 64 * MB);
	TDU_CHECK(hs.heap_totalsz_bytes + 8 * MB >= 64 * MB - 4 * MB);
	/* Nothing of the allowance is left: the next request is all donors. */
	r2 = tide_donor_request(m, 8 * MB, TIDE_DONOR_HUGE, 0);
	TDU_REQUIRE(r2 != NULL);
	tide_donor_region_info(r2, &ri);
	TDU_CHECK(ri.own_bytes == 0 && ri.nb_donors == 1);
	tide_donor_region_free(r2);
	tide_donor_region_free(r);
	while (n > 0)
		rte_memzone_free(mz[--n]);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/*
 * ---- The heap's growth limit is the strictest of the managers alive: once the strictest
 * is freed, the others' own limits count again.
 */

static int
scen_heap_limit_follows_the_managers(void)
{
	struct tide_donor_mgr *loose, *strict;
	struct tide_donor_region_info ri;
	const struct rte_memzone *mz;
	struct tide_donor_params p;
	struct tide_donor_region *r;

	tide_donor_params_init(&p, "loose");
	p.heap_limit = 1024 * MB;
	loose = tide_donor_mgr_create(&p);
	TDU_REQUIRE(loose != NULL);
	tide_donor_params_init(&p, "strict");
	p.heap_limit = 32 * MB;
	strict = tide_donor_mgr_create(&p);
	TDU_REQUIRE(strict != NULL);
	/* Own hugepages taken: the limit binds the heap from now on. */
	r = tide_donor_request(loose, 2 * MB, TIDE_DONOR_HUGE, 0);
	TDU_REQUIRE(r != NULL);
	TDU_CHECK(tide_donor_region_info(r, &ri) == 0 && ri.own_bytes == 2 * MB);
	mz = rte_memzone_reserve("tdn_limit", 48 * MB, SOCKET_ID_ANY, 0);
	TDU_CHECK(mz == NULL);
	TDU_CHECK(tide_donor_mgr_free(strict) == 0);
	mz = rte_memzone_reserve("tdn_limit", 48 * MB, SOCKET_ID_ANY, 0);
	TDU_CHECK(mz != NULL);
	rte_memzone_free(mz);
	tide_donor_region_free(r);
	TDU_CHECK(tide_donor_mgr_free(loose) == 0);
	return 0;
}

/* ---- kill -9 of a donor mid-run: the consumer keeps running. */

static int
scen_pinned_donor_killed_mid_run(void)
{
	struct tide_donor_part_info pi0, pi1;
	struct tide_donor_region_info ri;
	struct tide_donor_region *r;
	struct tide_donor_mgr *m;
	struct rte_mempool *rx;
	struct tide_zctx *z;
	uint64_t bytes = 0;
	uint16_t port;
	char *log;

	m = mgr_make("midrun", 2 * MB, 0, false);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, 8 * MB, TIDE_DONOR_PINNED, 0);
	TDU_REQUIRE(r != NULL);
	tide_donor_region_info(r, &ri);
	TDU_CHECK(ri.nb_donors == 4 && ri.own_bytes == 0);
	memset(ri.addr, 0x3c, ri.len);
	TDU_REQUIRE(null_port(&rx, &port) == 0);
	z = zctx_make("midrun", port);
	TDU_REQUIRE(z != NULL);
	TDU_CHECK(send_all(z, port, ri.addr, ri.len, 256 * KB, &bytes) == 32);
	TDU_REQUIRE(tide_donor_region_part(r, 1, &pi0) == 0);
	tide_test_log_begin();
	TDU_CHECK(kill(pi0.pid, SIGKILL) == 0);
	/* Sending goes on while the control thread notices and re-pins. */
	TDU_CHECK(send_all(z, port, ri.addr, ri.len, 256 * KB, &bytes) == 32);
	TDU_CHECK(STAT_REACHED(m, repins, 1));
	log = tide_test_log_end();
	TDU_CHECK(strstr(log, "died (killed by signal 9)") != NULL);
	TDU_CHECK(strstr(log, "locked again by donor") != NULL);
	free(log);
	TDU_CHECK(stats(m).deaths == 1 && stats(m).unpinned_bytes == 0 && stats(m).donors == 4);
	TDU_CHECK(tide_donor_region_part(r, 1, &pi1) == 0);
	TDU_CHECK(pi1.state == TIDE_DONOR_STATE_LIVE && pi1.repins == 1 && pi1.pid != pi0.pid);
	TDU_CHECK(tdu_vmlck_kb(pi1.pid) >= 2048 && !tdu_pid_alive(pi0.pid));
	TDU_CHECK(send_all(z, port, ri.addr, ri.len, 256 * KB, &bytes) == 32);
	TDU_CHECK(bytes == 3 * 8 * MB);
	/* No byte went anywhere. */
	for (size_t i = 0; i < ri.len; i += 4 * KB)
		if (((uint8_t *)ri.addr)[i] != 0x3c) {
			TDU_CHECK(!"memory changed");
			break;
		}
	TDU_CHECK(resident(ri.addr, ri.len));
	tdu_report("iova_moved", (long)stats(m).iova_moved);
	TDU_CHECK(iovas_agree(r));
	TDU_CHECK(tide_zctx_free(z) == 0);
	null_port_close(rx, port);
	tide_donor_region_free(r);
	TDU_CHECK(stats(m).donors == 0);
	TDU_CHECK(tdu_donor_children() == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

static int
scen_huge_donor_killed_under_mbufs(void)
{
	struct rte_mbuf *mb[64];
	struct tide_donor_part_info pi;
	struct tide_mempool_stats ms;
	struct tide_donor_block b;
	struct tide_donor_mgr *m;
	struct donor_blk db;
	struct rte_mempool *mp;
	unsigned int n;
	int64_t id;
	char *log;

	m = mgr_make("hkill", 0, 4 * MB, false);
	TDU_REQUIRE(m != NULL);
	mp = mbuf_pool("tdn_hkill");
	TDU_REQUIRE(mp != NULL);
	TDU_REQUIRE(tide_donor_block_get(m, 8 * MB, &b) == 0);
	id = tide_mempool_block_add(mp, b.addr, b.len, rte_pktmbuf_init, NULL, b.free_cb,
		b.opaque);
	TDU_REQUIRE(id > 0);
	for (n = 0; n < RTE_DIM(mb); n++) {
		mb[n] = rte_pktmbuf_alloc(mp);
		TDU_REQUIRE(mb[n] != NULL);
		memset(rte_pktmbuf_mtod(mb[n], void *), (int)n, 1024);
	}
	TDU_REQUIRE(tide_donor_region_part(b.opaque, 0, &pi) == 0);
	tide_test_log_begin();
	TDU_CHECK(kill(pi.pid, SIGKILL) == 0);
	TDU_CHECK(STAT_REACHED(m, deaths, 1));
	log = tide_test_log_end();
	TDU_CHECK(strstr(log, "nothing is lost") != NULL);
	free(log);
	TDU_CHECK(stats(m).orphan_bytes == 4 * MB && stats(m).donors == 1);
	TDU_CHECK(tide_donor_region_part(b.opaque, 0, &pi) == 0 &&
		pi.state == TIDE_DONOR_STATE_ORPHAN);
	/* The mbufs live on: the consumer's mapping holds the hugepages. */
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *d = rte_pktmbuf_mtod(mb[i], const uint8_t *);

		TDU_CHECK(d[0] == (uint8_t)i && d[1023] == (uint8_t)i);
		rte_pktmbuf_free(mb[i]);
	}
	db.b = b;
	TDU_CHECK(use_all_mbufs(mp, &db, 1) > 8 * MB / POOL_ELT * 9 / 10);
	TDU_CHECK(tide_mempool_block_remove(mp, (uint64_t)id, 0) == 0);
	TDU_CHECK(stats(m).donors == 0 && stats(m).regions == 0);
	TDU_CHECK(tdu_donor_children() == 0);
	TDU_CHECK(tide_mempool_stats_get(mp, &ms) == 0 && ms.nb_blocks == 0);
	rte_mempool_free(mp);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/* Without re-pinning, an unpinned part is reported and tide_donor_alloc() avoids it. */
static int
scen_unpinned_memory_is_never_handed_out(void)
{
	const struct tide_donor_region *r;
	struct tide_donor_region_info ri;
	struct tide_donor_part_info pi;
	struct tide_donor_params p;
	struct tide_donor_mgr *m;
	uint8_t *bufs[64], *lo, *hi;
	unsigned int n;
	char *log;

	tide_donor_params_init(&p, "norepin");
	p.flags = TIDE_DONOR_MGR_F_NO_REPIN;
	p.donor_max[TIDE_DONOR_PINNED] = 1 * MB;
	p.own_max[TIDE_DONOR_PINNED] = 0;
	p.heap_grow = 4 * MB;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	bufs[0] = tide_donor_alloc(m, 64 * KB, 0);
	TDU_REQUIRE(bufs[0] != NULL);
	r = tide_donor_region_lookup(m, bufs[0]);
	TDU_REQUIRE(r != NULL);
	/* Kill the donor of a part the first buffer is not in. */
	TDU_REQUIRE(tide_donor_region_part(r, 2, &pi) == 0);
	tide_donor_region_info(r, &ri);
	lo = (uint8_t *)ri.addr + pi.offset;
	hi = lo + pi.bytes;
	TDU_CHECK(bufs[0] + 64 * KB <= lo || bufs[0] >= hi);
	tide_test_log_begin();
	TDU_CHECK(kill(pi.pid, SIGKILL) == 0);
	TDU_CHECK(STAT_REACHED(m, unpinned_bytes, 1 * MB));
	TDU_CHECK(tide_donor_region_part(r, 2, &pi) == 0 && pi.state == TIDE_DONOR_STATE_UNPINNED);
	for (n = 1; n < RTE_DIM(bufs); n++) {
		bufs[n] = tide_donor_alloc(m, 64 * KB, 0);
		TDU_REQUIRE(bufs[n] != NULL);
		TDU_CHECK(bufs[n] + 64 * KB <= lo || bufs[n] >= hi);
	}
	log = tide_test_log_end();
	TDU_CHECK(strstr(log, "will not be locked again") != NULL);
	TDU_CHECK(strstr(log, "set aside") != NULL);
	free(log);
	TDU_CHECK(stats(m).regions >= 2 && stats(m).deaths == 1 && stats(m).repins == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == -EBUSY); /* buffers are out */
	for (n = 0; n < RTE_DIM(bufs); n++)
		TDU_CHECK(tide_donor_free(m, bufs[n]) == 0);
	TDU_CHECK(tide_donor_trim(m) >= 8 * MB);
	TDU_CHECK(stats(m).regions == 0 && stats(m).donors == 0);
	TDU_CHECK(tdu_donor_children() == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/* ---- tide_donor_alloc(): send buffers on a heap of donor memory. */

static int
scen_send_buffers_from_the_heap(void)
{
	struct tide_zctx_cache_stats c0, c1;
	struct tide_donor_mgr *m;
	struct rte_mempool *rx;
	struct tide_zctx *z;
	uint8_t *a, *b, local[64];
	struct tide_donor_stats s0, s1;
	struct tide_donor_region *r;
	uint64_t bytes = 0;
	uint16_t port;
	char *log;
	int sock;

	m = mgr_make("heap", 2 * MB, 0, false);
	TDU_REQUIRE(m != NULL);
	/* A buffer so large that its alignment and the heap's overhead wrap around: refused
	 * before the heap grows.
	 */
	tide_test_log_begin();
	TDU_CHECK(tide_donor_alloc(m, SIZE_MAX - 100, 0) == NULL && rte_errno == EINVAL);
	log = tide_test_log_end();
	TDU_CHECK(strstr(log, "tide_donor_alloc(): ") != NULL);
	free(log);
	TDU_CHECK(stats(m).spawned == 0 && stats(m).heap_bytes == 0);
	a = tide_donor_alloc(m, 3 * MB, 4096);
	TDU_REQUIRE(a != NULL);
	TDU_CHECK(((uintptr_t)a & 4095) == 0);
	b = tide_donor_alloc(m, 100 * KB, 0);
	TDU_REQUIRE(b != NULL);
#ifdef TIDE_FAULT_INJECTION
	{
		/* The manager records its buffers 64 at a time: with no memory (injected) for
		 * the next 64, the 65th buffer is refused and logged, and the 64 stay good.
		 */
		uint8_t *small[62];

		for (unsigned int i = 0; i < RTE_DIM(small); i++) {
			small[i] = tide_donor_alloc(m, 64, 0);
			TDU_CHECK(small[i] != NULL);
		}
		tide_test_log_begin();
		tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
		TDU_CHECK(tide_donor_alloc(m, 64, 0) == NULL && rte_errno == ENOMEM);
		tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
		log = tide_test_log_end();
		TDU_CHECK(strstr(log, "heap: no memory to record 128 buffers") != NULL);
		free(log);
		for (unsigned int i = 0; i < RTE_DIM(small); i++)
			TDU_CHECK(tide_donor_free(m, small[i]) == 0);
	}
#endif
	sock = tide_donor_heap_socket(m);
	TDU_CHECK(sock >= RTE_MAX_NUMA_NODES);
	TDU_CHECK(rte_mem_virt2memseg_list(a) != NULL && rte_mem_virt2memseg_list(a)->external);
	TDU_CHECK(rte_mem_virt2iova(a) != RTE_BAD_IOVA);
	TDU_CHECK(stats(m).heap_bytes >= 16 * MB && stats(m).donors >= 8);
	memset(a, 0x11, 3 * MB);
	TDU_REQUIRE(null_port(&rx, &port) == 0);
	z = zctx_make("heap", port);
	TDU_REQUIRE(z != NULL);
	tide_zctx_cache_stats_get(&c0);
	TDU_CHECK(send_all(z, port, a, 3 * MB, 1 * MB, &bytes) == 3);
	tide_zctx_cache_stats_get(&c1);
	TDU_CHECK(c1.pinned_total == c0.pinned_total && c1.dpdk_mem == c0.dpdk_mem + 3);
	TDU_CHECK(tide_zctx_free(z) == 0);
	null_port_close(rx, port);
	/* Bad frees are refused without writing anything. */
	TDU_CHECK(tide_donor_free(m, a + 64) == -EINVAL && rte_errno == EINVAL);
	TDU_CHECK(tide_donor_free(m, local) == -EINVAL);
	TDU_CHECK(tide_donor_free(NULL, a) == -EINVAL);
	TDU_CHECK(tide_donor_free(m, NULL) == 0);
	TDU_CHECK(tide_donor_trim(m) == 0); /* buffers still out */
	TDU_CHECK(tide_donor_free(m, a) == 0 && tide_donor_free(m, b) == 0);
	TDU_CHECK(tide_donor_free(m, a) == -EINVAL); /* not twice */
	/* A region still out: the manager is not freed, and nothing of it is, not even the
	 * heap that holds no buffer now.
	 */
	r = tide_donor_request(m, 2 * MB, TIDE_DONOR_PINNED, 0);
	TDU_REQUIRE(r != NULL);
	s0 = stats(m);
	TDU_CHECK(tide_donor_mgr_free(m) == -EBUSY && rte_errno == EBUSY);
	s1 = stats(m);
	TDU_CHECK(s1.heap_bytes == s0.heap_bytes && s1.regions == s0.regions);
	TDU_CHECK(s1.donors == s0.donors && s1.terminated == s0.terminated);
	tide_donor_region_free(r);
	/* So does memory of its heap taken through DPDK. */
	a = rte_malloc_socket("tdn_heap", 64, 0, sock);
	TDU_REQUIRE(a != NULL);
	TDU_CHECK(tide_donor_mgr_free(m) == -EBUSY && stats(m).heap_bytes == s0.heap_bytes);
	rte_free(a);
	TDU_CHECK(tide_donor_trim(m) >= 16 * MB);
	TDU_CHECK(stats(m).donors == 0 && tdu_donor_children() == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/* ---- The consumer killed: no donor survives it. */

static int
scen_consumer_holding_donors(void)
{
	struct tide_donor_region *r1, *r2;
	struct tide_donor_mgr *m;
	pid_t pids[8];
	unsigned int n;
	char key[16];

	m = mgr_make("victim", 2 * MB, 2 * MB, false);
	TDU_REQUIRE(m != NULL);
	r1 = tide_donor_request(m, 8 * MB, TIDE_DONOR_PINNED, 0);
	r2 = tide_donor_request(m, 4 * MB, TIDE_DONOR_HUGE, 0);
	TDU_REQUIRE(r1 != NULL && r2 != NULL);
	n = region_pids(r1, pids, 8);
	n += region_pids(r2, pids + n, 8 - n);
	TDU_REQUIRE(n == 6);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "donor%u", i);
		tdu_report(key, pids[i]);
	}
	tdu_report("ready", 1);
	for (;;)
		pause(); /* until killed */
	return 1;
}

/* A thread that asks for memory and exits: its donors outlive it (they are the control
 * thread's children, and PR_SET_PDEATHSIG follows the parent thread).
 */
static void *
request_and_exit(void *arg)
{
	return tide_donor_request(arg, 4 * MB, TIDE_DONOR_PINNED, 0);
}

static int
scen_donors_outlive_the_requesting_thread(void)
{
	struct tide_donor_region *r;
	struct tide_donor_mgr *m;
	pthread_t t;
	pid_t pids[4];
	void *ret;

	m = mgr_make("thread", 2 * MB, 0, false);
	TDU_REQUIRE(m != NULL);
	TDU_REQUIRE(pthread_create(&t, NULL, request_and_exit, m) == 0);
	pthread_join(t, &ret);
	r = ret;
	TDU_REQUIRE(r != NULL);
	TDU_CHECK(region_pids(r, pids, 4) == 2);
	tide_test_sleep_us(200 * 1000);
	TDU_CHECK(tdu_pid_alive(pids[0]) && tdu_pid_alive(pids[1]));
	TDU_CHECK(stats(m).deaths == 0 && stats(m).donors == 2);
	tide_donor_region_free(r);
	TDU_CHECK(all_gone(pids, 2));
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/* ---- Re-pins. */

/*
 * Kill the donor of part @p idx of @p r, and wait until the part is settled again: locked
 * by a new donor (LIVE) or reported unpinned. Its state then (REPINNING: it did not settle
 * in 30 s).
 */
static enum tide_donor_state
kill_and_settle(struct tide_donor_mgr *m, const struct tide_donor_region *r, unsigned int idx)
{
	struct tide_donor_part_info pi, now;
	uint64_t deaths = stats(m).deaths;

	if (!TDU_CHECK(tide_donor_region_part(r, idx, &pi) == 0 && kill(pi.pid, SIGKILL) == 0))
		return TIDE_DONOR_STATE_REPINNING;
	/* The part is REPINNING from the moment its death is counted. */
	TDU_CHECK(STAT_REACHED(m, deaths, deaths + 1));
	for (unsigned int i = 0; i < 3 * WAIT_MS; i++) {
		tide_donor_region_part(r, idx, &now);
		if (now.state == TIDE_DONOR_STATE_UNPINNED ||
				(now.state == TIDE_DONOR_STATE_LIVE && now.pid != pi.pid))
			return now.state;
		tide_test_sleep_us(1000);
	}
	return TIDE_DONOR_STATE_REPINNING;
}

/* A part's donor may die any number of times: each death has its own re-pins to try. */
static int
scen_repinned_after_every_death(void)
{
	struct tide_donor_part_info pi;
	struct tide_donor_region *r;
	struct tide_donor_mgr *m;

	m = mgr_make("again", 1 * MB, 0, false);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, 2 * MB, TIDE_DONOR_PINNED, 0);
	TDU_REQUIRE(r != NULL);
	for (unsigned int k = 1; k <= 5; k++) {
		enum tide_donor_state st = kill_and_settle(m, r, 1);

		if (!TDU_CHECK(st == TIDE_DONOR_STATE_LIVE))
			fprintf(stderr, "  death %u: %s\n", k, tide_donor_state_name(st));
		TDU_CHECK(tide_donor_region_part(r, 1, &pi) == 0 && pi.repins == k);
	}
	TDU_CHECK(stats(m).repins == 5 && stats(m).repin_failures == 0);
	TDU_CHECK(stats(m).unpinned_bytes == 0 && stats(m).donors == 2);
	tide_donor_region_free(r);
	TDU_CHECK(tdu_donor_children() == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/* ---- Bad input. */

/* @p call, with the log captured: it sets rte_errno @p err and @p fn logs a line. */
#define DN_REFUSED_LOGGED(call, err, fn) TIDE_TEST_REFUSED_CHECKED(TDU_CHECK, call, err, fn)

static int
scen_bad_input_is_refused(void)
{
	struct tide_donor_params p;
	struct tide_donor_block b;
	struct tide_donor_mgr *m;
	uint64_t spawned;
	unsigned int fds;
	char *log;

	tide_donor_params_init(&p, NULL);
	TDU_CHECK(tide_donor_mgr_create(&p) == NULL && rte_errno == EINVAL);
	TDU_CHECK(tide_donor_mgr_create(NULL) == NULL && rte_errno == EINVAL);
	tide_donor_params_init(&p, "a_name_much_too_long_for_it");
	TDU_CHECK(tide_donor_mgr_create(&p) == NULL && rte_errno == EINVAL);
	tide_donor_params_init(&p, "bad");
	p.max_donors = 0;
	TDU_CHECK(tide_donor_mgr_create(&p) == NULL && rte_errno == EINVAL);
	tide_donor_params_init(&p, "bad");
	p.flags = 1u << 9;
	TDU_CHECK(tide_donor_mgr_create(&p) == NULL && rte_errno == EINVAL);
	/* A handshake timeout past INT_MAX ms would be a negative poll() timeout: forever. */
	tide_donor_params_init(&p, "bad");
	p.timeout_ms = (unsigned int)INT_MAX + 1u;
	tide_test_log_begin();
	TDU_CHECK(tide_donor_mgr_create(&p) == NULL && rte_errno == EINVAL);
	log = tide_test_log_end();
	TDU_CHECK(strstr(log, "timeout_ms") != NULL);
	free(log);
	p.timeout_ms = INT_MAX;
	m = tide_donor_mgr_create(&p);
	TDU_CHECK(m != NULL && tide_donor_mgr_free(m) == 0);
#ifdef TIDE_FAULT_INJECTION
	/* No memory for the manager (injected): refused and logged, its name free after. */
	tide_test_log_begin();
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	TDU_CHECK(tide_donor_mgr_create(&p) == NULL && rte_errno == ENOMEM);
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
	log = tide_test_log_end();
	TDU_CHECK(strstr(log, "tide_donor_mgr_create(): bad: no memory") != NULL);
	free(log);
	m = tide_donor_mgr_create(&p);
	TDU_CHECK(m != NULL && tide_donor_mgr_free(m) == 0);
#endif
	tide_donor_params_init(&p, "bad");
	p.helper = "/nonexistent/tide-donor";
	TDU_CHECK(tide_donor_mgr_create(&p) == NULL && rte_errno == ENOENT);
	tide_donor_params_init(&p, "bad");
	p.max_donors = 4;
	p.donor_max[TIDE_DONOR_PINNED] = 1 * MB;
	p.own_max[TIDE_DONOR_PINNED] = 0;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	TDU_CHECK(tide_donor_mgr_create(&p) == NULL && rte_errno == EEXIST);
	fds = tdu_fd_count();

	TDU_CHECK(tide_donor_request(NULL, MB, TIDE_DONOR_PINNED, 0) == NULL &&
		rte_errno == EINVAL);
	TDU_CHECK(tide_donor_request(m, 0, TIDE_DONOR_PINNED, 0) == NULL && rte_errno == EINVAL);
	TDU_CHECK(tide_donor_request(m, MB, (enum tide_donor_kind)7, 0) == NULL &&
		rte_errno == EINVAL);
	TDU_CHECK(tide_donor_request(m, MB, TIDE_DONOR_PINNED, 1u << 5) == NULL &&
		rte_errno == EINVAL);
	spawned = stats(m).spawned;
	/* More than all donors could give: refused before any starts. */
	TDU_CHECK(tide_donor_request(m, 5 * MB, TIDE_DONOR_PINNED, 0) == NULL &&
		rte_errno == ENOSPC);
	/* More than the system has. */
	TDU_CHECK(tide_donor_request(m, 1ul << 42, TIDE_DONOR_HUGE, 0) == NULL &&
		rte_errno == ENOMEM);
	TDU_CHECK(tide_donor_request(m, 1ul << 50, TIDE_DONOR_PINNED, 0) == NULL &&
		rte_errno == ENOMEM);
	TDU_CHECK(stats(m).spawned == spawned && stats(m).refused >= 3);
	/* Every request is counted, and each was refused. */
	TDU_CHECK(stats(m).requests == stats(m).refused);
	TDU_CHECK(tide_donor_block_get(m, 0, &b) == -EINVAL);
	TDU_CHECK(tide_donor_block_get(m, MB, NULL) == -EINVAL);
	TDU_CHECK(tide_donor_alloc(m, 0, 0) == NULL && rte_errno == EINVAL);
	TDU_CHECK(tide_donor_alloc(m, 64, 3) == NULL && rte_errno == EINVAL);
	TDU_CHECK(tide_donor_alloc(NULL, 64, 0) == NULL && rte_errno == EINVAL);
	TDU_CHECK(tide_donor_region_info(NULL, NULL) == -EINVAL);
	TDU_CHECK(tide_donor_region_iova(NULL, &p) == RTE_BAD_IOVA && rte_errno == EINVAL);
	TDU_CHECK(tide_donor_region_lookup(m, &p) == NULL && rte_errno == ENOENT);
	TDU_CHECK(tide_donor_stats_get(NULL, NULL) == -EINVAL);
	/* Each refusal above and below has a log line of the call's own. */
	DN_REFUSED_LOGGED(tide_donor_free(NULL, &p), EINVAL, "tide_donor_free");
	DN_REFUSED_LOGGED(tide_donor_heap_socket(NULL), EINVAL, "tide_donor_heap_socket");
	DN_REFUSED_LOGGED(tide_donor_stats_get(m, NULL), EINVAL, "tide_donor_stats_get");
	DN_REFUSED_LOGGED(tide_donor_region_info(NULL, NULL), EINVAL,
		"tide_donor_region_info");
	DN_REFUSED_LOGGED(tide_donor_region_part(NULL, 0, NULL), EINVAL,
		"tide_donor_region_part");
	DN_REFUSED_LOGGED(tide_donor_region_lookup(NULL, &p), EINVAL,
		"tide_donor_region_lookup");
	/* A plain miss: quiet at the default level, said at DEBUG. */
	tide_test_log_begin();
	TDU_CHECK(tide_donor_region_lookup(m, &p) == NULL && rte_errno == ENOENT);
	log = tide_test_log_end();
	TDU_CHECK(strstr(log, "tide_donor_region_lookup(): ") == NULL);
	free(log);
	tide_test_log_debug(true);
	DN_REFUSED_LOGGED(tide_donor_region_lookup(m, &p), ENOENT, "tide_donor_region_lookup");
	tide_test_log_debug(false);
	DN_REFUSED_LOGGED(tide_donor_trim(NULL), EINVAL, "tide_donor_trim");
	tide_donor_region_free(NULL);
	tide_donor_block_put(NULL);
	TDU_CHECK(tide_donor_mgr_free(NULL) == 0);
	TDU_CHECK(tdu_fd_count() == fds && tdu_donor_children() == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);

	/* A helper that starts and exits at once: the donor died before handing over. */
	tide_donor_params_init(&p, "false");
	p.helper = "/bin/false";
	p.own_max[TIDE_DONOR_PINNED] = 0;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	TDU_CHECK(tide_donor_request(m, MB, TIDE_DONOR_PINNED, 0) == NULL &&
		rte_errno == ECONNRESET);
	TDU_CHECK(stats(m).donors == 0 && tdu_donor_children() == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/*
 * A region, then a manager, freed twice: the second free is refused (EINVAL, logged)
 * without reading the freed one, and a region and a manager made after it work. A region
 * of the manager's heap (never handed out) and pointers to something else are refused
 * alike, and leave what they name as it was.
 */
/* Every call on a manager refuses @p m, not live, with EINVAL and a line naming it. */
static void
mgr_calls_refused(struct tide_donor_mgr *m)
{
	struct tide_donor_stats st;
	struct tide_donor_block b;
	int dummy;

	DN_REFUSED_LOGGED(tide_donor_request(m, 1 * MB, TIDE_DONOR_PINNED, 0), EINVAL,
		"tide_donor_request");
	DN_REFUSED_LOGGED(tide_donor_block_get(m, 2 * MB, &b), EINVAL, "tide_donor_request");
	DN_REFUSED_LOGGED(tide_donor_alloc(m, 64, 0), EINVAL, "tide_donor_alloc");
	DN_REFUSED_LOGGED(tide_donor_free(m, &dummy), EINVAL, "tide_donor_free");
	DN_REFUSED_LOGGED(tide_donor_heap_socket(m), EINVAL, "tide_donor_heap_socket");
	DN_REFUSED_LOGGED(tide_donor_trim(m), EINVAL, "tide_donor_trim");
	DN_REFUSED_LOGGED(tide_donor_region_lookup(m, &dummy), EINVAL,
		"tide_donor_region_lookup");
	DN_REFUSED_LOGGED(tide_donor_stats_get(m, &st), EINVAL, "tide_donor_stats_get");
}

static int
scen_freed_twice_are_refused(void)
{
	const struct tide_donor_region *hr;
	struct tide_donor_region_info ri;
	struct tide_donor_params p;
	struct tide_donor_region *r;
	struct tide_donor_mgr *m;
	uint64_t fake[64] = { 0 };
	void *buf;

	tide_donor_params_init(&p, "twice");
	p.donor_max[TIDE_DONOR_PINNED] = 1 * MB;
	p.own_max[TIDE_DONOR_PINNED] = 0;
	p.heap_grow = 2 * MB;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, 1 * MB, TIDE_DONOR_PINNED, 0);
	TDU_REQUIRE(r != NULL);
	tide_donor_region_free(r);
	DN_REFUSED_LOGGED(tide_donor_region_free(r), EINVAL, "tide_donor_region_free");
	TDU_CHECK(stats(m).regions == 0 && stats(m).donors == 0);
	r = tide_donor_request(m, 1 * MB, TIDE_DONOR_PINNED, 0);
	TDU_REQUIRE(r != NULL);
	TDU_CHECK(tide_donor_region_info(r, &ri) == 0 && ri.len == 1 * MB && ri.nb_donors == 1);
	DN_REFUSED_LOGGED(tide_donor_region_free((struct tide_donor_region *)fake), EINVAL,
		"tide_donor_region_free");
	buf = tide_donor_alloc(m, 64 * KB, 0);
	TDU_REQUIRE(buf != NULL);
	hr = tide_donor_region_lookup(m, buf);
	TDU_REQUIRE(hr != NULL);
	DN_REFUSED_LOGGED(tide_donor_region_free((struct tide_donor_region *)(uintptr_t)hr),
		EINVAL, "tide_donor_region_free");
	TDU_CHECK(tide_donor_region_lookup(m, buf) == hr);
	memset(buf, 0x5a, 64 * KB);
	TDU_CHECK(tide_donor_free(m, buf) == 0);
	TDU_CHECK(stats(m).regions == 2);
	tide_donor_region_free(r);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	DN_REFUSED_LOGGED(tide_donor_mgr_free(m), EINVAL, "tide_donor_mgr_free");
	mgr_calls_refused(m);
	TDU_CHECK(tdu_donor_children() == 0);
	/* The name is free again, and the registry whole. */
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, 1 * MB, TIDE_DONOR_PINNED, 0);
	TDU_CHECK(r != NULL && stats(m).regions == 1);
	tide_donor_region_free(r);
	DN_REFUSED_LOGGED(tide_donor_mgr_free((struct tide_donor_mgr *)fake), EINVAL,
		"tide_donor_mgr_free");
	mgr_calls_refused((struct tide_donor_mgr *)fake);
	TDU_CHECK(tide_test_zeroed(fake, sizeof(fake)));
	/* The live one works, and nothing of the refused calls is left on it. */
	buf = tide_donor_alloc(m, 64 * KB, 0);
	TDU_CHECK(buf != NULL && tide_donor_free(m, buf) == 0);
	TDU_CHECK(stats(m).refused == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	TDU_CHECK(tdu_donor_children() == 0);
	return 0;
}

/* @p p refused by tide_donor_mgr_create() with @p err and a log line that says @p why. */
static bool
create_refused(const struct tide_donor_params *p, int err, const char *why)
{
	struct tide_donor_mgr *m;
	char *log;
	bool ok;

	tide_test_log_begin();
	rte_errno = 0;
	m = tide_donor_mgr_create(p);
	log = tide_test_log_end();
	ok = m == NULL && rte_errno == err && strstr(log, why) != NULL;
	if (!ok)
		printf("create of %s: %p, rte_errno %d (want %d), log: %s\n", p->name, (void *)m,
			rte_errno, err, log);
	free(log);
	if (m != NULL)
		tide_donor_mgr_free(m);
	return ok;
}

/* A socket EAL does not know is refused, however small its number; SOCKET_ID_ANY and the
 * sockets EAL knows are taken, under the name the refusals left free.
 */
static int
scen_unknown_socket_is_refused(void)
{
	struct tide_donor_params p;
	struct tide_donor_mgr *m;
	unsigned int refused = 0;
	bool known;

	for (int s = -2; s <= RTE_MAX_NUMA_NODES; s++) {
		known = s == SOCKET_ID_ANY;
		for (unsigned int i = 0; i < rte_socket_count(); i++)
			known |= rte_socket_id_by_idx(i) == s;
		tide_donor_params_init(&p, "sock");
		p.socket_id = s;
		if (!known) {
			refused += TDU_CHECK(create_refused(&p, EINVAL, "not a NUMA socket"));
			continue;
		}
		m = tide_donor_mgr_create(&p);
		TDU_CHECK(m != NULL && tide_donor_mgr_free(m) == 0);
	}
	/* Every number but those: -2, RTE_MAX_NUMA_NODES, and below it those EAL does not
	 * know (1 and 9 among them on a machine of one socket).
	 */
	TDU_CHECK(refused == RTE_MAX_NUMA_NODES + 2 - rte_socket_count());
	tdu_report("sockets", (long)rte_socket_count());
	TDU_CHECK(tdu_donor_children() == 0);
	return 0;
}

/* A helper that is a directory (which access(X_OK) takes, as a directory one may search),
 * or a file no one may execute, is refused at creation, from the parameters or the
 * environment; the real helper then serves a request from a donor.
 */
static int
scen_helper_not_a_program_is_refused(void)
{
	char file[] = "/tmp/tdn-helper-XXXXXX";
	const char *env = getenv("TIDE_DONOR_HELPER");
	struct tide_donor_region_info ri;
	struct tide_donor_params p;
	struct tide_donor_region *r;
	struct tide_donor_mgr *m;
	char *real;
	int fd;

	TDU_REQUIRE(env != NULL && (real = strdup(env)) != NULL);
	tide_donor_params_init(&p, "helper");
	p.helper = "/tmp";
	TDU_CHECK(create_refused(&p, ENOENT, "not an executable program"));
	p.helper = "/";
	TDU_CHECK(create_refused(&p, ENOENT, "not an executable program"));
	fd = mkstemp(file);
	TDU_REQUIRE(fd >= 0);
	close(fd);
	p.helper = file;
	TDU_CHECK(chmod(file, 0644) == 0 && create_refused(&p, ENOENT, "not an executable"));
	unlink(file);
	p.helper = NULL;
	TDU_CHECK(setenv("TIDE_DONOR_HELPER", "/tmp", 1) == 0);
	TDU_CHECK(create_refused(&p, ENOENT, "not an executable program"));
	TDU_CHECK(setenv("TIDE_DONOR_HELPER", real, 1) == 0);
	free(real);

	p.own_max[TIDE_DONOR_PINNED] = 0;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, MB, TIDE_DONOR_PINNED, 0);
	TDU_CHECK(r != NULL && tide_donor_region_info(r, &ri) == 0 && ri.nb_donors == 1);
	tide_donor_region_free(r);
	TDU_CHECK(tdu_donor_children() == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/* A heap step larger than the heap may ask for at once (whole 4 KB pages within a size_t)
 * is refused at creation, not by every tide_donor_alloc() after it; the largest step is
 * taken, and fails an allocation only as more than the system has; the default then works.
 */
static int
scen_heap_grow_past_a_request_is_refused(void)
{
	const uint64_t most = SIZE_MAX & ~(uint64_t)(4 * KB - 1);
	struct tide_donor_params p;
	struct tide_donor_mgr *m;
	void *buf;

	tide_donor_params_init(&p, "grow");
	p.heap_grow = UINT64_MAX;
	TDU_CHECK(create_refused(&p, EINVAL, "heap_grow"));
	p.heap_grow = most + 1;
	TDU_CHECK(create_refused(&p, EINVAL, "heap_grow"));
	p.heap_grow = most;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	rte_errno = 0;
	TDU_CHECK(tide_donor_alloc(m, 64, 0) == NULL && rte_errno == ENOMEM);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);

	tide_donor_params_init(&p, "grow");
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	buf = tide_donor_alloc(m, 64, 0);
	TDU_CHECK(buf != NULL && tide_donor_free(m, buf) == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	TDU_CHECK(tdu_donor_children() == 0);
	return 0;
}

/*
 * ---- A donor's descriptor this process cannot take, being at its RLIMIT_NOFILE: the kernel
 * drops it and says the control data was cut short, as it would for more descriptors than
 * there is room for. The request fails with EMFILE and a line that names the limit, not as
 * a protocol breach; what did arrive is closed, the donor is gone, and the manager works
 * again once there is room.
 */

/* The descriptor limit that leaves this process @p n descriptor numbers free (0: none):
 * the kernel's own choice, the lowest numbers free, taken and given back (/proc/self/fd does
 * not list a number a thread blocked in accept(), as DPDK's telemetry is, holds already). */
static rlim_t
nofile_leaving(unsigned int n)
{
	int fds[8], top = -1;
	unsigned int i, got;

	for (i = 0; i < n && i < RTE_DIM(fds); i++) {
		fds[i] = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
		if (fds[i] < 0)
			break;
		top = RTE_MAX(top, fds[i]);
	}
	got = i;
	while (i > 0)
		close(fds[--i]);
	return got == n ? (rlim_t)top + 1 : 0;
}

/* A request of @p m made with @p n descriptors free, its donor misbehaving as @p fault says
 * (NULL: not at all): EMFILE, the limit named, nothing left of it. */
static void
nofile_request(struct tide_donor_mgr *m, unsigned int n, const char *fault)
{
	struct tide_donor_stats s0 = stats(m), s1;
	unsigned int fds = tdu_fd_count();
	struct tide_donor_region *r = NULL;
	struct rlimit rl, low;
	char *log;
	int err;

	if (!TDU_CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0))
		return;
	if (fault != NULL)
		setenv("TIDE_DONOR_TEST_FAULT", fault, 1);
	tide_test_log_begin();
	low = (struct rlimit){ .rlim_cur = nofile_leaving(n), .rlim_max = rl.rlim_max };
	rte_errno = 0;
	if (low.rlim_cur != 0 && setrlimit(RLIMIT_NOFILE, &low) == 0) {
		r = tide_donor_request(m, 1 * MB, TIDE_DONOR_PINNED, 0);
		err = rte_errno;
		TDU_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	} else {
		err = -1;
	}
	log = tide_test_log_end();
	unsetenv("TIDE_DONOR_TEST_FAULT");
	if (!TDU_CHECK(r == NULL && err == EMFILE))
		fprintf(stderr, "  %s, %u descriptors free: %s, errno %d\n%s",
			fault != NULL ? fault : "a sound donor", n,
			r != NULL ? "accepted" : "refused", err, log);
	tide_donor_region_free(r);
	TDU_CHECK(strstr(log, "tide_donor") != NULL && strstr(log, "RLIMIT_NOFILE") != NULL);
	TDU_CHECK(strstr(log, "broke the protocol") == NULL);
	s1 = stats(m);
	/* Refused, but neither a donor's failure nor its breach. */
	TDU_CHECK(s1.refused == s0.refused + 1 && s1.bad_messages == s0.bad_messages);
	TDU_CHECK(s1.handshake_failures == s0.handshake_failures);
	TDU_CHECK(s1.donors == 0 && tdu_donor_children() == 0);
	TDU_CHECK(tdu_fd_count() == fds);
	free(log);
}

static int
scen_descriptor_limit_is_emfile(void)
{
	struct tide_donor_region *r;
	struct tide_donor_mgr *m;

	m = mgr_make("nofile", 1 * MB, 0, false);
	TDU_REQUIRE(m != NULL);
	/* A whole request first: whatever it opens once is open. */
	r = tide_donor_request(m, 1 * MB, TIDE_DONOR_PINNED, 0);
	TDU_CHECK(r != NULL);
	tide_donor_region_free(r);
	/* Room for the donor's socket and pidfd, none for its memory. */
	nofile_request(m, 2, NULL);
	/* Room for its memory too, none to read how much of it the donor has locked. */
	nofile_request(m, 3, NULL);
#ifdef TIDE_FAULT_INJECTION
	/* Room for one of the two descriptors it sends: that one arrives, and is closed. */
	nofile_request(m, 3, "fd-two:0");
#endif
	/* Room again: the manager works. */
	r = tide_donor_request(m, 1 * MB, TIDE_DONOR_PINNED, 0);
	TDU_CHECK(r != NULL);
	tide_donor_region_free(r);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	TDU_CHECK(tdu_donor_children() == 0);
	return 0;
}

/* ---- Faults at every step of the handshake (tide-donor's test hooks). */

#ifdef TIDE_FAULT_INJECTION

struct fault_case {
	const char *fault;
	int err;            /* expected errno; 0: the request succeeds */
	bool maybe;         /* the donor's death races the handshake: either outcome */
};

static const struct fault_case fault_cases[] = {
	{ "die-start:1", ECONNRESET, false },
	{ "die-hello:1", ECONNRESET, false },
	{ "die-alloc:1", ECONNRESET, false },
	{ "hang-hello:1", ETIMEDOUT, false },
	{ "fail-alloc:1", ENOMEM, false },
	{ "fd-none:1", EPROTO, false },
	{ "fd-two:1", EPROTO, false },
	{ "fd-file:1", EPROTO, false },
	{ "fd-small:1", EPROTO, false },
	{ "fd-unsealed:1", EPROTO, false },
	{ "fd-kind:1", EPROTO, false },
	{ "fd-rdonly:1", EPROTO, false },
	{ "fd-wsealed:1", EPROTO, false },
	{ "offer-pid:1", EPROTO, false },
	{ "hello-fd:1", EPROTO, false },
	{ "msg-garbage:1", EPROTO, false },
	{ "no-lock:1", EPROTO, false },
	{ "die-offer:1", ECONNRESET, true },
	{ "die-ack:1", 0, false },
};

/* Nothing left of a failed request: no donor, no mapping, no descriptor. */
static void
check_nothing_left(struct tide_donor_mgr *m, unsigned int fds, const char *what)
{
	if (!TDU_CHECK(stats(m).donors == 0) || !TDU_CHECK(tdu_donor_children() == 0) ||
			!TDU_CHECK(tdu_maps_count("memfd:tide-donor") == 0) ||
			!TDU_CHECK(tdu_fd_count() == fds))
		fprintf(stderr, "  after %s\n", what);
}

static void
fault_run(struct tide_donor_mgr *m, enum tide_donor_kind kind, size_t share,
	const struct fault_case *c)
{
	struct tide_donor_stats s0 = stats(m), s1;
	struct tide_donor_region *r;
	unsigned int fds = tdu_fd_count();
	char *log;

	/* Set while the control thread starts nobody: it reads the environment then. */
	setenv("TIDE_DONOR_TEST_FAULT", c->fault, 1);
	tide_test_log_begin();
	r = tide_donor_request(m, 3 * share, kind, 0);
	log = tide_test_log_end();
	if (getenv("TDN_VERBOSE") != NULL)
		fprintf(stderr, "--- %s %s: %s\n%s", c->fault, kind == TIDE_DONOR_HUGE ? "huge" :
			"pinned", r != NULL ? "accepted" : rte_strerror(rte_errno), log);
	if (r == NULL) {
		unsetenv("TIDE_DONOR_TEST_FAULT");
		if (!TDU_CHECK(c->err != 0 && rte_errno == c->err))
			fprintf(stderr, "  %s: errno %d, want %d\n", c->fault, rte_errno, c->err);
		TDU_CHECK(strstr(log, "tide_donor") != NULL);
		/* Only a donor's broken promise is about residency: the check runs last. */
		if (c->err != EPROTO && !TDU_CHECK(strstr(log, "resident") == NULL))
			fprintf(stderr, "  %s: a residency line for another failure\n", c->fault);
		s1 = stats(m);
		TDU_CHECK(s1.requests == s0.requests + 1 && s1.refused == s0.refused + 1);
		TDU_CHECK(s1.handshake_failures == s0.handshake_failures + 1);
		TDU_CHECK(s1.bad_messages == s0.bad_messages + (c->err == EPROTO));
		TDU_CHECK(s1.killed >= s0.killed + 2); /* the two healthy donors */
		check_nothing_left(m, fds, c->fault);
	} else {
		pid_t pids[3];

		if (!TDU_CHECK(c->err == 0 || c->maybe))
			fprintf(stderr, "  %s: the request succeeded\n", c->fault);
		region_pids(r, pids, 3);
		/* The death after the handover is noticed, counted and (pinned) re-pinned. */
		TDU_CHECK(STAT_REACHED(m, deaths, s0.deaths + 1));
		if (kind == TIDE_DONOR_PINNED)
			TDU_CHECK(STAT_REACHED(m, repins, s0.repins + 1));
		unsetenv("TIDE_DONOR_TEST_FAULT");
		tide_donor_region_free(r);
		check_nothing_left(m, fds, c->fault);
	}
	free(log);
}

/*
 * No memory to check that the mapped region's pages are resident (the check's allocation
 * fails): ENOMEM, the consumer's want, not EPROTO (a donor's broken promise), with its own
 * line; a refusal like any other, nothing left behind.
 */
static void
fault_resident_nomem(struct tide_donor_mgr *m, enum tide_donor_kind kind, size_t share)
{
	struct tide_donor_stats s0 = stats(m), s1;
	unsigned int fds = tdu_fd_count();
	struct tide_donor_region *r;
	char *log;
	int err;

	tide_test_log_begin();
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	rte_errno = 0;
	r = tide_donor_request(m, 3 * share, kind, 0);
	err = rte_errno;
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
	log = tide_test_log_end();
	if (!TDU_CHECK(r == NULL && err == ENOMEM))
		fprintf(stderr, "  residency check without memory: %s, errno %d\n%s",
			r != NULL ? "accepted" : "refused", err, log);
	tide_donor_region_free(r);
	TDU_CHECK(strstr(log, "no memory to check the region's pages are resident") != NULL);
	TDU_CHECK(strstr(log, "not resident after mapping") == NULL);
	s1 = stats(m);
	TDU_CHECK(s1.refused == s0.refused + 1);
	TDU_CHECK(s1.bad_messages == s0.bad_messages);
	TDU_CHECK(s1.killed >= s0.killed + 3); /* all three donors, healthy as they were */
	check_nothing_left(m, fds, "no memory for the residency check");
	free(log);
}

/*
 * IOVA mode PA, and /proc/self/pagemap cannot be opened for want of a descriptor: EMFILE,
 * as zctx says it (one open serves both), not EIO (unreadable); nothing left behind.
 */
static void
fault_pagemap_unopened(struct tide_donor_mgr *m)
{
	struct tide_donor_stats s0 = stats(m), s1;
	unsigned int fds = tdu_fd_count();
	struct tide_donor_region *r;
	char *log;
	int err;

	tdu_report("iova_pa", rte_eal_iova_mode() == RTE_IOVA_PA);
	if (rte_eal_iova_mode() != RTE_IOVA_PA)
		return;
	tide_test_log_begin();
	tide_fault_pvt_arm(TIDE_FAULT_FD, 0, 1);
	rte_errno = 0;
	r = tide_donor_request(m, 3 * MB, TIDE_DONOR_PINNED, 0);
	err = rte_errno;
	tide_fault_pvt_arm(TIDE_FAULT_FD, 0, 0);
	log = tide_test_log_end();
	if (!TDU_CHECK(r == NULL && err == EMFILE))
		fprintf(stderr, "  pagemap not opened: errno %d\n%s", err, log);
	tide_donor_region_free(r);
	TDU_CHECK(strstr(log, "cannot open /proc/self/pagemap") != NULL);
	s1 = stats(m);
	TDU_CHECK(s1.refused == s0.refused + 1 && s1.bad_messages == s0.bad_messages);
	check_nothing_left(m, fds, "pagemap not opened");
	free(log);
}

/* A donor that cannot be watched for its death (the second of three): the request fails
 * with the watch's errno, nothing of it left, rather than hand out memory whose donor's
 * death would go unnoticed. */
static void
fault_watch_refused(struct tide_donor_mgr *m)
{
	struct tide_donor_stats s0 = stats(m);
	unsigned int fds = tdu_fd_count();
	struct tide_donor_region *r;

	tide_fault_pvt_arm(TIDE_FAULT_WATCH, 1, 1);
	r = tide_donor_request(m, 3 * MB, TIDE_DONOR_PINNED, 0);
	tide_fault_pvt_arm(TIDE_FAULT_WATCH, 0, 0);
	TDU_CHECK(r == NULL && rte_errno == ENOSPC);
	TDU_CHECK(stats(m).refused == s0.refused + 1);
	check_nothing_left(m, fds, "a watch refused");
}

/* A donor that claims more locked memory than it has: the part reports what the kernel
 * counts (its VmLck), not the claim. */
static void
fault_locked_claim(struct tide_donor_mgr *m)
{
	struct tide_donor_part_info pi;
	struct tide_donor_region *r;

	setenv("TIDE_DONOR_TEST_FAULT", "locked-claim:1", 1);
	r = tide_donor_request(m, 3 * MB, TIDE_DONOR_PINNED, 0);
	unsetenv("TIDE_DONOR_TEST_FAULT");
	if (!TDU_CHECK(r != NULL))
		return;
	for (unsigned int i = 0; tide_donor_region_part(r, i, &pi) == 0; i++)
		if (!TDU_CHECK(pi.locked_kb == (uint64_t)tdu_vmlck_kb(pi.pid)))
			fprintf(stderr, "  part %u: locked_kb %" PRIu64 ", VmLck %ld\n", i,
				pi.locked_kb, tdu_vmlck_kb(pi.pid));
	tide_donor_region_free(r);
}

static int
scen_handshake_faults(void)
{
	struct tide_donor_params p;
	struct tide_donor_mgr *m;
	struct tide_donor_region *r;
	unsigned int fds;

	tide_donor_params_init(&p, "faults");
	p.donor_max[TIDE_DONOR_PINNED] = 1 * MB;
	p.donor_max[TIDE_DONOR_HUGE] = 2 * MB;
	p.own_max[TIDE_DONOR_PINNED] = p.own_max[TIDE_DONOR_HUGE] = 0;
	p.timeout_ms = 3000; /* hang-hello waits for it; a loaded machine needs it */
	/* A control thread that cannot start: a positive errno, and nothing left. */
	fds = tdu_fd_count();
	tide_fault_pvt_arm(TIDE_FAULT_THREAD, 0, 1);
	m = tide_donor_mgr_create(&p);
	tide_fault_pvt_arm(TIDE_FAULT_THREAD, 0, 0);
	TDU_CHECK(m == NULL && rte_errno == EAGAIN);
	TDU_CHECK(tdu_fd_count() == fds);
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	for (unsigned int i = 0; i < RTE_DIM(fault_cases); i++)
		fault_run(m, TIDE_DONOR_PINNED, 1 * MB, &fault_cases[i]);
	for (unsigned int i = 0; i < RTE_DIM(fault_cases); i++)
		if (strncmp(fault_cases[i].fault, "fd-", 3) == 0 ||
				strncmp(fault_cases[i].fault, "die-", 4) == 0)
			fault_run(m, TIDE_DONOR_HUGE, 2 * MB, &fault_cases[i]);
	/* A donor that cannot be started (the third of three). */
	tide_fault_pvt_arm(TIDE_FAULT_SPAWN, 2, 1);
	r = tide_donor_request(m, 3 * MB, TIDE_DONOR_PINNED, 0);
	tide_fault_pvt_arm(TIDE_FAULT_SPAWN, 0, 0);
	TDU_CHECK(r == NULL && rte_errno == EAGAIN);
	TDU_CHECK(stats(m).spawn_failures == 1);
	check_nothing_left(m, tdu_fd_count(), "a spawn failure");
	fault_resident_nomem(m, TIDE_DONOR_PINNED, 1 * MB);
	fault_resident_nomem(m, TIDE_DONOR_HUGE, 2 * MB);
	fault_pagemap_unopened(m);
	fault_watch_refused(m);
	fault_locked_claim(m);
	/* And the manager still works. */
	r = tide_donor_request(m, 3 * MB, TIDE_DONOR_PINNED, 0);
	TDU_CHECK(r != NULL);
	tide_donor_region_free(r);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/*
 * A tide-donor of an older build (old-version: its HELLO says protocol version 1) is refused
 * as a protocol breach, EPROTO, with a line that names the helper's path and both versions
 * instead of a malformed message; nothing is left of the request, and the manager works.
 */
static int
scen_a_donor_of_another_version_is_named(void)
{
	const char *helper = getenv("TIDE_DONOR_HELPER");
	struct tide_donor_stats s0, s1;
	struct tide_donor_region *r;
	struct tide_donor_mgr *m;
	char want[PATH_MAX + 160];
	unsigned int fds;
	char *log;
	int err;

	TDU_REQUIRE(helper != NULL);
	m = mgr_make("oldver", 1 * MB, 0, false);
	TDU_REQUIRE(m != NULL);
	s0 = stats(m);
	fds = tdu_fd_count();
	setenv("TIDE_DONOR_TEST_FAULT", "old-version:1", 1);
	tide_test_log_begin();
	r = tide_donor_request(m, 3 * MB, TIDE_DONOR_PINNED, 0);
	err = rte_errno;
	log = tide_test_log_end();
	unsetenv("TIDE_DONOR_TEST_FAULT");
	if (!TDU_CHECK(r == NULL && err == EPROTO))
		fprintf(stderr, "  old-version: %s, errno %d\n", r != NULL ? "accepted" : "refused",
			err);
	tide_donor_region_free(r);
	snprintf(want, sizeof(want), "tide-donor at %s speaks donor protocol version 1, this "
		"library version %u: install the tide-donor of this build", helper,
		(unsigned int)DONOR_PROTO_VERSION);
	if (!TDU_CHECK(strstr(log, want) != NULL))
		fprintf(stderr, "  no \"%s\" in\n%s", want, log);
	TDU_CHECK(strstr(log, "tide_donor") != NULL);
	TDU_CHECK(strstr(log, "a malformed message") == NULL);
	free(log);
	s1 = stats(m);
	TDU_CHECK(s1.refused == s0.refused + 1 && s1.bad_messages == s0.bad_messages + 1);
	TDU_CHECK(s1.handshake_failures == s0.handshake_failures + 1);
	check_nothing_left(m, fds, "old-version");
	r = tide_donor_request(m, 3 * MB, TIDE_DONOR_PINNED, 0);
	TDU_CHECK(r != NULL);
	tide_donor_region_free(r);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/*
 * Re-pinning donors that misbehave as @p fault says (every try): the part of a region of
 * @p m is reported unpinned after the tries, each counted as failed, and nothing of them
 * is left (no descriptor they sent, no donor). @p idx: the part whose donor is killed.
 */
static void
repin_fault(struct tide_donor_mgr *m, const char *fault, unsigned int idx, const char *want)
{
	struct tide_donor_stats s0 = stats(m);
	struct tide_donor_region *r;
	enum tide_donor_state st;
	unsigned int fds;
	char *log;

	r = tide_donor_request(m, 3 * MB, TIDE_DONOR_PINNED, 0);
	if (!TDU_CHECK(r != NULL))
		return;
	fds = tdu_fd_count();
	setenv("TIDE_DONOR_TEST_FAULT", fault, 1);
	tide_test_log_begin();
	st = kill_and_settle(m, r, idx);
	log = tide_test_log_end();
	unsetenv("TIDE_DONOR_TEST_FAULT");
	if (!TDU_CHECK(st == TIDE_DONOR_STATE_UNPINNED))
		fprintf(stderr, "  %s: part %u %s\n%s", fault, idx, tide_donor_state_name(st), log);
	if (!TDU_CHECK(strstr(log, want) != NULL))
		fprintf(stderr, "  %s: no \"%s\" in\n%s", fault, want, log);
	TDU_CHECK(stats(m).repin_failures == s0.repin_failures + 3);
	TDU_CHECK(stats(m).repins == s0.repins);
	/* The part's donor is gone: one fewer descriptor (its pidfd and socket, not its memfd). */
	if (!TDU_CHECK(tdu_fd_count() == fds - 2))
		fprintf(stderr, "  %s: %u descriptors, %u before\n", fault, tdu_fd_count(), fds);
	tide_donor_region_free(r);
	TDU_CHECK(stats(m).donors == 0 && tdu_donor_children() == 0);
	free(log);
}

/*
 * A request made while the control thread re-pins (three tries of a donor that hangs, each
 * up to timeout_ms) waits for it, and its own handshake then has its whole timeout_ms: it
 * succeeds, and nobody is killed for it.
 */
static int
scen_a_request_waits_for_a_repin(void)
{
	struct tide_donor_region *r, *r2;
	struct tide_donor_part_info pi;
	struct tide_donor_params p;
	struct tide_donor_mgr *m;
	uint64_t t0, waited_ms;
	uint64_t killed;

	tide_donor_params_init(&p, "busy");
	p.donor_max[TIDE_DONOR_PINNED] = 1 * MB;
	p.own_max[TIDE_DONOR_PINNED] = 0;
	p.timeout_ms = 1000;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, 2 * MB, TIDE_DONOR_PINNED, 0);
	TDU_REQUIRE(r != NULL);
	killed = stats(m).killed;
	/* Only re-pinning donors take it: the request's own donors are healthy. */
	setenv("TIDE_DONOR_TEST_FAULT", "hang-adopt", 1);
	TDU_REQUIRE(tide_donor_region_part(r, 0, &pi) == 0 && kill(pi.pid, SIGKILL) == 0);
	TDU_CHECK(STAT_REACHED(m, deaths, 1));
	t0 = tide_test_now_ns();
	r2 = tide_donor_request(m, 2 * MB, TIDE_DONOR_PINNED, 0);
	waited_ms = (tide_test_now_ns() - t0) / 1000000;
	if (!TDU_CHECK(r2 != NULL))
		fprintf(stderr, "  request during a re-pin: %s after %lu ms\n",
			rte_strerror(rte_errno), (unsigned long)waited_ms);
	tdu_report("waited_ms", (long)waited_ms);
	TDU_CHECK(waited_ms >= 2000); /* it did wait for the re-pin's tries */
	TDU_CHECK(stats(m).handshake_failures == 0);
	TDU_CHECK(tide_donor_region_part(r, 0, &pi) == 0 && pi.state == TIDE_DONOR_STATE_UNPINNED);
	TDU_CHECK(stats(m).killed == killed + 3); /* the three hanging re-pinners alone */
	unsetenv("TIDE_DONOR_TEST_FAULT");
	tide_donor_region_free(r2);
	tide_donor_region_free(r);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/*
 * tide_donor_alloc() sets aside the buffers that fall on a part being re-pinned (its memory
 * is not locked), and gives them back to the heap once the part is locked again: then the
 * whole region serves a buffer as large as it.
 */
static int
scen_set_aside_buffers_come_back(void)
{
	struct tide_donor_region_info ri;
	const struct tide_donor_region *r;
	struct tide_donor_part_info pi;
	struct tide_donor_params p;
	struct tide_donor_mgr *m;
	uint8_t *bufs[64], *lo, *hi, *big;
	unsigned int n = 0;
	char *log;

	tide_donor_params_init(&p, "plugs");
	p.donor_max[TIDE_DONOR_PINNED] = 1 * MB;
	p.own_max[TIDE_DONOR_PINNED] = 0;
	p.heap_grow = 4 * MB;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	bufs[n++] = tide_donor_alloc(m, 64 * KB, 0);
	TDU_REQUIRE(bufs[0] != NULL);
	r = tide_donor_region_lookup(m, bufs[0]);
	TDU_REQUIRE(r != NULL && tide_donor_region_info(r, &ri) == 0 && ri.nb_parts == 4);
	/* Part 2's donor dies; its successor takes a second to lock the memory. */
	TDU_REQUIRE(tide_donor_region_part(r, 2, &pi) == 0);
	lo = (uint8_t *)ri.addr + pi.offset;
	hi = lo + pi.bytes;
	setenv("TIDE_DONOR_TEST_FAULT", "slow-adopt", 1);
	tide_test_log_begin();
	TDU_CHECK(kill(pi.pid, SIGKILL) == 0);
	TDU_CHECK(STAT_REACHED(m, deaths, 1));
	/* The heap fills from the top: buffers until one is below part 2, none on it. */
	while (n < RTE_DIM(bufs)) {
		bufs[n] = tide_donor_alloc(m, 64 * KB, 0);
		TDU_REQUIRE(bufs[n] != NULL);
		TDU_CHECK(bufs[n] + 64 * KB <= lo || bufs[n] >= hi);
		if (bufs[n++] < lo)
			break;
	}
	TDU_CHECK(tide_donor_region_part(r, 2, &pi) == 0 &&
		pi.state == TIDE_DONOR_STATE_REPINNING);
	TDU_CHECK(STAT_REACHED(m, repins, 1));
	log = tide_test_log_end();
	unsetenv("TIDE_DONOR_TEST_FAULT");
	TDU_CHECK(strstr(log, "set aside") != NULL);
	free(log);
	for (unsigned int i = 0; i < n; i++)
		TDU_CHECK(tide_donor_free(m, bufs[i]) == 0);
	/* Part 2 is locked again: nothing of the region is set aside any more. */
	big = tide_donor_alloc(m, 3 * MB + 512 * KB, 0);
	TDU_REQUIRE(big != NULL);
	if (!TDU_CHECK(tide_donor_region_lookup(m, big) == r && stats(m).regions == 1))
		fprintf(stderr, "  3.5 MB did not fit in the 4 MB region: %u regions\n",
			stats(m).regions);
	TDU_CHECK(tide_donor_free(m, big) == 0);
	TDU_CHECK(tide_donor_trim(m) >= 4 * MB);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/*
 * The own part's hugepages are taken just before it is mapped: the kernel refuses the map
 * over the region's reserved range, and removes that part of the reservation as it does.
 * The range must be reserved again before anything else (another thread could map there,
 * and giving the range back would unmap that), and the request is served by donors.
 */
struct own_req {
	struct tide_donor_mgr *m;
	uint32_t flags;
	struct tide_donor_region *r;
	int err;
};

static void *
own_req_main(void *arg)
{
	struct own_req *o = arg;

	o->r = tide_donor_request(o->m, 4 * MB, TIDE_DONOR_HUGE, o->flags);
	o->err = rte_errno;
	return NULL;
}

static int
scen_own_map_fails(void)
{
	struct tide_donor_region_info ri;
	struct own_req o = { .r = NULL };
	uintptr_t addr = 0;
	pthread_t t;
	void *probe;
	char *log, *at;

	o.m = mgr_make("ownfail", 0, 2 * MB, true);
	TDU_REQUIRE(o.m != NULL);
	tide_test_log_begin();
	tide_fault_pvt_arm(TIDE_FAULT_HUGE_TAKEN, 0, 1);
	tide_fault_pvt_hold_arm(TIDE_HOLD_DONOR_OWN_REFUSED);
	TDU_REQUIRE(pthread_create(&t, NULL, own_req_main, &o) == 0);
	TDU_CHECK(tide_fault_pvt_hold_wait(TIDE_HOLD_DONOR_OWN_REFUSED, WAIT_MS));
	log = tide_test_log_end();
	at = strstr(log, "memory at 0x");
	if (TDU_CHECK(at != NULL))
		addr = (uintptr_t)strtoull(at + strlen("memory at "), NULL, 16);
	else
		fprintf(stderr, "  no own part refused in\n%s", log);
	free(log);
	/* Held there: the own part's range is still reserved, nobody else can map in it. */
	TDU_CHECK(addr != 0 && tdu_maps_cover(addr, 4 * MB));
	probe = addr == 0 ? MAP_FAILED : mmap((void *)addr, 4 * MB, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	/* (Had it mapped, the request would unmap it with the range: it is left alone.) */
	TDU_CHECK(probe == MAP_FAILED && errno == EEXIST);
	tide_fault_pvt_hold_release(TIDE_HOLD_DONOR_OWN_REFUSED);
	pthread_join(t, NULL);
	/* Donors gave all of it instead. */
	if (!TDU_CHECK(o.r != NULL))
		fprintf(stderr, "  the fallback failed: %s\n", rte_strerror(o.err));
	TDU_CHECK(o.r == NULL ||
		(tide_donor_region_info(o.r, &ri) == 0 && ri.own_bytes == 0 && ri.nb_donors == 2));
	tide_donor_region_free(o.r);
	TDU_CHECK(tide_donor_mgr_free(o.m) == 0);
	return 0;
}

/*
 * ---- Own hugepages leave the allowance when a request's plan takes them, not once they
 * are mapped. A request of one manager is held between its plan and its map: DPDK's heap
 * may not grow into what it planned, nor may a request of another manager on the socket
 * take it again. Every failure gives back what it took, once.
 */

#define RACE_NO_REG TIDE_DONOR_F_NO_REGISTER

static struct tide_donor_mgr *
race_mgr(const char *name, uint64_t heap_limit)
{
	struct tide_donor_params p;

	tide_donor_params_init(&p, name);
	p.socket_id = 0;
	p.heap_limit = heap_limit;
	return tide_donor_mgr_create(&p);
}

/* Own bytes of a region (UINT64_MAX: no region). */
static uint64_t
own_of(const struct tide_donor_region *r)
{
	struct tide_donor_region_info ri;

	return r != NULL && tide_donor_region_info(r, &ri) == 0 ? ri.own_bytes : UINT64_MAX;
}

/* The allowance is @p bytes, all of it free again (nothing kept, nothing given back twice):
 * a request of twice as much takes exactly that as its own part. */
static bool
own_allowance_is(struct tide_donor_mgr *m, uint64_t bytes, const char *after)
{
	struct tide_donor_region *r = tide_donor_request(m, 2 * bytes, TIDE_DONOR_HUGE,
		RACE_NO_REG);
	uint64_t own = own_of(r);

	tide_donor_region_free(r);
	if (own == bytes)
		return true;
	fprintf(stderr, "  after %s: own part %" PRIu64 ", want %" PRIu64 "\n", after, own,
		bytes);
	return false;
}

/* A request of @p m held after its plan: the heap and @p other see its own part. */
static void
race_held_request(struct own_req *a, struct tide_donor_mgr *other, uint64_t allowance)
{
	struct rte_malloc_socket_stats hs;
	const struct rte_memzone *mz;
	struct tide_donor_region *r;
	pthread_t t;

	tide_fault_pvt_hold_arm(TIDE_HOLD_DONOR_OWN_PLANNED);
	if (!TDU_CHECK(pthread_create(&t, NULL, own_req_main, a) == 0)) {
		tide_fault_pvt_hold_release(TIDE_HOLD_DONOR_OWN_PLANNED);
		return;
	}
	TDU_CHECK(tide_fault_pvt_hold_wait(TIDE_HOLD_DONOR_OWN_PLANNED, WAIT_MS));
	/* More than the heap has free: it must grow, by a page at least, into the plan's. */
	rte_malloc_get_socket_stats(0, &hs);
	mz = rte_memzone_reserve("tdn_race", hs.heap_freesz_bytes + 2 * MB, 0, 0);
	if (!TDU_CHECK(mz == NULL))
		fprintf(stderr, "  the heap grew into a planned own part\n");
	rte_memzone_free(mz);
	r = tide_donor_request(other, 4 * MB, TIDE_DONOR_HUGE, RACE_NO_REG);
	tide_fault_pvt_hold_release(TIDE_HOLD_DONOR_OWN_PLANNED);
	pthread_join(t, NULL);
	TDU_CHECK(a->r != NULL && r != NULL);
	tdu_report("own_held", (long)own_of(a->r));
	tdu_report("own_other", (long)own_of(r));
	/* The first plan took the whole allowance; together they never take more. */
	TDU_CHECK(own_of(a->r) == allowance);
	TDU_CHECK(a->r == NULL || r == NULL || own_of(a->r) + own_of(r) <= allowance);
	tide_donor_region_free(r);
	tide_donor_region_free(a->r);
	a->r = NULL;
}

static int
scen_own_hugepages_reserved_at_the_plan(void)
{
	struct own_req a = { .flags = RACE_NO_REG };
	struct rte_malloc_socket_stats hs;
	struct tide_donor_region *r;
	struct tide_donor_mgr *b;
	uint64_t limit;

	/* 6 MB past the heap as it is: 4 MB of own hugepages (whole pages, below the limit). */
	TDU_REQUIRE(rte_malloc_get_socket_stats(0, &hs) == 0);
	limit = hs.heap_totalsz_bytes + 6 * MB;
	a.m = race_mgr("race_a", limit);
	b = race_mgr("race_b", limit);
	TDU_REQUIRE(a.m != NULL && b != NULL);
	race_held_request(&a, b, 4 * MB);
	TDU_CHECK(own_allowance_is(b, 4 * MB, "both regions freed"));
	/* A plan refused after it took its own part (more than the system has). */
	r = tide_donor_request(b, 1ull << 40, TIDE_DONOR_HUGE, RACE_NO_REG);
	TDU_CHECK(r == NULL && rte_errno == ENOMEM);
	TDU_CHECK(own_allowance_is(b, 4 * MB, "a plan refused"));
	/* A handshake that fails once the own part is mapped. */
	setenv("TIDE_DONOR_TEST_FAULT", "fail-alloc:0", 1);
	r = tide_donor_request(b, 8 * MB, TIDE_DONOR_HUGE, RACE_NO_REG);
	unsetenv("TIDE_DONOR_TEST_FAULT");
	TDU_CHECK(r == NULL && rte_errno == ENOMEM);
	TDU_CHECK(own_allowance_is(b, 4 * MB, "a failed handshake"));
	/* An own part that cannot be mapped: donors give all of it, the allowance stays. */
	tide_fault_pvt_arm(TIDE_FAULT_HUGE_TAKEN, 0, 1);
	r = tide_donor_request(b, 4 * MB, TIDE_DONOR_HUGE, RACE_NO_REG);
	tide_fault_pvt_arm(TIDE_FAULT_HUGE_TAKEN, 0, 0);
	TDU_CHECK(own_of(r) == 0);
	TDU_CHECK(own_allowance_is(b, 4 * MB, "an own part not mapped"));
	tide_donor_region_free(r);
	TDU_CHECK(tide_donor_mgr_free(b) == 0);
	TDU_CHECK(tide_donor_mgr_free(a.m) == 0);
	return 0;
}

/* PA mode: a re-pin with no memory to check whether the pages moved says so. */
static void
repin_recheck_nomem(struct tide_donor_mgr *m)
{
	struct tide_donor_region *r = tide_donor_request(m, 3 * MB, TIDE_DONOR_PINNED, 0);
	enum tide_donor_state st;
	char *log;

	if (!TDU_CHECK(r != NULL) || rte_eal_iova_mode() != RTE_IOVA_PA) {
		tide_donor_region_free(r);
		return;
	}
	tide_test_log_begin();
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	st = kill_and_settle(m, r, 0);
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
	log = tide_test_log_end();
	TDU_CHECK(st == TIDE_DONOR_STATE_LIVE);
	if (!TDU_CHECK(strstr(log, "cannot check whether 256 pages") != NULL))
		fprintf(stderr, "  no line about the unchecked pages in\n%s", log);
	tide_donor_region_free(r);
	free(log);
}

static int
scen_repin_faults(void)
{
	struct tide_donor_params p;
	struct tide_donor_mgr *m;

	tide_donor_params_init(&p, "repinf");
	p.donor_max[TIDE_DONOR_PINNED] = 1 * MB;
	p.own_max[TIDE_DONOR_PINNED] = 0;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	/* LOCKED from another process, or malformed and with a descriptor. */
	repin_fault(m, "adopt-pid", 1, "names process");
	repin_fault(m, "adopt-garbage", 1, "a malformed message");
	repin_recheck_nomem(m);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	/* With an own part first, a re-pinning donor has the --index its part had at the
	 * request (donors numbered from 0 without the own part): die-adopt:1 hits the donor
	 * of part 2.
	 */
	p.name = "repinown";
	p.own_max[TIDE_DONOR_PINNED] = 1 * MB;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	repin_fault(m, "die-adopt:1", 2, "re-pinning donor");
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

/* A byte of the pattern repin_nofile_keeps_the_memory() writes (its offset @p i, pass @p k). */
static uint8_t
repin_pattern(size_t i, unsigned int k)
{
	return (uint8_t)(i * 131 + (i >> 12) + k);
}

/*
 * A re-pinning donor at its descriptor limit (adopt-nofile: it lowers its RLIMIT_NOFILE
 * right after HELLO, so the kernel drops the memory's descriptor sent with ADOPT) answers
 * EMFILE: every try fails with EMFILE, logged as the donor's limit, never as a donor that
 * hung up (ECONNRESET) or broke the protocol. The part is reported unpinned after the
 * tries, and the memory the consumer holds is still there: mapped, its bytes as they were,
 * writable; its memfd kept.
 */
static int
scen_repin_nofile_keeps_the_memory(void)
{
	struct tide_donor_region_info ri;
	struct tide_donor_part_info pi;
	struct tide_donor_stats s0, s1;
	struct tide_donor_region *r;
	struct tide_donor_mgr *m;
	enum tide_donor_state st;
	char emfile[64];
	size_t bad = 0;
	unsigned int fds;
	uint8_t *b;
	char *log;

	m = mgr_make("repinnofile", 1 * MB, 0, false);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, 3 * MB, TIDE_DONOR_PINNED, 0);
	TDU_REQUIRE(r != NULL && tide_donor_region_info(r, &ri) == 0);
	b = ri.addr;
	for (size_t i = 0; i < ri.len; i++)
		b[i] = repin_pattern(i, 0);
	s0 = stats(m);
	fds = tdu_fd_count();
	setenv("TIDE_DONOR_TEST_FAULT", "adopt-nofile", 1);
	tide_test_log_begin();
	st = kill_and_settle(m, r, 1);
	log = tide_test_log_end();
	unsetenv("TIDE_DONOR_TEST_FAULT");
	if (!TDU_CHECK(st == TIDE_DONOR_STATE_UNPINNED))
		fprintf(stderr, "  part 1 %s\n%s", tide_donor_state_name(st), log);
	/* Each of the three tries: the re-pin failed with EMFILE, the donor's limit named. */
	snprintf(emfile, sizeof(emfile), "failed: %s", strerror(EMFILE));
	if (!TDU_CHECK(count_of(log, emfile) == 3) ||
			!TDU_CHECK(count_of(log, "at its descriptor limit (RLIMIT_NOFILE)") == 3))
		fprintf(stderr, "  no EMFILE for every try in\n%s", log);
	TDU_CHECK(strstr(log, "tide_donor") != NULL);
	TDU_CHECK(strstr(log, strerror(ECONNRESET)) == NULL);
	TDU_CHECK(strstr(log, "broke the protocol") == NULL);
	free(log);
	s1 = stats(m);
	TDU_CHECK(s1.deaths == s0.deaths + 1 && s1.repins == s0.repins);
	TDU_CHECK(s1.repin_failures == s0.repin_failures + 3);
	TDU_CHECK(s1.unpinned_bytes == 1 * MB && s1.bad_messages == s0.bad_messages);
	/* The part's donor is gone (its pidfd and socket), its memory's descriptor is kept. */
	if (!TDU_CHECK(tdu_fd_count() == fds - 2))
		fprintf(stderr, "  %u descriptors, %u before\n", tdu_fd_count(), fds);
	TDU_CHECK(tide_donor_region_part(r, 1, &pi) == 0 && pi.bytes == 1 * MB);
	TDU_CHECK(tide_donor_region_info(r, &ri) == 0 && ri.unpinned_bytes == 1 * MB);
	TDU_CHECK(tdu_maps_cover((uintptr_t)b, 3 * MB));
	for (size_t i = 0; i < ri.len; i++)
		bad += b[i] != repin_pattern(i, 0);
	for (size_t i = 0; i < ri.len; i++)
		b[i] = repin_pattern(i, 1);
	for (size_t i = 0; i < ri.len; i++)
		bad += b[i] != repin_pattern(i, 1);
	if (!TDU_CHECK(bad == 0))
		fprintf(stderr, "  %zu bytes not as written\n", bad);
	tide_donor_region_free(r);
	TDU_CHECK(stats(m).donors == 0 && tdu_donor_children() == 0);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

static void *
trim_main(void *arg)
{
	tide_donor_trim(arg);
	return NULL;
}

static void *
mgr_free_main(void *arg)
{
	return (void *)(intptr_t)tide_donor_mgr_free(arg);
}

/*
 * A free and another call on one manager at once: the free refuses while the call is at
 * work (EBUSY, the manager untouched), and a call made while the free runs is refused
 * (EBUSY) instead of reading a manager about to be gone.
 */
static int
scen_a_free_and_a_call_at_once(void)
{
	struct tide_donor_mgr *m = mgr_make("at_once", 1 * MB, 0, false);
	struct tide_donor_stats st;
	void *buf, *ret;
	pthread_t t;

	TDU_REQUIRE(m != NULL);
	buf = tide_donor_alloc(m, 64 * KB, 0);
	TDU_REQUIRE(buf != NULL);
	TDU_CHECK(tide_donor_free(m, buf) == 0);
	/* A call at work (held once counted as a user): the free is refused. */
	tide_fault_pvt_hold_arm(TIDE_HOLD_DONOR_MGR_ENTERED);
	TDU_REQUIRE(pthread_create(&t, NULL, trim_main, m) == 0);
	TDU_CHECK(tide_fault_pvt_hold_wait(TIDE_HOLD_DONOR_MGR_ENTERED, WAIT_MS));
	DN_REFUSED_LOGGED(tide_donor_mgr_free(m), EBUSY, "tide_donor_mgr_free");
	tide_fault_pvt_hold_release(TIDE_HOLD_DONOR_MGR_ENTERED);
	pthread_join(t, NULL);
	TDU_CHECK(stats(m).heap_bytes == 0 && stats(m).regions == 0);
	/* A free under way (held once it claimed the manager): calls are refused. */
	tide_fault_pvt_hold_arm(TIDE_HOLD_DONOR_MGR_CLAIMED);
	TDU_REQUIRE(pthread_create(&t, NULL, mgr_free_main, m) == 0);
	TDU_CHECK(tide_fault_pvt_hold_wait(TIDE_HOLD_DONOR_MGR_CLAIMED, WAIT_MS));
	DN_REFUSED_LOGGED(tide_donor_stats_get(m, &st), EBUSY, "tide_donor_stats_get");
	DN_REFUSED_LOGGED(tide_donor_alloc(m, 64, 0), EBUSY, "tide_donor_alloc");
	tide_fault_pvt_hold_release(TIDE_HOLD_DONOR_MGR_CLAIMED);
	pthread_join(t, &ret);
	TDU_CHECK((intptr_t)ret == 0);
	/* Gone now: refused as any pointer that is not a manager. */
	DN_REFUSED_LOGGED(tide_donor_stats_get(m, &st), EINVAL, "tide_donor_stats_get");
	TDU_CHECK(tdu_donor_children() == 0);
	return 0;
}

#endif

/* ---- Telemetry. */

static int
scen_telemetry(void)
{
	struct tide_donor_region *r;
	struct tide_donor_mgr *m;
	pid_t pids[2] = { 0, 0 };
	char want[64], *out;

	m = mgr_make("tel", 2 * MB, 0, false);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, 4 * MB, TIDE_DONOR_PINNED, 0);
	TDU_REQUIRE(r != NULL);
	TDU_CHECK(region_pids(r, pids, 2) == 2);
	out = tdu_telemetry("/tide/donor/list");
	TDU_CHECK(strstr(out, "\"tel\"") != NULL);
	free(out);
	out = tdu_telemetry("/tide/donor/info,tel");
	TDU_CHECK(strstr(out, "\"donors\":2") != NULL);
	TDU_CHECK(strstr(out, "\"donated_bytes\":4194304") != NULL);
	for (unsigned int i = 0; i < 2; i++) {
		snprintf(want, sizeof(want), "\"pid\":%d", (int)pids[i]);
		TDU_CHECK(strstr(out, want) != NULL);
	}
	TDU_CHECK(strstr(out, "\"state\":\"live\"") != NULL);
	TDU_CHECK(strstr(out, "\"bytes\":2097152") != NULL);
	/* The helper's path, whole (no word of it cut). */
	TDU_CHECK(strstr(out, "\"helper\":\"/") != NULL && strstr(out, "helper_cut") == NULL);
	free(out);
	out = tdu_telemetry("/tide/donor/info,none");
	TDU_CHECK(strstr(out, "pid") == NULL);
	free(out);
	/* The stock client shows the same; bad requests are refused (null). */
	out = tide_test_stock_telemetry("/tide/donor/list");
	TDU_CHECK(strstr(out, "{\"/tide/donor/list\": [\"tel\"]}") != NULL);
	free(out);
	out = tide_test_stock_telemetry("/tide/donor/info,tel");
	TDU_CHECK(strstr(out, "{\"/tide/donor/info\": {\"name\": \"tel\", ") != NULL);
	TDU_CHECK(strstr(out, "\"donors\": 2, ") != NULL);
	snprintf(want, sizeof(want), "\"pid\": %d, \"bytes\": 2097152, \"state\": \"live\"",
		(int)pids[0]);
	TDU_CHECK(strstr(out, want) != NULL);
	free(out);
	TDU_CHECK(tide_test_stock_refused("/tide/donor/info,none"));
	TDU_CHECK(tide_test_stock_refused("/tide/donor/info"));
	TDU_CHECK(tide_test_stock_refused("/tide/donor/info,tel,junk"));
	TDU_CHECK(tide_test_stock_refused("/tide/donor/list,junk"));
	tide_donor_region_free(r);
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

#define TEL_MANY_PARTS 150

/*
 * A manager of 150 parts (one pinned page a donor): more than fit in one telemetry answer
 * (16 KB, a dictionary's 256 entries). Its info lists the first 64 parts and says how many
 * it leaves out; the answer is whole, the counters there.
 */
static int
scen_telemetry_many_parts(void)
{
	const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct tide_donor_region *r;
	struct tide_donor_params p;
	struct tide_donor_mgr *m;
	char *out;

	tide_donor_params_init(&p, "tel_many");
	p.donor_max[TIDE_DONOR_PINNED] = page;
	p.own_max[TIDE_DONOR_PINNED] = p.own_max[TIDE_DONOR_HUGE] = 0;
	p.max_donors = TEL_MANY_PARTS;
	p.timeout_ms = 20000;
	m = tide_donor_mgr_create(&p);
	TDU_REQUIRE(m != NULL);
	r = tide_donor_request(m, TEL_MANY_PARTS * page, TIDE_DONOR_PINNED, 0);
	TDU_CHECK(r != NULL);
	if (r != NULL) {
		out = tdu_telemetry("/tide/donor/info,tel_many");
		TDU_CHECK(strstr(out, "\"donors\":150,") != NULL);
		TDU_CHECK(count_of(out, "_part") == 64);
		TDU_CHECK(strstr(out, "\"region1_part63\":{") != NULL);
		TDU_CHECK(strstr(out, "\"parts_unlisted\":86") != NULL);
		if (strstr(out, "\"parts_unlisted\":86") == NULL)
			printf("the answer (%zu chars): %s\n", strlen(out), out);
		free(out);
		out = tide_test_stock_telemetry("/tide/donor/info,tel_many");
		TDU_CHECK(strstr(out, "\"parts_unlisted\": 86") != NULL);
		free(out);
		tide_donor_region_free(r);
	}
	TDU_CHECK(tide_donor_mgr_free(m) == 0);
	return 0;
}

static const struct tdu_scenario scenarios[] = {
	{ "pinned_64mb", scen_pinned_64mb, pre_memlock_4mb },
	{ "pool_past_socket_limit", scen_pool_past_socket_limit, NULL },
	{ "elastic_pool", scen_elastic_pool_on_donor_blocks, NULL },
	{ "own_hugepages", scen_own_hugepages_count_against_the_limit, NULL },
	{ "heap_limit", scen_heap_limit_follows_the_managers, NULL },
	{ "pinned_killed", scen_pinned_donor_killed_mid_run, NULL },
	{ "repinned_again", scen_repinned_after_every_death, NULL },
	{ "huge_killed", scen_huge_donor_killed_under_mbufs, NULL },
	{ "unpinned", scen_unpinned_memory_is_never_handed_out, NULL },
	{ "heap", scen_send_buffers_from_the_heap, NULL },
	{ "consumer", scen_consumer_holding_donors, NULL },
	{ "thread", scen_donors_outlive_the_requesting_thread, NULL },
	{ "bad_input", scen_bad_input_is_refused, NULL },
	{ "freed_twice", scen_freed_twice_are_refused, NULL },
	{ "unknown_socket", scen_unknown_socket_is_refused, NULL },
	{ "helper_not_a_program", scen_helper_not_a_program_is_refused, NULL },
	{ "heap_grow_past_a_request", scen_heap_grow_past_a_request_is_refused, NULL },
	{ "nofile", scen_descriptor_limit_is_emfile, NULL },
#ifdef TIDE_FAULT_INJECTION
	{ "faults", scen_handshake_faults, NULL },
	{ "old_version", scen_a_donor_of_another_version_is_named, NULL },
	{ "repin_faults", scen_repin_faults, NULL },
	{ "repin_nofile", scen_repin_nofile_keeps_the_memory, NULL },
	{ "busy_thread", scen_a_request_waits_for_a_repin, NULL },
	{ "plugs", scen_set_aside_buffers_come_back, NULL },
	{ "own_map_fails", scen_own_map_fails, NULL },
	{ "own_reserved", scen_own_hugepages_reserved_at_the_plan, NULL },
	{ "at_once", scen_a_free_and_a_call_at_once, NULL },
#endif
	{ "telemetry", scen_telemetry, NULL },
	{ "telemetry_many_parts", scen_telemetry_many_parts, NULL },
};

/* ---- The CUnit tests (in the parent). */

static char out[65536];

static void
run(const char *name, const char *const *extra)
{
	CU_ASSERT_EQUAL(tdu_run(name, extra, out, sizeof(out)), 0);
}

static void
test_pinned_64mb_from_16_donors_past_rlimit_memlock_sent_zero_copy_pa(void)
{
	static const char *const a[] = { "--vdev", "net_null0", NULL };

	run("pinned_64mb", a);
	CU_ASSERT_EQUAL(tdu_value(out, "donors"), 16);
	CU_ASSERT_EQUAL(tdu_value(out, "zc_bytes"), 68 * MB);
}

static void
test_pinned_64mb_from_16_donors_past_rlimit_memlock_sent_zero_copy_va(void)
{
	static const char *const a[] = { "--vdev", "net_null0", "--iova-mode=va", NULL };

	run("pinned_64mb", a);
	CU_ASSERT_EQUAL(tdu_value(out, "iova_va"), 1);
	CU_ASSERT_EQUAL(tdu_value(out, "donors"), 16);
}

static void
test_a_pool_grows_past_socket_limit_on_donor_blocks_and_back(void)
{
	static const char *const a[] = { "--socket-limit=64", NULL };

	run("pool_past_socket_limit", a);
	CU_ASSERT(tdu_value(out, "own_blocks") >= 1);
}

static void
test_an_elastic_pool_grows_on_donor_blocks_and_reaps_them(void)
{
	static const char *const a[] = { "--socket-limit=64", NULL };

	run("elastic_pool", a);
}

static void
test_a_pool_grows_past_socket_limit_in_va_mode(void)
{
	static const char *const a[] = { "--socket-limit=64", "--iova-mode=va", NULL };

	run("pool_past_socket_limit", a);
}

static void
test_own_hugepages_count_against_the_socket_limit(void)
{
	static const char *const a[] = { "--socket-limit=64", NULL };

	run("own_hugepages", a);
}

static void
test_the_heap_limit_is_the_strictest_of_the_managers_alive(void)
{
	run("heap_limit", NULL);
}

static void
test_a_pinned_donor_killed_mid_run_is_counted_logged_and_repinned(void)
{
	static const char *const a[] = { "--vdev", "net_null0", NULL };

	run("pinned_killed", a);
}

static void
test_a_hugepage_donor_killed_under_live_mbufs_loses_nothing(void)
{
	run("huge_killed", NULL);
}

static void
test_unpinned_memory_is_reported_and_never_handed_out(void)
{
	run("unpinned", NULL);
}

static void
test_send_buffers_from_the_donor_heap_go_zero_copy(void)
{
	static const char *const a[] = { "--vdev", "net_null0", NULL };

	run("heap", a);
}

static void
test_donors_outlive_the_thread_that_asked(void)
{
	run("thread", NULL);
}

/* Reap @p pid (reparented to us once its consumer died) within @p ms. */
static bool
reaped_within(pid_t pid, unsigned int ms)
{
	for (unsigned int i = 0; i < ms; i++) {
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			printf("donor %d: %s %d ", (int)pid, WIFSIGNALED(st) ? "killed by signal" :
				"exited with", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			return true;
		}
		if (!tdu_pid_alive(pid) && waitpid(pid, &st, WNOHANG) <= 0)
			return true; /* gone, reaped by its parent before it was ours */
		tide_test_sleep_us(1000);
	}
	return false;
}

static void
test_no_donor_survives_its_consumer(void)
{
	char line[256], key[16];
	pid_t pids[6], consumer;
	size_t got = 0;
	FILE *f;
	int fd;

	consumer = tdu_start("consumer", NULL, &fd);
	CU_ASSERT_FATAL(consumer > 0);
	f = fdopen(fd, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		got += (size_t)snprintf(out + got, sizeof(out) - got, "%s", line);
		if (strncmp(line, "ready=", 6) == 0)
			break;
	}
	CU_ASSERT_EQUAL_FATAL(tdu_value(out, "ready"), 1);
	for (unsigned int i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "donor%u", i);
		pids[i] = (pid_t)tdu_value(out, key);
		CU_ASSERT(pids[i] > 0 && tdu_pid_alive(pids[i]));
	}
	CU_ASSERT_EQUAL(kill(consumer, SIGKILL), 0);
	CU_ASSERT_EQUAL(tdu_wait(consumer, 10000), -1);
	/* The killed consumer's runtime directory (tdu_child_main() names it). */
	snprintf(line, sizeof(line), "rm -rf /var/run/dpdk/tdn-consumer-%d", (int)consumer);
	CU_ASSERT_EQUAL(system(line), 0);
	for (unsigned int i = 0; i < 6; i++)
		CU_ASSERT(reaped_within(pids[i], 5000));
	for (unsigned int i = 0; i < 6; i++)
		CU_ASSERT(!tdu_pid_alive(pids[i]));
	if (f != NULL)
		fclose(f);
}

static void
test_a_donor_whose_parent_is_not_the_consumer_exits_at_once(void)
{
	const char *helper = getenv("TIDE_DONOR_HELPER");
	char cmd[512];
	int st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(helper);
	/* Its parent is a shell, not pid 1: it must refuse to run. */
	snprintf(cmd, sizeof(cmd), "%s --ppid 1 --kind pinned --bytes 4096 --page-size 4096 "
		"--index 0 3>/dev/null", helper);
	st = system(cmd);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	snprintf(cmd, sizeof(cmd), "%s --ppid 1 --kind other --bytes 1 2>/dev/null", helper);
	st = system(cmd);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

/* tide-donor started by hand as our child, its end of a socket pair as descriptor 3. */
static pid_t
donor_by_hand(bool adopt, int *sock)
{
	const char *helper = getenv("TIDE_DONOR_HELPER");
	char ppid[24];
	char *argv[] = {
		(char *)(uintptr_t)helper, "--ppid", ppid, "--kind", "pinned", "--bytes", "4096",
		"--page-size", "4096", "--index", "0", adopt ? "--adopt" : NULL, NULL,
	};
	int sv[2];
	pid_t pid;

	if (helper == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	snprintf(ppid, sizeof(ppid), "%d", (int)getpid());
	pid = fork();
	if (pid == 0) {
		/* dup2() onto itself would keep close-on-exec. */
		if (sv[1] == DONOR_PROTO_FD)
			fcntl(sv[1], F_SETFD, 0);
		else
			dup2(sv[1], DONOR_PROTO_FD);
		execv(helper, argv);
		_exit(127);
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}

/* One message from a donor started by hand, of @p type; its descriptors closed. */
static bool
hand_recv(int sock, enum donor_msg_type type)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * DONOR_PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct donor_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

	for (c = CMSG_FIRSTHDR(&mh); n > 0 && c != NULL; c = CMSG_NXTHDR(&mh, c))
		for (size_t i = 0; c->cmsg_type == SCM_RIGHTS &&
				CMSG_LEN((i + 1) * sizeof(int)) <= c->cmsg_len; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	return n == (ssize_t)sizeof(m) && m.magic == DONOR_PROTO_MAGIC && m.type == type;
}

/* Send the donor a message of @p type and protocol @p version. */
static bool
hand_send_version(int sock, enum donor_msg_type type, bool garbage, uint16_t version)
{
	struct donor_msg m = {
		.magic = garbage ? ~DONOR_PROTO_MAGIC : DONOR_PROTO_MAGIC,
		.version = version, .type = (uint16_t)type, .pid = (int32_t)getpid(),
	};

	return send(sock, &m, sizeof(m), MSG_NOSIGNAL) == (ssize_t)sizeof(m);
}

/* Send the donor a message of @p type, with a wrong magic if @p garbage. */
static bool
hand_send(int sock, enum donor_msg_type type, bool garbage)
{
	return hand_send_version(sock, type, garbage, DONOR_PROTO_VERSION);
}

/* Its exit status, or -1 (then it is killed) if it has not exited within 5 s. */
static int
hand_exit(pid_t pid)
{
	int st;

	for (unsigned int i = 0; i < 5000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		tide_test_sleep_us(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/*
 * A donor that the consumer sends a malformed message exits with DONOR_EXIT_PROTO, at every
 * step it waits for one (the ACK, ADOPT, and while it sleeps), and so does one sent a
 * message of another protocol version; one whose consumer hangs up exits with 0.
 */
static void
test_a_donor_sent_garbage_exits_with_the_protocol_status(void)
{
	int sock;
	pid_t pid;

	/* Garbage instead of the ACK. */
	pid = donor_by_hand(false, &sock);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT(hand_recv(sock, DONOR_MSG_HELLO) && hand_recv(sock, DONOR_MSG_OFFER));
	CU_ASSERT(hand_send(sock, DONOR_MSG_ACK, true));
	CU_ASSERT_EQUAL(hand_exit(pid), DONOR_EXIT_PROTO);
	close(sock);
	/* Garbage while it sleeps, holding the memory. */
	pid = donor_by_hand(false, &sock);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT(hand_recv(sock, DONOR_MSG_HELLO) && hand_recv(sock, DONOR_MSG_OFFER));
	CU_ASSERT(hand_send(sock, DONOR_MSG_ACK, false));
	CU_ASSERT(hand_send(sock, DONOR_MSG_TERM, true));
	CU_ASSERT_EQUAL(hand_exit(pid), DONOR_EXIT_PROTO);
	close(sock);
	/* Garbage instead of ADOPT. */
	pid = donor_by_hand(true, &sock);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT(hand_recv(sock, DONOR_MSG_HELLO));
	CU_ASSERT(hand_send(sock, DONOR_MSG_ADOPT, true));
	CU_ASSERT_EQUAL(hand_exit(pid), DONOR_EXIT_PROTO);
	close(sock);
	/* An ADOPT of protocol version 1 (a consumer of an older build). */
	pid = donor_by_hand(true, &sock);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT(hand_recv(sock, DONOR_MSG_HELLO));
	CU_ASSERT(hand_send_version(sock, DONOR_MSG_ADOPT, false, 1));
	CU_ASSERT_EQUAL(hand_exit(pid), DONOR_EXIT_PROTO);
	close(sock);
	/* A consumer that hangs up is no protocol error. */
	pid = donor_by_hand(false, &sock);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT(hand_recv(sock, DONOR_MSG_HELLO) && hand_recv(sock, DONOR_MSG_OFFER));
	close(sock);
	CU_ASSERT_EQUAL(hand_exit(pid), DONOR_EXIT_OK);
}

static void
test_bad_input_is_refused_and_leaves_nothing(void)
{
	run("bad_input", NULL);
}

static void
test_a_region_or_manager_freed_twice_is_refused_the_second_time(void)
{
	run("freed_twice", NULL);
}

static void
test_a_socket_eal_does_not_know_is_refused(void)
{
	run("unknown_socket", NULL);
}

static void
test_a_helper_that_is_not_an_executable_file_is_refused(void)
{
	run("helper_not_a_program", NULL);
}

static void
test_a_heap_step_past_the_largest_request_is_refused(void)
{
	run("heap_grow_past_a_request", NULL);
}

static void
test_a_descriptor_dropped_at_rlimit_nofile_is_emfile_not_a_protocol_breach(void)
{
	run("nofile", NULL);
}

static void
test_faults_at_every_step_of_the_handshake_leave_nothing(void)
{
#ifdef TIDE_FAULT_INJECTION
	run("faults", NULL);
	if (tdu_value(out, "iova_pa") != 1)
		printf("(IOVA mode VA: pagemap not tried) ");
#else
	printf("(needs -Dfault_injection=true) ");
#endif
}

static void
test_a_donor_of_an_older_build_is_eproto_with_both_versions_logged(void)
{
#ifdef TIDE_FAULT_INJECTION
	run("old_version", NULL);
#else
	printf("(needs -Dfault_injection=true) ");
#endif
}

static void
test_repinning_donors_breaking_the_protocol_leave_the_part_unpinned(void)
{
#ifdef TIDE_FAULT_INJECTION
	run("repin_faults", NULL);
#else
	printf("(needs -Dfault_injection=true) ");
#endif
}

static void
test_a_repinning_donor_at_rlimit_nofile_is_emfile_and_the_memory_stays(void)
{
#ifdef TIDE_FAULT_INJECTION
	run("repin_nofile", NULL);
#else
	printf("(needs -Dfault_injection=true) ");
#endif
}

static void
test_a_part_is_repinned_after_every_death_of_its_donor(void)
{
	run("repinned_again", NULL);
}

static void
test_a_request_made_during_a_repin_has_its_whole_timeout(void)
{
#ifdef TIDE_FAULT_INJECTION
	run("busy_thread", NULL);
#else
	printf("(needs -Dfault_injection=true) ");
#endif
}

static void
test_buffers_set_aside_during_a_repin_go_back_to_the_heap(void)
{
#ifdef TIDE_FAULT_INJECTION
	run("plugs", NULL);
#else
	printf("(needs -Dfault_injection=true) ");
#endif
}

static void
test_an_own_part_that_cannot_be_mapped_leaves_no_hole_in_the_range(void)
{
#ifdef TIDE_FAULT_INJECTION
	run("own_map_fails", NULL);
#else
	printf("(needs -Dfault_injection=true) ");
#endif
}

static void
test_own_hugepages_leave_the_allowance_when_the_plan_takes_them(void)
{
#ifdef TIDE_FAULT_INJECTION
	run("own_reserved", NULL);
#else
	printf("(needs -Dfault_injection=true) ");
#endif
}

static void
test_a_free_refuses_while_a_call_works_and_calls_refuse_while_a_free_runs(void)
{
#ifdef TIDE_FAULT_INJECTION
	run("at_once", NULL);
#else
	printf("(needs -Dfault_injection=true) ");
#endif
}

static void
test_telemetry_lists_donors_with_pids_bytes_and_states(void)
{
	run("telemetry", NULL);
}

static void
test_telemetry_lists_64_parts_and_counts_the_others(void)
{
	run("telemetry_many_parts", NULL);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("donor");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_pinned_64mb_from_16_donors_past_rlimit_memlock_sent_zero_copy_pa);
	CU_ADD_TEST(s, test_pinned_64mb_from_16_donors_past_rlimit_memlock_sent_zero_copy_va);
	CU_ADD_TEST(s, test_a_pool_grows_past_socket_limit_on_donor_blocks_and_back);
	CU_ADD_TEST(s, test_a_pool_grows_past_socket_limit_in_va_mode);
	CU_ADD_TEST(s, test_an_elastic_pool_grows_on_donor_blocks_and_reaps_them);
	CU_ADD_TEST(s, test_own_hugepages_count_against_the_socket_limit);
	CU_ADD_TEST(s, test_the_heap_limit_is_the_strictest_of_the_managers_alive);
	CU_ADD_TEST(s, test_a_pinned_donor_killed_mid_run_is_counted_logged_and_repinned);
	CU_ADD_TEST(s, test_a_hugepage_donor_killed_under_live_mbufs_loses_nothing);
	CU_ADD_TEST(s, test_unpinned_memory_is_reported_and_never_handed_out);
	CU_ADD_TEST(s, test_send_buffers_from_the_donor_heap_go_zero_copy);
	CU_ADD_TEST(s, test_donors_outlive_the_thread_that_asked);
	CU_ADD_TEST(s, test_no_donor_survives_its_consumer);
	CU_ADD_TEST(s, test_a_donor_whose_parent_is_not_the_consumer_exits_at_once);
	CU_ADD_TEST(s, test_a_donor_sent_garbage_exits_with_the_protocol_status);
	CU_ADD_TEST(s, test_bad_input_is_refused_and_leaves_nothing);
	CU_ADD_TEST(s, test_a_region_or_manager_freed_twice_is_refused_the_second_time);
	CU_ADD_TEST(s, test_a_socket_eal_does_not_know_is_refused);
	CU_ADD_TEST(s, test_a_helper_that_is_not_an_executable_file_is_refused);
	CU_ADD_TEST(s, test_a_heap_step_past_the_largest_request_is_refused);
	CU_ADD_TEST(s, test_a_descriptor_dropped_at_rlimit_nofile_is_emfile_not_a_protocol_breach);
	CU_ADD_TEST(s, test_faults_at_every_step_of_the_handshake_leave_nothing);
	CU_ADD_TEST(s, test_a_donor_of_an_older_build_is_eproto_with_both_versions_logged);
	CU_ADD_TEST(s, test_repinning_donors_breaking_the_protocol_leave_the_part_unpinned);
	CU_ADD_TEST(s, test_a_repinning_donor_at_rlimit_nofile_is_emfile_and_the_memory_stays);
	CU_ADD_TEST(s, test_a_part_is_repinned_after_every_death_of_its_donor);
	CU_ADD_TEST(s, test_a_request_made_during_a_repin_has_its_whole_timeout);
	CU_ADD_TEST(s, test_buffers_set_aside_during_a_repin_go_back_to_the_heap);
	CU_ADD_TEST(s, test_an_own_part_that_cannot_be_mapped_leaves_no_hole_in_the_range);
	CU_ADD_TEST(s, test_own_hugepages_leave_the_allowance_when_the_plan_takes_them);
	CU_ADD_TEST(s, test_a_free_refuses_while_a_call_works_and_calls_refuse_while_a_free_runs);
	CU_ADD_TEST(s, test_telemetry_lists_donors_with_pids_bytes_and_states);
	CU_ADD_TEST(s, test_telemetry_lists_64_parts_and_counts_the_others);
	return 0;
}

int
main(int argc, char **argv)
{
	int ret;

	for (unsigned int i = 0; i < sizeof(hdr); i++)
		hdr[i] = (uint8_t)(0xa0 + i);
	ret = tdu_child_main(argc, argv, scenarios, RTE_DIM(scenarios));
	if (ret >= 0)
		return ret;
	/* Donors orphaned by a killed consumer come to us, to be checked and reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return tide_test_main(argc, argv, "donor", false, register_tests);
}
