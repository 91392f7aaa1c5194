/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The README's example: an elastic pool used as any pktmbuf pool.
 * Build against an installed tidepool:
 *   cc elastic_pool.c $(pkg-config --cflags --libs libtidepool) -o elastic_pool
 *   ./elastic_pool -l 0 --no-pci
 */

#include <inttypes.h>
#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include <tide_pool.h>

#define BURST 4096

int
main(int argc, char **argv)
{
	struct rte_mbuf *m[BURST];
	struct tide_pool_params p;
	struct tide_pool_stats st;
	struct rte_mempool *mp;

	if (rte_eal_init(argc, argv) < 0)
		return 1;

	tide_pool_params_init(&p, "rx_pool");
	p.base_bytes = 4 << 20;   /* start with 4 MB of hugepages */
	p.block_bytes = 2 << 20;  /* grow 2 MB at a time */
	p.wall_bytes = 64 << 20;  /* never hold more than 64 MB */
	mp = tide_pool_create(&p);
	if (mp == NULL)
		return 1;

	/* Use it as any pktmbuf pool, e.g. rte_eth_rx_queue_setup(port, 0, 1024, 0, NULL, mp).
	 * 4096 mbufs is more than the base holds: the pool grows.
	 */
	if (rte_pktmbuf_alloc_bulk(mp, m, BURST) != 0)
		return 1;
	if (tide_pool_stats_get(mp, &st) != 0) {
		fprintf(stderr, "stats: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	printf("%u blocks, %.0f MB of hugepages, %" PRIu64 " mbufs in use\n", st.nb_blocks,
		st.bytes / 1048576.0, st.nb_in_use);

	rte_pktmbuf_free_bulk(m, BURST);
	tide_pool_free(mp);
	rte_eal_cleanup();
	return 0;
}
