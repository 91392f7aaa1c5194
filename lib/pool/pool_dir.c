/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The directory of elastic pools and pool sets, in shared memory: every process attached
 * to the primary (secondaries included) finds a pool's record from its mempool or its
 * name, for stats and telemetry. The records themselves are in DPDK memory too, at the
 * same address in every process.
 *
 * One memzone, made by the primary when its first pool registers, looked up by the others
 * when they first need it (none yet: no pool). A reader-writer lock guards the tables.
 * Readers hold it for a few pointer reads, or, through pool_dir_with_set(), while they read
 * a set's record (names only): freeing a set removes its record under the write lock
 * first, so the record cannot be freed under such a reader. A pool's reader, which takes
 * the pool's driver locks, pins it instead (pool_dir_pin()), and a pool's free waits for
 * the pins after removing its record. Readers write nothing but a pin, and writers (the
 * primary's pool creation and freeing) are the only ones that wait.
 *
 * The lock and the pins count their holders per process (tide_rwlock.h): a process that
 * dies reading or pinning (a secondary killed with -9) leaves its count behind, and the
 * writer or the pool's free that waits for it finds the process gone and takes its count
 * back, with a WARNING. A live process, stopped or not, is waited for.
 */

#include <errno.h>
#include <sched.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_memzone.h>
#include "pool_private.h"
#include "tide_shared_mz.h"

#define POOL_DIR_MZ "tide_pool_dir"
#define POOL_DIR_WHAT "tide_pool: the pool directory"

struct pool_dir {
	struct tide_rwlock lock; /* first: tests watch it at the memzone's start */
	struct tide_pool *pools[POOL_DIR_MAX];      /* NULL: a free slot */
	struct pool_set_shared *sets[POOL_DIR_MAX]; /* NULL: a free slot */
};

static struct pool_dir *pool_dir_cached;

/* The directory; made (primary) when @create and missing. NULL when there is none. */
static struct pool_dir *
pool_dir(bool create)
{
	const struct rte_memzone *mz;
	struct pool_dir *d = __atomic_load_n(&pool_dir_cached, __ATOMIC_ACQUIRE);

	if (d != NULL)
		return d;
	/* Zeroed: an unlocked lock, empty tables. */
	mz = tide_shared_mz(POOL_DIR_MZ, sizeof(*d), pool_layout(),
		create && rte_eal_process_type() == RTE_PROC_PRIMARY);
	if (mz == NULL) {
		static bool said;

		if (rte_errno == EPROTO && !__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
			POOL_LOG(ERR, "the directory of pools was made by another tidepool build "
				"(another layout): run the same build in every process");
		return NULL;
	}
	d = mz->addr;
	__atomic_store_n(&pool_dir_cached, d, __ATOMIC_RELEASE);
	return d;
}

/* Why pool_dir(true) gave NULL: another build's directory, or no memory for it. */
static int
pool_dir_error(void)
{
	return rte_errno == EPROTO ? -EPROTO : -ENOMEM;
}

/* Put @p in the first free slot of @table; -ENOSPC when full. */
static int
pool_dir_add(void **table, void *p)
{
	struct pool_dir *d = pool_dir(true);
	int ret = -ENOSPC;

	if (d == NULL)
		return pool_dir_error();
	tide_rwlock_write_lock(&d->lock, tide_pool_logtype, POOL_DIR_WHAT);
	for (unsigned int i = 0; i < POOL_DIR_MAX; i++)
		if (table[i] == NULL) {
			table[i] = p;
			ret = 0;
			break;
		}
	tide_rwlock_write_unlock(&d->lock);
	return ret;
}

static void
pool_dir_remove(void **table, const void *p)
{
	struct pool_dir *d = pool_dir(false);

	if (d == NULL)
		return;
	tide_rwlock_write_lock(&d->lock, tide_pool_logtype, POOL_DIR_WHAT);
	for (unsigned int i = 0; i < POOL_DIR_MAX; i++)
		if (table[i] == p)
			table[i] = NULL;
	tide_rwlock_write_unlock(&d->lock);
}

int
pool_dir_add_pool(struct tide_pool *tp)
{
	struct pool_dir *d = pool_dir(true);

	return d == NULL ? pool_dir_error() : pool_dir_add((void **)d->pools, tp);
}

void
pool_dir_remove_pool(const struct tide_pool *tp)
{
	struct pool_dir *d = pool_dir(false);

	if (d != NULL)
		pool_dir_remove((void **)d->pools, tp);
}

int
pool_dir_add_set(struct pool_set_shared *s)
{
	struct pool_dir *d = pool_dir(true);

	return d == NULL ? pool_dir_error() : pool_dir_add((void **)d->sets, s);
}

/*
 * Compared through the records in the directory, which stay valid under its lock: @p s is
 * never read. Taken out under the write lock, so that of two frees of one set one finds it.
 */
struct pool_set_shared *
pool_dir_set_of(const struct tide_pool_set *s, bool take, char *name)
{
	struct pool_dir *d = pool_dir(false);
	struct pool_set_shared *in = NULL;
	uint32_t *held = NULL;

	if (d == NULL || s == NULL)
		return NULL;
	if (take)
		tide_rwlock_write_lock(&d->lock, tide_pool_logtype, POOL_DIR_WHAT);
	else
		held = tide_rwlock_read_lock(&d->lock, tide_pool_logtype, POOL_DIR_WHAT);
	for (unsigned int i = 0; i < POOL_DIR_MAX; i++)
		if (d->sets[i] != NULL && d->sets[i]->set == s) {
			in = d->sets[i];
			strlcpy(name, in->name, RTE_MEMPOOL_NAMESIZE);
			if (take)
				d->sets[i] = NULL;
			break;
		}
	if (take)
		tide_rwlock_write_unlock(&d->lock);
	else
		tide_rwlock_read_unlock(&d->lock, held);
	return in;
}

/* The pool of @p mp, or else named @p name, in @p d (read-locked by the caller); or NULL. */
static struct tide_pool *
pool_dir_lookup(const struct pool_dir *d, const struct rte_mempool *mp, const char *name)
{
	for (unsigned int i = 0; i < POOL_DIR_MAX; i++) {
		struct tide_pool *tp = d->pools[i];

		if (tp != NULL && (mp != NULL ? tp->mp == mp : strcmp(tp->name, name) == 0))
			return tp;
	}
	return NULL;
}

static struct pool_set_shared *
pool_dir_lookup_set(const struct pool_dir *d, const char *name)
{
	for (unsigned int i = 0; i < POOL_DIR_MAX; i++)
		if (d->sets[i] != NULL && strcmp(d->sets[i]->name, name) == 0)
			return d->sets[i];
	return NULL;
}

struct tide_pool *
pool_dir_find(const struct rte_mempool *mp, const char *name)
{
	struct pool_dir *d = pool_dir(false);
	struct tide_pool *found;
	uint32_t *held;

	if (d == NULL || (mp == NULL && name == NULL))
		return NULL;
	held = tide_rwlock_read_lock(&d->lock, tide_pool_logtype, POOL_DIR_WHAT);
	found = pool_dir_lookup(d, mp, name);
	TIDE_FAULT_HOLD(TIDE_HOLD_DIR_READ); /* tests: the reader is killed or stopped here */
	tide_rwlock_read_unlock(&d->lock, held);
	return found;
}

struct pool_set_shared *
pool_dir_find_set(const char *name)
{
	struct pool_dir *d = pool_dir(false);
	struct pool_set_shared *found;
	uint32_t *held;

	if (d == NULL)
		return NULL;
	held = tide_rwlock_read_lock(&d->lock, tide_pool_logtype, POOL_DIR_WHAT);
	found = pool_dir_lookup_set(d, name);
	tide_rwlock_read_unlock(&d->lock, held);
	return found;
}

/*
 * The read lock is held across @p cb: freeing a set takes it for writing (to remove the
 * record) before anything is freed, so the record outlives the call.
 */
int
pool_dir_with_set(const char *name, pool_dir_set_cb_t *cb, void *arg)
{
	struct pool_dir *d = pool_dir(false);
	const struct pool_set_shared *in;
	int ret = -ENOENT;
	uint32_t *held;

	if (d == NULL)
		return -ENOENT;
	held = tide_rwlock_read_lock(&d->lock, tide_pool_logtype, POOL_DIR_WHAT);
	in = pool_dir_lookup_set(d, name);
	if (in != NULL)
		ret = cb(in, arg);
	tide_rwlock_read_unlock(&d->lock, held);
	return ret;
}

/*
 * A pin rather than the read lock for a pool: a reader of a pool takes its driver's locks,
 * and one that waits there (a secondary stopped inside one) would hold up every writer of
 * the directory, and every reader behind them, with it. Pinned under the read lock, a pool
 * that leaves the directory afterwards is freed only once unpinned (pool_dir_pins_wait()).
 */
struct tide_pool *
pool_dir_pin(const struct rte_mempool *mp, const char *name, uint32_t **pin)
{
	struct pool_dir *d = pool_dir(false);
	struct tide_pool *tp;
	uint32_t *held;

	if (d == NULL || (mp == NULL && name == NULL))
		return NULL;
	held = tide_rwlock_read_lock(&d->lock, tide_pool_logtype, POOL_DIR_WHAT);
	tp = pool_dir_lookup(d, mp, name);
	if (tp != NULL)
		*pin = tide_share_get(&tp->pins, tide_pool_logtype, "tide_pool: a pool's pins");
	tide_rwlock_read_unlock(&d->lock, held);
	return tp;
}

void
pool_dir_unpin(uint32_t *pin)
{
	tide_share_put(pin);
}

/* The pins of a process that is gone are taken back (tide_share_wait()). */
void
pool_dir_pins_wait(struct tide_pool *tp)
{
	char what[RTE_MEMPOOL_NAMESIZE + 32];

	if (!tide_share_busy(&tp->pins, false, tide_pool_logtype, NULL))
		return;
	TIDE_FAULT_HOLD(TIDE_HOLD_POOL_FREE_WAITS); /* tests: it waits for a reader */
	snprintf(what, sizeof(what), "tide_pool: pins of pool %s", tp->name);
	tide_share_wait(&tp->pins, tide_pool_logtype, what);
}

void
pool_dir_names(bool sets, void (*cb)(const char *name, void *arg), void *arg)
{
	struct pool_dir *d = pool_dir(false);
	uint32_t *held;

	if (d == NULL)
		return;
	held = tide_rwlock_read_lock(&d->lock, tide_pool_logtype, POOL_DIR_WHAT);
	for (unsigned int i = 0; i < POOL_DIR_MAX; i++) {
		if (sets && d->sets[i] != NULL)
			cb(d->sets[i]->name, arg);
		else if (!sets && d->pools[i] != NULL)
			cb(d->pools[i]->name, arg);
	}
	tide_rwlock_read_unlock(&d->lock, held);
}
