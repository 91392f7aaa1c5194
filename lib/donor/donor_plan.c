/* SPDX-License-Identifier: BSD-3-Clause */

/* The donor plan: own part first, then K donors of the per-process maximum (pure). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "donor_plan.h"

#define PLAN_MB_SHIFT 20
#define PLAN_MAX_SOCKETS 32

static bool
plan_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static uint64_t
plan_floor(uint64_t v, uint64_t page_sz)
{
	return v == DONOR_UNLIMITED ? v : v & ~(page_sz - 1);
}

static uint64_t
plan_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int
donor_plan_compute(const struct donor_plan_in *in, struct donor_plan *out)
{
	uint64_t pg, per, k;

	if (in == NULL || out == NULL || in->bytes == 0 || !plan_pow2(in->page_sz) ||
			in->bytes > UINT64_MAX - (in->page_sz - 1))
		return -EINVAL;
	pg = in->page_sz;
	memset(out, 0, sizeof(*out));
	out->bytes = (in->bytes + pg - 1) & ~(pg - 1);
	if (in->sys_avail != DONOR_UNLIMITED && out->bytes > in->sys_avail)
		return -ENOMEM;
	out->own = plan_min(plan_min(plan_floor(in->own_avail, pg), plan_floor(in->own_max, pg)),
		out->bytes);
	out->shortfall = out->bytes - out->own;
	if (out->shortfall == 0)
		return 0;
	per = plan_floor(in->donor_max, pg);
	if (per == 0)
		return -ENOSPC;
	per = plan_min(per, out->shortfall);
	k = out->shortfall / per + (out->shortfall % per != 0);
	if (k > in->donors_left)
		return -ENOSPC;
	out->nb_donors = (uint32_t)k;
	out->per_donor = per;
	out->last = out->shortfall - (k - 1) * per;
	return 0;
}

uint64_t
donor_plan_share(const struct donor_plan *p, uint32_t i)
{
	if (p == NULL || i >= p->nb_donors)
		return 0;
	return i + 1 == p->nb_donors ? p->last : p->per_donor;
}

uint64_t
donor_own_allowance(uint64_t limit, uint64_t used, uint64_t reserve, uint64_t page_sz,
	bool strict)
{
	uint64_t top, taken;

	if (limit == DONOR_UNLIMITED)
		return DONOR_UNLIMITED;
	if (!plan_pow2(page_sz) || limit == 0)
		return 0;
	top = strict ? limit - 1 : limit;
	taken = used > UINT64_MAX - reserve ? UINT64_MAX : used + reserve;
	if (taken >= top)
		return 0;
	return plan_floor(top - taken, page_sz);
}

uint64_t
donor_per_process_max(uint64_t configured, uint64_t measured, uint64_t page_sz)
{
	uint64_t v = configured != 0 ? configured : measured;

	if (!plan_pow2(page_sz))
		return 0;
	return plan_floor(v, page_sz);
}

/* One socket's value of "a,b,c" (megabytes); DONOR_UNLIMITED for 0 or absent. */
static int
plan_limit_value(const char *s, unsigned int socket, uint64_t *bytes)
{
	unsigned int i = 0;

	*bytes = DONOR_UNLIMITED;
	if (*s == '\0')
		return -EINVAL;
	for (;;) {
		char *end;
		unsigned long long v;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno != 0 || (*end != ',' && *end != '\0') ||
				v > (UINT64_MAX >> PLAN_MB_SHIFT) || i >= PLAN_MAX_SOCKETS)
			return -EINVAL;
		if (i == socket && v != 0)
			*bytes = (uint64_t)v << PLAN_MB_SHIFT;
		i++;
		if (*end == '\0')
			return 0;
		s = end + 1;
	}
}

int
donor_socket_limit_parse(int argc, const char *const *argv, unsigned int socket,
	uint64_t *bytes)
{
	static const char opt[] = "--socket-limit";
	const char *val = NULL;
	int i;

	if (argv == NULL || bytes == NULL)
		return -EINVAL;
	for (i = 1; i < argc && argv[i] != NULL && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], opt, sizeof(opt) - 1) != 0)
			continue;
		if (argv[i][sizeof(opt) - 1] == '=')
			val = argv[i] + sizeof(opt);
		else if (argv[i][sizeof(opt) - 1] == '\0')
			val = i + 1 < argc && argv[i + 1] != NULL ? argv[++i] : "";
	}
	if (val == NULL)
		return -ENOENT;
	return plan_limit_value(val, socket, bytes);
}

enum donor_death_action
donor_death_decide(bool pinned, bool repin_allowed, uint32_t donors_left, uint32_t attempts,
	uint32_t max_attempts)
{
	if (!pinned)
		return DONOR_DEATH_KEEP;
	if (!repin_allowed || donors_left == 0 || attempts >= max_attempts)
		return DONOR_DEATH_REPORT;
	return DONOR_DEATH_REPIN;
}
