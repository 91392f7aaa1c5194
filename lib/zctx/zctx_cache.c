/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The pin and translation cache, one per process (mlock state is the process's).
 *
 * The address space is cut into 2 MB aligned spans. A span is created the first time a
 * payload touches it: it is registered with DPDK as external memory (rte_extmem_register,
 * one memseg list), then its pages are pinned and translated as payloads need them, each
 * pinned run being DMA-mapped for every device of the instances' ports. Spans never
 * overlap, so a page is pinned by one span only and unpinned exactly once, when its span
 * is evicted. A span is referenced by every send in flight that uses it and by every
 * registration that covers it; unreferenced spans are idle and kept in LRU order while
 * the idle pinned bytes stay within the configured limit. All pinned bytes stay within
 * the pin limit (RLIMIT_MEMLOCK unless configured): idle spans are evicted to make room;
 * when sends in flight hold the rest, the agent waits for them (-EAGAIN); otherwise the
 * send fails with -ENOMEM. One mutex guards everything here.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal_memconfig.h>
#include <rte_fbarray.h>
#include <rte_memory.h>

#include "tide_config.h"
#include "tide_fault.h"
#include "zctx_private.h"

#define CACHE_HASH 256
/* Memseg lists left to DPDK and others when sizing max_spans. */
#define CACHE_MSL_SPARE 4

struct zc_span {
	uintptr_t base;
	struct zc_span *hnext;          /* hash chain */
	TAILQ_ENTRY(zc_span) lru;       /* in the idle list while idle */
	bool idle;
	uint32_t refs;                  /* sends in flight + registrations */
	uint32_t regs;                  /* registrations */
	size_t pinned;                  /* bytes pinned */
	struct rte_memseg_list *msl;    /* its external memseg list */
	struct zc_maps maps;            /* its pinned runs, DMA-mapped (zctx_dma.c) */
	uint64_t *bits;                 /* pinned pages */
	rte_iova_t *iova;               /* per page; valid where pinned */
};

/* A tide_zctx_mem_register() range, and the spans it holds a reference on (not its
 * DPDK memory: a span created later at such an address is not its to let go of).
 */
struct cache_reg {
	uintptr_t va;
	size_t len;
	struct cache_reg *next;
	unsigned int nb_spans;
	struct zc_span *spans[RTE_MAX_MEMSEG_LISTS];
};

static struct {
	pthread_mutex_t lock;
	unsigned int users;               /* instances + registrations */
	size_t page_sz;
	unsigned int page_shift;
	unsigned int npages;              /* pages per span */
	struct zc_span *hash[CACHE_HASH];
	TAILQ_HEAD(, zc_span) idle;       /* least recently used first */
	unsigned int nb_spans;
	size_t pinned;
	size_t idle_bytes;
	uint64_t busy_refs;               /* span references held by sends */
	struct cache_reg *regs;
	struct tide_zctx_cache_params cfg;
	size_t pin_limit;                 /* in force */
	unsigned int max_spans;           /* in force */
	struct tide_zctx_cache_stats st;  /* counters */
} cache = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = TAILQ_HEAD_INITIALIZER(cache.idle),
	.cfg = { .idle_bytes = TIDE_ZCTX_CACHE_IDLE_BYTES },
};

static unsigned int
cache_bucket(uintptr_t base)
{
	return (unsigned int)((base >> ZC_SPAN_SHIFT) * 0x9E3779B1u) % CACHE_HASH;
}

static struct zc_span *
cache_lookup(uintptr_t base)
{
	struct zc_span *sp;

	for (sp = cache.hash[cache_bucket(base)]; sp != NULL; sp = sp->hnext)
		if (sp->base == base)
			return sp;
	return NULL;
}

static int
cache_msl_count(const struct rte_memseg_list *msl __rte_unused, void *arg)
{
	(*(unsigned int *)arg)++;
	return 0;
}

