/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Instances: parameters, creation (ports read, pools, rings, slots, eventfds, the agent),
 * stop, free, counters, and the registry of instances in this process (every process's are
 * also in the shared directory, zctx_dir.c). Parameters are checked first; nothing is
 * started before everything is in place.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring_elem.h>

#include "tide_config.h"
#include "tide_fault.h"
#include "tide_exit_bus.h"
#include "tide_pool.h"
#include "tide_socket.h"
#include "zctx_private.h"

RTE_LOG_REGISTER(tide_zctx_logtype, tide.zctx, NOTICE);

#define ZC_MAX_DEPTH (1u << 16)
/* Largest data room of the pool for headers and copies. */
#define ZC_POOL_MAX_ROOM 16384

static TAILQ_HEAD(, tide_zctx) zc_list = TAILQ_HEAD_INITIALIZER(zc_list);
static pthread_mutex_t zc_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tide_exit_bus zc_exit_bus;
/* What registering it gave (at load, while nothing else reads EAL's bus list). */
static int zc_exit_bus_ret;
static bool zc_exit_watched;
/*
 * Short unique names for rings and pools: a count of this process's instances and, as
 * DPDK's names are shared by a primary and its secondaries, the process id.
 */
static uint32_t zc_next_id;

/*
 * rte_eal_cleanup() with instances not freed (tide_exit_bus.h): before the ports close and
 * DPDK's memory goes, each agent stops, after the sends in flight complete or a short wait;
 * sends not begun are cancelled.
 */
static int
zc_exit(void)
{
	struct tide_zctx *z;
	unsigned int left = 0;

	tide_zctx_pvt_registry_lock();
	TAILQ_FOREACH(z, &zc_list, next)
		left++;
	if (left != 0)
		ZC_LOG(NOTICE, "rte_eal_cleanup() with %u zero-copy TX instance(s) not freed: "
			"their send agents stop", left);
	TAILQ_FOREACH(z, &zc_list, next) {
		__atomic_store_n(&z->fast.state, TIDE_ZCTX_PVT_STATE_STOPPING, __ATOMIC_SEQ_CST);
		if (tide_zctx_pvt_agent_wait(z, ZC_EXIT_TIMEOUT_MS) == 0)
			continue;
		ZC_LOG(NOTICE, "%s: the PMD still holds sends after %u ms: left to the process's "
			"end", z->name, ZC_EXIT_TIMEOUT_MS);
		__atomic_store_n(&z->agent_abandon, 1, __ATOMIC_RELEASE);
		tide_zctx_pvt_agent_wait(z, 0);
	}
	tide_zctx_pvt_registry_unlock();
	return 0;
}

RTE_INIT(zc_exit_bus_init)
{
	zc_exit_bus_ret = tide_exit_bus_register(&zc_exit_bus, "tide_zctx", zc_exit);
}

/* The first instance says if the exit bus is missing (the caller holds the registry lock). */
static void
zc_exit_watch_locked(void)
{
	if (zc_exit_watched)
		return;
	zc_exit_watched = true;
	/* Without it the instances work; only an exit that did not free them is lost. */
	if (zc_exit_bus_ret != 0)
		ZC_LOG(WARNING, "this DPDK's bus layout is not 22.11's: rte_eal_cleanup() with "
			"instances left may crash (free them before it)");
}

void
tide_zctx_pvt_registry_lock(void)
{
	pthread_mutex_lock(&zc_list_lock);
}

void
tide_zctx_pvt_registry_unlock(void)
{
	pthread_mutex_unlock(&zc_list_lock);
}

struct tide_zctx *
tide_zctx_pvt_registry_first_locked(void)
{
	return TAILQ_FIRST(&zc_list);
}

struct tide_zctx *
tide_zctx_pvt_registry_next_locked(struct tide_zctx *z)
{
	return TAILQ_NEXT(z, next);
}

struct tide_zctx *
tide_zctx_pvt_registry_find_locked(const char *name)
{
	struct tide_zctx *z;

	TAILQ_FOREACH(z, &zc_list, next)
		if (strcmp(z->name, name) == 0)
			return z;
	return NULL;
}

