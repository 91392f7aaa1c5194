/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Block events: who listens to which mempool's blocks, and telling them.
 *
 * The registrations are a list of this process (callbacks are its function pointers; the
 * primary adds and removes blocks). An event holds every registration it will call for
 * the whole event (busy), so that an unregistration waits for it to end, and checks before
 * each call that the registration is still there, so that nothing is called once its
 * unregistration has begun. An unregistration from inside a callback cannot wait for the
 * event it is part of: the event's last hold frees the registration instead.
 *
 * Order: the driver announces and removes blocks holding ev_order for reading; a
 * registration holds it for writing while it replays the blocks that exist and joins the
 * list, so that it sees every block once, either in the replay or as an event. The mempool
 * library's DESTROY event (22.11 internal API, as DPDK's own drivers use it) gives the
 * blocks of a mempool being freed their last REMOVE before its memory goes; it holds
 * ev_order for writing too, so that a block being removed meanwhile (the reaper) is
 * either gone before it reads the blocks or removed after, never told of twice.
 */

#define ALLOW_INTERNAL_API
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* a writer-preferring rwlock */
#endif

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include "tide_mempool.h"
#include "tide_mempool_pvt.h"

struct ev_reg {
	TAILQ_ENTRY(ev_reg) next;
	const struct rte_mempool *mp; /* NULL: every tide mempool */
	tide_mempool_block_cb_t *cb;
	void *arg;
	uint32_t busy;                /* events holding it */
	bool dead;                    /* unregistered: not called again; freed at busy 0 */
	bool waited;                  /* its unregistration waits for busy 0 and frees it */
};

static TAILQ_HEAD(, ev_reg) ev_regs = TAILQ_HEAD_INITIALIZER(ev_regs);
static unsigned int ev_live;          /* registrations not dead */
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER; /* the list and its fields */
static pthread_cond_t ev_idle = PTHREAD_COND_INITIALIZER;  /* a waited busy fell to 0 */
static pthread_rwlock_t ev_order = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static bool ev_watching;              /* the DESTROY watcher is registered; ev_lock */
static __thread unsigned int ev_depth; /* block event callbacks running on this thread */

bool
tmp_ev_running(void)
{
	return ev_depth > 0;
}

void
tmp_ev_begin(void)
{
	pthread_rwlock_rdlock(&ev_order);
}

void
tmp_ev_end(void)
{
	pthread_rwlock_unlock(&ev_order);
}

/* Hold every live registration that listens to @mp, in registration order. */
static unsigned int
ev_hold(const struct rte_mempool *mp, struct ev_reg **held)
{
	struct ev_reg *r;
	unsigned int n = 0;

	pthread_mutex_lock(&ev_lock);
	TAILQ_FOREACH(r, &ev_regs, next)
		if (!r->dead && (r->mp == NULL || r->mp == mp) &&
				n < TIDE_MEMPOOL_BLOCK_EVENT_MAX) {
			r->busy++;
			held[n++] = r;
		}
	pthread_mutex_unlock(&ev_lock);
	return n;
}

/* Drop the holds; the last one on an unregistered registration frees it (or wakes the
 * unregistration that waits to).
 */
static void
ev_release(struct ev_reg **held, unsigned int n)
{
	pthread_mutex_lock(&ev_lock);
	for (unsigned int i = 0; i < n; i++) {
		struct ev_reg *r = held[i];

		if (--r->busy > 0 || !r->dead)
			continue;
		if (r->waited) {
			pthread_cond_broadcast(&ev_idle);
		} else {
			TAILQ_REMOVE(&ev_regs, r, next);
			free(r);
		}
	}
	pthread_mutex_unlock(&ev_lock);
}

/* Call @r unless it was unregistered meanwhile: its answer (0 when not called). */
static int
ev_call(struct ev_reg *r, struct rte_mempool *mp, enum tide_mempool_block_event event,
	const struct tide_mempool_block_desc *blk, uint32_t flags)
{
	struct tide_mempool_block_desc d = *blk;
	bool dead;
	int ret;

	pthread_mutex_lock(&ev_lock);
	dead = r->dead;
	pthread_mutex_unlock(&ev_lock);
	if (dead)
		return 0;
	d.flags |= flags;
	ev_depth++;
	ret = r->cb(mp, event, &d, r->arg);
	ev_depth--;
	return ret;
}

void
tmp_ev_add(struct rte_mempool *mp, const struct tide_mempool_block_desc *blk)
{
	struct ev_reg *held[TIDE_MEMPOOL_BLOCK_EVENT_MAX];
	unsigned int n = ev_hold(mp, held);

	for (unsigned int i = 0; i < n; i++)
		ev_call(held[i], mp, TIDE_MEMPOOL_BLOCK_ADD, blk, 0);
	ev_release(held, n);
}

