/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "test_common.h"
#include "test_pool_util.h"
#include "tide_mempool.h"

struct rte_mempool *
make_pool_p(struct tide_pool_params *p)
{
	struct rte_mempool *mp = tide_pool_create(p);

	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	return mp;
}

struct rte_mempool *
make_pool(const char *name, size_t base, size_t block, size_t wall, unsigned int cache,
	uint32_t flags)
{
	struct tide_pool_params p;

	tide_pool_params_init(&p, name);
	p.base_bytes = base;
	p.block_bytes = block;
	p.wall_bytes = wall;
	p.cache_size = cache;
	p.flags = flags;
	return make_pool_p(&p);
}

struct tide_pool_stats
pstats(const struct rte_mempool *mp)
{
	struct tide_pool_stats st;

	CU_ASSERT_EQUAL(tide_pool_stats_get(mp, &st), 0);
	return st;
}

bool
in_block(const struct rte_mempool *mp, unsigned int idx, const void *obj)
{
	struct tide_mempool_block_info bi;

	if (tide_mempool_block_info(mp, idx, &bi) != 0)
		return false;
	return (uintptr_t)obj - (uintptr_t)bi.addr < bi.len;
}

struct rte_mbuf *
hold_one_in_block(struct rte_mempool *mp, unsigned int k)
{
	struct tide_mempool_block_info bi;
	struct rte_mbuf **m, *one;
	unsigned int n = 0, i;

	for (i = 0; i < k; i++) {
		CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, i, &bi), 0);
		n += bi.nb_objs;
	}
	m = calloc(n + 1, sizeof(*m));
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n + 1), 0);
	one = m[n];
	CU_ASSERT_TRUE(in_block(mp, k, one));
	rte_pktmbuf_free_bulk(m, n);
	free(m);
	return one;
}

char *
telemetry_query(const char *cmd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char *buf = calloc(1, 65536);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t n;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/dpdk_telemetry.v2",
		rte_eal_get_runtime_dir());
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		goto fail;
	if (read(fd, buf, 65535) <= 0) /* the greeting */
		goto fail;
	if (write(fd, cmd, strlen(cmd)) < 0)
		goto fail;
	n = read(fd, buf, 65535);
	if (n <= 0)
		goto fail;
	buf[n] = '\0';
	close(fd);
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	buf[0] = '\0';
	return buf;
}
