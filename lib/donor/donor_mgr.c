/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Managers: parameters, creation (the helper found, the hugepage allowance measured, the
 * heap validator, the control thread), free, counters, and the registry of managers in
 * this process. Also the validator that keeps DPDK's heap within the allowance less the
 * own hugepages the managers took (the socket-limit of EAL counts only the heap).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "donor_private.h"
#include "tide_fault.h"
#include "tide_socket.h"

RTE_LOG_REGISTER(tide_donor_logtype, tide.donor, NOTICE);

#ifndef TIDE_DONOR_HELPER_DEFAULT
#define TIDE_DONOR_HELPER_DEFAULT "/usr/local/libexec/tide-donor"
#endif
#define MGR_VALIDATOR "tide-donor"

static TAILQ_HEAD(, tide_donor_mgr) mgr_list = TAILQ_HEAD_INITIALIZER(mgr_list);
static pthread_mutex_t mgr_list_lock = PTHREAD_MUTEX_INITIALIZER;

void
dn_registry_lock(void)
{
	pthread_mutex_lock(&mgr_list_lock);
}

void
dn_registry_unlock(void)
{
	pthread_mutex_unlock(&mgr_list_lock);
}

struct tide_donor_mgr *
dn_registry_first_locked(void)
{
	return TAILQ_FIRST(&mgr_list);
}

struct tide_donor_mgr *
dn_registry_next_locked(struct tide_donor_mgr *m)
{
	return TAILQ_NEXT(m, next);
}

