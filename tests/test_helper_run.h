/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_HELPER_RUN_H
#define TIDE_TEST_HELPER_RUN_H

/*
 * Runs of the multi-process test helper (TIDE_MP_HELPER, tests/mp_helper.c) and of other
 * programs, each with its output in a file of its own: start, wait for a line, end, read
 * "key=value" figures from the output.
 */

#include <stdbool.h>
#include <sys/types.h>

struct tide_run {
	pid_t pid;
	char out[64];       /* the output file */
	bool ended;         /* reaped while waiting for a line */
	int status;         /* its wait status, once ended */
};

/**
 * Start the helper with EAL arguments @p lcores, --no-pci, --file-prefix @p prefix and
 * either --proc-type=secondary or, for a primary, a --base-virtaddr clear of ASan's shadow
 * (its secondaries map its memory at its addresses), then -- and @p cmd (NULL-ended).
 */
void tide_run_helper(struct tide_run *r, const char *prefix, const char *lcores,
	bool secondary, char *const cmd[]);

/** tide_run_helper() with EAL arguments @p eal (NULL-ended, up to 8) in place of
 *  @p lcores. */
void tide_run_helper_eal(struct tide_run *r, const char *prefix, const char *const eal[],
	bool secondary, char *const cmd[]);

/** Start @p argv (NULL-ended), with @p libdir as LD_LIBRARY_PATH if not NULL. */
void tide_run_start(struct tide_run *r, char *const argv[], const char *libdir);

/** The output so far (caller frees), once it holds @p key, the run ended or
 *  @p timeout_ms passed. */
char *tide_run_wait_for(struct tide_run *r, const char *key, unsigned int timeout_ms);

/** Wait for the run to end: its exit code, -1 if a signal ended it. */
int tide_run_end(struct tide_run *r);

/** Whether the run has ended (then reaped, its status kept for tide_run_end()); no wait. */
bool tide_run_ended(struct tide_run *r);

/** tide_run_end() within @p timeout_ms: a run still there then is killed (SIGKILL) and
 *  -ETIMEDOUT returned. */
int tide_run_end_within(struct tide_run *r, unsigned int timeout_ms);

/**
 * Stop process @p pid (SIGSTOP) and wait, 30 s at most, until every thread of it is stopped
 * (state T in /proc/@p pid/task/<tid>/stat). kill() returns once the signal is queued; the
 * group stop begins only when one of its threads runs again, and until then the others go
 * on (a secondary's IPC thread still answers). False, with each thread's state printed,
 * when it is not stopped by then.
 */
bool tide_run_freeze(pid_t pid);

/** The whole output (caller frees); the output file is removed. */
char *tide_run_output(struct tide_run *r);

/**
 * Run the helper as a primary of @p prefix with @p eal and @p cmd (as
 * tide_run_helper_eal()) to its end, 120 s at most, and remove its runtime directory: its
 * whole output (caller frees); *@p code: its exit code (tide_run_end_within()).
 */
char *tide_run_primary_to_end(const char *prefix, const char *const eal[], char *const cmd[],
	int *code);

/** The number after "@p key=" in @p text, or -1. */
long long tide_run_value(const char *text, const char *key);

/** For tide_test_wait(): whether the primary no longer lists process *(pid_t *)@arg among its
 * peers; one that died is then recovered, its libraries' callbacks run (the primary drops
 * it and recovers it under one lock). */
bool tide_run_peer_recovered(void *arg);

/**
 * A process that sleeps under process id @p want, the id of a process that is gone (the
 * caller kills and waits for it): its id, or -1 if another process took the id first.
 */
pid_t tide_run_squat_pid(pid_t want);

#ifdef TIDE_FAULT_INJECTION
/**
 * A secondary (mp_helper @p cmd, NULL-ended, which stays in a lookup until @p stop_file
 * exists) holds the shared directory at the start of memzone @p dir_mz for reading. Then
 * @p stopped false: it is killed (SIGKILL), and @p write(@p arg) (a create or free, a writer
 * of the directory) must end within 10 s, having taken the dead reader's hold back (counted,
 * logged). @p stopped true: it is stopped (SIGSTOP), @p write must be seen waiting for it
 * and checking it more than once without taking anything back, then end once the reader
 * goes on (SIGCONT). A writer that hangs ends the test process (it cannot be ended).
 * Fault-injection builds only.
 */
void tide_run_dir_reader(const char *dir_mz, char *const cmd[], const char *stop_file,
	bool stopped, void (*write)(void *arg), void *arg);
#endif

#endif
