/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Messages across processes: real secondary processes (tests/mp_helper) attach to the
 * message library of this test process, the primary. Messages cross through FIFO and
 * priority exchanges both ways with the order kept within each level, and every mbuf goes
 * back to its pool whoever releases it; a broadcast reaches readers in both processes; a
 * secondary killed while its stage holds messages has them released by the primary, and a
 * new one carries on; one killed inside an exchange lookup has its read of the directory
 * taken back by the next exchange creation, and one stopped there is waited for; one killed
 * asleep in a blocking receive or a broadcast's wait is counted as a sleeper no more; one
 * killed inside its done of a broadcast completes the post.
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_memzone.h>
#include <rte_pause.h>

#include "test_common.h"
#include "test_helper_run.h"
#include "test_msg_util.h"
#include "test_pool_util.h"
#include "tide_fault.h"
#include "msg_private.h"
#include "tide_msg.h"
#include "tide_pool.h"

#define HELPER_LCORES "--lcores=2@0,3@1"
#define NB_MSG 20000

struct body {
	uint32_t level;
	uint32_t seq;
};

static struct rte_mempool *pool;
static struct tide_xchg *fifo, *prio;
static int stage_tx = -1, stage_rx = -1;

/* The helper as a secondary of this process. */
static void
run_start(struct tide_run *r, char *const cmd[])
{
	tide_run_helper(r, tide_test_file_prefix(), HELPER_LCORES, true, cmd);
}

/* Wait for the helper to end; its output (caller frees) and exit code. */
static char *
run_end(struct tide_run *r, int *code)
{
	*code = tide_run_end(r);
	return tide_run_output(r);
}

/*
 * Make and send n messages, levels turning, each carrying its level and sequence. With
 * @p rcv, the helper that receives them: one that ends while the exchange is full fails the
 * test with its output, where waiting for room would never end.
 */
static void
send_all(struct tide_xchg *x, unsigned int n, struct tide_run *rcv)
{
	uint32_t seq[TIDE_XCHG_MAX_PRIO] = { 0 };

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		struct body *b;
		uint8_t level = (uint8_t)(i % x->nb_prio);

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		b = (struct body *)rte_pktmbuf_append(m, sizeof(*b));
		b->level = level;
		b->seq = seq[level]++;
		tide_msg_make(m, (uint16_t)stage_tx, level);
		for (unsigned int spin = 1; tide_xchg_send_burst(x, &m, 1) == 0; spin++) {
			if (rcv != NULL && spin % 4096 == 0 && tide_run_ended(rcv)) {
				char *text = tide_run_output(rcv);

				printf("\n    the receiver ended after %u of %u: %s ", i, n, text);
				free(text);
				CU_FAIL_FATAL("the receiving helper ended before it received all");
			}
			rte_pause();
		}
	}
}

static bool
no_mbuf_in_use(void *arg __rte_unused)
{
	return rte_mempool_in_use_count(pool) == 0;
}

/*
 * Every mbuf back. What an ended helper's lcore caches hold is counted free, but while the
 * primary's recovery flushes them, a count that reads the driver before the caches misses
 * them: waited for (a leak stays counted).
 */
static void
check_every_mbuf_back(void)
{
	CU_ASSERT_EQUAL(tide_msg_leak_report(NULL), 0);
	CU_ASSERT(tide_test_wait(no_mbuf_in_use, NULL, 10000));
}

static void
to_the_secondary(struct tide_xchg *x, const char *xname)
{
	char count[16];
	struct tide_run r;
	char *text;
	int code;

	snprintf(count, sizeof(count), "%u", NB_MSG);
	run_start(&r, (char *[]){ "xrecv", (char *)xname, "sec_rx", count, NULL });
	send_all(x, NB_MSG, &r);
	text = run_end(&r, &code);
	CU_ASSERT_EQUAL(code, 0);
	CU_ASSERT_EQUAL(tide_run_value(text, "received"), NB_MSG);
	CU_ASSERT_EQUAL(tide_run_value(text, "order_ok"), 1);
	CU_ASSERT_EQUAL(tide_run_value(text, "left"), 0);
	if (code != 0)
		printf("\n    %s ", text);
	free(text);
	check_every_mbuf_back();
}

static void
test_messages_cross_to_a_secondary_in_order(void)
{
	to_the_secondary(fifo, "tmm_fifo");
	to_the_secondary(prio, "tmm_prio");
}