static void
cache_limits(void)
{
	unsigned int used = 0, room;

	cache.pin_limit = cache.cfg.pin_limit != 0 ? cache.cfg.pin_limit :
		tide_zctx_pvt_memlock_rlimit();
	rte_memseg_list_walk(cache_msl_count, &used);
	used -= RTE_MIN(used, cache.nb_spans);
	room = RTE_MAX_MEMSEG_LISTS - RTE_MIN(used + CACHE_MSL_SPARE,
		(unsigned int)RTE_MAX_MEMSEG_LISTS);
	cache.max_spans = cache.cfg.max_spans != 0 ? cache.cfg.max_spans : TIDE_ZCTX_CACHE_SPANS;
	cache.max_spans = RTE_MIN(cache.max_spans, room);
}

/* ---- Spans. */

static bool
cache_bit(const struct zc_span *sp, unsigned int i)
{
	return (sp->bits[i / 64] >> (i % 64)) & 1;
}

static void
cache_unpin_runs(struct zc_span *sp)
{
	unsigned int i = 0, j;

	while (i < cache.npages) {
		if (!cache_bit(sp, i)) {
			i++;
			continue;
		}
		for (j = i; j < cache.npages && cache_bit(sp, j); j++)
			;
		tide_zctx_pvt_unpin(sp->base + ((size_t)i << cache.page_shift),
			(size_t)(j - i) << cache.page_shift);
		i = j;
	}
	cache.pinned -= sp->pinned;
	cache.st.unpinned_total += sp->pinned;
	memset(sp->bits, 0, (cache.npages + 63) / 64 * sizeof(uint64_t));
	sp->pinned = 0;
}

static void
cache_evict(struct zc_span *sp)
{
	struct zc_span **pp = &cache.hash[cache_bucket(sp->base)];

	tide_zctx_pvt_maps_clear(&sp->maps);
	if (sp->idle) {
		TAILQ_REMOVE(&cache.idle, sp, lru);
		cache.idle_bytes -= sp->pinned;
	}
	cache_unpin_runs(sp);
	/* The record goes only once the span is not registered: dropped first, a death in
	 * between would leave a list no one knows of; kept where DPDK refused (a child
	 * forked meanwhile holds the list's file), the writer after this process's end
	 * unregisters it.
	 */
	if (rte_extmem_unregister((void *)sp->base, ZC_SPAN_BYTES) == 0 || rte_errno == ENOENT)
		tide_zctx_pvt_dir_span_remove(sp->base);
	else
		ZC_LOG(WARNING, "rte_extmem_unregister(%#lx): %s (its record kept)",
			(unsigned long)sp->base, rte_strerror(rte_errno));
	while (*pp != sp)
		pp = &(*pp)->hnext;
	*pp = sp->hnext;
	cache.nb_spans--;
	cache.st.evictions++;
	free(sp);
}

/* Evict the least recently used idle span other than @p keep; false when there is none. */
static bool
cache_evict_lru(const struct zc_span *keep)
{
	struct zc_span *sp;

	TAILQ_FOREACH(sp, &cache.idle, lru)
		if (sp != keep) {
			cache_evict(sp);
			return true;
		}
	return false;
}

static void
cache_trim(void)
{
	while (cache.idle_bytes > cache.cfg.idle_bytes && cache_evict_lru(NULL))
		;
}

static int
cache_span_create(uintptr_t base, struct zc_span **out)
{
	size_t words = (cache.npages + 63) / 64;
	struct zc_span *sp;
	int ret;

	while (cache.nb_spans >= cache.max_spans)
		if (!cache_evict_lru(NULL))
			return -ENOSPC;
	sp = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL : calloc(1, sizeof(*sp) +
		words * sizeof(uint64_t) + cache.npages * sizeof(rte_iova_t));
	if (sp == NULL) {
		ZC_LOG(ERR, "no memory for the record of span %#lx", (unsigned long)base);
		return -ENOMEM;
	}
	sp->base = base;
	sp->bits = (uint64_t *)(sp + 1);
	sp->iova = (rte_iova_t *)(sp->bits + words);
	/* Recorded first: were this process to die now, a survivor unregisters it. */
	ret = tide_zctx_pvt_dir_span_add(base);
	if (ret != 0) {
		free(sp);
		return ret;
	}
	if (rte_extmem_register((void *)base, ZC_SPAN_BYTES, NULL, cache.npages,
			cache.page_sz) != 0) {
		ret = rte_errno == ENOSPC ? -ENOSPC : -EFAULT;
		ZC_LOG(ERR, "cannot register span %#lx with DPDK: %s", (unsigned long)base,
			rte_strerror(rte_errno));
		tide_zctx_pvt_dir_span_remove(base);
		free(sp);
		return ret;
	}
	sp->msl = rte_mem_virt2memseg_list((void *)base);
	sp->hnext = cache.hash[cache_bucket(base)];
	cache.hash[cache_bucket(base)] = sp;
	cache.nb_spans++;
	*out = sp;
	return 0;
}

