/* SPDX-License-Identifier: BSD-3-Clause */

/* The command line. Every number is checked (tide_app_opt.h): range, sign, garbage. */

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tide_app_opt.h"
#include "tide_zctx.h"
#include "tidepmd.h"

bool
tpmd_test_fault(const char *name)
{
#ifdef TIDE_FAULT_INJECTION
	const char *fault = getenv("TIDEPMD_TEST_FAULT");

	return fault != NULL && strcmp(fault, name) == 0;
#else
	RTE_SET_USED(name);
	return false;
#endif
}

/* The default workload: bursts of 1 Mpps per stream for 2 s, held 25 ms, 4 s apart. */
#define TPMD_TRACE_DEFAULT "1:2000,0:4000"
#define TPMD_HOLD_MS_DEFAULT 25

/* Every --mode: the forwarding engines, and worker (a secondary's only mode). */
static void
tpmd_modes_list(FILE *f)
{
	tpmd_engines_list(f, "  ");
	fprintf(f, "  %-9s %s\n", TPMD_MODE_WORKER, "a secondary process (--proc-type=secondary): "
		"stage 2 of a primary's --mode pipeline --mp-workers N");
}

void
tpmd_usage(const char *prog)
{
	printf("usage: %s [EAL args --] [options]\n"
		"  -i, --interactive    command prompt (start, stop, show, set...; 'help' there);\n"
		"                       not with --duration or --stats-period (no stats line),\n"
		"                       nor --tx-first (the prompt has 'start tx_first')\n"
		"  --auto-start         with -i: start forwarding at once\n"
		"  --mode NAME          forwarding mode (default bursty); also --forward-mode\n"
		"  --duration SEC       stop after SEC seconds, 0..31536000 (default 0: until "
		"Ctrl-C); not with -i\n"
		"  --stats-period MS    stats line period, 10..3600000 (default 1000); "
		"not with -i\n"
		"  --burst N            packets per burst, 1..%d (default 32): per RX and TX\n"
		"                       call; bursty: per receive; pipeline: both stages; zctx:\n"
		"                       sends submitted at a time (the agent makes its own TX\n"
		"                       bursts)\n"
		"  --nb-cores N         forwarding lcores, 1..%d (default: every worker lcore)\n"
		"  --rxq N, --txq N     queues per port, 1..%d (default 1)\n"
		"  --rxd N, --txd N     descriptors per queue, 32..16384 (default 1024), within\n"
		"                       what every port takes (its minimum, maximum, multiple)\n"
		"  --txpkts N           txonly, --tx-first: packet length, 64..2048 (default 64)\n"
		"  --tx-first           send a burst on every TX queue first (loopback ports);\n"
		"                       not with -i\n"
		"  --pool-base MB       elastic pool base block, 2..65536 (default 16)\n"
		"  --pool-block MB      elastic pool added block, 2..4096, at most --pool-wall "
		"(default 8)\n"
		"  --pool-wall MB       elastic pool wall, 2..1048576 (default 512); base and\n"
		"                       block are rounded up to whole hugepages\n"
		"  --pool-cache N       per-lcore cache, 0..512 (default 256)\n"
		"  --trace RATE:MS,...  bursty: receive rate phases per stream, Mpps:ms, "
		"repeated;\n"
		"                       1..%d phases of 0..1000 Mpps for 0.001..86400000 ms, "
		"decimal\n"
		"                       (default " TPMD_TRACE_DEFAULT ")\n"
		"  --hold-ms MS         bursty: how long each packet is held, 1..60000 "
		"(default %d);\n"
		"                       --trace's peak Mpps x MS at most %u\n"
		"  --zctx-sizes LIST    zctx: payload sizes, cycled; 1..%d sizes of 1..%u bytes, "
		"none\n"
		"                       past --zctx-buf-mb (default 64,1500,9000,65536)\n"
		"  --zctx-buf-mb MB     zctx: malloc'd buffer sent from, 1..1024 (default 4)\n"
		"  --zctx-threshold N   zctx: copy below N bytes, 0..1048576, or 'adaptive' "
		"(default)\n"
		"  --donors             grow the pool on blocks from donor processes past this\n"
		"                       process's hugepage limit (EAL --socket-limit)\n"
		"  --mp-workers N       pipeline: stage 2 in N worker lcores of secondary "
		"tidepmds,\n"
		"                       1..%d, each on TX queue 0..N-1 (needs --txq >= N)\n"
		"  -h, --help           this text\n"
		"whole numbers may be written in hexadecimal (0x40); --trace takes decimal "
		"only\n"
		"options marked with modes (bursty:, zctx:, txonly) are refused in other modes,\n"
		"but with -i, where 'set fwd' changes the mode\n"
		"modes:\n", prog, TPMD_MAX_BURST, TPMD_MAX_LCORES, TPMD_MAX_QUEUES,
		TIDE_APP_TRACE_MAX_PHASES, TPMD_HOLD_MS_DEFAULT, TIDE_APP_HOLD_MAX_PKTS / 1000,
		TPMD_ZCTX_MAX_SIZES, TIDE_ZCTX_MAX_SEND, TPMD_MAX_QUEUES);
	tpmd_modes_list(stdout);
}

