/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The zero-copy TX library's telemetry (lib/zctx/zctx_telemetry.c) under EAL, through
 * this process's telemetry socket and through the stock dpdk-telemetry.py: instances are
 * listed and their counters shown, bad requests refused. A real secondary process
 * (tests/mp_helper) creates an instance and sends on this process's net_null port: this
 * process, the primary, lists it as <name>@<pid> and shows its counters until it is freed;
 * one whose process was killed is listed as dead until the next creation drops it; its
 * free waits for a handler reading it.
 */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_memzone.h>

#include "test_common.h"
#include "test_helper_run.h"
#include "tide_fault.h"
#include "tide_rwlock.h"
#include "test_pool_util.h"
#include "test_zctx_util.h"
#include "tide_zctx.h"

static void
test_telemetry_lists_and_shows_instances(void)
{
	static uint8_t data[2000];
	struct tide_zctx_stats st;
	struct tide_zctx_cpl cpl;
	struct tide_zctx *z = zctx_make("zt_tel", null_port, 0, 0, 8);
	char *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, null_port, 1, data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT(stats_wait_completed(z, 1, &st));
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"zt_tel\""));
	free(out);
	out = telemetry_query("/tide/zctx/info,zt_tel");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"depth\":8"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"completed\":1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"zc_sends\":1"));
	/* A fixed threshold (0) never tries the mix. */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"threshold\":0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"mix_trials\":0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"mix_all_zc\":0"));
	/* One send of one or two frames: one TX burst, or two if mbufs ran short. */
	CU_ASSERT(strstr(out, "\"tx_bursts\":1") != NULL ||
		strstr(out, "\"tx_bursts\":2") != NULL);
	free(out);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT_PTR_NULL(strstr(out, "\"zt_tel\""));
	free(out);
}

/*
 * Through the stock dpdk-telemetry.py: an instance is listed and shown; an unknown name, a
 * missing parameter, junk after a name, and a parameter to the list are refused (null).
 */
static void
test_the_stock_client_shows_an_instance_and_refuses_bad_requests(void)
{
	struct tide_zctx *z = zctx_make("zt_stock", null_port, 0, 0, 8);
	char *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	out = tide_test_stock_telemetry("/tide/zctx/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"/tide/zctx/list\": [\"zt_stock\"]}"));
	free(out);
	out = tide_test_stock_telemetry("/tide/zctx/info,zt_stock");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"/tide/zctx/info\": {\"name\": \"zt_stock\", "
		"\"depth\": 8, \"ports\": 1, "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"submitted\": 0, "));
	free(out);
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/info,zt_nope"));
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/info"));
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/info,zt_stock,junk"));
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/list,junk"));
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

#define SEC_LCORES "--lcores=2@0,3@1"

/*
 * Start a secondary that creates instance @p name on the net_null port, sends @p n times
 * and waits for @p stop; its process id, or -1 (the secondary is then ended).
 */
static int
secondary_start(struct tide_run *r, const char *name, const char *n, const char *stop)
{
	char *text;
	int pid;

	unlink(stop);
	tide_run_helper(r, tide_test_file_prefix(), SEC_LCORES, true,
		(char *[]){ "zsend", "net_null_zt", (char *)name, (char *)n, (char *)stop, NULL });
	text = tide_run_wait_for(r, "ready=1", 20000);
	pid = (int)tide_run_value(text, "pid");
	if (strstr(text, "ready=1") == NULL || strstr(text, "error=") != NULL || pid != r->pid) {
		printf("\n    the secondary said: %s ", text);
		kill(r->pid, SIGKILL);
		tide_run_end(r);
		unlink(r->out);
		pid = -1;
	}
	free(text);
	return pid;
}

static bool
has(const char *out, const char *fmt, int pid)
{
	char want[128];

	snprintf(want, sizeof(want), fmt, pid);
	if (strstr(out, want) != NULL)
		return true;
	printf("\n    want %s in %s ", want, out);
	return false;
}

