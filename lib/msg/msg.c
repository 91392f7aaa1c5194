/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Library set-up (the header's dynfield, the proxy area), checked release, and the walk
 * over every live message that ownership listing and the leak report use.
 *
 * Which pool owns a pointer is found without writing through it: the pointer must lie
 * in a memory chunk of some mempool (tide pools: in a block, asked of the driver under
 * its lock) and be an object start there, its object header naming that pool.
 */

#include <errno.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "msg_private.h"
#include "tide_mempool.h"

RTE_LOG_REGISTER(tide_msg_logtype, tide.msg, NOTICE);

#define MSG_DEFAULT_PROXIES 65536

int tide_msg_hdr_offset = -1;
struct msg_state msg_state;

int
tide_msg_init(const struct tide_msg_conf *conf)
{
	static const struct rte_mbuf_dynfield field = {
		.name = "tide_msg_hdr",
		.size = sizeof(struct tide_msg_hdr),
		.align = __alignof__(struct tide_msg_hdr),
	};
	uint32_t n = conf != NULL && conf->nb_proxies != 0 ? conf->nb_proxies :
		MSG_DEFAULT_PROXIES;
	int socket = conf != NULL ? conf->socket_id : SOCKET_ID_ANY;
	int off, ret;

	if (msg_state.ready)
		return 0;
	off = rte_mbuf_dynfield_register(&field);
	if (off < 0) {
		MSG_LOG(ERR, "cannot register the message header in the mbuf: %s",
			rte_strerror(rte_errno));
		return msg_error(rte_errno);
	}
	ret = msg_proxy_area_init(n, socket);
	if (ret < 0) {
		MSG_LOG(ERR, "cannot reserve %u proxy headers: %s", n, rte_strerror(-ret));
		return msg_error(-ret);
	}
	tide_msg_hdr_offset = off;
	msg_state.ready = true;
	return 0;
}

void
tide_msg_fini(void)
{
	if (!msg_state.ready)
		return;
	msg_proxy_area_fini();
	msg_state.ready = false;
}

/* ---- which pool owns a pointer ---- */

struct msg_owner_query {
	const void *p;
	struct rte_mempool *found;
};

static void
msg_chunk_has(struct rte_mempool *mp, void *arg, struct rte_mempool_memhdr *mh,
	unsigned int i __rte_unused)
{
	struct msg_owner_query *q = arg;
	const struct rte_mempool_objhdr *oh = RTE_PTR_SUB(q->p, sizeof(*oh));

	if ((uintptr_t)oh < (uintptr_t)mh->addr ||
			(uintptr_t)q->p + mp->elt_size > (uintptr_t)mh->addr + mh->len)
		return;
	if (!(mp->flags & RTE_MEMPOOL_F_NO_CACHE_ALIGN) &&
			!rte_is_aligned(q->p, RTE_MEMPOOL_ALIGN))
		return;
	if (oh->mp == mp && (oh->iova == RTE_BAD_IOVA ||
			oh->iova == rte_mem_virt2iova(q->p)))
		q->found = mp;
}

static void
msg_pool_has(struct rte_mempool *mp, void *arg)
{
	struct msg_owner_query *q = arg;

	if (q->found != NULL)
		return;
	if (tide_mempool_is_tide(mp)) {
		if (tide_mempool_owns(mp, q->p))
			q->found = mp;
		return;
	}
	rte_mempool_mem_iter(mp, msg_chunk_has, q);
}

struct rte_mempool *
msg_pool_owning(const void *p)
{
	struct msg_owner_query q = { .p = p };

	if (p != NULL)
		rte_mempool_walk(msg_pool_has, &q);
	return q.found;
}

static int
msg_refuse(const void *m, const char *why)
{
	MSG_LOG(ERR, "refusing to release %p: %s", m, why);
	return msg_error(EINVAL);
}

int
tide_msg_release_checked(struct rte_mbuf *m)
{
	if (m == NULL)
		return msg_refuse(m, "NULL");
	if (!msg_state.ready)
		return msg_refuse(m, "the library is not initialised");
	if (msg_in_proxy_area(m))
		return msg_refuse(m, "a proxy: release it with tide_msg_proxy_release()");
	if (msg_pool_owning(m) == NULL)
		return msg_refuse(m, "no pool owns it");
	if (!tide_msg_is_made(m))
		return msg_refuse(m, "not a message (released or unmade already?)");
	tide_msg_release(m);
	return 0;
}

/* ---- the walk over live messages ---- */

struct msg_walk_ctx {
	msg_visit_t *fn;
	void *arg;
};

static void
msg_walk_obj(struct rte_mempool *mp __rte_unused, void *arg, void *obj,
	unsigned int i __rte_unused)
{
	struct msg_walk_ctx *w = arg;
	struct rte_mbuf *m = obj;

	if (tide_msg_is_made(m))
		w->fn(m, w->arg);
}

static bool
msg_is_pktmbuf_pool(const struct rte_mempool *mp)
{
	return mp->private_data_size >= sizeof(struct rte_pktmbuf_pool_private) &&
		mp->elt_size >= sizeof(struct rte_mbuf);
}

static void
msg_walk_pool(struct rte_mempool *mp, void *arg)
{
	if (!msg_is_pktmbuf_pool(mp))
		return;
	if (tide_mempool_is_tide(mp))
		tide_mempool_obj_iter(mp, msg_walk_obj, arg);
	else
		rte_mempool_obj_iter(mp, msg_walk_obj, arg);
}

void
msg_walk(msg_visit_t *fn, void *arg)
{
	struct msg_walk_ctx w = { .fn = fn, .arg = arg };

	if (!msg_state.ready)
		return;
	rte_mempool_walk(msg_walk_pool, &w);
	for (uint32_t i = 0; i < msg_state.nb_proxies; i++) {
		struct rte_mbuf *p = &msg_state.proxies[i].m;

		if (tide_msg_is_made(p))
			fn(p, arg);
	}
}