static void
tpmd_defaults(struct tpmd_config *c)
{
	*c = (struct tpmd_config){
		.burst = 32, .stats_period_ms = 1000, .rxd = 1024, .txd = 1024,
		.rxq = 1, .txq = 1, .txpkts = 64,
		.pool_base_mb = 16, .pool_block_mb = 8, .pool_wall_mb = 512, .pool_cache = 256,
		.mode = "bursty", .hold_ms = TPMD_HOLD_MS_DEFAULT,
		.zctx_sizes = "64,1500,9000,65536", .zctx_buf_mb = 4, .zctx_threshold = UINT32_MAX,
	};
}

static int
tpmd_opt_threshold(const char *arg, uint32_t *v)
{
	uint64_t x;
	char err[160];

	if (strcmp(arg, "adaptive") == 0) {
		*v = UINT32_MAX;
		return 0;
	}
	if (tide_app_parse_u64(arg, 0, 1u << 20, &x, err, sizeof(err)) != 0) {
		fprintf(stderr, "tidepmd: --zctx-threshold: %s, or adaptive\n", err);
		return -EINVAL;
	}
	*v = (uint32_t)x;
	return 0;
}

static int
tpmd_opt_mode(const char *arg, const char **mode)
{
	if (tpmd_engine_find(arg) == NULL && strcmp(arg, TPMD_MODE_WORKER) != 0) {
		fprintf(stderr, "tidepmd: --mode: unknown mode '%s'; modes:\n", arg);
		tpmd_modes_list(stderr);
		return -EINVAL;
	}
	*mode = arg;
	return 0;
}

