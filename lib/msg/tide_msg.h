/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_MSG_H
#define TIDE_MSG_H

/**
 * @file
 * Exchange messages: a received mbuf becomes a message in place, travels between
 * pipeline stages over exchanges, and is unmade for TX.
 *
 * A message is an mbuf with a small header inside it (a registered mbuf dynfield: no
 * allocation, no copy) holding its owner stage, priority, flags and a check word.
 * tide_msg_make() turns a bare mbuf from rte_eth_rx_burst() into a message;
 * tide_msg_unmake() turns it back into a bare mbuf that rte_eth_tx_burst() takes as is.
 *
 * Exchanges are named multi-producer/multi-consumer queues of messages: FIFO, or
 * priority-pass (several levels, the highest served first; the receiver reads the level
 * from the message). A broadcast exchange holds one message that any number of readers
 * read without taking, each exactly once, with a completion interlock before the next.
 * Proxies are messages without a pool of their own that point at a range of a real
 * message's body: send them to different exchanges, count the servers' replies on the
 * real message; the real message returns to its pool only after its last proxy is
 * released.
 *
 * Release from any stage or thread returns a message to the pool it came from
 * (m->pool). The checked forms refuse, with -EINVAL, a log line and nothing written,
 * what no pool owns, what is not a message (a second release), and a proxy released as
 * a real message.
 *
 * Stages are small integer ids (0..TIDE_STAGE_MAX-1) that tide_stage_register() hands
 * out as a non-negative int; every call that takes a stage takes it as uint16_t, which
 * holds every id and TIDE_STAGE_NONE.
 *
 * Threads: tide_msg_init() once, after rte_eal_init(), in the primary process, before
 * anything else here. Make, unmake, send, receive (polling), broadcast read/done, proxy
 * make/reply/release and release: any thread, EAL or not. tide_xchg_recv_wait() and
 * tide_bcast_wait() block: non-EAL threads. Creation, lookup, free, stages and the leak
 * report: control path. Never hand a proxy to a PMD or to rte_pktmbuf_free(): it has no
 * pool.
 *
 * Errors: functions that return int give 0 (or a count) on success and a negative errno
 * on failure, with rte_errno set to the same errno; functions that return a pointer give
 * NULL and set rte_errno. Every failure is logged except the outcomes a polling or
 * waiting caller meets in normal work: nothing to read yet (-EAGAIN), a wait's timeout
 * (-ETIMEDOUT), a broadcast take before its readers are done (EBUSY). The inline fast
 * path checks nothing: it takes what the control path made.
 *
 * Logs go to the log type "tide.msg"; telemetry: /tide/xchg/list, /tide/xchg/info,<name>,
 * /tide/bcast/list, /tide/bcast/info,<name>, /tide/stage/list, /tide/stage/info,<id>,
 * /tide/proxy/info.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_atomic.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Check word of a made message, mixed with its address. */
#define TIDE_MSG_CHECK 0x7d5e6a11u
/** Owner of a message in no stage (in an exchange, or just made by no stage). */
#define TIDE_STAGE_NONE UINT16_MAX
/** Most stages; ids are 0..TIDE_STAGE_MAX-1. */
#define TIDE_STAGE_MAX 256
/** Longest stage name, terminating NUL included. */
#define TIDE_STAGE_NAMESIZE 32
/** Most priority levels of an exchange. */
#define TIDE_XCHG_MAX_PRIO 8
/** Most proxy headers tide_msg_init() reserves. */
#define TIDE_MSG_MAX_PROXIES (1u << 24)
/** Most readers of a broadcast exchange. */
#define TIDE_BCAST_MAX_READERS 1024

/** Message flag: a proxy (no pool; points into a real message). */
#define TIDE_MSG_F_PROXY (1u << 0)
/** Message flag: a real message proxies were made of (nb_proxies and replies count). */
#define TIDE_MSG_F_PROXIED (1u << 1)
/** Message flag: a real message its holder released while proxies of it remain (they
 *  return it to its pool); tide_msg_release_checked() refuses it. */
#define TIDE_MSG_F_RELEASED (1u << 2)

/**
 * The message header, inside every message's mbuf. Making a message writes its first 8
 * bytes only (one aligned store): nb_proxies and replies count only while
 * TIDE_MSG_F_PROXIED is set, and reply is the application's, left as it was.
 */
