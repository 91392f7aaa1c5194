/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The directory of instances, in shared memory: every process's instances, so that any
 * process's telemetry (the primary's, as a rule) lists and shows the ones other processes
 * created. An instance is in DPDK memory (rte_zmalloc_socket()), at the same
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
 * counters of tide_zctx_pvt_stats_read()); they take none of its process-local locks.
 *
 * An instance whose process died without freeing it stays allocated in DPDK's heap (no one
 * frees it): it is listed as dead until the next writer (a creation or a free in any
 * process) drops it. A process is named by its id, start time and pid namespace: one of
 * another namespace (a container sharing the hugepages) is taken for alive, never dropped
 * (zc_dir_alive()).
 *
 * The directory also records which process registered each span of its pin cache as
 * external memory (zctx_cache.c): a memseg list in DPDK's shared memory configuration that
 * nothing would unregister once its process died, and of which there are few
 * (RTE_MAX_MEMSEG_LISTS for every process together). A process records a span before it
 * registers it and drops the record once it unregistered it, without the lock (its pin
 * cache's mutex is held then, and a reader of the directory may be waiting for that
 * mutex): a record is claimed by its process id, with a compare-and-swap. The writer that
 * drops dead processes' instances also unregisters their recorded spans (attaching each
 * first: rte_extmem_unregister() destroys a memseg list only where it is attached), and
 * keeps the record of one it cannot unregister yet, for the next writer.
 */

#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_memzone.h>

#include "tide_fault.h"
#include "tide_layout.h"
#include "tide_rwlock.h"
#include "tide_shared_mz.h"
#include "zctx_private.h"

#define ZC_DIR_MZ "tide_zctx_dir"
#define ZC_DIR_WHAT "tide_zctx: the directory of instances"
#define ZC_DIR_MAX 128
/* One record per memseg list there can be: a span is registered as one. */
#define ZC_DIR_SPANS RTE_MAX_MEMSEG_LISTS

/* A process, as the directory names it. */
struct zc_dir_owner {
	uint32_t pid;        /* 0: none */
	uint32_t ns;         /* its pid namespace (tide_process_ns()) */
	uint64_t start;      /* its start time (tide_process_start()) */
};

struct zc_dir_entry {
	struct tide_zctx *z; /* NULL: a free entry */
	struct zc_dir_owner who;
	char name[ZC_NAMESIZE];
};

/* A span registered as external memory by process who (claimed by its pid; base 0 while
 * being written or dropped). */
struct zc_dir_span {
	struct zc_dir_owner who;
	uintptr_t base;
};

struct zc_dir {
	struct tide_rwlock lock; /* first: tests watch it at the memzone's start */
	uint64_t dropped;        /* dead processes' entries dropped by writers */
	struct zc_dir_entry e[ZC_DIR_MAX];
	struct zc_dir_span spans[ZC_DIR_SPANS];
};

static struct zc_dir *zc_dir_cached;

/* Bumped when a shared field changes meaning but not size or place. */
#define ZC_LAYOUT_VERSION 1

/* The stamp of what processes read of each other's instances (tide_layout.h): the
 * directory, and the instances it points to. */
static uint64_t
zc_dir_layout(void)
{
	const uint64_t part[] = {
		ZC_LAYOUT_VERSION, sizeof(struct zc_dir), sizeof(struct zc_dir_entry),
		sizeof(struct zc_dir_span), ZC_DIR_MAX, ZC_DIR_SPANS, sizeof(struct tide_zctx),
	};

	return tide_layout_stamp(part, RTE_DIM(part));
}

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
	mz = tide_shared_mz(ZC_DIR_MZ, sizeof(*d), zc_dir_layout(), create);
	if (mz == NULL) {
		if (rte_errno == EPROTO)
			ZC_LOG(ERR, "the directory of instances was made by another tidepool build "
				"(another layout): run the same build in every process");
		else if (create)
			ZC_LOG(ERR, "no memzone for the directory of instances: %s",
				rte_strerror(rte_errno));
		return NULL;
	}
	d = mz->addr;
	__atomic_store_n(&zc_dir_cached, d, __ATOMIC_RELEASE);
	return d;
}

/* Whether @w is this process (tide_rwlock.h keeps what names this process). */
static bool
zc_dir_mine(const struct zc_dir_owner *w)
{
	return tide_rwlock_is_me(w->pid, w->start, w->ns);
}

/* Whether process @w is alive: this one, one of another (or an unknown) pid namespace
 * (whose id names another process here, or none), or one seen alive. An entry left
 * half-cleared by a process that died clearing it (no process id) is not. */
