/* SPDX-License-Identifier: BSD-3-Clause */

/* Set-up of an exchange's level rings (tide_xring.h). */

#include <errno.h>
#include <sched.h>
#include <string.h>

#include <rte_malloc.h>

#include "tide_xring.h"

int
tide_xring_init(struct tide_xring *r, unsigned int size, unsigned int levels,
	bool single_prod, bool single_cons, int socket)
{
	uint32_t slots = rte_align32pow2(size + 1);

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
	return 0;
}

/* Looks at a busy turn before the waiter yields the CPU (then one look per yield). */
#define XRING_SPINS 256

void
tide_xring_turn_wait(struct tide_xring_turn *t)
{
	for (;;) {
		for (unsigned int i = 0; i < XRING_SPINS; i++) {
			if (__atomic_load_n(&t->held, __ATOMIC_RELAXED) == 0 &&
					__atomic_exchange_n(&t->held, 1, __ATOMIC_ACQUIRE) == 0)
				return;
			rte_pause();
		}
		sched_yield();
	}
}

void
tide_xring_fini(struct tide_xring *r)
{
	rte_free(r->slots);
	r->slots = NULL;
}
