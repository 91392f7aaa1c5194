/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * show pool, show xchg: what the libraries' telemetry says about every elastic pool and
 * exchange of the process (tel.h). Without telemetry (--no-telemetry), show pool falls
 * back to the public API: the counters and the blocks without their ages. Either way a
 * pool is elastic when the pool API says so (tide_pool_is_elastic()).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_mempool.h>

#include "tel.h"
#include "tide_mempool.h"
#include "tide_pool.h"
#include "tidepmd.h"

#define MB(x) ((double)(x) / 1048576.0)

/* Frees the driver dropped, and its lock taken over from a dead process (tide_pool_stats). */
static void
show_pool_dropped(uint64_t foreign_frees, uint64_t double_frees, uint64_t lock_recovered)
{
	printf("  dropped: %" PRIu64 " foreign frees, %" PRIu64 " double frees; driver lock "
		"recovered %" PRIu64 " times\n", foreign_frees, double_frees, lock_recovered);
}

static void
show_pool_blocks(const struct tpmd_json *blocks, uint64_t unlisted)
{
	unsigned int listed = 0;

	printf("  block          MB    age ms     mbufs    in use   idle ms\n");
	for (const struct tpmd_json *b = blocks != NULL ? blocks->child : NULL; b != NULL;
			b = b->next, listed++)
		printf("  %-8s %8.1f %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
			b->key, MB(tpmd_json_u64(b, "bytes")), tpmd_json_u64(b, "age_ms"),
			tpmd_json_u64(b, "objs"), tpmd_json_u64(b, "out"),
			tpmd_json_u64(b, "idle_ms"));
	printf("  listed:  %u blocks, %" PRIu64 " not listed (past what one telemetry answer "
		"holds)\n", listed, unlisted);
}

/* Without telemetry: the public API's view of an elastic pool. */
static void
show_pool_api(struct rte_mempool *mp)
{
	struct tide_mempool_block_info bi;
	struct tide_pool_stats st;

	if (tide_pool_stats_get(mp, &st) != 0)
		return;
	printf("\n  ######################## Pool %s ########################\n", mp->name);
	printf("  held:    %.1f MB in %u blocks (wall %.1f MB)\n", MB(st.bytes), st.nb_blocks,
		MB(st.wall_bytes));
	printf("  mbufs:   %" PRIu64 " in use, %" PRIu64 " cached, %" PRIu64 " free, of %" PRIu64
		"\n", st.nb_in_use, st.nb_cached, st.nb_free, st.nb_objs);
	printf("  grows:   %" PRIu64 " (%" PRIu64 " ahead, %" PRIu64 " sync), reaps %" PRIu64
		"\n", st.grows_ahead + st.grows_sync, st.grows_ahead, st.grows_sync, st.reaps);
	printf("  reaper:  looks every %u ms and gives back blocks idle %u ms\n",
		st.reap_period_ms, st.idle_ms);
	show_pool_dropped(st.foreign_frees, st.double_frees, st.lock_recovered);
	printf("  block          MB     mbufs    in use   (no telemetry: ages unknown)\n");
	for (unsigned int i = 0; tide_mempool_block_info(mp, i, &bi) == 0; i++)
		printf("  b%-7" PRIu64 " %8.1f %9u %9u\n", bi.id, MB(bi.len), bi.nb_objs,
			bi.nb_objs - bi.nb_free);
}

