/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * tide-bench's arithmetic on measurements: medians, ratios of rounds, a target's worst.
 * Pure (no EAL, no clock): tests/test_bench_stats.c runs it alone.
 */

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include <rte_common.h>

#include "bench.h"

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
bench_median(double *v, unsigned int n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A ratio with a side of 0 means nothing: a cost ratio of 0 would pass a lower-is-better
 * target. */
bool
bench_ratio_valid(double a, double b)
{
	return a > 0 && b > 0;
}

double
bench_median_ratio(const double *a, const double *b, unsigned int n)
{
	double q[BENCH_MAX_ROUNDS];
	unsigned int k = 0;

	n = RTE_MIN(n, (unsigned int)BENCH_MAX_ROUNDS);
	for (unsigned int r = 0; r < n; r++)
		if (bench_ratio_valid(a[r], b[r]))
			q[k++] = a[r] / b[r];
	return k == 0 ? NAN : bench_median(q, k);
}

double
bench_worst(double worst, double v)
{
	/* RTE_MIN() would keep whichever came second of a NaN and a number. */
	return isnan(worst) || isnan(v) ? NAN : RTE_MIN(worst, v);
}
