/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_APP_TRACE_H
#define TIDE_APP_TRACE_H

/*
 * Bursty traffic for tidepmd's bursty mode and tide-bench's footprint scenario (not
 * installed).
 *
 * A trace is a cycle of phases, each a receive rate held for a duration ("2:1000,0:9000":
 * 2 Mpps for 1 s, then idle for 9 s). A paced loop receives on a port at the trace's rate
 * and holds every packet for a fixed time before sending it on the peer port (a delay
 * line, as a pipeline with that latency would: by Little's law it keeps rate x hold mbufs
 * out), so that the pool must grow during bursts and may shrink between them.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#define TIDE_APP_TRACE_MAX_PHASES 32
#define TIDE_APP_BURST 32      /* packets a receive asks for, as a rule */
#define TIDE_APP_MAX_BURST 512 /* the most a receive may ask for */

/*
 * Most packets a delay line may hold (peak rate x hold): 16 M, a delay line of about
 * 280 MB at a burst of 32 (770 MB at a burst of 1) and some 35 GB of mbufs, past any pool
 * these programs make; above it the line would be too large to allocate, or its slot count
 * would not fit its counters.
 */
#define TIDE_APP_HOLD_MAX_PKTS (1u << 24)

struct tide_app_phase {
	double mpps;  /* receive rate */
	uint64_t ns;  /* duration */
};

struct tide_app_trace {
	unsigned int nb;
	struct tide_app_phase ph[TIDE_APP_TRACE_MAX_PHASES];
	uint64_t period_ns; /* one cycle */
	double peak_mpps;   /* highest rate */
};

/**
 * Parse "mpps:ms,mpps:ms,..." (--trace): decimal numbers, no empty phase. Returns 0,
 * -EINVAL after printing why, or -ENOMEM.
 */
int tide_app_trace_parse(const char *s, struct tide_app_trace *t);

/**
 * Check that trace @p t with packets held @p hold_ms (--hold-ms) fits a delay line: at
 * most TIDE_APP_HOLD_MAX_PKTS packets held at its peak rate. Returns 0, or -EINVAL after
 * printing why.
 */
int tide_app_trace_hold_check(const struct tide_app_trace *t, unsigned int hold_ms);

/** The rate, Mpps, at time t_ns from the start (the trace repeats). */
double tide_app_trace_rate(const struct tide_app_trace *t, uint64_t t_ns);

/* One slot of the delay line: a received burst (its mbufs in the line's mbufs) and when
 * it may leave.
 */
struct tide_app_slot {
	uint64_t due_ns;
	uint16_t n;
};

/* Counters of a paced loop; written by its lcore only. */
struct tide_app_burst_stats {
	uint64_t rx;          /* packets received */
	uint64_t tx;          /* packets sent */
	uint64_t nombuf;      /* packets not received for want of an mbuf */
	uint64_t drops;       /* packets dropped: delay line full or TX refused */
	uint64_t missed;      /* packets due while the loop was late, past what the port's
			       * RX ring holds (a NIC's imissed) */
	uint64_t rx_on;       /* packets received during non-idle phases */
	uint64_t on_ns;       /* time spent in non-idle phases */
	uint64_t in_flight;   /* packets in the delay line now */
} __rte_cache_aligned;

/* A paced receive -> hold -> send loop between two ports, on one queue. */
struct tide_app_burst_io {
	uint16_t rx_port;
	uint16_t tx_port;
	uint16_t queue;                /* RX queue */
	uint16_t tx_queue;
	unsigned int burst;            /* packets a receive asks for, 1..TIDE_APP_MAX_BURST */
	unsigned int rx_ring;          /* packets the port holds for a late loop (its RX
					* descriptors); below two bursts: two bursts */
	const struct tide_app_trace *trace;
	uint64_t hold_ns;              /* how long each packet stays */
	struct rte_mempool *pool;      /* whose lcore cache to hand back when idle */
	struct tide_app_slot *slots;   /* the delay line, a ring of nb_slots */
	struct rte_mbuf **mbufs;       /* burst mbufs a slot, slot i's from i * burst */
	uint32_t nb_slots;
	uint32_t head, tail;
	struct tide_app_burst_stats *st; /* the caller's: read live by other threads */
	bool empty_is_nombuf;          /* the port always has packets (net_null): an empty
					* receive means no mbuf for them */
	uint64_t last_ns;              /* loop state: the previous step */
	double tokens;                 /* loop state: packets due for receiving */
	double missed;                 /* loop state: packets due past the RX ring */
	bool flushed;                  /* loop state: the cache was handed back since idle */
};

/**
 * Set up a loop (ports, queues, burst, pool and st filled in by the caller); the delay line
 * holds peak rate x hold, with room to spare, in slots of one burst. Returns 0, -EINVAL
 * when that is more than tide_app_trace_hold_check() accepts or the burst is out of
 * 1..TIDE_APP_MAX_BURST, or -ENOMEM.
 */
int tide_app_burst_init(struct tide_app_burst_io *b, const struct tide_app_trace *t,
	uint64_t hold_ns);

/** Free the delay line and every packet still in it. */
void tide_app_burst_fini(struct tide_app_burst_io *b);

/**
 * One pass of the loop at time @p now: receive what the trace's rate allows since the
 * previous pass, a burst at a time, send what has been held long enough. Several loops may
 * share an lcore, each stepped in turn.
 */
void tide_app_burst_step(struct tide_app_burst_io *b, uint64_t start_ns, uint64_t now);

/**
 * Run the loop from start_ns (monotonic) until *stop or end_ns (0: no end). Received
 * packets that no port can hold are freed and counted; when idle with nothing in flight
 * the lcore hands its cache back to the pool (tide_pool_cache_flush()).
 */
void tide_app_burst_run(struct tide_app_burst_io *b, uint64_t start_ns, uint64_t end_ns,
	volatile bool *stop);

#endif
