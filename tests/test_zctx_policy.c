/* SPDX-License-Identifier: BSD-3-Clause */

/* The copy-or-zero-copy policy, without EAL, on made-up costs. */

#include "test_common.h"
#include "zctx_policy.h"
#include "zctx_reports.h"

/* Fake costs in cycles: copying costs per byte, zero-copy costs per send. */
static uint64_t
cost(enum tide_zcp_path p, uint32_t bytes, double zc_fixed)
{
	return p == TIDE_ZCP_COPY ? (uint64_t)(50 + 1.0 * bytes) :
		(uint64_t)(zc_fixed + 0.05 * bytes);
}

static enum tide_zcp_path
cheaper(uint32_t bytes, double zc_fixed)
{
	return cost(TIDE_ZCP_COPY, bytes, zc_fixed) <= cost(TIDE_ZCP_ZC, bytes, zc_fixed) ?
		TIDE_ZCP_COPY : TIDE_ZCP_ZC;
}

/*
 * Exploring runs come every TIDE_ZCP_EXPLORE x (how much dearer) x TIDE_ZCP_EXPLORE_RUN
 * sends of a class: a test that waits for some runs, or counts them, waits in units of
 * that pace. PACE(n) is n sends at runs of 16 (the lengths below were first set for runs
 * that long), the same number of runs at the current length.
 */
#define PACE(n) ((n) * (TIDE_ZCP_EXPLORE_RUN / 16))

static const uint32_t mix[] = { 64, 128, 256, 512, 1024, 4096, 16384, 65536 };
#define NB_MIX (unsigned int)(sizeof(mix) / sizeof(mix[0]))

/* Run n sends of the mix; returns how many took the cheaper path. */
static unsigned int
run(struct tide_zcp_state *st, unsigned int n, double zc_fixed)
{
	unsigned int good = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t b = mix[i % NB_MIX];
		enum tide_zcp_path p = tide_zcp_decide(st, b);

		good += p == cheaper(b, zc_fixed);
		tide_zcp_record(st, b, p, cost(p, b, zc_fixed));
	}
	return good;
}

static void
test_classes_are_powers_of_two_from_64(void)
{
	CU_ASSERT_EQUAL(tide_zcp_class_of(0), 0);
	CU_ASSERT_EQUAL(tide_zcp_class_of(64), 0);
	CU_ASSERT_EQUAL(tide_zcp_class_of(65), 1);
	CU_ASSERT_EQUAL(tide_zcp_class_of(128), 1);
	CU_ASSERT_EQUAL(tide_zcp_class_of(1u << 20), TIDE_ZCP_CLASSES - 1);
	CU_ASSERT_EQUAL(tide_zcp_class_of(UINT32_MAX), TIDE_ZCP_CLASSES - 1);
}

static void
test_a_fixed_threshold_is_obeyed(void)
{
	struct tide_zcp_state st;

	tide_zcp_init(&st, 1000);
	for (unsigned int i = 0; i < 5000; i++) {
		CU_ASSERT_EQUAL(tide_zcp_decide(&st, 999), TIDE_ZCP_COPY);
		CU_ASSERT_EQUAL(tide_zcp_decide(&st, 1000), TIDE_ZCP_ZC);
		/* Costs that say the opposite change nothing. */
		tide_zcp_record(&st, 999, TIDE_ZCP_COPY, 1000000);
		tide_zcp_record(&st, 1000, TIDE_ZCP_ZC, 1000000);
	}
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 1000);
	tide_zcp_init(&st, 0);
	CU_ASSERT_EQUAL(tide_zcp_decide(&st, 1), TIDE_ZCP_ZC);
	tide_zcp_init(&st, UINT32_MAX - 1);
	CU_ASSERT_EQUAL(tide_zcp_decide(&st, 1u << 20), TIDE_ZCP_COPY);
}

