/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Broadcast exchange (seed 003): one sticky message, any number of readers. Each post
 * bumps a generation; a reader reads a generation once, then declares itself done; when
 * every reader is done the message is complete and the gate opens: the sender takes it
 * back, and only then may it post again. Readers never take the message. While posted it
 * belongs to the exchange, as a message in transit does (its owner TIDE_STAGE_NONE): the
 * stage that posted it is kept here and given it back by the take (or the exchange's
 * free), so that stopping that stage meanwhile cannot free it under the readers.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "msg_private.h"
#include "tide_fault.h"
#include "tide_process.h"

/* Readers done with the current post: the bits of the last word in use. */
static inline uint64_t
bcast_last_bits(const struct tide_bcast *b)
{
	return b->nb_readers % 64 == 0 ? UINT64_MAX : (1ull << (b->nb_readers % 64)) - 1;
}

/* Whether every reader is done with the current post. Sequentially consistent loads: the
 * last reader's mark and the sender's count of itself as a sleeper (tide_bcast_wait()).
 */
static bool
bcast_all_done(const struct tide_bcast *b)
{
	unsigned int words = (b->nb_readers + 63) / 64;

	for (unsigned int w = 0; w + 1 < words; w++)
		if (__atomic_load_n(&b->done_bits[w], __ATOMIC_SEQ_CST) != UINT64_MAX)
			return false;
	return __atomic_load_n(&b->done_bits[words - 1], __ATOMIC_SEQ_CST) == bcast_last_bits(b);
}