int
tmp_ev_remove(struct rte_mempool *mp, const struct tide_mempool_block_desc *blk)
{
	struct ev_reg *held[TIDE_MEMPOOL_BLOCK_EVENT_MAX];
	unsigned int n = ev_hold(mp, held), i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		ret = ev_call(held[i], mp, TIDE_MEMPOOL_BLOCK_REMOVE, blk, 0);
		if (blk->flags & TIDE_MEMPOOL_BLOCK_F_FINAL)
			ret = 0; /* no veto: the mempool is being freed */
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		TMP_LOG(DEBUG, "%s: block %" PRIu64 " kept: a block event callback refused its "
			"removal (%d)", mp->name, blk->id, ret);
		/* Those that had let it go take it back, newest registration first. */
		while (i-- > 0)
			ev_call(held[i], mp, TIDE_MEMPOOL_BLOCK_ADD, blk,
				TIDE_MEMPOOL_BLOCK_F_RESTORED);
		ret = -EAGAIN;
	}
	ev_release(held, n);
	return ret;
}

/* Whether anyone listens to @mp. */
static bool
ev_listened(const struct rte_mempool *mp)
{
	struct ev_reg *r;
	bool yes = false;

	pthread_mutex_lock(&ev_lock);
	TAILQ_FOREACH(r, &ev_regs, next)
		if (!r->dead && (r->mp == NULL || r->mp == mp))
			yes = true;
	pthread_mutex_unlock(&ev_lock);
	return yes;
}

/* A freed mempool's registrations end with it. */
static void
ev_forget(const struct rte_mempool *mp)
{
	struct ev_reg *r, *nr;

	pthread_mutex_lock(&ev_lock);
	for (r = TAILQ_FIRST(&ev_regs); r != NULL; r = nr) {
		nr = TAILQ_NEXT(r, next);
		if (r->mp != mp || r->dead)
			continue;
		r->dead = true;
		ev_live--;
		if (r->busy == 0) {
			TAILQ_REMOVE(&ev_regs, r, next);
			free(r);
		}
	}
	pthread_mutex_unlock(&ev_lock);
}

/* A mempool is being freed (before its memory goes): the last REMOVE of its blocks. */
static void
ev_mempool_event(enum rte_mempool_event event, struct rte_mempool *mp, void *arg __rte_unused)
{
	struct tide_mempool_block_desc *blk = NULL;
	int n = 0;

	if (event != RTE_MEMPOOL_EVENT_DESTROY || !tide_mempool_is_tide(mp))
		return;
	tmp_dying_set(mp);
	pthread_rwlock_wrlock(&ev_order);
	if (ev_listened(mp))
		n = tmp_blocks_announced(mp, &blk);
	if (n < 0)
		TMP_LOG(ERR, "%s: freed without its blocks' REMOVE events: no memory", mp->name);
	while (n-- > 0) {
		blk[n].flags = TIDE_MEMPOOL_BLOCK_F_FINAL;
		tmp_ev_remove(mp, &blk[n]);
	}
	pthread_rwlock_unlock(&ev_order);
	free(blk);
	ev_forget(mp);
}

/* Watch for mempools being freed, once per process. */
int
tmp_ev_watch(void)
{
	int ret = 0;

	pthread_mutex_lock(&ev_lock);
	if (!ev_watching) {
		ret = rte_mempool_event_callback_register(ev_mempool_event, NULL);
		if (ret == -EEXIST)
			ret = 0;
		ev_watching = ret == 0;
	}
	pthread_mutex_unlock(&ev_lock);
	return ret;
}

struct ev_pools {
	struct rte_mempool **mp;
	unsigned int n, cap;
	int err;
};

static void
ev_collect(struct rte_mempool *mp, void *arg)
{
	struct ev_pools *p = arg;
	struct rte_mempool **grown;

	if (!tide_mempool_is_tide(mp) || p->err != 0)
		return;
	if (p->n == p->cap) {
		p->cap = p->cap != 0 ? p->cap * 2 : 16;
		grown = realloc(p->mp, p->cap * sizeof(*grown));
		if (grown == NULL) {
			p->err = -ENOMEM;
			return;
		}
		p->mp = grown;
	}
	p->mp[p->n++] = mp;
}

/* One mempool's announced blocks, as a replay takes them before telling any. */
struct ev_snap {
	struct rte_mempool *mp;
	struct tide_mempool_block_desc *blk;
	int n;
};

/*
 * Replay to @r what exists: the blocks of @mp, or of every tide mempool. Every pool's
 * blocks are in hand before the first callback: a replay that fails (-ENOMEM) has told
 * none, so no ADD goes without the REMOVE a registration would bring. A mempool being
 * freed meanwhile waits in its DESTROY event (ev_order) until the replay is over.
 */