static void
test_warm_up_measures_both_paths(void)
{
	struct tide_zcp_state st;
	unsigned int n[2] = { 0, 0 };

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	for (unsigned int i = 0; i < 2 * TIDE_ZCP_WARMUP; i++) {
		enum tide_zcp_path p = tide_zcp_decide(&st, 700);

		n[p]++;
		tide_zcp_record(&st, 700, p, cost(p, 700, 400));
	}
	CU_ASSERT_EQUAL(n[TIDE_ZCP_COPY], TIDE_ZCP_WARMUP);
	CU_ASSERT_EQUAL(n[TIDE_ZCP_ZC], TIDE_ZCP_WARMUP);
}

/* Sends reported a burst at a time, as the agent does: the warm-up counts them as sends,
 * not as reports.
 */
static void
test_warm_up_counts_sends_reported_in_runs(void)
{
	struct tide_zcp_state st;
	unsigned int n[2] = { 0, 0 };

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	for (unsigned int b = 0; b < 2 * TIDE_ZCP_WARMUP / 32; b++) {
		enum tide_zcp_path p = tide_zcp_decide(&st, 700);

		for (unsigned int i = 1; i < 32; i++)
			CU_ASSERT_EQUAL(tide_zcp_decide(&st, 700), p);
		n[p] += 32;
		tide_zcp_record_run(&st, tide_zcp_class_of(700), p, 32, 32 * 700,
			32 * cost(p, 700, 400));
	}
	CU_ASSERT_EQUAL(n[TIDE_ZCP_COPY], TIDE_ZCP_WARMUP);
	CU_ASSERT_EQUAL(n[TIDE_ZCP_ZC], TIDE_ZCP_WARMUP);
	CU_ASSERT(tide_zcp_warm(&st.cls[tide_zcp_class_of(700)]));
	/* The zero-copy runs are one streak of all their sends. */
	CU_ASSERT_EQUAL(st.cls[tide_zcp_class_of(700)].streak, TIDE_ZCP_WARMUP);
}

/* A burst reported at once that holds some of the first TIDE_ZCP_SETTLE sends after a
 * change of path is left out whole: the path's average starts from the first burst past
 * the line.
 */
static void
test_a_burst_straddling_the_settle_line_is_left_out(void)
{
	const unsigned int k = tide_zcp_class_of(2048);
	struct tide_zcp_state st;
	const struct tide_zcp_class *c = &st.cls[k];

	CU_ASSERT_FATAL(TIDE_ZCP_SETTLE > 32 && TIDE_ZCP_SETTLE < 64);
	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	tide_zcp_record_run(&st, k, TIDE_ZCP_ZC, 100, 100 * 2048, 100 * 500);
	/* Copy: sends 1-32 and 33-64 cold (3x), then 65-96 warm. */
	tide_zcp_record_run(&st, k, TIDE_ZCP_COPY, 32, 32 * 2048, 32 * 3000);
	tide_zcp_record_run(&st, k, TIDE_ZCP_COPY, 32, 32 * 2048, 32 * 3000);
	CU_ASSERT(!c->settled[TIDE_ZCP_COPY]);
	tide_zcp_record_run(&st, k, TIDE_ZCP_COPY, 32, 32 * 2048, 32 * 1000);
	CU_ASSERT(c->settled[TIDE_ZCP_COPY]);
	CU_ASSERT_DOUBLE_EQUAL(c->cpb[TIDE_ZCP_COPY], 1000.0 / 2048, 1e-12);
	CU_ASSERT_EQUAL(c->run_n[TIDE_ZCP_COPY], 1);
}

/* n bursts of 32 sends of one size each, the sizes of the mix in turn, each burst decided
 * send by send and reported as one run per path (as the agent's retire does); returns
 * how many sends took the cheaper path.
 */
static unsigned int
run_bursts(struct tide_zcp_state *st, unsigned int n, double zc_fixed)
{
	unsigned int good = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t b = mix[i % NB_MIX];
		uint32_t sends[2] = { 0, 0 };

		for (unsigned int j = 0; j < 32; j++) {
			enum tide_zcp_path p = tide_zcp_decide(st, b);

			good += p == cheaper(b, zc_fixed);
			sends[p]++;
		}
		for (unsigned int p = 0; p < 2; p++)
			if (sends[p] > 0)
				tide_zcp_record_run(st, tide_zcp_class_of(b), p, sends[p],
					(uint64_t)sends[p] * b, sends[p] * cost(p, b, zc_fixed));
	}
	return good;
}

