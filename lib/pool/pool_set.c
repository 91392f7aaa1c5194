/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Size classes (seed 001: buffer sizes of 4 KB x 2^k, a request rounded up to the next
 * class). A pool set is one elastic pool per class, class k holding min_size << k bytes
 * after the headroom, all growing under one shared wall; each grows and reaps on its own.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include "pool_private.h"
#include "tide_config.h"
#include "tide_telemetry.h"

/* Longest set name: class names append "_<k>". */
#define SET_NAME_MAX (RTE_MEMPOOL_NAMESIZE - 3)

void
tide_pool_set_params_init(struct tide_pool_set_params *p, const char *name)
{
	if (p == NULL)
		return;
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->socket_id = SOCKET_ID_ANY;
	p->nb_classes = TIDE_POOL_SET_DEFAULT_CLASSES;
	p->min_size = TIDE_POOL_SET_DEFAULT_MIN_SIZE;
	p->cache_size = TIDE_POOL_SET_DEFAULT_CACHE;
	p->base_bytes = TIDE_POOL_SET_DEFAULT_BASE_BYTES;
	p->block_bytes = TIDE_POOL_SET_DEFAULT_BLOCK_BYTES;
	p->wall_bytes = TIDE_POOL_SET_DEFAULT_WALL_BYTES;
	p->reap_period_ms = TIDE_POOL_REAP_PERIOD_MS_DEFAULT;
	p->idle_ms = TIDE_POOL_IDLE_MS_DEFAULT;
}

/* A class's base: rounded up to whole hugepages, as tide_pool_create() does. */
static uint64_t
set_base_bytes(const struct tide_pool_set_params *p)
{
	size_t page_sz = pool_page_size(p->socket_id);

	return page_sz != 0 ? RTE_ALIGN_CEIL((uint64_t)p->base_bytes, page_sz) : p->base_bytes;
}

static int
set_params_check(const struct tide_pool_set_params *p)
{
	uint64_t top, base;
	int err;

	if (p == NULL || p->name == NULL || p->name[0] == '\0') {
		POOL_LOG(ERR, "NULL parameters or empty name");
		return EINVAL;
	}
	if (strnlen(p->name, SET_NAME_MAX + 1) > SET_NAME_MAX) {
		POOL_LOG(ERR, "set name longer than %d chars", (int)SET_NAME_MAX);
		return ENAMETOOLONG;
	}
	if (p->nb_classes == 0 || p->nb_classes > TIDE_POOL_SET_MAX_CLASSES ||
			p->min_size == 0 || !rte_is_power_of_2(p->min_size)) {
		POOL_LOG(ERR, "%s: %u classes from %u bytes: need 1..%d classes and a power of 2",
			p->name, p->nb_classes, p->min_size, TIDE_POOL_SET_MAX_CLASSES);
		return EINVAL;
	}
	/* The socket before the set's records are allocated there. */
	err = pool_socket_flags_check(p->name, p->socket_id, p->flags);
	if (err != 0)
		return err;
	top = (uint64_t)p->min_size << (p->nb_classes - 1);
	if (top + RTE_PKTMBUF_HEADROOM > UINT16_MAX) {
		POOL_LOG(ERR, "%s: class of %" PRIu64 " bytes does not fit an mbuf's data room",
			p->name, top);
		return EINVAL;
	}
	base = set_base_bytes(p);
	if (base * p->nb_classes > p->wall_bytes) {
		POOL_LOG(ERR, "%s: %u bases of %" PRIu64 " bytes (%zu rounded up to whole pages) "
			"exceed the shared wall of %zu bytes", p->name, p->nb_classes, base,
			p->base_bytes, p->wall_bytes);
		return EINVAL;
	}
	return 0;
}

