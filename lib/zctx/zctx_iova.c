/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Virtual to IO addresses. In IOVA-as-VA mode the IO address is the virtual one. In PA
 * mode it is the physical address, read from /proc/self/pagemap: one 64-bit entry per
 * page, bit 63 "present", bits 0-54 the page frame number (0 unless the process has
 * CAP_SYS_ADMIN). Only pinned pages are translated, so the frames do not move under
 * swapping (see tide_zctx.h about compaction). Memory DPDK already knows is translated
 * through its memseg lists.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_memory.h>

#include "tide_fault.h"
#include "tide_pagemap.h"
#include "zctx_private.h"

#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_PFN_MASK ((1ull << 55) - 1)
/* Entries read per pread(). */
#define PAGEMAP_CHUNK 512

static int iova_pagemap_fd = -1;
static bool iova_is_va;

int
tide_zctx_pvt_iova_open(void)
{
	int fd;

	iova_is_va = rte_eal_iova_mode() == RTE_IOVA_VA;
	if (iova_is_va)
		return 0;
	fd = tide_pagemap_open();
	if (fd < 0) {
		ZC_LOG(ERR, "cannot open /proc/self/pagemap (IOVA mode PA): %s", strerror(errno));
		return fd;
	}
	iova_pagemap_fd = fd;
	return 0;
}

void
tide_zctx_pvt_iova_close(void)
{
	if (iova_pagemap_fd >= 0)
		close(iova_pagemap_fd);
	iova_pagemap_fd = -1;
}

static int
iova_read(uintptr_t va, unsigned int n, size_t page_sz, uint64_t *ent)
{
	off_t at = (off_t)(va / page_sz) * (off_t)sizeof(uint64_t);
	size_t want = n * sizeof(uint64_t);
	ssize_t got = pread(iova_pagemap_fd, ent, want, at);

	if (got != (ssize_t)want) {
		ZC_LOG(ERR, "reading /proc/self/pagemap at %#lx: %s", (unsigned long)va,
			got < 0 ? strerror(errno) : "short read");
		return -EIO;
	}
	return 0;
}

int
tide_zctx_pvt_iova_pages(uintptr_t va, unsigned int n, size_t page_sz, rte_iova_t *iova)
{
	uint64_t ent[PAGEMAP_CHUNK];
	unsigned int done, i, k;
	int ret;

	if (TIDE_FAULT(TIDE_FAULT_IOVA)) {
		ZC_LOG(ERR, "reading /proc/self/pagemap at %#lx: injected failure",
			(unsigned long)va);
		return -EIO;
	}
	if (iova_is_va) {
		for (i = 0; i < n; i++)
			iova[i] = (rte_iova_t)(va + i * page_sz);
		return 0;
	}
	for (done = 0; done < n; done += k) {
		k = RTE_MIN(n - done, (unsigned int)PAGEMAP_CHUNK);
		ret = iova_read(va + done * page_sz, k, page_sz, ent);
		if (ret != 0)
			return ret;
		for (i = 0; i < k; i++) {
			uint64_t pfn = ent[i] & PAGEMAP_PFN_MASK;

			if (!(ent[i] & PAGEMAP_PRESENT)) {
				ZC_LOG(ERR, "page %#lx is not present after pinning "
					"(no access to it?)",
					(unsigned long)(va + (done + i) * page_sz));
				return -EFAULT;
			}
			if (pfn == 0) {
				ZC_LOG(ERR, "no physical addresses in /proc/self/pagemap: IOVA "
					"mode PA needs CAP_SYS_ADMIN");
				return -EPERM;
			}
			iova[done + i] = (rte_iova_t)(pfn * page_sz);
		}
	}
	return 0;
}

rte_iova_t
tide_zctx_pvt_iova_dpdk(const struct rte_memseg_list *msl, uintptr_t va, size_t *contig)
{
	const struct rte_memseg *ms = rte_mem_virt2memseg((const void *)va, msl);

	if (ms == NULL) {
		*contig = 0;
		return RTE_BAD_IOVA;
	}
	/* Memory registered without IO addresses: its bytes, for a PMD that reads by
	 * address (the agent sends it to no other).
	 */
	*contig = (uintptr_t)ms->addr + ms->len - va;
	if (ms->iova == RTE_BAD_IOVA)
		return RTE_BAD_IOVA;
	return ms->iova + (va - (uintptr_t)ms->addr);
}
