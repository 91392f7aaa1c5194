/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TELEMETRY_H
#define TIDE_TELEMETRY_H

/*
 * What the libraries' telemetry handlers share (internal, not installed). DPDK hands a
 * handler whatever follows the first comma, so a command that takes no parameters must
 * look: otherwise "/tide/xchg/list,junk" answers as if the junk were fine.
 */

#include <stdbool.h>

/* Whether a command that takes no parameters was given none (DPDK gives NULL or ""). */
static inline bool
tide_tel_no_params(const char *params)
{
	return params == NULL || params[0] == '\0';
}

#endif /* TIDE_TELEMETRY_H */