struct tide_msg_hdr {
	uint32_t check;      /**< TIDE_MSG_CHECK ^ address while made, 0 otherwise */
	uint16_t owner;      /**< stage holding it, or TIDE_STAGE_NONE */
	uint8_t prio;        /**< priority level: higher is served first */
	uint8_t flags;       /**< TIDE_MSG_F_* */
	uint16_t nb_proxies; /**< with TIDE_MSG_F_PROXIED: proxies made of it */
	uint16_t replies;    /**< with TIDE_MSG_F_PROXIED: replies its proxies' servers counted */
	uint32_t reply;      /**< the application's (e.g. where a reply goes); make leaves it */
} __rte_aligned(8);

/**
 * Configuration of the library. Each lcore keeps up to 64 free proxy headers at hand, as a
 * mempool's lcore cache keeps objects, and other threads cannot take those: size
 * nb_proxies for the most proxies live at once plus 64 for every lcore that makes or
 * releases proxies (non-EAL threads keep none).
 */
struct tide_msg_conf {
	uint32_t nb_proxies; /**< proxy headers in all, at most TIDE_MSG_MAX_PROXIES
			      *   (0: 65536) */
	int socket_id;       /**< where they live, or SOCKET_ID_ANY */
};

/** Kinds of exchange. */
enum tide_xchg_type {
	TIDE_XCHG_FIFO, /**< first in, first out */
	TIDE_XCHG_PRIO, /**< priority-pass: the highest level first, FIFO within a level */
};

/** Parameters of an exchange. */
struct tide_xchg_params {
	const char *name;        /**< unique, at most RTE_RING_NAMESIZE - 5 chars */
	enum tide_xchg_type type; /**< FIFO or priority-pass */
	unsigned int size;       /**< messages one level holds (rounded up to 2^k - 1) */
	unsigned int nb_prio;    /**< priority levels (TIDE_XCHG_PRIO: 2..TIDE_XCHG_MAX_PRIO;
				  *   ignored for TIDE_XCHG_FIFO) */
	int socket_id;           /**< where its rings live, or SOCKET_ID_ANY */
	unsigned int flags;      /**< TIDE_XCHG_F_*; 0: any number of senders and receivers */
};

/**
 * Exchange flag: no two threads ever send at the same time (as RING_F_SP_ENQ): senders
 * take no turns. Handing the role on is fine once the first thread is done (joined, or
 * stopped as an lcore is).
 */
#define TIDE_XCHG_F_SP (1u << 0)
/**
 * Exchange flag: no two threads ever receive at the same time (as RING_F_SC_DEQ): no
 * turns either.
 */
#define TIDE_XCHG_F_SC (1u << 1)

/** An exchange (its fields are the library's: see tide_msg_pvt.h). */
struct tide_xchg;

/** A section of a message's body that one reader may write (distributed assembly). */
struct tide_bcast_section {
	uint32_t offset; /**< from the start of the message's data */
	uint32_t len;    /**< bytes; 0: none */
};

/** A broadcast exchange (opaque). */
struct tide_bcast;

/** A range of a message's body (from the start of its data). */
struct tide_msg_range {
	uint32_t offset; /**< from the start of the message's data */
	uint32_t len;    /**< bytes */
};

#include "tide_msg_pvt.h"

/* ---- the library ---- */

/**
 * Initialise the library: in the primary process, register the header's mbuf dynfield,
 * reserve the proxy headers and share them, with the directories of exchanges and stages,
 * with secondary processes; in a secondary, attach to what the primary set up (call it
 * there after the primary did). Call once, after rte_eal_init(); later calls return 0 and
 * change nothing (until tide_msg_fini()).
 *
 * Exchanges, broadcast exchanges, stages and proxies then work across processes: a
 * message made in one process may be sent, received, released in another. A stage belongs
 * to the process that registered it: when a secondary is gone (exited or killed), the
 * primary releases the messages its stages held and frees its stages (on the pool
 * library's control thread, which the primary's init starts if no elastic pool did).
 *
 * @param conf
 *   Configuration, or NULL for the defaults (65536 proxies, SOCKET_ID_ANY); a secondary
 *   uses the primary's, but still refuses one that is not valid (below).
 * @return
 *   0, or a negative errno with rte_errno set:
 *   - -EINVAL: conf->nb_proxies above TIDE_MSG_MAX_PROXIES, or a socket EAL does not know
 *     (in a secondary too, which otherwise ignores @p conf);
 *   - -ENOENT: in a secondary, the primary has not initialised the library;
 *   - -EPROTO: in a secondary, the primary runs another tidepool build (the layout of
 *     what the processes share differs), or the header's dynfield is not where the
 *     primary put it;
 *   - -ENOSPC: no room left in the mbuf for the header's dynfield;
 *   - -EEXIST: a dynfield or memzone of the library's names exists with other
 *     parameters (another copy of the library in this process);
 *   - -ENOMEM: no memory for the proxy headers or the shared state;
 *   - -EAGAIN: in the primary, the pool library's control thread, which looks for dead
 *     secondaries (tide_mp_death_cb_register()), cannot start (or, rte_eal_cleanup()
 *     begun, may not).
 */
