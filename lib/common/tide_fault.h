/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_FAULT_H
#define TIDE_FAULT_H

/**
 * @file
 * @internal Fault injection for tests: not an API.
 *
 * Built with `-Dfault_injection=true`, each site below can be armed to fail a number of
 * times after a number of passes, so the failure paths of growth, population and the send
 * agent run in tests. Without the option TIDE_FAULT() is the constant false and costs
 * nothing, and neither this header nor libtide_common is installed. Arming and checking
 * are thread-safe. The functions are shared by every tidepool library (one copy, so that a
 * test arms a fault once for all of them): the INTERNAL node of libtide_common's version
 * map.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

/** Places that can be made to fail. */
enum tide_fault_site {
	TIDE_FAULT_MEMZONE,  /**< hugepage memzone reservation (exhausted hugepages) */
	TIDE_FAULT_POPULATE, /**< populating a block into the mempool */
	TIDE_FAULT_MALLOC,   /**< control-path rte_malloc/malloc */
	TIDE_FAULT_PIN,      /**< page pinning (mlock) */
	TIDE_FAULT_DIE_IN_LOCK, /**< the process kills itself holding a pool's driver lock */
	TIDE_FAULT_SPAWN,    /**< starting a donor process (posix_spawn) */
	TIDE_FAULT_THREAD,   /**< starting a thread (zctx agent, donor manager) */
	TIDE_FAULT_IOVA,     /**< translating pages to IO addresses (zctx) */
	TIDE_FAULT_FD,       /**< creating a file descriptor (eventfd, zctx; opening
			      *   /proc/self/pagemap, donor): EMFILE */
	TIDE_FAULT_NUMA,     /**< a block's pages read back on another NUMA node (pool) */
	TIDE_FAULT_CTL_THREAD, /**< starting the pool library's control thread */
	TIDE_FAULT_MEMBARRIER, /**< membarrier(2): registering, or a receiver's barrier */
	TIDE_FAULT_DMA_MAP,  /**< DMA-mapping pinned memory for a device (zctx) */
	TIDE_FAULT_HUGE_TAKEN, /**< a hugetlb map over a reserved range refused for want of
				*   hugepages, as the kernel does it: that part of the
				*   reservation unmapped, then ENOMEM (donor: the own part) */
	TIDE_FAULT_ATTACH_SILENT, /**< the primary leaves a secondary's attach unanswered */
	TIDE_FAULT_WATCH,    /**< watching a donor for its death (epoll_ctl): ENOSPC, as when
			      *   fs.epoll.max_user_watches is used up */
	TIDE_FAULT_NODE_PAGES, /**< a NUMA node's hugepages of a size read as none (pool) */
	TIDE_FAULT_SITES
};

/**
 * Places where a thread can be held, to open a race's window on purpose: a test arms one,
 * waits until a thread is held there, makes the other side of the race happen, then lets
 * the thread go on.
 */
