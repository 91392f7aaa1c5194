/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_POOL_PROFILE_H
#define TIDE_POOL_PROFILE_H

/**
 * @file
 * Pool profiles: how a pool created through the stock DPDK API with the tide ops becomes
 * elastic (internal, not installed). A pure module: it parses text and answers questions,
 * no file or EAL access, so tests run it without EAL.
 *
 * A profile text has one profile per line: a pool-name pattern (fnmatch(3) syntax), then
 * key=value pairs; '#' starts a comment. The first line whose pattern matches the pool's
 * name gives its profile; keys it does not set keep the built-in defaults. Keys:
 *
 *   base=SIZE   memory the pool is populated with at creation (default 1/32)
 *   block=SIZE  memory each growth adds (default 4M)
 *   wall=SIZE   most memory the pool may hold (default 100%: what the application asked)
 *   reap=MS     reap period, milliseconds, 0 never reaps (default 50)
 *   idle=MS     a block may go after this long without an allocation (default 500)
 *   tick=US     control-thread check period, microseconds (default 1000)
 *               (the defaults: config/tide_config.h, TIDE_POOL_PROFILE_*)
 *   fixed       do not make the pool elastic: populate it whole, as stock DPDK does
 *   priv        a pktmbuf pool with a private area is elastic all the same: the application
 *               initialises no mbuf's private area after creation (grown mbufs have it as
 *               rte_pktmbuf_init() leaves it); without it such a pool is populated whole
 *
 * A SIZE is bytes with an optional K, M or G suffix (powers of 1024), or a share of the
 * memory the application asked for: a fraction "1/16" or a percentage "6%".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Longest pattern, bytes with the terminating NUL. */
#define TIDE_PROFILE_PATTERN_MAX 64

/** A size: bytes, or a share of the size the application asked for. */
struct tide_profile_size {
	uint64_t bytes; /**< when den == 0 */
	uint32_t num;   /**< share num/den of the requested size, when den != 0 */
	uint32_t den;
};

/** One profile. */
struct tide_pool_profile {
	char pattern[TIDE_PROFILE_PATTERN_MAX]; /**< pool-name pattern it came from */
	bool fixed;                    /**< populate whole, not elastic */
	bool priv;                     /**< elastic with a private area in its mbufs */
	struct tide_profile_size base; /**< memory at creation */
	struct tide_profile_size block; /**< memory per growth */
	struct tide_profile_size wall; /**< most memory held */
	uint32_t reap_ms;              /**< reap period, ms (0: never) */
	uint32_t idle_ms;              /**< idle threshold, ms */
	uint32_t tick_us;              /**< control-thread tick, us */
	unsigned int line;             /**< line of the text it came from; 0: built in */
};

/** Called for every line that cannot be parsed (it is ignored). */
typedef void (tide_profile_error_t)(void *arg, unsigned int line, const char *reason);

/**
 * Fill @p p with the built-in defaults (pattern "*").
 */
void tide_profile_defaults(struct tide_pool_profile *p);

/**
 * Parse one line.
 *
 * @param text
 *   The line, without its newline (it need not be NUL-terminated past @p len).
 * @param len
 *   Its length in bytes.
 * @param p
 *   Filled when the line holds a profile: defaults, then the line's keys.
 * @param reason
 *   Set to why the line is refused.
 * @return
 *   1 a profile; 0 a blank or comment line; -EINVAL a bad line (@p reason says why).
 */
int tide_profile_parse_line(const char *text, size_t len, struct tide_pool_profile *p,
	const char **reason);

/**
 * The profile of pool @p name: the first line of @p text whose pattern matches it, or the
 * defaults (line 0). Bad lines are reported through @p err (may be NULL) and skipped.
 *
 * @return
 *   The number of bad lines seen.
 */
unsigned int tide_profile_lookup(const char *text, const char *name,
	struct tide_pool_profile *p, tide_profile_error_t *err, void *arg);

/**
 * Resolve a size against the bytes the application asked for.
 *
 * @return
 *   Bytes (a share rounds down).
 */
uint64_t tide_profile_bytes(const struct tide_profile_size *s, uint64_t requested);

#endif /* TIDE_POOL_PROFILE_H */
