/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The level rings under an exchange (lib/msg/msg_xring.c, tide_xring_pvt.h), against a
 * model, on one thread: built with the library's own object, since the ring functions are
 * internal (not exported). The rings' slots are rte_malloc memory: under EAL.
 */

#include <stdbool.h>

#include <rte_memory.h>

#include "msg_private.h"
#include "test_common.h"
#include "test_msg_util.h"

/*
 * The level rings against a model, one thread, positions starting 256 short of 2^32: puts
 * of 0..9 on random levels of 7 messages (the refused part must be exactly what does not
 * fit), takes of random sizes read in place, bursts that wrap the end of a level.
 */
static void
test_level_rings_keep_order_across_the_32_bit_wrap(void)
{
	enum { LV = 3, CAP = 7, OPS = 200000 };
	uintptr_t model[LV][CAP], next = 1;
	unsigned int head[LV] = { 0 }, count[LV] = { 0 }, errors = 0;
	uint64_t rnd = 12345;
	struct tide_xring r;

	CU_ASSERT_EQUAL_FATAL(tide_xring_pvt_init(&r, 5, LV, false, false, SOCKET_ID_ANY), 0);
	CU_ASSERT_EQUAL(tide_xring_pvt_capacity(&r), CAP);
	for (unsigned int l = 0; l < LV; l++)
		r.prod.tail[l] = r.cons.tail[l] = r.senders.cons_seen[l] = UINT32_MAX - 255;
	for (unsigned int op = 0; op < OPS; op++) {
		unsigned int l = thread_rand(&rnd, LV), k = thread_rand(&rnd, 10), n, i;
		void *obj[10];

		if (thread_rand(&rnd, 2) == 0) {
			for (i = 0; i < k; i++)
				obj[i] = (void *)(next + i);
			tide_xring_pvt_turn_take(&r.senders);
			n = tide_xring_pvt_put(&r, l, obj, k);
			tide_xring_pvt_turn_give(&r.senders);
			errors += n != RTE_MIN(k, CAP - count[l]);
			for (i = 0; i < n; i++)
				model[l][(head[l] + count[l] + i) % CAP] = next + i;
			count[l] += n;
			next += k;
		} else {
			uint32_t first;

			tide_xring_pvt_turn_take(&r.receivers);
			n = RTE_MIN(tide_xring_pvt_ready(&r, l), k);
			errors += tide_xring_pvt_ready(&r, l) != count[l];
			first = tide_xring_pvt_first(&r, l);
			for (i = 0; i < n; i++)
				errors += (uintptr_t)*tide_xring_pvt_slot(&r, l, first + i) !=
					model[l][(head[l] + i) % CAP];
			tide_xring_pvt_taken(&r, l, n);
			tide_xring_pvt_turn_give(&r.receivers);
			head[l] = (head[l] + n) % CAP;
			count[l] -= n;
		}
		errors += tide_xring_pvt_count(&r, l) != count[l];
	}
	for (unsigned int l = 0; l < LV; l++)
		CU_ASSERT(r.prod.tail[l] < UINT32_MAX - 255); /* every level went past 2^32 */
	CU_ASSERT_EQUAL(errors, 0);
	tide_xring_pvt_fini(&r);
}

static void
test_bad_level_ring_sizes_are_refused(void)
{
	struct tide_xring r;

	CU_ASSERT_EQUAL(tide_xring_pvt_init(&r, 0, 1, false, false, SOCKET_ID_ANY), -EINVAL);
	CU_ASSERT_EQUAL(tide_xring_pvt_init(&r, 8, 0, false, false, SOCKET_ID_ANY), -EINVAL);
	CU_ASSERT_EQUAL(tide_xring_pvt_init(&r, 8, TIDE_XRING_LEVELS + 1, false, false,
		SOCKET_ID_ANY), -EINVAL);
	/* 2^30 slots in all at most; size + 1 must not wrap. */
	CU_ASSERT_EQUAL(tide_xring_pvt_init(&r, 1u << 29, 2, false, false, SOCKET_ID_ANY),
		-EINVAL);
	CU_ASSERT_EQUAL(tide_xring_pvt_init(&r, UINT32_MAX, 1, false, false, SOCKET_ID_ANY),
		-EINVAL);
	/* 7 a level: 8 slots, one kept free. */
	CU_ASSERT_EQUAL_FATAL(tide_xring_pvt_init(&r, 7, 2, true, true, SOCKET_ID_ANY), 0);
	CU_ASSERT_EQUAL(tide_xring_pvt_capacity(&r), 7);
	CU_ASSERT_TRUE(r.senders.single && r.receivers.single);
	tide_xring_pvt_fini(&r);
	CU_ASSERT_PTR_NULL(r.slots);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("msg_xring", NULL, NULL);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_level_rings_keep_order_across_the_32_bit_wrap);
	CU_ADD_TEST(s, test_bad_level_ring_sizes_are_refused);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "msg_xring", true, register_tests);
}
