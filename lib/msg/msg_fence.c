/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The fence between a send and a blocked receiver, made asymmetric.
 *
 * A receiver about to block announces itself (sleepers) and then looks at the rings; a
 * sender publishes its messages and then looks for sleepers. Neither look may pass its
 * side's store (x86 lets a load pass an earlier store), or both miss the other and the
 * receiver sleeps with a message waiting. A full fence on every send burst is a few percent
 * of what a message costs on the data path (tide-bench msg, one lcore), for a wait that
 * only threads outside the data path use. So the cost goes to the waiting side: every
 * process that uses the library registers with membarrier(2), and a receiver that is about
 * to sleep has every running thread of those processes pass a full barrier
 * (MEMBARRIER_CMD_GLOBAL_EXPEDITED). A sender that looked before its barrier has its
 * publishing store drained by it, and the receiver's re-check sees the message; one that
 * looks after it sees the receiver. Senders then need only keep the compiler from
 * reordering.
 *
 * Where the kernel refuses: the senders of a process that could not register fence as
 * before, and a receiver that cannot issue the barrier never sleeps longer than
 * MSG_SLEEP_SLICE_US at a time, so that a wake-up it missed costs it at most that.
 */

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "msg_private.h"
#include "tide_fault.h"

/* Read by every send (tide_xchg_pvt_sent()): set until this process is registered. */
uint8_t tide_msg_pvt_send_fence = 1;

static int
msg_membarrier(int cmd)
{
	if (TIDE_FAULT(TIDE_FAULT_MEMBARRIER)) {
		errno = EPERM;
		return -1;
	}
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

static void
msg_fence_register(void)
{
	if (msg_membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0) {
		__atomic_store_n(&tide_msg_pvt_send_fence, 0, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&tide_msg_pvt_send_fence, 1, __ATOMIC_RELEASE);
	MSG_LOG(NOTICE, "membarrier(2) refused (%s): every send burst of this process pays a "
		"full fence", strerror(errno));
}

void
tide_msg_pvt_fence_init(void)
{
	static bool at_fork;

	/* A child forked without exec has a memory map of its own, not registered. */
	if (!at_fork && pthread_atfork(NULL, NULL, msg_fence_register) == 0)
		at_fork = true;
	msg_fence_register();
}

bool
tide_msg_pvt_sleep_barrier(void)
{
	static uint32_t logged;

	if (msg_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0)
		return true;
	if (__atomic_fetch_add(&logged, 1, __ATOMIC_RELAXED) == 0)
		MSG_LOG(NOTICE, "membarrier(2) refused (%s): blocked receivers wake every %u us "
			"to look again", strerror(errno), MSG_SLEEP_SLICE_US);
	return false;
}