static void
cache_ref(struct zc_span *sp, bool reg)
{
	if (sp->idle) {
		TAILQ_REMOVE(&cache.idle, sp, lru);
		cache.idle_bytes -= sp->pinned;
		sp->idle = false;
	}
	sp->refs++;
	if (reg)
		sp->regs++;
	else
		cache.busy_refs++;
}

static void
cache_unref(struct zc_span *sp, bool reg)
{
	sp->refs--;
	if (reg)
		sp->regs--;
	else
		cache.busy_refs--;
	if (sp->refs != 0)
		return;
	if (sp->pinned == 0) { /* nothing kept: give its memseg list back now */
		cache_evict(sp);
		return;
	}
	TAILQ_INSERT_TAIL(&cache.idle, sp, lru);
	cache.idle_bytes += sp->pinned;
	sp->idle = true;
}

/* Make the memsegs of pages [i, j) show their IO addresses. */
static void
cache_memseg_iova(struct zc_span *sp, unsigned int i, unsigned int j)
{
	if (sp->msl == NULL)
		return;
	rte_mcfg_mem_write_lock();
	for (unsigned int k = i; k < j; k++) {
		struct rte_memseg *ms = rte_fbarray_get(&sp->msl->memseg_arr, k);

		if (ms != NULL)
			ms->iova = sp->iova[k];
	}
	rte_mcfg_mem_write_unlock();
}

/* DMA-map pages [i, j) (just pinned) in IOVA-contiguous runs. */
static int
cache_map_pages(struct zc_span *sp, unsigned int i, unsigned int j)
{
	while (i < j) {
		unsigned int k = i + 1;
		int ret;

		while (k < j && sp->iova[k] == sp->iova[k - 1] + cache.page_sz)
			k++;
		ret = tide_zctx_pvt_maps_add(&sp->maps, sp->base + ((size_t)i << cache.page_shift),
			sp->iova[i], (size_t)(k - i) << cache.page_shift);
		if (ret != 0)
			return ret;
		i = k;
	}
	return 0;
}

/* Pin, translate and map pages [i, j) of @p sp, none of them pinned yet. */
static int
cache_pin_run(struct zc_span *sp, unsigned int i, unsigned int j)
{
	uintptr_t va = sp->base + ((size_t)i << cache.page_shift);
	size_t len = (size_t)(j - i) << cache.page_shift;
	int ret;

	if (cache.pin_limit == 0) {
		/* Only RLIMIT_MEMLOCK gives 0 (pin_limit 0 means it): no pinning at all. */
		ZC_LOG(ERR, "cannot pin %zu bytes at %#lx: RLIMIT_MEMLOCK is 0 (the cache's "
			"limit unless pin_limit is configured)", len, (unsigned long)va);
		return -EPERM;
	}
	while (cache.pinned + len > cache.pin_limit)
		if (!cache_evict_lru(sp))
			return -ENOBUFS; /* over the limit: the caller decides what it means */
	ret = tide_zctx_pvt_pin(va, len);
	if (ret != 0)
		return ret;
	ret = tide_zctx_pvt_iova_pages(va, j - i, cache.page_sz, &sp->iova[i]);
	if (ret == 0) {
		unsigned int nb = sp->maps.nb;

		ret = cache_map_pages(sp, i, j);
		if (ret != 0)
			tide_zctx_pvt_maps_trim(&sp->maps, nb);
	}
	if (ret != 0) {
		/* Not marked pinned: the next send from these pages tries all of it again. */
		tide_zctx_pvt_unpin(va, len);
		return ret;
	}
	for (unsigned int k = i; k < j; k++)
		sp->bits[k / 64] |= 1ull << (k % 64);
	sp->pinned += len;
	cache.pinned += len;
	cache.st.pinned_total += len;
	cache_memseg_iova(sp, i, j);
	return 0;
}

