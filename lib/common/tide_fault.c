/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdint.h>
#include <time.h>

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

enum { HOLD_IDLE, HOLD_ARMED, HOLD_HELD, HOLD_RELEASED };
static uint32_t hold_state[TIDE_HOLD_SITES];

static uint64_t
hold_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Whether the site's thread came to be held (or, !held, let go) within limit_us. */
static bool
hold_poll(const uint32_t *state, bool held, uint64_t limit_us)
{
	uint64_t end = hold_now_us() + limit_us;

	for (;;) {
		struct timespec ts = { .tv_nsec = 10 * 1000 };

		if ((__atomic_load_n(state, __ATOMIC_ACQUIRE) == HOLD_HELD) == held)
			return true;
		if (hold_now_us() >= end)
			return false;
		nanosleep(&ts, NULL);
	}
}

void
tide_fault_pvt_hold_arm(enum tide_fault_hold_site site)
{
	if (site < TIDE_HOLD_SITES)
		__atomic_store_n(&hold_state[site], HOLD_ARMED, __ATOMIC_RELEASE);
}

bool
tide_fault_pvt_hold_wait(enum tide_fault_hold_site site, unsigned int timeout_ms)
{
	return site < TIDE_HOLD_SITES &&
		hold_poll(&hold_state[site], true, (uint64_t)timeout_ms * 1000);
}

void
tide_fault_pvt_hold_release(enum tide_fault_hold_site site)
{
	uint32_t v = HOLD_HELD;

	if (site >= TIDE_HOLD_SITES)
		return;
	if (!__atomic_compare_exchange_n(&hold_state[site], &v, HOLD_RELEASED, false,
			__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		__atomic_store_n(&hold_state[site], HOLD_IDLE, __ATOMIC_RELEASE);
}

void
tide_fault_pvt_hold(enum tide_fault_hold_site site)
{
	uint32_t v = HOLD_ARMED;

	if (site >= TIDE_HOLD_SITES ||
			__atomic_load_n(&hold_state[site], __ATOMIC_ACQUIRE) != HOLD_ARMED ||
			!__atomic_compare_exchange_n(&hold_state[site], &v, HOLD_HELD, false,
			__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	/* Back to idle from released (or still held: timed out), never over a test's new
	 * arming of the site made since it released this thread.
	 */
	v = hold_poll(&hold_state[site], false, TIDE_FAULT_HOLD_MAX_S * 1000000ull) ?
		HOLD_RELEASED : HOLD_HELD;
	__atomic_compare_exchange_n(&hold_state[site], &v, HOLD_IDLE, false, __ATOMIC_ACQ_REL,
		__ATOMIC_ACQUIRE);
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
