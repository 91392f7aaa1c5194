/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_PORT_H
#define TIDE_TEST_PORT_H

/* An ethdev port set up the way the zero-copy TX tests and helpers need it (no CUnit: the
 * multi-process helper links it too). */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>

/**
 * Configure port @p port (one RX queue of 64 descriptors from @p rx, @p nb_txq TX queues of
 * @p nb_txd descriptors, MTU @p mtu, chained mbufs asked for where the port offers them: a
 * zero-copy send is a chain) and start it. Returns 0, or a negative value from the first
 * ethdev call that failed (-EINVAL when @p rx is NULL).
 */
int tide_test_port_start(uint16_t port, struct rte_mempool *rx, uint16_t nb_txq,
	uint16_t nb_txd, uint16_t mtu);

/** The same, with chained mbufs asked for (where offered) only if @p chains. */
int tide_test_port_start_chains(uint16_t port, struct rte_mempool *rx, uint16_t nb_txq,
	uint16_t nb_txd, uint16_t mtu, bool chains);

#endif /* TIDE_TEST_PORT_H */
