/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The directory of instances, in shared memory: every process's instances, so that the
 * primary's telemetry (DPDK 22.11 serves it in the primary only) lists and shows the ones
 * secondaries created. An instance is in DPDK memory (rte_zmalloc_socket()), at the same
 * address in every process; the directory holds its address, its process (id and start
 * time) and its name.
 *
 * One memzone, reserved and zeroed by whichever process creates an instance first (a
 * secondary may), under DPDK's tailq lock (tide_shared_mz.h), and looked up by the others.
 * A reader-writer lock guards it (tide_rwlock.h: a reader killed inside it is taken back
 * by the next writer). An instance is entered at creation
 * and removed when it is freed, under the write lock, before its memory is freed: a reader
 * holding the read lock reads an instance's memory safely. Readers of another process's
 * instance read only what lives in the instance itself and is read atomically (the
 * counters of tide_zctx_stats_get()); they take none of its process-local locks.
 *
 * An instance whose process died without freeing it stays allocated in DPDK's heap (no one
 * frees it): it is listed as dead until the next writer (a creation or a free in any
 * process) drops it. A process is named by its id, start time and pid namespace: one of
 * another namespace (a container sharing the hugepages) is taken for alive, never dropped
 * (zc_dir_alive()).
 */

#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_memzone.h>

#include "tide_fault.h"
#include "tide_rwlock.h"
#include "tide_shared_mz.h"
#include "zctx_private.h"

#define ZC_DIR_MZ "tide_zctx_dir"
#define ZC_DIR_WHAT "tide_zctx: the directory of instances"
#define ZC_DIR_MAX 128
struct zc_dir_entry {
	struct tide_zctx *z; /* NULL: a free entry */
	uint32_t pid;        /* its process */
	uint32_t ns;         /* its process's pid namespace (tide_process_ns()) */
	uint64_t start;      /* its process's start time (tide_process_start()) */
	char name[ZC_NAMESIZE];
};

struct zc_dir {
	struct tide_rwlock lock; /* first: tests watch it at the memzone's start */
	uint64_t dropped;        /* dead processes' entries dropped by writers */
	struct zc_dir_entry e[ZC_DIR_MAX];
};

static struct zc_dir *zc_dir_cached;

/* The directory; reserved when @create and missing. NULL when there is none, or (@create)
 * with rte_errno set when it could not be reserved. */
static struct zc_dir *
zc_dir(bool create)
{
	struct zc_dir *d = __atomic_load_n(&zc_dir_cached, __ATOMIC_ACQUIRE);
	const struct rte_memzone *mz;

	if (d != NULL)
		return d;
	/* Zeroed: an unlocked lock, no entries. */
	mz = tide_shared_mz(ZC_DIR_MZ, sizeof(*d), create);
	if (mz == NULL) {
		if (create)
			ZC_LOG(ERR, "no memzone for the directory of instances: %s",
				rte_strerror(rte_errno));
		return NULL;
	}
	d = mz->addr;
	__atomic_store_n(&zc_dir_cached, d, __ATOMIC_RELEASE);
	return d;
}

/* Whether entry @e is this process's (tide_rwlock.h keeps what names this process). */
static bool
zc_dir_mine(const struct zc_dir_entry *e)
{
	return tide_rwlock_is_me(e->pid, e->start, e->ns);
}

/* Whether the process of entry @e is alive: this one, one of another (or an unknown) pid
 * namespace (whose id names another process here, or none), or one seen alive. An entry
 * left half-cleared by a process that died clearing it (no process id) is not. */
static bool
zc_dir_alive(const struct zc_dir_entry *e)
{
	return e->pid != 0 && (zc_dir_mine(e) || tide_rwlock_foreign(e->ns) ||
		!tide_process_gone_since(e->pid, e->start));
}

/* Write lock held: clear entry @e, its instance first (what tells a used entry). */
static void
zc_dir_clear(struct zc_dir_entry *e)
{
	__atomic_store_n(&e->z, NULL, __ATOMIC_RELEASE);
	memset(e, 0, sizeof(*e));
}

