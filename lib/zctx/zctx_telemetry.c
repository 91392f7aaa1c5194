/* SPDX-License-Identifier: BSD-3-Clause */

/* Telemetry: /tide/zctx/list and /tide/zctx/info,<name> (the instance and the cache). */

#include <errno.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "tide_telemetry.h"
#include "zctx_private.h"

static int
zc_tel_list(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct tide_zctx *z;

	if (!tide_tel_no_params(params))
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	tide_zctx_pvt_registry_lock();
	for (z = tide_zctx_pvt_registry_first_locked(); z != NULL;
			z = tide_zctx_pvt_registry_next_locked(z))
		rte_tel_data_add_array_string(d, z->name);
	tide_zctx_pvt_registry_unlock();
	return 0;
}

static void
zc_tel_stats(struct rte_tel_data *d, const struct tide_zctx *z, const struct tide_zctx_stats *s,
	const struct tide_zctx_cache_stats *c)
{
	rte_tel_data_add_dict_string(d, "name", z->name);
	rte_tel_data_add_dict_u64(d, "depth", z->fast.depth);
	rte_tel_data_add_dict_u64(d, "ports", z->params.nb_ports);
	rte_tel_data_add_dict_int(d, "agent_lcore", z->params.agent_lcore);
	rte_tel_data_add_dict_u64(d, "threshold", s->threshold);
	rte_tel_data_add_dict_u64(d, "adaptive", s->adaptive);
	rte_tel_data_add_dict_u64(d, "mix_trials",
		__atomic_load_n(&z->cnt.mix_trials, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "mix_switches",
		__atomic_load_n(&z->cnt.mix_switches, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "mix_all_zc",
		__atomic_load_n(&z->cnt.mix_all_zc, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "submitted", s->submitted);
	rte_tel_data_add_dict_u64(d, "completed", s->completed);
	rte_tel_data_add_dict_u64(d, "failed", s->failed);
	rte_tel_data_add_dict_u64(d, "cancelled", s->cancelled);
	rte_tel_data_add_dict_u64(d, "eagain", s->eagain);
	rte_tel_data_add_dict_u64(d, "rejected", s->rejected);
	rte_tel_data_add_dict_u64(d, "inflight", s->inflight);
	rte_tel_data_add_dict_u64(d, "zc_sends", s->zc_sends);
	rte_tel_data_add_dict_u64(d, "copy_sends", s->copy_sends);
	rte_tel_data_add_dict_u64(d, "zc_bytes", s->zc_bytes);
	rte_tel_data_add_dict_u64(d, "copy_bytes", s->copy_bytes);
	rte_tel_data_add_dict_u64(d, "zc_released", s->zc_released);
	rte_tel_data_add_dict_u64(d, "packets", s->packets);
	rte_tel_data_add_dict_u64(d, "tx_bursts", s->tx_bursts);
	rte_tel_data_add_dict_u64(d, "segments", s->segments);
	rte_tel_data_add_dict_u64(d, "tx_stalls", s->tx_stalls);
	rte_tel_data_add_dict_u64(d, "busy_cycles", s->busy_cycles);
	rte_tel_data_add_dict_u64(d, "cache_spans", c->spans);
	rte_tel_data_add_dict_u64(d, "cache_pinned_bytes", c->pinned_bytes);
	rte_tel_data_add_dict_u64(d, "cache_idle_bytes", c->idle_bytes);
	rte_tel_data_add_dict_u64(d, "cache_pin_limit", c->pin_limit);
	rte_tel_data_add_dict_u64(d, "cache_idle_limit", c->idle_limit);
	rte_tel_data_add_dict_u64(d, "cache_hits", c->hits);
	rte_tel_data_add_dict_u64(d, "cache_misses", c->misses);
	rte_tel_data_add_dict_u64(d, "cache_evictions", c->evictions);
	rte_tel_data_add_dict_u64(d, "cache_pinned_total", c->pinned_total);
	rte_tel_data_add_dict_u64(d, "cache_unpinned_total", c->unpinned_total);
	rte_tel_data_add_dict_u64(d, "cache_dpdk_mem", c->dpdk_mem);
	rte_tel_data_add_dict_u64(d, "blocks", c->blocks);
	rte_tel_data_add_dict_u64(d, "blocks_in_use", c->blocks_in_use);
	rte_tel_data_add_dict_u64(d, "block_holds", c->block_holds);
	rte_tel_data_add_dict_u64(d, "block_vetoes", c->block_vetoes);
	rte_tel_data_add_dict_u64(d, "blocks_lost", c->blocks_lost);
}

static int
zc_tel_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct tide_zctx_cache_stats c;
	struct tide_zctx_stats s;
	struct tide_zctx *z;
	int ret = -EINVAL;

	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	rte_tel_data_start_dict(d);
	tide_zctx_pvt_registry_lock();
	z = tide_zctx_pvt_registry_find_locked(params);
	if (z != NULL && tide_zctx_stats_get(z, &s) == 0 && tide_zctx_cache_stats_get(&c) == 0) {
		zc_tel_stats(d, z, &s, &c);
		ret = 0;
	}
	tide_zctx_pvt_registry_unlock();
	return ret;
}

RTE_INIT(zc_telemetry_init)
{
	TIDE_TEL_REGISTER("/tide/zctx/list", zc_tel_list,
		"Lists the zero-copy TX instances. No parameters");
	TIDE_TEL_REGISTER("/tide/zctx/info", zc_tel_info,
		"Shows a zero-copy TX instance's counters and the pin cache. Parameters: name");
}
