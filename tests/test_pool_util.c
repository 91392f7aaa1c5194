/* SPDX-License-Identifier: BSD-3-Clause */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_random.h>

#include "test_common.h"
#include "test_pool_util.h"
#include "tide_fault.h"
#include "tide_mempool.h"
#include "tide_rwlock.h"

struct rte_mempool *
make_pool_p(struct tide_pool_params *p)
{
	struct rte_mempool *mp = tide_pool_create(p);

	if (mp == NULL)
		printf("\n    pool %s: %s ", p->name, rte_strerror(rte_errno));
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	return mp;
}

void
pool_params(struct tide_pool_params *p, const char *name, size_t base, size_t block,
	size_t wall, unsigned int cache)
{
	tide_pool_params_init(p, name);
	p->base_bytes = base;
	p->block_bytes = block;
	p->wall_bytes = wall;
	p->cache_size = cache;
}

struct rte_mempool *
make_pool(const char *name, size_t base, size_t block, size_t wall, unsigned int cache,
	uint32_t flags)
{
	struct tide_pool_params p;

	pool_params(&p, name, base, block, wall, cache);
	p.flags = flags;
	return make_pool_p(&p);
}

struct tide_pool_stats
pstats(const struct rte_mempool *mp)
{
	struct tide_pool_stats st;

	CU_ASSERT_EQUAL(tide_pool_stats_get(mp, &st), 0);
	return st;
}

struct tide_mempool_stats
mstats(const struct rte_mempool *mp)
{
	struct tide_mempool_stats st;

	CU_ASSERT_EQUAL(tide_mempool_stats_get(mp, &st), 0);
	return st;
}

bool
in_block(const struct rte_mempool *mp, unsigned int idx, const void *obj)
{
	struct tide_mempool_block_info bi;

	if (tide_mempool_block_info(mp, idx, &bi) != 0)
		return false;
	return (uintptr_t)obj - (uintptr_t)bi.addr < bi.len;
}

void
pool_wait_ticks(const struct rte_mempool *mp, unsigned int n)
{
	uint64_t until = pstats(mp).ticks + n, t0 = tide_test_now_ns();

	while (pstats(mp).ticks < until && tide_test_now_ns() - t0 < 10000 * MS)
		tide_test_sleep_us(100);
	CU_ASSERT(pstats(mp).ticks >= until);
}

void
pool_advance(const struct rte_mempool *mp, uint64_t ns)
{
	uint64_t before = pstats(mp).ticks, t0 = tide_test_now_ns();

	tide_test_clock_advance(ns);
	while (pstats(mp).ticks == before && tide_test_now_ns() - t0 < 10000 * MS)
		tide_test_sleep_us(100);
	CU_ASSERT(pstats(mp).ticks > before);
}

void
expect_refused(void *(*create)(const void *p), const void *p, int err, const char *what)
{
	char *log;

	tide_test_log_begin();
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(create(p));
	log = tide_test_log_end();
	if (rte_errno != err)
		printf("\n    %s: rte_errno %d, expected %d ", what, rte_errno, err);
	CU_ASSERT_EQUAL(rte_errno, err);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "tide_pool"));
	free(log);
}

struct rte_mbuf *
hold_one_in_block(struct rte_mempool *mp, unsigned int k)
{
	struct tide_mempool_block_info bi;
	struct rte_mbuf **m, *one;
	unsigned int n = 0, i;

	for (i = 0; i < k; i++) {
		CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, i, &bi), 0);
		n += bi.nb_objs;
	}
	m = calloc(n + 1, sizeof(*m));
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n + 1), 0);
	one = m[n];
	CU_ASSERT_TRUE(in_block(mp, k, one));
	rte_pktmbuf_free_bulk(m, n);
	free(m);
	return one;
}

char *
telemetry_query(const char *cmd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char *buf = calloc(1, 65536);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t n;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/dpdk_telemetry.v2",
		rte_eal_get_runtime_dir());
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		goto fail;
	if (read(fd, buf, 65535) <= 0) /* the greeting */
		goto fail;
	if (write(fd, cmd, strlen(cmd)) < 0)
		goto fail;
	n = read(fd, buf, 65535);
	if (n <= 0)
		goto fail;
	buf[n] = '\0';
	close(fd);
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	buf[0] = '\0';
	return buf;
}

static uint64_t *
stress_owner(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

/* Mark m[0..n) as held by me (take) or by nobody (give); count what was wrong. */
static void
stress_mark(struct pool_stress *s, struct rte_mbuf **m, unsigned int n, uint64_t me, bool take)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t was = __atomic_exchange_n(stress_owner(m[i]), take ? me : 0,
			__ATOMIC_ACQ_REL);

		if (take && was != 0)
			__atomic_fetch_add(&s->dups, 1, __ATOMIC_RELAXED);
		else if (!take && was != me)
			__atomic_fetch_add(&s->bad_owner, 1, __ATOMIC_RELAXED);
	}
}

