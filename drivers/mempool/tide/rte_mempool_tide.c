/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * tide: a mempool driver whose memory comes in blocks that can be added and removed.
 *
 * Every block starts with a small header and a ring of free object pointers (taken from
 * either end: see blk_slot()), both carved from the block's own memory, so a block costs
 * no heap allocation and its hugepages go back whole when it is removed. The pool keeps two
 * arrays of block pointers: one sorted by address, searched to find the block of an
 * enqueued object, and one in age order, walked by dequeue from the oldest block that
 * still has free objects (a hint remembers where that is). A spinlock guards them; the
 * critical sections are a copy of pointers and a few compares, like the stack driver's.
 * A pool with lcore caches has two, as a ring has two ends: lcores mostly meet the driver
 * there when one allocates what another frees (a pipeline's RX and TX lcores: a cache
 * refill on one, a flush on the other), and the take lock and the put lock let a take
 * from the current block's oldest end and a put at its newest end run at once. Without
 * caches the driver is also each lcore's own stack (see blk_slot()), and a take from the
 * newest end needs both ends: one lock, whose line carries everything the fast paths use.
 *
 * Blocks arrive three ways. The stock path (rte_mempool_populate_*) hands the populate op a
 * chunk, which becomes a block of its own; the chunks of one of populate_default's
 * memzones (in IOVA-as-PA mode, one per run of physically contiguous pages) become one
 * block, from the first that holds its header. tide_mempool_block_add() registers a block
 * hidden, populates it through rte_mempool_populate_iova() (the populate op sees the
 * chunk falls inside the hidden block), runs the object initialiser, then publishes the
 * block to dequeue. A stock pool that the elastic pool library adopts (tide_mempool_hooks.h)
 * gets its base block from rte_mempool_populate_default(): the calc_mem_size op sizes the
 * first memzone to the base, the memzone becomes one block whatever chunks it comes in, and
 * its last chunk reports the rest of the pool as populated so that no more is reserved.
 * Removal unlinks a block whose objects are all free under the same lock dequeue takes,
 * then takes its objects and chunks out of the rte_mempool lists.
 *
 * Counting: the get_count op answers the pool's size minus the objects out of the driver
 * (allocated or in lcore caches), so that rte_mempool_avail_count() counts what can still
 * be allocated, free objects and the room growth may fill alike, rte_mempool_in_use_count()
 * the objects really allocated and rte_mempool_full() whether all are back, whatever part
 * of the pool is populated.
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "tide_fault.h"
#include "tide_layout.h"
#include "tide_process.h"
#include "tide_mempool.h"
#include "tide_mempool_hooks.h"
#include "tide_mempool_pvt.h"
#include "tide_mempool_walk.h"

RTE_LOG_REGISTER(tide_mempool_logtype, tide.mempool, NOTICE);

#define TMP_MIN_SLOTS 16

/* Header at the start of every block's memory. */
struct tblk {
	uintptr_t lo;     /* first byte of the block (this header) */
	uintptr_t hi;     /* one past its last byte */
	uintptr_t objs_lo; /* first byte past the header and free[]: where objects start */
	uint64_t id;      /* order of addition, from 1 */
	uint32_t cap;     /* slots in free[] */
	uint32_t nb_objs; /* objects populated into it; under the lock */
	uint32_t head;    /* free[] slot of the oldest free object; under the lock */
	uint32_t nb_free; /* objects in free[], from head on, wrapping; under the lock */
	uint32_t low;     /* fewest free objects since the last sample; under the lock */
	uint32_t pos;     /* index in age[] while live */
	bool live;        /* in age[]: dequeue may take from it */
	bool announced;   /* its ADD block event fired (tide_mempool_pvt.h) */
	/* Where its objects' run in the mempool's object list ends: its last object header,
	 * from lo (0: not known: nothing of it listed yet). Removal takes the run
	 * out without walking the list. An offset, so that the header keeps to one line.
	 */
	uint32_t last_off;
	void *free[] __rte_cache_aligned;
};

/* How a pool's stock population (rte_mempool_populate_default) went. */
enum tp_stock {
	TP_STOCK_NONE,     /* not populated the stock way (yet) */
	TP_STOCK_ADOPTING, /* populating the base block of an adopted pool */
	TP_STOCK_ADOPTED,  /* the base is in; the adopter grows the rest */
	TP_STOCK_WHOLE,    /* populated whole, as stock DPDK does */
};

/*
 * The pool's private data (mp->pool_data), laid out for two cores fighting over it. First
 * line: the (take) lock and what every fast take reads and writes under it (the current
 * block and its take end; with one lock, its put end too), so that taking the lock brings
 * them along: one line moves between the cores per critical section, not two (tide-bench
 * mempool, cache 256, where a line's round trip between cores costs ~450 ns: keep512
 * bulk8 from 0.76 to 0.84 of ring_mp_mc). Next line: the current block's range and ring,
 * read by every fast path and written only when the current block changes. Next, a split
 * pool's put lock and put end. Then the rest, written on slow paths. While cur is set, its
 * nb_free, head and low live in the two ends, not in the block; every other path calls
 * tp_sync() first.
 */
struct tpool {
	uint32_t lock;        /* the take lock (tp_word_lock(): 0, or the holder's tag,
			       * tmp_self): with the put lock, guards everything below but ctl and
			       * the callback; alone, the fast take from cur */
	uint8_t started;      /* an object was taken once; set under the lock, read anywhere */
	uint32_t first;       /* age[] index: no older live block has free objects */
	struct tblk *cur;     /* age[first] with its counters cached below, or NULL */
	uint64_t cur_tk;      /* tp_end(): objects taken from cur's oldest end, and its head */
	uint64_t cur_pt;      /* with one lock, cur's put end (tp_pt()) */
	uint32_t put_seen;    /* with split, the put end's count as the take side last saw
			       * it: at most the count, never below cur_tk's */
	uint32_t cur_low;     /* cur's low */
	uintptr_t last_put;   /* with one lock, tp_me() of the thread that put objects last */
	struct tblk *hint;    /* block of the last enqueue: most runs go there again */

	uint32_t cur_seq __rte_cache_aligned; /* odd while cur changes, bumped twice per change */
	uint32_t magic;       /* TP_MAGIC: pool data of this driver */
	uint8_t split;        /* the put side has a lock of its own (tp_put_word()): pools
			       * with lcore caches; set at creation. Both here, on a line every
			       * fast path reads and none writes: a put that read the lock's
			       * line would pull it from the lcore that takes */
	uintptr_t cur_lo;     /* cur's address range (span 0 without cur), for enqueue */
	uintptr_t cur_span;   /* to sort objects before it takes the lock */
	void **cur_ring;      /* cur's free[], cap and nb_objs when loaded: the fast paths */
	uint32_t cur_cap;     /* do not read the block's header; written with both locks */
	uint32_t cur_objs;    /* held */

	uint32_t put_lock __rte_cache_aligned; /* with split, the put lock: alone, the fast
						* put into cur */
	uint64_t put_pt;      /* with split, cur's put end (tp_pt()) */
	uint32_t taken_seen;  /* with split, cur_tk's count when the put side last read it */
	uint32_t put_run;     /* with split, fast puts in a row by put_by (see tp_put_mine()) */
	uintptr_t put_by;     /* with split, tp_me() of the thread that put last */

	uint32_t nb_live __rte_cache_aligned; /* blocks in age[] */
	uint32_t nb_blk;      /* blocks in addr[]: live and hidden */
	struct tblk **age;    /* live blocks, oldest first */
	struct tblk **addr;   /* all blocks, by address */
	/* What the block event callbacks were told of each block of addr[], at the same index
	 * (flags TMP_SAID once told): read without the block's header, whose memory may be
	 * gone (see tp_gone()). */
	struct tide_mempool_block_desc *said;
	uint32_t slots;       /* capacity of age[], addr[] and said[] */
	uint64_t nb_populated; /* objects in the blocks of addr[], counted without them */
	bool populating;      /* the populate op runs (objects counted, not yet listed) */
	bool dying;           /* rte_mempool_free() has begun (its DESTROY event came) */
	uint64_t next_id;
	uint64_t nb_foreign;
	uint64_t nb_double;
	uint64_t nb_deq_refused;
	uint64_t nb_lock_yields;
	uint64_t nb_lock_recovered;
	uint64_t nb_list_walks;
	tide_mempool_grow_cb_t *grow_cb;
	void *grow_arg;
	bool owned;           /* a pool library owns the blocks (tide_mempool_pvt_owned_set()) */
	pthread_mutex_t ctl;  /* serialises block add and remove */
	struct tblk *adding;  /* block being filled by tide_mempool_block_add() */
	enum tp_stock stock;  /* stock population; written by the populating thread */
	uint32_t claim_n;     /* objects populate_default asked for when adoption began */
	uint32_t claim_given; /* of those, reported to it so far */
	const struct rte_memzone *claim_mz; /* the base memzone being populated */
};

/* Bumped when a shared field changes meaning but not size or place. */
#define TP_LAYOUT_VERSION 1

uint64_t
tide_mempool_pvt_layout(void)
{
	const uint64_t part[] = {
		TP_LAYOUT_VERSION, sizeof(struct tpool), offsetof(struct tpool, cur_seq),
		offsetof(struct tpool, put_lock), offsetof(struct tpool, nb_live),
		offsetof(struct tpool, ctl), sizeof(struct tblk), offsetof(struct tblk, free),
	};

	return tide_layout_stamp(part, RTE_DIM(part));
}

/* The adopter of stock pools (the elastic pool library), or NULL. */
static const struct tide_mempool_adopt_hook *tmp_adopter;
/* How a secondary asks the primary for growth, or NULL. */
static tide_mempool_remote_grow_t *tmp_remote_grow;

/*
 * The pool lock: test-and-test-and-set like rte_spinlock, with two differences that count
 * when lcores without a cache fight over it (measured by tide-bench mempool, cache0):
 *  - release is a plain store; on x86 rte_spinlock_unlock is an xchg, a full barrier that
 *    makes the holder wait for its stores to drain on the contended line;
 *  - a waiter backs off, 1 to TP_LOCK_BACKOFF pauses doubling, instead of re-reading the
 *    line after every pause. The holder keeps the lock's and the free array's lines for
 *    its next operation instead of losing them after each one. Both lcores gain; how
 *    evenly is the bench's lcore_share figure.
 * A waiter still waiting after TP_LOCK_YIELD rounds of the longest backoff (tens of
 * microseconds; a holder keeps the lock for well under one) yields the CPU: the holder has
 * most likely been preempted, maybe by the waiter itself where threads outnumber cores
 * (the control thread on a machine whose cores all run lcores), and spinning on would
 * keep it from running.
 */
#define TP_LOCK_BACKOFF 32
#define TP_LOCK_YIELD 64
/* Yields between two looks at whether the holder's process is still alive. */
#define TP_LOCK_CHECK 16

#define TP_MAGIC 0x74696465u /* "tide" */

/* This process's tag (tide_process_tag()), what a lock it holds says: its id and a stamp
 * of its start, so that a waiter tells a dead holder from a later process given its id.
 */
static uint32_t tmp_self;

/* A thread's mark: its thread pointer (one load; a thread-local variable of a shared
 * library would cost a call). Threads of two processes may share a mark: a wrong guess
 * costs speed only (see blk_slot()).
 */
static __rte_always_inline uintptr_t
tp_me(void)
{
	return (uintptr_t)__builtin_thread_pointer();
}

RTE_INIT(tmp_self_init)
{
	tmp_self = tide_process_tag_self();
}


static void tp_recover(struct tpool *tp, uint32_t dead);

/*
 * A waiter has yielded long: if the holder's process died (a secondary killed inside the
 * lock), take the lock word over. Returns the dead holder's tag, or 0.
 */
static __rte_noinline uint32_t
tp_word_take_over(uint32_t *word)
{
	return tide_process_tag_take_over(word, tmp_self);
}

/*
 * Take one of the pool's two locks (the take lock or the put lock). Returns 0, or the tag
 * (tmp_self) of a dead holder it was taken over from: the caller then holds it, and must
 * hold both before anything else (see tp_lock()).
 */
