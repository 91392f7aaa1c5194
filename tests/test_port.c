/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>

#include <rte_ethdev.h>

#include "test_port.h"

int
tide_test_port_start(uint16_t port, struct rte_mempool *rx, uint16_t nb_txq, uint16_t nb_txd,
	uint16_t mtu)
{
	return tide_test_port_start_chains(port, rx, nb_txq, nb_txd, mtu, true);
}

int
tide_test_port_start_chains(uint16_t port, struct rte_mempool *rx, uint16_t nb_txq,
	uint16_t nb_txd, uint16_t mtu, bool chains)
{
	struct rte_eth_conf conf = { .rxmode = { .mtu = mtu } };
	struct rte_eth_dev_info info;
	int ret;

	if (rx == NULL)
		return -EINVAL;
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	if (chains)
		conf.txmode.offloads = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	ret = rte_eth_dev_configure(port, 1, nb_txq, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL, rx);
	for (uint16_t q = 0; ret == 0 && q < nb_txq; q++)
		ret = rte_eth_tx_queue_setup(port, q, nb_txd, SOCKET_ID_ANY, NULL);
	return ret != 0 ? ret : rte_eth_dev_start(port);
}
