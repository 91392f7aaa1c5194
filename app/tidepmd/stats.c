/* SPDX-License-Identifier: BSD-3-Clause */

/* The stats line, once per period, and the summary at the end. */

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "tide_app.h"
#include "tide_pool.h"
#include "tidepmd.h"

static uint64_t
tpmd_total_tx(const struct tpmd *t)
{
	uint64_t n = 0;

	for (unsigned int w = 0; w < t->nb_workers; w++)
		n += __atomic_load_n(&t->counters[w].fwd.tx, __ATOMIC_RELAXED);
	return n;
}

static void
tpmd_stats_line(const struct tpmd *t, double secs, double mpps)
{
	struct tide_pool_stats st;

	tide_pool_stats_get(t->pool, &st);
	printf("tidepmd %6.1fs  %7.2f Mpps | pool %2u blocks %7.1f MB, in use %6" PRIu64
		" cached %5" PRIu64 " free %6" PRIu64 " | grows %" PRIu64 "+%" PRIu64
		" fails %" PRIu64 " | rx_nombuf %" PRIu64 " alloc_fails %" PRIu64 "\n",
		secs, mpps, st.nb_blocks, st.bytes / 1048576.0, st.nb_in_use, st.nb_cached,
		st.nb_free, st.grows_ahead, st.grows_sync, st.grow_fails, tpmd_rx_nombuf(t),
		st.alloc_fails);
	fflush(stdout);
}

void
tpmd_stats_loop(struct tpmd *t, const struct tpmd_mode *m)
{
	uint64_t start = tide_app_now_ns(), last = start, last_tx = 0;
	uint64_t period = (uint64_t)t->cfg.stats_period_ms * 1000000ull;
	uint64_t end = t->cfg.duration_s ? start + t->cfg.duration_s * 1000000000ull : 0;

	while (!tide_app_quit()) {
		uint64_t now = tide_app_now_ns(), tx;

		if (end != 0 && now >= end)
			break;
		if (now - last < period) {
			usleep(10000);
			continue;
		}
		tx = tpmd_total_tx(t);
		tpmd_stats_line(t, (now - start) / 1e9, (tx - last_tx) / ((now - last) / 1e3));
		if (m->stats != NULL)
			m->stats(t);
		last = now;
		last_tx = tx;
	}
	t->stop = true;
	{
		uint64_t now = tide_app_now_ns();

		printf("tidepmd: done after %.1f s: %" PRIu64 " packets forwarded, %.2f Mpps "
			"average\n", (now - start) / 1e9, tpmd_total_tx(t),
			tpmd_total_tx(t) / ((now - start) / 1e3));
	}
}