void
tide_zctx_params_init(struct tide_zctx_params *p, const char *name)
{
	if (p == NULL)
		return;
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->socket_id = SOCKET_ID_ANY;
	p->depth = TIDE_ZCTX_DEFAULT_DEPTH;
	p->copy_threshold = TIDE_ZCTX_THRESHOLD_ADAPTIVE;
	p->agent_lcore = TIDE_ZCTX_AGENT_CTRL_THREAD;
}

/* ---- Checks. */

static bool
zc_lcore_idle(int lc)
{
	return lc >= 0 && lc < RTE_MAX_LCORE && rte_lcore_is_enabled((unsigned int)lc) &&
		(unsigned int)lc != rte_get_main_lcore() &&
		rte_eal_get_lcore_state((unsigned int)lc) == WAIT;
}

static int
zc_params_check(const struct tide_zctx_params *p)
{
	if (p == NULL || p->name == NULL || p->name[0] == '\0' ||
			strnlen(p->name, ZC_NAMESIZE) == ZC_NAMESIZE) {
		ZC_LOG(ERR, "NULL parameters, or a name empty or of %d chars or more",
			ZC_NAMESIZE);
		return EINVAL;
	}
	/* Telemetry names another process's instance <name>@<pid>: a name with '@' would
	 * read as one. */
	if (strchr(p->name, '@') != NULL) {
		ZC_LOG(ERR, "%s: a name may not hold '@'", p->name);
		return EINVAL;
	}
	if (p->depth == 0 || p->depth > ZC_MAX_DEPTH || p->nb_ports == 0 ||
			p->nb_ports > TIDE_ZCTX_MAX_PORTS) {
		ZC_LOG(ERR, "%s: depth must be 1..%u and ports 1..%d", p->name, ZC_MAX_DEPTH,
			TIDE_ZCTX_MAX_PORTS);
		return EINVAL;
	}
	if (p->flags & ~TIDE_ZCTX_F_EVENTFD) {
		ZC_LOG(ERR, "%s: unknown flags %#x", p->name, p->flags);
		return EINVAL;
	}
	if (p->agent_lcore != TIDE_ZCTX_AGENT_CTRL_THREAD && !zc_lcore_idle(p->agent_lcore)) {
		ZC_LOG(ERR, "%s: lcore %d is not an idle worker lcore", p->name, p->agent_lcore);
		return EINVAL;
	}
	if (!tide_socket_known(p->socket_id)) {
		ZC_LOG(ERR, "%s: unknown socket %d", p->name, p->socket_id);
		return EINVAL;
	}
	for (unsigned int i = 0; i < p->nb_ports; i++)
		for (unsigned int j = 0; j < i; j++)
			if (p->ports[i] == p->ports[j]) {
				ZC_LOG(ERR, "%s: port %u given twice", p->name, p->ports[i]);
				return EINVAL;
			}
	return 0;
}

/* Whether an instance of that name exists (checked before anything is built). */
static int
zc_name_check(const char *name)
{
	bool taken;

	tide_zctx_pvt_registry_lock();
	taken = tide_zctx_pvt_registry_find_locked(name) != NULL;
	tide_zctx_pvt_registry_unlock();
	if (taken) {
		ZC_LOG(ERR, "an instance named %s exists", name);
		return EEXIST;
	}
	return 0;
}

/*
 * Whether a port's PMD reads what it transmits by virtual address only, copying it (to a
 * socket, a kernel ring, shared memory, a file) or dropping it, and never hands an mbuf on
 * to something that might DMA it: then a zero-copy segment need not stop where the IO
 * addresses of 4 KB pages stop being contiguous (in IOVA-as-PA mode, at almost every page).
 * Only drivers known to: not net_ring (whoever dequeues may be a device), nor bonding,
 * failsafe or vhost (their traffic may reach DMA).
 */
static bool
zc_driver_by_va(const char *driver)
{
	static const char *const by_va[] = {
		"net_null", "net_af_packet", "net_memif", "net_tap", "net_pcap",
	};

	for (unsigned int i = 0; driver != NULL && i < RTE_DIM(by_va); i++)
		if (strcmp(driver, by_va[i]) == 0)
			return true;
	return false;
}

