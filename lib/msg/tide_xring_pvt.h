/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_XRING_PVT_H
#define TIDE_XRING_PVT_H

/**
 * @file
 * @internal The rings under an exchange (included by tide_msg_pvt.h; not an API of its own:
 * nothing here is to be called or read by an application).
 *
 * An exchange has up to TIDE_XRING_LEVELS rings of pointers, one per priority level.
 * Unlike one rte_ring per level, every level's tail of a side lives in one cache line: a
 * sender that spreads a burst over four levels, and a receiver that looks at four levels,
 * move one control line between cores, not four. A sender fills every level's slots first
 * and publishes the tails together (tide_xring_pvt_fill(), then tide_xring_pvt_publish()),
 * so that line moves once a burst; a receiver reads all of it at once. A sender also keeps
 * what it last saw of the receivers' tails (cons_seen) and reads their line only when that
 * says a level is short of room. Whose turn it is lives on each side's own line, which
 * the other side never reads.
 *
 * Several senders (or receivers) take turns: one holds its side for a whole burst, over
 * every level, with one atomic exchange; a compare-and-swap per level and per burst (what
 * rte_ring's multi-producer mode costs) stalls on the store buffer, which a data plane's
 * stage keeps full of mbuf writes. A side declared single (TIDE_XCHG_F_SP / _SC) takes no
 * turn at all. A receiver looks at the tails before it takes its turn: polling an empty
 * exchange writes nothing. While it holds its side, it reads the slots in place.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_pause.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @internal Most levels. */
#define TIDE_XRING_LEVELS 8

/** @internal One side's tail of every level, in one cache line. */
struct tide_xring_tails {
	uint32_t tail[TIDE_XRING_LEVELS]; /**< messages put in (taken out) so far, mod 2^32 */
	uintptr_t by; /**< prod only: tide_xring_pvt_me() of the sender that published last */
} __rte_cache_aligned;

/** @internal Whose turn it is on one side: a line of that side's own (the other side reads
 *  the tails, never this). */
struct tide_xring_turn {
	uint32_t held;   /**< 0, or the tag (its id and start) of the process holding it */
	uint32_t single; /**< one sender (receiver) only: no turns */
	uint32_t takeovers; /**< turns taken over from a process that died holding them */
	uint32_t receiving; /**< the receivers' turn (set at creation) */
	/** Senders only: their last look at cons.tail, never ahead of it. */
	uint32_t cons_seen[TIDE_XRING_LEVELS];
} __rte_cache_aligned;

/** @internal The rings of an exchange. The fields are written only by the functions below.
 *  An unused line follows each control line: the L2 prefetcher of Intel CPUs fetches lines
 *  in 128-byte pairs, and would move a side's line with the other's (as rte_ring pads). */
struct tide_xring {
	struct tide_xring_tails prod; /**< senders write; receivers read */
	char pad0 __rte_cache_aligned; /**< never written: the pair's other line */
	struct tide_xring_tails cons; /**< receivers write; senders read, seldom */
	char pad1 __rte_cache_aligned; /**< never written */
	struct tide_xring_turn senders;   /**< whose turn it is to send (none: single) */
	char pad2 __rte_cache_aligned; /**< never written */
	struct tide_xring_turn receivers; /**< whose turn it is to receive (none: single) */
	char pad3 __rte_cache_aligned; /**< never written */
	void **slots __rte_cache_aligned; /**< level l's slots start at l << shift */
	uint32_t mask;     /**< slots per level - 1 */
	uint32_t shift;    /**< log2 of slots per level */
};

/** @internal Messages a level holds: one slot stays free, so as many as the mask says. */
static __rte_always_inline uint32_t
tide_xring_pvt_capacity(const struct tide_xring *r)
{
	return r->mask;
}

/** @internal Level @p l's slot of position @p pos. */
static __rte_always_inline void **
tide_xring_pvt_slot(const struct tide_xring *r, unsigned int l, uint32_t pos)
{
	return &r->slots[((size_t)l << r->shift) + (pos & r->mask)];
}

/** @internal Wait for a side's turn: spin a while, then yield the CPU between looks (the
 *  holder may be a thread the scheduler preempted); take the turn over from a process that
 *  died holding it (a secondary killed with -9: what it was sending is lost with it, what
 *  it was receiving is still there, since a side publishes only when it is done; what it
 *  had unmade of that is made again before the new holder reads it). */
void tide_xring_pvt_turn_wait(struct tide_xring_turn *t);

/** @internal This process's tag: what a turn it holds says (see tide_xring_pvt_turn_wait). */
extern uint32_t tide_xring_pvt_self;

/** @internal A single receiver of another process than the last one's: what the last one's
 *  receive left unmade, if it was cut short, is made again first (as after
 *  tide_xring_pvt_turn_wait() takes a turn over); the turn's word then names this process. */
