/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Exchanges: a ring per priority level (tide_xring_pvt.h: every level's control words in one
 * line a side), a registry by name, and the blocking receive. A receive reads the slots
 * in place and writes each message's header in the same pass. A blocked receiver
 * announces itself (sleepers), re-checks the rings, then sleeps on a futex word that
 * senders bump only when someone sleeps: the send path makes no syscall unless a receiver
 * is actually waiting.
 */

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#ifdef RTE_ARCH_X86
#include <rte_vect.h>
#endif

#include "msg_private.h"
#include "tide_fault.h"

static const char *
xchg_name_of(const void *p)
{
	return ((const struct tide_xchg *)p)->name;
}

/* Exchanges are in DPDK memory and in the shared directory: any process finds them. */
static void **
xchg_dir(void)
{
	return (void **)tide_msg_pvt_shared()->xchg;
}

/* The layout the fast path relies on. */
static void
xchg_layout_check(void)
{
	RTE_BUILD_BUG_ON(TIDE_XCHG_MAX_PRIO != TIDE_XRING_LEVELS);
	RTE_BUILD_BUG_ON(TIDE_XCHG_MAX_PRIO > UINT8_MAX); /* nb_prio and levels are uint8_t */
	RTE_BUILD_BUG_ON(TIDE_XCHG_PVT_SEND_CHUNK > UINT8_MAX); /* send_prio's positions */
	RTE_BUILD_BUG_ON(offsetof(struct tide_xchg, ring) != 0);
	RTE_BUILD_BUG_ON(sizeof(struct tide_xchg_lcore_stats) % RTE_CACHE_LINE_SIZE != 0);
	RTE_BUILD_BUG_ON(offsetof(struct tide_xchg, stats) % RTE_CACHE_LINE_SIZE != 0);
	/* What senders and receivers write (the ring's lines, the counters) is apart from
	 * what tide_xchg_recv_wait() and tide_xchg_pvt_sent() share (sleepers, seq).
	 */
	RTE_BUILD_BUG_ON(offsetof(struct tide_xchg, sleepers) <
		offsetof(struct tide_xchg, ring.slots));
	/* A send reads type (nb_prio) and sleepers.n: one line. */
	RTE_BUILD_BUG_ON(offsetof(struct tide_xchg, sleepers.n) / RTE_CACHE_LINE_SIZE !=
		offsetof(struct tide_xchg, type) / RTE_CACHE_LINE_SIZE);
	RTE_BUILD_BUG_ON(offsetof(struct tide_xchg, nb_prio) / RTE_CACHE_LINE_SIZE !=
		offsetof(struct tide_xchg, type) / RTE_CACHE_LINE_SIZE);
}

static int
xchg_params_check(const struct tide_xchg_params *p)
{
	xchg_layout_check();
	if (!tide_msg_pvt_state.ready) {
		MSG_LOG(ERR, "call tide_msg_init() first");
		return EINVAL;
	}
	if (p == NULL || p->name == NULL || p->name[0] == '\0' || p->size == 0 ||
			(p->type != TIDE_XCHG_FIFO && p->type != TIDE_XCHG_PRIO) ||
			(p->type == TIDE_XCHG_PRIO &&
			(p->nb_prio < 2 || p->nb_prio > TIDE_XCHG_MAX_PRIO)) ||
			(p->flags & ~(TIDE_XCHG_F_SP | TIDE_XCHG_F_SC)) != 0) {
		MSG_LOG(ERR, "bad exchange parameters (NULL, no name, size 0, unknown type or "
			"flags, or not 2..%d priority levels)", TIDE_XCHG_MAX_PRIO);
		return EINVAL;
	}
	if (strnlen(p->name, RTE_RING_NAMESIZE) > RTE_RING_NAMESIZE - 5) {
		MSG_LOG(ERR, "exchange name longer than %d chars", (int)RTE_RING_NAMESIZE - 5);
		return ENAMETOOLONG;
	}
	if (!tide_socket_known(p->socket_id)) {
		MSG_LOG(ERR, "%s: unknown socket %d", p->name, p->socket_id);
		return EINVAL;
	}
	return 0;
}

