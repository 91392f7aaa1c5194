/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Multi-process: what tidepool does between a primary and its secondaries.
 *
 * Every process runs a hook during rte_eal_init(), in the vdev bus scan (after the IPC
 * channel is up, before memory is): the primary registers its IPC actions; a secondary
 * introduces itself ("tide_attach": its pid, its lcores and the index its tide ops got) and
 * the primary answers with the index the tide ops have there. Mempool ops are matched
 * between processes by that index, so a secondary whose index differs would call another
 * driver's ops on the primary's pools and corrupt them: it is refused, with a log line
 * saying what to do, and exits. A primary without tidepool does not answer: the secondary
 * carries on without it.
 *
 * The primary keeps the attached secondaries (its own list). Its control thread, and every
 * new attach, looks whether one is gone (exited or killed: a secondary's exit runs no hook
 * of ours, so the two look alike): the mbufs the process parked in its lcore caches
 * (shared memory) go back to their pools, the callbacks registered with
 * tide_mp_death_cb_register() run (the message library releases what the process's stages
 * held), and only then may a new process take its lcores.
 *
 * Processes are named by their id (the liveness of a lock's holder, of a secondary, of a
 * stage's owner): an id only means something in the pid namespace it was given in. A
 * secondary in another pid namespace than the primary's (a container sharing the
 * hugepages and /var/run/dpdk, without the host's pids) would have its id read as another
 * process's, live or dead, and its caches given back, or its locks taken over, while it
 * runs: it is refused at its attach (by the primary, or by itself from the primary's
 * answer), with a log line saying so, and exits. So is a secondary of another tidepool
 * build: its request is of another size, or the two sides' stamps of the shared layout
 * (pool_layout(); each sees the other's) differ. Where a namespace cannot be read,
 * the two are taken for one (a WARNING). A primary that does not answer checks nothing.
 *
 * A secondary that finds a pool's free lists short asks the primary to grow it
 * ("tide_grow": the pool's name and the objects it needs) and waits a bounded time; the
 * primary's control thread, the only place where memzones are reserved and freed, grows
 * the pool and answers. DPDK maps the new memory in every secondary before the primary's
 * memzone reservation returns, so the asking secondary can use the objects at once.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "pool_private.h"
#include "tide_layout.h"
#include "tide_process.h"
#include "tide_mempool.h"
#include "tide_mempool_hooks.h"

#define MP_ATTACH "tide_attach"
#define MP_GROW "tide_grow"
/* How long a secondary waits for the primary's answers. */
#define MP_ATTACH_TIMEOUT_MS 2000
#define MP_GROW_TIMEOUT_MS TIDE_MP_GROW_TIMEOUT_MS
#define MP_LCORE_WORDS (RTE_MAX_LCORE / 64)

struct mp_attach_req {
	uint32_t pid;
	uint32_t ops_index;   /* of the tide ops in the secondary */
	uint32_t ns;          /* its pid namespace (tide_process_ns()), 0: not known */
	uint32_t layout;      /* mp_layout() of its build */
	uint32_t time_ns;     /* its time namespace (tide_process_time_ns()), 0: not known */
	uint64_t lcores[MP_LCORE_WORDS];
};

_Static_assert(sizeof(struct mp_attach_req) <= RTE_MP_MAX_PARAM_LEN,
	"an attach request fits a message");

struct mp_attach_rep {
	int32_t status;       /* 0, -EPROTO: the ops indices differ, -EXDEV: the pid or time
			       * namespaces, -EINVAL: the request's size or layout (another
			       * build) */
	uint32_t ops_index;   /* of the tide ops in the primary */
	uint32_t pid;         /* the primary's */
	uint32_t ns;          /* the primary's pid namespace, 0: not known */
	uint32_t layout;      /* mp_layout() of the primary's build */
	uint32_t time_ns;     /* the primary's time namespace, 0: not known */
};

struct mp_grow_req {
	char pool[RTE_MEMPOOL_NAMESIZE];
	uint32_t n;
};

struct mp_grow_rep {
	int32_t added;        /* objects added (or found free), 0, or a negative errno */
};

/* An attached secondary (primary only). */
struct mp_peer {
	TAILQ_ENTRY(mp_peer) next;
	uint32_t pid;
	uint64_t start;       /* when it started (tide_process_start()): its id may be reused */
	uint64_t lcores[MP_LCORE_WORDS];
};

/* A growth a secondary waits for (primary only). */
struct mp_grow_job {
	TAILQ_ENTRY(mp_grow_job) next;
	char peer[PATH_MAX];
	struct mp_grow_req req;
};

struct mp_death_cb {
	TAILQ_ENTRY(mp_death_cb) next;
	tide_mp_death_cb_t *cb;
	void *arg;
};

static struct {
	pthread_mutex_t lock; /* guards everything below */
	TAILQ_HEAD(, mp_peer) peers;
	TAILQ_HEAD(, mp_grow_job) jobs;
	TAILQ_HEAD(, mp_death_cb) death_cbs;
	uint32_t primary_pid; /* a secondary's primary, from its attach */
	uint64_t gone;        /* secondaries found gone and cleaned up after */
	uint64_t returned;    /* mbufs of their caches given back */
	uint64_t refused;     /* secondaries refused at their attach */
	uint32_t sources;     /* pools with a block source: no secondary may attach */
} mp = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.peers = TAILQ_HEAD_INITIALIZER(mp.peers),
	.jobs = TAILQ_HEAD_INITIALIZER(mp.jobs),
	.death_cbs = TAILQ_HEAD_INITIALIZER(mp.death_cbs),
};

/* Whether two pid namespaces (tide_process_ns(), 0: not known) are known to differ. */
static bool
mp_ns_differ(uint32_t a, uint32_t b)
{
	return a != 0 && b != 0 && a != b;
}

/* Index of the tide ops in this process's table, or -1. */
static int
mp_ops_index(void)
{
	for (uint32_t i = 0; i < rte_mempool_ops_table.num_ops; i++)
		if (strcmp(rte_mempool_ops_table.ops[i].name, TIDE_MEMPOOL_OPS_NAME) == 0)
			return (int)i;
	return -1;
}


/* ---- recovering from a dead secondary (primary) ---- */

struct mp_flush {
	uint64_t lcores[MP_LCORE_WORDS]; /* the dead process's lcores no one else runs */
	uint64_t returned;
};

/* Give back what the dead process's lcores parked in @m's caches. */
static void
mp_flush_caches(struct rte_mempool *m, void *arg)
{
	struct mp_flush *f = arg;

	if (!tide_mempool_is_tide(m) || m->cache_size == 0)
		return;
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		struct rte_mempool_cache *c = &m->local_cache[l];

		if ((f->lcores[l / 64] & (1ull << (l % 64))) == 0 || c->len == 0)
			continue;
		f->returned += c->len;
		rte_mempool_cache_flush(c, m);
	}
}

/*
 * The dead process's lcores whose caches nobody else uses: not the primary's, not a live
 * secondary's (DPDK asks every process for lcores of its own; tools such as
 * dpdk-proc-info often run on the primary's lcore 0 anyway). Caller holds mp.lock.
 */
static unsigned int
mp_orphan_lcores(const struct mp_peer *dead, uint64_t *out)
{
	const struct mp_peer *p;
	unsigned int shared = 0;

	memcpy(out, dead->lcores, sizeof(dead->lcores));
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		uint64_t bit = 1ull << (l % 64);
		bool used = (out[l / 64] & bit) != 0 && !rte_lcore_has_role(l, ROLE_OFF);

		TAILQ_FOREACH(p, &mp.peers, next)
			used |= p != dead && (p->lcores[l / 64] & bit) != 0 &&
				!tide_process_gone_since(p->pid, p->start);
		if (used && (out[l / 64] & bit) != 0) {
			out[l / 64] &= ~bit;
			shared++;
		}
	}
	return shared;
}