static bool
zc_dir_alive(const struct zc_dir_owner *w)
{
	return w->pid != 0 && (zc_dir_mine(w) || tide_rwlock_foreign(w->ns) ||
		!tide_process_gone_since(w->pid, w->start));
}

/* This process, as the directory names it. */
static struct zc_dir_owner
zc_dir_me(void)
{
	uint32_t pid = tide_rwlock_self(); /* first: it fills in the rest */

	return (struct zc_dir_owner){ .pid = pid, .ns = tide_rwlock_me.ns,
		.start = tide_rwlock_me.start };
}

/* Write lock held: clear entry @e, its instance first (what tells a used entry). */
static void
zc_dir_clear(struct zc_dir_entry *e)
{
	__atomic_store_n(&e->z, NULL, __ATOMIC_RELEASE);
	memset(e, 0, sizeof(*e));
}

/*
 * Free span record @sp: its process id last, what claims a record (another process may
 * claim it as soon as it is 0). Its namespace stays: a namespace of 0 counts as unknown,
 * alive, and a process killed half-way through would leave the record taken for good;
 * with its start 0, its id alone tells whether it lives.
 */
static void
zc_dir_span_free(struct zc_dir_span *sp)
{
	__atomic_store_n(&sp->base, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sp->who.start, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sp->who.pid, 0, __ATOMIC_RELEASE);
}

/*
 * Record @sp as it is now, into @w and @base; false when it is free or changed while read
 * (its process freed it, another claimed it). A record claimed but not yet written reads
 * with no start and its last owner's namespace (none, if it never had one): its id alone
 * then tells whether its process lives (an unknown namespace: alive).
 */
static bool
zc_dir_span_read(const struct zc_dir_span *sp, struct zc_dir_owner *w, uintptr_t *base)
{
	w->pid = __atomic_load_n(&sp->who.pid, __ATOMIC_ACQUIRE);
	w->ns = __atomic_load_n(&sp->who.ns, __ATOMIC_RELAXED);
	w->start = __atomic_load_n(&sp->who.start, __ATOMIC_RELAXED);
	*base = __atomic_load_n(&sp->base, __ATOMIC_ACQUIRE);
	__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the loads above before the look again */
	return w->pid != 0 && __atomic_load_n(&sp->who.pid, __ATOMIC_RELAXED) == w->pid;
}

/* Whether a live process recorded a span at @base (it is about to register it, or did). */
static bool
zc_dir_span_live_at(const struct zc_dir *d, uintptr_t base)
{
	struct zc_dir_owner w;
	uintptr_t b;

	for (unsigned int i = 0; i < ZC_DIR_SPANS; i++)
		if (zc_dir_span_read(&d->spans[i], &w, &b) && b == base && zc_dir_alive(&w))
			return true;
	return false;
}

/*
 * Write lock held: unregister the span a gone process recorded, and free its record;
 * false to keep the record for the next writer. Only writers, one at a time, change the
 * record of a gone process (a claim takes a free one). DPDK destroys a memseg list only
 * where no other process holds its file: the process that made it holds it while it
 * lives, and so does a child it forked; this process drops it again if it cannot.
 */
static bool
zc_dir_span_unregister(struct zc_dir *d, uintptr_t base, uint32_t pid)
{
	if (base == 0)
		return true; /* claimed, not yet written: nothing registered */
	if (zc_dir_span_live_at(d, base))
		return false; /* the live one registers it, or waits for this one to go */
	if (rte_extmem_attach((void *)base, ZC_SPAN_BYTES) != 0)
		return rte_errno == ENOENT; /* not registered (any more) */
	if (rte_extmem_unregister((void *)base, ZC_SPAN_BYTES) == 0) {
		ZC_LOG(NOTICE, "span %#lx of process %u, which is gone, is unregistered",
			(unsigned long)base, pid);
		return true;
	}
	ZC_LOG(WARNING, "cannot unregister span %#lx of process %u, which is gone (yet: %s)",
		(unsigned long)base, pid, rte_strerror(rte_errno));
	if (rte_extmem_detach((void *)base, ZC_SPAN_BYTES) != 0)
		ZC_LOG(WARNING, "cannot detach from span %#lx: %s", (unsigned long)base,
			rte_strerror(rte_errno));
	return false;
}

/* Write lock held: unregister the spans of processes that are gone. */
static void
zc_dir_drop_dead_spans(struct zc_dir *d)
{
	for (unsigned int i = 0; i < ZC_DIR_SPANS; i++) {
		struct zc_dir_span *sp = &d->spans[i];
		struct zc_dir_owner w;
		uintptr_t base;

		if (!zc_dir_span_read(sp, &w, &base) || zc_dir_alive(&w))
			continue;
		if (zc_dir_span_unregister(d, base, w.pid))
			zc_dir_span_free(sp);
	}
}