static void
stress_churn(struct pool_stress *s, uint64_t me)
{
	struct rte_mbuf **held = malloc(s->hold * sizeof(*held));
	unsigned int nheld = 0, target = s->hold;
	uint64_t ops = 0;

	while (!s->stop) {
		unsigned int n = 1 + (unsigned int)rte_rand_max(s->max_bulk);

		/* Swing: fill up to a high target, then drain to a low one, again and again. */
		if (nheld >= target)
			target = (unsigned int)rte_rand_max(s->max_bulk);
		else if (target < s->max_bulk && rte_rand_max(64) == 0)
			target = s->hold - (unsigned int)rte_rand_max(s->hold / 2);
		if (nheld < target && nheld + n <= s->hold) {
			if (rte_pktmbuf_alloc_bulk(s->mp, &held[nheld], n) != 0) {
				__atomic_fetch_add(&s->fails, 1, __ATOMIC_RELAXED);
				continue;
			}
			stress_mark(s, &held[nheld], n, me, true);
			for (unsigned int i = 0; s->check != NULL && i < n; i++)
				if (!s->check(held[nheld + i], s->check_arg))
					__atomic_fetch_add(&s->check_fails, 1, __ATOMIC_RELAXED);
			nheld += n;
		} else if (nheld > 0) {
			n = RTE_MIN(n, nheld);
			stress_mark(s, &held[nheld - n], n, me, false);
			rte_pktmbuf_free_bulk(&held[nheld - n], n);
			nheld -= n;
		} else {
			tide_pool_cache_flush(s->mp);
		}
		ops++;
	}
	stress_mark(s, held, nheld, me, false);
	rte_pktmbuf_free_bulk(held, nheld);
	tide_pool_cache_flush(s->mp);
	__atomic_fetch_add(&s->ops, ops, __ATOMIC_RELAXED);
	free(held);
}

static int
stress_lcore(void *arg)
{
	stress_churn(arg, 10 + rte_lcore_id());
	return 0;
}

static void *
stress_thread(void *arg)
{
	stress_churn(arg, 999);
	return NULL;
}

struct stress_timer {
	struct pool_stress *s;
	uint64_t ns;
};

static void *
stress_timer_main(void *arg)
{
	struct stress_timer *t = arg;

	tide_test_sleep_us(t->ns / 1000);
	t->s->stop = true;
	return NULL;
}

void
pool_stress_run(struct pool_stress *s, uint64_t ns)
{
	int worker = tide_test_worker_lcore();
	struct stress_timer tmr = { .s = s, .ns = ns };
	pthread_t th, tt;
	unsigned int lc;

	CU_ASSERT_FATAL(worker >= 0);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(stress_lcore, s, (unsigned int)worker), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, stress_thread, s), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&tt, NULL, stress_timer_main, &tmr), 0);
	stress_churn(s, 10 + rte_lcore_id());
	pthread_join(tt, NULL);
	pthread_join(th, NULL);
	rte_eal_wait_lcore((unsigned int)worker);
	RTE_LCORE_FOREACH(lc)
		rte_mempool_cache_flush(rte_mempool_default_cache(s->mp, lc), s->mp);
}

static void
stress_count_dirty(struct rte_mempool *mp __rte_unused, void *arg, void *obj,
	unsigned int i __rte_unused)
{
	if (*stress_owner(obj) != 0)
		(*(unsigned int *)arg)++;
}

unsigned int
pool_stress_dirty(struct rte_mempool *mp)
{
	unsigned int dirty = 0;

	/* The reaper off, and a whole tick past the change: rte_mempool_obj_iter() must not
	 * run beside a block's removal (tide_mempool.h), and a reaper at 1 ms went on taking
	 * the pool back to its base while this iterated (a crash, once in some 15 runs).
	 */
	CU_ASSERT_EQUAL(tide_pool_reap_set(mp, 0, TIDE_POOL_UNCHANGED), 0);
	pool_wait_ticks(mp, 2);
	rte_mempool_obj_iter(mp, stress_count_dirty, &dirty);
	return dirty;
}

#ifdef TIDE_FAULT_INJECTION
struct tel_free {
	const char *cmd;
	telemetry_free_fn *fn;
	void *arg;
	char *reply;
	bool freed;
};

static void *
tel_free_query(void *arg)
{
	struct tel_free *t = arg;

	t->reply = telemetry_query(t->cmd);
	return NULL;
}