int tide_msg_init(const struct tide_msg_conf *conf);

/**
 * Release what tide_msg_init() reserved. Every exchange and broadcast exchange must be
 * freed, every proxy released and every stage unregistered (tide_stage_unregister(), by
 * whichever process registered it) first, and no other thread or process may use the
 * library meanwhile (a telemetry query this process is answering is waited for).
 * tide_msg_init() may be called again afterwards. In a secondary process it only lets go
 * of what the primary shares, which stays as it is (its stages too). In the primary, the
 * stages of processes that are gone (exited or killed without unregistering them, and not
 * recovered yet) are recovered first, as when the primary notices such a process: what
 * they hold is released (a WARNING line each), and they do not count.
 *
 * @return
 *   0 (nothing to do if the library is not initialised), or -EBUSY (rte_errno set, a log
 *   line that counts each) in the primary while an exchange, a broadcast exchange or a
 *   proxy is live, or a stage of a live process is registered: nothing else is released
 *   then (the stages of processes that are gone have been), and everything works on as
 *   before.
 */
int tide_msg_fini(void);

/* ---- messages ---- */

/**
 * The header of a message, or of any mbuf for tide_msg_make(). Its reply field is the
 * application's; treat the rest as read-only.
 *
 * @param m
 *   An mbuf of any pool, or a proxy.
 * @return
 *   Its header.
 */
static inline struct tide_msg_hdr *
tide_msg_hdr(struct rte_mbuf *m)
{
	return tide_msg_pvt_hdr(m);
}

/**
 * Turn a bare mbuf into a message held by @p stage, at priority @p prio. In place: one
 * 8-byte store into the mbuf, nothing allocated, the data untouched.
 *
 * @param m
 *   A bare mbuf (not a message: making a message again loses its proxy counts).
 * @param stage
 *   Its owner: a stage id, or TIDE_STAGE_NONE.
 * @param prio
 *   Its priority level; an exchange with fewer levels serves it at its highest.
 */
static inline void
tide_msg_make(struct rte_mbuf *m, uint16_t stage, uint8_t prio)
{
	/* Built in a register and stored at once: one 8-byte store per message. */
	const struct tide_msg_hdr h = {
		.check = tide_msg_pvt_check_of(m), .owner = stage, .prio = prio,
	};

	memcpy(tide_msg_pvt_hdr(m), &h, TIDE_MSG_PVT_MADE_LEN);
}

/**
 * tide_msg_make() on @p n mbufs.
 *
 * @param m
 *   Bare mbufs.
 * @param n
 *   How many.
 * @param stage
 *   Their owner: a stage id, or TIDE_STAGE_NONE.
 * @param prio
 *   Their priority level.
 */
static inline void
tide_msg_make_burst(struct rte_mbuf **m, unsigned int n, uint16_t stage, uint8_t prio)
{
	/* Unrolled: the loop's own instructions are a good part of the cost of a make. */
#pragma GCC unroll 8
	for (unsigned int i = 0; i < n; i++)
		tide_msg_make(m[i], stage, prio);
}

/**
 * Whether @p m is a made message (real or proxy): made, and not released or unmade since.
 *
 * @param m
 *   An mbuf of any pool, or a proxy.
 * @return
 *   True while it is a message.
 */
static inline bool
tide_msg_is_made(struct rte_mbuf *m)
{
	return tide_msg_pvt_hdr(m)->check == tide_msg_pvt_check_of(m);
}

/**
 * Whether a message is a proxy.
 *
 * @param m
 *   A message.
 * @return
 *   True if @p m is a proxy (see tide_msg_proxy_make()).
 */
static inline bool
tide_msg_is_proxy(struct rte_mbuf *m)
{
	return (tide_msg_pvt_hdr(m)->flags & TIDE_MSG_F_PROXY) != 0;
}

/**
 * Turn a real message back into a bare mbuf, as rte_eth_tx_burst() takes it. One store;
 * the mbuf is then the caller's, outside any stage. Proxies still live hold references to
 * it: a PMD's TX frees it only with the last of them, except on a queue with
 * RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE, which returns what it sent to its pool whatever its
 * reference count (it would be freed under the proxies): send a message proxies of which
 * live only through a queue without that offload.
 *
 * @param m
 *   A real message (not a proxy).
 */
static inline void
tide_msg_unmake(struct rte_mbuf *m)
{
	tide_msg_pvt_hdr(m)->check = 0;
}