struct tide_donor_mgr *
dn_registry_find_locked(const char *name)
{
	struct tide_donor_mgr *m;

	TAILQ_FOREACH(m, &mgr_list, next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

/* ---- The heap validator: own hugepages and DPDK's heap share one allowance. */

static struct {
	unsigned int users[RTE_MAX_NUMA_NODES]; /* managers with a limit, per socket */
	uint64_t limit[RTE_MAX_NUMA_NODES];
	uint64_t own[RTE_MAX_NUMA_NODES];       /* atomic: own hugepage bytes taken */
} mgr_val;

void
dn_own_huge_add(int socket, int64_t bytes)
{
	if (socket >= 0 && socket < RTE_MAX_NUMA_NODES)
		__atomic_fetch_add(&mgr_val.own[socket], (uint64_t)bytes, __ATOMIC_RELAXED);
}

uint64_t
dn_own_huge(int socket)
{
	if (socket < 0 || socket >= RTE_MAX_NUMA_NODES)
		return 0;
	return __atomic_load_n(&mgr_val.own[socket], __ATOMIC_RELAXED);
}

uint64_t
dn_own_huge_reserve(int socket, uint64_t limit, uint64_t want, uint64_t page_sz)
{
	uint64_t *own, cur, heap, take;

	if (socket < 0 || socket >= RTE_MAX_NUMA_NODES)
		return 0;
	own = &mgr_val.own[socket];
	cur = __atomic_load_n(own, __ATOMIC_SEQ_CST);
	for (;;) {
		heap = dn_heap_size(socket);
		take = RTE_MIN(want, donor_own_allowance(limit, heap + cur, 0, page_sz, true));
		if (take == 0)
			return 0;
		if (!__atomic_compare_exchange_n(own, &cur, cur + take, false, __ATOMIC_SEQ_CST,
				__ATOMIC_SEQ_CST))
			continue; /* another took or gave back some: cur is what it is now */
		/* A heap that grew in the meantime was checked against what was taken before
		 * (its validator, under the heap's lock): give back and measure again. */
		if (dn_heap_size(socket) <= heap)
			return take;
		cur = __atomic_sub_fetch(own, take, __ATOMIC_SEQ_CST);
	}
}

/* Called by EAL before its heap on @p socket grows to @p new_len bytes. */
static int
mgr_validate(int socket, size_t cur_limit __rte_unused, size_t new_len)
{
	uint64_t own = dn_own_huge(socket);

	if (own == 0 || socket < 0 || socket >= RTE_MAX_NUMA_NODES)
		return 0;
	return new_len + own >= __atomic_load_n(&mgr_val.limit[socket], __ATOMIC_RELAXED) ?
		-1 : 0;
}

/* The strictest limit of the managers on @p socket with one, from the registry (locked). */
static uint64_t
mgr_limit_locked(int socket)
{
	uint64_t lim = DONOR_UNLIMITED;
	struct tide_donor_mgr *m;

	TAILQ_FOREACH(m, &mgr_list, next)
		if (m->socket_id == socket && m->heap_limit < lim)
			lim = m->heap_limit;
	return lim;
}

/* Called with the registry lock held, @p m in the registry. */
static void
mgr_validator_get(struct tide_donor_mgr *m)
{
	int s = m->socket_id;

	if (m->heap_limit == DONOR_UNLIMITED || s >= RTE_MAX_NUMA_NODES)
		return;
	__atomic_store_n(&mgr_val.limit[s], mgr_limit_locked(s), __ATOMIC_RELAXED);
	if (mgr_val.users[s]++ == 0 &&
			rte_mem_alloc_validator_register(MGR_VALIDATOR, mgr_validate, s, 0) != 0)
		DN_LOG(NOTICE, "%s: cannot watch the heap's growth on socket %d (%s): own "
			"hugepages are not counted against it", m->name, s,
			rte_strerror(rte_errno));
}

/* Called with the registry lock held, @p m out of the registry: the limit is the strictest
 * of the managers left.
 */
static void
mgr_validator_put(struct tide_donor_mgr *m)
{
	int s = m->socket_id;

	if (m->heap_limit == DONOR_UNLIMITED || s >= RTE_MAX_NUMA_NODES)
		return;
	if (--mgr_val.users[s] == 0)
		rte_mem_alloc_validator_unregister(MGR_VALIDATOR, s);
	else
		__atomic_store_n(&mgr_val.limit[s], mgr_limit_locked(s), __ATOMIC_RELAXED);
}

/* ---- Parameters. */

void
tide_donor_params_init(struct tide_donor_params *p, const char *name)
{
	if (p == NULL)
		return;
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->socket_id = SOCKET_ID_ANY;
	p->max_donors = DN_DEFAULT_MAX_DONORS;
	for (unsigned int k = 0; k < TIDE_DONOR_KINDS; k++)
		p->own_max[k] = UINT64_MAX;
	p->heap_grow = DN_DEFAULT_HEAP_GROW;
	p->timeout_ms = DN_DEFAULT_TIMEOUT_MS;
}

static int
mgr_check(const struct tide_donor_params *p)
{
	if (p == NULL || p->name == NULL || p->name[0] == '\0' ||
			strlen(p->name) >= TIDE_DONOR_NAMESIZE) {
		DN_LOG(ERR, "NULL parameters, or a name empty or of %d chars or more",
			TIDE_DONOR_NAMESIZE);
		return -EINVAL;
	}
	if (p->max_donors == 0 || p->timeout_ms == 0 || p->heap_grow == 0) {
		DN_LOG(ERR, "%s: max_donors, timeout_ms and heap_grow must not be 0", p->name);
		return -EINVAL;
	}
	/* A larger step would be refused by every tide_donor_alloc() that grows the heap. */
	if (p->heap_grow > DN_HEAP_GROW_MAX) {
		DN_LOG(ERR, "%s: heap_grow %" PRIu64 " is more than the heap may ask for at once "
			"(%zu)", p->name, p->heap_grow, (size_t)DN_HEAP_GROW_MAX);
		return -EINVAL;
	}
	/* poll() takes an int: a longer timeout would wrap to a negative one, which waits
	 * forever.
	 */
	if (p->timeout_ms > INT_MAX) {
		DN_LOG(ERR, "%s: timeout_ms %u is more than %d", p->name, p->timeout_ms, INT_MAX);
		return -EINVAL;
	}
	if ((p->flags & ~TIDE_DONOR_MGR_F_NO_REPIN) != 0) {
		DN_LOG(ERR, "%s: unknown flags %#x", p->name, p->flags);
		return -EINVAL;
	}
	/* A number below RTE_MAX_NUMA_NODES is not enough: on a socket EAL does not know the
	 * manager would read an allowance and watch a heap that this process never has.
	 */
	if (!tide_socket_known(p->socket_id)) {
		DN_LOG(ERR, "%s: socket %d is not a NUMA socket EAL knows (%u socket(s))", p->name,
			p->socket_id, rte_socket_count());
		return -EINVAL;
	}
	return 0;
}

/* The helper program: given, from the environment, or installed. */
static int
mgr_helper(struct tide_donor_mgr *m, const struct tide_donor_params *p)
{
	const char *h = p->helper != NULL ? p->helper : getenv("TIDE_DONOR_HELPER");
	struct stat st;

	if (h == NULL || h[0] == '\0')
		h = TIDE_DONOR_HELPER_DEFAULT;
	/* access(X_OK) alone takes a directory one may search: its donors would fail only at
	 * their start (execve()'s EACCES), at every request.
	 */
	if (strlen(h) >= sizeof(m->helper) || stat(h, &st) != 0 || !S_ISREG(st.st_mode) ||
			access(h, X_OK) != 0) {
		DN_LOG(ERR, "%s: the donor helper '%s' is not an executable program (set "
			"tide_donor_params.helper or TIDE_DONOR_HELPER)", p->name, h);
		return -ENOENT;
	}
	strcpy(m->helper, h);
	return 0;
}

/* The hugepage allowance: given, or EAL's --socket-limit on the command line. */
static int
mgr_heap_limit(struct tide_donor_mgr *m, const struct tide_donor_params *p)
{
	int ret;

	if (p->heap_limit != 0) {
		m->heap_limit = p->heap_limit;
		return 0;
	}
	ret = dn_socket_limit((unsigned int)m->socket_id, &m->heap_limit);
	if (ret == -ENOENT) {
		m->heap_limit = DONOR_UNLIMITED;
		return 0;
	}
	if (ret != 0)
		DN_LOG(ERR, "%s: cannot read --socket-limit from the command line", p->name);
	return ret;
}

static int
mgr_thread_start(struct tide_donor_mgr *m)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	char tname[RTE_MAX_THREAD_NAME_LEN];
	int ret;

	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	m->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->epfd < 0 || m->kickfd < 0 || epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->kickfd, &ev))
		return -errno;
	snprintf(tname, sizeof(tname), "tdonor-%.8s", m->name);
	if (TIDE_FAULT(TIDE_FAULT_THREAD))
		ret = -EAGAIN; /* what rte_ctrl_thread_create() gives when out of threads */
	else
		ret = rte_ctrl_thread_create(&m->thread, tname, NULL, dn_watch_main, m);
	/* 22.11 gives a negative errno; pthread_create()'s positive one is taken too. */
	if (ret != 0)
		return ret < 0 ? ret : -ret;
	m->thread_started = true;
	return 0;
}