/* Read what the agent needs of a port. */
static int
zc_port_init(struct tide_zctx *z, unsigned int i, uint16_t port_id)
{
	struct zc_port *zp = &z->ports[i];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t mtu;

	if (!rte_eth_dev_is_valid_port(port_id) || rte_eth_dev_info_get(port_id, &info) != 0 ||
			rte_eth_dev_conf_get(port_id, &conf) != 0 ||
			rte_eth_dev_get_mtu(port_id, &mtu) != 0 || info.nb_tx_queues == 0) {
		ZC_LOG(ERR, "%s: port %u is not a configured ethdev port", z->name, port_id);
		return EINVAL;
	}
	/*
	 * Every TX queue set up (a PMD without queue information answers ENOTSUP), none
	 * with fast free: a PMD that fast-frees puts mbufs straight back into the first
	 * one's pool, skipping the free callbacks zero-copy sends complete on and sending
	 * shells and headers into each other's pools.
	 */
	if (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) {
		ZC_LOG(ERR, "%s: port %u is configured with RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE "
			"(mbufs freed without their free callbacks): disable it", z->name,
			port_id);
		return EINVAL;
	}
	for (uint16_t q = 0; q < info.nb_tx_queues; q++) {
		struct rte_eth_txq_info qi;
		int ret = rte_eth_tx_queue_info_get(port_id, q, &qi);

		if (ret == -EINVAL) {
			ZC_LOG(ERR, "%s: TX queue %u of port %u is not set up", z->name, q,
				port_id);
			return EINVAL;
		}
		if (ret == 0 && (qi.conf.offloads & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)) {
			ZC_LOG(ERR, "%s: TX queue %u of port %u is set up with "
				"RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE (mbufs freed without their "
				"free callbacks): disable it", z->name, q, port_id);
			return EINVAL;
		}
	}
	zp->port_id = port_id;
	zp->nb_txq = info.nb_tx_queues;
	zp->dev = info.device;
	zp->max_frame = z->params.max_frame_len != 0 ? z->params.max_frame_len :
		(uint32_t)mtu + RTE_ETHER_HDR_LEN;
	zp->max_segs = RTE_MIN(info.tx_desc_lim.nb_seg_max, info.tx_desc_lim.nb_mtu_seg_max);
	if (zp->max_segs == 0)
		zp->max_segs = UINT16_MAX;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		zp->zc_ok = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	else
		zp->zc_ok = info.tx_offload_capa == 0;
	zp->zc_ok = zp->zc_ok && zp->max_segs >= 2;
	zp->by_va = zc_driver_by_va(info.driver_name);
	if (!zp->zc_ok)
		ZC_LOG(NOTICE, "%s: port %u takes no mbuf chains (enable "
			"RTE_ETH_TX_OFFLOAD_MULTI_SEGS): copies only", z->name, port_id);
	if (zp->max_frame < 2) {
		ZC_LOG(ERR, "%s: port %u frame length %u is too short", z->name, port_id,
			zp->max_frame);
		return EINVAL;
	}
	z->port_idx[port_id] = (int8_t)i;
	z->fast.port[port_id].nb_txq = zp->nb_txq;
	z->fast.port[port_id].max_hdr = (uint16_t)RTE_MIN(zp->max_frame - 1,
		(uint32_t)TIDE_ZCTX_HDR_MAX);
	return 0;
}

/*
 * An application's pool for headers and copies: a pktmbuf pool whose data room, after
 * the headroom, holds the longest header a send to one of the ports carries and a payload
 * byte (a copy needs a byte's progress per packet).
 */
static int
zc_pool_check(const struct tide_zctx *z)
{
	const struct rte_mempool *mp = z->params.pool;
	uint32_t room, need = 0;

	if (mp == NULL)
		return 0;
	for (unsigned int i = 0; i < z->params.nb_ports; i++)
		need = RTE_MAX(need, (uint32_t)z->fast.port[z->ports[i].port_id].max_hdr);
	need += RTE_PKTMBUF_HEADROOM + 1;
	if (mp->private_data_size < sizeof(struct rte_pktmbuf_pool_private)) {
		ZC_LOG(ERR, "%s: pool %s is not a pktmbuf pool", z->name, mp->name);
		return EINVAL;
	}
	room = rte_pktmbuf_data_room_size((struct rte_mempool *)(uintptr_t)mp);
	if (room < need) {
		ZC_LOG(ERR, "%s: pool %s has a data room of %u bytes; at least %u needed "
			"(RTE_PKTMBUF_HEADROOM %u, the longest header %u, one payload byte)",
			z->name, mp->name, room, need, RTE_PKTMBUF_HEADROOM,
			need - RTE_PKTMBUF_HEADROOM - 1);
		return EINVAL;
	}
	return 0;
}