static void
test_runs_reported_by_burst_settle_at_the_crossover(void)
{
	struct tide_zcp_state st;
	unsigned int good;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	run_bursts(&st, 4000, 400);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 257);
	good = run_bursts(&st, PACE(24000) / 32, 400);
	CU_ASSERT(good >= PACE(24000) - PACE(24000) / TIDE_ZCP_EXPLORE - 32 * NB_MIX);
	CU_ASSERT(good < PACE(24000));
	/* And moves when zero-copy turns dear, as with sends reported one by one. */
	run_bursts(&st, PACE(120000) / 32, 6000);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 4097);
}

static void
test_the_threshold_settles_at_the_crossover(void)
{
	struct tide_zcp_state st;
	unsigned int good;

	/* Crossover: 50 + b = 400 + 0.05 b at b = 368: 64..256 copy, 512 up zero-copy. */
	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	run(&st, 4000, 400);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 257);
	good = run(&st, PACE(24000), 400);
	/* Only exploration takes the other path: one send in TIDE_ZCP_EXPLORE. */
	CU_ASSERT(good >= PACE(24000) - PACE(24000) / TIDE_ZCP_EXPLORE - NB_MIX);
	CU_ASSERT(good < PACE(24000));
}

static void
test_each_size_gets_the_cheaper_path_within_5pct(void)
{
	struct tide_zcp_state st;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	run(&st, 4000, 400);
	for (unsigned int k = 0; k < NB_MIX; k++) {
		uint32_t b = mix[k];
		double spent = 0, best = 0;

		for (unsigned int i = 0; i < 1000; i++) {
			enum tide_zcp_path p = tide_zcp_decide(&st, b);

			spent += cost(p, b, 400);
			best += cost(cheaper(b, 400), b, 400);
			tide_zcp_record(&st, b, p, cost(p, b, 400));
		}
		CU_ASSERT(spent <= best * 1.05);
	}
}

static void
test_a_change_of_costs_moves_the_threshold(void)
{
	struct tide_zcp_state st;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	run(&st, 4000, 400);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 257);
	/* Zero-copy becomes expensive per send (say, every send misses the pin cache):
	 * crossover 50 + b = 6000 + 0.05 b at b = 6263: the threshold climbs to 4097.
	 */
	run(&st, PACE(60000), 6000);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 4097);
	/* And comes back: more slowly, as zero-copy, far dearer for long, was explored
	 * rarely (the chosen path's own move is seen at once, the other path's at its next
	 * exploring run).
	 */
	run(&st, PACE(120000), 400);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 257);
}

static void
test_one_outlier_does_not_flip_a_class(void)
{
	struct tide_zcp_state st;
	unsigned int zc = 0;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	/* Past the warm-up and the first exploring run. */
	for (unsigned int i = 0; i < 2 * TIDE_ZCP_WARMUP + TIDE_ZCP_EXPLORE_RUN; i++) {
		enum tide_zcp_path p = tide_zcp_decide(&st, 65536);

		tide_zcp_record(&st, 65536, p, cost(p, 65536, 400));
	}
	tide_zcp_record(&st, 65536, TIDE_ZCP_ZC, 100000000); /* a page-fault storm, once */
	for (unsigned int i = 0; i < 100; i++) {
		enum tide_zcp_path p = tide_zcp_decide(&st, 65536);

		zc += p == TIDE_ZCP_ZC;
		tide_zcp_record(&st, 65536, p, cost(p, 65536, 400));
	}
	CU_ASSERT(zc >= 97);
	CU_ASSERT(tide_zcp_threshold(&st) <= 65536);
}

/*
 * As on a real agent, a path is cold after a change: its first @c cold sends cost
 * @c factor times their due. Exploring runs shorter than that would measure the other
 * path only cold and stick to whichever path the class started on.
 */