static int
ev_replay(struct ev_reg *r, struct rte_mempool *mp)
{
	struct ev_pools p = { .mp = mp != NULL ? &mp : NULL, .n = mp != NULL };
	struct ev_snap *snap;
	unsigned int i, k = 0;
	int ret;

	if (mp == NULL)
		rte_mempool_walk(ev_collect, &p);
	ret = p.err;
	snap = ret == 0 ? calloc(RTE_MAX(p.n, 1u), sizeof(*snap)) : NULL;
	if (ret == 0 && snap == NULL)
		ret = -ENOMEM;
	for (; ret == 0 && k < p.n; k++) {
		snap[k].mp = p.mp[k];
		snap[k].n = tmp_blocks_announced(p.mp[k], &snap[k].blk);
		ret = RTE_MIN(snap[k].n, 0);
	}
	for (i = 0; ret == 0 && i < p.n; i++)
		for (int b = 0; b < snap[i].n; b++)
			ev_call(r, snap[i].mp, TIDE_MEMPOOL_BLOCK_ADD, &snap[i].blk[b],
				TIDE_MEMPOOL_BLOCK_F_REPLAY);
	for (i = 0; i < k; i++)
		free(snap[i].blk);
	free(snap);
	if (mp == NULL)
		free(p.mp);
	return ret;
}

/* Check a new registration against the list: 0, -EEXIST or -ENOSPC. */
static int
ev_check_new(const struct rte_mempool *mp, tide_mempool_block_cb_t *cb, void *arg)
{
	struct ev_reg *r;
	int ret = 0;

	pthread_mutex_lock(&ev_lock);
	TAILQ_FOREACH(r, &ev_regs, next)
		if (!r->dead && r->mp == mp && r->cb == cb && r->arg == arg)
			ret = -EEXIST;
	if (ret == 0 && ev_live >= TIDE_MEMPOOL_BLOCK_EVENT_MAX)
		ret = -ENOSPC;
	pthread_mutex_unlock(&ev_lock);
	return ret;
}

int
tide_mempool_block_event_register(struct rte_mempool *mp, tide_mempool_block_cb_t *cb,
	void *arg)
{
	struct ev_reg *r;
	int ret;

	if (cb == NULL || (mp != NULL && !tide_mempool_is_tide(mp)))
		return TMP_REFUSE(ERR, EINVAL, "cb is NULL, or %s is not a tide mempool",
			mp != NULL ? mp->name : "NULL");
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return TMP_REFUSE(ERR, ENOTSUP, "block events are the primary process's");
	if (ev_depth > 0)
		return TMP_REFUSE(ERR, EDEADLK, "called from a block event callback");
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return TMP_REFUSE(ERR, ENOMEM, "no memory for the registration");
	*r = (struct ev_reg){ .mp = mp, .cb = cb, .arg = arg };
	ret = tmp_ev_watch();
	if (ret < 0)
		goto fail_watch;
	pthread_rwlock_wrlock(&ev_order);
	ret = ev_check_new(mp, cb, arg);
	if (ret == 0)
		ret = ev_replay(r, mp);
	if (ret < 0)
		goto fail_replay;
	pthread_mutex_lock(&ev_lock);
	TAILQ_INSERT_TAIL(&ev_regs, r, next);
	ev_live++;
	pthread_mutex_unlock(&ev_lock);
	pthread_rwlock_unlock(&ev_order);
	return 0;

fail_replay:
	pthread_rwlock_unlock(&ev_order);
fail_watch:
	free(r);
	TMP_LOG(ERR, "cannot register a block event callback for %s: %s",
		mp != NULL ? mp->name : "every tide mempool", strerror(-ret));
	return tmp_error(-ret);
}

int
tide_mempool_block_event_unregister(struct rte_mempool *mp, tide_mempool_block_cb_t *cb,
	void *arg)
{
	struct ev_reg *r;

	if (cb == NULL)
		return TMP_REFUSE(ERR, EINVAL, "cb is NULL");
	pthread_mutex_lock(&ev_lock);
	TAILQ_FOREACH(r, &ev_regs, next)
		if (!r->dead && r->mp == mp && r->cb == cb && r->arg == arg)
			break;
	if (r == NULL) {
		pthread_mutex_unlock(&ev_lock);
		return TMP_REFUSE(DEBUG, ENOENT, "no such registration for %s",
			mp != NULL ? mp->name : "every tide mempool");
	}
	r->dead = true;
	ev_live--;
	/* Inside a callback the event that holds it may be this thread's: the last hold
	 * frees it.
	 */
	if (r->busy > 0 && ev_depth > 0) {
		pthread_mutex_unlock(&ev_lock);
		return 0;
	}
	r->waited = true;
	while (r->busy > 0)
		pthread_cond_wait(&ev_idle, &ev_lock);
	TAILQ_REMOVE(&ev_regs, r, next);
	free(r);
	pthread_mutex_unlock(&ev_lock);
	return 0;
}