static void
test_messages_cross_from_a_secondary_in_order(void)
{
	uint32_t next[TIDE_XCHG_MAX_PRIO] = { 0 };
	struct rte_mbuf *m[32];
	unsigned int got = 0, bad = 0;
	char count[16];
	struct tide_run r;
	char *text;
	int code;

	snprintf(count, sizeof(count), "%u", NB_MSG);
	run_start(&r, (char *[]){ "xsend", "tmm_prio", "sec_tx", "tmm_pool", count, NULL });
	while (got < NB_MSG) {
		int k = tide_xchg_recv_wait(prio, m, RTE_DIM(m), (uint16_t)stage_rx,
			5000 * 1000);

		CU_ASSERT_FATAL(k > 0);
		for (int i = 0; i < k; i++) {
			const struct body *b = rte_pktmbuf_mtod(m[i], const struct body *);

			bad += tide_msg_owner(m[i]) != stage_rx || b->seq != next[b->level]++;
			/* The level the sender gave is the one the receiver reads. */
			bad += tide_msg_prio(m[i]) != b->level;
			CU_ASSERT_EQUAL(tide_msg_release_checked(m[i]), 0);
		}
		got += (unsigned int)k;
	}
	text = run_end(&r, &code);
	CU_ASSERT_EQUAL(code, 0);
	CU_ASSERT_EQUAL(tide_run_value(text, "sent"), NB_MSG);
	free(text);
	CU_ASSERT_EQUAL(bad, 0);
	check_every_mbuf_back();
}

/* A message to post: sequence @p seq in its body, made by stage_tx (NULL: no mbuf). */
static struct rte_mbuf *
bcast_msg(uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m != NULL) {
		((struct body *)rte_pktmbuf_append(m, sizeof(struct body)))->seq = seq;
		tide_msg_make(m, (uint16_t)stage_tx, 0);
	}
	return m;
}

static void
test_a_broadcast_reaches_readers_in_both_processes(void)
{
	struct tide_bcast *b = tide_bcast_create("tmm_bc", 2);
	struct rte_mbuf *m = bcast_msg(7), *seen;
	struct tide_run r;
	char *text;
	int code;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	run_start(&r, (char *[]){ "bread", "tmm_bc", "1", NULL });
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), 0);
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &seen, NULL), 0);
	CU_ASSERT_PTR_EQUAL(seen, m);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 0), 0);
	CU_ASSERT_EQUAL(tide_bcast_wait(b, 10 * 1000 * 1000), 0);
	text = run_end(&r, &code);
	CU_ASSERT_EQUAL(code, 0);
	CU_ASSERT_EQUAL(tide_run_value(text, "read_seq"), 7);
	free(text);
	CU_ASSERT_PTR_EQUAL(tide_bcast_take(b), m);
	tide_msg_release(m);
	tide_bcast_free(b);
	check_every_mbuf_back();
}

/*
 * Kill the secondary @p r runs; with @p squat, start a process under its id (returned; -1
 * without): the primary's recovery finds that id alive, naming another process. Where
 * faults are built in, the recovery is held until the id is taken: otherwise it may come
 * first.
 */
static pid_t
kill_secondary(struct tide_run *r, bool squat)
{
	pid_t squatter;
	int code;

#ifdef TIDE_FAULT_INJECTION
	if (squat)
		tide_fault_pvt_hold_arm(TIDE_HOLD_MP_RECOVER);
#endif
	kill(r->pid, SIGKILL);
	free(run_end(r, &code));
	CU_ASSERT_EQUAL(code, -1);
	if (!squat)
		return -1;
#ifdef TIDE_FAULT_INJECTION
	CU_ASSERT(tide_fault_pvt_hold_wait(TIDE_HOLD_MP_RECOVER, 30000));
#endif
	squatter = tide_run_squat_pid(r->pid);
#ifdef TIDE_FAULT_INJECTION
	tide_fault_pvt_hold_release(TIDE_HOLD_MP_RECOVER);
#endif
	CU_ASSERT_EQUAL(squatter, r->pid);
	return squatter;
}

/*
 * A sender killed with its message posted: the post stays for its readers, and whoever takes
 * it (with @p take), or frees the exchange, gets a message of no stage, before the primary's
 * recovery of the sender (held there where faults are built in) as after. The recovery's
 * release of what the dead stages hold leaves that message alone.
 */