static __rte_always_inline uint32_t
tp_word_lock(struct tpool *tp, uint32_t *word)
{
	unsigned int wait = 1, rounds = 0, yields = 0;
	uint32_t free_lock = 0, dead;

	while (!__atomic_compare_exchange_n(word, &free_lock, tmp_self, false,
			__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		do {
			for (unsigned int i = 0; i < wait; i++)
				rte_pause();
			if (wait < TP_LOCK_BACKOFF) {
				wait <<= 1;
			} else if (++rounds == TP_LOCK_YIELD) {
				rounds = 0;
				__atomic_fetch_add(&tp->nb_lock_yields, 1, __ATOMIC_RELAXED);
				sched_yield();
				if (++yields % TP_LOCK_CHECK == 0 &&
						(dead = tp_word_take_over(word)) != 0)
					return dead;
			}
		} while (__atomic_load_n(word, __ATOMIC_RELAXED) != 0);
		free_lock = 0;
	}
	return 0;
}

static __rte_always_inline void
tp_word_unlock(uint32_t *word)
{
	__atomic_store_n(word, 0, __ATOMIC_RELEASE);
}

/* The lock a put takes first: the put lock of a split pool, else the one lock. */
static __rte_always_inline uint32_t *
tp_put_word(struct tpool *tp)
{
	return tp->split ? &tp->put_lock : &tp->lock;
}

/*
 * The whole pool: with split, both locks, the put lock first; else the one lock. Every path
 * takes it but the fast take (the take lock alone) and the fast put (tp_put_word() alone).
 * A lock taken over from a dead holder puts the pool back in order: every critical section
 * leaves the free lists consistent at every store (a count grows only after the pointers
 * are copied in, in one store; see tp_cur_take() for when it shrinks), so what the dead
 * holder was moving is lost with it, never listed twice; a change of the current block is
 * redone (tp_recover()).
 */
static __rte_noinline void
tp_lock(struct tpool *tp)
{
	uint32_t dead = tp->split ? tp_word_lock(tp, &tp->put_lock) : 0;
	uint32_t dead_take = tp_word_lock(tp, &tp->lock);

	if (unlikely(dead != 0 || dead_take != 0))
		tp_recover(tp, dead != 0 ? dead : dead_take);
}

static __rte_always_inline void
tp_unlock(struct tpool *tp)
{
	tp_word_unlock(&tp->lock);
	if (tp->split)
		tp_word_unlock(&tp->put_lock);
}

/*
 * This thread took @word, one of the pool's locks, over from the dead process @dead: hold
 * the whole pool (in a split pool, both locks, the put lock first) and put it back in order.
 */
static __rte_noinline void
tp_lock_over(struct tpool *tp, uint32_t *word, uint32_t dead)
{
	/* Another dead holder of the other lock is put in order by the same recovery. */
	if (tp->split && word == &tp->lock) {
		tp_word_unlock(word);
		(void)tp_word_lock(tp, &tp->put_lock);
		(void)tp_word_lock(tp, &tp->lock);
	} else if (tp->split) {
		(void)tp_word_lock(tp, &tp->lock);
	}
	tp_recover(tp, dead);
}

/* Whether [va, va + len) is one IOVA-contiguous run starting at @iova. */
static bool
blk_iova_contig(const char *va, size_t len, rte_iova_t iova)
{
	const struct rte_memseg_list *msl;
	size_t pg, off;

	if (rte_eal_iova_mode() == RTE_IOVA_VA)
		return true;
	msl = rte_mem_virt2memseg_list(va);
	pg = msl != NULL ? msl->page_sz : (size_t)sysconf(_SC_PAGESIZE);
	for (off = RTE_PTR_ALIGN_CEIL(va + 1, pg) - va; off < len; off += pg)
		if (rte_mem_virt2iova(va + off) != iova + off)
			return false;
	return true;
}

/* A block as block event callbacks see it. */
static void
blk_desc(const struct rte_mempool *mp, const struct tblk *b,
	struct tide_mempool_block_desc *d)
{
	const char *va = (const char *)b->lo;

	*d = (struct tide_mempool_block_desc){
		.id = b->id,
		.addr = (void *)b->lo,
		.len = b->hi - b->lo,
		.nb_objs = b->nb_objs,
		.iova = (mp->flags & RTE_MEMPOOL_F_NO_IOVA_CONTIG) ? RTE_BAD_IOVA :
			rte_mem_virt2iova(va),
	};
	d->iova_contig = d->iova != RTE_BAD_IOVA && blk_iova_contig(va, d->len, d->iova);
}

/* Populate context: counts objects into their block as the helper lays them out. */
struct tpop {
	struct tpool *tp;
	struct tblk *b;
	rte_mempool_populate_obj_cb_t *cb;
	void *cb_arg;
};

static size_t
blk_elt_size(const struct rte_mempool *mp)
{
	return mp->header_size + mp->elt_size + mp->trailer_size;
}

static size_t
blk_meta_size(uint32_t cap)
{
	return RTE_ALIGN_CEIL(sizeof(struct tblk) + (size_t)cap * sizeof(void *),
		RTE_CACHE_LINE_SIZE);
}

/* Most objects a block of len bytes can hold, its header and free array included. */
static uint32_t
blk_capacity(const struct rte_mempool *mp, size_t len)
{
	size_t elt = blk_elt_size(mp);
	size_t head = blk_meta_size(0);
	size_t cap;

	if (len <= head + elt)
		return 0;
	cap = (len - head) / (elt + sizeof(void *));
	while (cap > 0 && blk_meta_size(cap) + cap * elt > len)
		cap--;
	return (uint32_t)RTE_MIN(cap, (size_t)UINT32_MAX);
}

static struct tblk *
blk_init(void *addr, size_t len, uint32_t cap)
{
	struct tblk *b = addr;

	/* The header keeps to one line: the free ring, and the objects, start at the next. */
	RTE_BUILD_BUG_ON(offsetof(struct tblk, free) != RTE_CACHE_LINE_SIZE);
	memset(b, 0, sizeof(*b));
	b->lo = (uintptr_t)addr;
	b->hi = (uintptr_t)addr + len;
	b->cap = cap;
	b->objs_lo = b->lo + blk_meta_size(cap);
	return b;
}

static bool
blk_has(const struct tblk *b, uintptr_t a)
{
	return a - b->lo < b->hi - b->lo;
}

/* Whether a lies where b's objects are: not in its header or free[] (a foreign pointer
 * there would be listed and handed out, and its holder would write over the ring).
 */
static bool
blk_has_obj(const struct tblk *b, uintptr_t a)
{
	return a - b->objs_lo < b->hi - b->objs_lo;
}

/*
 * A process can die at any instruction of a critical section (a secondary killed inside
 * the lock) and the one that takes the lock over trusts the counters as they are (see
 * tp_lock_take_over()): a count grows after the pointers are in the ring, and shrinks
 * before the head moves past them. Two stores to unrelated fields may be swapped by the
 * compiler; this keeps them in the order written. No instruction, no cost.
 */
#define tp_store_order() rte_compiler_barrier()

/* Index in addr[] of the first block whose lo is above a; caller holds the lock. */
static uint32_t
tp_addr_slot(const struct tpool *tp, uintptr_t a)
{
	uint32_t lo = 0, hi = tp->nb_blk;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (tp->addr[mid]->lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct tblk *
tp_search(const struct tpool *tp, uintptr_t a)
{
	uint32_t i = tp_addr_slot(tp, a);

	if (i == 0 || !blk_has(tp->addr[i - 1], a))
		return NULL;
	return tp->addr[i - 1];
}

/* Flag of said[]: the block event callbacks were told of the block (never passed on). */
#define TMP_SAID (1u << 31)

/* Block @p b was announced as @p d: keep what was said, for its last REMOVE. */
static void
tp_said_set(struct tpool *tp, struct tblk *b, const struct tide_mempool_block_desc *d)
{
	uint32_t i;

	tp_lock(tp);
	i = tp_addr_slot(tp, b->lo) - 1;
	tp->said[i] = *d;
	tp->said[i].flags |= TMP_SAID;
	b->announced = true;
	tp_unlock(tp);
}

/* What the callbacks were told of each block of addr[] (said[]), up to @p nb of them, into
 * @p d, flags cleared: how many. Caller holds the lock. */
static uint32_t
tp_said_copy(const struct tpool *tp, struct tide_mempool_block_desc *d, uint32_t nb)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < tp->nb_blk && i < nb; i++)
		if (tp->said[i].flags & TMP_SAID) {
			d[n] = tp->said[i];
			d[n++].flags = 0;
		}
	return n;
}

/* Tell the block event callbacks of a block added the stock way (it is live already). */
static void
tmp_announce(struct rte_mempool *mp, struct tpool *tp, struct tblk *b)
{
	struct tide_mempool_block_desc d;

	blk_desc(mp, b, &d);
	tmp_ev_begin();
	tmp_ev_add(mp, &d);
	tp_said_set(tp, b, &d);
	tmp_ev_end();
}

/* The block of an object, trying the last one found first. Caller holds the lock. */
static struct tblk *
tp_find(struct tpool *tp, uintptr_t a)
{
	struct tblk *b = tp->hint;

	if (b != NULL && blk_has(b, a))
		return b;
	b = tp_search(tp, a);
	if (b != NULL)
		tp->hint = b;
	return b;
}

/*
 * Whether any of the w pointers at p lies outside [lo, lo + span): their largest offset
 * from lo, compared once. The compiler turns the loop into vector subtracts and maxes and
 * one reduction at the end; indexing from a pointer keeps it from using gathers.
 */
static __rte_always_inline bool
ptr_block_out(void * const *p, unsigned int w, uintptr_t lo, uintptr_t span)
{
	uintptr_t m = 0;

	for (unsigned int j = 0; j < w; j++) {
		uintptr_t d = (uintptr_t)p[j] - lo;

		m = d > m ? d : m;
	}
	return m >= span;
}

/*
 * How many of objs[] lead that fall in [lo, lo + span). Every enqueue scans what it puts
 * back (a cache flush, hundreds of pointers) before it takes the lock: 32 pointers a step
 * with no early exit inside the step, then 8, then one by one where a step found one
 * outside. One pointer at a time cost a cycle or two a pointer. The reduction at the end
 * of a step is a chain of six dependent instructions: with 8-pointer steps the scan was a
 * third of tide_enqueue's samples in tide-bench mempool's cache-256 pipe row, and 32-pointer
 * steps moved that row's ratio to ring_mp_mc from 0.955/0.919/0.970/0.940 to
 * 0.980/0.930/0.991/0.968 (AMD EPYC, fast state, runs alternated).
 */
static inline unsigned int
ptr_run_in(void * const *objs, unsigned int n, uintptr_t lo, uintptr_t span)
{
	unsigned int k = 0;

	for (; k + 32 <= n; k += 32)
		if (ptr_block_out(objs + k, 32, lo, span))
			break;
	for (; k + 8 <= n; k += 8)
		if (ptr_block_out(objs + k, 8, lo, span))
			break;
	while (k < n && (uintptr_t)objs[k] - lo < span)
		k++;
	return k;
}

/* Copy pointers: runs are short or mid-sized, where an inlined (vectorised) loop beats a
 * memcpy call.
 */
static inline void
ptr_copy(void **dst, void * const *src, unsigned int k)
{
	for (unsigned int i = 0; i < k; i++)
		dst[i] = src[i];
}

/*
 * A block's free list is a ring of cap slots, from head (the oldest freed object) to the
 * newest, which puts append to. A take comes from the newest end, as from a stack, when
 * the taking thread is the one that put last (the lines it has just written, still in its
 * own cache); otherwise from the oldest end, as from a queue. Between two cores, one
 * freeing and the other allocating, a stack hands the allocating core the lines the
 * freeing core is writing, each a transfer between the cores while both want it, in an
 * order the prefetcher cannot run ahead of; the oldest end hands it lines written a lap
 * ago, in address order. tide-bench mempool, where a line's round trip between the cores
 * costs ~400 ns, worst row of every full run, as a stack then so: cache 256 against
 * ring_mp_mc 0.82-0.87 -> 0.95-0.97, no cache against stack 1.07-1.36 -> 1.07-1.15.
 * Where the two lcores behave as threads of one core (~60 ns) it changes nothing.
 */
static inline uint32_t
ring_slot(uint32_t cap, uint32_t head, uint32_t off)
{
	uint32_t i = head + off;

	return i >= cap ? i - cap : i;
}

static inline uint32_t
blk_slot(const struct tblk *b, uint32_t head, uint32_t off)
{
	return ring_slot(b->cap, head, off);
}

/* Copy k pointers out of a ring of cap slots from slot @from on. */
static inline void
ring_out(void * const *ring, uint32_t cap, uint32_t from, void **objs, uint32_t k)
{
	uint32_t k1 = cap - from;

	if (likely(k <= k1)) {
		ptr_copy(objs, &ring[from], k);
		return;
	}
	ptr_copy(objs, &ring[from], k1);
	ptr_copy(objs + k1, ring, k - k1);
}

/* Copy k pointers into a ring of cap slots from slot @to on. */
static inline void
ring_in(void **ring, uint32_t cap, uint32_t to, void * const *objs, uint32_t k)
{
	uint32_t k1 = cap - to;

	if (likely(k <= k1)) {
		ptr_copy(&ring[to], objs, k);
		return;
	}
	ptr_copy(&ring[to], objs, k1);
	ptr_copy(ring, objs + k1, k - k1);
}

/*
 * Ask for the lines of k slots from slot @from on, for writing: a put's own, before it
 * copies (tp_put_prefetched()), or the next put's, prefetched by the put before it. In a
 * pipeline the lcore that takes read those lines a lap ago and still holds them, so every
 * store of the next flush would wait for its line to come back (~400 ns a line where a
 * round trip between the cores is that slow) and the flush's stores would queue up behind
 * each other, paid for after the call (the freeing lcore's next hand-over dequeue). Asked
 * for here, the lines move while the lcore does other work. Slots past the newest end are
 * read by no one until written. Only where the next put most likely comes from the same
 * thread (tp_put_mine()): another lcore's put would have to take the lines back
 * (docs/design.md).
 */
static inline void
ring_prefetch_put(void * const *ring, uint32_t cap, uint32_t from, uint32_t k)
{
	uint32_t k1 = RTE_MIN(k, cap - from);
	uintptr_t p = RTE_ALIGN_FLOOR((uintptr_t)&ring[from], RTE_CACHE_LINE_SIZE);

	/* Every line of the k slots, up to the ring's end and then on from its start. */
	for (; p < (uintptr_t)&ring[from + k1]; p += RTE_CACHE_LINE_SIZE)
		rte_prefetch0_write((void *)p);
	for (p = (uintptr_t)ring; p < (uintptr_t)&ring[k - k1]; p += RTE_CACHE_LINE_SIZE)
		rte_prefetch0_write((void *)p);
}

#define TP_PUT_RUN 8

/*
 * Whether the put after this one will most likely come from this thread too, so that the
 * lines it will write are worth asking for now (ring_prefetch_put()): the last
 * TP_PUT_RUN fast puts all did. In a pipeline one lcore frees everything the other
 * allocates, and it prefetches from its (TP_PUT_RUN + 1)th fast put on. Where every lcore
 * both allocates and frees (cache flushes from both lcores in turn), the other lcore's
 * next put would have to take the prefetched lines back, each a transfer between the
 * cores while both want it. Puts past the fast path (tp_enqueue_rest()) leave the guess
 * as it is. Threads of two processes may share a mark (without ASLR, a primary's and a
 * secondary's lcore threads may well): a wrong guess costs speed only. Caller holds the
 * put lock.
 */

static __rte_always_inline bool
tp_put_mine(struct tpool *tp)
{
	uintptr_t me = tp_me();

	if (likely(tp->put_by == me))
		return tp->put_run >= TP_PUT_RUN || ++tp->put_run >= TP_PUT_RUN;
	tp->put_by = me;
	tp->put_run = 0;
	return false;
}

/*
 * Whether this thread's last fast put most likely asked for the lines this one writes (its
 * tp_put_mine() said so; a larger put, or a put end moved by a slow put or a change of the
 * current block in between, make it wrong: it costs speed only). When it did not, this put
 * asks for them all before it copies into any: each store that misses would otherwise wait
 * its turn in the store buffer, its line asked for only when the stores before it were
 * done, and the put lock is held until the last one is. Where both lcores flush
 * (tide-bench mempool, "keep512"), the lines were last read by either lcore's take a few
 * hundred objects earlier, and a put of 384 spent twice as long in the lock on them.
 * Caller holds the put lock.
 */
static __rte_always_inline bool
tp_put_prefetched(const struct tpool *tp)
{
	return tp->put_by == tp_me() && tp->put_run >= TP_PUT_RUN;
}

/* Change the current block (or clear it), publishing its range. Caller holds the lock. */
static inline void
tp_cur_set(struct tpool *tp, struct tblk *b)
{
	/* Odd while changing: a holder that dies half-way leaves it odd, and no enqueue
	 * trusts the range it read then.
	 */
	__atomic_store_n(&tp->cur_seq, tp->cur_seq | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	tp->cur = b;
	__atomic_store_n(&tp->cur_lo, b != NULL ? b->objs_lo : 0, __ATOMIC_RELAXED);
	__atomic_store_n(&tp->cur_span, b != NULL ? b->hi - b->objs_lo : 0, __ATOMIC_RELAXED);
	__atomic_store_n(&tp->cur_seq, tp->cur_seq + 1, __ATOMIC_RELEASE);
}

/*
 * Each end of the current block's free ring is one word, so that one store moves it: a
 * count (wrapping) in the low half, a slot in the high half. The take side's (cur_tk):
 * objects taken from the oldest end, and the head. The put side's (tp_pt()): objects put,
 * and the slot past the newest. Free objects: the put count less the taken count.
 */
static inline uint64_t
tp_end(uint32_t count, uint32_t slot)
{
	return (uint64_t)slot << 32 | count;
}

static inline uint32_t
tp_end_count(uint64_t end)
{
	return (uint32_t)end;
}

static inline uint32_t
tp_end_slot(uint64_t end)
{
	return (uint32_t)(end >> 32);
}

/* The current block's put end: on the put lock's line when split, else the lock's. */
static __rte_always_inline uint64_t *
tp_pt(struct tpool *tp)
{
	return tp->split ? &tp->put_pt : &tp->cur_pt;
}

/* Free objects in the current block. Caller holds the whole pool. */
static inline uint32_t
tp_cur_free(const struct tpool *tp)
{
	return tp_end_count(tp->split ? tp->put_pt : tp->cur_pt) - tp_end_count(tp->cur_tk);
}

/* The current block's oldest free slot. Caller holds the take lock. */
static inline uint32_t
tp_cur_head(const struct tpool *tp)
{
	return tp_end_slot(tp->cur_tk);
}

/* Put the current block's cached counters back into it. Caller holds the lock. */
static inline void
tp_sync(struct tpool *tp)
{
	struct tblk *b = tp->cur;

	if (b != NULL) {
		b->nb_free = tp_cur_free(tp);
		b->low = tp->cur_low;
		b->head = tp_cur_head(tp);
		tp_cur_set(tp, NULL);
	}
}

/* Cache the counters of the block at age[first]. Caller holds the lock, after tp_sync. */
static void
tp_load(struct tpool *tp)
{
	struct tblk *b;

	if (tp->first >= tp->nb_live)
		return;
	b = tp->age[tp->first];
	tp->cur_tk = tp_end(0, b->head);
	*tp_pt(tp) = tp_end(b->nb_free, ring_slot(b->cap, b->head, b->nb_free));
	tp->put_seen = b->nb_free;
	tp->taken_seen = 0;
	tp->cur_low = b->low;
	tp->cur_ring = b->free;
	tp->cur_cap = b->cap;
	tp->cur_objs = b->nb_objs;
	tp_cur_set(tp, b);
}

/*
 * The lock was taken over from process @dead, which died holding it: whatever it was
 * changing is either done or not started in every field but the current block's range,
 * which may be half-set. Put the cached counters back and publish a clean range.
 */
static void
tp_recover(struct tpool *tp, uint32_t dead)
{
	__atomic_store_n(&tp->cur_seq, tp->cur_seq | 1, __ATOMIC_RELAXED);
	tp_sync(tp);
	tp->first = 0;
	tp_load(tp);
	if (tp->cur_seq & 1)
		tp->cur_seq++;
	__atomic_fetch_add(&tp->nb_lock_recovered, 1, __ATOMIC_RELAXED);
	TMP_LOG(WARNING, "process %u died holding a pool's lock: taken over by %u",
		tide_process_pid_of(dead), tide_process_pid_of(tmp_self));
}

/* Make room for one more block in both arrays; called without the lock, under ctl. */
static int
tp_reserve_slot(struct tpool *tp, int socket)
{
	struct tblk **age, **addr, **old_age, **old_addr;
	struct tide_mempool_block_desc *said, *old_said;
	uint32_t slots;

	if (tp->nb_blk < tp->slots)
		return 0;
	slots = RTE_MAX(tp->slots * 2, (uint32_t)TMP_MIN_SLOTS);
	if (TIDE_FAULT(TIDE_FAULT_MALLOC))
		return -ENOMEM;
	age = rte_zmalloc_socket("tide_mp_age", slots * sizeof(*age), 0, socket);
	addr = rte_zmalloc_socket("tide_mp_addr", slots * sizeof(*addr), 0, socket);
	said = rte_zmalloc_socket("tide_mp_said", slots * sizeof(*said), 0, socket);
	if (age == NULL || addr == NULL || said == NULL) {
		rte_free(age);
		rte_free(addr);
		rte_free(said);
		return -ENOMEM;
	}
	tp_lock(tp);
	if (tp->slots != 0) {
		memcpy(age, tp->age, tp->nb_live * sizeof(*age));
		memcpy(addr, tp->addr, tp->nb_blk * sizeof(*addr));
		memcpy(said, tp->said, tp->nb_blk * sizeof(*said));
	}
	old_age = tp->age;
	old_addr = tp->addr;
	old_said = tp->said;
	tp->age = age;
	tp->addr = addr;
	tp->said = said;
	tp->slots = slots;
	tp_unlock(tp);
	rte_free(old_age);
	rte_free(old_addr);
	rte_free(old_said);
	return 0;
}

/* Append @p b to the age order as the newest live block. Caller holds the lock. */
static void
tp_age_append(struct tpool *tp, struct tblk *b)
{
	b->pos = tp->nb_live;
	b->live = true;
	tp->age[tp->nb_live++] = b;
	b->low = b->nb_free;
	if (b->nb_free > 0 && b->pos < tp->first)
		tp->first = b->pos;
}

/* Register a block by address; live blocks also join age[]. Caller holds the lock. */
static void
tp_link(struct tpool *tp, struct tblk *b, bool live)
{
	uint32_t i = tp_addr_slot(tp, b->lo);

	tp_sync(tp);
	memmove(&tp->addr[i + 1], &tp->addr[i], (tp->nb_blk - i) * sizeof(b));
	memmove(&tp->said[i + 1], &tp->said[i], (tp->nb_blk - i) * sizeof(*tp->said));
	tp->addr[i] = b;
	tp->nb_blk++;
	b->id = ++tp->next_id;
	tp->said[i] = (struct tide_mempool_block_desc){ .id = b->id, .addr = (void *)b->lo };
	if (live)
		tp_age_append(tp, b);
}

/* Publish a hidden block to dequeue. Caller holds the lock. */
static void
tp_publish(struct tpool *tp, struct tblk *b)
{
	tp_sync(tp);
	tp_age_append(tp, b);
}

/* Take a live block out of the age order: dequeue no longer sees it. Caller holds the
 * lock, after tp_sync().
 */
static void
tp_hide(struct tpool *tp, struct tblk *b)
{
	uint32_t i;

	for (i = b->pos; i + 1 < tp->nb_live; i++) {
		tp->age[i] = tp->age[i + 1];
		tp->age[i]->pos = i;
	}
	tp->nb_live--;
	if (tp->first > b->pos)
		tp->first--;
	b->live = false;
}

/* Put a hidden block back at position @pos of the age order. Caller holds the lock. */
static void
tp_unhide(struct tpool *tp, struct tblk *b, uint32_t pos)
{
	uint32_t i;

	tp_sync(tp);
	pos = RTE_MIN(pos, tp->nb_live);
	for (i = tp->nb_live; i > pos; i--) {
		tp->age[i] = tp->age[i - 1];
		tp->age[i]->pos = i;
	}
	tp->age[pos] = b;
	b->pos = pos;
	b->live = true;
	tp->nb_live++;
	/* first is where dequeue starts looking: never past a block with free objects. */
	if (pos < tp->first)
		tp->first = pos;
}

/* Take a block out of both arrays. Caller holds the lock. */
static void
tp_unlink(struct tpool *tp, struct tblk *b)
{
	uint32_t i;

	tp_sync(tp);
	i = tp_addr_slot(tp, b->lo) - 1;
	memmove(&tp->addr[i], &tp->addr[i + 1], (tp->nb_blk - i - 1) * sizeof(b));
	memmove(&tp->said[i], &tp->said[i + 1], (tp->nb_blk - i - 1) * sizeof(*tp->said));
	tp->nb_blk--;
	tp->nb_populated -= b->nb_objs;
	if (tp->hint == b)
		tp->hint = NULL;
	if (b->live)
		tp_hide(tp, b);
}

/*
 * Take k objects, the newest freed, from a block's free ring, as from a stack: the ring's
 * head stays, and with it how the slots of a pool whose bulks are a multiple of a line's
 * pointers fall on lines (a head moved by one object makes every bulk of 8 straddle two
 * lines: tide-bench mempool cache0 pipe bulk 8, 18-19 against 22-23 Mobj/s). Caller holds
 * the lock.
 */
static inline void
blk_take(struct tblk *b, void **objs, uint32_t k)
{
	b->nb_free -= k;
	ring_out(b->free, b->cap, blk_slot(b, b->head, b->nb_free), objs, k);
	if (b->nb_free < b->low)
		b->low = b->nb_free;
}

/* Free objects in live blocks from age[from] on, counting no further than need. */
static uint64_t
tp_count_free(const struct tpool *tp, uint32_t from, uint64_t need)
{
	uint64_t n = 0;

	for (uint32_t i = from; i < tp->nb_live && n < need; i++)
		n += tp->age[i] == tp->cur ? tp_cur_free(tp) : tp->age[i]->nb_free;
	return n;
}

/* Take n objects, oldest block first, across blocks; all or nothing. Caller holds the
 * lock.
 */
static __rte_noinline bool
tp_take_slow(struct tpool *tp, void **objs, unsigned int n)
{
	uint32_t i;
	bool ok = false;

	tp_sync(tp);
	for (i = tp->first; i < tp->nb_live && tp->age[i]->nb_free == 0; i++)
		;
	tp->first = i;
	if (tp_count_free(tp, i, n) >= n) {
		while (n > 0) {
			struct tblk *b = tp->age[i];
			uint32_t k = RTE_MIN(n, b->nb_free);

			blk_take(b, objs, k);
			objs += k;
			n -= k;
			if (b->nb_free == 0)
				i++;
		}
		tp->first = i;
		ok = true;
	}
	tp_load(tp);
	return ok;
}

static int
tide_alloc(struct rte_mempool *mp)
{
	struct tpool *tp;

	pthread_mutexattr_t attr;

	/* The fast paths' fields share the lock's line (see struct tpool). */
	RTE_BUILD_BUG_ON(offsetof(struct tpool, hint) + sizeof(tp->hint) > RTE_CACHE_LINE_SIZE);

	tp = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL :
		rte_zmalloc_socket("tide_mp", sizeof(*tp), RTE_CACHE_LINE_SIZE, mp->socket_id);
	if (tp == NULL) {
		TMP_LOG(ERR, "%s: no memory for the pool data", mp->name);
		return -ENOMEM;
	}
	/* In shared memory, taken by any process, and not left locked by one that dies. */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&tp->ctl, &attr);
	pthread_mutexattr_destroy(&attr);
	tp->magic = TP_MAGIC;
	tp->split = mp->cache_size > 0;
	mp->pool_data = tp;
	/* Its end must be told from a failed populate (tp_forget_gone()), in any process. */
	if (tmp_ev_watch() < 0)
		TMP_LOG(WARNING, "%s: mempool events not watched: its free may be taken for a "
			"failed populate", mp->name);
	return 0;
}

void
tmp_dying_set(struct rte_mempool *mp)
{
	struct tpool *tp = mp->pool_data;

	if (tp != NULL)
		tp->dying = true;
}

static void
tide_free(struct rte_mempool *mp)
{
	struct tpool *tp = mp->pool_data;

	if (tp == NULL)
		return;
	pthread_mutex_destroy(&tp->ctl);
	rte_free(tp->age);
	rte_free(tp->addr);
	rte_free(tp->said);
	rte_free(tp);
	mp->pool_data = NULL;
}

/* Length of the run of objects at the head of objs[] that all belong to b. */
static unsigned int
blk_run(const struct tblk *b, void * const *objs, unsigned int n)
{
	return ptr_run_in(objs, n, b->objs_lo, b->hi - b->objs_lo);
}

/* Put k objects into the free ring of b, starting at head and holding *nb_free; what
 * does not fit among nb_objs is a double free.
 */
static inline void
tp_push(struct tpool *tp, struct tblk *b, uint32_t head, uint32_t *nb_free,
	void * const *objs, unsigned int k)
{
	uint32_t room = b->nb_objs - *nb_free;

	if (unlikely(k > room)) {
		tp->nb_double += k - room;
		k = room;
	}
	ring_in(b->free, b->cap, blk_slot(b, head, *nb_free), objs, k);
	tp_store_order();
	*nb_free += k;
}

/* Push a run of k objects of block b. Caller holds the lock. */
static inline void
tp_push_run(struct tpool *tp, struct tblk *b, void * const *objs, unsigned int k)
{
	if (b == tp->cur) {
		uint64_t *pt = tp_pt(tp);
		uint32_t nb_free = tp_cur_free(tp), before = nb_free;

		tp_push(tp, b, tp_cur_head(tp), &nb_free, objs, k);
		tp_store_order();
		*pt = tp_end(tp_end_count(*pt) + nb_free - before,
			ring_slot(b->cap, tp_end_slot(*pt), nb_free - before));
		return;
	}
	tp_push(tp, b, b->head, &b->nb_free, objs, k);
	if (b->live && b->pos < tp->first) {
		/* An older block has free objects again: dequeue starts there now. */
		tp_sync(tp);
		tp->first = b->pos;
		tp_load(tp);
	}
}

/* Objects that do not go to the current block: find each run's block. Under the lock. */
static __rte_noinline void
tp_enqueue_rest(struct tpool *tp, void * const *objs, unsigned int n)
{
	struct tblk *b;
	unsigned int k;

	while (n > 0) {
		b = tp_find(tp, (uintptr_t)objs[0]);
		if (unlikely(b == NULL || !blk_has_obj(b, (uintptr_t)objs[0]))) {
			tp->nb_foreign++;
			k = 1;
		} else {
			k = blk_run(b, objs, n);
			tp_push_run(tp, b, objs, k);
		}
		objs += k;
		n -= k;
	}
}

/* Room among nb_objs when at most nb_free are free (a stale count may say more). */
static inline uint32_t
tp_room(uint32_t nb_objs, uint32_t nb_free)
{
	return nb_free < nb_objs ? nb_objs - nb_free : 0;
}

/*
 * The ops were called on a pool whose data is not this driver's: in a secondary process
 * whose mempool drivers were registered in another order than the primary's, the pool's
 * ops index names another driver here. Refuse rather than write into foreign memory.
 */
static __rte_noinline int
tide_foreign(const struct rte_mempool *mp)
{
	static uint32_t logged;

	if (__atomic_fetch_add(&logged, 1, __ATOMIC_RELAXED) == 0)
		TMP_LOG(CRIT, "%s: the tide ops were called on a pool of another driver (ops "
			"index %u): this process has other mempool drivers than the process that "
			"created the pool; run the same DPDK build with the same drivers (-d)",
			mp->name, (unsigned int)mp->ops_index);
	return -EPROTO;
}

static int
tide_enqueue(struct rte_mempool *mp, void * const *objs, unsigned int n)
{
	struct tpool *tp = mp->pool_data;
	uint32_t *word, dead;
	unsigned int k;

	if (unlikely(tp->magic != TP_MAGIC))
		return tide_foreign(mp);

	/*
	 * Most objects go back to the block dequeue is serving. Find how many lead the
	 * table before taking the lock, from its published range; the lock then confirms
	 * the current block has not changed since.
	 */
	uint32_t seq = __atomic_load_n(&tp->cur_seq, __ATOMIC_ACQUIRE);
	uintptr_t lo = __atomic_load_n(&tp->cur_lo, __ATOMIC_RELAXED);
	uintptr_t span = __atomic_load_n(&tp->cur_span, __ATOMIC_RELAXED);

	k = ptr_run_in(objs, n, lo, span);
	word = tp_put_word(tp);
	dead = tp_word_lock(tp, word);
	if (unlikely(dead != 0)) {
		tp_lock_over(tp, word, dead);
		tp_enqueue_rest(tp, objs, n);
		tp_unlock(tp);
		return 0;
	}
	if (TIDE_FAULT(TIDE_FAULT_DIE_IN_LOCK))
		raise(SIGKILL); /* tests: a secondary killed inside the lock */
	if (!tp->split)
		tp->last_put = tp_me();
	/*
	 * In a split pool, the put lock alone: the current block cannot change (that takes
	 * both locks), and takes from its oldest end go on meanwhile. What they have taken
	 * is published after they copied it out, so the room read here is at most the real
	 * room, and the slots from the newest end on are free of them.
	 */
	if (likely(k > 0 && tp->cur_seq == seq && (seq & 1) == 0)) {
		uint64_t *pt = tp_pt(tp);
		uint32_t put = tp_end_count(*pt), cap = tp->cur_cap, tail = tp_end_slot(*pt);
		uint32_t taken;

		/* In a split pool, the take side's count is read only when the last one read
		 * leaves too little room: its line stays with the lcore that takes.
		 */
		if (!tp->split) {
			taken = tp_end_count(tp->cur_tk);
		} else {
			taken = tp->taken_seen;
			if (unlikely(k > tp_room(tp->cur_objs, put - taken))) {
				taken = tp_end_count(__atomic_load_n(&tp->cur_tk,
					__ATOMIC_ACQUIRE));
				tp->taken_seen = taken;
			}
		}
		if (likely(k <= tp_room(tp->cur_objs, put - taken))) {
			uint32_t next = ring_slot(cap, tail, k);

			if (tp->split && !tp_put_prefetched(tp))
				ring_prefetch_put(tp->cur_ring, cap, tail, k);
			ring_in(tp->cur_ring, cap, tail, objs, k);
			__atomic_store_n(pt, tp_end(put + k, next), __ATOMIC_RELEASE);
			if (tp->split && tp_put_mine(tp))
				ring_prefetch_put(tp->cur_ring, cap, next, k);
			objs += k;
			n -= k;
		}
	}
	if (unlikely(n > 0)) {
		/* Other blocks, or the room looked short: the whole pool. */
		if (tp->split && unlikely((dead = tp_word_lock(tp, &tp->lock)) != 0))
			tp_recover(tp, dead);
		tp_enqueue_rest(tp, objs, n);
		if (tp->split)
			tp_word_unlock(&tp->lock);
	}
	tp_word_unlock(word);
	return 0;
}

/*
 * Take n objects from the current block. Caller holds the take lock. In a split pool they
 * come from the oldest end, copied out before the count of those taken moves past them,
 * in one store, so that a put under the put lock alone never writes over slots not yet
 * copied, even when it puts back more than was taken (a double free). With one lock (the
 * whole pool), the thread that put last takes from the newest end, the lines it has just
 * written (see blk_slot()), others from the oldest; the counters move first, while this
 * core surely holds their line (another core waiting for the lock reads it), then the copy.
 */
static __rte_always_inline bool
tp_cur_take(struct tpool *tp, void **objs, unsigned int n)
{
	uint64_t tk = tp->cur_tk;
	uint32_t taken = tp_end_count(tk), cap = tp->cur_cap, from = tp_end_slot(tk), nb_free;

	if (unlikely(tp->cur == NULL))
		return false;
	if (tp->split) {
		/* The put side's count is read only when the last one read says too few:
		 * its line stays with the lcore that puts.
		 */
		nb_free = tp->put_seen - taken;
		if (unlikely(nb_free < n)) {
			tp->put_seen = tp_end_count(__atomic_load_n(&tp->put_pt,
				__ATOMIC_ACQUIRE));
			nb_free = tp->put_seen - taken;
		}
	} else {
		nb_free = tp_end_count(tp->cur_pt) - taken;
	}
	if (unlikely(nb_free < n))
		return false;
	nb_free -= n;
	if (nb_free < tp->cur_low)
		tp->cur_low = nb_free;
	if (tp->split) {
		ring_out(tp->cur_ring, cap, from, objs, n);
		__atomic_store_n(&tp->cur_tk, tp_end(taken + n, ring_slot(cap, from, n)),
			__ATOMIC_RELEASE);
		return true;
	}
	if (tp->last_put == tp_me()) {
		uint32_t put = tp_end_count(tp->cur_pt) - n;

		from = ring_slot(cap, tp_end_slot(tp->cur_pt), cap - n);
		tp->cur_pt = tp_end(put, from);
	} else {
		tp->cur_tk = tp_end(taken + n, ring_slot(cap, from, n));
	}
	tp_store_order();
	ring_out(tp->cur_ring, cap, from, objs, n);
	return true;
}

/* Take n objects holding the whole pool: from the current block, else across blocks. */
static __rte_noinline bool
tp_take_locked(struct tpool *tp, void **objs, unsigned int n)
{
	bool ok = tp_cur_take(tp, objs, n) || tp_take_slow(tp, objs, n);

	tp_unlock(tp);
	return ok;
}

/*
 * Take n objects. Mostly from the current block under the take lock alone: in a split
 * pool, the lcore that allocates and the one that frees (a pipeline's RX and TX) do not
 * wait for each other, as with a ring's two ends.
 */
static __rte_always_inline bool
tp_try_take(struct tpool *tp, void **objs, unsigned int n)
{
	uint32_t dead = tp_word_lock(tp, &tp->lock);

	if (unlikely(dead != 0)) {
		tp_lock_over(tp, &tp->lock, dead);
		return tp_take_locked(tp, objs, n);
	}
	if (unlikely(!tp->started))
		__atomic_store_n(&tp->started, 1, __ATOMIC_RELEASE);
	if (likely(tp_cur_take(tp, objs, n))) {
		tp_word_unlock(&tp->lock);
		return true;
	}
	if (tp->split) {
		tp_word_unlock(&tp->lock);
		tp_lock(tp);
	}
	return tp_take_locked(tp, objs, n);
}

/* The free lists are short: let the grow callback add blocks, then try again. */
static __rte_noinline int
tide_dequeue_slow(struct rte_mempool *mp, struct tpool *tp, void **objs, unsigned int n)
{
	tide_mempool_grow_cb_t *cb;
	void *arg;

	tp_lock(tp);
	cb = tp->grow_cb;
	arg = tp->grow_arg;
	tp_unlock(tp);
	/* cb is the primary's (the pool grows on demand); a secondary asks the primary. */
	if (cb != NULL && rte_eal_process_type() == RTE_PROC_PRIMARY) {
		while (cb(mp, n, arg) > 0)
			if (tp_try_take(tp, objs, n))
				return 0;
		if (tp_try_take(tp, objs, n))
			return 0;
	} else if (cb != NULL && tmp_remote_grow != NULL) {
		while (tmp_remote_grow(mp, n) > 0)
			if (tp_try_take(tp, objs, n))
				return 0;
		if (tp_try_take(tp, objs, n))
			return 0;
	}
	__atomic_fetch_add(&tp->nb_deq_refused, 1, __ATOMIC_RELAXED);
	return -ENOBUFS;
}

static int
tide_dequeue(struct rte_mempool *mp, void **objs, unsigned int n)
{
	struct tpool *tp = mp->pool_data;

	if (unlikely(tp->magic != TP_MAGIC))
		return tide_foreign(mp);
	if (likely(tp_try_take(tp, objs, n)))
		return 0;
	return tide_dequeue_slow(mp, tp, objs, n);
}

/* Objects of live blocks out of the free lists (allocated or cached). Caller holds the lock. */
static uint64_t
tp_count_out(const struct tpool *tp)
{
	uint64_t objs = 0;

	for (uint32_t i = 0; i < tp->nb_live; i++)
		objs += tp->age[i]->nb_objs;
	return objs - tp_count_free(tp, 0, UINT64_MAX);
}

/*
 * Whether the mempool's memory, and with it every block's, is gone: DPDK frees all of a
 * mempool's chunks when rte_mempool_populate_default() or _virt() fails part-way
 * (rte_mempool_free_memchunks(): every object dequeued, then every chunk's free callback),
 * and tells the driver nothing. Then the blocks hold objects the mempool no longer counts
 * or lists. Not while objects are being counted in and not yet listed (a populate op, the
 * first of which lists its chunk only once it returns, leaves populated_size above 0).
 * Caller holds the lock.
 */
static bool
tp_gone(const struct rte_mempool *mp, const struct tpool *tp)
{
	return tp->nb_populated != 0 && mp->populated_size == 0 && !tp->populating &&
		tp->adding == NULL && STAILQ_EMPTY(&mp->mem_list);
}

/* The pool's size less the objects out: see the counting note at the top. */
static unsigned int
tide_get_count(const struct rte_mempool *mp)
{
	struct tpool *tp = mp->pool_data;
	uint64_t out;

	if (unlikely(tp->magic != TP_MAGIC)) {
		tide_foreign(mp);
		return 0;
	}
	/* Read without tp_sync(): counting must not cost the data path its cached block. */
	tp_lock(tp);
	out = unlikely(tp_gone(mp, tp)) ? mp->size : tp_count_out(tp); /* no object left */
	tp_unlock(tp);
	return out < mp->size ? mp->size - (unsigned int)out : 0;
}

/*
 * Whether populate_default is about to fill a new stock pool that the adopter wants to
 * start small, and with how many bytes: 0 to populate as asked. Decides once per pool.
 */
static size_t
tp_adopt_plan(const struct rte_mempool *mp, struct tpool *tp, uint32_t obj_num,
	uint32_t pg_shift)
{
	const struct tide_mempool_adopt_hook *hook = __atomic_load_n(&tmp_adopter,
		__ATOMIC_ACQUIRE);
	size_t base;

	if (tp->stock != TP_STOCK_NONE)
		return 0;
	/*
	 * populate_default asks for the whole pool before anything is populated, with the
	 * hugepage size as its page shift (rte_mempool_populate_anon() asks with the
	 * system page size: not ours to adopt).
	 */
	if (hook == NULL || mp->nb_mem_chunks != 0 || mp->populated_size != 0 ||
			obj_num != mp->size || rte_eal_has_hugepages() == 0 ||
			((size_t)1 << pg_shift) == (size_t)sysconf(_SC_PAGESIZE) ||
			rte_eal_process_type() != RTE_PROC_PRIMARY) {
		tp->stock = TP_STOCK_WHOLE;
		return 0;
	}
	base = hook->base_bytes(mp);
	if (base == 0) {
		tp->stock = TP_STOCK_WHOLE;
		return 0;
	}
	tp->stock = TP_STOCK_ADOPTING;
	tp->claim_n = obj_num;
	tp->claim_given = 0;
	tp->claim_mz = NULL;
	return base;
}

static void
tp_ctl_lock(struct tpool *tp)
{
	if (pthread_mutex_lock(&tp->ctl) == EOWNERDEAD)
		pthread_mutex_consistent(&tp->ctl);
}

/*
 * Forget the blocks of a mempool whose memory DPDK freed (tp_gone()), without reading their
 * headers: the block event callbacks get the last REMOVE of each block they were told of
 * (flagged TIDE_MEMPOOL_BLOCK_F_FINAL, from what they were told), and the pool is as
 * before its first populate. Returns the pool data.
 */
static struct tpool *
tp_forget_gone(struct rte_mempool *mp, struct tpool *tp)
{
	struct tide_mempool_block_desc *d = NULL;
	uint32_t i, n = 0, nb = 0;
	bool gone;

	if (tp == NULL)
		return NULL;
	tp_lock(tp);
	gone = tp_gone(mp, tp);
	tp_unlock(tp);
	/*
	 * rte_mempool_free() frees the chunks after its DESTROY event, and an anonymous
	 * chunk's free callback asks calc_mem_size() its length: that is the pool's end, whose
	 * blocks the DESTROY event told, not a failed populate.
	 */
	if (!gone || tp->dying)
		return tp;
	tp_ctl_lock(tp);
	tmp_ev_begin();
	tp_lock(tp);
	if (tp_gone(mp, tp)) {
		nb = tp->nb_blk;
		d = malloc(RTE_MAX(nb, 1u) * sizeof(*d));
		n = d != NULL ? tp_said_copy(tp, d, nb) : 0;
		tp_cur_set(tp, NULL); /* not tp_sync(): it writes into the block's header */
		tp->nb_live = 0;
		tp->nb_blk = 0;
		tp->first = 0;
		tp->hint = NULL;
		tp->nb_populated = 0;
		tp->stock = TP_STOCK_NONE;
		tp->claim_mz = NULL;
	}
	tp_unlock(tp);
	if (nb != 0 && d == NULL)
		TMP_LOG(ERR, "%s: no memory for the REMOVE events of its freed blocks", mp->name);
	for (i = 0; i < n; i++) {
		d[i].flags = TIDE_MEMPOOL_BLOCK_F_FINAL;
		tmp_ev_remove(mp, &d[i]);
	}
	tmp_ev_end();
	pthread_mutex_unlock(&tp->ctl);
	free(d);
	if (nb != 0)
		TMP_LOG(NOTICE, "%s: its memory was freed by a failed populate: %u blocks forgotten",
			mp->name, nb);
	return tp;
}

/* Memory for obj_num objects: the default layout plus a block header per chunk; or, for a
 * pool being adopted, its base.
 */
static ssize_t
tide_calc_mem_size(const struct rte_mempool *mp, uint32_t obj_num, uint32_t pg_shift,
	size_t *min_chunk_size, size_t *align)
{
	size_t elt = blk_elt_size(mp);
	size_t per_chunk = obj_num;
	size_t reserve, base;
	ssize_t mem;

	/* A populate_default() again after one that failed: what DPDK freed goes first. */
	tp_forget_gone((struct rte_mempool *)(uintptr_t)mp, mp->pool_data);

	/* With page-bounded objects every page may end up a chunk of its own. */
	if (pg_shift != 0)
		per_chunk = RTE_MIN(per_chunk, (((size_t)1 << pg_shift) / elt) + 1);
	reserve = blk_meta_size(per_chunk) + RTE_CACHE_LINE_SIZE;
	mem = rte_mempool_op_calc_mem_size_helper(mp, obj_num, pg_shift, reserve,
		min_chunk_size, align);
	if (mem < 0)
		return mem;
	*min_chunk_size = blk_meta_size(1) + RTE_CACHE_LINE_SIZE + elt;
	base = tp_adopt_plan(mp, mp->pool_data, obj_num, pg_shift);
	if (base == 0)
		return mem;
	if (base >= (size_t)mem || base < *min_chunk_size) {
		/* The base is the whole pool (or holds nothing): nothing to adopt. */
		((struct tpool *)mp->pool_data)->stock = TP_STOCK_WHOLE;
		return mem;
	}
	return (ssize_t)base;
}

/* Object callback for the populate helper: count the object into its block first. */
static void
tide_pop_obj(struct rte_mempool *mp, void *arg, void *obj, rte_iova_t iova)
{
	struct tpop *pop = arg;

	tp_lock(pop->tp);
	pop->b->nb_objs++;
	pop->tp->nb_populated++;
	if (pop->b == pop->tp->cur)
		pop->tp->cur_objs++;
	tp_unlock(pop->tp);
	pop->cb(mp, pop->cb_arg, obj, iova);
}

/* A chunk of memory [addr, addr + len) becomes a live block of its own. */
static struct tblk *
tide_chunk_block(struct rte_mempool *mp, struct tpool *tp, void *addr, size_t len)
{
	uint32_t cap = blk_capacity(mp, len);
	struct tblk *b;

	/* The block's header (one cache line) is at the chunk's start. DPDK aligns a chunk of
	 * a pool made with RTE_MEMPOOL_F_NO_CACHE_ALIGN to 8 bytes only. 0 objects go back to
	 * DPDK, which fails the populate call (a negative count would list the chunk).
	 */
	if (!rte_is_aligned(addr, RTE_CACHE_LINE_SIZE)) {
		TMP_LOG(ERR, "%s: a chunk at %p is not aligned to a cache line (a pool made with "
			"RTE_MEMPOOL_F_NO_CACHE_ALIGN, given such memory): the driver keeps a "
			"block header there; not populated", mp->name, addr);
		rte_errno = EINVAL;
		return NULL;
	}
	if (cap == 0)
		return NULL;
	if (tp_reserve_slot(tp, mp->socket_id) < 0) {
		TMP_LOG(ERR, "%s: no memory for its table of blocks (ENOMEM): a chunk of %zu bytes "
			"not populated", mp->name, len);
		rte_errno = ENOMEM;
		return NULL;
	}
	b = blk_init(addr, len, cap);
	tp_lock(tp);
	tp_link(tp, b, true);
	tp_unlock(tp);
	return b;
}

/*
 * The base block of a pool being adopted, for a chunk at @vaddr: the whole of
 * populate_default's first memzone, whatever chunks it arrives in. NULL if the chunk is not
 * in that memzone (someone else populates the pool: adoption is off).
 */
static struct tblk *
tp_base_block(struct rte_mempool *mp, struct tpool *tp, void *vaddr)
{
	char name[RTE_MEMZONE_NAMESIZE];
	const struct rte_memzone *mz = tp->claim_mz;
	struct tblk *b;

	if (mz == NULL) {
		snprintf(name, sizeof(name), RTE_MEMPOOL_MZ_FORMAT "_0", mp->name);
		mz = rte_memzone_lookup(name);
		if (mz == NULL || mz->addr != vaddr) {
			TMP_LOG(WARNING, "%s: not populated by rte_mempool_populate_default(): "
				"populated whole, not elastic", mp->name);
			tp->stock = TP_STOCK_WHOLE;
			return NULL;
		}
		b = tide_chunk_block(mp, tp, mz->addr, mz->len);
		if (b == NULL)
			return NULL;
		tp->claim_mz = mz;
		return b;
	}
	tp_lock(tp);
	b = tp_search(tp, (uintptr_t)vaddr);
	tp_unlock(tp);
	return b;
}

/* Find the memzone of populate_default for pool @p mp that holds an address. */
struct tp_zone_find {
	char prefix[RTE_MEMZONE_NAMESIZE]; /* the pool's memzone names up to their number */
	size_t len;
	uintptr_t va;
	const struct rte_memzone *mz;
};

static void
tp_zone_find_cb(const struct rte_memzone *mz, void *arg)
{
	struct tp_zone_find *f = arg;
	const char *num = &mz->name[f->len];

	if (f->va - (uintptr_t)mz->addr < mz->len && strncmp(mz->name, f->prefix, f->len) == 0 &&
			*num != '\0' && strspn(num, "0123456789") == strlen(num))
		f->mz = mz;
}

static const struct rte_memzone *
tp_pool_zone(const struct rte_mempool *mp, const void *va)
{
	struct tp_zone_find f = { .va = (uintptr_t)va };

	f.len = (size_t)snprintf(f.prefix, sizeof(f.prefix), RTE_MEMPOOL_MZ_FORMAT "_", mp->name);
	if (f.len >= sizeof(f.prefix))
		return NULL;
	rte_memzone_walk(tp_zone_find_cb, &f);
	return f.mz;
}

/*
 * The block of a chunk that populate_default hands over from one of its memzones: the rest
 * of the memzone from the first of its chunks that holds the block's header and an object,
 * whatever chunks it comes in (in IOVA-as-PA mode, one per run of physically contiguous
 * pages), as an adopted pool's base is. One block where there would be one per chunk:
 * enqueue finds an object's block at once, and dequeue does not step from block to block.
 * (The first chunk is usually big enough; with a pool of many objects it may not be, and
 * stays a block of its own.) *own: the block was made here. NULL: not such a chunk.
 */
static struct tblk *
tp_zone_block(struct rte_mempool *mp, struct tpool *tp, void *vaddr, size_t len, bool *own)
{
	const struct rte_memzone *mz = tp_pool_zone(mp, vaddr);
	size_t rest;
	struct tblk *b;

	if (mz == NULL)
		return NULL;
	tp_lock(tp);
	b = tp_search(tp, (uintptr_t)vaddr);
	tp_unlock(tp);
	if (b != NULL)
		return b;
	/*
	 * The header and an object in this chunk, or DPDK drops the chunk (an empty chunk is
	 * not listed), and with it the memzone's free callback when it is the first.
	 */
	rest = RTE_PTR_DIFF(RTE_PTR_ADD(mz->addr, mz->len), vaddr);
	if (blk_meta_size(blk_capacity(mp, rest)) + blk_elt_size(mp) > len)
		return NULL;
	*own = true;
	return tide_chunk_block(mp, tp, vaddr, rest);
}

/*
 * What the populate op reports for a chunk of the base memzone that gave n objects: on the
 * memzone's last chunk, the rest of what populate_default asked for, once the adopter has
 * taken the pool (if it cannot, the pool is populated whole the stock way).
 */
static int
tp_claim(struct rte_mempool *mp, struct tpool *tp, void *vaddr, size_t len, int n)
{
	const struct tide_mempool_adopt_hook *hook = tmp_adopter;
	const struct rte_memzone *mz = tp->claim_mz;
	int ret = n;

	if (mp->populated_size >= mp->size) {
		tp->stock = TP_STOCK_WHOLE; /* the base held every object */
	} else if (RTE_PTR_ADD(vaddr, len) == RTE_PTR_ADD(mz->addr, mz->len)) {
		if (hook != NULL && hook->adopted(mp, mz) == 0) {
			ret = (int)(tp->claim_n - tp->claim_given);
			tp->stock = TP_STOCK_ADOPTED;
		} else {
			TMP_LOG(WARNING, "%s: cannot be made elastic: populated whole", mp->name);
			tp->stock = TP_STOCK_WHOLE;
		}
	}
	tp->claim_given += (uint32_t)ret;
	return ret;
}

/* The last header of an object list, or NULL (sys/queue.h has no STAILQ_LAST). */
static struct rte_mempool_objhdr *
tmp_elt_last(struct rte_mempool_objhdr_list *l)
{
	return STAILQ_EMPTY(l) ? NULL :
		container_of(l->stqh_last, struct rte_mempool_objhdr, next.stqe_next);
}

/*
 * Where block @p b's run in the object list ends: the list's last header if a populate that
 * began when it ended at @p tail appended objects and the last is @p b's. Every chunk of a
 * block comes here, whichever way it came (tide_mempool_block_add(), DPDK's populate of a
 * chunk, a memzone or an adopted pool's base), so that removal finds the run. Not past 4 GB
 * into a block (a stock chunk may be larger): its removal walks the list.
 */
static void
blk_note_run_end(struct rte_mempool *mp, struct tblk *b, struct rte_mempool_objhdr *tail)
{
	struct rte_mempool_objhdr *last = tmp_elt_last(&mp->elt_list);

	if (last != tail && blk_has_obj(b, (uintptr_t)last) &&
			(uintptr_t)last - b->lo <= UINT32_MAX)
		b->last_off = (uint32_t)((uintptr_t)last - b->lo);
}

static int
tide_populate(struct rte_mempool *mp, unsigned int max_objs, void *vaddr, rte_iova_t iova,
	size_t len, rte_mempool_populate_obj_cb_t *obj_cb, void *obj_cb_arg)
{
	struct tpool *tp = mp->pool_data;
	struct tpop pop = { .tp = tp, .cb = obj_cb, .cb_arg = obj_cb_arg };
	struct rte_mempool_objhdr *tail;
	bool base = false, own = false, zone = false, gone, whole;
	/* From tide_mempool_block_add(), which holds ctl; else blocks come here as they come
	 * there, one at a time (the control thread may be adding one to this pool).
	 */
	bool adding = tp->adding != NULL && blk_has(tp->adding, (uintptr_t)vaddr);
	size_t off = 0;
	int n = 0;

	if (!adding) {
		tp_forget_gone(mp, tp);
		tp_ctl_lock(tp);
	}
	if (adding) {
		pop.b = tp->adding;
	} else if (tp->stock == TP_STOCK_ADOPTING &&
			(pop.b = tp_base_block(mp, tp, vaddr)) != NULL) {
		base = true;
	} else if ((pop.b = tp_zone_block(mp, tp, vaddr, len, &own)) != NULL) {
		zone = true;
	} else {
		pop.b = tide_chunk_block(mp, tp, vaddr, len);
		own = true;
	}
	if (pop.b == NULL)
		goto out;
	/* Objects go past the block's header and free ring, whichever chunk the header is in
	 * (in IOVA-as-PA mode a base's first chunk may be shorter than both: it gets none).
	 */
	if ((uintptr_t)vaddr < pop.b->objs_lo)
		off = pop.b->objs_lo - (uintptr_t)vaddr;
	max_objs = RTE_MIN(max_objs, pop.b->cap - pop.b->nb_objs);
	tail = tmp_elt_last(&mp->elt_list);
	tp->populating = true;
	n = len > off ? rte_mempool_op_populate_helper(mp, 0, max_objs, RTE_PTR_ADD(vaddr, off),
		iova == RTE_BAD_IOVA ? RTE_BAD_IOVA : iova + off, len - off,
		tide_pop_obj, &pop) : 0;
	tp->populating = false;
	if (n > 0)
		blk_note_run_end(mp, pop.b, tail);
	gone = n <= 0 && own;
	if (gone) {
		tp_lock(tp);
		tp_unlink(tp, pop.b);
		tp_unlock(tp);
	}
	if (base && n >= 0)
		n = tp_claim(mp, tp, vaddr, len, n);
	/*
	 * Announce a block once it is whole: a chunk's at once; an adopted pool's base once its
	 * last chunk is in; a memzone's with its last chunk, or when the pool is full.
	 */
	if (gone || pop.b->announced)
		whole = false;
	else if (base)
		whole = n >= 0 && tp->stock != TP_STOCK_ADOPTING;
	else if (zone)
		whole = mp->populated_size >= mp->size || (uintptr_t)vaddr + len == pop.b->hi;
	else
		whole = own && n > 0;
	if (whole)
		tmp_announce(mp, tp, pop.b);
out:
	if (!adding)
		pthread_mutex_unlock(&tp->ctl);
	return n;
}

static struct rte_mempool_ops tide_ops = {
	.name = TIDE_MEMPOOL_OPS_NAME,
	.alloc = tide_alloc,
	.free = tide_free,
	.enqueue = tide_enqueue,
	.dequeue = tide_dequeue,
	.get_count = tide_get_count,
	.calc_mem_size = tide_calc_mem_size,
	.populate = tide_populate,
};

/*
 * The ops join the table during rte_eal_init() (its bus scan), after EAL has loaded every
 * plugin, rather than when this library is loaded. Processes match a pool's driver by its
 * index in their own table, so the order of registration must be the same everywhere:
 * this way the tide ops come after every stock mempool driver in every process, whether
 * the application links tidepool or loads it with -d (in any position), and a stock tool
 * that does not load tidepool at all (dpdk-dumpcap, dpdk-pdump) finds the stock drivers
 * at the same indexes as the tidepool process it works with.
 */
int
tide_mempool_ops_register(void)
{
	static int index = -1;

	if (index >= 0)
		return index;
	index = rte_mempool_register_ops(&tide_ops);
	if (index < 0)
		TMP_LOG(ERR, "cannot register the %s mempool ops: %s", TIDE_MEMPOOL_OPS_NAME,
			rte_strerror(-index));
	return index;
}

static void
tmp_ops_scan(void *arg __rte_unused)
{
	tide_mempool_ops_register();
}

RTE_INIT(tmp_ops_init)
{
	rte_vdev_add_custom_scan(tmp_ops_scan, NULL);
}

/* ---- control calls ---------------------------------------------------------------- */

/* Serialise block add, remove and object walks; a process that died holding it left the
 * lists as its last completed step did (they change under ctl only in the primary).
 */
static bool
tmp_uses_tide_ops(const struct rte_mempool *mp)
{
	return mp != NULL &&
		strcmp(rte_mempool_get_ops(mp->ops_index)->name, TIDE_MEMPOOL_OPS_NAME) == 0;
}

static struct tpool *
tp_of(const struct rte_mempool *mp)
{
	if (!tide_mempool_is_tide(mp))
		return NULL;
	return mp->pool_data;
}

/* A mempool created empty has no pool data until its first populate: make it now, as
 * the mempool library would (our alloc op, then the "created" flag). NULL with rte_errno
 * EINVAL (not a tide mempool) or ENOMEM (no memory for the pool data).
 */
static struct tpool *
tp_of_created(struct rte_mempool *mp)
{
	struct tpool *tp;
	int ret;

	if (tmp_uses_tide_ops(mp) && (mp->flags & RTE_MEMPOOL_F_POOL_CREATED) == 0) {
		ret = tide_alloc(mp);
		if (ret != 0) {
			rte_errno = -ret;
			return NULL;
		}
		mp->flags |= RTE_MEMPOOL_F_POOL_CREATED;
	}
	tp = tp_of(mp);
	if (tp == NULL)
		rte_errno = EINVAL;
	return tp;
}

bool
tide_mempool_is_tide(const struct rte_mempool *mp)
{
	return tmp_uses_tide_ops(mp) && (mp->flags & RTE_MEMPOOL_F_POOL_CREATED) != 0 &&
		mp->pool_data != NULL &&
		((const struct tpool *)mp->pool_data)->magic == TP_MAGIC;
}

unsigned int
tide_mempool_block_capacity(const struct rte_mempool *mp, size_t len)
{
	if (!tmp_uses_tide_ops(mp))
		return 0;
	return blk_capacity(mp, len);
}

/* Block @p b's last object header in the mempool's object list, or NULL if not known. */
static struct rte_mempool_objhdr *
blk_last_hdr(const struct tblk *b)
{
	return b->last_off != 0 ? (struct rte_mempool_objhdr *)(b->lo + b->last_off) : NULL;
}

/*
 * Take block @p b's objects out of the mempool's object list in as many steps as it has
 * objects: they are one run, ending at its last header, right after the run of the block
 * added last before it that is still there, or first in the list. A pool has a few
 * hundred thousand objects; walking them all for each block the reaper releases took
 * milliseconds of cache misses a block, with the pool's ctl and grow locks held. False,
 * and nothing changed, where that order cannot be relied on (a run not known, or not
 * where it should be): the caller walks the list. Caller holds ctl; @p b is out of age[].
 */
static bool
tmp_unlist_run(struct rte_mempool *mp, const struct tpool *tp, const struct tblk *b)
{
	struct rte_mempool_objhdr *prev = NULL, *last = blk_last_hdr(b), *oh, *after;
	const struct tblk *before = NULL;
	uint32_t n = 0;

	if (last == NULL)
		return false;
	for (uint32_t i = 0; i < tp->nb_live; i++) {
		const struct tblk *c = tp->age[i];

		if (c->id < b->id && (before == NULL || c->id > before->id))
			before = c;
	}
	if (before != NULL) {
		prev = blk_last_hdr(before);
		if (prev == NULL)
			return false;
	}
	for (oh = prev != NULL ? STAILQ_NEXT(prev, next) : STAILQ_FIRST(&mp->elt_list);
			oh != last; oh = STAILQ_NEXT(oh, next)) {
		if (oh == NULL || !blk_has_obj(b, (uintptr_t)oh))
			return false;
		n++;
	}
	after = STAILQ_NEXT(oh, next);
	if (++n != b->nb_objs || !blk_has_obj(b, (uintptr_t)oh) ||
			(after != NULL && blk_has(b, (uintptr_t)after)))
		return false;
	if (prev != NULL)
		prev->next.stqe_next = after;
	else
		mp->elt_list.stqh_first = after;
	if (after == NULL)
		mp->elt_list.stqh_last = prev != NULL ? &prev->next.stqe_next :
			&mp->elt_list.stqh_first;
	mp->populated_size -= n;
	return true;
}

/* Take the objects of [lo, hi) out of the mempool's object list, walking all of it.
 * Caller holds ctl.
 */
static void
tmp_unlist_objs(struct rte_mempool *mp, uintptr_t lo, uintptr_t hi)
{
	struct rte_mempool_objhdr_list keep_objs;
	struct rte_mempool_objhdr *oh;

	STAILQ_INIT(&keep_objs);
	while ((oh = STAILQ_FIRST(&mp->elt_list)) != NULL) {
		STAILQ_REMOVE_HEAD(&mp->elt_list, next);
		if ((uintptr_t)oh - lo < hi - lo)
			mp->populated_size--;
		else
			STAILQ_INSERT_TAIL(&keep_objs, oh, next);
	}
	STAILQ_CONCAT(&mp->elt_list, &keep_objs);
}

/* Take the memory chunks of [lo, hi) out of the mempool's list and return their headers,
 * in order, through *chunks. Caller holds ctl.
 */
static void
tmp_unlist_chunks(struct rte_mempool *mp, uintptr_t lo, uintptr_t hi,
	struct rte_mempool_memhdr_list *chunks)
{
	struct rte_mempool_memhdr_list keep_mem;
	struct rte_mempool_memhdr *mh;

	STAILQ_INIT(&keep_mem);
	while ((mh = STAILQ_FIRST(&mp->mem_list)) != NULL) {
		STAILQ_REMOVE_HEAD(&mp->mem_list, next);
		if ((uintptr_t)mh->addr - lo < hi - lo) {
			mp->nb_mem_chunks--;
			STAILQ_INSERT_TAIL(chunks, mh, next);
		} else {
			STAILQ_INSERT_TAIL(&keep_mem, mh, next);
		}
	}
	STAILQ_CONCAT(&mp->mem_list, &keep_mem);
}

struct tmp_mz_find {
	const void *opaque;
	const struct rte_memzone *mz;
};

static void
tmp_mz_find_cb(const struct rte_memzone *mz, void *arg)
{
	struct tmp_mz_find *f = arg;

	if ((const void *)mz == f->opaque)
		f->mz = mz;
}

/*
 * Chunks of a block being removed (@p chunks) whose free callback frees a whole memzone
 * (its opaque is the memzone, as DPDK's populate gives the first chunk of each): DPDK
 * splits a memzone in one chunk per run of physically contiguous pages, and each chunk
 * may be a block of its own. The callback moves to a chunk of the same memzone the
 * mempool keeps, so that the memzone goes with the last of them, not under the others'
 * objects; where every kept chunk of it has a callback of its own, it is dropped (the
 * memzone then stays until the process ends), with a WARNING.
 */
static void
tmp_chunks_keep_zones(struct rte_mempool *mp, struct rte_mempool_memhdr_list *chunks)
{
	struct rte_mempool_memhdr *mh, *keep, *other;

	STAILQ_FOREACH(mh, chunks, next) {
		struct tmp_mz_find f = { .opaque = mh->opaque };

		if (mh->free_cb == NULL || mh->opaque == NULL)
			continue;
		rte_memzone_walk(tmp_mz_find_cb, &f);
		if (f.mz == NULL)
			continue;
		keep = NULL;
		STAILQ_FOREACH(other, &mp->mem_list, next)
			if ((uintptr_t)other->addr - (uintptr_t)f.mz->addr < f.mz->len &&
					(keep == NULL || other->free_cb == NULL))
				keep = other;
		if (keep == NULL)
			continue; /* the memzone's last chunk: it goes */
		if (keep->free_cb != NULL) {
			TMP_LOG(WARNING, "%s: memzone %s is shared by blocks whose chunks each have "
				"a free callback: kept until the process ends", mp->name,
				f.mz->name);
		} else {
			keep->free_cb = mh->free_cb;
			keep->opaque = mh->opaque;
		}
		mh->free_cb = NULL;
		mh->opaque = NULL;
	}
}

/* Free chunk headers; call their free callbacks only if asked. */
static void
tmp_release_chunks(struct rte_mempool_memhdr_list *chunks, bool call_free_cb)
{
	struct rte_mempool_memhdr *mh;

	while ((mh = STAILQ_FIRST(chunks)) != NULL) {
		STAILQ_REMOVE_HEAD(chunks, next);
		if (call_free_cb && mh->free_cb != NULL)
			mh->free_cb(mh, mh->opaque);
		rte_free(mh);
	}
}

/* Populate every IOVA-contiguous run of [va, va + len) into the block being added. */
static int
tmp_populate_runs(struct rte_mempool *mp, char *va, size_t len)
{
	bool no_iova = (mp->flags & RTE_MEMPOOL_F_NO_IOVA_CONTIG) != 0;
	bool va_mode = rte_eal_iova_mode() == RTE_IOVA_VA;
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(va);
	size_t pg = msl != NULL ? msl->page_sz : (size_t)sysconf(_SC_PAGESIZE);
	size_t off = 0;

	/* As populate_virt does: a pool full before the last run is not an error. */
	while (off < len && mp->populated_size < mp->size) {
		rte_iova_t iova = no_iova ? RTE_BAD_IOVA : rte_mem_virt2iova(va + off);
		size_t run = RTE_MIN((size_t)(RTE_PTR_ALIGN_CEIL(va + off + 1, pg) - (va + off)),
			len - off);
		int ret;

		if (no_iova || va_mode)
			run = len - off;
		while (off + run < len &&
				rte_mem_virt2iova(va + off + run) == iova + run)
			run = RTE_MIN(run + pg, len - off);
		if (TIDE_FAULT(TIDE_FAULT_POPULATE))
			return -ENOMEM;
		ret = rte_mempool_populate_iova(mp, va + off, iova, run, NULL, NULL);
		if (ret < 0)
			return ret;
		off += run;
	}
	return 0;
}

/*
 * Whether [addr, addr + len) is memory DPDK knows, within one of its memseg lists (its heap,
 * or external memory registered with it): the objects' IO addresses come from there, and
 * a range that wraps around the address space, or runs past the list, is none.
 */
static bool
tmp_dpdk_memory(const void *addr, size_t len)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(addr);
	uintptr_t va = (uintptr_t)addr, end = va + len;

	if (msl == NULL || end <= va || end > (uintptr_t)msl->base_va + msl->len)
		return false;
	/* Every page allocated: a list of DPDK's heap spans pages it has not (a write there
	 * faults).
	 */
	while (va < end) {
		const struct rte_memseg *ms = rte_mem_virt2memseg((const void *)va, msl);
		uintptr_t next = ms != NULL ? (uintptr_t)ms->addr + ms->len : 0;

		if (ms == NULL || ms->len == 0 || next <= va)
			return false;
		va = next;
	}
	return true;
}