/* A peer is gone: its caches, then the libraries' callbacks. Caller holds mp.lock. */
static void
mp_recover(struct mp_peer *p)
{
	struct mp_flush f = { .returned = 0 };
	struct mp_death_cb *d;
	unsigned int shared = mp_orphan_lcores(p, f.lcores);

	TIDE_FAULT_HOLD(TIDE_HOLD_MP_RECOVER);
	rte_mempool_walk(mp_flush_caches, &f);
	TAILQ_FOREACH(d, &mp.death_cbs, next)
		d->cb((int)p->pid, d->arg);
	mp.gone++;
	mp.returned += f.returned;
	POOL_LOG(NOTICE, "secondary process %u is gone (exited or killed): %" PRIu64 " mbufs "
		"its lcore caches held given back%s", p->pid, f.returned, shared != 0 ?
		" (it ran on lcores of live processes as well: their caches stay theirs)" : "");
}

/* Recover every dead peer. Caller holds mp.lock. */
static void
mp_check_peers_locked(void)
{
	struct mp_peer *p, *tmp;

	for (p = TAILQ_FIRST(&mp.peers); p != NULL; p = tmp) {
		tmp = TAILQ_NEXT(p, next);
		if (!tide_process_gone_since(p->pid, p->start))
			continue;
		TAILQ_REMOVE(&mp.peers, p, next);
		mp_recover(p);
		free(p);
	}
}