/* ---- Resources. */

static int
zc_pools_create(struct tide_zctx *z, uint32_t id)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct tide_pool_params pp;
	uint32_t frame = 0;

	snprintf(name, sizeof(name), "zcs_%x_%x", (unsigned int)getpid(), id);
	z->shells = rte_pktmbuf_pool_create(name, TIDE_ZCTX_SHELLS + 2 * z->fast.depth,
		TIDE_ZCTX_POOL_CACHE, 0, 0, z->params.socket_id);
	if (z->shells == NULL)
		return rte_errno;
	snprintf(name, sizeof(name), "zce_%x_%x", (unsigned int)getpid(), id);
	z->extrefs = rte_mempool_create(name, TIDE_ZCTX_SHELLS + 2 * z->fast.depth,
		sizeof(struct zc_extref), TIDE_ZCTX_POOL_CACHE, 0, NULL, NULL, NULL, NULL,
		z->params.socket_id, 0);
	if (z->extrefs == NULL)
		return rte_errno;
	z->extref_cache = rte_mempool_cache_create(TIDE_ZCTX_POOL_CACHE, z->params.socket_id);
	if (z->extref_cache == NULL)
		return rte_errno;
	if (z->params.pool != NULL) {
		z->pool = z->params.pool;
		return 0;
	}
	for (unsigned int i = 0; i < z->params.nb_ports; i++)
		frame = RTE_MAX(frame, z->ports[i].max_frame);

	snprintf(name, sizeof(name), "zcp_%x_%x", (unsigned int)getpid(), id);
	tide_pool_params_init(&pp, name);
	pp.socket_id = z->params.socket_id;
	pp.data_room_size = (uint16_t)(RTE_PKTMBUF_HEADROOM + RTE_MIN(frame,
		(uint32_t)ZC_POOL_MAX_ROOM));
	pp.cache_size = TIDE_ZCTX_POOL_CACHE;
	pp.base_bytes = TIDE_ZCTX_POOL_BASE_BYTES;
	pp.block_bytes = TIDE_ZCTX_POOL_BLOCK_BYTES;
	pp.wall_bytes = TIDE_ZCTX_POOL_WALL_BYTES;
	z->pool = tide_pool_create(&pp);
	if (z->pool == NULL)
		return rte_errno;
	z->own_pool = true;
	return 0;
}

static int
zc_rings_create(struct tide_zctx *z, uint32_t id)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "zcsq_%x_%x", (unsigned int)getpid(), id);
	/* Submitters write their element in place (zero-copy enqueue: MP HTS). */
	z->fast.sq = rte_ring_create_elem(name, sizeof(struct tide_zctx_sqe),
		z->fast.depth, z->params.socket_id,
		RING_F_MP_HTS_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (z->fast.sq == NULL)
		return rte_errno;
	snprintf(name, sizeof(name), "zccq_%x_%x", (unsigned int)getpid(), id);
	z->fast.cq = rte_ring_create_elem(name, sizeof(struct tide_zctx_cpl), z->fast.depth,
		z->params.socket_id, RING_F_SP_ENQ | RING_F_EXACT_SZ);
	if (z->fast.cq == NULL)
		return rte_errno;
	z->slots = rte_zmalloc_socket("zctx_slots", (size_t)(z->mask + 1) * sizeof(z->slots[0]),
		RTE_CACHE_LINE_SIZE, z->params.socket_id);
	return z->slots == NULL ? ENOMEM : 0;
}

static int
zc_fds_create(struct tide_zctx *z)
{
	if (TIDE_FAULT(TIDE_FAULT_FD))
		return EMFILE;
	z->fast.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (z->fast.wake_fd < 0)
		return errno;
	if (z->params.flags & TIDE_ZCTX_F_EVENTFD) {
		z->cpl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (z->cpl_fd < 0)
			return errno;
	}
	return 0;
}

