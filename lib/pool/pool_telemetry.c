/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Telemetry: /tide/pool/list, /tide/pool/info,<name> and /tide/mp (the primary's record of
 * its secondaries and its multi-process counters).
 *
 * A bad request is answered with a reason, {"error": "..."}, not a bare null: a missing
 * or over-long name, a pool that does not exist, parameters to a command that takes none.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_telemetry.h>

#include "pool_private.h"
#include "tide_mempool.h"
#include "tide_telemetry.h"

int
pool_tel_error(struct rte_tel_data *d, const char *fmt, ...)
{
	char msg[RTE_TEL_MAX_STRING_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

bool
pool_tel_no_params(const char *params, struct rte_tel_data *d)
{
	if (tide_tel_no_params(params))
		return true;
	pool_tel_error(d, "this command takes no parameters");
	return false;
}

bool
pool_tel_name_ok(const char *params, const char *what, const char *list, size_t max_len,
	struct rte_tel_data *d)
{
	if (params == NULL || params[0] == '\0') {
		pool_tel_error(d, "missing parameter: a %s name (%s lists them)", what, list);
		return false;
	}
	if (strnlen(params, max_len + 1) > max_len) {
		pool_tel_error(d, "%s name longer than %zu characters", what, max_len);
		return false;
	}
	return true;
}

static void
pool_tel_name(const char *name, void *arg)
{
	rte_tel_data_add_array_string(arg, name);
}

static int
pool_tel_list(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	if (!pool_tel_no_params(params, d))
		return 0;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pool_dir_names(false, pool_tel_name, d);
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
	rte_tel_data_add_dict_u64(d, "wall_bytes", st->wall_bytes);
	rte_tel_data_add_dict_u64(d, "wall_held", st->wall_held);
	rte_tel_data_add_dict_u64(d, "reap_period_ms", tp->params.reap_period_ms);
	rte_tel_data_add_dict_u64(d, "idle_ms", tp->params.idle_ms);
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
	rte_tel_data_add_dict_u64(d, "grows_remote", st->grows_remote);
	rte_tel_data_add_dict_u64(d, "grows_ext", st->grows_ext);
	rte_tel_data_add_dict_u64(d, "ext_blocks", st->nb_ext_blocks);
	rte_tel_data_add_dict_u64(d, "grow_fails", st->grow_fails);
	rte_tel_data_add_dict_u64(d, "grow_backoff_ms", st->grow_backoff_ms);
	rte_tel_data_add_dict_u64(d, "wall_hits", st->wall_hits);
	rte_tel_data_add_dict_u64(d, "grow_waits", st->grow_waits);
	rte_tel_data_add_dict_u64(d, "deq_refused", st->deq_refused);
	rte_tel_data_add_dict_u64(d, "lock_yields", st->lock_yields);
	rte_tel_data_add_dict_u64(d, "reaps", st->reaps);
	rte_tel_data_add_dict_u64(d, "reap_vetoes", st->reap_vetoes);
	rte_tel_data_add_dict_u64(d, "cache_drains", st->cache_drains);
	rte_tel_data_add_dict_u64(d, "demotes", st->demotes);
	rte_tel_data_add_dict_u64(d, "waiting", st->waiting);
	rte_tel_data_add_dict_u64(d, "waits_served", st->waits_served);
	rte_tel_data_add_dict_u64(d, "waits_timedout", st->waits_timedout);
	rte_tel_data_add_dict_u64(d, "waits_cancelled", st->waits_cancelled);
	rte_tel_data_add_dict_u64(d, "ticks", st->ticks);
	rte_tel_data_add_dict_u64(d, "node_misses", st->node_misses);
	/* Mistakes of the application the driver caught (and dropped the pointer). */
	rte_tel_data_add_dict_u64(d, "foreign_frees", st->foreign_frees);
	rte_tel_data_add_dict_u64(d, "double_frees", st->double_frees);
	rte_tel_data_add_dict_u64(d, "lock_recovered", st->lock_recovered);
}

/*
 * Blocks /tide/pool/info lists. DPDK 22.11 writes an answer into 16 KB and leaves out,
 * without a word, a container that does not fit there: at most ~200 characters a block,
 * 64 of them leave room for the counters.
 */
#define TEL_BLOCKS_MAX 64

/* pool_tel_block()'s pool, its blocks as they were, and when. */
struct pool_tel_snap {
	const struct tide_pool *tp;
	const struct pool_blk *snap;
	uint64_t now;
};

/* Block @p i of the snapshot @p arg into @p list, keyed "b<id>"; 0 if the driver no longer
 * has it (tide_tel_entry_t).
 */
static unsigned int
pool_tel_block(struct rte_tel_data *list, unsigned int i, void *arg)
{
	const struct pool_tel_snap *s = arg;
	struct tide_pool_block v = pool_blk_view(&s->snap[i], s->now);
	struct tide_mempool_block_info bi;
	struct rte_tel_data *e;
	char key[32];

	if (tide_mempool_block_info(s->tp->mp, i, &bi) != 0 || bi.id != v.id ||
			(e = rte_tel_data_alloc()) == NULL)
		return 0;
	rte_tel_data_start_dict(e);
	rte_tel_data_add_dict_u64(e, "bytes", v.bytes);
	rte_tel_data_add_dict_u64(e, "age_ms", v.age_ms);
	rte_tel_data_add_dict_u64(e, "objs", bi.nb_objs);
	rte_tel_data_add_dict_u64(e, "out", bi.nb_objs - bi.nb_free);
	rte_tel_data_add_dict_u64(e, "idle_ms", v.idle_ms);
	/* The node of its pages: -1 not known, -2 on several nodes. */
	rte_tel_data_add_dict_int(e, "node", v.node);
	rte_tel_data_add_dict_u64(e, "off_node", v.off_node);
	/* The driver's memory of the block, to tell where a pointer freed by mistake lies. */
	rte_tel_data_add_dict_u64(e, "addr", (uintptr_t)bi.addr);
	rte_tel_data_add_dict_u64(e, "len", bi.len);
	snprintf(key, sizeof(key), "b%" PRIu64, v.id);
	return tide_tel_dict_add(list, key, e);
}

/* "block_list", the first TEL_BLOCKS_MAX blocks, oldest first, and "blocks_unlisted". */
static void
pool_tel_blocks(struct rte_tel_data *d, const struct tide_pool *tp)
{
	struct pool_blk snap[TEL_BLOCKS_MAX];
	struct pool_tel_snap s = { .tp = tp, .snap = snap, .now = pool_now_ns() };
	uint32_t total = pool_blocks_snapshot(tp, snap, RTE_DIM(snap));

	tide_tel_capped_list(d, "block_list", "blocks_unlisted", total, RTE_DIM(snap),
		pool_tel_block, &s);
}

/* The answer about pool @p tp, pinned: it is not freed meanwhile. */
static void
pool_tel_describe(const struct tide_pool *tp, struct rte_tel_data *d)
{
	struct tide_pool_stats st;
	int ret;

	TIDE_FAULT_HOLD(TIDE_HOLD_POOL_TEL_READ);
	ret = pool_stats_locked(tp, &st);
	if (ret != 0) {
		pool_tel_error(d, "%s: its counters could not be read: %s", tp->name,
			rte_strerror(-ret));
		return;
	}
	rte_tel_data_start_dict(d);
	pool_tel_stats(d, tp, &st);
	pool_tel_blocks(d, tp);
}

static int
pool_tel_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct tide_pool *tp;
	uint32_t *pin;

	if (!pool_tel_name_ok(params, "pool", "/tide/pool/list", RTE_MEMPOOL_NAMESIZE - 1, d))
		return 0;
	tp = pool_dir_pin(NULL, params, &pin);
	if (tp == NULL)
		return pool_tel_error(d, "no elastic pool named %s", params);
	pool_tel_describe(tp, d);
	pool_dir_unpin(pin);
	return 0;
}

/* Secondaries /tide/mp lists one by one (it counts them all). */
#define TEL_MP_PEERS 64

static int
pool_tel_mp(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct tide_mp_peer peers[TEL_MP_PEERS];
	struct rte_tel_data *list;
	struct tide_mp_stats st;
	char key[16];
	int n;

	if (!pool_tel_no_params(params, d))
		return 0;
	/* A secondary serves telemetry too (dpdk-telemetry.py -i): not an error to log. */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return pool_tel_error(d, "only the primary process keeps this record");
	n = tide_mp_peers(peers, RTE_DIM(peers));
	if (n < 0 || tide_mp_stats_get(&st) != 0)
		return pool_tel_error(d, "only the primary process keeps this record");
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "secondaries", (uint64_t)n);
	rte_tel_data_add_dict_u64(d, "gone", st.gone);
	rte_tel_data_add_dict_u64(d, "returned", st.returned);
	rte_tel_data_add_dict_u64(d, "unstuck", st.unstuck);
	rte_tel_data_add_dict_u64(d, "resyncs", st.resyncs);
	rte_tel_data_add_dict_u64(d, "resync_failures", st.resync_failures);
	rte_tel_data_add_dict_u64(d, "refused", st.refused);
	list = rte_tel_data_alloc();
	if (list == NULL)
		return 0;
	rte_tel_data_start_dict(list);
	for (int i = 0; i < RTE_MIN(n, TEL_MP_PEERS); i++) {
		struct rte_tel_data *e = rte_tel_data_alloc();

		if (e == NULL)
			break;
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_u64(e, "lcores", peers[i].nb_lcores);
		rte_tel_data_add_dict_u64(e, "alive", peers[i].alive);
		snprintf(key, sizeof(key), "%d", peers[i].pid);
		tide_tel_dict_add(list, key, e);
	}
	tide_tel_dict_add(d, "by_pid", list);
	return 0;
}

RTE_INIT(pool_telemetry_init)
{
	TIDE_TEL_REGISTER("/tide/pool/list", pool_tel_list,
		"Lists the elastic pools. No parameters");
	TIDE_TEL_REGISTER("/tide/pool/info", pool_tel_info,
		"Shows an elastic pool's sizes and counters. Parameters: pool name");
	TIDE_TEL_REGISTER("/tide/mp", pool_tel_mp,
		"Lists the secondary processes attached to this primary, with its "
		"multi-process counters. No parameters");
}
