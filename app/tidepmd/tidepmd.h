/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDEPMD_H
#define TIDEPMD_H

/*
 * tidepmd: a testpmd-like demo of tidepool. Ports are paired (0<->1, 2<->3...); every
 * worker lcore owns one RX and one TX queue on each port and runs the selected mode's
 * loop; the main lcore prints a stats line every period.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mempool.h>

#define TPMD_MAX_PORTS 8
#define TPMD_MAX_WORKERS RTE_MAX_LCORE

#include "tide_app.h"
#include "tide_app_trace.h"

/* Per-worker counters, written by that worker only. */
struct tpmd_counters {
	struct tide_app_fwd_counts fwd;    /* io mode */
	struct tide_app_burst_stats burst; /* bursty mode */
} __rte_cache_aligned;

struct tpmd_config {
	uint64_t duration_s;     /* 0: until Ctrl-C */
	unsigned int burst;      /* packets per rx/tx burst */
	unsigned int stats_period_ms;
	unsigned int rxd, txd;   /* descriptors per queue */
	size_t pool_base_mb, pool_block_mb, pool_wall_mb;
	unsigned int pool_cache;
	const char *mode;
	struct tide_app_trace trace; /* bursty mode: rate phases */
	unsigned int hold_ms;        /* bursty mode: how long each packet is held */
	const char *zctx_sizes;  /* zctx mode: payload sizes, comma-separated, cycled */
	size_t zctx_buf_mb;      /* zctx mode: malloc'd buffer sent from */
	uint32_t zctx_threshold; /* zctx mode: copy threshold (UINT32_MAX: adaptive) */
};

struct tpmd {
	struct tpmd_config cfg;
	struct rte_mempool *pool;
	uint16_t nb_ports;
	uint16_t ports[TPMD_MAX_PORTS];
	unsigned int nb_workers;
	unsigned int worker_lcore[TPMD_MAX_WORKERS];
	struct tpmd_counters counters[TPMD_MAX_WORKERS];
	struct tpmd_counters main_counters; /* what the main lcore does in some modes */
	const struct tpmd_mode *mode;
	volatile bool stop;
	void *mode_ctx;          /* the mode's own state (setup/teardown) */
};

/* A forwarding mode. Only worker is required. */
struct tpmd_mode {
	const char *name;
	const char *help;
	int (*setup)(struct tpmd *t);                  /* before the workers start */
	int (*worker)(struct tpmd *t, unsigned int w); /* runs on worker w until t->stop */
	void (*main_poll)(struct tpmd *t);             /* the main lcore's share, in a loop */
	int (*stats)(struct tpmd *t, char *buf, size_t len); /* more for the stats line */
	void (*teardown)(struct tpmd *t);              /* after the workers stopped */
};

/* ports.c */
int tpmd_ports_init(struct tpmd *t);
void tpmd_ports_close(struct tpmd *t);
uint16_t tpmd_peer(const struct tpmd *t, unsigned int port_idx);
uint64_t tpmd_rx_nombuf(const struct tpmd *t);

/* fwd_io.c */
extern const struct tpmd_mode tpmd_mode_io;

/* fwd_bursty.c */
extern const struct tpmd_mode tpmd_mode_bursty;

/* fwd_pipeline.c */
extern const struct tpmd_mode tpmd_mode_pipeline;

/* zctx_send.c */
extern const struct tpmd_mode tpmd_mode_zctx;

/* stats.c */
void tpmd_stats_loop(struct tpmd *t);

#endif
