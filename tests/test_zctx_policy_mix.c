/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The policy's trials of the whole mix, without EAL, on made-up costs: a threshold that
 * splits a mix of sizes against all zero-copy, where copying the small sends makes the
 * big ones dearer (what no class's own costs show), and where it does not.
 */

#include "test_common.h"
#include "zctx_policy.h"

static const uint32_t sizes[] = { 64, 128, 256, 512, 1024, 4096, 16384, 65536 };
#define NB_SIZES (unsigned int)(sizeof(sizes) / sizeof(sizes[0]))

/* Decisions a report can come after its send's (the agent's queue): a ring of them. */
#define LAG_MAX 2048

struct model {
	double penalty;      /* zero-copy sends of 4 KB up cost this much more (a fraction)
			      * while a copy was among the last RECENT decisions */
	unsigned int since;  /* decisions since the last copy */
	unsigned int lag;    /* reports come this many decisions late */
	double small_copy;   /* 0, or copying costs this much of zero-copy (before the
			      * penalty) up to 256 B, half as much again above */
	unsigned int n;      /* decisions made */
	struct { uint8_t epoch; uint32_t bytes; uint8_t path; uint64_t cycles; } q[LAG_MAX];
};

#define RECENT 64

/* Copying costs per byte, zero-copy per send (per class: 64..256 B copy, 512 B up
 * zero-copy), plus the model's penalty. */
static uint64_t
model_cost(struct model *m, enum tide_zcp_path p, uint32_t bytes)
{
	double c;

	c = 400 + 0.05 * bytes;
	if (p == TIDE_ZCP_COPY) {
		m->since = 0;
		if (m->small_copy > 0)
			return (uint64_t)(c * (bytes <= 256 ? m->small_copy : 1.5));
		return (uint64_t)(50 + 1.0 * bytes);
	}
	if (m->since++ < RECENT && bytes >= 4096)
		c *= 1 + m->penalty;
	return (uint64_t)c;
}

static void
model_report(struct tide_zcp_state *st, const struct model *m, unsigned int i)
{
	tide_zcp_record_run_at(st, m->q[i].epoch, tide_zcp_class_of(m->q[i].bytes),
		m->q[i].path, 1, m->q[i].bytes, m->q[i].cycles);
}

/* @p n sends of the mix in turn, each decided, costed, and reported m->lag decisions
 * later; returns what they cost. */
static double
model_run(struct tide_zcp_state *st, struct model *m, unsigned int n)
{
	double spent = 0;

	for (unsigned int i = 0; i < n; i++, m->n++) {
		uint32_t b = sizes[m->n % NB_SIZES];
		unsigned int slot = m->n % LAG_MAX;
		enum tide_zcp_path p;

		if (m->n >= m->lag && m->lag > 0)
			model_report(st, m, (m->n - m->lag) % LAG_MAX);
		p = tide_zcp_decide(st, b);
		m->q[slot].epoch = tide_zcp_epoch(st);
		m->q[slot].bytes = b;
		m->q[slot].path = (uint8_t)p;
		m->q[slot].cycles = model_cost(m, p, b);
		spent += (double)m->q[slot].cycles;
		if (m->lag == 0)
			model_report(st, m, slot);
	}
	return spent;
}

/* What @p n sends of the mix cost sent all zero-copy (after a long while of it). */
static double
all_zc_cost(unsigned int n)
{
	double spent = 0;

	for (unsigned int i = 0; i < n; i++)
		spent += 400 + 0.05 * sizes[i % NB_SIZES];
	return spent;
}

static void
split_gives_way(unsigned int lag)
{
	struct model m = { .penalty = 0.3, .since = RECENT, .lag = lag };
	struct tide_zcp_state st;
	double spent;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	model_run(&st, &m, 40000);
	/* The classes' own costs still split the mix where copying pays for each alone... */
	CU_ASSERT_EQUAL(st.zc_class, 3);
	/* ...but the mix as a whole goes zero-copy. */
	CU_ASSERT(st.mix.all_zc);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 0);
	CU_ASSERT(st.mix.switches >= 1);
	CU_ASSERT(st.mix.last_ratio < 1 - TIDE_ZCP_MIX_GAIN || st.mix.all_zc);
	/* And stays there, within 5% of all zero-copy's cost, trials and exploring included. */
	spent = model_run(&st, &m, 400000);
	CU_ASSERT(st.mix.all_zc);
	CU_ASSERT(spent <= all_zc_cost(400000) * 1.05);
}

