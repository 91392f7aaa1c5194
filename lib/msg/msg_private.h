/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_MSG_PRIVATE_H
#define TIDE_MSG_PRIVATE_H

/* Internals of the message library (not installed). */

#include <rte_errno.h>
#include <rte_log.h>

#include "tide_msg.h"

extern int tide_msg_logtype;

#define MSG_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, tide_msg_logtype, "tide_msg: %s(): " fmt "\n", __func__, \
		##__VA_ARGS__)

/* A proxy: an mbuf header with no pool, and the real message it points into. */
struct msg_proxy {
	struct rte_mbuf m;
	struct rte_mbuf *real;
} __rte_cache_aligned;

/* Free proxies an lcore keeps at hand, before going to the shared ring. */
#define MSG_PROXY_STASH 64

struct msg_proxy_stash {
	uint32_t len;
	struct msg_proxy *p[MSG_PROXY_STASH];
} __rte_cache_aligned;

/* What tide_msg_init() sets up. */
struct msg_state {
	bool ready;
	struct msg_proxy *proxies;   /* the proxy area */
	uint32_t nb_proxies;
	struct rte_ring *proxy_free; /* free proxies of the area */
	struct msg_proxy_stash *stash; /* per lcore (non-EAL threads use the ring) */
};

extern struct msg_state msg_state;

static inline int
msg_error(int err)
{
	rte_errno = err;
	return -err;
}

/* msg_proxy.c */
int msg_proxy_area_init(uint32_t n, int socket);
void msg_proxy_area_fini(void);
bool msg_in_proxy_area(const void *p);
struct msg_proxy *msg_proxy_of(struct rte_mbuf *m);

/* msg.c: walking every live message (real ones in every pktmbuf pool, and proxies). */
typedef void (msg_visit_t)(struct rte_mbuf *m, void *arg);
void msg_walk(msg_visit_t *fn, void *arg);
struct rte_mempool *msg_pool_owning(const void *p);

/* msg_xchg.c, msg_bcast.c, msg_stage.c: names for telemetry. */
typedef void (msg_name_cb_t)(const char *name, void *arg);
void msg_xchg_foreach(msg_name_cb_t *cb, void *arg);
void msg_bcast_foreach(msg_name_cb_t *cb, void *arg);
const char *msg_stage_name(uint16_t stage);
int msg_bcast_info(const char *name, unsigned int *readers, uint64_t *posts, uint32_t *done,
	bool *posted);

#endif /* TIDE_MSG_PRIVATE_H */