/* The post is complete: the sender, asleep in tide_bcast_wait() or about to be, is told. */
static void
bcast_tell_sender(struct tide_bcast *b)
{
	__atomic_add_fetch(&b->done, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&b->sleepers.n, __ATOMIC_SEQ_CST) != 0)
		syscall(SYS_futex, &b->done, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static const char *
bcast_name_of(const void *p)
{
	return ((const struct tide_bcast *)p)->name;
}

size_t
tide_msg_pvt_bcast_size(void)
{
	/* With a reader's: the readers follow it, each on its own line. */
	return sizeof(struct tide_bcast) + sizeof(struct bcast_reader);
}

/* Broadcast exchanges are in DPDK memory and in the shared directory. */
static void **
bcast_dir(void)
{
	return (void **)tide_msg_pvt_shared()->bcast;
}

struct tide_bcast *
tide_bcast_create(const char *name, unsigned int nb_readers)
{
	struct tide_bcast *b;
	int err = 0;

	if (name == NULL || name[0] == '\0' || nb_readers == 0 ||
			nb_readers > TIDE_BCAST_MAX_READERS)
		err = EINVAL;
	else if (strnlen(name, RTE_RING_NAMESIZE) >= RTE_RING_NAMESIZE)
		err = ENAMETOOLONG;
	if (err != 0) {
		MSG_LOG(ERR, "bad broadcast exchange parameters: %s", rte_strerror(err));
		rte_errno = err;
		return NULL;
	}
	if (!tide_msg_pvt_state.ready) {
		MSG_LOG(ERR, "call tide_msg_init() first");
		rte_errno = EINVAL;
		return NULL;
	}
	if (tide_msg_pvt_dir_find(bcast_dir(), bcast_name_of, name) != NULL) {
		MSG_LOG(ERR, "%s: a broadcast exchange of that name exists", name);
		rte_errno = EEXIST;
		return NULL;
	}
	b = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL : rte_zmalloc("tide_bcast",
		sizeof(*b) + nb_readers * sizeof(b->readers[0]), RTE_CACHE_LINE_SIZE);
	if (b != NULL)
		b->sections = rte_zmalloc("tide_bcast_sec", nb_readers * sizeof(*b->sections), 0);
	if (b != NULL && b->sections != NULL) {
		strlcpy(b->name, name, sizeof(b->name));
		b->nb_readers = nb_readers;
		err = -tide_msg_pvt_dir_add(bcast_dir(), bcast_name_of, b);
	}
	if (b == NULL || b->sections == NULL || err != 0) {
		if (b != NULL) {
			rte_free(b->sections);
			rte_free(b);
		}
		err = err != 0 ? err : ENOMEM;
		MSG_LOG(ERR, "%s: cannot create a broadcast exchange of %u readers: %s", name,
			nb_readers, rte_strerror(err));
		rte_errno = err;
		return NULL;
	}
	return b;
}

struct tide_bcast *
tide_bcast_lookup(const char *name)
{
	struct tide_bcast *b;

	if (name == NULL || !tide_msg_pvt_state.ready) {
		MSG_REFUSE(ERR, EINVAL, "%s", name == NULL ? "NULL name" :
			"call tide_msg_init() first");
		return NULL;
	}
	b = tide_msg_pvt_dir_find(bcast_dir(), bcast_name_of, name);
	if (b == NULL)
		MSG_REFUSE(DEBUG, ENOENT, "no broadcast exchange %s", name);
	return b;
}

void
tide_bcast_free(struct tide_bcast *b)
{
	struct rte_mbuf *m;

	if (b == NULL)
		return;
	/* As tide_xchg_free(): only what the directory lists, by the call that takes it out. */
	if (!tide_msg_pvt_state.ready || !tide_msg_pvt_dir_remove(bcast_dir(), b)) {
		MSG_REFUSE(ERR, EINVAL, "%p is not a live broadcast exchange (freed already?), "
			"or tide_msg_init() not called: left alone", (void *)b);
		return;
	}
	m = __atomic_load_n(&b->m, __ATOMIC_ACQUIRE);
	if (m != NULL) {
		uint16_t owner = __atomic_load_n(&b->owner, __ATOMIC_RELAXED);

		/* Back to the stage that posted it, unless its process is gone: the recovery of
		 * that process, maybe still to come, releases what its stages hold.
		 */
		tide_msg_hdr(m)->owner = tide_msg_pvt_stage_live(owner) ? owner : TIDE_STAGE_NONE;
	}
	rte_free(b->sections);
	rte_free(b);
}

void
tide_msg_pvt_bcast_foreach(msg_name_cb_t *cb, void *arg)
{
	if (tide_msg_pvt_state.ready)
		tide_msg_pvt_dir_foreach(bcast_dir(), bcast_name_of, cb, arg);
}

/* Sections lie in the body and do not overlap. */
static bool
bcast_sections_ok(const struct tide_bcast *b, const struct rte_mbuf *m,
	const struct tide_bcast_section *s)
{
	for (unsigned int i = 0; i < b->nb_readers; i++) {
		if ((uint64_t)s[i].offset + s[i].len > rte_pktmbuf_data_len(m))
			return false;
		for (unsigned int j = 0; j < i; j++)
			if (s[i].len != 0 && s[j].len != 0 &&
					s[i].offset < s[j].offset + s[j].len &&
					s[j].offset < s[i].offset + s[i].len)
				return false;
	}
	return true;
}

int
tide_bcast_post(struct tide_bcast *b, struct rte_mbuf *m,
	const struct tide_bcast_section *sections)
{
	if (b == NULL || m == NULL || !tide_msg_is_made(m) ||
			(sections != NULL && !bcast_sections_ok(b, m, sections))) {
		MSG_LOG(ERR, "cannot post %p: not a message, or sections outside its body or "
			"overlapping", m);
		return msg_error(EINVAL);
	}
	/* Its proxies' last release would free it under the readers. */
	if (tide_msg_hdr(m)->flags & TIDE_MSG_F_RELEASED)
		return MSG_REFUSE(ERR, EINVAL, "%s: cannot post %p: released already (proxies of "
			"it hold it on)", b->name, (void *)m);
	if (__atomic_load_n(&b->m, __ATOMIC_ACQUIRE) != NULL)
		return MSG_REFUSE(ERR, EBUSY, "%s: cannot post %p: a post is not taken back yet",
			b->name, (void *)m);
	if (sections != NULL)
		memcpy(b->sections, sections, b->nb_readers * sizeof(*sections));
	else
		memset(b->sections, 0, b->nb_readers * sizeof(*sections));
	for (unsigned int w = 0; w < (b->nb_readers + 63) / 64; w++)
		__atomic_store_n(&b->done_bits[w], 0, __ATOMIC_RELAXED);
	/* The exchange's now: a stop of the sender's stage must not free it under readers. */
	__atomic_store_n(&b->owner, tide_msg_owner(m), __ATOMIC_RELAXED);
	tide_msg_hdr(m)->owner = TIDE_STAGE_NONE;
	__atomic_store_n(&b->m, m, __ATOMIC_RELAXED);
	b->posts++;
	/* Readers see the new generation only with the message and sections in place. */
	__atomic_fetch_add(&b->gen, 1, __ATOMIC_RELEASE);
	return 0;
}

int
tide_bcast_read(struct tide_bcast *b, unsigned int reader, struct rte_mbuf **m,
	struct tide_bcast_section *section)
{
	uint64_t gen;

	if (b == NULL || m == NULL || reader >= b->nb_readers)
		return MSG_REFUSE(ERR, EINVAL, "bad arguments (NULL, or reader %u out of range)",
			reader);
	gen = __atomic_load_n(&b->gen, __ATOMIC_ACQUIRE);
	if (gen == 0 || b->readers[reader].read_gen == gen ||
			__atomic_load_n(&b->m, __ATOMIC_RELAXED) == NULL)
		return msg_error(EAGAIN);
	/* Its process first: a death between the two leaves an undoable read. */
	__atomic_store_n(&b->readers[reader].pid, tide_rwlock_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&b->readers[reader].start, tide_rwlock_me.start, __ATOMIC_RELAXED);
	__atomic_store_n(&b->readers[reader].read_gen, gen, __ATOMIC_RELEASE);
	*m = b->m;
	if (section != NULL)
		*section = b->sections[reader];
	return 0;
}

int
tide_bcast_done(struct tide_bcast *b, unsigned int reader)
{
	uint64_t gen, bit, *word;

	if (b == NULL || reader >= b->nb_readers)
		return MSG_REFUSE(ERR, EINVAL, "bad arguments (NULL, or reader %u out of range)",
			reader);
	gen = __atomic_load_n(&b->gen, __ATOMIC_ACQUIRE);
	word = &b->done_bits[reader / 64];
	bit = 1ull << (reader % 64);
	if (gen == 0 || b->readers[reader].read_gen != gen ||
			(__atomic_load_n(word, __ATOMIC_RELAXED) & bit))
		return MSG_REFUSE(ERR, EINVAL, "%s: reader %u has not read the post, or said "
			"done already", b->name, reader);
	/* Its one step: a reader killed before it has its read undone by the recovery, one
	 * killed after it is done. Sequentially consistent, as the sender's count of itself as
	 * a sleeper and its look at the bits after it: of the two, one sees the other's write
	 * (no lost wake-up). Of readers done at once, the last to mark sees every bit.
	 */
	__atomic_fetch_or(word, bit, __ATOMIC_SEQ_CST);
	TIDE_FAULT_HOLD(TIDE_HOLD_BCAST_DONE); /* tests: the reader killed here */
	if (bcast_all_done(b))
		bcast_tell_sender(b);
	return 0;
}

bool
tide_bcast_complete(const struct tide_bcast *b)
{
	return b != NULL && __atomic_load_n(&b->m, __ATOMIC_ACQUIRE) != NULL && bcast_all_done(b);
}

int
tide_bcast_wait(struct tide_bcast *b, uint64_t timeout_us)
{
	uint64_t start, end = 0;
	struct timespec ts;
	bool limited;
	int slot, ret = 0;

	if (b == NULL)
		return MSG_REFUSE(ERR, EINVAL, "NULL broadcast exchange");
	if (__atomic_load_n(&b->m, __ATOMIC_ACQUIRE) == NULL)
		return MSG_REFUSE(DEBUG, ENOENT, "%s: nothing posted", b->name);
	/* Done already: no clock read, no slot taken for a wait that need not sleep. */
	if (bcast_all_done(b))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	start = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	/* A deadline past what 64 bits of nanoseconds count (some 584 years) is no limit. */
	limited = timeout_us != 0 && timeout_us <= (UINT64_MAX - start) / 1000;
	if (limited)
		end = start + timeout_us * 1000;
	/* Counted among the sleepers the last done wakes, in this process's slot, for whoever
	 * finds the process gone to take back. With no slot it is not counted: it sleeps in
	 * slices.
	 */
	slot = tide_sleepers_pvt_join(&b->sleepers);
	for (;;) {
		uint32_t done = __atomic_load_n(&b->done, __ATOMIC_SEQ_CST);
		uint64_t now, left;
		struct timespec rel;

		if (bcast_all_done(b))
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
		if (limited && now >= end) {
			ret = msg_error(ETIMEDOUT);
			break;
		}
		left = limited ? end - now : UINT64_MAX;
		if (slot < 0)
			left = RTE_MIN(left, MSG_SLEEP_SLICE_US * 1000ull);
		rel.tv_sec = (time_t)(left / 1000000000ull);
		rel.tv_nsec = (long)(left % 1000000000ull);
		syscall(SYS_futex, &b->done, FUTEX_WAIT, done, limited || slot < 0 ? &rel : NULL,
			NULL, 0);
	}
	tide_sleepers_pvt_leave(&b->sleepers, slot);
	return ret;
}

struct rte_mbuf *
tide_bcast_take(struct tide_bcast *b)
{
	struct rte_mbuf *m;
	uint16_t owner;

	if (b == NULL) {
		MSG_REFUSE(ERR, EINVAL, "NULL broadcast exchange");
		return NULL;
	}
	m = __atomic_load_n(&b->m, __ATOMIC_ACQUIRE);
	if (m == NULL) {
		MSG_REFUSE(DEBUG, ENOENT, "%s: nothing posted", b->name);
		return NULL;
	}
	if (!tide_bcast_complete(b)) {
		msg_error(EBUSY); /* not yet: a poll, not logged */
		return NULL;
	}
	/* Back to the stage that posted it if it is this process's (one thread posts and
	 * takes); else its sender's process is gone, and the recovery of that process, maybe
	 * still to come, releases what its stages hold: the taker's message is no stage's.
	 */
	owner = __atomic_load_n(&b->owner, __ATOMIC_RELAXED);
	tide_msg_hdr(m)->owner = tide_msg_pvt_stage_mine(owner) ? owner : TIDE_STAGE_NONE;
	__atomic_store_n(&b->m, NULL, __ATOMIC_RELEASE);
	return m;
}

/* A process gone: its pid, the start of the process that has that id now (0: none), and its
 * stages. */
struct bcast_gone {
	uint32_t pid;
	uint64_t now;
	const uint16_t *stages;
	unsigned int n;
};

/*
 * A reader of a process gone (@p arg: its id, and a reader of the process that has that id
 * now is not its) that read the post and died before it said done: its read is undone, so
 * that the process that takes its place reads the post again (without this, that one's
 * reads would say EAGAIN, the post would never be complete, and nothing could be posted
 * again). A post made by one of its stages stays posted (its readers may be
 * reading it) and is given to no stage when taken: those stage ids may be handed out again.
 * Its threads asleep in tide_bcast_wait() (and those of any other process gone) are no
 * longer counted: else every completion would wake nobody, a syscall each, for ever.
 */
static void
bcast_gone(void *p, void *arg)
{
	struct tide_bcast *b = p;
	const struct bcast_gone *g = arg;
	uint64_t gen = __atomic_load_n(&b->gen, __ATOMIC_ACQUIRE);

	tide_sleepers_pvt_recover(&b->sleepers);
	for (unsigned int i = 0; i < b->nb_readers; i++) {
		struct bcast_reader *r = &b->readers[i];

		if (r->pid == g->pid && (g->now == 0 || (r->start != 0 && r->start != g->now)) &&
				r->read_gen == gen && !(__atomic_load_n(&b->done_bits[i / 64],
				__ATOMIC_RELAXED) & (1ull << (i % 64)))) {
			r->read_gen = 0;
			MSG_LOG(WARNING, "%s: reader %u died reading post %" PRIu64 ": its "
				"replacement reads it again", b->name, i, gen);
		}
	}
	if (__atomic_load_n(&b->m, __ATOMIC_ACQUIRE) == NULL)
		return;
	/* A reader killed after its done, before it told the sender (asleep, maybe). */
	if (bcast_all_done(b))
		bcast_tell_sender(b);
	/* From the dead stage only: a live process may take the post and post another
	 * meanwhile, whose stage stays.
	 */
	for (unsigned int k = 0; k < g->n; k++) {
		uint16_t dead = g->stages[k];

		if (__atomic_compare_exchange_n(&b->owner, &dead, TIDE_STAGE_NONE, false,
				__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			MSG_LOG(WARNING, "%s: the stage that posted post %" PRIu64 " is gone: "
				"the post stays, taken it belongs to no stage", b->name, gen);
	}
}

void
tide_bcast_pvt_peer_gone(int pid, const uint16_t *stages, unsigned int n)
{
	struct bcast_gone g = { .pid = (uint32_t)pid, .stages = stages, .n = n };

	/* Outside the directory's lock (the look reads /proc): a live process that has the
	 * id now is told from the dead one by its start (its own reads are left alone; a
	 * reader whose start is not known, only once the id names no process).
	 */
	if (!tide_process_gone(g.pid))
		g.now = tide_process_start(g.pid);
	tide_msg_pvt_dir_each(bcast_dir(), bcast_gone, &g);
}

static void
bcast_info_read(const void *p, void *arg)
{
	const struct tide_bcast *b = p;
	struct msg_bcast_info *info = arg;

	info->readers = b->nb_readers;
	info->posts = b->posts;
	info->done = 0;
	for (unsigned int w = 0; w < (b->nb_readers + 63) / 64; w++)
		info->done += (unsigned int)__builtin_popcountll(__atomic_load_n(&b->done_bits[w],
			__ATOMIC_RELAXED));
	info->sleepers = __atomic_load_n(&b->sleepers.n, __ATOMIC_RELAXED);
	info->posted = __atomic_load_n(&b->m, __ATOMIC_RELAXED) != NULL;
}

/* For telemetry: counters of a broadcast exchange by name. */
int
tide_msg_pvt_bcast_info(const char *name, struct msg_bcast_info *info)
{
	if (!tide_msg_pvt_state.ready)
		return -ENOENT;
	return tide_msg_pvt_dir_read(bcast_dir(), bcast_name_of, name, bcast_info_read, info);
}
