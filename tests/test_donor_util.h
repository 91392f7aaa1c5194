/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_DONOR_UTIL_H
#define TIDE_TEST_DONOR_UTIL_H

/*
 * The donor tests run every scenario in a process of its own: this executable started
 * again as "test_donor --child NAME [EAL args]". A scenario gets its own limits
 * (RLIMIT_MEMLOCK, capabilities) before EAL starts, its own EAL options (--socket-limit,
 * --iova-mode) that the library reads from the command line as it would in an
 * application, and may be killed (kill -9 of a consumer). The parent, which runs CUnit
 * and no EAL, is the subreaper of everything below it: donors orphaned by a killed
 * consumer are reparented to it, so it can check by pid that none survives.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_mempool.h>

/* ---- In a child scenario. */

/** Check @p ok; count and print a failure. Returns @p ok. */
bool tdu_check(bool ok, const char *what, const char *file, int line);
#define TDU_CHECK(c) tdu_check((c), #c, __FILE__, __LINE__)
/** Check and leave the scenario on failure. */
#define TDU_REQUIRE(c) do { if (!TDU_CHECK(c)) return 1; } while (0)

/** Failures so far in this child. */
unsigned int tdu_failures(void);

struct tdu_scenario {
	const char *name;
	int (*fn)(void);       /* runs under EAL; returns non-zero to fail */
	int (*pre_eal)(void);  /* runs before rte_eal_init (limits), or NULL */
};

/** If argv[1] is "--child", run that scenario and return its exit code; else -1. */
int tdu_child_main(int argc, char **argv, const struct tdu_scenario *s, unsigned int n);

/** Print a "key=value" line for the parent. */
void tdu_report(const char *key, long value);

/** Set RLIMIT_MEMLOCK and give up CAP_IPC_LOCK (for good: the bounding set too), so the
 *  limit binds this process and every process it starts, root or not. */
int tdu_memlock_limit(size_t bytes);

/** Ask this process's telemetry socket; the answer (caller frees), "" if none. */
char *tdu_telemetry(const char *cmd);

/** Live processes named tide-donor whose parent is this process. */
unsigned int tdu_donor_children(void);

/** True while @p pid exists and is not a zombie. */
bool tdu_pid_alive(pid_t pid);

/** VmLck of @p pid in kB (-1 if unreadable). */
long tdu_vmlck_kb(pid_t pid);

/** Lines of /proc/self/maps that contain @p needle. */
unsigned int tdu_maps_count(const char *needle);

/** Whether every byte of [@p addr, @p addr + @p len) is mapped in this process. */
bool tdu_maps_cover(uintptr_t addr, size_t len);

/** Open descriptors of this process. */
unsigned int tdu_fd_count(void);

/* ---- In the parent. */

/**
 * Start scenario @p name in a child (its stdout into *out_fd, a pipe; its stderr shared).
 * @p extra: EAL arguments, NULL-terminated (or NULL).
 */
pid_t tdu_start(const char *name, const char *const *extra, int *out_fd);

/** Wait for the child; its exit code, or -1 (killed, timed out: then killed). */
int tdu_wait(pid_t pid, unsigned int timeout_ms);

/** Run scenario @p name to the end; 0 when it passed. Its stdout goes to @p out. */
int tdu_run(const char *name, const char *const *extra, char *out, size_t len);

/** Read a line "key=value" from @p out; -1 if absent. */
long tdu_value(const char *out, const char *key);

#endif
