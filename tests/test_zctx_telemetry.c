/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The zero-copy TX library's telemetry (lib/zctx/zctx_telemetry.c) under EAL, through
 * this process's telemetry socket and through the stock dpdk-telemetry.py: instances are
 * listed and their counters shown, bad requests refused. A real secondary process
 * (tests/mp_helper) creates an instance and sends on this process's net_null port: this
 * process, the primary, lists it as <name>@<pid> and shows its counters until it is freed;
 * one whose process was killed is listed as dead until the next creation drops it; its
 * free waits for a handler reading it. The directory full (128 instances): a creation is
 * refused with ENOSPC, what it holds stays whole, and a dead process's entry makes room.
 */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
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

/* Telemetry names another process's instance <name>@<pid>: a name with '@' is refused. */
static void
test_a_name_holding_an_at_sign_is_refused(void)
{
	struct tide_zctx *z;
	char *log;

	tide_test_log_begin();
	rte_errno = 0;
	z = zctx_make("zt_a@7", null_port, 0, 0, 8);
	log = tide_test_log_end();
	CU_ASSERT_PTR_NULL(z);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "zt_a@7: a name may not hold '@'"));
	free(log);
	tide_zctx_free(z);
	z = zctx_make("@", null_port, 0, 0, 8);
	CU_ASSERT_PTR_NULL(z);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	tide_zctx_free(z);
}

/* Entries of the directory of instances: tide_zctx_create() documents 128 live ones. */
#define DIR_ENTRIES 128

/* An instance on the net_null port taking its header mbufs from @p mp: no elastic pool of
 * its own. Each still has its agent thread and its pool of shells (TIDE_ZCTX_SHELLS mbufs,
 * about 8 MB of hugepages): a full directory holds about 1 GB, made in under a second.
 */
static struct tide_zctx *
dir_make(const char *name, struct rte_mempool *mp)
{
	return zctx_make_on(name, null_port, 0, 8, mp);
}

/* A creation of @p name is refused with ENOSPC, logged through tide.zctx as the directory
 * being full, and leaves no memzone behind.
 */
static void
expect_directory_full(const char *name, struct rte_mempool *mp)
{
	unsigned int mz = memzones();
	struct tide_zctx *z;
	char want[96], *log;

	snprintf(want, sizeof(want), "tide_zctx: tide_zctx_pvt_dir_add(): %s: the directory "
		"of instances is full", name);
	tide_test_log_begin();
	rte_errno = 0;
	z = dir_make(name, mp);
	log = tide_test_log_end();
	if (z != NULL || rte_errno != ENOSPC || strstr(log, want) == NULL)
		printf("\n    %s: %p, rte_errno %d, log: %s ", name, (void *)z, rte_errno, log);
	CU_ASSERT_PTR_NULL(z);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, want));
	CU_ASSERT_EQUAL(memzones(), mz);
	free(log);
	tide_zctx_free(z);
	/* The line is the library's log type's: with tide.zctx at CRIT, it is gone. */
	rte_log_set_level_pattern("tide.zctx", RTE_LOG_CRIT);
	tide_test_log_begin();
	rte_errno = 0;
	z = dir_make(name, mp);
	log = tide_test_log_end();
	rte_log_set_level_pattern("tide.zctx", RTE_LOG_NOTICE);
	CU_ASSERT_PTR_NULL(z);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	CU_ASSERT_PTR_NULL(strstr(log, "is full"));
	free(log);
	tide_zctx_free(z);
}