/* Whether a block of @p tp overlaps [lo, hi). Caller holds tp's lock. */
static bool
tp_overlaps(const struct tpool *tp, uintptr_t lo, uintptr_t hi)
{
	uint32_t i;

	if (tp_search(tp, lo) != NULL)
		return true;
	i = tp_addr_slot(tp, lo);
	return i < tp->nb_blk && tp->addr[i]->lo < hi;
}

struct tmp_overlap {
	const struct rte_mempool *self;
	uintptr_t lo, hi;
	const struct rte_mempool *hit;
};

static bool
tmp_overlap_visit(struct rte_mempool *mp, void *arg)
{
	struct tmp_overlap *o = arg;
	struct tpool *tp = mp != o->self ? tp_of(mp) : NULL;

	if (tp == NULL)
		return false;
	tp_lock(tp);
	if (tp_overlaps(tp, o->lo, o->hi))
		o->hit = mp;
	tp_unlock(tp);
	return o->hit != NULL;
}

/* The tide mempool other than @p mp that has a block in [addr, addr + len), or NULL. */
static const struct rte_mempool *
tmp_other_owner(const struct rte_mempool *mp, const void *addr, size_t len)
{
	struct tmp_overlap o = { .self = mp, .lo = (uintptr_t)addr,
		.hi = (uintptr_t)addr + len };

	tide_mempool_walk_held(tmp_overlap_visit, &o);
	return o.hit;
}