static int
zc_devs_add(struct tide_zctx *z)
{
	for (unsigned int i = 0; i < z->params.nb_ports; i++) {
		int ret = tide_zctx_pvt_cache_dev_add(z->ports[i].dev);

		if (ret != 0) {
			while (i-- > 0)
				tide_zctx_pvt_cache_dev_del(z->ports[i].dev);
			return -ret;
		}
	}
	return 0;
}

/* Release what zc_create_resources() made; safe on a partly made instance. */
static void
zc_release(struct tide_zctx *z)
{
	if (z->fast.wake_fd >= 0)
		close(z->fast.wake_fd);
	if (z->cpl_fd >= 0)
		close(z->cpl_fd);
	rte_free(z->slots);
	rte_ring_free(z->fast.cq);
	rte_ring_free(z->fast.sq);
	if (z->own_pool)
		tide_pool_free(z->pool);
	rte_mempool_free(z->shells);
	if (z->extref_cache != NULL)
		rte_mempool_cache_free(z->extref_cache);
	rte_mempool_free(z->extrefs);
	rte_free(z);
}

static int
zc_create_resources(struct tide_zctx *z)
{
	uint32_t id = __atomic_fetch_add(&zc_next_id, 1, __ATOMIC_RELAXED);
	int err;

	for (unsigned int i = 0; i < z->params.nb_ports; i++) {
		err = zc_port_init(z, i, z->params.ports[i]);
		if (err != 0)
			return err;
	}
	err = zc_pool_check(z);
	if (err != 0)
		return err;
	err = zc_pools_create(z, id);
	if (err == 0)
		err = zc_rings_create(z, id);
	if (err == 0)
		err = zc_fds_create(z);
	if (err != 0) {
		ZC_LOG(ERR, "%s: cannot create pools, rings or eventfds: %s", z->name,
			rte_strerror(err));
	}
	return err;
}

/* The layout the inline fast path relies on. */
static void
zc_layout_check(void)
{
	RTE_BUILD_BUG_ON(offsetof(struct tide_zctx, fast) != 0);
	RTE_BUILD_BUG_ON(sizeof(struct tide_zctx_fast) % RTE_CACHE_LINE_SIZE != 0);
	/* Submitters write credits, the agent its sleeping flag: each on a line of its own. */
	RTE_BUILD_BUG_ON(offsetof(struct tide_zctx_fast, credits) % RTE_CACHE_LINE_SIZE != 0);
	RTE_BUILD_BUG_ON(offsetof(struct tide_zctx_fast, agent_sleeping) % RTE_CACHE_LINE_SIZE !=
		0);
	/* A queued send: fields, then iovecs 8-byte aligned, then header bytes. */
	RTE_BUILD_BUG_ON(sizeof(struct tide_zctx_sqe) % RTE_CACHE_LINE_SIZE != 0);
	RTE_BUILD_BUG_ON(offsetof(struct tide_zctx_sqe, iov) % __alignof__(struct iovec) != 0);
	RTE_BUILD_BUG_ON(sizeof(((struct tide_zctx_sqe *)0)->bytes) !=
		TIDE_ZCTX_MAX_IOV * sizeof(struct iovec) + TIDE_ZCTX_HDR_MAX);
	RTE_BUILD_BUG_ON(TIDE_ZCTX_HDR_MAX > UINT16_MAX || TIDE_ZCTX_MAX_IOV > UINT16_MAX);
	RTE_BUILD_BUG_ON(sizeof(struct tide_zctx_cpl) != 16);
	RTE_BUILD_BUG_ON(TIDE_ZCTX_MAX_SEND > ZC_SPAN_BYTES); /* an iovec spans 2 pieces */
	RTE_BUILD_BUG_ON(TIDE_ZCTX_THRESHOLD_ADAPTIVE != TIDE_ZCP_ADAPTIVE);
	RTE_BUILD_BUG_ON(TIDE_ZCTX_MAX_PORTS > INT8_MAX); /* port_idx */
}