static void
test_a_split_that_costs_the_mix_more_gives_way_to_all_zero_copy(void)
{
	split_gives_way(0);
}

/* The agent reports a send after up to its queue's depth of later decisions: the stamps
 * keep each report in the window its send was decided in, even a window's length late
 * (counted by arrival, each window would measure the one before it). */
static void
test_late_reports_count_in_the_window_they_were_decided_in(void)
{
	split_gives_way(TIDE_ZCP_MIX_SETTLE + TIDE_ZCP_MIX_WINDOW);
}

static void
test_a_split_that_pays_is_kept_and_tried_less_and_less(void)
{
	struct model m = { .penalty = 0, .since = RECENT, .lag = 200 };
	struct tide_zcp_state st;
	uint64_t t0, t1, t2;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	model_run(&st, &m, 40000);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 257);
	t0 = st.mix.trials;
	CU_ASSERT(t0 >= 1);
	model_run(&st, &m, 2000000);
	t1 = st.mix.trials;
	model_run(&st, &m, 2000000);
	t2 = st.mix.trials;
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 257);
	CU_ASSERT_EQUAL(st.mix.switches, 0);
	CU_ASSERT(st.mix.last_ratio > 1);
	/* Confirmed trials back off to one in TIDE_ZCP_MIX_PERIOD << TIDE_ZCP_MIX_BACKOFF_MAX
	 * decisions. */
	CU_ASSERT(t1 > t0 && t2 > t1);
	CU_ASSERT(t2 - t1 <= 2000000 / (TIDE_ZCP_MIX_PERIOD << TIDE_ZCP_MIX_BACKOFF_MAX) + 1);
	CU_ASSERT(t2 - t1 < t1 - t0);
}

static void
test_all_zero_copy_gives_the_split_back_when_copying_stops_costing_the_mix(void)
{
	struct model m = { .penalty = 0.3, .since = RECENT, .lag = 100 };
	struct tide_zcp_state st;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	model_run(&st, &m, 40000);
	CU_ASSERT_FATAL(st.mix.all_zc);
	m.penalty = 0;
	model_run(&st, &m, 400000);
	CU_ASSERT(!st.mix.all_zc);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 257);
	CU_ASSERT(st.mix.switches >= 2);
}

/*
 * Where a trial put all zero-copy in force, a split whose own costs fall under
 * TIDE_ZCP_SPLIT_GAIN of the mix stays what the trials try: when its costs say it saves
 * much again, it does not come back without them (copying still costs the mix more).
 */
static void
test_all_zero_copy_a_trial_chose_is_left_to_the_trials(void)
{
	struct model m = { .penalty = 0.3, .since = RECENT, .small_copy = 0.5 };
	struct tide_zcp_state st;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	model_run(&st, &m, 40000);
	CU_ASSERT_FATAL(st.mix.all_zc);
	CU_ASSERT_EQUAL_FATAL(st.zc_class, 3);
	m.small_copy = 0.98;
	model_run(&st, &m, 400000);
	CU_ASSERT(st.mix.all_zc);
	CU_ASSERT_EQUAL(st.zc_class, 3);
	m.small_copy = 0.5;
	model_run(&st, &m, 400000);
	CU_ASSERT(st.mix.all_zc);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 0);
}

/* Run the model one send at a time until @p done says so (at most @p max sends). */
static bool
model_until(struct tide_zcp_state *st, struct model *m, unsigned int max,
	bool (*done)(const struct tide_zcp_state *st))
{
	for (unsigned int i = 0; i < max; i++) {
		if (done(st))
			return true;
		model_run(st, m, 1);
	}
	return done(st);
}

static bool
is_pending(const struct tide_zcp_state *st)
{
	return st->mix.pending;
}

/* Run the model until the trial is in @p phase (at most @p max sends). */
static bool
model_until_phase(struct tide_zcp_state *st, struct model *m, unsigned int max,
	enum tide_zcp_mix_phase phase)
{
	for (unsigned int i = 0; i < max && st->mix.phase != phase; i++)
		model_run(st, m, 1);
	return st->mix.phase == phase;
}

