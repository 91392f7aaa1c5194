/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_SHARED_MZ_H
#define TIDE_SHARED_MZ_H

/*
 * A memzone that several processes of one DPDK instance share, made zeroed by the first
 * that needs it (internal, not installed). Looking it up, reserving it and zeroing it
 * happen under the shared configuration's tailq lock (as rte_ring_create() takes it before
 * its memzone): no process finds it before it is zeroed, and no zeroing comes after another
 * process has used it. DPDK does not zero a memzone's memory: a hugepage kept from an
 * earlier run may hold anything, a lock word that looks taken included.
 */

#include <stdbool.h>
#include <string.h>

#include <rte_eal_memconfig.h>
#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_memzone.h>

/* Memzone @name, of @len bytes: found, or (with @create) reserved and zeroed; or NULL: not
 * made (and not to be made), rte_memzone_reserve() failed (its rte_errno set), or the one
 * found is smaller (EINVAL: made by another build). */
static inline const struct rte_memzone *
tide_shared_mz(const char *name, size_t len, bool create)
{
	const struct rte_memzone *mz;

	if (!create) {
		rte_mcfg_tailq_read_lock();
		mz = rte_memzone_lookup(name);
		rte_mcfg_tailq_read_unlock();
	} else {
		rte_mcfg_tailq_write_lock();
		mz = rte_memzone_lookup(name);
		if (mz == NULL) {
			mz = rte_memzone_reserve(name, len, SOCKET_ID_ANY, 0);
			if (mz != NULL)
				memset(mz->addr, 0, len);
		}
		rte_mcfg_tailq_write_unlock();
	}
	if (mz != NULL && mz->len < len) {
		/* Made by another build, with a smaller layout: not ours to read. */
		rte_errno = EINVAL;
		return NULL;
	}
	return mz;
}

#endif /* TIDE_SHARED_MZ_H */
