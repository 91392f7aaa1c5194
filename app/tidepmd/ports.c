/* SPDX-License-Identifier: BSD-3-Clause */

/* Port set-up: every available port, one RX and one TX queue per worker, all fed from
 * the elastic pool.
 */

#include <stdio.h>

#include <rte_ethdev.h>

#include "tidepmd.h"

static int
tpmd_port_init(struct tpmd *t, uint16_t port)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	unsigned int q;
	int ret;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	if (info.max_rx_queues < t->nb_workers || info.max_tx_queues < t->nb_workers) {
		fprintf(stderr, "tidepmd: port %u has too few queues for %u workers\n", port,
			t->nb_workers);
		return -EINVAL;
	}
	ret = rte_eth_dev_configure(port, t->nb_workers, t->nb_workers, &conf);
	if (ret != 0)
		return ret;
	for (q = 0; q < t->nb_workers; q++) {
		ret = rte_eth_rx_queue_setup(port, q, t->cfg.rxd, rte_eth_dev_socket_id(port),
			NULL, t->pool);
		if (ret != 0)
			return ret;
		ret = rte_eth_tx_queue_setup(port, q, t->cfg.txd, rte_eth_dev_socket_id(port),
			NULL);
		if (ret != 0)
			return ret;
	}
	ret = rte_eth_dev_start(port);
	if (ret != 0)
		return ret;
	rte_eth_promiscuous_enable(port); /* best effort: vdevs may not support it */
	return 0;
}

int
tpmd_ports_init(struct tpmd *t)
{
	uint16_t port;
	int ret;

	RTE_ETH_FOREACH_DEV(port) {
		if (t->nb_ports == TPMD_MAX_PORTS)
			break;
		t->ports[t->nb_ports++] = port;
	}
	if (t->nb_ports < 2 || t->nb_ports % 2 != 0) {
		fprintf(stderr, "tidepmd: need an even number of ports (>= 2), have %u; "
			"add e.g. --vdev net_null0 --vdev net_null1\n", t->nb_ports);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < t->nb_ports; i++) {
		ret = tpmd_port_init(t, t->ports[i]);
		if (ret != 0) {
			fprintf(stderr, "tidepmd: cannot start port %u: %s\n", t->ports[i],
				rte_strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void
tpmd_ports_close(struct tpmd *t)
{
	for (unsigned int i = 0; i < t->nb_ports; i++) {
		rte_eth_dev_stop(t->ports[i]);
		rte_eth_dev_close(t->ports[i]);
	}
}

uint16_t
tpmd_peer(const struct tpmd *t, unsigned int port_idx)
{
	return t->ports[port_idx ^ 1];
}

uint64_t
tpmd_rx_nombuf(const struct tpmd *t)
{
	struct rte_eth_stats st;
	uint64_t n = 0;

	for (unsigned int i = 0; i < t->nb_ports; i++)
		if (rte_eth_stats_get(t->ports[i], &st) == 0)
			n += st.rx_nombuf;
	return n;
}