static void *
tel_free_run(void *arg)
{
	struct tel_free *t = arg;

	t->fn(t->arg);
	__atomic_store_n(&t->freed, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Whether a writer waits on @p l within 5 s (it names itself in the lock while it waits). */
static bool
tel_writer_waits(struct tide_rwlock *l)
{
	for (unsigned int ms = 0; ms < 5000; ms++) {
		if (tide_rwlock_writer_waits(l))
			return true;
		usleep(1000);
	}
	return false;
}

bool
telemetry_free_waits_for_reader(const char *cmd, unsigned int hold, const char *dir_mz,
	unsigned int free_hold, telemetry_free_fn *fn, void *arg, char **reply)
{
	const struct rte_memzone *mz = dir_mz != NULL ? rte_memzone_lookup(dir_mz) : NULL;
	struct tel_free t = { .cmd = cmd, .fn = fn, .arg = arg };
	struct tide_rwlock *l = mz != NULL ? mz->addr : NULL;
	pthread_t query, freer;
	bool waited;

	CU_ASSERT_FATAL(dir_mz == NULL || l != NULL);
	tide_fault_pvt_hold_arm(hold);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&query, NULL, tel_free_query, &t), 0);
	CU_ASSERT_FATAL(tide_fault_pvt_hold_wait(hold, 5000));
	/* The handler holds the directory for reading: the lock is where it was looked for. */
	CU_ASSERT(l == NULL || tide_rwlock_readers(l) > 0);
	if (l == NULL)
		tide_fault_pvt_hold_arm(free_hold);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&freer, NULL, tel_free_run, &t), 0);
	/* Seen waiting (for the directory, or at its own wait for readers), the free cannot
	 * have freed the object yet.
	 */
	waited = (l != NULL ? tel_writer_waits(l) : tide_fault_pvt_hold_wait(free_hold, 5000)) &&
		!__atomic_load_n(&t.freed, __ATOMIC_ACQUIRE);
	if (l == NULL)
		tide_fault_pvt_hold_release(free_hold);
	tide_fault_pvt_hold_release(hold);
	pthread_join(query, NULL);
	pthread_join(freer, NULL);
	*reply = t.reply;
	return waited;
}
#endif

#ifdef TIDE_FAULT_INJECTION
struct free_call {
	void *(*call)(void *);
	void *arg;
	struct rte_mempool *mp;
};

static void *
free_call_run(void *arg)
{
	struct free_call *f = arg;

	f->call(f->arg);
	return NULL;
}

static void *
free_call_free(void *arg)
{
	tide_pool_free(((struct free_call *)arg)->mp);
	return NULL;
}

bool
pool_free_waits_for_call(struct rte_mempool *mp, void *(*call)(void *), void *arg,
	unsigned int hold, unsigned int free_hold)
{
	struct free_call f = { .call = call, .arg = arg, .mp = mp };
	pthread_t caller, freer;
	bool waited;

	tide_fault_pvt_hold_arm(hold);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&caller, NULL, free_call_run, &f), 0);
	CU_ASSERT_FATAL(tide_fault_pvt_hold_wait(hold, 5000));
	tide_fault_pvt_hold_arm(free_hold);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&freer, NULL, free_call_free, &f), 0);
	/* A caller that neither holds nor pins the pool leaves the free nothing to wait for:
	 * it goes on to free the pool's record under the held caller, and never stops here.
	 */
	waited = tide_fault_pvt_hold_wait(free_hold, 5000);
	tide_fault_pvt_hold_release(free_hold);
	tide_fault_pvt_hold_release(hold);
	pthread_join(caller, NULL);
	pthread_join(freer, NULL);
	return waited;
}
#endif

struct tel_race {
	telemetry_free_fn *cycle;
	unsigned int rounds;
	bool done;
};

static void *
tel_race_cycle(void *arg)
{
	struct tel_race *r = arg;

	for (unsigned int i = 0; i < r->rounds; i++)
		r->cycle(NULL);
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}

unsigned int
telemetry_race(const char *cmd, const char *name, telemetry_free_fn *cycle,
	unsigned int rounds)
{
	struct tel_race r = { .cycle = cycle, .rounds = rounds };
	char found[128], missing[128];
	unsigned int seen = 0, bad = 0;
	pthread_t t;

	snprintf(found, sizeof(found), "\"name\":\"%s\"", name);
	snprintf(missing, sizeof(missing), "named %s\"", name);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, tel_race_cycle, &r), 0);
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		char *out = telemetry_query(cmd);

		if (strstr(out, found) != NULL)
			seen++;
		else if (strstr(out, missing) == NULL && bad++ == 0)
			printf("\n    %s: %s ", cmd, out);
		free(out);
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(bad, 0);
	return seen;
}

int
block_hold_cb(struct rte_mempool *mp __rte_unused, enum tide_mempool_block_event ev,
	const struct tide_mempool_block_desc *blk __rte_unused, void *arg)
{
	struct block_hold *h = arg;

	if (ev != h->event || !h->armed)
		return 0;
	h->armed = false;
	h->entered = true;
	for (int i = 0; i < 10000 && !h->release; i++)
		tide_test_sleep_us(1000);
	h->left = true;
	return 0;
}

bool
block_hold_entered(void *arg)
{
	return ((struct block_hold *)arg)->entered;
}
