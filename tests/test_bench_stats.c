/* SPDX-License-Identifier: BSD-3-Clause */

/* tide-bench's arithmetic on measurements (app/tide-bench/bench_stats.c), without EAL. */

#include <math.h>

#include "bench.h"
#include "test_common.h"

/* A ratio with no figure (NaN) anywhere among a target's rows makes its worst NaN, wherever
 * it comes: the target is then not met (bench.sh reads "nan" as no figure). */
static void
test_a_nan_ratio_makes_the_worst_nan(void)
{
	double w = INFINITY;

	w = bench_worst(w, 1.2);
	CU_ASSERT_DOUBLE_EQUAL(w, 1.2, 0);
	w = bench_worst(w, 0.9);
	CU_ASSERT_DOUBLE_EQUAL(w, 0.9, 0);
	w = bench_worst(w, NAN);
	CU_ASSERT_TRUE(isnan(w));
	/* A number after the NaN does not bring it back. */
	w = bench_worst(w, 0.5);
	CU_ASSERT_TRUE(isnan(w));
	CU_ASSERT_TRUE(isnan(bench_worst(NAN, 2.0)));
	CU_ASSERT_TRUE(isnan(bench_worst(2.0, NAN)));
}

/* Rounds where either side measured nothing are left out; NaN when all are. */
static void
test_a_median_ratio_leaves_out_rounds_without_both_sides(void)
{
	const double a[4] = { 2, 0, 3, 4 }, b[4] = { 1, 1, 0, 2 };
	const double none_a[2] = { 0, 1 }, none_b[2] = { 1, 0 };

	CU_ASSERT_DOUBLE_EQUAL(bench_median_ratio(a, b, 4), 2, 1e-12);
	CU_ASSERT_TRUE(isnan(bench_median_ratio(none_a, none_b, 2)));
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("bench_stats");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_a_nan_ratio_makes_the_worst_nan);
	CU_ADD_TEST(s, test_a_median_ratio_leaves_out_rounds_without_both_sides);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "bench_stats", false, register_tests);
}
