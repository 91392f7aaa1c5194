/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TPMD_TEL_H
#define TPMD_TEL_H

/*
 * tidepmd asks its own telemetry (the /tide/... commands the libraries register) for what
 * their public API does not give, such as a pool's block list with ages and idle times:
 * it connects to this process's telemetry socket as dpdk-telemetry.py would and reads
 * the JSON answer into a small tree. Main lcore only.
 */

#include <stdint.h>

enum tpmd_json_type { TPMD_JSON_NULL, TPMD_JSON_BOOL, TPMD_JSON_NUM, TPMD_JSON_STR,
	TPMD_JSON_ARR, TPMD_JSON_OBJ };

struct tpmd_json {
	enum tpmd_json_type type;
	const char *key;          /* in an object: the member's name */
	const char *str;          /* TPMD_JSON_STR */
	double num;               /* TPMD_JSON_NUM, TPMD_JSON_BOOL */
	uint64_t u64;             /* TPMD_JSON_NUM when a non-negative integer */
	struct tpmd_json *child;  /* TPMD_JSON_ARR, TPMD_JSON_OBJ: first member */
	struct tpmd_json *next;   /* next member of the parent */
};

#define TPMD_TEL_MAX_OUT 16384 /* DPDK 22.11's longest telemetry answer */
#define TPMD_TEL_MAX_NODES 2048

struct tpmd_tel {
	char buf[TPMD_TEL_MAX_OUT + 1];
	struct tpmd_json nodes[TPMD_TEL_MAX_NODES];
	unsigned int nb_nodes;
};

/**
 * Run telemetry command @p cmd ("/tide/pool/info,name") in this process.
 *
 * @return
 *   The command's answer (TPMD_JSON_NULL when the command refused its parameters), or
 *   NULL when telemetry cannot be reached (--no-telemetry) or answered nonsense.
 */
const struct tpmd_json *tpmd_tel_query(struct tpmd_tel *tel, const char *cmd);

/** Member @p key of object @p o, or NULL. */
const struct tpmd_json *tpmd_json_get(const struct tpmd_json *o, const char *key);

/** Member @p key of @p o as an unsigned integer, 0 if it is missing or not one. */
uint64_t tpmd_json_u64(const struct tpmd_json *o, const char *key);

/** Member @p key of @p o as a string, "" if it is missing or not one. */
const char *tpmd_json_str(const struct tpmd_json *o, const char *key);

#endif