static void
orphan_post(bool take)
{
	struct tide_bcast *b = tide_bcast_create("tmm_bc_orphan", 1);
	struct rte_mbuf *m = NULL;
	struct tide_run r;
	char *text;
	int code;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	run_start(&r, (char *[]){ "bpost", "tmm_bc_orphan", "sec_post", "tmm_pool", NULL });
	text = tide_run_wait_for(&r, "ready=1", 120000);
	CU_ASSERT_EQUAL(tide_run_value(text, "posted"), 1);
	free(text);
#ifdef TIDE_FAULT_INJECTION
	tide_fault_pvt_hold_arm(TIDE_HOLD_MP_RECOVER);
#endif
	kill(r.pid, SIGKILL);
	free(run_end(&r, &code));
	CU_ASSERT_EQUAL(code, -1);
#ifdef TIDE_FAULT_INJECTION
	/* The recovery has begun, and waits before the libraries' callbacks. */
	CU_ASSERT(tide_fault_pvt_hold_wait(TIDE_HOLD_MP_RECOVER, 30000));
#endif
	CU_ASSERT_EQUAL_FATAL(tide_bcast_read(b, 0, &m, NULL), 0);
	if (take) {
		CU_ASSERT_EQUAL_FATAL(tide_bcast_done(b, 0), 0);
		CU_ASSERT_PTR_EQUAL_FATAL(tide_bcast_take(b), m);
	} else {
		tide_bcast_free(b);
	}
	CU_ASSERT_EQUAL(tide_msg_owner(m), TIDE_STAGE_NONE);
#ifdef TIDE_FAULT_INJECTION
	tide_fault_pvt_hold_release(TIDE_HOLD_MP_RECOVER);
#endif
	CU_ASSERT_TRUE(tide_test_wait(tide_run_peer_recovered, &r.pid, 30000));
	/* Still a message in use, its holder's to release. */
	CU_ASSERT_TRUE(tide_msg_is_made(m));
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 1);
	tide_msg_release(m);
	if (take)
		tide_bcast_free(b);
	check_every_mbuf_back();
}

static void
test_a_post_whose_sender_was_killed_is_taken_by_no_stage(void)
{
	orphan_post(true);
}

static void
test_a_post_whose_sender_was_killed_goes_to_no_stage_when_freed(void)
{
	orphan_post(false);
}

/*
 * A reader killed between its read of a post and its done: the post is there to read
 * again for the reader that takes its place, which completes it. With @p reuse, another
 * process has the dead reader's id by then: its read is undone all the same.
 */
static void
broadcast_read_cut_short(bool reuse)
{
	struct tide_bcast *b = tide_bcast_create("tmm_bc_cut", 1);
	struct rte_mbuf *m = bcast_msg(9), *seen = NULL;
	struct tide_run r;
	pid_t squatter;
	char *text;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), 0);
	run_start(&r, (char *[]){ "bhold", "tmm_bc_cut", "0", NULL });
	text = tide_run_wait_for(&r, "ready=1", 120000);
	CU_ASSERT_EQUAL(tide_run_value(text, "read_seq"), 9);
	free(text);
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &seen, NULL), -EAGAIN); /* its read stands */
	squatter = kill_secondary(&r, reuse);
	CU_ASSERT_TRUE(tide_test_wait(tide_run_peer_recovered, &r.pid, 30000));
	CU_ASSERT_FALSE(tide_bcast_complete(b));
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &seen, NULL), 0);
	CU_ASSERT_PTR_EQUAL(seen, m);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 0), 0);
	CU_ASSERT_TRUE(tide_bcast_complete(b));
	CU_ASSERT_PTR_EQUAL(tide_bcast_take(b), m);
	tide_msg_release(m);
	tide_bcast_free(b);
	if (squatter > 0) {
		kill(squatter, SIGKILL);
		waitpid(squatter, NULL, 0);
	}
	check_every_mbuf_back();
}

static void
test_a_broadcast_read_cut_short_by_a_kill_is_read_again(void)
{
	broadcast_read_cut_short(false);
}

static void
test_a_broadcast_read_cut_short_is_read_again_when_its_id_is_reused(void)
{
	broadcast_read_cut_short(true);
}

/*
 * A secondary killed holding a turn of the free proxies' list (@p side: "send", "recv"):
 * the next process to want that turn takes it over, and proxies are made and released as
 * before. (On a stock rte_ring, a process killed half-way through a put or take left every
 * later one waiting for ever.) More proxies than a stash holds go through the list both
 * ways.
 */
static long long
proxies_in_use(void)
{
	char *out = telemetry_query("/tide/proxy/info");
	const char *at = strstr(out, "\"in_use\":");
	long long n = at != NULL ? atoll(at + strlen("\"in_use\":")) : -1;

	free(out);
	return n;
}

