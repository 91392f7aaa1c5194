/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdint.h>

#include "tide_fault.h"

#ifdef TIDE_FAULT_INJECTION

static struct {
	uint32_t skip;  /* checks that still pass */
	uint32_t count; /* failures still to give */
} fault_sites[TIDE_FAULT_SITES];

void
tide_fault_pvt_arm(enum tide_fault_site site, unsigned int skip, unsigned int count)
{
	if (site >= TIDE_FAULT_SITES)
		return;
	__atomic_store_n(&fault_sites[site].count, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&fault_sites[site].skip, skip, __ATOMIC_RELEASE);
	__atomic_store_n(&fault_sites[site].count, count, __ATOMIC_RELEASE);
}

static bool
fault_take(uint32_t *counter)
{
	uint32_t v = __atomic_load_n(counter, __ATOMIC_ACQUIRE);

	while (v != 0)
		if (__atomic_compare_exchange_n(counter, &v, v - 1, false, __ATOMIC_ACQ_REL,
				__ATOMIC_ACQUIRE))
			return true;
	return false;
}

bool
tide_fault_pvt_hit(enum tide_fault_site site)
{
	if (site >= TIDE_FAULT_SITES ||
			__atomic_load_n(&fault_sites[site].count, __ATOMIC_ACQUIRE) == 0)
		return false;
	if (fault_take(&fault_sites[site].skip))
		return false;
	return fault_take(&fault_sites[site].count);
}

static tide_fault_clock_t *fault_clock;

void
tide_fault_pvt_clock_set(tide_fault_clock_t *clock)
{
	__atomic_store_n(&fault_clock, clock, __ATOMIC_RELEASE);
}

tide_fault_clock_t *
tide_fault_pvt_clock(void)
{
	return __atomic_load_n(&fault_clock, __ATOMIC_ACQUIRE);
}

#endif
