/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Messages (lib/msg/msg.c and the inline make/unmake/release of tide_msg.h) under EAL,
 * with an elastic pool and a stock pool: make and unmake in place, checked release (what
 * no pool owns, double releases, proxies released as real messages), and release from
 * another thread to each mbuf's pool of origin.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include "msg_private.h"
#include "test_common.h"
#include "test_msg_util.h"
#include "tide_msg.h"

/* ---- make / unmake ---- */

static void
make_unmake_on(struct rte_mempool *mp)
{
	struct rte_mbuf *m = pkt(mp, 42, 100), copy;
	unsigned int before = in_use(mp);
	char data[100];

	memcpy(data, rte_pktmbuf_mtod(m, void *), sizeof(data));
	memcpy(&copy, m, sizeof(copy));
	tide_msg_make(m, 7, 3);
	/* In place: nothing allocated, the data where it was and as it was. */
	CU_ASSERT_EQUAL(in_use(mp), before);
	CU_ASSERT_TRUE(tide_msg_is_made(m));
	CU_ASSERT_EQUAL(tide_msg_owner(m), 7);
	CU_ASSERT_EQUAL(tide_msg_prio(m), 3);
	CU_ASSERT_FALSE(tide_msg_is_proxy(m));
	CU_ASSERT_PTR_EQUAL(m->buf_addr, copy.buf_addr);
	CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod(m, void *), data, sizeof(data)), 0);
	/* Unmade, the mbuf is as the PMD gave it: every field but the header's dynfield. */
	tide_msg_unmake(m);
	CU_ASSERT_EQUAL(memcmp(m, &copy, offsetof(struct rte_mbuf, dynfield1)), 0);
	CU_ASSERT_EQUAL(rte_mbuf_check(m, 1, NULL), 0);
	rte_pktmbuf_free(m);
}

static void
test_make_and_unmake_in_place_on_both_kinds_of_pool(void)
{
	struct rte_mbuf *m[32];

	make_unmake_on(tide_mp);
	make_unmake_on(stock_mp);
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(tide_mp, m, 32), 0);
	tide_msg_make_burst(m, 32, 1, 0);
	for (int i = 0; i < 32; i++)
		CU_ASSERT_TRUE(tide_msg_is_made(m[i]));
	tide_msg_unmake_burst(m, 32);
	for (int i = 0; i < 32; i++)
		CU_ASSERT_FALSE(tide_msg_is_made(m[i]));
	rte_pktmbuf_free_bulk(m, 32);
}

/* A second initialisation changes nothing: the header stays where it is. */
static void
test_a_second_init_changes_nothing(void)
{
	struct tide_msg_conf conf = { .nb_proxies = 16, .socket_id = SOCKET_ID_ANY };
	struct rte_mbuf *m = pkt(stock_mp, 1, 64);

	tide_msg_make(m, 3, 1);
	CU_ASSERT_EQUAL(tide_msg_init(&conf), 0);
	CU_ASSERT_EQUAL(tide_msg_init(NULL), 0);
	CU_ASSERT_TRUE(tide_msg_is_made(m));
	CU_ASSERT_EQUAL(tide_msg_owner(m), 3);
	CU_ASSERT_PTR_EQUAL(tide_msg_hdr(m), RTE_MBUF_DYNFIELD(m,
		rte_mbuf_dynfield_lookup("tide_msg_hdr", NULL), struct tide_msg_hdr *));
	tide_msg_release(m);
}

/* ---- checked release ---- */

static void
expect_einval(int ret, const char *log, const char *what)
{
	if (ret != -EINVAL)
		printf("\n    %s: %d ", what, ret);
	CU_ASSERT_EQUAL(ret, -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "tide_msg"));
}

