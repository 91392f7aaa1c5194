/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The message library's telemetry (lib/msg/msg_telemetry.c) under EAL, through this
 * process's telemetry socket as dpdk-telemetry.py asks, and through the stock client
 * itself: exchanges, broadcast exchanges and stages are listed and shown, bad requests
 * refused, and no handler reads an object that is being freed.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "test_common.h"
#include "test_msg_util.h"
#include "test_pool_util.h"
#include "tide_fault.h"
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
	/* 64 rounded up to 2^k - 1 a level; neither side single; the memory's socket. */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"capacity\":127"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"single_sender\":0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"single_receiver\":0"));
	snprintf(cmd, sizeof(cmd), "\"socket\":%d", (int)rte_socket_id());
	CU_ASSERT_PTR_NOT_NULL(strstr(out, cmd));
	free(out);
	out = telemetry_query("/tide/stage/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "tm_tel_stage"));
	free(out);
	CU_ASSERT_EQUAL(tide_xchg_recv_burst(x, &m, 1, (uint16_t)st), 1);
	snprintf(cmd, sizeof(cmd), "/tide/stage/info,%d", st);
	out = telemetry_query(cmd);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"held\":1"));
	snprintf(cmd, sizeof(cmd), "\"pid\":%d", (int)getpid());
	CU_ASSERT_PTR_NOT_NULL(strstr(out, cmd));
	free(out);
	tide_msg_release(m);
	tide_xchg_free(x);
	tide_stage_unregister((uint16_t)st);
}

/* A thread waiting for a post to complete. */
static void *
bc_waiter(void *arg)
{
	return (void *)(intptr_t)tide_bcast_wait(arg, 0);
}

/* Whether /tide/bcast/info of tm_tel_bc shows "sleepers":@p arg. */
static bool
bc_sleepers_shown(void *arg)
{
	char want[32], *out = telemetry_query("/tide/bcast/info,tm_tel_bc");
	bool ok;

	snprintf(want, sizeof(want), "\"sleepers\":%u", *(unsigned int *)arg);
	ok = strstr(out, want) != NULL;
	free(out);
	return ok;
}

/* A broadcast's counters, and the sender asleep in tide_bcast_wait() until it is done. */
static void
test_telemetry_shows_broadcast_exchanges(void)
{
	struct tide_bcast *b = tide_bcast_create("tm_tel_bc", 2);
	struct rte_mbuf *m = pkt(tide_mp, 1, 64), *r;
	unsigned int one = 1, none = 0;
	pthread_t waiter;
	void *ret;
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
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"sleepers\":0"));
	free(out);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&waiter, NULL, bc_waiter, b), 0);
	CU_ASSERT_TRUE(tide_test_wait(bc_sleepers_shown, &one, 10000));
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &r, NULL), 0);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 0), 0);
	pthread_join(waiter, &ret);
	CU_ASSERT_EQUAL((intptr_t)ret, 0);
	CU_ASSERT_TRUE(bc_sleepers_shown(&none));
	tide_bcast_free(b);
	tide_msg_release(m);
}

/* Whether the stock client's answer to @p cmd holds @p want (when not, it is printed). */
static bool
stock_shows(const char *cmd, const char *want)
{
	char *out = tide_test_stock_telemetry(cmd);
	bool ok = strstr(out, want) != NULL;

	if (!ok)
		printf("\n    %s: want %s, the stock client says: %s ", cmd, want, out);
	free(out);
	return ok;
}

/*
 * Through the stock dpdk-telemetry.py: an exchange, a broadcast exchange and a stage are
 * listed and shown; an unknown name or id, a missing parameter, junk after a name, and a
 * parameter to a list are refused (null).
 */
