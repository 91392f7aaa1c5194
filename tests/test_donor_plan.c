/* SPDX-License-Identifier: BSD-3-Clause */

/* The donor plan, without EAL: how a request splits into an own part and K donors. */

#include <errno.h>

#include "donor_plan.h"
#include "test_common.h"

#define KB 1024ull
#define MB (1024ull * KB)
#define PG (4 * KB)
#define HPG (2 * MB)

static struct donor_plan_in
plan_in(uint64_t bytes, uint64_t own_avail, uint64_t donor_max)
{
	return (struct donor_plan_in){
		.bytes = bytes, .page_sz = PG, .own_avail = own_avail, .own_max = UINT64_MAX,
		.donor_max = donor_max, .donors_left = 64, .sys_avail = DONOR_UNLIMITED,
	};
}

static void
test_own_allowance_is_used_first_then_k_donors_of_the_maximum(void)
{
	struct donor_plan_in in = plan_in(68 * MB, 4 * MB, 4 * MB);
	struct donor_plan p;

	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), 0);
	CU_ASSERT_EQUAL(p.bytes, 68 * MB);
	CU_ASSERT_EQUAL(p.own, 4 * MB);
	CU_ASSERT_EQUAL(p.shortfall, 64 * MB);
	CU_ASSERT_EQUAL(p.nb_donors, 16);
	for (uint32_t i = 0; i < p.nb_donors; i++)
		CU_ASSERT_EQUAL(donor_plan_share(&p, i), 4 * MB);
	CU_ASSERT_EQUAL(donor_plan_share(&p, 16), 0);
}

static void
test_k_is_the_ceiling_and_the_last_donor_takes_the_remainder(void)
{
	struct donor_plan_in in = plan_in(10 * MB + 1, 1 * MB, 4 * MB);
	struct donor_plan p;
	uint64_t sum;

	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), 0);
	CU_ASSERT_EQUAL(p.bytes, 10 * MB + PG); /* whole pages */
	CU_ASSERT_EQUAL(p.own, 1 * MB);
	CU_ASSERT_EQUAL(p.nb_donors, 3); /* ceil((9 MB + 4 KB) / 4 MB) */
	CU_ASSERT_EQUAL(p.per_donor, 4 * MB);
	CU_ASSERT_EQUAL(p.last, 1 * MB + PG);
	sum = p.own;
	for (uint32_t i = 0; i < p.nb_donors; i++)
		sum += donor_plan_share(&p, i);
	CU_ASSERT_EQUAL(sum, p.bytes);
}

static void
test_no_donor_when_the_own_allowance_suffices(void)
{
	struct donor_plan_in in = plan_in(3 * MB, 4 * MB, 4 * MB);
	struct donor_plan p;

	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), 0);
	CU_ASSERT_EQUAL(p.own, 3 * MB);
	CU_ASSERT_EQUAL(p.nb_donors, 0);
	CU_ASSERT_EQUAL(p.last, 0);
}

static void
test_own_max_zero_means_donors_only(void)
{
	struct donor_plan_in in = plan_in(8 * MB, 4 * MB, 4 * MB);
	struct donor_plan p;

	in.own_max = 0;
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), 0);
	CU_ASSERT_EQUAL(p.own, 0);
	CU_ASSERT_EQUAL(p.nb_donors, 2);
	in.own_max = 1 * MB + 100; /* in whole pages */
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), 0);
	CU_ASSERT_EQUAL(p.own, 1 * MB);
	CU_ASSERT_EQUAL(p.nb_donors, 2);
	CU_ASSERT_EQUAL(p.last, 3 * MB);
}

static void
test_an_unlimited_maximum_needs_one_donor(void)
{
	struct donor_plan_in in = plan_in(64 * MB, 0, DONOR_UNLIMITED);
	struct donor_plan p;

	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), 0);
	CU_ASSERT_EQUAL(p.nb_donors, 1);
	CU_ASSERT_EQUAL(p.last, 64 * MB);
}