/**
 * tide_msg_unmake() on @p n messages.
 *
 * @param m
 *   Real messages.
 * @param n
 *   How many.
 */
static inline void
tide_msg_unmake_burst(struct rte_mbuf **m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		/* Keeps the compiler from vectorising this into scatter stores, which are
		 * slower than one plain store per message (microcoded on AMD).
		 */
		__asm__ volatile("" : : "r"(m[i]));
		tide_msg_unmake(m[i]);
	}
}

/**
 * A message's priority level.
 *
 * @param m
 *   A message.
 * @return
 *   Its priority, as made or last set.
 */
static inline uint8_t
tide_msg_prio(struct rte_mbuf *m)
{
	return tide_msg_pvt_hdr(m)->prio;
}

/**
 * Change a message's priority level (before sending it).
 *
 * @param m
 *   A message its caller holds.
 * @param prio
 *   The new level.
 */
static inline void
tide_msg_set_prio(struct rte_mbuf *m, uint8_t prio)
{
	tide_msg_pvt_hdr(m)->prio = prio;
}

/**
 * The stage holding a message.
 *
 * @param m
 *   A message.
 * @return
 *   Its owner's stage id, or TIDE_STAGE_NONE (in an exchange, or made by no stage).
 */
static inline uint16_t
tide_msg_owner(struct rte_mbuf *m)
{
	return tide_msg_pvt_hdr(m)->owner;
}

/**
 * Release a real message from any stage or thread: it returns to its pool of origin,
 * once no proxy of it is left (until then no stage holds it). A message with other mbuf
 * references and no proxies made of it (rte_pktmbuf_clone(), rte_mbuf_refcnt_update()) is
 * unmade and its reference dropped: the others hold a bare mbuf, which goes back to its
 * pool with the last of them. Once proxies have been made of a message it must take no
 * other references until it is released (released, it would go back to its pool still
 * made): tide_msg_proxy_make() refuses a message that has some only before its first
 * proxy, since after it cannot tell them from its proxies'. Unchecked: see
 * tide_msg_release_checked().
 *
 * @param m
 *   A real message (not a proxy, not released already).
 */
static inline void
tide_msg_release(struct rte_mbuf *m)
{
	if (unlikely(rte_mbuf_refcnt_read(m) != 1)) {
		struct tide_msg_hdr *h = tide_msg_pvt_hdr(m);

		/* No stage holds it any more. Proxies hold it on as a message, which the last
		 * returns to its pool; other references hold it as a bare mbuf.
		 */
		h->owner = TIDE_STAGE_NONE;
		if (h->flags & TIDE_MSG_F_PROXIED)
			h->flags |= TIDE_MSG_F_RELEASED;
		else
			h->check = 0;
	}
	tide_msg_pvt_put_real(m);
}

/**
 * tide_msg_release() on @p n real messages.
 *
 * @param m
 *   Real messages.
 * @param n
 *   How many.
 */
static inline void
tide_msg_release_burst(struct rte_mbuf **m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		tide_msg_release(m[i]);
}

/**
 * Release a real message after checking it: that a pool owns it (without writing
 * through it otherwise), that it is a made message (not released already, also while
 * proxies of it still hold it), and that it is not a proxy.
 *
 * @param m
 *   What is believed to be a real message.
 * @return
 *   0 when released; -EINVAL (rte_errno set, a log line, nothing written) when @p m is
 *   NULL, the library is not initialised, @p m is a proxy, no pool owns it, it is not a
 *   made message, or it was released already and proxies of it hold it on.
 */
int tide_msg_release_checked(struct rte_mbuf *m);

/* ---- exchanges ---- */

/**
 * Create an exchange.
 *
 * @param p
 *   Its parameters.
 * @return
 *   The exchange, or NULL with rte_errno set:
 *   - EINVAL: the library is not initialised; @p p NULL; no name; size 0 or above 2^30
 *     slots in all; an unknown type or flag; a priority exchange without
 *     2..TIDE_XCHG_MAX_PRIO levels; a socket EAL does not know;
 *   - ENAMETOOLONG: a name longer than RTE_RING_NAMESIZE - 5 chars;
 *   - EEXIST: an exchange of that name exists;
 *   - ENOMEM: no memory for it;
 *   - ENOSPC: the directory of exchanges is full (128 exchanges in the processes that
 *     share it).
 */
struct tide_xchg *tide_xchg_create(const struct tide_xchg_params *p);

