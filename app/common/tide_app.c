/* SPDX-License-Identifier: BSD-3-Clause */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "tide_app.h"

#define APP_MAX_EAL_ARGS 128

static volatile sig_atomic_t app_quit;
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
tide_app_eal_init(int argc, char **argv, const char *prog, const char *default_eal,
	int *app_argc, char ***app_argv)
{
	static char prefix[64];
	char **eal = calloc(APP_MAX_EAL_ARGS + 1, sizeof(char *));
	char *defaults = strdup(default_eal);
	int n = 0, i, sep = -1, ret;
	bool has_prefix = false;

	app_eal_argv = eal;
	app_defaults = defaults;
	if (eal == NULL || defaults == NULL) {
		app_free_args();
		return -1;
	}
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	eal[n++] = argv[0];
	if (sep < 0)
		n += app_split(defaults, &eal[n], APP_MAX_EAL_ARGS - 3 - n);
	else
		for (i = 1; i < sep && n < APP_MAX_EAL_ARGS - 3; i++)
			eal[n++] = argv[i];
	for (i = 1; i < n; i++)
		if (strncmp(eal[i], "--file-prefix", 13) == 0)
			has_prefix = true;
	if (!has_prefix) {
		snprintf(prefix, sizeof(prefix), "%s-%d", prog, (int)getpid());
		eal[n++] = "--file-prefix";
		eal[n++] = prefix;
	}
	ret = rte_eal_init(n, eal);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot initialise EAL: %s (hugepages reserved? run "
			"scripts/setup.sh)\n", prog, rte_strerror(rte_errno));
		app_free_args();
		return -1;
	}
	/* The program's arguments: argv[0] then what follows "--" (or everything). */
	if (sep >= 0) {
		argv[sep] = argv[0];
		*app_argc = argc - sep;
		*app_argv = &argv[sep];
	} else {
		*app_argc = argc;
		*app_argv = argv;
	}
	return 0;
}

void
tide_app_eal_cleanup(void)
{
	rte_eal_cleanup();
	app_free_args();
}

const char *
tide_app_lcores(unsigned int max)
{
	static char buf[32];
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if ((unsigned long)n > max)
		n = max;
	snprintf(buf, sizeof(buf), "-l 0-%ld", n - 1);
	return buf;
}

static void
app_on_signal(int sig __rte_unused)
{
	app_quit = 1;
}

void
tide_app_signals(void)
{
	struct sigaction sa = { .sa_handler = app_on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool
tide_app_quit(void)
{
	return app_quit != 0;
}

uint64_t
tide_app_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
