/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * What the message library shares between processes: one memzone the primary's
 * tide_msg_init() makes, with what every process needs to make, send and release
 * messages (the header's place in the mbuf, the proxy area) and the directories of
 * exchanges, broadcast exchanges and stages. A secondary's tide_msg_init() finds it and
 * works from it; exchanges, broadcast exchanges and proxies are in DPDK memory, at the
 * same address in every process.
 *
 * A stage belongs to the process that registered it. When the primary learns that a
 * secondary is gone (tide_mp_death_cb_register()), it releases what that process's stages
 * held and frees the stages: what the process held as bare mbufs is lost with it.
 *
 * A reader-writer lock guards the directories: a few pointer and name reads or writes
 * under it, so a process that dies holding it for reading leaves nothing half-done but
 * its count in the lock. The lock counts readers per process (tide_rwlock.h): the next
 * writer finds that process gone and takes its count back, with a WARNING; a live reader,
 * stopped or not, is waited for. Telemetry (the
 * primary's only) reads an exchange's counters under it for reading, since the free paths
 * take an exchange out of the directory, under it for writing, before they free it, and
 * tide_msg_fini() takes it for writing before it frees the zone. Nothing else is locked
 * while it is held.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eal_memconfig.h>
#include <rte_memzone.h>

#include "msg_private.h"
#include "tide_fault.h"
#include "tide_layout.h"
#include "tide_pool.h"
#include "tide_process.h"

#define MSG_SHARED_WHAT "tide_msg: the directory of exchanges and stages"

static void msg_shared_peer_gone(int pid, void *arg);

/* Bumped when a shared field changes meaning but not size or place. */
/* 2: a broadcast reader records its process; 3: a turn says whether it is the receivers';
 * 4: a broadcast keeps the stage that posted its message; 6: a broadcast reader records its
 * process's start, and the free proxies are on a tide_xring */
#define MSG_LAYOUT_VERSION 6

/* The stamp of what every process reads where the primary wrote it (tide_layout.h): this
 * memzone, and the exchanges, rings, broadcast exchanges, proxies and headers in DPDK
 * memory (an exchange's fast path is inlined in each application).
 */
uint64_t
tide_msg_pvt_layout(void)
{
	const uint64_t part[] = {
		MSG_LAYOUT_VERSION, sizeof(struct msg_shared),
		offsetof(struct msg_shared, hdr_offset), offsetof(struct msg_shared, stages),
		sizeof(struct tide_xchg), offsetof(struct tide_xchg, nb_prio),
		offsetof(struct tide_xchg, seq), offsetof(struct tide_xchg, sleepers),
		offsetof(struct tide_xchg, stats),
		sizeof(struct tide_xchg_lcore_stats), sizeof(struct tide_xring_tails),
		sizeof(struct tide_xring_turn), offsetof(struct tide_xring, cons),
		offsetof(struct tide_xring, senders), offsetof(struct tide_xring, receivers),
		offsetof(struct tide_xring, slots), tide_msg_pvt_bcast_size(),
		sizeof(struct msg_proxy), sizeof(struct msg_proxy_stash),
		sizeof(struct tide_msg_hdr), RTE_MAX_LCORE, TIDE_XCHG_MAX_PRIO, TIDE_STAGE_MAX,
		MSG_DIR_MAX,
	};

	return tide_layout_stamp(part, RTE_DIM(part));
}

struct msg_shared *
tide_msg_pvt_shared(void)
{
	return tide_msg_pvt_state.shared;
}

int
tide_msg_pvt_shared_create(int hdr_offset, int socket)
{
	const struct rte_memzone *mz;
	struct msg_shared *sh;
	int ret;

	/* Without it a dead secondary's stages and receives would never be recovered. */
	ret = tide_mp_death_cb_register(msg_shared_peer_gone, NULL);
	if (ret != 0)
		return ret == -ENOMEM ? ret : -EAGAIN; /* else: the thread that looks for them */
	/* Made and filled under the shared configuration's tailq lock, which a secondary's
	 * attach takes to read it: none sees it half-made (DPDK does not zero a memzone, and
	 * a hugepage kept from an earlier run may hold an earlier zone's stamp).
	 */
	rte_mcfg_tailq_write_lock();
	mz = rte_memzone_reserve(MSG_SHARED_MZ, sizeof(*sh), socket, 0);
	if (mz == NULL) {
		int err = rte_errno == EEXIST ? -EEXIST : -ENOMEM;

		rte_mcfg_tailq_write_unlock();
		tide_mp_death_cb_unregister(msg_shared_peer_gone, NULL);
		return err;
	}
	sh = mz->addr;
	memset(sh, 0, sizeof(*sh));
	sh->layout = tide_msg_pvt_layout();
	sh->hdr_offset = hdr_offset;
	sh->proxies = tide_msg_pvt_state.proxies;
	sh->nb_proxies = tide_msg_pvt_state.nb_proxies;
	sh->proxy_free = tide_msg_pvt_state.proxy_free;
	sh->stash = tide_msg_pvt_state.stash;
	rte_mcfg_tailq_write_unlock();
	tide_msg_pvt_state.shared = sh;
	return 0;
}

int
tide_msg_pvt_shared_attach(void)
{
	const struct rte_memzone *mz;
	struct msg_shared *sh;
	uint64_t theirs = 0, ours = tide_msg_pvt_layout();

	rte_mcfg_tailq_read_lock();
	mz = rte_memzone_lookup(MSG_SHARED_MZ);
	sh = mz != NULL ? mz->addr : NULL;
	/* A shorter zone than this build's is another build's, whatever its first bytes. */
	if (sh != NULL && mz->len >= sizeof(*sh))
		theirs = sh->layout;
	if (sh != NULL && theirs == ours) {
		tide_msg_pvt_state.proxies = sh->proxies;
		tide_msg_pvt_state.nb_proxies = sh->nb_proxies;
		tide_msg_pvt_state.proxy_free = sh->proxy_free;
		tide_msg_pvt_state.stash = sh->stash;
		tide_msg_pvt_state.shared = sh;
		tide_msg_pvt_hdr_offset = sh->hdr_offset;
	}
	rte_mcfg_tailq_read_unlock();
	if (sh == NULL)
		return -ENOENT;
	if (theirs != ours) {
		MSG_LOG(ERR, "the primary process runs another tidepool build: the layout of its "
			"message library is %#" PRIx64 ", this one's %#" PRIx64 " (0: a zone too "
			"small to hold this build's). Run the same build in every process.",
			theirs, ours);
		return -EPROTO;
	}
	return 0;
}

void
tide_msg_pvt_shared_free(void)
{
	const struct rte_memzone *mz;

	if (tide_msg_pvt_state.shared == NULL)
		return;
	if (rte_eal_process_type() == RTE_PROC_PRIMARY) {
		tide_mp_death_cb_unregister(msg_shared_peer_gone, NULL);
		/* A telemetry handler may be reading under the lock: it goes with the zone. */
		tide_rwlock_write_lock(&tide_msg_pvt_state.shared->lock, tide_msg_logtype,
			MSG_SHARED_WHAT);
		rte_mcfg_tailq_write_lock();
		mz = rte_memzone_lookup(MSG_SHARED_MZ);
		rte_memzone_free(mz);
		rte_mcfg_tailq_write_unlock();
	}
	tide_msg_pvt_state.shared = NULL;
}

/* ---- directories of exchanges and broadcast exchanges ---- */

/* The entry named @p name (the lock held), or NULL. */
static void *
dir_find_locked(void * const *table, const char *(*name_of)(const void *p), const char *name)
{
	for (unsigned int i = 0; i < MSG_DIR_MAX; i++)
		if (table[i] != NULL && strcmp(name_of(table[i]), name) == 0)
			return table[i];
	return NULL;
}

int
tide_msg_pvt_dir_add(void **table, const char *(*name_of)(const void *p), void *p)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	int ret = -ENOSPC;

	tide_rwlock_write_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	/* Looked up again under the write lock: two creators of one name (threads or
	 * processes) may both have found none before.
	 */
	if (dir_find_locked(table, name_of, name_of(p)) != NULL)
		ret = -EEXIST;
	for (unsigned int i = 0; ret == -ENOSPC && i < MSG_DIR_MAX; i++)
		if (table[i] == NULL) {
			table[i] = p;
			ret = 0;
		}
	tide_rwlock_write_unlock(&sh->lock);
	return ret;
}

bool
tide_msg_pvt_dir_remove(void **table, const void *p)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	bool found = false;

	tide_rwlock_write_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	for (unsigned int i = 0; i < MSG_DIR_MAX; i++)
		if (table[i] == p) {
			table[i] = NULL;
			found = true;
		}
	tide_rwlock_write_unlock(&sh->lock);
	return found;
}