/* ---- messages: their parameters are bytes at no particular alignment ---- */

static void
mp_msg_put(struct rte_mp_msg *m, const char *name, const void *p, size_t len)
{
	memset(m, 0, sizeof(*m));
	strlcpy(m->name, name, sizeof(m->name));
	m->len_param = (int)len;
	memcpy(m->param, p, len);
}

/* Copy a message's parameters out; false if they are not @len bytes. */
static bool
mp_msg_get(const struct rte_mp_msg *m, void *p, size_t len)
{
	if (m->len_param != (int)len)
		return false;
	memcpy(p, m->param, len);
	return true;
}

/* Bumped when a shared field changes meaning but not size or place. */
#define MP_LAYOUT_VERSION 1

uint64_t
pool_layout(void)
{
	const uint64_t part[] = {
		MP_LAYOUT_VERSION, sizeof(struct tide_pool), sizeof(struct pool_blk),
		sizeof(struct pool_wall), sizeof(struct pool_set_shared),
		sizeof(struct tide_pool_set), TIDE_POOL_SET_MAX_CLASSES, POOL_DIR_MAX,
		sizeof(struct tide_rwlock), RTE_MAX_LCORE, tide_mempool_pvt_layout(),
	};

	return tide_layout_stamp(part, RTE_DIM(part));
}

/* pool_layout() folded to 32 bits, never 0 (what a build before the check sent). */
static uint32_t
mp_layout(void)
{
	uint64_t h = pool_layout();
	uint32_t l = (uint32_t)(h ^ (h >> 32));

	return l != 0 ? l : 1;
}

/* ---- the primary's IPC actions ---- */

