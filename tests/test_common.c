/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* pthread_attr_setaffinity_np */

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "test_common.h"
#include "tide_fault.h"
#include "tide_hugetlbfs.h"

#define TEST_MAX_EAL_ARGS 64

static char **test_filter;
static int test_nb_filter;
static FILE *test_log_stream;
static char *test_log_buf;
static size_t test_log_len;

static bool
test_selected(const char *name)
{
	int i;

	if (test_nb_filter == 0)
		return true;
	for (i = 0; i < test_nb_filter; i++)
		if (strstr(name, test_filter[i]) != NULL)
			return true;
	return false;
}

CU_pSuite
tide_test_suite(const char *name)
{
	return CU_add_suite(name, NULL, NULL);
}

static void
test_apply_filter(void)
{
	CU_pTestRegistry reg = CU_get_registry();
	CU_pSuite s;
	CU_pTest t;

	if (test_nb_filter == 0)
		return;
	for (s = reg->pSuite; s != NULL; s = s->pNext) {
		bool suite_hit = test_selected(s->pName);

		for (t = s->pTest; t != NULL; t = t->pNext)
			CU_set_test_active(t, suite_hit || test_selected(t->pName) ?
				CU_TRUE : CU_FALSE);
	}
}

bool tide_test_shared_memory;
static char test_prefix[64];

const char *
tide_test_file_prefix(void)
{
	return test_prefix;
}

/* Whether this primary keeps its hugepage files while it runs (secondaries attach). */
static bool
test_keeps_huge_files(void)
{
	const char *keep = getenv("TIDE_TEST_HUGE_FILES");

	return tide_test_shared_memory || (keep != NULL && strcmp(keep, "keep") == 0);
}

static int
test_eal_init(int argc, char **argv, const char *exe)
{
	const char *primary = getenv("TIDE_TEST_PRIMARY");
	const char *base = getenv("TIDE_TEST_FILE_PREFIX");
	char *eal[TEST_MAX_EAL_ARGS];
	bool no_huge = false;
	int n = 0, i;

	for (i = 1; i < argc; i++)
		no_huge = no_huge || strcmp(argv[i], "--no-huge") == 0;

	if (primary != NULL)
		snprintf(test_prefix, sizeof(test_prefix), "%s", primary);
	else
		/* TIDE_TEST_FILE_PREFIX: a stem of this run's prefixes, to find them afterwards. */
		snprintf(test_prefix, sizeof(test_prefix), "%s-%s-%d",
			base != NULL && base[0] != '\0' ? base : "tide", exe, (int)getpid());
	eal[n++] = argv[0];
	eal[n++] = "-l";
	eal[n++] = "0-1";
	eal[n++] = "--no-pci";
	eal[n++] = "--file-prefix";
	eal[n++] = test_prefix;
	if (primary != NULL)
		eal[n++] = "--proc-type=secondary";
	else if (!test_keeps_huge_files() && !no_huge) /* EAL refuses the two together */
		eal[n++] = "--huge-unlink"; /* no hugepage files left behind, even after a crash */
	else
		/* Secondaries map the primary's memory at its addresses: keep them clear of where
		 * libraries land (EAL's default base is inside ASan's shadow, so a sanitized
		 * primary would otherwise map it anywhere).
		 */
		eal[n++] = "--base-virtaddr=0x200000000000";
	eal[n++] = "--log-level";
	eal[n++] = "lib.eal:warning";
	for (i = 1; i < argc && n < TEST_MAX_EAL_ARGS - 1; i++)
		eal[n++] = argv[i];
	eal[n] = NULL;
	return rte_eal_init(n, eal);
}

/*
 * A primary that kept its hugepage files (TIDE_TEST_HUGE_FILES=keep) removes them as it
 * ends: they would hold their pages until the next DPDK start. (Mapped, they go away with
 * the process.)
 */
static void
test_unlink_huge_files(void)
{
	if (tide_test_is_secondary() || !test_keeps_huge_files() || test_prefix[0] == '\0')
		return;
	tide_hugetlbfs_each(tide_hugetlbfs_unlink_prefix, test_prefix);
}

static int
test_rm(const char *path, const struct stat *sb __rte_unused, int flag __rte_unused,
	struct FTW *ftw __rte_unused)
{
	remove(path);
	return 0;
}