/*
 * A secondary's instance, with its counters, is listed and shown by the primary as
 * <name>@<pid>, through its socket and the stock client, without the pin cache (the
 * owner's); bad names are refused; once the secondary freed it, it is gone.
 */
static void
test_a_secondarys_instance_is_listed_and_shown_until_it_is_freed(void)
{
	char stop[64], cmd[96], *out, *text;
	struct tide_run r;
	int pid;

	snprintf(stop, sizeof(stop), "/tmp/tide-zt-tel-%d.stop", (int)getpid());
	pid = secondary_start(&r, "zt_sec", "3", stop);
	CU_ASSERT_FATAL(pid > 0);
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT(has(out, "\"zt_sec@%d\"", pid));
	free(out);
	snprintf(cmd, sizeof(cmd), "/tide/zctx/info,zt_sec@%d", pid);
	out = telemetry_query(cmd);
	CU_ASSERT(has(out, "\"pid\":%d,\"alive\":1,", pid));
	CU_ASSERT(has(out, "\"cache\":\"in process %d\"", pid));
	CU_ASSERT(has(out, "\"submitted\":3,\"completed\":%d,", 3));
	CU_ASSERT(has(out, "\"zc_sends\":%d,", 3));
	CU_ASSERT(has(out, "\"depth\":%d,", 8));
	CU_ASSERT_PTR_NULL(strstr(out, "cache_spans")); /* the owner's: not read from here */
	free(out);
	/* The stock client: listed, shown; its own name alone or a bad pid refused. */
	out = tide_test_stock_telemetry("/tide/zctx/list");
	CU_ASSERT(has(out, "\"zt_sec@%d\"", pid));
	free(out);
	out = tide_test_stock_telemetry(cmd);
	CU_ASSERT(has(out, "{\"/tide/zctx/info\": {\"name\": \"zt_sec\", \"depth\": 8, "
		"\"ports\": 1, \"pid\": %d, \"alive\": 1, ", pid));
	CU_ASSERT(has(out, "\"completed\": %d, ", 3));
	free(out);
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/info,zt_sec"));
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/info,zt_sec@"));
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/info,zt_sec@1"));
	snprintf(cmd, sizeof(cmd), "/tide/zctx/info,zt_sec@%dx", pid);
	CU_ASSERT(tide_test_stock_refused(cmd));
	snprintf(cmd, sizeof(cmd), "/tide/zctx/info,zt_nope@%d", pid);
	CU_ASSERT(tide_test_stock_refused(cmd));

	/* Freed by its process (which is still alive): gone. */
	fclose(fopen(stop, "w"));
	text = tide_run_wait_for(&r, "freed=", 20000);
	CU_ASSERT_EQUAL(tide_run_value(text, "freed"), 0);
	free(text);
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT_PTR_NULL(strstr(out, "zt_sec"));
	free(out);
	snprintf(cmd, sizeof(cmd), "/tide/zctx/info,zt_sec@%d", pid);
	CU_ASSERT(tide_test_stock_refused(cmd));
	unlink(stop);
	CU_ASSERT_EQUAL(tide_run_end(&r), 0);
	free(tide_run_output(&r));
}

/*
 * A secondary killed (SIGKILL) holding an instance: the primary lists it, as dead
 * ("alive":0) with the counters it had, until the next creation (a writer of the
 * directory) drops it.
 */
