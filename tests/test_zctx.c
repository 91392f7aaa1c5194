/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Instances (lib/zctx/zctx.c) under EAL: what tide_zctx_create() checks before it builds
 * anything and every errno it documents (nothing is left behind by a refusal: no
 * memzone, no name), what a port needs (configured with a TX queue; no RX queue; it may
 * be started after the instance is created), and the control calls' errors.
 */

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include "test_common.h"
#include "test_zctx_util.h"
#include "tide_fault.h"
#include "tide_zctx.h"

/* tide_zctx_create(@p p) is refused with @p err, and leaves no memzone behind. */
static void
expect_create_refused(const struct tide_zctx_params *p, int err, const char *what)
{
	unsigned int mz = memzones();
	struct tide_zctx *z;

	rte_errno = 0;
	z = tide_zctx_create(p);
	if (z != NULL || rte_errno != err)
		printf("\n    %s: %p, rte_errno %d ", what, (void *)z, rte_errno);
	CU_ASSERT_PTR_NULL(z);
	CU_ASSERT_EQUAL(rte_errno, err);
	CU_ASSERT_EQUAL(memzones(), mz);
	if (z != NULL)
		tide_zctx_free(z);
}

static void
params(struct tide_zctx_params *p, const char *name)
{
	tide_zctx_params_init(p, name);
	p->nb_ports = 1;
	p->ports[0] = null_port;
	p->depth = 64;
}

/* A net_null port configured with @p rxq RX and @p txq TX queues (set up), not started. */
static uint16_t
idle_port(const char *name, uint16_t rxq, uint16_t txq)
{
	struct rte_eth_conf conf = { .rxmode = { .mtu = 1500 } };
	uint16_t port;

	CU_ASSERT_FATAL(rte_vdev_init(name, NULL) == 0);
	CU_ASSERT_FATAL(rte_eth_dev_get_port_by_name(name, &port) == 0);
	CU_ASSERT_FATAL(rte_eth_dev_configure(port, rxq, txq, &conf) == 0);
	for (uint16_t q = 0; q < rxq; q++)
		CU_ASSERT_FATAL(rte_eth_rx_queue_setup(port, q, 64, SOCKET_ID_ANY, NULL,
			rx_pool) == 0);
	for (uint16_t q = 0; q < txq; q++)
		CU_ASSERT_FATAL(rte_eth_tx_queue_setup(port, q, 512, SOCKET_ID_ANY, NULL) == 0);
	return port;
}

static void
idle_port_close(const char *name, uint16_t port)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_vdev_uninit(name);
}