static void
test_checked_release_refuses_and_writes_nothing(void)
{
	uint64_t outside[32] = { 0 }, copy[32];
	struct tide_msg_range r = { 0, 8 };
	struct rte_mbuf *m = pkt(tide_mp, 5, 64), *s = pkt(stock_mp, 6, 64), *p;
	unsigned int before = in_use(tide_mp), sbefore = in_use(stock_mp);
	char *log;
	int ret;

	tide_msg_make(m, 1, 0);
	tide_msg_make(s, 1, 0);
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(m, 1, &r, &p), 0);
	memcpy(copy, outside, sizeof(copy));

	tide_test_log_begin();
	ret = tide_msg_release_checked(NULL);
	expect_einval(ret, "tide_msg", "NULL");
	ret = tide_msg_release_checked((struct rte_mbuf *)&outside[8]);
	log = tide_test_log_end();
	expect_einval(ret, log, "no pool owns it");
	free(log);
	CU_ASSERT_EQUAL(memcmp(copy, outside, sizeof(copy)), 0);

	/* Inside an mbuf, where its own pool field sits where an object header would. */
	tide_test_log_begin();
	ret = tide_msg_release_checked((struct rte_mbuf *)RTE_PTR_ADD(m, 72));
	expect_einval(ret, log = tide_test_log_end(), "inside an mbuf");
	free(log);
	tide_test_log_begin();
	ret = tide_msg_release_checked(p);
	expect_einval(ret, log = tide_test_log_end(), "a proxy released as real");
	free(log);
	tide_test_log_begin();
	ret = tide_msg_proxy_release_checked(s);
	expect_einval(ret, log = tide_test_log_end(), "a real message released as proxy");
	free(log);

	/* Good releases, then the same again: refused, counts unchanged. */
	CU_ASSERT_EQUAL(tide_msg_proxy_release_checked(p), 0);
	CU_ASSERT_EQUAL(tide_msg_release_checked(m), 0);
	CU_ASSERT_EQUAL(tide_msg_release_checked(s), 0);
	CU_ASSERT_EQUAL(in_use(tide_mp), before - 1);
	CU_ASSERT_EQUAL(in_use(stock_mp), sbefore - 1);
	tide_test_log_begin();
	ret = tide_msg_release_checked(m);
	expect_einval(ret, log = tide_test_log_end(), "double release (tide pool)");
	free(log);
	tide_test_log_begin();
	ret = tide_msg_release_checked(s);
	expect_einval(ret, log = tide_test_log_end(), "double release (stock pool)");
	free(log);
	tide_test_log_begin();
	ret = tide_msg_proxy_release_checked(p);
	expect_einval(ret, log = tide_test_log_end(), "proxy released twice");
	free(log);
	CU_ASSERT_EQUAL(in_use(tide_mp), before - 1);
	CU_ASSERT_EQUAL(in_use(stock_mp), sbefore - 1);
}

/*
 * A real message released while a proxy of it holds it on: a second checked release is
 * refused (it would take the proxy's reference), the proxy's release returns it to its
 * pool, and made again it releases as any.
 */
static void
test_checked_release_refuses_a_message_its_proxies_hold_on(void)
{
	struct tide_msg_range r = { 0, 8 };
	struct rte_mbuf *m = pkt(tide_mp, 7, 64), *p;
	unsigned int before = in_use(tide_mp);
	char *log;
	int ret;

	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(m, 1, &r, &p), 0);
	CU_ASSERT_EQUAL(tide_msg_release_checked(m), 0);
	CU_ASSERT_EQUAL(tide_msg_owner(m), TIDE_STAGE_NONE);
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
	tide_test_log_begin();
	ret = tide_msg_release_checked(m);
	expect_einval(ret, log = tide_test_log_end(), "released again while a proxy holds it");
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "released already"));
	free(log);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(m), 1); /* the proxy's, still */
	CU_ASSERT_EQUAL(in_use(tide_mp), before);
	CU_ASSERT_EQUAL(tide_msg_proxy_release_checked(p), 0);
	CU_ASSERT_EQUAL(in_use(tide_mp), before - 1);

	m = pkt(tide_mp, 8, 64);
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL(tide_msg_release_checked(m), 0);
	CU_ASSERT_EQUAL(in_use(tide_mp), before - 1);
}

/*
 * A message other references hold too (a clone, the application's reference), with no
 * proxies: its release unmakes it and drops its reference; the mbuf goes back to its pool,
 * a bare mbuf, with the last of them, and no message is left made. Proxies of such a
 * message are refused.
 */
static void
test_a_message_with_other_references_is_released_as_a_bare_mbuf(void)
{
	struct tide_msg_range r = { 0, 8 };
	struct rte_mbuf *m = pkt(stock_mp, 1, 64), *c, *p;

	tide_msg_make(m, 1, 0);
	rte_mbuf_refcnt_update(m, 1); /* the application's */
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_proxy_make(m, 1, &r, &p), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	tide_msg_release(m);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(m), 1);
	CU_ASSERT_EQUAL(tide_msg_leak_report(NULL), 0);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);

	m = pkt(stock_mp, 2, 64);
	tide_msg_make(m, 1, 0);
	c = rte_pktmbuf_clone(m, stock_mp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	tide_msg_release(m);
	CU_ASSERT_EQUAL(in_use(stock_mp), 2);
	rte_pktmbuf_free(c); /* the last reference: both home */
	CU_ASSERT_EQUAL(in_use(stock_mp), 0);
	CU_ASSERT_EQUAL(tide_msg_leak_report(NULL), 0);
}