static void
test_a_killed_secondarys_instance_is_listed_dead_until_the_next_creation(void)
{
	char stop[64], cmd[96], *out;
	struct tide_zctx *z;
	struct tide_run r;
	int pid;

	snprintf(stop, sizeof(stop), "/tmp/tide-zt-tel-%d.stop", (int)getpid());
	pid = secondary_start(&r, "zt_dead", "2", stop);
	CU_ASSERT_FATAL(pid > 0);
	kill(r.pid, SIGKILL);
	CU_ASSERT_EQUAL(tide_run_end(&r), -1); /* reaped: its process is gone */
	free(tide_run_output(&r));
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT(has(out, "\"zt_dead@%d\"", pid));
	free(out);
	snprintf(cmd, sizeof(cmd), "/tide/zctx/info,zt_dead@%d", pid);
	out = telemetry_query(cmd);
	CU_ASSERT(has(out, "\"pid\":%d,\"alive\":0,", pid));
	CU_ASSERT(has(out, "\"submitted\":2,\"completed\":%d,", 2));
	free(out);
	z = zctx_make("zt_after", null_port, 0, 0, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT_PTR_NULL(strstr(out, "zt_dead"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"zt_after\""));
	free(out);
	CU_ASSERT(tide_test_stock_refused(cmd));
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

#ifdef TIDE_FAULT_INJECTION
struct held_query {
	const char *cmd;
	char *reply;
};

static void *
held_query_run(void *arg)
{
	struct held_query *q = arg;

	q->reply = telemetry_query(q->cmd);
	return NULL;
}

static bool
dir_writer_waits(void *arg)
{
	return tide_rwlock_writer_waits(arg);
}

/*
 * The primary's handler is held once it has found a secondary's instance (the directory
 * read-locked): the secondary's free, told to go on then, is seen waiting for the
 * directory, and the reply shows the instance whole; once the handler is done, the free
 * completes and the instance is gone.
 */
static void
test_a_secondarys_free_waits_for_the_handler_reading_its_instance(void)
{
	const struct rte_memzone *mz;
	struct held_query q = { 0 };
	char stop[64], cmd[96], *text;
	struct tide_run r;
	pthread_t t;
	int pid;

	snprintf(stop, sizeof(stop), "/tmp/tide-zt-tel-%d.stop", (int)getpid());
	pid = secondary_start(&r, "zt_race", "1", stop);
	CU_ASSERT_FATAL(pid > 0);
	mz = rte_memzone_lookup("tide_zctx_dir");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	snprintf(cmd, sizeof(cmd), "/tide/zctx/info,zt_race@%d", pid);
	q.cmd = cmd;
	tide_fault_pvt_hold_arm(TIDE_HOLD_ZCTX_DIR_READ);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, held_query_run, &q), 0);
	CU_ASSERT(tide_fault_pvt_hold_wait(TIDE_HOLD_ZCTX_DIR_READ, 5000));
	fclose(fopen(stop, "w"));
	/* Seen waiting for the reader, the free has not freed the instance yet. */
	CU_ASSERT(tide_test_wait(dir_writer_waits, mz->addr, 10000));
	tide_fault_pvt_hold_release(TIDE_HOLD_ZCTX_DIR_READ);
	pthread_join(t, NULL);
	CU_ASSERT(has(q.reply, "{\"name\":\"zt_race\",\"depth\":8,\"ports\":1,\"pid\":%d,",
		pid));
	CU_ASSERT(has(q.reply, "\"submitted\":1,\"completed\":%d,", 1));
	free(q.reply);
	text = tide_run_wait_for(&r, "freed=", 20000);
	CU_ASSERT_EQUAL(tide_run_value(text, "freed"), 0);
	free(text);
	CU_ASSERT(tide_test_stock_refused(cmd));
	unlink(stop);
	CU_ASSERT_EQUAL(tide_run_end(&r), 0);
	free(tide_run_output(&r));
}
#endif

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("zctx_telemetry", zctx_suite_init, zctx_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_telemetry_lists_and_shows_instances);
	CU_ADD_TEST(s, test_the_stock_client_shows_an_instance_and_refuses_bad_requests);
	if (getenv("TIDE_MP_HELPER") == NULL)
		return -1;
	CU_ADD_TEST(s, test_a_secondarys_instance_is_listed_and_shown_until_it_is_freed);
	CU_ADD_TEST(s, test_a_killed_secondarys_instance_is_listed_dead_until_the_next_creation);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_secondarys_free_waits_for_the_handler_reading_its_instance);
#endif
	return 0;
}

int
main(int argc, char **argv)
{
	tide_test_shared_memory = true; /* secondaries attach */
	return tide_test_main(argc, argv, "zctx_telemetry", true, register_tests);
}
