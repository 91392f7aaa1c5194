/* SPDX-License-Identifier: BSD-3-Clause */

/* Pool profiles: parsing and lookup (see pool_profile.h). No file, clock or EAL access. */

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pool_profile.h"
#include "tide_config.h"

/* Ranges of the time keys. */
#define PROFILE_MAX_REAP_MS (3600u * 1000)
#define PROFILE_MAX_IDLE_MS (24u * 3600 * 1000)
#define PROFILE_MAX_TICK_US (1000u * 1000)
/* A block larger than this is a mistake, not a plan (as tide_pool_create() says). */
#define PROFILE_MAX_BYTES (1ull << 40)

void
tide_profile_defaults(struct tide_pool_profile *p)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->pattern, "*");
	p->base = (struct tide_profile_size){ .num = 1, .den = TIDE_POOL_PROFILE_BASE_DEN };
	p->block = (struct tide_profile_size){ .bytes = TIDE_POOL_PROFILE_BLOCK_BYTES };
	p->wall = (struct tide_profile_size){ .num = 1, .den = 1 };
	p->reap_ms = TIDE_POOL_PROFILE_REAP_MS;
	p->idle_ms = TIDE_POOL_PROFILE_IDLE_MS;
	p->tick_us = TIDE_POOL_PROFILE_TICK_US;
}

