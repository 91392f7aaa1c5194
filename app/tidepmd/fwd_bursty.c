/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * bursty mode: receive on port 0 at the trace's rate, hold every packet --hold-ms, send it
 * on port 1. During a burst the pool grows to rate x hold mbufs; between bursts the worker
 * hands its cache back and the reaper shrinks the pool: watch it breathe in the stats
 * line. Every worker runs the trace on its own queue.
 */

#include <stdio.h>

#include "tide_app.h"
#include "tidepmd.h"

static int
bursty_worker(struct tpmd *t, unsigned int w)
{
	struct tide_app_burst_io b = {
		.rx_port = t->ports[0],
		.tx_port = t->ports[1],
		.queue = (uint16_t)w,
		.pool = t->pool,
		.st = &t->counters[w].burst,
	};

	if (tide_app_burst_init(&b, &t->cfg.trace, (uint64_t)t->cfg.hold_ms * 1000000) != 0) {
		fprintf(stderr, "tidepmd: no memory for the delay line\n");
		return -1;
	}
	tide_app_burst_run(&b, tide_app_now_ns(), 0, &t->stop);
	tide_app_burst_fini(&b);
	return 0;
}

const struct tpmd_mode tpmd_mode_bursty = {
	.name = "bursty",
	.help = "receive in bursts (--trace), hold each packet (--hold-ms), send: the pool "
		"grows and shrinks",
	.worker = bursty_worker,
};
