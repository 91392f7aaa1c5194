/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * DMA mapping for the devices of the instances' ports. Memory the agent pins and hands a
 * PMD by its IO address must be mapped for the port's device (DPDK memory is mapped by
 * its owner: EAL for its heap, the donor manager or a block source for external memory).
 * A mapped range is kept as IOVA-contiguous runs, each mapped for every device in the
 * table; a device that joins later is mapped for what exists, one that leaves is
 * unmapped. Everything here is called with the cache lock held (zctx_cache.c).
 */

#include <errno.h>
#include <stdlib.h>

#include <rte_dev.h>
#include <rte_errno.h>

#include "tide_fault.h"
#include "zctx_private.h"

struct dma_dev {
	struct rte_device *dev;
	unsigned int refs;        /* instance ports on it */
};

static struct {
	struct dma_dev devs[RTE_MAX_ETHPORTS];
	unsigned int nb_devs;
} dma;

/* ENOTSUP: a bus without DMA mapping (vdevs) or no IOMMU in use: nothing to do. */
static int
dma_one(struct rte_device *dev, const struct zc_map *m, bool map)
{
	int ret;

	if (map && TIDE_FAULT(TIDE_FAULT_DMA_MAP)) {
		ret = -1;
		rte_errno = EIO;
	} else {
		ret = map ? rte_dev_dma_map(dev, (void *)m->va, m->iova, m->len) :
			rte_dev_dma_unmap(dev, (void *)m->va, m->iova, m->len);
	}
	if (ret >= 0 || rte_errno == ENOTSUP)
		return 0;
	ZC_LOG(ERR, "cannot DMA-%smap %#lx+%zu for %s: %s", map ? "" : "un",
		(unsigned long)m->va, m->len, rte_dev_name(dev), rte_strerror(rte_errno));
	return -EIO;
}

int
tide_zctx_pvt_dma_dev_ref(struct rte_device *dev, bool *first)
{
	unsigned int d;

	for (d = 0; d < dma.nb_devs && dma.devs[d].dev != dev; d++)
		;
	*first = d == dma.nb_devs;
	if (!*first) {
		dma.devs[d].refs++;
		return 0;
	}
	if (d == RTE_DIM(dma.devs))
		return -ENOSPC;
	dma.devs[d] = (struct dma_dev){ .dev = dev, .refs = 1 };
	dma.nb_devs++;
	return 0;
}

bool
tide_zctx_pvt_dma_dev_unref(struct rte_device *dev)
{
	for (unsigned int d = 0; d < dma.nb_devs; d++)
		if (dma.devs[d].dev == dev) {
			if (--dma.devs[d].refs != 0)
				return false;
			dma.devs[d] = dma.devs[--dma.nb_devs];
			return true;
		}
	return false;
}

int
tide_zctx_pvt_maps_add(struct zc_maps *ms, uintptr_t va, rte_iova_t iova, size_t len)
{
	struct zc_map *m;

	if (ms->nb == ms->cap) {
		unsigned int cap = ms->cap != 0 ? ms->cap * 2 : 8;
		struct zc_map *n = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL :
			realloc(ms->v, cap * sizeof(*n));

		if (n == NULL) {
			ZC_LOG(ERR, "no memory to record %u pinned runs of a span", cap);
			return -ENOMEM;
		}
		ms->v = n;
		ms->cap = cap;
	}
	m = &ms->v[ms->nb];
	*m = (struct zc_map){ .va = va, .iova = iova, .len = len };
	for (unsigned int d = 0; d < dma.nb_devs; d++)
		if (dma_one(dma.devs[d].dev, m, true) != 0) {
			while (d-- > 0)
				dma_one(dma.devs[d].dev, m, false);
			return -EIO;
		}
	ms->nb++;
	return 0;
}

int
tide_zctx_pvt_maps_dma(const struct zc_maps *ms, struct rte_device *dev, bool map)
{
	for (unsigned int i = 0; i < ms->nb; i++)
		if (dma_one(dev, &ms->v[i], map) != 0 && map) {
			while (i-- > 0)
				dma_one(dev, &ms->v[i], false);
			return -EIO;
		}
	return 0;
}

void
tide_zctx_pvt_maps_trim(struct zc_maps *ms, unsigned int nb)
{
	while (ms->nb > nb) {
		ms->nb--;
		for (unsigned int d = 0; d < dma.nb_devs; d++)
			dma_one(dma.devs[d].dev, &ms->v[ms->nb], false);
	}
}

void
tide_zctx_pvt_maps_clear(struct zc_maps *ms)
{
	for (unsigned int d = 0; d < dma.nb_devs; d++)
		tide_zctx_pvt_maps_dma(ms, dma.devs[d].dev, false);
	free(ms->v);
	*ms = (struct zc_maps){ 0 };
}