static void
test_hugepages_are_planned_in_whole_hugepages(void)
{
	struct donor_plan_in in = plan_in(5 * MB, 0, 5 * MB);
	struct donor_plan p;

	in.page_sz = HPG;
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), 0);
	CU_ASSERT_EQUAL(p.bytes, 6 * MB);
	CU_ASSERT_EQUAL(p.per_donor, 4 * MB); /* 5 MB holds two hugepages */
	CU_ASSERT_EQUAL(p.nb_donors, 2);
	CU_ASSERT_EQUAL(p.last, 2 * MB);
}

static void
test_more_donors_than_may_run_is_enospc(void)
{
	struct donor_plan_in in = plan_in(65 * MB, 0, 4 * MB);
	struct donor_plan p;

	in.donors_left = 16;
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), -ENOSPC);
	in.donors_left = 17;
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), 0);
	CU_ASSERT_EQUAL(p.nb_donors, 17);
}

static void
test_a_maximum_below_one_page_is_enospc(void)
{
	struct donor_plan_in in = plan_in(1 * MB, 0, PG - 1);
	struct donor_plan p;

	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), -ENOSPC);
	/* ... unless no donor is needed. */
	in.own_avail = 1 * MB;
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), 0);
	CU_ASSERT_EQUAL(p.nb_donors, 0);
}

static void
test_more_than_the_system_has_is_enomem(void)
{
	struct donor_plan_in in = plan_in(64 * MB, 0, 4 * MB);
	struct donor_plan p;

	in.sys_avail = 32 * MB;
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), -ENOMEM);
	in.sys_avail = 64 * MB;
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), 0);
}

static void
test_bad_requests_are_einval(void)
{
	struct donor_plan_in in = plan_in(0, 0, 4 * MB);
	struct donor_plan p;

	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), -EINVAL);
	in = plan_in(1 * MB, 0, 4 * MB);
	in.page_sz = 3000;
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), -EINVAL);
	in.page_sz = 0;
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), -EINVAL);
	in = plan_in(UINT64_MAX - 10, 0, 4 * MB);
	CU_ASSERT_EQUAL(donor_plan_compute(&in, &p), -EINVAL);
	CU_ASSERT_EQUAL(donor_plan_compute(NULL, &p), -EINVAL);
	CU_ASSERT_EQUAL(donor_plan_compute(&in, NULL), -EINVAL);
}

static void
test_own_allowance_is_limit_less_used_in_whole_pages(void)
{
	CU_ASSERT_EQUAL(donor_own_allowance(8 * MB, 1 * MB + 5, 0, PG, false), 7 * MB - PG);
	CU_ASSERT_EQUAL(donor_own_allowance(8 * MB, 2 * MB, 1 * MB, PG, false), 5 * MB);
	CU_ASSERT_EQUAL(donor_own_allowance(8 * MB, 9 * MB, 0, PG, false), 0);
	CU_ASSERT_EQUAL(donor_own_allowance(8 * MB, UINT64_MAX, 10, PG, false), 0);
	CU_ASSERT_EQUAL(donor_own_allowance(DONOR_UNLIMITED, 9 * MB, 0, PG, false),
		DONOR_UNLIMITED);
	CU_ASSERT_EQUAL(donor_own_allowance(0, 0, 0, PG, false), 0);
	/* --socket-limit refuses a heap of exactly the limit: one page less. */
	CU_ASSERT_EQUAL(donor_own_allowance(64 * MB, 0, 0, HPG, true), 62 * MB);
	CU_ASSERT_EQUAL(donor_own_allowance(64 * MB, 62 * MB, 0, HPG, true), 0);
}

static void
test_per_process_maximum_configured_wins_over_measured(void)
{
	CU_ASSERT_EQUAL(donor_per_process_max(0, 8 * MB, PG), 8 * MB);
	CU_ASSERT_EQUAL(donor_per_process_max(2 * MB + 1, 8 * MB, PG), 2 * MB);
	CU_ASSERT_EQUAL(donor_per_process_max(0, DONOR_UNLIMITED, HPG), DONOR_UNLIMITED);
	CU_ASSERT_EQUAL(donor_per_process_max(3 * MB, 0, HPG), 2 * MB);
}

