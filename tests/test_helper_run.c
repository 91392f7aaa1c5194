/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_common.h>

#include "test_common.h"
#include "test_helper_run.h"

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
	char *argv[32];
	int n = 0;

	argv[n++] = getenv("TIDE_MP_HELPER");
	argv[n++] = (char *)lcores;
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
tide_run_wait_for(struct tide_run *r, const char *key, unsigned int timeout_ms)
{
	char *text = NULL;

	for (unsigned int i = 0; i < timeout_ms / 10; i++) {
		free(text);
		text = tide_test_read_file(r->out);
		if (strstr(text, key) != NULL || r->ended)
			break;
		/* Reaped here, its status is kept for tide_run_end(). */
		if (waitpid(r->pid, &r->status, WNOHANG) == r->pid)
			r->ended = true;
		else
			tide_test_sleep_us(10 * 1000);
	}
	return text;
}

int
tide_run_end(struct tide_run *r)
{
	if (!r->ended && waitpid(r->pid, &r->status, 0) == r->pid)
		r->ended = true;
	return r->ended && WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
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