void
tide_test_rm_runtime(const char *prefix)
{
	const char *own = rte_eal_get_runtime_dir();
	const char *slash = strrchr(own, '/');
	char dir[PATH_MAX];

	if (slash == NULL || prefix[0] == '\0' || strchr(prefix, '/') != NULL)
		return;
	snprintf(dir, sizeof(dir), "%.*s/%s", (int)(slash - own), own, prefix);
	nftw(dir, test_rm, 8, FTW_DEPTH | FTW_PHYS);
}

void
tide_test_eal_cleanup(void)
{
	bool primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	test_unlink_huge_files();
	/* DPDK leaves the runtime directory behind (config, fbarrays, sockets); a primary's
	 * secondaries are gone by now. */
	if (primary && dir[0] != '\0')
		nftw(dir, test_rm, 8, FTW_DEPTH | FTW_PHYS);
}

int
tide_test_main(int argc, char **argv, const char *exe, bool need_eal,
	tide_test_register_t *reg)
{
	unsigned int failures;
	int i, eal_argc = argc;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			test_filter = &argv[i + 1];
			test_nb_filter = argc - i - 1;
			eal_argc = i;
			break;
		}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (need_eal && test_eal_init(eal_argc, argv, exe) < 0) {
		fprintf(stderr, "%s: cannot initialise EAL (hugepages? run scripts/setup.sh)\n",
			exe);
		return 2;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (reg() != 0) {
		CU_cleanup_registry();
		return 2;
	}
	test_apply_filter();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_run_summary()->nAsserts == 0 && CU_get_run_summary()->nTestsRun == 0)
		failures = 1; /* a filter that selects nothing is a mistake */
	CU_cleanup_registry();
	if (need_eal)
		tide_test_eal_cleanup();
	return failures == 0 ? 0 : 1;
}

static long
test_read_kv(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

long
tide_test_hugepages_free(void)
{
	return test_read_kv("/proc/meminfo", "HugePages_Free");
}

long
tide_test_hugetlb_kb(void)
{
	return test_read_kv("/proc/self/status", "HugetlbPages");
}

long
tide_test_hugepages_held(void)
{
	return tide_test_hugetlb_kb() / 2048;
}

void
tide_test_log_begin(void)
{
	free(test_log_buf);
	test_log_buf = NULL;
	test_log_len = 0;
	test_log_stream = open_memstream(&test_log_buf, &test_log_len);
	if (test_log_stream != NULL)
		rte_openlog_stream(test_log_stream);
}

char *
tide_test_log_end(void)
{
	char *out;

	rte_openlog_stream(NULL);
	if (test_log_stream == NULL)
		return strdup("");
	fclose(test_log_stream);
	test_log_stream = NULL;
	out = test_log_buf != NULL ? test_log_buf : strdup("");
	test_log_buf = NULL;
	return out;
}

bool
tide_test_log_refused(const char *fn, int err, const char *what)
{
	int got = rte_errno;
	char *log = tide_test_log_end();
	char want[128];
	bool ok;

	snprintf(want, sizeof(want), "%s(): ", fn);
	ok = got == err && strstr(log, want) != NULL;
	if (!ok)
		printf("\n    %s: rte_errno %d (want %d), no line from %s? log: %s ", what, got,
			err, fn, log);
	free(log);
	return ok;
}

void
tide_test_log_debug(bool on)
{
	rte_log_set_level_pattern("tide.*", on ? RTE_LOG_DEBUG : RTE_LOG_NOTICE);
}

uint64_t
tide_test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
tide_test_sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

bool
tide_test_zeroed(const void *p, size_t len)
{
	const uint8_t *b = p;

	return len == 0 || (b[0] == 0 && memcmp(b, b + 1, len - 1) == 0);
}

int
tide_test_worker_lcore(void)
{
	unsigned int id = rte_get_next_lcore(-1, 1, 0);

	return id < RTE_MAX_LCORE ? (int)id : -1;
}

bool
tide_test_wait(bool (*cond)(void *arg), void *arg, unsigned int timeout_ms)
{
	unsigned int i;

	for (i = 0; i < timeout_ms; i++) {
		if (cond(arg))
			return true;
		tide_test_sleep_us(1000);
	}
	return cond(arg);
}

char
tide_test_task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "r");
	if (f == NULL)
		return '?';
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	/* "tid (comm) S ...": the comm may hold spaces and parentheses; the last ')' ends it. */
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] != '\0' ? p[2] : '?';
}

char
tide_test_thread_state(pid_t tid)
{
	return tide_test_task_state(getpid(), tid);
}

