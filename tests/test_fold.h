/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_FOLD_H
#define TIDE_TEST_FOLD_H

/*
 * What two processes compare to tell whether they see the same memory at an address: the
 * 64 bytes there folded into one positive number (tests/mp_helper.c "peek", tests/test_mp.c).
 */

#include <stdint.h>
#include <string.h>

#define TIDE_FOLD_BYTES 64

static inline long long
tide_test_fold(const void *addr)
{
	uint64_t w[TIDE_FOLD_BYTES / 8], f = 0;

	memcpy(w, addr, sizeof(w));
	for (unsigned int i = 0; i < TIDE_FOLD_BYTES / 8; i++)
		f = (f ^ w[i]) * 0x100000001b3ull;
	return (long long)(f & INT64_MAX);
}

#endif
