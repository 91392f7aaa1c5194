/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Initialising the message library (tide_msg_init() in lib/msg/msg.c) under EAL, where it
 * fails: what is refused before it, a bad configuration, no memory, a secondary process,
 * an mbuf with no room left for the header, a foreign field of the header's name, and no
 * control thread to watch for dead secondaries.
 * Each failure must leave the library uninitialised, so the successes live in the other
 * suites. Three suites, run by separate meson tests (a dynfield cannot be unregistered):
 * "init_errors", "init_eexist" which takes the header's name, and "init_enomem" whose
 * failures come after the header's field is registered.
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "test_common.h"
#include "tide_fault.h"
#include "tide_msg.h"

static void
test_calls_before_init_are_refused(void)
{
	struct tide_xchg_params p = { .name = "ti_early", .type = TIDE_XCHG_FIFO, .size = 8,
		.socket_id = SOCKET_ID_ANY };
	struct rte_mempool *mp = rte_pktmbuf_pool_create("ti_pool", 63, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	struct tide_msg_range r = { 0, 8 };
	struct rte_mbuf *m, *px;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	m = rte_pktmbuf_alloc(mp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NULL(tide_xchg_create(&p));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_msg_release_checked(m), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(m, 1, &r, &px), -EINVAL);
	CU_ASSERT_EQUAL(tide_msg_leak_report(NULL), 0);
	CU_ASSERT_EQUAL(tide_stage_list(0, NULL, 0), 0);
	/* No directory to find them in: not freed (nor is the directory looked at). */
	TIDE_TEST_REFUSED_LOGGED(tide_xchg_free((struct tide_xchg *)m), EINVAL, "tide_xchg_free");
	TIDE_TEST_REFUSED_LOGGED(tide_bcast_free((struct tide_bcast *)m), EINVAL,
		"tide_bcast_free");
	CU_ASSERT_EQUAL(tide_msg_fini(), 0); /* nothing to release: a no-op */
	rte_pktmbuf_free(m);
	rte_mempool_free(mp);
}

/* A query for an exchange before tide_msg_init() is a plain "not found", logged nowhere. */
static void
test_exchange_info_before_init_is_not_found_and_not_logged(void)
{
	char *out, *log;

	tide_test_log_begin();
	out = tide_test_stock_telemetry("/tide/xchg/info,ti_early");
	log = tide_test_log_end();
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"/tide/xchg/info\": null}"));
	CU_ASSERT_PTR_NULL(strstr(log, "tide_msg"));
	free(out);
	free(log);
}

static void
test_a_bad_configuration_is_refused(void)
{
	struct tide_msg_conf conf = { .nb_proxies = TIDE_MSG_MAX_PROXIES + 1,
		.socket_id = SOCKET_ID_ANY };

	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_init(&conf), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	conf.nb_proxies = 16;
	conf.socket_id = 4096;
	CU_ASSERT_EQUAL(tide_msg_init(&conf), -EINVAL);
	conf.socket_id = -7;
	CU_ASSERT_EQUAL(tide_msg_init(&conf), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
}

static void
test_no_memory_for_the_proxies_is_enomem(void)
{
#ifdef TIDE_FAULT_INJECTION
	struct tide_msg_conf conf = { .nb_proxies = 16, .socket_id = SOCKET_ID_ANY };

	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_init(&conf), -ENOMEM);
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
	/* Still not initialised: an exchange is refused. */
	CU_ASSERT_PTR_NULL(tide_xchg_create(&(struct tide_xchg_params){ .name = "ti_x",
		.type = TIDE_XCHG_FIFO, .size = 8, .socket_id = SOCKET_ID_ANY }));
#else
	printf("\n    (needs -Dfault_injection=true) ");
#endif
}

/*
 * Every allocation of an initialisation failing in turn: each is -ENOMEM with nothing kept
 * (an exchange is refused after it), the record of the callback that recovers a dead
 * secondary's messages among them (without it init went on, and they were never recovered).
 */
static void
test_each_allocation_of_init_failing_is_enomem(void)
{
#ifdef TIDE_FAULT_INJECTION
	struct tide_msg_conf conf = { .nb_proxies = 16, .socket_id = SOCKET_ID_ANY };
	bool death_cb_failed = false;
	unsigned int skip;
	int ret = -ENOMEM;

	for (skip = 0; skip < 16 && ret != 0; skip++) {
		char *log;

		tide_fault_pvt_arm(TIDE_FAULT_MALLOC, skip, 1);
		tide_test_log_begin();
		rte_errno = 0;
		ret = tide_msg_init(&conf);
		log = tide_test_log_end();
		tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
		if (strstr(log, "callback's record") != NULL) {
			death_cb_failed = true;
			CU_ASSERT_EQUAL(ret, -ENOMEM);
		}
		free(log);
		if (ret == 0)
			break;
		CU_ASSERT_EQUAL(ret, -ENOMEM);
		CU_ASSERT_EQUAL(rte_errno, ENOMEM);
		CU_ASSERT_PTR_NULL(tide_xchg_create(&(struct tide_xchg_params){ .name = "ti_x",
			.type = TIDE_XCHG_FIFO, .size = 8, .socket_id = SOCKET_ID_ANY }));
	}
	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT_TRUE(death_cb_failed);
	if (ret == 0)
		CU_ASSERT_EQUAL(tide_msg_fini(), 0);
#else
	printf("\n    (needs -Dfault_injection=true) ");
#endif
}

