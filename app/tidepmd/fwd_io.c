/* SPDX-License-Identifier: BSD-3-Clause */

/* io mode: receive a burst on a stream's RX queue and send it as is on its TX queue. */

#include <rte_ethdev.h>

#include "tidepmd.h"

static void
io_burst(struct tpmd_lcore *lc, struct tpmd_stream *s, unsigned int burst)
{
	struct rte_mbuf *m[TPMD_MAX_BURST];
	uint16_t n = rte_eth_rx_burst(s->rx_port, s->rx_queue, m, (uint16_t)burst);

	if (n == 0)
		return;
	tpmd_count(&lc->cnt.rx, n);
	tpmd_send(lc, s->tx_port, s->tx_queue, m, n);
}

const struct tpmd_engine tpmd_engine_io = {
	.name = "io",
	.help = "forward every packet received on a port to its peer, untouched",
	.layout = TPMD_LAYOUT_FWD,
	.burst = io_burst,
};
