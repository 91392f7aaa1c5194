/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The uses of donor memory. Send buffers: a named DPDK external malloc heap per manager,
 * grown by pinned regions (rte_malloc_heap_memory_add() registers each with DPDK, which
 * DMA-maps it for VFIO devices itself), shrunk by tide_donor_trim(). A buffer that falls
 * on memory no process locks (its donor died, and it is being re-pinned or could not be)
 * is set aside (a plug, never handed out) and another is taken; plugs on memory locked
 * again go back to the heap at the next allocation. Pool blocks: hugepage regions from
 * donors only, returned by the mempool driver's free callback.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "donor_private.h"
#include "tide_fault.h"
#include "tide_pool.h"

#define HEAP_SLACK 4096 /* malloc element headers and padding in a region of its own */

static int
heap_ensure(struct tide_donor_mgr *m)
{
	if (m->heap_socket >= 0)
		return m->heap_socket;
	if (rte_malloc_heap_create(m->heap_name) != 0 && rte_errno != EEXIST) {
		DN_LOG(ERR, "%s: cannot create heap %s: %s", m->name, m->heap_name,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	m->heap_socket = rte_malloc_heap_get_socket(m->heap_name);
	if (m->heap_socket < 0) {
		int err = rte_errno != 0 ? rte_errno : ENOSPC;

		DN_LOG(ERR, "%s: heap %s has no socket id: %s", m->name, m->heap_name,
			rte_strerror(err));
		return -err;
	}
	return m->heap_socket;
}

/* Is any byte of [p, p + len) memory that no process locks now? (m->lock held) */
static bool
heap_unpinned_locked(const struct tide_donor_region *r, const uint8_t *p, size_t len)
{
	for (uint32_t i = 0; i < r->nb_parts; i++) {
		const struct dn_part *pt = &r->parts[i];
		const uint8_t *lo = r->addr + pt->offset, *hi = lo + pt->bytes;

		if ((pt->state == TIDE_DONOR_STATE_UNPINNED ||
				pt->state == TIDE_DONOR_STATE_REPINNING) && p < hi && p + len > lo)
			return true;
	}
	return false;
}

/* Give the heap back the buffers set aside on memory locked again since (a re-pin ended). */
static void
heap_unplug(struct tide_donor_mgr *m)
{
	struct tide_donor_region *r;

	pthread_mutex_lock(&m->lock);
	TAILQ_FOREACH(r, &m->regions, next) {
		uint32_t kept = 0;

		for (uint32_t i = 0; i < r->nb_plugs; i++) {
			if (heap_unpinned_locked(r, r->plugs[i].p, r->plugs[i].len))
				r->plugs[kept++] = r->plugs[i];
			else
				rte_free(r->plugs[i].p);
		}
		r->nb_plugs = kept;
	}
	pthread_mutex_unlock(&m->lock);
}

/*
 * Take a buffer from the heap, setting aside any that is not pinned. NULL when the heap
 * has no room (*err 0) or too much of it is set aside (*err -ENOMEM).
 */
static void *
heap_take(struct tide_donor_mgr *m, size_t size, unsigned int align, int *err)
{
	*err = 0;
	heap_unplug(m);
	for (;;) {
		void *p = rte_malloc_socket("tide_donor", size, align, m->heap_socket);
		struct tide_donor_region *r;

		if (p == NULL)
			return NULL;
		pthread_mutex_lock(&m->lock);
		r = dn_region_of_locked(m, p);
		if (r == NULL || !heap_unpinned_locked(r, p, size)) {
			if (r != NULL)
				r->nb_allocs++;
			pthread_mutex_unlock(&m->lock);
			return p;
		}
		if (r->nb_plugs == DN_MAX_PLUGS) {
			pthread_mutex_unlock(&m->lock);
			rte_free(p);
			DN_LOG(ERR, "%s: too much of the heap is unpinned", m->name);
			*err = -ENOMEM;
			return NULL;
		}
		r->plugs[r->nb_plugs++] = (struct dn_plug){ .p = p, .len = size };
		pthread_mutex_unlock(&m->lock);
		DN_LOG(NOTICE, "%s: %zu bytes at %p are not pinned (their donor died): set aside",
			m->name, size, p);
	}
}

/* Add a pinned region of at least @p need bytes to the heap. */
static int
heap_grow(struct tide_donor_mgr *m, size_t need)
{
	size_t bytes = RTE_MAX((size_t)m->p.heap_grow, need);
	struct tide_donor_region *r;

	r = dn_request(m, bytes, TIDE_DONOR_PINNED, TIDE_DONOR_F_NO_REGISTER);
	if (r == NULL)
		return -rte_errno;
	if (rte_malloc_heap_memory_add(m->heap_name, r->addr, r->len, r->iova,
			(unsigned int)(r->len / r->page_sz), r->page_sz) != 0) {
		int err = rte_errno;

		DN_LOG(ERR, "%s: cannot add %zu bytes to heap %s: %s", m->name, r->len,
			m->heap_name, rte_strerror(err));
		dn_region_free(r);
		return -err;
	}
	pthread_mutex_lock(&m->lock);
	r->in_heap = true;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static int
heap_note(struct tide_donor_mgr *m, void *p)
{
	if (m->nb_bufs == m->cap_bufs) {
		uint32_t cap = m->cap_bufs ? m->cap_bufs * 2 : 64;
		void **n = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL :
			realloc(m->bufs, cap * sizeof(*n));

		if (n == NULL) {
			DN_LOG(ERR, "%s: no memory to record %u buffers", m->name, cap);
			return -ENOMEM;
		}
		m->bufs = n;
		m->cap_bufs = cap;
	}
	m->bufs[m->nb_bufs++] = p;
	return 0;
}

/* Forget buffer @p p; false if it is not one of ours. */
static bool
heap_forget(struct tide_donor_mgr *m, const void *p)
{
	for (uint32_t i = 0; i < m->nb_bufs; i++)
		if (m->bufs[i] == p) {
			m->bufs[i] = m->bufs[--m->nb_bufs];
			return true;
		}
	return false;
}

static void
heap_release(struct tide_donor_mgr *m, void *p)
{
	struct tide_donor_region *r;

	pthread_mutex_lock(&m->lock);
	r = dn_region_of_locked(m, p);
	if (r != NULL)
		r->nb_allocs--;
	pthread_mutex_unlock(&m->lock);
	rte_free(p);
}

void *
tide_donor_alloc(struct tide_donor_mgr *m, size_t size, unsigned int align)
{
	void *p = NULL;
	int ret;

	if (size == 0 || (align & (align - 1)) != 0) {
		DN_LOG(ERR, "zero size or alignment %u not a power of two", align);
		rte_errno = EINVAL;
		return NULL;
	}
	if (align == 0)
		align = RTE_CACHE_LINE_SIZE;
	/* What heap_grow() is asked for, rounded up to whole pages, must not wrap around. */
	if (size > DN_HEAP_GROW_MAX - align - HEAP_SLACK) {
		DN_LOG(ERR, "%zu bytes (aligned to %u) is more than a heap can hold", size,
			align);
		rte_errno = EINVAL;
		return NULL;
	}
	if (dn_mgr_enter(m, __func__) != 0)
		return NULL;
	pthread_mutex_lock(&m->req_lock);
	ret = heap_ensure(m);
	if (ret >= 0)
		p = heap_take(m, size, align, &ret);
	if (ret >= 0 && p == NULL) {
		ret = heap_grow(m, RTE_ALIGN_CEIL(size + align + HEAP_SLACK, DN_PINNED_PAGE));
		if (ret == 0)
			p = heap_take(m, size, align, &ret);
		if (ret == 0 && p == NULL) {
			DN_LOG(ERR, "%s: %zu bytes (aligned to %u) found no room in the heap grown "
				"for them", m->name, size, align);
			ret = -ENOMEM;
		}
	}
	if (p != NULL && heap_note(m, p) != 0) {
		heap_release(m, p);
		p = NULL;
		ret = -ENOMEM;
	}
	pthread_mutex_unlock(&m->req_lock);
	dn_mgr_leave(m);
	if (p == NULL)
		rte_errno = -ret;
	return p;
}

int
tide_donor_free(struct tide_donor_mgr *m, void *ptr)
{
	bool ours;
	int ret;

	if (ptr == NULL)
		return 0;
	ret = dn_mgr_enter(m, __func__);
	if (ret != 0)
		return ret;
	pthread_mutex_lock(&m->req_lock);
	ours = heap_forget(m, ptr);
	if (ours)
		heap_release(m, ptr);
	pthread_mutex_unlock(&m->req_lock);
	if (!ours)
		DN_LOG(ERR, "%s: %p is not a buffer of tide_donor_alloc(): refused", m->name, ptr);
	dn_mgr_leave(m);
	return ours ? 0 : dn_error(EINVAL);
}

int
tide_donor_heap_socket(struct tide_donor_mgr *m)
{
	int ret = dn_mgr_enter(m, __func__);

	if (ret != 0)
		return ret;
	pthread_mutex_lock(&m->req_lock);
	ret = heap_ensure(m);
	pthread_mutex_unlock(&m->req_lock);
	dn_mgr_leave(m);
	if (ret < 0)
		rte_errno = -ret;
	return ret;
}

/* The first heap region without buffers (m->lock held). */
static struct tide_donor_region *
heap_idle_locked(struct tide_donor_mgr *m, struct tide_donor_region *after)
{
	struct tide_donor_region *r = after != NULL ? TAILQ_NEXT(after, next) :
		TAILQ_FIRST(&m->regions);

	for (; r != NULL; r = TAILQ_NEXT(r, next))
		if (r->in_heap && r->nb_allocs == 0)
			return r;
	return NULL;
}

size_t
dn_heap_trim(struct tide_donor_mgr *m)
{
	struct tide_donor_region *r, *kept = NULL;
	size_t freed = 0;

	for (;;) {
		pthread_mutex_lock(&m->lock);
		r = heap_idle_locked(m, kept);
		pthread_mutex_unlock(&m->lock);
		if (r == NULL)
			return freed;
		for (uint32_t i = 0; i < r->nb_plugs; i++)
			rte_free(r->plugs[i].p);
		r->nb_plugs = 0;
		if (rte_malloc_heap_memory_remove(m->heap_name, r->addr, r->len) != 0) {
			DN_LOG(ERR, "%s: cannot take %zu bytes at %p out of heap %s: %s", m->name,
				r->len, r->addr, m->heap_name, rte_strerror(rte_errno));
			kept = r;
			continue;
		}
		pthread_mutex_lock(&m->lock);
		r->in_heap = false;
		pthread_mutex_unlock(&m->lock);
		freed += r->len;
		dn_region_free(r);
	}
}

size_t
tide_donor_trim(struct tide_donor_mgr *m)
{
	size_t freed;

	if (dn_mgr_enter(m, __func__) != 0)
		return 0;
	pthread_mutex_lock(&m->req_lock);
	freed = dn_heap_trim(m);
	pthread_mutex_unlock(&m->req_lock);
	dn_mgr_leave(m);
	return freed;
}

int
dn_heap_destroy(struct tide_donor_mgr *m)
{
	if (m->heap_socket < 0)
		return 0;
	if (rte_malloc_heap_destroy(m->heap_name) != 0) {
		DN_LOG(ERR, "%s: cannot destroy heap %s: %s", m->name, m->heap_name,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	m->heap_socket = -1;
	return 0;
}

/* ---- Pool blocks. */

static void
heap_block_free_cb(struct rte_mempool_memhdr *mh __rte_unused, void *opaque)
{
	tide_donor_region_free(opaque);
}

int
tide_donor_block_get(struct tide_donor_mgr *m, size_t bytes, struct tide_donor_block *blk)
{
	struct tide_donor_region *r;

	if (blk == NULL) {
		DN_LOG(ERR, "NULL block");
		return dn_error(EINVAL);
	}
	memset(blk, 0, sizeof(*blk));
	r = tide_donor_request(m, bytes, TIDE_DONOR_HUGE, TIDE_DONOR_F_NO_OWN);
	if (r == NULL)
		return -rte_errno;
	*blk = (struct tide_donor_block){
		.addr = r->addr, .iova = r->iova[0], .len = r->len,
		.free_cb = heap_block_free_cb, .opaque = r,
	};
	return 0;
}

int
tide_donor_pool_source(void *mgr, size_t bytes, struct tide_pool_ext_block *blk)
{
	struct tide_donor_block b;
	int ret;

	if (blk == NULL) {
		DN_LOG(ERR, "NULL block");
		return dn_error(EINVAL);
	}
	ret = tide_donor_block_get(mgr, bytes, &b);
	if (ret < 0)
		return ret;
	*blk = (struct tide_pool_ext_block){
		.addr = b.addr, .len = b.len, .free_cb = b.free_cb, .opaque = b.opaque,
	};
	return 0;
}

void
tide_donor_block_put(struct tide_donor_block *blk)
{
	if (blk == NULL || blk->opaque == NULL)
		return;
	tide_donor_region_free(blk->opaque);
	memset(blk, 0, sizeof(*blk));
}
