/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "tide_app_pipe.h"

void
tide_app_stamp(struct rte_mbuf *m, uint8_t dscp)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

	memset(eth, 0, sizeof(*eth) + sizeof(*ip));
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = (uint8_t)(dscp << 2);
	ip->total_length = rte_cpu_to_be_16(
		(uint16_t)(rte_pktmbuf_data_len(m) - sizeof(*eth)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
}

void
tide_app_work(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ether_addr a = eth->src_addr;

	eth->src_addr = eth->dst_addr;
	eth->dst_addr = a;
}
