/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The control thread: one per process, running while at least one elastic pool exists,
 * and in the primary while a callback waits for the death of secondaries (the message
 * library's: a primary whose exchanges carry stock pools' mbufs has no elastic pool, and
 * would otherwise hear of a dead secondary only when another attaches). Every tick it asks
 * each pool's growth policy what to do and does it, so that growth (hugepage faults,
 * populating, initialising mbufs) happens here and not on the RX path; every reap period
 * it runs the reaper; it serves the requests waiting at the wall; and it looks for dead
 * secondaries (pool_mp_serve()).
 */

#include <errno.h>
#include <stdbool.h>

#include <rte_lcore.h>

#include "pool_private.h"
#include "tide_mempool.h"
#include "tide_mempool_hooks.h"

/* Longest sleep between two passes, so stopping is quick. */
#define CTL_MAX_SLEEP_NS (10ull * 1000 * 1000)

static pthread_t ctl_thread;  /* under the registry lock */
static __thread bool ctl_here; /* this thread is the control thread */
static pthread_t unstick_thread; /* the primary's (pool_unstick.c), under the registry lock */
static bool unstick_running;  /* under the registry lock */
static bool ctl_running;      /* under the registry lock */
static bool ctl_halted;       /* rte_eal_cleanup() began: no thread again (registry lock) */
static unsigned int ctl_watchers; /* death callbacks registered (pool_ctl_watch()), under
				   * the registry lock */
static uint64_t ctl_gen;      /* a thread runs while this equals the value it started with */

static void
pool_tick_grow(struct tide_pool *tp, uint64_t now)
{
	struct tide_mempool_stats ms;
	struct tide_grow_input in;
	uint32_t blocks;
	uint64_t t0;
	int added;

	if (tide_mempool_stats_get(tp->mp, &ms) != 0)
		return;
	in = (struct tide_grow_input){
		.now_ns = now,
		.nb_free = ms.nb_free,
		.nb_objs = ms.nb_objs,
		.room_blocks = pool_wall_room(tp),
		.mem_gen = pool_mem_gen(),
		/* A request larger than the target would otherwise wait for frees. */
		.demand = pool_waiters_demand(tp),
	};
	blocks = tide_grow_decide(&tp->grow_pol, &tp->grow_st, &in);
	__atomic_store_n(&tp->target_free, RTE_MAX(in.demand,
		tide_grow_target(&tp->grow_pol, &tp->grow_st)), __ATOMIC_RELAXED);
	if (blocks == 0)
		return;
	t0 = pool_now_ns();
	added = pool_grow_locked(tp, blocks, POOL_GROW_AHEAD);
	if (added > 0)
		tide_grow_record(&tp->grow_st, (uint32_t)added, pool_now_ns() - t0);
}

void
pool_tick(struct tide_pool *tp, uint64_t now)
{
	if (tp->adopted && !tp->started) {
		/* Its stock creation may still be initialising the objects. */
		if (!tide_mempool_in_use_started(tp->mp))
			return;
		tp->started = true;
	}
	/* A synchronous growth in progress already does the work: skip growing and reaping
	 * this tick.
	 */
	if (pthread_mutex_trylock(&tp->grow_lock) == 0) {
		int reaped = 0;

		pool_tick_grow(tp, now);
		if (tp->reap_ns != 0 && now >= tp->next_reap_ns) {
			reaped = pool_reap_locked(tp, now);
			tp->next_reap_ns = now + tp->reap_ns;
		}
		pthread_mutex_unlock(&tp->grow_lock);
		/* Now, rather than when a growth needs it (pool_memsync.c). */
		if (reaped > 0)
			pool_memsync();
	}
	pool_waiters_serve(tp, now);
	__atomic_fetch_add(&tp->ticks, 1, __ATOMIC_RELEASE);
}

/* Wakes the control thread before its next tick (a secondary waits for growth). */
static pthread_mutex_t ctl_wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ctl_wake_cond;
static pthread_cond_t unstick_cond; /* the unstick thread's sleep, cut short by ctl_end() */
static bool ctl_woken;

bool
pool_ctl_is_self(void)
{
	return ctl_here;
}

void
pool_ctl_wake(void)
{
	pthread_mutex_lock(&ctl_wake_lock);
	ctl_woken = true;
	pthread_cond_signal(&ctl_wake_cond);
	pthread_mutex_unlock(&ctl_wake_lock);
}

