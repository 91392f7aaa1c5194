/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * txonly mode: send UDP packets of --txpkts bytes on every TX queue, as fast as the ports
 * take them: Ethernet from the port's address to its peer port's, IPv4 198.18.0.1 ->
 * 198.18.0.2 (the benchmarking range), UDP port 9 to 9. tx_first sends the same packets.
 */

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "tidepmd.h"

#define TXONLY_HDR (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + \
	sizeof(struct rte_udp_hdr))

/* An IPv4 address in host order (22.11's RTE_IPV4() shifts a signed int into its sign bit). */
static inline uint32_t
txonly_ipv4(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	return a << 24 | b << 16 | c << 8 | d;
}

static void
txonly_header(const struct tpmd *t, unsigned int pi, uint8_t *buf)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t len = (uint16_t)(t->cfg.txpkts - sizeof(*eth));

	memset(buf, 0, TXONLY_HDR);
	rte_ether_addr_copy(&t->port_mac[pi], &eth->src_addr);
	rte_ether_addr_copy(&t->port_mac[pi ^ 1], &eth->dst_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(txonly_ipv4(198, 18, 0, 1));
	ip->dst_addr = rte_cpu_to_be_32(txonly_ipv4(198, 18, 0, 2));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(9);
	udp->dst_port = rte_cpu_to_be_16(9);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(len - sizeof(*ip)));
}

void
tpmd_txonly_fill(const struct tpmd *t, unsigned int pi, struct rte_mbuf **m, unsigned int n)
{
	uint8_t hdr[TXONLY_HDR];

	txonly_header(t, pi, hdr);
	for (unsigned int i = 0; i < n; i++) {
		memcpy(rte_pktmbuf_mtod(m[i], void *), hdr, sizeof(hdr));
		m[i]->data_len = (uint16_t)t->cfg.txpkts;
		m[i]->pkt_len = t->cfg.txpkts;
	}
}

static void
txonly_burst(struct tpmd_lcore *lc, struct tpmd_stream *s, unsigned int burst)
{
	struct rte_mbuf *m[TPMD_MAX_BURST];
	struct rte_mempool *mp = tide_pool_for_lcore(lc->t->pools, lc->lcore_id);

	if (rte_pktmbuf_alloc_bulk(mp, m, burst) != 0) {
		tpmd_count(&lc->cnt.nombuf, burst);
		return;
	}
	tpmd_txonly_fill(lc->t, s->tx_pi, m, burst);
	tpmd_send(lc, s->tx_port, s->tx_queue, m, (uint16_t)burst);
}

const struct tpmd_engine tpmd_engine_txonly = {
	.name = "txonly",
	.help = "send UDP packets (--txpkts bytes) on every port, receive nothing",
	.layout = TPMD_LAYOUT_TX,
	.burst = txonly_burst,
};
