/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The agent's knowledge of the blocks of tide mempools, kept by block events
 * (tide_mempool_block_event_register() for every tide mempool of the process) while any
 * instance or registration uses the cache:
 *
 *  - A payload in a block is DPDK memory, sent as it is (never pinned); each piece of a
 *    send in flight holds a reference on its block. A REMOVE of a block that a send in
 *    flight still references is vetoed (-EBUSY): the pool keeps it and retries later, so
 *    a block's memory never goes while the NIC may still read from it -- even if the
 *    application freed the mbuf it sent from before the completion, against the contract.
 *  - A block outside DPDK's own heap (a donor block, or any block a pool's block source
 *    gave it: external memory, which EAL does not DMA-map for VFIO as it maps its heap) is
 *    DMA-mapped for the devices of the instances' ports when it is added (or when a device
 *    joins) and unmapped before it goes, so mbufs of such a block can be sent by the agent
 *    (its headers and copies come from a pool that may grow on donor memory) and the NIC
 *    can read them.
 *
 * The table is sorted by address. Everything here runs under the cache lock
 * (zctx_cache.c): the callback takes it, the other functions are called with it held --
 * except follow/unfollow, which register and unregister the callback and so must run
 * with no lock held (a late registration replays the existing blocks into the callback).
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
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
	struct zc_maps maps;    /* external memory: its DMA-mapped runs */
};

static struct {
	struct zc_block **v;    /* sorted by va */
	unsigned int nb, cap;
	struct {
		uint64_t added, removed, holds, vetoes, mapped, map_fails;
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

/* DMA-map an external block in IOVA-contiguous runs (from its memsegs' addresses). */
static int
blocks_map(struct zc_block *b, const struct rte_memseg_list *msl)
{
	uintptr_t va = b->va, end = b->va + b->len, run_va = va;
	rte_iova_t run_iova = RTE_BAD_IOVA;
	size_t run_len = 0;

	while (va < end) {
		size_t contig;
		rte_iova_t iova = tide_zctx_pvt_iova_dpdk(msl, va, &contig);
		int ret;

		if (iova == RTE_BAD_IOVA || contig == 0) {
			ZC_LOG(ERR, "block %" PRIu64 " of %s: no IO address at %#lx", b->id,
				b->mp->name, (unsigned long)va);
			return -EFAULT;
		}
		contig = RTE_MIN(contig, end - va);
		if (run_len > 0 && run_iova + run_len == iova) {
			run_len += contig; /* continues the run */
		} else {
			if (run_len > 0) {
				ret = tide_zctx_pvt_maps_add(&b->maps, run_va, run_iova, run_len);
				if (ret != 0)
					return ret;
			}
			run_va = va;
			run_iova = iova;
			run_len = contig;
		}
		va += contig;
	}
	return run_len > 0 ? tide_zctx_pvt_maps_add(&b->maps, run_va, run_iova, run_len) : 0;
}

static void
blocks_add(struct rte_mempool *mp, const struct tide_mempool_block_desc *d)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(d->addr);
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
	if (msl != NULL && msl->external) {
		int ret = blocks_map(b, msl);

		if (ret != 0) {
			tide_zctx_pvt_maps_clear(&b->maps);
			/* Sent from, it would fault the NIC: say so; the agent still
			 * follows it for its removal. */
			ZC_LOG(ERR, "block %" PRIu64 " of %s (%zu bytes of external memory) "
				"is not DMA-mapped for the ports: %s", d->id, mp->name, d->len,
				rte_strerror(-ret));
			blk.st.map_fails++;
		} else {
			blk.st.mapped++;
		}
	}
	at = blocks_upper(b->va);
	memmove(&blk.v[at + 1], &blk.v[at], (blk.nb - at) * sizeof(blk.v[0]));
	blk.v[at] = b;
	blk.nb++;
	blk.st.added++;
	return;
nomem:
	blk.st.map_fails++;
	ZC_LOG(ERR, "no memory to follow block %" PRIu64 " of %s", d->id, mp->name);
}

static void
blocks_drop(unsigned int i)
{
	struct zc_block *b = blk.v[i];

	memmove(&blk.v[i], &blk.v[i + 1], (blk.nb - i - 1) * sizeof(blk.v[0]));
	blk.nb--;
	tide_zctx_pvt_maps_clear(&b->maps);
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
	if (blk_followers++ == 0 && rte_eal_process_type() == RTE_PROC_PRIMARY) {
		if (tide_mempool_block_event_register(NULL, blocks_event, NULL) == 0)
			blk_registered = true;
		else
			ZC_LOG(WARNING, "cannot follow the blocks of elastic pools (%s): payloads "
				"in them are sent without holding their blocks, and external blocks "
				"are not DMA-mapped for the ports", rte_strerror(rte_errno));
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
	struct zc_block *b;

	if (i == 0)
		return NULL;
	b = blk.v[i - 1];
	if (va >= b->va + b->len)
		return NULL;
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
tide_zctx_pvt_blocks_dma(struct rte_device *dev, bool map)
{
	for (unsigned int i = 0; i < blk.nb; i++)
		tide_zctx_pvt_maps_dma(&blk.v[i]->maps, dev, map);
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
	st->blocks_mapped = blk.st.mapped;
	st->block_map_fails = blk.st.map_fails;
}