bool
tide_test_tid_asleep(const pid_t *tid)
{
	pid_t t = __atomic_load_n(tid, __ATOMIC_ACQUIRE);

	return t != 0 && tide_test_thread_state(t) == 'S';
}

bool
tide_test_is_secondary(void)
{
	return getenv("TIDE_TEST_PRIMARY") != NULL;
}

int
tide_test_run_secondary(const char *filter)
{
	extern char **environ;
	char exe[4096], var[128], **env;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int status, n = 0, ret = -1;
	pid_t pid;

	if (len <= 0)
		return -1;
	exe[len] = '\0';
	/* Its environment, made before fork(): the child only calls execve(). */
	while (environ[n] != NULL)
		n++;
	env = calloc((size_t)n + 2, sizeof(*env));
	if (env == NULL)
		return -1;
	memcpy(env, environ, (size_t)n * sizeof(*env));
	snprintf(var, sizeof(var), "TIDE_TEST_PRIMARY=%s", test_prefix);
	env[n] = var;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char *const args[] = { exe, "--", (char *)(uintptr_t)filter, NULL };

		execve(exe, args, env);
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		ret = WEXITSTATUS(status);
	free(env);
	return ret;
}

int
tide_test_thread_anywhere(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t all;
	int ret;

	CPU_ZERO(&all);
	for (long c = 0; c < sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE; c++)
		CPU_SET(c, &all);
	ret = pthread_attr_init(&attr);
	if (ret != 0)
		return ret;
	ret = pthread_attr_setaffinity_np(&attr, sizeof(all), &all);
	if (ret == 0)
		ret = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return ret;
}

const char *
tide_test_use_profiles(const char *text)
{
	static char path[64];
	ssize_t len;
	int fd;

	if (path[0] != '\0') {
		unlink(path);
		path[0] = '\0';
	}
	if (text == NULL) {
		unsetenv("TIDE_POOL_PROFILES");
		return NULL;
	}
	strcpy(path, "/tmp/tide-profiles-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	len = (ssize_t)strlen(text);
	if (write(fd, text, (size_t)len) != len) {
		close(fd);
		return NULL;
	}
	close(fd);
	setenv("TIDE_POOL_PROFILES", path, 1);
	return path;
}

#ifdef TIDE_FAULT_INJECTION
static uint64_t test_fake_ns;

static uint64_t
test_fake_clock(void)
{
	return __atomic_load_n(&test_fake_ns, __ATOMIC_ACQUIRE);
}

void
tide_test_clock_fake(void)
{
	__atomic_store_n(&test_fake_ns, tide_test_now_ns(), __ATOMIC_RELEASE);
	tide_fault_pvt_clock_set(test_fake_clock);
}

void
tide_test_clock_advance(uint64_t ns)
{
	__atomic_fetch_add(&test_fake_ns, ns, __ATOMIC_ACQ_REL);
}

void
tide_test_clock_real(void)
{
	tide_fault_pvt_clock_set(NULL);
}

void
tide_test_clock_pass(uint64_t ns)
{
	if (tide_fault_pvt_clock() == test_fake_clock)
		tide_test_clock_advance(ns);
	else
		tide_test_sleep_us(ns / 1000);
}
#else
void
tide_test_clock_fake(void)
{
}

void
tide_test_clock_advance(uint64_t ns __rte_unused)
{
}

void
tide_test_clock_real(void)
{
}

void
tide_test_clock_pass(uint64_t ns)
{
	tide_test_sleep_us(ns / 1000);
}
#endif

/* Where a shared library goes in dir: under its soname (libx.so.1.2.3 -> libx.so.1). */
static void
test_soname_path(const char *from, const char *dir, char *to, size_t len)
{
	const char *base = strrchr(from, '/');
	char *so, *dot;

	snprintf(to, len, "%s/%s", dir, base != NULL ? base + 1 : from);
	so = strstr(to + strlen(dir), ".so.");
	if (so != NULL && (dot = strchr(so + 4, '.')) != NULL)
		*dot = '\0';
}

static int
test_copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[65536];
	size_t n;

	if (in == NULL || out == NULL) {
		if (in != NULL)
			fclose(in);
		if (out != NULL)
			fclose(out);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return fclose(out);
}

/* Copy library @p lib into @p dir under its soname, whose path goes to @p to; 0 or -1. */
static int
test_stage_lib(const char *lib, const char *dir, char *to, size_t len)
{
	test_soname_path(lib, dir, to, len);
	return test_copy_file(lib, to);
}

#define TEST_STAGE_PREFIX "tide-plugin-"

/* Remove the staging directories of tests that died before they could (a crash, an ASan
 * abort, a timeout): each is named after its test's process id.
 */
static void
test_unstage_dead(void)
{
	DIR *d = opendir("/run");
	struct dirent *e;
	char path[PATH_MAX];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(e->d_name, TEST_STAGE_PREFIX, strlen(TEST_STAGE_PREFIX)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(TEST_STAGE_PREFIX), &end, 10);
		if (end == e->d_name + strlen(TEST_STAGE_PREFIX) || *end != '-' || pid <= 0 ||
				kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "/run/%s", e->d_name);
		tide_test_unstage_plugin(path);
	}
	closedir(d);
}