static const struct option tpmd_opts[] = {
	{ "interactive", no_argument, NULL, 'i' },
	{ "auto-start", no_argument, NULL, 'A' },
	{ "mode", required_argument, NULL, 'm' },
	{ "forward-mode", required_argument, NULL, 'm' },
	{ "duration", required_argument, NULL, 'd' },
	{ "burst", required_argument, NULL, 'b' },
	{ "stats-period", required_argument, NULL, 's' },
	{ "rxd", required_argument, NULL, 'r' },
	{ "txd", required_argument, NULL, 't' },
	{ "nb-cores", required_argument, NULL, 'n' },
	{ "rxq", required_argument, NULL, 'Q' },
	{ "txq", required_argument, NULL, 'q' },
	{ "txpkts", required_argument, NULL, 'p' },
	{ "tx-first", no_argument, NULL, 'F' },
	{ "pool-base", required_argument, NULL, 'B' },
	{ "pool-block", required_argument, NULL, 'K' },
	{ "pool-wall", required_argument, NULL, 'W' },
	{ "pool-cache", required_argument, NULL, 'C' },
	{ "trace", required_argument, NULL, 'T' },
	{ "hold-ms", required_argument, NULL, 'H' },
	{ "zctx-sizes", required_argument, NULL, 'S' },
	{ "zctx-buf-mb", required_argument, NULL, 'U' },
	{ "zctx-threshold", required_argument, NULL, 'Z' },
	{ "mp-workers", required_argument, NULL, 'M' },
	{ "donors", no_argument, NULL, 'D' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option; 0, or -EINVAL after printing why. */
static int
tpmd_opt(int opt, const char *arg, struct tpmd_config *c)
{
	switch (opt) {
	case 'i': c->interactive = true; return 0;
	case 'A': c->auto_start = true; return 0;
	case 'F': c->tx_first = true; return 0;
	case 'D': c->donors = true; return 0;
	case 'm': return tpmd_opt_mode(arg, &c->mode);
	case 'd': return tide_app_opt_u64("--duration", arg, 0, 31536000, &c->duration_s);
	case 'b': return tide_app_opt_uint("--burst", arg, 1, TPMD_MAX_BURST, &c->burst);
	case 's':
		return tide_app_opt_uint("--stats-period", arg, 10, 3600000, &c->stats_period_ms);
	case 'r': return tide_app_opt_uint("--rxd", arg, 32, 16384, &c->rxd);
	case 't': return tide_app_opt_uint("--txd", arg, 32, 16384, &c->txd);
	case 'n': return tide_app_opt_uint("--nb-cores", arg, 1, TPMD_MAX_LCORES, &c->nb_cores);
	case 'Q': return tide_app_opt_uint("--rxq", arg, 1, TPMD_MAX_QUEUES, &c->rxq);
	case 'q': return tide_app_opt_uint("--txq", arg, 1, TPMD_MAX_QUEUES, &c->txq);
	case 'p': return tide_app_opt_uint("--txpkts", arg, 64, 2048, &c->txpkts);
	case 'B': return tide_app_opt_size("--pool-base", arg, 2, 65536, &c->pool_base_mb);
	case 'K': return tide_app_opt_size("--pool-block", arg, 2, 4096, &c->pool_block_mb);
	case 'W': return tide_app_opt_size("--pool-wall", arg, 2, 1048576, &c->pool_wall_mb);
	case 'C': return tide_app_opt_uint("--pool-cache", arg, 0, 512, &c->pool_cache);
	case 'T': return tide_app_trace_parse(arg, &c->trace);
	case 'H': return tide_app_opt_uint("--hold-ms", arg, 1, 60000, &c->hold_ms);
	case 'S': c->zctx_sizes = arg; return 0;
	case 'U': return tide_app_opt_size("--zctx-buf-mb", arg, 1, 1024, &c->zctx_buf_mb);
	case 'Z': return tpmd_opt_threshold(arg, &c->zctx_threshold);
	case 'M':
		return tide_app_opt_uint("--mp-workers", arg, 1, TPMD_MAX_QUEUES, &c->mp_workers);
	default: return -EINVAL;
	}
}

/*
 * A worker process takes its primary's pools, ports, exchange and settings: of its own it
 * reads --burst, --duration and --stats-period only. Any other option given would do
 * nothing: -EINVAL after saying which.
 */
static int
tpmd_worker_refuses(const bool *given)
{
	for (const struct option *o = tpmd_opts; o->name != NULL; o++) {
		if (!given[(unsigned char)o->val] || strchr("mdsb", o->val) != NULL)
			continue;
		fprintf(stderr, "tidepmd: %s%s does not go with --mode worker: a worker takes its "
			"primary's pools, ports and settings (of its own it reads --burst, "
			"--duration and --stats-period)\n", o->val == 'i' ? "-" : "--",
			o->val == 'i' ? "i" : o->name);
		return -EINVAL;
	}
	return 0;
}

/* The long name of the option getopt gives as @p val. */
static const char *
tpmd_opt_name(int val)
{
	const struct option *o = tpmd_opts;

	while (o->name != NULL && o->val != val)
		o++;
	return o->name;
}

/*
 * Without the prompt the mode is the run's for good: an option that only other modes read
 * would do nothing. (With -i, 'set fwd' may give the mode that reads it.) -EINVAL after
 * saying which option, and which modes read it.
 */
static int
tpmd_mode_refuses(const struct tpmd_config *c, const bool *given)
{
	static const struct {
		int val;
		const char *mode;
	} own[] = {
		{ 'T', "bursty" }, { 'H', "bursty" },
		{ 'S', "zctx" }, { 'U', "zctx" }, { 'Z', "zctx" },
		{ 'p', "txonly" },
	};

	if (c->interactive)
		return 0;
	for (unsigned int i = 0; i < RTE_DIM(own); i++) {
		if (!given[(unsigned char)own[i].val] || strcmp(c->mode, own[i].mode) == 0)
			continue;
		/* --tx-first sends txonly's packets, in every mode. */
		if (own[i].val == 'p' && c->tx_first)
			continue;
		fprintf(stderr, "tidepmd: --%s goes with --mode %s%s: --mode %s does not read it "
			"(with -i it is taken: 'set fwd %s'%s reads it)\n",
			tpmd_opt_name(own[i].val), own[i].mode,
			own[i].val == 'p' ? " or --tx-first" : "", c->mode, own[i].mode,
			own[i].val == 'p' ? " or 'start tx_first'" : "");
		return -EINVAL;
	}
	return 0;
}

/* 0 to run, 1 when done (--help), -EINVAL on a bad command line (after saying why). */
int
tpmd_parse(int argc, char **argv, struct tpmd_config *c)
{
	const char *timed = NULL; /* --duration or --stats-period: the stats loop's */
	bool given[UCHAR_MAX + 1] = { false }; /* by getopt's value */
	int opt;

	tpmd_defaults(c);
	if (tide_app_trace_parse(TPMD_TRACE_DEFAULT, &c->trace) != 0)
		return -EINVAL;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "ih", tpmd_opts, NULL)) != -1) {
		if (opt == 'h') {
			tpmd_usage(argv[0]);
			return 1;
		}
		if (opt == '?') {
			fprintf(stderr, "tidepmd: see --help (EAL arguments go first, then --)\n");
			return -EINVAL;
		}
		if (tpmd_opt(opt, optarg, c) != 0)
			return -EINVAL;
		given[(unsigned char)opt] = true;
		if (opt == 'd' || opt == 's')
			timed = opt == 'd' ? "--duration" : "--stats-period";
	}
	if (optind < argc) {
		fprintf(stderr, "tidepmd: unexpected argument '%s' (EAL arguments go first, "
			"then --)\n", argv[optind]);
		return -EINVAL;
	}
	/* The prompt has no stats loop to read them: it runs until 'quit', shows on demand. */
	if (c->interactive && timed != NULL) {
		fprintf(stderr, "tidepmd: %s does not go with -i: the prompt runs until 'quit' "
			"and shows statistics when asked ('show port stats all')\n", timed);
		return -EINVAL;
	}
	/* As testpmd: the prompt's 'start tx_first' says it where it applies. */
	if (c->interactive && c->tx_first) {
		fprintf(stderr, "tidepmd: --tx-first cannot be used on interactive mode: type "
			"'start tx_first' at the prompt\n");
		return -EINVAL;
	}
	/* Without the prompt forwarding starts anyway: the option would do nothing. */
	if (c->auto_start && !c->interactive) {
		fprintf(stderr, "tidepmd: --auto-start goes with -i: without the prompt, "
			"forwarding starts at once anyway\n");
		return -EINVAL;
	}
	if (tpmd_zctx_sizes_check(c) != 0)
		return -EINVAL;
	/* Here, not at --trace or --hold-ms: together, in either order. */
	if (tide_app_trace_hold_check(&c->trace, c->hold_ms) != 0)
		return -EINVAL;
	if (strcmp(c->mode, TPMD_MODE_WORKER) == 0 && tpmd_worker_refuses(given) != 0)
		return -EINVAL;
	if (strcmp(c->mode, TPMD_MODE_WORKER) != 0 && tpmd_mode_refuses(c, given) != 0)
		return -EINVAL;
	if (c->mp_workers != 0 && strcmp(c->mode, "pipeline") != 0) {
		fprintf(stderr, "tidepmd: --mp-workers goes with --mode pipeline\n");
		return -EINVAL;
	}
	/* Donor memory is mapped in this process alone: the library refuses secondaries. */
	if (c->mp_workers != 0 && c->donors) {
		fprintf(stderr, "tidepmd: --donors does not go with --mp-workers: donor memory is "
			"mapped in this process alone, and worker processes would fault on it\n");
		return -EINVAL;
	}
	if (c->mp_workers > c->txq) {
		fprintf(stderr, "tidepmd: --mp-workers %u needs as many TX queues per port "
			"(--txq %u)\n", c->mp_workers, c->txq);
		return -EINVAL;
	}
	if (c->pool_base_mb > c->pool_wall_mb) {
		fprintf(stderr, "tidepmd: --pool-base (%zu MB) is above --pool-wall (%zu MB)\n",
			c->pool_base_mb, c->pool_wall_mb);
		return -EINVAL;
	}
	/* tide_pool_create() refuses it too, but only once EAL is up. */
	if (c->pool_block_mb > c->pool_wall_mb) {
		fprintf(stderr, "tidepmd: --pool-block (%zu MB) is above --pool-wall (%zu MB)\n",
			c->pool_block_mb, c->pool_wall_mb);
		return -EINVAL;
	}
	return 0;
}
