/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_MSG_PVT_H
#define TIDE_MSG_PVT_H

/**
 * @file
 * @internal What the inline fast path of tide_msg.h needs: the header's place in the mbuf,
 * the exchange's layout, and the helpers behind send and receive. Included by tide_msg.h
 * (after its types); not an API: an application neither calls nor reads anything here.
 * Names here carry "_pvt_"; those that are symbols of libtide_msg.so are in its version
 * map's INTERNAL node.
 */

#ifndef TIDE_MSG_H
#error "include tide_msg.h, not tide_msg_pvt.h"
#endif

#include "tide_xring_pvt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @internal Offset of the header in every mbuf (a dynfield), -1 before tide_msg_init(). */
extern int tide_msg_pvt_hdr_offset;

/** @internal The bytes of the header tide_msg_make() writes, in one 8-byte store. */
#define TIDE_MSG_PVT_MADE_LEN offsetof(struct tide_msg_hdr, nb_proxies)

/** @internal The header of any mbuf. */
static __rte_always_inline struct tide_msg_hdr *
tide_msg_pvt_hdr(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, tide_msg_pvt_hdr_offset, struct tide_msg_hdr *);
}

/** @internal The check word of @p m while it is a made message. */
static __rte_always_inline uint32_t
tide_msg_pvt_check_of(const struct rte_mbuf *m)
{
	return TIDE_MSG_CHECK ^ (uint32_t)(uintptr_t)m;
}

/** @internal Drop one reference to a real message; the last returns it to its pool. */
static inline void
tide_msg_pvt_put_real(struct rte_mbuf *m)
{
	if (likely(rte_mbuf_refcnt_read(m) == 1) || rte_mbuf_refcnt_update(m, -1) == 0) {
		tide_msg_pvt_hdr(m)->check = 0;
		rte_mbuf_refcnt_set(m, 1);
		rte_pktmbuf_free(m);
	}
}

/* ---- sleepers ---- */

/** @internal Processes whose threads a count of sleepers tells apart (threads of more
 *  processes sleep in slices, unannounced). */
#define TIDE_SLEEPERS_PVT_SLOTS 16

/** @internal One process's share of a count of sleepers, given back if it dies asleep. */
struct tide_sleepers_slot {
	uint32_t tag; /**< the process's tag (tide_process.h), 0: free */
	uint32_t n;   /**< its threads counted in the total */
};

/**
 * @internal Threads asleep on a futex word that their waker wakes only when some are (an
 * exchange's blocked receivers, a broadcast exchange's waiting senders), counted by process
 * so that a process's share goes when it dies asleep (msg_sleepers.c). All zeroes: none.
 */
struct tide_sleepers {
	uint32_t n; /**< threads announced, what the waker reads: the shares' sum */
	struct tide_sleepers_slot by[TIDE_SLEEPERS_PVT_SLOTS]; /**< the shares, by process */
};

/* ---- exchanges ---- */

/** @internal Per-lcore counters of an exchange (slot RTE_MAX_LCORE: non-EAL threads). */
struct tide_xchg_lcore_stats {
	uint64_t sent[TIDE_XCHG_MAX_PRIO];     /**< messages sent, per level */
	uint64_t received[TIDE_XCHG_MAX_PRIO]; /**< messages received, per level */
	uint64_t refused; /**< messages offered to a send and not sent (a level was full) */
} __rte_cache_aligned;

/**
 * @internal An exchange. The fields serve the inline fast path and the library; an
 * application only holds the pointer.
 */
struct tide_xchg {
	struct tide_xring ring; /**< one ring per level; level 0 is the lowest */
	uint8_t nb_prio;   /**< levels: 1 for a FIFO exchange */
	uint8_t type;      /**< enum tide_xchg_type */
	uint32_t seq;      /**< bumped by senders that find sleepers (futex word) */
	/** Receivers blocked in tide_xchg_recv_wait(); a send reads sleepers.n, on the line
	 *  of type and nb_prio. */
	struct tide_sleepers sleepers;
	int socket_id;     /**< the socket its memory is on (set at creation; telemetry) */
	char name[RTE_RING_NAMESIZE]; /**< as created, for lookups and telemetry */
	/** Counters: one line per lcore, written by that lcore only (non-EAL: atomically). */
	struct tide_xchg_lcore_stats stats[RTE_MAX_LCORE + 1];
} __rte_cache_aligned;

