/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_REFUSE_H
#define TIDE_REFUSE_H

/*
 * How every library refuses a call (internal, not installed): rte_errno set and a negative
 * errno returned; for bad input, first a line through the library's own log type.
 */

#include <rte_errno.h>

/* Set rte_errno to @p err; gives -err. Alone for what a caller polls for (EAGAIN, a
 * timeout), which is not logged.
 */
static inline int
tide_refuse_errno(int err)
{
	rte_errno = err;
	return -err;
}

/*
 * Refuse a call: @p LOG, the library's log macro, says why at @p level (ERR for bad input,
 * DEBUG for a plain miss), then rte_errno is set to @p err; gives -err. Never on a
 * per-packet path.
 */
#define TIDE_REFUSE(LOG, level, err, fmt, ...) \
	(LOG(level, fmt, ##__VA_ARGS__), tide_refuse_errno(err))

#endif /* TIDE_REFUSE_H */