/* The pool the instances of the directory tests send headers from. */
static struct rte_mempool *
dir_pool(void)
{
	return rte_pktmbuf_pool_create("zt_full", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
}

/* Create instances zt_full_<i> in @p z[i], up to @p n of them; how many were created. */
static unsigned int
dir_fill(struct tide_zctx **z, char (*name)[RTE_MEMZONE_NAMESIZE], unsigned int n,
	struct rte_mempool *mp)
{
	for (unsigned int i = 0; i < n; i++) {
		snprintf(name[i], RTE_MEMZONE_NAMESIZE, "zt_full_%u", i);
		z[i] = dir_make(name[i], mp);
		if (z[i] == NULL) {
			printf("\n    instance %u: rte_errno %d ", i, rte_errno);
			return i;
		}
	}
	return n;
}

/* Free the instances of a directory test (@p z, DIR_ENTRIES of them, NULL ones too) and
 * their pool: the list is empty again.
 */
static void
dir_free_all(struct tide_zctx **z, struct rte_mempool *mp)
{
	char *out;

	for (unsigned int i = 0; i < DIR_ENTRIES; i++)
		CU_ASSERT_EQUAL(tide_zctx_free(z[i]), 0);
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"/tide/zctx/list\":[]}"));
	free(out);
	rte_mempool_free(mp);
}

/* Whether list reply @p out names @p name. */
static bool
listed(const char *out, const char *name)
{
	char want[RTE_MEMZONE_NAMESIZE + 8];

	snprintf(want, sizeof(want), "\"%.*s\"", RTE_MEMZONE_NAMESIZE, name);
	return strstr(out, want) != NULL;
}