enum tide_fault_hold_site {
	TIDE_HOLD_AGENT_PASS,     /**< zctx agent: a pass begun, whether it stops read */
	TIDE_HOLD_ZCTX_HANDS_OFF, /**< a timed-out zctx stop: the agent asked to leave the PMD */
	TIDE_HOLD_AGENT_ANSWERED, /**< zctx agent: that ask answered (no PMD call from here) */
	TIDE_HOLD_MSG_DIR_READ,   /**< msg telemetry: an exchange found, about to be read */
	TIDE_HOLD_POOL_TEL_READ,  /**< pool telemetry: a pool or set found by name, about to be
				   *   read */
	TIDE_HOLD_POOL_FREE_WAITS, /**< a pool's free, out of the directory, waits for a
				    *   telemetry handler still reading it */
	TIDE_HOLD_DIR_READ,        /**< a directory lookup (pools, exchanges), the directory
				    *   read-locked */
	TIDE_HOLD_ZCTX_DIR_READ,   /**< zctx telemetry: another process's instance found, the
				    *   directory read-locked, about to be read */
	TIDE_HOLD_DONOR_OWN_REFUSED, /**< donor: a request's own part could not be mapped; its
				      *   address range not yet given back */
	TIDE_HOLD_XCHG_PUBLISHED,  /**< a priority send: one level of a chunk published, the
				    *   lower ones not yet */
	TIDE_HOLD_POOL_GROWN,      /**< a growth of several blocks: one added, the next not
				    *   yet (the pool's grow lock held) */
	TIDE_HOLD_ZCTX_STATS_READ, /**< zctx stats: the outcome counters read, the sends taken
				    *   not yet */
	TIDE_HOLD_POOL_FOUND,      /**< a call on an elastic pool (waiting at the wall,
				    *   growing, reaping, tuning) found it in the registry, not
				    *   yet locked */
	TIDE_HOLD_POOL_FREE_HELD,  /**< a pool's free, out of the registry, waits for a call
				    *   or the control thread still holding it */
	TIDE_HOLD_POOL_STATS_READ, /**< tide_pool_stats_get() or tide_pool_block_list() found
				    *   its pool (pinned), about to read it */
	TIDE_HOLD_MSG_TEL_IN,      /**< msg telemetry: a handler in, the library's state kept
				    *   for it (tide_msg_fini() waits) */
	TIDE_HOLD_MSG_FINI_WAITS,  /**< tide_msg_fini(): a telemetry handler is in, fini waits
				    *   for it before tearing anything down */
	TIDE_HOLD_MSG_WALK_POOL,   /**< the walk over live messages: a pktmbuf pool found,
				    *   about to be read */
	TIDE_HOLD_MP_RECOVER,      /**< the primary: a secondary found gone, what it held
				    *   about to be given back */
	TIDE_HOLD_DONOR_OWN_PLANNED, /**< donor: a request's plan gives it an own part, not
				      *   yet mapped (the request's lock held) */
	TIDE_HOLD_SLEEPER_GONE,    /**< msg: a sleepers' slot found a gone process's, not yet
				    *   given back */
	TIDE_HOLD_BCAST_DONE,      /**< msg: a broadcast reader's done recorded, the sender
				    *   not yet told */
	TIDE_HOLD_SET_CLASS_MADE,  /**< a pool set's creation: a class made and growing, the
				    *   next not yet made */
	TIDE_HOLD_POOL_FREE_CHECKED, /**< tide_pool_free(): the pool found and checked, its
				      *   free not yet begun */
	TIDE_HOLD_DONOR_MGR_ENTERED, /**< donor: a call on a manager counted as its user, not
				      *   yet at work */
	TIDE_HOLD_DONOR_MGR_CLAIMED, /**< donor: a manager's free claimed it, nothing given
				      *   back yet */
	TIDE_HOLD_SITES
};

#ifdef TIDE_FAULT_INJECTION

/**
 * Make a site fail: the next @p skip checks pass, then @p count checks fail.
 * count = 0 disarms the site.
 */
void tide_fault_pvt_arm(enum tide_fault_site site, unsigned int skip, unsigned int count);

/** True when the armed site must fail now; consumes one pass or one failure. */
bool tide_fault_pvt_hit(enum tide_fault_site site);

#define TIDE_FAULT(site) unlikely(tide_fault_pvt_hit(site))

/** Arm a hold: the next thread to reach @p site waits there until released. */
void tide_fault_pvt_hold_arm(enum tide_fault_hold_site site);

/** Whether a thread is held at @p site, waiting up to @p timeout_ms for one. */
bool tide_fault_pvt_hold_wait(enum tide_fault_hold_site site, unsigned int timeout_ms);

/** Let the thread held at @p site go on (or disarm it if none has reached it). */
void tide_fault_pvt_hold_release(enum tide_fault_hold_site site);

/**
 * At @p site: wait there if it is armed, until released (at most TIDE_FAULT_HOLD_MAX_S
 * seconds: a test that forgets to release fails instead of hanging).
 */
void tide_fault_pvt_hold(enum tide_fault_hold_site site);

#define TIDE_FAULT_HOLD_MAX_S 10
#define TIDE_FAULT_HOLD(site) tide_fault_pvt_hold(site)

/** A clock: monotonic nanoseconds. */
typedef uint64_t (tide_fault_clock_t)(void);

/**
 * Replace the clock the control paths read (the pool library's control thread, reaper and
 * growth policy), so that tests drive time instead of sleeping; NULL restores the real one.
 */
void tide_fault_pvt_clock_set(tide_fault_clock_t *clock);

/** The clock set by tide_fault_pvt_clock_set(), or NULL. */
tide_fault_clock_t *tide_fault_pvt_clock(void);

#else

#define TIDE_FAULT(site) false
#define TIDE_FAULT_HOLD(site) do { } while (0)

#endif

#endif /* TIDE_FAULT_H */
