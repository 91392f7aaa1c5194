/* SPDX-License-Identifier: BSD-3-Clause */

/* Set-up of an exchange's level rings (tide_xring_pvt.h). */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "msg_private.h"
#include "tide_process.h"

/* The layout the fast path relies on: each side's tails, and each side's turn, on a line
 * of their own with an unused one after it, so that senders and receivers never write a
 * line, or the other line of a 128-byte pair, that the other side polls.
 */
static void
xring_layout_check(void)
{
	RTE_BUILD_BUG_ON(sizeof(struct tide_xring_tails) != RTE_CACHE_LINE_SIZE);
	RTE_BUILD_BUG_ON(sizeof(struct tide_xring_turn) != RTE_CACHE_LINE_SIZE);
	RTE_BUILD_BUG_ON(offsetof(struct tide_xring, prod) != 0);
	RTE_BUILD_BUG_ON(offsetof(struct tide_xring, cons) != 2 * RTE_CACHE_LINE_SIZE);
	RTE_BUILD_BUG_ON(offsetof(struct tide_xring, senders) != 4 * RTE_CACHE_LINE_SIZE);
	RTE_BUILD_BUG_ON(offsetof(struct tide_xring, receivers) != 6 * RTE_CACHE_LINE_SIZE);
	RTE_BUILD_BUG_ON(offsetof(struct tide_xring, slots) != 8 * RTE_CACHE_LINE_SIZE);
}

int
tide_xring_pvt_init(struct tide_xring *r, unsigned int size, unsigned int levels,
	bool single_prod, bool single_cons, int socket)
{
	uint32_t slots = rte_align32pow2(size + 1);

	xring_layout_check();

	memset(r, 0, sizeof(*r));
	if (levels == 0 || levels > TIDE_XRING_LEVELS || size == 0 || slots == 0 ||
			slots > (1u << 30) / levels)
		return -EINVAL;
	r->slots = rte_zmalloc_socket("tide_xring", (size_t)slots * levels * sizeof(void *),
		RTE_CACHE_LINE_SIZE, socket);
	if (r->slots == NULL)
		return -ENOMEM;
	r->mask = slots - 1;
	r->shift = (uint32_t)rte_log2_u32(slots);
	r->senders.single = single_prod;
	r->receivers.single = single_cons;
	r->receivers.receiving = 1;
	return 0;
}

/* Looks at a busy turn before the waiter yields the CPU (then one look per yield). */
#define XRING_SPINS 256
/* Yields between two looks at whether the turn's holder is still alive. */
#define XRING_CHECK 16

uint32_t tide_xring_pvt_self;
unsigned int (*tide_xring_pvt_receiver_gone)(struct tide_xring *r);

static void
xring_self_set(void)
{
	tide_xring_pvt_self = tide_process_tag_self();
}

RTE_INIT(xring_self_init)
{
	xring_self_set();
	/* A child forked without exec takes turns in its own name: one it died holding is
	 * then taken over, and its parent's are not taken for its own.
	 */
	pthread_atfork(NULL, NULL, xring_self_set);
}

void
tide_xring_pvt_turn_wait(struct tide_xring_turn *t)
{
	for (unsigned int yields = 1;; yields++) {
		for (unsigned int i = 0; i < XRING_SPINS; i++) {
			uint32_t held = 0;

			if (__atomic_load_n(&t->held, __ATOMIC_RELAXED) == 0 &&
					__atomic_compare_exchange_n(&t->held, &held,
					tide_xring_pvt_self, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
				return;
			rte_pause();
		}
		sched_yield();
		if (yields % XRING_CHECK == 0 &&
				tide_process_tag_take_over(&t->held, tide_xring_pvt_self) != 0) {
			__atomic_fetch_add(&t->takeovers, 1, __ATOMIC_RELAXED);
			if (t->receiving && tide_xring_pvt_receiver_gone != NULL)
				tide_xring_pvt_receiver_gone(container_of(t, struct tide_xring,
					receivers));
			return;
		}
	}
}

/*
 * The one receiver of the exchange (no turns; nothing else writes the word). Another
 * process received last: whether it died in a receive is not asked of /proc (a process
 * killed is still there while it exits), the messages are looked at instead. One receiver
 * at a time leaves every message it did not take made, so what is unmade there is what a
 * receive cut short left: made again, counted as a takeover.
 */
void
tide_xring_pvt_single_receiver(struct tide_xring_turn *t)
{
	uint32_t last = __atomic_load_n(&t->held, __ATOMIC_RELAXED);

	if (last != 0 && tide_xring_pvt_receiver_gone != NULL &&
			tide_xring_pvt_receiver_gone(container_of(t, struct tide_xring,
			receivers)) != 0)
		__atomic_fetch_add(&t->takeovers, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&t->held, tide_xring_pvt_self, __ATOMIC_RELAXED);
}

void
tide_xring_pvt_fini(struct tide_xring *r)
{
	rte_free(r->slots);
	r->slots = NULL;
}