static void
test_bad_parameters_are_refused_before_anything_is_built(void)
{
	struct tide_zctx_params p;
	uint16_t fresh, rx_only;

	expect_create_refused(NULL, EINVAL, "NULL");
	params(&p, NULL);
	expect_create_refused(&p, EINVAL, "no name");
	params(&p, "");
	expect_create_refused(&p, EINVAL, "empty name");
	params(&p, "a_name_of_thirty_two_characters_");
	expect_create_refused(&p, EINVAL, "32-char name");
	params(&p, "zt_bad");
	p.depth = 0;
	expect_create_refused(&p, EINVAL, "depth 0");
	p.depth = (1u << 16) + 1;
	expect_create_refused(&p, EINVAL, "depth 65537");
	params(&p, "zt_bad");
	p.nb_ports = 0;
	expect_create_refused(&p, EINVAL, "no port");
	p.nb_ports = TIDE_ZCTX_MAX_PORTS + 1;
	expect_create_refused(&p, EINVAL, "too many ports");
	params(&p, "zt_bad");
	p.nb_ports = 2;
	p.ports[1] = null_port;
	expect_create_refused(&p, EINVAL, "a port twice");
	params(&p, "zt_bad");
	p.ports[0] = RTE_MAX_ETHPORTS - 1;
	expect_create_refused(&p, EINVAL, "no such port");
	params(&p, "zt_bad");
	p.flags = 1u << 7;
	expect_create_refused(&p, EINVAL, "unknown flag");
	params(&p, "zt_bad");
	p.agent_lcore = (int)rte_get_main_lcore();
	expect_create_refused(&p, EINVAL, "the main lcore as agent");
	p.agent_lcore = RTE_MAX_LCORE + 5;
	expect_create_refused(&p, EINVAL, "no such lcore");
	params(&p, "zt_bad");
	p.socket_id = 4096;
	expect_create_refused(&p, EINVAL, "unknown socket");
	params(&p, "zt_bad");
	p.max_frame_len = 1;
	expect_create_refused(&p, EINVAL, "frames of 1 byte");
	/* A port whose TX queue is not set up, and one configured with no TX queue. */
	CU_ASSERT_FATAL(rte_vdev_init("net_null_zt_fresh", NULL) == 0);
	CU_ASSERT_FATAL(rte_eth_dev_get_port_by_name("net_null_zt_fresh", &fresh) == 0);
	params(&p, "zt_bad");
	p.ports[0] = fresh;
	expect_create_refused(&p, EINVAL, "a port not configured");
	idle_port_close("net_null_zt_fresh", fresh);
	fresh = idle_port("net_null_zt_fresh", 1, 0);
	CU_ASSERT_FATAL(rte_eth_dev_configure(fresh, 1, 2, &(struct rte_eth_conf){ 0 }) == 0);
	CU_ASSERT_FATAL(rte_eth_tx_queue_setup(fresh, 0, 512, SOCKET_ID_ANY, NULL) == 0);
	p.ports[0] = fresh;
	expect_create_refused(&p, EINVAL, "a TX queue not set up");
	idle_port_close("net_null_zt_fresh", fresh);
	rx_only = idle_port("net_null_zt_rx", 1, 0);
	p.ports[0] = rx_only;
	expect_create_refused(&p, EINVAL, "a port without TX queue");
	idle_port_close("net_null_zt_rx", rx_only);
}

/* The name is checked first: with allocations failing (injected), a taken name still
 * answers EEXIST, not ENOMEM.
 */
static void
test_a_taken_name_is_refused_before_anything_is_built(void)
{
	struct tide_zctx_params p;
	struct tide_zctx *z;

	params(&p, "zt_dup");
	z = tide_zctx_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
#ifdef TIDE_FAULT_INJECTION
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1000);
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 1000);
#endif
	expect_create_refused(&p, EEXIST, "a taken name");
#ifdef TIDE_FAULT_INJECTION
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 0);
#endif
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	/* Free again: the name can be taken again. */
	z = tide_zctx_create(&p);
	CU_ASSERT_PTR_NOT_NULL(z);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

static void
test_no_memory_is_enomem_and_a_stuck_agent_eagain(void)
{
#ifdef TIDE_FAULT_INJECTION
	struct tide_zctx_params p;
	struct tide_zctx *z;

	params(&p, "zt_nomem");
	/* The instance itself, then the hugepages of its elastic pool. */
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	expect_create_refused(&p, ENOMEM, "no memory for the instance");
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 1000);
	expect_create_refused(&p, ENOMEM, "no hugepages for its pool");
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 0);
	/* Its agent's thread cannot start. */
	tide_fault_pvt_arm(TIDE_FAULT_THREAD, 0, 1);
	expect_create_refused(&p, EAGAIN, "no agent thread");
	tide_fault_pvt_arm(TIDE_FAULT_THREAD, 0, 0);
	z = tide_zctx_create(&p);
	CU_ASSERT_PTR_NOT_NULL(z);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
#else
	printf("\n    (needs -Dfault_injection=true) ");
#endif
}

/* Every memzone taken: the instance's rings and pools find none. */
static void
test_no_memzone_left_is_enospc(void)
{
	const struct rte_memzone **mz = calloc(RTE_MAX_MEMZONE, sizeof(*mz));
	struct tide_zctx_params p;
	unsigned int n = 0;
	char name[RTE_MEMZONE_NAMESIZE];

	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	while (n < RTE_MAX_MEMZONE) {
		snprintf(name, sizeof(name), "zt_mz_%u", n);
		mz[n] = rte_memzone_reserve(name, 64, SOCKET_ID_ANY, 0);
		if (mz[n] == NULL)
			break;
		n++;
	}
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	params(&p, "zt_nomz");
	expect_create_refused(&p, ENOSPC, "no memzone");
	while (n > 0)
		rte_memzone_free(mz[--n]);
	free(mz);
}

