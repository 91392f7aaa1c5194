/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Pinning and translation (lib/zctx/zctx_pin.c, zctx_iova.c) under EAL, checked against
 * the kernel's count of locked memory (VmLck): pins end with the sends, or stay idle in
 * the cache until flushed; a send's pages are unpinned once, when its last segment is
 * freed in whatever order; unmapped memory, the pin limit and failed pinning or
 * translation are refused by the agent, in the completion.
 */

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include "test_common.h"
#include "test_zctx_util.h"
#include "tide_fault.h"
#include "tide_zctx.h"

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
	/* One segment still out: after a whole pass of the agent, the pages stay pinned and
	 * there is no completion.
	 */
	agent_pass(z);
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

/* ---- Bad memory. */

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
	/* Mapped without read access: unmapped to the agent, not over a limit. */
	CU_ASSERT_FATAL(mprotect(buf + 128 * KB, 64 * KB, PROT_NONE) == 0);
	agent_refuses(0, buf + 128 * KB, 8 * KB, EFAULT, "without read access");
	CU_ASSERT_EQUAL(tide_zctx_mem_register(buf + 128 * KB, 8 * KB), -EFAULT);
	CU_ASSERT_EQUAL(rte_errno, EFAULT);
	/* Over the pin limit. */
	cache_set(0, 256 * KB);
	agent_refuses(0, buf + 512 * KB, 300 * KB, ENOMEM, "memlock limit");
	/* A kernel refusal (injected). */
	cache_set(0, 0);
#ifdef TIDE_FAULT_INJECTION
	tide_fault_pvt_arm(TIDE_FAULT_PIN, 0, 1);
	agent_refuses(0, buf + 512 * KB, 64 * KB, ENOMEM, "cannot pin");
	tide_fault_pvt_arm(TIDE_FAULT_PIN, 0, 0);
#endif
	munmap(buf, 64 * KB);
	munmap(buf + 128 * KB, 896 * KB);
}

/*
 * The agent holds the memory of a burst's sends at once, ahead of building them: one bad
 * send among good ones fails alone, in its place, and the others go out whole (zero-copy
 * and copied alike).
 */
static void
test_a_bad_send_amid_a_burst_fails_alone(void)
{
	struct tide_zctx_send s[9];
	struct iovec iov[9];
	struct tide_zctx_cpl cpl[9];
	struct tide_zctx_stats st;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(256 * KB);
	uint64_t op0 = port_opackets(null_port);

	CU_ASSERT_FATAL(buf != NULL);
	cache_set(0, 0);
	munmap(buf + 128 * KB, 64 * KB);
	z = zctx_make("amid", null_port, 1000, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	/* Sends 3 and 7 reach into the hole; odd ones copied (999 B), even ones not. */
	for (unsigned int i = 0; i < RTE_DIM(s); i++)
		send_init(&s[i], &iov[i], null_port, i,
			i == 3 || i == 7 ? buf + 120 * KB : buf + i * 8 * KB,
			i == 3 || i == 7 ? 16 * KB : i % 2 ? 999 : 4000);
	tide_test_log_begin();
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, s, RTE_DIM(s)), (int)RTE_DIM(s));
	CU_ASSERT_EQUAL(poll_n(z, cpl, RTE_DIM(s)), RTE_DIM(s));
	free(tide_test_log_end());
	for (unsigned int i = 0; i < RTE_DIM(s); i++) {
		bool bad = i == 3 || i == 7;

		CU_ASSERT_EQUAL(cpl[i].cookie, i);
		CU_ASSERT_EQUAL(cpl[i].status, bad ? -EFAULT : 0);
		CU_ASSERT_EQUAL(cpl[i].bytes, bad ? 0 : i % 2 ? 999 : 4000);
	}
	CU_ASSERT(stats_wait_completed(z, RTE_DIM(s) - 2, &st));
	CU_ASSERT_EQUAL(st.failed, 2);
	CU_ASSERT_EQUAL(st.copy_sends, 2); /* 1 and 5 */
	CU_ASSERT_EQUAL(st.zc_sends, 5);   /* 0, 2, 4, 6 and 8 */
	CU_ASSERT(port_opackets(null_port) >= op0 + RTE_DIM(s) - 2);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	munmap(buf, 128 * KB);
	munmap(buf + 192 * KB, 64 * KB);
}

