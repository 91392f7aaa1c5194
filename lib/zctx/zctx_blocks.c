/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The agent's knowledge of the blocks of tide mempools, kept by block events
 * (tide_mempool_block_event_register() for every tide mempool of the process) while any
 * instance or registration uses the cache. A payload in a block is DPDK memory, sent as it
 * is (never pinned, and DMA-mapped by its owner: EAL for its heap, the donor manager or
 * the pool's block source for external memory); each piece of a send in flight holds a
 * reference on its block. A REMOVE of a block that a send in flight still references is
 * vetoed (-EBUSY): the pool keeps it and retries later, so a block's memory never goes
 * while the NIC may still read from it -- even if the application freed the mbuf it sent
 * from before the completion, against the contract.
 *
 * The table is sorted by address. Everything here runs under the cache lock
 * (zctx_cache.c): the callback takes it, the other functions are called with it held --
 * except follow/unfollow, which register and unregister the callback and so must run
 * with no lock held (a registration replays the existing blocks into the callback).
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_memory.h>

#include "tide_mempool.h"
#include "zctx_private.h"

struct zc_block {
	struct rte_mempool *mp;
	uint64_t id;
	uintptr_t va;
	size_t len;
	uint32_t refs;          /* pieces of sends in flight */
	bool gone;              /* out of the table (its pool freed it while held) */
};

static struct {
	struct zc_block **v;    /* sorted by va */
	unsigned int nb, cap;
	struct {
		uint64_t added, removed, holds, vetoes, lost;
	} st;
} blk;

/* Registration: its own lock, never held with the cache lock. */
static pthread_mutex_t blk_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int blk_followers;
static bool blk_registered;

/* Index of the first block whose va is above @p va. */
static unsigned int
blocks_upper(uintptr_t va)
{
	unsigned int lo = 0, hi = blk.nb;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (blk.v[mid]->va <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
blocks_find(const struct rte_mempool *mp, uint64_t id)
{
	for (unsigned int i = 0; i < blk.nb; i++)
		if (blk.v[i]->mp == mp && blk.v[i]->id == id)
			return (int)i;
	return -1;
}

static void
blocks_add(struct rte_mempool *mp, const struct tide_mempool_block_desc *d)
{
	struct zc_block *b;
	unsigned int at;

	if (blocks_find(mp, d->id) >= 0)
		return; /* told again (a vetoed removal restored): known already */
	if (blk.nb == blk.cap) {
		unsigned int cap = blk.cap != 0 ? blk.cap * 2 : 64;
		struct zc_block **v = realloc(blk.v, cap * sizeof(*v));

		if (v == NULL)
			goto nomem;
		blk.v = v;
		blk.cap = cap;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto nomem;
	*b = (struct zc_block){ .mp = mp, .id = d->id, .va = (uintptr_t)d->addr,
		.len = d->len };
	at = blocks_upper(b->va);
	memmove(&blk.v[at + 1], &blk.v[at], (blk.nb - at) * sizeof(blk.v[0]));
	blk.v[at] = b;
	blk.nb++;
	blk.st.added++;
	return;
nomem:
	blk.st.lost++;
	ZC_LOG(ERR, "no memory to follow block %" PRIu64 " of %s: sends from it will not hold "
		"it", d->id, mp->name);
}

static void
blocks_drop(unsigned int i)
{
	struct zc_block *b = blk.v[i];

	memmove(&blk.v[i], &blk.v[i + 1], (blk.nb - i - 1) * sizeof(blk.v[0]));
	blk.nb--;
	if (b->refs == 0)
		free(b);
	else
		b->gone = true; /* freed with its last reference */
}

static int
blocks_remove(struct rte_mempool *mp, const struct tide_mempool_block_desc *d)
{
	int i = blocks_find(mp, d->id);

	if (i < 0)
		return 0;
	if (blk.v[i]->refs != 0) {
		if (!(d->flags & TIDE_MEMPOOL_BLOCK_F_FINAL)) {
			blk.st.vetoes++;
			ZC_LOG(DEBUG, "block %" PRIu64 " of %s stays: %u piece(s) of sends in "
				"flight use it", d->id, mp->name, blk.v[i]->refs);
			return -EBUSY;
		}
		ZC_LOG(ERR, "%s is freed while %u piece(s) of sends in flight use its block "
			"%" PRIu64 ": the NIC may read freed memory", mp->name, blk.v[i]->refs,
			d->id);
	}
	blocks_drop((unsigned int)i);
	blk.st.removed++;
	return 0;
}

static int
blocks_event(struct rte_mempool *mp, enum tide_mempool_block_event ev,
	const struct tide_mempool_block_desc *d, void *arg __rte_unused)
{
	int ret = 0;

	tide_zctx_pvt_cache_lock();
	if (ev == TIDE_MEMPOOL_BLOCK_ADD)
		blocks_add(mp, d);
	else
		ret = blocks_remove(mp, d);
	tide_zctx_pvt_cache_unlock();
	return ret;
}

void
tide_zctx_pvt_blocks_follow(void)
{
	pthread_mutex_lock(&blk_reg_lock);
	blk_followers++;
	/* Until a registration succeeds, every new user tries again. */
	if (!blk_registered && rte_eal_process_type() == RTE_PROC_PRIMARY) {
		if (tide_mempool_block_event_register(NULL, blocks_event, NULL) == 0)
			blk_registered = true;
		else
			ZC_LOG(WARNING, "cannot follow the blocks of elastic pools (%s): payloads "
				"in them are sent without holding their blocks", rte_strerror(rte_errno));
	} else if (rte_eal_process_type() != RTE_PROC_PRIMARY && blk_followers == 1) {
		/* Block events run in the primary, whose reaper does not see these sends. */
		ZC_LOG(NOTICE, "a secondary process: payloads in elastic pools' blocks are sent "
			"without holding their blocks (the primary may reap one under a send): "
			"send such memory from the primary, or copy it");
	}
	pthread_mutex_unlock(&blk_reg_lock);
}

void
tide_zctx_pvt_blocks_unfollow(void)
{
	pthread_mutex_lock(&blk_reg_lock);
	if (--blk_followers == 0 && blk_registered) {
		/* Once it returns, no event runs: the table is ours alone. */
		tide_mempool_block_event_unregister(NULL, blocks_event, NULL);
		blk_registered = false;
		tide_zctx_pvt_cache_lock();
		while (blk.nb > 0)
			blocks_drop(blk.nb - 1);
		free(blk.v);
		blk.v = NULL;
		blk.cap = 0;
		tide_zctx_pvt_cache_unlock();
	}
	pthread_mutex_unlock(&blk_reg_lock);
}

struct zc_block *
tide_zctx_pvt_block_hold(uintptr_t va, size_t *room)
{
	unsigned int i = blocks_upper(va);
	struct zc_block *b = i > 0 ? blk.v[i - 1] : NULL;

	if (b == NULL || va >= b->va + b->len) {
		/* In no block: up to the next one, where a piece must start afresh. */
		*room = i < blk.nb ? blk.v[i]->va - va : SIZE_MAX;
		return NULL;
	}
	b->refs++;
	blk.st.holds++;
	*room = b->va + b->len - va;
	return b;
}

void
tide_zctx_pvt_block_release(struct zc_block *b)
{
	if (--b->refs == 0 && b->gone)
		free(b);
}

void
tide_zctx_pvt_blocks_stats(struct tide_zctx_cache_stats *st)
{
	st->blocks = blk.nb;
	st->blocks_in_use = 0;
	for (unsigned int i = 0; i < blk.nb; i++)
		st->blocks_in_use += blk.v[i]->refs != 0;
	st->block_holds = blk.st.holds;
	st->block_vetoes = blk.st.vetoes;
	st->blocks_lost = blk.st.lost;
}