static void
proxies_go_on_after_a_kill_holding(const char *side)
{
	const struct rte_memzone *mz = rte_memzone_lookup(MSG_SHARED_MZ);
	struct tide_xring *r = ((struct msg_shared *)mz->addr)->proxy_free;
	struct tide_xring_turn *t = strcmp(side, "send") == 0 ? &r->senders : &r->receivers;
	uint32_t takeovers = __atomic_load_n(&t->takeovers, __ATOMIC_RELAXED);
	long long live = proxies_in_use();
	struct tide_msg_range ranges[100];
	struct rte_mbuf *m = bcast_msg(3), *px[100];
	struct tide_run r2;
	char *text;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (unsigned int i = 0; i < RTE_DIM(ranges); i++)
		ranges[i] = (struct tide_msg_range){ 0, 4 };
	run_start(&r2, (char *[]){ "pturn", (char *)side, NULL });
	text = tide_run_wait_for(&r2, "ready=1", 120000);
	free(text);
	kill_secondary(&r2, false);
	/* Twice: a stash's worth and more taken from the list, then put back to it. */
	for (int round = 0; round < 2; round++) {
		CU_ASSERT_EQUAL_FATAL(tide_msg_proxy_make(m, RTE_DIM(px), ranges, px), 0);
		CU_ASSERT_EQUAL(proxies_in_use(), live + (long long)RTE_DIM(px));
		for (unsigned int i = 0; i < RTE_DIM(px); i++)
			tide_msg_proxy_release(px[i]);
		CU_ASSERT_EQUAL(proxies_in_use(), live);
	}
	CU_ASSERT_EQUAL(__atomic_load_n(&t->takeovers, __ATOMIC_RELAXED), takeovers + 1);
	tide_msg_release(m);
	CU_ASSERT_TRUE(tide_test_wait(tide_run_peer_recovered, &r2.pid, 30000));
	check_every_mbuf_back();
}

static void
test_proxies_go_on_after_a_secondary_killed_taking_one(void)
{
	proxies_go_on_after_a_kill_holding("recv");
}

static void
test_proxies_go_on_after_a_secondary_killed_putting_one_back(void)
{
	proxies_go_on_after_a_kill_holding("send");
}

static bool
gone_reach(void *arg)
{
	struct tide_mp_stats st;

	return tide_mp_stats_get(&st) == 0 && st.gone >= *(uint64_t *)arg;
}

/* The id of stage @p name in /tide/stage/list (compact JSON: {..."<id>":"<name>"...}), or -1. */
static int
stage_id_listed(const char *name)
{
	char want[64], *out = telemetry_query("/tide/stage/list");
	const char *at;
	int id = -1;

	snprintf(want, sizeof(want), "\":\"%s\"", name);
	at = strstr(out, want);
	if (at != NULL) {
		while (at > out && at[-1] != '"')
			at--;
		id = atoi(at);
	}
	free(out);
	return id;
}

/*
 * A secondary killed while its stage holds messages: the primary releases them. Meanwhile
 * the primary's telemetry shows the stage as the secondary's. With @p reuse, another
 * process has the dead one's id by then: it is recovered all the same.
 */
static void
killed_secondary_held(bool reuse)
{
	struct tide_mp_stats st;
	struct tide_run r;
	pid_t squatter;
	uint64_t want;
	char *text, cmd[64];
	int id;

	CU_ASSERT_EQUAL(tide_mp_stats_get(&st), 0);
	run_start(&r, (char *[]){ "xhold", "tmm_fifo", "sec_hold", "500", NULL });
	send_all(fifo, 500, &r);
	text = tide_run_wait_for(&r, "ready=1", 120000);
	CU_ASSERT_EQUAL(tide_run_value(text, "holding"), 500);
	free(text);
	id = stage_id_listed("sec_hold");
	CU_ASSERT(id >= 0);
	/* The secondary's stage is not the primary's to forget. */
	TIDE_TEST_REFUSED_LOGGED(tide_stage_unregister((uint16_t)id), EPERM,
		"tide_stage_unregister");
	CU_ASSERT_EQUAL(stage_id_listed("sec_hold"), id);
	snprintf(cmd, sizeof(cmd), "/tide/stage/info,%d", id);
	text = telemetry_query(cmd);
	snprintf(cmd, sizeof(cmd), "\"pid\":%d,\"held\":500", (int)r.pid);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, cmd));
	free(text);
	CU_ASSERT_EQUAL(tide_msg_leak_report(NULL), 500);
	squatter = kill_secondary(&r, reuse);
	/* Its own recovery done (the count alone may have been another helper's, found gone
	 * late): the primary no longer lists it, which it stops doing only once the recovery
	 * and the libraries' callbacks are over. */
	CU_ASSERT_TRUE(tide_test_wait(tide_run_peer_recovered, &r.pid, 30000));
	want = st.gone + 1;
	CU_ASSERT_TRUE(gone_reach(&want));
	check_every_mbuf_back();
	if (squatter > 0) {
		kill(squatter, SIGKILL);
		waitpid(squatter, NULL, 0);
	}
	/* Its stage is free again, and a new secondary carries on. */
	id = tide_stage_register("sec_hold");
	CU_ASSERT(id >= 0);
	tide_stage_unregister((uint16_t)id);
	to_the_secondary(fifo, "tmm_fifo");
}

static void
test_messages_a_killed_secondary_held_are_released(void)
{
	killed_secondary_held(false);
}

static void
test_messages_a_killed_secondary_held_are_released_when_its_id_is_reused(void)
{
	killed_secondary_held(true);
}