static void
set_class_params(const struct tide_pool_set_params *p, unsigned int k, char *name,
	struct tide_pool_params *cp)
{
	snprintf(name, RTE_MEMPOOL_NAMESIZE, "%s_%u", p->name, k);
	tide_pool_params_init(cp, name);
	cp->socket_id = p->socket_id;
	cp->data_room_size = (uint16_t)((p->min_size << k) + RTE_PKTMBUF_HEADROOM);
	cp->priv_size = p->priv_size;
	cp->cache_size = p->cache_size;
	cp->base_bytes = p->base_bytes;
	cp->block_bytes = p->block_bytes;
	cp->wall_bytes = p->wall_bytes;
	cp->reap_period_ms = p->reap_period_ms;
	cp->idle_ms = p->idle_ms;
	cp->flags = p->flags;
}

static void
set_destroy(struct tide_pool_set *s, struct pool_set_shared *in)
{
	for (unsigned int k = 0; k < TIDE_POOL_SET_MAX_CLASSES; k++)
		pool_free(s->pools[k], true);
	rte_free(in);
	rte_free(s);
}

/* A set and its shared side live in DPDK memory: secondaries look them up by name. */
struct tide_pool_set *
tide_pool_set_create(const struct tide_pool_set_params *p)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct tide_pool_params cp;
	struct pool_set_shared *in;
	struct tide_pool_set *s;
	uint64_t base;
	int err;

	err = set_params_check(p);
	if (err != 0)
		goto fail;
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		POOL_LOG(ERR, "%s: pool sets are created in the primary process only", p->name);
		err = ENOTSUP;
		goto fail;
	}
	if (pool_dir_find_set(p->name) != NULL) {
		POOL_LOG(ERR, "%s: a pool set of that name exists", p->name);
		err = EEXIST;
		goto fail;
	}
	s = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL : rte_zmalloc_socket("tide_pool_set", sizeof(*s),
		RTE_CACHE_LINE_SIZE, p->socket_id);
	in = rte_zmalloc_socket("tide_pool_set_in", sizeof(*in), 0, p->socket_id);
	if (s == NULL || in == NULL) {
		rte_free(s);
		rte_free(in);
		POOL_LOG(ERR, "%s: no memory for the set's records", p->name);
		err = ENOMEM;
		goto fail;
	}
	strlcpy(in->name, p->name, sizeof(in->name));
	in->wall.limit = p->wall_bytes;
	in->set = s;
	s->internal = in;
	s->min_shift = (uint8_t)rte_log2_u32(p->min_size);
	s->nb_classes = (uint8_t)p->nb_classes;
	s->max_size = p->min_size << (p->nb_classes - 1);
	/*
	 * Every class's base is held under the wall before the first class exists: a class
	 * grows as soon as it is made (the control thread, an allocation), and may not take
	 * the room a later class's base needs. Each class's base goes in as what the wall
	 * holds for it (a class not made leaves its base held until the set's records go).
	 */
	base = set_base_bytes(p);
	in->wall.held = base * p->nb_classes;
	for (unsigned int k = 0; k < p->nb_classes; k++) {
		set_class_params(p, k, name, &cp);
		if (k > 0)
			TIDE_FAULT_HOLD(TIDE_HOLD_SET_CLASS_MADE); /* tests: class k - 1 grows */
		s->pools[k] = pool_create(&cp, &in->wall, true);
		if (s->pools[k] == NULL) {
			err = rte_errno;
			POOL_LOG(ERR, "%s: cannot create class %u: %s", p->name, k,
				rte_strerror(err));
			set_destroy(s, in);
			goto fail;
		}
		pool_member_set(s->pools[k], POOL_MEMBER_SET);
	}
	/* What a class can ever hold: the shared wall less the other classes' bases. */
	for (unsigned int k = 0; k < p->nb_classes; k++) {
		struct tide_pool *tp = pool_get(s->pools[k]);
		uint64_t others = 0;

		for (unsigned int j = 0; j < p->nb_classes; j++)
			if (j != k)
				others += pool_get(s->pools[j])->base_bytes;
		pool_most_set(tp, others);
	}
	err = -pool_dir_add_set(in);
	if (err != 0) {
		POOL_LOG(ERR, "%s: cannot register the set: %s", p->name, rte_strerror(err));
		set_destroy(s, in);
		goto fail;
	}
	return s;