/*
 * A switch takes two trials in a row that agree. One that is given up between them (the
 * classes' own choice moved while it ran) breaks the row: the next trial alone does not
 * switch.
 */
static void
test_a_trial_given_up_breaks_the_row_of_two(void)
{
	struct model m = { .penalty = 0.3, .since = RECENT, .lag = 0 };
	struct tide_zcp_state st;
	uint64_t trials;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	CU_ASSERT_FATAL(model_until(&st, &m, 100000, is_pending));
	CU_ASSERT_FATAL(!st.mix.all_zc);
	trials = st.mix.trials;
	/* The next trial is made to find the choice moved since it began (as a choice of
	 * zcp_choose() between its start and its end would). */
	CU_ASSERT_FATAL(model_until_phase(&st, &m, 100000, TIDE_ZCP_MIX_B));
	st.mix.split++;
	CU_ASSERT_FATAL(model_until_phase(&st, &m, 100000, TIDE_ZCP_MIX_IDLE));
	CU_ASSERT_EQUAL(st.mix.trials, trials); /* given up, not counted */
	CU_ASSERT(!st.mix.pending);
	CU_ASSERT(!st.mix.all_zc);
	/* The trial after that finds all zero-copy cheaper again, and only waits for one more. */
	CU_ASSERT_FATAL(model_until(&st, &m, 200000, is_pending));
	CU_ASSERT(!st.mix.all_zc);
	model_run(&st, &m, 100000);
	CU_ASSERT(st.mix.all_zc);
}

/*
 * The agent restarts its policy when the threshold is set again, with sends decided by the
 * old one still to be reported: their stamps never fall in a window of the new one's.
 */
static void
test_reports_from_before_a_restart_stay_out_of_its_windows(void)
{
	struct model m = { .penalty = 0.3, .since = RECENT, .lag = 0 };
	struct tide_zcp_state st;
	uint8_t before;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	/* Into the first window of the first trial: the stamps a fresh state gives out. */
	CU_ASSERT_FATAL(model_until_phase(&st, &m, 100000, TIDE_ZCP_MIX_A));
	before = tide_zcp_epoch(&st);
	tide_zcp_restart(&st, TIDE_ZCP_ADAPTIVE);
	CU_ASSERT(tide_zcp_threshold(&st) == 2049 && st.mix.trials == 0);
	CU_ASSERT_FATAL(model_until_phase(&st, &m, 100000, TIDE_ZCP_MIX_B));
	/* Every stamp of the last 8 before the restart (the trial it was in) stays out. */
	for (unsigned int w = 0; w < 3; w++)
		for (unsigned int d = 0; d < 8; d++)
			CU_ASSERT(st.mix.win_epoch[w] != (uint8_t)(before - d));
	/* A report with such a stamp, dear enough to decide any window, changes nothing. */
	for (unsigned int w = 0; w < 3; w++) {
		uint64_t c0 = st.mix.cycles[w][7];

		tide_zcp_record_run_at(&st, before, 7, TIDE_ZCP_ZC, 1, 65536, 1ull << 40);
		CU_ASSERT_EQUAL(st.mix.cycles[w][7], c0);
	}
}

/*
 * A window measures the paths its threshold sets: a send on the other path (an exploring
 * run begun before the trial, a class still warming up) is left out of it.
 */
static void
test_a_window_counts_only_the_paths_it_sets(void)
{
	struct model m = { .penalty = 0.3, .since = RECENT, .lag = 0 };
	struct tide_zcp_state st;
	uint8_t e;
	uint64_t c0;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	CU_ASSERT_FATAL(model_until_phase(&st, &m, 100000, TIDE_ZCP_MIX_A));
	CU_ASSERT_FATAL(st.mix.win_class[0] == 3); /* 64..256 B copied, 512 B up not */
	e = tide_zcp_epoch(&st);
	/* 64 KB copied, 64 B zero-copy: not this window's paths. */
	c0 = st.mix.cycles[0][7] + st.mix.cycles[0][0];
	tide_zcp_record_run_at(&st, e, 7, TIDE_ZCP_COPY, 1, 65536, 1ull << 40);
	tide_zcp_record_run_at(&st, e, 0, TIDE_ZCP_ZC, 1, 64, 1ull << 40);
	CU_ASSERT_EQUAL(st.mix.cycles[0][7] + st.mix.cycles[0][0], c0);
	/* Its own paths count. */
	tide_zcp_record_run_at(&st, e, 7, TIDE_ZCP_ZC, 1, 65536, 1000);
	tide_zcp_record_run_at(&st, e, 0, TIDE_ZCP_COPY, 1, 64, 100);
	CU_ASSERT_EQUAL(st.mix.cycles[0][7] + st.mix.cycles[0][0], c0 + 1100);
}

