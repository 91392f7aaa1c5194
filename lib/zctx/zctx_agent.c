/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The send agent: one thread per instance (a control thread of its own, or a worker
 * lcore). Each pass it
 *  1. retires: posts, in submission order, the completions of the oldest sends whose
 *     memory is released (zero-copy: the free callback ran; copy: the PMD took every
 *     packet), releases their cache references and reports their cost to the policy;
 *  2. transmits the waiting burst (what the PMD does not take waits for the next pass:
 *     nothing is dropped);
 *  3. takes sends from the submission queue in order and builds their packets into the
 *     burst: one TX queue per burst, copied and zero-copy packets side by side (a burst
 *     per path ended one at every change of path: a mix of payload sizes around the
 *     threshold went out in bursts of one to three packets, at 0.54-0.60 of the better
 *     fixed path's rate on net_null and af_packet in `tide-bench zctx --sizes mix`). The
 *     PMD's time is shared by a burst's packets evenly, whatever their path.
 * With nothing to do it spins a little, then sleeps on its doorbell eventfd (the submit
 * fast path rings it only when the agent said it sleeps). With sends in flight and no
 * progress it asks the PMD to reclaim TX descriptors, once per millisecond.
 *
 * Stopping: sends not yet handed to the PMD are cancelled, those in the PMD's hands are
 * waited for; the agent leaves when every credit taken is a posted completion.
 */

#include <inttypes.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_memcpy.h>

#include "tide_fault.h"
#include "zctx_private.h"
#include "zctx_reports.h"

/* Idle time before the agent sleeps on its doorbell, and its longest sleep. */
#define AGENT_SPIN_NS (200ull * 1000)
#define AGENT_SLEEP_MS 100
/* Nap while the PMD holds sends and nothing else moves. */
#define AGENT_NAP_NS (20ull * 1000)
#define AGENT_CLEANUP_NS (1000ull * 1000)

#define SLOT(z, seq) (&(z)->slots[(seq) & (z)->mask])

static uint64_t
agent_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool
agent_stopping(const struct tide_zctx *z)
{
	return __atomic_load_n(&z->fast.state, __ATOMIC_SEQ_CST) != TIDE_ZCTX_PVT_STATE_RUNNING;
}

/* ---- 1. Retire. */

/* What the policy chose, for the stats and telemetry. */
static void
agent_publish_policy(struct tide_zctx *z)
{
	__atomic_store_n(&z->cnt.mix_trials, z->pol.mix.trials, __ATOMIC_RELAXED);
	__atomic_store_n(&z->cnt.mix_switches, z->pol.mix.switches, __ATOMIC_RELAXED);
	__atomic_store_n(&z->cnt.mix_all_zc, z->pol.mix.all_zc, __ATOMIC_RELAXED);
	__atomic_store_n(&z->threshold_now, tide_zcp_threshold(&z->pol), __ATOMIC_RELEASE);
}

static int32_t
agent_status(const struct zc_slot *s)
{
	if (s->status != 0)
		return s->status;
	return s->cancelled ? -ECANCELED : 0;
}

static void
agent_count(struct tide_zctx *z, const struct zc_slot *s, int32_t st)
{
	if (st == 0) {
		ZC_CNT(z, completed, 1);
		if (s->path == ZC_PATH_ZC) {
			ZC_CNT(z, zc_sends, 1);
			ZC_CNT(z, zc_bytes, s->sqe.len);
		} else {
			ZC_CNT(z, copy_sends, 1);
			ZC_CNT(z, copy_bytes, s->sqe.len);
		}
	} else if (st == -ECANCELED) {
		ZC_CNT(z, cancelled, 1);
	} else {
		ZC_CNT(z, failed, 1);
	}
}

/* Whether slot @p s may complete: copy, every packet taken by the PMD; zero-copy, built
 * and every segment freed (the send then counts as released, once).
 */
static bool
agent_slot_done(struct tide_zctx *z, const struct zc_slot *s)
{
	bool counted;

	if (s->path == ZC_PATH_COPY)
		return __atomic_load_n(&s->done, __ATOMIC_ACQUIRE) != 0;
	if (!s->built || !zc_slot_segs_freed(s, &counted))
		return false;
	/* The agent's own counter: no locked instruction for every zero-copy send. */
	if (!counted && s->segs != 0)
		ZC_CNT(z, zc_released, 1);
	return true;
}

static unsigned int
agent_retire(struct tide_zctx *z)
{
	struct tide_zctx_cpl cpl[ZC_BURST];
	const struct zc_piece *rel[ZC_BURST * ZC_MAX_PIECES];
	struct zc_slot *done[ZC_BURST];
	struct tide_zcp_reports reps;
	struct tide_zcp_run run = { 0 };
	bool learning = tide_zcp_learning(&z->pol);
	unsigned int n = 0, nrel = 0, i;
	uint64_t t0, share;

	RTE_BUILD_BUG_ON(ZC_BURST > TIDE_ZCP_REPORTS_MAX);
	tide_zcp_reports_init(&reps);

	while (n < ZC_BURST && z->head != z->cur) {
		struct zc_slot *s = SLOT(z, z->head);

		if (!agent_slot_done(z, s))
			break;
		for (i = 0; i < s->nb_pieces; i++)
			if (s->pieces[i].span != NULL || s->pieces[i].blk != NULL)
				rel[nrel++] = &s->pieces[i];
		cpl[n] = (struct tide_zctx_cpl){
			.cookie = s->sqe.cookie, .status = agent_status(s), .bytes = s->bytes_sent,
		};
		if (learning && cpl[n].status == 0)
			tide_zcp_reports_add(&reps, &run, s->sqe.len, s->path, s->epoch,
				s->cycles);
		done[n++] = s;
		z->head++;
	}
	if (n == 0)
		return 0;
	t0 = rte_rdtsc();
	tide_zctx_pvt_cache_release(rel, nrel);
	share = (rte_rdtsc() - t0) / n;
	tide_zcp_reports_end(&reps, &run);
	tide_zcp_reports_record(&z->pol, &reps, share);
	/* Credits bound what is posted: the ring has room. */
	rte_ring_sp_enqueue_bulk_elem(z->fast.cq, cpl, sizeof(cpl[0]), n, NULL);
	/* Counted once posted: no longer in flight means pollable. */
	for (i = 0; i < n; i++)
		agent_count(z, done[i], cpl[i].status);
	if (z->cpl_fd >= 0) {
		uint64_t v = n;

		if (write(z->cpl_fd, &v, sizeof(v)) != sizeof(v))
			ZC_LOG(WARNING, "completion eventfd write failed");
	}
	agent_publish_policy(z);
	return n;
}

/* ---- 2. Transmit. */

static void
agent_copy_taken(struct zc_slot *s)
{
	if (--s->pkts_left == 0 && s->built)
		__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
}

static unsigned int
agent_flush(struct tide_zctx *z)
{
	struct zc_txb *b = &z->txb;
	uint16_t k, i;
	uint64_t t0, per;

	if (b->n == 0)
		return 0;
	zc_port_queue_used(&z->ports[z->port_idx[b->port]], b->queue);
	t0 = rte_rdtsc();
	k = rte_eth_tx_burst(b->port, b->queue, b->pkts, b->n);
	per = (rte_rdtsc() - t0) / (k != 0 ? k : 1);
	for (i = 0; i < k; i++) {
		struct zc_slot *s = b->slot[i];

		s->bytes_sent += b->bytes[i];
		s->cycles += per;
		if (s->path == ZC_PATH_COPY)
			agent_copy_taken(s);
	}
	ZC_CNT(z, packets, k);
	ZC_CNT(z, tx_bursts, 1);
	if (k < b->n) {
		ZC_CNT(z, tx_stalls, 1);
		memmove(b->pkts, &b->pkts[k], (b->n - k) * sizeof(b->pkts[0]));
		memmove(b->slot, &b->slot[k], (b->n - k) * sizeof(b->slot[0]));
		memmove(b->bytes, &b->bytes[k], (b->n - k) * sizeof(b->bytes[0]));
	}
	b->n -= k;
	return k;
}

/* ---- 3. Take and build. */

/*
 * Move up to a burst of sends out of the submission ring into the free slots from cur
 * on: one look at the submitters' tail, then lines read in order, for many sends.
 */
static unsigned int
agent_stage(struct tide_zctx *z)
{
	const struct tide_zctx_sqe *e;
	unsigned int room = (unsigned int)(z->mask + 1 - (z->cur - z->head)), n;
	struct rte_ring_zc_data zc;
	uint64_t t0, share;

	if (rte_ring_empty(z->fast.sq))
		return 0; /* an idle poll: no clock read */
	t0 = rte_rdtsc();
	n = rte_ring_dequeue_zc_burst_elem_start(z->fast.sq, sizeof(*e),
		RTE_MIN(room, (unsigned int)ZC_BURST), &zc, NULL);
	for (unsigned int i = 0; i < n; i++) {
		e = i < zc.n1 ? (const struct tide_zctx_sqe *)zc.ptr1 + i :
			(const struct tide_zctx_sqe *)zc.ptr2 + (i - zc.n1);
		rte_memcpy(&SLOT(z, z->cur + i)->sqe, e, tide_zctx_pvt_sqe_size(e));
	}
	if (n == 0)
		return 0;
	rte_ring_dequeue_zc_elem_finish(z->fast.sq, n);
	z->staged = z->cur + n;
	/* Every send staged pays its share (not the one that happened to come first: the
	 * policy would see one dear send per burst, and which path it took).
	 */
	z->stage_tsc = rte_rdtsc();
	share = (z->stage_tsc - t0) / n;
	for (unsigned int i = 0; i < n; i++) {
		struct zc_slot *s = SLOT(z, z->cur + i);

		s->cycles = share;
		s->z = z;
		s->done = 0;
		s->segs = 0;
		s->segs_freed = 0;
		s->segs_freed_remote = 0;
		s->status = 0;
		s->path = ZC_PATH_COPY; /* until prepared */
		s->cancelled = false;
		s->built = false;
		s->prepared = false;
		s->nb_pieces = 0;
		s->pkts_left = 0;
		s->bytes_sent = 0;
	}
	return n;
}

static bool
agent_take(struct tide_zctx *z)
{
	if (z->cur == z->staged && agent_stage(z) == 0)
		return false;
	memset(&z->cursor, 0, sizeof(z->cursor));
	z->cursor.active = true;
	ZC_CNT(z, submitted, 1);
	return true;
}

/* The current send is fully built (or abandoned): the builder lets go of it. */
static void
agent_built(struct tide_zctx *z, struct zc_slot *s)
{
	/* Zero-copy: done once its segments are freed too (agent_slot_done). */
	__atomic_store_n(&s->built, true, __ATOMIC_RELEASE);
	if (s->path == ZC_PATH_COPY && s->pkts_left == 0)
		__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	z->cursor.active = false;
	z->cur++;
}

/* Choose the path of a send whose memory is held (the policy's, on a port zero-copy can
 * use) and stamp it with the policy's window.
 */
static bool
agent_no_iova(const struct zc_slot *s)
{
	for (unsigned int i = 0; i < s->nb_pieces; i++)
		if (s->pieces[i].no_iova)
			return true;
	return false;
}

/*
 * Memory DPDK knows without IO addresses (rte_extmem_register() without them) goes
 * zero-copy only to a PMD that reads by address; to others an adaptive threshold copies
 * it, and a fixed one that says zero-copy fails the send.
 */
static void
agent_decide(struct tide_zctx *z, struct zc_slot *s)
{
	const struct zc_port *p = &z->ports[z->port_idx[s->sqe.port]];
	bool no_iova = p->zc_ok && !p->by_va && agent_no_iova(s);

	if (!p->zc_ok || (no_iova && tide_zcp_learning(&z->pol)))
		s->path = ZC_PATH_COPY;
	else
		s->path = (uint8_t)tide_zcp_decide(&z->pol, s->sqe.len);
	s->epoch = tide_zcp_epoch(&z->pol);
	if (no_iova && s->path == ZC_PATH_ZC) {
		ZC_LOG(ERR, "%s: send %#" PRIx64 " is from memory registered without IO "
			"addresses, and port %u's PMD may DMA: not sent (the threshold says "
			"zero-copy)", z->name, s->sqe.cookie, s->sqe.port);
		s->status = -EADDRNOTAVAIL;
	}
}

/*
 * Hold the memory and choose the path of the current send and of the staged sends after
 * it, under one hold of the cache's lock (a lock a send cost small sends some 10% of their
 * rate on net_null). A send that fails stays prepared with its status and is built, as
 * failed, when its turn comes. Each send prepared is charged its share of the time since
 * *t, which moves to now. Returns how many were prepared, or -EAGAIN if the current send
 * must wait (pins in flight to be released first).
 */
static int
agent_prepare(struct tide_zctx *z, uint64_t *t)
{
	uint64_t end = RTE_MIN(z->staged, z->cur + ZC_BURST), seq, first = UINT64_MAX, now, share;
	int ret = 0;

	tide_zctx_pvt_cache_acquire_begin();
	for (seq = z->cur; seq < end; seq++) {
		struct zc_slot *s = SLOT(z, seq);
		unsigned int np;

		if (s->prepared)
			continue; /* before an earlier call's -EAGAIN: all later ones are not */
		ret = tide_zctx_pvt_cache_acquire(s->sqe.iov, s->sqe.nb_iov, s->pieces, &np);
		if (ret == -EAGAIN)
			break;
		if (first == UINT64_MAX)
			first = seq;
		s->prepared = true;
		if (ret != 0) {
			s->status = ret;
			continue;
		}
		s->nb_pieces = (uint16_t)np;
		agent_decide(z, s);
	}
	tide_zctx_pvt_cache_acquire_end();
	if (first == UINT64_MAX)
		return -EAGAIN;
	/* [first, seq): prepared by this call. */
	now = rte_rdtsc();
	share = (now - *t) / (seq - first);
	for (uint64_t i = first; i < seq; i++)
		SLOT(z, i)->cycles += share;
	*t = now;
	return (int)(seq - first);
}

static bool
agent_fits(const struct zc_txb *b, const struct zc_slot *s)
{
	return b->n == 0 || (b->port == s->sqe.port && b->queue == s->sqe.queue);
}

static unsigned int
agent_build(struct tide_zctx *z)
{
	struct zc_txb *b = &z->txb;
	struct zc_slot *unpaid = NULL; /* built packets not charged for yet */
	unsigned int built = 0;
	uint64_t t, now;

	if (!z->cursor.active && z->cur == z->staged && rte_ring_empty(z->fast.sq))
		return 0; /* an idle poll: no clock read */
	t = rte_rdtsc();

	/*
	 * One clock reading per send built and one when the burst ends a send short (a
	 * reading costs some 10 ns, as much as a small packet's build; a 16 KB send is two
	 * jumbo frames, a 64 KB one eight): each send is charged the time since the reading
	 * before, which covers taking and preparing it too.
	 */
	while (b->n < ZC_BURST) {
		struct zc_slot *s;
		struct rte_mbuf *pkt;
		uint32_t n;

		if (!z->cursor.active) {
			if (!agent_take(z))
				break;
			if (z->stage_tsc > t)
				t = z->stage_tsc; /* staging is charged already */
		}
		s = SLOT(z, z->cur);
		if (!s->prepared) {
			int np = agent_prepare(z, &t);

			if (np < 0)
				break;
			built += (unsigned int)np;
		}
		if (s->status != 0) {
			/* Its memory could not be held: done, as failed. */
			agent_built(z, s);
			continue;
		}
		if (!agent_fits(b, s))
			break;
		n = tide_zctx_pvt_build_packet(z, s, &pkt);
		if (n == 0 && s->status != 0) {
			/* It cannot be built: done, as failed (what the PMD has goes on). */
			agent_built(z, s);
			continue;
		}
		if (n == 0)
			break; /* mbufs short: after the next flush */
		unpaid = s;
		b->port = s->sqe.port;
		b->queue = s->sqe.queue;
		b->pkts[b->n] = pkt;
		b->slot[b->n] = s;
		b->bytes[b->n++] = n;
		if (s->path == ZC_PATH_COPY)
			s->pkts_left++;
		if (z->cursor.off == s->sqe.len) {
			now = rte_rdtsc();
			s->cycles += now - t;
			t = now;
			unpaid = NULL;
			agent_built(z, s);
		}
		built++;
	}
	if (unpaid != NULL)
		unpaid->cycles += rte_rdtsc() - t;
	return built;
}

/* ---- Stopping. */

/* Cancel whatever the PMD does not have yet. */
static unsigned int
agent_cancel(struct tide_zctx *z)
{
	struct zc_txb *b = &z->txb;
	unsigned int n = b->n;

	for (uint16_t i = 0; i < b->n; i++) {
		struct zc_slot *s = b->slot[i];

		s->cancelled = true;
		rte_pktmbuf_free(b->pkts[i]);
		if (s->path == ZC_PATH_COPY)
			agent_copy_taken(s);
	}
	b->n = 0;
	for (;;) {
		if (!z->cursor.active && !agent_take(z))
			break;
		SLOT(z, z->cur)->cancelled = true;
		agent_built(z, SLOT(z, z->cur));
		n++;
	}
	return n;
}

static bool
agent_finished(struct tide_zctx *z)
{
	uint32_t credits = __atomic_load_n(&z->fast.credits, __ATOMIC_SEQ_CST);

	return z->head == z->cur && !z->cursor.active && z->txb.n == 0 &&
		z->staged == z->cur && rte_ring_count(z->fast.sq) == 0 &&
		credits == rte_ring_count(z->fast.cq);
}

/* ---- Idling. */

/*
 * Ask the PMD to free what it transmitted (a stop waits for those sends' segments), on the
 * ports that sends in flight went to only: a port none of whose sends is in flight may be
 * started or stopped meanwhile. Not at all once a stop that timed out asked the agent to
 * leave the PMD alone: the ports' own stop frees them then.
 */
static void
agent_cleanup(struct tide_zctx *z)
{
	bool busy[TIDE_ZCTX_MAX_PORTS] = { false };

	if (__atomic_load_n(&z->pmd_hands_off, __ATOMIC_ACQUIRE))
		return;
	for (uint64_t seq = z->head; seq != z->cur + z->cursor.active; seq++)
		busy[z->port_idx[SLOT(z, seq)->sqe.port]] = true;
	for (unsigned int i = 0; i < z->params.nb_ports; i++)
		if (busy[i])
			zc_port_cleanup(&z->ports[i]);
}

static void
agent_sleep(struct tide_zctx *z)
{
	struct pollfd pfd = { .fd = z->fast.wake_fd, .events = POLLIN };
	uint64_t v;

	__atomic_store_n(&z->fast.agent_sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (z->staged == z->cur && rte_ring_count(z->fast.sq) == 0 && !agent_stopping(z) &&
			__atomic_load_n(&z->threshold_gen, __ATOMIC_ACQUIRE) == z->pol_gen)
		poll(&pfd, 1, AGENT_SLEEP_MS);
	__atomic_store_n(&z->fast.agent_sleeping, 0, __ATOMIC_RELAXED);
	if (read(z->fast.wake_fd, &v, sizeof(v)) < 0)
		v = 0; /* nothing was rung */
}

static void
agent_idle(struct tide_zctx *z, uint64_t *idle_since)
{
	uint64_t now = agent_now_ns();

	if (*idle_since == 0) {
		*idle_since = now;
		return;
	}
	if (z->head != z->cur || z->txb.n != 0 || z->cursor.active) {
		/* The PMD holds sends (or mbufs are short): reclaim, nap, look again. */
		if (now - z->last_cleanup_ns >= AGENT_CLEANUP_NS) {
			agent_cleanup(z);
			z->last_cleanup_ns = now;
		}
		if (now - *idle_since >= AGENT_SPIN_NS) {
			struct timespec ts = { .tv_nsec = AGENT_NAP_NS };

			nanosleep(&ts, NULL);
		}
		return;
	}
	if (now - *idle_since >= AGENT_SPIN_NS)
		agent_sleep(z);
}

static void
agent_policy_update(struct tide_zctx *z)
{
	uint32_t gen = __atomic_load_n(&z->threshold_gen, __ATOMIC_ACQUIRE);

	if (gen == z->pol_gen)
		return;
	tide_zcp_restart(&z->pol, __atomic_load_n(&z->threshold_req, __ATOMIC_RELAXED));
	z->pol_gen = gen;
	/* Staged sends prepared ahead and not yet begun take the new threshold too (prepared
	 * ones come first: agent_prepare()). One the old threshold failed (zero-copy of memory
	 * without IO addresses) is decided again; one whose memory could not be held stays
	 * failed.
	 */
	for (uint64_t seq = z->cur + (z->cursor.active ? 1 : 0); seq < z->staged; seq++) {
		struct zc_slot *s = SLOT(z, seq);

		if (!s->prepared)
			break;
		if (s->status == -EADDRNOTAVAIL)
			s->status = 0;
		if (s->status == 0)
			agent_decide(z, s);
	}
	agent_publish_policy(z);
}

static void
agent_run(struct tide_zctx *z)
{
	uint64_t idle_since = 0, t0 = rte_rdtsc();

	z->agent_tid = pthread_self();
	z->agent_pid = tide_zctx_pvt_build_pid();
	for (;;) {
		unsigned int work;
		bool stopping = agent_stopping(z);

		TIDE_FAULT_HOLD(TIDE_HOLD_AGENT_PASS); /* tests: a stop comes meanwhile */
		if (stopping && unlikely(__atomic_load_n(&z->agent_abandon, __ATOMIC_ACQUIRE)))
			break;
		agent_policy_update(z);
		work = agent_retire(z);
		work += agent_flush(z);
		if (stopping)
			work += agent_cancel(z);
		else if (z->txb.n == 0)
			work += agent_build(z) + agent_flush(z);
		/* Stopping, nothing left to transmit (cancelled), and the stop asked: from here
		 * on no PMD call (agent_flush() has nothing, agent_cleanup() looks at the ask).
		 */
		if (stopping && unlikely(__atomic_load_n(&z->pmd_hands_off, __ATOMIC_ACQUIRE))) {
			__atomic_store_n(&z->pmd_released, 1, __ATOMIC_RELEASE);
			TIDE_FAULT_HOLD(TIDE_HOLD_AGENT_ANSWERED);
		}
		if (work != 0) {
			uint64_t now = rte_rdtsc();

			idle_since = 0;
			ZC_CNT(z, busy_cycles, now - t0);
			t0 = now;
			continue;
		}
		if (stopping && agent_finished(z))
			break;
		agent_idle(z, &idle_since);
		t0 = rte_rdtsc();
	}
	/* Frees from here on count as another thread's, whatever thread runs them (a later
	 * thread may get this one's pthread_t): what the agent's own cache holds goes home.
	 */
	__atomic_store_n(&z->agent_pid, 0, __ATOMIC_RELEASE);
	rte_mempool_cache_flush(z->extref_cache, z->extrefs);
	__atomic_store_n(&z->agent_done, 1, __ATOMIC_RELEASE);
}

static int
agent_lcore_main(void *arg)
{
	agent_run(arg);
	return 0;
}

static void *
agent_thread_main(void *arg)
{
	agent_run(arg);
	return NULL;
}

int
tide_zctx_pvt_agent_start(struct tide_zctx *z)
{
	char tname[16];
	int ret;

	if (TIDE_FAULT(TIDE_FAULT_THREAD)) {
		ret = -EAGAIN;
	} else if (z->params.agent_lcore >= 0) {
		ret = rte_eal_remote_launch(agent_lcore_main, z,
			(unsigned int)z->params.agent_lcore);
		/* Busy: another launch took the lcore since it was checked idle. */
		if (ret != 0)
			ret = ret == -EBUSY ? -EINVAL : -EAGAIN;
	} else {
		snprintf(tname, sizeof(tname), "tide-zc-%.7s", z->name);
		ret = rte_ctrl_thread_create(&z->thread, tname, NULL, agent_thread_main, z);
		if (ret != 0)
			ret = -EAGAIN;
	}
	if (ret != 0) {
		ZC_LOG(ERR, "%s: cannot start the agent: %s", z->name, rte_strerror(-ret));
		return ret;
	}
	z->agent_started = true;
	return 0;
}

void
tide_zctx_pvt_agent_release_pmd(struct tide_zctx *z)
{
	if (!z->agent_started || z->agent_joined)
		return;
	__atomic_store_n(&z->pmd_hands_off, 1, __ATOMIC_RELEASE);
	TIDE_FAULT_HOLD(TIDE_HOLD_ZCTX_HANDS_OFF); /* tests: the agent's pass goes on */
	tide_zctx_pvt_wake(z);
	while (!__atomic_load_n(&z->pmd_released, __ATOMIC_ACQUIRE) &&
			!__atomic_load_n(&z->agent_done, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { .tv_nsec = 50 * 1000 };

		nanosleep(&ts, NULL);
	}
}

int
tide_zctx_pvt_agent_wait(struct tide_zctx *z, unsigned int timeout_ms)
{
	uint64_t end = agent_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	if (!z->agent_started || z->agent_joined)
		return 0;
	tide_zctx_pvt_wake(z);
	while (!__atomic_load_n(&z->agent_done, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { .tv_nsec = 200 * 1000 };

		if (timeout_ms != 0 && agent_now_ns() >= end)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
	if (z->params.agent_lcore >= 0)
		rte_eal_wait_lcore((unsigned int)z->params.agent_lcore);
	else
		pthread_join(z->thread, NULL);
	z->agent_joined = true;
	return 0;
}