static void
mgr_thread_stop(struct tide_donor_mgr *m)
{
	uint64_t one = 1;

	if (m->thread_started) {
		pthread_mutex_lock(&m->lock);
		m->stop = true;
		pthread_mutex_unlock(&m->lock);
		if (write(m->kickfd, &one, sizeof(one)) != sizeof(one))
			DN_LOG(WARNING, "%s: cannot wake the control thread", m->name);
		pthread_join(m->thread, NULL);
	}
	if (m->epfd >= 0)
		close(m->epfd);
	if (m->kickfd >= 0)
		close(m->kickfd);
}

static void
mgr_destroy(struct tide_donor_mgr *m)
{
	mgr_thread_stop(m);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->req_lock);
	pthread_mutex_destroy(&m->lock);
	free(m->bufs);
	free(m);
}

struct tide_donor_mgr *
tide_donor_mgr_create(const struct tide_donor_params *p)
{
	struct tide_donor_mgr *m;
	int ret;

	ret = mgr_check(p);
	if (ret != 0)
		goto fail;
	/* Donor memory is mapped in this process alone, and registered with DPDK in memseg
	 * lists every process shares: the others would fault on it.
	 */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		DN_LOG(ERR, "%s: donors serve the primary process only", p->name);
		ret = -ENOTSUP;
		goto fail;
	}
	m = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL : calloc(1, sizeof(*m));
	if (m == NULL) {
		DN_LOG(ERR, "%s: no memory for the manager", p->name);
		ret = -ENOMEM;
		goto fail;
	}
	snprintf(m->name, sizeof(m->name), "%s", p->name);
	m->p = *p;
	m->p.name = m->name;
	m->p.helper = m->helper;
	m->epfd = m->kickfd = m->heap_socket = -1;
	m->socket_id = p->socket_id != SOCKET_ID_ANY ? p->socket_id : (int)rte_socket_id();
	if (m->socket_id < 0 || m->socket_id >= RTE_MAX_NUMA_NODES)
		m->socket_id = 0;
	m->huge_page_sz = dn_huge_page_sz();
	if (m->huge_page_sz == 0)
		m->huge_page_sz = RTE_PGSIZE_2M;
	snprintf(m->heap_name, sizeof(m->heap_name), "tdn_%s", m->name);
	TAILQ_INIT(&m->regions);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->req_lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	ret = mgr_helper(m, p);
	if (ret == 0)
		ret = mgr_heap_limit(m, p);
	if (ret != 0)
		goto fail_mgr;
	ret = mgr_thread_start(m);
	if (ret != 0) {
		DN_LOG(ERR, "%s: cannot start the control thread: %s", m->name, strerror(-ret));
		goto fail_mgr;
	}
	dn_registry_lock();
	if (dn_registry_find_locked(m->name) != NULL) {
		dn_registry_unlock();
		DN_LOG(ERR, "a donor manager named %s exists", m->name);
		ret = -EEXIST;
		goto fail_mgr;
	}
	TAILQ_INSERT_TAIL(&mgr_list, m, next);
	mgr_validator_get(m);
	dn_registry_unlock();
	return m;