static int
tmp_add_check(struct rte_mempool *mp, void *addr, size_t len)
{
	struct tpool *tp = tp_of(mp);
	bool hit;

	if (tp == NULL || addr == NULL || len == 0 || !rte_is_aligned(addr, RTE_CACHE_LINE_SIZE) ||
			!tmp_dpdk_memory(addr, len))
		return -EINVAL;
	tp_lock(tp);
	hit = tp_overlaps(tp, (uintptr_t)addr, (uintptr_t)addr + len);
	tp_unlock(tp);
	if (hit)
		return -EINVAL;
	if (mp->populated_size >= mp->size)
		return -ENOSPC;
	if (blk_capacity(mp, len) == 0)
		return -ENOBUFS;
	return 0;
}

/* Blocks come and go in the primary process only: its block events, its memzones. */
static int
tmp_primary_only(const struct rte_mempool *mp)
{
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		return 0;
	return TMP_REFUSE(ERR, ENOTSUP, "%s: blocks are added and removed by the primary "
		"process only", mp != NULL ? mp->name : "NULL");
}

/* Not from a block event callback: it runs holding the locks these calls take. */
static int
tmp_not_in_event(const char *what)
{
	if (!tmp_ev_running())
		return 0;
	return TMP_REFUSE(ERR, EDEADLK, "%s from a block event callback", what);
}

