/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Proxies (seed 003): a proxy is an mbuf header without a pool, from the library's proxy
 * area, pointing at a range of a real message's body. Making proxies adds one mbuf
 * reference per proxy to the real message, so whoever lets go last (the real message's
 * owner, or any proxy) returns it to its pool. Servers count their replies on the real
 * message's header.
 */

#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "msg_private.h"
#include "tide_fault.h"

/*
 * The free proxies are on one level of a tide_xring whose senders and receivers take turns
 * (tide_xring_pvt.h): a turn held by a process that died is taken over by the next one to
 * wait for it. On a stock multi-producer rte_ring a process killed in the middle of a put or
 * take would leave the ring half moved, and every later put or take would wait for ever.
 * Killed holding the receivers' turn, a process took nothing yet (the receivers' tail
 * moves when it is done); holding the senders', the proxies it was putting back are lost
 * with it (counted as made, as the mbufs a dead process held).
 */
static int
proxy_free_init(struct tide_xring **out, struct msg_proxy *area, uint32_t n, int socket)
{
	struct tide_xring *r = rte_zmalloc_socket("tide_msg_proxy_free", sizeof(*r),
		RTE_CACHE_LINE_SIZE, socket);
	int ret;

	if (r == NULL)
		return -ENOMEM;
	ret = tide_xring_pvt_init(r, n, 1, false, false, socket);
	if (ret != 0) {
		rte_free(r);
		return ret;
	}
	/* Not an exchange's: the receivers' turn taken over has no message to make again. */
	r->receivers.receiving = 0;
	for (uint32_t i = 0; i < n; i++) {
		void *px = &area[i];

		tide_xring_pvt_put(r, 0, &px, 1);
	}
	*out = r;
	return 0;
}

static void
proxy_free_fini(struct tide_xring *r)
{
	if (r == NULL)
		return;
	tide_xring_pvt_fini(r);
	rte_free(r);
}

/* Take n free proxies from the list: all or none (@p all), or as many as there are. */
static unsigned int
proxy_free_take(struct msg_proxy **px, unsigned int n, bool all)
{
	struct tide_xring *r = tide_msg_pvt_state.proxy_free;
	uint32_t ready, head;
	unsigned int k;

	/* A look first: a take from a list too short writes nothing. */
	if (tide_xring_pvt_ready(r, 0) < (all ? n : 1))
		return 0;
	tide_xring_pvt_turn_take(&r->receivers);
	ready = tide_xring_pvt_ready(r, 0);
	k = all ? (ready >= n ? n : 0) : RTE_MIN(ready, n);
	head = tide_xring_pvt_first(r, 0);
	for (unsigned int i = 0; i < k; i++)
		px[i] = *tide_xring_pvt_slot(r, 0, head + i);
	tide_xring_pvt_taken(r, 0, k);
	tide_xring_pvt_turn_give(&r->receivers);
	return k;
}

/* Give n free proxies back to the list (it has room for every proxy of the area). */
static void
proxy_free_put(struct msg_proxy *const *px, unsigned int n)
{
	struct tide_xring *r = tide_msg_pvt_state.proxy_free;

	tide_xring_pvt_turn_take(&r->senders);
	tide_xring_pvt_put(r, 0, (void *const *)px, n);
	tide_xring_pvt_turn_give(&r->senders);
}

int
tide_msg_pvt_proxy_area_init(uint32_t n, int socket)
{
	struct msg_proxy_stash *stash = NULL;
	struct tide_xring *r = NULL;
	struct msg_proxy *area = NULL;
	int ret = -ENOMEM;

	if (TIDE_FAULT(TIDE_FAULT_MALLOC))
		goto fail;
	area = rte_zmalloc_socket("tide_msg_proxies", (size_t)n * sizeof(*area),
		RTE_CACHE_LINE_SIZE, socket);
	stash = rte_zmalloc_socket("tide_msg_stash", RTE_MAX_LCORE * sizeof(*stash),
		RTE_CACHE_LINE_SIZE, socket);
	if (area == NULL || stash == NULL)
		goto fail;
	ret = proxy_free_init(&r, area, n, socket);
	if (ret != 0)
		goto fail;
	tide_msg_pvt_state.stash = stash;
	tide_msg_pvt_state.proxies = area;
	tide_msg_pvt_state.nb_proxies = n;
	tide_msg_pvt_state.proxy_free = r;
	return 0;

fail:
	rte_free(stash);
	rte_free(area);
	return ret;
}