void *
tide_msg_pvt_dir_find(void * const *table, const char *(*name_of)(const void *p),
	const char *name)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	void *found;
	uint32_t *held;

	if (sh == NULL)
		return NULL;
	held = tide_rwlock_read_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	found = dir_find_locked(table, name_of, name);
	TIDE_FAULT_HOLD(TIDE_HOLD_DIR_READ); /* tests: the reader is killed or stopped here */
	tide_rwlock_read_unlock(&sh->lock, held);
	return found;
}

/*
 * The free paths take the entry out of the directory (write lock) before they free it:
 * while @p fn runs under the read lock, the entry cannot be freed.
 */
int
tide_msg_pvt_dir_read(void * const *table, const char *(*name_of)(const void *p),
	const char *name, msg_read_cb_t *fn, void *arg)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	const void *found;
	uint32_t *held;

	if (sh == NULL)
		return -ENOENT;
	held = tide_rwlock_read_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	found = dir_find_locked(table, name_of, name);
	if (found != NULL) {
		TIDE_FAULT_HOLD(TIDE_HOLD_MSG_DIR_READ); /* tests: a free comes meanwhile */
		fn(found, arg);
	}
	tide_rwlock_read_unlock(&sh->lock, held);
	return found != NULL ? 0 : -ENOENT;
}