/* The socket @p x's memory is on: with SOCKET_ID_ANY, where rte_malloc put it. */
static int
xchg_socket_of(const struct tide_xchg *x, int asked)
{
	const struct rte_memseg *ms = rte_mem_virt2memseg(x, NULL);

	return ms != NULL ? ms->socket_id : asked;
}

static void
xchg_destroy(struct tide_xchg *x)
{
	struct rte_mbuf *m[64];
	unsigned int n;

	while (x->ring.slots != NULL && (n = tide_xchg_pvt_take(x, m, RTE_DIM(m), false,
			TIDE_STAGE_NONE)) > 0)
		for (unsigned int i = 0; i < n; i++) {
			if (tide_msg_is_proxy(m[i]))
				tide_msg_proxy_release(m[i]);
			else
				tide_msg_release(m[i]);
		}
	tide_xring_pvt_fini(&x->ring);
	rte_free(x);
}

struct tide_xchg *
tide_xchg_create(const struct tide_xchg_params *p)
{
	struct tide_xchg *x = NULL;
	int err;

	err = xchg_params_check(p);
	if (err != 0)
		goto fail;
	if (tide_msg_pvt_dir_find(xchg_dir(), xchg_name_of, p->name) != NULL) {
		MSG_LOG(ERR, "%s: an exchange of that name exists", p->name);
		err = EEXIST;
		goto fail;
	}
	if (!TIDE_FAULT(TIDE_FAULT_MALLOC))
		x = rte_zmalloc_socket("tide_xchg", sizeof(*x), RTE_CACHE_LINE_SIZE,
			p->socket_id);
	err = ENOMEM;
	if (x == NULL)
		goto fail_log;
	strlcpy(x->name, p->name, sizeof(x->name));
	x->socket_id = xchg_socket_of(x, p->socket_id);
	x->type = (uint8_t)p->type;
	x->nb_prio = p->type == TIDE_XCHG_FIFO ? 1 : (uint8_t)p->nb_prio;
	err = -tide_xring_pvt_init(&x->ring, p->size, x->nb_prio, p->flags & TIDE_XCHG_F_SP,
		p->flags & TIDE_XCHG_F_SC, p->socket_id);
	if (err == 0)
		err = -tide_msg_pvt_dir_add(xchg_dir(), xchg_name_of, x);
	if (err != 0)
		goto fail_log;
	return x;

fail_log:
	MSG_LOG(ERR, "%s: cannot create the exchange: %s", p->name, rte_strerror(err));
	if (x != NULL)
		xchg_destroy(x);
fail:
	rte_errno = err;
	return NULL;
}

void
tide_xchg_free(struct tide_xchg *x)
{
	if (x == NULL)
		return;
	/* Only what the directory lists is freed, by the one call that takes it out: a
	 * second free, or a pointer to something else, would read its rings' address from
	 * memory that is no exchange's (maybe another object's by now) and free that.
	 */
	if (!tide_msg_pvt_state.ready || !tide_msg_pvt_dir_remove(xchg_dir(), x)) {
		MSG_REFUSE(ERR, EINVAL, "%p is not a live exchange (freed already?), or "
			"tide_msg_init() not called: left alone", (void *)x);
		return;
	}
	xchg_destroy(x);
}

struct tide_xchg *
tide_xchg_lookup(const char *name)
{
	struct tide_xchg *x;

	if (name == NULL || !tide_msg_pvt_state.ready) {
		MSG_REFUSE(ERR, EINVAL, "%s", name == NULL ? "NULL name" :
			"call tide_msg_init() first");
		return NULL;
	}
	x = tide_msg_pvt_dir_find(xchg_dir(), xchg_name_of, name);
	if (x == NULL)
		MSG_REFUSE(DEBUG, ENOENT, "no exchange %s", name);
	return x;
}