void
tide_msg_pvt_proxy_area_fini(void)
{
	rte_free(tide_msg_pvt_state.stash);
	tide_msg_pvt_state.stash = NULL;
	proxy_free_fini(tide_msg_pvt_state.proxy_free);
	rte_free(tide_msg_pvt_state.proxies);
	tide_msg_pvt_state.proxy_free = NULL;
	tide_msg_pvt_state.proxies = NULL;
	tide_msg_pvt_state.nb_proxies = 0;
}

uint32_t
tide_msg_pvt_proxies_live(void)
{
	uint64_t nb_free;

	if (tide_msg_pvt_state.proxy_free == NULL)
		return 0;
	nb_free = tide_xring_pvt_count(tide_msg_pvt_state.proxy_free, 0);
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++)
		nb_free += __atomic_load_n(&tide_msg_pvt_state.stash[i].len, __ATOMIC_RELAXED);
	return nb_free < tide_msg_pvt_state.nb_proxies ?
		tide_msg_pvt_state.nb_proxies - (uint32_t)nb_free : 0;
}

bool
tide_msg_pvt_in_proxy_area(const void *p)
{
	uintptr_t lo = (uintptr_t)tide_msg_pvt_state.proxies;
	uintptr_t off = (uintptr_t)p - lo;

	return lo != 0 &&
		off < (uintptr_t)tide_msg_pvt_state.nb_proxies * sizeof(struct msg_proxy) &&
		off % sizeof(struct msg_proxy) == 0;
}

/* The calling lcore's stash, or NULL on a non-EAL thread. */
static struct msg_proxy_stash *
proxy_stash(void)
{
	unsigned int lc = rte_lcore_id();

	return lc < RTE_MAX_LCORE ? &tide_msg_pvt_state.stash[lc] : NULL;
}

/* Take n free proxies (all or none), from the stash first. */
static bool
proxy_get(struct msg_proxy **px, unsigned int n)
{
	struct msg_proxy_stash *s = proxy_stash();

	if (s == NULL || n > MSG_PROXY_STASH)
		return proxy_free_take(px, n, true) == n;
	if (s->len < n) {
		unsigned int want = MSG_PROXY_STASH / 2 + n - s->len;

		want = RTE_MIN(want, (unsigned int)MSG_PROXY_STASH - s->len);
		s->len += proxy_free_take(&s->p[s->len], want, false);
		if (s->len < n)
			return false;
	}
	s->len -= n;
	memcpy(px, &s->p[s->len], n * sizeof(*px));
	return true;
}

/* Give a free proxy back, to the stash first. */
static void
proxy_put(struct msg_proxy *px)
{
	struct msg_proxy_stash *s = proxy_stash();

	if (s == NULL) {
		proxy_free_put(&px, 1);
		return;
	}
	if (s->len == MSG_PROXY_STASH) {
		s->len /= 2;
		proxy_free_put(&s->p[s->len], s->len);
	}
	s->p[s->len++] = px;
}

static int
proxy_check_real(struct rte_mbuf *real, unsigned int n, const struct tide_msg_range *ranges)
{
	/* Released by its holder (proxies hold it on): no longer a message to make more of;
	 * its last proxy may be freeing it meanwhile.
	 */
	if (real == NULL || ranges == NULL || n == 0 || !tide_msg_pvt_state.ready ||
			!tide_msg_is_made(real) || tide_msg_is_proxy(real) ||
			(tide_msg_hdr(real)->flags & TIDE_MSG_F_RELEASED))
		return -EINVAL;
	/* Other references (clones, the application's): its release could not tell them
	 * from proxies' (tide_msg_release()).
	 */
	if (!(tide_msg_hdr(real)->flags & TIDE_MSG_F_PROXIED) && rte_mbuf_refcnt_read(real) != 1)
		return -EINVAL;
	/* Each proxy holds an mbuf reference, and the proxy count (with the replies it is
	 * compared with) counts every proxy made since the message was: all 16 bits. In 64
	 * bits (an n near UINT_MAX wrapped the sum past the check), and before the ranges
	 * are read (n of them: a count that cannot be met says nothing of how many there are).
	 */
	if ((uint64_t)tide_msg_nb_proxies(real) + n > UINT16_MAX ||
			(uint64_t)rte_mbuf_refcnt_read(real) + n > UINT16_MAX)
		return -ENOSPC;
	for (unsigned int i = 0; i < n; i++)
		if ((uint64_t)ranges[i].offset + ranges[i].len > rte_pktmbuf_data_len(real))
			return -EINVAL;
	return 0;
}