/** @internal The calling thread's counters. Read where a send or receive is inlined, in the
 *  application, and handed down: there the lcore id is one load off the thread pointer,
 *  in a shared library a __tls_get_addr() call. */
static __rte_always_inline struct tide_xchg_lcore_stats *
tide_xchg_pvt_stats(struct tide_xchg *x)
{
	unsigned int lc = rte_lcore_id();

	return &x->stats[lc < RTE_MAX_LCORE ? lc : RTE_MAX_LCORE];
}

/** @internal Wake receivers blocked on the exchange (a syscall, only when there are). */
void tide_xchg_pvt_wake(struct tide_xchg *x);

/** @internal Most messages one enqueue of tide_xchg_pvt_send_level() takes. */
#define TIDE_XCHG_PVT_SEND_CHUNK 64

/**
 * @internal Put up to n (<= TIDE_XCHG_PVT_SEND_CHUNK) messages of one priority level into
 * its slots (the caller holds the senders' turn): published at once, or, with @p publish
 * false, from @p tail (its prod.tail) on and left for tide_xring_pvt_publish(). Once
 * published a message belongs to whoever receives it, so it is marked in transit before;
 * those that do not fit get their owner back. Returns how many went.
 */
static __rte_always_inline unsigned int
tide_xchg_pvt_put_chunk(struct tide_xchg *x, struct rte_mbuf **m, unsigned int n, uint8_t lvl,
	bool publish, uint32_t tail)
{
	uint16_t owner[TIDE_XCHG_PVT_SEND_CHUNK];
	unsigned int sent;

	for (unsigned int i = 0; i < n; i++) {
		owner[i] = tide_msg_pvt_hdr(m[i])->owner;
		tide_msg_pvt_hdr(m[i])->owner = TIDE_STAGE_NONE;
	}
	sent = publish ? tide_xring_pvt_put(&x->ring, lvl, (void * const *)m, n) :
		tide_xring_pvt_fill(&x->ring, lvl, tail, (void * const *)m, n);
	for (unsigned int i = sent; i < n; i++)
		tide_msg_pvt_hdr(m[i])->owner = owner[i];
	return sent;
}

/**
 * @internal Send up to n (<= TIDE_XCHG_PVT_SEND_CHUNK) messages of one priority level (the
 * caller holds the senders' turn); returns how many went.
 */
static inline unsigned int
tide_xchg_pvt_send_chunk(struct tide_xchg *x, struct rte_mbuf **m, unsigned int n, uint8_t lvl)
{
	return tide_xchg_pvt_put_chunk(x, m, n, lvl, true, 0);
}

/** @internal Count n messages offered to level lvl, sent of which went. */
static inline void
tide_xchg_pvt_count_sent(struct tide_xchg *x, struct tide_xchg_lcore_stats *st, uint8_t lvl,
	unsigned int n, unsigned int sent)
{
	/* Counters of the non-EAL slot are shared: count them atomically. */
	if (unlikely(st == &x->stats[RTE_MAX_LCORE])) {
		__atomic_fetch_add(&st->sent[lvl], sent, __ATOMIC_RELAXED);
		__atomic_fetch_add(&st->refused, n - sent, __ATOMIC_RELAXED);
	} else {
		st->sent[lvl] += sent;
		st->refused += n - sent;
	}
}

/**
 * @internal Send n messages of one priority level (the caller holds the senders' turn);
 * returns how many went.
 */
static inline unsigned int
tide_xchg_pvt_send_level(struct tide_xchg *x, struct tide_xchg_lcore_stats *st,
	struct rte_mbuf **m, unsigned int n, uint8_t lvl)
{
	unsigned int sent = 0, k;

	do {
		k = RTE_MIN(n - sent, (unsigned int)TIDE_XCHG_PVT_SEND_CHUNK);
		k = tide_xchg_pvt_send_chunk(x, &m[sent], k, lvl);
		sent += k;
	} while (sent < n && k == TIDE_XCHG_PVT_SEND_CHUNK);
	tide_xchg_pvt_count_sent(x, st, lvl, n, sent);
	return sent;
}