void
tide_msg_pvt_dir_each(void * const *table, void (*fn)(void *p, void *arg), void *arg)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	uint32_t *held;

	if (sh == NULL)
		return;
	held = tide_rwlock_read_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	for (unsigned int i = 0; i < MSG_DIR_MAX; i++)
		if (table[i] != NULL)
			fn(table[i], arg);
	tide_rwlock_read_unlock(&sh->lock, held);
}

void
tide_msg_pvt_dir_count(unsigned int *nb_xchg, unsigned int *nb_bcast)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	uint32_t *held;

	*nb_xchg = *nb_bcast = 0;
	if (sh == NULL)
		return;
	held = tide_rwlock_read_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	for (unsigned int i = 0; i < MSG_DIR_MAX; i++) {
		*nb_xchg += sh->xchg[i] != NULL;
		*nb_bcast += sh->bcast[i] != NULL;
	}
	tide_rwlock_read_unlock(&sh->lock, held);
}

struct dir_names {
	const char *(*name_of)(const void *p);
	msg_name_cb_t *cb;
	void *arg;
};

static void
dir_name_one(void *p, void *arg)
{
	struct dir_names *d = arg;

	d->cb(d->name_of(p), d->arg);
}

void
tide_msg_pvt_dir_foreach(void * const *table, const char *(*name_of)(const void *p),
	msg_name_cb_t *cb, void *arg)
{
	struct dir_names d = { .name_of = name_of, .cb = cb, .arg = arg };

	tide_msg_pvt_dir_each(table, dir_name_one, &d);
}

/* ---- stages ---- */

int
tide_msg_pvt_stage_add(const char *name)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	uint64_t start = tide_process_start((uint32_t)getpid()); /* /proc: before the lock */
	int id = -ENOSPC;

	tide_rwlock_write_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	for (int i = 0; i < TIDE_STAGE_MAX; i++) {
		if (strcmp(sh->stages[i].name, name) == 0) {
			id = -EEXIST;
			break;
		}
		if (id == -ENOSPC && sh->stages[i].name[0] == '\0')
			id = i;
	}
	if (id >= 0) {
		strlcpy(sh->stages[id].name, name, TIDE_STAGE_NAMESIZE);
		sh->stages[id].pid = (uint32_t)getpid();
		sh->stages[id].start = start;
	}
	tide_rwlock_write_unlock(&sh->lock);
	return id;
}