/* Pin every page of [va, end) within @p sp that is not pinned yet. */
static int
cache_pin(struct zc_span *sp, uintptr_t va, uintptr_t end)
{
	unsigned int i = (unsigned int)((va - sp->base) >> cache.page_shift);
	unsigned int last = (unsigned int)((end - 1 - sp->base) >> cache.page_shift) + 1;

	while (i < last) {
		unsigned int j;
		int ret;

		if (cache_bit(sp, i)) {
			i++;
			continue;
		}
		for (j = i + 1; j < last && !cache_bit(sp, j); j++)
			;
		ret = cache_pin_run(sp, i, j);
		if (ret != 0)
			return ret;
		i = j;
	}
	return 0;
}

/* ---- Holding ranges: for sends (pieces) and for registrations. */

/*
 * Whether [va, end) in DPDK memory list @p msl is all there (every page a memseg: a heap's
 * list also has pages not allocated), and whether some of it has no IO address
 * (memory registered with rte_extmem_register() without them). 0 or -EFAULT.
 */
static int
cache_dpdk_check(const struct rte_memseg_list *msl, uintptr_t va, uintptr_t end, bool *no_iova)
{
	*no_iova = false;
	while (va < end) {
		const struct rte_memseg *ms = rte_mem_virt2memseg((const void *)va, msl);

		if (ms == NULL || ms->len == 0) {
			ZC_LOG(ERR, "%#lx is in DPDK's memory list but on no page of it (not "
				"allocated)", (unsigned long)va);
			return -EFAULT;
		}
		if (ms->iova == RTE_BAD_IOVA)
			*no_iova = true;
		va = (uintptr_t)ms->addr + ms->len;
	}
	return 0;
}

/*
 * Memseg lists are shared: a span's list at @p base that this process has no span for is
 * not DPDK memory to it, but a zctx span's of the process that recorded it, pinned and
 * mapped for that one's memory at these addresses (read from here, its memsegs say
 * nothing of this process's pages). A gone process's is unregistered, and *@p msl looked
 * up again (NULL: this process may make its own span there); another live process's, or
 * one this process could not unregister, refuses [va, end) with -EFAULT.
 */
static int
cache_span_stale(uintptr_t va, uintptr_t end, uintptr_t base,
	const struct rte_memseg_list **msl)
{
	enum zc_span_whose whose;

	if (*msl == NULL || !(*msl)->external || (uintptr_t)(*msl)->base_va != base ||
			(*msl)->len != ZC_SPAN_BYTES)
		return 0;
	whose = tide_zctx_pvt_dir_span_whose(base);
	if (whose == ZC_SPAN_GONE) {
		tide_zctx_pvt_dir_drop_dead_spans();
		*msl = rte_mem_virt2memseg_list((void *)va);
		if (*msl == NULL)
			return 0;
		whose = tide_zctx_pvt_dir_span_whose(base);
	}
	if (whose == ZC_SPAN_NONE)
		return 0;
	ZC_LOG(ERR, "%#lx..%#lx: %s: this process cannot send zero-copy from its own memory "
		"there", (unsigned long)va, (unsigned long)end,
		whose == ZC_SPAN_OTHER ? "another process sends zero-copy from these addresses "
		"(its own memory there)" : whose == ZC_SPAN_MINE ? "a span of this process that "
		"DPDK would not unregister is there (a child process holds it)" : "a span of a "
		"process that is gone is there, which DPDK would not unregister yet");
	return -EFAULT;
}

/*
 * Hold [va, va + len): one reference on every span it touches, its pages pinned. A send
 * notes every piece in @p pieces (DPDK memory not held); a registration @p r the spans it
 * took. On error nothing stays held.
 */
