/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The machine's state, measured: how long a cache line takes to go from the main lcore to
 * the first worker and back. On the VMs this runs on it moves by several times within
 * minutes (the host places the vCPUs), and with it every figure that crosses cores: the
 * rows "machine/start" and "machine/end" of each scenario say in which state it ran.
 */

#include <stdio.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "bench.h"

#define C2C_TRIPS 20000

struct c2c {
	volatile uint64_t line __rte_cache_aligned;
	unsigned int worker;
	uint64_t trips;
	uint64_t ns;
};

static int
c2c_lcore(void *arg)
{
	struct c2c *c = arg;
	unsigned int lc = rte_lcore_id();
	uint64_t t0;

	if (lc == rte_get_main_lcore()) {
		t0 = bench_now_ns();
		for (uint64_t i = 1; i <= c->trips; i++) {
			c->line = 2 * i - 1;
			while (c->line != 2 * i)
				rte_pause();
		}
		c->ns = bench_now_ns() - t0;
	} else if (lc == c->worker) {
		for (uint64_t i = 1; i <= c->trips; i++) {
			while (c->line != 2 * i - 1)
				rte_pause();
			c->line = 2 * i;
		}
	}
	return 0;
}

double
bench_machine_c2c(unsigned int trips)
{
	static struct c2c c;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY || rte_lcore_count() < 2 || trips == 0)
		return 0;
	c.line = 0;
	c.trips = trips;
	c.worker = rte_get_next_lcore(-1, 1, 0);
	bench_on_all_lcores(c2c_lcore, &c);
	return (double)c.ns / trips;
}

enum bench_state
bench_machine_state_after(double *probe)
{
	double before = *probe;

	*probe = bench_machine_c2c(BENCH_C2C_QUICK_TRIPS);
	if (before < BENCH_C2C_FAST_NS && *probe < BENCH_C2C_FAST_NS)
		return BENCH_FAST;
	if (before >= BENCH_C2C_FAST_NS && *probe >= BENCH_C2C_FAST_NS)
		return BENCH_SLOW;
	return BENCH_MIXED;
}

void
bench_machine_probe(const char *when)
{
	char variant[32];
	double ns = bench_machine_c2c(C2C_TRIPS);

	if (ns == 0)
		return;
	snprintf(variant, sizeof(variant), "machine/%s", when);
	bench_emit(variant, "c2c_round_trip", ns, "ns");
}
