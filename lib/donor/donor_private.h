/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_DONOR_PRIVATE_H
#define TIDE_DONOR_PRIVATE_H

/* Internals of the donor library (not installed). */

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "donor_plan.h"
#include "donor_proto.h"
#include "tide_donor.h"
#include "tide_refuse.h"

extern int tide_donor_logtype;

#define DN_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, tide_donor_logtype, "tide_donor: %s(): " fmt "\n", __func__, \
		##__VA_ARGS__)

#define DN_DEFAULT_MAX_DONORS 64
#define DN_DEFAULT_HEAP_GROW (16ull << 20)
#define DN_DEFAULT_TIMEOUT_MS 5000
/* How long a donor told to terminate has before it is killed. */
#define DN_TERM_WAIT_MS 1000
/* Re-pins tried after one death of a part's donor before the part is reported unpinned
 * (each death has as many). */
#define DN_MAX_REPINS 3
/* Buffers tide_donor_alloc() sets aside in a region (unpinned memory) before it gives up. */
#define DN_MAX_PLUGS 64
#define DN_PINNED_PAGE DONOR_PINNED_PAGE
/* The most the heap asks for at once (heap_grow, or a buffer with its alignment and
 * overhead): whole pinned pages within a size_t, since a request is rounded up to whole
 * pages, which must not wrap around.
 */
#define DN_HEAP_GROW_MAX RTE_ALIGN_FLOOR(SIZE_MAX, (size_t)DN_PINNED_PAGE)
/* DPDK's heap names (RTE_HEAP_NAME_MAX_LEN is internal to EAL). */
#define DN_HEAP_NAMESIZE 32

/* Refusals, as every library makes them (tide_refuse.h), logged through DN_LOG. */
#define dn_error(err) tide_refuse_errno(err)
#define DN_REFUSE(level, err, fmt, ...) TIDE_REFUSE(DN_LOG, level, err, fmt, ##__VA_ARGS__)

/* One share of a region: the consumer's own, or one donor's. */
struct dn_part {
	uint64_t offset;
	uint64_t bytes;
	int memfd;            /* the memory; kept so that a new donor can take it over */
	uint64_t id;          /* the donor's id in its manager (0: the own part) */
	pid_t pid;            /* the donor (the last one once dead); getpid() for own */
	int pidfd;            /* -1 once reaped */
	int sock;             /* -1 once closed */
	enum tide_donor_state state;
	uint64_t locked_kb;   /* the donor's VmLck at handover */
	uint32_t repins;
	uint32_t repin_tries;  /* since its donor's last death (0 once re-pinned) */
};

struct tide_donor_region {
	TAILQ_ENTRY(tide_donor_region) next; /* in the manager's list */
	struct tide_donor_mgr *mgr;
	uint64_t id;
	enum tide_donor_kind kind;
	uint32_t flags;        /* the request's */
	uint8_t *addr;
	size_t len;
	size_t page_sz;
	void *map_base;        /* the address range reserved for it (alignment included) */
	size_t map_len;
	size_t hole_off;       /* of the range, bytes no longer ours (a failed map whose */
	size_t hole_len;       /*   reservation could not be taken back; 0: none) */
	rte_iova_t *iova;      /* one per page */
	bool registered;       /* rte_extmem_register() done */
	bool in_heap;          /* added to the manager's heap */
	bool freeing;          /* tide_donor_region_free() has begun */
	bool handed_out;       /* the application's: set as tide_donor_request() returns it,
				* cleared by the tide_donor_region_free() that takes it back
				* (under the manager's lock) */
	uint32_t nb_dma;       /* devices it is DMA-mapped for */
	struct rte_device **dma;
	uint64_t own_bytes;
	uint32_t nb_deaths;
	uint32_t nb_allocs;    /* heap: tide_donor_alloc() buffers in it */
	uint32_t nb_plugs;     /* heap: buffers set aside because they are unpinned (under
				* req_lock) */
	struct dn_plug {
		void *p;
		size_t len;
	} plugs[DN_MAX_PLUGS];
	uint32_t nb_parts;
	struct dn_part parts[];
};