static void
test_the_stock_client_shows_each_kind_and_refuses_bad_requests(void)
{
	struct tide_xchg_params p = { .name = "tm_stock", .type = TIDE_XCHG_FIFO, .size = 100,
		.flags = TIDE_XCHG_F_SP, .socket_id = SOCKET_ID_ANY };
	struct tide_xchg *x = tide_xchg_create(&p);
	struct tide_bcast *b = tide_bcast_create("tm_stock_bc", 3);
	int st = tide_stage_register("tm_stock_st");
	char cmd[64], want[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_FATAL(st >= 0);
	CU_ASSERT(stock_shows("/tide/xchg/list", "\"tm_stock\""));
	CU_ASSERT(stock_shows("/tide/xchg/info,tm_stock", "\"type\": \"fifo\", \"levels\": 1, "
		"\"capacity\": 127, \"single_sender\": 1, \"single_receiver\": 0, \"socket\": "));
	CU_ASSERT(stock_shows("/tide/bcast/list", "\"tm_stock_bc\""));
	CU_ASSERT(stock_shows("/tide/bcast/info,tm_stock_bc", "\"readers\": 3, \"posts\": 0"));
	snprintf(want, sizeof(want), "\"%d\": \"tm_stock_st\"", st);
	CU_ASSERT(stock_shows("/tide/stage/list", want));
	snprintf(cmd, sizeof(cmd), "/tide/stage/info,%d", st);
	snprintf(want, sizeof(want), "\"name\": \"tm_stock_st\", \"pid\": %d, \"held\": 0",
		(int)getpid());
	CU_ASSERT(stock_shows(cmd, want));

	CU_ASSERT(tide_test_stock_refused("/tide/xchg/info,tm_nope"));
	CU_ASSERT(tide_test_stock_refused("/tide/xchg/info"));
	CU_ASSERT(tide_test_stock_refused("/tide/xchg/info,tm_stock,junk"));
	CU_ASSERT(tide_test_stock_refused("/tide/bcast/info,tm_nope"));
	CU_ASSERT(tide_test_stock_refused("/tide/bcast/info"));
	CU_ASSERT(tide_test_stock_refused("/tide/bcast/info,tm_stock_bc,junk"));
	snprintf(cmd, sizeof(cmd), "/tide/stage/info,%d", TIDE_STAGE_MAX - 1); /* unregistered */
	CU_ASSERT(tide_test_stock_refused(cmd));
	CU_ASSERT(tide_test_stock_refused("/tide/stage/info"));
	snprintf(cmd, sizeof(cmd), "/tide/stage/info,%d,junk", st);
	CU_ASSERT(tide_test_stock_refused(cmd));
	CU_ASSERT(tide_test_stock_refused("/tide/xchg/list,junk"));
	CU_ASSERT(tide_test_stock_refused("/tide/bcast/list,junk"));
	CU_ASSERT(tide_test_stock_refused("/tide/stage/list,junk"));
	tide_stage_unregister((uint16_t)st);
	tide_bcast_free(b);
	tide_xchg_free(x);
}

/* A stage id is decimal digits, in range: nothing strtoul() would also take. */
static void
test_stage_info_takes_decimal_digits_only(void)
{
	static const char *const loose[] = { " %d", "+%d", "0x%x", "-%d", "%d.0" };
	int st = tide_stage_register("tm_tel_id");
	char cmd[64], *out;

	CU_ASSERT_FATAL(st >= 0);
	for (unsigned int i = 0; i < RTE_DIM(loose); i++) {
		int n = snprintf(cmd, sizeof(cmd), "/tide/stage/info,");

		snprintf(cmd + n, sizeof(cmd) - n, loose[i], st);
		CU_ASSERT(tide_test_stock_refused(cmd));
	}
	CU_ASSERT(tide_test_stock_refused("/tide/stage/info,"));
	CU_ASSERT(tide_test_stock_refused("/tide/stage/info,99999999999999999999999"));
	snprintf(cmd, sizeof(cmd), "/tide/stage/info,%d", TIDE_STAGE_MAX);
	CU_ASSERT(tide_test_stock_refused(cmd));
	snprintf(cmd, sizeof(cmd), "/tide/stage/info,00%d", st);
	out = tide_test_stock_telemetry(cmd);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\": \"tm_tel_id\""));
	free(out);
	tide_stage_unregister((uint16_t)st);
}

