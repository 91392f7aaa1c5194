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
 * container it refuses: a full dict, a key too long). Whether it was added.
 */
static inline bool
tide_tel_dict_add(struct rte_tel_data *d, const char *key, struct rte_tel_data *e)
{
	if (rte_tel_data_add_dict_container(d, key, e, 0) == 0)
		return true;
	rte_tel_data_free(e);
	return false;
}

#endif /* TIDE_TELEMETRY_H */