/* One size only: nothing to split, no trial (and a fixed threshold never tries). */
static void
test_a_mix_on_one_side_of_the_threshold_is_never_tried(void)
{
	struct tide_zcp_state st, fixed;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	tide_zcp_init(&fixed, 1000);
	for (unsigned int i = 0; i < 200000; i++) {
		enum tide_zcp_path p = tide_zcp_decide(&st, 8192);

		tide_zcp_record(&st, 8192, p, p == TIDE_ZCP_COPY ? 9000 : 1000);
		p = tide_zcp_decide(&fixed, sizes[i % NB_SIZES]);
		tide_zcp_record(&fixed, sizes[i % NB_SIZES], p, 1000);
		CU_ASSERT_EQUAL(p, sizes[i % NB_SIZES] < 1000 ? TIDE_ZCP_COPY : TIDE_ZCP_ZC);
	}
	CU_ASSERT_EQUAL(st.mix.trials, 0);
	CU_ASSERT_EQUAL(st.mix.phase, TIDE_ZCP_MIX_IDLE);
	CU_ASSERT_EQUAL(fixed.mix.trials, 0);
}

/*
 * A mix whose small sends copying saves little: zero-copy costs 400 cycles and 0.05 a
 * byte; copying, up to 256 B, a fraction of that (small_copy), from 512 B up half as much
 * again. Reports come at once, a send each.
 */
struct gain_model {
	const uint32_t *sizes;
	unsigned int nb_sizes;
	double small_copy;
	unsigned int n;
	bool tried;      /* a trial of the whole mix began */
};

static double
gain_model_run(struct tide_zcp_state *st, struct gain_model *g, unsigned int n)
{
	double spent = 0;

	for (unsigned int i = 0; i < n; i++, g->n++) {
		uint32_t b = g->sizes[g->n % g->nb_sizes];
		enum tide_zcp_path p = tide_zcp_decide(st, b);
		double zc = 400 + 0.05 * b;
		uint64_t c = (uint64_t)(p == TIDE_ZCP_ZC ? zc :
			zc * (b <= 256 ? g->small_copy : 1.5));

		tide_zcp_record(st, b, p, c);
		spent += (double)c;
		g->tried |= st->mix.phase != TIDE_ZCP_MIX_IDLE;
	}
	return spent;
}

/*
 * Copying the sends up to 256 B saves each 10% of its cost, but all of them together only
 * 1.6% of what the mix costs (its big sends cost the most): under TIDE_ZCP_SPLIT_GAIN, so
 * the mix goes all zero-copy at once, with no trial of the whole mix to find out, and stays
 * within 2% of all zero-copy's cost, exploring included.
 */
static void
test_a_split_that_saves_a_small_part_of_the_mix_is_not_taken(void)
{
	struct gain_model g = { .sizes = sizes, .nb_sizes = NB_SIZES, .small_copy = 0.9 };
	struct tide_zcp_state st;
	double spent;

	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	gain_model_run(&st, &g, 40000);
	CU_ASSERT_EQUAL(st.zc_class, 0);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 0);
	/* Each small class on its own would be copied. */
	for (unsigned int k = 0; k <= 2; k++)
		CU_ASSERT(st.cls[k].zc_copy > 1.05);
	spent = gain_model_run(&st, &g, 400000);
	CU_ASSERT_EQUAL(tide_zcp_threshold(&st), 0);
	CU_ASSERT(!g.tried);
	CU_ASSERT(spent <= all_zc_cost(400000) * 1.02);
}

