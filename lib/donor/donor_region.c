/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Regions: one request's memory. The plan (donor_plan.c) is computed from measured
 * limits; the own part is allocated here, in the consumer (a memfd like a donor's, locked
 * by the consumer for the pinned kind); the donors are started on the manager's control
 * thread; each one's share is received, checked and mapped into its place of one reserved
 * virtual range; the IO address of every page is read; then every donor is acknowledged,
 * the region is registered with DPDK and the donors are handed to the control thread to
 * watch. Any failure on the way kills and reaps every donor of the request and unmaps
 * everything: a request either gives all its memory or leaves nothing behind.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/memfd.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eal_memconfig.h>
#include <rte_ethdev.h>
#include <rte_memory.h>

#include "donor_private.h"
#include "tide_fault.h"

static const char *
reg_kind_name(enum tide_donor_kind kind)
{
	return kind == TIDE_DONOR_HUGE ? "hugepage" : "pinned";
}

/* ---- The plan, from measured limits. */

/* Give back own hugepages a request took but will not keep (none for the pinned kind, whose
 * allowance is what the kernel counts locked). */
static void
reg_own_give_back(struct tide_donor_mgr *m, enum tide_donor_kind kind, uint64_t bytes)
{
	if (kind == TIDE_DONOR_HUGE && bytes != 0)
		dn_own_huge_add(m->socket_id, -(int64_t)bytes);
}

/*
 * The most of a request of @p bytes its own part could be: the request in whole pages, at
 * most @p own_max (0 for a request that overflows when rounded: the plan refuses it).
 */
static uint64_t
reg_own_want(uint64_t bytes, uint64_t own_max, uint64_t page_sz)
{
	if (bytes > UINT64_MAX - (page_sz - 1))
		return 0;
	return RTE_MIN(RTE_ALIGN_CEIL(bytes, page_sz), RTE_ALIGN_FLOOR(own_max, page_sz));
}

/* The plan; own hugepages it gives the request are taken from the allowance (the caller gives
 * them back unless the region keeps them). */
static int
reg_plan(struct tide_donor_mgr *m, size_t bytes, enum tide_donor_kind kind, uint32_t flags,
	struct donor_plan *plan)
{
	struct donor_plan_in in = { .bytes = bytes };
	uint64_t measured;
	long kb;
	int ret;

	in.own_max = (flags & TIDE_DONOR_F_NO_OWN) ? 0 : m->p.own_max[kind];
	if (kind == TIDE_DONOR_HUGE) {
		in.page_sz = m->huge_page_sz;
		/* Taken now: another request, or the heap, sees them gone until given back. */
		in.own_avail = dn_own_huge_reserve(m->socket_id, m->heap_limit,
			reg_own_want(bytes, in.own_max, in.page_sz), in.page_sz);
		measured = m->heap_limit;
		in.sys_avail = dn_huge_free_bytes(in.page_sz);
	} else {
		in.page_sz = DN_PINNED_PAGE;
		kb = dn_vmlck_kb(getpid());
		measured = dn_rlimit_memlock();
		in.own_avail = donor_own_allowance(measured, kb > 0 ? (uint64_t)kb << 10 : 0, 0,
			in.page_sz, false);
		in.sys_avail = dn_mem_available();
	}
	in.donor_max = donor_per_process_max(m->p.donor_max[kind], measured, in.page_sz);
	pthread_mutex_lock(&m->lock);
	in.donors_left = m->p.max_donors > m->alive ? m->p.max_donors - m->alive : 0;
	pthread_mutex_unlock(&m->lock);
	ret = donor_plan_compute(&in, plan);
	/* What was taken and the plan does not use (all of it if there is no plan). */
	reg_own_give_back(m, kind, ret == 0 ? in.own_avail - plan->own : in.own_avail);
	if (ret == -ENOMEM)
		DN_LOG(ERR, "%s: %zu bytes of %s memory: the system has only %" PRIu64 " to give",
			m->name, bytes, reg_kind_name(kind), in.sys_avail);
	else if (ret == -ENOSPC)
		DN_LOG(ERR, "%s: %zu bytes of %s memory need more donors than the %u that may "
			"still start (per-process maximum %" PRIu64 " bytes, own allowance %" PRIu64
			")", m->name, bytes, reg_kind_name(kind), in.donors_left, in.donor_max,
			in.own_avail);
	else if (ret != 0)
		DN_LOG(ERR, "%s: bad request of %zu bytes", m->name, bytes);
	else
		DN_LOG(DEBUG, "%s: %" PRIu64 " bytes of %s memory: %" PRIu64 " own, %u donors of "
			"%" PRIu64 " (last %" PRIu64 ")", m->name, plan->bytes, reg_kind_name(kind),
			plan->own, plan->nb_donors, plan->per_donor, plan->last);
	return ret;
}