static int
cache_hold(uintptr_t va, size_t len, struct cache_reg *r, struct zc_piece *pieces,
	unsigned int *np)
{
	uintptr_t end = va + len;
	unsigned int np0 = np != NULL ? *np : 0;
	bool reg = r != NULL;
	int ret = 0;

	while (va < end) {
		uintptr_t base = RTE_ALIGN_FLOOR(va, ZC_SPAN_BYTES);
		uintptr_t pend = RTE_MIN(end, base + ZC_SPAN_BYTES);
		struct zc_span *sp = cache_lookup(base);
		struct zc_piece pc = { .va = va, .len = pend - va };

		if (pieces != NULL && *np == ZC_MAX_PIECES) {
			ZC_LOG(ERR, "the payload crosses too many spans and blocks (more than %d "
				"pieces)", ZC_MAX_PIECES);
			ret = -EFAULT;
			break;
		}
		if (sp == NULL) {
			const struct rte_memseg_list *msl = rte_mem_virt2memseg_list((void *)va);

			ret = cache_span_stale(va, pend, base, &msl);
			if (ret != 0)
				break;
			if (msl != NULL) {
				if ((uintptr_t)msl->base_va + msl->len < pend) {
					ZC_LOG(ERR, "%#lx..%#lx straddles DPDK memory",
						(unsigned long)va, (unsigned long)pend);
					ret = -EFAULT;
					break;
				}
				pc.msl = msl;
				ret = cache_dpdk_check(msl, va, pend, &pc.no_iova);
				if (ret != 0)
					break;
				if (pieces != NULL) { /* a send: hold the pool block it is in */
					size_t room;

					/* A piece within one block, or within none. */
					pc.blk = tide_zctx_pvt_block_hold(va, &room);
					if (room < pc.len) {
						pc.len = room;
						pend = va + room;
					}
				}
				cache.st.dpdk_mem++;
				goto next;
			}
			ret = cache_span_create(base, &sp);
			if (ret != 0)
				break;
			cache.st.misses++;
		} else {
			cache.st.hits++;
		}
		if (reg && r->nb_spans == RTE_DIM(r->spans)) {
			ret = -ENOSPC; /* cannot be: no more spans than memseg lists */
			break;
		}
		cache_ref(sp, reg);
		pc.span = sp;
		ret = cache_pin(sp, va, pend);
		if (ret != 0) {
			cache_unref(sp, reg);
			break;
		}
		if (reg)
			r->spans[r->nb_spans++] = sp;
next:
		if (pieces != NULL)
			pieces[(*np)++] = pc;
		va = pend;
	}
	if (ret != 0 && reg) {
		while (r->nb_spans > 0)
			cache_unref(r->spans[--r->nb_spans], true);
	} else if (ret != 0 && np != NULL) {
		for (unsigned int p = np0; p < *np; p++) {
			if (pieces[p].span != NULL)
				cache_unref(pieces[p].span, false);
			if (pieces[p].blk != NULL)
				tide_zctx_pvt_block_release(pieces[p].blk);
		}
		*np = np0;
	}
	return ret;
}

/* Let go of the spans and blocks of @p n pieces. */
static void
cache_piece_release(const struct zc_piece *pieces, unsigned int n)
{
	for (unsigned int p = 0; p < n; p++) {
		if (pieces[p].span != NULL)
			cache_unref(pieces[p].span, false);
		if (pieces[p].blk != NULL)
			tide_zctx_pvt_block_release(pieces[p].blk);
	}
}

/* What a limit hit means once this request let go of what it held. */
static int
cache_limit_error(int ret, size_t len)
{
	if (ret != -ENOBUFS && ret != -ENOSPC)
		return ret;
	if (cache.busy_refs > 0)
		return -EAGAIN; /* sends in flight will release pins: wait for them */
	if (ret == -ENOSPC && cache.nb_spans < cache.max_spans) {
		ZC_LOG(ERR, "no memseg list or span record left for %zu bytes: DPDK's "
			"RTE_MAX_MEMSEG_LISTS are shared by every process", len);
		return -ENOSPC;
	}
	if (ret == -ENOSPC) {
		ZC_LOG(ERR, "no span left for %zu bytes: %u spans of 2 MB are held by "
			"registrations (max_spans)", len, cache.nb_spans);
		return -ENOSPC;
	}
	ZC_LOG(ERR, "pinning %zu more bytes would exceed the memlock limit of %zu bytes "
		"(%zu pinned, by registrations; RLIMIT_MEMLOCK or the cache's pin_limit)", len,
		cache.pin_limit, cache.pinned);
	return -ENOMEM;
}

