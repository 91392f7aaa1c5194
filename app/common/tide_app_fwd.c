/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "tide_app.h"

#define FWD_MAX_BURST 512

void
tide_app_fwd_io(const uint16_t *ports, unsigned int nb_ports, uint16_t queue,
	unsigned int burst, volatile bool *stop, struct tide_app_fwd_counts *c)
{
	struct rte_mbuf *pkts[FWD_MAX_BURST];

	burst = RTE_MIN(burst, (unsigned int)FWD_MAX_BURST);
	while (!*stop) {
		for (unsigned int i = 0; i < nb_ports; i++) {
			uint16_t n = rte_eth_rx_burst(ports[i], queue, pkts, burst), sent;

			if (n == 0)
				continue;
			sent = rte_eth_tx_burst(ports[i ^ 1], queue, pkts, n);
			if (unlikely(sent < n)) {
				rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
				c->dropped += n - sent;
			}
			c->rx += n;
			c->tx += sent;
		}
	}
}
