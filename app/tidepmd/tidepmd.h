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

/* Per-worker counters, written by that worker only. */
struct tpmd_counters {
	struct tide_app_fwd_counts fwd;
} __rte_cache_aligned;

struct tpmd_config {
	uint64_t duration_s;     /* 0: until Ctrl-C */
	unsigned int burst;      /* packets per rx/tx burst */
	unsigned int stats_period_ms;
	unsigned int rxd, txd;   /* descriptors per queue */
	size_t pool_base_mb, pool_block_mb, pool_wall_mb;
	unsigned int pool_cache;
	const char *mode;
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
	volatile bool stop;
	void *mode_ctx;          /* the mode's own state (init/fini) */
};

/* A forwarding mode. */
struct tpmd_mode {
	const char *name;
	const char *help;
	int (*worker)(struct tpmd *t, unsigned int w); /* runs on worker w until t->stop */
	int (*init)(struct tpmd *t);                   /* optional: before the workers */
	void (*fini)(struct tpmd *t);                  /* optional: after them */
	void (*stats)(const struct tpmd *t);           /* optional: more of the stats line */
};

/* ports.c */
int tpmd_ports_init(struct tpmd *t);
void tpmd_ports_close(struct tpmd *t);
uint16_t tpmd_peer(const struct tpmd *t, unsigned int port_idx);
uint64_t tpmd_rx_nombuf(const struct tpmd *t);

/* fwd_io.c */
extern const struct tpmd_mode tpmd_mode_io;

/* zctx_send.c */
extern const struct tpmd_mode tpmd_mode_zctx;

/* stats.c */
void tpmd_stats_loop(struct tpmd *t, const struct tpmd_mode *m);

#endif
