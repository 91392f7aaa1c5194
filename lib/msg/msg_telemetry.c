/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Telemetry: /tide/xchg/{list,info}, /tide/bcast/{list,info}, /tide/stage/{list,info},
 * /tide/proxy/info.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "msg_private.h"
#include "tide_telemetry.h"

static void
tel_add_name(const char *name, void *arg)
{
	rte_tel_data_add_array_string(arg, name);
}

static int
tel_xchg_list(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	if (!tide_tel_no_params(params))
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	tide_msg_pvt_xchg_foreach(tel_add_name, d);
	return 0;
}

/* What /tide/xchg/info fills: the reply, and its per-level arrays (allocated beforehand). */
struct tel_xchg {
	struct rte_tel_data *d;
	struct rte_tel_data *lv[3]; /* sent, received, waiting */
};

/* The exchange's counters, read while it cannot be freed (tide_msg_pvt_xchg_read). */
static void
tel_xchg_fill(const void *p, void *arg)
{
	const struct tide_xchg *x = p;
	struct tel_xchg *t = arg;
	struct rte_tel_data *d = t->d;
	uint64_t refused = 0;

	for (unsigned int l = 0; l < x->nb_prio; l++) {
		uint64_t sent = 0, recv = 0;

		for (unsigned int s = 0; s <= RTE_MAX_LCORE; s++) {
			sent += x->stats[s].sent[l];
			recv += x->stats[s].received[l];
		}
		rte_tel_data_add_array_u64(t->lv[0], sent);
		rte_tel_data_add_array_u64(t->lv[1], recv);
		rte_tel_data_add_array_u64(t->lv[2], tide_xring_pvt_count(&x->ring, l));
	}
	for (unsigned int s = 0; s <= RTE_MAX_LCORE; s++)
		refused += x->stats[s].refused;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", x->name);
	rte_tel_data_add_dict_string(d, "type", x->type == TIDE_XCHG_FIFO ? "fifo" : "prio");
	rte_tel_data_add_dict_u64(d, "levels", x->nb_prio);
	rte_tel_data_add_dict_u64(d, "capacity", tide_xring_pvt_capacity(&x->ring));
	rte_tel_data_add_dict_u64(d, "single_sender", x->ring.senders.single);
	rte_tel_data_add_dict_u64(d, "single_receiver", x->ring.receivers.single);
	rte_tel_data_add_dict_int(d, "socket", x->socket_id);
	rte_tel_data_add_dict_u64(d, "refused", refused);
	rte_tel_data_add_dict_u64(d, "sleepers", x->sleepers.n);
	rte_tel_data_add_dict_u64(d, "turn_takeovers", x->ring.senders.takeovers +
		x->ring.receivers.takeovers);
	tide_tel_dict_add(d, "sent", t->lv[0]);
	tide_tel_dict_add(d, "received", t->lv[1]);
	tide_tel_dict_add(d, "waiting", t->lv[2]);
}

static int
tel_xchg_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct tel_xchg t = { .d = d };
	int ret = 0;

	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	/* Allocated before the directories' lock is taken, which the fill holds. */
	for (unsigned int i = 0; i < RTE_DIM(t.lv) && ret == 0; i++) {
		t.lv[i] = rte_tel_data_alloc();
		if (t.lv[i] == NULL)
			ret = -ENOMEM;
		else
			rte_tel_data_start_array(t.lv[i], RTE_TEL_U64_VAL);
	}
	/* Without tide_msg_init(), a plain "not found": the query is no misuse of the API. */
	if (ret == 0 && tide_msg_pvt_xchg_read(params, tel_xchg_fill, &t) != 0)
		ret = -EINVAL;
	if (ret != 0)
		for (unsigned int i = 0; i < RTE_DIM(t.lv); i++)
			rte_tel_data_free(t.lv[i]);
	return ret;
}

static int
tel_bcast_list(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	if (!tide_tel_no_params(params))
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	tide_msg_pvt_bcast_foreach(tel_add_name, d);
	return 0;
}

static int
tel_bcast_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct msg_bcast_info b;

	if (params == NULL || tide_msg_pvt_bcast_info(params, &b) != 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", params);
	rte_tel_data_add_dict_u64(d, "readers", b.readers);
	rte_tel_data_add_dict_u64(d, "posts", b.posts);
	rte_tel_data_add_dict_u64(d, "posted", b.posted);
	rte_tel_data_add_dict_u64(d, "done", b.done);
	rte_tel_data_add_dict_u64(d, "sleepers", b.sleepers);
	return 0;
}

