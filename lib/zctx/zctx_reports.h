/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_ZCTX_REPORTS_H
#define TIDE_ZCTX_REPORTS_H

/**
 * @file
 * The send agent's reports to its copy-or-zero-copy policy (internal, not installed): the
 * sends one retiring pass completes, gathered into one report per size class, path and
 * stamp of the policy (tide_zcp_epoch()), with what they cost. The sends of a mix of sizes
 * come one class after another: a report per send would cost the policy more than a small
 * send's share. A class's costs are its own, so its sends of a pass make one report per
 * path. Its path seldom changes within a pass (exploring runs are longer than a pass);
 * when it does twice (a new threshold chosen while sends were in flight), the policy sees
 * the few sends of the one path in the middle as one run with the others, a misorder
 * that the TIDE_ZCP_SETTLE sends left out of a new run absorb. Stamps never go back within
 * a pass (sends are decided and retired in the same order): a new stamp (a trial's next
 * window) starts new reports after the others, so the reports of a window all come before
 * those of the next one (tide_zcp_mix_record()).
 */

#include <stdint.h>
#include <string.h>

#include "zctx_policy.h"

/** Most sends one set of reports gathers (a retiring pass's). */
#define TIDE_ZCP_REPORTS_MAX 32

/** Sends of one class and path, decided under one stamp. */
struct tide_zcp_report {
	uint8_t k;       /**< size class */
	uint8_t path;    /**< enum tide_zcp_path */
	uint8_t epoch;   /**< the stamp of their decisions */
	uint32_t sends;  /**< how many */
	uint64_t bytes;  /**< their payload bytes */
	uint64_t cycles; /**< what they cost, TSC cycles (before the pass's share) */
};

/** The reports of a pass, in the order their first sends came (the retiring pass's
 *  own: on its stack, written by the functions below). */
struct tide_zcp_reports {
	unsigned int n;
	uint8_t epoch;    /**< the stamp of the reports that sends may still join */
	/** per path and class, the index + 1 in r[] of the report a send joins (0: none) */
	uint8_t at[2][TIDE_ZCP_CLASSES];
	struct tide_zcp_report r[TIDE_ZCP_REPORTS_MAX];
};

/** Start a pass: no report. */
static inline void
tide_zcp_reports_init(struct tide_zcp_reports *rp)
{
	rp->n = 0;
	rp->epoch = 0;
	memset(rp->at, 0, sizeof(rp->at));
}

/**
 * Sends of one class and path, decided under one stamp, one after another, added up
 * before they join their report: a local of the caller's, so that the sends of a pass
 * add up in registers. Added up in r[] at once, every send stored three sums and loaded
 * them back for the next send (a store-forwarding wait each), some 2 of the policy's 10
 * cycles a send (a pass of 32 sends of 256 B, AMD EPYC).
 */
struct tide_zcp_run {
	uint32_t key;    /**< class, path and stamp (tide_zcp_run_key()); 0: none yet */
	uint32_t sends;  /**< how many */
	uint64_t bytes;  /**< their payload bytes */
	uint64_t cycles; /**< what they cost, TSC cycles */
};

/** @internal The key of a run: never 0. */
static inline uint32_t
tide_zcp_run_key(unsigned int k, uint8_t path, uint8_t epoch)
{
	return 1u << 24 | (uint32_t)epoch << 16 | (uint32_t)path << 8 | k;
}

/** @internal Add @p sends sends of class @p k on @p path, decided under stamp @p epoch,
 *  of @p bytes and @p cycles in all, to their report. */
static inline void
tide_zcp_reports_join(struct tide_zcp_reports *rp, unsigned int k, uint8_t path, uint8_t epoch,
	uint32_t sends, uint64_t bytes, uint64_t cycles)
{
	struct tide_zcp_report *r;
	uint8_t i;

	if (__builtin_expect(epoch != rp->epoch, 0)) {
		memset(rp->at, 0, sizeof(rp->at));
		rp->epoch = epoch;
	}
	i = rp->at[path][k];
	if (i != 0) {
		r = &rp->r[i - 1];
		r->sends += sends;
		r->bytes += bytes;
		r->cycles += cycles;
		return;
	}
	r = &rp->r[rp->n++];
	rp->at[path][k] = (uint8_t)rp->n;
	r->k = (uint8_t)k;
	r->path = path;
	r->epoch = epoch;
	r->sends = sends;
	r->bytes = bytes;
	r->cycles = cycles;
}

/** End @p run: its sends join their report (before the reports are read or recorded). */
static inline void
tide_zcp_reports_end(struct tide_zcp_reports *rp, struct tide_zcp_run *run)
{
	uint32_t key = run->key;

	if (key == 0)
		return;
	tide_zcp_reports_join(rp, key & 0xff, (uint8_t)(key >> 8), (uint8_t)(key >> 16),
		run->sends, run->bytes, run->cycles);
	run->key = 0;
}

/** Add a send of @p len bytes on @p path, decided under stamp @p epoch, that cost
 *  @p cycles, to @p run (zeroed before the first send), or end it and start another for
 *  the send; at most TIDE_ZCP_REPORTS_MAX sends a pass. */
static inline void
tide_zcp_reports_add(struct tide_zcp_reports *rp, struct tide_zcp_run *run, uint32_t len,
	uint8_t path, uint8_t epoch, uint64_t cycles)
{
	uint32_t key = tide_zcp_run_key(tide_zcp_class_of(len), path, epoch);

	if (__builtin_expect(key != run->key, 0)) {
		tide_zcp_reports_end(rp, run);
		*run = (struct tide_zcp_run){ .key = key };
	}
	run->sends++;
	run->bytes += len;
	run->cycles += cycles;
}

/** Give the reports to the policy, each send charged @p share more cycles (its part of
 *  what the pass cost them together). */
static inline void
tide_zcp_reports_record(struct tide_zcp_state *st, const struct tide_zcp_reports *rp,
	uint64_t share)
{
	for (unsigned int i = 0; i < rp->n; i++)
		tide_zcp_record_run_at(st, rp->r[i].epoch, rp->r[i].k,
			(enum tide_zcp_path)rp->r[i].path, rp->r[i].sends, rp->r[i].bytes,
			rp->r[i].cycles + share * rp->r[i].sends);
}

#endif /* TIDE_ZCTX_REPORTS_H */
