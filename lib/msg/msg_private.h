/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_MSG_PRIVATE_H
#define TIDE_MSG_PRIVATE_H

/*
 * Internals of the message library (not installed). Functions shared between its files
 * are named tide_msg_pvt_*: never exported (see version.map), never to be called by an
 * application.
 */

#include <rte_errno.h>
#include <rte_log.h>

#include "tide_msg.h"
#include "tide_refuse.h"
#include "tide_rwlock.h"
#include "tide_socket.h"

extern int tide_msg_logtype;

#define MSG_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, tide_msg_logtype, "tide_msg: %s(): " fmt "\n", __func__, \
		##__VA_ARGS__)

/* A proxy: an mbuf header with no pool, and the real message it points into. */
struct msg_proxy {
	struct rte_mbuf m;
	struct rte_mbuf *real;
} __rte_cache_aligned;

/* Free proxies an lcore keeps at hand, before going to the shared free list (struct
 * tide_msg_conf's sizing advice says 64). */
#define MSG_PROXY_STASH 64

struct msg_proxy_stash {
	uint32_t len;
	struct msg_proxy *p[MSG_PROXY_STASH];
} __rte_cache_aligned;

/* Most exchanges (and, apart, broadcast exchanges) in a primary and its secondaries. */
#define MSG_DIR_MAX 128

/* What every process attached to the primary shares (msg_shared.c), in one memzone. */
#define MSG_SHARED_MZ "tide_msg_shared"
struct msg_shared {
	struct tide_rwlock lock;     /* guards the directories and the stages; first: tests
				      * watch it at the memzone's start */
	uint64_t layout;             /* tide_msg_pvt_layout() of the build that made it */
	int hdr_offset;              /* the header's dynfield offset */
	struct msg_proxy *proxies;   /* the proxy area */
	uint32_t nb_proxies;
	struct tide_xring *proxy_free;
	struct msg_proxy_stash *stash;
	struct tide_xchg *xchg[MSG_DIR_MAX];   /* NULL: a free slot */
	struct tide_bcast *bcast[MSG_DIR_MAX]; /* NULL: a free slot */
	struct {
		char name[TIDE_STAGE_NAMESIZE]; /* "": a free id */
		uint32_t pid;                   /* the process it belongs to */
		uint64_t start;                 /* when that process started (with the
						 * pid, it names one: ids are reused) */
	} stages[TIDE_STAGE_MAX];
};

/* What tide_msg_init() sets up, in this process. */
struct msg_state {
	bool ready;
	struct msg_proxy *proxies;   /* the proxy area */
	uint32_t nb_proxies;
	struct tide_xring *proxy_free; /* free proxies of the area (msg_proxy.c) */
	struct msg_proxy_stash *stash; /* per lcore (non-EAL threads use the free list) */
	struct msg_shared *shared;   /* what every process shares */
};

extern struct msg_state tide_msg_pvt_state;

/* Longest sleep of a blocked receiver that could not issue its barrier (msg_fence.c). */
#define MSG_SLEEP_SLICE_US 1000

/* msg_sleepers.c: threads about to sleep on a futex word that a waker wakes only when some
 * are (struct tide_sleepers). A thread joins before its last look at what it waits for and
 * sleeps: the slot its process's share is in, or -1 (every slot another live process's: not
 * counted, it sleeps no longer than MSG_SLEEP_SLICE_US).
 */
int tide_sleepers_pvt_join(struct tide_sleepers *s);
/* Once awake: off the count again (nothing for @p slot -1). */
void tide_sleepers_pvt_leave(struct tide_sleepers *s, int slot);
/* Every slot of a process that is gone is given back, its share off the count (reads /proc:
 * a look per slot taken).
 */
void tide_sleepers_pvt_recover(struct tide_sleepers *s);

/* Register this process for the receivers' barrier, or make its sends fence (msg_fence.c). */
void tide_msg_pvt_fence_init(void);

/*
 * Before a receiver re-checks and sleeps: every running thread of every registered process
 * passes a full barrier. False if the kernel refused: sleep no longer than
 * MSG_SLEEP_SLICE_US then.
 */
bool tide_msg_pvt_sleep_barrier(void);

/* Refusals, as every library makes them (tide_refuse.h), logged through MSG_LOG. */
#define msg_error(err) tide_refuse_errno(err)
#define MSG_REFUSE(level, err, fmt, ...) TIDE_REFUSE(MSG_LOG, level, err, fmt, ##__VA_ARGS__)