/*
 * Whether a pool library owns the blocks of @p mp (tide_mempool_pvt_owned_set()) and the
 * caller is not that library: the application's calls to add, remove or move them are then
 * refused with -EPERM, as changes behind the library's back would leave its counts and its
 * reaper's order out of step with the driver's. The library calls the same functions
 * through the tide_mempool_pvt_block_*() forms, which mark the calling thread for the call.
 */
static __thread bool tmp_by_library;

static bool
tmp_owned(const struct rte_mempool *mp)
{
	const struct tpool *tp = tp_of(mp);

	return !tmp_by_library && tp != NULL && __atomic_load_n(&tp->owned, __ATOMIC_ACQUIRE);
}

#define TMP_OWNED_REFUSE(mp) TMP_REFUSE(ERR, EPERM, "%s is an elastic pool: the pool " \
	"library alone adds, removes and orders its blocks", (mp)->name)

int
tide_mempool_pvt_owned_set(struct rte_mempool *mp, bool owned)
{
	struct tpool *tp = tp_of_created(mp);

	if (tp == NULL)
		return TMP_REFUSE(ERR, rte_errno, "%s: not a tide mempool, or no memory for its "
			"pool data", mp != NULL ? mp->name : "NULL");
	__atomic_store_n(&tp->owned, owned, __ATOMIC_RELEASE);
	return 0;
}