/* Instance @p name is listed, shown whole, and sends (one zero-copy send completes). */
static void
expect_instance_whole(struct tide_zctx *z, const char *name, uint64_t cookie)
{
	static uint8_t data[2000];
	struct tide_zctx_cpl cpl = { 0 };
	char cmd[64], want[64], *out;
	bool shown;

	snprintf(cmd, sizeof(cmd), "/tide/zctx/info,%s", name);
	snprintf(want, sizeof(want), "{\"name\":\"%s\",\"depth\":8,\"ports\":1,", name);
	out = telemetry_query(cmd);
	shown = strstr(out, want) != NULL;
	if (!shown)
		printf("\n    want %s in %s ", want, out);
	CU_ASSERT(shown);
	free(out);
	CU_ASSERT_EQUAL(send_one(z, null_port, cookie, data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.cookie, cookie);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(cpl.bytes, sizeof(data));
}

/*
 * The directory of every process's instances holds 128: the next creation is refused with
 * ENOSPC and a line saying the directory is full, and leaves nothing behind; the 128 stay
 * listed, shown and sending. Once one is freed a creation takes its entry, and the next is
 * refused again. Everything is freed: the list is empty again.
 */
static void
test_a_full_directory_refuses_a_creation_and_keeps_every_instance(void)
{
	static char name[DIR_ENTRIES][RTE_MEMZONE_NAMESIZE];
	struct tide_zctx *z[DIR_ENTRIES] = { NULL };
	struct rte_mempool *mp;
	unsigned int n;
	char *out;

	mp = dir_pool();
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	n = dir_fill(z, name, DIR_ENTRIES, mp);
	CU_ASSERT_EQUAL(n, DIR_ENTRIES);
	if (n == DIR_ENTRIES) {
		expect_directory_full("zt_full_more", mp);
		/* Every one listed, no more; each shown whole and sending. */
		out = telemetry_query("/tide/zctx/list");
		for (unsigned int i = 0; i < DIR_ENTRIES; i++)
			CU_ASSERT(listed(out, name[i]));
		CU_ASSERT_PTR_NULL(strstr(out, "zt_full_more"));
		free(out);
		for (unsigned int i = 0; i < DIR_ENTRIES; i++)
			expect_instance_whole(z[i], name[i], i);
		/* One freed: its entry is taken by the next creation, the one after refused. */
		CU_ASSERT_EQUAL(tide_zctx_free(z[DIR_ENTRIES / 2]), 0);
		snprintf(name[DIR_ENTRIES / 2], sizeof(name[0]), "zt_full_again");
		z[DIR_ENTRIES / 2] = dir_make(name[DIR_ENTRIES / 2], mp);
		CU_ASSERT_PTR_NOT_NULL(z[DIR_ENTRIES / 2]);
		if (z[DIR_ENTRIES / 2] != NULL)
			expect_instance_whole(z[DIR_ENTRIES / 2], name[DIR_ENTRIES / 2], 1000);
		expect_directory_full("zt_full_more", mp);
		expect_instance_whole(z[0], name[0], 1001);
	}
	dir_free_all(z, mp);
}

#define SEC_LCORES "--lcores=2@0,3@1"
/* A second secondary's, alive at the same time: lcores of its own. */
#define SEC_LCORES_2 "--lcores=4@0,5@1"

/*
 * Start a secondary on @p lcores that creates instance @p name on the net_null port, sends
 * @p n times and waits for @p stop; its process id, or -1 (the secondary is then ended).
 */
static int
secondary_start_on(struct tide_run *r, const char *lcores, const char *name, const char *n,
	const char *stop)
{
	char *text;
	int pid;

	unlink(stop);
	tide_run_helper(r, tide_test_file_prefix(), lcores, true,
		(char *[]){ "zsend", "net_null_zt", (char *)name, (char *)n, (char *)stop, NULL });
	text = tide_run_wait_for(r, "ready=1", 120000);
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

static int
secondary_start(struct tide_run *r, const char *name, const char *n, const char *stop)
{
	return secondary_start_on(r, SEC_LCORES, name, n, stop);
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

/* An entry of the directory of instances as zctx_dir.c lays it out (struct zc_dir_entry),
 * for a test that makes one of this process's entries look another process's. */
struct dir_entry_view {
	const struct tide_zctx *z;
	uint32_t pid;
	uint32_t ns;
	uint64_t start;
	char name[32];
};

/* The entry of instance @p z in the directory (found by its address), or NULL. */
static struct dir_entry_view *
dir_entry_of(const struct tide_zctx *z)
{
	const struct rte_memzone *mz = rte_memzone_lookup("tide_zctx_dir");

	for (size_t off = 0; mz != NULL && off + sizeof(struct dir_entry_view) <= mz->len;
			off += sizeof(void *)) {
		struct dir_entry_view *e = RTE_PTR_ADD(mz->addr, off);

		if (e->z == z && e->pid == (uint32_t)getpid())
			return e;
	}
	return NULL;
}

/*
 * A process of another pid namespace (a container sharing the hugepages) may have this
 * process's id, and an instance of the name of one of this process's: the list shows
 * this process's by name, the other as <name>@<pid>, and info answers each for that very
 * entry (the other's without this process's pin cache).
 */
static void
test_another_namespaces_instance_of_this_pid_is_shown_as_listed(void)
{
	struct tide_zctx *mine = zctx_make("zt_ns", null_port, 0, 0, 8);
	struct tide_zctx *other = zctx_make("zt_ns_other", null_port, 0, 0, 16);
	int pid = (int)getpid();
	struct dir_entry_view *e = dir_entry_of(other), saved;
	char cmd[96], *out;

	CU_ASSERT_PTR_NOT_NULL(mine);
	CU_ASSERT_PTR_NOT_NULL(other);
	CU_ASSERT_PTR_NOT_NULL(e);
	if (mine != NULL && e != NULL) {
		/* As another namespace's process of this one's id would have entered it. */
		saved = *e;
		snprintf(e->name, sizeof(e->name), "zt_ns");
		e->ns = saved.ns + 1;
		out = telemetry_query("/tide/zctx/list");
		CU_ASSERT(has(out, "\"zt_ns@%d\"", pid));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"zt_ns\""));
		free(out);
		snprintf(cmd, sizeof(cmd), "/tide/zctx/info,zt_ns@%d", pid);
		out = telemetry_query(cmd);
		CU_ASSERT(has(out, "{\"name\":\"zt_ns_other\",\"depth\":%d,", 16));
		CU_ASSERT(has(out, "\"pid\":%d,\"alive\":1,", pid));
		CU_ASSERT_PTR_NULL(strstr(out, "cache_spans"));
		free(out);
		out = telemetry_query("/tide/zctx/info,zt_ns");
		CU_ASSERT(has(out, "{\"name\":\"zt_ns\",\"depth\":%d,", 8));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "cache_spans"));
		free(out);
		*e = saved;
	}
	CU_ASSERT_EQUAL(tide_zctx_free(other), 0);
	CU_ASSERT_EQUAL(tide_zctx_free(mine), 0);
}

