/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pipeline: the same two-stage pipeline on tidepool exchanges and on DPDK's software
 * eventdev (event_sw), same run. Stage 1 (main lcore) takes packets (allocated from a
 * pool, a null port's RX in effect), classifies them into 4 priority levels and hands
 * them over; stage 2 (a worker lcore) receives them, highest priority first, does its
 * per-packet work and frees them. event_sw's scheduler needs a core: it runs between
 * stage 1's bursts, on stage 1's lcore. In every variant stage 1 takes packets only while
 * fewer than --inflight (default PL_INFLIGHT) are on their way (as a NIC holds what the
 * pipeline cannot take yet), so none spends its time on packets it would drop.
 *
 * That depth also sets how old a packet is when stage 2 gets it, where stage 2 is the
 * slower: a FIFO's packets waited behind all the others, a priority service's high levels
 * are taken as soon as they come, their lines just written on stage 1's core. With
 * --inflight 128 the floor's packets are as fresh (docs/design.md).
 *
 * Both stages touch three cache lines of every packet that the other core wrote last (the
 * mbuf's two, the packet's first); they prefetch them a burst at a time, as a PMD's RX and
 * a worker do, so the misses overlap. A third variant, "ring", is the floor: the same
 * packet source, work and free, the pointers over one single-producer, single-consumer
 * rte_ring, with no classification, priority or message. It tells what moving the
 * packets between the two cores costs, which no framework can go below. "ring_classify"
 * is that floor with the classification tide_xchg and event_sw get: each packet's level
 * computed and written into its mbuf (no priority served). It tells what the
 * classification itself costs, which a priority pipeline cannot go below either.
 *
 * "ring_prio" is what a DPDK application without tidepool writes for the same priority
 * service: one single-producer, single-consumer rte_ring per level; stage 1 classifies a
 * burst, splits it by level and enqueues each level's share on its ring, stage 2 dequeues
 * from the highest level's ring down. It tells what serving priorities costs with stock
 * rings, against which the exchange itself is measured (tide_xchg:ring_prio).
 *
 * tide_xchg_1lcore, ring_1lcore, ring_classify_1lcore and ring_prio_1lcore run both stages
 * on the main
 * lcore, in turn (stage 1's burst, then one poll of stage 2): what each costs in CPU
 * alone, with no line moving between cores. Two vCPUs that are threads of one physical
 * core (a VM cannot tell) show the two-lcore variants at about these rates. On one lcore
 * the CPU splits apart: ring_classify_1lcore:ring_1lcore is what the classification costs,
 * tide_xchg_1lcore:ring_classify_1lcore what the exchange costs beyond it (its messages,
 * its levels and their order).
 *
 * tide_xchg declares its single sender and receiver (TIDE_XCHG_F_SP | TIDE_XCHG_F_SC, as
 * the floor's rte_ring does); tide_xchg_mpmc is the same exchange without them, where
 * senders and receivers each take turns.
 *
 * tide_xchg_process is tide_xchg with stage 2 in another process: a secondary tide-bench
 * (this program, started again with --proc-type=secondary and an lcore on the CPU of the
 * worker lcore the thread variants use) looks up the exchange and runs the same stage 2,
 * freeing into the same elastic pool (row worker_cpu: the first CPU its affinity allows,
 * as it reads it). Between its rounds it sleeps, so as not to take that CPU from the
 * thread variants (row idle_looks: how often it woke meanwhile). It needs the primary's
 * hugepage files: tide-bench runs this scenario without --huge-unlink by default.
 */

#define _GNU_SOURCE /* CPU_ISSET() */

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_eventdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_service.h>

#include "bench.h"
#include "tide_app_pipe.h"
#include "tide_msg.h"
#include "tide_pool.h"

#define PL_BURST 32
/* Many short rounds, as in fwd (scen_fwd.c): a pair of measurements 60 ms long mostly runs
 * in one state of the machine.
 */
#define PL_ROUNDS 40
#define PL_MS 60
#define PL_PKT 128
#define PL_INFLIGHT 1024 /* the default of --inflight */

enum { PL_TIDE, PL_TIDE_MPMC, PL_EVSW, PL_RING, PL_RING_CLS, PL_RING_PRIO, PL_TIDE_1LC,
	PL_RING_1LC, PL_RING_CLS_1LC, PL_RING_PRIO_1LC, PL_TIDE_PROC, PL_NB };
static const char *const pl_names[PL_NB] = { "tide_xchg", "tide_xchg_mpmc", "event_sw", "ring",
	"ring_classify", "ring_prio", "tide_xchg_1lcore", "ring_1lcore", "ring_classify_1lcore",
	"ring_prio_1lcore", "tide_xchg_process" };

/* The first CPU of @p set, or -1 if it has none. */
static int
pl_first_cpu(const rte_cpuset_t *set)
{
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, set))
			return cpu;
	return -1;
}

/* Whether variant v runs both stages on the main lcore. */
static bool
pl_one_lcore(unsigned int v)
{
	return v == PL_TIDE_1LC || v == PL_RING_1LC || v == PL_RING_CLS_1LC ||
		v == PL_RING_PRIO_1LC;
}

/* Whether variant v serves priorities over one rte_ring per level. */
static bool
pl_ring_prio(unsigned int v)
{
	return v == PL_RING_PRIO || v == PL_RING_PRIO_1LC;
}

#define PL_CTL_NAME "bpipe_ctl"
/* How long the primary waits for the worker process to attach, or to stop a round. */
#define PL_PROC_WAIT_NS (30ull * 1000000000ull)
/* How often an idle worker process looks whether the primary is still there. */
#define PL_PROC_IDLE_NS (100ull * 1000000ull)
/* How often a receiving one does: every this many polls (a few ms at most). */
#define PL_PROC_ALIVE_POLLS 4096u

/* What the stages share, in a memzone: the worker process sees it too. */
struct pl_shared {
	uint64_t done;             /* by stage 2: read by stage 1 */
	uint32_t run;              /* PL_RUN_*: the primary's word to the worker process */
	uint32_t state;            /* PL_STATE_*: the worker process's answer */
	int32_t worker_cpu;        /* the first CPU the worker process may run on, as it
				    * reads its affinity (-1: unknown), before its first IDLE */
	uint32_t idle_looks;       /* times the worker process woke up while idle */
} __rte_cache_aligned;

enum { PL_RUN_IDLE, PL_RUN_RECV, PL_RUN_EXIT };
enum { PL_STATE_NONE, PL_STATE_IDLE, PL_STATE_RECV };

struct pl_run {
	unsigned int v;
	struct rte_mempool *mp;
	struct tide_xchg *x;      /* the variant's exchange (tide_xchg, tide_xchg_mpmc) */
	struct tide_xchg *xs[2];  /* single sender and receiver declared; not */
	struct rte_ring *ring;
	struct rte_ring *levels[TIDE_APP_PRIO_LEVELS]; /* ring_prio's, one per level */
	uint8_t evdev;
	uint32_t service;
	volatile bool stop;
	struct pl_shared *sh;
	pid_t worker_pid; /* the worker process, or 0 */
	/* Stage 1's own, on a line stage 2 does not read: */
	uint64_t taken __rte_cache_aligned;
	uint64_t inflight; /* most packets on their way (--inflight) */
	uint32_t stamp;
} __rte_cache_aligned;

/* ---- event_sw set-up: one queue, port 0 enqueues, port 1 dequeues ---- */

static int
pl_evdev_setup(struct pl_run *r)
{
	struct rte_event_dev_config dc = { 0 };
	struct rte_event_dev_info info;
	struct rte_event_queue_conf qc;
	struct rte_event_port_conf pc;
	uint8_t q = 0;
	int id;

	if (rte_vdev_init("event_sw0", NULL) != 0)
		return -1;
	id = rte_event_dev_get_dev_id("event_sw0");
	if (id < 0 || rte_event_dev_info_get((uint8_t)id, &info) != 0)
		return -1;
	r->evdev = (uint8_t)id;
	dc.nb_event_queues = 1;
	dc.nb_event_ports = 2;
	dc.nb_events_limit = 4096;
	dc.nb_event_queue_flows = 1024;
	dc.nb_event_port_dequeue_depth = PL_BURST;
	dc.nb_event_port_enqueue_depth = PL_BURST;
	dc.dequeue_timeout_ns = info.min_dequeue_timeout_ns;
	if (rte_event_dev_configure(r->evdev, &dc) != 0)
		return -1;
	rte_event_queue_default_conf_get(r->evdev, 0, &qc);
	qc.schedule_type = RTE_SCHED_TYPE_ATOMIC;
	qc.priority = RTE_EVENT_DEV_PRIORITY_NORMAL;
	qc.nb_atomic_flows = 1024;
	qc.nb_atomic_order_sequences = 1024;
	if (rte_event_queue_setup(r->evdev, 0, &qc) != 0)
		return -1;
	for (uint8_t p = 0; p < 2; p++) {
		rte_event_port_default_conf_get(r->evdev, p, &pc);
		pc.new_event_threshold = 4096;
		pc.dequeue_depth = PL_BURST;
		pc.enqueue_depth = PL_BURST;
		if (rte_event_port_setup(r->evdev, p, &pc) != 0)
			return -1;
	}
	if (rte_event_port_link(r->evdev, 1, &q, NULL, 1) != 1)
		return -1;
	if (rte_event_dev_service_id_get(r->evdev, &r->service) != 0)
		return -1;
	rte_service_runstate_set(r->service, 1);
	rte_service_set_runstate_mapped_check(r->service, 0);
	return rte_event_dev_start(r->evdev);
}

static void
pl_evdev_close(struct pl_run *r)
{
	rte_event_dev_stop(r->evdev);
	rte_event_dev_close(r->evdev);
	rte_vdev_uninit("event_sw0");
}

/* ---- stage 1 ---- */

/* A burst of packets, as a null port's RX gives them: the mbufs are taken from the pool,
 * their lines prefetched for writing, then reset and filled.
 */
static unsigned int
pl_take(struct pl_run *r, struct rte_mbuf **m)
{
	if (r->taken - __atomic_load_n(&r->sh->done, __ATOMIC_ACQUIRE) >= r->inflight ||
			rte_mempool_get_bulk(r->mp, (void **)m, PL_BURST) != 0)
		return 0;
	r->taken += PL_BURST;
	for (int i = 0; i < PL_BURST; i++) {
		rte_prefetch0_write(m[i]);
		rte_prefetch0_write(RTE_PTR_ADD(m[i], RTE_CACHE_LINE_SIZE));
		rte_prefetch0_write(RTE_PTR_ADD(m[i]->buf_addr, RTE_PKTMBUF_HEADROOM));
	}
	for (int i = 0; i < PL_BURST; i++) {
		rte_pktmbuf_reset(m[i]);
		rte_pktmbuf_append(m[i], PL_PKT);
		tide_app_stamp(m[i], (uint8_t)((r->stamp++ & 3) << 4));
	}
	return PL_BURST;
}

static void
pl_stage1_tide(struct pl_run *r)
{
	struct rte_mbuf *m[PL_BURST];
	unsigned int n = pl_take(r, m), sent;

	for (unsigned int i = 0; i < n; i++)
		tide_msg_make(m[i], 1, tide_app_classify(m[i]));
	sent = tide_xchg_send_burst(r->x, m, n);
	tide_msg_release_burst(&m[sent], n - sent);
	r->taken -= n - sent;
}

static void
pl_stage1_evsw(struct pl_run *r)
{
	struct rte_event ev[PL_BURST];
	struct rte_mbuf *m[PL_BURST];
	unsigned int n = pl_take(r, m);
	uint16_t sent;

	for (unsigned int i = 0; i < n; i++) {
		memset(&ev[i], 0, sizeof(ev[i]));
		ev[i].op = RTE_EVENT_OP_NEW;
		ev[i].queue_id = 0;
		ev[i].sched_type = RTE_SCHED_TYPE_ATOMIC;
		ev[i].event_type = RTE_EVENT_TYPE_CPU;
		ev[i].flow_id = i;
		/* eventdev priority: 0 is the highest. */
		ev[i].priority = (uint8_t)((TIDE_APP_PRIO_LEVELS - 1 - tide_app_classify(m[i])) *
			(RTE_EVENT_DEV_PRIORITY_LOWEST / (TIDE_APP_PRIO_LEVELS - 1)));
		ev[i].mbuf = m[i];
	}
	sent = rte_event_enqueue_new_burst(r->evdev, 0, ev, (uint16_t)n);
	for (unsigned int i = sent; i < n; i++)
		rte_pktmbuf_free(m[i]);
	r->taken -= n - sent;
	rte_service_run_iter_on_app_lcore(r->service, 0);
}

static void
pl_stage1_ring(struct pl_run *r)
{
	struct rte_mbuf *m[PL_BURST];
	unsigned int n = pl_take(r, m), sent;

	if (r->v == PL_RING_CLS || r->v == PL_RING_CLS_1LC)
		for (unsigned int i = 0; i < n; i++)
			m[i]->hash.usr = tide_app_classify(m[i]);

	sent = rte_ring_enqueue_burst(r->ring, (void **)m, n, NULL);
	rte_pktmbuf_free_bulk(&m[sent], n - sent);
	r->taken -= n - sent;
}

/* ring_prio's stage 1: the burst split by level, each share enqueued on its level's ring. */
static void
pl_stage1_ring_prio(struct pl_run *r)
{
	struct rte_mbuf *m[PL_BURST], *by[TIDE_APP_PRIO_LEVELS][PL_BURST];
	unsigned int n = pl_take(r, m), k[TIDE_APP_PRIO_LEVELS] = { 0 }, sent;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t l = tide_app_classify(m[i]);

		by[l][k[l]++] = m[i];
	}
	for (unsigned int l = 0; l < TIDE_APP_PRIO_LEVELS; l++) {
		if (k[l] == 0)
			continue;
		sent = rte_ring_enqueue_burst(r->levels[l], (void **)by[l], k[l], NULL);
		rte_pktmbuf_free_bulk(&by[l][sent], k[l] - sent);
		r->taken -= k[l] - sent;
	}
}

