/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Stages and ownership. A message records the stage holding it (set when made, when
 * received; TIDE_STAGE_NONE while in an exchange). What a stage holds is found by walking
 * the live messages of every pool and of the proxy area: a control-path operation, meant
 * for when the stage's threads are quiet (listing, stopping, the leak report at exit).
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "msg_private.h"

/* Stages are in the shared directory: an id means the same stage in every process. */
int
tide_stage_register(const char *name)
{
	int id;

	if (name == NULL || name[0] == '\0' ||
			strnlen(name, TIDE_STAGE_NAMESIZE) == TIDE_STAGE_NAMESIZE ||
			!tide_msg_pvt_state.ready) {
		MSG_LOG(ERR, "bad stage name, or tide_msg_init() not called");
		return msg_error(EINVAL);
	}
	id = tide_msg_pvt_stage_add(name);
	if (id < 0) {
		MSG_LOG(ERR, "%s: cannot register the stage: %s", name, rte_strerror(-id));
		return msg_error(-id);
	}
	return id;
}

int
tide_stage_unregister(uint16_t stage)
{
	int ret;

	if (stage >= TIDE_STAGE_MAX || !tide_msg_pvt_state.ready)
		return MSG_REFUSE(ERR, EINVAL, "stage %u out of range, or tide_msg_init() not "
			"called", stage);
	/* Another process's messages name it; a dead one's is the recovery's to remove. */
	ret = tide_msg_pvt_stage_remove(stage, true);
	if (ret == -EPERM)
		return MSG_REFUSE(ERR, EPERM, "stage %u is another process's", stage);
	if (ret < 0)
		return MSG_REFUSE(ERR, EINVAL, "stage %u is not registered", stage);
	return 0;
}

const char *
tide_msg_pvt_stage_name(uint16_t stage)
{
	const char *name;

	if (stage == TIDE_STAGE_NONE)
		return "(in an exchange, or no stage)";
	name = tide_msg_pvt_stage_copy(stage, NULL);
	return name != NULL ? name : "(unregistered)";
}

struct stage_walk {
	uint16_t stage;
	struct rte_mbuf **out;
	unsigned int max;
	unsigned int n;
};

static void
stage_collect(struct rte_mbuf *m, void *arg)
{
	struct stage_walk *w = arg;

	if (tide_msg_owner(m) != w->stage)
		return;
	if (w->out != NULL && w->n < w->max)
		w->out[w->n] = m;
	w->n++;
}

int
tide_stage_list(uint16_t stage, struct rte_mbuf **out, unsigned int max)
{
	struct stage_walk w = { .stage = stage, .out = out, .max = max };

	if (stage >= TIDE_STAGE_MAX)
		return MSG_REFUSE(ERR, EINVAL, "stage %u out of range", stage);
	tide_msg_pvt_walk(stage_collect, &w);
	return (int)w.n;
}

static void
stage_release(struct rte_mbuf *m, void *arg)
{
	struct stage_walk *w = arg;

	if (tide_msg_owner(m) != w->stage)
		return;
	if (tide_msg_is_proxy(m))
		tide_msg_proxy_release(m);
	else
		tide_msg_release(m);
	w->n++;
}

int
tide_stage_stop(uint16_t stage)
{
	struct stage_walk w = { .stage = stage };

	if (stage >= TIDE_STAGE_MAX)
		return MSG_REFUSE(ERR, EINVAL, "stage %u out of range", stage);
	/* A real message outlives this walk while proxies of it remain (they hold
	 * references); the order of release does not matter.
	 */
	tide_msg_pvt_walk(stage_release, &w);
	if (w.n > 0)
		MSG_LOG(INFO, "stage %s stopped: released %u message(s)",
			tide_msg_pvt_stage_name(stage), w.n);
	return (int)w.n;
}

struct leak_report {
	unsigned int per_owner[TIDE_STAGE_MAX + 1];
	unsigned int total;
};

static void
leak_count(struct rte_mbuf *m, void *arg)
{
	struct leak_report *r = arg;
	uint16_t o = tide_msg_owner(m);

	r->per_owner[o < TIDE_STAGE_MAX ? o : TIDE_STAGE_MAX]++;
	r->total++;
}

int
tide_msg_leak_report(FILE *f)
{
	struct leak_report r;

	memset(&r, 0, sizeof(r));
	tide_msg_pvt_walk(leak_count, &r);
	for (unsigned int o = 0; o <= TIDE_STAGE_MAX; o++) {
		const char *name = tide_msg_pvt_stage_name(o < TIDE_STAGE_MAX ? (uint16_t)o :
			TIDE_STAGE_NONE);

		if (r.per_owner[o] == 0)
			continue;
		MSG_LOG(WARNING, "%u message(s) still held by %s", r.per_owner[o], name);
		if (f != NULL)
			fprintf(f, "tide_msg: %u message(s) still held by %s\n", r.per_owner[o],
				name);
	}
	return (int)r.total;
}