struct warmth {
	enum tide_zcp_path last; /* path of the last send */
	unsigned int since;      /* sends in a row on it */
	unsigned int cold;
	double factor;
};

/* The first send after a change costs 4 times its due (a TX burst of one, cold pool and
 * pin-cache lines).
 */
#define FIRST_SEND_COLD(start) { .last = (start), .since = 1, .cold = 1, .factor = 4 }

static uint64_t
cold_cost(enum tide_zcp_path p, struct warmth *w, double copy, double zc)
{
	double c = p == TIDE_ZCP_COPY ? copy : zc;

	if (p != w->last)
		w->since = 0;
	w->last = p;
	return (uint64_t)(++w->since <= w->cold ? c * w->factor : c);
}

/* @p n sends of @p bytes at those costs, each deciding and recording; returns how many
 * went zero-copy.
 */
static unsigned int
run_cold(struct tide_zcp_state *st, uint32_t bytes, unsigned int n, struct warmth *w,
	double copy, double zc)
{
	unsigned int nzc = 0;

	for (unsigned int i = 0; i < n; i++) {
		enum tide_zcp_path p = tide_zcp_decide(st, bytes);

		nzc += p == TIDE_ZCP_ZC;
		tide_zcp_record(st, bytes, p, cold_cost(p, w, copy, zc));
	}
	return nzc;
}

static void
test_exploring_in_runs_sees_the_other_path_warm(void)
{
	struct warmth w = FIRST_SEND_COLD(TIDE_ZCP_COPY);
	struct tide_zcp_state st;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	/* 8 KB sends: first copy is the cheaper (zero-copy 1.25x)... */
	run_cold(&st, 8192, 20000, &w, 1000, 1250);
	CU_ASSERT(tide_zcp_threshold(&st) > 8192);
	/* ...then zero-copy (copy 1.25x): the exploring runs notice, the class moves over. */
	run_cold(&st, 8192, 40000, &w, 1250, 1000);
	CU_ASSERT(tide_zcp_threshold(&st) <= 8192);
	CU_ASSERT(run_cold(&st, 8192, 10000, &w, 1250, 1000) >= 9700);
}

/* The chosen path stalls for a few dozen sends (a pool grows, the agent is preempted):
 * the class stays where it is.
 */
static void
test_a_stall_of_the_chosen_path_does_not_flip_a_class(void)
{
	struct warmth w = FIRST_SEND_COLD(TIDE_ZCP_COPY);
	struct tide_zcp_state st;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	run_cold(&st, 16384, 5000, &w, 1000, 600);
	CU_ASSERT(tide_zcp_threshold(&st) <= 16384);
	for (unsigned int i = 0; i < 40; i++)
		tide_zcp_record(&st, 16384, TIDE_ZCP_ZC, 6000);
	CU_ASSERT(run_cold(&st, 16384, 2000, &w, 1000, 600) >= 1940);
	CU_ASSERT(tide_zcp_threshold(&st) <= 16384);
}

/* Steady costs, the other path 1.5x dearer: every exploring run confirms the choice, and
 * they come further and further apart (at the base pace one send in 64 x 1.5 explores).
 */
static void
test_a_confirmed_choice_is_explored_less_and_less(void)
{
	struct warmth w = FIRST_SEND_COLD(TIDE_ZCP_COPY);
	struct tide_zcp_state st;
	unsigned int late;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	run_cold(&st, 256, PACE(300000), &w, 1000, 1500);
	late = run_cold(&st, 256, PACE(200000), &w, 1000, 1500);
	CU_ASSERT(tide_zcp_threshold(&st) > 256);
	/* A eighth of the base pace or less. */
	CU_ASSERT(late <= PACE(200000) / (TIDE_ZCP_EXPLORE * 3 / 2) / 8);
	CU_ASSERT(late > 0); /* still exploring */
}

/* Paths far apart are explored in short runs whose few samples scatter (here the
 * explored path's, by up to 80% each): that is not a change of the paths, and exploring
 * still backs off.
 */