/* Threads of this process named @p name (/proc/self/task/<tid>/comm). */
static unsigned int
threads_named(const char *name)
{
	unsigned int n = 0;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "re");
		if (f == NULL)
			continue; /* ended meanwhile */
		if (fgets(comm, sizeof(comm), f) != NULL)
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
		n += strcmp(comm, name) == 0;
	}
	closedir(d);
	return n;
}

static bool
no_control_thread(void *arg __rte_unused)
{
	return threads_named("tide-ctl") == 0;
}

/*
 * In a primary without elastic pools, init starts the pool library's control thread (it
 * is what finds dead secondaries, whose messages the library then releases) and fini
 * stops it; a control thread that cannot start fails the init with EAGAIN, and nothing
 * is kept.
 */
static void
test_init_starts_the_control_thread_that_watches_secondaries(void)
{
	struct tide_msg_conf conf = { .nb_proxies = 16, .socket_id = SOCKET_ID_ANY };

	CU_ASSERT_EQUAL(threads_named("tide-ctl"), 0);
#ifdef TIDE_FAULT_INJECTION
	char *log;

	tide_fault_pvt_arm(TIDE_FAULT_CTL_THREAD, 0, 1);
	tide_test_log_begin();
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_init(&conf), -EAGAIN);
	CU_ASSERT_EQUAL(rte_errno, EAGAIN);
	log = tide_test_log_end();
	tide_fault_pvt_arm(TIDE_FAULT_CTL_THREAD, 0, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "cannot start the control thread"));
	free(log);
	CU_ASSERT_PTR_NULL(tide_xchg_create(&(struct tide_xchg_params){ .name = "ti_x",
		.type = TIDE_XCHG_FIFO, .size = 8, .socket_id = SOCKET_ID_ANY }));
	CU_ASSERT_EQUAL(threads_named("tide-ctl"), 0);
#else
	printf("\n    (its failure needs -Dfault_injection=true) ");
#endif
	CU_ASSERT_EQUAL_FATAL(tide_msg_init(&conf), 0);
	CU_ASSERT_EQUAL(threads_named("tide-ctl"), 1);
	CU_ASSERT_EQUAL(tide_msg_fini(), 0);
	/* Joined, its entry in /proc may still be there for a moment. */
	CU_ASSERT(tide_test_wait(no_control_thread, NULL, 10000));
}

/* Runs only in the secondary that the test below starts. */
static void
test_secondary_child_init_is_enoent(void)
{
	if (!tide_test_is_secondary())
		return;
	CU_ASSERT_EQUAL(rte_eal_process_type(), RTE_PROC_SECONDARY);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_init(NULL), -ENOENT);
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_PTR_NULL(tide_xchg_lookup("ti_none"));
}

/* A secondary attaches to what the primary's tide_msg_init() shared: not before it. */
static void
test_init_in_a_secondary_before_the_primary_is_enoent(void)
{
	if (tide_test_is_secondary())
		return;
	CU_ASSERT_EQUAL(tide_test_run_secondary("test_secondary_child_init_is_enoent"), 0);
}

/* Fill every byte the mbuf has for dynfields: the header finds no room. Last of its suite
 * (nothing can be registered after it).
 */
static void
test_an_mbuf_without_room_is_enospc(void)
{
	char name[RTE_MBUF_DYN_NAMESIZE];
	unsigned int fields = 0;

	if (tide_test_is_secondary())
		return;
	for (;;) {
		struct rte_mbuf_dynfield f = { .size = 1, .align = 1 };

		snprintf(name, sizeof(name), "ti_fill_%u", fields);
		snprintf(f.name, sizeof(f.name), "%s", name);
		if (rte_mbuf_dynfield_register(&f) < 0)
			break;
		fields++;
	}
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT(fields >= sizeof(struct tide_msg_hdr));
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_init(NULL), -ENOSPC);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
}

/* Another copy of the library (of another version, say) took the header's name. */
static void
test_a_foreign_field_of_the_header_name_is_eexist(void)
{
	struct rte_mbuf_dynfield f = { .name = "tide_msg_hdr", .size = 4, .align = 4 };

	CU_ASSERT_FATAL(rte_mbuf_dynfield_register(&f) >= 0);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_init(NULL), -EEXIST);
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("init_errors", NULL, NULL);
	CU_pSuite e = CU_add_suite("init_eexist", NULL, NULL);
	CU_pSuite n = CU_add_suite("init_enomem", NULL, NULL);

	if (s == NULL || e == NULL || n == NULL)
		return -1;
	CU_ADD_TEST(s, test_calls_before_init_are_refused);
	CU_ADD_TEST(s, test_exchange_info_before_init_is_not_found_and_not_logged);
	CU_ADD_TEST(s, test_a_bad_configuration_is_refused);
	CU_ADD_TEST(s, test_no_memory_for_the_proxies_is_enomem);
	CU_ADD_TEST(s, test_init_in_a_secondary_before_the_primary_is_enoent);
	CU_ADD_TEST(s, test_secondary_child_init_is_enoent);
	CU_ADD_TEST(s, test_an_mbuf_without_room_is_enospc);
	CU_ADD_TEST(e, test_a_foreign_field_of_the_header_name_is_eexist);
	CU_ADD_TEST(n, test_each_allocation_of_init_failing_is_enomem);
	CU_ADD_TEST(n, test_init_starts_the_control_thread_that_watches_secondaries);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "msg_init", true, register_tests);
}
