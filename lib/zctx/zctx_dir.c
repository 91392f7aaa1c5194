/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The directory of instances, in shared memory: every process's instances, so that the
 * primary's telemetry (DPDK 22.11 serves it in the primary only) lists and shows the ones
 * secondaries created. An instance is in DPDK memory (rte_zmalloc_socket()), at the same
 * address in every process; the directory holds its address, its process (id and start
 * time) and its name.
 *
 * One memzone, reserved by whichever process creates an instance first (a secondary may)
 * and looked up by the others. A reader-writer lock guards it (tide_rwlock.h: a reader
 * killed inside it is taken back by the next writer). An instance is entered at creation
 * and removed when it is freed, under the write lock, before its memory is freed: a reader
 * holding the read lock reads an instance's memory safely. Readers of another process's
 * instance read only what lives in the instance itself and is read atomically (the
 * counters of tide_zctx_stats_get()); they take none of its process-local locks.
 *
 * An instance whose process died without freeing it stays allocated in DPDK's heap (no one
 * frees it): it is listed as dead until the next writer (a creation or a free in any
 * process) drops it.
 */

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <rte_memzone.h>

#include "tide_fault.h"
#include "tide_rwlock.h"
#include "zctx_private.h"

#define ZC_DIR_MZ "tide_zctx_dir"
#define ZC_DIR_WHAT "tide_zctx: the directory of instances"
#define ZC_DIR_MAX 128
/* Written last by the process that reserved the memzone: the directory is ready. */
#define ZC_DIR_READY 0x7a637464u
/* Yields a process that found the memzone waits for it to be ready. */
#define ZC_DIR_READY_WAIT (1u << 20)

struct zc_dir_entry {
	struct tide_zctx *z; /* NULL: a free entry */
	uint32_t pid;        /* its process */
	uint64_t start;      /* its process's start time (tide_process_start()) */
	char name[ZC_NAMESIZE];
};

struct zc_dir {
	struct tide_rwlock lock; /* first: tests watch it at the memzone's start */
	uint32_t ready;
	uint64_t dropped;        /* dead processes' entries dropped by writers */
	struct zc_dir_entry e[ZC_DIR_MAX];
};

static struct zc_dir *zc_dir_cached;
static uint64_t zc_dir_self_start;

/* This process's start time (it names this process with its id). */
static uint64_t
zc_dir_self(void)
{
	uint64_t s = __atomic_load_n(&zc_dir_self_start, __ATOMIC_RELAXED);

	if (s == 0) {
		s = tide_process_start((uint32_t)getpid());
		__atomic_store_n(&zc_dir_self_start, s, __ATOMIC_RELAXED);
	}
	return s;
}

/* The directory; reserved when @create and missing. NULL when there is none. */
static struct zc_dir *
zc_dir(bool create)
{
	struct zc_dir *d = __atomic_load_n(&zc_dir_cached, __ATOMIC_ACQUIRE);
	const struct rte_memzone *mz;

	if (d != NULL)
		return d;
	mz = rte_memzone_lookup(ZC_DIR_MZ);
	if (mz == NULL && create) {
		mz = rte_memzone_reserve(ZC_DIR_MZ, sizeof(*d), SOCKET_ID_ANY, 0);
		if (mz != NULL) {
			memset(mz->addr, 0, sizeof(*d)); /* an unlocked lock, no entries */
			__atomic_store_n(&((struct zc_dir *)mz->addr)->ready, ZC_DIR_READY,
				__ATOMIC_RELEASE);
		} else {
			mz = rte_memzone_lookup(ZC_DIR_MZ); /* reserved meanwhile */
		}
	}
	if (mz == NULL)
		return NULL;
	d = mz->addr;
	/* Reserved by another process an instant ago: it zeroes it, then says so. */
	for (unsigned int i = 0; __atomic_load_n(&d->ready, __ATOMIC_ACQUIRE) != ZC_DIR_READY;
			i++) {
		if (i == ZC_DIR_READY_WAIT) {
			ZC_LOG(ERR, "the directory of instances was reserved but never made "
				"ready");
			return NULL;
		}
		sched_yield();
	}
	__atomic_store_n(&zc_dir_cached, d, __ATOMIC_RELEASE);
	return d;
}

/* Whether entry @e is this process's. */
static bool
zc_dir_mine(const struct zc_dir_entry *e)
{
	return e->pid == (uint32_t)getpid() && e->start == zc_dir_self();
}

/* Write lock held: drop the entries of processes that are gone. */
static void
zc_dir_drop_dead(struct zc_dir *d)
{
	for (unsigned int i = 0; i < ZC_DIR_MAX; i++) {
		struct zc_dir_entry *e = &d->e[i];

		if (e->z == NULL || zc_dir_mine(e) || !tide_process_gone_since(e->pid, e->start))
			continue;
		ZC_LOG(NOTICE, "instance %s of process %u, which is gone, leaves the directory "
			"(its memory stays allocated)", e->name, e->pid);
		memset(e, 0, sizeof(*e));
		d->dropped++;
	}
}

int
tide_zctx_pvt_dir_add(struct tide_zctx *z)
{
	struct zc_dir *d = zc_dir(true);
	int ret = -ENOSPC;

	if (d == NULL)
		return -ENOMEM;
	tide_rwlock_write_lock(&d->lock, tide_zctx_logtype, ZC_DIR_WHAT);
	zc_dir_drop_dead(d);
	for (unsigned int i = 0; i < ZC_DIR_MAX; i++) {
		struct zc_dir_entry *e = &d->e[i];

		if (e->z != NULL)
			continue;
		e->pid = (uint32_t)getpid();
		e->start = zc_dir_self();
		snprintf(e->name, sizeof(e->name), "%s", z->name);
		e->z = z;
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
			memset(&d->e[i], 0, sizeof(d->e[i]));
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
			cb(e->z, e->name, e->pid, zc_dir_mine(e),
				zc_dir_mine(e) || !tide_process_gone_since(e->pid, e->start), arg);
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
		cb(e->z, e->name, e->pid, zc_dir_mine(e),
			zc_dir_mine(e) || !tide_process_gone_since(e->pid, e->start), arg);
		ret = 0;
		break;
	}
	tide_rwlock_read_unlock(&d->lock, held);
	return ret;
}
