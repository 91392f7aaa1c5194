/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Telemetry: /tide/mempool/list (every mempool whose ops are "tide") and
 * /tide/mempool/info,<name> (the driver's counters of one, and its first 64 blocks).
 *
 * /tide/pool/{list,info} show the elastic pools of the pool library; these show what the
 * driver knows of any mempool that uses its ops: non-pktmbuf pools, fixed profiles, pools
 * that an application built on the driver alone, an elastic pool's driver side.
 *
 * A mempool is found and read while none can be freed (tide_mempool_walk_held()).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "tide_mempool.h"
#include "tide_mempool_walk.h"
#include "tide_telemetry.h"

/*
 * Most blocks listed: DPDK 22.11 drops without a word what does not fit in its 16 KB
 * answer; at most ~120 characters a block, 64 of them leave room for the counters.
 */
#define TMT_BLOCKS_MAX 64

/* What is done to each mempool that uses the tide ops; true stops the walk. */
struct tmt_walk {
	tide_mempool_visit_t *fn;
	void *arg;
};

static bool
tmt_uses_tide_ops(const struct rte_mempool *mp)
{
	return strcmp(rte_mempool_get_ops(mp->ops_index)->name, TIDE_MEMPOOL_OPS_NAME) == 0;
}

static bool
tmt_walk_one(struct rte_mempool *mp, void *arg)
{
	const struct tmt_walk *w = arg;

	return tmt_uses_tide_ops(mp) && w->fn(mp, w->arg);
}

/* Call @p fn on every mempool that uses the tide ops, while none can be freed. */
static void
tmt_walk(tide_mempool_visit_t *fn, void *arg)
{
	struct tmt_walk w = { .fn = fn, .arg = arg };

	tide_mempool_walk_held(tmt_walk_one, &w);
}

static bool
tmt_list_one(struct rte_mempool *mp, void *arg)
{
	rte_tel_data_add_array_string(arg, mp->name);
	return false;
}

static int
tmt_list(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	if (!tide_tel_no_params(params))
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	tmt_walk(tmt_list_one, d);
	return 0;
}

/* The driver's counters (all 0 for a mempool that has no pool data yet: created empty). */
static void
tmt_stats(struct rte_tel_data *d, const struct rte_mempool *mp)
{
	struct tide_mempool_stats st = { 0 };

	if (tide_mempool_is_tide(mp))
		tide_mempool_stats_get(mp, &st);
	rte_tel_data_add_dict_string(d, "name", mp->name);
	rte_tel_data_add_dict_int(d, "socket", mp->socket_id);
	rte_tel_data_add_dict_u64(d, "size", mp->size);
	rte_tel_data_add_dict_u64(d, "elt_size", mp->elt_size);
	rte_tel_data_add_dict_u64(d, "cache_size", mp->cache_size);
	rte_tel_data_add_dict_u64(d, "populated_size", mp->populated_size);
	rte_tel_data_add_dict_u64(d, "blocks", st.nb_blocks);
	rte_tel_data_add_dict_u64(d, "bytes", st.bytes);
	rte_tel_data_add_dict_u64(d, "objs", st.nb_objs);
	rte_tel_data_add_dict_u64(d, "free", st.nb_free);
	rte_tel_data_add_dict_u64(d, "deq_refused", st.nb_deq_refused);
	rte_tel_data_add_dict_u64(d, "foreign", st.nb_foreign);
	rte_tel_data_add_dict_u64(d, "double", st.nb_double);
	rte_tel_data_add_dict_u64(d, "lock_yields", st.nb_lock_yields);
	rte_tel_data_add_dict_u64(d, "lock_recovered", st.nb_lock_recovered);
	rte_tel_data_add_dict_u64(d, "list_walks", st.nb_list_walks);
}

/* Block @p i of pool @p arg into @p list, keyed "b<id>" (tide_tel_entry_t). */
static unsigned int
tmt_block(struct rte_tel_data *list, unsigned int i, void *arg)
{
	const struct rte_mempool *mp = arg;
	struct tide_mempool_block_info bi;
	struct rte_tel_data *e;
	char key[32];

	if (tide_mempool_block_info(mp, i, &bi) != 0 || (e = rte_tel_data_alloc()) == NULL)
		return 0;
	rte_tel_data_start_dict(e);
	rte_tel_data_add_dict_u64(e, "bytes", bi.len);
	rte_tel_data_add_dict_u64(e, "objs", bi.nb_objs);
	rte_tel_data_add_dict_u64(e, "free", bi.nb_free);
	rte_tel_data_add_dict_u64(e, "out", bi.nb_objs - bi.nb_free);
	rte_tel_data_add_dict_u64(e, "low", bi.nb_low);
	snprintf(key, sizeof(key), "b%" PRIu64, bi.id);
	return tide_tel_dict_add(list, key, e);
}

/* "block_list", the first TMT_BLOCKS_MAX blocks, oldest first, and "blocks_unlisted". */
static void
tmt_blocks(struct rte_tel_data *d, const struct rte_mempool *mp)
{
	tide_tel_capped_list(d, "block_list", "blocks_unlisted", tide_mempool_block_count(mp),
		TMT_BLOCKS_MAX, tmt_block, (void *)(uintptr_t)mp);
}

struct tmt_info {
	const char *name;
	struct rte_tel_data *d;
	bool found;
};

static bool
tmt_info_one(struct rte_mempool *mp, void *arg)
{
	struct tmt_info *q = arg;

	if (strcmp(mp->name, q->name) != 0)
		return false;
	rte_tel_data_start_dict(q->d);
	tmt_stats(q->d, mp);
	tmt_blocks(q->d, mp);
	q->found = true;
	return true;
}

static int
tmt_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct tmt_info q = { .name = params, .d = d };

	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	tmt_walk(tmt_info_one, &q);
	return q.found ? 0 : -EINVAL;
}

RTE_INIT(tmt_telemetry_init)
{
	TIDE_TEL_REGISTER("/tide/mempool/list", tmt_list,
		"Lists the mempools that use the tide ops. No parameters");
	TIDE_TEL_REGISTER("/tide/mempool/info", tmt_info,
		"Shows a tide mempool's driver counters and its first 64 blocks. Parameters: name");
}
