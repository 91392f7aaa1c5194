/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Adoption: a pktmbuf pool an application created the stock way with the tide ops
 * (rte_pktmbuf_pool_create*, or rte_mempool_create_empty + rte_pktmbuf_pool_init +
 * rte_mempool_populate_default) becomes an elastic pool. The driver asks, at the start of
 * the stock population, how much to populate (the base of the pool's profile) and then
 * hands the pool over (tide_mempool_hooks.h). The size the application asked for is the
 * wall; new blocks' mbufs get rte_pktmbuf_init, as the stock creation gives the base's.
 *
 * Not adopted (populated whole, with a log line): pools whose objects are not plain
 * pktmbufs (the driver cannot know the object constructor rte_mempool_create() was given),
 * pinned external-buffer pools (rte_pktmbuf_pool_create_extbuf), pools created in a
 * secondary process, and pools whose profile says "fixed".
 *
 * Profiles come from the file named by TIDE_POOL_PROFILES, else from the installed
 * default (TIDE_POOL_PROFILES_DEFAULT), else the built-in defaults; a bad line is logged
 * with its file and line and ignored, never failing the application's pool creation.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "pool_private.h"
#include "pool_profile.h"
#include "tide_config.h"
#include "tide_mempool.h"
#include "tide_mempool_hooks.h"

/* Largest profile file read. */
#define ADOPT_FILE_MAX (1u << 20)

/* An adopted pool's built-in timing is an elastic pool's default timing. */
_Static_assert(TIDE_POOL_PROFILE_REAP_MS == TIDE_POOL_REAP_PERIOD_MS_DEFAULT &&
	TIDE_POOL_PROFILE_IDLE_MS == TIDE_POOL_IDLE_MS_DEFAULT &&
	TIDE_POOL_PROFILE_TICK_US == TIDE_POOL_TICK_US_DEFAULT,
	"config/tide_config.h and tide_pool.h disagree on the default timing");

/* The plan made when the population starts, for the hand-over that ends it (same thread). */
struct adopt_plan {
	const struct rte_mempool *mp;
	struct tide_pool_profile prof;
	uint64_t requested;  /* bytes the application asked for */
	size_t page_sz;
	size_t base_bytes;   /* whole pages */
};
static __thread struct adopt_plan adopt_plan;

struct adopt_err {
	const char *file;
};

static void
adopt_bad_line(void *arg, unsigned int line, const char *reason)
{
	const struct adopt_err *e = arg;

	POOL_LOG(ERR, "%s:%u: %s; line ignored", e->file, line, reason);
}

/* The file's text, NUL-terminated, or NULL (with a log line if it was asked for). */
static char *
adopt_read(const char *path, bool asked)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;

	if (f == NULL) {
		if (asked)
			POOL_LOG(WARNING, "cannot read pool profiles %s: %s; using the defaults",
				path, strerror(errno));
		return NULL;
	}
	text = malloc(ADOPT_FILE_MAX + 1);
	if (text == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(text, 1, ADOPT_FILE_MAX, f);
	if (n == ADOPT_FILE_MAX && fgetc(f) != EOF)
		POOL_LOG(WARNING, "%s: longer than %u bytes; the rest is ignored", path,
			ADOPT_FILE_MAX);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* The profile of pool @name. */
static void
adopt_profile(const char *name, struct tide_pool_profile *p)
{
	const char *env = getenv("TIDE_POOL_PROFILES");
	struct adopt_err e = { .file = env != NULL ? env : TIDE_POOL_PROFILES_DEFAULT };
	char *text = adopt_read(e.file, env != NULL);

	if (text == NULL) {
		tide_profile_defaults(p);
		return;
	}
	tide_profile_lookup(text, name, p, adopt_bad_line, &e);
	free(text);
	if (p->line != 0)
		POOL_LOG(DEBUG, "%s: profile %s:%u (%s)", name, e.file, p->line, p->pattern);
}

/* The pktmbuf private area, if @mp is a plain pktmbuf pool this library can grow. */
static const struct rte_pktmbuf_pool_private *
adopt_pktmbuf_priv(const struct rte_mempool *mp)
{
	const struct rte_pktmbuf_pool_private *priv;

	if (mp->private_data_size < sizeof(*priv))
		return NULL;
	priv = rte_mempool_get_priv((struct rte_mempool *)(uintptr_t)mp);
	if (mp->elt_size != sizeof(struct rte_mbuf) + priv->mbuf_priv_size +
			priv->mbuf_data_room_size)
		return NULL;
	if (priv->flags & RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF)
		return NULL;
	return priv;
}

static size_t
adopt_base_bytes(const struct rte_mempool *mp)
{
	const struct rte_pktmbuf_pool_private *priv = adopt_pktmbuf_priv(mp);
	struct adopt_plan *pl = &adopt_plan;
	uint64_t base;

	memset(pl, 0, sizeof(*pl));
	if (priv == NULL) {
		POOL_LOG(NOTICE, "%s: not a plain pktmbuf pool (its object constructor is not "
			"known here): populated whole, not elastic", mp->name);
		return 0;
	}
	adopt_profile(mp->name, &pl->prof);
	if (pl->prof.fixed) {
		POOL_LOG(NOTICE, "%s: profile %s says fixed: populated whole", mp->name,
			pl->prof.pattern);
		return 0;
	}
	/* An application may initialise its mbufs' private area after creation (Open
	 * vSwitch does, with rte_mempool_obj_iter()): grown mbufs would miss that.
	 */
	if (priv->mbuf_priv_size != 0 && !pl->prof.priv) {
		POOL_LOG(NOTICE, "%s: its mbufs have a private area of %u bytes, which the "
			"application may initialise after creation and grown mbufs would not "
			"have so: populated whole, not elastic (a profile with priv says they "
			"need nothing there)", mp->name, (unsigned int)priv->mbuf_priv_size);
		return 0;
	}
	pl->page_sz = pool_page_size(mp->socket_id);
	if (pl->page_sz == 0)
		return 0;
	pl->requested = (uint64_t)mp->size *
		(mp->header_size + mp->elt_size + mp->trailer_size);
	base = tide_profile_bytes(&pl->prof.base, pl->requested);
	base = RTE_MAX(RTE_ALIGN_CEIL(base, pl->page_sz), (uint64_t)pl->page_sz);
	if (base >= pl->requested)
		return 0;
	pl->mp = mp;
	pl->base_bytes = base;
	return base - POOL_MZ_SLACK;
}

/*
 * Most bytes the pool may hold: room for the mbufs its profile's wall allows (all the
 * application asked for, by default) in its base and whole blocks. The driver never
 * populates more mbufs than the mempool's size, whatever the bytes allow.
 */
static uint64_t
adopt_wall(const struct tide_pool *tp, const struct adopt_plan *pl)
{
	const struct rte_mempool *mp = tp->mp;
	uint64_t elt = mp->header_size + mp->elt_size + mp->trailer_size;
	uint64_t objs = tide_profile_bytes(&pl->prof.wall, pl->requested) / elt;
	uint64_t rest, per_block = RTE_MAX(tp->block_objs, 1u);

	objs = RTE_MIN(objs, (uint64_t)mp->size);
	rest = objs > mp->populated_size ? objs - mp->populated_size : 0;
	return pl->base_bytes + (rest + per_block - 1) / per_block * tp->block_bytes;
}

static void
adopt_params(const struct rte_mempool *mp, const struct adopt_plan *pl,
	struct tide_pool_params *p)
{
	const struct rte_pktmbuf_pool_private *priv = adopt_pktmbuf_priv(mp);
	uint64_t block = tide_profile_bytes(&pl->prof.block, pl->requested);

	tide_pool_params_init(p, mp->name);
	p->socket_id = mp->socket_id;
	p->data_room_size = priv->mbuf_data_room_size;
	p->priv_size = priv->mbuf_priv_size;
	p->cache_size = mp->cache_size;
	p->base_bytes = pl->base_bytes;
	/* At most what tide_pool_create() takes (a profile allows up to 1 TB). */
	block = RTE_MIN(block, POOL_MAX_BLOCK);
	p->block_bytes = RTE_MAX(RTE_ALIGN_CEIL(block, pl->page_sz), (uint64_t)pl->page_sz);
	p->wall_bytes = SIZE_MAX; /* set once the block's capacity is known */
	p->tick_us = pl->prof.tick_us;
	p->reap_period_ms = pl->prof.reap_ms;
	p->idle_ms = pl->prof.idle_ms;
}

static int
adopt_adopted(struct rte_mempool *mp, const struct rte_memzone *mz)
{
	struct adopt_plan *pl = &adopt_plan;
	struct tide_pool_params p;
	struct tide_pool *tp;
	int err;

	if (pl->mp != mp)
		return -EINVAL;
	pl->mp = NULL;
	adopt_params(mp, pl, &p);
	tp = pool_alloc(&p, pl->page_sz, NULL);
	if (tp == NULL)
		return -ENOMEM;
	tp->mp = mp;
	tp->adopted = true;
	pool_setup_policy(tp);
	tp->params.wall_bytes = adopt_wall(tp, pl);
	tp->wall_own.limit = tp->params.wall_bytes;
	tp->wall_born = tp->params.wall_bytes;
	err = pool_blocks_init(tp);
	if (err == 0)
		err = pool_base_record(tp, mz, pl->base_bytes);
	if (err == 0) {
		pool_most_set(tp, 0);
		err = -pool_register(tp);
	}
	if (err != 0) {
		/* Populated whole, the stock way: the pool's blocks are no longer ours. */
		tide_mempool_pvt_owned_set(mp, false);
		pool_wall_give(tp->wall, tp->bytes);
		pool_dealloc(tp);
		return err;
	}
	POOL_LOG(NOTICE, "%s: elastic: %u of %u mbufs populated (%zu bytes), blocks of %zu "
		"bytes, wall %zu bytes, profile %s", mp->name, mp->populated_size, mp->size,
		pl->base_bytes, tp->block_bytes, tp->params.wall_bytes, pl->prof.pattern);
	return 0;
}

static const struct tide_mempool_adopt_hook pool_adopter = {
	.base_bytes = adopt_base_bytes,
	.adopted = adopt_adopted,
};

RTE_INIT(pool_adopt_init)
{
	tide_mempool_adopt_hook_set(&pool_adopter);
}