/* ---- pool of origin, from any stage ---- */

static void *
releaser_main(void *arg)
{
	struct tide_xchg *x = arg;
	struct rte_mbuf *m[16];
	int got = 0;

	while (got < 200) {
		int n = tide_xchg_recv_wait(x, m, 16, 30, 5000 * 1000);

		if (n <= 0)
			break;
		tide_msg_release_burst(m, (unsigned int)n);
		got += n;
	}
	return NULL;
}

static void
test_release_from_another_thread_returns_each_mbuf_to_its_pool(void)
{
	struct tide_xchg *x = xchg("tm_origin", TIDE_XCHG_FIFO, 256, 0);
	unsigned int t0 = in_use(tide_mp), s0 = in_use(stock_mp);
	pthread_t t;

	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, releaser_main, x), 0);
	for (int i = 0; i < 200; i++) {
		struct rte_mbuf *m = pkt(i % 2 ? tide_mp : stock_mp, (uint32_t)i, 64);

		tide_msg_make(m, 1, 0);
		while (tide_xchg_send_burst(x, &m, 1) != 1)
			;
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(in_use(tide_mp), t0);
	CU_ASSERT_EQUAL(in_use(stock_mp), s0);
	tide_xchg_free(x);
}

/* ---- tearing down ---- */

/* tide_msg_fini(), refused: rte_errno EBUSY and a line of its own that says @p what. Gives
 * what it returned. */
static int
expect_fini_busy(const char *what)
{
	char *log;
	int ret;

	tide_test_log_begin();
	rte_errno = 0;
	ret = tide_msg_fini();
	log = tide_test_log_end();
	CU_ASSERT_EQUAL(ret, -EBUSY);
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "tide_msg_fini(): "));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, what));
	if (ret != -EBUSY || strstr(log, what) == NULL)
		printf("\n    fini with %s live: %d, log: %s ", what, ret, log);
	free(log);
	return ret;
}

/*
 * tide_msg_fini() while an exchange, a broadcast exchange or a proxy is live is refused
 * and tears nothing down: the exchange still carries messages, the proxy still holds its
 * real message, which goes back to its pool with the proxy's release. Once everything is
 * freed it succeeds, and tide_msg_init() makes the library again.
 */
static void
test_fini_is_refused_while_exchanges_or_proxies_are_live(void)
{
	struct tide_msg_conf conf = { .nb_proxies = NB_PROXIES, .socket_id = SOCKET_ID_ANY };
	struct tide_xchg *x = xchg("tm_fini", TIDE_XCHG_FIFO, 64, 1);
	unsigned int before = in_use(stock_mp);
	struct tide_msg_range r = { 0, 8 };
	struct rte_mbuf *m, *got = NULL, *px;
	struct tide_bcast *b;

	expect_fini_busy("1 exchange(s), 0 broadcast exchange(s) and 0 proxy(ies)");
	CU_ASSERT_PTR_EQUAL(tide_xchg_lookup("tm_fini"), x);
	m = pkt(stock_mp, 77, 64);
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(x, &m, 1), 1);
	CU_ASSERT_EQUAL(tide_xchg_recv_burst(x, &got, 1, 2), 1);
	CU_ASSERT_PTR_EQUAL_FATAL(got, m);
	CU_ASSERT_EQUAL(seq_of(got), 77);
	CU_ASSERT_EQUAL(tide_msg_owner(got), 2);

	/* A proxy the main lcore made: its stash holds free ones, which are not live. */
	CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(got, 1, &r, &px), 0);
	tide_msg_release(got);
	expect_fini_busy("1 exchange(s), 0 broadcast exchange(s) and 1 proxy(ies)");
	tide_xchg_free(x);
	expect_fini_busy("0 exchange(s), 0 broadcast exchange(s) and 1 proxy(ies)");
	CU_ASSERT_TRUE(tide_msg_is_proxy(px));
	CU_ASSERT_EQUAL(*rte_pktmbuf_mtod(px, uint32_t *), 77);
	CU_ASSERT_EQUAL(tide_msg_reply(px), 1);
	CU_ASSERT_EQUAL(in_use(stock_mp), before + 1);
	CU_ASSERT_EQUAL(tide_msg_proxy_release_checked(px), 0);
	CU_ASSERT_EQUAL(in_use(stock_mp), before);

	b = tide_bcast_create("tm_fini_bc", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	expect_fini_busy("0 exchange(s), 1 broadcast exchange(s) and 0 proxy(ies)");
	CU_ASSERT_PTR_EQUAL(tide_bcast_lookup("tm_fini_bc"), b);
	tide_bcast_free(b);

	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_msg_fini(), 0);
	CU_ASSERT_EQUAL(tide_msg_fini(), 0); /* not initialised: nothing to do */
	TIDE_TEST_REFUSED_LOGGED(tide_xchg_lookup("tm_fini"), EINVAL, "tide_xchg_lookup");
	CU_ASSERT_EQUAL_FATAL(tide_msg_init(&conf), 0);
	x = xchg("tm_fini", TIDE_XCHG_FIFO, 64, 1);
	m = pkt(stock_mp, 78, 64);
	tide_msg_make(m, 1, 0);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(x, &m, 1), 1);
	CU_ASSERT_EQUAL(tide_xchg_recv_burst(x, &got, 1, 2), 1);
	CU_ASSERT_PTR_EQUAL(got, m);
	CU_ASSERT_EQUAL(tide_msg_proxy_make(got, 1, &r, &px), 0);
	tide_msg_release(got);
	tide_msg_proxy_release(px);
	CU_ASSERT_EQUAL(in_use(stock_mp), before);
	tide_xchg_free(x);
}

