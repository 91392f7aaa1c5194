/* SPDX-License-Identifier: BSD-3-Clause */

/* Port set-up: every available port (at most TPMD_MAX_PORTS), --rxq RX and --txq TX queues
 * each, all RX queues fed from the elastic pool.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "tidepmd.h"

/*
 * --rxd or --txd @p n against the device's limits, checked here so that the refusal names
 * the option and the range rather than rte_eth_*_queue_setup()'s bare -EINVAL. A count
 * the device would not take is refused, not adjusted: the user asked for that one.
 */
static int
tpmd_desc_check(uint16_t port, const struct rte_eth_dev_info *info, const char *opt,
	unsigned int n, const struct rte_eth_desc_lim *lim)
{
	unsigned int align = lim->nb_align != 0 ? lim->nb_align : 1;

	if (n >= lim->nb_min && n <= lim->nb_max && n % align == 0)
		return 0;
	fprintf(stderr, "tidepmd: %s %u: port %u (%s) takes %u..%u descriptors per queue, "
		"a multiple of %u\n", opt, n, port, info->driver_name, lim->nb_min, lim->nb_max,
		align);
	return -EINVAL;
}

/* The device's descriptor limits; tests replace them (fault injection) to see a refusal. */
static void
tpmd_desc_limits(struct rte_eth_dev_info *info)
{
	if (tpmd_test_fault("desc-lim"))
		info->rx_desc_lim = info->tx_desc_lim = (struct rte_eth_desc_lim){
			.nb_min = 64, .nb_max = 4096, .nb_align = 64,
		};
}

static int
tpmd_port_init(struct tpmd *t, unsigned int pi)
{
	const struct tpmd_config *c = &t->cfg;
	uint16_t port = t->ports[pi];
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	unsigned int q;
	int ret;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	if (info.max_rx_queues < c->rxq || info.max_tx_queues < c->txq) {
		fprintf(stderr, "tidepmd: port %u (%s) has at most %u RX and %u TX queues; "
			"--rxq %u --txq %u asked\n", port, info.driver_name, info.max_rx_queues,
			info.max_tx_queues, c->rxq, c->txq);
		return -EINVAL;
	}
	tpmd_desc_limits(&info);
	if (tpmd_desc_check(port, &info, "--rxd", c->rxd, &info.rx_desc_lim) != 0 ||
			tpmd_desc_check(port, &info, "--txd", c->txd, &info.tx_desc_lim) != 0)
		return -EINVAL;
	t->port_null[pi] = strcmp(info.driver_name, "net_null") == 0;
	ret = rte_eth_dev_configure(port, (uint16_t)c->rxq, (uint16_t)c->txq, &conf);
	if (ret != 0)
		return ret;
	for (q = 0; q < c->rxq; q++) {
		ret = rte_eth_rx_queue_setup(port, (uint16_t)q, (uint16_t)c->rxd,
			rte_eth_dev_socket_id(port), NULL, tide_pool_for_port(t->pools, port));
		if (ret != 0)
			return ret;
	}
	for (q = 0; q < c->txq; q++) {
		ret = rte_eth_tx_queue_setup(port, (uint16_t)q, (uint16_t)c->txd,
			rte_eth_dev_socket_id(port), NULL);
		if (ret != 0)
			return ret;
	}
	ret = rte_eth_dev_start(port);
	if (ret != 0)
		return ret;
	if (rte_eth_macaddr_get(port, &t->port_mac[pi]) != 0)
		memset(&t->port_mac[pi], 0, sizeof(t->port_mac[pi]));
	rte_eth_promiscuous_enable(port); /* best effort: vdevs may not support it */
	return 0;
}

int
tpmd_ports_find(struct tpmd *t)
{
	unsigned int n = 0;
	uint16_t port;

	/* Every port or none: one left out would take no part, and nothing would say so. */
	RTE_ETH_FOREACH_DEV(port) {
		if (n < TPMD_MAX_PORTS)
			t->ports[n] = port;
		n++;
	}
	if (n > TPMD_MAX_PORTS) {
		fprintf(stderr, "tidepmd: %u ports; tidepmd forwards on at most %u: give it "
			"fewer (--vdev, -a, -b, --no-pci)\n", n, TPMD_MAX_PORTS);
		return -EINVAL;
	}
	t->nb_ports = (uint16_t)n;
	if (t->nb_ports < 2 || t->nb_ports % 2 != 0) {
		fprintf(stderr, "tidepmd: need an even number of ports (>= 2), have %u; "
			"add e.g. --vdev net_null0 --vdev net_null1\n", t->nb_ports);
		return -EINVAL;
	}
	return 0;
}

int
tpmd_ports_init(struct tpmd *t)
{
	int ret;

	for (unsigned int i = 0; i < t->nb_ports; i++) {
		ret = tpmd_port_init(t, i);
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

int
tpmd_port_idx(const struct tpmd *t, uint16_t port)
{
	for (unsigned int i = 0; i < t->nb_ports; i++)
		if (t->ports[i] == port)
			return (int)i;
	return -1;
}
