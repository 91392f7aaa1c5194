/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_PROCESS_H
#define TIDE_PROCESS_H

/*
 * Processes sharing tidepool's memory (internal, not installed): whether one is gone.
 * Locks and turns that other processes wait for carry their holder's process id, so that
 * a waiter can take them over from a process that died holding them (a secondary killed
 * with -9); the primary cleans up after secondaries that are gone. Slow path only: it reads
 * /proc.
 */

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The number after "@p key:" on a line of the /proc file @p path ("VmLck:    64 kB" gives
 * 64 for "VmLck"); -1 when the file or the line cannot be read.
 */
static inline long
tide_proc_read_kv(const char *path, const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long v = -1;
	FILE *f = fopen(path, "re");

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

/* tide_proc_read_kv() on /proc/@p pid/status: "VmLck" (kB locked), "Threads", ... */
static inline long
tide_process_status(uint32_t pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	return tide_proc_read_kv(path, key);
}

/* The threads of process @pid; 0 when not known. */
static inline unsigned long
tide_process_threads(uint32_t pid)
{
	long n = tide_process_status(pid, "Threads");

	return n > 0 ? (unsigned long)n : 0;
}

/*
 * What /proc/PID/stat says after the process's name (from its state on), read into @line
 * of @len bytes; NULL when it cannot be read. The name may hold spaces and ')': the last
 * ')' ends it.
 */
static inline const char *
tide_process_stat(uint32_t pid, char *line, size_t len)
{
	char path[64], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	p = fgets(line, (int)len, f);
	fclose(f);
	p = p != NULL ? strrchr(line, ')') : NULL;
	return p != NULL ? p + 1 : NULL;
}

/*
 * Whether process @pid is gone: no such process (kill() says ESRCH), or a zombie (dead, not
 * yet waited for). A process whose /proc files cannot be read (no file descriptor left,
 * hidepid, no /proc) is alive: a waiter waits, which is safe, where taking back a live
 * process's holds is not. A zombie leader whose other threads run (its main thread called
 * pthread_exit()) is alive: only a leader left alone (Threads: 1) is a dead process.
 */
static inline bool
tide_process_gone(uint32_t pid)
{
	char line[1024], state = '?';
	const char *p;

	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return true;
	p = tide_process_stat(pid, line, sizeof(line));
	if (p == NULL || sscanf(p, " %c", &state) != 1)
		return false;
	return (state == 'Z' || state == 'X') && tide_process_threads(pid) == 1;
}

/*
 * When process @pid started (clock ticks after boot, field 22 of /proc/PID/stat): with its
 * id, it names one process, whereas an id alone may be reused. 0 when not known.
 */
static inline uint64_t
tide_process_start(uint32_t pid)
{
	unsigned long long start = 0;
	char line[1024];
	const char *p = tide_process_stat(pid, line, sizeof(line));

	if (p == NULL || sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
			"%*d %*d %*d %*d %*d %*d %llu", &start) != 1)
		return 0;
	return start;
}

/*
 * Whether the process @pid that started at @start (tide_process_start(); 0: not known) is
 * gone: tide_process_gone(), or its id now names a later process.
 */
static inline bool
tide_process_gone_since(uint32_t pid, uint64_t start)
{
	uint64_t now;

	if (tide_process_gone(pid))
		return true;
	now = start != 0 ? tide_process_start(pid) : 0;
	return now != 0 && now != start;
}

/* Bits of a process id (PID_MAX_LIMIT is 2^22): words that name a process keep it there. */
#define TIDE_PROCESS_PID_BITS 22

/* The process id in the low TIDE_PROCESS_PID_BITS bits of @word. */
static inline uint32_t
tide_process_pid_of(uint64_t word)
{
	return (uint32_t)(word & ((UINT64_C(1) << TIDE_PROCESS_PID_BITS) - 1));
}

/*
 * A process named in 32 bits, for lock words that other processes take over when it dies:
 * its id in the low TIDE_PROCESS_PID_BITS bits and above them a stamp of when it started,
 * 1 + tide_process_start() mod TIDE_PROCESS_TAG_STAMPS, or 0 when not known. With the id
 * alone, a waiter whose holder died and whose id was given to another process since would
 * wait for that process for ever. Two processes whose starts differ by a multiple of
 * TIDE_PROCESS_TAG_STAMPS clock ticks (about 10 s at 100 Hz) share a stamp: a reuse that
 * late is still taken for the holder.
 */
#define TIDE_PROCESS_TAG_STAMPS 1023u

static inline uint32_t
tide_process_tag(uint32_t pid, uint64_t start)
{
	return pid | (start != 0 ? 1 + (uint32_t)(start % TIDE_PROCESS_TAG_STAMPS) : 0) <<
		TIDE_PROCESS_PID_BITS;
}

/* This process's tag (a forked child without exec keeps its parent's: callers take it once,
 * at start-up). */
static inline uint32_t
tide_process_tag_self(void)
{
	uint32_t pid = (uint32_t)getpid();

	return tide_process_tag(pid, tide_process_start(pid));
}

/* Whether the process that @tag names is gone: dead, or its id given to a later process. */
static inline bool
tide_process_tag_gone(uint32_t tag)
{
	uint32_t pid = tide_process_pid_of(tag);
	uint64_t start;

	if (tide_process_gone(pid))
		return true;
	if (tag >> TIDE_PROCESS_PID_BITS == 0)
		return false; /* its start was not known: the id alone tells */
	start = tide_process_start(pid);
	return start != 0 && tide_process_tag(pid, start) != tag;
}

/*
 * Take the lock word @word over for @self (this process's tag) if the process it names is
 * gone (tide_process_tag_gone()). Returns the gone holder's tag, or 0 (free, this process's
 * own, held by a live process, or taken by another waiter first).
 */
static inline uint32_t
tide_process_tag_take_over(uint32_t *word, uint32_t self)
{
	uint32_t holder = __atomic_load_n(word, __ATOMIC_RELAXED);

	if (holder == 0 || holder == self || !tide_process_tag_gone(holder) ||
			!__atomic_compare_exchange_n(word, &holder, self, false, __ATOMIC_ACQUIRE,
			__ATOMIC_RELAXED))
		return 0;
	return holder;
}

/* The namespace @p path names (its inode: /proc/self/ns/<kind>); 0 when not known. */
static inline uint32_t
tide_process_ns_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint32_t)st.st_ino : 0;
}

/*
 * The pid namespace of this process (the inode of /proc/self/ns/pid); 0 when not known.
 * A process id names a process of one namespace only: processes of other namespaces
 * (containers sharing the hugepages) cannot be told alive or gone by their ids.
 */
static inline uint32_t
tide_process_ns(void)
{
	return tide_process_ns_of("/proc/self/ns/pid");
}

/*
 * The time namespace of this process (the inode of /proc/self/ns/time); 0 when not known
 * (before Linux 5.6). /proc/<pid>/stat gives a process's start in the boot time of the
 * reader's time namespace: across two of them a live process reads as started at another
 * time, that is as gone, its id reused.
 */
static inline uint32_t
tide_process_time_ns(void)
{
	return tide_process_ns_of("/proc/self/ns/time");
}

#endif /* TIDE_PROCESS_H */