/* A proxy header pointing at ranges[i] of real's first segment. */
static void
proxy_init(struct msg_proxy *px, struct rte_mbuf *real, const struct tide_msg_range *r)
{
	struct rte_mbuf *m = &px->m;
	const struct tide_msg_hdr *rh = tide_msg_hdr(real);

	memset(m, 0, sizeof(*m));
	m->buf_addr = real->buf_addr;
	m->buf_iova = real->buf_iova;
	m->buf_len = real->buf_len;
	m->data_off = (uint16_t)(real->data_off + r->offset);
	m->data_len = (uint16_t)r->len;
	m->pkt_len = r->len;
	m->nb_segs = 1;
	m->port = real->port;
	rte_mbuf_refcnt_set(m, 1);
	px->real = real;
	*tide_msg_hdr(m) = (struct tide_msg_hdr){
		.check = tide_msg_pvt_check_of(m), .owner = rh->owner, .prio = rh->prio,
		.flags = TIDE_MSG_F_PROXY,
	};
}

int
tide_msg_proxy_make(struct rte_mbuf *real, unsigned int n,
	const struct tide_msg_range *ranges, struct rte_mbuf **proxies)
{
	struct msg_proxy *px[MSG_PROXY_STASH];
	struct tide_msg_hdr *rh;
	unsigned int done = 0;
	int ret;

	ret = proxies == NULL ? -EINVAL : proxy_check_real(real, n, ranges);
	if (ret < 0) {
		MSG_LOG(ERR, "cannot make %u proxies of %p: %s", n, real, rte_strerror(-ret));
		return msg_error(-ret);
	}
	while (done < n) {
		unsigned int k = RTE_MIN(n - done, (unsigned int)RTE_DIM(px));

		if (!proxy_get(px, k)) {
			/* Give back what this call took: all or nothing. */
			for (unsigned int i = 0; i < done; i++) {
				tide_msg_hdr(proxies[i])->check = 0;
				proxy_put(tide_msg_pvt_proxy_of(proxies[i]));
			}
			MSG_LOG(ERR, "no proxy header left for %u proxies (lcores keep up to %u "
				"free ones at hand each)", n, MSG_PROXY_STASH);
			return msg_error(ENOBUFS);
		}
		for (unsigned int i = 0; i < k; i++) {
			proxy_init(px[i], real, &ranges[done + i]);
			proxies[done + i] = &px[i]->m;
		}
		done += k;
	}
	rte_mbuf_refcnt_update(real, (int16_t)n);
	rh = tide_msg_hdr(real);
	if (!(rh->flags & TIDE_MSG_F_PROXIED)) {
		/* The first proxies of this message: its counts start now (make left them). */
		rh->nb_proxies = 0;
		__atomic_store_n(&rh->replies, 0, __ATOMIC_RELAXED);
		rh->flags |= TIDE_MSG_F_PROXIED;
	}
	__atomic_fetch_add(&rh->nb_proxies, n, __ATOMIC_RELEASE);
	return 0;
}

struct rte_mbuf *
tide_msg_proxy_real(struct rte_mbuf *proxy)
{
	return tide_msg_pvt_proxy_of(proxy)->real;
}

int
tide_msg_reply(struct rte_mbuf *proxy)
{
	struct rte_mbuf *real;

	if (proxy == NULL || !tide_msg_pvt_in_proxy_area(proxy) || !tide_msg_is_made(proxy))
		return MSG_REFUSE(ERR, EINVAL, "%p is not a proxy", (void *)proxy);
	real = tide_msg_pvt_proxy_of(proxy)->real;
	return __atomic_add_fetch(&tide_msg_hdr(real)->replies, 1, __ATOMIC_ACQ_REL);
}

void
tide_msg_proxy_release(struct rte_mbuf *proxy)
{
	struct msg_proxy *px = tide_msg_pvt_proxy_of(proxy);
	struct rte_mbuf *real = px->real;

	tide_msg_hdr(proxy)->check = 0;
	px->real = NULL;
	proxy_put(px);
	tide_msg_pvt_put_real(real);
}

int
tide_msg_proxy_release_checked(struct rte_mbuf *proxy)
{
	const char *why = NULL;

	if (proxy == NULL)
		why = "NULL";
	else if (!tide_msg_pvt_in_proxy_area(proxy))
		why = "not a proxy of the proxy area (a real message? release it as one)";
	else if (!tide_msg_is_made(proxy) || tide_msg_pvt_proxy_of(proxy)->real == NULL)
		why = "not a live proxy (released already?)";
	if (why != NULL) {
		MSG_LOG(ERR, "refusing to release proxy %p: %s", proxy, why);
		return msg_error(EINVAL);
	}
	tide_msg_proxy_release(proxy);
	return 0;
}