/** @internal Whether this process's sends must fence (membarrier(2) refused). */
extern uint8_t tide_msg_pvt_send_fence;

/**
 * @internal Wake blocked receivers if there are any and something was sent. A receiver
 * announces itself (sleepers) and then looks at the rings; a sender publishes and then
 * looks at sleepers. Neither look may pass its side's store (x86 lets a load pass an
 * earlier store), or both miss the other and the receiver sleeps with a message waiting.
 * The receiver, about to sleep, makes every sender pass a full barrier (membarrier(2),
 * msg_fence.c); a sender only keeps the compiler from moving its look, or fences itself
 * where the kernel refused the registration.
 */
static inline void
tide_xchg_pvt_sent(struct tide_xchg *x, unsigned int sent)
{
	if (sent == 0)
		return;
	if (unlikely(tide_msg_pvt_send_fence))
		rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	else
		rte_compiler_barrier();
	if (unlikely(__atomic_load_n(&x->sleepers.n, __ATOMIC_RELAXED) != 0))
		tide_xchg_pvt_wake(x);
}

/**
 * @internal A priority exchange's send: one enqueue per level (see tide_xchg_send_burst());
 * the caller holds the senders' turn and passes its counters @p st.
 */
unsigned int tide_xchg_pvt_send_prio(struct tide_xchg *x, struct tide_xchg_lcore_stats *st,
	struct rte_mbuf **m, unsigned int n);

/** @internal Count k messages received from level lvl. */
static inline void
tide_xchg_pvt_count_received(struct tide_xchg *x, struct tide_xchg_lcore_stats *st, uint8_t lvl,
	unsigned int k)
{
	if (unlikely(st == &x->stats[RTE_MAX_LCORE]))
		__atomic_fetch_add(&st->received[lvl], k, __ATOMIC_RELAXED);
	else
		st->received[lvl] += k;
}

/** @internal What tide_xchg_pvt_take() does to each message it takes. */
static __rte_always_inline void
tide_xchg_pvt_took(struct rte_mbuf *m, bool unmake, uint16_t stage)
{
	if (unmake)
		tide_msg_pvt_hdr(m)->check = 0;
	else
		tide_msg_pvt_hdr(m)->owner = stage;
}

/** @internal How many messages ahead tide_xchg_pvt_take_far() asks for a header's line. */
#define TIDE_XCHG_PVT_TAKE_AHEAD 8

/** @internal Message @p i of a take whose first @p first are at @p slot, the rest at @p wrap
 *  (the level's start). */
static __rte_always_inline struct rte_mbuf *
tide_xchg_pvt_at(void **slot, void **wrap, unsigned int first, unsigned int i)
{
	return (struct rte_mbuf *)(i < first ? slot[i] : wrap[i - first]);
}

/**
 * @internal tide_xchg_pvt_take_level() for a receiver that is behind (more messages wait
 * than it takes) and did not send them: the headers' lines are in the sending core's
 * cache, each unmake (or hand-over to a stage) is a store to one, and stores that miss
 * drain one after another. Each header's line is asked for, for writing,
 * TIDE_XCHG_PVT_TAKE_AHEAD messages ahead of its store, so that their transfers overlap.
 * Not for a receiver that keeps up: taking faster only makes it poll the senders' tails
 * more often, each poll pulling their line from the sending core (docs/design.md). Nor on
 * the lcore that sent them: their lines are in its own cache.
 */
static __rte_noinline unsigned int
tide_xchg_pvt_take_far(struct tide_xchg *x, struct tide_xchg_lcore_stats *st, uint8_t lvl,
	struct rte_mbuf **m, unsigned int got, void **slot, unsigned int first, bool unmake,
	uint16_t stage)
{
	void **wrap = tide_xring_pvt_slot(&x->ring, lvl, 0);
	const unsigned int ahead = TIDE_XCHG_PVT_TAKE_AHEAD;
	unsigned int i;

	/* Prefetches for writing: the builtin that rte_prefetch0_write() (experimental in
	 * DPDK 22.11) wraps.
	 */
	for (i = 0; i < RTE_MIN(got, ahead); i++)
		__builtin_prefetch(tide_msg_pvt_hdr(tide_xchg_pvt_at(slot, wrap, first, i)), 1, 3);
	for (i = 0; i < got; i++) {
		if (i + ahead < got)
			__builtin_prefetch(tide_msg_pvt_hdr(tide_xchg_pvt_at(slot, wrap, first,
				i + ahead)), 1, 3);
		m[i] = tide_xchg_pvt_at(slot, wrap, first, i);
		tide_xchg_pvt_took(m[i], unmake, stage);
	}
	tide_xring_pvt_taken(&x->ring, lvl, got);
	tide_xchg_pvt_count_received(x, st, lvl, got);
	return got;
}