static void
test_far_apart_paths_with_noisy_runs_are_explored_less_and_less(void)
{
	struct warmth w = FIRST_SEND_COLD(TIDE_ZCP_ZC);
	struct tide_zcp_state st;
	unsigned int copies = 0, seed = 1;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	for (unsigned int i = 0; i < 700000; i++) {
		enum tide_zcp_path p = tide_zcp_decide(&st, 16384);
		double noise;

		seed = seed * 1103515245u + 12345u;
		noise = 1 + 0.8 * ((double)(seed >> 16 & 0x7fff) / 0x7fff * 2 - 1);
		if (i >= 500000)
			copies += p == TIDE_ZCP_COPY;
		tide_zcp_record(&st, 16384, p, cold_cost(p, &w, 2800 * noise, 1000));
	}
	CU_ASSERT(tide_zcp_threshold(&st) <= 16384);
	/* At the base pace one send in 64 x 2.8 explores: an eighth of that or less. */
	CU_ASSERT(copies <= 200000 / (TIDE_ZCP_EXPLORE * 28 / 10) / 8);
}

/* Deep in a run of one path only one send in TIDE_ZCP_SAMPLE_EVERY is sampled, but every
 * send counts in the run's length and in the class's weight.
 */
static void
test_deep_in_a_run_sends_are_sampled_and_all_counted(void)
{
	struct tide_zcp_state st;
	const struct tide_zcp_class *c = &st.cls[tide_zcp_class_of(65536)];

	tide_zcp_init(&st, 0); /* fixed: nothing is recorded */
	tide_zcp_record(&st, 65536, TIDE_ZCP_ZC, 1000);
	CU_ASSERT_EQUAL(c->samples[TIDE_ZCP_ZC], 0);
	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	for (unsigned int i = 0; i < 1000; i++)
		tide_zcp_record(&st, 65536, TIDE_ZCP_ZC, 1000);
	CU_ASSERT_EQUAL(c->streak + c->unsampled, 1000);
	CU_ASSERT_EQUAL(c->weight + c->unsampled, 1000);
	CU_ASSERT_EQUAL(c->samples[TIDE_ZCP_ZC], TIDE_ZCP_LONG_STREAK +
		(1000 - TIDE_ZCP_LONG_STREAK) / TIDE_ZCP_SAMPLE_EVERY);
	CU_ASSERT_DOUBLE_EQUAL(c->cpb[TIDE_ZCP_ZC], 1000.0 / 65536, 1e-12);
}

/* One exploring run that measures the other path far cheaper than it is (paired with a
 * stall, say) does not move the class; the run after it, which agrees with the others,
 * settles the matter.
 */
static void
test_one_misleading_exploring_run_does_not_flip_a_class(void)
{
	struct warmth w = FIRST_SEND_COLD(TIDE_ZCP_COPY);
	struct tide_zcp_state st;
	unsigned int runs = 0, nzc = 0, flipped = 0;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	run_cold(&st, 256, PACE(300000), &w, 1000, 1300);
	CU_ASSERT_FATAL(tide_zcp_threshold(&st) > 256);
	for (unsigned int i = 0; i < 400000; i++) {
		enum tide_zcp_path p = tide_zcp_decide(&st, 256);
		double zc = runs == 1 ? 400 : 1300; /* the first run sees zero-copy cheap */

		if (p == TIDE_ZCP_ZC && w.last != TIDE_ZCP_ZC)
			runs++;
		nzc += p == TIDE_ZCP_ZC;
		tide_zcp_record(&st, 256, p, cold_cost(p, &w, 1000, zc));
		flipped += tide_zcp_threshold(&st) <= 256;
	}
	CU_ASSERT_EQUAL(flipped, 0);
	CU_ASSERT(runs >= 2);
	CU_ASSERT(nzc < 400000 / 100);
}

/* Once exploring is rare, a change is still noticed: of the chosen path at once (every
 * send measures it), of the other path at its next exploring run.
 */