/* A decimal number of at most max, all of [s, e). */
static bool
prof_number(const char *s, const char *e, uint64_t max, uint64_t *v)
{
	uint64_t n = 0;

	if (s == e)
		return false;
	for (; s < e; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		if (n > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return true;
}

/* SIZE: bytes[K|M|G], num/den or pct%. A share is at most the whole. */
static bool
prof_size(const char *s, const char *e, struct tide_profile_size *out)
{
	const char *slash = memchr(s, '/', (size_t)(e - s));
	uint64_t a, b, mul = 1;

	memset(out, 0, sizeof(*out));
	if (slash != NULL) {
		if (!prof_number(s, slash, UINT32_MAX, &a) ||
				!prof_number(slash + 1, e, UINT32_MAX, &b) || a == 0 || b == 0 ||
				a > b)
			return false;
		*out = (struct tide_profile_size){ .num = (uint32_t)a, .den = (uint32_t)b };
		return true;
	}
	if (e > s && e[-1] == '%') {
		if (!prof_number(s, e - 1, 100, &a) || a == 0)
			return false;
		*out = (struct tide_profile_size){ .num = (uint32_t)a, .den = 100 };
		return true;
	}
	if (e > s) {
		switch (toupper((unsigned char)e[-1])) {
		case 'K': mul = 1ull << 10; e--; break;
		case 'M': mul = 1ull << 20; e--; break;
		case 'G': mul = 1ull << 30; e--; break;
		default: break;
		}
	}
	if (!prof_number(s, e, PROFILE_MAX_BYTES / mul, &a) || a == 0)
		return false;
	out->bytes = a * mul;
	return true;
}

/* One key=value (or flag) token; NULL on success, else why it is refused. */
static const char *
prof_key(const char *s, const char *e, struct tide_pool_profile *p, uint32_t *seen)
{
	static const char * const keys[] = { "base", "block", "wall", "reap", "idle", "tick",
		"fixed", "priv" };
	const char *eq = memchr(s, '=', (size_t)(e - s));
	size_t klen = (size_t)((eq != NULL ? eq : e) - s);
	unsigned int k;
	uint64_t v;

	for (k = 0; k < (sizeof(keys) / sizeof(keys[0])); k++)
		if (strlen(keys[k]) == klen && memcmp(keys[k], s, klen) == 0)
			break;
	if (k == (sizeof(keys) / sizeof(keys[0])))
		return "unknown key (base, block, wall, reap, idle, tick, fixed, priv)";
	if (*seen & (1u << k))
		return "key given twice";
	*seen |= 1u << k;
	if (k >= 6) {
		if (eq != NULL)
			return k == 6 ? "fixed takes no value" : "priv takes no value";
		if (k == 6)
			p->fixed = true;
		else
			p->priv = true;
		return NULL;
	}
	if (eq == NULL)
		return "key without a value (key=value)";
	eq++;
	switch (k) {
	case 0:
		return prof_size(eq, e, &p->base) ? NULL :
			"bad size (bytes with K/M/G, a fraction n/d or a percentage)";
	case 1:
		return prof_size(eq, e, &p->block) ? NULL :
			"bad size (bytes with K/M/G, a fraction n/d or a percentage)";
	case 2:
		return prof_size(eq, e, &p->wall) ? NULL :
			"bad size (bytes with K/M/G, a fraction n/d or a percentage)";
	case 3:
		if (!prof_number(eq, e, PROFILE_MAX_REAP_MS, &v))
			return "reap must be 0 to 3600000 ms";
		p->reap_ms = (uint32_t)v;
		return NULL;
	case 4:
		if (!prof_number(eq, e, PROFILE_MAX_IDLE_MS, &v) || v == 0)
			return "idle must be 1 to 86400000 ms";
		p->idle_ms = (uint32_t)v;
		return NULL;
	default:
		if (!prof_number(eq, e, PROFILE_MAX_TICK_US, &v) || v == 0)
			return "tick must be 1 to 1000000 us";
		p->tick_us = (uint32_t)v;
		return NULL;
	}
}

static const char *
prof_skip_space(const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	return s;
}

static const char *
prof_token_end(const char *s, const char *e)
{
	while (s < e && !isspace((unsigned char)*s))
		s++;
	return s;
}

int
tide_profile_parse_line(const char *text, size_t len, struct tide_pool_profile *p,
	const char **reason)
{
	const char *hash = memchr(text, '#', len);
	const char *e = hash != NULL ? hash : text + len;
	const char *s = prof_skip_space(text, e), *t;
	uint32_t seen = 0;

	if (s == e)
		return 0;
	tide_profile_defaults(p);
	t = prof_token_end(s, e);
	if (memchr(s, '=', (size_t)(t - s)) != NULL) {
		*reason = "a line starts with a pool-name pattern";
		return -EINVAL;
	}
	if ((size_t)(t - s) >= sizeof(p->pattern)) {
		*reason = "pattern longer than 63 characters";
		return -EINVAL;
	}
	memcpy(p->pattern, s, (size_t)(t - s));
	p->pattern[t - s] = '\0';
	for (s = prof_skip_space(t, e); s < e; s = prof_skip_space(t, e)) {
		t = prof_token_end(s, e);
		*reason = prof_key(s, t, p, &seen);
		if (*reason != NULL)
			return -EINVAL;
	}
	return 1;
}

unsigned int
tide_profile_lookup(const char *text, const char *name, struct tide_pool_profile *p,
	tide_profile_error_t *err, void *arg)
{
	struct tide_pool_profile cand;
	unsigned int line = 0, bad = 0;
	const char *s = text, *nl, *reason;
	bool found = false;

	tide_profile_defaults(p);
	while (s != NULL && *s != '\0') {
		nl = strchr(s, '\n');
		line++;
		switch (tide_profile_parse_line(s, nl != NULL ? (size_t)(nl - s) : strlen(s),
				&cand, &reason)) {
		case 1:
			if (!found && fnmatch(cand.pattern, name, 0) == 0) {
				cand.line = line;
				*p = cand;
				found = true;
			}
			break;
		case 0:
			break;
		default:
			bad++;
			if (err != NULL)
				err(arg, line, reason);
			break;
		}
		s = nl != NULL ? nl + 1 : NULL;
	}
	return bad;
}

uint64_t
tide_profile_bytes(const struct tide_profile_size *s, uint64_t requested)
{
	if (s->den == 0)
		return s->bytes;
	return (uint64_t)((unsigned __int128)requested * s->num / s->den);
}
