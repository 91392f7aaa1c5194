/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDEPMD_H
#define TIDEPMD_H

/*
 * tidepmd: a testpmd-like demo of tidepool.
 *
 * Ports are paired (0<->1, 2<->3...). Forwarding follows testpmd: a forwarding engine
 * (mode) runs on the forwarding lcores (workers; never the main lcore); its work is cut
 * into streams, each one RX queue and/or one TX queue, and every stream belongs to one
 * lcore, with the streams that share a TX queue on the same lcore, so that no queue is
 * ever touched by two lcores. The main lcore runs either the stats line (a run with a
 * duration or until Ctrl-C) or the command prompt (-i); the pool's control thread grows
 * and reaps the pool on the side.
 *
 * A forwarding engine is one fwd_<name>.c file with a struct tpmd_engine and one line in
 * fwd.c's table. It either forwards one burst of one stream at a time (burst: the lcore
 * loop is fwd.c's) or runs its own loop (loop).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tide_app.h"
#include "tide_app_trace.h"
#include "tide_pool.h"

#define TPMD_MAX_PORTS 8
#define TPMD_MAX_QUEUES 16
#define TPMD_MAX_BURST TIDE_APP_MAX_BURST /* 512: bursty's delay lines take as many */
#define TPMD_MAX_STREAMS (TPMD_MAX_PORTS * TPMD_MAX_QUEUES)
#define TPMD_MAX_LCORES 64
#define TPMD_ZCTX_MAX_SIZES 16 /* --zctx-sizes: the mix's longest list */

/* Counts of one forwarding lcore; written by that lcore only (relaxed), read by the main
 * lcore. Reset at every start.
 */
struct tpmd_counters {
	uint64_t rx;     /* packets received */
	uint64_t tx;     /* packets sent (zctx: sends completed) */
	uint64_t drops;  /* packets freed: TX refused them, or no room to hold them */
	uint64_t nombuf; /* packets not received for want of an mbuf (counted by the mode) */
	uint64_t freed_stop; /* packets held or waiting when the run stopped, freed then:
			      * every packet received was sent, dropped or freed so */
} __rte_cache_aligned;

/* One RX queue and/or one TX queue, handled by one lcore. */
struct tpmd_stream {
	uint16_t rx_port, rx_queue; /* if has_rx */
	uint16_t tx_port, tx_queue; /* if has_tx */
	uint8_t rx_pi, tx_pi;       /* the ports' indexes in tpmd.ports */
	bool has_rx, has_tx;
	bool rx_null;               /* the RX port is net_null: it always has packets */
};

struct tpmd;

/* A forwarding lcore and the streams it owns. */
struct tpmd_lcore {
	struct tpmd_counters cnt;
	struct tpmd *t;
	unsigned int lcore_id;
	unsigned int idx;           /* 0 .. nb_fwd_lcores - 1 */
	unsigned int nb_streams;
	struct tpmd_stream *streams[TPMD_MAX_STREAMS];
	void *ctx;                  /* the engine's, for this lcore */
	bool launched;              /* main lcore: running this run's loop, to be waited for */
} __rte_cache_aligned;

/* How an engine's streams are laid out. */
enum tpmd_layout {
	TPMD_LAYOUT_FWD,    /* RX queue q of a port -> TX queue q (mod txq) of its peer */
	TPMD_LAYOUT_RX,     /* RX queues, spread over the lcores */
	TPMD_LAYOUT_TX,     /* TX queues, spread over the lcores */
	TPMD_LAYOUT_RX_ONE, /* RX queues, all on the first lcore */
};

/* A forwarding engine. burst or loop is required. */
struct tpmd_engine {
	const char *name;
	const char *help;
	enum tpmd_layout layout;
	bool all_lcores;            /* runs on every forwarding lcore, with streams or not */
	int (*begin)(struct tpmd *t);               /* main lcore, before the lcores start */
	void (*burst)(struct tpmd_lcore *lc, struct tpmd_stream *s, unsigned int burst);
	int (*loop)(struct tpmd_lcore *lc);         /* until t->stop */
	int (*stats)(struct tpmd *t, char *buf, size_t len); /* more for the stats line */
	void (*end)(struct tpmd *t);                /* main lcore, after the lcores stopped */
};