static void
test_a_change_after_rare_exploring_is_still_noticed(void)
{
	struct warmth w = FIRST_SEND_COLD(TIDE_ZCP_COPY);
	struct tide_zcp_state st;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	run_cold(&st, 256, PACE(300000), &w, 1000, 1500);
	CU_ASSERT_FATAL(tide_zcp_threshold(&st) > 256);
	/* The chosen path (copy) turns 3x dearer: the class moves within a few runs. */
	run_cold(&st, 256, PACE(5000), &w, 3000, 1500);
	CU_ASSERT(tide_zcp_threshold(&st) <= 256);
	CU_ASSERT(run_cold(&st, 256, PACE(2000), &w, 3000, 1500) >= PACE(1900));
	/* Settled on zero-copy for long, then both move: zero-copy 60% dearer (still below
	 * what copy measured last), copy cheaper than it. The chosen path's drift alone
	 * brings an exploring run soon, and that finds copy.
	 */
	run_cold(&st, 256, PACE(300000), &w, 3000, 1500);
	CU_ASSERT_FATAL(tide_zcp_threshold(&st) <= 256);
	run_cold(&st, 256, PACE(6000), &w, 1000, 2400);
	CU_ASSERT(tide_zcp_threshold(&st) > 256);
	/* Settled on zero-copy for long, then copy turns cheap again (the other path): */
	run_cold(&st, 256, PACE(300000), &w, 3000, 1500);
	CU_ASSERT_FATAL(tide_zcp_threshold(&st) <= 256);
	run_cold(&st, 256, PACE(200000), &w, 1000, 1500);
	CU_ASSERT(tide_zcp_threshold(&st) > 256);
}

/*
 * As measured on the agent (1 KB sends on net_null): after a change of path the path's
 * first few dozen sends cost over twice their due (its mbufs, pool cache and TX burst
 * cold), whichever the path.
 */
static void
test_a_path_that_warms_slowly_is_rated_warm(void)
{
	struct warmth w = { .last = TIDE_ZCP_COPY, .cold = 40, .factor = 2.5 };
	struct tide_zcp_state st;

	/* 1 KB starts on copy (the default threshold); zero-copy is 15% cheaper. */
	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	run_cold(&st, 1024, PACE(50000), &w, 1000, 850);
	CU_ASSERT(tide_zcp_threshold(&st) <= 1024);
	CU_ASSERT(run_cold(&st, 1024, PACE(50000), &w, 1000, 850) >= PACE(50000) * 95 / 100);
	/* Then copy turns 15% cheaper than zero-copy: the class moves back. */
	run_cold(&st, 1024, PACE(300000), &w, 850, 1000);
	CU_ASSERT(tide_zcp_threshold(&st) > 1024);
	CU_ASSERT(run_cold(&st, 1024, PACE(50000), &w, 850, 1000) <= PACE(50000) * 5 / 100);
}

/*
 * Zero-copy's cost comes in every other send (a cost per TX burst of two, say): 200 and
 * 600, 400 on average, dearer than copy's steady 350. Deep in a run only one send in
 * TIDE_ZCP_SAMPLE_EVERY is a sample: were the others left out, the samples would all be
 * of the same parity and say 200 or 600, whichever; added up, they say 400.
 */
static void
test_a_cost_every_other_send_counts_whole(void)
{
	for (unsigned int phase = 0; phase < 2; phase++) {
		struct tide_zcp_state st;
		unsigned int nzc = 0, k = 0;

		tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE); /* 16 KB starts on zero-copy */
		for (unsigned int i = 0; i < PACE(100000); i++) {
			enum tide_zcp_path p = tide_zcp_decide(&st, 16384);
			uint64_t c = 350;

			if (p == TIDE_ZCP_ZC)
				c = (k++ & 1) == phase ? 200 : 600;
			if (i >= PACE(50000))
				nzc += p == TIDE_ZCP_ZC;
			tide_zcp_record(&st, 16384, p, c);
		}
		CU_ASSERT(tide_zcp_threshold(&st) > 16384);
		CU_ASSERT(nzc <= PACE(50000) * 5 / 100);
	}
}

