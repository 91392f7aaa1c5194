/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_RWLOCK_H
#define TIDE_RWLOCK_H

/*
 * A reader-writer lock in shared memory that survives the death of a reader or a writer
 * (internal, not installed). rte_rwlock_t keeps one count of readers: a process killed
 * while it reads leaves its part of the count behind, and the next writer waits for ever.
 * Here readers count in per-process slots (a process id, its start time and pid namespace,
 * a count shared by its threads), so that a waiting writer can tell whose reads are
 * outstanding, and take back those of a process that is gone (tide_process_gone_since():
 * no such process, a zombie, or its id reused by a later process), with a WARNING through
 * the caller's log type. A live process is waited for however long it takes, stopped
 * (SIGSTOP) or not; so is a process of another pid namespace (a container sharing the
 * hugepages), whose id names another process here or none: its death cannot be recovered
 * (a WARNING once).
 *
 * The slots alone (struct tide_share) also count pins: a pool's free waits for its pins
 * with tide_share_wait().
 *
 * Readers: a slot is found from the process id (its first probe in the common case) and
 * one atomic add; a process claims a slot on its first read (under a process-local mutex,
 * so that its threads share one). A slot's owner word holds the process id and a
 * generation bumped at each claim; start time and namespace are published before it, and
 * a waiter frees a dead process's slot by swapping the very word it judged, so that a slot
 * freed and claimed again meanwhile (even by the same id, reused) is left alone. Between
 * its two atomic steps, a claim or a free leaves a mark naming its process in the owner
 * word. A free's mark whose process is gone (killed in those few instructions) is taken
 * over by a waiter of the same pid namespace, which finishes the free; a claim's mark is
 * never taken over (its count is 0: a claimer that dies there costs a slot, not a hold).
 * When every slot is taken, dead processes' slots are freed; if none is, the reader counts
 * in an overflow counter, which a writer waits for but cannot take back (logged once): the
 * reader still gets in. So does a process that cannot read its own start time or pid
 * namespace (logged once): a slot without them could not be told from a later process's.
 * A read lock taken again by a thread that holds it does not wait for a waiting writer (no
 * self-deadlock), for up to TIDE_RWLOCK_NEST locks held at once per thread.
 *
 * Writers: one at a time. The writer's word names its process ({process id, start time}
 * in 64 bits, swapped as a whole, so that neither a reused id nor an ABA takes a live
 * writer's word); its pid namespace is published next to it, with its process id, just
 * after the word is taken (until then the writer counts as alive: one that dies in those
 * few instructions is not recovered), and let go of before the word. The word is taken
 * over (by a writer) or cleared (by a reader), with a WARNING, when that process is gone.
 * A writer announces itself, then waits for every slot to drop to 0; it lets go of its own
 * word only (another's is left alone, logged at ERR).
 * Writers are rare (creating and freeing), readers are short (lookups): readers give way
 * to a waiting writer. Slow paths (claiming, waiting, checking liveness) read /proc. A
 * waiter yields, then past TIDE_RWLOCK_SPIN looks sleeps between them (from 1 us, doubling
 * up to 1 ms), so that waiting for a stopped process costs no CPU.
 *
 * A child of fork() is another process: it must not give back (read_unlock, put,
 * write_unlock) a hold its parent took; those stay counted as the parent's. It takes its own.
 *
 * Everything is static in this header: the claim mutex and the table of read locks a thread
 * holds are per translation unit, so each lock (and each tide_share) is taken and given back
 * from one .c file (pool_dir.c, msg_shared.c, zctx_dir.c).
 */

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_log.h>
#include <rte_pause.h>

#include "tide_process.h"

/** Processes that can read at once and be recovered from (more count in the overflow). */
#define TIDE_RWLOCK_SLOTS 64
/** Looks of a waiter between two checks of whether the ones it waits for are alive. */
#define TIDE_RWLOCK_CHECK 256
/** Yields of a waiter before it sleeps between its looks instead (a stopped holder). */
#define TIDE_RWLOCK_SPIN 1024
/** A waiter's longest sleep between two looks, in ns (its sleeps double from 1 us). */
#define TIDE_RWLOCK_SLEEP_MAX 1000000
/** Read locks one thread can hold at once and still take again while a writer waits. */
#define TIDE_RWLOCK_NEST 4
/** A slot's process id while process p frees it: TIDE_SHARE_MARK | takeovers <<
 *  TIDE_PROCESS_PID_BITS | p (a mark; takeovers counts, mod 256, the waiters that took this
 *  free over, so that no mark comes back to a value a waiter saw before); while p claims
 *  it: TIDE_SHARE_MARK | TIDE_SHARE_CLAIMING | p. */