int
tide_msg_pvt_xchg_read(const char *name, msg_read_cb_t *fn, void *arg)
{
	if (!tide_msg_pvt_state.ready)
		return -ENOENT;
	return tide_msg_pvt_dir_read(xchg_dir(), xchg_name_of, name, fn, arg);
}

void
tide_msg_pvt_xchg_foreach(msg_name_cb_t *cb, void *arg)
{
	if (tide_msg_pvt_state.ready)
		tide_msg_pvt_dir_foreach(xchg_dir(), xchg_name_of, cb, arg);
}

unsigned int
tide_xchg_count(const struct tide_xchg *x)
{
	unsigned int n = 0;

	if (x == NULL)
		return 0;
	for (unsigned int l = 0; l < x->nb_prio; l++)
		n += tide_xring_pvt_count(&x->ring, l);
	return n;
}

/* The stages of a process gone, for xchg_repair(). */
struct xchg_gone {
	const uint16_t *stages;
	unsigned int n;
};

static bool
xchg_gone_has(const struct xchg_gone *g, uint16_t stage)
{
	for (unsigned int i = 0; i < g->n; i++)
		if (g->stages[i] == stage)
			return true;
	return false;
}

/* Every message in @p x's levels now (between each level's receivers' and senders' tails):
 * @p fn on each. A caller without the receivers' turn may see slots a live receiver takes
 * meanwhile: messages a moment ago in transit, still in their pools' memory (a block goes
 * only after its mbufs were all home for the pool's idle time), which @p fn changes only
 * where it finds what a dead process left. */
static void
xchg_each_in_transit(struct tide_xchg *x, void (*fn)(struct rte_mbuf *m, void *arg),
	void *arg)
{
	struct tide_xring *r = &x->ring;

	for (unsigned int l = 0; l < x->nb_prio; l++) {
		uint32_t pos = __atomic_load_n(&r->cons.tail[l], __ATOMIC_ACQUIRE);
		unsigned int k = tide_xring_pvt_count(r, l);

		for (unsigned int i = 0; i < k; i++)
			fn(*tide_xring_pvt_slot(r, l, pos + i), arg);
	}
}

