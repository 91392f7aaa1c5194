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

/** Add a send of @p len bytes on @p path, decided under stamp @p epoch, that cost
 *  @p cycles; at most TIDE_ZCP_REPORTS_MAX sends a pass. */
static inline void
tide_zcp_reports_add(struct tide_zcp_reports *rp, uint32_t len, uint8_t path, uint8_t epoch,
	uint64_t cycles)
{
	unsigned int k = tide_zcp_class_of(len);
	struct tide_zcp_report *r;
	uint8_t i;

	if (__builtin_expect(epoch != rp->epoch, 0)) {
		memset(rp->at, 0, sizeof(rp->at));
		rp->epoch = epoch;
	}
	i = rp->at[path][k];
	if (i != 0) {
		r = &rp->r[i - 1];
		r->sends++;
		r->bytes += len;
		r->cycles += cycles;
		return;
	}
	/* Field by field: a new report's sums are stored once, never read back at once after
	 * a store of another width (a store-forwarding stall on every send of a mix). */
	r = &rp->r[rp->n++];
	rp->at[path][k] = (uint8_t)rp->n;
	r->k = (uint8_t)k;
	r->path = path;
	r->epoch = epoch;
	r->sends = 1;
	r->bytes = len;
	r->cycles = cycles;
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