const char *
tide_test_stage_plugin(char *dir, size_t len)
{
	static char staged[PATH_MAX];
	const char *plugin = getenv("TIDE_PLUGIN"), *common = getenv("TIDE_PLUGIN_DEPS");
	char dep[PATH_MAX];

	if (plugin == NULL)
		return NULL;
	test_unstage_dead();
	snprintf(dir, len, "/run/" TEST_STAGE_PREFIX "%d-XXXXXX", (int)getpid());
	if (mkdtemp(dir) == NULL)
		return NULL;
	if (test_stage_lib(plugin, dir, staged, sizeof(staged)) != 0 ||
			(common != NULL && test_stage_lib(common, dir, dep, sizeof(dep)) != 0))
		return NULL;
	return staged;
}

const char *
tide_test_stage_also(const char *dir, const char *var)
{
	static char staged[PATH_MAX];
	const char *lib = getenv(var);

	return lib != NULL && test_stage_lib(lib, dir, staged, sizeof(staged)) == 0 ?
		staged : NULL;
}

void
tide_test_unstage_plugin(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

pid_t
tide_test_spawn(char *const argv[], const char *out, const char *libdir)
{
	pid_t pid = fork();
	int fd;

	if (pid != 0)
		return pid;
	/* A test that dies (an ASan abort, a timeout) takes its helpers with it: none is left
	 * waiting for a stop file or spinning on an exchange nobody reads.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	if (getenv("TIDE_CHILD_PRELOAD") != NULL && strstr(argv[0], "/usr/bin/") == argv[0]) {
		/* A stock program loading our sanitized plugin needs the runtime first. */
		setenv("LD_PRELOAD", getenv("TIDE_CHILD_PRELOAD"), 1);
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	}
	if (libdir != NULL)
		setenv("LD_LIBRARY_PATH", libdir, 1);
	execv(argv[0], argv);
	_exit(127);
}

long long
tide_test_number_after(const char *text, const char *fmt, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), fmt, key);
	p = strstr(text, pat);
	return p == NULL ? -1 : strtoll(p + strlen(pat), NULL, 10);
}

char *
tide_test_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;

	if (f == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	if (text != NULL && fread(text, 1, (size_t)len, f) != (size_t)len)
		text[0] = '\0';
	fclose(f);
	return text != NULL ? text : strdup("");
}

char *
tide_test_stock_telemetry(const char *cmd)
{
	return tide_test_stock_telemetry_instance(cmd, 0);
}

char *
tide_test_stock_telemetry_instance(const char *cmd, unsigned int instance)
{
	const char *dir = rte_eal_get_runtime_dir(), *slash = strrchr(dir, '/');
	char cmdline[512], buf[16384] = "";
	size_t n = 0;
	FILE *p;

	/* The runtime directory is named after the file prefix, also in the donor tests' own
	 * processes. A handler that never answers must not hang the test: 20 s at most.
	 */
	snprintf(cmdline, sizeof(cmdline),
		"printf '%%s\\n' '%s' | timeout 20 dpdk-telemetry.py -f %s -i %u 2>&1", cmd,
		slash != NULL ? slash + 1 : dir, instance);
	p = popen(cmdline, "r");
	if (p != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, p);
		pclose(p);
	}
	buf[n] = '\0';
	return strdup(buf);
}

bool
tide_test_stock_refused(const char *cmd)
{
	char want[256], *out = tide_test_stock_telemetry(cmd);
	bool ok;

	snprintf(want, sizeof(want), "{\"%.*s\": null}", (int)strcspn(cmd, ","), cmd);
	ok = out != NULL && strstr(out, want) != NULL;
	if (!ok)
		printf("\n    %s: want %s, the stock client says: %s ", cmd, want, out);
	free(out);
	return ok;
}