/* A zeroed instance with its parameters, nothing built yet; NULL with rte_errno ENOMEM. */
static struct tide_zctx *
zc_alloc(const struct tide_zctx_params *p)
{
	struct tide_zctx *z = NULL;

	if (!TIDE_FAULT(TIDE_FAULT_MALLOC))
		z = rte_zmalloc_socket("tide_zctx", sizeof(*z), RTE_CACHE_LINE_SIZE,
			p->socket_id);
	if (z == NULL) {
		ZC_LOG(ERR, "%s: no memory for the instance", p->name);
		rte_errno = ENOMEM;
		return NULL;
	}
	z->params = *p;
	snprintf(z->name, sizeof(z->name), "%s", p->name);
	z->params.name = z->name;
	z->fast.depth = rte_align32pow2(p->depth);
	z->mask = z->fast.depth - 1;
	z->fast.wake_fd = -1;
	z->cpl_fd = -1;
	memset(z->port_idx, -1, sizeof(z->port_idx));
	tide_zcp_init(&z->pol, p->copy_threshold);
	z->threshold_req = p->copy_threshold;
	z->threshold_now = tide_zcp_threshold(&z->pol);
	return z;
}

struct tide_zctx *
tide_zctx_create(const struct tide_zctx_params *p)
{
	struct tide_zctx *z;
	int err;

	zc_layout_check();
	err = zc_params_check(p);
	if (err == 0)
		err = zc_name_check(p->name);
	if (err != 0)
		goto fail;
	z = zc_alloc(p);
	if (z == NULL) {
		err = rte_errno;
		goto fail;
	}
	err = zc_create_resources(z);
	if (err != 0)
		goto fail_free;
	err = -tide_zctx_pvt_cache_get();
	if (err != 0)
		goto fail_free;
	err = zc_devs_add(z);
	if (err != 0)
		goto fail_cache;
	tide_zctx_pvt_registry_lock();
	/* Another thread may have taken the name since the check. */
	err = tide_zctx_pvt_registry_find_locked(z->name) != NULL ? EEXIST :
		-tide_zctx_pvt_dir_add(z);
	if (err == 0) {
		err = -tide_zctx_pvt_agent_start(z);
		if (err != 0)
			tide_zctx_pvt_dir_remove(z);
	}
	if (err != 0) {
		tide_zctx_pvt_registry_unlock();
		if (err == EEXIST)
			ZC_LOG(ERR, "an instance named %s exists", z->name);
		goto fail_devs;
	}
	TAILQ_INSERT_TAIL(&zc_list, z, next);
	zc_exit_watch_locked();
	tide_zctx_pvt_registry_unlock();
	return z;

fail_devs:
	for (unsigned int i = 0; i < z->params.nb_ports; i++)
		tide_zctx_pvt_cache_dev_del(z->ports[i].dev);
fail_cache:
	tide_zctx_pvt_cache_put();
fail_free:
	zc_release(z);
fail:
	rte_errno = err;
	return NULL;
}

/*
 * Whether @p z is an instance this process made and has not freed: the registry is looked
 * up by address, so nothing is read through a pointer freed already (maybe another
 * object's memory by now) or one that never was an instance.
 */
static bool
zc_live(const struct tide_zctx *z)
{
	const struct tide_zctx *l;

	tide_zctx_pvt_registry_lock();
	TAILQ_FOREACH(l, &zc_list, next)
		if (l == z)
			break;
	tide_zctx_pvt_registry_unlock();
	return l != NULL;
}

static int
zc_stop(struct tide_zctx *z, unsigned int timeout_ms)
{
	int ret;

	__atomic_store_n(&z->fast.state, TIDE_ZCTX_PVT_STATE_STOPPING, __ATOMIC_SEQ_CST);
	ret = tide_zctx_pvt_agent_wait(z, timeout_ms);
	if (ret != 0) {
		/* The application may stop the ports next: the agent must leave them be. */
		tide_zctx_pvt_agent_release_pmd(z);
		ZC_LOG(NOTICE, "%s: the PMD still holds sends after %u ms; the agent no longer "
			"calls it: stop the ports to free them", z->name, timeout_ms);
		return zc_error(-ret);
	}
	return 0;
}

/*
 * A control call on @p z refused when it is NULL or not live (zc_live()), named @p call in
 * the log line; 0 when it may go on.
 */
static int
zc_check(const struct tide_zctx *z, const char *call)
{
	if (z == NULL)
		return ZC_REFUSE(ERR, EINVAL, "%s(): NULL instance", call);
	if (!zc_live(z))
		return ZC_REFUSE(ERR, EINVAL, "%s(): %p is not a live instance of this process "
			"(freed already?): left alone", call, (const void *)z);
	return 0;
}