/* The library's call of @p call (the thread marked for it, and as it was after). */
#define TMP_BY_LIBRARY(call) __extension__ ({ \
	bool was_ = tmp_by_library; \
	__typeof__(call) ret_; \
	tmp_by_library = true; \
	ret_ = (call); \
	tmp_by_library = was_; \
	ret_; \
})

int64_t
tide_mempool_pvt_block_add(struct rte_mempool *mp, void *addr, size_t len,
	rte_mempool_obj_cb_t *init, void *init_arg,
	rte_mempool_memchunk_free_cb_t *free_cb, void *opaque)
{
	return TMP_BY_LIBRARY(tide_mempool_block_add(mp, addr, len, init, init_arg, free_cb,
		opaque));
}

int
tide_mempool_pvt_block_remove(struct rte_mempool *mp, uint64_t id, uint32_t flags)
{
	return TMP_BY_LIBRARY(tide_mempool_block_remove(mp, id, flags));
}

int
tide_mempool_pvt_block_move(struct rte_mempool *mp, uint64_t id, unsigned int pos)
{
	return TMP_BY_LIBRARY(tide_mempool_block_move(mp, id, pos));
}

int
tide_mempool_pvt_grow_cb_set(struct rte_mempool *mp, tide_mempool_grow_cb_t *cb, void *arg)
{
	return TMP_BY_LIBRARY(tide_mempool_grow_cb_set(mp, cb, arg));
}