/* Have a secondary started by secondary_start_on() free its instance (it then waits for
 * its stop file to go: secondary_end()). */
static void
secondary_free(struct tide_run *r, const char *stop)
{
	FILE *f = fopen(stop, "w");
	char *text;

	CU_ASSERT_PTR_NOT_NULL(f);
	if (f != NULL)
		fclose(f);
	text = tide_run_wait_for(r, "freed=", 20000);
	CU_ASSERT_EQUAL(tide_run_value(text, "freed"), 0);
	free(text);
}

/* End a secondary that freed its instance: exit status 0; its output (caller frees). */
static char *
secondary_end(struct tide_run *r, const char *stop)
{
	unlink(stop);
	CU_ASSERT_EQUAL(tide_run_end(r), 0);
	return tide_run_output(r);
}

/*
 * A secondary's instance, with its counters, is listed and shown by the primary as
 * <name>@<pid>, through its socket and the stock client, without the pin cache (the
 * owner's); bad names are refused; once the secondary freed it, it is gone.
 */
static void
test_a_secondarys_instance_is_listed_and_shown_until_it_is_freed(void)
{
	char stop[64], cmd[96], *out;
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
	secondary_free(&r, stop);
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT_PTR_NULL(strstr(out, "zt_sec"));
	free(out);
	snprintf(cmd, sizeof(cmd), "/tide/zctx/info,zt_sec@%d", pid);
	CU_ASSERT(tide_test_stock_refused(cmd));
	free(secondary_end(&r, stop));
}

/*
 * A full directory whose last entry is a secondary's instance: a creation is refused while
 * the secondary lives; once it is killed, the next creation drops its instance (its
 * process is gone) and takes the entry.
 */
static void
test_a_full_directory_makes_room_by_dropping_a_dead_processs_instance(void)
{
	static char name[DIR_ENTRIES][RTE_MEMZONE_NAMESIZE];
	struct tide_zctx *z[DIR_ENTRIES] = { NULL };
	struct rte_mempool *mp;
	char stop[64], *out;
	struct tide_run r;
	int pid = -1;
	unsigned int n;

	mp = dir_pool();
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	n = dir_fill(z, name, DIR_ENTRIES - 1, mp);
	CU_ASSERT_EQUAL(n, DIR_ENTRIES - 1);
	snprintf(stop, sizeof(stop), "/tmp/tide-zt-tel-%d.stop", (int)getpid());
	if (n == DIR_ENTRIES - 1)
		pid = secondary_start(&r, "zt_full_sec", "1", stop);
	CU_ASSERT(pid > 0);
	if (pid > 0) {
		expect_directory_full("zt_full_more", mp);
		kill(r.pid, SIGKILL);
		CU_ASSERT_EQUAL(tide_run_end(&r), -1); /* reaped: its process is gone */
		free(tide_run_output(&r));
		unlink(stop);
		out = telemetry_query("/tide/zctx/list");
		CU_ASSERT(has(out, "\"zt_full_sec@%d\"", pid));
		free(out);
		snprintf(name[n], sizeof(name[n]), "zt_full_more");
		z[n] = dir_make(name[n], mp);
		CU_ASSERT_PTR_NOT_NULL(z[n]);
		out = telemetry_query("/tide/zctx/list");
		CU_ASSERT_PTR_NULL(strstr(out, "zt_full_sec"));
		CU_ASSERT(listed(out, "zt_full_more"));
		free(out);
		if (z[n] != NULL)
			expect_instance_whole(z[n], name[n], 1);
		expect_directory_full("zt_full_last", mp);
	}
	dir_free_all(z, mp);
}

static int
count_external(const struct rte_memseg_list *msl, void *arg)
{
	*(unsigned int *)arg += msl->external != 0;
	return 0;
}

/* Memseg lists of external memory in DPDK's shared configuration: every process's. */
static unsigned int
external_lists(void)
{
	unsigned int n = 0;

	rte_memseg_list_walk(count_external, &n);
	return n;
}

