/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_memzone.h>

#include "test_common.h"
#include "test_helper_run.h"
#include "tide_pool.h"
#include "tide_rwlock.h"

void
tide_run_start(struct tide_run *r, char *const argv[], const char *libdir)
{
	snprintf(r->out, sizeof(r->out), "/tmp/tide-run-%d-XXXXXX", (int)getpid());
	close(mkstemp(r->out));
	r->ended = false;
	r->status = 0;
	r->pid = tide_test_spawn(argv, r->out, libdir);
	CU_ASSERT_FATAL(r->pid > 0);
}

void
tide_run_helper(struct tide_run *r, const char *prefix, const char *lcores, bool secondary,
	char *const cmd[])
{
	tide_run_helper_eal(r, prefix, (const char *[]){ lcores, NULL }, secondary, cmd);
}

void
tide_run_helper_eal(struct tide_run *r, const char *prefix, const char *const eal[],
	bool secondary, char *const cmd[])
{
	char *argv[32];
	int n = 0;

	argv[n++] = getenv("TIDE_MP_HELPER");
	for (int i = 0; eal[i] != NULL && n < 8; i++)
		argv[n++] = (char *)eal[i];
	argv[n++] = "--no-pci";
	argv[n++] = "--file-prefix";
	argv[n++] = (char *)prefix;
	if (secondary)
		argv[n++] = "--proc-type=secondary";
	else /* the secondaries map its memory at its addresses: clear of ASan's shadow */
		argv[n++] = "--base-virtaddr=0x200000000000";
	argv[n++] = "--log-level";
	argv[n++] = "lib.eal:warning";
	argv[n++] = "--";
	for (int i = 0; cmd[i] != NULL && n < (int)RTE_DIM(argv) - 1; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	tide_run_start(r, argv, NULL);
}

char *
tide_run_primary_to_end(const char *prefix, const char *const eal[], char *const cmd[],
	int *code)
{
	struct tide_run r;
	char *text;

	tide_run_helper_eal(&r, prefix, eal, false, cmd);
	*code = tide_run_end_within(&r, 120000);
	text = tide_run_output(&r);
	tide_test_rm_runtime(prefix);
	return text;
}

char *
tide_run_wait_for(struct tide_run *r, const char *key, unsigned int timeout_ms)
{
	char *text = NULL;

	for (unsigned int i = 0; i < timeout_ms / 10; i++) {
		free(text);
		text = tide_test_read_file(r->out);
		if (strstr(text, key) != NULL || r->ended)
			break;
		if (!tide_run_ended(r))
			tide_test_sleep_us(10 * 1000);
	}
	return text;
}

bool
tide_run_ended(struct tide_run *r)
{
	if (!r->ended && waitpid(r->pid, &r->status, WNOHANG) == r->pid)
		r->ended = true;
	return r->ended;
}

int
tide_run_end(struct tide_run *r)
{
	if (!r->ended && waitpid(r->pid, &r->status, 0) == r->pid)
		r->ended = true;
	return r->ended && WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
}

int
tide_run_end_within(struct tide_run *r, unsigned int timeout_ms)
{
	for (unsigned int t = 0; !tide_run_ended(r) && t < timeout_ms; t += 10)
		tide_test_sleep_us(10 * 1000);
	if (r->ended)
		return tide_run_end(r);
	kill(r->pid, SIGKILL);
	tide_run_end(r);
	return -ETIMEDOUT;
}

/* Whether every thread of process @p pid is stopped (T); with @p say, each thread's state
 * is printed. A thread that ends while it is looked at is not counted.
 */
static bool
threads_stopped(pid_t pid, bool say)
{
	unsigned int threads = 0;
	bool all = true;
	struct dirent *e;
	char path[64];
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL) {
		char state;

		if (e->d_name[0] == '.' || (state = tide_test_task_state(pid, atoi(e->d_name))) == '?')
			continue;
		threads++;
		all = all && state == 'T';
		if (say)
			printf(" %s:%c", e->d_name, state);
	}
	closedir(d);
	return threads > 0 && all;
}