/* What the control thread is asked to start: one donor per spec. */
struct dn_spawn_spec {
	enum tide_donor_kind kind;
	uint64_t bytes;
	uint64_t page_sz;
	unsigned int index;
	bool adopt;
	/* Results. */
	pid_t pid;
	int pidfd;
	int sock;
	int err;
};

struct dn_spawn_job {
	struct dn_spawn_spec *specs;
	unsigned int n;
	bool done;
};

struct tide_donor_mgr {
	TAILQ_ENTRY(tide_donor_mgr) next; /* in the registry */
	char name[TIDE_DONOR_NAMESIZE];
	char helper[PATH_MAX];
	struct tide_donor_params p;
	int socket_id;
	uint64_t heap_limit;    /* hugepage allowance on socket_id; DONOR_UNLIMITED: none */
	size_t huge_page_sz;
	pthread_mutex_t lock;   /* regions, parts, stats, the spawn job */
	pthread_cond_t cond;    /* spawn job done; re-pin done */
	pthread_mutex_t req_lock; /* one request (or region free) at a time */
	TAILQ_HEAD(, tide_donor_region) regions;
	uint64_t next_id;       /* donor ids */
	uint64_t next_region;   /* region ids */
	uint32_t alive;         /* donors started and not yet reaped */
	struct tide_donor_stats st;
	bool freeing;           /* a tide_donor_mgr_free() is under way (registry lock) */
	uint32_t users;         /* public calls on it under way (dn_mgr_enter(); registry
				 * lock): a free waits for none */
	/* The control thread. */
	pthread_t thread;
	bool thread_started;
	int epfd;
	int kickfd;
	bool stop;
	struct dn_spawn_job *job;
	/* tide_donor_alloc()'s heap. */
	char heap_name[DN_HEAP_NAMESIZE];
	int heap_socket;        /* -1 until created */
	void **bufs;            /* its buffers out (under req_lock) */
	uint32_t nb_bufs;
	uint32_t cap_bufs;
};

/* ---- donor_watch.c: the control thread */
void *dn_watch_main(void *arg);
/* Start donors on the control thread (their parent); specs get pid/pidfd/sock or err. */
void dn_spawn_on_thread(struct tide_donor_mgr *m, struct dn_spawn_spec *specs, unsigned int n);
/* Have the control thread watch a live donor for its death (m->lock held), or stop; the
 * watch's failure is a negative errno (logged: the donor's death would go unnoticed). */
int dn_watch(struct tide_donor_mgr *m, struct dn_part *pt);
void dn_unwatch(struct tide_donor_mgr *m, struct dn_part *pt);

/* ---- donor_mgr.c */
void dn_registry_lock(void);
void dn_registry_unlock(void);
struct tide_donor_mgr *dn_registry_first_locked(void);
struct tide_donor_mgr *dn_registry_next_locked(struct tide_donor_mgr *m);
struct tide_donor_mgr *dn_registry_find_locked(const char *name);
/* A public call @p call on @p m begins: found by address in the registry (nothing read
 * through a pointer freed already or never a manager) and not being freed, it counts as a
 * user until dn_mgr_leave(), and a free refuses meanwhile. 0, or -EINVAL (NULL, not a live
 * manager) or -EBUSY (a free of it under way), logged with rte_errno set.
 */
int dn_mgr_enter(struct tide_donor_mgr *m, const char *call);
void dn_mgr_leave(struct tide_donor_mgr *m);
/* tide_donor_stats_get() without its checks: for a manager found in the registry, under
 * its lock (telemetry). */
void dn_stats_read(struct tide_donor_mgr *m, struct tide_donor_stats *st);
/* Hugepage bytes the managers took as own parts on @p socket (the heap validator's): taken
 * by a request's plan (reserved), given back by whatever does not keep them. */
void dn_own_huge_add(int socket, int64_t bytes);
uint64_t dn_own_huge(int socket);
/* Take up to @p want bytes of own hugepages on @p socket, as much as @p limit permits with
 * DPDK's heap and the own hugepages taken already, at once (two requests never take the
 * same bytes); returns what it took (whole pages of @p page_sz). */
