/* SPDX-License-Identifier: BSD-3-Clause */

/* Pool profiles: parsing, lookup and sizes, without EAL. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "pool_profile.h"
#include "test_common.h"

#define MB (1ull << 20)

static struct tide_pool_profile
parse_ok(const char *line)
{
	struct tide_pool_profile p;
	const char *why = NULL;

	CU_ASSERT_EQUAL(tide_profile_parse_line(line, strlen(line), &p, &why), 1);
	if (why != NULL)
		printf("\n    unexpected refusal of '%s': %s ", line, why);
	return p;
}

/* The line is refused with a reason that contains @p says. */
static void
parse_bad(const char *line, const char *says)
{
	struct tide_pool_profile p;
	const char *why = NULL;

	CU_ASSERT_EQUAL(tide_profile_parse_line(line, strlen(line), &p, &why), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	if (strstr(why, says) == NULL) {
		printf("\n    '%s' refused as '%s', not '%s' ", line, why, says);
		CU_FAIL("wrong reason");
	}
}

static void
test_defaults_are_a_32nd_base_and_4m_blocks(void)
{
	struct tide_pool_profile p;

	tide_profile_defaults(&p);
	CU_ASSERT_STRING_EQUAL(p.pattern, "*");
	CU_ASSERT_FALSE(p.fixed);
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.base, 160 * MB), 5 * MB);
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.block, 160 * MB), 4 * MB);
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.wall, 160 * MB), 160 * MB);
	CU_ASSERT_EQUAL(p.reap_ms, 50);
	CU_ASSERT_EQUAL(p.idle_ms, 500);
	CU_ASSERT_EQUAL(p.tick_us, 1000);
}

static void
test_a_line_sets_every_key(void)
{
	struct tide_pool_profile p = parse_ok("  rx_* base=4M block=512K wall=50% reap=10 "
		"idle=100 tick=500  # the RX pools");

	CU_ASSERT_STRING_EQUAL(p.pattern, "rx_*");
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.base, 1000 * MB), 4 * MB);
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.block, 1000 * MB), 512 << 10);
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.wall, 1000 * MB), 500 * MB);
	CU_ASSERT_EQUAL(p.reap_ms, 10);
	CU_ASSERT_EQUAL(p.idle_ms, 100);
	CU_ASSERT_EQUAL(p.tick_us, 500);
	p = parse_ok("tx fixed");
	CU_ASSERT_TRUE(p.fixed);
	CU_ASSERT_FALSE(p.priv);
	p = parse_ok("ovs* priv");
	CU_ASSERT_TRUE(p.priv);
	CU_ASSERT_FALSE(p.fixed);
	p = parse_ok("x base=1G block=1048576 wall=3/4 reap=0");
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.base, 0), 1ull << 30);
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.block, 0), 1048576);
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.wall, 400), 300);
	CU_ASSERT_EQUAL(p.reap_ms, 0);
	/* Keys a line leaves out keep the defaults. */
	CU_ASSERT_EQUAL(p.idle_ms, 500);
}

static void
test_blank_and_comment_lines_hold_no_profile(void)
{
	struct tide_pool_profile p;
	const char *why;

	CU_ASSERT_EQUAL(tide_profile_parse_line("", 0, &p, &why), 0);
	CU_ASSERT_EQUAL(tide_profile_parse_line("   \t", 4, &p, &why), 0);
	CU_ASSERT_EQUAL(tide_profile_parse_line("# base=1", 8, &p, &why), 0);
}

static void
test_bad_lines_are_refused_with_a_reason(void)
{
	parse_bad("base=4M", "pattern");
	parse_bad("p size=4M", "unknown key");
	parse_bad("p base=4M base=8M", "twice");
	parse_bad("p base", "without a value");
	parse_bad("p fixed=1", "no value");
	parse_bad("p priv=yes", "no value");
	parse_bad("p base=0", "bad size");
	parse_bad("p base=4X", "bad size");
	parse_bad("p base=abc", "bad size");
	parse_bad("p base=", "bad size");
	parse_bad("p base=2/1", "bad size");
	parse_bad("p base=1/0", "bad size");
	parse_bad("p base=0/4", "bad size");
	parse_bad("p wall=101%", "bad size");
	parse_bad("p wall=0%", "bad size");
	parse_bad("p block=-1", "bad size");
	parse_bad("p block=99999999999999999999", "bad size");
	parse_bad("p block=2000000G", "bad size");
	parse_bad("p reap=-5", "reap must be");
	parse_bad("p reap=3600001", "reap must be");
	parse_bad("p idle=0", "idle must be");
	parse_bad("p idle=10s", "idle must be");
	parse_bad("p tick=0", "tick must be");
	parse_bad("p tick=1000001", "tick must be");
	parse_bad("0123456789012345678901234567890123456789012345678901234567890123 reap=1",
		"longer than 63");
}

struct seen {
	unsigned int n;
	unsigned int lines[8];
};