int64_t
tide_mempool_block_add(struct rte_mempool *mp, void *addr, size_t len,
	rte_mempool_obj_cb_t *init, void *init_arg,
	rte_mempool_memchunk_free_cb_t *free_cb, void *opaque)
{
	struct tide_mempool_block_desc d;
	struct rte_mempool_memhdr_list chunks;
	const struct rte_mempool *other;
	struct rte_mempool_memhdr *mh;
	struct tpool *tp;
	struct tblk *b;
	uint32_t i;
	int ret;

	if (tmp_primary_only(mp) < 0)
		return -ENOTSUP;
	if (tmp_not_in_event("a block added") < 0)
		return -EDEADLK;
	if (tmp_owned(mp))
		return TMP_OWNED_REFUSE(mp);
	tp = tp_forget_gone(mp, tp_of_created(mp));
	if (tp == NULL) {
		ret = rte_errno;
		TMP_LOG(ERR, "%s", ret == ENOMEM ? "no memory for the pool data" :
			"not a tide mempool");
		return tmp_error(ret);
	}
	/* Before this pool's lock: a walk over the mempools holds their list, and a walk
	 * over a pool's objects (tide_mempool_obj_iter()) takes this lock inside one.
	 */
	other = addr != NULL && len > 0 ? tmp_other_owner(mp, addr, len) : NULL;
	if (other != NULL)
		return TMP_REFUSE(ERR, EINVAL, "%s: cannot add %zu bytes at %p: a block of %s "
			"holds them", mp->name, len, addr, other->name);
	tp_ctl_lock(tp);
	ret = tmp_add_check(mp, addr, len);
	if (ret == 0)
		ret = tp_reserve_slot(tp, mp->socket_id);
	if (ret < 0) {
		pthread_mutex_unlock(&tp->ctl);
		TMP_LOG(ERR, "%s: cannot add %zu bytes at %p: %s", mp->name, len, addr,
			strerror(-ret));
		return tmp_error(-ret);
	}

	b = blk_init(addr, len, blk_capacity(mp, len));
	tp_lock(tp);
	tp_link(tp, b, false);
	tp_unlock(tp);
	tp->adding = b;
	ret = tmp_populate_runs(mp, (char *)b->objs_lo, b->hi - b->objs_lo);
	tp->adding = NULL;
	if (ret == 0 && b->nb_objs == 0)
		ret = -ENOBUFS;
	if (ret < 0)
		goto fail_populate;

	/* Hidden still: nobody else can reach these objects. */
	for (i = 0; init != NULL && i < b->nb_free; i++)
		init(mp, init_arg, b->free[blk_slot(b, b->head, i)], i);

	/* The first chunk header of the block owns the memory from now on. */
	STAILQ_FOREACH(mh, &mp->mem_list, next)
		if (blk_has(b, (uintptr_t)mh->addr)) {
			mh->free_cb = free_cb;
			mh->opaque = opaque;
			break;
		}
	/* The callbacks hear of it (a device may map it) before any dequeue can take from it. */
	blk_desc(mp, b, &d);
	tmp_ev_begin();
	tmp_ev_add(mp, &d);
	tp_said_set(tp, b, &d);
	tp_lock(tp);
	tp_publish(tp, b);
	tp_unlock(tp);
	tmp_ev_end();
	pthread_mutex_unlock(&tp->ctl);
	return (int64_t)b->id;

fail_populate:
	STAILQ_INIT(&chunks);
	tp_lock(tp);
	tp_unlink(tp, b);
	tp_unlock(tp);
	tmp_unlist_objs(mp, b->lo, b->hi);
	tmp_unlist_chunks(mp, b->lo, b->hi, &chunks);
	tmp_release_chunks(&chunks, false);
	pthread_mutex_unlock(&tp->ctl);
	TMP_LOG(ERR, "%s: cannot populate %zu bytes at %p: %s", mp->name, len, addr,
		strerror(-ret));
	return tmp_error(-ret);
}