struct tpmd_config {
	uint64_t duration_s;     /* 0: until Ctrl-C */
	unsigned int burst;      /* packets per rx/tx burst (bursty: per receive, taken at
				  * start; zctx: sends per submission) */
	unsigned int stats_period_ms;
	unsigned int rxd, txd;   /* descriptors per queue */
	unsigned int nb_cores;   /* forwarding lcores (0: every worker lcore) */
	unsigned int rxq, txq;   /* queues per port */
	unsigned int txpkts;     /* txonly, tx_first: packet length */
	bool interactive;        /* -i: the prompt */
	bool auto_start;         /* -i: start forwarding at once */
	bool tx_first;           /* send a burst on every TX queue before forwarding */
	size_t pool_base_mb, pool_block_mb, pool_wall_mb;
	unsigned int pool_cache;
	const char *mode;
	struct tide_app_trace trace; /* bursty mode: rate phases */
	unsigned int hold_ms;        /* bursty mode: how long each packet is held */
	const char *zctx_sizes;  /* zctx mode: payload sizes, comma-separated, cycled */
	size_t zctx_buf_mb;      /* zctx mode: malloc'd buffer sent from */
	uint32_t zctx_threshold; /* zctx mode: copy threshold (UINT32_MAX: adaptive) */
	bool donors;             /* --donors: pool blocks from donor processes past the heap */
	unsigned int mp_workers; /* pipeline mode: stage 2 in this many worker lcores of
	                          * secondary processes (0: in this process) */
};

/* The mode of a secondary tidepmd: stage 2 of a primary's pipeline (worker.c). */
#define TPMD_MODE_WORKER "worker"

struct tpmd {
	struct tpmd_config cfg;
	struct tide_pool_per_socket *pools;      /* one elastic pool per NUMA socket in use */
	struct rte_mempool *pool;                /* the main lcore's socket's */
	uint16_t nb_ports;
	uint16_t ports[TPMD_MAX_PORTS];
	bool port_null[TPMD_MAX_PORTS];          /* by index: a net_null port */
	struct rte_ether_addr port_mac[TPMD_MAX_PORTS];
	const struct tpmd_engine *engine;
	unsigned int burst;                      /* live: set burst changes it */
	unsigned int nb_fwd_lcores;
	struct tpmd_lcore lcores[TPMD_MAX_LCORES];
	unsigned int nb_streams;
	struct tpmd_stream streams[TPMD_MAX_STREAMS];
	volatile bool stop;                      /* tells the forwarding lcores to stop */
	volatile bool lcore_failed;              /* a forwarding lcore's loop failed: the
						  * stats loop ends the run */
	bool running;
	bool run_failed;                         /* a run's lcore failed: -i exits non-zero */
	uint64_t start_ns;                       /* of the current run */
	uint64_t end_ns;                         /* when its forwarding ended (stop) */
	unsigned int stop_sigs;                  /* the stop's: tpmd_fwd_stop() */
	struct tpmd_counters done;               /* of the runs already stopped */
	struct tpmd_counters lcore_done[TPMD_MAX_LCORES]; /* the same, per lcore */
	void *engine_ctx;                        /* the engine's (begin/end) */
};

/* options.c */
int tpmd_parse(int argc, char **argv, struct tpmd_config *c);
/* Whether a test asked for fault @name (TIDEPMD_TEST_FAULT; fault-injection builds only). */
bool tpmd_test_fault(const char *name);
void tpmd_usage(const char *prog);

/* ports.c */
/* Every port in t->ports; -EINVAL (it said why) past TPMD_MAX_PORTS or for an odd count. */
int tpmd_ports_find(struct tpmd *t);
/* The ports tpmd_ports_find() found, configured and started. */
int tpmd_ports_init(struct tpmd *t);
void tpmd_ports_close(struct tpmd *t);
int tpmd_port_idx(const struct tpmd *t, uint16_t port);

/* fwd.c: engines, streams, start and stop */
const struct tpmd_engine *tpmd_engine_find(const char *name);
void tpmd_engines_list(FILE *f, const char *indent);
int tpmd_fwd_start(struct tpmd *t, unsigned int tx_first_bursts);
/* 0, or -EIO when a forwarding lcore failed (it said why): the run lacked its streams.
 * @p sigs: tide_app_signal_count() when the stop was asked; a SIGINT or SIGTERM past it
 * cuts short the stop's waits for worker processes. */
int tpmd_fwd_stop(struct tpmd *t, unsigned int sigs);
void tpmd_fwd_config_show(struct tpmd *t);
/* Send n packets on (port, queue); free and count what TX refused. */
void tpmd_send(struct tpmd_lcore *lc, uint16_t port, uint16_t queue, struct rte_mbuf **m,
	uint16_t n);
