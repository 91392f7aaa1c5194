/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_POOL_PRIVATE_H
#define TIDE_POOL_PRIVATE_H

/* Internals of the elastic pool library (not installed). */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_seqlock.h>

#include "pool_policy.h"
#include "reap_policy.h"
#include "tide_fault.h"
#include "tide_mempool.h"
#include "tide_mempool_hooks.h"
#include "tide_pool.h"
#include "tide_refuse.h"
#include "tide_rwlock.h"

extern int tide_pool_logtype;

#define POOL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, tide_pool_logtype, "tide_pool: %s(): " fmt "\n", __func__, \
		##__VA_ARGS__)

/*
 * Bytes a block's memzone leaves of its k pages: room for DPDK 22.11's heap element
 * overhead (header and alignment, measured: one page per block needs at least 128 bytes
 * left), and too little for a free element to remain (its header and minimum data). A
 * block of k pages so maps exactly k new pages and leaves no free space in them: space
 * left there would take other small allocations (chunk headers, arrays), which would keep
 * the page mapped after the block is reaped.
 */
#define POOL_MZ_SLACK (2 * RTE_CACHE_LINE_SIZE)

/* A block larger than this is a mistake, not a plan. */
#define POOL_MAX_BLOCK (1ull << 32)

/* Most blocks one reaper pass releases. */
#define POOL_REAP_MAX 8

/* How growth was asked for. */
enum pool_grow_kind {
	POOL_GROW_BASE,  /* the base block, at creation */
	POOL_GROW_AHEAD, /* control thread, below target */
	POOL_GROW_SYNC,  /* inside a failing allocation */
	POOL_GROW_USER,  /* tide_pool_grow() */
	POOL_GROW_REMOTE, /* for a secondary process's failing allocation */
};

/* The most hugepage bytes a pool (or a set of pools) may hold, and what they hold. */
struct pool_wall {
	uint64_t limit; /* bytes; set at creation */
	uint64_t held;  /* bytes held by the pools under it; atomic */
};

/* A log line written at most once a POOL_FAIL_LOG_NS, of a counter (pool_log_due()). */
struct pool_log_limit {
	uint64_t at_ns;   /* when the last line was written (0: never) */
	uint64_t logged;  /* the counter then */
};

/* One block the pool holds. */
struct pool_blk {
	uint64_t id;                  /* the driver's block id */
	const struct rte_memzone *mz; /* its memory */
	size_t bytes;                 /* hugepage bytes it holds */
	uint64_t born_ns;             /* when it was added */
	uint64_t last_busy_ns;        /* last sample that saw an object of it out */
	uint64_t last_alloc_ns;       /* last sample that saw an object taken from it */
	uint32_t prev_free;           /* its free objects at the last sample */
	int node;                     /* NUMA node of its pages (-1 unknown, or
				       * TIDE_POOL_NODE_MIXED) */
	bool off_node;                /* not (wholly) on the pool's socket */
	bool ext;                     /* from the block source (mz is NULL) */
};

/* A request waiting at the wall. */
struct pool_waiter {
	TAILQ_ENTRY(pool_waiter) next;
	uint64_t ticket;
	struct rte_mbuf **m;
	unsigned int n;
	uint64_t deadline_ns;         /* 0: none */
	tide_pool_wait_cb_t *cb;      /* async requests: called once, off the lock */
	void *arg;
	pthread_cond_t cond;          /* blocking requests: signalled when done */
	int status;
	bool done;
};
TAILQ_HEAD(pool_waiter_list, pool_waiter);

/* Whose part a pool is (struct tide_pool's member). */
enum { POOL_MEMBER_NONE, POOL_MEMBER_SET, POOL_MEMBER_SOCKET };