static void
test_socket_limit_is_read_from_a_command_line(void)
{
	const char *a1[] = { "app", "-l", "0", "--socket-limit=64,128", "--", "--socket-limit=1" };
	const char *a2[] = { "app", "--socket-limit", "32", "--socket-limit", "48" };
	const char *a3[] = { "app", "--socket-mem", "64" };
	const char *a4[] = { "app", "--socket-limit=64x" };
	const char *a5[] = { "app", "--socket-limit" };
	const char *a6[] = { "app", "--socket-limit=0,16" };
	uint64_t v;

	CU_ASSERT_EQUAL(donor_socket_limit_parse(6, a1, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 64 * MB);
	CU_ASSERT_EQUAL(donor_socket_limit_parse(6, a1, 1, &v), 0);
	CU_ASSERT_EQUAL(v, 128 * MB);
	CU_ASSERT_EQUAL(donor_socket_limit_parse(6, a1, 2, &v), 0);
	CU_ASSERT_EQUAL(v, DONOR_UNLIMITED);
	CU_ASSERT_EQUAL(donor_socket_limit_parse(5, a2, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 48 * MB); /* the last one counts */
	CU_ASSERT_EQUAL(donor_socket_limit_parse(3, a3, 0, &v), -ENOENT);
	CU_ASSERT_EQUAL(donor_socket_limit_parse(2, a4, 0, &v), -EINVAL);
	CU_ASSERT_EQUAL(donor_socket_limit_parse(2, a5, 0, &v), -EINVAL);
	CU_ASSERT_EQUAL(donor_socket_limit_parse(2, a6, 0, &v), 0);
	CU_ASSERT_EQUAL(v, DONOR_UNLIMITED); /* 0 is no limit, as EAL takes it */
	CU_ASSERT_EQUAL(donor_socket_limit_parse(2, a6, 1, &v), 0);
	CU_ASSERT_EQUAL(v, 16 * MB);
}

static void
test_a_dead_donor_is_kept_repinned_or_reported(void)
{
	CU_ASSERT_EQUAL(donor_death_decide(false, true, 10, 0, 3), DONOR_DEATH_KEEP);
	CU_ASSERT_EQUAL(donor_death_decide(false, false, 0, 9, 3), DONOR_DEATH_KEEP);
	CU_ASSERT_EQUAL(donor_death_decide(true, true, 10, 0, 3), DONOR_DEATH_REPIN);
	CU_ASSERT_EQUAL(donor_death_decide(true, true, 10, 2, 3), DONOR_DEATH_REPIN);
	CU_ASSERT_EQUAL(donor_death_decide(true, true, 10, 3, 3), DONOR_DEATH_REPORT);
	CU_ASSERT_EQUAL(donor_death_decide(true, false, 10, 0, 3), DONOR_DEATH_REPORT);
	CU_ASSERT_EQUAL(donor_death_decide(true, true, 0, 0, 3), DONOR_DEATH_REPORT);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("donor_plan");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_own_allowance_is_used_first_then_k_donors_of_the_maximum);
	CU_ADD_TEST(s, test_k_is_the_ceiling_and_the_last_donor_takes_the_remainder);
	CU_ADD_TEST(s, test_no_donor_when_the_own_allowance_suffices);
	CU_ADD_TEST(s, test_own_max_zero_means_donors_only);
	CU_ADD_TEST(s, test_an_unlimited_maximum_needs_one_donor);
	CU_ADD_TEST(s, test_hugepages_are_planned_in_whole_hugepages);
	CU_ADD_TEST(s, test_more_donors_than_may_run_is_enospc);
	CU_ADD_TEST(s, test_a_maximum_below_one_page_is_enospc);
	CU_ADD_TEST(s, test_more_than_the_system_has_is_enomem);
	CU_ADD_TEST(s, test_bad_requests_are_einval);
	CU_ADD_TEST(s, test_own_allowance_is_limit_less_used_in_whole_pages);
	CU_ADD_TEST(s, test_per_process_maximum_configured_wins_over_measured);
	CU_ADD_TEST(s, test_socket_limit_is_read_from_a_command_line);
	CU_ADD_TEST(s, test_a_dead_donor_is_kept_repinned_or_reported);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "donor_plan", false, register_tests);
}