/* No file descriptor left for the instance's eventfds (injected: with the limit lowered
 * for real, EAL's own hugepage files fail first).
 */
static void
test_no_file_descriptor_left_is_emfile(void)
{
#ifdef TIDE_FAULT_INJECTION
	struct tide_zctx_params p;

	params(&p, "zt_nofd");
	p.flags = TIDE_ZCTX_F_EVENTFD;
	tide_fault_pvt_arm(TIDE_FAULT_FD, 0, 1);
	expect_create_refused(&p, EMFILE, "no file descriptor");
	tide_fault_pvt_arm(TIDE_FAULT_FD, 0, 0);
#else
	printf("\n    (needs -Dfault_injection=true) ");
#endif
}

/*
 * In IOVA mode PA the first instance opens /proc/self/pagemap. With no descriptor left
 * for it, the create says EMFILE, as for its eventfds, not that it may not read physical
 * addresses (EPERM): the fault fails the second descriptor the create makes, after its
 * eventfd.
 */
static void
test_pagemap_without_a_descriptor_is_emfile(void)
{
#ifdef TIDE_FAULT_INJECTION
	struct tide_zctx_params p;
	char *log;

	if (rte_eal_iova_mode() != RTE_IOVA_PA) {
		printf("\n    (IOVA mode VA: no pagemap to open) ");
		return;
	}
	params(&p, "zt_nomap");
	tide_test_log_begin();
	tide_fault_pvt_arm(TIDE_FAULT_FD, 1, 1);
	expect_create_refused(&p, EMFILE, "no file descriptor for pagemap");
	tide_fault_pvt_arm(TIDE_FAULT_FD, 0, 0);
	log = tide_test_log_end();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "cannot open /proc/self/pagemap"));
	free(log);
#else
	printf("\n    (needs -Dfault_injection=true) ");
#endif
}

static bool
one_inflight(const struct tide_zctx_stats *st, void *arg __rte_unused)
{
	return st->submitted == 1 && st->inflight == 1;
}

static bool
three_sent(void *arg)
{
	return port_opackets(*(uint16_t *)arg) >= 3;
}

/* An instance (zero-copy for every size: agent_pass() needs a fixed threshold) on a new
 * null port with one TX queue, not started.
 */
static struct tide_zctx *
zctx_on_idle_port(const char *vdev, const char *name, uint16_t *port)
{
	struct tide_zctx_params p;

	*port = idle_port(vdev, 0, 1);
	params(&p, name);
	p.ports[0] = *port;
	p.copy_threshold = 0;
	return tide_zctx_create(&p);
}

/*
 * A port needs TX queues only, and need not be started when the instance is made: started
 * afterwards, before any send to it, it carries the sends.
 */
static void
test_a_port_needs_no_rx_queue_and_may_start_after_create(void)
{
	static uint8_t data[3000];
	struct tide_zctx_cpl cpl;
	uint16_t port;
	struct tide_zctx *z = zctx_on_idle_port("net_null_zt_late", "zt_late", &port);

	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL_FATAL(rte_eth_dev_start(port), 0);
	CU_ASSERT_EQUAL(send_one(z, port, 1, data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.cookie, 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(cpl.bytes, sizeof(data));
	/* net_null counts a burst after it freed it: the count may follow the completion. */
	CU_ASSERT(tide_test_wait(three_sent, &port, TEST_WAIT_MS));
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	idle_port_close("net_null_zt_late", port);
}

/*
 * A send to a port that is not started waits at the agent (in flight, no completion,
 * nothing transmitted) until the stop cancels it. The port is not started meanwhile:
 * DPDK does not allow transmitting on a port while it starts.
 */
static void
test_a_send_to_a_port_not_started_waits_until_the_stop_cancels_it(void)
{
	static uint8_t data[3000];
	struct tide_zctx_cpl cpl;
	uint16_t port;
	struct tide_zctx *z = zctx_on_idle_port("net_null_zt_down", "zt_down", &port);

	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, port, 1, data, sizeof(data)), 0);
	CU_ASSERT(stats_wait(z, one_inflight, NULL));
	agent_pass(z);
	CU_ASSERT_EQUAL(tide_zctx_poll(z, &cpl, 1), 0);
	CU_ASSERT_EQUAL(port_opackets(port), 0);
	CU_ASSERT_EQUAL(tide_zctx_stop(z, TEST_WAIT_MS), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.cookie, 1);
	CU_ASSERT_EQUAL(cpl.status, -ECANCELED);
	CU_ASSERT_EQUAL(port_opackets(port), 0);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	idle_port_close("net_null_zt_down", port);
}

