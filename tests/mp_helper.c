/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * A secondary process for the multi-process tests: attaches to a test primary (its
 * --file-prefix, --proc-type=secondary, lcores of its own) and does one thing:
 *
 *   mp_helper EAL... -- info POOL STOPFILE        print what it sees of the pool, then
 *                                                 wait until STOPFILE exists
 *   mp_helper EAL... -- churn POOL MS             allocate and free random bulks for MS ms
 *                                                 on every lcore and a non-EAL thread,
 *                                                 tagging every mbuf with its holder
 *   mp_helper EAL... -- hold POOL N FREE          take N mbufs, free FREE of them into this
 *                                                 lcore's cache, then wait to be killed
 *   mp_helper EAL... -- watch                     exit cleanly once the primary is gone
 *   mp_helper EAL... -- tel STOPFILE              serve telemetry (instance 1 of the
 *                                                 primary's runtime directory) until
 *                                                 STOPFILE exists
 *   mp_helper EAL... -- free POOL SET             free the primary's pool and pool set
 *                                                 (refused), say rte_errno and whether
 *                                                 they are still registered; create
 *                                                 per-socket pools (refused), say whether
 *                                                 the heap grew
 *   mp_helper EAL... -- psfree ADDR               free the primary's per-socket pools at
 *                                                 ADDR (refused): say rte_errno, whether
 *                                                 the pool library logged it, and whether
 *                                                 the pools are still elastic
 *   mp_helper EAL... -- die POOL                  (fault-injection builds) free an mbuf and
 *                                                 be killed holding the pool's driver lock
 *   mp_helper EAL... -- leave POOL                (as a primary) make an elastic pool and an
 *                                                 adopted one, use them, end without freeing
 *   mp_helper EAL... -- zleave null|ring          (as a primary) a zero-copy TX instance
 *                                                 sends on net_null_zl or on a ring port
 *                                                 nobody reads; end without freeing it
 *   mp_helper EAL... -- serve POOL                (as a primary) make an elastic pool and
 *                                                 wait to be killed
 *   mp_helper EAL... -- xrecv XCHG STAGE N        receive N messages as STAGE, check their
 *                                                 order within each level, release them
 *   mp_helper EAL... -- xsend XCHG STAGE POOL N   make N messages of POOL as STAGE (levels
 *                                                 turning), send them
 *   mp_helper EAL... -- xhold XCHG STAGE N        receive N messages, keep them, wait to be
 *                                                 killed
 *   mp_helper EAL... -- xcut XCHG STAGE|-         a receive cut short: every message
 *                                                 waiting read in place and its header
 *                                                 written as a receive as STAGE (-: an
 *                                                 unmaking one) does, the receivers' turn
 *                                                 held, their tail not moved; wait to be
 *                                                 killed
 *   mp_helper EAL... -- xsleep XCHG               block in tide_xchg_recv_wait() on an empty
 *                                                 XCHG (after "ready=1"), until killed
 *   mp_helper EAL... -- bread BCAST READER        read one broadcast post as READER, check
 *                                                 it, say it is done
 *   mp_helper EAL... -- bhold BCAST READER        read one broadcast post as READER, say
 *                                                 nothing, wait to be killed
 *   mp_helper EAL... -- bdone BCAST READER        (fault-injection builds) read one
 *                                                 broadcast post as READER and say done, held
 *                                                 inside the done (TIDE_HOLD_BCAST_DONE);
 *                                                 wait to be killed
 *   mp_helper EAL... -- bpost BCAST STAGE POOL    post a message of POOL made by STAGE on
 *                                                 BCAST, wait to be killed
 *   mp_helper EAL... -- bsleep BCAST              block in tide_bcast_wait() on BCAST's
 *                                                 post, nobody reading it (after
 *                                                 "ready=1"), until killed
 *   mp_helper EAL... -- pturn send|recv           take the senders' (receivers') turn of
 *                                                 the free proxies' list, wait to be killed
 *   mp_helper EAL... -- lhold POOL STOPFILE       (fault-injection builds) look POOL up
 *                                                 and stay in the lookup, the pool directory
 *                                                 read-locked, until STOPFILE exists
 *   mp_helper EAL... -- xlhold XCHG STOPFILE      the same with exchange XCHG's lookup, the
 *                                                 msg library's directory read-locked
 *   mp_helper EAL... -- peek ADDR                 fold the 64 bytes at ADDR (the primary's
 *                                                 memory), and once more on SIGUSR1
 *   mp_helper EAL... -- popfail NAME N          (as a primary with a --socket-limit below
 *                                                 N 2 KB objects) a tide mempool NAME of N
 *                                                 objects populated whole by
 *                                                 rte_mempool_populate_default(), which
 *                                                 fails part-way; then anonymous memory
 *                                                 for it, every object taken and given
 *                                                 back, the pool freed; say what the block
 *                                                 events and the counts were
 *   mp_helper EAL... -- zreg ADDR LEN             map LEN bytes of its own memory at ADDR,
 *                                                 register them for zero-copy, say what
 *                                                 that answered and what the pin cache
 *                                                 counted
 *   mp_helper EAL... -- zreg ADDR LEN hold        the same, then keep them registered and
 *                                                 wait to be killed
 *   mp_helper EAL... -- zsend PORT NAME N STOP    create zero-copy TX instance NAME on
 *                                                 the primary's port PORT (queue 1), send N
 *                                                 times and wait for their completions, say
 *                                                 so; once STOP exists, free it, say so, and
 *                                                 exit once STOP is removed
 *
 * A message's data starts with its level and its sequence number within the level.
 *
 * Every mbuf's private area (8 bytes at least) records who holds it: an mbuf handed to
 * two holders, or freed by one that did not hold it, is counted. Results are printed as
 * "key=value" lines for the test to read.
 */

#define _GNU_SOURCE /* sched_getaffinity(), rte_cpuset_t */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_version.h>

#include "tide_donor.h"
#include "tide_fault.h"
#include "tide_mempool.h"
#include "msg_private.h"
#include "tide_msg.h"
#include "tide_pool.h"
#include "tide_zctx.h"
#include "test_fold.h"
#include "test_port.h"