/* A message whose owner is one of a dead process's stages (xchg_gone) is in transit again. */
static void
xchg_disown(struct rte_mbuf *m, void *arg)
{
	const struct xchg_gone *g = arg;
	struct tide_msg_hdr *h = tide_msg_pvt_hdr(m);
	uint16_t owner = __atomic_load_n(&h->owner, __ATOMIC_RELAXED);

	if (owner != TIDE_STAGE_NONE && xchg_gone_has(g, owner))
		__atomic_compare_exchange_n(&h->owner, &owner, TIDE_STAGE_NONE, false,
			__ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/*
 * A receive cut short (its process killed after it wrote the headers of the messages it
 * read, before it moved the receivers' tail past them) leaves them in the exchange owned
 * by one of its stages: they are still the exchange's, for the next receiver, and must
 * not be freed with the dead stages. Each is put back in transit (a compare-and-swap from
 * a dead stage: a live receiver taking it meanwhile writes its own). No turn is taken:
 * the dead process may hold it, and a live holder may be stopped. (What such a receive
 * had unmade is made again by whoever takes the turn over, or on a single receiver's
 * exchange by the next process to receive: xchg_receiver_gone().)
 */
static void
xchg_repair(void *p, void *arg)
{
	xchg_each_in_transit(p, xchg_disown, arg);
}

/* A message a dead receiver unmade in place, still in the exchange, is made again (counted
 * in *arg). */
static void
xchg_remake(struct rte_mbuf *m, void *arg)
{
	struct tide_msg_hdr *h = tide_msg_pvt_hdr(m);
	unsigned int *remade = arg;

	if (h->check == 0) {
		h->check = tide_msg_pvt_check_of(m);
		(*remade)++;
	}
}

static unsigned int
xchg_receiver_gone(struct tide_xring *r)
{
	unsigned int remade = 0;

	/* Rings are only ever an exchange's first field (xchg_layout_check()). */
	xchg_each_in_transit((struct tide_xchg *)r, xchg_remake, &remade);
	return remade;
}

RTE_INIT(xchg_receiver_gone_init)
{
	tide_xring_pvt_receiver_gone = xchg_receiver_gone;
}

/* The sleepers @p p (an exchange) counts of processes that are gone are counted no more. */
static void
xchg_sleepers_recover(void *p, void *arg __rte_unused)
{
	tide_sleepers_pvt_recover(&((struct tide_xchg *)p)->sleepers);
}

void
tide_xchg_pvt_peer_gone(const uint16_t *stages, unsigned int n)
{
	struct xchg_gone g = { .stages = stages, .n = n };

	tide_msg_pvt_dir_each(xchg_dir(), xchg_repair, &g);
	/* Its receivers blocked in tide_xchg_recv_wait() when it died: else every send burst
	 * to those exchanges would wake nobody, a syscall each, for ever.
	 */
	tide_msg_pvt_dir_each(xchg_dir(), xchg_sleepers_recover, NULL);
}

/* Messages waiting on each of @p x's levels, read together: the senders' line is read once,
 * from level 0 up (senders publish from the top down: see xchg_publish()). */
static __rte_always_inline bool
xchg_ready_all(const struct tide_xchg *x, uint32_t ready[TIDE_XCHG_MAX_PRIO])
{
	uint32_t any = 0;

	for (unsigned int l = 0; l < x->nb_prio; l++) {
		ready[l] = tide_xring_pvt_ready(&x->ring, l);
		any |= ready[l];
	}
	return any != 0;
}

/* tide_xchg_pvt_take() on a priority exchange, off the FIFO fast path: the highest level first. */
unsigned int
tide_xchg_pvt_take_prio(struct tide_xchg *x, struct tide_xchg_lcore_stats *st,
	struct rte_mbuf **m, unsigned int n, bool unmake, uint16_t stage)
{
	uint32_t ready[TIDE_XCHG_MAX_PRIO], waiting = 0;
	unsigned int got = 0;

	/* An empty poll writes nothing: look before taking the turn. */
	if (n == 0 || !xchg_ready_all(x, ready))
		return 0;
	tide_xring_pvt_turn_take(&x->ring.receivers);
	/* Others may have taken some while this one waited for the turn, and a higher level
	 * may have filled: look again.
	 */
	if (!x->ring.receivers.single)
		xchg_ready_all(x, ready);
	for (unsigned int l = 0; l < x->nb_prio; l++)
		waiting += ready[l];
	for (int lvl = x->nb_prio - 1; lvl >= 0 && got < n; lvl--)
		if (ready[lvl] != 0)
			got += tide_xchg_pvt_take_level(x, st, (uint8_t)lvl, ready[lvl], &m[got],
				n - got, unmake, stage, waiting > n);
	tide_xring_pvt_turn_give(&x->ring.receivers);
	return got;
}

/*
 * Publish what each level of a chunk got (sent[l] of the cnt[l] offered, in its slots from
 * tail[l] on), every level's tail together, then count them (the caller holds the senders'
 * turn). The top level first, down to level 0: a receiver reads the tails from level 0 up
 * (xchg_ready_all()), so once it sees a level's new tail it sees every higher one's, and
 * never takes a burst's low-priority messages before its high ones.
 */
static __rte_always_inline void
xchg_publish(struct tide_xchg *x, struct tide_xchg_lcore_stats *st, const uint32_t *tail,
	const unsigned int *cnt, const unsigned int *sent)
{
	for (unsigned int l = x->nb_prio; l-- > 0;)
		if (sent[l] != 0) {
			tide_xring_pvt_publish(&x->ring, l, tail[l] + sent[l]);
			TIDE_FAULT_HOLD(TIDE_HOLD_XCHG_PUBLISHED);
		}
	for (unsigned int l = 0; l < x->nb_prio; l++)
		if (cnt[l] != 0)
			tide_xchg_pvt_count_sent(x, st, (uint8_t)l, cnt[l], sent[l]);
}

/* Bit i of @p mk[l], for every level l below @p top: lv[i] (padded with 0xff to a multiple
 * of 16) is l. 16 messages a compare where the CPU has 16-byte vectors.
 */
static __rte_always_inline void
xchg_level_masks(const uint8_t *lv, unsigned int k, unsigned int top, uint64_t *mk)
{
#ifdef RTE_ARCH_X86
	for (unsigned int j = 0; j < k; j += 16) {
		__m128i v = _mm_load_si128((const __m128i *)&lv[j]);

		for (unsigned int l = 0; l < top; l++)
			mk[l] |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
				_mm_set1_epi8((char)l))) << j;
	}
#else
	for (unsigned int l = 0; l < top; l++)
		for (unsigned int i = 0; i < k; i++)
			mk[l] |= (uint64_t)(lv[i] == l) << i;
#endif
}