static void
note_bad(void *arg, unsigned int line, const char *reason)
{
	struct seen *s = arg;

	CU_ASSERT_PTR_NOT_NULL(reason);
	if (s->n < RTE_DIM(s->lines))
		s->lines[s->n] = line;
	s->n++;
}

static void
test_the_first_matching_line_wins(void)
{
	const char *text = "# profiles\n"
		"rx_[0-9] base=2M\n"
		"rx_* base=4M\n"
		"* base=8M\n";
	struct tide_pool_profile p;
	struct seen s = { 0 };

	CU_ASSERT_EQUAL(tide_profile_lookup(text, "rx_1", &p, note_bad, &s), 0);
	CU_ASSERT_EQUAL(p.line, 2);
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.base, 0), 2 * MB);
	tide_profile_lookup(text, "rx_10", &p, note_bad, &s);
	CU_ASSERT_EQUAL(p.line, 3);
	tide_profile_lookup(text, "mbuf_pool", &p, note_bad, &s);
	CU_ASSERT_EQUAL(p.line, 4);
	CU_ASSERT_EQUAL(s.n, 0);
}

static void
test_no_match_gives_the_defaults(void)
{
	struct tide_pool_profile p;

	CU_ASSERT_EQUAL(tide_profile_lookup("rx_* base=4M\n", "tx", &p, NULL, NULL), 0);
	CU_ASSERT_EQUAL(p.line, 0);
	CU_ASSERT_STRING_EQUAL(p.pattern, "*");
	CU_ASSERT_EQUAL(tide_profile_lookup("", "tx", &p, NULL, NULL), 0);
	CU_ASSERT_EQUAL(p.line, 0);
}

/* A bad line is reported with its number and skipped, even one that would have matched:
 * the next good line (or the defaults) applies; lines after the match are still checked.
 */
static void
test_bad_lines_are_reported_and_skipped(void)
{
	const char *text = "rx_* base=4Q\n"
		"\n"
		"rx_* base=2M\n"
		"tx_* reap=-1\n"
		"* block=oops";
	struct tide_pool_profile p;
	struct seen s = { 0 };

	CU_ASSERT_EQUAL(tide_profile_lookup(text, "rx_0", &p, note_bad, &s), 3);
	CU_ASSERT_EQUAL(p.line, 3);
	CU_ASSERT_EQUAL(tide_profile_bytes(&p.base, 0), 2 * MB);
	CU_ASSERT_EQUAL(s.n, 3);
	CU_ASSERT_EQUAL(s.lines[0], 1);
	CU_ASSERT_EQUAL(s.lines[1], 4);
	CU_ASSERT_EQUAL(s.lines[2], 5);
	s.n = 0;
	CU_ASSERT_EQUAL(tide_profile_lookup(text, "tx_0", &p, note_bad, &s), 3);
	CU_ASSERT_EQUAL(p.line, 0);
}

static void
test_shares_round_down_and_do_not_overflow(void)
{
	struct tide_profile_size third = { .num = 1, .den = 3 };
	struct tide_profile_size most = { .num = UINT32_MAX - 1, .den = UINT32_MAX };

	CU_ASSERT_EQUAL(tide_profile_bytes(&third, 10), 3);
	/* (2^64 - 1) / (2^32 - 1) is 2^32 + 1 exactly. */
	CU_ASSERT_EQUAL(tide_profile_bytes(&most, UINT64_MAX), UINT64_MAX - (UINT64_MAX /
		UINT32_MAX));
}

static void
count_bad(void *arg, unsigned int line, const char *reason)
{
	printf("\n    config/pools.conf:%u: %s ", line, reason);
	(*(unsigned int *)arg)++;
}

/* The profiles the project installs parse clean, and give testpmd's pools their line. */
static void
test_the_shipped_profiles_parse_clean(void)
{
	FILE *f = fopen(TIDE_SOURCE_ROOT "/config/pools.conf", "r");
	struct tide_pool_profile p;
	unsigned int bad = 0;
	char text[8192];
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	CU_ASSERT_EQUAL(tide_profile_lookup(text, "mb_pool_0", &p, count_bad, &bad), 0);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_STRING_EQUAL(p.pattern, "mb_pool_*");
	tide_profile_lookup(text, "rx", &p, count_bad, &bad);
	CU_ASSERT_STRING_EQUAL(p.pattern, "*");
	CU_ASSERT_EQUAL(p.idle_ms, 500);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("pool_profile");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_defaults_are_a_32nd_base_and_4m_blocks);
	CU_ADD_TEST(s, test_a_line_sets_every_key);
	CU_ADD_TEST(s, test_blank_and_comment_lines_hold_no_profile);
	CU_ADD_TEST(s, test_bad_lines_are_refused_with_a_reason);
	CU_ADD_TEST(s, test_the_first_matching_line_wins);
	CU_ADD_TEST(s, test_no_match_gives_the_defaults);
	CU_ADD_TEST(s, test_bad_lines_are_reported_and_skipped);
	CU_ADD_TEST(s, test_shares_round_down_and_do_not_overflow);
	CU_ADD_TEST(s, test_the_shipped_profiles_parse_clean);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "pool_profile", false, register_tests);
}
