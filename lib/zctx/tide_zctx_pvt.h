/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_ZCTX_PVT_H
#define TIDE_ZCTX_PVT_H

/**
 * @file
 * @internal What the inline submit and poll of tide_zctx.h need: the fields of an
 * instance they use, and the format of a send in the submission ring. Included by
 * tide_zctx.h (after its types); not an API: an application neither calls nor reads
 * anything here. Names here carry "_pvt_"; those that are symbols of libtide_zctx.so are
 * in its version map's INTERNAL node.
 */

#ifndef TIDE_ZCTX_H
#error "include tide_zctx.h, not tide_zctx_pvt.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @internal The fields the inline fast path uses: the first member of every struct
 * tide_zctx (an application's struct tide_zctx pointer points at them).
 */
struct tide_zctx_fast {
	struct rte_ring *sq;        /**< MP HTS/SC ring of struct tide_zctx_sqe */
	struct rte_ring *cq;        /**< SP/MC ring of struct tide_zctx_cpl */
	uint32_t depth;             /**< most sends outstanding */
	uint32_t state;             /**< TIDE_ZCTX_PVT_STATE_*, written by tide_zctx_stop() */
	int wake_fd;                /**< the agent's doorbell */
	/** Per port: TX queues the agent serves (0: not one of ours) and longest header. */
	struct {
		uint16_t nb_txq;  /**< TX queues the agent serves on it (0: none) */
		uint16_t max_hdr; /**< the longest header a send to it carries, bytes */
	} port[RTE_MAX_ETHPORTS];
	/** Sends outstanding; written by submitters and pollers. */
	uint32_t credits __rte_cache_aligned;
	uint64_t eagain;            /**< refused for back-pressure */
	/** Set by the agent before it sleeps on wake_fd. */
	uint32_t agent_sleeping __rte_cache_aligned;
} __rte_cache_aligned;

/** @internal Instance state: taking sends. */
#define TIDE_ZCTX_PVT_STATE_RUNNING 0
/** @internal Instance state: tide_zctx_stop() was called; sends are refused. */
#define TIDE_ZCTX_PVT_STATE_STOPPING 1

/**
 * @internal A send as it travels in the submission ring and waits in the agent's slot:
 * the fields, then its nb_iov iovecs and, right after them, its hdr_len header bytes.
 * Only the bytes a send uses are written and read (tide_zctx_pvt_sqe_size()), so that
 * the agent's core pulls only those cache lines (two for one iovec and an
 * Ethernet/IP/UDP header), not the whole element.
 */
struct tide_zctx_sqe {
	uint64_t cookie;   /**< the application's */
	uint16_t port;     /**< ethdev port */
	uint16_t queue;    /**< TX queue */
	uint16_t hdr_len;  /**< header bytes after the iovecs */
	uint16_t nb_iov;   /**< iovecs */
	uint32_t len;      /**< payload bytes: the iovecs' total */
	uint32_t pad;      /**< keeps the iovecs 8-byte aligned */
	RTE_STD_C11
	union {
		/** The payload's iovecs, iov[0..nb_iov-1]. */
		struct iovec iov[TIDE_ZCTX_MAX_IOV];
		/** Every byte after the fields: the header starts at nb_iov iovecs. */
		uint8_t bytes[sizeof(struct iovec) * TIDE_ZCTX_MAX_IOV + TIDE_ZCTX_HDR_MAX];
	};
} __rte_cache_aligned;

/** @internal Where the header bytes of a queued send start in its bytes[]. */
static __rte_always_inline size_t
tide_zctx_pvt_sqe_hdr_off(const struct tide_zctx_sqe *e)
{
	return (size_t)e->nb_iov * sizeof(struct iovec);
}

/** @internal The bytes a queued send uses, from its start. */
static __rte_always_inline size_t
tide_zctx_pvt_sqe_size(const struct tide_zctx_sqe *e)
{
	return offsetof(struct tide_zctx_sqe, bytes) + tide_zctx_pvt_sqe_hdr_off(e) + e->hdr_len;
}

/** @internal Write one checked send into its ring element: only the bytes it uses. */
static inline void
tide_zctx_pvt_sqe_pack(struct tide_zctx_sqe *e, const struct tide_zctx_send *s,
	uint32_t len)
{
	e->cookie = s->cookie;
	e->port = s->port;
	e->queue = s->queue;
	e->hdr_len = s->hdr_len;
	e->nb_iov = s->nb_iov;
	e->len = len;
	memcpy(e->iov, s->iov, s->nb_iov * sizeof(s->iov[0]));
	if (s->hdr_len != 0)
		memcpy(e->bytes + tide_zctx_pvt_sqe_hdr_off(e), s->hdr, s->hdr_len);
}

/**
 * @internal Refuse a submission (the inline fast path calls this on errors): logs @p why
 * with the iovec @p idx it is about, counts, sets rte_errno.
 *
 * @return
 *   -err.
 */
int tide_zctx_pvt_refuse(struct tide_zctx *z, int err, const char *why, unsigned int idx);

/** @internal Wake the agent (the inline fast path calls this when it sleeps). */
void tide_zctx_pvt_wake(struct tide_zctx *z);

/**
 * @internal Check one send: 0, or a positive errno with @p why and the iovec @p idx it is
 * about set; @p len gets the payload bytes.
 */
static inline int
tide_zctx_pvt_send_check(const struct tide_zctx_fast *f, const struct tide_zctx_send *s,
	uint32_t *len, const char **why, unsigned int *idx)
{
	uint64_t total = 0;
	unsigned int i;

	*idx = 0;
	if (unlikely(s == NULL || s->iov == NULL || s->nb_iov == 0 ||
			s->nb_iov > TIDE_ZCTX_MAX_IOV)) {
		*why = "NULL send or iovec array, or iovec count out of 1..TIDE_ZCTX_MAX_IOV";
		return EINVAL;
	}
	if (unlikely(s->port >= RTE_MAX_ETHPORTS || s->queue >= f->port[s->port].nb_txq)) {
		*why = "port is not one of the instance's, or queue not configured";
		return EINVAL;
	}
	if (unlikely(s->hdr_len > f->port[s->port].max_hdr || (s->hdr_len && s->hdr == NULL))) {
		*why = "header NULL or longer than TIDE_ZCTX_HDR_MAX or the port's frame";
		return EINVAL;
	}
	for (i = 0; i < s->nb_iov; i++) {
		uintptr_t b = (uintptr_t)s->iov[i].iov_base;
		size_t l = s->iov[i].iov_len;

		*idx = i;
		if (unlikely(b == 0 || l == 0)) {
			*why = "iovec with a NULL base or zero length";
			return EINVAL;
		}
		if (unlikely(b + l < b)) {
			*why = "iovec wraps around the end of the address space";
			return EOVERFLOW;
		}
		/* Each within the limit: the total of TIDE_ZCTX_MAX_IOV cannot wrap. */
		if (unlikely(l > TIDE_ZCTX_MAX_SEND)) {
			*why = "payload longer than TIDE_ZCTX_MAX_SEND";
			return EMSGSIZE;
		}
		total += l;
	}
	if (unlikely(total > TIDE_ZCTX_MAX_SEND)) {
		*why = "payload longer than TIDE_ZCTX_MAX_SEND";
		return EMSGSIZE;
	}
	*len = (uint32_t)total;
	return 0;
}

/** @internal Take up to @p n credits; how many (0 when `depth` sends are outstanding). */
static inline unsigned int
tide_zctx_pvt_credits_take(struct tide_zctx_fast *f, unsigned int n)
{
	uint32_t c = __atomic_load_n(&f->credits, __ATOMIC_RELAXED), k;

	do {
		if (unlikely(c >= f->depth))
			return 0;
		k = RTE_MIN(n, f->depth - c);
	} while (!__atomic_compare_exchange_n(&f->credits, &c, c + k, true, __ATOMIC_SEQ_CST,
			__ATOMIC_RELAXED));
	return k;
}

#ifdef __cplusplus
}
#endif

#endif /* TIDE_ZCTX_PVT_H */