struct tide_pool {
	TAILQ_ENTRY(tide_pool) next;     /* in the registry; under the registry lock */
	bool listed;                     /* in the registry; under the registry lock */
	uint32_t holds;                  /* this process's control thread or an API call
					  * works on it (pool_hold_locked()): pool_forget()
					  * waits for 0; under the registry lock */
	struct rte_mempool *mp;
	uint64_t serial;                 /* this process's pools' count at its creation: a
					  * call that lets go of the pool and finds it again by
					  * its mempool knows it is the same pool */
	struct tide_share pins;          /* telemetry handlers reading it, per process
					  * (pool_dir_pin()) */
	bool adopted;                    /* created by the application the stock way */
	uint8_t member;                  /* POOL_MEMBER_*: a class of a set, or a socket's
					  * pool of per-socket pools, freed with them only */
	bool started;                    /* adopted: the application took an object (until
					  * then its creation may still walk the objects: no
					  * growth, no reaping); control thread only */
	char name[RTE_MEMPOOL_NAMESIZE];
	struct tide_pool_params params;  /* as given, name pointing at name[] */
	size_t page_sz;                  /* hugepage size blocks are made of */
	size_t base_bytes;               /* base block, whole pages */
	size_t block_bytes;              /* added block, whole pages */
	unsigned int block_objs;         /* objects an added block holds (estimate) */
	uint64_t tick_ns;                /* control-thread period */
	uint64_t reap_ns;                /* reap period (0: no reaping) */
	uint64_t idle_ns;                /* idle threshold */
	uint64_t next_tick_ns;           /* control thread only */
	uint64_t next_reap_ns;           /* control thread only */
	struct pool_wall wall_own;       /* the pool's wall, unless it belongs to a set */
	uint64_t wall_born;              /* the wall it was created with (the most it may be
					  * set to: its mempool was sized for it) */
	uint64_t most_objs;              /* the most objects its blocks can ever hold: its
					  * base's, and whole blocks' under wall_born less the
					  * bases of the other pools under the same wall
					  * (pool_most_set()), at most the mempool's size */
	uint64_t wall_floor;             /* the least its wall may be set to: its base and the
					  * other pools' bases under the same wall
					  * (pool_most_set()) */
	struct pool_wall *wall;          /* the wall it grows under */
	bool base_held;                  /* until its base is in: the wall holds the base's
					  * bytes for it already (a pool set's class) */

	pthread_mutex_t grow_lock;       /* guards everything below up to the counters */
	rte_seqlock_t blocks_sl;         /* writers of blocks[] and nb_blocks take it too, so
					  * that readers in any process see a whole snapshot */
	struct pool_blk *blocks;         /* oldest first; [0] is the base; cap_blocks long */
	struct tide_reap_block *reap_view; /* scratch for the reap policy, cap_blocks long */
	struct tide_mempool_block_info *block_info; /* the driver's blocks at the last
					  * sample, cap_blocks long */
	uint32_t nb_blocks;
	uint32_t cap_blocks;
	uint64_t bytes;                  /* hugepage bytes held; read without the lock */
	struct tide_grow_policy grow_pol;
	struct tide_grow_state grow_st;
	uint64_t target_free;            /* read without the lock */
	struct pool_log_limit fail_log;  /* the "cannot grow" line, of grow_fails */
	struct pool_log_limit wall_log;  /* the "at its wall" line, of wall_hits */
	uint32_t growing;                /* pool_grow_locked() adds blocks: a failing
					  * allocation waits for it only until its mbufs are
					  * free (with a block source, not at all); atomic,
					  * written under the grow lock */
	tide_pool_block_source_t *src;   /* blocks when DPDK's heap has none (primary) */
	void *src_arg;
	bool src_counted;                /* counted by pool_mp_source_get() until freed */
	uint32_t drain_thresh[RTE_MAX_LCORE]; /* lcore caches being drained: their flush
					  * threshold to restore (0: not draining) */

	pthread_mutex_t wait_lock;       /* guards the waiters */
	struct pool_waiter_list waiters; /* FIFO */
	uint64_t next_ticket;
	uint32_t nb_waiting;
	uint64_t head_demand;            /* mbufs the head waiter asks for (0: none waits);
					  * written under wait_lock, read without */
	uint32_t nb_blocked;             /* callers inside tide_pool_alloc_wait() */
	pthread_cond_t blocked_gone;     /* signalled when nb_blocked drops to 0 */

	/* Counters, updated atomically. */
	uint64_t grows_ahead;
	uint64_t grows_sync;
	uint64_t grows_remote;
	uint64_t grows_ext;
	uint64_t grow_fails;
	uint64_t wall_hits;
	uint64_t grow_waits;
	uint64_t reaps;
	uint64_t reap_vetoes;
	uint64_t cache_drains;
	uint64_t demotes;
	uint64_t waits_served;
	uint64_t waits_timedout;
	uint64_t waits_cancelled;
	uint64_t ticks;
	uint64_t node_misses;
};

