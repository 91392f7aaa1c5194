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

	/* [0] base ... [n - 3] idle, [n - 2] busy and stale, [n - 1] idle headroom. */
	if (n < 4 || !reap_idle(&blocks[n - 1], now_ns, idle_ns) ||
			!reap_idle(&blocks[n - 3], now_ns, idle_ns))
		return 0;
	p = &blocks[n - 2];
	if (reap_idle(p, now_ns, idle_ns) || now_ns < p->last_alloc_ns ||
			now_ns - p->last_alloc_ns < idle_ns)
		return 0;
	return n - 2;
}