static void
test_control_calls_refuse_what_they_document(void)
{
	struct tide_zctx_stats st;
	struct tide_zctx *z = zctx_make("zt_ctl", null_port, 0, 0, 8);

	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	tide_zctx_params_init(NULL, "x"); /* a no-op */
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_stop(NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_eventfd(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_eventfd(z), -ENOTSUP);
	CU_ASSERT_EQUAL(rte_errno, ENOTSUP);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_threshold_set(NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_stats_get(NULL, &st), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_zctx_stats_get(z, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_zctx_free(NULL), 0);
	CU_ASSERT_EQUAL(tide_zctx_threshold_set(z, 700), 0);
	CU_ASSERT_EQUAL(tide_zctx_stop(z, 0), 0);
	CU_ASSERT_EQUAL(tide_zctx_stop(z, 0), 0); /* again: still stopped */
	CU_ASSERT_EQUAL(send_one(z, null_port, 1, hdr, 64), -ESHUTDOWN);
	CU_ASSERT_EQUAL(rte_errno, ESHUTDOWN);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

/* Bad input to the control calls is refused with rte_errno set and a line of their own. */
static void
test_bad_input_to_control_calls_is_logged(void)
{
	struct tide_zctx_stats st;
	struct tide_zctx *z = zctx_make("zt_log", null_port, 0, 0, 8);

	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_stop(NULL, 0), EINVAL, "tide_zctx_stop");
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_eventfd(NULL), EINVAL, "tide_zctx_eventfd");
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_eventfd(z), ENOTSUP, "tide_zctx_eventfd");
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_threshold_set(NULL, 0), EINVAL,
		"tide_zctx_threshold_set");
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_stats_get(z, NULL), EINVAL, "tide_zctx_stats_get");
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_cache_stats_get(NULL), EINVAL,
		"tide_zctx_cache_stats_get");
	/* The instance refused nothing of its own: it still works. */
	CU_ASSERT_EQUAL(tide_zctx_stats_get(z, &st), 0);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

/*
 * An instance freed twice: the second free, and a stop after the free, are refused
 * (EINVAL, logged) without reading the freed instance, and an instance made after them
 * works. Any other pointer is refused alike.
 */
/* The control calls that read or write through an instance refuse @p z, not live. */
static void
zctx_control_calls_refused(struct tide_zctx *z)
{
	struct tide_zctx_stats st;

	TIDE_TEST_REFUSED_LOGGED(tide_zctx_eventfd(z), EINVAL, "tide_zctx_eventfd");
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_threshold_set(z, 0), EINVAL,
		"tide_zctx_threshold_set");
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_stats_get(z, &st), EINVAL, "tide_zctx_stats_get");
}

static void
test_an_instance_freed_twice_is_refused_the_second_time(void)
{
	struct tide_zctx_stats st;
	struct tide_zctx_cpl cpl;
	uint64_t fake[64] = { 0 };
	struct tide_zctx *z = zctx_make("zt_twice", null_port, 4096, 0, 8);

	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_free(z), EINVAL, "tide_zctx_free");
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_stop(z, 1), EINVAL, "tide_zctx_stop");
	zctx_control_calls_refused(z);
	z = zctx_make("zt_twice", null_port, 4096, 0, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, null_port, 1, hdr, 64), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_free((struct tide_zctx *)fake), EINVAL,
		"tide_zctx_free");
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_stop((struct tide_zctx *)fake, 1), EINVAL,
		"tide_zctx_stop");
	zctx_control_calls_refused((struct tide_zctx *)fake);
	CU_ASSERT(tide_test_zeroed(fake, sizeof(fake)));
	CU_ASSERT_EQUAL(send_one(z, null_port, 2, hdr, 64), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.cookie, 2);
	/* The live one still answers, its threshold as it was. */
	CU_ASSERT_EQUAL(tide_zctx_stats_get(z, &st), 0);
	CU_ASSERT_EQUAL(st.completed, 2);
	CU_ASSERT_EQUAL(st.threshold, 4096);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

