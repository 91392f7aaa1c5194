/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * set pool wall|idle|reap: change the running pool's wall, idle threshold or reap period
 * (tide_pool_wall_set(), tide_pool_reap_set(): the pool's control thread uses them at its
 * next tick).
 */

#include <errno.h>

#include <rte_errno.h>

#include "tide_pool.h"
#include "tidepmd.h"

int
tpmd_pool_tune(struct rte_mempool *mp, enum tpmd_pool_knob knob, uint64_t value)
{
	switch (knob) {
	case TPMD_POOL_WALL:
		return tide_pool_wall_set(mp, (size_t)value << 20);
	case TPMD_POOL_IDLE:
		return tide_pool_reap_set(mp, TIDE_POOL_UNCHANGED, (unsigned int)value);
	case TPMD_POOL_REAP:
		return tide_pool_reap_set(mp, (unsigned int)value, TIDE_POOL_UNCHANGED);
	}
	rte_errno = EINVAL;
	return -EINVAL;
}
