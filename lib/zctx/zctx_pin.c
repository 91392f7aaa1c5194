/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Pinning: mlock() of page-aligned ranges, and a clear word on why it failed. The byte
 * limit (RLIMIT_MEMLOCK or the cache's pin_limit) is kept by the cache, which knows what
 * it holds; this file only turns the kernel's answers into errors. The system calls are
 * made directly: sanitizer runtimes turn the libc wrappers into no-ops. mlock() says ENOMEM
 * both for unmapped memory and (unprivileged) for the limit: mincore() tells them apart.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tide_fault.h"
#include "zctx_private.h"

size_t
tide_zctx_pvt_memlock_rlimit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return SIZE_MAX;
	return (size_t)rl.rlim_cur;
}

/* True when every page of the range is mapped. */
static bool
pin_mapped(uintptr_t va, size_t len)
{
	long psz = sysconf(_SC_PAGESIZE);
	unsigned char vec[64];

	/* mincore() fails with ENOMEM on any unmapped page; look in chunks of 64 pages. */
	for (size_t off = 0; off < len; off += 64 * (size_t)psz) {
		size_t n = RTE_MIN(len - off, 64 * (size_t)psz);

		if (mincore((void *)(va + off), n, vec) != 0 && errno == ENOMEM)
			return false;
	}
	return true;
}

/*
 * True unless part of the range is mapped without read access (PROT_NONE, say): mlock()
 * says ENOMEM for that too, and mincore() sees it mapped. /proc/self/maps, on the error
 * path only.
 */
static bool
pin_readable(uintptr_t va, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "re");
	unsigned long lo, hi;
	char perms[8], line[512];
	bool ok = true;

	if (f == NULL)
		return true;
	while (ok && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && lo < va + len &&
				hi > va && perms[0] != 'r')
			ok = false;
	fclose(f);
	return ok;
}

int
tide_zctx_pvt_pin(uintptr_t va, size_t len)
{
	int err;

	if (TIDE_FAULT(TIDE_FAULT_PIN)) {
		errno = ENOMEM;
		err = -1;
	} else {
		err = (int)syscall(SYS_mlock, va, len);
	}
	if (err == 0)
		return 0;
	err = errno;
	/* mlock() locks what is mapped before the hole it fails on: undo that. */
	syscall(SYS_munlock, va, len);
	if (err == ENOMEM && !pin_mapped(va, len)) {
		ZC_LOG(ERR, "cannot pin %#lx..%#lx: not mapped", (unsigned long)va,
			(unsigned long)(va + len));
		return -EFAULT;
	}
	if (err == ENOMEM && !pin_readable(va, len)) {
		ZC_LOG(ERR, "cannot pin %#lx..%#lx: mapped without read access", (unsigned long)va,
			(unsigned long)(va + len));
		return -EFAULT;
	}
	if (err == EPERM) {
		ZC_LOG(ERR, "cannot pin %zu bytes at %#lx: not permitted (RLIMIT_MEMLOCK is 0 and "
			"no CAP_IPC_LOCK)", len, (unsigned long)va);
		return -EPERM;
	}
	ZC_LOG(ERR, "cannot pin %zu bytes at %#lx: %s (over RLIMIT_MEMLOCK of %zu bytes, "
		"counting memory the process locked itself?)", len, (unsigned long)va,
		strerror(err), tide_zctx_pvt_memlock_rlimit());
	return -ENOMEM;
}

void
tide_zctx_pvt_unpin(uintptr_t va, size_t len)
{
	if (syscall(SYS_munlock, va, len) != 0)
		ZC_LOG(WARNING, "munlock %#lx+%zu: %s", (unsigned long)va, len, strerror(errno));
}