/* Free while the PMD holds a send: -EBUSY after the stop's limit, nothing freed. */
static void
test_free_with_a_send_in_the_pmd_is_ebusy(void)
{
	static uint8_t data[1000];
	struct tide_zctx_cpl cpl;
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;

	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_busy", 1024) == 0);
	z = zctx_make("zt_busy", rp.port, 0, 0, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 5, data, sizeof(data)), 0);
	while (ring_drain(&rp, &pkt, 1) == 0)
		;
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_zctx_free(z), -EBUSY);
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	rte_pktmbuf_free(pkt);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
}

/*
 * A copied send completes once the PMD took its packets; net_ring's consumer (the test)
 * holds them after that. The free refuses with -EBUSY while they are out (freeing the
 * instance's pool would make their later free write into freed memory), and succeeds once
 * they are home.
 */
static void
test_free_with_copies_still_out_is_ebusy_until_they_are_home(void)
{
	static uint8_t data[1000];
	struct tide_zctx_cpl cpl;
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;

	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_out", 1024) == 0);
	z = zctx_make("zt_out", rp.port, 4096, 0, 8); /* copied */
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 6, data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	rte_errno = 0;
	/* Fatal: freed, the pool the packet in the ring comes from is gone. */
	TIDE_TEST_REFUSED_LOGGED(tide_zctx_free(z), EBUSY, "tide_zctx_free");
	CU_ASSERT_EQUAL_FATAL(rte_errno, EBUSY);
	CU_ASSERT_EQUAL(ring_drain(&rp, &pkt, 1), 1);
	CU_ASSERT(pkt_is(pkt, data, sizeof(data)));
	rte_pktmbuf_free(pkt);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
}

/*
 * Spies on what the library reads of a port: no vdev offers RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE
 * (ethdev refuses to configure an offload the PMD does not offer), so this program's
 * definitions, which come before ethdev's for the library's calls, add it to the watched
 * port's configuration (spy_fast_free 1) or to its queue 1's (2).
 */
static uint16_t spy_port = UINT16_MAX;
static int spy_fast_free;

int rte_eth_dev_conf_get(uint16_t port_id, struct rte_eth_conf *dev_conf);
int rte_eth_tx_queue_info_get(uint16_t port_id, uint16_t queue_id,
	struct rte_eth_txq_info *qinfo);

int
rte_eth_dev_conf_get(uint16_t port_id, struct rte_eth_conf *dev_conf)
{
	static int (*real)(uint16_t, struct rte_eth_conf *);
	int ret;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "rte_eth_dev_conf_get");
	ret = real != NULL ? real(port_id, dev_conf) : -ENOTSUP;
	if (ret == 0 && port_id == spy_port && spy_fast_free == 1)
		dev_conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	return ret;
}

int
rte_eth_tx_queue_info_get(uint16_t port_id, uint16_t queue_id, struct rte_eth_txq_info *qinfo)
{
	static int (*real)(uint16_t, uint16_t, struct rte_eth_txq_info *);
	int ret;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "rte_eth_tx_queue_info_get");
	ret = real != NULL ? real(port_id, queue_id, qinfo) : -ENOTSUP;
	if (port_id == spy_port && spy_fast_free == 2 && queue_id == 1) {
		if (ret != 0)
			memset(qinfo, 0, sizeof(*qinfo));
		qinfo->conf.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
		ret = 0;
	}
	return ret;
}

/*
 * A port configured with RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE, or with a TX queue set up with
 * it, is refused with EINVAL: its PMD would put mbufs back without their free callbacks
 * (zero-copy sends would never complete) and into the first mbuf's pool.
 */
