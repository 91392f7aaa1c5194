/* SPDX-License-Identifier: BSD-3-Clause */

/* Telemetry: /tide/pool/list and /tide/pool/info,<name>. */

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "pool_private.h"

static int
pool_tel_list(const char *cmd __rte_unused, const char *params __rte_unused,
	struct rte_tel_data *d)
{
	struct tide_pool *tp;

	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pool_registry_lock();
	for (tp = pool_first_locked(); tp != NULL; tp = pool_next_locked(tp))
		rte_tel_data_add_array_string(d, tp->name);
	pool_registry_unlock();
	return 0;
}

static void
pool_tel_stats(struct rte_tel_data *d, const struct tide_pool *tp,
	const struct tide_pool_stats *st)
{
	rte_tel_data_add_dict_string(d, "name", tp->name);
	rte_tel_data_add_dict_int(d, "socket_id", tp->params.socket_id);
	rte_tel_data_add_dict_u64(d, "data_room_size", tp->params.data_room_size);
	rte_tel_data_add_dict_u64(d, "cache_size", tp->params.cache_size);
	rte_tel_data_add_dict_u64(d, "page_size", tp->page_sz);
	rte_tel_data_add_dict_u64(d, "base_bytes", tp->base_bytes);
	rte_tel_data_add_dict_u64(d, "block_bytes", tp->block_bytes);
	rte_tel_data_add_dict_u64(d, "wall_bytes", tp->params.wall_bytes);
	rte_tel_data_add_dict_u64(d, "block_objs", tp->block_objs);
	rte_tel_data_add_dict_u64(d, "blocks", st->nb_blocks);
	rte_tel_data_add_dict_u64(d, "bytes", st->bytes);
	rte_tel_data_add_dict_u64(d, "objs", st->nb_objs);
	rte_tel_data_add_dict_u64(d, "free", st->nb_free);
	rte_tel_data_add_dict_u64(d, "cached", st->nb_cached);
	rte_tel_data_add_dict_u64(d, "in_use", st->nb_in_use);
	rte_tel_data_add_dict_u64(d, "target_free", st->target_free);
	rte_tel_data_add_dict_u64(d, "grows_ahead", st->grows_ahead);
	rte_tel_data_add_dict_u64(d, "grows_sync", st->grows_sync);
	rte_tel_data_add_dict_u64(d, "grow_fails", st->grow_fails);
	rte_tel_data_add_dict_u64(d, "wall_hits", st->wall_hits);
	rte_tel_data_add_dict_u64(d, "alloc_fails", st->alloc_fails);
}

static int
pool_tel_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct tide_pool_stats st;
	struct tide_pool *tp;
	int ret = -EINVAL;

	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	rte_tel_data_start_dict(d);
	pool_registry_lock();
	tp = pool_by_name_locked(params);
	if (tp != NULL && pool_stats_locked(tp, &st) == 0) {
		pool_tel_stats(d, tp, &st);
		ret = 0;
	}
	pool_registry_unlock();
	return ret;
}

RTE_INIT(pool_telemetry_init)
{
	rte_telemetry_register_cmd("/tide/pool/list", pool_tel_list,
		"Lists the elastic pools. No parameters");
	rte_telemetry_register_cmd("/tide/pool/info", pool_tel_info,
		"Shows an elastic pool's sizes and counters. Parameters: pool name");
}