static int
mp_attach_action(const struct rte_mp_msg *msg, const void *peer)
{
	struct mp_attach_rep rep = {
		.ops_index = (uint32_t)mp_ops_index(),
		.pid = (uint32_t)getpid(),
		.ns = tide_process_ns(),
		.layout = mp_layout(),
		.time_ns = tide_process_time_ns(),
	};
	struct mp_attach_req req;
	struct rte_mp_msg out;
	struct mp_peer *p;

	if (TIDE_FAULT(TIDE_FAULT_ATTACH_SILENT))
		return 0; /* tests: a primary too busy to answer */
	if (!mp_msg_get(msg, &req, sizeof(req))) {
		rep.status = -EINVAL;
		POOL_LOG(ERR, "a secondary process refused: its attach request is not of this "
			"build's size (%zu bytes): it runs another tidepool build", sizeof(req));
	} else if (req.layout != rep.layout) {
		rep.status = -EINVAL;
		POOL_LOG(ERR, "secondary process %u refused: it runs another tidepool build (its "
			"layout of the shared pools is %#x, here %#x)", req.pid, req.layout,
			rep.layout);
	} else if (req.ops_index != rep.ops_index) {
		rep.status = -EPROTO;
		POOL_LOG(ERR, "secondary process %u refused: its tide ops are at index %u, here "
			"at %u", req.pid, req.ops_index, rep.ops_index);
	} else if (mp_ns_differ(req.ns, rep.ns)) {
		rep.status = -EXDEV;
		POOL_LOG(ERR, "secondary process %u refused: it runs in another pid namespace "
			"(%u, here %u), where its id may name another process of this one, or none",
			req.pid, req.ns, rep.ns);
	} else if (mp_ns_differ(req.time_ns, rep.time_ns)) {
		rep.status = -EXDEV;
		POOL_LOG(ERR, "secondary process %u refused: it runs in another time namespace "
			"(%u, here %u), where process start times read otherwise: a live process "
			"would be taken for gone", req.pid, req.time_ns, rep.time_ns);
	} else if (req.ns == 0 || rep.ns == 0) {
		POOL_LOG(WARNING, "secondary process %u: the pid namespace of %s cannot be read "
			"(/proc/self/ns/pid): taken for the same", req.pid,
			req.ns == 0 ? "that process" : "this one");
	}
	if (rep.status != 0) {
		pthread_mutex_lock(&mp.lock);
		mp.refused++;
		pthread_mutex_unlock(&mp.lock);
	} else {
		pthread_mutex_lock(&mp.lock);
		/* A dead process's lcores are cleaned before anyone may reuse them. */
		mp_check_peers_locked();
		if (mp.sources > 0) {
			/* Donor blocks, say: mapped here alone, they would fault there. */
			POOL_LOG(ERR, "secondary process %u refused: %u pool(s) here take blocks "
				"from a block source, memory this process alone maps", req.pid,
				mp.sources);
			mp.refused++;
			pthread_mutex_unlock(&mp.lock);
			rep.status = -ENOTSUP;
			goto reply;
		}
		p = calloc(1, sizeof(*p));
		if (p != NULL) {
			p->pid = req.pid;
			p->start = tide_process_start(req.pid);
			memcpy(p->lcores, req.lcores, sizeof(p->lcores));
			TAILQ_INSERT_TAIL(&mp.peers, p, next);
		}
		pthread_mutex_unlock(&mp.lock);
		rep.status = p != NULL ? 0 : -ENOMEM;
		if (p != NULL)
			POOL_LOG(INFO, "secondary process %u attached", req.pid);
	}
reply:
	mp_msg_put(&out, MP_ATTACH, &rep, sizeof(rep));
	return rte_mp_reply(&out, peer);
}

static int
mp_grow_action(const struct rte_mp_msg *msg, const void *peer)
{
	struct mp_grow_job *j = calloc(1, sizeof(*j));
	struct mp_grow_rep rep = { .added = j == NULL ? -ENOMEM : -EINVAL };
	struct rte_mp_msg out;

	if (j != NULL && mp_msg_get(msg, &j->req, sizeof(j->req))) {
		strlcpy(j->peer, peer, sizeof(j->peer));
		j->req.pool[sizeof(j->req.pool) - 1] = '\0';
		pthread_mutex_lock(&mp.lock);
		TAILQ_INSERT_TAIL(&mp.jobs, j, next);
		pthread_mutex_unlock(&mp.lock);
		pool_ctl_wake();
		return 0;
	}
	free(j);
	mp_msg_put(&out, MP_GROW, &rep, sizeof(rep));
	return rte_mp_reply(&out, peer);
}

/*
 * The control thread's part (primary): serve the growths secondaries wait for, and
 * recover dead secondaries. Each pool grown is held meanwhile (its free waits), not the
 * registry lock.
 */