unsigned int
tide_msg_pvt_stage_count(void)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	unsigned int n = 0;
	uint32_t *held;

	if (sh == NULL)
		return 0;
	held = tide_rwlock_read_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	for (unsigned int i = 0; i < TIDE_STAGE_MAX; i++)
		n += sh->stages[i].name[0] != '\0';
	tide_rwlock_read_unlock(&sh->lock, held);
	return n;
}

int
tide_msg_pvt_stage_remove(uint16_t stage, bool mine_only)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	__typeof__(&sh->stages[0]) e = &sh->stages[stage];
	int ret = 0;

	tide_rwlock_write_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	if (e->name[0] == '\0')
		ret = -EINVAL;
	else if (mine_only && !tide_msg_pvt_stage_mine(stage))
		ret = -EPERM;
	if (ret == 0) {
		e->name[0] = '\0';
		e->pid = 0;
		e->start = 0;
	}
	tide_rwlock_write_unlock(&sh->lock);
	return ret;
}

/*
 * The stage's name (a copy, valid until the next call on this thread), or NULL; its
 * process's id in @p pid (unless NULL), read with the name.
 */
const char *
tide_msg_pvt_stage_copy(uint16_t stage, uint32_t *pid)
{
	static __thread char name[TIDE_STAGE_NAMESIZE];
	struct msg_shared *sh = tide_msg_pvt_shared();
	uint32_t *held;

	if (sh == NULL || stage >= TIDE_STAGE_MAX)
		return NULL;
	held = tide_rwlock_read_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	strlcpy(name, sh->stages[stage].name, sizeof(name));
	if (pid != NULL)
		*pid = sh->stages[stage].pid;
	tide_rwlock_read_unlock(&sh->lock, held);
	return name[0] != '\0' ? name : NULL;
}

/*
 * Whether @p stage is registered by this process. Without the lock: only this process can
 * register a stage under its own id and start, or remove one it registered while it lives
 * (the recovery removes a dead process's), so what is read is either that or not.
 */
bool
tide_msg_pvt_stage_mine(uint16_t stage)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	uint32_t self = tide_rwlock_self();

	return sh != NULL && stage < TIDE_STAGE_MAX &&
		__atomic_load_n(&sh->stages[stage].pid, __ATOMIC_RELAXED) == self &&
		__atomic_load_n(&sh->stages[stage].start, __ATOMIC_RELAXED) == tide_rwlock_me.start;
}

/* Whether @p stage is registered by a process that lives (that has not ended since it
 * registered it: its id may name a later process).
 */
bool
tide_msg_pvt_stage_live(uint16_t stage)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	uint32_t *held, pid = 0;
	uint64_t start = 0;

	if (sh == NULL || stage >= TIDE_STAGE_MAX)
		return false;
	held = tide_rwlock_read_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	if (sh->stages[stage].name[0] != '\0') {
		pid = sh->stages[stage].pid;
		start = sh->stages[stage].start;
	}
	tide_rwlock_read_unlock(&sh->lock, held);
	/* Outside the lock: the look reads /proc. */
	return pid != 0 && !tide_process_gone_since(pid, start);
}

/*
 * The proxy area's size into @p size and its proxies made and not released into @p live
 * (tide_msg_pvt_proxies_live()), read under the lock: tide_msg_fini() tears the area down
 * only once it holds the lock for writing. Both 0 without tide_msg_init().
 */
void
tide_msg_pvt_proxy_counts(uint32_t *size, uint32_t *live)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	uint32_t *held;

	*size = 0;
	*live = 0;
	if (sh == NULL)
		return;
	held = tide_rwlock_read_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	*size = tide_msg_pvt_state.nb_proxies;
	*live = tide_msg_pvt_proxies_live();
	tide_rwlock_read_unlock(&sh->lock, held);
}

