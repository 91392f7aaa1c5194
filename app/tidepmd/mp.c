/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Worker processes: the table the primary tidepmd shares with its secondary workers.
 *
 * With --mode pipeline --mp-workers N, the primary reserves the memzone "tidepmd_mp": N
 * slots, one per TX queue 0..N-1. A secondary tidepmd (--proc-type=secondary, --mode
 * worker) claims one free slot per forwarding lcore: the slot names its process, gives the
 * lcore its TX queue and holds its counters, which the primary adds to its own. The
 * primary ends a run by setting `stopping` and waits for the slots to be given back; a
 * worker that died gives its slots back through tidepool's death callback (its stage's
 * messages are released by the message library the same way).
 *
 * The table also says which process runs each lcore id: every lcore id has a cache of its
 * own in every mempool, used without a lock, so two processes on one id would corrupt the
 * pool. The primary records its lcores when it opens the table; a worker claims all of its
 * own before any of them starts, or is refused naming the lcore and the process that has
 * it. A worker gives its ids back as it ends, a dead one through the death callback.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memzone.h>

#include "tide_app.h"
#include "tide_pool.h"
#include "tide_process.h"
#include "tidepmd.h"

#define MP_MZ_NAME "tidepmd_mp"
#define MP_MAGIC 0x74706d70u /* "tpmp" */
/* How long the primary waits for its workers to leave at the end of a run. */
#define MP_LEAVE_WAIT_NS (5ull * 1000000000ull)
/* How long it then waits for worker processes whose lcores have all left to exit: they are
 * on their way out, but rte_eal_cleanup() can take far longer than leaving did (a sanitized
 * worker on a loaded machine: over 5 s). Past MP_LEAVE_WAIT_NS of it, it says it waits.
 */
#define MP_EXIT_WAIT_NS (60ull * 1000000000ull)

struct mp_slot {
	int32_t pid;                  /* 0: free */
	uint32_t lcore_id;            /* in the worker's process */
	struct tpmd_counters cnt;     /* kept when the slot is given back */
} __rte_cache_aligned;

struct mp_table {
	uint32_t magic;
	uint32_t nb_slots;
	uint32_t stopping;            /* the primary's run is over: leave */
	uint32_t primary_pid;
	struct mp_slot slot[TPMD_MAX_QUEUES];
	int32_t lcore_pid[RTE_MAX_LCORE]; /* the process running each lcore id; 0: none */
};

static struct mp_table *mp_tab;
static bool mp_death_cb_on;
/* The primary's: the worker processes of the last run, until all are gone. */
static pid_t mp_left[TPMD_MAX_QUEUES];
static unsigned int mp_nb_left;

/* Give back the lcore ids @p pid holds in @p tab. */
static void
mp_lcores_release(struct mp_table *tab, int32_t pid)
{
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		int32_t owner = pid;

		__atomic_compare_exchange_n(&tab->lcore_pid[l], &owner, 0, false,
			__ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
}

/* The primary's: slots and lcore ids of a process that is gone are free again. */
static void
mp_on_death(int pid, void *arg __rte_unused)
{
	struct mp_table *tab = mp_tab;

	if (tab == NULL)
		return;
	for (unsigned int i = 0; i < tab->nb_slots; i++)
		if (__atomic_load_n(&tab->slot[i].pid, __ATOMIC_ACQUIRE) == pid) {
			printf("tidepmd: worker process %d is gone: TX queue %u is free again\n",
				pid, i);
			__atomic_store_n(&tab->slot[i].pid, 0, __ATOMIC_RELEASE);
		}
	mp_lcores_release(tab, pid);
}

/*
 * A new run's table: what the last run's workers counted is in the totals, and none of
 * them is left (tpmd_mp_open()). The lcore ids of a worker process still there (one that
 * came after the last run's stop, and is on its way out) stay its own; this process's are
 * recorded: every lcore id with a role, as the pool library counts a process's lcores.
 */
static void
mp_table_init(struct mp_table *tab, unsigned int nb_slots)
{
	int32_t kept[RTE_MAX_LCORE];
	int32_t self = (int32_t)getpid();

	memcpy(kept, tab->lcore_pid, sizeof(kept));
	memset(tab, 0, sizeof(*tab));
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		if (!rte_lcore_has_role(l, ROLE_OFF))
			tab->lcore_pid[l] = self;
		else if (kept[l] != 0 && kept[l] != self && !tide_process_gone((uint32_t)kept[l]))
			tab->lcore_pid[l] = kept[l];
	}
	tab->nb_slots = nb_slots;
	tab->primary_pid = (uint32_t)self;
}