/*
 * Send k (<= TIDE_XCHG_PVT_SEND_CHUNK) messages that every level has room for (the caller
 * holds the senders' turn and made sure). One pass reads each message's level and marks
 * it in transit; the levels then become one bit mask each (bit i: message i), compared 16
 * messages at a time; each level's messages go to its slots from its mask, in order, a
 * position that lives in a register; then every level's tail is published, together.
 * Per message that is a few instructions fewer, and no chain through memory, than working
 * out each message's level and slot in one pass (tide-bench pipeline --filter 1lcore).
 * The top level takes what no lower one does: levels past it are served at it.
 */
static void
xchg_send_spread(struct tide_xchg *x, struct tide_xchg_lcore_stats *st, struct rte_mbuf **m,
	unsigned int k)
{
	struct tide_xring *r = &x->ring;
	void **const slots = r->slots;
	const uint32_t mask = r->mask, shift = r->shift;
	const unsigned int top = x->nb_prio - 1u;
	uint8_t lv[TIDE_XCHG_PVT_SEND_CHUNK] __rte_aligned(16);
	uint64_t mk[TIDE_XCHG_MAX_PRIO] = { 0 }, rest;
	uint32_t tail[TIDE_XCHG_MAX_PRIO];
	unsigned int n[TIDE_XCHG_MAX_PRIO];

	RTE_BUILD_BUG_ON(TIDE_XCHG_PVT_SEND_CHUNK > 64 || TIDE_XCHG_PVT_SEND_CHUNK % 16 != 0);
#pragma GCC unroll 4
	for (unsigned int i = 0; i < k; i++) {
		struct tide_msg_hdr *h = tide_msg_pvt_hdr(m[i]);

		lv[i] = h->prio;
		h->owner = TIDE_STAGE_NONE;
	}
	for (unsigned int i = k; i < RTE_ALIGN_CEIL(k, 16u); i++)
		lv[i] = UINT8_MAX; /* of no level below the top */
	xchg_level_masks(lv, k, top, mk);
	rest = k == 64 ? UINT64_MAX : (UINT64_C(1) << k) - 1;
	for (unsigned int l = 0; l < top; l++)
		rest &= ~mk[l];
	mk[top] = rest;
	for (unsigned int l = 0; l <= top; l++) {
		void **const base = &slots[(size_t)l << shift];
		uint32_t pos = r->prod.tail[l], at = pos & mask;
		uint64_t mm = mk[l];

		tail[l] = pos;
		n[l] = (unsigned int)__builtin_popcountll(mm);
		if (likely(at + n[l] <= mask + 1)) {
			/* No wrap: the slots are one run. */
			for (void **slot = &base[at]; mm != 0; mm &= mm - 1)
				*slot++ = m[__builtin_ctzll(mm)];
			continue;
		}
		for (; mm != 0; mm &= mm - 1)
			base[pos++ & mask] = m[__builtin_ctzll(mm)];
	}
	xchg_publish(x, st, tail, n, n);
	for (unsigned int l = 0; l <= top; l++)
		tide_xring_pvt_prefetch_next(r, l, tail[l] + n[l], n[l]);
}

