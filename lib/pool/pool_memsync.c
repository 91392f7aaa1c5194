/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Every secondary lets go of the pages the primary gave back before a block is grown again
 * (primary only).
 *
 * When the primary frees hugepages (a block reaped, a growth rolled back), DPDK asks each
 * secondary to sync its memory map with the primary's ("mp_malloc_sync"), and a secondary
 * unmaps the pages the primary no longer has. DPDK 22.11's rte_mp_request_sync() stops at
 * the first secondary that does not answer in time (one that is exiting, stopped, or
 * starved of CPU): the secondaries after it in the runtime directory never hear of the
 * free and keep their mapping of the freed page. A later sync only compares which pages
 * are in use, so when the primary grows a block on the same page again, they go on reading
 * the old one: zeros where the primary and the others see mbufs. A worker then crashes on
 * the first packet there; dpdk-pdump's own pool, placed there, breaks the primary.
 *
 * So the primary counts every page it frees (a memory event callback, registered during
 * rte_eal_init() by pool_mp.c's hook: frees made before any pool exists count too), and
 * before it reserves a block, and after it reaps, it sends DPDK's sync request to every
 * secondary once more, until one round is answered by all of them, each having synced:
 * the page is free then, so every secondary unmaps what it still had. Until such a round
 * completes, no block is reserved (growth fails with EAGAIN and is tried again), as DPDK
 * itself adds no memory while a secondary does not answer.
 *
 * The request is DPDK's own (lib/eal/common/malloc_mp.h: the same from 18.05 to 24.11):
 * only its type and id are read by a secondary, which answers with the same header.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eal_memconfig.h>
#include <rte_memory.h>
#include <rte_random.h>
#include <rte_string_fns.h>

#include "pool_private.h"

#define MEMSYNC_ACTION "mp_malloc_sync"
#define MEMSYNC_TYPE_SYNC 2     /* REQ_TYPE_SYNC */
#define MEMSYNC_RESULT_OK 0     /* REQ_RESULT_SUCCESS */
#define MEMSYNC_TIMEOUT_S 5     /* DPDK's own wait for a sync (MP_TIMEOUT_S) */
/* A request of the same name to the same secondary still waits: try again this soon,
 * within this long.
 */
#define MEMSYNC_BUSY_US 1000
#define MEMSYNC_BUSY_TRIES 5000
/* At most one "not every secondary synced" line per this many ns. */
#define MEMSYNC_LOG_NS (1000ull * 1000 * 1000)

/* struct malloc_mp_req: its type, the union of the allocation and free requests (unused
 * by a sync), its id and the secondary's result.
 */
struct memsync_req {
	int32_t type;
	uint8_t body[60];
	uint64_t id;
	int32_t result;
};

_Static_assert(offsetof(struct memsync_req, id) == 64 && sizeof(struct memsync_req) == 80,
	"DPDK's struct malloc_mp_req: id at 64, 80 bytes in all");
_Static_assert(sizeof(struct memsync_req) <= RTE_MP_MAX_PARAM_LEN, "fits a message");

static struct {
	pthread_mutex_t lock;  /* one round at a time */
	bool on;               /* the callback is registered: this is a primary with hotplug */
	uint64_t freed;        /* page frees seen (atomic) */
	uint64_t synced;       /* the value of freed the last complete round covered (atomic) */
	uint64_t rounds;       /* complete rounds (atomic) */
	uint64_t failed;       /* rounds some secondary did not complete (atomic) */
	uint64_t failing;      /* failed rounds since the last complete one; under lock */
	uint64_t logged_ns;    /* last failure line; under lock */
} ms = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
memsync_event(enum rte_mem_event type, const void *addr __rte_unused, size_t len __rte_unused,
	void *arg __rte_unused)
{
	if (type == RTE_MEM_EVENT_FREE)
		__atomic_fetch_add(&ms.freed, 1, __ATOMIC_RELEASE);
}

int
pool_memsync_init(void)
{
	int ret = 0;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	pthread_mutex_lock(&ms.lock);
	if (!ms.on) {
		if (rte_mem_event_callback_register("tide-memsync", memsync_event, NULL) == 0)
			__atomic_store_n(&ms.on, true, __ATOMIC_RELEASE);
		else if (rte_errno != ENOTSUP) /* legacy memory: pages are never freed */
			ret = -rte_errno;
	}
	pthread_mutex_unlock(&ms.lock);
	if (ret < 0)
		POOL_LOG(ERR, "cannot watch the pages this process frees: %s", rte_strerror(-ret));
	return ret;
}

/* Did every secondary answer @p reply to request @p id, synced? */
static const char *
memsync_check(const struct rte_mp_reply *reply, uint64_t id)
{
	if (reply->nb_received != reply->nb_sent)
		return "not every secondary answered";
	for (int i = 0; i < reply->nb_received; i++) {
		const struct rte_mp_msg *m = &reply->msgs[i];
		const struct memsync_req *r = (const struct memsync_req *)m->param;

		if (m->len_param < (int)sizeof(*r) || r->type != MEMSYNC_TYPE_SYNC || r->id != id)
			return "an answer to another request";
		if (r->result != MEMSYNC_RESULT_OK)
			return "a secondary failed to sync its memory map";
	}
	return NULL;
}

/* One round: NULL when every secondary synced, else why not. */
static const char *
memsync_round(void)
{
	struct rte_mp_msg msg = { .len_param = sizeof(struct memsync_req) };
	struct memsync_req *req = (struct memsync_req *)msg.param;
	struct timespec ts = { .tv_sec = MEMSYNC_TIMEOUT_S };
	struct rte_mp_reply reply = { 0 };
	const char *why = NULL;
	int ret, tries = 0;

	rte_strlcpy(msg.name, MEMSYNC_ACTION, sizeof(msg.name));
	req->type = MEMSYNC_TYPE_SYNC;
	req->id = rte_rand();
	/* As DPDK's own syncs: the primary's memory map does not shrink meanwhile. */
	rte_mcfg_mem_read_lock();
	while ((ret = rte_mp_request_sync(&msg, &reply, &ts)) != 0 && rte_errno == EEXIST &&
			++tries < MEMSYNC_BUSY_TRIES)
		usleep(MEMSYNC_BUSY_US);
	rte_mcfg_mem_read_unlock();
	if (ret != 0)
		why = rte_errno == ENOTSUP ? NULL : "a secondary did not answer in time";
	else
		why = memsync_check(&reply, req->id);
	free(reply.msgs);
	return why;
}

int
pool_memsync(void)
{
	uint64_t freed;
	const char *why;
	int ret = 0;

	if (!__atomic_load_n(&ms.on, __ATOMIC_ACQUIRE) ||
			__atomic_load_n(&ms.freed, __ATOMIC_ACQUIRE) ==
			__atomic_load_n(&ms.synced, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&ms.lock);
	/* What this round covers: a page freed while it runs needs another. */
	freed = __atomic_load_n(&ms.freed, __ATOMIC_ACQUIRE);
	if (freed == __atomic_load_n(&ms.synced, __ATOMIC_ACQUIRE))
		goto out;
	why = memsync_round();
	if (why == NULL) {
		__atomic_store_n(&ms.synced, freed, __ATOMIC_RELEASE);
		__atomic_fetch_add(&ms.rounds, 1, __ATOMIC_RELAXED);
		if (ms.failing > 0)
			POOL_LOG(NOTICE, "every secondary synced its memory map, after %" PRIu64
				" round(s) that some did not: growth goes on", ms.failing);
		ms.failing = 0;
		goto out;
	}
	__atomic_fetch_add(&ms.failed, 1, __ATOMIC_RELAXED);
	ms.failing++;
	if (ms.failing == 1 || pool_now_ns() - ms.logged_ns >= MEMSYNC_LOG_NS) {
		ms.logged_ns = pool_now_ns();
		POOL_LOG(WARNING, "pages were freed and not every secondary unmapped them (%s): "
			"no block is grown until one round reaches them all", why);
	}
	ret = -EAGAIN;
out:
	pthread_mutex_unlock(&ms.lock);
	return ret;
}

void
pool_memsync_counts(uint64_t *rounds, uint64_t *failed)
{
	*rounds = __atomic_load_n(&ms.rounds, __ATOMIC_RELAXED);
	*failed = __atomic_load_n(&ms.failed, __ATOMIC_RELAXED);
}
