/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * zctx mode: every worker is an application thread that sends from a plain malloc'd
 * buffer through the zero-copy send agent, payload sizes taken in turn from a mix
 * (--zctx-sizes), ports in turn, its own TX queue on each; it polls its completions.
 * The agent (a control thread) decides per size between copying and zero-copy.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "tide_zctx.h"
#include "tidepmd.h"

#define ZS_MAX_SIZES 16
#define ZS_HDR 42

struct zs_ctx {
	struct tide_zctx *z;
	uint8_t *buf;
	size_t buf_len;
	uint32_t sizes[ZS_MAX_SIZES];
	unsigned int nb_sizes;
	uint8_t hdr[ZS_HDR];
	uint64_t bytes[TPMD_MAX_WORKERS]; /* payload bytes completed, per worker */
	uint64_t last_bytes;              /* stats: at the previous line */
	uint64_t last_ns;
};

static int
zs_parse_sizes(struct zs_ctx *c, const char *list)
{
	char *s = strdup(list), *save = NULL;

	if (s == NULL)
		return -ENOMEM;
	for (char *tok = strtok_r(s, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		unsigned long v = strtoul(tok, NULL, 0);

		if (v == 0 || v > TIDE_ZCTX_MAX_SEND || c->nb_sizes == ZS_MAX_SIZES ||
				v > c->buf_len) {
			fprintf(stderr, "tidepmd: bad --zctx-sizes entry '%s' (1..%u, at most %d "
				"sizes, within the buffer)\n", tok, TIDE_ZCTX_MAX_SEND,
				ZS_MAX_SIZES);
			free(s);
			return -EINVAL;
		}
		c->sizes[c->nb_sizes++] = (uint32_t)v;
	}
	free(s);
	return c->nb_sizes == 0 ? -EINVAL : 0;
}

static int
zs_init(struct tpmd *t)
{
	struct tide_zctx_params p;
	struct zs_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	t->mode_ctx = c;
	c->buf_len = t->cfg.zctx_buf_mb << 20;
	c->buf = malloc(c->buf_len);
	if (c->buf == NULL || zs_parse_sizes(c, t->cfg.zctx_sizes) != 0)
		return -EINVAL;
	for (size_t i = 0; i < c->buf_len; i++)
		c->buf[i] = (uint8_t)i;
	memcpy(c->hdr, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x88\xb5", 14);
	tide_zctx_params_init(&p, "tidepmd");
	p.copy_threshold = t->cfg.zctx_threshold;
	p.pool = t->pool;
	for (unsigned int i = 0; i < t->nb_ports && i < TIDE_ZCTX_MAX_PORTS; i++)
		p.ports[p.nb_ports++] = t->ports[i];
	c->z = tide_zctx_create(&p);
	if (c->z == NULL) {
		fprintf(stderr, "tidepmd: cannot create the send agent: %s\n",
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	c->last_ns = tide_app_now_ns(); /* the first stats line's rate counts from here */
	return 0;
}

static void
zs_fini(struct tpmd *t)
{
	struct zs_ctx *c = t->mode_ctx;

	if (c == NULL)
		return;
	if (c->z != NULL && tide_zctx_free(c->z) != 0)
		fprintf(stderr, "tidepmd: the agent still had sends in flight\n");
	else
		tide_zctx_cache_flush();
	free(c->buf);
	free(c);
	t->mode_ctx = NULL;
}

/* Take this worker's completions (cookies carry the worker number). */
static void
zs_poll(struct tpmd *t, struct zs_ctx *c)
{
	struct tide_zctx_cpl cpl[64];
	unsigned int n = tide_zctx_poll(c->z, cpl, RTE_DIM(cpl));

	for (unsigned int i = 0; i < n; i++) {
		unsigned int w = (unsigned int)(cpl[i].cookie >> 48);

		__atomic_fetch_add(&c->bytes[w], cpl[i].bytes, __ATOMIC_RELAXED);
		__atomic_fetch_add(&t->counters[w].fwd.tx, 1, __ATOMIC_RELAXED);
		if (cpl[i].status != 0)
			__atomic_fetch_add(&t->counters[w].fwd.dropped, 1, __ATOMIC_RELAXED);
	}
}

static int
zs_worker(struct tpmd *t, unsigned int w)
{
	struct zs_ctx *c = t->mode_ctx;
	struct iovec iov;
	struct tide_zctx_send s = {
		.queue = (uint16_t)w, .hdr_len = ZS_HDR, .nb_iov = 1, .hdr = c->hdr, .iov = &iov,
	};
	uint64_t i = 0;
	size_t off = 0;

	while (!t->stop) {
		uint32_t len = c->sizes[i % c->nb_sizes];

		if (off + len > c->buf_len)
			off = 0;
		iov.iov_base = c->buf + off;
		iov.iov_len = len;
		s.port = t->ports[i % t->nb_ports];
		s.cookie = ((uint64_t)w << 48) | i;
		if (tide_zctx_submit(c->z, &s) == 0) {
			i++;
			off += RTE_ALIGN_CEIL(len, 64);
		} else {
			zs_poll(t, c);
		}
	}
	return 0;
}

static int
zs_stats(struct tpmd *t, char *buf, size_t len)
{
	struct zs_ctx *c = t->mode_ctx;
	struct tide_zctx_cache_stats cs;
	struct tide_zctx_stats st;
	uint64_t bytes = 0, now = tide_app_now_ns();
	int ret;

	for (unsigned int w = 0; w < t->nb_workers; w++)
		bytes += __atomic_load_n(&c->bytes[w], __ATOMIC_RELAXED);
	tide_zctx_stats_get(c->z, &st);
	tide_zctx_cache_stats_get(&cs);
	ret = snprintf(buf, len, " | zctx %.2f Gbps, zero-copy %" PRIu64 " copied %" PRIu64
		" failed %" PRIu64 ", threshold %s%u B, pinned %.1f MB (idle %.1f), eagain %"
		PRIu64,
		c->last_ns ? (bytes - c->last_bytes) * 8.0 / (double)(now - c->last_ns) : 0.0,
		st.zc_sends, st.copy_sends, st.failed, st.adaptive ? "adaptive " : "",
		st.threshold, cs.pinned_bytes / 1048576.0, cs.idle_bytes / 1048576.0, st.eagain);
	c->last_bytes = bytes;
	c->last_ns = now;
	return ret;
}

const struct tpmd_mode tpmd_mode_zctx = {
	.name = "zctx",
	.help = "send from a malloc'd buffer through the zero-copy send agent (size mix)",
	.setup = zs_init,
	.worker = zs_worker,
	.stats = zs_stats,
	.teardown = zs_fini,
};