uint64_t dn_own_huge_reserve(int socket, uint64_t limit, uint64_t want, uint64_t page_sz);

/* ---- donor_spawn.c */
/* Start one donor (on the calling thread, which becomes its parent). */
int dn_spawn(struct tide_donor_mgr *m, struct dn_spawn_spec *s);
/* Receive one message from a donor before @p deadline_ns; -EPROTO (logged) for a malformed
 * one, one of another protocol version (logged as such: a tide-donor of another build) or
 * one that names another sender than the donor, -EMFILE (logged) for one whose
 * descriptors this process had no room for under its RLIMIT_NOFILE (the descriptors that
 * did arrive are in @p fds all the same, for the caller to close). */
int dn_recv(const struct tide_donor_mgr *m, const struct dn_part *pt, struct donor_msg *msg,
	int *fds, unsigned int *nfds, uint64_t deadline_ns);
/* Check a donor's share as received; 0 or a negative errno, with a log line. */
int dn_check_share(const struct tide_donor_mgr *m, const struct dn_part *pt,
	const struct donor_msg *msg, const int *fds, unsigned int nfds, enum tide_donor_kind kind,
	uint64_t page_sz);
/* Tell a donor to terminate (no wait). */
void dn_term(const struct dn_part *pt);
/* Terminate a donor (TERM, then SIGKILL after @p wait_ms; 0: SIGKILL at once) and reap. */
void dn_stop(struct tide_donor_mgr *m, struct dn_part *pt, unsigned int wait_ms);
/* Give a dead pinned donor's memory to a new donor (on the control thread): 0, or a
 * negative errno, logged: -EMFILE no descriptor free for the memory under the new donor's
 * RLIMIT_NOFILE (or for a message's under this process's, see dn_recv()); -ENOMEM it could
 * not lock it; -ECONNRESET, -ETIMEDOUT, -EPROTO it died, did not answer in time or broke the
 * protocol; or the errno of its start. */
int dn_repin(struct tide_donor_mgr *m, struct tide_donor_region *r, struct dn_part *pt);
uint64_t dn_now_ns(void);

/* ---- donor_limits.c */
uint64_t dn_rlimit_memlock(void);
long dn_vmlck_kb(pid_t pid);
size_t dn_huge_page_sz(void);
uint64_t dn_huge_free_bytes(size_t page_sz);
uint64_t dn_mem_available(void);
int dn_socket_limit(unsigned int socket, uint64_t *bytes);
uint64_t dn_heap_size(int socket);
/* IO addresses of @p n pages of @p page_sz at @p va (mapped and populated). */
int dn_iova_pages(const void *va, size_t n, size_t page_sz, rte_iova_t *iova);
/* 0 when every page of [va, va + len) is resident, -EFAULT when one is not (or the range
 * is not mapped), -ENOMEM when there is no memory to ask the kernel. */
int dn_resident(const void *va, size_t len);

/* ---- donor_region.c */
struct tide_donor_region *dn_request(struct tide_donor_mgr *m, size_t bytes,
	enum tide_donor_kind kind, uint32_t flags);
void dn_region_free(struct tide_donor_region *r);
/* The region of @p m (locked) that contains @p addr, or NULL. */
struct tide_donor_region *dn_region_of_locked(struct tide_donor_mgr *m, const void *addr);
/* A part of @p m (locked) by its donor's id. */
struct dn_part *dn_part_by_id_locked(struct tide_donor_mgr *m, uint64_t id,
	struct tide_donor_region **rp);
/* Bookkeeping of a part whose donor just died (locked); returns what to do. */
enum donor_death_action dn_part_died_locked(struct tide_donor_mgr *m,
	struct tide_donor_region *r, struct dn_part *pt);
/* Set the IO addresses of the region's pages [first, first + n) in DPDK's memsegs. */
void dn_region_set_iova(struct tide_donor_region *r, size_t first, size_t n);

/* ---- donor_heap.c */
/* Give back the heap's regions without buffers; locked by the caller (req_lock). */
size_t dn_heap_trim(struct tide_donor_mgr *m);
int dn_heap_destroy(struct tide_donor_mgr *m);

#endif /* TIDE_DONOR_PRIVATE_H */