/* ---- stage 2 ---- */

/* What stage 2 does to a received burst: prefetch each packet's lines (the mbuf's first,
 * then the packet's, whose address is in it), work, free.
 */
static void
pl_finish(struct pl_shared *sh, struct rte_mbuf **m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		rte_prefetch0_write(m[i]);
	for (unsigned int i = 0; i < n; i++)
		rte_prefetch0_write(rte_pktmbuf_mtod(m[i], void *));
	for (unsigned int i = 0; i < n; i++)
		tide_app_work(m[i]);
	rte_pktmbuf_free_bulk(m, n);
	if (n > 0)
		__atomic_fetch_add(&sh->done, n, __ATOMIC_RELEASE);
}

/* One poll of stage 2. */
static void
pl_poll(struct pl_run *r)
{
	struct rte_event ev[PL_BURST];
	struct rte_mbuf *m[PL_BURST];
	unsigned int n;

	if (r->x != NULL) {
		n = tide_xchg_recv_unmake_burst(r->x, m, PL_BURST);
	} else if (pl_ring_prio(r->v)) {
		n = 0;
		for (unsigned int l = TIDE_APP_PRIO_LEVELS; l-- > 0 && n < PL_BURST;)
			n += rte_ring_dequeue_burst(r->levels[l], (void **)&m[n], PL_BURST - n,
				NULL);
	} else if (r->v == PL_EVSW) {
		n = rte_event_dequeue_burst(r->evdev, 1, ev, PL_BURST, 0);
		for (unsigned int i = 0; i < n; i++)
			m[i] = ev[i].mbuf;
	} else {
		n = rte_ring_dequeue_burst(r->ring, (void **)m, PL_BURST, NULL);
	}
	pl_finish(r->sh, m, n);
}