void
pool_mp_serve(void)
{
	TAILQ_HEAD(, mp_grow_job) jobs = TAILQ_HEAD_INITIALIZER(jobs);
	struct mp_grow_job *j;

	pthread_mutex_lock(&mp.lock);
	TAILQ_CONCAT(&jobs, &mp.jobs, next);
	mp_check_peers_locked();
	pthread_mutex_unlock(&mp.lock);
	while ((j = TAILQ_FIRST(&jobs)) != NULL) {
		struct tide_pool *tp = pool_hold_named(j->req.pool);
		struct mp_grow_rep rep;
		struct rte_mp_msg out;

		TAILQ_REMOVE(&jobs, j, next);
		rep.added = tp == NULL ? -ENOENT : pool_grow_demand(tp, j->req.n,
			POOL_GROW_REMOTE);
		if (tp != NULL)
			pool_release(tp);
		mp_msg_put(&out, MP_GROW, &rep, sizeof(rep));
		if (rte_mp_reply(&out, j->peer) != 0)
			POOL_LOG(WARNING, "%s: the secondary that asked for growth is gone",
				j->req.pool);
		free(j);
	}
}

/* ---- the secondary's side ---- */

/* Ask the primary for @n more objects of @m; waits at most TIDE_MP_GROW_TIMEOUT_MS. */
static int
mp_remote_grow(struct rte_mempool *m, unsigned int n)
{
	struct rte_mp_reply reply = { 0 };
	struct timespec ts = {
		.tv_sec = MP_GROW_TIMEOUT_MS / 1000,
		.tv_nsec = (MP_GROW_TIMEOUT_MS % 1000) * 1000000l,
	};
	struct mp_grow_req g = { .n = n };
	struct mp_grow_rep rep = { .added = -ETIMEDOUT };
	struct rte_mp_msg req;

	strlcpy(g.pool, m->name, sizeof(g.pool));
	mp_msg_put(&req, MP_GROW, &g, sizeof(g));
	if (rte_mp_request_sync(&req, &reply, &ts) != 0 || reply.nb_received != 1 ||
			!mp_msg_get(&reply.msgs[0], &rep, sizeof(rep)))
		rep.added = -ETIMEDOUT;
	free(reply.msgs);
	return rep.added;
}

int
pool_mp_source_get(void)
{
	int ret = 0;

	pthread_mutex_lock(&mp.lock);
	mp_check_peers_locked(); /* the dead ones do not count */
	if (!TAILQ_EMPTY(&mp.peers))
		ret = -EBUSY;
	else
		mp.sources++;
	pthread_mutex_unlock(&mp.lock);
	return ret;
}

void
pool_mp_source_put(void)
{
	pthread_mutex_lock(&mp.lock);
	mp.sources--;
	pthread_mutex_unlock(&mp.lock);
}

/* Introduce this secondary to the primary; refuse to run with mismatched ops, another
 * build or another pid namespace. */