/**
 * Free an exchange; messages still in it are released (proxies with
 * tide_msg_proxy_release()). No thread may use it any more.
 *
 * @param x
 *   The exchange, or NULL (a no-op). Anything else, an exchange freed already among them,
 *   is refused: EINVAL in rte_errno, a log line, nothing written (so is any call before
 *   tide_msg_init() or after tide_msg_fini() in this process). An exchange made again at
 *   the freed one's address is that one for this check.
 */
void tide_xchg_free(struct tide_xchg *x);

/**
 * Find an exchange by name.
 *
 * @param name
 *   Its name.
 * @return
 *   The exchange, or NULL with rte_errno set: EINVAL @p name is NULL, or tide_msg_init()
 *   not called in this process; ENOENT no exchange of that name.
 */
struct tide_xchg *tide_xchg_lookup(const char *name);

/**
 * Send up to @p n messages (each at its own priority on a priority exchange), FIFO within
 * a level. Messages the exchange refuses (their level is full) stay the caller's: they end
 * up in m[sent..n-1], in their original order, still held by their stage; m[0..sent-1]
 * went (on a priority exchange, grouped by level) and belong to no stage until received.
 *
 * @param x
 *   The exchange.
 * @param m
 *   Messages (real or proxies).
 * @param n
 *   How many.
 * @return
 *   How many were sent (0..n).
 */
static inline unsigned int
tide_xchg_send_burst(struct tide_xchg *x, struct rte_mbuf **m, unsigned int n)
{
	struct tide_xchg_lcore_stats *st = tide_xchg_pvt_stats(x);
	unsigned int done;

	if (unlikely(n == 0))
		return 0; /* an empty RX poll: the lines receivers poll stay clean */
	tide_xring_pvt_turn_take(&x->ring.senders);
	if (x->type == TIDE_XCHG_FIFO)
		done = tide_xchg_pvt_send_level(x, st, m, n, 0);
	else
		done = tide_xchg_pvt_send_prio(x, st, m, n);
	tide_xring_pvt_turn_give(&x->ring.senders);
	tide_xchg_pvt_sent(x, done);
	return done;
}

/**
 * Make @p n bare mbufs into messages at priority @p prio and send them, in one pass over
 * their headers: what an RX stage does with a burst from rte_eth_rx_burst(). The same as
 * tide_msg_make_burst() then tide_xchg_send_burst(), without the second pass: the
 * messages are made already in transit. Those the exchange refuses (their level is full)
 * are made messages held by @p stage, in m[sent..n-1].
 *
 * @param x
 *   The exchange.
 * @param m
 *   Bare mbufs.
 * @param n
 *   How many.
 * @param stage
 *   The sending stage: it holds those refused.
 * @param prio
 *   Their priority level.
 * @return
 *   How many were sent (0..n).
 */
static inline unsigned int
tide_xchg_make_send_burst(struct tide_xchg *x, struct rte_mbuf **m, unsigned int n,
	uint16_t stage, uint8_t prio)
{
	uint8_t lvl = x->type == TIDE_XCHG_FIFO ? 0 : RTE_MIN(prio, (uint8_t)(x->nb_prio - 1));
	unsigned int sent;

	if (unlikely(n == 0))
		return 0; /* an empty RX poll: the lines receivers poll stay clean */
	tide_msg_make_burst(m, n, TIDE_STAGE_NONE, prio);
	tide_xring_pvt_turn_take(&x->ring.senders);
	sent = tide_xring_pvt_put(&x->ring, lvl, (void * const *)m, n);
	tide_xring_pvt_turn_give(&x->ring.senders);
	for (unsigned int i = sent; i < n; i++)
		tide_msg_pvt_hdr(m[i])->owner = stage;
	tide_xchg_pvt_count_sent(x, tide_xchg_pvt_stats(x), lvl, n, sent);
	tide_xchg_pvt_sent(x, sent);
	return sent;
}

/**
 * Receive up to @p n messages, the highest priority level first, FIFO within a level;
 * they are now held by @p stage. Polls: never blocks; an empty exchange is not written.
 *
 * @param x
 *   The exchange.
 * @param m
 *   Where the messages go.
 * @param n
 *   Room in @p m.
 * @param stage
 *   The receiving stage (or TIDE_STAGE_NONE).
 * @return
 *   How many were received (0 if none).
 */
static inline unsigned int
tide_xchg_recv_burst(struct tide_xchg *x, struct rte_mbuf **m, unsigned int n,
	uint16_t stage)
{
	return tide_xchg_pvt_take(x, m, n, false, stage);
}