static int
pl_stage2(void *arg)
{
	struct pl_run *r = arg;

	while (!r->stop)
		pl_poll(r);
	return 0;
}

/* ---- stage 2 in another process ---- */

/*
 * The worker process's stage 2, while the primary says PL_RUN_RECV. A primary that died
 * in the middle of a round never says otherwise: it is looked for every PL_PROC_ALIVE_POLLS
 * polls (often enough to end within a second, rarely enough to cost nothing).
 */
static void
pl_worker_recv(struct pl_shared *sh, struct tide_xchg *x)
{
	struct rte_mbuf *m[PL_BURST];
	unsigned int polls = 0;

	while (__atomic_load_n(&sh->run, __ATOMIC_ACQUIRE) == PL_RUN_RECV) {
		pl_finish(sh, m, tide_xchg_recv_unmake_burst(x, m, PL_BURST));
		if (++polls % PL_PROC_ALIVE_POLLS == 0 && !tide_mp_primary_alive())
			return;
	}
}

/* Wait for the worker process to end: a signal that interrupts the wait (a second Ctrl-C:
 * the handler has no SA_RESTART) does not let the primary free what the worker still maps.
 */
static void
pl_proc_reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The worker process: tide-bench pipeline as a secondary. Runs stage 2 while told to. */
static int
pl_worker_process(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup(PL_CTL_NAME);
	struct pl_shared *sh = mz != NULL ? mz->addr : NULL;
	struct tide_xchg *x;

	if (sh == NULL || tide_msg_init(NULL) != 0 || (x = tide_xchg_lookup("bpipe")) == NULL) {
		fprintf(stderr, "tide-bench pipeline: the worker process finds no pipeline to "
			"work for: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	{
		rte_cpuset_t set;

		sh->worker_cpu = sched_getaffinity(0, sizeof(set), &set) == 0 ?
			pl_first_cpu(&set) : -1;
	}
	for (;;) {
		uint32_t run = __atomic_load_n(&sh->run, __ATOMIC_ACQUIRE);

		if (run == PL_RUN_EXIT || !tide_mp_primary_alive())
			break;
		if (run == PL_RUN_IDLE) {
			struct timespec rel = { .tv_nsec = PL_PROC_IDLE_NS };

			/* Asleep until told (pl_proc_tell()): it runs on the CPU of the thread
			 * variants' stage 2, and looking every millisecond took that CPU from
			 * them (a process switch each time; docs/design.md).
			 */
			__atomic_store_n(&sh->state, PL_STATE_IDLE, __ATOMIC_RELEASE);
			syscall(SYS_futex, &sh->run, FUTEX_WAIT, PL_RUN_IDLE, &rel, NULL, 0);
			__atomic_fetch_add(&sh->idle_looks, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_store_n(&sh->state, PL_STATE_RECV, __ATOMIC_RELEASE);
		pl_worker_recv(sh, x);
	}
	return 0;
}

/* Tell the worker process @p run (PL_RUN_*), and wake it if it sleeps. */
static void
pl_proc_tell(struct pl_run *r, uint32_t run)
{
	__atomic_store_n(&r->sh->run, run, __ATOMIC_RELEASE);
	syscall(SYS_futex, &r->sh->run, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Wait until the worker process says @p state; false if it did not in time or died. */
static bool
pl_proc_wait(struct pl_run *r, uint32_t state)
{
	uint64_t deadline = bench_now_ns() + PL_PROC_WAIT_NS;

	while (__atomic_load_n(&r->sh->state, __ATOMIC_ACQUIRE) != state) {
		if (bench_now_ns() > deadline || waitpid(r->worker_pid, NULL, WNOHANG) != 0)
			return false;
		rte_pause();
	}
	return true;
}

/*
 * Start this program again as a secondary on a new lcore pinned to the CPU of @p worker;
 * false (and why) if it cannot attach: the variant is then left out.
 */
static bool
pl_proc_start(struct pl_run *r, unsigned int worker)
{
	const char *dir = rte_eal_get_runtime_dir();
	rte_cpuset_t set = rte_lcore_cpuset(worker);
	/* The first CPU the worker lcore may run on (rte_lcore_to_cpu_id() is its physical
	 * core's id, which is not a CPU once --lcores maps lcores to other CPUs).
	 */
	int cpu = pl_first_cpu(&set);
	unsigned int lcore = 0, l;
	char lcores[32], prefix[64];
	pid_t primary = getpid();

	RTE_LCORE_FOREACH(l)
		lcore = RTE_MAX(lcore, l + 1);
	snprintf(lcores, sizeof(lcores), "%u@%d", lcore, RTE_MAX(cpu, 0));
	snprintf(prefix, sizeof(prefix), "%s", strrchr(dir, '/') + 1);
	r->worker_pid = fork();
	if (r->worker_pid == 0) {
		char *argv[] = { "tide-bench", "--lcores", lcores, "--no-pci", "--file-prefix",
			prefix, "--proc-type=secondary", "--log-level", "lib.eal:warning", "--",
			"pipeline", NULL };

		/* Killed with the primary, whatever it is doing then (a worker left
		 * spinning would hold a CPU and the primary's hugepage files); a primary
		 * already gone before the prctl() is seen as a new parent. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != primary)
			_exit(127);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (r->worker_pid > 0 && pl_proc_wait(r, PL_STATE_IDLE)) {
		/* Where it runs: on the worker lcore's CPU, as the thread variants' stage 2. */
		bench_emit("tide_xchg_process", "worker_cpu", r->sh->worker_cpu, "cpu");
		return true;
	}
	fprintf(stderr, "tide-bench pipeline: the worker process did not attach (a primary "
		"with --huge-unlink cannot have secondaries): tide_xchg_process left out\n");
	if (r->worker_pid > 0) {
		kill(r->worker_pid, SIGKILL);
		pl_proc_reap(r->worker_pid);
	}
	r->worker_pid = 0;
	return false;
}

static void
pl_proc_stop(struct pl_run *r)
{
	if (r->worker_pid <= 0)
		return;
	pl_proc_tell(r, PL_RUN_EXIT);
	pl_proc_reap(r->worker_pid);
	r->worker_pid = 0;
}

static double
pl_measure(struct pl_run *r, unsigned int ms)
{
	unsigned int worker = rte_get_next_lcore(-1, 1, 0);
	bool one = pl_one_lcore(r->v);
	uint64_t t0, t1, done0;

	r->stop = false;
	r->taken = 0;
	__atomic_store_n(&r->sh->done, 0, __ATOMIC_RELEASE);
	if (r->v == PL_TIDE_PROC) {
		pl_proc_tell(r, PL_RUN_RECV);
		if (!pl_proc_wait(r, PL_STATE_RECV))
			return 0;
	} else if (!one) {
		rte_eal_remote_launch(pl_stage2, r, worker);
	}
	t0 = bench_now_ns();
	do {
		for (int i = 0; i < 16; i++) {
			if (r->x != NULL)
				pl_stage1_tide(r);
			else if (r->v == PL_EVSW)
				pl_stage1_evsw(r);
			else if (pl_ring_prio(r->v))
				pl_stage1_ring_prio(r);
			else
				pl_stage1_ring(r);
			if (one)
				pl_poll(r);
		}
		t1 = bench_now_ns();
	} while (t1 - t0 < (uint64_t)ms * 1000000 && !bench_stopped());
	done0 = __atomic_load_n(&r->sh->done, __ATOMIC_ACQUIRE);
	r->stop = true;
	if (r->v == PL_TIDE_PROC) {
		pl_proc_tell(r, PL_RUN_IDLE);
		if (!pl_proc_wait(r, PL_STATE_IDLE))
			return 0;
	} else if (!one) {
		rte_eal_wait_lcore(worker);
	}
	/* Drain what is still in flight. */
	if (r->x != NULL) {
		struct rte_mbuf *m[PL_BURST];
		unsigned int n;

		while ((n = tide_xchg_recv_burst(r->x, m, PL_BURST, 2)) > 0)
			tide_msg_release_burst(m, n);
	} else if (r->v != PL_EVSW) {
		struct rte_mbuf *m[PL_BURST];
		unsigned int n;

		while ((n = rte_ring_dequeue_burst(r->ring, (void **)m, PL_BURST, NULL)) > 0)
			rte_pktmbuf_free_bulk(m, n);
		for (unsigned int l = 0; l < TIDE_APP_PRIO_LEVELS; l++)
			while ((n = rte_ring_dequeue_burst(r->levels[l], (void **)m, PL_BURST,
					NULL)) > 0)
				rte_pktmbuf_free_bulk(m, n);
	} else {
		struct rte_event ev[PL_BURST];
		uint16_t n;

		for (int i = 0; i < 1000; i++) {
			rte_service_run_iter_on_app_lcore(r->service, 0);
			n = rte_event_dequeue_burst(r->evdev, 1, ev, PL_BURST, 0);
			for (uint16_t k = 0; k < n; k++)
				rte_pktmbuf_free(ev[k].mbuf);
		}
	}
	return done0 / ((t1 - t0) / 1e3);
}

/* The median over rounds of variant a's rate over variant b's in the same round (when both
 * ran).
 */
static void
pl_emit_ratio(double mpps[PL_NB][BENCH_MAX_ROUNDS], const bool *ran, unsigned int rounds,
	unsigned int a, unsigned int b)
{
	char v[48];

	if (!ran[a] || !ran[b])
		return;
	snprintf(v, sizeof(v), "%s:%s", pl_names[a], pl_names[b]);
	bench_emit(v, "ratio", bench_median_ratio(mpps[a], mpps[b], rounds), "x");
}

/* pl_emit_ratio() once per state of the machine (bench_emit_ratio_by_state()). */
static void
pl_emit_ratio_by_state(double mpps[PL_NB][BENCH_MAX_ROUNDS],
	enum bench_state state[PL_NB][BENCH_MAX_ROUNDS], const bool *ran, unsigned int rounds,
	unsigned int a, unsigned int b)
{
	char v[48];

	if (!ran[a] || !ran[b])
		return;
	snprintf(v, sizeof(v), "%s:%s", pl_names[a], pl_names[b]);
	bench_emit_ratio_by_state(v, "ratio", mpps[a], mpps[b], state[a], state[b], rounds);
}

static int
pl_run(const struct bench_opts *o)
{
	static double mpps[PL_NB][BENCH_MAX_ROUNDS];
	static enum bench_state state[PL_NB][BENCH_MAX_ROUNDS];
	double probe;
	unsigned int rounds = bench_rounds(o, PL_ROUNDS);
	unsigned int inflight = o->inflight != 0 ? o->inflight : PL_INFLIGHT;
	struct tide_xchg_params xp = { .name = "bpipe", .type = TIDE_XCHG_PRIO,
		.size = RTE_MAX(inflight, 1024u),
		.nb_prio = TIDE_APP_PRIO_LEVELS, .socket_id = SOCKET_ID_ANY,
		.flags = TIDE_XCHG_F_SP | TIDE_XCHG_F_SC };
	struct tide_xchg_params xp_mpmc = xp;
	const struct rte_memzone *mz = NULL;
	struct tide_pool_params pp;
	struct pl_run r = { 0 };
	double q[BENCH_MAX_ROUNDS];
	bool ran[PL_NB];
	bool proc;
	int ret = -1;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return pl_worker_process();
	if (rte_lcore_count() < 2) {
		fprintf(stderr, "tide-bench pipeline: needs at least 2 lcores\n");
		return -1;
	}
	if (tide_msg_init(NULL) != 0)
		return -1;
	tide_pool_params_init(&pp, "bpipe_pool");
	pp.base_bytes = 32 << 20;
	r.mp = tide_pool_create(&pp);
	r.xs[0] = tide_xchg_create(&xp);
	xp_mpmc.name = "bpipe_mpmc";
	xp_mpmc.flags = 0;
	r.xs[1] = tide_xchg_create(&xp_mpmc);
	r.inflight = inflight;
	/* Room for all in flight (up to inflight + PL_BURST - 1: a burst is taken while
	 * fewer than inflight are), as each level of the exchange has: a floor that
	 * overflowed would spend stage 1's time on packets it then frees.
	 */
	r.ring = rte_ring_create("bpipe_ring", 2 * inflight, SOCKET_ID_ANY,
		RING_F_SP_ENQ | RING_F_SC_DEQ);
	for (unsigned int l = 0; l < TIDE_APP_PRIO_LEVELS; l++) {
		char name[RTE_RING_NAMESIZE];

		/* As many slots a level as the exchange's (xp.size). */
		snprintf(name, sizeof(name), "bpipe_level%u", l);
		r.levels[l] = rte_ring_create(name, xp.size, SOCKET_ID_ANY,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (r.levels[l] == NULL)
			goto fail;
	}
	mz = rte_memzone_reserve(PL_CTL_NAME, sizeof(*r.sh), SOCKET_ID_ANY, 0);
	if (r.mp == NULL || r.xs[0] == NULL || r.xs[1] == NULL || r.ring == NULL ||
			mz == NULL)
		goto fail;
	r.sh = mz->addr;
	memset(r.sh, 0, sizeof(*r.sh));
	proc = bench_selected(o, pl_names[PL_TIDE_PROC]) &&
		pl_proc_start(&r, rte_get_next_lcore(-1, 1, 0));
	/* After the worker process attached: a secondary knows the vdevs there were then, and
	 * at its exit would try to close a started event_sw0 as well.
	 */
	if (pl_evdev_setup(&r) != 0)
		goto fail;
	for (unsigned int i = 0; i < PL_NB; i++)
		ran[i] = bench_selected(o, pl_names[i]) && (i != PL_TIDE_PROC || proc);
	/* The machine's state around every measurement: a probe before it and after it. */
	probe = bench_machine_c2c(BENCH_C2C_QUICK_TRIPS);
	for (unsigned int round = 0; round < rounds && !bench_stopped(); round++)
		for (unsigned int k = 0; k < PL_NB; k++) {
			r.v = (k + round) % PL_NB;
			if (!ran[r.v])
				continue;
			r.x = r.v == PL_TIDE || r.v == PL_TIDE_1LC || r.v == PL_TIDE_PROC ?
				r.xs[0] : r.v == PL_TIDE_MPMC ? r.xs[1] : NULL;
			mpps[r.v][round] = pl_measure(&r, bench_ms(o, PL_MS));
			state[r.v][round] = bench_machine_state_after(&probe);
		}
	for (unsigned int i = 0; i < PL_NB; i++) {
		if (!ran[i])
			continue;
		memcpy(q, mpps[i], sizeof(q));
		bench_emit(pl_names[i], "rate", bench_median(q, rounds), "Mpps");
	}
	if (ran[PL_TIDE_PROC])
		bench_emit(pl_names[PL_TIDE_PROC], "idle_looks",
			__atomic_load_n(&r.sh->idle_looks, __ATOMIC_RELAXED), "looks");
	pl_emit_ratio(mpps, ran, rounds, PL_TIDE, PL_EVSW);
	pl_emit_ratio(mpps, ran, rounds, PL_TIDE_MPMC, PL_EVSW);
	pl_emit_ratio(mpps, ran, rounds, PL_RING, PL_EVSW);
	pl_emit_ratio(mpps, ran, rounds, PL_TIDE, PL_RING);
	pl_emit_ratio(mpps, ran, rounds, PL_TIDE_MPMC, PL_RING);
	pl_emit_ratio(mpps, ran, rounds, PL_RING_CLS, PL_RING);
	pl_emit_ratio(mpps, ran, rounds, PL_TIDE, PL_RING_CLS);
	pl_emit_ratio(mpps, ran, rounds, PL_RING_PRIO, PL_RING);
	pl_emit_ratio(mpps, ran, rounds, PL_TIDE, PL_RING_PRIO);
	pl_emit_ratio(mpps, ran, rounds, PL_TIDE_1LC, PL_RING_1LC);
	pl_emit_ratio(mpps, ran, rounds, PL_RING_CLS_1LC, PL_RING_1LC);
	pl_emit_ratio(mpps, ran, rounds, PL_TIDE_1LC, PL_RING_CLS_1LC);
	pl_emit_ratio(mpps, ran, rounds, PL_RING_PRIO_1LC, PL_RING_1LC);
	pl_emit_ratio(mpps, ran, rounds, PL_TIDE_1LC, PL_RING_PRIO_1LC);
	pl_emit_ratio(mpps, ran, rounds, PL_TIDE_PROC, PL_TIDE);
	pl_emit_ratio_by_state(mpps, state, ran, rounds, PL_TIDE, PL_RING);
	pl_emit_ratio_by_state(mpps, state, ran, rounds, PL_TIDE, PL_EVSW);
	pl_emit_ratio_by_state(mpps, state, ran, rounds, PL_TIDE, PL_RING_PRIO);
	pl_emit_ratio_by_state(mpps, state, ran, rounds, PL_RING_PRIO, PL_RING);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "tide-bench pipeline: set-up failed: %s\n", rte_strerror(rte_errno));
out:
	if (r.sh != NULL)
		pl_proc_stop(&r);
	pl_evdev_close(&r);
	tide_xchg_free(r.xs[0]);
	tide_xchg_free(r.xs[1]);
	rte_ring_free(r.ring);
	for (unsigned int l = 0; l < TIDE_APP_PRIO_LEVELS; l++)
		rte_ring_free(r.levels[l]);
	rte_memzone_free(mz);
	tide_pool_free(r.mp);
	return ret;
}

/* Before EAL: --inflight is a power of 2 (its range was checked as it was read). */
static int
pl_check(struct bench_opts *o)
{
	if (o->inflight != 0 && !rte_is_power_of_2(o->inflight)) {
		fprintf(stderr, "tide-bench pipeline: --inflight %u is not a power of 2 (%u to "
			"%u)\n", o->inflight, BENCH_INFLIGHT_MIN, BENCH_INFLIGHT_MAX);
		return -1;
	}
	return 0;
}

const struct bench_scenario bench_pipeline = {
	.name = "pipeline",
	.help = "a 2-stage pipeline's Mpps on tidepool exchanges vs on the event_sw eventdev; "
		"stage 2 in a secondary process vs in a thread",
	.filter = "the variant: tide_xchg, tide_xchg_mpmc, event_sw, ring, ring_classify, "
		"ring_prio, tide_xchg_1lcore, ring_1lcore, ring_classify_1lcore, ring_prio_1lcore, "
		"tide_xchg_process",
	.check = pl_check,
	.run = pl_run,
	.opts = BENCH_OPT_MS | BENCH_OPT_INFLIGHT,
};
