/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Building the packets of a send, one at a time, from where the agent's cursor is.
 *
 * Zero-copy: the header (if any) goes into a pool mbuf; the payload follows in data-less
 * "shell" mbufs attached to it as external buffers, a new segment wherever the IO
 * addresses stop being contiguous (page by page in PA mode, unless the pages happen to
 * be contiguous), a new packet at the port's frame length or segment count. Each shell
 * carries its own rte_mbuf_ext_shared_info in its private area, with one reference, so
 * DPDK frees it without an atomic operation and calls the free callback once per
 * segment. The callback counts the send's freed segments: with a plain store on the
 * agent's thread (where PMDs free what they transmitted, inside rte_eth_tx_burst), with
 * an atomic operation elsewhere. The agent completes the send once it is built and all
 * its segments are freed, in any order, on any thread.
 *
 * Copy: header and payload are copied into pool mbufs (chained when a frame is larger
 * than one mbuf's data room).
 */

#include <string.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "zctx_private.h"

/* Segments one zero-copy packet may have at most (header included). */
#define BUILD_MAX_SEGS 64

struct build_seg {
	uintptr_t va;
	rte_iova_t iova;
	uint32_t len;
};

/* Count a freed segment on another thread than the agent's; the last one of a built
 * send also counts the send released. The compare-and-swap is this thread's last touch
 * of the slot: the agent may reuse it at once.
 */
static void
build_seg_freed_remote(struct zc_slot *s)
{
	struct tide_zctx *z = s->z;
	uint32_t r = __atomic_load_n(&s->segs_freed_remote, __ATOMIC_ACQUIRE);

	for (;;) {
		/* Read before the increment: the slot is not done without this segment. */
		bool last = __atomic_load_n(&s->built, __ATOMIC_ACQUIRE) &&
			__atomic_load_n(&s->segs_freed, __ATOMIC_RELAXED) +
			(r & ~ZC_FREED_COUNTED) + 1 == s->segs;

		if (last)
			__atomic_fetch_add(&z->zc_released, 1, __ATOMIC_RELAXED);
		if (__atomic_compare_exchange_n(&s->segs_freed_remote, &r,
				(r + 1) | (last ? ZC_FREED_COUNTED : 0), false, __ATOMIC_RELEASE,
				__ATOMIC_ACQUIRE))
			return;
		if (last)
			__atomic_fetch_sub(&z->zc_released, 1, __ATOMIC_RELAXED);
	}
}

/* This process's id once one of its agents started (0 before): with the thread, it tells
 * the agent's thread from a thread of another process with the same pthread_t (without
 * ASLR, threads of two processes of one program can have equal ones).
 */
static uint32_t build_pid;

uint32_t
tide_zctx_pvt_build_pid(void)
{
	uint32_t pid = (uint32_t)getpid();

	__atomic_store_n(&build_pid, pid, __ATOMIC_RELAXED);
	return pid;
}

static void
build_extbuf_free_cb(void *addr __rte_unused, void *opaque)
{
	struct zc_extref *e = opaque;
	struct zc_slot *s = e->slot;
	struct tide_zctx *z = s->z;

	/* Home first: once the segment is counted, the instance may be freed. On the agent's
	 * thread (a PMD frees what it transmitted inside rte_eth_tx_burst()), to the agent's
	 * own cache: the agent need not be an lcore.
	 */
	if (likely(pthread_equal(pthread_self(), z->agent_tid) &&
			z->agent_pid == __atomic_load_n(&build_pid, __ATOMIC_RELAXED))) {
		rte_mempool_generic_put(e->home, (void **)&e, 1, z->extref_cache);
		__atomic_store_n(&s->segs_freed, s->segs_freed + 1, __ATOMIC_RELAXED);
	} else {
		rte_mempool_put(e->home, e);
		build_seg_freed_remote(s);
	}
}

static void
build_info(struct tide_zctx *z, struct zc_slot *s, struct rte_mbuf *pkt, uint32_t off,
	uint32_t n)
{
	struct tide_zctx_pkt_info info = {
		.cookie = s->sqe.cookie,
		.offset = off,
		.payload_len = n,
		.send_len = s->sqe.len,
		.index = z->cursor.pkt_index,
		.last = off + n == s->sqe.len,
	};

	z->params.pkt_prep(pkt, &info, z->params.pkt_prep_arg);
}

/* Plan the external segments of one packet from the cursor: at most @p max_segs and
 * @p room bytes, each contiguous in IO addresses unless the PMD reads by virtual address
 * (@p by_va: each as long as its piece of the iovec). Returns the segment count; *bytes
 * gets the payload they carry.
 */
static unsigned int
build_plan_zc(struct tide_zctx *z, const struct zc_slot *s, unsigned int max_segs,
	uint32_t room, bool by_va, struct build_seg *seg, uint32_t *bytes)
{
	unsigned int pi = z->cursor.piece, n = 0;
	size_t po = z->cursor.piece_off;
	uint32_t got = 0;

	while (n < max_segs && got < room && pi < s->nb_pieces) {
		const struct zc_piece *p = &s->pieces[pi];
		uintptr_t va = p->va + po;
		/* By address, only the first byte's IO address is asked for: no page walk. */
		uintptr_t iova_end = by_va ? va + 1 : p->va + p->len;
		size_t contig;
		rte_iova_t iova = p->span != NULL ?
			tide_zctx_pvt_span_iova(p->span, va, iova_end, &contig) :
			tide_zctx_pvt_iova_dpdk(p->msl, va, &contig);
		/* An IO address found: the segment may run to the piece's end by address. */
		size_t reach = by_va && contig != 0 ? p->len - po : RTE_MIN(contig, p->len - po);
		uint32_t len = (uint32_t)RTE_MIN(reach, (size_t)RTE_MIN(room - got, ZC_SEG_MAX));

		if (len == 0)
			break; /* no IO address: cannot happen for held memory */
		seg[n++] = (struct build_seg){ .va = va, .iova = iova, .len = len };
		got += len;
		po += len;
		if (po == p->len) {
			pi++;
			po = 0;
		}
	}
	*bytes = got;
	return n;
}

static void
build_advance_zc(struct zc_cursor *c, const struct zc_slot *s, uint32_t bytes)
{
	c->off += bytes;
	while (bytes > 0) {
		size_t k = RTE_MIN((size_t)bytes, s->pieces[c->piece].len - c->piece_off);

		bytes -= (uint32_t)k;
		c->piece_off += k;
		if (c->piece_off == s->pieces[c->piece].len) {
			c->piece++;
			c->piece_off = 0;
		}
	}
}

/* The send's header bytes, as queued after its iovecs. */
static const uint8_t *
build_hdr(const struct zc_slot *s)
{
	return s->sqe.bytes + tide_zctx_pvt_sqe_hdr_off(&s->sqe);
}

/* A header or a copy that the pool's mbufs cannot hold (tide_zctx_create() checks an
 * application's pool: not expected): the send fails rather than wait for bigger mbufs.
 */
static void
build_too_small(struct tide_zctx *z, struct zc_slot *s, uint32_t room)
{
	ZC_LOG(ERR, "%s: pool %s's data room (%u bytes after the headroom) cannot hold a "
		"header of %u bytes and payload", z->name, z->pool->name, room, s->sqe.hdr_len);
	s->status = -EMSGSIZE;
}

static struct rte_mbuf *
build_header(struct tide_zctx *z, struct zc_slot *s)
{
	struct rte_mbuf *h = rte_pktmbuf_alloc(z->pool);

	if (h == NULL)
		return NULL;
	if (unlikely(rte_pktmbuf_tailroom(h) < s->sqe.hdr_len)) {
		build_too_small(z, s, rte_pktmbuf_tailroom(h));
		rte_pktmbuf_free(h);
		return NULL;
	}
	rte_memcpy(rte_pktmbuf_mtod(h, void *), build_hdr(s), s->sqe.hdr_len);
	h->data_len = s->sqe.hdr_len;
	h->pkt_len = s->sqe.hdr_len;
	return h;
}

static uint32_t
build_zc(struct tide_zctx *z, const struct zc_port *p, struct zc_slot *s,
	struct rte_mbuf **pkt)
{
	struct rte_mbuf *shells[BUILD_MAX_SEGS], *head = NULL, *last = NULL;
	struct zc_extref *refs[BUILD_MAX_SEGS];
	struct build_seg seg[BUILD_MAX_SEGS];
	unsigned int hdr = s->sqe.hdr_len != 0, nsegs, i;
	uint32_t bytes;

	nsegs = build_plan_zc(z, s, RTE_MIN(p->max_segs, (unsigned int)BUILD_MAX_SEGS) - hdr,
		p->max_frame - s->sqe.hdr_len, p->by_va, seg, &bytes);
	if (nsegs == 0)
		return 0;
	if (hdr) {
		head = last = build_header(z, s);
		if (head == NULL)
			return 0;
	}
	if (rte_pktmbuf_alloc_bulk(z->shells, shells, nsegs) != 0) {
		rte_pktmbuf_free(head);
		return 0;
	}
	if (rte_mempool_generic_get(z->extrefs, (void **)refs, nsegs, z->extref_cache) != 0) {
		/* Clones of earlier segments hold them: retry later, as without shells. */
		rte_pktmbuf_free_bulk(shells, nsegs);
		rte_pktmbuf_free(head);
		return 0;
	}
	s->segs += nsegs;
	for (i = 0; i < nsegs; i++) {
		struct rte_mbuf *m = shells[i];
		struct zc_extref *e = refs[i];

		e->slot = s;
		e->home = z->extrefs;
		e->si.free_cb = build_extbuf_free_cb;
		e->si.fcb_opaque = e;
		rte_mbuf_ext_refcnt_set(&e->si, 1);
		rte_pktmbuf_attach_extbuf(m, (void *)seg[i].va, seg[i].iova,
			(uint16_t)seg[i].len, &e->si);
		m->data_len = (uint16_t)seg[i].len;
		if (head == NULL) {
			head = last = m;
			head->pkt_len = 0;
		} else {
			last->next = m;
			last = m;
			head->nb_segs++;
		}
		head->pkt_len += seg[i].len;
	}
	build_advance_zc(&z->cursor, s, bytes);
	ZC_CNT(z, segments, nsegs);
	*pkt = head;
	return bytes;
}

/* Copy @p len bytes from the cursor's iovec position to the chain's tail. */
static void
build_copy_payload(struct zc_cursor *c, const struct zc_slot *s, struct rte_mbuf **tail,
	uint32_t len)
{
	struct rte_mbuf *m = *tail;

	while (len > 0) {
		const struct iovec *v = &s->sqe.iov[c->iov];
		size_t k = RTE_MIN(RTE_MIN((size_t)len, v->iov_len - c->iov_off),
			(size_t)rte_pktmbuf_tailroom(m));

		if (k == 0) {
			m = m->next;
			continue;
		}
		memcpy(rte_pktmbuf_mtod_offset(m, char *, m->data_len),
			(const char *)v->iov_base + c->iov_off, k);
		m->data_len += (uint16_t)k;
		len -= (uint32_t)k;
		c->off += (uint32_t)k;
		c->iov_off += k;
		if (c->iov_off == v->iov_len) {
			c->iov++;
			c->iov_off = 0;
		}
	}
	*tail = m;
}

static uint32_t
build_copy(struct tide_zctx *z, const struct zc_port *p, struct zc_slot *s,
	struct rte_mbuf **pkt)
{
	struct rte_mbuf *m[BUILD_MAX_SEGS], *tail;
	uint32_t room = rte_pktmbuf_data_room_size(z->pool);
	/* A port that takes no chains gets one mbuf a frame: shorter frames where it is short. */
	uint32_t hdr = s->sqe.hdr_len;
	uint32_t max_segs = p->zc_ok ? RTE_MIN(p->max_segs, BUILD_MAX_SEGS) : 1;
	uint32_t n = RTE_MIN(s->sqe.len - z->cursor.off, p->max_frame - hdr);
	unsigned int nbufs, i;

	room = room > RTE_PKTMBUF_HEADROOM ? room - RTE_PKTMBUF_HEADROOM : 0;
	if (unlikely(room <= hdr)) {
		build_too_small(z, s, room);
		return 0;
	}
	n = RTE_MIN(n, max_segs * room - hdr);
	nbufs = (hdr + n + room - 1) / room;
	if (rte_pktmbuf_alloc_bulk(z->pool, m, nbufs) != 0)
		return 0;
	for (i = 1; i < nbufs; i++)
		m[i - 1]->next = m[i];
	m[0]->nb_segs = (uint16_t)nbufs;
	m[0]->pkt_len = hdr + n;
	rte_memcpy(rte_pktmbuf_mtod(m[0], void *), build_hdr(s), hdr);
	m[0]->data_len = (uint16_t)hdr;
	tail = m[0];
	build_copy_payload(&z->cursor, s, &tail, n);
	*pkt = m[0];
	return n;
}

uint32_t
tide_zctx_pvt_build_packet(struct tide_zctx *z, struct zc_slot *s, struct rte_mbuf **pkt)
{
	const struct zc_port *p = &z->ports[z->port_idx[s->sqe.port]];
	uint32_t off = z->cursor.off, n;

	n = s->path == ZC_PATH_ZC ? build_zc(z, p, s, pkt) : build_copy(z, p, s, pkt);
	if (n == 0)
		return 0;
	if (z->params.pkt_prep != NULL)
		build_info(z, s, *pkt, off, n);
	z->cursor.pkt_index++;
	return n;
}