static int
ctl_wake_cond_init(void)
{
	static bool done;
	pthread_condattr_t attr;
	int ret;

	if (done)
		return 0;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	ret = pthread_cond_init(&ctl_wake_cond, &attr);
	if (ret == 0) {
		ret = pthread_cond_init(&unstick_cond, &attr);
		if (ret != 0)
			pthread_cond_destroy(&ctl_wake_cond);
	}
	pthread_condattr_destroy(&attr);
	done = ret == 0;
	return ret;
}

/* The CLOCK_MONOTONIC time @p ns from now. */
static struct timespec
ctl_deadline(uint64_t ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns += (uint64_t)ts.tv_nsec;
	ts.tv_sec += (time_t)(ns / 1000000000ull);
	ts.tv_nsec = (long)(ns % 1000000000ull);
	return ts;
}

/* Sleep until @ns of real time pass or someone wakes the thread. */
static void
ctl_sleep(uint64_t ns)
{
	struct timespec ts = ctl_deadline(ns);

	pthread_mutex_lock(&ctl_wake_lock);
	while (!ctl_woken &&
			pthread_cond_timedwait(&ctl_wake_cond, &ctl_wake_lock, &ts) == 0)
		;
	ctl_woken = false;
	pthread_mutex_unlock(&ctl_wake_lock);
}

/* The unstick thread's sleep: @p ns, or until the threads of generation @p gen are told to
 * stop (a stop then waits for no period to end).
 */
static void
unstick_sleep(uint64_t ns, uint64_t gen)
{
	struct timespec ts = ctl_deadline(ns);

	pthread_mutex_lock(&ctl_wake_lock);
	while (__atomic_load_n(&ctl_gen, __ATOMIC_ACQUIRE) == gen &&
			pthread_cond_timedwait(&unstick_cond, &ctl_wake_lock, &ts) == 0)
		;
	pthread_mutex_unlock(&ctl_wake_lock);
}

/*
 * Release @p prev (NULL: none) and hold the next pool due at @p now after it (from the first
 * if @p prev left the registry meanwhile: those ticked already are not due); NULL when none
 * is left. The registry lock is held only here, never across a tick: a tick grows (hugepage
 * faults, a block source), reaps and runs waiters' callbacks, and the API's lookups, waiters'
 * callbacks included, take the registry lock.
 */
static struct tide_pool *
ctl_next_due(struct tide_pool *prev, uint64_t now)
{
	struct tide_pool *tp;

	pool_registry_lock();
	tp = prev != NULL && prev->listed ? pool_next_locked(prev) : pool_first_locked();
	if (prev != NULL)
		pool_release_locked(prev);
	while (tp != NULL && now < tp->next_tick_ns)
		tp = pool_next_locked(tp);
	if (tp != NULL)
		pool_hold_locked(tp);
	pool_registry_unlock();
	return tp;
}

static uint64_t
ctl_pass(void)
{
	uint64_t now = pool_now_ns(), next = now + CTL_MAX_SLEEP_NS;
	struct tide_pool *tp = NULL;

	pool_mp_serve();
	while ((tp = ctl_next_due(tp, now)) != NULL) {
		pool_tick(tp, now);
		tp->next_tick_ns = now + tp->tick_ns;
	}
	pool_registry_lock();
	for (tp = pool_first_locked(); tp != NULL; tp = pool_next_locked(tp))
		next = RTE_MIN(next, tp->next_tick_ns);
	pool_registry_unlock();
	return next;
}

static void *
ctl_main(void *arg)
{
	uint64_t gen = (uint64_t)(uintptr_t)arg;

	ctl_here = true;
	while (__atomic_load_n(&ctl_gen, __ATOMIC_ACQUIRE) == gen) {
		uint64_t next = ctl_pass(), now = pool_now_ns();

		if (next > now)
			ctl_sleep(RTE_MIN(next - now, CTL_MAX_SLEEP_NS));
	}
	return NULL;
}

/* The primary's watch for a secondary stuck in DPDK's cleanup (pool_unstick.c): not on
 * the control thread, which is the one such a secondary blocks.
 */