/* Seven 64 B sends to one of 64 KB. */
static const uint32_t small_mix[] = { 64, 64, 64, 64, 64, 64, 64, 65536 };

/* What copying the 64 B sends of small_mix saves of its all zero-copy cost, when a copied
 * 64 B send costs @p small_copy of a zero-copy one. */
static double
small_mix_gain(double small_copy)
{
	double small = 400 + 0.05 * 64, big = 400 + 0.05 * 65536;

	return 7 * small * (1 - small_copy) / (7 * small + big);
}

/* The 64 B sends of small_mix go copied (the 64 KB ones zero-copy, in any case). */
static bool
small_copied(const struct tide_zcp_state *st)
{
	return tide_zcp_base_in_force(st, 0) == TIDE_ZCP_COPY &&
		tide_zcp_base_in_force(st, tide_zcp_class_of(65536)) == TIDE_ZCP_ZC;
}

/* Where copying its 64 B sends saves the mix more than TIDE_ZCP_SPLIT_ENTER, the split is
 * taken, kept while it saves more than TIDE_ZCP_SPLIT_GAIN, and given up below that; from
 * all zero-copy, a saving between the two does not bring it back. */
static void
test_a_split_is_entered_above_its_gain_and_left_below_it(void)
{
	struct gain_model g = { .sizes = small_mix, .nb_sizes = 8 };
	double between = 1 - (TIDE_ZCP_SPLIT_GAIN + TIDE_ZCP_SPLIT_ENTER) / 2 /
		small_mix_gain(0);
	struct tide_zcp_state st;

	CU_ASSERT_FATAL(small_mix_gain(0.8) > TIDE_ZCP_SPLIT_ENTER);
	g.small_copy = 0.8;
	tide_zcp_init(&st, TIDE_ZCP_ADAPTIVE);
	gain_model_run(&st, &g, 200000);
	CU_ASSERT(small_copied(&st));
	/* Between the two: kept. */
	g.small_copy = between;
	gain_model_run(&st, &g, 4000000);
	CU_ASSERT(small_copied(&st));
	/* Below TIDE_ZCP_SPLIT_GAIN: given up. */
	g.small_copy = 1 - TIDE_ZCP_SPLIT_GAIN / 2 / small_mix_gain(0);
	gain_model_run(&st, &g, 4000000);
	CU_ASSERT(!small_copied(&st));
	/* Between the two again: the 64 B sends stay zero-copy, though copying them is known
	 * to be cheaper for each. */
	g.small_copy = between;
	gain_model_run(&st, &g, 4000000);
	CU_ASSERT(!small_copied(&st));
	CU_ASSERT(st.cls[0].zc_copy > 1 / between - 0.02 && st.cls[0].zc_copy < 1 / between + 0.02);
	/* Above TIDE_ZCP_SPLIT_ENTER: taken again. */
	g.small_copy = 0.8;
	gain_model_run(&st, &g, 4000000);
	CU_ASSERT(small_copied(&st));
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("zctx_policy_mix");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_a_split_that_costs_the_mix_more_gives_way_to_all_zero_copy);
	CU_ADD_TEST(s, test_late_reports_count_in_the_window_they_were_decided_in);
	CU_ADD_TEST(s, test_a_split_that_pays_is_kept_and_tried_less_and_less);
	CU_ADD_TEST(s, test_all_zero_copy_gives_the_split_back_when_copying_stops_costing_the_mix);
	CU_ADD_TEST(s, test_all_zero_copy_a_trial_chose_is_left_to_the_trials);
	CU_ADD_TEST(s, test_a_trial_given_up_breaks_the_row_of_two);
	CU_ADD_TEST(s, test_reports_from_before_a_restart_stay_out_of_its_windows);
	CU_ADD_TEST(s, test_a_window_counts_only_the_paths_it_sets);
	CU_ADD_TEST(s, test_a_mix_on_one_side_of_the_threshold_is_never_tried);
	CU_ADD_TEST(s, test_a_split_that_saves_a_small_part_of_the_mix_is_not_taken);
	CU_ADD_TEST(s, test_a_split_is_entered_above_its_gain_and_left_below_it);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "zctx_policy_mix", false, register_tests);
}