int
tide_zctx_stop(struct tide_zctx *z, unsigned int timeout_ms)
{
	int ret = zc_check(z, __func__);

	return ret != 0 ? ret : zc_stop(z, timeout_ms);
}

/* Mbufs of the instance's own pools (shells and their segments' references, and the header
 * and copy pool it made) that are not home: held by the PMD, by whoever took them from it
 * (a clone holds a reference), or about to be put back.
 */
static uint64_t
zc_mbufs_out(const struct tide_zctx *z)
{
	struct tide_pool_stats st;
	uint64_t n = rte_mempool_in_use_count(z->shells) + rte_mempool_in_use_count(z->extrefs);

	if (z->own_pool)
		n += tide_pool_stats_get(z->pool, &st) == 0 ? st.nb_in_use :
			rte_mempool_in_use_count(z->pool);
	return n;
}

/*
 * Wait a little for the mbufs of the pools the free would release: a completed send's
 * copies (complete once the PMD took them) and headers may still be in a TX ring, or in
 * the hands of whoever dequeues from the port (net_ring), and a zero-copy segment's shell
 * goes home just after its free callback. The PMD is asked to reclaim its descriptors,
 * unless a stop that timed out told the application to stop the ports. Returns how many
 * are still out.
 */
static uint64_t
zc_pools_home(struct tide_zctx *z)
{
	bool ask = !__atomic_load_n(&z->pmd_hands_off, __ATOMIC_ACQUIRE);
	uint64_t out = zc_mbufs_out(z);

	for (unsigned int i = 0; out != 0 && i < ZC_FREE_HOME_TRIES; i++) {
		struct timespec ts = { .tv_nsec = 1000 * 1000 };

		for (unsigned int p = 0; ask && p < z->params.nb_ports; p++)
			zc_port_cleanup(&z->ports[p]);
		nanosleep(&ts, NULL);
		out = zc_mbufs_out(z);
	}
	return out;
}

int
tide_zctx_free(struct tide_zctx *z)
{
	uint64_t out;
	int ret;

	if (z == NULL)
		return 0;
	/* No other control call runs on it meanwhile (tide_zctx.h): found, it stays. */
	ret = zc_check(z, __func__);
	if (ret != 0)
		return ret;
	if (zc_stop(z, ZC_FREE_TIMEOUT_MS) != 0) {
		ZC_LOG(ERR, "%s: sends still in flight: not freed", z->name);
		return zc_error(EBUSY);
	}
	/* Freeing a pool with mbufs out would let their later free write into freed memory. */
	out = zc_pools_home(z);
	if (out != 0)
		return ZC_REFUSE(ERR, EBUSY, "%s: %" PRIu64 " mbufs of its pools are still out "
			"(in a TX queue, or with whoever takes packets from the port): not freed; "
			"stop the ports, or free what the consumer holds, then call again",
			z->name, out);
	tide_zctx_pvt_registry_lock();
	TAILQ_REMOVE(&zc_list, z, next);
	tide_zctx_pvt_registry_unlock();
	/* Other processes' readers (the primary's telemetry) are done with it after this. */
	tide_zctx_pvt_dir_remove(z);
	for (unsigned int i = 0; i < z->params.nb_ports; i++)
		tide_zctx_pvt_cache_dev_del(z->ports[i].dev);
	tide_zctx_pvt_cache_put();
	zc_release(z);
	return 0;
}

int
tide_zctx_eventfd(const struct tide_zctx *z)
{
	int ret = zc_check(z, __func__);

	if (ret != 0)
		return ret;
	if (z->cpl_fd < 0)
		return ZC_REFUSE(ERR, ENOTSUP, "%s: created without TIDE_ZCTX_F_EVENTFD", z->name);
	return z->cpl_fd;
}

int
tide_zctx_threshold_set(struct tide_zctx *z, uint32_t bytes)
{
	int ret = zc_check(z, __func__);

	if (ret != 0)
		return ret;
	__atomic_store_n(&z->threshold_req, bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&z->threshold_gen, 1, __ATOMIC_RELEASE);
	tide_zctx_pvt_wake(z);
	return 0;
}

