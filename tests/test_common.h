/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_COMMON_H
#define TIDE_TEST_COMMON_H

/*
 * Shared pieces of the CUnit suites: EAL set-up (once per executable, --no-pci, its own
 * --file-prefix), a suite filter, hugepage accounting, log capture and thread helpers.
 *
 * A test executable is run as:  test_x [EAL args...] [-- suite-or-test-name...]
 * The EAL gets "-l 0-1 --no-pci --file-prefix tide-<exe>-<pid> --huge-unlink" plus the
 * given EAL args. With TIDE_TEST_HUGE_FILES=keep in the environment it keeps its hugepage
 * files (no --huge-unlink), so that a secondary process can attach to it
 * (tide_test_run_secondary()).
 */

#include <pthread.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>

#include <CUnit/Basic.h>

/** Registers the executable's suites with CUnit; returns 0 or a CUnit error. */
typedef int (tide_test_register_t)(void);

/**
 * Initialise EAL (unless @p need_eal is false), register, run the selected tests and
 * clean up. Returns the process exit code: 0 when every test passed.
 */
int tide_test_main(int argc, char **argv, const char *exe, bool need_eal,
	tide_test_register_t *reg);

/**
 * Set before tide_test_main() by suites whose secondary processes attach to the test
 * process: EAL then keeps its hugepage files while it runs (no --huge-unlink), and they
 * are removed at the end.
 */
extern bool tide_test_shared_memory;

/** rte_eal_cleanup(), then remove what DPDK leaves behind for a primary: its hugepage files
 *  (if kept) and its runtime directory. */
void tide_test_eal_cleanup(void);

/** Remove the runtime directory that DPDK left behind for the primary of --file-prefix
 *  @p prefix: a stock program the test ran, which has exited. */
void tide_test_rm_runtime(const char *prefix);

/** The test process's EAL --file-prefix (for secondaries to attach). */
const char *tide_test_file_prefix(void);

/**
 * EAL refuses a -d plugin below a world-writable directory (/tmp, where a clean clone may
 * live): copy the tide plugin (TIDE_PLUGIN) and the library it needs (TIDE_PLUGIN_DEPS) to a
 * private directory under /run, @p dir (@p len bytes). Returns the staged plugin's path
 * (static), or NULL. tide_test_unstage_plugin() removes the directory; one named after a
 * test process that is gone (it died before it could) is removed here.
 */
const char *tide_test_stage_plugin(char *dir, size_t len);
/** Copy the library that environment variable @p var names into @p dir, a directory
 *  tide_test_stage_plugin() made; its staged path (static), or NULL. */
const char *tide_test_stage_also(const char *dir, const char *var);
void tide_test_unstage_plugin(const char *dir);

/**
 * Start @p argv[0] with @p argv, its output to the file @p out, LD_LIBRARY_PATH @p libdir
 * (NULL: inherited); a stock program under /usr/bin gets TIDE_CHILD_PRELOAD preloaded.
 * Returns its pid (fork()'s result).
 */
pid_t tide_test_spawn(char *const argv[], const char *out, const char *libdir);

/** A file's whole text (caller frees; empty when it cannot be read). */
char *tide_test_read_file(const char *path);

/**
 * The stock DPDK client's (dpdk-telemetry.py) answer to @p cmd (no single quote in it),
 * asked of this process (EAL initialised): its whole output, compact JSON after the banner
 * (caller frees).
 */
char *tide_test_stock_telemetry(const char *cmd);

/**
 * tide_test_stock_telemetry() asked of telemetry instance @p instance of this process's
 * runtime directory (dpdk-telemetry.py -i: 0 is the primary's; a secondary that serves
 * telemetry takes the next free one).
 */
char *tide_test_stock_telemetry_instance(const char *cmd, unsigned int instance);

/**
 * Whether the stock client shows @p cmd refused by its handler (DPDK's {"<command>": null},
 * the convention of the msg, zctx and donor handlers); when not, its output is printed.
 */
bool tide_test_stock_refused(const char *cmd);

/**
 * The number right after the first @p key in @p text, framed as @p fmt frames it
 * ("%s=" for "key=12", "\"%s\":" for a JSON "key":12); -1 when it is not there.
 */
long long tide_test_number_after(const char *text, const char *fmt, const char *key);

/** Add a suite; the helpers below register tests into it. */
CU_pSuite tide_test_suite(const char *name);

/** System-wide free 2 MB hugepages (/proc/meminfo HugePages_Free). */
long tide_test_hugepages_free(void);

/** Hugetlb kB mapped by this process (/proc/self/status HugetlbPages). */
long tide_test_hugetlb_kb(void);

/**
 * 2 MB hugepages this process holds. The tests run EAL with --huge-unlink: no file keeps a
 * page, so a page the process unmaps is back with the OS. Unlike HugePages_Free, other
 * processes on the machine do not move it.
 */