/**
 * Receive up to @p n real messages and unmake them, in one pass over their headers: what
 * a TX stage does before rte_eth_tx_burst(). The same as tide_xchg_recv_burst() then
 * tide_msg_unmake_burst(). For exchanges that carry real messages only: a proxy must be
 * received with tide_xchg_recv_burst() and released with tide_msg_proxy_release().
 *
 * @param x
 *   The exchange.
 * @param m
 *   Where the bare mbufs go.
 * @param n
 *   Room in @p m.
 * @return
 *   How many bare mbufs are in m[0..] (0 if none).
 */
static inline unsigned int
tide_xchg_recv_unmake_burst(struct tide_xchg *x, struct rte_mbuf **m, unsigned int n)
{
	return tide_xchg_pvt_take(x, m, n, true, TIDE_STAGE_NONE);
}

/**
 * Receive up to @p n messages, waiting for the first one up to @p timeout_us without
 * spinning: the thread sleeps until a sender wakes it. Non-EAL threads.
 *
 * @param x
 *   The exchange.
 * @param m
 *   Where the messages go.
 * @param n
 *   Room in @p m, at least 1.
 * @param stage
 *   The receiving stage (or TIDE_STAGE_NONE).
 * @param timeout_us
 *   Longest wait, microseconds; 0 waits without limit.
 * @return
 *   How many were received (> 0), or a negative errno with rte_errno set: -EINVAL @p x
 *   or @p m NULL, @p n 0, or @p stage neither a stage id (below TIDE_STAGE_MAX) nor
 *   TIDE_STAGE_NONE; -ETIMEDOUT nothing came within @p timeout_us.
 */
int tide_xchg_recv_wait(struct tide_xchg *x, struct rte_mbuf **m, unsigned int n,
	uint16_t stage, uint64_t timeout_us);

/**
 * Messages waiting in an exchange (a snapshot, any thread).
 *
 * @param x
 *   The exchange.
 * @return
 *   Messages waiting, all levels (0 for NULL).
 */
unsigned int tide_xchg_count(const struct tide_xchg *x);

/* ---- broadcast exchange ---- */

/**
 * Create a broadcast exchange for @p nb_readers readers (ids 0..nb_readers-1), after
 * tide_msg_init() (the directory it is found in is the library's). What is posted must be
 * a made message.
 *
 * @param name
 *   Unique name, shorter than RTE_RING_NAMESIZE.
 * @param nb_readers
 *   Readers, 1..TIDE_BCAST_MAX_READERS.
 * @return
 *   The exchange, or NULL with rte_errno set: EINVAL @p name NULL or empty,
 *   @p nb_readers out of range, or tide_msg_init() not called in this process;
 *   ENAMETOOLONG; EEXIST a broadcast exchange of that name exists; ENOMEM no memory for
 *   it; ENOSPC the directory of broadcast exchanges is full (128).
 */
struct tide_bcast *tide_bcast_create(const char *name, unsigned int nb_readers);

/**
 * Find a broadcast exchange by name, in any process attached to the one that created it.
 *
 * @return
 *   The broadcast exchange, or NULL with rte_errno set: EINVAL @p name NULL or
 *   tide_msg_init() not called in this process; ENOENT none of that name.
 */
struct tide_bcast *tide_bcast_lookup(const char *name);

/**
 * Free a broadcast exchange; no thread may use it any more. A message still posted goes
 * back to the stage that held it when it was posted (TIDE_STAGE_NONE if that stage's
 * process is gone): it is not released (take it back first, or release it, or stop that
 * stage, after the free).
 *
 * @param b
 *   The exchange, or NULL (a no-op). Anything else, a broadcast exchange freed already
 *   among them, is refused: EINVAL in rte_errno, a log line, nothing written (so is any
 *   call before tide_msg_init() or after tide_msg_fini() in this process).
 */
void tide_bcast_free(struct tide_bcast *b);

/**
 * Post a message: every reader will read it exactly once. Nobody takes it from the exchange
 * but the sender, with tide_bcast_take(). One thread posts and takes. While posted, the
 * message belongs to the exchange, as one in transit does: its owner is TIDE_STAGE_NONE,
 * and tide_stage_stop() of the stage that held it leaves it alone (readers may be reading
 * it); the take gives it back to that stage. Should the sender's process die, the post
 * stays; whoever takes it then gets a message of no stage.
 *
 * @param b
 *   The exchange.
 * @param m
 *   A made message.
 * @param sections
 *   nb_readers sections, reader i's writable part of the body; or NULL (read only).
 * @return
 *   0, or a negative errno with rte_errno set: -EINVAL @p b or @p m NULL, @p m not a made
 *   message or released already while proxies of it hold it on, or a section outside the
 *   body or overlapping another; -EBUSY a message is
 *   posted and not taken back yet (the gate is closed; logged: the sender posts and takes,
 *   so it posted over its own post).
 */