static void
test_a_failed_translation_is_refused_by_the_agent(void)
{
#ifdef TIDE_FAULT_INJECTION
	uint8_t *buf = page_buf(64 * KB);

	CU_ASSERT_FATAL(buf != NULL);
	cache_set(0, 0);
	/* Reading the IO addresses fails (injected): the pages are unpinned, nothing sent. */
	tide_fault_pvt_arm(TIDE_FAULT_IOVA, 0, 1);
	agent_refuses(0, buf, 8 * KB, EIO, "pagemap");
	tide_fault_pvt_arm(TIDE_FAULT_IOVA, 0, 0);
	munmap(buf, 64 * KB);
#else
	printf("\n    (needs -Dfault_injection=true) ");
#endif
}

/* A spy on rte_dev_dma_map() (this program's definition comes before EAL's for the
 * library's calls): counts the calls.
 */
static uint32_t spy_dma_maps;

int rte_dev_dma_map(struct rte_device *dev, void *addr, uint64_t iova, size_t len);

int
rte_dev_dma_map(struct rte_device *dev, void *addr, uint64_t iova, size_t len)
{
	static int (*real)(struct rte_device *, void *, uint64_t, size_t);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "rte_dev_dma_map");
	__atomic_fetch_add(&spy_dma_maps, 1, __ATOMIC_RELAXED);
	if (real == NULL) {
		rte_errno = ENOTSUP;
		return -1;
	}
	return real(dev, addr, iova, len);
}

/*
 * DMA-mapping pinned pages for the port's device fails (injected): the send fails with
 * -EIO and its pages are not left marked pinned (kept idle, a later send from them would
 * skip the mapping and hand the device unmapped IO addresses); the next send maps them.
 * A device that joins (an instance created) while the spans cannot be mapped for it is
 * refused with EIO.
 */
static void
test_a_failed_dma_map_is_tried_again_by_the_next_send(void)
{
#ifdef TIDE_FAULT_INJECTION
	struct tide_zctx_cache_stats cs;
	struct tide_zctx_cpl cpl;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(64 * KB);
	uint32_t maps;

	CU_ASSERT_FATAL(buf != NULL);
	cache_set(64u << 20, 0); /* idle spans kept */
	z = zctx_make("dmamap", null_port, 0, 0, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	tide_fault_pvt_arm(TIDE_FAULT_DMA_MAP, 0, 1);
	CU_ASSERT_EQUAL(send_one(z, null_port, 1, buf, 8 * KB), 0);
	CU_ASSERT_EQUAL_FATAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, -EIO);
	tide_fault_pvt_arm(TIDE_FAULT_DMA_MAP, 0, 0);
	CU_ASSERT_EQUAL(tide_zctx_cache_stats_get(&cs), 0);
	CU_ASSERT_EQUAL(cs.pinned_bytes, 0);
	maps = __atomic_load_n(&spy_dma_maps, __ATOMIC_RELAXED);
	CU_ASSERT_EQUAL(send_one(z, null_port, 2, buf, 8 * KB), 0);
	CU_ASSERT_EQUAL_FATAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT(__atomic_load_n(&spy_dma_maps, __ATOMIC_RELAXED) > maps);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(buf, 64 * KB), 0);

	/* Registered without any device; then a device joins and its mapping fails. */
	CU_ASSERT_EQUAL_FATAL(tide_zctx_mem_register(buf, 8 * KB), 0);
	tide_fault_pvt_arm(TIDE_FAULT_DMA_MAP, 0, 1);
	TIDE_TEST_REFUSED_LOGGED(z = zctx_make("dmamap", null_port, 0, 0, 8), EIO,
		"tide_zctx_pvt_cache_dev_add");
	tide_fault_pvt_arm(TIDE_FAULT_DMA_MAP, 0, 0);
	CU_ASSERT_PTR_NULL(z);
	if (z != NULL)
		tide_zctx_free(z);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(buf, 8 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(buf, 64 * KB), 0);
	cache_set(0, 0);
	munmap(buf, 64 * KB);
#else
	printf("\n    (needs -Dfault_injection=true) ");
#endif
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("zctx_pin", zctx_suite_init, zctx_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_pinned_bytes_return_to_zero_after_completions);
	CU_ADD_TEST(s, test_unpinned_once_when_segments_are_freed_out_of_order);
	CU_ADD_TEST(s, test_unmapped_and_over_limit_memory_is_refused_by_the_agent);
	CU_ADD_TEST(s, test_a_bad_send_amid_a_burst_fails_alone);
	CU_ADD_TEST(s, test_a_failed_translation_is_refused_by_the_agent);
	CU_ADD_TEST(s, test_a_failed_dma_map_is_tried_again_by_the_next_send);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "zctx_pin", true, register_tests);
}