long tide_test_hugepages_held(void);

/** Start collecting log output; tide_test_log_end() returns it (caller frees). */
void tide_test_log_begin(void);
char *tide_test_log_end(void);

/**
 * End a capture begun with tide_test_log_begin() around a call that must be refused: true
 * when rte_errno is @p err and a line came from library function @p fn; otherwise false,
 * with @p what, rte_errno and the capture printed.
 */
bool tide_test_log_refused(const char *fn, int err, const char *what);

/** Let the tide.* log types through at DEBUG (true) or back at their NOTICE (false). */
void tide_test_log_debug(bool on);

/** Evaluate @p call with the log captured: it sets rte_errno @p err, logged by @p fn. */
#define TIDE_TEST_REFUSED_LOGGED(call, err, fn) \
	TIDE_TEST_REFUSED_CHECKED(CU_ASSERT, call, err, fn)

/** TIDE_TEST_REFUSED_LOGGED() with the outcome given to @p CHECK (a CUnit or a child
 *  process's assertion macro). */
#define TIDE_TEST_REFUSED_CHECKED(CHECK, call, err, fn) do { \
	tide_test_log_begin(); \
	rte_errno = 0; \
	(void)(call); \
	CHECK(tide_test_log_refused(fn, err, #call)); \
} while (0)

/** Evaluate @p call twice: at the NOTICE level it sets rte_errno @p err and logs nothing
 *  (a plain miss, which a caller may poll for), at DEBUG @p fn says why. */
#define TIDE_TEST_MISS_LOGGED(call, err, fn) do { \
	char *quiet_; \
	tide_test_log_begin(); \
	rte_errno = 0; \
	(void)(call); \
	quiet_ = tide_test_log_end(); \
	CU_ASSERT(rte_errno == (err) && strstr(quiet_, fn "(): ") == NULL); \
	free(quiet_); \
	tide_test_log_debug(true); \
	TIDE_TEST_REFUSED_LOGGED(call, err, fn); \
	tide_test_log_debug(false); \
} while (0)

/** Monotonic time in ns. */
uint64_t tide_test_now_ns(void);

/** Sleep for @p us microseconds. */
void tide_test_sleep_us(uint64_t us);

/** Whether the @p len bytes at @p p are all zero (a fake object a refused call left alone). */
bool tide_test_zeroed(const void *p, size_t len);

/** The id of a worker lcore other than the main one, or -1 when there is none. */
int tide_test_worker_lcore(void);

/**
 * Start a thread free to run on every online CPU: a thread the main lcore makes would
 * inherit its one CPU, and only take turns with it. Returns pthread_create()'s result.
 */
int tide_test_thread_anywhere(pthread_t *t, void *(*fn)(void *), void *arg);

/**
 * The scheduler state of thread @p tid of process @p pid, as /proc shows it: 'R' running,
 * 'S' asleep (in a blocking system call), 'T' stopped, ...; '?' if it cannot be read (gone).
 */
char tide_test_task_state(pid_t pid, pid_t tid);

/** tide_test_task_state() of thread @p tid of this process. */
char tide_test_thread_state(pid_t tid);

/**
 * True once a thread of this process has published its id in @p *tid (atomically, 0
 * until then) and sleeps in the kernel ('S'): blocked in a lock, a futex or a poll.
 */
bool tide_test_tid_asleep(const pid_t *tid);

/**
 * Run this executable again as a secondary process of this one (which must have been
 * started with TIDE_TEST_HUGE_FILES=keep), with only the tests that @p filter selects.
 * Returns its exit code (0: they passed), or -1 if it could not be run.
 */
int tide_test_run_secondary(const char *filter);

/** True in a process tide_test_run_secondary() started. */
bool tide_test_is_secondary(void);

/** Poll @p cond(arg) every millisecond until true or @p timeout_ms; returns its last value. */
bool tide_test_wait(bool (*cond)(void *arg), void *arg, unsigned int timeout_ms);

/**
 * Pool profiles for the pools created through the stock API from now on: @p text goes to
 * a file that TIDE_POOL_PROFILES names (the pool library reads it at each stock
 * creation); NULL removes it. Returns the file's path (valid until the next call).
 */
const char *tide_test_use_profiles(const char *text);

/**
 * Drive the pool library's clock by hand (fault-injection builds): from now on it reads a
 * fake clock that starts at the real time and moves only by tide_test_clock_advance().
 * tide_test_clock_real() goes back to the real clock.
 */
void tide_test_clock_fake(void);
void tide_test_clock_advance(uint64_t ns);
void tide_test_clock_real(void);

/**
 * Let @p ns of the pool library's time pass: with the fake clock in use the call moves it
 * on and returns at once; otherwise (the real clock, or a build without fault injection)
 * it sleeps.
 */
void tide_test_clock_pass(uint64_t ns);

#endif