static int
tel_stage_list(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	if (!tide_tel_no_params(params))
		return -EINVAL;
	rte_tel_data_start_dict(d);
	for (uint16_t s = 0; s < TIDE_STAGE_MAX; s++) {
		/* A free slot is one the table holds no name for: a stage may be named "(rx)". */
		const char *name = tide_msg_pvt_stage_copy(s, NULL);
		char key[16];

		if (name == NULL)
			continue;
		snprintf(key, sizeof(key), "%u", s);
		rte_tel_data_add_dict_string(d, key, name);
	}
	return 0;
}

/* A stage id: decimal digits only (strtoul() alone takes blanks, a sign, "0x" and ""). */
static int
tel_stage_id(const char *params, uint16_t *stage)
{
	unsigned long v;

	if (params == NULL || params[0] == '\0' || params[strspn(params, "0123456789")] != '\0')
		return -EINVAL;
	errno = 0;
	v = strtoul(params, NULL, 10);
	if (errno == ERANGE || v >= TIDE_STAGE_MAX)
		return -EINVAL;
	*stage = (uint16_t)v;
	return 0;
}

static int
tel_stage_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	char name[TIDE_STAGE_NAMESIZE];
	const char *copy;
	uint32_t pid;
	uint16_t s;
	int held;

	if (tel_stage_id(params, &s) != 0)
		return -EINVAL;
	/* Name and process read together; a secondary's stages are in the shared table too. */
	copy = tide_msg_pvt_stage_copy(s, &pid);
	if (copy == NULL)
		return -EINVAL;
	strlcpy(name, copy, sizeof(name));
	held = tide_stage_list(s, NULL, 0);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "id", s);
	rte_tel_data_add_dict_string(d, "name", name);
	rte_tel_data_add_dict_u64(d, "pid", pid);
	rte_tel_data_add_dict_u64(d, "held", held < 0 ? 0 : (uint64_t)held);
	return 0;
}

/* The proxy area: its size, proxies made and not released, and free ones. */
static int
tel_proxy_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	uint32_t size, live;

	if (!tide_tel_no_params(params))
		return -EINVAL;
	tide_msg_pvt_proxy_counts(&size, &live);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "size", size);
	rte_tel_data_add_dict_u64(d, "in_use", live);
	rte_tel_data_add_dict_u64(d, "free", size - live);
	return 0;
}

/*
 * What EAL calls: a handler between tide_msg_pvt_tel_enter() and tide_msg_pvt_tel_leave(),
 * so that tide_msg_fini() in another thread waits for it instead of freeing what it reads.
 */
#define TEL_IN(fn) \
static int \
fn##_in(const char *cmd, const char *params, struct rte_tel_data *d) \
{ \
	int ret; \
\
	tide_msg_pvt_tel_enter(); \
	ret = fn(cmd, params, d); \
	tide_msg_pvt_tel_leave(); \
	return ret; \
}

TEL_IN(tel_xchg_list)
TEL_IN(tel_xchg_info)
TEL_IN(tel_bcast_list)
TEL_IN(tel_bcast_info)
TEL_IN(tel_stage_list)
TEL_IN(tel_stage_info)
TEL_IN(tel_proxy_info)

RTE_INIT(msg_telemetry_init)
{
	TIDE_TEL_REGISTER("/tide/xchg/list", tel_xchg_list_in,
		"Lists the exchanges. No parameters");
	TIDE_TEL_REGISTER("/tide/xchg/info", tel_xchg_info_in,
		"Shows an exchange's set-up and counters per priority level. Parameters: name");
	TIDE_TEL_REGISTER("/tide/bcast/list", tel_bcast_list_in,
		"Lists the broadcast exchanges. No parameters");
	TIDE_TEL_REGISTER("/tide/bcast/info", tel_bcast_info_in,
		"Shows a broadcast exchange. Parameters: name");
	TIDE_TEL_REGISTER("/tide/stage/list", tel_stage_list_in,
		"Lists the stages, by id. No parameters");
	TIDE_TEL_REGISTER("/tide/stage/info", tel_stage_info_in,
		"Shows a stage's process and how many messages it holds. Parameters: stage id");
	TIDE_TEL_REGISTER("/tide/proxy/info", tel_proxy_info_in,
		"Shows the proxy area: its size, proxies in use and free ones. No parameters");
}
