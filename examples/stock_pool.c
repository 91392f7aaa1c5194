/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * An application that knows nothing of tidepool: it creates its pool with the stock DPDK
 * API and names the tide ops, nothing else. Linking libtidepool is enough for the pool to
 * be elastic: it starts at its profile's base and grows as mbufs are taken.
 *   cc stock_pool.c $(pkg-config --cflags --libs libtidepool libdpdk) -o stock_pool
 *   ./stock_pool -l 0 --no-pci --huge-unlink
 */

#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#define NB_MBUFS 16384

int
main(int argc, char **argv)
{
	struct rte_mbuf **m = calloc(NB_MBUFS, sizeof(*m));
	struct rte_mempool *mp;
	unsigned int base;

	if (m == NULL || rte_eal_init(argc, argv) < 0)
		return 1;
	mp = rte_pktmbuf_pool_create_by_ops("stock_pool", NB_MBUFS, 256, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id(), "tide");
	if (mp == NULL) {
		printf("cannot create the pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	base = mp->populated_size;
	printf("created: %u of %u mbufs populated, %u in use\n", base, mp->size,
		rte_mempool_in_use_count(mp));
	if (rte_pktmbuf_alloc_bulk(mp, m, NB_MBUFS) != 0) {
		printf("cannot take every mbuf\n");
		return 1;
	}
	printf("all taken: %u populated, %u in use\n", mp->populated_size,
		rte_mempool_in_use_count(mp));
	rte_pktmbuf_free_bulk(m, NB_MBUFS);
	printf("all back: %u in use, full %d\n", rte_mempool_in_use_count(mp),
		rte_mempool_full(mp));
	rte_mempool_free(mp);
	free(m);
	rte_eal_cleanup();
	return base < NB_MBUFS ? 0 : 2;
}