#define TIDE_SHARE_MARK (1u << 31)
#define TIDE_SHARE_CLAIMING (1u << 30)
#define TIDE_SHARE_MARK_NEXT(mark) \
	(((((mark) >> TIDE_PROCESS_PID_BITS) + 1) & 0xffu) << TIDE_PROCESS_PID_BITS)

/** A slot owner word's process id; its generation is above (TIDE_SHARE_OWNER_GEN). */
#define TIDE_SHARE_OWNER_PID(owner) ((uint32_t)(owner))
#define TIDE_SHARE_OWNER_GEN(owner) ((uint32_t)((owner) >> 32))
#define TIDE_SHARE_OWNER(pid, gen) ((uint64_t)(pid) | (uint64_t)(gen) << 32)

struct tide_share_slot {
	/*
	 * The process counting here, and the slot's generation (bumped at each claim):
	 * TIDE_SHARE_OWNER(pid, gen); pid 0: a free slot. Start and ns are published before
	 * it, and a waiter frees the slot by swapping the whole word it saw: a slot freed and
	 * claimed again meanwhile (maybe by the same id, reused) has another generation.
	 */
	uint64_t owner;
	uint64_t start; /* its start time (tide_process_start()); 0: not known yet */
	uint32_t ns;    /* its pid namespace (tide_process_ns()); 0: not known yet */
	uint32_t count; /* its threads' holds */
};

/** Holds (reads, pins) counted per process. All zeroes is a valid, empty one. */
struct tide_share {
	uint32_t overflow;   /* holds of processes that found no slot: not recoverable */
	uint32_t waiting;    /* waiters in tide_share_wait() */
	uint64_t checks;     /* liveness checks of holders (and of a lock's writer) by waiters */
	uint64_t recovered;  /* slots with holds taken back from dead processes */
	struct tide_share_slot slot[TIDE_RWLOCK_SLOTS];
};

/** The lock. All zeroes is a valid, unlocked one. */
struct tide_rwlock {
	uint64_t writer;            /* the process writing or waiting to (pid | start <<
	                             * TIDE_PROCESS_PID_BITS); 0: none */
	uint64_t writer_ns;         /* the writer's pid namespace and process id (ns << 32 |
	                             * pid), published after its word; ns 0: not known */
	uint32_t writer_recovered;  /* the writer's word taken over from a dead process */
	struct tide_share readers;
};

/* This process: its id, start time and pid namespace, looked up once. */
struct tide_rwlock_self {
	uint32_t pid;
	uint32_t ns;
	uint64_t start;
};

static struct tide_rwlock_self tide_rwlock_me __rte_unused;
static pthread_mutex_t tide_rwlock_claim_mu __rte_unused = PTHREAD_MUTEX_INITIALIZER;
static __thread struct {
	const void *lock;
	unsigned int depth;
} tide_rwlock_held[TIDE_RWLOCK_NEST] __rte_unused;
/* How this thread's write lock logs (write_lock() to write_unlock()). */
static __thread struct {
	int logtype;
	const char *what;
} tide_rwlock_writing __rte_unused;

#ifdef TIDE_FAULT_INJECTION
/* Tests: what happens to a slot between a waiter's liveness check and its swap. */
static void (*tide_share_reclaim_hook)(struct tide_share_slot *slot) __rte_unused;
#endif

static void tide_rwlock_forked(void);

static __rte_unused void
tide_rwlock_atfork(void)
{
	pthread_atfork(NULL, NULL, tide_rwlock_forked);
}

/*
 * A child of fork() is another process: it looks itself up again, and holds nothing. Its
 * claim mutex is made anew: another thread of the parent may have held it at the fork,
 * and that thread does not exist in the child.
 */
