/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Telemetry: /tide/zctx/list and /tide/zctx/info,<name> (the instance and the cache).
 *
 * Every process serves telemetry (a secondary on the socket dpdk_telemetry.v2:<n>, which
 * dpdk-telemetry.py -i reads): the instances of every process are
 * listed from the shared directory (zctx_dir.c), this process's by name, another
 * process's as <name>@<pid> (names are unique within a process only, and hold no '@').
 * The directory tells which entries are this process's (by id, start time and pid
 * namespace: one of another namespace may have this one's id), for the list and for info
 * alike. Of another process's instance, info shows what can be read from here without its
 * process-local locks: the counters tide_zctx_pvt_stats_read() reads atomically from the
 * instance (in DPDK memory), its process and whether that process is alive. The pin cache
 * is per process: "cache" names the process whose cache the cache_* and block fields
 * describe, and they are shown for this process's instances only.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "tide_telemetry.h"
#include "zctx_private.h"

/* "<name>@<pid>", or the name alone for this process's instances. */
static void
zc_tel_name(char *buf, size_t len, const char *name, uint32_t pid, bool mine)
{
	if (mine)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s@%u", name, pid);
}

static void
zc_tel_list_one(const struct tide_zctx *z __rte_unused, const char *name, uint32_t pid,
	bool mine, bool alive __rte_unused, void *arg)
{
	char buf[ZC_NAMESIZE + 16];

	zc_tel_name(buf, sizeof(buf), name, pid, mine);
	rte_tel_data_add_array_string(arg, buf);
}

static int
zc_tel_list(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	if (!tide_tel_no_params(params))
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	tide_zctx_pvt_dir_foreach(zc_tel_list_one, d);
	return 0;
}

/* What any process can read of an instance: fields set at creation, atomic counters. */
static void
zc_tel_stats(struct rte_tel_data *d, const struct tide_zctx *z, const struct tide_zctx_stats *s,
	uint32_t pid, bool alive)
{
	char cache[32];

	rte_tel_data_add_dict_string(d, "name", z->name);
	rte_tel_data_add_dict_u64(d, "depth", z->fast.depth);
	rte_tel_data_add_dict_u64(d, "ports", z->params.nb_ports);
	rte_tel_data_add_dict_u64(d, "pid", pid);
	rte_tel_data_add_dict_u64(d, "alive", alive);
	snprintf(cache, sizeof(cache), "in process %u", pid);
	rte_tel_data_add_dict_string(d, "cache", cache);
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
}

/* This process's pin cache. */
static void
zc_tel_cache(struct rte_tel_data *d, const struct tide_zctx_cache_stats *c)
{
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

/* This process's instance @p name: 0, or -EINVAL when there is none. */
static int
zc_tel_info_mine(const char *name, struct rte_tel_data *d)
{
	struct tide_zctx_cache_stats c;
	struct tide_zctx_stats s;
	struct tide_zctx *z;
	int ret = -EINVAL;

	tide_zctx_pvt_registry_lock();
	z = tide_zctx_pvt_registry_find_locked(name);
	if (z != NULL && tide_zctx_cache_stats_get(&c) == 0) {
		tide_zctx_pvt_stats_read(z, &s);
		zc_tel_stats(d, z, &s, (uint32_t)getpid(), true);
		zc_tel_cache(d, &c);
		ret = 0;
	}
	tide_zctx_pvt_registry_unlock();
	return ret;
}

/* Under the directory's read lock: another process's instance, its memory not freed. */
static void
zc_tel_info_other(const struct tide_zctx *z, const char *name __rte_unused, uint32_t pid,
	bool mine __rte_unused, bool alive, void *arg)
{
	struct tide_zctx_stats s;

	tide_zctx_pvt_stats_read(z, &s);
	zc_tel_stats(arg, z, &s, pid, alive);
}

/*
 * "<name>@<pid>" of another process: the name into @p name, the process id; 0 if not. Its
 * id may be this process's (a process of another pid namespace): the directory, as the
 * list does, tells which entry is this process's, not the id.
 */
static uint32_t
zc_tel_parse(const char *params, char *name, size_t len)
{
	const char *at = strrchr(params, '@');
	unsigned long pid;
	char *end;

	if (at == NULL || at == params || (size_t)(at - params) >= len || at[1] < '1' ||
			at[1] > '9')
		return 0;
	errno = 0;
	pid = strtoul(at + 1, &end, 10);
	if (errno != 0 || *end != '\0' || pid > UINT32_MAX)
		return 0;
	memcpy(name, params, (size_t)(at - params));
	name[at - params] = '\0';
	return (uint32_t)pid;
}

static int
zc_tel_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	char name[ZC_NAMESIZE];
	uint32_t pid;

	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	rte_tel_data_start_dict(d);
	/* No instance name holds '@' (tide_zctx_create() refuses it): one that does names
	 * another process's. */
	if (strchr(params, '@') == NULL)
		return zc_tel_info_mine(params, d);
	pid = zc_tel_parse(params, name, sizeof(name));
	if (pid == 0 || tide_zctx_pvt_dir_read(name, pid, zc_tel_info_other, d) != 0)
		return -EINVAL;
	return 0;
}

RTE_INIT(zc_telemetry_init)
{
	TIDE_TEL_REGISTER("/tide/zctx/list", zc_tel_list,
		"Lists the zero-copy TX instances: this process's by name, others' as name@pid. "
		"No parameters");
	TIDE_TEL_REGISTER("/tide/zctx/info", zc_tel_info,
		"Shows a zero-copy TX instance's counters, and the pin cache if it is this "
		"process's. Parameters: name or name@pid");
}