/*
 * A secondary killed (SIGKILL) holding an instance: the primary lists it, as dead
 * ("alive":0) with the counters it had, until the next creation (a writer of the
 * directory) drops it. The spans its pin cache registered as external memory (its
 * zero-copy sends) stay registered in DPDK's shared configuration until then too: that
 * creation unregisters them, and only them: those of a secondary alive meanwhile stay
 * registered, and it unregisters them itself, with no error, before it ends.
 */
static void
test_a_killed_secondarys_instance_is_listed_dead_until_the_next_creation(void)
{
	char stop[64], stop_live[64], cmd[96], want[64], *out, *text;
	unsigned int lists = external_lists(), live;
	struct tide_zctx *z = NULL;
	struct tide_run r, rl;
	int pid, live_pid;

	snprintf(stop_live, sizeof(stop_live), "/tmp/tide-zt-live-%d.stop", (int)getpid());
	live_pid = secondary_start_on(&rl, SEC_LCORES_2, "zt_live", "2", stop_live);
	CU_ASSERT_FATAL(live_pid > 0); /* (one that failed is ended already) */
	live = external_lists();
	CU_ASSERT(live > lists); /* the live one's spans */
	snprintf(stop, sizeof(stop), "/tmp/tide-zt-tel-%d.stop", (int)getpid());
	snprintf(cmd, sizeof(cmd), "/tide/zctx/info,zt_dead@0");
	pid = secondary_start(&r, "zt_dead", "2", stop);
	CU_ASSERT(pid > 0);
	if (pid > 0) {
		kill(r.pid, SIGKILL);
		CU_ASSERT_EQUAL(tide_run_end(&r), -1); /* reaped: its process is gone */
		free(tide_run_output(&r));
		CU_ASSERT(external_lists() > live); /* its spans: still registered */
		out = telemetry_query("/tide/zctx/list");
		CU_ASSERT(has(out, "\"zt_dead@%d\"", pid));
		free(out);
		snprintf(cmd, sizeof(cmd), "/tide/zctx/info,zt_dead@%d", pid);
		out = telemetry_query(cmd);
		CU_ASSERT(has(out, "\"pid\":%d,\"alive\":0,", pid));
		CU_ASSERT(has(out, "\"submitted\":2,\"completed\":%d,", 2));
		free(out);
		tide_test_log_begin();
		z = zctx_make("zt_after", null_port, 0, 0, 8);
		text = tide_test_log_end();
		CU_ASSERT_PTR_NOT_NULL(z);
		CU_ASSERT_EQUAL(external_lists(), live);
		/* Said of the dead one's spans, of no span of the live one. */
		snprintf(want, sizeof(want), "of process %d, which is gone, is unregistered", pid);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
		if (strstr(text, want) == NULL)
			printf("\n    want \"%s\" in the log: %s ", want, text);
		snprintf(want, sizeof(want), "of process %d,", live_pid);
		CU_ASSERT_PTR_NULL(strstr(text, want));
		free(text);
	}
	/* The live one frees its instance and ends, its spans its own to unregister. */
	secondary_free(&rl, stop_live);
	text = secondary_end(&rl, stop_live);
	CU_ASSERT_PTR_NULL(strstr(text, "unregister"));
	free(text);
	CU_ASSERT_EQUAL(external_lists(), lists);
	if (z == NULL)
		return;
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT_PTR_NULL(strstr(out, "zt_dead"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"zt_after\""));
	free(out);
	CU_ASSERT(tide_test_stock_refused(cmd));
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

/*
 * Without ASLR two processes map their own memory at the same addresses. The memseg list
 * that registers this process's span there is in the configuration every process shares:
 * a secondary's own memory at those addresses must not be taken for DPDK memory (it would
 * go unpinned, and the agent would read IO addresses from a memseg array the secondary
 * never attached). Its registration is refused with -EFAULT, as README's Limits say.
 */
static void
test_a_secondarys_own_memory_at_a_span_of_the_primary_is_refused(void)
{
	void *const at = (void *)(uintptr_t)0x320000000000ull;
	const size_t len = 64 << 10;
	void *va = mmap(at, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	struct tide_run r;
	char *text;

	CU_ASSERT_PTR_EQUAL_FATAL(va, at);
	memset(va, 1, len);
	CU_ASSERT_EQUAL_FATAL(tide_zctx_mem_register(va, len), 0);
	tide_run_helper(&r, tide_test_file_prefix(), SEC_LCORES, true,
		(char *[]){ "zreg", "0x320000000000", "65536", NULL });
	CU_ASSERT_EQUAL(tide_run_end(&r), 0);
	text = tide_run_output(&r);
	CU_ASSERT_EQUAL(tide_run_value(text, "zreg"), -EFAULT);
	CU_ASSERT_EQUAL(tide_run_value(text, "dpdk_mem"), 0);
	if (tide_run_value(text, "zreg") != -EFAULT)
		printf("\n    the secondary said: %s ", text);
	free(text);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(va, len), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(va, len), 0);
	munmap(va, len);
}

/*
 * A secondary killed with a span of its own registered: its memseg list stays in the shared
 * configuration. Where this process then maps its own memory at those addresses, that list
 * is not taken for DPDK memory (unpinned, its IO addresses the dead one's): it is
 * unregistered, and this process registers a span of its own there.
 */
static void
test_a_dead_secondarys_span_gives_way_to_this_processs_memory(void)
{
	void *const at = (void *)(uintptr_t)0x330000000000ull;
	const size_t len = 64 << 10;
	struct tide_zctx_cache_stats before, after;
	unsigned int lists = external_lists();
	struct tide_run r;
	char *text;
	void *va;

	tide_run_helper(&r, tide_test_file_prefix(), SEC_LCORES, true,
		(char *[]){ "zreg", "0x330000000000", "65536", "hold", NULL });
	text = tide_run_wait_for(&r, "ready=1", 120000);
	CU_ASSERT_EQUAL(tide_run_value(text, "zreg"), 0);
	free(text);
	CU_ASSERT_EQUAL(external_lists(), lists + 1);
	kill(r.pid, SIGKILL);
	CU_ASSERT_EQUAL(tide_run_end(&r), -1);
	free(tide_run_output(&r)); /* and its file goes */
	va = mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		MAP_FIXED_NOREPLACE, -1, 0);
	CU_ASSERT_PTR_EQUAL_FATAL(va, at);
	memset(va, 1, len);
	CU_ASSERT_EQUAL(tide_zctx_cache_stats_get(&before), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_register(va, len), 0);
	CU_ASSERT_EQUAL(tide_zctx_cache_stats_get(&after), 0);
	/* A span of its own, its pages pinned; not DPDK memory. */
	CU_ASSERT_EQUAL(after.dpdk_mem, before.dpdk_mem);
	CU_ASSERT_EQUAL(after.misses, before.misses + 1);
	CU_ASSERT(after.pinned_bytes >= before.pinned_bytes + len);
	CU_ASSERT_EQUAL(external_lists(), lists + 1);
	CU_ASSERT_EQUAL(tide_zctx_mem_unregister(va, len), 0);
	CU_ASSERT_EQUAL(tide_zctx_mem_invalidate(va, len), 0);
	CU_ASSERT_EQUAL(external_lists(), lists);
	munmap(va, len);
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
	CU_ADD_TEST(s, test_a_name_holding_an_at_sign_is_refused);
	CU_ADD_TEST(s, test_another_namespaces_instance_of_this_pid_is_shown_as_listed);
	CU_ADD_TEST(s, test_a_full_directory_refuses_a_creation_and_keeps_every_instance);
	if (getenv("TIDE_MP_HELPER") == NULL)
		return -1;
	CU_ADD_TEST(s, test_a_secondarys_instance_is_listed_and_shown_until_it_is_freed);
	CU_ADD_TEST(s, test_a_full_directory_makes_room_by_dropping_a_dead_processs_instance);
	CU_ADD_TEST(s, test_a_killed_secondarys_instance_is_listed_dead_until_the_next_creation);
	CU_ADD_TEST(s, test_a_secondarys_own_memory_at_a_span_of_the_primary_is_refused);
	CU_ADD_TEST(s, test_a_dead_secondarys_span_gives_way_to_this_processs_memory);
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
