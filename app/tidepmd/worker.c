/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * --mode worker: a secondary tidepmd that runs the pipeline's stage 2 for a primary
 * tidepmd (--mode pipeline --mp-workers N). It neither creates a pool nor configures a
 * port: it claims its lcore ids (refused if the primary or another worker runs one: mp.c),
 * looks up the primary's exchange, registers a stage of its own, and each of its
 * forwarding lcores claims a TX queue (mp.c), receives messages, works, unmakes them and
 * transmits them on the peer of the port they came from. Its counters live in the shared
 * worker table, so the primary's stats line counts what it sends.
 *
 * It leaves when the primary's run ends, when the primary is gone, on Ctrl-C or after
 * --duration, and prints one line per stats period meanwhile.
 */

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_launch.h>
#include <rte_lcore.h>

#include "tide_app.h"
#include "tide_pool.h"
#include "tidepmd.h"

static volatile bool worker_failed;

static int
worker_lcore(void *arg)
{
	struct tpmd_lcore *lc = arg;
	struct tpmd_counters *shared, base;
	int slot = tpmd_mp_claim(lc->lcore_id, &shared);

	if (slot < 0) {
		fprintf(stderr, "tidepmd: worker lcore %u: every TX queue the primary gave its "
			"workers (--mp-workers %u) is taken\n", lc->lcore_id, tpmd_mp_slots());
		worker_failed = true;
		return slot;
	}
	printf("tidepmd: worker lcore %u sends on TX queue %d\n", lc->lcore_id, slot);
	fflush(stdout);
	base = *shared;
	while (!lc->t->stop && !tpmd_mp_stopping()) {
		if (tpmd_pipeline_work(lc, (uint16_t)slot) == 0)
			continue;
		/* Publish this lcore's counts where the primary adds them up. */
		__atomic_store_n(&shared->tx, base.tx + lc->cnt.tx, __ATOMIC_RELAXED);
		__atomic_store_n(&shared->drops, base.drops + lc->cnt.drops, __ATOMIC_RELAXED);
	}
	tpmd_mp_release(slot);
	return 0;
}

/* Why the worker stops, or NULL to go on. */
static const char *
worker_should_leave(uint64_t end_ns)
{
	if (tide_app_quit())
		return "interrupted";
	if (tpmd_mp_stopping())
		return "the primary's run is over";
	if (!tide_mp_primary_alive())
		return "the primary is gone";
	if (end_ns != 0 && tide_app_now_ns() >= end_ns)
		return "--duration reached";
	if (worker_failed)
		return "a worker lcore found no TX queue";
	return NULL;
}

static void
worker_line(const struct tpmd *t, uint64_t ns, struct tpmd_counters *last, uint64_t *last_ns)
{
	struct tpmd_counters c = { 0 };
	double dt = (ns - *last_ns) / 1e9;

	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++) {
		c.tx += __atomic_load_n(&t->lcores[w].cnt.tx, __ATOMIC_RELAXED);
		c.drops += __atomic_load_n(&t->lcores[w].cnt.drops, __ATOMIC_RELAXED);
	}
	printf("tidepmd worker %d %7.2fs | tx %7.2f Mpps | sent %" PRIu64 " dropped %" PRIu64
		"\n", (int)getpid(), ns / 1e9, dt > 0 ? (c.tx - last->tx) / dt / 1e6 : 0.0, c.tx,
		c.drops);
	fflush(stdout);
	*last = c;
	*last_ns = ns;
}

int
tpmd_worker_run(struct tpmd *t)
{
	uint64_t start = tide_app_now_ns(), last_ns = 0;
	uint64_t end = t->cfg.duration_s != 0 ? start + t->cfg.duration_s * 1000000000ull : 0;
	uint64_t period = (uint64_t)t->cfg.stats_period_ms * 1000000ull;
	struct tpmd_counters last = { 0 };
	const char *why;
	int ret;

	ret = tpmd_mp_attach();
	if (ret != 0)
		return ret;
	ret = tpmd_mp_lcores_claim();
	if (ret != 0)
		return ret;
	ret = tpmd_pipeline_attach();
	if (ret != 0) {
		tpmd_mp_lcores_release();
		return ret;
	}
	t->stop = false;
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++) {
		ret = rte_eal_remote_launch(worker_lcore, &t->lcores[w], t->lcores[w].lcore_id);
		if (ret != 0) {
			fprintf(stderr, "tidepmd: cannot launch lcore %u\n", t->lcores[w].lcore_id);
			break;
		}
	}
	while (ret == 0 && (why = worker_should_leave(end)) == NULL) {
		uint64_t ns = tide_app_now_ns() - start;

		if (ns - last_ns >= period)
			worker_line(t, ns, &last, &last_ns);
		usleep(10000);
	}
	t->stop = true;
	for (unsigned int w = 0; w < t->nb_fwd_lcores; w++)
		rte_eal_wait_lcore(t->lcores[w].lcore_id);
	worker_line(t, tide_app_now_ns() - start, &last, &last_ns);
	if (worker_failed)
		ret = -ENOSPC;
	if (ret == 0)
		printf("tidepmd: worker %d leaves: %s\n", (int)getpid(), why);
	tpmd_pipeline_detach();
	tpmd_mp_lcores_release();
	return ret;
}
