/* SPDX-License-Identifier: BSD-3-Clause */

/* Checked number parsing for command-line options and prompt commands. */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tide_app.h"
#include "tide_app_opt.h"

/* How much of a bad value a message repeats: the reason and the range come after it, and
 * a long value would push them out of the message.
 */
#define OPT_SHOW 40
#define OPT_SHOWN(arg) OPT_SHOW, (arg) != NULL ? (arg) : "", \
	(arg) != NULL && strlen(arg) > OPT_SHOW ? "..." : ""

/* An integer starts with a digit: no sign, no blank. */
static int
opt_starts_ok(const char *arg)
{
	return arg != NULL && isdigit((unsigned char)arg[0]);
}

/*
 * A fraction is digits with at most one '.' among them: strtod() alone would also take
 * blanks, signs, exponents, hexadecimal ("0x10") and "inf".
 */
static bool
opt_decimal(const char *arg)
{
	size_t n;

	if (arg == NULL)
		return false;
	n = strspn(arg, "0123456789");
	if (arg[n] == '.')
		n += 1 + strspn(arg + n + 1, "0123456789");
	return arg[n] == '\0' && strpbrk(arg, "0123456789") != NULL;
}

int
tide_app_parse_u64(const char *arg, uint64_t min, uint64_t max, uint64_t *v, char *err,
	size_t len)
{
	unsigned long long x;
	char *end;

	if (!opt_starts_ok(arg))
		goto not_a_number;
	errno = 0;
	/* Decimal, or hexadecimal with 0x; never octal ("010" is ten). */
	x = strtoull(arg, &end, arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X') ? 16 : 10);
	if (*end != '\0')
		goto not_a_number;
	if (errno == ERANGE || x < min || x > max) {
		snprintf(err, len, "'%.*s%s' is out of range; accepted: %" PRIu64 "..%" PRIu64,
			OPT_SHOWN(arg), min, max);
		return -EINVAL;
	}
	*v = x;
	return 0;
not_a_number:
	snprintf(err, len, "'%.*s%s' is not a number; accepted: %" PRIu64 "..%" PRIu64,
		OPT_SHOWN(arg), min, max);
	return -EINVAL;
}

int
tide_app_parse_double(const char *arg, double min, double max, double *v, char *err,
	size_t len)
{
	double x;
	char *end;

	if (!opt_decimal(arg))
		goto not_a_number;
	errno = 0;
	x = strtod(arg, &end);
	if (*end != '\0')
		goto not_a_number;
	/* Past a double's range is out of range; below its precision (ERANGE with a value
	 * near 0) is the value strtod() gives, which the range then judges.
	 */
	if ((errno == ERANGE && fabs(x) >= 1) || !isfinite(x) || x < min || x > max) {
		snprintf(err, len, "'%.*s%s' is out of range; accepted: %.15g..%.15g",
			OPT_SHOWN(arg), min, max);
		return -EINVAL;
	}
	*v = x;
	return 0;
not_a_number:
	snprintf(err, len, "'%.*s%s' is not a number; accepted: %.15g..%.15g",
		OPT_SHOWN(arg), min, max);
	return -EINVAL;
}

int
tide_app_opt_u64(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *v)
{
	char err[160];

	if (tide_app_parse_u64(arg, min, max, v, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s: %s: %s\n", tide_app_prog(), opt, err);
	return -EINVAL;
}

int
tide_app_opt_uint(const char *opt, const char *arg, unsigned int min, unsigned int max,
	unsigned int *v)
{
	uint64_t x;

	if (tide_app_opt_u64(opt, arg, min, max, &x) != 0)
		return -EINVAL;
	*v = (unsigned int)x;
	return 0;
}

int
tide_app_opt_size(const char *opt, const char *arg, size_t min, size_t max, size_t *v)
{
	uint64_t x;

	if (tide_app_opt_u64(opt, arg, min, max, &x) != 0)
		return -EINVAL;
	*v = (size_t)x;
	return 0;
}

int
tide_app_opt_double(const char *opt, const char *arg, double min, double max, double *v)
{
	char err[160];

	if (tide_app_parse_double(arg, min, max, v, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s: %s: %s\n", tide_app_prog(), opt, err);
	return -EINVAL;
}

int
tide_app_opt_list(const char *opt, const char *arg, const char *accepted,
	int (*fn)(char *elem, void *ctx), void *ctx)
{
	char *copy, *elem, *next;
	unsigned int i = 1;
	int ret = 0;

	if (arg[strspn(arg, ",")] == '\0') {
		fprintf(stderr, "%s: %s: empty list '%s'; accepted: %s\n", tide_app_prog(), opt,
			arg, accepted);
		return -EINVAL;
	}
	copy = strdup(arg);
	if (copy == NULL) {
		fprintf(stderr, "%s: %s: no memory to read the list\n", tide_app_prog(), opt);
		return -ENOMEM;
	}
	for (elem = copy; elem != NULL && ret == 0; elem = next, i++) {
		next = strchr(elem, ',');
		if (next != NULL)
			*next++ = '\0';
		if (*elem == '\0') {
			fprintf(stderr, "%s: %s: element %u of '%s' is empty; accepted: %s\n",
				tide_app_prog(), opt, i, arg, accepted);
			ret = -EINVAL;
		} else {
			ret = fn(elem, ctx);
		}
	}
	free(copy);
	return ret;
}