static void
test_a_port_with_fast_free_is_refused(void)
{
	struct tide_zctx *z;

	spy_port = null_port;
	for (spy_fast_free = 1; spy_fast_free <= 2; spy_fast_free++) {
		TIDE_TEST_REFUSED_LOGGED(z = zctx_make("zt_ff", null_port, 0, 0, 8), EINVAL,
			"zc_port_init");
		CU_ASSERT_PTR_NULL(z);
		if (z != NULL)
			tide_zctx_free(z);
	}
	spy_fast_free = 0;
	z = zctx_make("zt_ff", null_port, 0, 0, 8);
	CU_ASSERT_PTR_NOT_NULL(z);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	spy_port = UINT16_MAX;
}

/* An instance on the net_null port with the application's pool @p mp for headers. */
static struct tide_zctx *
zctx_with_pool(const char *name, struct rte_mempool *mp)
{
	return zctx_make_on(name, null_port, 4096, 64, mp);
}

/*
 * An application's pool whose data room (after the headroom) cannot hold the longest
 * header a send to the port may carry (128 bytes at MTU 1500) and a payload byte is
 * refused with EINVAL at creation, with a line saying the minimum; one just large enough
 * carries copies (chained, a frame over several mbufs).
 */
static void
test_a_pool_too_small_for_a_header_is_refused(void)
{
	static const uint16_t rooms[] = { 0, 16, TIDE_ZCTX_HDR_MAX };
	static uint8_t data[1000];
	struct tide_zctx_stats st;
	struct tide_zctx_cpl cpl;
	struct rte_mempool *mp;
	struct tide_zctx *z;
	char name[32];

	for (unsigned int i = 0; i < RTE_DIM(rooms); i++) {
		snprintf(name, sizeof(name), "zt_room%u", i);
		mp = rte_pktmbuf_pool_create(name, 64, 0, 0,
			(uint16_t)(RTE_PKTMBUF_HEADROOM + rooms[i]), SOCKET_ID_ANY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
		TIDE_TEST_REFUSED_LOGGED(z = zctx_with_pool("zt_room", mp), EINVAL,
			"zc_pool_check");
		CU_ASSERT_PTR_NULL(z);
		if (z != NULL)
			tide_zctx_free(z);
		rte_mempool_free(mp);
	}
	mp = rte_pktmbuf_pool_create("zt_room_ok", 64, 0, 0,
		RTE_PKTMBUF_HEADROOM + TIDE_ZCTX_HDR_MAX + 1, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	z = zctx_with_pool("zt_room", mp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, null_port, 1, data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(cpl.bytes, sizeof(data));
	CU_ASSERT(stats_wait_completed(z, 1, &st));
	CU_ASSERT_EQUAL(st.copy_sends, 1);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	rte_mempool_free(mp);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("zctx", zctx_suite_init, zctx_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_bad_parameters_are_refused_before_anything_is_built);
	CU_ADD_TEST(s, test_a_taken_name_is_refused_before_anything_is_built);
	CU_ADD_TEST(s, test_no_memory_is_enomem_and_a_stuck_agent_eagain);
	CU_ADD_TEST(s, test_no_memzone_left_is_enospc);
	CU_ADD_TEST(s, test_no_file_descriptor_left_is_emfile);
	CU_ADD_TEST(s, test_pagemap_without_a_descriptor_is_emfile);
	CU_ADD_TEST(s, test_a_port_needs_no_rx_queue_and_may_start_after_create);
	CU_ADD_TEST(s, test_a_send_to_a_port_not_started_waits_until_the_stop_cancels_it);
	CU_ADD_TEST(s, test_control_calls_refuse_what_they_document);
	CU_ADD_TEST(s, test_bad_input_to_control_calls_is_logged);
	CU_ADD_TEST(s, test_an_instance_freed_twice_is_refused_the_second_time);
	CU_ADD_TEST(s, test_free_with_a_send_in_the_pmd_is_ebusy);
	CU_ADD_TEST(s, test_free_with_copies_still_out_is_ebusy_until_they_are_home);
	CU_ADD_TEST(s, test_a_pool_too_small_for_a_header_is_refused);
	CU_ADD_TEST(s, test_a_port_with_fast_free_is_refused);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "zctx", true, register_tests);
}