static void
mp_attach(void)
{
	struct rte_mp_reply reply = { 0 };
	struct timespec ts = { .tv_sec = MP_ATTACH_TIMEOUT_MS / 1000 };
	struct mp_attach_req a = {
		.pid = (uint32_t)getpid(),
		.ops_index = (uint32_t)mp_ops_index(),
		.ns = tide_process_ns(),
		.layout = mp_layout(),
		.time_ns = tide_process_time_ns(),
	};
	struct mp_attach_rep rep;
	struct rte_mp_msg req;
	unsigned int l;

	/* Every lcore with a role, service lcores too (their services take and free mbufs
	 * through caches of their own): as the primary counts its own (mp_orphan_lcores()).
	 */
	for (l = 0; l < RTE_MAX_LCORE; l++)
		if (!rte_lcore_has_role(l, ROLE_OFF))
			a.lcores[l / 64] |= 1ull << (l % 64);
	mp_msg_put(&req, MP_ATTACH, &a, sizeof(a));
	/* (Before EAL's memory is up here: nothing in shared memory can be looked at to
	 * tell a primary without tidepool from one too busy to answer.)
	 */
	if (rte_mp_request_sync(&req, &reply, &ts) != 0 || reply.nb_received != 1) {
		POOL_LOG(NOTICE, "the primary process did not answer for tidepool in %u ms (it has "
			"none, or was too busy): this process goes on unrecorded (should it die with "
			"elastic pools there, its lcore caches are not given back) and unchecked "
			"(the same build and drivers taken for granted)", MP_ATTACH_TIMEOUT_MS);
		free(reply.msgs);
		return;
	}
	if (!mp_msg_get(&reply.msgs[0], &rep, sizeof(rep))) {
		POOL_LOG(CRIT, "the primary's answer to this process's attach is not of this "
			"build's size (%d bytes, not %zu): it runs another tidepool build. Run the "
			"same build in every process. Refusing to run.", reply.msgs[0].len_param,
			sizeof(rep));
		free(reply.msgs);
		exit(EXIT_FAILURE);
	}
	free(reply.msgs);
	if (rep.layout != a.layout) {
		POOL_LOG(CRIT, "the primary (pid %u) runs another tidepool build: its layout of "
			"the shared pools is %#x, this one's %#x. Run the same build in every "
			"process. Refusing to run.", rep.pid, rep.layout, a.layout);
		exit(EXIT_FAILURE);
	}
	if (rep.status == -EPROTO) {
		POOL_LOG(CRIT, "the tide mempool ops are at index %u in this process and at %u in "
			"the primary (pid %u): mempool drivers are matched between processes by "
			"that index, so this process would call another driver's ops on the "
			"primary's pools. Run it with the same DPDK build and the same mempool "
			"drivers as the primary (its -d options, and no driver of its own)."
			" Refusing to run.", a.ops_index, rep.ops_index, rep.pid);
		exit(EXIT_FAILURE);
	}
	/* The primary refuses; its answer's namespaces are a second look, should it not. */
	if ((rep.status == -EXDEV || rep.status == 0) && !mp_ns_differ(a.ns, rep.ns) &&
			mp_ns_differ(a.time_ns, rep.time_ns)) {
		POOL_LOG(CRIT, "this process runs in another time namespace than the primary "
			"(%u here, %u there): tidepool tells a process alive or dead by its id "
			"and start time, which /proc gives in each namespace's boot time, so "
			"each would take the other for gone. Run it in the primary's time "
			"namespace. Refusing to run.", a.time_ns, rep.time_ns);
		exit(EXIT_FAILURE);
	}
	if (rep.status == -EXDEV || (rep.status == 0 && mp_ns_differ(a.ns, rep.ns))) {
		POOL_LOG(CRIT, "this process runs in another pid namespace than the primary "
			"(%u here, %u there): tidepool tells a process alive or dead by its id, "
			"and an id of this namespace may name another process of the primary's, "
			"or none. Run it in the primary's pid namespace (a container: "
			"--pid=container:<primary's>, or --pid=host / hostPID with a primary on "
			"the host, or shareProcessNamespace in the primary's pod). Refusing to "
			"run.", a.ns, rep.ns);
		exit(EXIT_FAILURE);
	}
	if (rep.status == -ENOTSUP) {
		POOL_LOG(CRIT, "the primary (pid %u) has pools that take blocks from a block "
			"source (donor processes' memory), which only it maps: this process "
			"would fault on their mbufs. Refusing to run.", rep.pid);
		exit(EXIT_FAILURE);
	}
	if (rep.status == -EINVAL) {
		POOL_LOG(CRIT, "the primary (pid %u) could not read this process's attach "
			"request: it runs another tidepool build. Run the same build in every "
			"process. Refusing to run.", rep.pid);
		exit(EXIT_FAILURE);
	}
	if (rep.status != 0)
		POOL_LOG(ERR, "the primary could not record this process (%s): should it die, "
			"its lcore caches are not given back", strerror(-rep.status));
	__atomic_store_n(&mp.primary_pid, rep.pid, __ATOMIC_RELEASE);
}

/* Runs in every process during rte_eal_init() (see the top of this file). */
static void
mp_scan(void *arg __rte_unused)
{
	tide_mempool_ops_register();
	if (rte_eal_process_type() == RTE_PROC_PRIMARY) {
		if ((rte_mp_action_register(MP_ATTACH, mp_attach_action) != 0 &&
				rte_errno != EEXIST) ||
				(rte_mp_action_register(MP_GROW, mp_grow_action) != 0 &&
				rte_errno != EEXIST))
			POOL_LOG(ERR, "cannot register the IPC actions: secondaries will not "
				"be served: %s", rte_strerror(rte_errno));
		__atomic_store_n(&mp.primary_pid, (uint32_t)getpid(), __ATOMIC_RELEASE);
		/* From now on, before any pool: a page the application frees counts too. */
		pool_memsync_init();
		pool_events_watch();
	} else {
		mp_attach();
	}
}