/**
 * @internal Take up to n of the @p ready messages of one level (what the caller last read of
 * it) and count them (the caller holds the receivers' turn); each is unmade, or given to
 * @p stage, in the same pass that reads it from its slot, in place. @p behind: more
 * messages wait than the caller takes (see tide_xchg_pvt_take_far()).
 */
static __rte_always_inline unsigned int
tide_xchg_pvt_take_level(struct tide_xchg *x, struct tide_xchg_lcore_stats *st, uint8_t lvl,
	uint32_t ready, struct rte_mbuf **m, unsigned int n, bool unmake, uint16_t stage,
	bool behind)
{
	unsigned int got = RTE_MIN(ready, n), i, first;
	uint32_t head = tide_xring_pvt_first(&x->ring, lvl);
	void **slot;

	if (got == 0)
		return 0;
	slot = tide_xring_pvt_slot(&x->ring, lvl, head);
	first = RTE_MIN(got, x->ring.mask + 1 - (head & x->ring.mask));
	if (behind && !tide_xring_pvt_sent_here(&x->ring))
		return tide_xchg_pvt_take_far(x, st, lvl, m, got, slot, first, unmake, stage);
	/* Unrolled: the loop's own increment and compare are a good part of a receive. */
#pragma GCC unroll 4
	for (i = 0; i < first; i++) {
		m[i] = slot[i];
		tide_xchg_pvt_took(m[i], unmake, stage);
	}
	if (got > first) {
		/* The rest wrapped to the start of the level. (Two plain loops: one loop over
		 * the two parts costs more per message.)
		 */
		slot = tide_xring_pvt_slot(&x->ring, lvl, 0);
		for (; i < got; i++) {
			m[i] = slot[i - first];
			tide_xchg_pvt_took(m[i], unmake, stage);
		}
	}
	tide_xring_pvt_taken(&x->ring, lvl, got);
	tide_xchg_pvt_count_received(x, st, lvl, got);
	return got;
}

/** @internal tide_xchg_pvt_take() on a priority exchange (takes the receivers' turn itself),
 *  counted in the caller's counters @p st. */
unsigned int tide_xchg_pvt_take_prio(struct tide_xchg *x, struct tide_xchg_lcore_stats *st,
	struct rte_mbuf **m, unsigned int n, bool unmake, uint16_t stage);

/**
 * @internal Dequeue up to n messages, the highest level first, count them, and unmake each
 * or give it to @p stage.
 */
static __rte_always_inline unsigned int
tide_xchg_pvt_take(struct tide_xchg *x, struct rte_mbuf **m, unsigned int n, bool unmake,
	uint16_t stage)
{
	unsigned int got;
	uint32_t ready;

	if (unlikely(x->nb_prio != 1))
		return tide_xchg_pvt_take_prio(x, tide_xchg_pvt_stats(x), m, n, unmake, stage);
	if (tide_xring_pvt_ready(&x->ring, 0) == 0 || n == 0)
		return 0; /* an empty poll writes nothing */
	tide_xring_pvt_turn_take(&x->ring.receivers);
	/* Again: others may have taken some while this one waited for the turn. */
	ready = tide_xring_pvt_ready(&x->ring, 0);
	got = tide_xchg_pvt_take_level(x, tide_xchg_pvt_stats(x), 0, ready, m, n, unmake, stage,
		ready > n);
	tide_xring_pvt_turn_give(&x->ring.receivers);
	return got;
}

#ifdef __cplusplus
}
#endif

#endif /* TIDE_MSG_PVT_H */
