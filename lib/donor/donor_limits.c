/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * What the plan is computed from, measured: RLIMIT_MEMLOCK and what a process has locked
 * (VmLck), the hugepage size and how many are free, available RAM, the --socket-limit on
 * the command line, the size of DPDK's heap. And the IO addresses of mapped pages: the
 * virtual address in IOVA-as-VA mode, else /proc/self/pagemap (one 64-bit entry per 4 KB
 * of virtual memory: bit 63 "present", bits 0-54 the frame number, 0 without
 * CAP_SYS_ADMIN).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "donor_private.h"
#include "tide_fault.h"
#include "tide_pagemap.h"
#include "tide_process.h"

#define LIM_PAGEMAP_PRESENT (1ull << 63)
#define LIM_PAGEMAP_PFN_MASK ((1ull << 55) - 1)
#define LIM_PAGEMAP_CHUNK 512
#define LIM_SMALL_PAGE 4096ull
#define LIM_MAX_ARGS 256
#define LIM_CMDLINE_MAX 65536

uint64_t
dn_rlimit_memlock(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return DONOR_UNLIMITED;
	return (uint64_t)rl.rlim_cur;
}

long
dn_vmlck_kb(pid_t pid)
{
	return tide_process_status((uint32_t)pid, "VmLck");
}

size_t
dn_huge_page_sz(void)
{
	long kb = tide_proc_read_kv("/proc/meminfo", "Hugepagesize");

	return kb > 0 ? (size_t)kb << 10 : 0;
}

static long
lim_read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

uint64_t
dn_huge_free_bytes(size_t page_sz)
{
	char path[128];
	long free_pg, resv;

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/free_hugepages",
		page_sz >> 10);
	free_pg = lim_read_long(path);
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/resv_hugepages",
		page_sz >> 10);
	resv = lim_read_long(path);
	if (free_pg < 0)
		return DONOR_UNLIMITED;
	if (resv > 0)
		free_pg = free_pg > resv ? free_pg - resv : 0;
	return (uint64_t)free_pg * page_sz;
}

uint64_t
dn_mem_available(void)
{
	long kb = tide_proc_read_kv("/proc/meminfo", "MemAvailable");

	return kb < 0 ? DONOR_UNLIMITED : (uint64_t)kb << 10;
}

int
dn_socket_limit(unsigned int socket, uint64_t *bytes)
{
	const char *argv[LIM_MAX_ARGS];
	char *buf = malloc(LIM_CMDLINE_MAX);
	ssize_t n;
	int fd, argc = 0, ret;

	if (buf == NULL)
		return -ENOMEM;
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, LIM_CMDLINE_MAX - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		free(buf);
		return -ENOENT;
	}
	buf[n] = '\0';
	for (ssize_t i = 0; i < n && argc < LIM_MAX_ARGS; i += (ssize_t)strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	ret = donor_socket_limit_parse(argc, argv, socket, bytes);
	free(buf);
	return ret;
}

uint64_t
dn_heap_size(int socket)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats(socket, &st) != 0)
		return 0;
	return st.heap_totalsz_bytes;
}

static int
lim_pagemap_read(int fd, uintptr_t va, uint64_t *ent, size_t n)
{
	off_t at = (off_t)(va / LIM_SMALL_PAGE) * (off_t)sizeof(uint64_t);
	ssize_t got = pread(fd, ent, n * sizeof(uint64_t), at);

	if (got != (ssize_t)(n * sizeof(uint64_t))) {
		DN_LOG(ERR, "reading /proc/self/pagemap at %#lx: %s", (unsigned long)va,
			got < 0 ? strerror(errno) : "short read");
		return -EIO;
	}
	return 0;
}

static int
lim_pagemap_iova(uint64_t ent, uintptr_t va, rte_iova_t *iova)
{
	uint64_t pfn = ent & LIM_PAGEMAP_PFN_MASK;

	if (!(ent & LIM_PAGEMAP_PRESENT)) {
		DN_LOG(ERR, "page %#lx is not present", (unsigned long)va);
		return -EFAULT;
	}
	if (pfn == 0) {
		DN_LOG(ERR, "no physical addresses in /proc/self/pagemap: IOVA mode PA needs "
			"CAP_SYS_ADMIN");
		return -EPERM;
	}
	*iova = (rte_iova_t)(pfn * LIM_SMALL_PAGE);
	return 0;
}

int
dn_iova_pages(const void *va, size_t n, size_t page_sz, rte_iova_t *iova)
{
	uintptr_t base = (uintptr_t)va;
	uint64_t ent[LIM_PAGEMAP_CHUNK];
	size_t done = 0;
	int fd, ret = 0;

	if (rte_eal_iova_mode() == RTE_IOVA_VA) {
		for (size_t i = 0; i < n; i++)
			iova[i] = (rte_iova_t)(base + i * page_sz);
		return 0;
	}
	fd = tide_pagemap_open();
	if (fd < 0) {
		DN_LOG(ERR, "cannot open /proc/self/pagemap (IOVA mode PA): %s", strerror(errno));
		return fd;
	}
	while (done < n && ret == 0) {
		/* 4 KB pages: one entry each, read in chunks; larger pages: their first entry. */
		size_t k = page_sz == LIM_SMALL_PAGE ?
			RTE_MIN(n - done, (size_t)LIM_PAGEMAP_CHUNK) : 1;

		ret = lim_pagemap_read(fd, base + done * page_sz, ent, k);
		for (size_t i = 0; i < k && ret == 0; i++)
			ret = lim_pagemap_iova(ent[i], base + (done + i) * page_sz,
				&iova[done + i]);
		done += k;
	}
	close(fd);
	return ret;
}

int
dn_resident(const void *va, size_t len)
{
	size_t pg = LIM_SMALL_PAGE, n = (len + pg - 1) / pg;
	unsigned char *vec = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL : malloc(n);
	int ret = 0;

	if (vec == NULL)
		return -ENOMEM;
	if (mincore((void *)(uintptr_t)va, len, vec) != 0)
		ret = -EFAULT;
	for (size_t i = 0; ret == 0 && i < n; i++)
		if ((vec[i] & 1) == 0)
			ret = -EFAULT;
	free(vec);
	return ret;
}