bool
tide_run_freeze(pid_t pid)
{
	if (kill(pid, SIGSTOP) != 0) {
		printf("\n    cannot stop process %d: %s ", (int)pid, strerror(errno));
		return false;
	}
	for (unsigned int i = 0; i < 3000; i++) {
		if (threads_stopped(pid, false))
			return true;
		tide_test_sleep_us(10 * 1000);
	}
	printf("\n    process %d not stopped 30 s after SIGSTOP; its threads:", (int)pid);
	threads_stopped(pid, true);
	printf(" ");
	return false;
}

char *
tide_run_output(struct tide_run *r)
{
	char *text = tide_test_read_file(r->out);

	unlink(r->out);
	return text;
}

long long
tide_run_value(const char *text, const char *key)
{
	return tide_test_number_after(text, "%s=", key);
}

#ifdef TIDE_FAULT_INJECTION
struct dir_write {
	void (*fn)(void *arg);
	void *arg;
	bool done;
	struct tide_rwlock *l;
	uint64_t checks; /* the lock's checks of its holders before the writer came */
};

static void *
dir_write_run(void *arg)
{
	struct dir_write *w = arg;

	w->fn(w->arg);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static bool
dir_write_done(void *arg)
{
	return __atomic_load_n(&((struct dir_write *)arg)->done, __ATOMIC_ACQUIRE);
}

/*
 * No read of the lock is held. Readers of this process may come and go meanwhile: the
 * recovery of the killed reader runs death callbacks, which read the directory, on another
 * thread, maybe after the writer is done.
 */
static bool
dir_unread(void *arg)
{
	return tide_rwlock_readers(((struct dir_write *)arg)->l) == 0;
}

/* The writer waits for its readers and has checked a holder at least twice. */
static bool
dir_write_checked_twice(void *arg)
{
	struct dir_write *w = arg;

	return tide_rwlock_writer_waits(w->l) &&
		__atomic_load_n(&w->l->readers.checks, __ATOMIC_ACQUIRE) >= w->checks + 2;
}

void
tide_run_dir_reader(const char *dir_mz, char *const cmd[], const char *stop_file,
	bool stopped, void (*write)(void *arg), void *arg)
{
	const struct rte_memzone *mz = rte_memzone_lookup(dir_mz);
	struct dir_write w = { .fn = write, .arg = arg };
	uint64_t recovered;
	struct tide_run r;
	char *text, *log;
	pthread_t t;
	bool ended;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	w.l = mz->addr;
	recovered = __atomic_load_n(&w.l->readers.recovered, __ATOMIC_ACQUIRE);
	unlink(stop_file);
	tide_run_helper(&r, tide_test_file_prefix(), "--lcores=2@0,3@1", true, cmd);
	text = tide_run_wait_for(&r, "held=", 120000);
	if (tide_run_value(text, "held") != 1)
		printf("\n    the secondary said: %s ", text);
	CU_ASSERT_EQUAL(tide_run_value(text, "held"), 1);
	CU_ASSERT(tide_rwlock_readers(w.l) >= 1);
	free(text);
	/* A stopped reader is one whose every thread is: until the group stop reaches the
	 * thread held in the lookup, its hold may run out (TIDE_FAULT_HOLD_MAX_S) and let
	 * the writer in.
	 */
	if (stopped) {
		CU_ASSERT(tide_run_freeze(r.pid));
	} else {
		kill(r.pid, SIGKILL);
		CU_ASSERT_EQUAL(tide_run_end(&r), -1);
	}
	w.checks = __atomic_load_n(&w.l->readers.checks, __ATOMIC_ACQUIRE);
	tide_test_log_begin();
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, dir_write_run, &w), 0);
	if (stopped) {
		/* Seen at its wait, having looked at the stopped reader: it keeps waiting. */
		CU_ASSERT(tide_test_wait(dir_write_checked_twice, &w, 10000));
		CU_ASSERT(!dir_write_done(&w));
		CU_ASSERT(tide_rwlock_readers(w.l) >= 1);
		fclose(fopen(stop_file, "w"));
		kill(r.pid, SIGCONT);
		CU_ASSERT_EQUAL(tide_run_end(&r), 0);
	}
	ended = tide_test_wait(dir_write_done, &w, 10000);
	log = tide_test_log_end();
	if (!ended) {
		printf("\n    the writer still waits for the reader after 10 s; log: %s\n", log);
		fflush(stdout);
		unlink(stop_file);
		_exit(1);
	}
	pthread_join(t, NULL);
	text = tide_run_output(&r);
	if (stopped) {
		CU_ASSERT_EQUAL(tide_run_value(text, "found"), 1);
		CU_ASSERT_EQUAL(w.l->readers.recovered, recovered);
		CU_ASSERT_PTR_NULL(strstr(log, "died holding it"));
	} else {
		CU_ASSERT_EQUAL(w.l->readers.recovered, recovered + 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(log, "died holding it (1 hold(s))"));
	}
	/* A hold left behind would be counted for good. */
	CU_ASSERT(tide_test_wait(dir_unread, &w, 10000));
	free(text);
	free(log);
	unlink(stop_file);
}
#endif

