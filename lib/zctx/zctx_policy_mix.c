/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Trials of the whole mix (zctx_policy.h): the threshold the classes' own costs chose,
 * where it splits the recent mix, against all zero-copy, in three windows of decisions
 * (the choice, the other, the choice again). The costs come from reports stamped with the
 * window their sends were decided in, however late they arrive; the agent retires sends
 * in the order it decided them, so a report stamped after the last window means every
 * report of the windows is in.
 */

#include <string.h>

#include "zctx_policy.h"

/* A class the recent mix holds: warm, and sent lately. */
static bool
mix_holds(const struct tide_zcp_state *st, unsigned int k)
{
	return tide_zcp_warm(&st->cls[k]) && st->cls[k].weight >= 1;
}

bool
tide_zcp_mix_splits(const struct tide_zcp_state *st, unsigned int boundary)
{
	bool copy = false, zc = false;

	for (unsigned int k = 0; k < TIDE_ZCP_CLASSES; k++) {
		if (!mix_holds(st, k))
			continue;
		if (k < boundary)
			copy = true;
		else
			zc = true;
	}
	return copy && zc;
}

/* True if the classes' own choice sends some of the recent mix each way. */
static bool
mix_split(const struct tide_zcp_state *st)
{
	return tide_zcp_mix_splits(st, st->zc_class);
}

/* Back to no trial, the next one @p left decisions away. What a trial found counts only
 * for the trial right after it (mix_eval() sets pending again after this).
 */
static void
mix_idle(struct tide_zcp_state *st, uint32_t left)
{
	st->mix.pending = false;
	st->mix.phase = TIDE_ZCP_MIX_IDLE;
	st->mix.left = left;
	st->eff_class = tide_zcp_mix_in_force(st);
}

void
tide_zcp_mix_chosen(struct tide_zcp_state *st)
{
	/* All zero-copy stands only against a choice that splits the mix. */
	if (st->mix.all_zc && !mix_split(st)) {
		st->mix.all_zc = false;
		st->mix.pending = false;
	}
	if (st->mix.phase == TIDE_ZCP_MIX_IDLE)
		st->eff_class = tide_zcp_mix_in_force(st);
}

/* The boundary of the choice in force and of the other one, for the trial begun. */
static unsigned int
mix_other(const struct tide_zcp_state *st)
{
	return st->mix.all_zc ? st->mix.split : 0;
}

void
tide_zcp_mix_step(struct tide_zcp_state *st)
{
	struct tide_zcp_mix *m = &st->mix;
	uint8_t e = m->epoch;

	switch (m->phase) {
	case TIDE_ZCP_MIX_IDLE:
		if (!mix_split(st)) {
			mix_idle(st, TIDE_ZCP_MIX_PERIOD);
			return;
		}
		m->split = st->zc_class;
		m->win_class[0] = m->win_class[2] = tide_zcp_mix_in_force(st);
		m->win_class[1] = mix_other(st);
		memset(m->cycles, 0, sizeof(m->cycles));
		memset(m->bytes, 0, sizeof(m->bytes));
		/* Every later stamp of this trial is one of e + 1 .. e + 7. */
		m->win_epoch[0] = (uint8_t)(e + 2);
		m->win_epoch[1] = (uint8_t)(e + 4);
		m->win_epoch[2] = (uint8_t)(e + 6);
		m->left = TIDE_ZCP_MIX_SETTLE;
		break;
	case TIDE_ZCP_MIX_WARM_A:
	case TIDE_ZCP_MIX_WARM_B:
	case TIDE_ZCP_MIX_WARM_A2:
		m->left = TIDE_ZCP_MIX_WINDOW;
		break;
	case TIDE_ZCP_MIX_A:
		st->eff_class = mix_other(st);
		m->left = TIDE_ZCP_MIX_SETTLE;
		break;
	case TIDE_ZCP_MIX_B:
		st->eff_class = tide_zcp_mix_in_force(st);
		m->left = TIDE_ZCP_MIX_SETTLE;
		break;
	case TIDE_ZCP_MIX_A2:
		/* Reports stamped from now on end the trial; none in this long: give up. */
		m->left = TIDE_ZCP_MIX_EVAL_MAX;
		break;
	default: /* TIDE_ZCP_MIX_EVAL: its reports never came */
		mix_idle(st, TIDE_ZCP_MIX_PERIOD);
		return;
	}
	m->phase++;
	m->epoch = (uint8_t)(e + 1);
}

/*
 * What the recent mix would cost at window @p w's costs per byte, over the classes that
 * every window measured: each class's cycles per byte there times its recent bytes.
 */
static double
mix_cost(const struct tide_zcp_state *st, unsigned int w)
{
	const struct tide_zcp_mix *m = &st->mix;
	double sum = 0;

	for (unsigned int k = 0; k < TIDE_ZCP_CLASSES; k++) {
		if (m->bytes[0][k] == 0 || m->bytes[1][k] == 0 || m->bytes[2][k] == 0)
			continue;
		sum += st->cls[k].weight * tide_zcp_class_size(k) *
			(double)m->cycles[w][k] / (double)m->bytes[w][k];
	}
	return sum;
}

/* All reports of the three windows are in: keep the choice in force, or switch. */
static void
mix_eval(struct tide_zcp_state *st)
{
	struct tide_zcp_mix *m = &st->mix;
	double a = (mix_cost(st, 0) + mix_cost(st, 2)) / 2, b = mix_cost(st, 1);

	if (!(a > 0) || !(b > 0) || st->zc_class != m->split) {
		/* Nothing comparable, or the choice moved since the trial began. */
		mix_idle(st, TIDE_ZCP_MIX_PERIOD);
		return;
	}
	m->trials++;
	m->last_ratio = b / a;
	if (m->last_ratio >= 1 - TIDE_ZCP_MIX_GAIN) {
		if (m->backoff < TIDE_ZCP_MIX_BACKOFF_MAX)
			m->backoff++;
		mix_idle(st, TIDE_ZCP_MIX_PERIOD << m->backoff);
		return;
	}
	m->backoff = 0;
	if (!m->pending) {
		/* One trial may have met a stall: the next, at once, must agree. */
		mix_idle(st, TIDE_ZCP_MIX_SETTLE);
		m->pending = true;
		return;
	}
	m->all_zc = !m->all_zc;
	m->switches++;
	mix_idle(st, TIDE_ZCP_MIX_PERIOD);
}

void
tide_zcp_mix_record(struct tide_zcp_state *st, uint8_t epoch, unsigned int k,
	enum tide_zcp_path path, uint64_t bytes, uint64_t cycles)
{
	struct tide_zcp_mix *m = &st->mix;

	for (unsigned int w = 0; w < 3; w++)
		if (epoch == m->win_epoch[w]) {
			/* Only the window's own paths: not an exploring run begun before the
			 * trial, nor a class still warming up. */
			if (path != tide_zcp_path_of(k, m->win_class[w]))
				return;
			m->cycles[w][k] += cycles;
			m->bytes[w][k] += bytes;
			return;
		}
	if (m->phase == TIDE_ZCP_MIX_EVAL && epoch == m->epoch)
		mix_eval(st);
}