int tide_bcast_post(struct tide_bcast *b, struct rte_mbuf *m,
	const struct tide_bcast_section *sections);

/**
 * Read the posted message, if this reader has not read it yet: its handle, and its
 * writable section (len 0 if none). The message stays in the exchange. Should a secondary
 * die between its read and its tide_bcast_done(), the primary undoes the read: the
 * process that takes over the reader's id reads the post again.
 *
 * @param b
 *   The exchange.
 * @param reader
 *   This reader's id.
 * @param m
 *   Where the message goes.
 * @param section
 *   Where this reader's section goes, or NULL.
 * @return
 *   0, or a negative errno with rte_errno set: -EAGAIN nothing new for this reader;
 *   -EINVAL @p b or @p m NULL, or @p reader out of range.
 */
int tide_bcast_read(struct tide_bcast *b, unsigned int reader, struct rte_mbuf **m,
	struct tide_bcast_section *section);

/**
 * Tell the exchange this reader is done with the message it read (it may no longer
 * touch it). When every reader is done, the message is complete.
 *
 * @param b
 *   The exchange.
 * @param reader
 *   This reader's id.
 * @return
 *   0, or -EINVAL with rte_errno set: @p b NULL, @p reader out of range, or it has not
 *   read the current message, or was done with it already.
 */
int tide_bcast_done(struct tide_bcast *b, unsigned int reader);

/**
 * Whether the posted message has been read and finished by every reader.
 *
 * @param b
 *   The exchange.
 * @return
 *   True when a message is posted and complete; false otherwise (also for NULL).
 */
bool tide_bcast_complete(const struct tide_bcast *b);

/**
 * Wait until the posted message is complete, sleeping (non-EAL threads), up to
 * @p timeout_us.
 *
 * @param b
 *   The exchange.
 * @param timeout_us
 *   Longest wait, microseconds; 0, or a wait longer than the monotonic clock counts in 64
 *   bits of nanoseconds (some 584 years), waits without limit.
 * @return
 *   0, or a negative errno with rte_errno set: -EINVAL @p b NULL; -ENOENT nothing
 *   posted; -ETIMEDOUT not complete within @p timeout_us.
 */
int tide_bcast_wait(struct tide_bcast *b, uint64_t timeout_us);

/**
 * Take the complete message back (to release it, forward it or post it again): it is held
 * again by the stage that held it when posted, if that stage is this process's; else (the
 * sender's process is gone, whether or not its recovery has run yet) by no stage
 * (TIDE_STAGE_NONE).
 *
 * @param b
 *   The exchange.
 * @return
 *   The message, or NULL with rte_errno set: EINVAL @p b NULL (logged); ENOENT nothing
 *   posted (logged at DEBUG); EBUSY posted but not complete yet (a poll, not logged:
 *   tide_bcast_complete() or tide_bcast_wait() says when it is).
 */
struct rte_mbuf *tide_bcast_take(struct tide_bcast *b);

/* ---- proxies ---- */

/**
 * Make n proxies of a real message, proxy i pointing at ranges[i] of its body. Proxies
 * have no pool: their headers come from the library's proxy area. Each holds a reference
 * to the real message, which returns to its pool only when it has been released and its
 * last proxy too, in any order. All or nothing.
 *
 * @param real
 *   A made real message.
 * @param n
 *   Proxies to make, at least 1.
 * @param ranges
 *   n ranges, each within the real message's first segment.
 * @param proxies
 *   Where the n proxies go.
 * @return
 *   0 with proxies[0..n-1] made (held by the real message's owner), or a negative errno
 *   with rte_errno set: -EINVAL @p real, @p ranges or @p proxies NULL, @p n 0, the
 *   library not initialised, @p real not a made real message (a proxy, not made, or
 *   released already while proxies of it hold it on), other mbuf references to @p real
 *   and no proxies made of it yet (a clone, rte_mbuf_refcnt_update(); once it has had
 *   proxies it must take none: see tide_msg_release()), or a range outside
 *   its first segment; -ENOSPC more than 65535 proxies would have been made of @p real
 *   since it was made (released ones count too: its proxy and reply counts are 16 bits;
 *   made again, it starts from 0), or it would hold more than 65535 mbuf references;
 *   -ENOBUFS not enough free proxy headers within reach: in the shared pool and this
 *   lcore's own 64 at hand (those other lcores keep at hand are not taken; see struct
 *   tide_msg_conf) (nothing made).
 */
int tide_msg_proxy_make(struct rte_mbuf *real, unsigned int n,
	const struct tide_msg_range *ranges, struct rte_mbuf **proxies);

/**
 * The real message a proxy points into. Unchecked.
 *
 * @param proxy
 *   A live proxy.
 * @return
 *   Its real message.
 */
