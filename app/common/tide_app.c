/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* nftw(), sched_getaffinity() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "tide_app.h"
#include "tide_hugetlbfs.h"

/* Room for the default EAL arguments (the command line's are all kept, however many). */
#define APP_DEFAULT_EAL_ARGS 32

static volatile sig_atomic_t app_quit;
static unsigned int app_signal_count; /* SIGINT and SIGTERM; atomic: no lock in a handler */
static const char *app_prog = "tidepool";
static int app_argc;        /* the whole command line, as main() got it */
static char **app_argv;
static int app_sep = -1;    /* index of "--" in it, or -1 */
static char **app_eal_argv; /* what EAL was given; kept until tide_app_eal_cleanup() */
static char *app_defaults;

static void
app_free_args(void)
{
	free(app_eal_argv);
	free(app_defaults);
	app_eal_argv = NULL;
	app_defaults = NULL;
}

static int
app_split(char *s, char **out, int max)
{
	int n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(s, " ", &save); tok != NULL && n < max;
			tok = strtok_r(NULL, " ", &save))
		out[n++] = tok;
	return n;
}

int
tide_app_args(int argc, char **argv, const char *prog, int *prog_argc, char ***prog_argv)
{
	app_prog = prog;
	app_argc = argc;
	app_argv = argv;
	app_sep = -1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			app_sep = i;
			break;
		}
	/* The program's arguments: argv[0] then what follows "--" (or everything). */
	if (app_sep < 0) {
		*prog_argc = argc;
		*prog_argv = argv;
		return 0;
	}
	argv[app_sep] = argv[0];
	*prog_argc = argc - app_sep;
	*prog_argv = &argv[app_sep];
	return 0;
}

const char *
tide_app_prog(void)
{
	return app_prog;
}

