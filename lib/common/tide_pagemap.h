/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_PAGEMAP_H
#define TIDE_PAGEMAP_H

/*
 * /proc/self/pagemap, where the donor and zctx libraries read the physical addresses of
 * pages in IOVA mode PA (internal, not installed). One open for both, so that both give a
 * caller the same errors: what the caller can act on, not the whole range of open(2)'s.
 */

#include <errno.h>
#include <fcntl.h>

#include "tide_fault.h"

/*
 * Open /proc/self/pagemap: a descriptor, or a negative errno with errno as open(2) left it
 * (for the caller's log line): -EPERM no right to it; -EMFILE, -ENFILE no descriptor left
 * in the process, in the system; -EIO any other reason (/proc not mounted, say).
 */
static inline int
tide_pagemap_open(void)
{
	int fd;

	if (TIDE_FAULT(TIDE_FAULT_FD)) {
		errno = EMFILE;
		return -EMFILE;
	}
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	switch (errno) {
	case EACCES:
	case EPERM:
		return -EPERM;
	case EMFILE:
	case ENFILE:
		return -errno;
	default:
		return -EIO;
	}
}

#endif /* TIDE_PAGEMAP_H */
