/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * set pool wall|idle|reap: change the running pool's wall, idle threshold or reap period.
 *
 * TODO(lead): lib/pool has no call that changes these on a live pool. Replace the body of
 * tpmd_pool_tune() with the library's setters once they exist, e.g.
 *
 *	int tide_pool_wall_set(struct rte_mempool *mp, size_t wall_bytes);
 *	int tide_pool_reap_set(struct rte_mempool *mp, unsigned int reap_period_ms,
 *		unsigned int idle_ms);
 *
 * (semantics in the P8 report). Until then every knob answers -ENOTSUP and the command
 * says so; nothing else in tidepmd depends on this file.
 */

#include <errno.h>

#include <rte_errno.h>

#include "tidepmd.h"

int
tpmd_pool_tune(struct rte_mempool *mp __rte_unused, enum tpmd_pool_knob knob __rte_unused,
	uint64_t value __rte_unused)
{
	rte_errno = ENOTSUP;
	return -ENOTSUP;
}