fail_mgr:
	mgr_destroy(m);
fail:
	rte_errno = -ret;
	return NULL;
}

/*
 * Anything out that keeps the manager (req_lock held): a buffer of tide_donor_alloc(), a
 * region or block, or memory of its heap taken with rte_malloc_socket() (every allocation
 * of the heap but the buffers set aside).
 */
static bool
mgr_busy(struct tide_donor_mgr *m)
{
	struct rte_malloc_socket_stats hs;
	struct tide_donor_region *r;
	uint64_t plugs = 0;
	bool busy = m->nb_bufs != 0;

	pthread_mutex_lock(&m->lock);
	TAILQ_FOREACH(r, &m->regions, next) {
		busy |= !r->in_heap;
		plugs += r->nb_plugs;
	}
	pthread_mutex_unlock(&m->lock);
	if (!busy && m->heap_socket >= 0 &&
			rte_malloc_get_socket_stats(m->heap_socket, &hs) == 0)
		busy = hs.alloc_count > plugs;
	return busy;
}

/* @p m among the live managers (registry lock held). */
static bool
mgr_listed_locked(const struct tide_donor_mgr *m)
{
	const struct tide_donor_mgr *l;

	TAILQ_FOREACH(l, &mgr_list, next)
		if (l == m)
			return true;
	return false;
}

/*
 * Take @p m for its free, by address in the registry: nothing is read through a pointer
 * freed already (maybe another object's memory by now) or one that never was a manager.
 * 0, -EINVAL not a live manager, -EBUSY another free of it, or another call on it, is
 * under way.
 */
static int
mgr_claim(struct tide_donor_mgr *m)
{
	int ret = -EINVAL;

	dn_registry_lock();
	if (mgr_listed_locked(m)) {
		ret = m->freeing || m->users != 0 ? -EBUSY : 0;
		if (ret == 0)
			m->freeing = true;
	}
	dn_registry_unlock();
	return ret;
}