#define HOLD_MAX 2048
#define BULK_MAX 32

struct churn {
	struct rte_mempool *mp;
	uint64_t end_ns;
	uint64_t ops, dups, bad, fails;
	uint64_t max_block;   /* newest block id an mbuf came from */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t *
owner(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

/* The id of the block holding obj (0: none found). */
static uint64_t
block_of(const struct rte_mempool *mp, const void *obj)
{
	struct tide_mempool_block_info bi;

	for (unsigned int i = 0; tide_mempool_block_info(mp, i, &bi) == 0; i++)
		if ((uintptr_t)obj - (uintptr_t)bi.addr < bi.len)
			return bi.id;
	return 0;
}

static void
mark(struct churn *c, struct rte_mbuf **m, unsigned int n, uint64_t me, bool take)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t was = __atomic_exchange_n(owner(m[i]), take ? me : 0, __ATOMIC_ACQ_REL);

		if (take && was != 0)
			__atomic_fetch_add(&c->dups, 1, __ATOMIC_RELAXED);
		if (!take && was != me)
			__atomic_fetch_add(&c->bad, 1, __ATOMIC_RELAXED);
	}
}

static void
churn_loop(struct churn *c, uint64_t me)
{
	struct rte_mbuf *held[HOLD_MAX];
	unsigned int n = 0, seed = (unsigned int)me, limit = HOLD_MAX;
	uint64_t ops = 0, fails = 0, max_block = 0;

	while (now_ns() < c->end_ns) {
		unsigned int k = 1 + (unsigned int)rand_r(&seed) % BULK_MAX;

		/* Swing between holding many and none, so the pool grows and drains. */
		if (ops % 4096 == 0)
			limit = 64 + (unsigned int)rand_r(&seed) % (HOLD_MAX - 64);
		if (n + k <= limit && rand_r(&seed) % 3 != 0) {
			if (rte_pktmbuf_alloc_bulk(c->mp, &held[n], k) != 0) {
				fails++;
				continue;
			}
			mark(c, &held[n], k, me, true);
			if ((ops & 255) == 0)
				max_block = RTE_MAX(max_block, block_of(c->mp, held[n]));
			n += k;
		} else {
			k = RTE_MIN(k, n);
			n -= k;
			mark(c, &held[n], k, me, false);
			rte_pktmbuf_free_bulk(&held[n], k);
		}
		ops++;
	}
	mark(c, held, n, me, false);
	rte_pktmbuf_free_bulk(held, n);
	__atomic_fetch_add(&c->ops, ops, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->fails, fails, __ATOMIC_RELAXED);
	for (uint64_t v = __atomic_load_n(&c->max_block, __ATOMIC_RELAXED); v < max_block;)
		if (__atomic_compare_exchange_n(&c->max_block, &v, max_block, false,
				__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
}

static int
churn_lcore(void *arg)
{
	churn_loop(arg, 0x5ec0000000000000ull | ((uint64_t)getpid() << 16) | rte_lcore_id());
	return 0;
}

static void *
churn_thread(void *arg)
{
	churn_loop(arg, 0x5ec0000000000000ull | ((uint64_t)getpid() << 16) | 0xffff);
	return NULL;
}

static int
cmd_churn(struct rte_mempool *mp, unsigned int ms)
{
	struct churn c = { .mp = mp, .end_ns = now_ns() + ms * 1000000ull };
	pthread_t th;
	unsigned int l;

	if (pthread_create(&th, NULL, churn_thread, &c) != 0)
		return 1;
	rte_eal_mp_remote_launch(churn_lcore, &c, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	pthread_join(th, NULL);
	/* What this process's lcores parked goes back before it leaves. */
	RTE_LCORE_FOREACH(l) {
		struct rte_mempool_cache *cache = rte_mempool_default_cache(mp, l);

		if (cache != NULL)
			rte_mempool_cache_flush(cache, mp);
	}
	printf("ops=%" PRIu64 "\ndups=%" PRIu64 "\nbad=%" PRIu64 "\nfails=%" PRIu64
		"\nmax_block=%" PRIu64 "\n", c.ops, c.dups, c.bad, c.fails, c.max_block);
	return 0;
}

static void
info_wait_cb(struct rte_mempool *mp __rte_unused, struct rte_mbuf **m __rte_unused,
	unsigned int n __rte_unused, int status __rte_unused, void *arg __rte_unused)
{
}

/* Waiting at the wall, refused here: "<name>=<ret>" and "<name>_errno=<rte_errno>". */
static void
info_waits(struct rte_mempool *mp)
{
	struct rte_mbuf *m[1];
	int ret;

	rte_errno = 0;
	ret = tide_pool_alloc_wait(mp, m, 1, 1000, NULL);
	printf("alloc_wait=%d\nalloc_wait_errno=%d\n", ret, rte_errno);
	rte_errno = 0;
	ret = tide_pool_alloc_async(mp, m, 1, 1000, info_wait_cb, NULL, NULL);
	printf("alloc_async=%d\nalloc_async_errno=%d\n", ret, rte_errno);
	rte_errno = 0;
	ret = tide_pool_wait_cancel(mp, 1);
	printf("wait_cancel=%d\nwait_cancel_errno=%d\n", ret, rte_errno);
}

static void
info_death_cb(int pid __rte_unused, void *arg __rte_unused)
{
}

/* Wait until @p stop exists. */
static void
wait_for_file(const char *stop)
{
	while (access(stop, F_OK) != 0)
		usleep(10 * 1000);
}

static int
cmd_info(struct rte_mempool *mp, const char *stop)
{
	struct tide_pool_set_params sp;
	struct tide_donor_params dp;
	struct tide_pool_params p;
	struct tide_pool_stats st;

	printf("elastic=%d\n", tide_pool_is_elastic(mp));
	if (tide_pool_stats_get(mp, &st) == 0)
		printf("blocks=%u\nin_use=%" PRIu64 "\nobjs=%" PRIu64 "\n", st.nb_blocks,
			st.nb_in_use, st.nb_objs);
	/* What only the primary may do is refused here, with ENOTSUP. */
	tide_pool_params_init(&p, "tmp_in_secondary");
	printf("create_errno=%d\n", tide_pool_create(&p) == NULL ? rte_errno : 0);
	tide_pool_set_params_init(&sp, "tmp_set_in_secondary");
	printf("set_create_errno=%d\n", tide_pool_set_create(&sp) == NULL ? rte_errno : 0);
	tide_donor_params_init(&dp, "tmp_donors_in_secondary");
	printf("donor_mgr_errno=%d\n", tide_donor_mgr_create(&dp) == NULL ? rte_errno : 0);
	printf("grow=%d\nreap=%d\n", tide_pool_grow(mp, 1), tide_pool_reap(mp));
	info_waits(mp);
	/* The driver's block calls too: a block of this process's memory would be a hole in
	 * every other process, and the block events run in the primary.
	 */
	printf("block_add=%" PRId64 "\nblock_remove=%d\nblock_move=%d\n",
		tide_mempool_block_add(mp, &st, sizeof(st), NULL, NULL, NULL, NULL),
		tide_mempool_block_remove(mp, 1, 0), tide_mempool_block_move(mp, 1, 0));
	/* Nor does a secondary hear of deaths: the primary recovers them. */
	printf("death_cb=%d\n", tide_mp_death_cb_register(info_death_cb, NULL));
	printf("stock_in_use=%u\nready=1\n", rte_mempool_in_use_count(mp));
	fflush(stdout);
	wait_for_file(stop);
	return 0;
}

/*
 * DPDK 22.11 starts telemetry in the primary only; this is the call its rte_eal_init()
 * makes there (lib/telemetry/telemetry_internal.h, not installed; an INTERNAL symbol).
 */
typedef int (*tel_log_fn)(uint32_t level, uint32_t logtype, const char *format, ...);
int32_t rte_telemetry_init(const char *runtime_dir, const char *rte_version,
	rte_cpuset_t *cpuset, tel_log_fn log_fn, uint32_t registered_logtype);

/*
 * Serve telemetry from this secondary, so that the handlers of the libraries it loaded
 * answer in a secondary: the primary holds the runtime directory's socket, this one gets
 * the next free instance (dpdk_telemetry.v2:1, dpdk-telemetry.py -i 1).
 */
static int
cmd_tel(const char *stop)
{
	static rte_cpuset_t cpus; /* telemetry keeps the pointer */
	int ret;

	if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0)
		CPU_ZERO(&cpus);
	ret = rte_telemetry_init(rte_eal_get_runtime_dir(), rte_version(), &cpus, rte_log,
		RTE_LOGTYPE_EAL);
	printf("telemetry=%d\nready=1\n", ret);
	fflush(stdout);
	if (ret != 0)
		return 1;
	wait_for_file(stop);
	printf("stopped=1\n");
	return 0;
}

/* Allocations in the shared DPDK heap of socket 0, as every process sees them. */
static unsigned int
heap_allocs(void)
{
	struct rte_malloc_socket_stats st;

	return rte_malloc_get_socket_stats(0, &st) == 0 ? st.alloc_count : 0;
}

static int
cmd_free(struct rte_mempool *mp, const char *set)
{
	struct tide_pool_set *s = tide_pool_set_lookup(set);
	struct tide_pool_params pp;
	unsigned int refused = 0, allocs;
	int pool_err, set_err;

	rte_errno = 0;
	tide_pool_free(mp);
	pool_err = rte_errno;
	rte_errno = 0;
	tide_pool_set_free(s);
	set_err = rte_errno;
	printf("set_found=%d\nelastic=%d\nset_after=%d\npool_errno=%d\nset_errno=%d\n",
		s != NULL, tide_pool_is_elastic(mp), tide_pool_set_lookup(set) != NULL, pool_err,
		set_err);
	/* Creating per-socket pools is refused too, and leaves nothing in the shared heap
	 * (a secondary cannot free what it would have reserved there).
	 */
	tide_pool_params_init(&pp, "mp_helper_ps");
	allocs = heap_allocs();
	for (int i = 0; i < 5; i++)
		refused += tide_pool_create_per_socket(&pp) == NULL && rte_errno == ENOTSUP;
	printf("ps_refused=%u\nps_heap_allocs=%d\n", refused, (int)(heap_allocs() - allocs));
	return 0;
}

/* The primary's per-socket pools, at @p addr in the memory both processes map. */
static int
cmd_psfree(const char *addr)
{
	struct tide_pool_per_socket *ps = (void *)(uintptr_t)strtoull(addr, NULL, 0);
	unsigned int elastic = 0;
	char *log = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&log, &len);
	int err;

	if (f == NULL)
		return 1;
	rte_openlog_stream(f);
	rte_errno = 0;
	tide_pool_per_socket_free(ps);
	err = rte_errno;
	rte_openlog_stream(NULL);
	fclose(f);
	for (unsigned int k = 0; k < ps->nb_pools; k++)
		elastic += tide_pool_is_elastic(ps->pools[k]);
	/* POOL_LOG's lines, and only its, begin with the library's name. */
	printf("psfree_errno=%d\npsfree_logged=%d\nps_pools=%u\nps_elastic=%u\n", err,
		strncmp(log, "tide_pool: ", 11) == 0 &&
		strstr(log, "only the primary process frees it") != NULL, ps->nb_pools, elastic);
	free(log);
	return 0;
}

/* Say ready (after what the caller printed), then wait to be killed. */
static __rte_noreturn void
ready_until_killed(void)
{
	printf("ready=1\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int
cmd_hold(struct rte_mempool *mp, unsigned int n, unsigned int nfree)
{
	struct rte_mbuf **m = calloc(n, sizeof(*m));
	int ret = -1;

	/* As an application does when the pool is short, try again a little later: the
	 * primary may answer a growth request after it timed out here (a loaded machine,
	 * sanitizers), and the block it adds then is there for the next try.
	 */
	for (unsigned int tries = 0; m != NULL && nfree <= n && ret != 0 && tries < 50; tries++)
		if ((ret = rte_pktmbuf_alloc_bulk(mp, m, n)) != 0)
			usleep(20 * 1000);
	if (ret != 0) {
		printf("error=cannot take %u mbufs\n", n);
		return 1;
	}
	rte_pktmbuf_free_bulk(m, nfree);
	printf("holding=%u\ncached=%u\n", n - nfree,
		rte_mempool_default_cache(mp, rte_lcore_id())->len);
	ready_until_killed();
}

static int
cmd_die(struct rte_mempool *mp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	if (m == NULL)
		return 1;
#ifdef TIDE_FAULT_INJECTION
	printf("ready=1\n");
	fflush(stdout);
	tide_fault_pvt_arm(TIDE_FAULT_DIE_IN_LOCK, 0, 1);
	rte_mempool_generic_put(mp, (void **)&m, 1, NULL); /* to the driver: it kills us */
#endif
	printf("error=still alive\n");
	return 1;
}

struct lhold {
	struct rte_mempool *mp; /* a pool's lookup, or else */
	const char *xname;      /* an exchange's */
	int found;
};

static void *
lhold_lookup(void *arg)
{
	struct lhold *h = arg;

	h->found = h->mp != NULL ? tide_pool_is_elastic(h->mp) : tide_xchg_lookup(h->xname) != NULL;
	return NULL;
}

/* Stay inside a directory lookup (its read lock held) until @p stop exists. */
static int
cmd_lhold(struct rte_mempool *mp, const char *xname, const char *stop)
{
	struct lhold h = { .mp = mp, .xname = xname };
	pthread_t t;

	if (xname != NULL && tide_msg_init(NULL) != 0) {
		printf("error=tide_msg_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
#ifdef TIDE_FAULT_INJECTION
	tide_fault_pvt_hold_arm(TIDE_HOLD_DIR_READ);
	if (pthread_create(&t, NULL, lhold_lookup, &h) != 0)
		return 1;
	printf("held=%d\npid=%d\n", tide_fault_pvt_hold_wait(TIDE_HOLD_DIR_READ, 5000),
		(int)getpid());
	fflush(stdout);
	wait_for_file(stop);
	tide_fault_pvt_hold_release(TIDE_HOLD_DIR_READ);
	pthread_join(t, NULL);
	printf("found=%d\n", h.found);
	return 0;
#else
	RTE_SET_USED(h);
	RTE_SET_USED(t);
	RTE_SET_USED(stop);
	RTE_SET_USED(lhold_lookup);
	printf("error=no fault injection\n");
	return 1;
#endif
}

static int
cmd_serve(const char *name)
{
	struct tide_pool_params p;

	tide_pool_params_init(&p, name);
	p.base_bytes = 2 << 20;
	p.block_bytes = 2 << 20;
	p.wall_bytes = 64 << 20;
	if (tide_pool_create(&p) == NULL) {
		printf("error=cannot create the pool\n");
		return 1;
	}
	ready_until_killed();
}

/*
 * As a primary: an elastic pool NAME and a pool made with the stock API and the tide ops
 * (adopted), both used, left unfreed at rte_eal_cleanup() (main's), as many applications
 * end. Prints cleaned=1 if the process got through it.
 */
static int
cmd_leave(const char *name)
{
	struct tide_pool_params p;
	struct rte_mempool *mp[2];
	struct rte_mbuf *m[64];
	char stock[RTE_MEMPOOL_NAMESIZE];

	tide_pool_params_init(&p, name);
	p.base_bytes = 2 << 20;
	p.block_bytes = 2 << 20;
	p.wall_bytes = 64 << 20;
	mp[0] = tide_pool_create(&p);
	snprintf(stock, sizeof(stock), "%s_s", name);
	mp[1] = rte_pktmbuf_pool_create_by_ops(stock, 4096, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY, TIDE_MEMPOOL_OPS_NAME);
	if (mp[0] == NULL || mp[1] == NULL || !tide_pool_is_elastic(mp[1])) {
		printf("error=cannot create the pools\n");
		return 1;
	}
	for (unsigned int k = 0; k < RTE_DIM(mp); k++) {
		if (rte_pktmbuf_alloc_bulk(mp[k], m, RTE_DIM(m)) != 0) {
			printf("error=cannot allocate from %s\n", mp[k]->name);
			return 1;
		}
		rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	}
	printf("pools=2\n");
	return 0;
}

/* ---- messages ---- */

struct msg_body {
	uint32_t level;
	uint32_t seq;
};

static int
msg_setup(const char *xname, const char *sname, struct tide_xchg **x, int *stage)
{
	if (tide_msg_init(NULL) != 0) {
		printf("error=tide_msg_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	*x = tide_xchg_lookup(xname);
	*stage = tide_stage_register(sname);
	if (*x == NULL || *stage < 0) {
		printf("error=no exchange %s or no stage %s\n", xname, sname);
		return -1;
	}
	return 0;
}

/* Receive n messages as stage within a few seconds; check order within levels. */
static unsigned int
msg_receive(struct tide_xchg *x, int stage, struct rte_mbuf **m, unsigned int n,
	bool *order_ok)
{
	uint32_t next[TIDE_XCHG_MAX_PRIO] = { 0 };
	uint64_t end = now_ns() + 10ull * 1000 * 1000 * 1000;
	unsigned int got = 0;

	*order_ok = true;
	while (got < n && now_ns() < end) {
		int k = tide_xchg_recv_wait(x, &m[got], RTE_MIN(n - got, 32u), (uint16_t)stage,
			100 * 1000);

		for (int i = 0; i < k; i++) {
			const struct msg_body *b = rte_pktmbuf_mtod(m[got + i], const void *);

			if (tide_msg_owner(m[got + i]) != stage || b->level >= TIDE_XCHG_MAX_PRIO ||
					b->seq != next[b->level]++)
				*order_ok = false;
		}
		got += k > 0 ? (unsigned int)k : 0;
	}
	return got;
}

static int
cmd_xrecv(const char *xname, const char *sname, unsigned int n)
{
	struct rte_mbuf **m = calloc(n, sizeof(*m));
	struct tide_xchg *x;
	unsigned int got;
	bool order_ok;
	int stage;

	if (m == NULL || msg_setup(xname, sname, &x, &stage) != 0) {
		free(m);
		return 1;
	}
	got = msg_receive(x, stage, m, n, &order_ok);
	for (unsigned int i = 0; i < got; i++)
		tide_msg_release(m[i]);
	printf("received=%u\norder_ok=%d\nleft=%d\n", got, order_ok,
		tide_stage_list((uint16_t)stage, NULL, 0));
	tide_stage_unregister((uint16_t)stage);
	free(m);
	return got == n ? 0 : 1;
}

static int
cmd_xsend(const char *xname, const char *sname, struct rte_mempool *mp, unsigned int n)
{
	uint32_t seq[TIDE_XCHG_MAX_PRIO] = { 0 };
	struct tide_xchg *x;
	unsigned int sent = 0;
	int stage;

	if (msg_setup(xname, sname, &x, &stage) != 0)
		return 1;
	while (sent < n) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		struct msg_body *b;
		uint8_t level;

		if (m == NULL) {
			printf("error=no mbuf\n");
			return 1;
		}
		level = (uint8_t)(sent % x->nb_prio);
		b = (struct msg_body *)rte_pktmbuf_append(m, sizeof(*b));
		b->level = level;
		b->seq = seq[level]++;
		tide_msg_make(m, (uint16_t)stage, level);
		while (tide_xchg_send_burst(x, &m, 1) == 0)
			rte_pause();
		sent++;
	}
	printf("sent=%u\n", sent);
	tide_stage_unregister((uint16_t)stage);
	return 0;
}

static int
cmd_xhold(const char *xname, const char *sname, unsigned int n)
{
	struct rte_mbuf **m = calloc(n, sizeof(*m));
	struct tide_xchg *x;
	bool order_ok;
	int stage;

	if (m == NULL || msg_setup(xname, sname, &x, &stage) != 0) {
		free(m);
		return 1;
	}
	printf("holding=%u\n", msg_receive(x, stage, m, n, &order_ok));
	ready_until_killed();
}

static int
cmd_xcut(const char *xname, const char *sname)
{
	const bool unmake = strcmp(sname, "-") == 0;
	struct tide_xchg *x;
	unsigned int cut = 0;
	int stage = TIDE_STAGE_NONE;

	if (unmake ? tide_msg_init(NULL) != 0 || (x = tide_xchg_lookup(xname)) == NULL :
			msg_setup(xname, sname, &x, &stage) != 0) {
		printf("error=no exchange %s\n", xname);
		return 1;
	}
	tide_xring_pvt_turn_take(&x->ring.receivers);
	for (unsigned int l = x->nb_prio; l-- > 0;) {
		uint32_t head = tide_xring_pvt_first(&x->ring, l);
		uint32_t k = tide_xring_pvt_ready(&x->ring, l);

		for (uint32_t i = 0; i < k; i++, cut++)
			tide_xchg_pvt_took(*tide_xring_pvt_slot(&x->ring, l, head + i), unmake,
				(uint16_t)stage);
	}
	printf("cut=%u\n", cut);
	ready_until_killed();
}

/* Block in a wait on an empty exchange until killed (nothing is sent to it). */
static int
cmd_xsleep(const char *xname)
{
	struct tide_xchg *x;
	struct rte_mbuf *m;

	if (tide_msg_init(NULL) != 0 || (x = tide_xchg_lookup(xname)) == NULL) {
		printf("error=no exchange %s\n", xname);
		return 1;
	}
	printf("ready=1\n");
	fflush(stdout);
	printf("woke=%d\n", tide_xchg_recv_wait(x, &m, 1, TIDE_STAGE_NONE, 0));
	return 1;
}

/* Take a turn of the free proxies' list (side "send" or "recv") and hold it until killed. */
static int
cmd_pturn(const char *side)
{
	const struct rte_memzone *mz;
	struct tide_xring *r;

	if (tide_msg_init(NULL) != 0 || (mz = rte_memzone_lookup(MSG_SHARED_MZ)) == NULL) {
		printf("error=no message library\n");
		return 1;
	}
	r = ((struct msg_shared *)mz->addr)->proxy_free;
	tide_xring_pvt_turn_take(strcmp(side, "send") == 0 ? &r->senders : &r->receivers);
	ready_until_killed();
}

static int
cmd_bread(const char *bname, unsigned int reader, bool hold)
{
	struct tide_bcast *b;
	struct rte_mbuf *m;
	uint64_t end = now_ns() + 10ull * 1000 * 1000 * 1000;
	int ret = -EAGAIN;

	if (tide_msg_init(NULL) != 0 || (b = tide_bcast_lookup(bname)) == NULL) {
		printf("error=no broadcast exchange %s\n", bname);
		return 1;
	}
	while (ret == -EAGAIN && now_ns() < end)
		ret = tide_bcast_read(b, reader, &m, NULL);
	if (ret != 0) {
		printf("error=nothing read\n");
		return 1;
	}
	printf("read_seq=%u\n", rte_pktmbuf_mtod(m, const struct msg_body *)->seq);
	if (hold)
		ready_until_killed();
	return tide_bcast_done(b, reader) == 0 ? 0 : 1;
}

#ifdef TIDE_FAULT_INJECTION
struct bdone {
	struct tide_bcast *b;
	unsigned int reader;
};

static void *
bdone_main(void *arg)
{
	struct bdone *d = arg;

	tide_bcast_done(d->b, d->reader);
	return NULL;
}

/* Read a broadcast post and say done on a thread held inside the done; wait to be killed. */
static int
cmd_bdone(const char *bname, unsigned int reader)
{
	struct bdone d = { .reader = reader };
	uint64_t end = now_ns() + 10ull * 1000 * 1000 * 1000;
	struct rte_mbuf *m;
	pthread_t t;
	int ret = -EAGAIN;

	if (tide_msg_init(NULL) != 0 || (d.b = tide_bcast_lookup(bname)) == NULL) {
		printf("error=no broadcast exchange %s\n", bname);
		return 1;
	}
	while (ret == -EAGAIN && now_ns() < end)
		ret = tide_bcast_read(d.b, reader, &m, NULL);
	tide_fault_pvt_hold_arm(TIDE_HOLD_BCAST_DONE);
	if (ret != 0 || pthread_create(&t, NULL, bdone_main, &d) != 0 ||
			!tide_fault_pvt_hold_wait(TIDE_HOLD_BCAST_DONE, 10000)) {
		printf("error=nothing read, or the done not held\n");
		return 1;
	}
	ready_until_killed();
}
#endif

/* Post a message made by a stage of this process, and wait to be killed. */
static int
cmd_bpost(const char *bname, const char *sname, struct rte_mempool *mp)
{
	struct rte_mbuf *m = mp != NULL ? rte_pktmbuf_alloc(mp) : NULL;
	struct tide_bcast *b;
	int stage;

	if (m == NULL || tide_msg_init(NULL) != 0 || (b = tide_bcast_lookup(bname)) == NULL ||
			(stage = tide_stage_register(sname)) < 0) {
		printf("error=no mbuf, no broadcast exchange %s or no stage %s\n", bname, sname);
		return 1;
	}
	rte_pktmbuf_append(m, sizeof(struct msg_body));
	tide_msg_make(m, (uint16_t)stage, 0);
	printf("posted=%d\n", tide_bcast_post(b, m, NULL) == 0);
	ready_until_killed();
}

/* Block in a wait for a broadcast post to be complete until killed (nobody reads it). */
static int
cmd_bsleep(const char *bname)
{
	struct tide_bcast *b;

	if (tide_msg_init(NULL) != 0 || (b = tide_bcast_lookup(bname)) == NULL) {
		printf("error=no broadcast exchange %s\n", bname);
		return 1;
	}
	printf("ready=1\n");
	fflush(stdout);
	printf("woke=%d\n", tide_bcast_wait(b, 0));
	return 1;
}

/* The memory at @p addr now, and when the test says (SIGUSR1): the test frees and grows
 * memory there in between, so it is not read meanwhile. A signal queued with an address
 * (sigqueue()) says where to look then: the block grown again may begin elsewhere in the
 * same page.
 */
static int
cmd_peek(const char *addr)
{
	const void *p = (const void *)(uintptr_t)strtoull(addr, NULL, 0);
	siginfo_t info;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1); /* blocked in every thread (main()) */
	printf("before=%lld\nready=1\n", tide_test_fold(p));
	fflush(stdout);
	if (sigwaitinfo(&set, &info) != SIGUSR1)
		return 1;
	if (info.si_code == SI_QUEUE && info.si_value.sival_ptr != NULL)
		p = info.si_value.sival_ptr;
	printf("after=%lld\n", tide_test_fold(p));
	return 0;
}

/* ---- zero-copy TX ---- */

static int
zsend_wait(struct tide_zctx *z, unsigned int n)
{
	uint64_t end = now_ns() + 10ull * 1000 * 1000 * 1000;
	struct tide_zctx_stats st = { 0 };
	struct tide_zctx_cpl cpl;
	unsigned int got = 0;

	while (got < n && now_ns() < end)
		got += tide_zctx_poll(z, &cpl, 1);
	/* The agent counts a send just after it posts its completion. */
	while (tide_zctx_stats_get(z, &st) == 0 && st.completed < n && now_ns() < end)
		usleep(1000);
	printf("completions=%u\nsubmitted=%" PRIu64 "\ncompleted=%" PRIu64 "\npackets=%"
		PRIu64 "\n", got, st.submitted, st.completed, st.packets);
	return got == n && st.completed == n ? 0 : -1;
}

/*
 * What zsend sends from: 4 KB of a 2 MB span no other helper uses. Two processes cannot
 * register one span (DPDK names external memory by its address, in the configuration they
 * share), and without ASLR a static buffer is at the same address in every helper.
 */
static uint8_t *
zsend_buffer(void)
{
	void *want = (void *)(0x300000000000ull + ((uint64_t)getpid() << 22));
	void *p = mmap(want, 4096, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Zero-copy TX instance @p name on @p port, every send zero-copy, @p depth sends deep, its
 * headers from @p pool (NULL: an elastic pool it makes); NULL (said) if it cannot be made. */
static struct tide_zctx *
zsend_instance(const char *name, uint16_t port, struct rte_mempool *pool, unsigned int depth)
{
	struct tide_zctx_params p;
	struct tide_zctx *z;

	tide_zctx_params_init(&p, name);
	p.pool = pool;
	p.nb_ports = 1;
	p.ports[0] = port;
	p.copy_threshold = 0; /* every send zero-copy */
	p.depth = depth;
	z = tide_zctx_create(&p);
	if (z == NULL)
		printf("error=tide_zctx_create: %s\n", rte_strerror(rte_errno));
	return z;
}

/*
 * As a primary: a zero-copy TX instance (with the elastic pool it makes) on the net_null
 * port net_null_zl ("null": its sends complete at once) or on a ring port nobody reads
 * ("ring": the PMD holds them), 8 sends, left unfreed at rte_eal_cleanup() (main's).
 * Prints sent=8 once the PMD took them (on net_null, once they completed), and cleaned=1
 * if the process got through its end.
 */
static int
cmd_zleave(const char *kind)
{
	static uint8_t hdr[42];
	uint8_t *data = zsend_buffer();
	struct iovec iov = { .iov_base = data, .iov_len = 1000 };
	struct tide_zctx_send s = { .hdr_len = sizeof(hdr), .nb_iov = 1, .hdr = hdr,
		.iov = &iov };
	struct rte_ring *r[2] = { NULL, NULL };
	struct tide_zctx_stats st = { 0 };
	struct tide_zctx *z;
	uint64_t end;
	uint16_t port = 0;
	int ret = -1;

	if (strcmp(kind, "ring") == 0) {
		r[0] = rte_ring_create("zl_rx", 64, SOCKET_ID_ANY, 0);
		r[1] = rte_ring_create("zl_tx", 64, SOCKET_ID_ANY, 0);
		if (r[0] != NULL && r[1] != NULL)
			ret = rte_eth_from_rings("zl_ring", &r[0], 1, &r[1], 1, SOCKET_ID_ANY);
		port = (uint16_t)ret;
		ret = ret < 0 ? ret : 0;
	} else {
		ret = rte_eth_dev_get_port_by_name("net_null_zl", &port);
	}
	if (data == NULL || ret != 0 || tide_test_port_start(port, rte_pktmbuf_pool_create("zl_rx",
			256, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY), 1, 64, 1500) != 0) {
		printf("error=no %s port\n", kind);
		return 1;
	}
	z = zsend_instance("zleave", port, NULL, 16);
	if (z == NULL)
		return 1;
	s.port = port;
	for (s.cookie = 0; s.cookie < 8; s.cookie++)
		if (tide_zctx_submit(z, &s) != 0) {
			printf("error=tide_zctx_submit: %s\n", rte_strerror(rte_errno));
			return 1;
		}
	end = now_ns() + 10ull * 1000 * 1000 * 1000;
	/* On net_null they complete too: what the exit then finds in flight is none. */
	while (tide_zctx_stats_get(z, &st) == 0 && (st.packets < 8 ||
			(r[1] == NULL && st.completed < 8)) && now_ns() < end)
		usleep(1000);
	printf("sent=%" PRIu64 "\n", st.packets);
	fflush(stdout);
	return 0;
}

static int
cmd_zsend(const char *port_name, const char *name, unsigned int n, const char *stop)
{
	static uint8_t hdr[42];
	uint8_t *data = zsend_buffer();
	struct iovec iov = { .iov_base = data, .iov_len = 4096 };
	struct tide_zctx_send s = { .queue = 1, .hdr_len = sizeof(hdr), .nb_iov = 1, .hdr = hdr,
		.iov = &iov };
	struct rte_mempool *pool;
	struct tide_zctx *z;
	char pname[RTE_MEMPOOL_NAMESIZE];
	uint16_t port;

	if (data == NULL) {
		printf("error=no buffer to send from\n");
		return 1;
	}
	snprintf(pname, sizeof(pname), "zsend_%d", (int)getpid());
	/* Only the primary creates elastic pools: the secondary brings a stock one. */
	pool = rte_pktmbuf_pool_create(pname, 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	if (pool == NULL || rte_eth_dev_get_port_by_name(port_name, &port) != 0) {
		printf("error=no pool or no port %s\n", port_name);
		return 1;
	}
	z = zsend_instance(name, port, pool, 8);
	if (z == NULL)
		return 1;
	s.port = port;
	for (unsigned int i = 0; i < n; i++) {
		s.cookie = i;
		while (tide_zctx_submit(z, &s) == -EAGAIN)
			usleep(100);
	}
	if (zsend_wait(z, n) != 0)
		printf("error=sends not completed\n");
	printf("pid=%d\nready=1\n", (int)getpid());
	fflush(stdout);
	while (access(stop, F_OK) != 0)
		usleep(10 * 1000);
	/* No idle span kept: each is unregistered now (a WARNING if it cannot be). */
	tide_zctx_cache_configure(&(struct tide_zctx_cache_params){ .idle_bytes = 0 });
	printf("freed=%d\n", tide_zctx_free(z));
	fflush(stdout);
	while (access(stop, F_OK) == 0)
		usleep(10 * 1000);
	rte_mempool_free(pool);
	return 0;
}

/* ---- a populate that fails part-way ---- */

struct pop_events {
	unsigned int adds, removes, final;
};

static int
pop_event(struct rte_mempool *mp __rte_unused, enum tide_mempool_block_event event,
	const struct tide_mempool_block_desc *blk, void *arg)
{
	struct pop_events *ev = arg;

	if (event == TIDE_MEMPOOL_BLOCK_ADD) {
		ev->adds++;
	} else {
		ev->removes++;
		ev->final += (blk->flags & TIDE_MEMPOOL_BLOCK_F_FINAL) != 0;
	}
	return 0;
}

static int
cmd_popfail(const char *name, unsigned int n)
{
	struct pop_events ev = { 0 };
	struct tide_mempool_stats st;
	struct rte_mempool *mp;
	void **objs = calloc(n, sizeof(*objs));
	int ret;

	mp = rte_mempool_create_empty(name, n, 2048, 0, 0, SOCKET_ID_ANY, 0);
	if (mp == NULL || objs == NULL ||
			rte_mempool_set_ops_byname(mp, TIDE_MEMPOOL_OPS_NAME, NULL) != 0 ||
			tide_mempool_block_event_register(NULL, pop_event, &ev) != 0) {
		printf("error=cannot set the pool up\n");
		return 1;
	}
	ret = rte_mempool_populate_default(mp);
	printf("populate=%d chunks=%u populated=%u adds=%u\n", ret, mp->nb_mem_chunks,
		mp->populated_size, ev.adds);
	/* What DPDK freed is forgotten at the next call, told to the callbacks. */
	printf("avail=%u\n", rte_mempool_avail_count(mp));
	ret = tide_mempool_stats_get(mp, &st);
	printf("stats=%d blocks=%u objs=%" PRIu64 " removes=%u final=%u\n", ret, st.nb_blocks,
		st.nb_objs, ev.removes, ev.final);
	ret = rte_mempool_populate_anon(mp);
	printf("anon=%d\n", ret);
	if (ret > 0 && rte_mempool_get_bulk(mp, objs, n) == 0) {
		printf("taken=%u\n", n);
		rte_mempool_put_bulk(mp, objs, n);
	}
	printf("avail_after=%u\n", rte_mempool_avail_count(mp));
	rte_mempool_free(mp);
	printf("adds_end=%u removes_end=%u\n", ev.adds, ev.removes);
	tide_mempool_block_event_unregister(NULL, pop_event, &ev);
	free(objs);
	return 0;
}

static int
cmd_zreg(const char *addr, const char *len, bool hold)
{
	size_t n = strtoull(len, NULL, 0);
	void *want = (void *)(uintptr_t)strtoull(addr, NULL, 0);
	void *va = mmap(want, n, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	struct tide_zctx_cache_stats st;
	int ret;

	if (va != want) {
		printf("error=cannot map %s\n", addr);
		return 1;
	}
	memset(va, 0x5a, n);
	ret = tide_zctx_mem_register(va, n);
	tide_zctx_cache_stats_get(&st);
	printf("zreg=%d\ndpdk_mem=%" PRIu64 "\n", ret, st.dpdk_mem);
	if (hold)
		ready_until_killed();
	if (ret == 0)
		tide_zctx_mem_unregister(va, n);
	munmap(va, n);
	return 0;
}

static int
cmd_watch(void)
{
	printf("ready=1\n");
	fflush(stdout);
	while (tide_mp_primary_alive())
		usleep(10 * 1000);
	printf("primary_gone=1\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct rte_mempool *mp = NULL;
	sigset_t usr1;
	int n, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* For "peek": blocked before EAL's threads start, so that they inherit it. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		printf("error=cannot initialise EAL\n");
		return 2;
	}
	argc -= n;
	argv += n;
	if (argc < 2) {
		printf("error=no command\n");
		return 2;
	}
	if (strcmp(argv[1], "serve") == 0 && argc == 3)
		return cmd_serve(argv[2]);
	/* Left unfreed at the end: did the process get through it? */
	if ((strcmp(argv[1], "leave") == 0 || strcmp(argv[1], "zleave") == 0) && argc == 3) {
		ret = argv[1][0] == 'z' ? cmd_zleave(argv[2]) : cmd_leave(argv[2]);
		rte_eal_cleanup();
		printf("cleaned=1\n");
		return ret;
	}
	if (strcmp(argv[1], "tel") == 0 && argc == 3) {
		ret = cmd_tel(argv[2]);
		rte_eal_cleanup();
		return ret;
	}
	if (strcmp(argv[1], "peek") == 0 && argc == 3)
		return cmd_peek(argv[2]);
	if (strcmp(argv[1], "psfree") == 0 && argc == 3)
		return cmd_psfree(argv[2]);
	if (strcmp(argv[1], "zsend") == 0 && argc == 6) {
		ret = cmd_zsend(argv[2], argv[3], (unsigned int)atoi(argv[4]), argv[5]);
		rte_eal_cleanup();
		return ret;
	}
	if (strcmp(argv[1], "zreg") == 0 && (argc == 4 ||
			(argc == 5 && strcmp(argv[4], "hold") == 0))) {
		ret = cmd_zreg(argv[2], argv[3], argc == 5);
		rte_eal_cleanup();
		return ret;
	}
	if (strcmp(argv[1], "pturn") == 0 && argc == 3)
		return cmd_pturn(argv[2]);
	if (strcmp(argv[1], "popfail") == 0 && argc == 4) {
		ret = cmd_popfail(argv[2], (unsigned int)atoi(argv[3]));
		rte_eal_cleanup();
		return ret;
	}
	if (argc >= 3 && argv[1][0] != 'x' && argv[1][0] != 'b') {
		mp = rte_mempool_lookup(argv[2]);
		if (mp == NULL) {
			printf("error=no pool %s\n", argv[2]);
			return 2;
		}
	}
	if (strcmp(argv[1], "info") == 0 && argc == 4)
		ret = cmd_info(mp, argv[3]);
	else if (strcmp(argv[1], "churn") == 0 && argc == 4)
		ret = cmd_churn(mp, (unsigned int)atoi(argv[3]));
	else if (strcmp(argv[1], "hold") == 0 && argc == 5)
		ret = cmd_hold(mp, (unsigned int)atoi(argv[3]), (unsigned int)atoi(argv[4]));
	else if (strcmp(argv[1], "free") == 0 && argc == 4)
		ret = cmd_free(mp, argv[3]);
	else if (strcmp(argv[1], "watch") == 0)
		ret = cmd_watch();
	else if (strcmp(argv[1], "die") == 0 && argc == 3)
		ret = cmd_die(mp);
	else if (strcmp(argv[1], "lhold") == 0 && argc == 4)
		ret = cmd_lhold(mp, NULL, argv[3]);
	else if (strcmp(argv[1], "xlhold") == 0 && argc == 4)
		ret = cmd_lhold(NULL, argv[2], argv[3]);
	else if (strcmp(argv[1], "xrecv") == 0 && argc == 5)
		ret = cmd_xrecv(argv[2], argv[3], (unsigned int)atoi(argv[4]));
	else if (strcmp(argv[1], "xhold") == 0 && argc == 5)
		ret = cmd_xhold(argv[2], argv[3], (unsigned int)atoi(argv[4]));
	else if (strcmp(argv[1], "xsend") == 0 && argc == 6)
		ret = cmd_xsend(argv[2], argv[3], rte_mempool_lookup(argv[4]),
			(unsigned int)atoi(argv[5]));
	else if (strcmp(argv[1], "xsleep") == 0 && argc == 3)
		ret = cmd_xsleep(argv[2]);
	else if (strcmp(argv[1], "xcut") == 0 && argc == 4)
		ret = cmd_xcut(argv[2], argv[3]);
	else if (strcmp(argv[1], "bread") == 0 && argc == 4)
		ret = cmd_bread(argv[2], (unsigned int)atoi(argv[3]), false);
	else if (strcmp(argv[1], "bhold") == 0 && argc == 4)
		ret = cmd_bread(argv[2], (unsigned int)atoi(argv[3]), true);
#ifdef TIDE_FAULT_INJECTION
	else if (strcmp(argv[1], "bdone") == 0 && argc == 4)
		ret = cmd_bdone(argv[2], (unsigned int)atoi(argv[3]));
#endif
	else if (strcmp(argv[1], "bpost") == 0 && argc == 5)
		ret = cmd_bpost(argv[2], argv[3], rte_mempool_lookup(argv[4]));
	else if (strcmp(argv[1], "bsleep") == 0 && argc == 3)
		ret = cmd_bsleep(argv[2]);

	else
		ret = 2;
	rte_eal_cleanup();
	return ret;
}