/* The proxy whose mbuf header @p m is. */
static inline struct msg_proxy *
tide_msg_pvt_proxy_of(struct rte_mbuf *m)
{
	return container_of(m, struct msg_proxy, m);
}

/* msg_proxy.c: the proxy area. 0, or -ENOMEM. */
int tide_msg_pvt_proxy_area_init(uint32_t n, int socket);
void tide_msg_pvt_proxy_area_fini(void);
/* Proxies made and not released yet (exact while no other thread makes or releases any). */
uint32_t tide_msg_pvt_proxies_live(void);
bool tide_msg_pvt_in_proxy_area(const void *p);

/* msg_xring.c: set up @p r with room for @p size messages a level (rounded up to
 * 2^k - 1) and @p levels levels, a single sender and/or receiver or not; 0, -EINVAL
 * (no level, too many, size 0 or over 2^30 slots in all) or -ENOMEM.
 */
int tide_xring_pvt_init(struct tide_xring *r, unsigned int size, unsigned int levels,
	bool single_prod, bool single_cons, int socket);
/* Free what tide_xring_pvt_init() allocated (the rings must be empty, or their messages
 * dealt with by the caller).
 */
void tide_xring_pvt_fini(struct tide_xring *r);

/* A broadcast exchange (msg_bcast.c): opaque to applications, here for the tests. */
struct bcast_reader {
	uint64_t read_gen; /* generation it last read (0: none, or its read undone) */
	uint32_t pid;      /* the process that read read_gen */
	uint64_t start;    /* when it started (tide_process_start(); 0: not known) */
} __rte_cache_aligned;

struct tide_bcast {
	char name[RTE_RING_NAMESIZE];
	unsigned int nb_readers;
	struct rte_mbuf *m;        /* posted, or NULL */
	uint64_t gen;              /* bumped by each post (after m and the sections) */
	uint32_t done;             /* futex word for the sender: bumped when the last reader
				    * of a post is done (and by the recovery of a reader) */
	uint64_t done_bits[TIDE_BCAST_MAX_READERS / 64]; /* readers done with gen, a bit each:
				    * what a reader's done records, in one atomic step */
	struct tide_sleepers sleepers; /* threads asleep on done, in tide_bcast_wait() */
	uint16_t owner;            /* the stage that held m when posted (TIDE_STAGE_NONE: none,
				    * or its process is gone) */
	uint64_t posts;
	struct tide_bcast_section *sections; /* nb_readers, or NULL */
	struct bcast_reader readers[];
};

/* msg.c: walking every live message (real ones in every pktmbuf pool, and proxies), while
 * no mempool can be freed (tide_mempool_walk_held()): a visit must not create or free one. */
typedef void (msg_visit_t)(struct rte_mbuf *m, void *arg);
void tide_msg_pvt_walk(msg_visit_t *fn, void *arg);
struct rte_mempool *tide_msg_pvt_pool_owning(const void *p);

/* msg_xchg.c, msg_bcast.c, msg_stage.c: names for telemetry. */
typedef void (msg_name_cb_t)(const char *name, void *arg);
typedef void (msg_read_cb_t)(const void *p, void *arg);
void tide_msg_pvt_xchg_foreach(msg_name_cb_t *cb, void *arg);
void tide_msg_pvt_bcast_foreach(msg_name_cb_t *cb, void *arg);
const char *tide_msg_pvt_stage_name(uint16_t stage);
/* Call @p fn on the exchange named @p name, which cannot be freed meanwhile (see
 * tide_msg_pvt_dir_read): 0, or -ENOENT (none, or tide_msg_init() not called). Nothing logged.
 */
int tide_msg_pvt_xchg_read(const char *name, msg_read_cb_t *fn, void *arg);
/* A broadcast exchange's counters, read as its free cannot run: 0, or -ENOENT. */
struct msg_bcast_info {
	unsigned int readers;
	uint64_t posts;
	uint32_t done;
	uint32_t sleepers; /* threads counted asleep in tide_bcast_wait() */
	bool posted;
};
int tide_msg_pvt_bcast_info(const char *name, struct msg_bcast_info *info);
/* A broadcast exchange's size with one reader (for tide_msg_pvt_layout()). */
size_t tide_msg_pvt_bcast_size(void);