static void
show_pool_one(struct tpmd_tel *tel, const char *name)
{
	struct rte_mempool *mp = rte_mempool_lookup(name);
	const struct tpmd_json *p;
	char cmd[128];

	if (mp == NULL || !tide_pool_is_elastic(mp)) {
		printf("  No elastic pool named '%s'", name);
		if (mp != NULL)
			printf(" (a stock mempool: %u objects, %u available, %u in use)",
				mp->size, rte_mempool_avail_count(mp),
				rte_mempool_in_use_count(mp));
		printf("\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "/tide/pool/info,%s", name);
	p = tpmd_tel_query(tel, cmd);
	/* No telemetry (--no-telemetry), or it refused: what the API tells. */
	if (p == NULL || p->type != TPMD_JSON_OBJ || tpmd_json_get(p, "error") != NULL) {
		show_pool_api(mp);
		return;
	}
	printf("\n  ######################## Pool %s ########################\n",
		tpmd_json_str(p, "name"));
	printf("  held:    %.1f MB in %" PRIu64 " blocks (base %.1f MB, block %.1f MB, wall "
		"%.1f MB)\n", MB(tpmd_json_u64(p, "bytes")), tpmd_json_u64(p, "blocks"),
		MB(tpmd_json_u64(p, "base_bytes")), MB(tpmd_json_u64(p, "block_bytes")),
		MB(tpmd_json_u64(p, "wall_bytes")));
	printf("  mbufs:   %" PRIu64 " in use, %" PRIu64 " cached, %" PRIu64 " free, of %" PRIu64
		"; the control thread keeps %" PRIu64 " free\n", tpmd_json_u64(p, "in_use"),
		tpmd_json_u64(p, "cached"), tpmd_json_u64(p, "free"), tpmd_json_u64(p, "objs"),
		tpmd_json_u64(p, "target_free"));
	printf("  grows:   %" PRIu64 " (%" PRIu64 " ahead of need, %" PRIu64 " inside an "
		"allocation; %" PRIu64 " from donors), fails %" PRIu64 ", wall hits %" PRIu64
		", refused dequeues %" PRIu64 "\n",
		tpmd_json_u64(p, "grows_ahead") + tpmd_json_u64(p, "grows_sync"),
		tpmd_json_u64(p, "grows_ahead"), tpmd_json_u64(p, "grows_sync"),
		tpmd_json_u64(p, "grows_ext"), tpmd_json_u64(p, "grow_fails"),
		tpmd_json_u64(p, "wall_hits"), tpmd_json_u64(p, "deq_refused"));
	printf("  reaps:   %" PRIu64 "; the reaper looks every %" PRIu64 " ms and gives back "
		"blocks idle %" PRIu64 " ms\n", tpmd_json_u64(p, "reaps"),
		tpmd_json_u64(p, "reap_period_ms"), tpmd_json_u64(p, "idle_ms"));
	show_pool_dropped(tpmd_json_u64(p, "foreign_frees"), tpmd_json_u64(p, "double_frees"),
		tpmd_json_u64(p, "lock_recovered"));
	show_pool_blocks(tpmd_json_get(p, "block_list"), tpmd_json_u64(p, "blocks_unlisted"));
}

/* Names of pools. */
struct show_names {
	unsigned int n;
	char name[64][RTE_MEMPOOL_NAMESIZE];
};

/* Every mempool's name (the pool API is asked outside the walk, which holds a lock). */
static void
show_pool_name_add(struct rte_mempool *mp, void *arg)
{
	struct show_names *s = arg;

	if (s->n < RTE_DIM(s->name))
		snprintf(s->name[s->n++], sizeof(s->name[0]), "%s", mp->name);
}

/* No telemetry: the mempools the pool API calls elastic, as its list would. */
static void
show_pool_names_api(struct show_names *s)
{
	struct show_names *all = malloc(sizeof(*all));

	if (all == NULL)
		return;
	all->n = 0;
	rte_mempool_walk(show_pool_name_add, all);
	for (unsigned int i = 0; i < all->n; i++) {
		struct rte_mempool *mp = rte_mempool_lookup(all->name[i]);

		if (mp != NULL && tide_pool_is_elastic(mp))
			snprintf(s->name[s->n++], sizeof(s->name[0]), "%s", all->name[i]);
	}
	free(all);
}

void
tpmd_show_pool(const struct tpmd *t __rte_unused, const char *name)
{
	struct tpmd_tel *tel = malloc(sizeof(*tel));
	struct show_names *s = malloc(sizeof(*s));
	const struct tpmd_json *list;

	if (tel == NULL || s == NULL)
		goto out;
	s->n = 0;
	if (name != NULL) {
		snprintf(s->name[s->n++], sizeof(s->name[0]), "%s", name);
	} else if ((list = tpmd_tel_query(tel, "/tide/pool/list")) != NULL &&
			list->type == TPMD_JSON_ARR) {
		/* The next query reuses the buffer: copy the names first. */
		for (const struct tpmd_json *e = list->child;
				e != NULL && s->n < RTE_DIM(s->name); e = e->next)
			if (e->type == TPMD_JSON_STR)
				snprintf(s->name[s->n++], sizeof(s->name[0]), "%s", e->str);
	} else {
		show_pool_names_api(s);
	}
	for (unsigned int i = 0; i < s->n; i++)
		show_pool_one(tel, s->name[i]);
	fflush(stdout);
out:
	free(s);
	free(tel);
}

static void
show_levels(const struct tpmd_json *x)
{
	const struct tpmd_json *sent = tpmd_json_get(x, "sent");
	const struct tpmd_json *recv = tpmd_json_get(x, "received");
	const struct tpmd_json *wait = tpmd_json_get(x, "waiting");
	const struct tpmd_json *s, *r, *w;
	unsigned int l = 0;

	printf("  level          sent      received   waiting\n");
	for (s = sent ? sent->child : NULL, r = recv ? recv->child : NULL,
			w = wait ? wait->child : NULL; s != NULL && r != NULL && w != NULL;
			s = s->next, r = r->next, w = w->next)
		printf("  %-5u %14" PRIu64 " %13" PRIu64 " %9" PRIu64 "\n", l++, s->u64, r->u64,
			w->u64);
}

void
tpmd_show_xchg(const struct tpmd *t)
{
	struct tpmd_tel *tel = malloc(sizeof(*tel));
	const struct tpmd_json *list;
	char names[16][64], cmd[128];
	unsigned int n = 0;

	if (tel == NULL)
		return;
	list = tpmd_tel_query(tel, "/tide/xchg/list");
	for (const struct tpmd_json *e = list != NULL ? list->child : NULL;
			e != NULL && n < RTE_DIM(names); e = e->next)
		if (e->type == TPMD_JSON_STR)
			snprintf(names[n++], sizeof(names[0]), "%s", e->str);
	if (list == NULL)
		printf("  Telemetry is off: exchanges cannot be listed.\n");
	else if (n == 0)
		printf("  No exchange (the pipeline mode makes one; mode now: %s%s).\n",
			t->engine->name, t->running ? ", running" : ", stopped");
	for (unsigned int i = 0; i < n; i++) {
		const struct tpmd_json *x;

		snprintf(cmd, sizeof(cmd), "/tide/xchg/info,%.63s", names[i]);
		x = tpmd_tel_query(tel, cmd);
		if (x == NULL || x->type != TPMD_JSON_OBJ)
			continue;
		printf("\n  ######################## Exchange %s ########################\n",
			names[i]);
		printf("  %s, %" PRIu64 " level(s); refused %" PRIu64 ", receivers asleep %" PRIu64
			"\n", tpmd_json_str(x, "type"), tpmd_json_u64(x, "levels"),
			tpmd_json_u64(x, "refused"), tpmd_json_u64(x, "sleepers"));
		show_levels(x);
	}
	fflush(stdout);
	free(tel);
}
