/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Telemetry: /tide/donor/list (the managers) and /tide/donor/info,<name> (a manager's
 * counters, then one entry per part of its regions, the first 64: its pid, bytes, state,
 * kind and region; "parts_unlisted" counts the others).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "donor_private.h"
#include "tide_telemetry.h"

static int
dn_tel_list(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct tide_donor_mgr *m;

	if (!tide_tel_no_params(params))
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	dn_registry_lock();
	for (m = dn_registry_first_locked(); m != NULL; m = dn_registry_next_locked(m))
		rte_tel_data_add_array_string(d, m->name);
	dn_registry_unlock();
	return 0;
}

static void
dn_tel_stats(struct rte_tel_data *d, const struct tide_donor_mgr *m,
	const struct tide_donor_stats *s)
{
	rte_tel_data_add_dict_string(d, "name", m->name);
	/* A path telemetry's strings cannot hold (127 characters) is said to be cut. */
	if (rte_tel_data_add_dict_string(d, "helper", m->helper) != 0)
		rte_tel_data_add_dict_int(d, "helper_cut", 1);
	rte_tel_data_add_dict_u64(d, "max_donors", m->p.max_donors);
	rte_tel_data_add_dict_u64(d, "heap_limit",
		m->heap_limit == DONOR_UNLIMITED ? 0 : m->heap_limit);
	rte_tel_data_add_dict_u64(d, "donors", s->donors);
	rte_tel_data_add_dict_u64(d, "regions", s->regions);
	rte_tel_data_add_dict_u64(d, "donated_bytes", s->donated_bytes);
	rte_tel_data_add_dict_u64(d, "own_bytes", s->own_bytes);
	rte_tel_data_add_dict_u64(d, "orphan_bytes", s->orphan_bytes);
	rte_tel_data_add_dict_u64(d, "unpinned_bytes", s->unpinned_bytes);
	rte_tel_data_add_dict_u64(d, "heap_bytes", s->heap_bytes);
	rte_tel_data_add_dict_u64(d, "requests", s->requests);
	rte_tel_data_add_dict_u64(d, "refused", s->refused);
	rte_tel_data_add_dict_u64(d, "spawned", s->spawned);
	rte_tel_data_add_dict_u64(d, "spawn_failures", s->spawn_failures);
	rte_tel_data_add_dict_u64(d, "handshake_failures", s->handshake_failures);
	rte_tel_data_add_dict_u64(d, "bad_messages", s->bad_messages);
	rte_tel_data_add_dict_u64(d, "terminated", s->terminated);
	rte_tel_data_add_dict_u64(d, "killed", s->killed);
	rte_tel_data_add_dict_u64(d, "deaths", s->deaths);
	rte_tel_data_add_dict_u64(d, "repins", s->repins);
	rte_tel_data_add_dict_u64(d, "repin_failures", s->repin_failures);
	rte_tel_data_add_dict_u64(d, "iova_moved", s->iova_moved);
}

/*
 * Most parts listed. DPDK 22.11 drops without a word what does not fit in its 16 KB answer
 * or in a dictionary's 256 entries: at most ~200 characters a part, 64 of them leave room
 * for the counters.
 */
#define DN_TEL_PARTS_MAX 64

/* Part @p i of region @p r into @p d: 1, or 0 if there was no room for it. */
static unsigned int
dn_tel_part(struct rte_tel_data *d, const struct tide_donor_region *r, uint32_t i)
{
	const struct dn_part *pt = &r->parts[i];
	struct rte_tel_data *e = rte_tel_data_alloc();
	char key[48];

	if (e == NULL)
		return 0;
	rte_tel_data_start_dict(e);
	rte_tel_data_add_dict_int(e, "pid", (int)pt->pid);
	rte_tel_data_add_dict_u64(e, "bytes", pt->bytes);
	rte_tel_data_add_dict_string(e, "state", tide_donor_state_name(pt->state));
	rte_tel_data_add_dict_string(e, "kind", r->kind == TIDE_DONOR_HUGE ? "huge" : "pinned");
	rte_tel_data_add_dict_u64(e, "region", r->id);
	rte_tel_data_add_dict_u64(e, "locked_kb", pt->locked_kb);
	rte_tel_data_add_dict_u64(e, "repins", pt->repins);
	snprintf(key, sizeof(key), "region%" PRIu64 "_part%u", r->id, i);
	return tide_tel_dict_add(d, key, e);
}

/*
 * One entry per part of every region (m->lock held), the first DN_TEL_PARTS_MAX, and how
 * many it leaves out: "parts_unlisted", parts past that or that found no room.
 */
static void
dn_tel_donors_locked(struct rte_tel_data *d, struct tide_donor_mgr *m)
{
	const struct tide_donor_region *r;
	uint64_t total = 0, listed = 0;

	TAILQ_FOREACH(r, &m->regions, next)
		for (uint32_t i = 0; i < r->nb_parts; i++, total++)
			if (total < DN_TEL_PARTS_MAX)
				listed += dn_tel_part(d, r, i);
	rte_tel_data_add_dict_u64(d, "parts_unlisted", total - listed);
}

static int
dn_tel_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct tide_donor_stats s;
	struct tide_donor_mgr *m;
	int ret = -EINVAL;

	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	rte_tel_data_start_dict(d);
	dn_registry_lock();
	m = dn_registry_find_locked(params);
	if (m != NULL) {
		dn_stats_read(m, &s);
		dn_tel_stats(d, m, &s);
		pthread_mutex_lock(&m->lock);
		dn_tel_donors_locked(d, m);
		pthread_mutex_unlock(&m->lock);
		ret = 0;
	}
	dn_registry_unlock();
	return ret;
}

RTE_INIT(dn_telemetry_init)
{
	TIDE_TEL_REGISTER("/tide/donor/list", dn_tel_list,
		"Lists the donor managers. No parameters");
	TIDE_TEL_REGISTER("/tide/donor/info", dn_tel_info,
		"Shows a donor manager's counters and its first 64 parts' pid, bytes and state "
		"(parts_unlisted: the others). Parameters: name");
}
