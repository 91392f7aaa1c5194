/* SPDX-License-Identifier: BSD-3-Clause */

/* macswap mode: as io, with the Ethernet source and destination addresses swapped. */

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_prefetch.h>

#include "tidepmd.h"

static inline void
macswap_one(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth;
	struct rte_ether_addr a;

	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eth)))
		return;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&eth->src_addr, &a);
	rte_ether_addr_copy(&eth->dst_addr, &eth->src_addr);
	rte_ether_addr_copy(&a, &eth->dst_addr);
}

static void
macswap_burst(struct tpmd_lcore *lc, struct tpmd_stream *s, unsigned int burst)
{
	struct rte_mbuf *m[TPMD_MAX_BURST];
	uint16_t n = rte_eth_rx_burst(s->rx_port, s->rx_queue, m, (uint16_t)burst);

	if (n == 0)
		return;
	tpmd_count(&lc->cnt.rx, n);
	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		macswap_one(m[i]);
	}
	tpmd_send(lc, s->tx_port, s->tx_queue, m, n);
}

const struct tpmd_engine tpmd_engine_macswap = {
	.name = "macswap",
	.help = "as io, with the Ethernet source and destination addresses swapped",
	.layout = TPMD_LAYOUT_FWD,
	.burst = macswap_burst,
};