/*
 * Messages of one burst go to their levels with one enqueue per level, not one per run:
 * a burst whose levels alternate would otherwise pay a ring operation per message. Each
 * level keeps the burst's order. Every level's slots are written first and the tails
 * published together at the end: the line receivers poll moves once a chunk, not once a
 * level, and a receiver sees the chunk's high levels no later than its low ones.
 *
 * Chunk by chunk. When every level has room for the whole chunk (the common case), one
 * pass puts it (xchg_send_spread()). Otherwise the chunk is sorted by level first and each
 * level takes what fits; the sent ones move to the front and the refused ones behind them,
 * in their original order; after a chunk with a refusal, the rest is not tried (it stays
 * where it is, behind).
 */
unsigned int
tide_xchg_pvt_send_prio(struct tide_xchg *x, struct tide_xchg_lcore_stats *st,
	struct rte_mbuf **m, unsigned int n)
{
	struct rte_mbuf *by[TIDE_XCHG_MAX_PRIO][TIDE_XCHG_PVT_SEND_CHUNK];
	uint8_t lvl[TIDE_XCHG_PVT_SEND_CHUNK], pos[TIDE_XCHG_PVT_SEND_CHUNK];
	unsigned int at;

	for (at = 0; at < n; at += TIDE_XCHG_PVT_SEND_CHUNK) {
		unsigned int k = RTE_MIN(n - at, (unsigned int)TIDE_XCHG_PVT_SEND_CHUNK);
		unsigned int cnt[TIDE_XCHG_MAX_PRIO] = { 0 }, sent[TIDE_XCHG_MAX_PRIO];
		uint32_t tail[TIDE_XCHG_MAX_PRIO];
		unsigned int out = at, nb_sent = 0;

		if (likely(tide_xring_pvt_fits(&x->ring, x->nb_prio, k))) {
			xchg_send_spread(x, st, &m[at], k);
			continue;
		}
		for (unsigned int i = 0; i < k; i++) {
			uint8_t l = RTE_MIN(tide_msg_prio(m[at + i]), (uint8_t)(x->nb_prio - 1));

			lvl[i] = l;
			pos[i] = (uint8_t)cnt[l];
			by[l][cnt[l]++] = m[at + i];
		}
		for (unsigned int l = 0; l < x->nb_prio; l++) {
			tail[l] = x->ring.prod.tail[l];
			sent[l] = cnt[l] ? tide_xchg_pvt_put_chunk(x, by[l], cnt[l], (uint8_t)l,
				false, tail[l]) : 0;
			nb_sent += sent[l];
		}
		xchg_publish(x, st, tail, cnt, sent);
		for (unsigned int l = 0; l < x->nb_prio; l++)
			for (unsigned int j = 0; j < sent[l]; j++)
				m[out++] = by[l][j];
		if (nb_sent == k)
			continue;
		for (unsigned int i = 0; i < k; i++)
			if (pos[i] >= sent[lvl[i]])
				m[out++] = by[lvl[i]][pos[i]];
		/* The chunks behind it, not tried, are refused too. */
		if (n - at > k)
			tide_xchg_pvt_count_sent(x, st, 0, n - at - k, 0);
		return at + nb_sent;
	}
	return n;
}

