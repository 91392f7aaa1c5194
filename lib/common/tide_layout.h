/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_LAYOUT_H
#define TIDE_LAYOUT_H

/**
 * @file
 * @internal A stamp of what processes sharing memory must agree on (not an API).
 *
 * A primary and its secondaries read each other's structures in shared memory, and some
 * of them through code inlined in each application. A secondary of another build (another
 * tidepool version, another RTE_MAX_LCORE) would read them at other offsets. Each library
 * lists the sizes, offsets and bounds its processes share and hashes them (FNV-1a); a
 * secondary compares its stamp with the primary's and refuses to work with another.
 * TIDE_LAYOUT_SALT (0 unless defined at build time) lets a test build a library that
 * differs from the others by its stamp alone.
 */

#include <stddef.h>
#include <stdint.h>

#ifndef TIDE_LAYOUT_SALT
#define TIDE_LAYOUT_SALT 0
#endif

/** @internal The stamp of @p n values: sizes, offsets, bounds, a library's version of them. */
static inline uint64_t
tide_layout_stamp(const uint64_t *part, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ TIDE_LAYOUT_SALT;

	for (size_t i = 0; i < n; i++) {
		h ^= part[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

#endif /* TIDE_LAYOUT_H */