void
tide_zctx_pvt_cache_acquire_begin(void)
{
	pthread_mutex_lock(&cache.lock);
}

void
tide_zctx_pvt_cache_acquire_end(void)
{
	cache_trim();
	pthread_mutex_unlock(&cache.lock);
}

int
tide_zctx_pvt_cache_acquire(const struct iovec *iov, unsigned int nb_iov, struct zc_piece *pieces,
	unsigned int *nb_pieces)
{
	size_t total = 0;
	unsigned int i;
	int ret = 0;

	*nb_pieces = 0;
	for (i = 0; i < nb_iov && ret == 0; i++) {
		ret = cache_hold((uintptr_t)iov[i].iov_base, iov[i].iov_len, NULL, pieces,
			nb_pieces);
		total += iov[i].iov_len;
	}
	if (ret != 0) {
		cache_piece_release(pieces, *nb_pieces);
		*nb_pieces = 0;
		ret = cache_limit_error(ret, total);
	}
	return ret;
}

void
tide_zctx_pvt_cache_release(const struct zc_piece *const *pieces, unsigned int n)
{
	if (n == 0)
		return;
	pthread_mutex_lock(&cache.lock);
	for (unsigned int i = 0; i < n; i++)
		cache_piece_release(pieces[i], 1);
	cache_trim();
	pthread_mutex_unlock(&cache.lock);
}

rte_iova_t
tide_zctx_pvt_span_iova(const struct zc_span *sp, uintptr_t va, uintptr_t end, size_t *contig)
{
	unsigned int i = (unsigned int)((va - sp->base) >> cache.page_shift);
	size_t off = va & (cache.page_sz - 1), len = cache.page_sz - off;

	/* The caller holds pages up to end: their entries do not change. */
	while (va + len < end && sp->iova[i + 1] == sp->iova[i] + cache.page_sz) {
		i++;
		len += cache.page_sz;
	}
	*contig = RTE_MIN(len, end - va);
	return sp->iova[(va - sp->base) >> cache.page_shift] + off;
}

/* ---- Users and devices. */

int
tide_zctx_pvt_cache_get(void)
{
	int ret = 0;

	pthread_mutex_lock(&cache.lock);
	if (cache.users == 0) {
		long psz = sysconf(_SC_PAGESIZE);

		cache.page_sz = (size_t)psz;
		cache.page_shift = (unsigned int)__builtin_ctzl((unsigned long)psz);
		cache.npages = (unsigned int)(ZC_SPAN_BYTES / cache.page_sz);
		ret = tide_zctx_pvt_iova_open();
		if (ret == 0)
			cache_limits();
	}
	if (ret == 0)
		cache.users++;
	pthread_mutex_unlock(&cache.lock);
	if (ret == 0)
		tide_zctx_pvt_blocks_follow();
	return ret;
}

void
tide_zctx_pvt_cache_put(void)
{
	pthread_mutex_lock(&cache.lock);
	if (--cache.users == 0) {
		while (cache_evict_lru(NULL))
			;
		tide_zctx_pvt_iova_close();
	}
	pthread_mutex_unlock(&cache.lock);
	tide_zctx_pvt_blocks_unfollow();
}

/* Unmap every span for @p dev, or map them: 0, or -EIO with none mapped. */
static int
cache_dev_map_all(struct rte_device *dev, bool map)
{
	struct zc_span *sp;
	unsigned int b;

	for (b = 0; b < CACHE_HASH; b++)
		for (sp = cache.hash[b]; sp != NULL; sp = sp->hnext)
			if (tide_zctx_pvt_maps_dma(&sp->maps, dev, map) != 0)
				goto undo;
	return 0;
undo:
	/* The spans before the one that failed, in the same order. */
	for (unsigned int u = 0; u <= b; u++)
		for (struct zc_span *up = cache.hash[u]; up != NULL && up != sp; up = up->hnext)
			tide_zctx_pvt_maps_dma(&up->maps, dev, false);
	return -EIO;
}