int
dn_mgr_enter(struct tide_donor_mgr *m, const char *call)
{
	int ret = -EINVAL;

	if (m == NULL)
		return DN_REFUSE(ERR, EINVAL, "%s(): NULL manager", call);
	dn_registry_lock();
	if (mgr_listed_locked(m)) {
		ret = m->freeing ? -EBUSY : 0;
		if (ret == 0)
			m->users++;
	}
	dn_registry_unlock();
	/* Not m->name: a manager being freed may be gone by now. */
	if (ret == -EBUSY)
		return DN_REFUSE(ERR, EBUSY, "%s(): %p is being freed: refused", call,
			(void *)m);
	if (ret != 0)
		return DN_REFUSE(ERR, EINVAL, "%s(): %p is not a live manager (freed already?): "
			"left alone", call, (void *)m);
	TIDE_FAULT_HOLD(TIDE_HOLD_DONOR_MGR_ENTERED); /* tests: free it now */
	return 0;
}

void
dn_mgr_leave(struct tide_donor_mgr *m)
{
	dn_registry_lock();
	m->users--;
	dn_registry_unlock();
}

int
tide_donor_mgr_free(struct tide_donor_mgr *m)
{
	bool busy;
	int ret;

	if (m == NULL)
		return 0;
	ret = mgr_claim(m);
	/* Not m->name: the other free may have freed it since. */
	if (ret == -EBUSY)
		return DN_REFUSE(ERR, EBUSY, "%p: another call frees it or works on it now: "
			"left alone", (void *)m);
	if (ret != 0)
		return DN_REFUSE(ERR, EINVAL, "%p is not a live manager (freed already?): left "
			"alone", (void *)m);
	TIDE_FAULT_HOLD(TIDE_HOLD_DONOR_MGR_CLAIMED); /* tests: call on it now */
	pthread_mutex_lock(&m->req_lock);
	/* Decided before anything is given back: a busy manager is left as it is. */
	busy = mgr_busy(m);
	if (!busy) {
		dn_heap_trim(m);
		pthread_mutex_lock(&m->lock);
		busy = !TAILQ_EMPTY(&m->regions);
		pthread_mutex_unlock(&m->lock);
	}
	if (busy || dn_heap_destroy(m) != 0) {
		pthread_mutex_unlock(&m->req_lock);
		DN_LOG(ERR, "%s: regions, blocks or buffers are still out: not freed", m->name);
		dn_registry_lock();
		m->freeing = false;
		dn_registry_unlock();
		return dn_error(EBUSY);
	}
	pthread_mutex_unlock(&m->req_lock);
	dn_registry_lock();
	TAILQ_REMOVE(&mgr_list, m, next);
	mgr_validator_put(m);
	dn_registry_unlock();
	mgr_destroy(m);
	return 0;
}

int
tide_donor_stats_get(struct tide_donor_mgr *m, struct tide_donor_stats *st)
{
	int ret;

	if (st == NULL)
		return DN_REFUSE(ERR, EINVAL, "NULL st");
	ret = dn_mgr_enter(m, __func__);
	if (ret != 0)
		return ret;
	dn_stats_read(m, st);
	dn_mgr_leave(m);
	return 0;
}

void
dn_stats_read(struct tide_donor_mgr *m, struct tide_donor_stats *st)
{
	struct tide_donor_region *r;

	pthread_mutex_lock(&m->lock);
	*st = m->st;
	st->donors = m->alive;
	TAILQ_FOREACH(r, &m->regions, next) {
		st->regions++;
		if (r->in_heap)
			st->heap_bytes += r->len;
		for (uint32_t i = 0; i < r->nb_parts; i++) {
			const struct dn_part *pt = &r->parts[i];

			switch (pt->state) {
			case TIDE_DONOR_STATE_OWN:
				st->own_bytes += pt->bytes;
				break;
			case TIDE_DONOR_STATE_LIVE:
				st->donated_bytes += pt->bytes;
				break;
			case TIDE_DONOR_STATE_ORPHAN:
				st->orphan_bytes += pt->bytes;
				break;
			case TIDE_DONOR_STATE_UNPINNED:
			case TIDE_DONOR_STATE_REPINNING:
				st->unpinned_bytes += pt->bytes;
				break;
			}
		}
	}
	pthread_mutex_unlock(&m->lock);
}