fail:
	rte_errno = err;
	return NULL;
}

struct tide_pool_set *
tide_pool_set_lookup(const char *name)
{
	struct pool_set_shared *in;

	if (name == NULL) {
		POOL_REFUSE(ERR, ENOENT, "NULL name");
		return NULL;
	}
	in = pool_dir_find_set(name);
	if (in == NULL) {
		POOL_REFUSE(DEBUG, ENOENT, "no pool set %s", name);
		return NULL;
	}
	return in->set;
}

void
tide_pool_set_free(struct tide_pool_set *s)
{
	bool primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	char name[RTE_MEMPOOL_NAMESIZE];
	struct pool_set_shared *in;

	if (s == NULL || pool_free_refused_in_callback("a pool set"))
		return;
	/*
	 * Found in the directory before anything of it is read (the primary takes it out
	 * there): a set freed already would be read from freed memory, and its stale class
	 * pointers may name pools made since at the same addresses.
	 */
	in = pool_dir_set_of(s, primary, name);
	if (in == NULL) {
		POOL_REFUSE(ERR, EINVAL, "%p is not a pool set (freed already?): left alone",
			(void *)s);
		return;
	}
	if (pool_secondary_refuses_free("pool set", name))
		return;
	set_destroy(s, in);
}

/* ---- telemetry: /tide/pool_set/list and /tide/pool_set/info,<name> ---- */

static void
set_tel_name(const char *name, void *arg)
{
	rte_tel_data_add_array_string(arg, name);
}

static int
set_tel_list(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	if (!pool_tel_no_params(params, d))
		return 0;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pool_dir_names(true, set_tel_name, d);
	return 0;
}

/* The answer about set @p in, which the directory keeps from being freed meanwhile. */
static int
set_tel_describe(const struct pool_set_shared *in, void *arg)
{
	const struct tide_pool_set *s = in->set;
	struct rte_tel_data *d = arg;
	struct rte_tel_data *classes;

	TIDE_FAULT_HOLD(TIDE_HOLD_POOL_TEL_READ);
	classes = rte_tel_data_alloc();
	if (classes == NULL)
		return pool_tel_error(d, "no memory for the answer");
	rte_tel_data_start_dict(d);
	rte_tel_data_start_array(classes, RTE_TEL_STRING_VAL);
	for (unsigned int k = 0; k < s->nb_classes; k++)
		rte_tel_data_add_array_string(classes, s->pools[k]->name);
	rte_tel_data_add_dict_string(d, "name", in->name);
	rte_tel_data_add_dict_u64(d, "min_size", 1u << s->min_shift);
	rte_tel_data_add_dict_u64(d, "max_size", s->max_size);
	rte_tel_data_add_dict_u64(d, "wall_bytes", in->wall.limit);
	rte_tel_data_add_dict_u64(d, "wall_held", __atomic_load_n(&in->wall.held,
		__ATOMIC_RELAXED));
	tide_tel_dict_add(d, "classes", classes);
	return 0;
}

static int
set_tel_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	if (!pool_tel_name_ok(params, "pool set", "/tide/pool_set/list", SET_NAME_MAX, d))
		return 0;
	if (pool_dir_with_set(params, set_tel_describe, d) != 0)
		return pool_tel_error(d, "no pool set named %s", params);
	return 0;
}

RTE_INIT(pool_set_telemetry_init)
{
	TIDE_TEL_REGISTER("/tide/pool_set/list", set_tel_list,
		"Lists the pool sets (size classes). No parameters");
	TIDE_TEL_REGISTER("/tide/pool_set/info", set_tel_info,
		"Shows a pool set's classes and shared wall. Parameters: set name");
}