static void *
unstick_main(void *arg)
{
	uint64_t gen = (uint64_t)(uintptr_t)arg;
	struct pool_unstick u = { 0 };

	while (__atomic_load_n(&ctl_gen, __ATOMIC_ACQUIRE) == gen) {
		pool_unstick_pass(&u);
		unstick_sleep(pool_unstick_period_ms() * 1000000ull, gen);
	}
	return NULL;
}

/* Called with the registry lock held. */
int
pool_ctl_start(void)
{
	uint64_t gen;
	int ret;

	if (ctl_running)
		return 0;
	if (ctl_halted)
		return ESHUTDOWN;
	if (ctl_wake_cond_init() != 0)
		return ENOMEM;
	if (TIDE_FAULT(TIDE_FAULT_CTL_THREAD))
		return EAGAIN;
	gen = __atomic_add_fetch(&ctl_gen, 1, __ATOMIC_ACQ_REL);
	ret = rte_ctrl_thread_create(&ctl_thread, "tide-ctl", NULL, ctl_main,
		(void *)(uintptr_t)gen);
	if (ret != 0)
		return ret > 0 ? ret : -ret;
	ctl_running = true;
	/* Done in rte_eal_init() already, unless this library came after it (dlopen). Without
	 * it the pools work; secondaries may keep pages the primary freed (logged).
	 */
	pool_memsync_init();
	/* Without it the pools work; only the deadlock it breaks would stay. */
	unstick_running = rte_eal_process_type() == RTE_PROC_PRIMARY &&
		rte_ctrl_thread_create(&unstick_thread, "tide-unstick", NULL, unstick_main,
			(void *)(uintptr_t)gen) == 0;
	return 0;
}

/* Stop the threads (registry lock held on entry, released) and wait for them. */
static void
ctl_end(void)
{
	pthread_t t, u;
	bool unstick;

	ctl_running = false;
	t = ctl_thread;
	u = unstick_thread;
	unstick = unstick_running;
	unstick_running = false;
	__atomic_add_fetch(&ctl_gen, 1, __ATOMIC_ACQ_REL);
	pool_registry_unlock();
	pool_ctl_wake();
	pthread_mutex_lock(&ctl_wake_lock);
	pthread_cond_broadcast(&unstick_cond);
	pthread_mutex_unlock(&ctl_wake_lock);
	/* The control thread itself (a waiter's callback that frees the last pool with
	 * rte_mempool_free(), which cannot be refused as tide_pool_free() is, say) cannot
	 * wait for its own end: it ends once the callback returns, and nobody joins it.
	 */
	if (ctl_here)
		pthread_detach(t);
	else
		pthread_join(t, NULL);
	if (unstick)
		pthread_join(u, NULL);
}

/* Stop the threads if nothing needs them any more. Called with the registry lock, which
 * it releases.
 */
static void
ctl_stop_unused(void)
{
	if (!ctl_running || pool_first_locked() != NULL || ctl_watchers > 0) {
		pool_registry_unlock();
		return;
	}
	ctl_end();
}

/* Called without the registry lock, once the last pool left the registry. */
void
pool_ctl_stop(void)
{
	pool_registry_lock();
	ctl_stop_unused();
}

int
pool_ctl_watch(bool on)
{
	int ret = 0;

	pool_registry_lock();
	if (on) {
		ret = pool_ctl_start();
		/* The first: the thread may run without a pool, through rte_eal_cleanup(). */
		if (ret == 0 && ctl_watchers++ == 0)
			pool_compat_watch_eal_cleanup();
		pool_registry_unlock();
		return ret;
	}
	if (ctl_watchers > 0)
		ctl_watchers--;
	ctl_stop_unused();
	return 0;
}

/*
 * From rte_eal_cleanup(), before it unmaps the memory the pools are in (pool_compat.c): the
 * control thread must not touch them again. The pools stay as they are, with the process.
 */
void
pool_ctl_halt(void)
{
	unsigned int left = 0;

	pool_registry_lock();
	ctl_halted = true;
	if (!ctl_running) {
		pool_registry_unlock();
		return;
	}
	for (struct tide_pool *tp = pool_first_locked(); tp != NULL; tp = pool_next_locked(tp))
		left++;
	/* Without pools it ran for the death callbacks alone: nothing was left undone. */
	if (left > 0)
		POOL_LOG(NOTICE, "rte_eal_cleanup() with %u elastic pool(s) not freed: their "
			"control thread stops", left);
	ctl_end();
}