/*
 * A secondary killed in the middle of a receive from @p x (the headers of the messages
 * waiting written as a receive as @p stage, or an unmaking one ("-"), writes them; the
 * receivers' tail not moved) leaves them in the exchange: the primary puts them back in
 * transit, releases none of them with the dead stage, and the next receiver gets each
 * once, made, in order.
 */
static void
a_cut_receive_is_taken_again(struct tide_xchg *x, const char *xname, const char *stage)
{
	uint32_t next[TIDE_XCHG_MAX_PRIO] = { 0 };
	struct rte_mbuf *m[40];
	unsigned int got = 0;
	struct tide_run r;
	char *text;
	int code;

	send_all(x, RTE_DIM(m), NULL);
	run_start(&r, (char *[]){ "xcut", (char *)xname, (char *)stage, NULL });
	text = tide_run_wait_for(&r, "ready=1", 120000);
	CU_ASSERT_EQUAL(tide_run_value(text, "cut"), RTE_DIM(m));
	free(text);
	kill(r.pid, SIGKILL);
	free(run_end(&r, &code));
	CU_ASSERT_EQUAL(code, -1);
	CU_ASSERT_TRUE(tide_test_wait(tide_run_peer_recovered, &r.pid, 30000));
	CU_ASSERT_EQUAL(tide_xchg_count(x), RTE_DIM(m));
	for (unsigned int tries = 0; got < RTE_DIM(m) && tries < 1000; tries++)
		got += tide_xchg_recv_burst(x, &m[got], RTE_DIM(m) - got, (uint16_t)stage_rx);
	CU_ASSERT_EQUAL(got, RTE_DIM(m));
	for (unsigned int i = 0; i < got; i++) {
		const struct body *b = rte_pktmbuf_mtod(m[i], const struct body *);

		CU_ASSERT_TRUE(tide_msg_is_made(m[i]));
		CU_ASSERT_EQUAL(tide_msg_owner(m[i]), stage_rx);
		CU_ASSERT_EQUAL(b->seq, next[b->level]++);
		tide_msg_release(m[i]);
	}
	check_every_mbuf_back();
}

static void
test_a_receive_cut_short_by_a_kill_is_taken_again(void)
{
	struct tide_xchg_params xp = { .name = "tmm_sc", .type = TIDE_XCHG_PRIO, .nb_prio = 4,
		.size = 256, .socket_id = SOCKET_ID_ANY, .flags = TIDE_XCHG_F_SC };
	struct tide_xchg *sc = tide_xchg_create(&xp);

	/* Several receivers: the dead one held their turn. */
	a_cut_receive_is_taken_again(fifo, "tmm_fifo", "sec_cut");
	a_cut_receive_is_taken_again(prio, "tmm_prio", "sec_cut");
	a_cut_receive_is_taken_again(prio, "tmm_prio", "-");
	/* A single receiver (no turn): its stage's messages. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	a_cut_receive_is_taken_again(sc, "tmm_sc", "sec_cut");
	/* ...and one that unmade what it read: the next receiver's process makes them again. */
	a_cut_receive_is_taken_again(sc, "tmm_sc", "-");
	tide_xchg_free(sc);
}

/* Whether the exchange counts one sleeper, in one process's slot. */
static bool
one_sleeper(void *arg)
{
	const struct tide_xchg *x = arg;

	return __atomic_load_n(&x->sleepers.n, __ATOMIC_ACQUIRE) == 1;
}

/*
 * A secondary killed while blocked in tide_xchg_recv_wait(): the primary's recovery takes
 * back what it counted among the exchange's sleepers and frees its slot (else every send
 * burst to the exchange, from every process, would wake nobody with a syscall, for ever).
 */
static void
test_a_receiver_killed_asleep_is_no_longer_a_sleeper(void)
{
	struct tide_run r;
	char *text;
	int code;

	CU_ASSERT_EQUAL_FATAL(tide_xchg_count(fifo), 0);
	run_start(&r, (char *[]){ "xsleep", "tmm_fifo", NULL });
	text = tide_run_wait_for(&r, "ready=1", 120000);
	free(text);
	CU_ASSERT_TRUE(tide_test_wait(one_sleeper, fifo, 30000));
	kill(r.pid, SIGKILL);
	free(run_end(&r, &code));
	CU_ASSERT_EQUAL(code, -1);
	CU_ASSERT_TRUE(tide_test_wait(tide_run_peer_recovered, &r.pid, 30000));
	CU_ASSERT_EQUAL(fifo->sleepers.n, 0);
	for (unsigned int i = 0; i < TIDE_SLEEPERS_PVT_SLOTS; i++) {
		CU_ASSERT_EQUAL(fifo->sleepers.by[i].tag, 0);
		CU_ASSERT_EQUAL(fifo->sleepers.by[i].n, 0);
	}
}