struct rte_mbuf *tide_msg_proxy_real(struct rte_mbuf *proxy);

/**
 * Count a reply on the real message of a proxy (a server is done with its part).
 *
 * @param proxy
 *   A live proxy.
 * @return
 *   Replies counted on the real message so far (>= 1), or -EINVAL with rte_errno set if
 *   @p proxy is NULL or not a live proxy.
 */
int tide_msg_reply(struct rte_mbuf *proxy);

/**
 * Proxies made of a real message since it was made (released ones too), at most 65535.
 *
 * @param real
 *   A real message.
 * @return
 *   How many (0 if none).
 */
static inline unsigned int
tide_msg_nb_proxies(struct rte_mbuf *real)
{
	const struct tide_msg_hdr *h = tide_msg_pvt_hdr(real);

	return (h->flags & TIDE_MSG_F_PROXIED) ? h->nb_proxies : 0;
}

/**
 * Whether every proxy made of a real message has replied.
 *
 * @param real
 *   A real message.
 * @return
 *   True when every proxy replied (also when it has none).
 */
static inline bool
tide_msg_all_replied(struct rte_mbuf *real)
{
	struct tide_msg_hdr *h = tide_msg_pvt_hdr(real);

	return !(h->flags & TIDE_MSG_F_PROXIED) ||
		__atomic_load_n(&h->replies, __ATOMIC_ACQUIRE) == h->nb_proxies;
}

/**
 * Release a proxy: its header goes back to the proxy area and its reference to the real
 * message is dropped (the last one returns the real message to its pool). Unchecked: see
 * tide_msg_proxy_release_checked().
 *
 * @param proxy
 *   A live proxy.
 */
void tide_msg_proxy_release(struct rte_mbuf *proxy);

/**
 * tide_msg_proxy_release() after checking @p proxy is a live proxy of the proxy area.
 *
 * @param proxy
 *   What is believed to be a live proxy.
 * @return
 *   0 when released; -EINVAL (rte_errno set, a log line, nothing written) when @p proxy
 *   is NULL, not in the proxy area (a real message?), or released already.
 */
int tide_msg_proxy_release_checked(struct rte_mbuf *proxy);

/* ---- stages and ownership ---- */

/**
 * Register a stage.
 *
 * @param name
 *   Unique name, shorter than TIDE_STAGE_NAMESIZE.
 * @return
 *   Its id, 0..TIDE_STAGE_MAX-1 (it fits the uint16_t every stage argument takes), or a
 *   negative errno with rte_errno set: -EINVAL @p name NULL, empty or too long, or
 *   tide_msg_init() not called in this process; -EEXIST
 *   a stage of that name is registered; -ENOSPC TIDE_STAGE_MAX stages are registered.
 */
int tide_stage_register(const char *name);

/**
 * Forget a stage (it should hold nothing: see tide_stage_stop()). Its id may be handed
 * out again. Every stage must be unregistered before tide_msg_fini(), by the process that
 * registered it (a dead process's stages are removed by the primary's recovery).
 *
 * @param stage
 *   A stage id tide_stage_register() returned in this process.
 * @return
 *   0, or a negative errno with rte_errno set and a line logged: -EINVAL @p stage is not
 *   a registered stage; -EPERM another process registered it.
 */
int tide_stage_unregister(uint16_t stage);

/**
 * Messages (real and proxies) held by a stage now; up to @p max of them into out[] if not
 * NULL. Walks the pools: control path, with the stage's threads quiet.
 *
 * @param stage
 *   A stage id (registered or not any more).
 * @param out
 *   Where the messages go, or NULL to count them only.
 * @param max
 *   Room in @p out.
 * @return
 *   How many the stage holds (maybe more than @p max), or -EINVAL with rte_errno set if
 *   @p stage is not below TIDE_STAGE_MAX.
 */
int tide_stage_list(uint16_t stage, struct rte_mbuf **out, unsigned int max);

/**
 * Stop a stage: release every message it holds. Its threads must have stopped.
 *
 * @param stage
 *   A stage id (registered or not any more).
 * @return
 *   How many were released, or -EINVAL with rte_errno set if @p stage is not below
 *   TIDE_STAGE_MAX.
 */
int tide_stage_stop(uint16_t stage);

/**
 * Report the messages still made (not released or unmade), per owner, on @p f (or
 * nowhere if NULL) and through the log. Control path.
 *
 * @param f
 *   Where to print the report, or NULL.
 * @return
 *   How many messages are still made (0 when nothing leaked).
 */
int tide_msg_leak_report(FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* TIDE_MSG_H */
