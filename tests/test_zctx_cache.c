/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The pin and translation cache (lib/zctx/zctx_cache.c) under EAL: registrations hold
 * their spans, idle spans are kept in LRU order within the idle limit and evicted for the
 * pin limit, memory in flight cannot be invalidated, DPDK memory is sent unpinned, and
 * every error the calls document.
 */

#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include "test_common.h"
#include "test_zctx_util.h"
#include "tide_fault.h"
#include "tide_zctx.h"

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


/* Drop CAP_IPC_LOCK from the calling thread's effective set (capabilities are per thread). */
static int
drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	return (int)syscall(SYS_capset, &h, d);
}

struct unprivileged {
	const void *addr;
	size_t len;
	int ret;
};

static void *
register_unprivileged(void *arg)
{
	struct unprivileged *u = arg;

	u->ret = drop_ipc_lock() == 0 ? tide_zctx_mem_register(u->addr, u->len) : -ENOEXEC;
	return NULL;
}

static void
test_cache_call_errors_are_reported(void)
{
	struct tide_zctx_cache_params cp = { .max_spans = RTE_MAX_MEMSEG_LISTS + 1 };
	uint8_t *base = NULL, *b = spans_buf(&base);
	struct unprivileged u;
	struct rlimit was, none;
	pthread_t t;

	CU_ASSERT_FATAL(b != NULL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_cache_configure(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_zctx_cache_configure(&cp), -EINVAL);
	CU_ASSERT_EQUAL(tide_zctx_cache_stats_get(NULL), -EINVAL);
	/* Ranges: NULL, empty, wrapping. */
	CU_ASSERT_EQUAL(tide_zctx_mem_register((void *)(UINTPTR_MAX - 4095), 8192), -EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(NULL, 10), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(b, 0), -EINVAL);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate((void *)(UINTPTR_MAX - 4095), 8192), -EINVAL);
	/* One span at most: a registration in a second one finds none. */
	cp = (struct tide_zctx_cache_params){ .max_spans = 1 };
	CU_ASSERT_EQUAL(tide_zctx_cache_configure(&cp), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 0), 4 * KB), 0);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 1), 4 * KB), -ENOSPC);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 0), 4 * KB), 0);
	cache_set(0, 0);
#ifdef TIDE_FAULT_INJECTION
	/* Translation fails (injected). */
	tide_fault_pvt_arm(TIDE_FAULT_IOVA, 0, 1);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 0), 4 * KB), -EIO);
	CU_ASSERT_EQUAL(rte_errno, EIO);
	tide_fault_pvt_arm(TIDE_FAULT_IOVA, 0, 0);
	/* No memory (injected) for the registration's record, for a span's, for its pinned
	 * runs': each refused and logged, and nothing held after it.
	 */
	for (unsigned int skip = 0; skip < 3; skip++) {
		static const char *const by[3] = { "tide_zctx_mem_register", "cache_span_create",
			"tide_zctx_pvt_maps_add" };

		tide_fault_pvt_arm(TIDE_FAULT_MALLOC, skip, 1);
		TIDE_TEST_REFUSED_LOGGED(tide_zctx_mem_register(SPAN(b, 0), 4 * KB), ENOMEM,
			by[skip]);
		tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
		CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 0), 4 * KB), -ENOENT);
	}
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 0), 4 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 0), 4 * KB), 0);
#endif
	/* No right to pin: RLIMIT_MEMLOCK 0 and a thread without CAP_IPC_LOCK (the cache's
	 * own limit set, so that the kernel is asked).
	 */
	cache_set(0, 1u << 20);
	CU_ASSERT_FATAL(getrlimit(RLIMIT_MEMLOCK, &was) == 0);
	none = (struct rlimit){ .rlim_cur = 0, .rlim_max = was.rlim_max };
	CU_ASSERT_FATAL(setrlimit(RLIMIT_MEMLOCK, &none) == 0);
	u = (struct unprivileged){ .addr = SPAN(b, 0), .len = 4 * KB };
	CU_ASSERT_FATAL(pthread_create(&t, NULL, register_unprivileged, &u) == 0);
	pthread_join(t, NULL);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_MEMLOCK, &was) == 0);
	CU_ASSERT_EQUAL(u.ret, -EPERM);
	/* The default configuration: the cache's limit is RLIMIT_MEMLOCK, 0, even for a
	 * thread the kernel would let pin (CAP_IPC_LOCK): no right to pin either.
	 */
	cache_set(0, 0);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_MEMLOCK, &none) == 0);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 0), 4 * KB), -EPERM);
	CU_ASSERT_EQUAL(rte_errno, EPERM);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_MEMLOCK, &was) == 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 0), 4 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 0), 4 * KB), 0);
	munmap(base, 10u << 20);
}