/* ---- The region's address range and parts. */

static struct tide_donor_region *
reg_alloc(struct tide_donor_mgr *m, const struct donor_plan *plan, enum tide_donor_kind kind,
	uint32_t flags, size_t page_sz)
{
	uint32_t nb_parts = (plan->own != 0) + plan->nb_donors;
	struct tide_donor_region *r = calloc(1, sizeof(*r) + nb_parts * sizeof(r->parts[0]));
	uint64_t off = 0;

	if (r == NULL)
		return NULL;
	r->iova = malloc(plan->bytes / page_sz * sizeof(r->iova[0]));
	r->map_len = plan->bytes + (page_sz > DN_PINNED_PAGE ? page_sz : 0);
	r->map_base = mmap(NULL, r->map_len, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->iova == NULL || r->map_base == MAP_FAILED) {
		if (r->map_base != MAP_FAILED && r->map_base != NULL)
			munmap(r->map_base, r->map_len);
		free(r->iova);
		free(r);
		return NULL;
	}
	r->mgr = m;
	r->kind = kind;
	r->flags = flags;
	r->page_sz = page_sz;
	r->len = plan->bytes;
	r->addr = RTE_PTR_ALIGN_CEIL(r->map_base, page_sz);
	r->nb_parts = nb_parts;
	for (uint32_t i = 0; i < nb_parts; i++) {
		struct dn_part *pt = &r->parts[i];
		bool own = plan->own != 0 && i == 0;

		pt->offset = off;
		pt->bytes = own ? plan->own :
			donor_plan_share(plan, i - (plan->own != 0));
		pt->memfd = pt->pidfd = pt->sock = -1;
		pt->state = own ? TIDE_DONOR_STATE_OWN : TIDE_DONOR_STATE_LIVE;
		off += pt->bytes;
	}
	r->own_bytes = plan->own;
	return r;
}

/*
 * A map that failed over the reserved range may have taken that part of the reservation
 * with it (a hugetlb map refused for want of hugepages: the kernel unmaps first). Reserve
 * it again at once, without replacing anything: what cannot be taken back is a hole that
 * the range's unmapping must skip. Something already there (EEXIST) is taken for the
 * reservation itself, left by a map that failed before unmapping (a permission, a bad
 * argument); a mapping another thread made in the hole in the instant since would be
 * taken for it too.
 */