static void
test_a_size_never_seen_keeps_the_default(void)
{
	struct tide_zcp_state st;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 2049);
	/* Copy always cheaper for the one size in use: everything below it copies... */
	for (unsigned int i = 0; i < 2000; i++) {
		enum tide_zcp_path p = tide_zcp_decide(&st, 100000);

		tide_zcp_record(&st, 100000, p, p == TIDE_ZCP_COPY ? 1000 : 9000000);
	}
	CU_ASSERT(tide_zcp_threshold(&st) > 100000);
	CU_ASSERT_EQUAL(tide_zcp_decide(&st, 64), TIDE_ZCP_COPY);
}

/*
 * The agent's reports of a retiring pass: the sends of a mix, one class after another,
 * make one report per class and path, in the order their first sends came, with their
 * sends, bytes and cycles summed.
 */
static void
test_a_pass_of_a_mix_makes_one_report_per_class_and_path(void)
{
	struct tide_zcp_reports rp;
	struct tide_zcp_run run = { 0 };

	tide_zcp_reports_init(&rp);
	for (unsigned int i = 0; i < 3 * NB_MIX; i++)
		tide_zcp_reports_add(&rp, &run, mix[i % NB_MIX], mix[i % NB_MIX] > 256, 5,
			100 + i);
	/* 64 B once more, on the other path; and 100 B (64 B's neighbour class). */
	tide_zcp_reports_add(&rp, &run, 64, TIDE_ZCP_ZC, 5, 7);
	tide_zcp_reports_add(&rp, &run, 100, TIDE_ZCP_COPY, 5, 9);
	tide_zcp_reports_end(&rp, &run);
	CU_ASSERT_EQUAL_FATAL(rp.n, NB_MIX + 1);
	for (unsigned int j = 0; j < NB_MIX; j++) {
		const struct tide_zcp_report *r = &rp.r[j];

		CU_ASSERT_EQUAL(r->k, tide_zcp_class_of(mix[j]));
		CU_ASSERT_EQUAL(r->path, mix[j] > 256);
		CU_ASSERT_EQUAL(r->epoch, 5);
		CU_ASSERT_EQUAL(r->sends, j == 1 ? 4 : 3);
		CU_ASSERT_EQUAL(r->bytes, j == 1 ? 3 * 128 + 100 : 3 * mix[j]);
		CU_ASSERT_EQUAL(r->cycles, (j == 1 ? 9 : 0) + 3 * (100 + j) + 2 * NB_MIX + NB_MIX);
	}
	CU_ASSERT_EQUAL(rp.r[NB_MIX].k, 0);
	CU_ASSERT_EQUAL(rp.r[NB_MIX].path, TIDE_ZCP_ZC);
	CU_ASSERT_EQUAL(rp.r[NB_MIX].sends, 1);
	CU_ASSERT_EQUAL(rp.r[NB_MIX].cycles, 7);
}

/* A new stamp in the middle of a pass starts new reports after the others: a class sent
 * under both has two, the earlier stamp's first, and the sends of the new stamp do not
 * join a report of the old one. */
static void
test_a_new_stamp_in_a_pass_starts_reports_after_the_others(void)
{
	struct tide_zcp_reports rp;
	struct tide_zcp_run run = { 0 };

	tide_zcp_reports_init(&rp);
	tide_zcp_reports_add(&rp, &run, 64, TIDE_ZCP_COPY, 1, 10);
	tide_zcp_reports_add(&rp, &run, 65536, TIDE_ZCP_ZC, 1, 20);
	tide_zcp_reports_add(&rp, &run, 64, TIDE_ZCP_COPY, 2, 30);
	tide_zcp_reports_add(&rp, &run, 64, TIDE_ZCP_COPY, 2, 40);
	tide_zcp_reports_add(&rp, &run, 65536, TIDE_ZCP_ZC, 2, 50);
	tide_zcp_reports_end(&rp, &run);
	CU_ASSERT_EQUAL_FATAL(rp.n, 4);
	CU_ASSERT(rp.r[0].epoch == 1 && rp.r[0].k == 0 && rp.r[0].sends == 1);
	CU_ASSERT(rp.r[1].epoch == 1 && rp.r[1].k == 10 && rp.r[1].sends == 1);
	CU_ASSERT(rp.r[2].epoch == 2 && rp.r[2].k == 0 && rp.r[2].sends == 2 &&
		rp.r[2].cycles == 70);
	CU_ASSERT(rp.r[3].epoch == 2 && rp.r[3].k == 10 && rp.r[3].cycles == 50);
}

