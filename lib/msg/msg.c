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
#include <pthread.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "msg_private.h"
#include "tide_fault.h"
#include "tide_mempool.h"
#include "tide_mempool_walk.h"

RTE_LOG_REGISTER(tide_msg_logtype, tide.msg, NOTICE);

#define MSG_DEFAULT_PROXIES 65536

int tide_msg_pvt_hdr_offset = -1;
struct msg_state tide_msg_pvt_state;

/*
 * The library's state in this process against its set-up and teardown: a telemetry handler
 * (EAL's telemetry thread) reads the directory, the stage table and the proxy area under
 * the read side; tide_msg_init() and tide_msg_fini() change them under the write side, so
 * a fini in another thread waits for a handler that is in, and a handler never finds them
 * half made or freed under it. A pthread lock: the handler is slow and rare, and a fini that
 * waits sleeps.
 */
static pthread_rwlock_t msg_life = PTHREAD_RWLOCK_INITIALIZER;

void
tide_msg_pvt_tel_enter(void)
{
	pthread_rwlock_rdlock(&msg_life);
	TIDE_FAULT_HOLD(TIDE_HOLD_MSG_TEL_IN); /* tests: a fini comes meanwhile */
}

void
tide_msg_pvt_tel_leave(void)
{
	pthread_rwlock_unlock(&msg_life);
}

/* The write side, for init and fini; a handler that is in is waited for. */
static void
msg_life_lock(void)
{
	if (pthread_rwlock_trywrlock(&msg_life) == 0)
		return;
	TIDE_FAULT_HOLD(TIDE_HOLD_MSG_FINI_WAITS); /* tests: seen waiting for the handler */
	pthread_rwlock_wrlock(&msg_life);
}

/* Layout the inline fast path relies on. */
static void
msg_layout_check(void)
{
	/* tide_msg_make() writes check, owner, prio and flags with one aligned 8-byte store. */
	RTE_BUILD_BUG_ON(TIDE_MSG_PVT_MADE_LEN != 8);
	RTE_BUILD_BUG_ON(offsetof(struct tide_msg_hdr, check) != 0);
	RTE_BUILD_BUG_ON(offsetof(struct tide_msg_hdr, flags) != 7);
	RTE_BUILD_BUG_ON(sizeof(struct tide_msg_hdr) != 16);
	RTE_BUILD_BUG_ON(__alignof__(struct tide_msg_hdr) != 8);
	/* Stage ids fit the header's owner, below TIDE_STAGE_NONE. */
	RTE_BUILD_BUG_ON(TIDE_STAGE_MAX > TIDE_STAGE_NONE);
	RTE_BUILD_BUG_ON(sizeof(((struct tide_msg_hdr *)0)->owner) != sizeof(uint16_t));
	/* The list of free proxies fits one level of a tide_xring (tide_xring_pvt_init()). */
	RTE_BUILD_BUG_ON((uint64_t)TIDE_MSG_MAX_PROXIES + 1 > (1u << 30));
}

/* What rte_mbuf_dynfield_register() said, as tide_msg_init() reports it. */
static int
msg_dynfield_error(int err)
{
	switch (err) {
	case ENOENT:
		MSG_LOG(ERR, "no room left in the mbuf for the message header (%zu bytes)",
			sizeof(struct tide_msg_hdr));
		return ENOSPC;
	case EEXIST:
		MSG_LOG(ERR, "an mbuf dynfield named tide_msg_hdr exists with other parameters "
			"(another copy of the library?)");
		return EEXIST;
	default:
		MSG_LOG(ERR, "cannot register the message header in the mbuf: %s",
			rte_strerror(err));
		return ENOMEM;
	}
}

static int msg_attach(const struct rte_mbuf_dynfield *field);
static int msg_init_locked(const struct tide_msg_conf *conf);

int
tide_msg_init(const struct tide_msg_conf *conf)
{
	int ret;

	msg_life_lock();
	ret = msg_init_locked(conf);
	pthread_rwlock_unlock(&msg_life);
	return ret;
}

static int
msg_init_locked(const struct tide_msg_conf *conf)
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

	msg_layout_check();
	if (tide_msg_pvt_state.ready)
		return 0;
	if (n > TIDE_MSG_MAX_PROXIES || !tide_socket_known(socket)) {
		MSG_LOG(ERR, "%u proxies (at most %u) on socket %d: bad configuration", n,
			TIDE_MSG_MAX_PROXIES, socket);
		return msg_error(EINVAL);
	}
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return msg_attach(&field);
	/* The proxies first: a dynfield cannot be given back if they fail. */
	ret = tide_msg_pvt_proxy_area_init(n, socket);
	if (ret < 0) {
		MSG_LOG(ERR, "cannot reserve %u proxy headers: %s", n, rte_strerror(-ret));
		return msg_error(-ret);
	}
	off = rte_mbuf_dynfield_register(&field);
	if (off < 0) {
		ret = msg_dynfield_error(rte_errno);
		tide_msg_pvt_proxy_area_fini();
		return msg_error(ret);
	}
	ret = tide_msg_pvt_shared_create(off, socket);
	if (ret < 0) {
		MSG_LOG(ERR, "cannot share the library's state with other processes: %s",
			rte_strerror(-ret));
		tide_msg_pvt_proxy_area_fini();
		return msg_error(-ret);
	}
	tide_msg_pvt_hdr_offset = off;
	tide_msg_pvt_fence_init();
	tide_msg_pvt_state.ready = true;
	return 0;
}

