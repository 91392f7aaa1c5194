/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_APP_PIPE_H
#define TIDE_APP_PIPE_H

/*
 * Pieces of a packet pipeline shared by tidepmd's pipeline mode and tide-bench's pipeline
 * scenario (not installed): classify by DSCP, a stand-in for per-packet work, and test
 * headers for null ports (which carry none).
 */

#include <stdint.h>

#include <rte_mbuf.h>

/** Priority levels the classifier gives (DSCP's top two bits). */
#define TIDE_APP_PRIO_LEVELS 4

/** Priority of a packet: DSCP >> 4 for IPv4 (0..3), 0 for anything else. */
uint8_t tide_app_classify(const struct rte_mbuf *m);

/** Write an Ethernet + IPv4 header carrying @p dscp at the front of the packet (it must
 *  hold 34 bytes). Null ports bring packets without headers. */
void tide_app_stamp(struct rte_mbuf *m, uint8_t dscp);

/** The per-packet work of the demo's worker stage: swap the Ethernet addresses. */
void tide_app_work(struct rte_mbuf *m);

#endif