/* Whether the broadcast exchange counts one sleeper. */
static bool
one_bcast_sleeper(void *arg)
{
	const struct tide_bcast *b = arg;

	return __atomic_load_n(&b->sleepers.n, __ATOMIC_ACQUIRE) == 1;
}

/*
 * A secondary killed while blocked in tide_bcast_wait(): the primary's recovery takes back
 * what it counted among the broadcast exchange's sleepers and frees its slot (else every
 * completion of a post would wake nobody with a syscall, for ever). The post is read,
 * completed and taken back as before.
 */
static void
test_a_waiter_killed_asleep_on_a_broadcast_is_no_longer_a_sleeper(void)
{
	struct tide_bcast *b = tide_bcast_create("tmm_bc_sleep", 1);
	struct rte_mbuf *m = bcast_msg(5), *seen = NULL;
	struct tide_run r;
	int code;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(tide_bcast_post(b, m, NULL), 0);
	run_start(&r, (char *[]){ "bsleep", "tmm_bc_sleep", NULL });
	free(tide_run_wait_for(&r, "ready=1", 120000));
	CU_ASSERT_TRUE(tide_test_wait(one_bcast_sleeper, b, 30000));
	kill(r.pid, SIGKILL);
	free(run_end(&r, &code));
	CU_ASSERT_EQUAL(code, -1);
	CU_ASSERT_TRUE(tide_test_wait(tide_run_peer_recovered, &r.pid, 30000));
	CU_ASSERT_EQUAL(b->sleepers.n, 0);
	for (unsigned int i = 0; i < TIDE_SLEEPERS_PVT_SLOTS; i++) {
		CU_ASSERT_EQUAL(b->sleepers.by[i].tag, 0);
		CU_ASSERT_EQUAL(b->sleepers.by[i].n, 0);
	}
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &seen, NULL), 0);
	CU_ASSERT_PTR_EQUAL(seen, m);
	CU_ASSERT_EQUAL(tide_bcast_done(b, 0), 0);
	CU_ASSERT_PTR_EQUAL(tide_bcast_take(b), m);
	tide_msg_release(m);
	tide_bcast_free(b);
	check_every_mbuf_back();
}

/*
 * A secondary of another build (its layout of what the processes share differs: here the
 * stamp the primary wrote is changed) refuses to attach, with EPROTO and a log line; then,
 * the stamp back, one attaches and receives as before.
 */
static void
test_a_secondary_of_another_layout_is_refused(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup("tide_msg_shared");
	struct msg_shared *sh;
	struct tide_run r;
	char *text, want[128];
	int code;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	sh = mz->addr;
	CU_ASSERT_NOT_EQUAL_FATAL(sh->layout, 0);
	sh->layout ^= 1;
	run_start(&r, (char *[]){ "xrecv", "tmm_fifo", "sec_rx", "1", NULL });
	text = run_end(&r, &code);
	sh->layout ^= 1;
	CU_ASSERT_EQUAL(code, 1);
	snprintf(want, sizeof(want), "error=tide_msg_init: %s", rte_strerror(EPROTO));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "runs another tidepool build"));
	if (code != 1)
		printf("\n    %s ", text);
	free(text);
	to_the_secondary(fifo, "tmm_fifo");
}

/* Free what the suite made and is still there; tide_msg_fini()'s result. */
static int
fixtures_free(void)
{
	tide_xchg_free(fifo);
	tide_xchg_free(prio);
	fifo = prio = NULL;
	if (stage_tx >= 0)
		tide_stage_unregister((uint16_t)stage_tx);
	if (stage_rx >= 0)
		tide_stage_unregister((uint16_t)stage_rx);
	stage_tx = stage_rx = -1;
	tide_pool_free(pool); /* before rte_eal_cleanup(): its control thread stops */
	pool = NULL;
	return tide_msg_fini();
}

/* Last: the exchanges and the pool go, with nothing left in them. */
static void
test_everything_is_freed_at_the_end(void)
{
	check_every_mbuf_back();
	CU_ASSERT_EQUAL(tide_xchg_count(fifo) + tide_xchg_count(prio), 0);
	CU_ASSERT_EQUAL(fixtures_free(), 0);
}

/*
 * Without an elastic pool (exchanges carrying a stock pool's mbufs), the primary still
 * looks for dead secondaries: one killed while its stage holds messages has them released
 * with no other secondary attaching. The pool library's control thread, which looks, used
 * to run only while an elastic pool existed. After the test above: the library starts
 * again, with no elastic pool in the process.
 */