static __rte_unused void
tide_rwlock_forked(void)
{
	pthread_mutex_init(&tide_rwlock_claim_mu, NULL);
	__atomic_store_n(&tide_rwlock_me.pid, 0, __ATOMIC_RELEASE);
	memset(tide_rwlock_held, 0, sizeof(tide_rwlock_held));
}

static __rte_noinline __rte_unused void
tide_rwlock_self_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	uint32_t pid = (uint32_t)getpid();

	pthread_once(&once, tide_rwlock_atfork);
	__atomic_store_n(&tide_rwlock_me.start, tide_process_start(pid), __ATOMIC_RELAXED);
	__atomic_store_n(&tide_rwlock_me.ns, tide_process_ns(), __ATOMIC_RELAXED);
	__atomic_store_n(&tide_rwlock_me.pid, pid, __ATOMIC_RELEASE);
}

static inline uint32_t
tide_rwlock_self(void)
{
	uint32_t pid = __atomic_load_n(&tide_rwlock_me.pid, __ATOMIC_ACQUIRE);

	if (unlikely(pid == 0)) {
		tide_rwlock_self_init();
		pid = tide_rwlock_me.pid;
	}
	return pid;
}

/* Whether @pid, started at @start in pid namespace @ns, is this process (looked up). */
static inline bool
tide_rwlock_is_me(uint32_t pid, uint64_t start, uint32_t ns)
{
	return pid == tide_rwlock_self() && start == tide_rwlock_me.start &&
		ns == tide_rwlock_me.ns;
}

/* Whether a process of pid namespace @ns cannot be told alive or gone from here: one of
 * another namespace (its id names another process here, or none), or of one not known. */
static inline bool
tide_rwlock_foreign(uint32_t ns)
{
	return ns == 0 || ns != tide_rwlock_me.ns;
}

/*
 * This process's slot in @s, or NULL. A slot of the same process id but another start time
 * is a dead process's whose id was reused, one of another pid namespace another process's:
 * not ours (a dead one's holds are to be taken back, and ours must not be taken with them).
 */
static inline struct tide_share_slot *
tide_share_find(struct tide_share *s, uint32_t me)
{
	for (unsigned int i = 0, h = me % TIDE_RWLOCK_SLOTS; i < TIDE_RWLOCK_SLOTS; i++) {
		struct tide_share_slot *slot = &s->slot[(h + i) % TIDE_RWLOCK_SLOTS];

		if (tide_rwlock_is_me(TIDE_SHARE_OWNER_PID(__atomic_load_n(&slot->owner,
				__ATOMIC_ACQUIRE)), __atomic_load_n(&slot->start, __ATOMIC_RELAXED),
				__atomic_load_n(&slot->ns, __ATOMIC_RELAXED)))
			return slot;
	}
	return NULL;
}

/*
 * Whether the holder @pid that started at @start in pid namespace @ns is gone. One of
 * another pid namespace than this process's (a container sharing the hugepages) is alive:
 * its id names another process here, or none, so its death cannot be told (a WARNING once
 * through @logtype, @what naming the lock). @ns 0 (not known yet): alive.
 */
