/* SPDX-License-Identifier: BSD-3-Clause */

/* rxonly mode: receive on every RX queue and free what arrives. */

#include <rte_ethdev.h>

#include "tidepmd.h"

static void
rxonly_burst(struct tpmd_lcore *lc, struct tpmd_stream *s, unsigned int burst)
{
	struct rte_mbuf *m[TPMD_MAX_BURST];
	uint16_t n = rte_eth_rx_burst(s->rx_port, s->rx_queue, m, (uint16_t)burst);

	if (n == 0)
		return;
	tpmd_count(&lc->cnt.rx, n);
	rte_pktmbuf_free_bulk(m, n);
}

const struct tpmd_engine tpmd_engine_rxonly = {
	.name = "rxonly",
	.help = "receive on every port and free the packets",
	.layout = TPMD_LAYOUT_RX,
	.burst = rxonly_burst,
};