static void
test_without_elastic_pools_a_killed_secondary_is_recovered(void)
{
	struct tide_xchg_params xp = { .name = "tmm_stock_fifo", .type = TIDE_XCHG_FIFO,
		.size = 1024, .socket_id = SOCKET_ID_ANY };
	struct rte_mempool *stock;
	struct tide_mp_stats st;
	struct tide_run r;
	uint64_t want;
	char *text;

	CU_ASSERT_EQUAL_FATAL(tide_msg_init(NULL), 0);
	stock = rte_pktmbuf_pool_create_by_ops("tmm_stock", 1023, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY, "ring_mp_mc");
	CU_ASSERT_PTR_NOT_NULL_FATAL(stock);
	pool = stock; /* what send_all() allocates from */
	fifo = tide_xchg_create(&xp);
	stage_tx = tide_stage_register("pri_tx");
	CU_ASSERT_FATAL(fifo != NULL && stage_tx >= 0);
	CU_ASSERT_EQUAL(tide_mp_stats_get(&st), 0);
	run_start(&r, (char *[]){ "xhold", "tmm_stock_fifo", "sec_hold", "500", NULL });
	send_all(fifo, 500, &r);
	text = tide_run_wait_for(&r, "ready=1", 120000);
	CU_ASSERT_EQUAL(tide_run_value(text, "holding"), 500);
	free(text);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(stock), 500);
	kill_secondary(&r, false);
	CU_ASSERT_TRUE(tide_test_wait(tide_run_peer_recovered, &r.pid, 30000));
	want = st.gone + 1;
	CU_ASSERT_TRUE(gone_reach(&want));
	CU_ASSERT_EQUAL(tide_msg_leak_report(NULL), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(stock), 0);
	tide_xchg_free(fifo);
	fifo = NULL;
	tide_stage_unregister((uint16_t)stage_tx);
	stage_tx = -1;
	pool = NULL;
	CU_ASSERT_EQUAL(tide_msg_fini(), 0);
	rte_mempool_free(stock);
}

/* A run that did not get to the test above (a filter left it out): freed all the same. */
static int
suite_cleanup(void)
{
	return pool != NULL && fixtures_free() != 0 ? -1 : 0;
}

#ifdef TIDE_FAULT_INJECTION
/* Writers of the msg library's directory (no fatal assertion): an exchange made and freed. */
static void
dir_write_xchg_create(void *arg)
{
	struct tide_xchg_params xp = { .name = arg, .type = TIDE_XCHG_FIFO,
		.size = 64, .socket_id = SOCKET_ID_ANY };
	struct tide_xchg *x = tide_xchg_create(&xp);

	CU_ASSERT_PTR_NOT_NULL(x);
	tide_xchg_free(x);
}

static void
dir_write_xchg_free(void *arg)
{
	tide_xchg_free(arg);
}

/*
 * A secondary looking an exchange up, the directory read-locked, killed or @p stopped. The
 * writer after a stopped one frees an exchange made before (making one may need hugepages
 * every secondary must map, which a stopped one cannot).
 */
static void
dir_reader(bool stopped)
{
	struct tide_xchg_params xp = { .name = "tmm_dir_ws", .type = TIDE_XCHG_FIFO,
		.size = 64, .socket_id = SOCKET_ID_ANY };
	struct tide_xchg *w = stopped ? tide_xchg_create(&xp) : NULL;
	char stop[64];

	CU_ASSERT_FATAL(!stopped || w != NULL);
	snprintf(stop, sizeof(stop), "/tmp/tide-msg-dir-%d", (int)getpid());
	tide_run_dir_reader("tide_msg_shared", (char *[]){ "xlhold", "tmm_fifo", stop, NULL },
		stop, stopped, stopped ? dir_write_xchg_free : dir_write_xchg_create,
		stopped ? (void *)w : "tmm_dir_wk");
	CU_ASSERT_PTR_NULL(tide_xchg_lookup(stopped ? "tmm_dir_ws" : "tmm_dir_wk"));
}

/*
 * A secondary killed while it looks an exchange up (the directory read-locked): the next
 * exchange creation takes its read back and says so.
 */
static void
test_a_reader_of_the_directory_killed_is_taken_back_by_the_next_writer(void)
{
	dir_reader(false);
}

/* A stopped reader is alive: the writer keeps waiting for it, and goes on once it does. */
static void
test_a_stopped_reader_of_the_directory_is_waited_for(void)
{
	dir_reader(true);
}

/*
 * The last reader killed inside its done, its done recorded and the sender asleep not told:
 * the primary's recovery of that reader completes the post and wakes the sender; the read
 * is not undone (it is done), and the post is taken.
 */