static __rte_noinline __rte_unused bool
tide_rwlock_gone(uint32_t pid, uint64_t start, uint32_t ns, int logtype, const char *what)
{
	static bool warned;

	if (tide_rwlock_foreign(ns)) {
		if (ns != 0 && !__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
			rte_log(RTE_LOG_WARNING, logtype, "%s: process %u of another pid namespace "
				"holds it: its death could not be recovered\n", what, pid);
		return false;
	}
	return tide_process_gone_since(pid, start);
}

/*
 * Free slot @i of @s if its process is gone; its holds are taken back (logged through
 * @logtype, @what naming the lock). Whoever swaps the owner word it saw frees it.
 */
static __rte_noinline __rte_unused void
tide_share_reclaim(struct tide_share *s, unsigned int i, int logtype, const char *what)
{
	struct tide_share_slot *slot = &s->slot[i];
	uint64_t owner = __atomic_load_n(&slot->owner, __ATOMIC_ACQUIRE);
	uint64_t start = __atomic_load_n(&slot->start, __ATOMIC_RELAXED);
	uint32_t ns = __atomic_load_n(&slot->ns, __ATOMIC_RELAXED), n;
	uint32_t pid = TIDE_SHARE_OWNER_PID(owner), gen = TIDE_SHARE_OWNER_GEN(owner);
	uint32_t me = tide_rwlock_self();
	uint64_t mark = TIDE_SHARE_OWNER(TIDE_SHARE_MARK | me |
		((pid & TIDE_SHARE_MARK) ? TIDE_SHARE_MARK_NEXT(pid) : 0), gen);

	if (pid == 0 || tide_rwlock_is_me(pid, start, ns))
		return;
	__atomic_fetch_add(&s->checks, 1, __ATOMIC_RELAXED);
	/*
	 * A mark: its process frees the slot (or claims it) between two atomic operations.
	 * A claim's is never taken over: its count is 0 (the claimer counts only once the
	 * slot is its own), so one that died there costs a slot, not a hold. A free's is,
	 * when its process is gone: that process judged the holder gone, so it is of the
	 * slot's namespace (tide_rwlock_gone()); taken over from the same namespace only,
	 * where a process seen gone by its id is gone (a live one answers kill()), so the
	 * free it left half done is finished, never a live process's. A dead one whose id
	 * was reused before anyone looked is taken for alive: its count stays (logged by no
	 * one; the window is the few instructions between the mark and the count's swap).
	 */
	if (pid & TIDE_SHARE_MARK) {
		if ((pid & TIDE_SHARE_CLAIMING) || ns != tide_rwlock_me.ns ||
				tide_process_pid_of(pid) == me ||
				!tide_process_gone(tide_process_pid_of(pid)))
			return;
	} else if (!tide_rwlock_gone(pid, start, ns, logtype, what)) {
		return;
	}
#ifdef TIDE_FAULT_INJECTION
	if (tide_share_reclaim_hook != NULL)
		tide_share_reclaim_hook(slot);
#endif
	if (!__atomic_compare_exchange_n(&slot->owner, &owner, mark, false, __ATOMIC_ACQUIRE,
			__ATOMIC_RELAXED))
		return;
	/* Start and ns stay: the next claim writes them before its owner word. */
	n = __atomic_exchange_n(&slot->count, 0, __ATOMIC_ACQ_REL);
	__atomic_compare_exchange_n(&slot->owner, &mark, TIDE_SHARE_OWNER(0, gen), false,
		__ATOMIC_RELEASE, __ATOMIC_RELAXED);
	if (n == 0)
		return;
	__atomic_fetch_add(&s->recovered, 1, __ATOMIC_RELAXED);
	if (pid & TIDE_SHARE_MARK)
		rte_log(RTE_LOG_WARNING, logtype, "%s: process %u died taking back a dead "
			"process's holds (%u): taken back by process %u\n", what,
			tide_process_pid_of(pid), n, me);
	else
		rte_log(RTE_LOG_WARNING, logtype, "%s: process %u died holding it (%u "
			"hold(s)): taken back by process %u\n", what, pid, n, me);
}

/*
 * Take @slot for this process (@me) if it is free: marked as being claimed, start time and
 * pid namespace, then the owner word with the next generation.
 */
static inline bool
tide_share_take(struct tide_share_slot *slot, uint32_t me)
{
	uint64_t owner = __atomic_load_n(&slot->owner, __ATOMIC_RELAXED);
	uint32_t gen = TIDE_SHARE_OWNER_GEN(owner) + 1;

	uint64_t mark = TIDE_SHARE_OWNER(TIDE_SHARE_MARK | TIDE_SHARE_CLAIMING | me, gen);

	if (TIDE_SHARE_OWNER_PID(owner) != 0 || !__atomic_compare_exchange_n(&slot->owner,
			&owner, mark, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return false;
	/* The slot is this process's alone until its owner word says so: no one takes a
	 * claim's mark over. */
	__atomic_store_n(&slot->start, tide_rwlock_me.start, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->ns, tide_rwlock_me.ns, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->owner, TIDE_SHARE_OWNER(me, gen), __ATOMIC_RELEASE);
	return true;
}

/* Claim a slot of @s for this process (none yet); NULL when all are taken by live ones. */
static __rte_noinline __rte_unused struct tide_share_slot *
tide_share_claim(struct tide_share *s, uint32_t me, int logtype, const char *what)
{
	static bool unknown_warned;
	struct tide_share_slot *slot;

	if (unlikely(tide_rwlock_me.start == 0 || tide_rwlock_me.ns == 0)) {
		/* Its slot could not tell it from a later process of its id: no slot. */
		if (!__atomic_exchange_n(&unknown_warned, true, __ATOMIC_RELAXED))
			rte_log(RTE_LOG_WARNING, logtype, "%s: process %u cannot read its start "
				"time or pid namespace (/proc): it holds without a slot (its "
				"death would not be recovered)\n", what, me);
		return NULL;
	}
	pthread_mutex_lock(&tide_rwlock_claim_mu);
	slot = tide_share_find(s, me); /* another thread of ours claimed one meanwhile */
	for (unsigned int round = 0; slot == NULL && round < 2; round++) {
		for (unsigned int i = 0, h = me % TIDE_RWLOCK_SLOTS; i < TIDE_RWLOCK_SLOTS; i++) {
			slot = &s->slot[(h + i) % TIDE_RWLOCK_SLOTS];
			if (tide_share_take(slot, me))
				break;
			slot = NULL;
		}
		for (unsigned int i = 0; slot == NULL && round == 0 && i < TIDE_RWLOCK_SLOTS; i++)
			tide_share_reclaim(s, i, logtype, what); /* full: free the dead ones' */
	}
	pthread_mutex_unlock(&tide_rwlock_claim_mu);
	if (slot == NULL && __atomic_load_n(&s->overflow, __ATOMIC_RELAXED) == 0)
		rte_log(RTE_LOG_WARNING, logtype, "%s: all %u reader slots taken: process %u "
			"reads without one (its death would not be recovered)\n", what,
			TIDE_RWLOCK_SLOTS, me);
	return slot;
}

/*
 * Count a hold of this process in @s; gives the counter to pass to tide_share_put().
 * @logtype and @what name the lock in the log lines of the slow paths.
 */
static inline uint32_t *
tide_share_get(struct tide_share *s, int logtype, const char *what)
{
	uint32_t me = tide_rwlock_self();
	struct tide_share_slot *slot = tide_share_find(s, me);
	uint32_t *count;

	if (unlikely(slot == NULL))
		slot = tide_share_claim(s, me, logtype, what);
	count = slot != NULL ? &slot->count : &s->overflow;
	__atomic_fetch_add(count, 1, __ATOMIC_SEQ_CST);
	return count;
}

/*
 * Give back a hold counted in @count (what tide_share_get() gave). Sequentially consistent,
 * as the add and a waiter's reads are (the same locked instruction on x86).
 */
static inline void
tide_share_put(uint32_t *count)
{
	__atomic_fetch_sub(count, 1, __ATOMIC_SEQ_CST);
}

/* Whether a hold is counted in @s (taken back from the dead processes every @check call). */
static inline bool
tide_share_busy(struct tide_share *s, bool check, int logtype, const char *what)
{
	bool busy = __atomic_load_n(&s->overflow, __ATOMIC_SEQ_CST) != 0;

	for (unsigned int i = 0; i < TIDE_RWLOCK_SLOTS; i++) {
		if (__atomic_load_n(&s->slot[i].count, __ATOMIC_SEQ_CST) == 0)
			continue;
		if (check)
			tide_share_reclaim(s, i, logtype, what);
		if (__atomic_load_n(&s->slot[i].count, __ATOMIC_ACQUIRE) != 0)
			busy = true;
	}
	return busy;
}

/*
 * A waiter's pause after its @n th look: a yield, and past TIDE_RWLOCK_SPIN looks a sleep
 * of *@sleep ns, doubled each time up to TIDE_RWLOCK_SLEEP_MAX (a holder stopped, or slow,
 * is not spun for).
 */
static inline void
tide_rwlock_pause(unsigned int n, long *sleep)
{
	struct timespec ts = { .tv_sec = 0 };

	if (n < TIDE_RWLOCK_SPIN) {
		sched_yield();
		return;
	}
	ts.tv_nsec = *sleep;
	nanosleep(&ts, NULL);
	*sleep = RTE_MIN(*sleep * 2, (long)TIDE_RWLOCK_SLEEP_MAX);
}

/*
 * Wait until no hold is counted in @s (no new one may come: the caller stops them). The
 * holds of processes that are gone are taken back, with a WARNING through @logtype.
 */
static __rte_noinline __rte_unused void
tide_share_wait(struct tide_share *s, int logtype, const char *what)
{
	if (!tide_share_busy(s, false, logtype, what))
		return;
	long sleep = 1000;

	__atomic_fetch_add(&s->waiting, 1, __ATOMIC_RELAXED);
	for (unsigned int yields = 1; tide_share_busy(s, yields % TIDE_RWLOCK_CHECK == 0,
			logtype, what); yields++)
		tide_rwlock_pause(yields, &sleep);
	__atomic_fetch_sub(&s->waiting, 1, __ATOMIC_RELAXED);
}

/* This thread's entry for read lock @l (@add: made if missing), or -1. */
static inline int
tide_rwlock_nest(const struct tide_rwlock *l, bool add)
{
	for (int i = 0; i < TIDE_RWLOCK_NEST; i++)
		if (tide_rwlock_held[i].lock == l)
			return i;
	for (int i = 0; add && i < TIDE_RWLOCK_NEST; i++)
		if (tide_rwlock_held[i].lock == NULL) {
			tide_rwlock_held[i].lock = l;
			return i;
		}
	return -1;
}

/* This process's word as a writer: its id and start time (one process, ids are reused). */
static inline uint64_t
tide_rwlock_writer_self(void)
{
	uint64_t pid = tide_rwlock_self();

	return pid | tide_rwlock_me.start << TIDE_PROCESS_PID_BITS;
}

/*
 * Take the writer's word @w of @l over for @to if its process is gone (0: for no one, a
 * reader lets the next writer in), with a WARNING through @logtype. Its pid namespace is
 * published after its word, with its process id: until then (the namespace published is
 * of another id, a previous writer's), or if the word changed, it is not gone.
 */
static __rte_noinline __rte_unused bool
tide_rwlock_writer_take(struct tide_rwlock *l, uint64_t w, uint64_t to, int logtype,
	const char *what)
{
	uint64_t pid_ns = __atomic_load_n(&l->writer_ns, __ATOMIC_ACQUIRE);
	uint32_t pid = tide_process_pid_of(w);
	uint32_t ns = (uint32_t)pid_ns == pid ? (uint32_t)(pid_ns >> 32) : 0;

	__atomic_fetch_add(&l->readers.checks, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&l->writer, __ATOMIC_ACQUIRE) != w ||
			!tide_rwlock_gone(pid, w >> TIDE_PROCESS_PID_BITS, ns, logtype, what))
		return false;
	/*
	 * The dead writer's namespace goes before its word, as in tide_rwlock_write_unlock():
	 * once the word is let go, a new writer of its id in another namespace would be
	 * judged by it. Cleared only if still the one judged; if the word then cannot be
	 * taken, the namespace reads unknown, which counts as alive.
	 */
	__atomic_compare_exchange_n(&l->writer_ns, &pid_ns, 0, false, __ATOMIC_RELEASE,
		__ATOMIC_RELAXED);
	if (!__atomic_compare_exchange_n(&l->writer, &w, to, false, __ATOMIC_SEQ_CST,
			__ATOMIC_RELAXED))
		return false;
	__atomic_fetch_add(&l->writer_recovered, 1, __ATOMIC_RELAXED);
	rte_log(RTE_LOG_WARNING, logtype, "%s: process %u died writing: taken over by "
		"process %u\n", what, pid, tide_rwlock_self());
	return true;
}

/* A reader waits for the writer of @l to be done (or gone: the primary died writing). */
static __rte_noinline __rte_unused void
tide_rwlock_writer_wait(struct tide_rwlock *l, int logtype, const char *what)
{
	long sleep = 1000;

	for (unsigned int yields = 1;; yields++) {
		uint64_t w = __atomic_load_n(&l->writer, __ATOMIC_ACQUIRE);

		if (w == 0 || (yields % TIDE_RWLOCK_CHECK == 0 &&
				tide_rwlock_writer_take(l, w, 0, logtype, what)))
			return;
		tide_rwlock_pause(yields, &sleep);
	}
}

/* Read-lock @l; gives what tide_rwlock_read_unlock() takes. */
static inline uint32_t *
tide_rwlock_read_lock(struct tide_rwlock *l, int logtype, const char *what)
{
	int nest = tide_rwlock_nest(l, true);
	uint32_t *count;

	for (;;) {
		count = tide_share_get(&l->readers, logtype, what);
		/* Held by this thread already: no writer is in, and one waiting waits for us. */
		if ((nest >= 0 && tide_rwlock_held[nest].depth > 0) ||
				__atomic_load_n(&l->writer, __ATOMIC_SEQ_CST) == 0)
			break;
		tide_share_put(count);
		tide_rwlock_writer_wait(l, logtype, what);
	}
	if (nest >= 0)
		tide_rwlock_held[nest].depth++;
	return count;
}

static inline void
tide_rwlock_read_unlock(struct tide_rwlock *l, uint32_t *count)
{
	int nest = tide_rwlock_nest(l, false);

	if (nest >= 0 && --tide_rwlock_held[nest].depth == 0)
		tide_rwlock_held[nest].lock = NULL;
	tide_share_put(count);
}

/* Write-lock @l: one writer at a time, then wait for the readers (dead ones taken back). */
static inline void
tide_rwlock_write_lock(struct tide_rwlock *l, int logtype, const char *what)
{
	uint64_t me = tide_rwlock_writer_self();
	long sleep = 1000;

	for (unsigned int yields = 1;; yields++) {
		uint64_t w = 0;

		if (__atomic_compare_exchange_n(&l->writer, &w, me, false, __ATOMIC_SEQ_CST,
				__ATOMIC_RELAXED))
			break;
		if (yields % TIDE_RWLOCK_CHECK == 0 && w != me &&
				tide_rwlock_writer_take(l, w, me, logtype, what))
			break;
		tide_rwlock_pause(yields, &sleep);
	}
	__atomic_store_n(&l->writer_ns, (uint64_t)tide_rwlock_me.ns << 32 | tide_rwlock_me.pid,
		__ATOMIC_RELEASE);
	tide_rwlock_writing.logtype = logtype;
	tide_rwlock_writing.what = what;
	tide_share_wait(&l->readers, logtype, what);
}

/* Let go of the write lock of @l that this thread holds (not ours: logged, left alone). */
static inline void
tide_rwlock_write_unlock(struct tide_rwlock *l)
{
	uint64_t me = tide_rwlock_writer_self(), w = me;

	/* Its namespace goes first (the next writer may have its id in another namespace). */
	if (__atomic_load_n(&l->writer, __ATOMIC_RELAXED) == me)
		__atomic_store_n(&l->writer_ns, 0, __ATOMIC_RELEASE);
	if (!__atomic_compare_exchange_n(&l->writer, &w, 0, false, __ATOMIC_SEQ_CST,
			__ATOMIC_RELAXED))
		rte_log(RTE_LOG_ERR, tide_rwlock_writing.logtype, "%s: process %u lets go of a "
			"write lock that is not its own (writer %u): left alone\n",
			tide_rwlock_writing.what != NULL ? tide_rwlock_writing.what : "tide_rwlock",
			tide_rwlock_me.pid, tide_process_pid_of(w));
}

/* Observers (tests, diagnostics). Holds counted in @s now, dead processes' included. */
static inline uint32_t
tide_share_holds(const struct tide_share *s)
{
	uint32_t n = __atomic_load_n(&s->overflow, __ATOMIC_ACQUIRE);

	for (unsigned int i = 0; i < TIDE_RWLOCK_SLOTS; i++)
		n += __atomic_load_n(&s->slot[i].count, __ATOMIC_ACQUIRE);
	return n;
}

/* Read holds of @l now. */
static inline uint32_t
tide_rwlock_readers(const struct tide_rwlock *l)
{
	return tide_share_holds(&l->readers);
}

/* Whether a writer of @l waits for its readers (it has announced itself, they are there). */
static inline bool
tide_rwlock_writer_waits(const struct tide_rwlock *l)
{
	return __atomic_load_n(&l->writer, __ATOMIC_ACQUIRE) != 0 &&
		__atomic_load_n(&l->readers.waiting, __ATOMIC_ACQUIRE) != 0;
}

#endif /* TIDE_RWLOCK_H */