static void
reg_rereserve(struct tide_donor_mgr *m, struct tide_donor_region *r, const struct dn_part *pt)
{
	uint8_t *want = r->addr + pt->offset;
	void *got = mmap(want, pt->bytes, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	if (got == want || (got == MAP_FAILED && errno == EEXIST))
		return;
	if (got != MAP_FAILED)
		munmap(got, pt->bytes); /* a kernel before 4.17 took the address as a hint */
	r->hole_off = (size_t)(want - (uint8_t *)r->map_base);
	r->hole_len = pt->bytes;
	DN_LOG(ERR, "%s: %" PRIu64 " bytes at %p left the region's reserved range when their "
		"map failed, and cannot be reserved again: they are left alone", m->name,
		pt->bytes, (void *)want);
}

static int
reg_map_part(struct tide_donor_mgr *m, struct tide_donor_region *r, const struct dn_part *pt)
{
	void *want = r->addr + pt->offset;
	void *got = mmap(want, pt->bytes, PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_FIXED | MAP_POPULATE, pt->memfd, 0);
	int ret;

	if (got != MAP_FAILED)
		return 0;
	ret = -errno;
	reg_rereserve(m, r, pt);
	return ret;
}

/* Give the region's address range back, all of it but a hole that is not ours. */
static void
reg_unmap(struct tide_donor_region *r)
{
	uint8_t *base = r->map_base;

	if (r->hole_len == 0) {
		munmap(base, r->map_len);
		return;
	}
	if (r->hole_off != 0)
		munmap(base, r->hole_off);
	if (r->hole_off + r->hole_len < r->map_len)
		munmap(base + r->hole_off + r->hole_len, r->map_len - r->hole_off - r->hole_len);
}

/*
 * The map of part @p pt refused as the kernel refuses a hugetlb map over the reservation
 * for want of hugepages (6.1, 6.18): that part of the reservation is unmapped first. For
 * tests (TIDE_FAULT_HUGE_TAKEN), which cannot take every free hugepage of the machine from
 * under the other tests to make the kernel do it.
 */
static int
reg_map_refused(struct tide_donor_mgr *m, struct tide_donor_region *r, const struct dn_part *pt)
{
	munmap(r->addr + pt->offset, pt->bytes);
	reg_rereserve(m, r, pt);
	return -ENOMEM;
}

/* The consumer's own part: a memfd of its own, locked by itself for the pinned kind. */
static int
reg_own_part(struct tide_donor_mgr *m, struct tide_donor_region *r, struct dn_part *pt)
{
	unsigned int fl = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int ret;

	if (r->kind == TIDE_DONOR_HUGE)
		fl |= MFD_HUGETLB | ((unsigned int)__builtin_ctzll(r->page_sz) << MFD_HUGE_SHIFT);
	pt->pid = getpid();
	pt->memfd = memfd_create("tide-donor-own", fl);
	if (pt->memfd < 0 || ftruncate(pt->memfd, (off_t)pt->bytes) != 0) {
		ret = -errno;
	} else {
		if (r->kind == TIDE_DONOR_HUGE && TIDE_FAULT(TIDE_FAULT_HUGE_TAKEN))
			ret = reg_map_refused(m, r, pt);
		else
			ret = reg_map_part(m, r, pt);
	}
	/* The system call itself: sanitizer runtimes turn libc's mlock() into a no-op. */
	if (ret == 0 && r->kind == TIDE_DONOR_PINNED &&
			syscall(SYS_mlock, r->addr + pt->offset, pt->bytes) != 0)
		ret = -errno;
	if (ret != 0) {
		DN_LOG(NOTICE, "%s: cannot take %" PRIu64 " bytes of %s memory at %p from the "
			"consumer's own allowance (%s): asking donors for all of it", m->name,
			pt->bytes, reg_kind_name(r->kind), r->addr + pt->offset, strerror(-ret));
		return ret;
	}
	pt->locked_kb = r->kind == TIDE_DONOR_PINNED ? pt->bytes >> 10 : 0;
	return 0;
}

/* ---- Handshake with the donors of a request. */

static int
reg_start_donors(struct tide_donor_mgr *m, struct tide_donor_region *r)
{
	uint32_t first = r->own_bytes != 0, n = r->nb_parts - first;
	struct dn_spawn_spec *specs = calloc(n, sizeof(*specs));
	int ret = 0;

	if (specs == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		specs[i] = (struct dn_spawn_spec){
			.kind = r->kind, .bytes = r->parts[first + i].bytes, .page_sz = r->page_sz,
			.index = i,
		};
	dn_spawn_on_thread(m, specs, n);
	for (uint32_t i = 0; i < n; i++) {
		struct dn_part *pt = &r->parts[first + i];

		pt->pid = specs[i].pid;
		pt->pidfd = specs[i].pidfd;
		pt->sock = specs[i].sock;
		if (specs[i].err != 0 && ret == 0)
			ret = -specs[i].err;
	}
	free(specs);
	return ret;
}

/* HELLO, then OFFER + the descriptor, checked and mapped. */
static int
reg_receive_share(struct tide_donor_mgr *m, struct tide_donor_region *r, struct dn_part *pt,
	uint64_t deadline)
{
	int fds[DONOR_PROTO_MAX_FDS];
	struct donor_msg msg;
	unsigned int nfds, i;
	int ret;

	ret = dn_recv(m, pt, &msg, fds, &nfds, deadline);
	if (ret == 0 && (msg.type != DONOR_MSG_HELLO || nfds != 0)) {
		DN_LOG(ERR, "%s: donor %d broke the protocol: no HELLO first", m->name,
			(int)pt->pid);
		ret = -EPROTO;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	nfds = 0; /* closed: the loop below must not close those numbers again */
	if (ret == 0)
		ret = dn_recv(m, pt, &msg, fds, &nfds, deadline);
	if (ret == 0) {
		ret = dn_check_share(m, pt, &msg, fds, nfds, r->kind, r->page_sz);
		if (ret == 0) {
			pt->memfd = fds[0];
			fds[0] = -1;
		}
	}
	for (i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (ret == 0) {
		/* What the kernel says it locked, not what the donor says. */
		long kb = dn_vmlck_kb(pt->pid);

		pt->locked_kb = kb > 0 ? (uint64_t)kb : 0;
		ret = reg_map_part(m, r, pt);
	}
	return ret;
}

/* Every donor still alive once its memory is mapped? */
static int
reg_all_alive(struct tide_donor_mgr *m, struct tide_donor_region *r)
{
	for (uint32_t i = 0; i < r->nb_parts; i++) {
		struct pollfd pfd = { .fd = r->parts[i].pidfd, .events = POLLIN };
		int ready;

		if (r->parts[i].state == TIDE_DONOR_STATE_OWN)
			continue;
		/* A signal to this thread is not a death. */
		while ((ready = poll(&pfd, 1, 0)) < 0 && errno == EINTR)
			;
		if (ready > 0) {
			DN_LOG(ERR, "%s: donor %d died during the handshake", m->name,
				(int)r->parts[i].pid);
			return -ECONNRESET;
		}
	}
	return 0;
}

static int
reg_ack_all(struct tide_donor_region *r)
{
	struct donor_msg msg;

	donor_msg_init(&msg, DONOR_MSG_ACK, (int)getpid());
	for (uint32_t i = 0; i < r->nb_parts; i++)
		if (r->parts[i].state != TIDE_DONOR_STATE_OWN &&
				donor_msg_send(r->parts[i].sock, &msg, NULL, 0) != 0)
			return -ECONNRESET;
	return 0;
}

/* Count a refused request; @p donor_at_fault: a donor's handshake failed (unless this process
 * could not take its memory or read what it locked: EMFILE or ENFILE, descriptor limits). */
static void
reg_count_failure(struct tide_donor_mgr *m, int err, bool donor_at_fault)
{
	pthread_mutex_lock(&m->lock);
	m->st.refused++;
	if (donor_at_fault && err != -EMFILE && err != -ENFILE)
		m->st.handshake_failures++;
	if (err == -EPROTO)
		m->st.bad_messages++;
	pthread_mutex_unlock(&m->lock);
}

/* Whether the mapped region's pages are all resident, as the donors promised: -EPROTO
 * (theirs is the broken promise) if one is not, -ENOMEM if that cannot be checked. */
static int
reg_check_resident(struct tide_donor_mgr *m, const struct tide_donor_region *r)
{
	int ret = dn_resident(r->addr, r->len);

	if (ret == -EFAULT) {
		DN_LOG(ERR, "%s: a page of the region is not resident after mapping", m->name);
		ret = -EPROTO;
	} else if (ret == -ENOMEM) {
		DN_LOG(ERR, "%s: no memory to check the region's pages are resident", m->name);
	}
	return ret;
}

static int
reg_handshake(struct tide_donor_mgr *m, struct tide_donor_region *r, bool *donor_at_fault)
{
	uint64_t deadline;
	int ret;

	/* The donors' time counts from their start: starting them may wait for the control
	 * thread, busy re-pinning (its own handshakes have their own deadlines).
	 */
	ret = reg_start_donors(m, r);
	deadline = dn_now_ns() + (uint64_t)m->p.timeout_ms * 1000000;
	/* From here on a failure is a donor's (starting one is counted apart). */
	*donor_at_fault = ret == 0;
	for (uint32_t i = 0; ret == 0 && i < r->nb_parts; i++) {
		struct dn_part *pt = &r->parts[i];

		if (pt->state == TIDE_DONOR_STATE_OWN)
			continue;
		ret = reg_receive_share(m, r, pt, deadline);
		if (ret == -ETIMEDOUT)
			DN_LOG(ERR, "%s: donor %d did not hand its share over within %u ms",
				m->name, (int)pt->pid, m->p.timeout_ms);
		else if (ret == -ECONNRESET)
			DN_LOG(ERR, "%s: donor %d died before handing its share over", m->name,
				(int)pt->pid);
	}
	if (ret == 0)
		ret = reg_all_alive(m, r);
	if (ret == 0)
		ret = reg_check_resident(m, r);
	if (ret == 0)
		ret = reg_ack_all(r);
	return ret;
}

/* ---- DPDK registration. */

/* Call @p fn on every IOVA-contiguous run of the region. */
static int
reg_runs(struct tide_donor_region *r, int (*fn)(struct tide_donor_region *r, uint8_t *va,
	rte_iova_t iova, size_t len, void *arg), void *arg)
{
	size_t n = r->len / r->page_sz, i = 0;
	int ret = 0;

	while (i < n && ret == 0) {
		size_t j = i + 1;

		while (j < n && r->iova[j] == r->iova[j - 1] + r->page_sz)
			j++;
		ret = fn(r, r->addr + i * r->page_sz, r->iova[i], (j - i) * r->page_sz, arg);
		i = j;
	}
	return ret;
}

static int
reg_dma_run(struct tide_donor_region *r __rte_unused, uint8_t *va, rte_iova_t iova, size_t len,
	void *arg)
{
	struct rte_device *dev = arg;

	if (rte_dev_dma_map(dev, va, iova, len) == 0 || rte_errno == ENOTSUP)
		return 0;
	return -(rte_errno != 0 ? rte_errno : EIO);
}

static int
reg_undma_run(struct tide_donor_region *r __rte_unused, uint8_t *va, rte_iova_t iova, size_t len,
	void *arg)
{
	rte_dev_dma_unmap(arg, va, iova, len);
	return 0;
}

static void
reg_dma_unmap(struct tide_donor_region *r)
{
	for (uint32_t d = 0; d < r->nb_dma; d++)
		reg_runs(r, reg_undma_run, r->dma[d]);
	free(r->dma);
	r->dma = NULL;
	r->nb_dma = 0;
}

/* DMA-map the region for the device of every ethdev port (vdevs: nothing to do). */
static int
reg_dma_map(struct tide_donor_mgr *m, struct tide_donor_region *r)
{
	struct rte_eth_dev_info info;
	uint16_t port;
	int ret;

	r->dma = calloc(RTE_MAX_ETHPORTS, sizeof(r->dma[0]));
	if (r->dma == NULL)
		return -ENOMEM;
	RTE_ETH_FOREACH_DEV(port) {
		uint32_t d;

		if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL)
			continue;
		for (d = 0; d < r->nb_dma && r->dma[d] != info.device; d++)
			;
		if (d < r->nb_dma)
			continue;
		ret = reg_runs(r, reg_dma_run, info.device);
		if (ret != 0) {
			DN_LOG(ERR, "%s: cannot DMA-map the region for %s: %s", m->name,
				rte_dev_name(info.device), strerror(-ret));
			reg_runs(r, reg_undma_run, info.device);
			reg_dma_unmap(r);
			return -EIO;
		}
		r->dma[r->nb_dma++] = info.device;
	}
	return 0;
}

static int
reg_register(struct tide_donor_mgr *m, struct tide_donor_region *r)
{
	int ret;

	if (rte_extmem_register(r->addr, r->len, r->iova, (unsigned int)(r->len / r->page_sz),
			r->page_sz) != 0) {
		ret = -rte_errno;
		DN_LOG(ERR, "%s: DPDK refused to register %zu bytes at %p: %s", m->name, r->len,
			r->addr, rte_strerror(rte_errno));
		return ret;
	}
	r->registered = true;
	ret = reg_dma_map(m, r);
	if (ret != 0) {
		rte_extmem_unregister(r->addr, r->len);
		r->registered = false;
	}
	return ret;
}

void
dn_region_set_iova(struct tide_donor_region *r, size_t first, size_t n)
{
	struct rte_memseg_list *msl;

	if (!r->registered && !r->in_heap)
		return;
	rte_mcfg_mem_write_lock();
	msl = rte_mem_virt2memseg_list(r->addr);
	for (size_t i = first; msl != NULL && i < first + n; i++) {
		struct rte_memseg *ms = rte_fbarray_get(&msl->memseg_arr, (unsigned int)i);

		if (ms != NULL)
			ms->iova = r->iova[i];
	}
	rte_mcfg_mem_write_unlock();
}

/* ---- Request and free. */

/* Undo a request that failed: kill and reap its donors, unmap, close. */
static void
reg_unwind(struct tide_donor_mgr *m, struct tide_donor_region *r)
{
	reg_unmap(r);
	for (uint32_t i = 0; i < r->nb_parts; i++) {
		struct dn_part *pt = &r->parts[i];

		if (pt->state != TIDE_DONOR_STATE_OWN)
			dn_stop(m, pt, 0);
		if (pt->memfd >= 0)
			close(pt->memfd);
	}
	reg_own_give_back(m, r->kind, r->own_bytes);
	free(r->iova);
	free(r);
}

/* Enter a region in the manager's list and watch its donors; a donor that cannot be watched
 * fails it (a negative errno: its death would go unnoticed), entered all the same, for
 * dn_region_free() to undo. */
static int
reg_link(struct tide_donor_mgr *m, struct tide_donor_region *r)
{
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	r->id = ++m->next_region;
	for (uint32_t i = 0; i < r->nb_parts && ret == 0; i++)
		if (r->parts[i].state != TIDE_DONOR_STATE_OWN) {
			r->parts[i].id = ++m->next_id;
			ret = dn_watch(m, &r->parts[i]);
		}
	TAILQ_INSERT_TAIL(&m->regions, r, next);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static struct tide_donor_region *
reg_request(struct tide_donor_mgr *m, size_t bytes, enum tide_donor_kind kind, uint32_t flags)
{
	struct tide_donor_region *r;
	struct donor_plan plan;
	bool at_fault = false;
	int ret;

	ret = reg_plan(m, bytes, kind, flags, &plan);
	if (ret != 0) {
		reg_count_failure(m, ret, false);
		rte_errno = -ret;
		return NULL;
	}
	r = reg_alloc(m, &plan, kind, flags,
		kind == TIDE_DONOR_HUGE ? m->huge_page_sz : DN_PINNED_PAGE);
	if (r == NULL) {
		DN_LOG(ERR, "%s: no memory for a region of %" PRIu64 " bytes", m->name, plan.bytes);
		reg_own_give_back(m, kind, plan.own);
		reg_count_failure(m, -ENOMEM, false);
		rte_errno = ENOMEM;
		return NULL;
	}
	if (plan.own != 0)
		TIDE_FAULT_HOLD(TIDE_HOLD_DONOR_OWN_PLANNED); /* tests: race the plan's own part */
	if (plan.own != 0 && reg_own_part(m, r, &r->parts[0]) != 0) {
		TIDE_FAULT_HOLD(TIDE_HOLD_DONOR_OWN_REFUSED); /* tests: look at the range now */
		/* The own part was only measured: take everything from donors instead. */
		if (r->parts[0].memfd >= 0)
			close(r->parts[0].memfd);
		r->parts[0].memfd = -1;
		reg_unmap(r);
		reg_own_give_back(m, kind, r->own_bytes);
		free(r->iova);
		free(r);
		return reg_request(m, bytes, kind, flags | TIDE_DONOR_F_NO_OWN);
	}
	ret = reg_handshake(m, r, &at_fault);
	if (ret == 0) {
		at_fault = false;
		ret = dn_iova_pages(r->addr, r->len / r->page_sz, r->page_sz, r->iova);
	}
	if (ret == 0 && !(flags & TIDE_DONOR_F_NO_REGISTER))
		ret = reg_register(m, r);
	if (ret != 0) {
		reg_unwind(m, r);
		reg_count_failure(m, ret, at_fault);
		DN_LOG(ERR, "%s: request for %zu bytes of %s memory failed: %s; its donors are "
			"gone and nothing stays mapped", m->name, bytes, reg_kind_name(kind),
			strerror(-ret));
		rte_errno = -ret;
		return NULL;
	}
	ret = reg_link(m, r);
	if (ret != 0) {
		dn_region_free(r);
		reg_count_failure(m, ret, false);
		DN_LOG(ERR, "%s: request for %zu bytes of %s memory failed: a donor's death could "
			"not be watched (%s); its donors are gone and nothing stays mapped", m->name,
			bytes, reg_kind_name(kind), strerror(-ret));
		rte_errno = -ret;
		return NULL;
	}
	DN_LOG(INFO, "%s: region of %zu bytes of %s memory at %p: %" PRIu64 " own, %u donors",
		m->name, r->len, reg_kind_name(kind), r->addr, r->own_bytes,
		r->nb_parts - (r->own_bytes != 0));
	return r;
}

static void
reg_count_request(struct tide_donor_mgr *m)
{
	pthread_mutex_lock(&m->lock);
	m->st.requests++;
	pthread_mutex_unlock(&m->lock);
}

/* Every request is counted once, here (the own part's fallback is the same request). */
struct tide_donor_region *
dn_request(struct tide_donor_mgr *m, size_t bytes, enum tide_donor_kind kind, uint32_t flags)
{
	reg_count_request(m);
	return reg_request(m, bytes, kind, flags);
}

void
dn_region_free(struct tide_donor_region *r)
{
	struct tide_donor_mgr *m = r->mgr;
	uint32_t i;

	pthread_mutex_lock(&m->lock);
	r->freeing = true;
	for (i = 0; i < r->nb_parts; i++)
		while (r->parts[i].state == TIDE_DONOR_STATE_REPINNING)
			pthread_cond_wait(&m->cond, &m->lock);
	TAILQ_REMOVE(&m->regions, r, next);
	for (i = 0; i < r->nb_parts; i++)
		dn_unwatch(m, &r->parts[i]);
	pthread_mutex_unlock(&m->lock);
	if (r->registered) {
		reg_dma_unmap(r);
		if (rte_extmem_unregister(r->addr, r->len) != 0)
			DN_LOG(WARNING, "%s: rte_extmem_unregister(%p): %s", m->name, r->addr,
				rte_strerror(rte_errno));
	}
	reg_unmap(r);
	/* All donors told at once, then each waited for. */
	for (i = 0; i < r->nb_parts; i++)
		if (r->parts[i].state != TIDE_DONOR_STATE_OWN)
			dn_term(&r->parts[i]);
	for (i = 0; i < r->nb_parts; i++) {
		struct dn_part *pt = &r->parts[i];

		if (pt->state != TIDE_DONOR_STATE_OWN)
			dn_stop(m, pt, DN_TERM_WAIT_MS);
		if (pt->memfd >= 0)
			close(pt->memfd);
	}
	reg_own_give_back(m, r->kind, r->own_bytes);
	DN_LOG(DEBUG, "%s: region %" PRIu64 " of %zu bytes freed", m->name, r->id, r->len);
	free(r->iova);
	free(r);
}

struct tide_donor_region *
dn_region_of_locked(struct tide_donor_mgr *m, const void *addr)
{
	struct tide_donor_region *r;

	TAILQ_FOREACH(r, &m->regions, next)
		if ((const uint8_t *)addr >= r->addr && (const uint8_t *)addr < r->addr + r->len)
			return r;
	return NULL;
}

struct dn_part *
dn_part_by_id_locked(struct tide_donor_mgr *m, uint64_t id, struct tide_donor_region **rp)
{
	struct tide_donor_region *r;

	TAILQ_FOREACH(r, &m->regions, next)
		for (uint32_t i = 0; i < r->nb_parts; i++)
			if (r->parts[i].id == id && !r->freeing) {
				*rp = r;
				return &r->parts[i];
			}
	return NULL;
}

static void
reg_describe_status(const siginfo_t *si, char *buf, size_t len)
{
	if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
		snprintf(buf, len, "killed by signal %d", si->si_status);
	else if (si->si_code == CLD_EXITED)
		snprintf(buf, len, "exited with status %d", si->si_status);
	else
		snprintf(buf, len, "gone");
}

enum donor_death_action
dn_part_died_locked(struct tide_donor_mgr *m, struct tide_donor_region *r, struct dn_part *pt)
{
	bool pinned = r->kind == TIDE_DONOR_PINNED;
	enum donor_death_action act;
	siginfo_t si = { .si_code = 0 };
	char how[48];

	dn_unwatch(m, pt);
	if (waitid(P_PIDFD, (id_t)pt->pidfd, &si, WEXITED | WNOHANG) != 0)
		si.si_code = 0;
	reg_describe_status(&si, how, sizeof(how));
	close(pt->pidfd);
	close(pt->sock);
	pt->pidfd = pt->sock = -1;
	m->alive--;
	m->st.deaths++;
	r->nb_deaths++;
	act = donor_death_decide(pinned, !(m->p.flags & TIDE_DONOR_MGR_F_NO_REPIN),
		m->p.max_donors > m->alive ? m->p.max_donors - m->alive : 0, pt->repin_tries,
		DN_MAX_REPINS);
	switch (act) {
	case DONOR_DEATH_KEEP:
		pt->state = TIDE_DONOR_STATE_ORPHAN;
		DN_LOG(WARNING, "%s: donor %d of region %" PRIu64 " died (%s): its %" PRIu64
			" bytes of hugepages stay mapped by this process, which alone holds them "
			"now; nothing is lost", m->name, (int)pt->pid, r->id, how, pt->bytes);
		break;
	case DONOR_DEATH_REPIN:
		pt->state = TIDE_DONOR_STATE_REPINNING;
		pt->repin_tries++;
		DN_LOG(WARNING, "%s: donor %d of region %" PRIu64 " died (%s): its %" PRIu64
			" bytes of pinned memory stay mapped but are no longer locked; a new donor "
			"will lock them", m->name, (int)pt->pid, r->id, how, pt->bytes);
		break;
	case DONOR_DEATH_REPORT:
		pt->state = TIDE_DONOR_STATE_UNPINNED;
		DN_LOG(ERR, "%s: donor %d of region %" PRIu64 " died (%s): its %" PRIu64
			" bytes of pinned memory stay mapped but are no longer locked, and will "
			"not be locked again", m->name, (int)pt->pid, r->id, how, pt->bytes);
		break;
	}
	return act;
}

/* ---- Public calls on regions. */

struct tide_donor_region *
tide_donor_request(struct tide_donor_mgr *m, size_t bytes, enum tide_donor_kind kind,
	uint32_t flags)
{
	struct tide_donor_region *r;

	if (dn_mgr_enter(m, __func__) != 0)
		return NULL;
	if (bytes == 0 || (unsigned int)kind >= TIDE_DONOR_KINDS ||
			(flags & ~(TIDE_DONOR_F_NO_OWN | TIDE_DONOR_F_NO_REGISTER)) != 0) {
		DN_LOG(ERR, "%s: bad request: %zu bytes of kind %d, flags %#x (0 bytes, or an "
			"unknown kind or flag)", m->name, bytes, (int)kind, flags);
		reg_count_request(m);
		reg_count_failure(m, -EINVAL, false);
		dn_mgr_leave(m);
		rte_errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&m->req_lock);
	r = dn_request(m, bytes, kind, flags);
	if (r != NULL) {
		pthread_mutex_lock(&m->lock);
		r->handed_out = true;
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_unlock(&m->req_lock);
	dn_mgr_leave(m);
	return r;
}

static bool
reg_listed_locked(struct tide_donor_mgr *m, const struct tide_donor_region *r)
{
	const struct tide_donor_region *l;

	TAILQ_FOREACH(l, &m->regions, next)
		if (l == r)
			return true;
	return false;
}

/*
 * Take back @p r, looked up by address among the regions of every live manager: nothing is
 * read through a pointer freed already (maybe another object's memory by now), one that
 * never was a region, or one not handed out (a manager's heap's, or taken back by another
 * call now). Its manager, or NULL. The region taken keeps its manager alive: a manager
 * with a region out is not freed.
 */
static struct tide_donor_mgr *
reg_take_back(struct tide_donor_region *r)
{
	struct tide_donor_mgr *m;
	bool listed = false, taken = false;

	dn_registry_lock();
	for (m = dn_registry_first_locked(); m != NULL; m = dn_registry_next_locked(m)) {
		pthread_mutex_lock(&m->lock);
		listed = reg_listed_locked(m, r);
		taken = listed && r->handed_out;
		if (taken)
			r->handed_out = false;
		pthread_mutex_unlock(&m->lock);
		if (listed)
			break;
	}
	dn_registry_unlock();
	return taken ? m : NULL;
}

void
tide_donor_region_free(struct tide_donor_region *r)
{
	struct tide_donor_mgr *m;

	if (r == NULL)
		return;
	m = reg_take_back(r);
	if (m == NULL) {
		DN_REFUSE(ERR, EINVAL, "%p is not a region a manager handed out, or is freed "
			"already: left alone", (void *)r);
		return;
	}
	pthread_mutex_lock(&m->req_lock);
	dn_region_free(r);
	pthread_mutex_unlock(&m->req_lock);
}

int
tide_donor_region_info(const struct tide_donor_region *r, struct tide_donor_region_info *info)
{
	struct tide_donor_mgr *m;

	if (r == NULL || info == NULL)
		return DN_REFUSE(ERR, EINVAL, "NULL region or info");
	m = r->mgr;
	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&m->lock);
	info->addr = r->addr;
	info->len = r->len;
	info->page_sz = r->page_sz;
	info->kind = r->kind;
	info->own_bytes = r->own_bytes;
	info->nb_parts = r->nb_parts;
	info->nb_donors = r->nb_parts - (r->own_bytes != 0);
	info->nb_deaths = r->nb_deaths;
	info->registered = r->registered || r->in_heap;
	for (uint32_t i = 0; i < r->nb_parts; i++)
		if (r->parts[i].state == TIDE_DONOR_STATE_UNPINNED ||
				r->parts[i].state == TIDE_DONOR_STATE_REPINNING)
			info->unpinned_bytes += r->parts[i].bytes;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int
tide_donor_region_part(const struct tide_donor_region *r, unsigned int idx,
	struct tide_donor_part_info *info)
{
	const struct dn_part *pt;

	if (r == NULL || info == NULL)
		return DN_REFUSE(ERR, EINVAL, "NULL region or info");
	/* Walks over the parts end on this: a miss, not an error. */
	if (idx >= r->nb_parts)
		return DN_REFUSE(DEBUG, ENOENT, "no part %u (the region has %u)", idx,
			r->nb_parts);
	pt = &r->parts[idx];
	pthread_mutex_lock(&r->mgr->lock);
	*info = (struct tide_donor_part_info){
		.offset = pt->offset, .bytes = pt->bytes, .pid = (int)pt->pid, .state = pt->state,
		.locked_kb = pt->locked_kb, .repins = pt->repins,
	};
	pthread_mutex_unlock(&r->mgr->lock);
	return 0;
}

const struct tide_donor_region *
tide_donor_region_lookup(struct tide_donor_mgr *m, const void *addr)
{
	struct tide_donor_region *r;

	if (dn_mgr_enter(m, __func__) != 0)
		return NULL;
	pthread_mutex_lock(&m->lock);
	r = dn_region_of_locked(m, addr);
	pthread_mutex_unlock(&m->lock);
	if (r == NULL)
		DN_REFUSE(DEBUG, ENOENT, "%s: no region holds %p", m->name, addr);
	dn_mgr_leave(m);
	return r;
}

rte_iova_t
tide_donor_region_iova(const struct tide_donor_region *r, const void *addr)
{
	const uint8_t *a = addr;
	size_t off;

	if (r == NULL) {
		DN_REFUSE(ERR, EINVAL, "NULL region");
		return RTE_BAD_IOVA;
	}
	if (a < r->addr || a >= r->addr + r->len) {
		DN_REFUSE(DEBUG, ENOENT, "%p is not in the region at %p", addr, (void *)r->addr);
		return RTE_BAD_IOVA;
	}
	off = (size_t)(a - r->addr);
	return r->iova[off / r->page_sz] + off % r->page_sz;
}

const char *
tide_donor_state_name(enum tide_donor_state s)
{
	static const char *const names[] = {
		[TIDE_DONOR_STATE_OWN] = "own", [TIDE_DONOR_STATE_LIVE] = "live",
		[TIDE_DONOR_STATE_ORPHAN] = "orphan", [TIDE_DONOR_STATE_UNPINNED] = "unpinned",
		[TIDE_DONOR_STATE_REPINNING] = "repinning",
	};

	return (unsigned int)s < RTE_DIM(names) ? names[s] : "unknown";
}