/* A stage whose name starts with '(' is a stage like any other: listed, and shown. */
static void
test_stage_list_shows_a_stage_named_in_parentheses(void)
{
	int st = tide_stage_register("(tm_rx)");
	char cmd[64], want[64], *out;

	CU_ASSERT_FATAL(st >= 0);
	snprintf(want, sizeof(want), "\"%d\":\"(tm_rx)\"", st);
	out = telemetry_query("/tide/stage/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	free(out);
	snprintf(cmd, sizeof(cmd), "/tide/stage/info,%d", st);
	out = telemetry_query(cmd);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"(tm_rx)\""));
	free(out);
	tide_stage_unregister((uint16_t)st);
	/* Its slot is free again: not listed. */
	out = telemetry_query("/tide/stage/list");
	CU_ASSERT_PTR_NULL(strstr(out, want));
	free(out);
}

/* Whether @p out holds the proxy area's answer of @p size proxies, @p in_use of them used. */
static bool
proxy_info_is(const char *out, unsigned int size, unsigned int in_use)
{
	char want[96];

	snprintf(want, sizeof(want), "{\"size\":%u,\"in_use\":%u,\"free\":%u}", size, in_use,
		size - in_use);
	if (strstr(out, want) != NULL)
		return true;
	printf("\n    want %s in %s ", want, out);
	return false;
}

/* The proxy area: its size, and its proxies in use and free as proxies come and go. */
static void
test_proxy_info_shows_the_area_in_use_and_free(void)
{
	const struct tide_msg_range r[3] = { { 0, 8 }, { 8, 8 }, { 16, 8 } };
	struct rte_mbuf *real = pkt(tide_mp, 1, 64), *px[3];
	char want[96], *out;

	tide_msg_make(real, 1, 0);
	out = telemetry_query("/tide/proxy/info");
	CU_ASSERT(proxy_info_is(out, NB_PROXIES, 0));
	free(out);
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(real, 3, r, px), 0);
	out = telemetry_query("/tide/proxy/info");
	CU_ASSERT(proxy_info_is(out, NB_PROXIES, 3));
	free(out);
	tide_msg_release(real);
	for (unsigned int i = 0; i < RTE_DIM(px); i++)
		tide_msg_proxy_release(px[i]);
	snprintf(want, sizeof(want), "{\"/tide/proxy/info\": {\"size\": %u, \"in_use\": 0, "
		"\"free\": %u}}", NB_PROXIES, NB_PROXIES);
	CU_ASSERT(stock_shows("/tide/proxy/info", want));
	CU_ASSERT(tide_test_stock_refused("/tide/proxy/info,junk"));
}

/* ---- a handler reads an exchange that is being freed ---- */

#ifdef TIDE_FAULT_INJECTION
static void
free_xchg(void *x)
{
	tide_xchg_free(x);
}

/*
 * The handler is held once it has found the exchange: a free that comes then waits for the
 * directory until the handler is done with it, and the reply shows the exchange whole.
 */
static void
test_an_exchange_is_not_freed_under_its_info_handler(void)
{
	struct tide_xchg *x = xchg("tm_race", TIDE_XCHG_PRIO, 64, 2);
	char *out;

	CU_ASSERT(telemetry_free_waits_for_reader("/tide/xchg/info,tm_race",
		TIDE_HOLD_MSG_DIR_READ, "tide_msg_shared", 0, free_xchg, x, &out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"tm_race\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"sent\":[0,0]"));
	free(out);
	out = telemetry_query("/tide/xchg/info,tm_race");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "null"));
	free(out);
}
#endif

/* ---- a handler that is in, and tide_msg_fini() in another thread ---- */

