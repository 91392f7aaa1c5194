/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The README's two-stage pipeline: stage 1 makes received mbufs messages in place and
 * classifies them into a priority exchange; stage 2 takes them, highest priority first,
 * and unmakes them for TX. Here one lcore plays both stages in turn, on a null port.
 *   cc pipeline.c $(pkg-config --cflags --libs libtidepool) -o pipeline
 *   ./pipeline -l 0 --no-pci --vdev net_null0
 */

#include <stdio.h>

#include <rte_eal.h>
#include <rte_ethdev.h>

#include <tide_msg.h>
#include <tide_pool.h>

int
main(int argc, char **argv)
{
	struct tide_xchg_params xp = { .name = "work", .type = TIDE_XCHG_PRIO, .size = 1024,
		.nb_prio = 4, .socket_id = SOCKET_ID_ANY };
	struct rte_eth_conf conf = { 0 };
	struct tide_pool_params pp;
	struct rte_mbuf *m[32];
	struct rte_mempool *mp;
	struct tide_xchg *x;
	uint64_t forwarded = 0;
	int rx, work;

	if (rte_eal_init(argc, argv) < 0 || tide_msg_init(NULL) != 0)
		return 1;
	if (!rte_eth_dev_is_valid_port(0)) {
		fprintf(stderr, "no port 0: give one, e.g. --vdev net_null0\n");
		tide_msg_fini();
		rte_eal_cleanup();
		return 1;
	}
	tide_pool_params_init(&pp, "rx_pool");
	mp = tide_pool_create(&pp);
	x = tide_xchg_create(&xp);
	rx = tide_stage_register("rx");
	work = tide_stage_register("work");
	if (mp == NULL || x == NULL || rx < 0 || work < 0 ||
			rte_eth_dev_configure(0, 1, 1, &conf) != 0 ||
			rte_eth_rx_queue_setup(0, 0, 512, SOCKET_ID_ANY, NULL, mp) != 0 ||
			rte_eth_tx_queue_setup(0, 0, 512, SOCKET_ID_ANY, NULL) != 0 ||
			rte_eth_dev_start(0) != 0)
		return 1;

	for (int i = 0; i < 1000; i++) {
		/* Stage 1: receive, make messages in place, classify, send. */
		uint16_t n = rte_eth_rx_burst(0, 0, m, 32);
		unsigned int sent;

		tide_msg_make_burst(m, n, (uint16_t)rx, 0);
		for (uint16_t k = 0; k < n; k++)
			tide_msg_set_prio(m[k], k % 4); /* e.g. from the packet's DSCP */
		sent = tide_xchg_send_burst(x, m, n);
		tide_msg_release_burst(&m[sent], n - sent); /* back to their pool */

		/* Stage 2 (another lcore in real life): receive, highest priority first. */
		n = (uint16_t)tide_xchg_recv_burst(x, m, 32, (uint16_t)work);
		tide_msg_unmake_burst(m, n); /* bare mbufs again, as TX takes them */
		sent = rte_eth_tx_burst(0, 0, m, n);
		rte_pktmbuf_free_bulk(&m[sent], n - sent); /* what TX did not take */
		forwarded += sent;
	}
	printf("forwarded %lu packets through the exchange; %d message(s) left\n",
		(unsigned long)forwarded, tide_msg_leak_report(stdout));
	rte_eth_dev_stop(0);
	tide_xchg_free(x);
	tide_pool_free(mp);
	rte_eal_cleanup();
	return 0;
}