/*
 * The primary, at tide_msg_fini(): stages of processes that are gone and that no recovery
 * freed yet (the control thread, which does it, runs only while the primary has elastic
 * pools; a process that could not attach to the pools is not watched at all) are
 * recovered here as msg_shared_peer_gone() does, so that tide_msg_fini() counts only live
 * processes' stages.
 */
void
tide_msg_pvt_stages_gone_recover(void)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	uint32_t pids[TIDE_STAGE_MAX], self = (uint32_t)getpid();
	uint64_t starts[TIDE_STAGE_MAX];
	unsigned int n = 0;
	uint32_t *held;

	if (sh == NULL)
		return;
	held = tide_rwlock_read_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	for (unsigned int i = 0; i < TIDE_STAGE_MAX; i++) {
		uint32_t pid = sh->stages[i].pid;
		unsigned int k = 0;

		if (sh->stages[i].name[0] == '\0' || pid == self)
			continue;
		while (k < n && pids[k] != pid)
			k++;
		if (k == n) {
			pids[n] = pid;
			starts[n++] = sh->stages[i].start;
		}
	}
	tide_rwlock_read_unlock(&sh->lock, held);
	/* Outside the lock: the look reads /proc, and the recovery takes the lock itself. Gone
	 * since it registered: its id may name a later process now, which would keep fini
	 * refused for as long as that one lives.
	 */
	for (unsigned int k = 0; k < n; k++)
		if (tide_process_gone_since(pids[k], starts[k]))
			msg_shared_peer_gone((int)pids[k], NULL);
}

/* One recovery at a time in the primary: its control thread's and tide_msg_fini()'s may
 * find one process gone together, and each would release what that process's stages hold. */
static pthread_mutex_t msg_gone_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The primary, on its control thread (or in tide_msg_fini()): a secondary is gone. What it
 * was receiving when it died goes back in transit, a broadcast it was reading is there to
 * read again (one it posted stays posted: its message is the exchange's, not its stage's),
 * its threads asleep in a receive or a broadcast's wait are counted no more; its stages'
 * messages go back to their pools (the process's threads are gone: its stages are quiet),
 * then the stages. A second recovery of the process finds no stage of it.
 */
static void
msg_shared_peer_gone(int pid, void *arg __rte_unused)
{
	struct msg_shared *sh = tide_msg_pvt_shared();
	uint16_t mine[TIDE_STAGE_MAX];
	uint64_t starts[TIDE_STAGE_MAX];
	unsigned int n = 0, k, gone = 0;
	uint32_t *held;

	if (sh == NULL)
		return;
	pthread_mutex_lock(&msg_gone_lock);
	held = tide_rwlock_read_lock(&sh->lock, tide_msg_logtype, MSG_SHARED_WHAT);
	for (uint16_t i = 0; i < TIDE_STAGE_MAX; i++)
		if (sh->stages[i].name[0] != '\0' && sh->stages[i].pid == (uint32_t)pid) {
			starts[n] = sh->stages[i].start;
			mine[n++] = i;
		}
	tide_rwlock_read_unlock(&sh->lock, held);
	/* The dead process's stages only: a live one may have its id now, and stages of its
	 * own (outside the lock: the look reads /proc).
	 */
	for (k = 0; k < n; k++)
		if (tide_process_gone_since((uint32_t)pid, starts[k]))
			mine[gone++] = mine[k];
	n = gone;
	tide_xchg_pvt_peer_gone(mine, n);
	tide_bcast_pvt_peer_gone(pid, mine, n);
	for (k = 0; k < n; k++) {
		const char *name = tide_msg_pvt_stage_copy(mine[k], NULL);
		int released = tide_stage_stop(mine[k]);

		MSG_LOG(WARNING, "stage %s of process %d, which is gone: %d message(s) it held "
			"released", name != NULL ? name : "?", pid, released);
		tide_msg_pvt_stage_remove(mine[k], false);
	}
	pthread_mutex_unlock(&msg_gone_lock);
}
