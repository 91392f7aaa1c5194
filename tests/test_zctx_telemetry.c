/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The zero-copy TX library's telemetry (lib/zctx/zctx_telemetry.c) under EAL, through
 * this process's telemetry socket and through the stock dpdk-telemetry.py: instances are
 * listed and their counters shown, bad requests refused.
 */

#include <stdlib.h>
#include <string.h>

#include "test_common.h"
#include "test_pool_util.h"
#include "test_zctx_util.h"
#include "tide_zctx.h"

static void
test_telemetry_lists_and_shows_instances(void)
{
	static uint8_t data[2000];
	struct tide_zctx_stats st;
	struct tide_zctx_cpl cpl;
	struct tide_zctx *z = zctx_make("zt_tel", null_port, 0, 0, 8);
	char *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, null_port, 1, data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT(stats_wait_completed(z, 1, &st));
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"zt_tel\""));
	free(out);
	out = telemetry_query("/tide/zctx/info,zt_tel");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"depth\":8"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"completed\":1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"zc_sends\":1"));
	/* A fixed threshold (0) never tries the mix. */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"threshold\":0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"mix_trials\":0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"mix_all_zc\":0"));
	/* One send of one or two frames: one TX burst, or two if mbufs ran short. */
	CU_ASSERT(strstr(out, "\"tx_bursts\":1") != NULL ||
		strstr(out, "\"tx_bursts\":2") != NULL);
	free(out);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	out = telemetry_query("/tide/zctx/list");
	CU_ASSERT_PTR_NULL(strstr(out, "\"zt_tel\""));
	free(out);
}

/*
 * Through the stock dpdk-telemetry.py: an instance is listed and shown; an unknown name, a
 * missing parameter, junk after a name, and a parameter to the list are refused (null).
 */
static void
test_the_stock_client_shows_an_instance_and_refuses_bad_requests(void)
{
	struct tide_zctx *z = zctx_make("zt_stock", null_port, 0, 0, 8);
	char *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	out = tide_test_stock_telemetry("/tide/zctx/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"/tide/zctx/list\": [\"zt_stock\"]}"));
	free(out);
	out = tide_test_stock_telemetry("/tide/zctx/info,zt_stock");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"/tide/zctx/info\": {\"name\": \"zt_stock\", "
		"\"depth\": 8, \"ports\": 1, "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"submitted\": 0, "));
	free(out);
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/info,zt_nope"));
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/info"));
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/info,zt_stock,junk"));
	CU_ASSERT(tide_test_stock_refused("/tide/zctx/list,junk"));
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("zctx_telemetry", zctx_suite_init, zctx_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_telemetry_lists_and_shows_instances);
	CU_ADD_TEST(s, test_the_stock_client_shows_an_instance_and_refuses_bad_requests);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "zctx_telemetry", true, register_tests);
}