/* Recorded, each report reaches its class with its sends and its cycles, each send
 * charged the pass's share more. */
static void
test_reports_reach_their_classes_with_the_share(void)
{
	struct tide_zcp_reports rp;
	struct tide_zcp_run run = { 0 };
	struct tide_zcp_state st;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	tide_zcp_reports_init(&rp);
	for (unsigned int i = 0; i < 6; i++)
		tide_zcp_reports_add(&rp, &run, i % 2 ? 65536 : 64,
			i % 2 ? TIDE_ZCP_ZC : TIDE_ZCP_COPY, tide_zcp_epoch(&st),
			i % 2 ? 3000 : 100);
	tide_zcp_reports_end(&rp, &run);
	tide_zcp_reports_record(&st, &rp, 10);
	CU_ASSERT_EQUAL(st.cls[0].samples[TIDE_ZCP_COPY], 3);
	CU_ASSERT_EQUAL(st.cls[0].samples[TIDE_ZCP_ZC], 0);
	CU_ASSERT_EQUAL(st.cls[10].samples[TIDE_ZCP_ZC], 3);
	CU_ASSERT_EQUAL(st.cls[10].samples[TIDE_ZCP_COPY], 0);
	CU_ASSERT_DOUBLE_EQUAL(st.cls[0].cpb[TIDE_ZCP_COPY], 3 * 110.0 / (3 * 64), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(st.cls[10].cpb[TIDE_ZCP_ZC], 3 * 3010.0 / (3 * 65536), 1e-9);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("zctx_policy");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_classes_are_powers_of_two_from_64);
	CU_ADD_TEST(s, test_a_fixed_threshold_is_obeyed);
	CU_ADD_TEST(s, test_warm_up_measures_both_paths);
	CU_ADD_TEST(s, test_the_threshold_settles_at_the_crossover);
	CU_ADD_TEST(s, test_warm_up_counts_sends_reported_in_runs);
	CU_ADD_TEST(s, test_runs_reported_by_burst_settle_at_the_crossover);
	CU_ADD_TEST(s, test_a_burst_straddling_the_settle_line_is_left_out);
	CU_ADD_TEST(s, test_each_size_gets_the_cheaper_path_within_5pct);
	CU_ADD_TEST(s, test_a_change_of_costs_moves_the_threshold);
	CU_ADD_TEST(s, test_one_outlier_does_not_flip_a_class);
	CU_ADD_TEST(s, test_exploring_in_runs_sees_the_other_path_warm);
	CU_ADD_TEST(s, test_a_stall_of_the_chosen_path_does_not_flip_a_class);
	CU_ADD_TEST(s, test_a_confirmed_choice_is_explored_less_and_less);
	CU_ADD_TEST(s, test_far_apart_paths_with_noisy_runs_are_explored_less_and_less);
	CU_ADD_TEST(s, test_deep_in_a_run_sends_are_sampled_and_all_counted);
	CU_ADD_TEST(s, test_one_misleading_exploring_run_does_not_flip_a_class);
	CU_ADD_TEST(s, test_a_change_after_rare_exploring_is_still_noticed);
	CU_ADD_TEST(s, test_a_path_that_warms_slowly_is_rated_warm);
	CU_ADD_TEST(s, test_a_cost_every_other_send_counts_whole);
	CU_ADD_TEST(s, test_a_size_never_seen_keeps_the_default);
	CU_ADD_TEST(s, test_a_pass_of_a_mix_makes_one_report_per_class_and_path);
	CU_ADD_TEST(s, test_a_new_stamp_in_a_pass_starts_reports_after_the_others);
	CU_ADD_TEST(s, test_reports_reach_their_classes_with_the_share);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "zctx_policy", false, register_tests);
}