/* Totals: runs stopped plus the one going on, worker processes' included. */
void tpmd_counters_total(const struct tpmd *t, struct tpmd_counters *c);
/* Add @p from's counts to @p to's. */
void tpmd_counters_add(struct tpmd_counters *to, const struct tpmd_counters *from);

static inline void
tpmd_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* Engines, one file each. */
extern const struct tpmd_engine tpmd_engine_io;
extern const struct tpmd_engine tpmd_engine_macswap;
extern const struct tpmd_engine tpmd_engine_txonly;
extern const struct tpmd_engine tpmd_engine_rxonly;
extern const struct tpmd_engine tpmd_engine_bursty;
extern const struct tpmd_engine tpmd_engine_pipeline;
extern const struct tpmd_engine tpmd_engine_zctx;

/* fwd_txonly.c: fill n mbufs with the UDP packet port index pi sends. */
void tpmd_txonly_fill(const struct tpmd *t, unsigned int pi, struct rte_mbuf **m,
	unsigned int n);
/* fwd_zctx.c: the send agent's figures (show zctx); the --zctx-sizes check. */
void tpmd_zctx_show(const struct tpmd *t);
/* At exit: free a send agent kept past its run (sends were in flight), with the ports
 * stopped and started again on the way, or closed already (@p ports_closed); false if it is
 * still there. */
bool tpmd_zctx_kept_free(struct tpmd *t, bool ports_closed);
int tpmd_zctx_sizes_check(const struct tpmd_config *c);

/* fwd_pipeline.c: stage 2, for this process's lcores or a worker process's */
unsigned int tpmd_pipeline_work(struct tpmd_lcore *lc, uint16_t queue);
int tpmd_pipeline_attach(void);
void tpmd_pipeline_detach(void);

/* mp.c: the table of worker lcores the primary shares with its worker processes. The
 * primary's side: */
/* -EBUSY while a worker of the last run remains; else the last run's worker counts are
 * added to @p done (the runs stopped) before the slots are wiped. */
int tpmd_mp_open(unsigned int nb_slots, struct tpmd_counters *done);
unsigned int tpmd_mp_workers(void);
void tpmd_mp_counters_add(struct tpmd_counters *c);
/* Whether a worker of the last run is still there: in its slot, or its process alive. */
bool tpmd_mp_remain(void);
/* 0 once the workers are gone, -EBUSY if one remains after the wait, -EINTR if a SIGINT or
 * SIGTERM past @p sigs (tide_app_signal_count()) cut the wait short (either said what it
 * left). *left_ns: when their lcores had all left (their forwarding ended), if they did.
 * The @p pools do not reap meanwhile. */
int tpmd_mp_stop(struct tide_pool_per_socket *pools, unsigned int sigs, uint64_t *left_ns);
/* The worker's side: */
int tpmd_mp_attach(void);
/* Every lcore id of this process for it alone: 0, or -EBUSY (it said which lcore and which
 * process has it) when the primary or another worker runs one; given back at the end. */
int tpmd_mp_lcores_claim(void);
void tpmd_mp_lcores_release(void);
int tpmd_mp_claim(unsigned int lcore_id, struct tpmd_counters **cnt);
void tpmd_mp_release(int slot);
bool tpmd_mp_stopping(void);
unsigned int tpmd_mp_slots(void);

/* donors.c: --donors */
int tpmd_donors_start(struct tpmd *t);
int tpmd_donors_stats(char *buf, size_t len);
void tpmd_donors_stop(void);

/* worker.c: a secondary's whole run. */
int tpmd_worker_run(struct tpmd *t);

/* stats.c */
/* Until Ctrl-C, --duration or a failed lcore; then what tpmd_fwd_stop() returned. */
int tpmd_stats_loop(struct tpmd *t);
void tpmd_port_stats_show(const struct tpmd *t, int port);
void tpmd_port_stats_clear(const struct tpmd *t, int port);
void tpmd_fwd_stats_show(const struct tpmd *t);
void tpmd_fwd_stats_mark(const struct tpmd *t);

/* show.c */
void tpmd_show_pool(const struct tpmd *t, const char *name);
void tpmd_show_xchg(const struct tpmd *t);

/* pool_tune.c */
enum tpmd_pool_knob {
	TPMD_POOL_WALL, /* MB */
	TPMD_POOL_IDLE, /* ms */
	TPMD_POOL_REAP, /* ms */
};
int tpmd_pool_tune(struct rte_mempool *mp, enum tpmd_pool_knob knob, uint64_t value);

/* cmdline.c: until quit; -ENOMEM when there is no prompt (it said so). */
int tpmd_prompt(struct tpmd *t);

#endif