/*
 * tide_msg_fini() while a stage is registered is refused too: the registry is part of the
 * shared state fini frees (secondaries' stages with it, which they still use), and the
 * application would hold ids that /tide/stage/list no longer shows. The stage is left as
 * it was: it still lists its message, and its name is still taken. Once it is
 * unregistered, fini succeeds.
 */
static void
test_fini_is_refused_while_stages_are_registered(void)
{
	struct tide_msg_conf conf = { .nb_proxies = NB_PROXIES, .socket_id = SOCKET_ID_ANY };
	unsigned int before = in_use(stock_mp);
	int st = tide_stage_register("tm_fini_stage"), st2;
	struct rte_mbuf *m, *held = NULL;

	CU_ASSERT_FATAL(st >= 0);
	m = pkt(stock_mp, 79, 64);
	tide_msg_make(m, (uint16_t)st, 0);
	if (expect_fini_busy("0 exchange(s), 0 broadcast exchange(s) and 0 proxy(ies) still "
			"live, 1 stage(s) still registered") == 0) {
		/* Torn down all the same: back as it was, for the tests after this one. */
		CU_FAIL("tide_msg_fini() forgot a registered stage");
		CU_ASSERT_EQUAL_FATAL(tide_msg_init(&conf), 0);
		tide_msg_release(m);
		return;
	}
	CU_ASSERT_EQUAL(tide_stage_list((uint16_t)st, &held, 1), 1);
	CU_ASSERT_PTR_EQUAL(held, m);
	CU_ASSERT_EQUAL(tide_stage_register("tm_fini_stage"), -EEXIST);
	st2 = tide_stage_register("tm_fini_stage2");
	CU_ASSERT_FATAL(st2 >= 0);
	expect_fini_busy("2 stage(s) still registered");
	CU_ASSERT_EQUAL(tide_stage_unregister((uint16_t)st2), 0);
	CU_ASSERT_EQUAL(tide_stage_stop((uint16_t)st), 1);
	CU_ASSERT_EQUAL(in_use(stock_mp), before);
	CU_ASSERT_EQUAL(tide_stage_unregister((uint16_t)st), 0);

	CU_ASSERT_EQUAL(tide_msg_fini(), 0);
	CU_ASSERT_EQUAL_FATAL(tide_msg_init(&conf), 0);
	/* The registry starts empty again: the name is free. */
	st = tide_stage_register("tm_fini_stage");
	CU_ASSERT(st >= 0);
	CU_ASSERT_EQUAL(tide_stage_unregister((uint16_t)st), 0);
}

/*
 * A process that registered a stage and is gone without unregistering it (here a child
 * that exits; the pools' recovery never knew it) does not hold tide_msg_fini() back for
 * good: fini recovers its stage as the primary does a dead secondary's, releasing what it
 * held, and goes on.
 */
