/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_APP_PIPE_H
#define TIDE_APP_PIPE_H

/*
 * Pieces of a packet pipeline shared by tidepmd's pipeline mode and tide-bench's pipeline
 * scenario (not installed): classify by DSCP, a stand-in for per-packet work, and test
 * headers for null ports (which carry none).
 */

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

/** Priority levels the classifier gives (DSCP's top two bits). */
#define TIDE_APP_PRIO_LEVELS 4

/** Bytes tide_app_stamp() writes: an Ethernet and an IPv4 header. */
#define TIDE_APP_STAMP_LEN (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr))

/** Priority of a packet: DSCP >> 4 for IPv4 (0..3), 0 for anything else. Inline, as a
 *  data plane's per-packet classifier is in its stage's loop. */
static inline uint8_t
tide_app_classify(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip;

	if (rte_pktmbuf_data_len(m) < TIDE_APP_STAMP_LEN ||
			eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return 0;
	ip = (const struct rte_ipv4_hdr *)(eth + 1);
	return (uint8_t)((ip->type_of_service >> 2) >> 4);
}

/** Write an Ethernet + IPv4 header carrying @p dscp at the front of the packet (it must
 *  hold TIDE_APP_STAMP_LEN bytes). Null ports bring packets without headers. */
void tide_app_stamp(struct rte_mbuf *m, uint8_t dscp);

/** The per-packet work of the demo's worker stage: swap the Ethernet addresses. */
void tide_app_work(struct rte_mbuf *m);

#endif