/* The time, ns: CLOCK_MONOTONIC, or the tests' clock in fault-injection builds. */
static inline uint64_t
pool_now_ns(void)
{
	struct timespec ts;

#ifdef TIDE_FAULT_INJECTION
	tide_fault_clock_t *clock = tide_fault_pvt_clock();

	if (clock != NULL)
		return clock();
#endif
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Refusals, as every library makes them (tide_refuse.h), logged through POOL_LOG. */
#define pool_error(err) tide_refuse_errno(err)
#define POOL_REFUSE(level, err, fmt, ...) TIDE_REFUSE(POOL_LOG, level, err, fmt, ##__VA_ARGS__)

/* pool.c: creation and the registry of elastic pools in this process. */
/* A pool growing under @p wall (NULL: a wall of its own), which holds its base's bytes for
 * it already when @p base_held. */
struct rte_mempool *pool_create(const struct tide_pool_params *p, struct pool_wall *wall,
	bool base_held);
struct tide_pool *pool_alloc(const struct tide_pool_params *p, size_t page_sz,
	struct pool_wall *wall);
void pool_setup_policy(struct tide_pool *tp);
void pool_dealloc(struct tide_pool *tp);
int pool_register(struct tide_pool *tp);
/*
 * Watch mempools being freed (pool_forget() at their DESTROY event), once: from EAL's
 * start on in a primary, so that the library's DESTROY callback comes before the driver's
 * (callbacks run in the order they were registered; the driver registers its own at its
 * first pool), and the control thread has let a pool go before its blocks' final REMOVE
 * events are told. pool_register() tries again should this fail.
 */
void pool_events_watch(void);
int pool_blocks_init(struct tide_pool *tp);
void pool_mutex_init(pthread_mutex_t *m);
void pool_cond_init(pthread_cond_t *c);
/* Take the library's side of @p mp away; false when it had none (not an elastic pool, or
 * another call took it first), or when its pool is not the one of @p serial (not 0). */
bool pool_forget(struct rte_mempool *mp, uint64_t serial);
/* Set tp->most_objs, once its base is in, with @p others bytes of the wall taken by the
 * bases of other pools under it (a pool set's other classes; 0 for a pool of its own). */
void pool_most_set(struct tide_pool *tp, uint64_t others);
/* Who may create pools from @p p: a primary, with parameters and a name; else EINVAL or
 * ENOTSUP (logged). */
int pool_params_caller_check(const struct tide_pool_params *p);
/*
 * tide_pool_free() for the set or per-socket pools that @p mp is a part of (@p owner), or
 * for the application (a part is then refused: freed alone, it would leave its owner
 * pointing at a freed mempool).
 */
void pool_free(struct rte_mempool *mp, bool owner);
/* Whether this thread runs a waiter's callback, which holds the pool it was called for:
 * a free of @p what from there is refused with EDEADLK (logged). */
bool pool_free_refused_in_callback(const char *what);
/* Mark the elastic pool @p mp a part of a set or of per-socket pools (POOL_MEMBER_*). */
void pool_member_set(struct rte_mempool *mp, uint8_t member);
/* Whether this is a secondary process, which must not free what lives in the primary's
 * memory: if so, @p what ("pool", "pool set"...) and @p name are logged at ERR and
 * rte_errno is set to ENOTSUP. */
bool pool_secondary_refuses_free(const char *what, const char *name);
size_t pool_page_size(int socket);

/* The stamp of what the processes share of the pools (tide_layout.h): the pools, blocks,
 * sets, walls and directory in shared memory, and the driver's state (pool_mp.c). */
uint64_t pool_layout(void);

/* The shared side of a pool set. */
struct pool_set_shared {
	char name[RTE_MEMPOOL_NAMESIZE];
	struct pool_wall wall;       /* the wall every class grows under */
	struct tide_pool_set *set;   /* its fast-path view, in shared memory too */
};

/* pool_dir.c: the directory of pools and sets, in shared memory. */
#define POOL_DIR_MAX TIDE_POOL_MAX_POOLS
int pool_dir_add_pool(struct tide_pool *tp);
void pool_dir_remove_pool(const struct tide_pool *tp);
int pool_dir_add_set(struct pool_set_shared *s);
/*
 * The shared side of the set @p s, found in the directory by its handle, @p s itself not
 * read, its name copied to @p name (RTE_MEMPOOL_NAMESIZE bytes); taken out of the directory
 * when @p take. NULL when @p s is no set there (freed already, or any other pointer).
 */
struct pool_set_shared *pool_dir_set_of(const struct tide_pool_set *s, bool take, char *name);
/* The pool of @p mp, or else named @p name; NULL if none. Not pinned: a pool another
 * thread frees may be gone once this returns (read it pinned: pool_dir_pin()). */
struct tide_pool *pool_dir_find(const struct rte_mempool *mp, const char *name);
struct pool_set_shared *pool_dir_find_set(const char *name);
void pool_dir_names(bool sets, void (*cb)(const char *name, void *arg), void *arg);
/*
 * Call @p cb on the record of the set named @p name, with the directory read-locked: the
 * record cannot be freed meanwhile. @p cb must not create or free pools or sets, nor look
 * in the directory again (a waiting writer blocks new readers), nor take other locks (a
 * pool's reader pins it instead: pool_dir_pin()). Gives what @p cb gives, or -ENOENT.
 */
typedef int (pool_dir_set_cb_t)(const struct pool_set_shared *in, void *arg);
int pool_dir_with_set(const char *name, pool_dir_set_cb_t *cb, void *arg);
/*
 * The pool of @p mp, or else named @p name, kept from being freed until
 * pool_dir_unpin(*@p pin); NULL if none. How a reader in any process (stats, telemetry)
 * keeps what pool_dir_find() gave from being freed under it. A pin is counted for this
 * process: the pins of a process that died are taken back.
 */
struct tide_pool *pool_dir_pin(const struct rte_mempool *mp, const char *name,
	uint32_t **pin);
void pool_dir_unpin(uint32_t *pin);
/*
 * Wait until no one has @p tp pinned (it left the directory: no one can pin it again); the
 * pins of processes that are gone are taken back, with a WARNING.
 */
void pool_dir_pins_wait(struct tide_pool *tp);

/* pool_compat.c: DPDK calls outside the public API. */
int pool_compat_watch_destroy(void);
/* Once: rte_eal_cleanup() calls pool_ctl_halt() before it unmaps memory. */
int pool_compat_watch_eal_cleanup(void);
void pool_registry_lock(void);
void pool_registry_unlock(void);
struct tide_pool *pool_lookup_locked(const struct rte_mempool *mp);
struct tide_pool *pool_first_locked(void);
struct tide_pool *pool_next_locked(struct tide_pool *tp);
/* The pool behind @p mp, not held: for its creator only (no free can race it). */
struct tide_pool *pool_get(const struct rte_mempool *mp);
/*
 * Keep @p tp, which is in the registry (the caller holds the registry lock), from being
 * forgotten until pool_release(): its free waits. So the control thread works on a pool
 * without the registry lock, which the API's lookups take.
 */
void pool_hold_locked(struct tide_pool *tp);
void pool_release_locked(struct tide_pool *tp);
void pool_release(struct tide_pool *tp);
/* The pool named @p name in the registry, held (pool_release()); NULL if none. */
struct tide_pool *pool_hold_named(const char *name);
/*
 * The pool behind @p mp in the registry, held (pool_release()); NULL if none (or @p mp is
 * NULL). What an API call on a pool looks it up with: a pool found without a hold may be
 * freed under the caller by another thread's free.
 */
struct tide_pool *pool_hold(const struct rte_mempool *mp);
/* The elastic pool behind @p mp, held (pool_release()), or NULL with rte_errno EINVAL or
 * ENOTSUP (a secondary: the primary "@p what", logged). */
struct tide_pool *pool_primary_hold(struct rte_mempool *mp, const char *what);
/* The same, with its grow lock taken: pool_primary_unlock() unlocks and releases it. */
struct tide_pool *pool_primary_lock(struct rte_mempool *mp, const char *what);
void pool_primary_unlock(struct tide_pool *tp);

/* pool_grow.c */
void pool_mem_back(void);
uint64_t pool_mem_gen(void);
int pool_grow_locked(struct tide_pool *tp, unsigned int nb_blocks, enum pool_grow_kind kind);
int pool_base_record(struct tide_pool *tp, const struct rte_memzone *mz, size_t bytes);
int pool_grow_sync_cb(struct rte_mempool *mp, unsigned int n, void *arg);
int pool_grow_demand(struct tide_pool *tp, unsigned int n, enum pool_grow_kind kind);
uint32_t pool_wall_room(const struct tide_pool *tp);
void pool_wall_give(struct pool_wall *w, uint64_t bytes);

/* pool_mp.c: a pool takes blocks from a block source, memory the primary alone maps.
 * pool_mp_source_get(): -EBUSY while a secondary is attached, else counted (and no
 * secondary attaches) until pool_mp_source_put(). */
int pool_mp_source_get(void);
void pool_mp_source_put(void);

/* pool_reap.c: with the grow lock held; how many blocks went. Blocks that went: the caller
 * calls pool_memsync() once it has let go of the grow lock (a round may wait seconds for a
 * secondary, and growth would wait with it). */
int pool_reap_locked(struct tide_pool *tp, uint64_t now);

/* pool_cache.c: lcore caches pinning blocks. */
void pool_cache_drain(struct tide_pool *tp, const struct tide_mempool_block_info *info,
	uint32_t nb);
void pool_cache_drain_end(struct tide_pool *tp);

/* pool_wait.c */
void pool_waiters_init(struct tide_pool *tp);
void pool_waiters_serve(struct tide_pool *tp, uint64_t now);
/* Free objects the head waiter needs to be served (0: none waits). */
uint64_t pool_waiters_demand(const struct tide_pool *tp);
void pool_waiters_close(struct tide_pool *tp);

/* pool_ctl.c: the control thread. */
int pool_ctl_start(void);
void pool_ctl_stop(void);
/* A death callback comes (@p on: the control thread starts if it does not run; 0 or a
 * positive errno) or goes (it stops if no pool or other callback needs it; 0). Called
 * without the registry lock.
 */
int pool_ctl_watch(bool on);
/* rte_eal_cleanup() has begun: the control thread stops for good, pools left or not. */
void pool_ctl_halt(void);
void pool_ctl_wake(void);
/* Whether the calling thread is the control thread (a waiter's callback runs there). */
bool pool_ctl_is_self(void);

/* pool_mp.c: multi-process (primary side, on the control thread). */
void pool_mp_serve(void);

/* pool_unstick.c: what one look of the primary's unstick thread remembers. */
struct pool_unstick {
	pid_t holder;      /* the process holding the lock this one waits for, or 0 */
	uint64_t since_ms; /* since when (CLOCK_MONOTONIC) */
};
/* One look: kill a secondary stuck for good holding the hugepage directory lock. */
void pool_unstick_pass(struct pool_unstick *u);
unsigned int pool_unstick_period_ms(void);
/* Processes killed so far. */
uint64_t pool_unstick_kills(void);

/* pool_memsync.c: secondaries let go of the pages the primary freed (primary only). */
int pool_memsync_init(void);
/* 0 once every secondary synced since the last page freed; -EAGAIN if one did not. */
int pool_memsync(void);
void pool_memsync_counts(uint64_t *rounds, uint64_t *failed);

/* pool_ctl.c: one tick of a pool's growth and reaping. */
void pool_tick(struct tide_pool *tp, uint64_t now);

/* pool_numa.c: NUMA nodes with libnuma (the decisions are numa_policy.h's). */
struct tide_numa_topo;
bool pool_numa_node_exists(int socket);
/* Whether node @p socket has hugepages of @p page_sz (true when it cannot be told). */
bool pool_numa_node_has_pages(int socket, size_t page_sz);
/* A pool's (or pool set's) @p socket and @p flags: 0, or EINVAL (logged, named @p name). */
int pool_socket_flags_check(const char *name, int socket, uint32_t flags);
void pool_numa_topo(struct tide_numa_topo *t);
int pool_numa_check(struct tide_pool *tp, const void *addr, size_t len, bool *off_node);

/* pool_telemetry.c: answers to bad requests, {"error": "<reason>"} (returns 0). */
struct rte_tel_data;
int pool_tel_error(struct rte_tel_data *d, const char *fmt, ...) __rte_format_printf(2, 3);
bool pool_tel_no_params(const char *params, struct rte_tel_data *d);
bool pool_tel_name_ok(const char *params, const char *what, const char *list,
	size_t max_len, struct rte_tel_data *d);

/* pool_stats.c */
/* 0, or the driver's negative errno (rte_errno set) if it refuses its counters: @p st is
 * then all zero, never half read. */
int pool_stats_locked(const struct tide_pool *tp, struct tide_pool_stats *st);
/* The first @p max of the pool's blocks in @p out, as one snapshot; gives how many the pool
 * has in all (may be more than @p max). */
uint32_t pool_blocks_snapshot(const struct tide_pool *tp, struct pool_blk *out, uint32_t max);
/* Block @p b as tide_pool_block_list() shows it at time @p now. */
struct tide_pool_block pool_blk_view(const struct pool_blk *b, uint64_t now);

#endif /* TIDE_POOL_PRIVATE_H */
