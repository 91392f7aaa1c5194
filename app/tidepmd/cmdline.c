/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The prompt (-i), on DPDK's librte_cmdline as testpmd's. It runs on the main lcore while
 * the forwarding lcores go on: a command only reads figures or changes what the lcores
 * read (the burst size), except start and stop, which launch and stop them (set fwd is
 * refused while they run).
 * cmdline answers an unknown command ("Command not found") or a malformed one ("Bad
 * arguments") itself; a well-formed command with a bad value says what is accepted.
 * Nothing here stops forwarding unless asked to.
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_string.h>
#include <cmdline_socket.h>
#include <rte_ethdev.h>

#include "tide_app_opt.h"
#include "tidepmd.h"

/* How long the prompt waits for input before it looks whether a signal came. */
#define CLI_QUIT_POLL_MS 100

static struct tpmd *cli_t;

static void
cli_start(unsigned int tx_first)
{
	int ret;

	if (cli_t->running) {
		printf("Packet forwarding already started\n");
		return;
	}
	tpmd_fwd_stats_mark(cli_t);
	ret = tpmd_fwd_start(cli_t, tx_first);
	if (ret != 0) {
		printf("Cannot start forwarding: %s\n", rte_strerror(-ret));
		return;
	}
	tpmd_fwd_config_show(cli_t);
}

static void
cli_stop(void)
{
	/* From here, a signal ends the stop's waits for worker processes (and the prompt). */
	unsigned int sigs = tide_app_signal_count();

	if (!cli_t->running) {
		printf("Packet forwarding not started\n");
		return;
	}
	printf("Telling cores to stop...\nWaiting for lcores to finish...\n");
	tpmd_fwd_stop(cli_t, sigs);
	tpmd_fwd_stats_show(cli_t);
	printf("\nDone.\n");
}

/* "all" (-1) or one of our ports; -2 after saying why not. */
static int
cli_port(const char *arg)
{
	uint64_t p;
	char err[128];

	if (strcmp(arg, "all") == 0)
		return -1;
	if (tide_app_parse_u64(arg, 0, RTE_MAX_ETHPORTS - 1, &p, err, sizeof(err)) != 0) {
		printf("Invalid port %s: %s\n", arg, err);
		return -2;
	}
	if (tpmd_port_idx(cli_t, (uint16_t)p) < 0) {
		/* The ids themselves: they need not run on without a gap. */
		printf("Invalid port %s: give 'all' or one of the %u ports:", arg,
			cli_t->nb_ports);
		for (unsigned int i = 0; i < cli_t->nb_ports; i++)
			printf(" %u", cli_t->ports[i]);
		printf("\n");
		return -2;
	}
	return (int)p;
}

/* ---- start, start tx_first [N], stop, quit, help ---- */

/* Every command's words, at the same offsets whatever the command. */
struct cli_words {
	cmdline_fixed_string_t w1;
	cmdline_fixed_string_t w2;
	cmdline_fixed_string_t w3;
	cmdline_fixed_string_t w4;
};

static void
cli_start_parsed(void *res __rte_unused, struct cmdline *cl __rte_unused,
	void *data __rte_unused)
{
	cli_start(0);
}

static void
cli_start_tx_first_parsed(void *res, struct cmdline *cl __rte_unused, void *data __rte_unused)
{
	struct cli_words *r = res;
	uint64_t n = 1;
	char err[128];

	if (data != NULL && tide_app_parse_u64(r->w3, 1, 1024, &n, err, sizeof(err)) != 0) {
		printf("Bad argument: start tx_first: %s\n", err);
		return;
	}
	cli_start((unsigned int)n);
}

static void
cli_stop_parsed(void *res __rte_unused, struct cmdline *cl __rte_unused,
	void *data __rte_unused)
{
	cli_stop();
}

static void
cli_quit_parsed(void *res __rte_unused, struct cmdline *cl, void *data __rte_unused)
{
	if (cli_t->running)
		cli_stop();
	cmdline_quit(cl);
}

static const char *const cli_help_text[] = {
	"start                      start forwarding",
	"start tx_first [N]         N bursts, 1..1024 (default 1), on every TX queue, then forward",
	"stop                       stop forwarding; show what the ports did since start",
	"show port stats all|N      port statistics; throughput since the last show",
	"clear port stats all|N     reset port statistics",
	"show config fwd            the mode, its lcores and the streams each one owns",
	"show pool [NAME]           elastic pools: MB held, blocks (age, in use, idle time),",
	"                           grows and reaps",
	"show xchg                  exchanges: messages sent, received, waiting per level",
	"show zctx                  the zero-copy send agent and the pin cache",
	"set fwd MODE               forwarding mode (while forwarding is stopped)",
	"set burst N                packets per burst, 1..512 (live; bursty: from the next start;",
	"                           zctx: sends per submission, the agent's TX bursts its own)",
	"set pool wall MB           the pool's wall, from its base to --pool-wall (live)",
	"set pool idle MS           a block may go after MS idle, 1..3600000 (live)",
	"set pool reap MS           the reaper's period, 0..3600000, 0 never (live)",
	"help                       this list",
	"quit                       stop forwarding and exit (so does Ctrl-D on an empty line;",
	"                           Ctrl-C only clears the line)",
};

static void
cli_help_parsed(void *res __rte_unused, struct cmdline *cl __rte_unused,
	void *data __rte_unused)
{
	printf("\nCommands:\n");
	for (unsigned int i = 0; i < RTE_DIM(cli_help_text); i++)
		printf("  %s\n", cli_help_text[i]);
	printf("\nModes:\n");
	tpmd_engines_list(stdout, "  ");
}

/* ---- show ..., clear port stats ---- */

static void
cli_port_stats_parsed(void *res, struct cmdline *cl __rte_unused, void *data __rte_unused)
{
	struct cli_words *r = res;
	int port = cli_port(r->w4);

	if (port == -2)
		return;
	if (strcmp(r->w1, "show") == 0)
		tpmd_port_stats_show(cli_t, port);
	else
		tpmd_port_stats_clear(cli_t, port);
}

static void
cli_show_parsed(void *res, struct cmdline *cl __rte_unused, void *data __rte_unused)
{
	struct cli_words *r = res;

	if (strcmp(r->w2, "pool") == 0)
		tpmd_show_pool(cli_t, NULL);
	else if (strcmp(r->w2, "xchg") == 0)
		tpmd_show_xchg(cli_t);
	else
		tpmd_zctx_show(cli_t);
}

static void
cli_show_pool_name_parsed(void *res, struct cmdline *cl __rte_unused, void *data __rte_unused)
{
	struct cli_words *r = res;

	tpmd_show_pool(cli_t, r->w3);
}

static void
cli_show_config_parsed(void *res __rte_unused, struct cmdline *cl __rte_unused,
	void *data __rte_unused)
{
	tpmd_fwd_config_show(cli_t);
}

/* ---- set ... ---- */

/*
 * Refused while forwarding runs, as testpmd refuses its configuration commands then ("Please
 * stop forwarding first"): a restart here would end the run
 * without stop's statistics and start the next one without its mark, so that the next
 * stop would count both runs as one.
 */
static void
cli_set_fwd_parsed(void *res, struct cmdline *cl __rte_unused, void *data __rte_unused)
{
	struct cli_words *r = res;
	const struct tpmd_engine *e = tpmd_engine_find(r->w3);

	if (e == NULL) {
		printf("Bad argument: set fwd: unknown mode '%s'; modes:\n", r->w3);
		tpmd_engines_list(stdout, "  ");
		return;
	}
	if (cli_t->running) {
		printf("set fwd %s: %s forwarding runs: stop forwarding first (nothing "
			"changed)\n", e->name, cli_t->engine->name);
		return;
	}
	cli_t->engine = e;
	printf("Set %s packet forwarding mode\n", e->name);
}

static void
cli_set_burst_parsed(void *res, struct cmdline *cl __rte_unused, void *data __rte_unused)
{
	struct cli_words *r = res;
	uint64_t n;
	char err[128];

	if (tide_app_parse_u64(r->w3, 1, TPMD_MAX_BURST, &n, err, sizeof(err)) != 0) {
		printf("Bad argument: set burst: %s\n", err);
		return;
	}
	__atomic_store_n(&cli_t->burst, (unsigned int)n, __ATOMIC_RELAXED);
	printf("Number of packets per burst set to %u\n", (unsigned int)n);
	/* bursty's delay lines are made of slots of one burst, at start. */
	if (cli_t->engine == &tpmd_engine_bursty && cli_t->running)
		printf("bursty mode receives bursts of %u from the next start (its delay lines "
			"are made at start for one burst size)\n", (unsigned int)n);
	else if (cli_t->engine == &tpmd_engine_zctx)
		printf("zctx mode submits %u sends at a time; the send agent makes its own TX "
			"bursts\n", (unsigned int)n);
}

/*
 * The walls in MB every pool takes (tide_pool_wall_set()): from its base block, whole
 * hugepages, up to the wall it was created with, which sized its mempool. The library
 * keeps the latter to itself: it is --pool-wall, which tidepmd created every pool with.
 * 0, or -1 when a pool's blocks cannot be listed.
 */
static int
cli_wall_range(uint64_t *min, uint64_t *max)
{
	struct tide_pool_block base;

	*min = 1;
	*max = cli_t->cfg.pool_wall_mb;
	for (unsigned int i = 0; i < cli_t->pools->nb_pools; i++) {
		/* Blocks are listed oldest first: the base, never reaped, comes first. */
		if (tide_pool_block_list(cli_t->pools->pools[i], &base, 1) < 1)
			return -1;
		*min = RTE_MAX(*min, (base.bytes + (1u << 20) - 1) >> 20);
	}
	return 0;
}

static void
cli_set_pool_parsed(void *res, struct cmdline *cl __rte_unused, void *data __rte_unused)
{
	static const struct {
		const char *name, *unit;
		enum tpmd_pool_knob knob;
		uint64_t min, max;
	} knobs[] = {
		{ "wall", "MB", TPMD_POOL_WALL, 0, 0 }, /* the pools' own: cli_wall_range() */
		{ "idle", "ms", TPMD_POOL_IDLE, 1, 3600000 },
		{ "reap", "ms", TPMD_POOL_REAP, 0, 3600000 },
	};
	struct cli_words *r = res;
	unsigned int k = 0;
	uint64_t v, min, max;
	char err[128];
	int ret;

	while (strcmp(knobs[k].name, r->w3) != 0)
		k++; /* the token accepts these three words only */
	min = knobs[k].min;
	max = knobs[k].max;
	if (knobs[k].knob == TPMD_POOL_WALL && cli_wall_range(&min, &max) != 0) {
		printf("set pool wall: cannot list the pools' blocks to find their base "
			"(nothing changed)\n");
		return;
	}
	if (tide_app_parse_u64(r->w4, min, max, &v, err, sizeof(err)) != 0) {
		printf("Bad argument: set pool %s (%s): %s\n", knobs[k].name, knobs[k].unit, err);
		return;
	}
	/* Every socket's pool alike. */
	for (unsigned int i = 0; i < cli_t->pools->nb_pools; i++) {
		struct rte_mempool *mp = cli_t->pools->pools[i];

		ret = tpmd_pool_tune(mp, knobs[k].knob, v);
		if (ret != 0)
			printf("Pool %s: set pool %s %" PRIu64 ": %s (nothing changed)\n",
				mp->name, knobs[k].name, v, rte_strerror(-ret));
		else
			printf("Pool %s: %s set to %" PRIu64 " %s\n", mp->name, knobs[k].name,
				v, knobs[k].unit);
	}
}

/* ---- tokens and instances ---- */

#define CLI_TOKEN(n, field, str) \
	static cmdline_parse_token_string_t n = TOKEN_STRING_INITIALIZER(struct cli_words, \
		field, str)

CLI_TOKEN(tok_start, w1, "start");
CLI_TOKEN(tok_tx_first, w2, "tx_first");
CLI_TOKEN(tok_count, w3, NULL);
CLI_TOKEN(tok_stop, w1, "stop");
CLI_TOKEN(tok_quit, w1, "quit");
CLI_TOKEN(tok_help, w1, "help");
CLI_TOKEN(tok_show_clear, w1, "show#clear");
CLI_TOKEN(tok_show, w1, "show");
CLI_TOKEN(tok_port, w2, "port");
CLI_TOKEN(tok_stats, w3, "stats");
CLI_TOKEN(tok_port_id, w4, NULL);
CLI_TOKEN(tok_objects, w2, "pool#xchg#zctx");
CLI_TOKEN(tok_pool2, w2, "pool");
CLI_TOKEN(tok_name, w3, NULL);
CLI_TOKEN(tok_config, w2, "config");
CLI_TOKEN(tok_fwd3, w3, "fwd");
CLI_TOKEN(tok_set, w1, "set");
CLI_TOKEN(tok_fwd2, w2, "fwd");
CLI_TOKEN(tok_mode, w3, NULL);
CLI_TOKEN(tok_burst, w2, "burst");
CLI_TOKEN(tok_value3, w3, NULL);
CLI_TOKEN(tok_knob, w3, "wall#idle#reap");
CLI_TOKEN(tok_value4, w4, NULL);

#define T(tok) ((void *)&(tok))
#define CLI_INST(n, fn, d, help, ...) \
	static cmdline_parse_inst_t n = { .f = fn, .data = d, .help_str = help, \
		.tokens = { __VA_ARGS__, NULL } }

CLI_INST(cmd_start, cli_start_parsed, NULL, "start: start forwarding", T(tok_start));
CLI_INST(cmd_start_tx_first, cli_start_tx_first_parsed, NULL,
	"start tx_first: send a burst on every TX queue, then forward", T(tok_start),
	T(tok_tx_first));
CLI_INST(cmd_start_tx_first_n, cli_start_tx_first_parsed, (void *)1,
	"start tx_first N: send N bursts (1..1024) on every TX queue, then forward", T(tok_start),
	T(tok_tx_first), T(tok_count));
CLI_INST(cmd_stop, cli_stop_parsed, NULL, "stop: stop forwarding", T(tok_stop));
CLI_INST(cmd_quit, cli_quit_parsed, NULL, "quit: stop forwarding and exit", T(tok_quit));
CLI_INST(cmd_help, cli_help_parsed, NULL, "help: the commands", T(tok_help));
CLI_INST(cmd_port_stats, cli_port_stats_parsed, NULL,
	"show|clear port stats all|N: port statistics", T(tok_show_clear), T(tok_port),
	T(tok_stats), T(tok_port_id));
CLI_INST(cmd_show, cli_show_parsed, NULL, "show pool|xchg|zctx", T(tok_show), T(tok_objects));
CLI_INST(cmd_show_pool_name, cli_show_pool_name_parsed, NULL, "show pool NAME", T(tok_show),
	T(tok_pool2), T(tok_name));
CLI_INST(cmd_show_config, cli_show_config_parsed, NULL,
	"show config fwd: lcores and streams", T(tok_show), T(tok_config), T(tok_fwd3));
CLI_INST(cmd_set_fwd, cli_set_fwd_parsed, NULL, "set fwd MODE", T(tok_set), T(tok_fwd2),
	T(tok_mode));
CLI_INST(cmd_set_burst, cli_set_burst_parsed, NULL, "set burst N", T(tok_set), T(tok_burst),
	T(tok_value3));
CLI_INST(cmd_set_pool, cli_set_pool_parsed, NULL, "set pool wall|idle|reap VALUE", T(tok_set),
	T(tok_pool2), T(tok_knob), T(tok_value4));

static cmdline_parse_ctx_t cli_ctx[] = {
	&cmd_start, &cmd_start_tx_first, &cmd_start_tx_first_n, &cmd_stop, &cmd_quit,
	&cmd_help, &cmd_port_stats, &cmd_show, &cmd_show_pool_name, &cmd_show_config,
	&cmd_set_fwd, &cmd_set_burst, &cmd_set_pool, NULL,
};

/*
 * cmdline_interact(), but a signal ends it too (tide_app_quit()), not only quit, Ctrl-D or
 * the end of the input: SIGINT or SIGTERM may come while a command runs, or go to another
 * thread, with no read() of the prompt's there for it to interrupt. So the prompt waits
 * for input CLI_QUIT_POLL_MS at a time and looks at the flag in between. At a terminal,
 * Ctrl-C sends no signal: cmdline_stdin_new() turns ISIG off, and rdline takes Ctrl-C as
 * "clear the line". The signals come from kill (or, input not a terminal, from its Ctrl-C).
 */
static void
cli_interact(struct cmdline *cl)
{
	struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };

	while (!tide_app_quit()) {
		int n = poll(&in, 1, CLI_QUIT_POLL_MS);

		if (n < 0 && errno != EINTR)
			break;
		/* One character, or the end of the input (an implicit quit). */
		if (n > 0 && cmdline_poll(cl) != RDLINE_RUNNING)
			break;
	}
	if (tide_app_quit())
		printf("\ntidepmd: a signal ends the prompt\n");
}

int
tpmd_prompt(struct tpmd *t)
{
	struct cmdline *cl;

	cli_t = t;
	cl = tpmd_test_fault("prompt") ? NULL : cmdline_stdin_new(cli_ctx, "tidepmd> ");
	if (cl == NULL) {
		fprintf(stderr, "tidepmd: cannot start the prompt\n");
		return -ENOMEM;
	}
	cli_interact(cl);
	cmdline_stdin_exit(cl);
	printf("\n");
	return 0;
}
