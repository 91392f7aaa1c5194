/* SPDX-License-Identifier: BSD-3-Clause */
#include "reap_policy.h"

static bool
reap_idle(const struct tide_reap_block *b, uint64_t now_ns, uint64_t idle_ns)
{
	return b->all_free && now_ns >= b->last_busy_ns && now_ns - b->last_busy_ns >= idle_ns;
}

uint32_t
tide_reap_decide(const struct tide_reap_block *blocks, uint32_t n, uint64_t now_ns,
	uint64_t idle_ns, uint32_t max)
{
	uint32_t k = 0;

	/* Release block i (the newest left) while it and the one before it are idle. */
	while (k < max && n - k >= 2 &&
			reap_idle(&blocks[n - k - 1], now_ns, idle_ns) &&
			reap_idle(&blocks[n - k - 2], now_ns, idle_ns))
		k++;
	return k;
}

uint32_t
tide_reap_demote(const struct tide_reap_block *blocks, uint32_t n, uint64_t now_ns,
	uint64_t idle_ns)
{
	const struct tide_reap_block *p;
	uint32_t i = n, idle;

	/* The newest block that is not idle: the one that stops tide_reap_decide(). */
	while (i > 1 && reap_idle(&blocks[i - 1], now_ns, idle_ns))
		i--;
	if (i < 3)
		return 0; /* none, or already just above the base */
	i--;
	p = &blocks[i];
	/* Stale: objects out, none taken from it for the threshold. */
	if (p->all_free || now_ns < p->last_alloc_ns || now_ns - p->last_alloc_ns < idle_ns)
		return 0;
	/* Worth it when, once it ranks as old (and the stale blocks under it after it, one
	 * per decision), two idle blocks come on top: the headroom rule then releases. The
	 * blocks above it are idle. */
	idle = n - 1 - i;
	for (uint32_t k = 1; k < i && idle < 2; k++)
		idle += reap_idle(&blocks[k], now_ns, idle_ns);
	return idle >= 2 ? i : 0;
}