bool
tide_run_peer_recovered(void *arg)
{
	struct tide_mp_peer peers[64];
	int n = tide_mp_peers(peers, RTE_DIM(peers));

	if (n < 0 || n > (int)RTE_DIM(peers))
		return false;
	for (int i = 0; i < n; i++)
		if (peers[i].pid == *(pid_t *)arg)
			return false;
	return true;
}

/* How long tide_run_squat_pid() tries: within a fault hold's limit (TIDE_FAULT_HOLD_MAX_S). */
#define SQUAT_TRY_MS 8000

/* A child asleep for good, cloned under process id @p want: its id, or -1 with errno
 * (EEXIST: a process or thread has that id now; ENOSYS: no clone3() here). A fork as to
 * the memory, with no window in which another process can take the id first.
 */
static pid_t
squat_clone(pid_t want)
{
	pid_t tid = want;
	struct clone_args a = { .exit_signal = SIGCHLD, .set_tid = (uintptr_t)&tid,
		.set_tid_size = 1 };
	long pid = syscall(SYS_clone3, &a, sizeof(a));

	if (pid == 0) {
		for (;;)
			pause();
	}
	return (pid_t)pid;
}

/* The same through ns_last_pid and fork(): another process may take the id while the fork
 * copies this one (milliseconds for a DPDK process, more under ASan).
 */
static pid_t
squat_fork(pid_t want)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	pid_t pid;

	if (f == NULL)
		return -1;
	fprintf(f, "%d", (int)want - 1);
	fclose(f);
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	if (pid > 0 && pid != want) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		errno = EEXIST;
		return -1;
	}
	return pid;
}

/*
 * A process that sleeps under process id @want, the id of a process that is gone. Another
 * process or thread may hold the id a while (one a test of another suite starts): tried
 * again until SQUAT_TRY_MS. Its id, or -1 (and why, printed).
 */
pid_t
tide_run_squat_pid(pid_t want)
{
	bool cloned = true;
	char path[64], comm[64] = "?";
	FILE *f;

	for (unsigned int ms = 0; ms < SQUAT_TRY_MS; ms += 10) {
		pid_t pid = cloned ? squat_clone(want) : squat_fork(want);

		if (pid == want)
			return pid;
		if (cloned && errno != EEXIST) {
			cloned = false;
			continue;
		}
		tide_test_sleep_us(10 * 1000);
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)want);
	f = fopen(path, "r");
	if (f != NULL) {
		if (fgets(comm, sizeof(comm), f) != NULL)
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	printf("\n    process id %d stayed taken (%s) for %u ms ", (int)want, comm, SQUAT_TRY_MS);
	return -1;
}
