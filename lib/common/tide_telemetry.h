/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TELEMETRY_H
#define TIDE_TELEMETRY_H

/*
 * What the libraries' telemetry handlers share (internal, not installed). DPDK hands a
 * handler whatever follows the first comma, so a command that takes no parameters must
 * look: otherwise "/tide/xchg/list,junk" answers as if the junk were fine.
 */

#include <stdbool.h>

#include <rte_common.h>
#include <rte_telemetry.h>

/*
 * Register a telemetry command. DPDK refuses a help text of RTE_TEL_MAX_STRING_LEN
 * characters or more without a word, and the command then does not exist: its length is
 * checked where the library builds.
 */
#define TIDE_TEL_REGISTER(cmd, fn, help) do { \
	RTE_BUILD_BUG_ON(sizeof(help) > RTE_TEL_MAX_STRING_LEN); \
	rte_telemetry_register_cmd(cmd, fn, help); \
} while (0)

/* Whether a command that takes no parameters was given none (DPDK gives NULL or ""). */
static inline bool
tide_tel_no_params(const char *params)
{
	return params == NULL || params[0] == '\0';
}

/*
 * Add container @p e to dict @p d under @p key, keeping none (DPDK 22.11 does not free a
 * container it refuses: a full dict, a bad key). Whether it was added: a key too long is
 * cut, and the container added all the same (DPDK 22.11 then says E2BIG, a positive value).
 */
static inline bool
tide_tel_dict_add(struct rte_tel_data *d, const char *key, struct rte_tel_data *e)
{
	if (rte_tel_data_add_dict_container(d, key, e, 0) >= 0)
		return true;
	rte_tel_data_free(e);
	return false;
}

/* Puts entry @p i in dict @p list: 1, or 0 if the entry is gone or found no room. */
typedef unsigned int (tide_tel_entry_t)(struct rte_tel_data *list, unsigned int i, void *arg);

/*
 * Add to @p d a dict @p key of the first min(@p total, @p max) entries (@p add puts each
 * in), and "@p unlisted": how many of @p total it leaves out, past @p max or gone while the
 * list was made. DPDK 22.11 drops without a word what does not fit in its 16 KB answer:
 * callers bound @p max by their entries' size. 22.11 nests dicts, not arrays of dicts.
 */
static inline void
tide_tel_capped_list(struct rte_tel_data *d, const char *key, const char *unlisted,
	unsigned int total, unsigned int max, tide_tel_entry_t *add, void *arg)
{
	struct rte_tel_data *list = rte_tel_data_alloc();
	unsigned int listed = 0;

	if (list == NULL)
		return;
	rte_tel_data_start_dict(list);
	for (unsigned int i = 0; i < RTE_MIN(total, max); i++)
		listed += add(list, i, arg);
	rte_tel_data_add_dict_u64(d, unlisted, total - listed);
	tide_tel_dict_add(d, key, list);
}

#endif /* TIDE_TELEMETRY_H */
