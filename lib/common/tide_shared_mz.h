/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_SHARED_MZ_H
#define TIDE_SHARED_MZ_H

/*
 * A memzone that several processes of one DPDK instance share, made zeroed by the first
 * that needs it (internal, not installed). Looking it up, reserving it and zeroing it
 * happen under the shared configuration's tailq lock (as rte_ring_create() takes it before
 * its memzone): no process finds it before it is zeroed, and no zeroing comes after another
 * process has used it. DPDK does not zero a memzone's memory: a hugepage kept from an
 * earlier run may hold anything, a lock word that looks taken included. A stamp of the
 * maker's layout follows the zone's bytes: a process of another build does not use it. (A
 * zone of a build from before the stamps has none: the bytes read there are its padding,
 * never written, whose chance of holding this build's stamp is all that lets it through.)
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eal_memconfig.h>
#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_memzone.h>

/* Where the stamp of a zone of @len bytes is: right after them. */
static inline uint64_t *
tide_shared_mz_stamp(const struct rte_memzone *mz, size_t len)
{
	return RTE_PTR_ADD(mz->addr, RTE_ALIGN_CEIL(len, sizeof(uint64_t)));
}

/* Memzone @name, of @len bytes and a stamp of its layout (tide_layout.h) after them: found,
 * or (with @create) reserved, zeroed and stamped; or NULL: not made (and not to be made),
 * rte_memzone_reserve() failed (its rte_errno set), or the one found is another build's
 * (EPROTO: smaller, or of another stamp; not ours to read). */
static inline const struct rte_memzone *
tide_shared_mz(const char *name, size_t len, uint64_t stamp, bool create)
{
	size_t whole = RTE_ALIGN_CEIL(len, sizeof(uint64_t)) + sizeof(uint64_t);
	const struct rte_memzone *mz;

	if (!create) {
		rte_mcfg_tailq_read_lock();
		mz = rte_memzone_lookup(name);
		rte_mcfg_tailq_read_unlock();
		if (mz == NULL) {
			rte_errno = ENOENT; /* not a value left by an earlier call (EPROTO) */
			return NULL;
		}
	} else {
		rte_mcfg_tailq_write_lock();
		mz = rte_memzone_lookup(name);
		if (mz == NULL) {
			mz = rte_memzone_reserve(name, whole, SOCKET_ID_ANY, 0);
			if (mz != NULL) {
				memset(mz->addr, 0, len);
				*tide_shared_mz_stamp(mz, len) = stamp;
			}
		}
		rte_mcfg_tailq_write_unlock();
	}
	if (mz != NULL && (mz->len < whole || *tide_shared_mz_stamp(mz, len) != stamp)) {
		rte_errno = EPROTO;
		return NULL;
	}
	return mz;
}

#endif /* TIDE_SHARED_MZ_H */