#ifdef TIDE_FAULT_INJECTION
static void
fini_call(void *arg __rte_unused)
{
	CU_ASSERT_EQUAL(tide_msg_fini(), 0);
}

/*
 * The handler is held once in: a fini that comes then waits for it before tearing down the
 * proxy area and the shared state it reads, and the reply shows the area whole; after the
 * fini, the handler finds no area.
 */
static void
test_fini_waits_for_a_handler_that_is_in(void)
{
	struct tide_msg_conf conf = { .nb_proxies = NB_PROXIES, .socket_id = SOCKET_ID_ANY };
	char *out;

	CU_ASSERT(telemetry_free_waits_for_reader("/tide/proxy/info", TIDE_HOLD_MSG_TEL_IN, NULL,
		TIDE_HOLD_MSG_FINI_WAITS, fini_call, NULL, &out));
	CU_ASSERT(proxy_info_is(out, NB_PROXIES, 0));
	free(out);
	out = telemetry_query("/tide/proxy/info");
	CU_ASSERT(proxy_info_is(out, 0, 0));
	free(out);
	CU_ASSERT_EQUAL(tide_msg_init(&conf), 0);
}
#endif

#define CHURN_ROUNDS 2000

struct churn {
	bool bcast;
	bool stop;
};

/* Create and free the object the other thread asks about, as fast as it goes. */
static void *
churn_thread(void *arg)
{
	struct churn *c = arg;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		if (c->bcast) {
			tide_bcast_free(tide_bcast_create("tm_churn", 4));
		} else {
			struct tide_xchg_params p = { .name = "tm_churn", .type = TIDE_XCHG_PRIO,
				.nb_prio = 4, .size = 64, .socket_id = SOCKET_ID_ANY };

			tide_xchg_free(tide_xchg_create(&p));
		}
	}
	return NULL;
}

/* Every reply is whole (the object, or null), through many create/free rounds. */
static void
churn(bool bcast)
{
	const char *cmd = bcast ? "/tide/bcast/info,tm_churn" : "/tide/xchg/info,tm_churn";
	const char *whole = bcast ? "\"readers\":4" : "\"levels\":4";
	struct churn c = { .bcast = bcast };
	unsigned int shown = 0, bad = 0;
	pthread_t t;

	CU_ASSERT_EQUAL_FATAL(tide_test_thread_anywhere(&t, churn_thread, &c), 0);
	for (unsigned int i = 0; i < CHURN_ROUNDS; i++) {
		char *out = telemetry_query(cmd);

		if (strstr(out, whole) != NULL)
			shown++;
		else if (strstr(out, "null") == NULL)
			bad++;
		free(out);
	}
	__atomic_store_n(&c.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(bad, 0);
	printf("(%u of %u queries found it) ", shown, CHURN_ROUNDS);
}

static void
test_exchange_info_races_create_and_free(void)
{
	churn(false);
}

static void
test_broadcast_info_races_create_and_free(void)
{
	churn(true);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("msg_telemetry", msg_suite_init, msg_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_telemetry_shows_exchanges_and_stages);
	CU_ADD_TEST(s, test_telemetry_shows_broadcast_exchanges);
	CU_ADD_TEST(s, test_the_stock_client_shows_each_kind_and_refuses_bad_requests);
	CU_ADD_TEST(s, test_stage_info_takes_decimal_digits_only);
	CU_ADD_TEST(s, test_stage_list_shows_a_stage_named_in_parentheses);
	CU_ADD_TEST(s, test_proxy_info_shows_the_area_in_use_and_free);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_an_exchange_is_not_freed_under_its_info_handler);
	CU_ADD_TEST(s, test_fini_waits_for_a_handler_that_is_in);
#endif
	CU_ADD_TEST(s, test_exchange_info_races_create_and_free);
	CU_ADD_TEST(s, test_broadcast_info_races_create_and_free);
	CU_ADD_TEST(s, test_nothing_leaked_at_the_end);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "msg_telemetry", true, register_tests);
}