/* msg_xchg.c, in the primary: a process is gone, @p stages (@p n) were its. What it was
 * receiving when it died is put back in transit (before its stages are released), and its
 * receivers blocked in tide_xchg_recv_wait() are no longer counted as sleepers. */
void tide_xchg_pvt_peer_gone(const uint16_t *stages, unsigned int n);
/* msg_xring.c: called when the receivers' turn of ring @p r was just taken over from a dead
 * process (the caller holds it), or when a single receiver's process is not the one that
 * received last: msg_xchg.c's, which makes again what a receive cut short left unmade and
 * returns how many (a ring is an exchange's; NULL where rings are alone, in their unit
 * test). */
extern unsigned int (*tide_xring_pvt_receiver_gone)(struct tide_xring *r);

/* msg_bcast.c, in the primary: process @p pid is gone, @p stages (@p n) were its; a
 * broadcast it was reading when it died is there to read again for the reader that takes
 * its place, a post of its stages stays posted, given to no stage when taken, and its
 * threads blocked in tide_bcast_wait() are no longer counted as sleepers. */
void tide_bcast_pvt_peer_gone(int pid, const uint16_t *stages, unsigned int n);

/* msg_shared.c: what the processes share. */
uint64_t tide_msg_pvt_layout(void);
struct msg_shared *tide_msg_pvt_shared(void);
/* The primary's shared state: 0, or -ENOMEM, -EEXIST (a zone of its name), -EAGAIN (the
 * control thread that finds dead secondaries cannot start): what tide_msg_init() says. */
int tide_msg_pvt_shared_create(int hdr_offset, int socket);
int tide_msg_pvt_shared_attach(void);
void tide_msg_pvt_shared_free(void);
/* A telemetry handler's reads of the library's state, which tide_msg_init() and
 * tide_msg_fini() wait for (msg.c): every handler between the two. */
void tide_msg_pvt_tel_enter(void);
void tide_msg_pvt_tel_leave(void);
/* Enter @p p in a directory: 0, -EEXIST (an entry of its name is there) or -ENOSPC. */
int tide_msg_pvt_dir_add(void **table, const char *(*name_of)(const void *p), void *p);
/* Take @p p out of a directory: false if it was not there (freed already, or never made),
 * true for the one caller that took it out.
 */
bool tide_msg_pvt_dir_remove(void **table, const void *p);
void *tide_msg_pvt_dir_find(void * const *table, const char *(*name_of)(const void *p),
	const char *name);
/* Call @p fn on the entry named @p name with the directories' lock held for reading (the
 * entry cannot be freed meanwhile; @p fn takes no lock and calls nothing that does): 0, or
 * -ENOENT.
 */
int tide_msg_pvt_dir_read(void * const *table, const char *(*name_of)(const void *p),
	const char *name, msg_read_cb_t *fn, void *arg);
void tide_msg_pvt_dir_foreach(void * const *table, const char *(*name_of)(const void *p),
	msg_name_cb_t *cb, void *arg);
/* Call @p fn on every entry with the directories' lock held for reading (as
 * tide_msg_pvt_dir_read()'s). */
void tide_msg_pvt_dir_each(void * const *table, void (*fn)(void *p, void *arg), void *arg);
/* Entries of the directories of exchanges and of broadcast exchanges (0 before
 * tide_msg_init()). */
void tide_msg_pvt_dir_count(unsigned int *nb_xchg, unsigned int *nb_bcast);
int tide_msg_pvt_stage_add(const char *name);
/* Forget @p stage: 0; -EINVAL not registered; -EPERM with @p mine_only, another process's
 * (checked under the same write lock as the removal). */
int tide_msg_pvt_stage_remove(uint16_t stage, bool mine_only);
/* Stages registered now, by any process (0 before tide_msg_init()). */
unsigned int tide_msg_pvt_stage_count(void);
/* In the primary: release what the stages of processes that are gone hold, and free those
 * stages, as when the pools' recovery reports such a process (see msg_shared.c). */
void tide_msg_pvt_stages_gone_recover(void);
const char *tide_msg_pvt_stage_copy(uint16_t stage, uint32_t *pid);
bool tide_msg_pvt_stage_mine(uint16_t stage);
bool tide_msg_pvt_stage_live(uint16_t stage);
/* The proxy area's size and its proxies not released, read as the area cannot go. */
void tide_msg_pvt_proxy_counts(uint32_t *size, uint32_t *live);

#endif /* TIDE_MSG_PRIVATE_H */
