/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The message library's telemetry (lib/msg/msg_telemetry.c) under EAL, through this
 * process's telemetry socket as dpdk-telemetry.py asks: exchanges, broadcast exchanges and
 * stages are listed and shown.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "test_common.h"
#include "test_msg_util.h"
#include "test_pool_util.h"
#include "tide_msg.h"

static void
test_telemetry_shows_exchanges_and_stages(void)
{
	struct tide_xchg *x = xchg("tm_tel", TIDE_XCHG_PRIO, 64, 3);
	int st = tide_stage_register("tm_tel_stage");
	struct rte_mbuf *m = pkt(tide_mp, 1, 64);
	char *out, cmd[64];

	tide_msg_make(m, (uint16_t)st, 2);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(x, &m, 1), 1);
	out = telemetry_query("/tide/xchg/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"tm_tel\""));
	free(out);
	out = telemetry_query("/tide/xchg/info,tm_tel");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"sent\":[0,0,1]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"waiting\":[0,0,1]"));
	free(out);
	out = telemetry_query("/tide/stage/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "tm_tel_stage"));
	free(out);
	CU_ASSERT_EQUAL(tide_xchg_recv_burst(x, &m, 1, (uint16_t)st), 1);
	snprintf(cmd, sizeof(cmd), "/tide/stage/info,%d", st);
	out = telemetry_query(cmd);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"held\":1"));
	free(out);
	tide_msg_release(m);
	tide_xchg_free(x);
	tide_stage_unregister((uint16_t)st);
}

static void
test_telemetry_shows_broadcast_exchanges(void)
{
	struct tide_bcast *b = tide_bcast_create("tm_tel_bc", 2);
	struct rte_mbuf *m = pkt(tide_mp, 1, 64), *r;
	char *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), 0);
	CU_ASSERT_EQUAL(tide_bcast_read(b, 1, &r, NULL), 0);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 1), 0);
	out = telemetry_query("/tide/bcast/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"tm_tel_bc\""));
	free(out);
	out = telemetry_query("/tide/bcast/info,tm_tel_bc");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"readers\":2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"posted\":1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"done\":1"));
	free(out);
	tide_bcast_free(b);
	tide_msg_release(m);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("msg_telemetry", msg_suite_init, msg_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_telemetry_shows_exchanges_and_stages);
	CU_ADD_TEST(s, test_telemetry_shows_broadcast_exchanges);
	CU_ADD_TEST(s, test_nothing_leaked_at_the_end);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "msg_telemetry", true, register_tests);
}