#define ZC_LOAD(f) __atomic_load_n(&z->cnt.f, __ATOMIC_RELAXED)
#define ZC_LOAD_ACQ(f) __atomic_load_n(&z->cnt.f, __ATOMIC_ACQUIRE)

/* Reads of the counters before the in-flight count gives up on a moment they agree on. */
#define ZC_STATS_TRIES 16

/* A send's outcome counters into @p st; their sum. */
static uint64_t
zc_outcomes(const struct tide_zctx *z, struct tide_zctx_stats *st)
{
	st->completed = ZC_LOAD_ACQ(completed);
	st->failed = ZC_LOAD_ACQ(failed);
	st->cancelled = ZC_LOAD_ACQ(cancelled);
	return st->completed + st->failed + st->cancelled;
}

/*
 * Sends taken and their outcomes as of one moment. The agent counts a take before its
 * outcome: sends taken read first, then outcomes counted since (a reader descheduled
 * between the loads), gave an in-flight count near 2^64. Outcomes read on both sides of
 * the load of the takes, and the same both times, are those of its moment.
 */
static void
zc_stats_sends(const struct tide_zctx *z, struct tide_zctx_stats *st)
{
	struct tide_zctx_stats again;
	uint64_t done;

	for (unsigned int tries = 1;; tries++) {
		done = zc_outcomes(z, st);
		TIDE_FAULT_HOLD(TIDE_HOLD_ZCTX_STATS_READ);
		st->submitted = ZC_LOAD_ACQ(submitted);
		if (zc_outcomes(z, &again) == done || tries == ZC_STATS_TRIES)
			break;
	}
	/* Never negative, even after ZC_STATS_TRIES tries that all moved. */
	st->inflight = st->submitted >= done ? st->submitted - done : 0;
}

int
tide_zctx_stats_get(const struct tide_zctx *z, struct tide_zctx_stats *st)
{
	int ret = zc_check(z, __func__);

	if (ret != 0)
		return ret;
	if (st == NULL)
		return ZC_REFUSE(ERR, EINVAL, "%s: NULL st", z->name);
	tide_zctx_pvt_stats_read(z, st);
	return 0;
}

void
tide_zctx_pvt_stats_read(const struct tide_zctx *z, struct tide_zctx_stats *st)
{
	memset(st, 0, sizeof(*st));
	zc_stats_sends(z, st);
	st->zc_sends = ZC_LOAD(zc_sends);
	st->copy_sends = ZC_LOAD(copy_sends);
	st->zc_bytes = ZC_LOAD(zc_bytes);
	st->copy_bytes = ZC_LOAD(copy_bytes);
	st->packets = ZC_LOAD(packets);
	st->tx_bursts = ZC_LOAD(tx_bursts);
	st->segments = ZC_LOAD(segments);
	st->tx_stalls = ZC_LOAD(tx_stalls);
	st->busy_cycles = ZC_LOAD(busy_cycles);
	st->eagain = __atomic_load_n(&z->fast.eagain, __ATOMIC_RELAXED);
	st->rejected = __atomic_load_n(&z->rejected, __ATOMIC_RELAXED);
	st->zc_released = ZC_LOAD(zc_released) +
		__atomic_load_n(&z->zc_released, __ATOMIC_RELAXED);
	st->threshold = __atomic_load_n(&z->threshold_now, __ATOMIC_ACQUIRE);
	st->adaptive = __atomic_load_n(&z->threshold_req, __ATOMIC_RELAXED) ==
		TIDE_ZCTX_THRESHOLD_ADAPTIVE;
}

int
tide_zctx_pvt_refuse(struct tide_zctx *z, int err, const char *why, unsigned int idx)
{
	if (z != NULL) {
		__atomic_fetch_add(&z->rejected, 1, __ATOMIC_RELAXED);
		ZC_LOG(ERR, "%s: send refused (%s): %s (iovec %u)", z->name, rte_strerror(err),
			why, idx);
	}
	rte_errno = err;
	return -err;
}

void
tide_zctx_pvt_wake(struct tide_zctx *z)
{
	uint64_t one = 1;

	if (write(z->fast.wake_fd, &one, sizeof(one)) != sizeof(one))
		ZC_LOG(DEBUG, "%s: doorbell write failed", z->name);
}