int
tide_zctx_pvt_cache_dev_add(struct rte_device *dev)
{
	bool first;
	int ret;

	pthread_mutex_lock(&cache.lock);
	ret = tide_zctx_pvt_dma_dev_ref(dev, &first);
	if (ret == -ENOSPC)
		ZC_LOG(ERR, "%s: no room for another device to DMA-map pinned spans for",
			rte_dev_name(dev));
	if (ret == 0 && first && cache_dev_map_all(dev, true) != 0) {
		ZC_LOG(ERR, "cannot DMA-map the pinned spans for %s", rte_dev_name(dev));
		tide_zctx_pvt_dma_dev_unref(dev);
		ret = -EIO;
	}
	pthread_mutex_unlock(&cache.lock);
	return ret;
}

void
tide_zctx_pvt_cache_dev_del(struct rte_device *dev)
{
	pthread_mutex_lock(&cache.lock);
	if (tide_zctx_pvt_dma_dev_unref(dev))
		cache_dev_map_all(dev, false);
	pthread_mutex_unlock(&cache.lock);
}

void
tide_zctx_pvt_cache_lock(void)
{
	pthread_mutex_lock(&cache.lock);
}

void
tide_zctx_pvt_cache_unlock(void)
{
	pthread_mutex_unlock(&cache.lock);
}

/* ---- Public calls. */

int
tide_zctx_cache_configure(const struct tide_zctx_cache_params *p)
{
	if (p == NULL || p->max_spans > RTE_MAX_MEMSEG_LISTS) {
		ZC_LOG(ERR, "NULL parameters or max_spans above %d", RTE_MAX_MEMSEG_LISTS);
		return zc_error(EINVAL);
	}
	pthread_mutex_lock(&cache.lock);
	cache.cfg = *p;
	if (cache.users != 0) {
		cache_limits();
		cache_trim();
		while (cache.pinned > cache.pin_limit && cache_evict_lru(NULL))
			;
		while (cache.nb_spans > cache.max_spans && cache_evict_lru(NULL))
			;
	}
	pthread_mutex_unlock(&cache.lock);
	return 0;
}

int
tide_zctx_mem_register(const void *addr, size_t len)
{
	uintptr_t va = (uintptr_t)addr;
	struct cache_reg *r;
	int ret;

	if (addr == NULL || len == 0 || va + len < va) {
		ZC_LOG(ERR, "NULL address, zero length or a range that wraps");
		return zc_error(EINVAL);
	}
	r = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL : malloc(sizeof(*r));
	if (r == NULL)
		return ZC_REFUSE(ERR, ENOMEM, "no memory to record a registration of %zu bytes",
			len);
	ret = tide_zctx_pvt_cache_get();
	if (ret != 0) {
		free(r);
		return zc_error(-ret);
	}
	pthread_mutex_lock(&cache.lock);
	*r = (struct cache_reg){ .va = va, .len = len };
	ret = cache_hold(va, len, r, NULL, NULL);
	if (ret == 0) {
		r->next = cache.regs;
		cache.regs = r;
	} else if (ret == -ENOBUFS || ret == -ENOSPC) {
		ret = ret == -ENOBUFS ? -ENOMEM : -ENOSPC;
		ZC_LOG(ERR, "cannot register %zu bytes: %s (pin_limit %zu, %zu pinned, "
			"%u spans of %u)", len, ret == -ENOMEM ? "over the memlock limit" :
			"no span left", cache.pin_limit, cache.pinned, cache.nb_spans,
			cache.max_spans);
	}
	cache_trim();
	pthread_mutex_unlock(&cache.lock);
	if (ret != 0) {
		free(r);
		tide_zctx_pvt_cache_put();
		return zc_error(-ret);
	}
	return 0;
}