/*
 * A registration over memory DPDK knows takes no span; when that memory leaves DPDK and a
 * span is made at its address (another registration), unregistering the first must not
 * drop the second's reference: the span stays held (invalidate says -EBUSY) until the
 * second is unregistered.
 */
static void
test_unregistering_lets_go_only_of_the_spans_it_took(void)
{
	uint8_t *base = NULL, *b = spans_buf(&base);

	CU_ASSERT_FATAL(b != NULL);
	cache_set(0, 0);
	CU_ASSERT_EQUAL_FATAL(rte_extmem_register(SPAN(b, 0), 64 * KB, NULL, 0, 4096), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 0), 8 * KB), 0); /* DPDK memory */
	CU_ASSERT_EQUAL_FATAL(rte_extmem_unregister(SPAN(b, 0), 64 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 0), 4 * KB), 0); /* a span now */
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 0), 8 * KB), 0);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(SPAN(b, 0), 4 * KB), -EBUSY);
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 0), 4 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(SPAN(b, 0), 4 * KB), 0);
	munmap(base, 10u << 20);
}

/*
 * A range of the whole address space is checked and invalidated as a short one is: held
 * spans refuse it, idle ones go, and it returns at once (it walked every 2 MB of it with
 * the cache's lock held: from above a program's memory to the top, 2^43 steps, hours).
 */
static void
test_invalidating_a_huge_range(void)
{
	uint8_t *base = NULL, *b = spans_buf(&base);
	struct tide_zctx_cache_stats cs;
	void *low = (void *)(uintptr_t)(2u << 20);
	size_t all = UINTPTR_MAX - (4u << 20);

	CU_ASSERT_FATAL(b != NULL);
	cache_set(1u << 20, 0); /* idle spans kept */
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 3), 4 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(SPAN(b, 0), 64 * KB), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 0), 64 * KB), 0); /* idle now */
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(low, all), -EBUSY);
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.spans, 2); /* refused: nothing dropped */
	/* From above the spans to the top: nothing there, nothing dropped. */
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(SPAN(b, 4),
		UINTPTR_MAX - (uintptr_t)SPAN(b, 4)), 0);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.spans, 2);
	/* Everything below the held span: the idle one goes, the held one stays. */
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(low, (size_t)(SPAN(b, 3) - (uint8_t *)low)),
		0);
	tide_zctx_cache_stats_get(&cs);
	CU_ASSERT_EQUAL(cs.spans, 1);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(SPAN(b, 3), 4 * KB), 0);
	cache_set(0, 0);
	munmap(base, 10u << 20);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("zctx_cache", zctx_suite_init, zctx_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_registration_errors_are_clear);
	CU_ADD_TEST(s, test_cache_refcounts_and_invalidates);
	CU_ADD_TEST(s, test_cache_evicts_least_recently_used_beyond_its_limit);
	CU_ADD_TEST(s, test_cache_pin_limit_evicts_idle_then_refuses);
	CU_ADD_TEST(s, test_cache_refuses_invalidating_memory_in_flight);
	CU_ADD_TEST(s, test_dpdk_memory_is_sent_unpinned);
	CU_ADD_TEST(s, test_cache_call_errors_are_reported);
	CU_ADD_TEST(s, test_unregistering_lets_go_only_of_the_spans_it_took);
	CU_ADD_TEST(s, test_invalidating_a_huge_range);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "zctx_cache", true, register_tests);
}