/* A secondary works from what the primary's tide_msg_init() shared. */
static int
msg_attach(const struct rte_mbuf_dynfield *field)
{
	int ret = tide_msg_pvt_shared_attach();

	if (ret == -ENOENT)
		MSG_LOG(ERR, "the primary process has not initialised the message library");
	if (ret != 0)
		return msg_error(-ret);
	if (rte_mbuf_dynfield_lookup(field->name, NULL) != tide_msg_pvt_hdr_offset) {
		MSG_LOG(ERR, "the message header's mbuf field is not where the primary put it");
		tide_msg_pvt_state.shared = NULL;
		return msg_error(EPROTO);
	}
	tide_msg_pvt_fence_init();
	tide_msg_pvt_state.ready = true;
	return 0;
}

int
tide_msg_fini(void)
{
	unsigned int nb_xchg, nb_bcast, nb_stages;
	uint32_t nb_px;

	if (!tide_msg_pvt_state.ready)
		return 0;
	if (rte_eal_process_type() == RTE_PROC_PRIMARY) {
		/* Torn down, the directory would forget the exchanges and the stages (those of
		 * secondaries too, while they use them), and the proxies' area would go with
		 * the references they hold on real messages, which then never return to their
		 * pools: refused, with the library as it was. Counted before the teardown, not
		 * under its lock: no other thread may use the library now. A process that is
		 * gone unregisters nothing: its stages are recovered first (what they hold
		 * released, proxies too), as when the primary notices its death.
		 */
		tide_msg_pvt_stages_gone_recover();
		tide_msg_pvt_dir_count(&nb_xchg, &nb_bcast);
		nb_px = tide_msg_pvt_proxies_live();
		nb_stages = tide_msg_pvt_stage_count();
		if (nb_xchg != 0 || nb_bcast != 0 || nb_px != 0 || nb_stages != 0)
			return MSG_REFUSE(ERR, EBUSY, "%u exchange(s), %u broadcast exchange(s) "
				"and %u proxy(ies) still live, %u stage(s) still registered: "
				"free, release and unregister them first; nothing torn down",
				nb_xchg, nb_bcast, nb_px, nb_stages);
	}
	msg_life_lock();
	tide_msg_pvt_shared_free();
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		tide_msg_pvt_proxy_area_fini();
	tide_msg_pvt_state.ready = false;
	pthread_rwlock_unlock(&msg_life);
	return 0;
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

static bool
msg_pool_has(struct rte_mempool *mp, void *arg)
{
	struct msg_owner_query *q = arg;

	if (tide_mempool_is_tide(mp)) {
		if (tide_mempool_owns(mp, q->p))
			q->found = mp;
	} else {
		rte_mempool_mem_iter(mp, msg_chunk_has, q);
	}
	return q->found != NULL;
}

struct rte_mempool *
tide_msg_pvt_pool_owning(const void *p)
{
	struct msg_owner_query q = { .p = p };

	/* Not rte_mempool_walk(): a checked release may run on any thread while another
	 * frees a mempool, which that walk would read after its free.
	 */
	if (p != NULL)
		tide_mempool_walk_held(msg_pool_has, &q);
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
	if (!tide_msg_pvt_state.ready)
		return msg_refuse(m, "the library is not initialised");
	if (tide_msg_pvt_in_proxy_area(m))
		return msg_refuse(m, "a proxy: release it with tide_msg_proxy_release()");
	if (tide_msg_pvt_pool_owning(m) == NULL)
		return msg_refuse(m, "no pool owns it");
	if (!tide_msg_is_made(m))
		return msg_refuse(m, "not a message (released or unmade already?)");
	if (tide_msg_hdr(m)->flags & TIDE_MSG_F_RELEASED)
		return msg_refuse(m, "released already (proxies of it hold it on)");
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

static bool
msg_walk_pool(struct rte_mempool *mp, void *arg)
{
	if (!msg_is_pktmbuf_pool(mp))
		return false;
	TIDE_FAULT_HOLD(TIDE_HOLD_MSG_WALK_POOL);
	if (tide_mempool_is_tide(mp))
		tide_mempool_obj_iter(mp, msg_walk_obj, arg);
	else
		rte_mempool_obj_iter(mp, msg_walk_obj, arg);
	return false;
}

void
tide_msg_pvt_walk(msg_visit_t *fn, void *arg)
{
	struct msg_walk_ctx w = { .fn = fn, .arg = arg };

	if (!tide_msg_pvt_state.ready)
		return;
	/* Not rte_mempool_walk(): a pool freed meanwhile (telemetry reads stages while the
	 * application frees pools) would be read after its free.
	 */
	tide_mempool_walk_held(msg_walk_pool, &w);
	for (uint32_t i = 0; i < tide_msg_pvt_state.nb_proxies; i++) {
		struct rte_mbuf *p = &tide_msg_pvt_state.proxies[i].m;

		if (tide_msg_is_made(p))
			fn(p, arg);
	}
}