int
tide_zctx_mem_unregister(const void *addr, size_t len)
{
	struct cache_reg **pp, *r = NULL;

	pthread_mutex_lock(&cache.lock);
	for (pp = &cache.regs; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->va == (uintptr_t)addr && (*pp)->len == len) {
			r = *pp;
			*pp = r->next;
			break;
		}
	if (r != NULL) {
		while (r->nb_spans > 0)
			cache_unref(r->spans[--r->nb_spans], true);
		cache_trim();
	}
	pthread_mutex_unlock(&cache.lock);
	if (r == NULL) {
		ZC_LOG(ERR, "%p+%zu is not registered", addr, len);
		return zc_error(ENOENT);
	}
	free(r);
	tide_zctx_pvt_cache_put();
	return 0;
}

/* What cache_each_in() does to a span; false stops the walk. */
typedef bool (*cache_span_fn)(struct zc_span *sp, void *arg);

/*
 * @p fn on each span that overlaps [va, end) (a non-empty range that does not wrap), with
 * the lock held. A short range is looked up span by span; a longer one than the hash has
 * buckets is matched against the spans themselves (a range of terabytes is 2^20 spans or
 * more, which would hold the lock for seconds to hours). @p fn may evict the span.
 */
static void
cache_each_in(uintptr_t va, uintptr_t end, cache_span_fn fn, void *arg)
{
	uintptr_t first = RTE_ALIGN_FLOOR(va, ZC_SPAN_BYTES);

	if (cache.users == 0)
		return;
	if ((end - first - 1) / ZC_SPAN_BYTES < CACHE_HASH) {
		for (uintptr_t b = first; b < end; b += ZC_SPAN_BYTES) {
			struct zc_span *sp = cache_lookup(b);

			if (sp != NULL && !fn(sp, arg))
				return;
			if (b + ZC_SPAN_BYTES < b)
				return;
		}
		return;
	}
	for (unsigned int h = 0; h < CACHE_HASH; h++)
		for (struct zc_span *sp = cache.hash[h], *next; sp != NULL; sp = next) {
			next = sp->hnext;
			/* Span bases are aligned: a span overlaps iff its base is in range. */
			if (sp->base >= first && sp->base < end && !fn(sp, arg))
				return;
		}
}

/* cache_each_in(): stop at a span that a send or a registration holds. */
static bool
cache_span_unheld(struct zc_span *sp, void *arg)
{
	if (sp->refs == 0)
		return true;
	*(int *)arg = -EBUSY;
	return false;
}

static bool
cache_span_evict(struct zc_span *sp, void *arg __rte_unused)
{
	cache_evict(sp);
	return true;
}

int
tide_zctx_mem_invalidate(const void *addr, size_t len)
{
	uintptr_t va = (uintptr_t)addr, end = va + len;
	int ret = 0;

	if (addr == NULL || len == 0 || end < va) {
		ZC_LOG(ERR, "NULL address, zero length or a range that wraps");
		return zc_error(EINVAL);
	}
	pthread_mutex_lock(&cache.lock);
	cache_each_in(va, end, cache_span_unheld, &ret);
	if (ret == 0)
		cache_each_in(va, end, cache_span_evict, NULL);
	pthread_mutex_unlock(&cache.lock);
	if (ret != 0) {
		ZC_LOG(ERR, "%p+%zu is still used by a send in flight or a registration", addr,
			len);
		return zc_error(EBUSY);
	}
	return 0;
}

size_t
tide_zctx_cache_flush(void)
{
	size_t before;

	pthread_mutex_lock(&cache.lock);
	before = cache.pinned;
	while (cache_evict_lru(NULL))
		;
	before -= cache.pinned;
	pthread_mutex_unlock(&cache.lock);
	return before;
}

int
tide_zctx_cache_stats_get(struct tide_zctx_cache_stats *st)
{
	if (st == NULL)
		return ZC_REFUSE(ERR, EINVAL, "st is NULL");
	pthread_mutex_lock(&cache.lock);
	*st = cache.st;
	st->spans = cache.nb_spans;
	st->pinned_bytes = cache.pinned;
	st->idle_bytes = cache.idle_bytes;
	st->pin_limit = cache.users ? cache.pin_limit :
		(cache.cfg.pin_limit ? cache.cfg.pin_limit : tide_zctx_pvt_memlock_rlimit());
	st->idle_limit = cache.cfg.idle_bytes;
	tide_zctx_pvt_blocks_stats(st);
	pthread_mutex_unlock(&cache.lock);
	return 0;
}