/* Write lock held: drop the entries of processes that are gone, and their spans. */
static void
zc_dir_drop_dead(struct zc_dir *d)
{
	for (unsigned int i = 0; i < ZC_DIR_MAX; i++) {
		struct zc_dir_entry *e = &d->e[i];

		if (e->z == NULL || zc_dir_alive(&e->who))
			continue;
		ZC_LOG(NOTICE, "instance %s of process %u, which is gone, leaves the directory "
			"(its memory stays allocated)", e->name, e->who.pid);
		zc_dir_clear(e);
		d->dropped++;
	}
	zc_dir_drop_dead_spans(d);
}

int
tide_zctx_pvt_dir_span_add(uintptr_t base)
{
	struct zc_dir *d = zc_dir(true);
	struct zc_dir_owner me = zc_dir_me();

	if (d == NULL)
		return rte_errno == ENOSPC || rte_errno == EPROTO ? -rte_errno : -ENOMEM;
	for (unsigned int i = 0; i < ZC_DIR_SPANS; i++) {
		struct zc_dir_span *sp = &d->spans[i];
		uint32_t free_pid = 0;

		if (!__atomic_compare_exchange_n(&sp->who.pid, &free_pid, me.pid, false,
				__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&sp->who.ns, me.ns, __ATOMIC_RELAXED);
		__atomic_store_n(&sp->who.start, me.start, __ATOMIC_RELAXED);
		__atomic_store_n(&sp->base, base, __ATOMIC_RELEASE);
		return 0;
	}
	ZC_LOG(ERR, "span %#lx: the record of registered spans is full (%d)",
		(unsigned long)base, ZC_DIR_SPANS);
	return -ENOSPC;
}

enum zc_span_whose
tide_zctx_pvt_dir_span_whose(uintptr_t base)
{
	const struct zc_dir *d = zc_dir(false);
	enum zc_span_whose whose = ZC_SPAN_NONE;
	struct zc_dir_owner w;
	uintptr_t b;

	for (unsigned int i = 0; d != NULL && i < ZC_DIR_SPANS; i++) {
		if (!zc_dir_span_read(&d->spans[i], &w, &b) || b != base)
			continue;
		if (zc_dir_mine(&w))
			return ZC_SPAN_MINE;
		if (zc_dir_alive(&w))
			return ZC_SPAN_OTHER;
		whose = ZC_SPAN_GONE; /* a live one's record may follow */
	}
	return whose;
}

void
tide_zctx_pvt_dir_drop_dead_spans(void)
{
	struct zc_dir *d = zc_dir(false);

	if (d == NULL)
		return;
	tide_rwlock_write_lock(&d->lock, tide_zctx_logtype, ZC_DIR_WHAT);
	zc_dir_drop_dead_spans(d);
	tide_rwlock_write_unlock(&d->lock);
}

void
tide_zctx_pvt_dir_span_remove(uintptr_t base)
{
	struct zc_dir *d = zc_dir(false);

	if (d == NULL)
		return;
	for (unsigned int i = 0; i < ZC_DIR_SPANS; i++) {
		struct zc_dir_span *sp = &d->spans[i];
		struct zc_dir_owner w;
		uintptr_t b;

		if (!zc_dir_span_read(sp, &w, &b) || b != base || !zc_dir_mine(&w))
			continue;
		zc_dir_span_free(sp);
		return;
	}
}

int
tide_zctx_pvt_dir_add(struct tide_zctx *z)
{
	struct zc_dir *d = zc_dir(true);
	int ret = -ENOSPC;

	if (d == NULL)
		return rte_errno == ENOSPC || rte_errno == EPROTO ? -rte_errno : -ENOMEM;
	tide_rwlock_write_lock(&d->lock, tide_zctx_logtype, ZC_DIR_WHAT);
	zc_dir_drop_dead(d);
	for (unsigned int i = 0; i < ZC_DIR_MAX; i++) {
		struct zc_dir_entry *e = &d->e[i];

		if (e->z != NULL)
			continue;
		e->who = zc_dir_me();
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
			cb(e->z, e->name, e->who.pid, zc_dir_mine(&e->who), zc_dir_alive(&e->who),
				arg);
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

		if (e->z == NULL || e->who.pid != pid || strcmp(e->name, name) != 0 ||
				zc_dir_mine(&e->who))
			continue;
		TIDE_FAULT_HOLD(TIDE_HOLD_ZCTX_DIR_READ); /* tests: its process frees it now */
		cb(e->z, e->name, e->who.pid, zc_dir_mine(&e->who), zc_dir_alive(&e->who), arg);
		ret = 0;
		break;
	}
	tide_rwlock_read_unlock(&d->lock, held);
	return ret;
}