/* Write lock held: drop the entries of processes that are gone. */
static void
zc_dir_drop_dead(struct zc_dir *d)
{
	for (unsigned int i = 0; i < ZC_DIR_MAX; i++) {
		struct zc_dir_entry *e = &d->e[i];

		if (e->z == NULL || zc_dir_alive(e))
			continue;
		ZC_LOG(NOTICE, "instance %s of process %u, which is gone, leaves the directory "
			"(its memory stays allocated)", e->name, e->pid);
		zc_dir_clear(e);
		d->dropped++;
	}
}

int
tide_zctx_pvt_dir_add(struct tide_zctx *z)
{
	struct zc_dir *d = zc_dir(true);
	int ret = -ENOSPC;

	if (d == NULL)
		return rte_errno == ENOSPC ? -ENOSPC : -ENOMEM;
	tide_rwlock_write_lock(&d->lock, tide_zctx_logtype, ZC_DIR_WHAT);
	zc_dir_drop_dead(d);
	for (unsigned int i = 0; i < ZC_DIR_MAX; i++) {
		struct zc_dir_entry *e = &d->e[i];

		if (e->z != NULL)
			continue;
		e->pid = tide_rwlock_self();
		e->start = tide_rwlock_me.start;
		e->ns = tide_rwlock_me.ns;
		snprintf(e->name, sizeof(e->name), "%s", z->name);
		__atomic_store_n(&e->z, z, __ATOMIC_RELEASE); /* last: what tells a used entry */
		ret = 0;
		break;
	}
	tide_rwlock_write_unlock(&d->lock);
	if (ret != 0)
		ZC_LOG(ERR, "%s: the directory of instances is full (%d)", z->name, ZC_DIR_MAX);
	return ret;
}

void
tide_zctx_pvt_dir_remove(const struct tide_zctx *z)
{
	struct zc_dir *d = zc_dir(false);

	if (d == NULL)
		return;
	tide_rwlock_write_lock(&d->lock, tide_zctx_logtype, ZC_DIR_WHAT);
	for (unsigned int i = 0; i < ZC_DIR_MAX; i++)
		if (d->e[i].z == z)
			zc_dir_clear(&d->e[i]);
	zc_dir_drop_dead(d);
	tide_rwlock_write_unlock(&d->lock);
}

void
tide_zctx_pvt_dir_foreach(zc_dir_cb_t *cb, void *arg)
{
	struct zc_dir *d = zc_dir(false);
	uint32_t *held;

	if (d == NULL)
		return;
	held = tide_rwlock_read_lock(&d->lock, tide_zctx_logtype, ZC_DIR_WHAT);
	for (unsigned int i = 0; i < ZC_DIR_MAX; i++) {
		const struct zc_dir_entry *e = &d->e[i];

		if (e->z != NULL)
			cb(e->z, e->name, e->pid, zc_dir_mine(e), zc_dir_alive(e), arg);
	}
	tide_rwlock_read_unlock(&d->lock, held);
}

int
tide_zctx_pvt_dir_read(const char *name, uint32_t pid, zc_dir_cb_t *cb, void *arg)
{
	struct zc_dir *d = zc_dir(false);
	int ret = -ENOENT;
	uint32_t *held;

	if (d == NULL)
		return -ENOENT;
	held = tide_rwlock_read_lock(&d->lock, tide_zctx_logtype, ZC_DIR_WHAT);
	for (unsigned int i = 0; i < ZC_DIR_MAX; i++) {
		const struct zc_dir_entry *e = &d->e[i];

		if (e->z == NULL || e->pid != pid || strcmp(e->name, name) != 0)
			continue;
		TIDE_FAULT_HOLD(TIDE_HOLD_ZCTX_DIR_READ); /* tests: its process frees it now */
		cb(e->z, e->name, e->pid, zc_dir_mine(e), zc_dir_alive(e), arg);
		ret = 0;
		break;
	}
	tide_rwlock_read_unlock(&d->lock, held);
	return ret;
}