void
tide_xchg_pvt_wake(struct tide_xchg *x)
{
	__atomic_fetch_add(&x->seq, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &x->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Sleep while x->seq == seq, until *deadline (monotonic; NULL: no limit). */
static void
xchg_sleep(struct tide_xchg *x, uint32_t seq, const struct timespec *deadline)
{
	struct timespec now, rel;

	if (deadline != NULL) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		rel.tv_sec = deadline->tv_sec - now.tv_sec;
		rel.tv_nsec = deadline->tv_nsec - now.tv_nsec;
		if (rel.tv_nsec < 0) {
			rel.tv_nsec += 1000000000L;
			rel.tv_sec--;
		}
		if (rel.tv_sec < 0)
			return;
	}
	syscall(SYS_futex, &x->seq, FUTEX_WAIT, seq, deadline != NULL ? &rel : NULL,
		NULL, 0);
}

/* *t = @p us microseconds from now, on the monotonic clock. */
static void
ts_in_us(struct timespec *t, uint64_t us)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += (time_t)(us / 1000000);
	t->tv_nsec += (long)(us % 1000000) * 1000;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

/* Whether @p a is before @p b. */
static bool
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/*
 * When a blocked receiver wakes at the latest: @p deadline (NULL: never), or, @p sliced
 * (its barrier was refused: a wake-up may have been missed), MSG_SLEEP_SLICE_US from now
 * if sooner, written to *slice.
 */
static const struct timespec *
sleep_until(const struct timespec *deadline, bool sliced, struct timespec *slice)
{
	if (!sliced)
		return deadline;
	ts_in_us(slice, MSG_SLEEP_SLICE_US);
	return deadline != NULL && ts_before(deadline, slice) ? deadline : slice;
}

int
tide_xchg_recv_wait(struct tide_xchg *x, struct rte_mbuf **m, unsigned int n,
	uint16_t stage, uint64_t timeout_us)
{
	struct timespec deadline;
	unsigned int got;

	if (x == NULL || m == NULL || n == 0)
		return MSG_REFUSE(ERR, EINVAL, "bad arguments (NULL exchange or table, or n = 0)");
	/* What it receives would have an owner no stage call takes. */
	if (stage >= TIDE_STAGE_MAX && stage != TIDE_STAGE_NONE)
		return MSG_REFUSE(ERR, EINVAL, "%s: stage %u is no stage id (0..%u, or "
			"TIDE_STAGE_NONE)", x->name, stage, TIDE_STAGE_MAX - 1);
	if (timeout_us != 0)
		ts_in_us(&deadline, timeout_us);
	for (;;) {
		struct timespec now, slice;
		uint32_t seq;
		bool sliced;
		int slot;

		got = tide_xchg_recv_burst(x, m, n, stage);
		if (got > 0)
			return (int)got;
		/* Announce, re-check, sleep: a send after the re-check sees us and wakes us. The
		 * process's slot counts what it added to sleepers (never more), for whoever
		 * finds it gone to take back. With no slot it sleeps unannounced, in slices.
		 */
		slot = tide_sleepers_pvt_join(&x->sleepers);
		/* The re-check's loads come after the announce, and every sender's publishing
		 * store before them or its look after the announce (msg_fence.c).
		 */
		rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
		sliced = !tide_msg_pvt_sleep_barrier() || slot < 0;
		seq = __atomic_load_n(&x->seq, __ATOMIC_SEQ_CST);
		got = tide_xchg_recv_burst(x, m, n, stage);
		if (got == 0)
			xchg_sleep(x, seq, sleep_until(timeout_us != 0 ? &deadline : NULL, sliced,
				&slice));
		tide_sleepers_pvt_leave(&x->sleepers, slot);
		if (got > 0)
			return (int)got;
		if (timeout_us != 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (!ts_before(&now, &deadline)) {
				got = tide_xchg_recv_burst(x, m, n, stage);
				return got > 0 ? (int)got : msg_error(ETIMEDOUT);
			}
		}
	}
}