RTE_INIT(pool_mp_init)
{
	rte_vdev_add_custom_scan(mp_scan, NULL);
	tide_mempool_remote_grow_set(mp_remote_grow);
}

/* ---- API ---- */

int
tide_mp_death_cb_register(tide_mp_death_cb_t *cb, void *arg)
{
	struct mp_death_cb *d;
	int err;

	if (cb == NULL)
		return POOL_REFUSE(ERR, EINVAL, "no callback");
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return POOL_REFUSE(ERR, ENOTSUP, "only the primary process hears of secondaries' "
			"deaths");
	d = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL : calloc(1, sizeof(*d));
	if (d == NULL)
		return POOL_REFUSE(ERR, ENOMEM, "no memory for the callback's record");
	/* The control thread is what looks for dead secondaries between two attaches. */
	err = pool_ctl_watch(true);
	if (err != 0) {
		free(d);
		return POOL_REFUSE(ERR, err, "cannot start the control thread that watches for "
			"dead secondaries: %s", rte_strerror(err));
	}
	d->cb = cb;
	d->arg = arg;
	pthread_mutex_lock(&mp.lock);
	TAILQ_INSERT_TAIL(&mp.death_cbs, d, next);
	pthread_mutex_unlock(&mp.lock);
	return 0;
}

int
tide_mp_death_cb_unregister(tide_mp_death_cb_t *cb, void *arg)
{
	struct mp_death_cb *d;
	int ret = -ENOENT;

	pthread_mutex_lock(&mp.lock);
	TAILQ_FOREACH(d, &mp.death_cbs, next)
		if (d->cb == cb && d->arg == arg) {
			TAILQ_REMOVE(&mp.death_cbs, d, next);
			free(d);
			ret = 0;
			break;
		}
	pthread_mutex_unlock(&mp.lock);
	if (ret < 0)
		return POOL_REFUSE(DEBUG, ENOENT, "no such death callback registered");
	pool_ctl_watch(false);
	return 0;
}

bool
tide_mp_primary_alive(void)
{
	uint32_t pid = __atomic_load_n(&mp.primary_pid, __ATOMIC_ACQUIRE);

	return pid != 0 && !tide_process_gone(pid);
}

int
tide_mp_peers(struct tide_mp_peer *peers, unsigned int max)
{
	struct mp_peer *p;
	unsigned int n = 0;

	if (peers == NULL && max != 0)
		return POOL_REFUSE(ERR, EINVAL, "peers is NULL with max %u", max);
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return POOL_REFUSE(ERR, ENOTSUP, "only the primary process knows its peers");
	pthread_mutex_lock(&mp.lock);
	TAILQ_FOREACH(p, &mp.peers, next) {
		if (n < max) {
			peers[n].pid = (int)p->pid;
			peers[n].nb_lcores = 0;
			for (unsigned int w = 0; w < MP_LCORE_WORDS; w++)
				peers[n].nb_lcores += (unsigned int)__builtin_popcountll(
					p->lcores[w]);
			peers[n].alive = !tide_process_gone_since(p->pid, p->start);
		}
		n++;
	}
	pthread_mutex_unlock(&mp.lock);
	return (int)n;
}

int
tide_mp_stats_get(struct tide_mp_stats *st)
{
	if (st == NULL)
		return POOL_REFUSE(ERR, EINVAL, "st is NULL");
	pthread_mutex_lock(&mp.lock);
	st->gone = mp.gone;
	st->returned = mp.returned;
	st->refused = mp.refused;
	st->unstuck = pool_unstick_kills();
	pool_memsync_counts(&st->resyncs, &st->resync_failures);
	pthread_mutex_unlock(&mp.lock);
	return 0;
}