int
tpmd_mp_open(unsigned int nb_slots, struct tpmd_counters *done)
{
	const struct rte_memzone *mz;

	/* The slots are wiped below: no worker of the last run may be in one, and what they
	 * counted goes to the totals first.
	 */
	if (tpmd_mp_remain())
		return -EBUSY;
	tpmd_mp_counters_add(done);
	mz = rte_memzone_lookup(MP_MZ_NAME);
	if (mz == NULL)
		mz = rte_memzone_reserve(MP_MZ_NAME, sizeof(struct mp_table), SOCKET_ID_ANY, 0);
	if (mz == NULL) {
		fprintf(stderr, "tidepmd: cannot reserve the worker table: %s\n",
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	mp_tab = mz->addr;
	/* A new run: earlier workers are gone, their counts in @p done (above). */
	mp_table_init(mp_tab, nb_slots);
	mp_nb_left = 0;
	__atomic_store_n(&mp_tab->magic, MP_MAGIC, __ATOMIC_RELEASE);
	if (!mp_death_cb_on && tide_mp_death_cb_register(mp_on_death, NULL) == 0)
		mp_death_cb_on = true;
	return 0;
}

unsigned int
tpmd_mp_workers(void)
{
	unsigned int n = 0;

	if (mp_tab == NULL)
		return 0;
	for (unsigned int i = 0; i < mp_tab->nb_slots; i++)
		n += __atomic_load_n(&mp_tab->slot[i].pid, __ATOMIC_RELAXED) != 0;
	return n;
}

void
tpmd_mp_counters_add(struct tpmd_counters *c)
{
	if (mp_tab == NULL)
		return;
	for (unsigned int i = 0; i < mp_tab->nb_slots; i++) {
		const struct tpmd_counters *s = &mp_tab->slot[i].cnt;

		c->rx += __atomic_load_n(&s->rx, __ATOMIC_RELAXED);
		c->tx += __atomic_load_n(&s->tx, __ATOMIC_RELAXED);
		c->drops += __atomic_load_n(&s->drops, __ATOMIC_RELAXED);
		c->nombuf += __atomic_load_n(&s->nombuf, __ATOMIC_RELAXED);
		c->freed_stop += __atomic_load_n(&s->freed_stop, __ATOMIC_RELAXED);
	}
}

/* Whether any of the @p n processes in @p pids is still there (a zombie has let go of its
 * memory). */
static bool
mp_any_alive(const pid_t *pids, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (pids[i] != 0 && !tide_process_gone((uint32_t)pids[i]))
			return true;
	return false;
}

bool
tpmd_mp_remain(void)
{
	return tpmd_mp_workers() != 0 || mp_any_alive(mp_left, mp_nb_left);
}

/*
 * While the workers leave and their processes exit, the pools do not reap: a block freed
 * while a secondary is inside its rte_eal_cleanup() meets DPDK 22.11's races (mp_stop(),
 * docs/design.md, Multi-process), where the pool library would end that worker after 2 s.
 * Each pool's period is read back before (@p period, one per pool) and set again after.
 */
static void
mp_reap_hold(struct tide_pool_per_socket *ps, unsigned int *period)
{
	struct tide_pool_stats st;

	for (unsigned int k = 0; ps != NULL && k < ps->nb_pools; k++) {
		period[k] = tide_pool_stats_get(ps->pools[k], &st) == 0 ? st.reap_period_ms : 0;
		if (period[k] != 0)
			tide_pool_reap_set(ps->pools[k], 0, TIDE_POOL_UNCHANGED);
	}
}

static void
mp_reap_resume(struct tide_pool_per_socket *ps, const unsigned int *period)
{
	for (unsigned int k = 0; ps != NULL && k < ps->nb_pools; k++)
		if (period[k] != 0)
			tide_pool_reap_set(ps->pools[k], period[k], TIDE_POOL_UNCHANGED);
}

/*
 * " 123 456": the distinct process ids among @p pids[0..n) that are not 0 and, with
 * @p alive, still there.
 */
static void
mp_pids_str(const pid_t *pids, unsigned int n, bool alive, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n && off < len; i++) {
		bool seen = false;

		for (unsigned int k = 0; k < i; k++)
			seen |= pids[k] == pids[i];
		if (pids[i] == 0 || seen || (alive && tide_process_gone((uint32_t)pids[i])))
			continue;
		off += (size_t)snprintf(buf + off, len - off, " %d", (int)pids[i]);
	}
}

/* A SIGINT or SIGTERM came since @p sigs: the user would rather end than wait. */
static bool
mp_interrupted(unsigned int sigs)
{
	return tide_app_signal_count() != sigs;
}

/*
 * The primary, at the end of a run: tell the workers to leave and wait for them, then for
 * their processes to be gone. A worker lcore that does not leave within MP_LEAVE_WAIT_NS
 * is stuck (stopped, starved): the exchange is kept for it. A process whose lcores all
 * left is exiting, and gets MP_EXIT_WAIT_NS from then. A secondary detaching its memory
 * (rte_eal_cleanup()) while the primary frees memzones deadlocks in DPDK 22.11: the
 * primary holds the memory lock and waits for the hugepage file locks the secondary holds,
 * the secondary waits for the memory lock. So the pools are freed only once the workers
 * have exited, and do not reap meanwhile (tpmd_mp_stop()). A SIGINT or SIGTERM past
 * @p sigs ends either wait at once, saying which processes it leaves: the process then
 * ends without them (the pool library ends a secondary the race leaves stuck in its exit).
 */
static int
mp_stop(unsigned int sigs, uint64_t *left_ns)
{
	uint64_t deadline = tide_app_now_ns() + MP_LEAVE_WAIT_NS;
	pid_t held[TPMD_MAX_QUEUES];
	char pids[TPMD_MAX_QUEUES * 12];
	bool said = false;
	uint64_t left;
	unsigned int n;

	__atomic_store_n(&mp_tab->stopping, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < mp_tab->nb_slots; i++) {
		pid_t pid = __atomic_load_n(&mp_tab->slot[i].pid, __ATOMIC_ACQUIRE);

		if (pid != 0 && mp_nb_left < RTE_DIM(mp_left))
			mp_left[mp_nb_left++] = pid;
	}
	while ((n = tpmd_mp_workers()) != 0 && tide_app_now_ns() < deadline &&
			!mp_interrupted(sigs))
		usleep(1000);
	if (n != 0 && mp_interrupted(sigs)) {
		for (unsigned int i = 0; i < mp_tab->nb_slots; i++)
			held[i] = __atomic_load_n(&mp_tab->slot[i].pid, __ATOMIC_ACQUIRE);
		mp_pids_str(held, mp_tab->nb_slots, false, pids, sizeof(pids));
		fprintf(stderr, "tidepmd: a signal cut short the wait for the workers: %u worker "
			"lcore(s) had not left (process(es)%s)\n", n, pids);
		return -EINTR;
	}
	if (n != 0) {
		/* One stays: the exchange is kept whatever the others do, no use waiting. */
		fprintf(stderr, "tidepmd: %u worker lcore(s) did not leave within %llu s\n", n,
			MP_LEAVE_WAIT_NS / 1000000000ull);
		return -EBUSY;
	}
	left = tide_app_now_ns();
	*left_ns = left;
	while (mp_any_alive(mp_left, mp_nb_left) && tide_app_now_ns() - left < MP_EXIT_WAIT_NS &&
			!mp_interrupted(sigs)) {
		/* A stop that seems to hang: say what it waits for, once. */
		if (!said && tide_app_now_ns() - left >= MP_LEAVE_WAIT_NS) {
			printf("tidepmd: the workers left, their processes are still exiting after "
				"%llu s: waiting for them (at most %llu s; SIGINT or SIGTERM ends "
				"the wait)\n", MP_LEAVE_WAIT_NS / 1000000000ull,
				MP_EXIT_WAIT_NS / 1000000000ull);
			fflush(stdout);
			said = true;
		}
		usleep(1000);
	}
	if (mp_any_alive(mp_left, mp_nb_left) && mp_interrupted(sigs)) {
		mp_pids_str(mp_left, mp_nb_left, true, pids, sizeof(pids));
		fprintf(stderr, "tidepmd: a signal cut short the wait for the worker processes "
			"%.1f s after their lcores left: process(es)%s still exiting\n",
			(double)(tide_app_now_ns() - left) / 1e9, pids);
		return -EINTR;
	}
	if (mp_any_alive(mp_left, mp_nb_left)) {
		fprintf(stderr, "tidepmd: a worker process is still there %llu s after its lcores "
			"left\n", MP_EXIT_WAIT_NS / 1000000000ull);
		return -EBUSY;
	}
	if (said)
		printf("tidepmd: the worker processes exited %.1f s after their lcores left\n",
			(double)(tide_app_now_ns() - left) / 1e9);
	if (tpmd_mp_remain())
		return -EBUSY;
	mp_nb_left = 0; /* gone: their pids may be given to other processes */
	return 0;
}

int
tpmd_mp_stop(struct tide_pool_per_socket *pools, unsigned int sigs, uint64_t *left_ns)
{
	unsigned int period[RTE_MAX_NUMA_NODES];
	int ret;

	if (mp_tab == NULL)
		return 0;
	mp_reap_hold(pools, period);
	ret = mp_stop(sigs, left_ns);
	mp_reap_resume(pools, period);
	return ret;
}

/* ---- the worker's side ---- */

int
tpmd_mp_attach(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup(MP_MZ_NAME);

	if (mz == NULL || __atomic_load_n(&((struct mp_table *)mz->addr)->magic,
			__ATOMIC_ACQUIRE) != MP_MAGIC) {
		fprintf(stderr, "tidepmd: no primary tidepmd to work for: start one with --mode "
			"pipeline --mp-workers N (and the same --file-prefix, without "
			"--huge-unlink)\n");
		return -ENOENT;
	}
	mp_tab = mz->addr;
	return 0;
}

/*
 * Lcore id @p l for @p self: free, its own already, or held by a process that is gone;
 * else the pid of the process that has it.
 */
static int32_t
mp_lcore_take(unsigned int l, int32_t self)
{
	int32_t owner = 0;

	while (!__atomic_compare_exchange_n(&mp_tab->lcore_pid[l], &owner, self, false,
			__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (owner == self)
			break;
		if (!tide_process_gone((uint32_t)owner))
			return owner;
		/* Dead (its death not handled yet): take it from that pid, or see who did. */
	}
	return 0;
}

int
tpmd_mp_lcores_claim(void)
{
	int32_t self = (int32_t)getpid();

	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		int32_t owner;

		if (rte_lcore_has_role(l, ROLE_OFF))
			continue;
		owner = mp_lcore_take(l, self);
		if (owner == 0)
			continue;
		mp_lcores_release(mp_tab, self);
		if ((uint32_t)owner == mp_tab->primary_pid)
			fprintf(stderr, "tidepmd: lcore %u is the primary tidepmd's (pid %d)", l,
				(int)owner);
		else
			fprintf(stderr, "tidepmd: lcore %u is worker process %d's", l, (int)owner);
		fprintf(stderr, ": two processes on one lcore id would share its mempool caches "
			"without a lock; give this worker lcore ids no other tidepmd uses (--lcores, "
			"as the primary printed)\n");
		return -EBUSY;
	}
	return 0;
}

void
tpmd_mp_lcores_release(void)
{
	mp_lcores_release(mp_tab, (int32_t)getpid());
}

int
tpmd_mp_claim(unsigned int lcore_id, struct tpmd_counters **cnt)
{
	int32_t pid = (int32_t)getpid();

	for (unsigned int i = 0; i < mp_tab->nb_slots; i++) {
		int32_t free_slot = 0;

		if (__atomic_compare_exchange_n(&mp_tab->slot[i].pid, &free_slot, pid, false,
				__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			mp_tab->slot[i].lcore_id = lcore_id;
			*cnt = &mp_tab->slot[i].cnt;
			return (int)i;
		}
	}
	return -ENOSPC;
}

void
tpmd_mp_release(int slot)
{
	if (slot >= 0)
		__atomic_store_n(&mp_tab->slot[slot].pid, 0, __ATOMIC_RELEASE);
}

bool
tpmd_mp_stopping(void)
{
	return __atomic_load_n(&mp_tab->stopping, __ATOMIC_ACQUIRE) != 0;
}

unsigned int
tpmd_mp_slots(void)
{
	return mp_tab->nb_slots;
}