static struct tblk *
tp_live_by_id(const struct tpool *tp, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < tp->nb_live; i++)
		if (tp->age[i]->id == id)
			return tp->age[i];
	return NULL;
}

/*
 * Ask the block event callbacks to let hidden block @b go; when one refuses, put it back
 * where it was in the age order. Caller holds ctl and is between tmp_ev_begin/end.
 */
static int
tmp_remove_asked(struct rte_mempool *mp, struct tpool *tp, struct tblk *b, uint32_t pos)
{
	struct tide_mempool_block_desc d;
	int ret;

	if (!b->announced)
		return 0;
	blk_desc(mp, b, &d);
	ret = tmp_ev_remove(mp, &d);
	if (ret < 0) {
		tp_lock(tp);
		tp_unhide(tp, b, pos);
		tp_unlock(tp);
	}
	return ret;
}

int
tide_mempool_block_remove(struct rte_mempool *mp, uint64_t id, uint32_t flags)
{
	struct rte_mempool_memhdr_list chunks;
	struct tpool *tp;
	struct tblk *b;
	uintptr_t lo, hi;
	uint32_t pos = 0;
	int ret = 0;

	if (tmp_primary_only(mp) < 0)
		return -ENOTSUP;
	if (tmp_not_in_event("a block removed or moved") < 0)
		return -EDEADLK;
	tp = tp_forget_gone(mp, tp_of(mp));
	if (tp == NULL)
		return TMP_REFUSE(ERR, EINVAL, "%s is not a tide mempool",
			mp != NULL ? mp->name : "NULL");
	if ((flags & ~TIDE_MEMPOOL_RM_UNTOUCHED) != 0)
		return TMP_REFUSE(ERR, EINVAL, "%s: unknown flags %#x", mp->name, flags);
	if (tmp_owned(mp))
		return TMP_OWNED_REFUSE(mp);
	tp_ctl_lock(tp);
	tmp_ev_begin();
	tp_lock(tp);
	tp_sync(tp);
	b = tp_live_by_id(tp, id);
	if (b == NULL) {
		ret = -ENOENT;
	} else if (b->nb_free != b->nb_objs ||
			((flags & TIDE_MEMPOOL_RM_UNTOUCHED) && b->low != b->nb_objs)) {
		ret = -EBUSY;
	} else {
		/* Out of dequeue's reach while the callbacks decide. */
		pos = b->pos;
		tp_hide(tp, b);
	}
	tp_unlock(tp);
	if (ret == 0)
		ret = tmp_remove_asked(mp, tp, b, pos);
	if (ret == 0) {
		tp_lock(tp);
		tp_unlink(tp, b);
		tp_unlock(tp);
	}
	tmp_ev_end();
	if (ret < 0) {
		pthread_mutex_unlock(&tp->ctl);
		TMP_LOG(DEBUG, "%s: block %" PRIu64 " not removed: %s", mp->name, id,
			strerror(-ret));
		return tmp_error(-ret);
	}
	/* Unreachable now: no dequeue can find it, none of its objects is out. */
	lo = b->lo;
	hi = b->hi;
	STAILQ_INIT(&chunks);
	if (!tmp_unlist_run(mp, tp, b)) {
		tmp_unlist_objs(mp, lo, hi);
		__atomic_fetch_add(&tp->nb_list_walks, 1, __ATOMIC_RELAXED);
	}
	tmp_unlist_chunks(mp, lo, hi, &chunks);
	tmp_chunks_keep_zones(mp, &chunks);
	tmp_release_chunks(&chunks, true);
	pthread_mutex_unlock(&tp->ctl);
	return 0;
}

int
tide_mempool_block_move(struct rte_mempool *mp, uint64_t id, unsigned int pos)
{
	struct tpool *tp;
	struct tblk *b;
	uint32_t i;
	int ret = 0;

	if (tmp_primary_only(mp) < 0)
		return -ENOTSUP;
	if (tmp_not_in_event("a block removed or moved") < 0)
		return -EDEADLK;
	tp = tp_forget_gone(mp, tp_of(mp));
	if (tp == NULL)
		return TMP_REFUSE(ERR, EINVAL, "%s is not a tide mempool",
			mp != NULL ? mp->name : "NULL");
	if (tmp_owned(mp))
		return TMP_OWNED_REFUSE(mp);
	tp_lock(tp);
	tp_sync(tp);
	b = tp_live_by_id(tp, id);
	if (b == NULL) {
		ret = -ENOENT;
	} else if (pos >= tp->nb_live) {
		ret = -EINVAL;
	} else {
		for (i = b->pos; i > pos; i--)
			tp->age[i] = tp->age[i - 1];
		for (i = b->pos; i < pos; i++)
			tp->age[i] = tp->age[i + 1];
		tp->age[pos] = b;
		for (i = 0; i < tp->nb_live; i++)
			tp->age[i]->pos = i;
		/* Dequeue looks again from the oldest for free objects. */
		tp->first = 0;
		tp_load(tp);
	}
	tp_unlock(tp);
	if (ret == -ENOENT)
		return TMP_REFUSE(DEBUG, ENOENT, "%s: no block %" PRIu64, mp->name, id);
	if (ret < 0)
		return TMP_REFUSE(ERR, EINVAL, "%s: position %u out of range", mp->name, pos);
	return 0;
}

unsigned int
tide_mempool_block_count(const struct rte_mempool *mp)
{
	const struct tpool *tp = tp_of(mp);

	return tp == NULL ? 0 : __atomic_load_n(&tp->nb_live, __ATOMIC_RELAXED);
}

static int
tmp_block_read(const struct rte_mempool *mp, unsigned int idx,
	struct tide_mempool_block_info *info, bool reset)
{
	struct tpool *tp = tp_forget_gone((struct rte_mempool *)(uintptr_t)mp, tp_of(mp));
	struct tblk *b;
	int ret = 0;

	if (tp == NULL || info == NULL)
		return TMP_REFUSE(ERR, EINVAL, "%s is not a tide mempool, or info is NULL",
			mp != NULL ? mp->name : "NULL");
	tp_lock(tp);
	tp_sync(tp);
	if (idx >= tp->nb_live) {
		ret = -ENOENT;
	} else {
		b = tp->age[idx];
		info->id = b->id;
		info->addr = (void *)b->lo;
		info->len = b->hi - b->lo;
		info->nb_objs = b->nb_objs;
		info->nb_free = b->nb_free;
		info->nb_low = b->low;
		if (reset)
			b->low = b->nb_free;
	}
	tp_unlock(tp);
	/* Walks over the blocks end on this: a miss, not an error. */
	if (ret < 0)
		return TMP_REFUSE(DEBUG, -ret, "%s: no block at %u", mp->name, idx);
	return 0;
}

int
tide_mempool_block_info(const struct rte_mempool *mp, unsigned int idx,
	struct tide_mempool_block_info *info)
{
	return tmp_block_read(mp, idx, info, false);
}

int
tide_mempool_block_sample(struct rte_mempool *mp, unsigned int idx,
	struct tide_mempool_block_info *info)
{
	return tmp_block_read(mp, idx, info, true);
}

int
tide_mempool_stats_get(const struct rte_mempool *mp, struct tide_mempool_stats *st)
{
	struct tpool *tp = tp_forget_gone((struct rte_mempool *)(uintptr_t)mp, tp_of(mp));
	uint32_t i;

	if (tp == NULL || st == NULL)
		return TMP_REFUSE(ERR, EINVAL, "%s is not a tide mempool, or st is NULL",
			mp != NULL ? mp->name : "NULL");
	memset(st, 0, sizeof(*st));
	tp_lock(tp);
	for (i = 0; i < tp->nb_live; i++) {
		st->bytes += tp->age[i]->hi - tp->age[i]->lo;
		st->nb_objs += tp->age[i]->nb_objs;
	}
	st->nb_blocks = tp->nb_live;
	st->nb_free = tp_count_free(tp, 0, UINT64_MAX);
	st->nb_foreign = tp->nb_foreign;
	st->nb_double = tp->nb_double;
	tp_unlock(tp);
	st->nb_deq_refused = __atomic_load_n(&tp->nb_deq_refused, __ATOMIC_RELAXED);
	st->nb_lock_yields = __atomic_load_n(&tp->nb_lock_yields, __ATOMIC_RELAXED);
	st->nb_lock_recovered = __atomic_load_n(&tp->nb_lock_recovered, __ATOMIC_RELAXED);
	st->nb_list_walks = __atomic_load_n(&tp->nb_list_walks, __ATOMIC_RELAXED);
	return 0;
}

int
tide_mempool_obj_iter(struct rte_mempool *mp, rte_mempool_obj_cb_t *cb, void *arg)
{
	struct tpool *tp = tp_of(mp);
	int n;

	if (tp == NULL || cb == NULL)
		return TMP_REFUSE(ERR, EINVAL, "%s is not a tide mempool, or cb is NULL",
			mp != NULL ? mp->name : "NULL");
	if (tmp_not_in_event("a walk over the objects") < 0)
		return -EDEADLK;
	tp_ctl_lock(tp);
	n = (int)rte_mempool_obj_iter(mp, cb, arg);
	pthread_mutex_unlock(&tp->ctl);
	return n;
}

bool
tide_mempool_owns(const struct rte_mempool *mp, const void *obj)
{
	struct tpool *tp = tp_forget_gone((struct rte_mempool *)(uintptr_t)mp, tp_of(mp));
	const struct rte_mempool_objhdr *oh = RTE_PTR_SUB(obj, sizeof(*oh));
	struct tblk *b;
	bool owned = false;

	if (tp == NULL || obj == NULL ||
			(!(mp->flags & RTE_MEMPOOL_F_NO_CACHE_ALIGN) &&
			!rte_is_aligned(obj, RTE_MEMPOOL_ALIGN)))
		return false;
	tp_lock(tp);
	b = tp_search(tp, (uintptr_t)oh);
	/* Inside a block past its header, and its object header names this pool and this
	 * object's IO address (a pointer into an object cannot fake both).
	 */
	if (b != NULL && (uintptr_t)oh >= b->objs_lo &&
			(uintptr_t)obj + mp->elt_size <= b->hi)
		owned = oh->mp == mp && (oh->iova == RTE_BAD_IOVA ||
			oh->iova == rte_mem_virt2iova(obj));
	tp_unlock(tp);
	return owned;
}

int
tide_mempool_grow_cb_set(struct rte_mempool *mp, tide_mempool_grow_cb_t *cb, void *arg)
{
	struct tpool *tp;

	/* The callback is a function of this process, stored in memory every process reads;
	 * only the primary's dequeues call it.
	 */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return TMP_REFUSE(ERR, ENOTSUP, "%s: the grow callback is the primary "
			"process's", mp != NULL ? mp->name : "NULL");
	if (mp != NULL && tmp_owned(mp))
		return TMP_OWNED_REFUSE(mp);
	tp = tp_of_created(mp);
	if (tp == NULL)
		return TMP_REFUSE(ERR, rte_errno, "%s: not a tide mempool, or no memory for its "
			"pool data: %s", mp != NULL ? mp->name : "NULL", rte_strerror(rte_errno));
	tp_lock(tp);
	tp->grow_cb = cb;
	tp->grow_arg = arg;
	tp_unlock(tp);
	return 0;
}

void
tide_mempool_adopt_hook_set(const struct tide_mempool_adopt_hook *hook)
{
	__atomic_store_n(&tmp_adopter, hook, __ATOMIC_RELEASE);
}

bool
tide_mempool_in_use_started(const struct rte_mempool *mp)
{
	const struct tpool *tp = tp_of(mp);

	return tp != NULL && __atomic_load_n(&tp->started, __ATOMIC_ACQUIRE) != 0;
}

void
tide_mempool_remote_grow_set(tide_mempool_remote_grow_t *fn)
{
	__atomic_store_n(&tmp_remote_grow, fn, __ATOMIC_RELEASE);
}

/* Order of block ids, for qsort. */
static int
blk_desc_cmp(const void *a, const void *b)
{
	const struct tide_mempool_block_desc *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int
tmp_blocks_announced(struct rte_mempool *mp, struct tide_mempool_block_desc **out)
{
	struct tpool *tp = tp_of(mp);
	struct tide_mempool_block_desc *d;
	uint32_t n, nb;

	*out = NULL;
	if (tp == NULL)
		return 0;
	/* Blocks do not come or go meanwhile (the caller excludes it), but dequeues run. What
	 * was said of each, not its header: its memory may be gone (tp_gone()).
	 */
	tp_lock(tp);
	nb = tp->nb_blk;
	tp_unlock(tp);
	if (nb == 0)
		return 0;
	d = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL : malloc(nb * sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	tp_lock(tp);
	n = tp_said_copy(tp, d, nb);
	tp_unlock(tp);
	qsort(d, n, sizeof(*d), blk_desc_cmp);
	*out = d;
	return (int)n;
}
