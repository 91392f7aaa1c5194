/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Sleepers counted by process (struct tide_sleepers, tide_msg_pvt.h): an exchange's blocked
 * receivers, a broadcast exchange's waiting senders. A thread about to sleep on a futex word
 * adds itself to the count its waker reads (the waker makes a syscall only when the count
 * is not 0) and to its process's share of it, a slot tagged with the process. A process
 * killed asleep leaves its share counted: whoever finds its tag gone (the primary's recovery
 * of a dead secondary, or a sleeper that finds every slot taken) gives the share back;
 * otherwise every wake-up would be a syscall that wakes nobody, for ever. A process keeps
 * its slot once claimed (threads of one process may each claim one: each gives back to the
 * one it counted in). With every slot another live process's, a thread is not counted: its
 * caller sleeps in slices.
 */

#include <rte_common.h>

#include "msg_private.h"
#include "tide_fault.h"
#include "tide_process.h"

/* The tag of a slot being given back: process id 0's, which no process has. */
#define SLEEPERS_FREEING (UINT32_C(1) << TIDE_PROCESS_PID_BITS)

/*
 * Slot @p i of a process that is gone (@p tag): what it counted goes, then the slot. Only
 * the thread that swaps the gone tag for SLEEPERS_FREEING does it: two that found the
 * process gone at once would otherwise both take the count, the second after the slot was
 * given back and claimed again, taking a live sleeper's share (the total then short of it:
 * its waker would not wake it). Claims take only free slots (tag 0), never one being given
 * back. A thread that dies half-way leaves the slot unused for good (one of the
 * TIDE_SLEEPERS_PVT_SLOTS), and at worst its count counted.
 */
static void
sleepers_slot_free(struct tide_sleepers *s, unsigned int i, uint32_t tag)
{
	struct tide_sleepers_slot *sl = &s->by[i];
	uint32_t n;

	if (!__atomic_compare_exchange_n(&sl->tag, &tag, SLEEPERS_FREEING, false,
			__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return; /* another gives it back, or gave it back already */
	n = __atomic_exchange_n(&sl->n, 0, __ATOMIC_SEQ_CST);
	if (n != 0)
		__atomic_fetch_sub(&s->n, n, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sl->tag, 0, __ATOMIC_RELEASE);
}

void
tide_sleepers_pvt_recover(struct tide_sleepers *s)
{
	for (unsigned int i = 0; i < TIDE_SLEEPERS_PVT_SLOTS; i++) {
		uint32_t tag = __atomic_load_n(&s->by[i].tag, __ATOMIC_ACQUIRE);

		if (tag == 0 || tag == SLEEPERS_FREEING || !tide_process_tag_gone(tag))
			continue;
		TIDE_FAULT_HOLD(TIDE_HOLD_SLEEPER_GONE); /* tests: another gives it back first */
		sleepers_slot_free(s, i, tag);
	}
}

/* This process's slot in @p s: its own, or a free one claimed; -1 if none is. */
static int
sleepers_slot_claim(struct tide_sleepers *s)
{
	const uint32_t self = tide_xring_pvt_self; /* this process's tag */
	unsigned int i;

	for (i = 0; i < TIDE_SLEEPERS_PVT_SLOTS; i++)
		if (__atomic_load_n(&s->by[i].tag, __ATOMIC_ACQUIRE) == self)
			return (int)i;
	for (i = 0; i < TIDE_SLEEPERS_PVT_SLOTS; i++) {
		uint32_t tag = 0;

		if (__atomic_load_n(&s->by[i].tag, __ATOMIC_RELAXED) == 0 &&
				__atomic_compare_exchange_n(&s->by[i].tag, &tag, self, false,
				__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return (int)i;
	}
	return -1;
}

/* This process's slot in @p s: its own, a free one, or, every slot taken, one that gone
 * processes left (given back first); -1 when every slot is another live process's.
 */
static int
sleepers_slot(struct tide_sleepers *s)
{
	int i = sleepers_slot_claim(s);

	if (i >= 0)
		return i;
	tide_sleepers_pvt_recover(s);
	return sleepers_slot_claim(s);
}

int
tide_sleepers_pvt_join(struct tide_sleepers *s)
{
	int slot = sleepers_slot(s);

	/* The total first: a death between the two leaves one too many counted, never one
	 * taken back that was not added (the total would wrap and every wake-up be made).
	 */
	if (slot >= 0) {
		__atomic_fetch_add(&s->n, 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&s->by[slot].n, 1, __ATOMIC_SEQ_CST);
	}
	return slot;
}

void
tide_sleepers_pvt_leave(struct tide_sleepers *s, int slot)
{
	if (slot < 0)
		return;
	/* The share first, for the same reason. */
	__atomic_fetch_sub(&s->by[slot].n, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_sub(&s->n, 1, __ATOMIC_SEQ_CST);
}