void tide_xring_pvt_single_receiver(struct tide_xring_turn *t);

/** @internal Take a side's turn. A single side takes none; a single receiver keeps its
 *  process's tag in the turn's word, so that the next process to receive first makes
 *  again what a receive of the last one, cut short, left unmade (a sender's word stays 0). */
static __rte_always_inline void
tide_xring_pvt_turn_take(struct tide_xring_turn *t)
{
	uint32_t free_turn = 0;

	if (t->single) {
		if (t->receiving && unlikely(t->held != tide_xring_pvt_self))
			tide_xring_pvt_single_receiver(t);
		return;
	}
	if (unlikely(!__atomic_compare_exchange_n(&t->held, &free_turn, tide_xring_pvt_self,
			false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
		tide_xring_pvt_turn_wait(t);
}

/** @internal Give a side's turn back. */
static __rte_always_inline void
tide_xring_pvt_turn_give(struct tide_xring_turn *t)
{
	if (!t->single)
		__atomic_store_n(&t->held, 0, __ATOMIC_RELEASE);
}

/** @internal Whether level @p l, filled up to @p tail, may be short of room for @p n: by
 *  what the senders last saw of the receivers' tails (0..capacity: no put goes past
 *  cons_seen + capacity, and cons_seen only follows cons.tail forward, mod 2^32). */
static __rte_always_inline bool
tide_xring_pvt_short(const struct tide_xring *r, unsigned int l, uint32_t tail, uint32_t n)
{
	return tide_xring_pvt_capacity(r) + r->senders.cons_seen[l] - tail < n;
}

/** @internal How many of @p n fit on level @p l from @p tail on, from a fresh look at the
 *  receivers' tail (kept in cons_seen). */
static __rte_always_inline uint32_t
tide_xring_pvt_renew(struct tide_xring *r, unsigned int l, uint32_t tail, uint32_t n)
{
	uint32_t seen = __atomic_load_n(&r->cons.tail[l], __ATOMIC_ACQUIRE);

	r->senders.cons_seen[l] = seen;
	return RTE_MIN(tide_xring_pvt_capacity(r) + seen - tail, n);
}

/** @internal Copy @p k pointers into level @p l's slots from position @p tail on. */
static __rte_always_inline void
tide_xring_pvt_copy_in(struct tide_xring *r, unsigned int l, uint32_t tail, void *const *obj,
	uint32_t k)
{
	void **slot = tide_xring_pvt_slot(r, l, tail);
	uint32_t first = RTE_MIN(k, r->mask + 1 - (tail & r->mask)), i;

	/* Up to the level's end, then on from its start: two plain loops, scalar (a
	 * vectorised copy's checks and tail cost more than they save on the few messages a
	 * level gets from a priority burst).
	 */
	for (i = 0; i < first; i++) {
		__asm__ volatile("" : : "r"(obj[i]));
		slot[i] = obj[i];
	}
	if (unlikely(k > first)) {
		slot = tide_xring_pvt_slot(r, l, 0);
		for (; i < k; i++)
			slot[i - first] = obj[i];
	}
}

/**
 * @internal Write up to @p n pointers into level @p l's free slots from @p tail (the
 * level's prod.tail) on, in order, without publishing them (the caller holds the senders'
 * turn); returns how many fit (fewer when the level is short of room). Receivers see them
 * once tide_xring_pvt_publish() moves the tail past them.
 */
static __rte_always_inline unsigned int
tide_xring_pvt_fill(struct tide_xring *r, unsigned int l, uint32_t tail, void *const *obj,
	unsigned int n)
{
	uint32_t k = n;

	if (tide_xring_pvt_short(r, l, tail, n))
		k = tide_xring_pvt_renew(r, l, tail, n);
	tide_xring_pvt_copy_in(r, l, tail, obj, k);
	return k;
}

/** @internal The calling thread's mark: its thread pointer (one load). Threads of two
 *  processes may share one (without ASLR, a primary's and a secondary's lcore threads may
 *  well): a wrong guess from it costs speed only. */
static __rte_always_inline uintptr_t
tide_xring_pvt_me(void)
{
	return (uintptr_t)__builtin_thread_pointer();
}

/** @internal Level @p l's messages up to @p tail are there for receivers (the caller holds
 *  the senders' turn and filled them). The sender marks the line it writes anyway. */
static __rte_always_inline void
tide_xring_pvt_publish(struct tide_xring *r, unsigned int l, uint32_t tail)
{
	__atomic_store_n(&r->prod.by, tide_xring_pvt_me(), __ATOMIC_RELAXED);
	__atomic_store_n(&r->prod.tail[l], tail, __ATOMIC_RELEASE);
}

/** @internal Whether the messages waiting were most likely sent by the calling thread
 *  (a pipeline's stages run in turn on one lcore): their lines are then in its own cache. */
static __rte_always_inline bool
tide_xring_pvt_sent_here(const struct tide_xring *r)
{
	return __atomic_load_n(&r->prod.by, __ATOMIC_RELAXED) == tide_xring_pvt_me();
}

/**
 * @internal After level @p l was published up to @p tail: ask for the slot lines the next
 * send to it will write, for writing, as many as this one wrote (@p n slots; none when it
 * wrote none). Receivers last read them a lap ago and may still hold them; fetched now,
 * they are here when the next send's stores come. A line that holds slots before @p tail
 * is left alone: receivers are about to read them.
 */
static __rte_always_inline void
tide_xring_pvt_prefetch_next(const struct tide_xring *r, unsigned int l, uint32_t tail,
	uint32_t n)
{
	const uint32_t per_line = RTE_CACHE_LINE_SIZE / sizeof(void *);

	/* rte_prefetch0_write() is experimental in DPDK 22.11, and applications build with
	 * this header: the builtin it wraps, for writing, to every cache level.
	 */
	for (uint32_t pos = RTE_ALIGN_CEIL(tail, per_line); pos - tail < n; pos += per_line)
		__builtin_prefetch(tide_xring_pvt_slot(r, l, pos), 1, 3);
}

/**
 * @internal Put up to @p n pointers on level @p l, in order (the caller holds the senders'
 * turn); returns how many went (fewer when the level is short of room). Receivers see them
 * at once.
 */
static __rte_always_inline unsigned int
tide_xring_pvt_put(struct tide_xring *r, unsigned int l, void *const *obj, unsigned int n)
{
	uint32_t tail = r->prod.tail[l], k = n;

	if (tide_xring_pvt_short(r, l, tail, n)) {
		k = tide_xring_pvt_renew(r, l, tail, n);
		if (k == 0)
			return 0; /* full: the line the receivers poll stays clean */
	}
	tide_xring_pvt_copy_in(r, l, tail, obj, k);
	tide_xring_pvt_publish(r, l, tail + k);
	return k;
}

/**
 * @internal Whether each of the first @p levels levels has room for @p k more by what the
 * senders last saw of the receivers' tails; when one looks short, every level's look is
 * renewed from one read of the receivers' line, then judged again (the caller holds the
 * senders' turn).
 */
static __rte_always_inline bool
tide_xring_pvt_fits(struct tide_xring *r, unsigned int levels, uint32_t k)
{
	for (bool renewed = false;; renewed = true) {
		unsigned int l = 0;

		while (l < levels && !tide_xring_pvt_short(r, l, r->prod.tail[l], k))
			l++;
		if (l == levels)
			return true;
		if (renewed)
			return false;
		for (l = 0; l < levels; l++)
			r->senders.cons_seen[l] = __atomic_load_n(&r->cons.tail[l],
				__ATOMIC_ACQUIRE);
	}
}

/** @internal Messages waiting on level @p l, as a receiver sees them. */
static __rte_always_inline uint32_t
tide_xring_pvt_ready(const struct tide_xring *r, unsigned int l)
{
	return __atomic_load_n(&r->prod.tail[l], __ATOMIC_ACQUIRE) -
		__atomic_load_n(&r->cons.tail[l], __ATOMIC_RELAXED);
}

/** @internal Position of level @p l's oldest message (the caller holds the receivers'
 *  turn; the tide_xring_pvt_ready() messages from it on are its to read in place). */
static __rte_always_inline uint32_t
tide_xring_pvt_first(const struct tide_xring *r, unsigned int l)
{
	return r->cons.tail[l];
}

/** @internal The @p k oldest messages of level @p l are read: senders may reuse their
 *  slots (the caller holds the receivers' turn). */
static __rte_always_inline void
tide_xring_pvt_taken(struct tide_xring *r, unsigned int l, uint32_t k)
{
	__atomic_store_n(&r->cons.tail[l], r->cons.tail[l] + k, __ATOMIC_RELEASE);
}

/** @internal Messages waiting on level @p l (a snapshot from any thread). */
static inline unsigned int
tide_xring_pvt_count(const struct tide_xring *r, unsigned int l)
{
	uint32_t tail = __atomic_load_n(&r->cons.tail[l], __ATOMIC_ACQUIRE);
	uint32_t n = __atomic_load_n(&r->prod.tail[l], __ATOMIC_ACQUIRE) - tail;

	return RTE_MIN(n, tide_xring_pvt_capacity(r));
}

#ifdef __cplusplus
}
#endif

#endif /* TIDE_XRING_PVT_H */
