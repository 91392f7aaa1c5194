/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_MEMPOOL_PVT_H
#define TIDE_MEMPOOL_PVT_H

/*
 * Between the driver's ops and control calls (rte_mempool_tide.c) and its block events
 * (tide_mempool_events.c). Internal, not installed.
 *
 * A block is announced once its ADD event has fired, whether or not anyone listened: from
 * then on a REMOVE fires before it goes, and a late registration replays it. The driver
 * announces a block (and unannounces it) between tmp_ev_begin() and tmp_ev_end(); a
 * registration excludes them while it replays, so that every callback hears of every block
 * exactly once, in order.
 */

#include <rte_errno.h>
#include <rte_mempool.h>

#include "tide_mempool.h"
#include "tide_refuse.h"

/* Whether a block event callback runs on this thread (what it must not call is refused). */
bool tmp_ev_running(void);

/* Enter and leave a section that announces or removes blocks. */
void tmp_ev_begin(void);
void tmp_ev_end(void);

/* Tell the callbacks of @mp that a block was added (ADD). Between begin and end. */
void tmp_ev_add(struct rte_mempool *mp, const struct tide_mempool_block_desc *blk);

/*
 * Ask the callbacks of @mp to let a block go (REMOVE). Between begin and end. Returns 0,
 * or -EAGAIN when one vetoed: those that had accepted were told of the block again (ADD,
 * flagged RESTORED).
 */
int tmp_ev_remove(struct rte_mempool *mp, const struct tide_mempool_block_desc *blk);

/*
 * The announced blocks of @mp, oldest id first, in a malloc()ed array (*out, NULL when
 * there are none): their count, or -ENOMEM. The caller keeps blocks from changing (it
 * holds the registration side of the events' lock).
 */
int tmp_blocks_announced(struct rte_mempool *mp, struct tide_mempool_block_desc **out);

/* Watch for mempools being freed (once per process): 0, or a negative errno. */
int tmp_ev_watch(void);

/* The tide mempool @p mp is being freed (rte_mempool_free(), its DESTROY event). */
void tmp_dying_set(struct rte_mempool *mp);

extern int tide_mempool_logtype;

#define TMP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, tide_mempool_logtype, "tide_mempool: %s(): " fmt "\n", \
		__func__, ##__VA_ARGS__)

/* Refusals, as every library makes them (tide_refuse.h), logged through TMP_LOG. */
#define tmp_error(err) tide_refuse_errno(err)
#define TMP_REFUSE(level, err, fmt, ...) TIDE_REFUSE(TMP_LOG, level, err, fmt, ##__VA_ARGS__)

#endif /* TIDE_MEMPOOL_PVT_H */
