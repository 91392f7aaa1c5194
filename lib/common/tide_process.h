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
#include <sys/types.h>

/* Whether process @pid is gone: no such process, or a zombie (dead, not yet waited for). */
static inline bool
tide_process_gone(uint32_t pid)
{
	char path[64], state = '?';
	FILE *f;

	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = '?';
	fclose(f);
	return state == 'Z' || state == 'X';
}

#endif /* TIDE_PROCESS_H */