static void
test_fini_recovers_the_stages_of_a_gone_process(void)
{
	struct tide_msg_conf conf = { .nb_proxies = NB_PROXIES, .socket_id = SOCKET_ID_ANY };
	unsigned int before = in_use(stock_mp);
	struct rte_mbuf *m = pkt(stock_mp, 80, 64);
	int fd[2], id = -1, ret;
	pid_t child;
	char *log;

	CU_ASSERT_FATAL(pipe(fd) == 0);
	child = fork();
	if (child == 0) {
		id = tide_stage_register("tm_gone_stage");
		_exit(write(fd[1], &id, sizeof(id)) == sizeof(id) ? 0 : 1);
	}
	CU_ASSERT_FATAL(child > 0);
	CU_ASSERT_EQUAL(read(fd[0], &id, sizeof(id)), (ssize_t)sizeof(id));
	waitpid(child, NULL, 0);
	close(fd[0]);
	close(fd[1]);
	CU_ASSERT_FATAL(id >= 0 && id < TIDE_STAGE_MAX);
	CU_ASSERT_EQUAL(tide_stage_register("tm_gone_stage"), -EEXIST);
	tide_msg_make(m, (uint16_t)id, 0); /* what its stage held */

	tide_test_log_begin();
	ret = tide_msg_fini();
	log = tide_test_log_end();
	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "stage tm_gone_stage of process"));
	if (ret != 0) {
		printf("\n    fini: %d, log: %s ", ret, log);
		tide_stage_stop((uint16_t)id);
		tide_stage_unregister((uint16_t)id);
	}
	free(log);
	CU_ASSERT_EQUAL(in_use(stock_mp), before);
	CU_ASSERT_EQUAL_FATAL(tide_msg_init(&conf), 0);
	CU_ASSERT_EQUAL(tide_stage_list((uint16_t)id, NULL, 0), 0);
}

/*
 * A stage whose process id names another process now (the one that registered it gone,
 * its id handed out again; here the record's start time made another process's, the
 * child that registered it still alive) is recovered as a gone process's: fini does not
 * wait on whatever process has that id now.
 */
static void
test_fini_recovers_a_stage_whose_process_id_names_another_process(void)
{
	struct tide_msg_conf conf = { .nb_proxies = NB_PROXIES, .socket_id = SOCKET_ID_ANY };
	const struct rte_memzone *mz = rte_memzone_lookup("tide_msg_shared");
	struct msg_shared *sh = mz != NULL ? mz->addr : NULL;
	int fd[2], hold[2], id = -1, ret;
	pid_t child;
	char *log, c = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sh);
	CU_ASSERT_FATAL(pipe(fd) == 0 && pipe(hold) == 0);
	child = fork();
	if (child == 0) {
		close(hold[1]);
		id = tide_stage_register("tm_reused_stage");
		if (write(fd[1], &id, sizeof(id)) != sizeof(id))
			_exit(1);
		_exit(read(hold[0], &c, 1) >= 0 ? 0 : 1); /* alive until the test is done */
	}
	CU_ASSERT_FATAL(child > 0);
	close(hold[0]);
	CU_ASSERT_EQUAL(read(fd[0], &id, sizeof(id)), (ssize_t)sizeof(id));
	CU_ASSERT_FATAL(id >= 0 && id < TIDE_STAGE_MAX);
	CU_ASSERT_EQUAL(sh->stages[id].pid, (uint32_t)child);
	CU_ASSERT_NOT_EQUAL(sh->stages[id].start, 0);
	sh->stages[id].start += 1; /* registered by an earlier process of that id */

	tide_test_log_begin();
	ret = tide_msg_fini();
	log = tide_test_log_end();
	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "stage tm_reused_stage of process"));
	free(log);
	close(hold[1]);
	waitpid(child, NULL, 0);
	close(fd[0]);
	close(fd[1]);
	if (ret != 0) {
		tide_stage_unregister((uint16_t)id);
		CU_ASSERT_EQUAL(tide_msg_fini(), 0);
	}
	CU_ASSERT_EQUAL_FATAL(tide_msg_init(&conf), 0);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("msg", msg_suite_init, msg_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_make_and_unmake_in_place_on_both_kinds_of_pool);
	CU_ADD_TEST(s, test_a_second_init_changes_nothing);
	CU_ADD_TEST(s, test_checked_release_refuses_and_writes_nothing);
	CU_ADD_TEST(s, test_checked_release_refuses_a_message_its_proxies_hold_on);
	CU_ADD_TEST(s, test_a_message_with_other_references_is_released_as_a_bare_mbuf);
	CU_ADD_TEST(s, test_release_from_another_thread_returns_each_mbuf_to_its_pool);
	CU_ADD_TEST(s, test_fini_is_refused_while_exchanges_or_proxies_are_live);
	CU_ADD_TEST(s, test_fini_is_refused_while_stages_are_registered);
	CU_ADD_TEST(s, test_fini_recovers_the_stages_of_a_gone_process);
	CU_ADD_TEST(s, test_fini_recovers_a_stage_whose_process_id_names_another_process);
	CU_ADD_TEST(s, test_nothing_leaked_at_the_end);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "msg", true, register_tests);
}
