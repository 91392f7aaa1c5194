/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_DONOR_PLAN_H
#define TIDE_DONOR_PLAN_H

/**
 * @file
 * How a request for memory is split between the consumer and its donors: decides, never
 * acts (internal, not installed).
 *
 * The rule (seed 002, claims 4-6): the consumer takes what its own allowance still permits
 * first; the rest, the shortfall, comes from K = ceil(shortfall / per-process maximum)
 * donor processes, each holding at most that maximum: all but the last hold exactly the
 * maximum, the last holds the remainder. Everything is in whole pages.
 *
 * No system calls, no DPDK calls: the caller measures the limits (RLIMIT_MEMLOCK, the
 * bytes already locked, the --socket-limit and the heap's size, free hugepages) and passes
 * them in. Also here: reading --socket-limit from a command line, and what to do when a
 * donor dies.
 */

#include <stdbool.h>
#include <stdint.h>

/** No limit (an allowance or a maximum that is not bounded). */
#define DONOR_UNLIMITED UINT64_MAX

/** What a plan is computed from. Bytes throughout. */
struct donor_plan_in {
	uint64_t bytes;       /**< requested (> 0) */
	uint64_t page_sz;     /**< page size of the kind (power of two) */
	uint64_t own_avail;   /**< what the consumer's own allowance still permits */
	uint64_t own_max;     /**< most to take from it (configuration); 0: none */
	uint64_t donor_max;   /**< per-process maximum of one donor */
	uint32_t donors_left; /**< more donors that may run (max_donors - alive) */
	uint64_t sys_avail;   /**< what the system can give at all (free hugepages,
			       *   available RAM), DONOR_UNLIMITED when unknown */
};

/** A plan: own + (nb_donors - 1) * per_donor + last == bytes. */
struct donor_plan {
	uint64_t bytes;      /**< the request rounded up to whole pages */
	uint64_t own;        /**< from the consumer's own allowance */
	uint64_t shortfall;  /**< bytes - own: what the donors give */
	uint32_t nb_donors;  /**< K */
	uint64_t per_donor;  /**< each donor but the last (the per-process maximum) */
	uint64_t last;       /**< the last donor (0 < last <= per_donor), 0 without donors */
};

/**
 * Split a request.
 *
 * @return
 *   0 and @p out filled; -EINVAL a zero request, a page size that is not a power of two,
 *   or a request that overflows when rounded; -ENOMEM more than the system can give;
 *   -ENOSPC more donors needed than may run, or a per-process maximum below one page
 *   while donors are needed.
 */
int donor_plan_compute(const struct donor_plan_in *in, struct donor_plan *out);

/** Bytes of donor @p i (0 <= i < nb_donors) in a plan. */
uint64_t donor_plan_share(const struct donor_plan *p, uint32_t i);

/**
 * The consumer's own allowance left: @p limit - @p used - @p reserve, in whole pages
 * (0 when nothing is left), DONOR_UNLIMITED when @p limit is.
 *
 * @param strict
 *   The limit itself may not be reached (DPDK's --socket-limit refuses a heap size equal
 *   to it): one byte less is the most.
 */
uint64_t donor_own_allowance(uint64_t limit, uint64_t used, uint64_t reserve,
	uint64_t page_sz, bool strict);

/**
 * A donor's per-process maximum: the configured one if set (non-zero), else the measured
 * one; in whole pages.
 */
uint64_t donor_per_process_max(uint64_t configured, uint64_t measured, uint64_t page_sz);

/**
 * Find EAL's --socket-limit on a command line ("--socket-limit=1024,512" or
 * "--socket-limit 1024,512", megabytes per socket) and return socket @p socket's limit.
 *
 * The last one before "--" counts, as EAL's parser lets each occurrence overwrite the
 * previous one. A socket the value does not name, or names with 0, has no limit.
 *
 * @return
 *   0 and *bytes set (DONOR_UNLIMITED when socket @p socket has no limit); -ENOENT no
 *   such option; -EINVAL a malformed value.
 */
int donor_socket_limit_parse(int argc, const char *const *argv, unsigned int socket,
	uint64_t *bytes);

/** What becomes of a part whose donor died. */
enum donor_death_action {
	DONOR_DEATH_KEEP,   /**< hugepages: the consumer's mapping keeps them; nothing to do */
	DONOR_DEATH_REPIN,  /**< pinned: the pin died with the donor; have another donor lock
			     *   the same memory */
	DONOR_DEATH_REPORT, /**< pinned, no re-pin possible or allowed: report it unpinned */
};

/**
 * Decide what to do about a dead donor's part.
 *
 * @param pinned
 *   The part is of the pinned kind.
 * @param repin_allowed
 *   Configuration allows replacing a dead pinned donor.
 * @param donors_left
 *   More donors that may run now.
 * @param attempts
 *   Re-pins already tried for this part since its donor's last death.
 * @param max_attempts
 *   Most re-pins to try after one death.
 */
enum donor_death_action donor_death_decide(bool pinned, bool repin_allowed,
	uint32_t donors_left, uint32_t attempts, uint32_t max_attempts);

#endif /* TIDE_DONOR_PLAN_H */