/* The pid holding the primary's lock on a runtime directory's config file, or 0. */
static pid_t
app_prefix_holder(const char *dir)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX];
	int fd;

	if (dir == NULL || dir[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/config", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	if (fcntl(fd, F_GETLK, &lk) != 0 || lk.l_type == F_UNLCK)
		lk.l_pid = 0;
	close(fd);
	return lk.l_pid;
}

/* Say why rte_eal_init() failed; EAL leaves rte_errno at 0 on some paths. */
static void
app_eal_explain(int err)
{
	const char *dir = rte_eal_get_runtime_dir();
	const char *prefix = dir != NULL && strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 :
		"?";
	pid_t holder = app_prefix_holder(dir);

	/* A secondary shares its primary's prefix: that is not why it failed. */
	if (holder > 0 && holder != getpid() && rte_eal_process_type() != RTE_PROC_SECONDARY) {
		fprintf(stderr, "%s: cannot initialise EAL: file prefix '%s' is in use by process "
			"%d (a primary process of that prefix is running); give this run a "
			"--file-prefix of its own\n", app_prog, prefix, (int)holder);
		return;
	}
	switch (err) {
	case 0:
		fprintf(stderr, "%s: cannot initialise EAL (the EAL messages above say why)\n",
			app_prog);
		break;
	case ENOMEM:
		fprintf(stderr, "%s: cannot initialise EAL: %s (hugepages reserved? run "
			"scripts/setup.sh)\n", app_prog, rte_strerror(err));
		break;
	case EINVAL:
		fprintf(stderr, "%s: cannot initialise EAL: bad EAL arguments (EAL arguments "
			"go first, then --, then the program's)\n", app_prog);
		break;
	case EACCES:
		fprintf(stderr, "%s: cannot initialise EAL: no access to hugepages (run as "
			"root, or see scripts/setup.sh)\n", app_prog);
		break;
	default:
		fprintf(stderr, "%s: cannot initialise EAL: %s\n", app_prog, rte_strerror(err));
	}
}

/*
 * rte_eal_init() with SIGINT, SIGTERM and SIGPIPE blocked. The threads EAL starts there
 * (interrupts, multi-process messages, the lcores) inherit the mask, so they never take
 * one of those signals, which then never interrupts one of EAL's system calls (threads
 * made later, with the mask restored, may: their waits allow for it). One that comes
 * during the init waits until the mask is restored, and is then taken as any other (by
 * the program's handler if it installed one first, as tidepmd does).
 */
static int
app_eal_init_masked(int argc, char **argv)
{
	sigset_t quit, old;
	int ret;

	sigemptyset(&quit);
	sigaddset(&quit, SIGINT);
	sigaddset(&quit, SIGTERM);
	sigaddset(&quit, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &quit, &old);
	ret = rte_eal_init(argc, argv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int
tide_app_eal_init(const char *default_eal)
{
	static char prefix[64];
	/* The program's name, the EAL arguments and a --file-prefix of ours (2), NULL. */
	int cap = RTE_MAX(app_sep, APP_DEFAULT_EAL_ARGS) + 3;
	char **eal = calloc((size_t)cap + 1, sizeof(char *));
	char *defaults = strdup(default_eal);
	int n = 0, i;
	bool has_prefix = false;

	app_eal_argv = eal;
	app_defaults = defaults;
	if (eal == NULL || defaults == NULL) {
		app_free_args();
		return -1;
	}
	eal[n++] = app_argv[0];
	/* No EAL arguments: no "--", or nothing before it ("prog -- -i"). */
	if (app_sep <= 1)
		n += app_split(defaults, &eal[n], cap - 2 - n);
	else
		for (i = 1; i < app_sep; i++)
			eal[n++] = app_argv[i];
	for (i = 1; i < n; i++)
		if (strncmp(eal[i], "--file-prefix", 13) == 0)
			has_prefix = true;
	if (!has_prefix) {
		snprintf(prefix, sizeof(prefix), "%s-%d", app_prog, (int)getpid());
		eal[n++] = "--file-prefix";
		eal[n++] = prefix;
	}
	if (app_eal_init_masked(n, eal) < 0) {
		app_eal_explain(rte_errno);
		app_free_args();
		return -1;
	}
	return 0;
}

/* A secondary process has an mp socket "mp_socket_<pid>_<n>" in the runtime directory. */
static bool
app_secondary_alive(const char *dir)
{
	struct dirent *e;
	bool alive = false;
	DIR *d = opendir(dir);

	if (d == NULL)
		return false;
	while (!alive && (e = readdir(d)) != NULL) {
		int pid;

		if (sscanf(e->d_name, "mp_socket_%d_", &pid) == 1 && pid > 0 &&
				(kill(pid, 0) == 0 || errno == EPERM))
			alive = true;
	}
	closedir(d);
	return alive;
}

static int
app_rm(const char *path, const struct stat *sb __rte_unused, int flag __rte_unused,
	struct FTW *ftw __rte_unused)
{
	remove(path);
	return 0;
}

void
tide_app_eal_cleanup(void)
{
	const char *dir = rte_eal_get_runtime_dir();
	bool primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	char path[PATH_MAX];
	const char *prefix;

	snprintf(path, sizeof(path), "%s", dir != NULL ? dir : "");
	prefix = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : NULL;
	rte_eal_cleanup();
	app_free_args();
	/* Our runtime directory and hugepage files, once nothing can use them: DPDK leaves
	 * them behind.
	 */
	if (primary && path[0] != '\0' && !app_secondary_alive(path)) {
		if (prefix != NULL && prefix[0] != '\0')
			tide_hugetlbfs_each(tide_hugetlbfs_unlink_prefix, (void *)prefix);
		nftw(path, app_rm, 8, FTW_DEPTH | FTW_PHYS);
	}
}

const char *
tide_app_lcores(unsigned int max, unsigned int min, bool own_cpus)
{
	/* "--lcores " and, per lcore, "N@C," with N < 64 and C < CPU_SETSIZE. */
	static char buf[16 + 12 * 64];
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int cpu[64], n = 0, i;
	bool first_ones = true;
	cpu_set_t set;
	size_t len;

	max = RTE_MIN(max, (unsigned int)RTE_DIM(cpu));
	min = RTE_MIN(RTE_MAX(min, 1u), max);
	CPU_ZERO(&set);
	if (!own_cpus)
		for (i = 0; i < CPU_SETSIZE && (long)i < online; i++)
			CPU_SET(i, &set);
	if (!own_cpus || sched_getaffinity(0, sizeof(set), &set) == 0)
		for (i = 0; i < CPU_SETSIZE && n < max; i++)
			if (CPU_ISSET(i, &set)) {
				first_ones &= i == n;
				cpu[n++] = i;
			}
	if (n == 0) {
		cpu[n++] = 0;
		first_ones = true;
	}
	if (first_ones && n >= min) {
		snprintf(buf, sizeof(buf), "-l 0-%u", n - 1);
		return buf;
	}
	/* CPUs the process may not run on, or fewer than min: lcores on the ones it may, the
	 * lcores past them on its first.
	 */
	len = (size_t)snprintf(buf, sizeof(buf), "--lcores ");
	for (i = 0; i < RTE_MAX(n, min); i++)
		len += (size_t)snprintf(&buf[len], sizeof(buf) - len, "%s%u@%u", i == 0 ? "" : ",",
			i, cpu[i < n ? i : 0]);
	return buf;
}

static void
app_on_signal(int sig)
{
	app_quit = 1;
	if (sig != SIGPIPE)
		__atomic_fetch_add(&app_signal_count, 1, __ATOMIC_RELAXED);
}

void
tide_app_signals(void)
{
	struct sigaction sa = { .sa_handler = app_on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A reader that went away (tidepmd | head) ends the run the same way: killed by
	 * SIGPIPE, the program would leave its runtime directory and hugepage files behind.
	 */
	sigaction(SIGPIPE, &sa, NULL);
}

bool
tide_app_quit(void)
{
	return app_quit != 0;
}

unsigned int
tide_app_signal_count(void)
{
	return __atomic_load_n(&app_signal_count, __ATOMIC_RELAXED);
}

uint64_t
tide_app_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *
tide_app_donor_helper(void)
{
	static char path[PATH_MAX + 32];
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (getenv("TIDE_DONOR_HELPER") != NULL || n <= 0)
		return NULL;
	self[n] = '\0';
	/* .../app/<program>/<program> -> .../app/tide-donor/tide-donor */
	for (int up = 0; up < 2; up++) {
		slash = strrchr(self, '/');
		if (slash == NULL)
			return NULL;
		*slash = '\0';
	}
	snprintf(path, sizeof(path), "%s/tide-donor/tide-donor", self);
	return access(path, X_OK) == 0 ? path : NULL;
}
