/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_CONFIG_H
#define TIDE_CONFIG_H

/*
 * Compile-time defaults of the tidepool libraries, in one place (as DPDK keeps its own in
 * config/rte_config.h). Each may be overridden on the compiler's command line
 * (-DTIDE_POOL_DEFAULT_BASE_BYTES=...); the public headers say which default each
 * params_init function fills, and tide_pool.h keeps the defaults that are part of the API
 * (tick, reap period, idle threshold). Internal: not installed.
 */

/* ---- elastic pools: tide_pool_params_init() ---- */

/** Per-lcore cache, objects. */
#ifndef TIDE_POOL_DEFAULT_CACHE
#define TIDE_POOL_DEFAULT_CACHE 256
#endif
/** Base block, bytes. */
#ifndef TIDE_POOL_DEFAULT_BASE_BYTES
#define TIDE_POOL_DEFAULT_BASE_BYTES (8u << 20)
#endif
/** Added block, bytes. */
#ifndef TIDE_POOL_DEFAULT_BLOCK_BYTES
#define TIDE_POOL_DEFAULT_BLOCK_BYTES (8u << 20)
#endif
/** Wall, bytes. */
#ifndef TIDE_POOL_DEFAULT_WALL_BYTES
#define TIDE_POOL_DEFAULT_WALL_BYTES (256u << 20)
#endif

/* ---- pools adopted from a stock creation: the built-in profile (config/pools.conf) ---- */

/** Base, as a share of what the application asked for: 1/TIDE_POOL_PROFILE_BASE_DEN. */
#ifndef TIDE_POOL_PROFILE_BASE_DEN
#define TIDE_POOL_PROFILE_BASE_DEN 32
#endif
/** Added block, bytes. */
#ifndef TIDE_POOL_PROFILE_BLOCK_BYTES
#define TIDE_POOL_PROFILE_BLOCK_BYTES (4ull << 20)
#endif
/** Reap period, ms (as TIDE_POOL_REAP_PERIOD_MS_DEFAULT). */
#ifndef TIDE_POOL_PROFILE_REAP_MS
#define TIDE_POOL_PROFILE_REAP_MS 50
#endif
/** Idle threshold, ms (as TIDE_POOL_IDLE_MS_DEFAULT). */
#ifndef TIDE_POOL_PROFILE_IDLE_MS
#define TIDE_POOL_PROFILE_IDLE_MS 500
#endif
/** Control-thread tick, us (as TIDE_POOL_TICK_US_DEFAULT). */
#ifndef TIDE_POOL_PROFILE_TICK_US
#define TIDE_POOL_PROFILE_TICK_US 1000
#endif

/* ---- pool sets: tide_pool_set_params_init() ---- */

/** Size classes. */
#ifndef TIDE_POOL_SET_DEFAULT_CLASSES
#define TIDE_POOL_SET_DEFAULT_CLASSES 4
#endif
/** Bytes class 0 holds after the headroom (a power of 2). */
#ifndef TIDE_POOL_SET_DEFAULT_MIN_SIZE
#define TIDE_POOL_SET_DEFAULT_MIN_SIZE 2048
#endif
/** Per-lcore cache of every class, objects. */
#ifndef TIDE_POOL_SET_DEFAULT_CACHE
#define TIDE_POOL_SET_DEFAULT_CACHE 256
#endif
/** Base block of every class, bytes. */
#ifndef TIDE_POOL_SET_DEFAULT_BASE_BYTES
#define TIDE_POOL_SET_DEFAULT_BASE_BYTES (4u << 20)
#endif
/** Added block of every class, bytes. */
#ifndef TIDE_POOL_SET_DEFAULT_BLOCK_BYTES
#define TIDE_POOL_SET_DEFAULT_BLOCK_BYTES (4u << 20)
#endif
/** Wall the classes share, bytes. */
#ifndef TIDE_POOL_SET_DEFAULT_WALL_BYTES
#define TIDE_POOL_SET_DEFAULT_WALL_BYTES (256u << 20)
#endif

/* ---- zero-copy TX: tide_zctx_params_init() and the pin cache ---- */

/** Sends outstanding per instance (tide_zctx_params.depth). */
#ifndef TIDE_ZCTX_DEFAULT_DEPTH
#define TIDE_ZCTX_DEFAULT_DEPTH 1024
#endif
/** Data-less mbufs for external segments, beyond two per send of the depth: enough for
 *  full TX rings and bursts. */
#ifndef TIDE_ZCTX_SHELLS
#define TIDE_ZCTX_SHELLS 16384
#endif
/** Per-lcore cache of the instance's pools, objects. */
#ifndef TIDE_ZCTX_POOL_CACHE
#define TIDE_ZCTX_POOL_CACHE 256
#endif
/** The elastic pool for headers and copies made when none is given: base, block, wall. */
#ifndef TIDE_ZCTX_POOL_BASE_BYTES
#define TIDE_ZCTX_POOL_BASE_BYTES (4u << 20)
#endif
#ifndef TIDE_ZCTX_POOL_BLOCK_BYTES
#define TIDE_ZCTX_POOL_BLOCK_BYTES (4u << 20)
#endif
#ifndef TIDE_ZCTX_POOL_WALL_BYTES
#define TIDE_ZCTX_POOL_WALL_BYTES (256u << 20)
#endif
/** Pinned bytes the cache keeps after their sends completed (tide_zctx_cache_params). */
#ifndef TIDE_ZCTX_CACHE_IDLE_BYTES
#define TIDE_ZCTX_CACHE_IDLE_BYTES (32ul << 20)
#endif
/** 2 MB spans the cache registers with DPDK at most (each one external memseg list). */
#ifndef TIDE_ZCTX_CACHE_SPANS
#define TIDE_ZCTX_CACHE_SPANS 64
#endif

#endif /* TIDE_CONFIG_H */