static void
test_a_reader_killed_inside_its_done_completes_the_post(void)
{
	struct tide_bcast *b = tide_bcast_create("tmm_bc_done", 1);
	struct bc_waiter w = { .b = b, .timeout_us = 30ull * 1000 * 1000 };
	struct rte_mbuf *m = bcast_msg(11), *seen = NULL;
	struct tide_run r;
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(tide_bcast_post(b, m, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, bc_waiter_main, &w), 0);
	CU_ASSERT(tide_test_wait(bc_waiter_asleep, &w, 10000));
	run_start(&r, (char *[]){ "bdone", "tmm_bc_done", "0", NULL });
	free(tide_run_wait_for(&r, "ready=1", 120000));
	CU_ASSERT_TRUE(tide_bcast_complete(b)); /* its done is recorded */
	kill_secondary(&r, false);
	CU_ASSERT_TRUE(tide_test_wait(tide_run_peer_recovered, &r.pid, 30000));
	CU_ASSERT_TRUE(tide_test_wait(bc_waiter_returned, &w, 10000));
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.ret, 0);
	CU_ASSERT_TRUE(tide_bcast_complete(b));
	CU_ASSERT_EQUAL(tide_bcast_read(b, 0, &seen, NULL), -EAGAIN);
	CU_ASSERT_PTR_EQUAL(tide_bcast_take(b), m);
	tide_msg_release(m);
	tide_bcast_free(b);
	check_every_mbuf_back();
}
#endif

static int
register_tests(void)
{
	struct tide_xchg_params xp = { .name = "tmm_fifo", .type = TIDE_XCHG_FIFO,
		.size = 1024, .socket_id = SOCKET_ID_ANY };
	CU_pSuite s = CU_add_suite("msg_mp", NULL, suite_cleanup);
	struct tide_pool_params pp;

	if (s == NULL || getenv("TIDE_MP_HELPER") == NULL || tide_msg_init(NULL) != 0)
		return -1;
	pool_params(&pp, "tmm_pool", 2 * MB, 2 * MB, 128 * MB, 64);
	/* Helpers start and end all the time here. A block the control thread adds or frees
	 * while one ends meets DPDK 22.11's race (the primary ends the stuck helper, see
	 * pool_unstick.c), which would decide a helper's exit status by timing: the pool grows
	 * only inside allocations and is never reaped. test_mp races those on purpose.
	 */
	pp.reap_period_ms = 0;
	pp.flags = TIDE_POOL_F_NO_PREDICT;
	pool = tide_pool_create(&pp);
	fifo = tide_xchg_create(&xp);
	xp.name = "tmm_prio";
	xp.type = TIDE_XCHG_PRIO;
	xp.nb_prio = 4;
	prio = tide_xchg_create(&xp);
	stage_tx = tide_stage_register("pri_tx");
	stage_rx = tide_stage_register("pri_rx");
	if (pool == NULL || fifo == NULL || prio == NULL || stage_tx < 0 || stage_rx < 0)
		return -1;
	CU_ADD_TEST(s, test_messages_cross_to_a_secondary_in_order);
	CU_ADD_TEST(s, test_messages_cross_from_a_secondary_in_order);
	CU_ADD_TEST(s, test_a_broadcast_reaches_readers_in_both_processes);
	CU_ADD_TEST(s, test_a_post_whose_sender_was_killed_is_taken_by_no_stage);
	CU_ADD_TEST(s, test_a_post_whose_sender_was_killed_goes_to_no_stage_when_freed);
	CU_ADD_TEST(s, test_a_broadcast_read_cut_short_by_a_kill_is_read_again);
	CU_ADD_TEST(s, test_a_broadcast_read_cut_short_is_read_again_when_its_id_is_reused);
	CU_ADD_TEST(s, test_proxies_go_on_after_a_secondary_killed_taking_one);
	CU_ADD_TEST(s, test_proxies_go_on_after_a_secondary_killed_putting_one_back);
	CU_ADD_TEST(s, test_messages_a_killed_secondary_held_are_released);
	CU_ADD_TEST(s, test_messages_a_killed_secondary_held_are_released_when_its_id_is_reused);
	CU_ADD_TEST(s, test_a_receive_cut_short_by_a_kill_is_taken_again);
	CU_ADD_TEST(s, test_a_receiver_killed_asleep_is_no_longer_a_sleeper);
	CU_ADD_TEST(s, test_a_waiter_killed_asleep_on_a_broadcast_is_no_longer_a_sleeper);
	CU_ADD_TEST(s, test_a_secondary_of_another_layout_is_refused);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_reader_of_the_directory_killed_is_taken_back_by_the_next_writer);
	CU_ADD_TEST(s, test_a_stopped_reader_of_the_directory_is_waited_for);
	CU_ADD_TEST(s, test_a_reader_killed_inside_its_done_completes_the_post);
#endif
	CU_ADD_TEST(s, test_everything_is_freed_at_the_end);
	CU_ADD_TEST(s, test_without_elastic_pools_a_killed_secondary_is_recovered);
	return 0;
}

int
main(int argc, char **argv)
{
	int ret;

	tide_test_shared_memory = true;
	ret = tide_test_main(argc, argv, "msg_mp", true, register_tests);
	return ret;
}
