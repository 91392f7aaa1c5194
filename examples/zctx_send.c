/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The README's zero-copy TX example: send a malloc'd buffer on a net_null port through
 * the send agent, wait for the completion, then hand the memory back.
 *   cc zctx_send.c $(pkg-config --cflags --libs libtidepool) -o zctx_send
 *   ./zctx_send -l 0 --no-pci --vdev net_null0
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <tide_zctx.h>

#define LEN (256 * 1024)

int
main(int argc, char **argv)
{
	struct rte_eth_conf conf = { 0 };
	struct tide_zctx_params p;
	struct tide_zctx_cpl cpl;
	struct tide_zctx *z;
	int rc;
	uint8_t hdr[14] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0xb5 };
	uint8_t *buf = malloc(LEN);
	struct iovec iov = { .iov_base = buf, .iov_len = LEN };
	struct tide_zctx_send s = {
		.cookie = 42, .port = 0, .queue = 0, .hdr_len = sizeof(hdr), .nb_iov = 1,
		.hdr = hdr, .iov = &iov,
	};

	if (buf == NULL || rte_eal_init(argc, argv) < 0 || rte_eth_dev_count_avail() == 0)
		return 1;
	memset(buf, 'x', LEN);
	/* One TX queue for the agent; this port only sends. */
	if (rte_eth_dev_configure(0, 0, 1, &conf) != 0 ||
			rte_eth_tx_queue_setup(0, 0, 1024, SOCKET_ID_ANY, NULL) != 0 ||
			rte_eth_dev_start(0) != 0)
		return 1;

	tide_zctx_params_init(&p, "example");
	p.nb_ports = 1;
	p.ports[0] = 0;                       /* the agent owns its TX queues */
	z = tide_zctx_create(&p);             /* NULL + rte_errno on bad parameters */
	if (z == NULL)
		return 1;

	while ((rc = tide_zctx_submit(z, &s)) == -EAGAIN) /* depth reached: completions first */
		tide_zctx_poll(z, &cpl, 1);
	if (rc == 0) {                        /* header copied; buf is the agent's now */
		while (tide_zctx_poll(z, &cpl, 1) == 0)
			;                     /* or: TIDE_ZCTX_F_EVENTFD and poll(2) */
		printf("send %" PRIu64 ": status %d, %u bytes sent\n", cpl.cookie, cpl.status,
			cpl.bytes);
	} else {                              /* refused: nothing will complete */
		fprintf(stderr, "send refused: %s\n", rte_strerror(-rc));
	}

	/* The port first: the PMD may still hold mbufs of the instance's pools (a copied
	 * send completes once the PMD took it); its stop frees them, then the free can.
	 */
	rte_eth_dev_stop(0);
	if (tide_zctx_free(z) != 0)           /* -EBUSY: mbufs still out */
		return 1;
	tide_zctx_mem_invalidate(buf, LEN);   /* forget its pins before freeing it */
	free(buf);
	rte_eth_dev_close(0);
	rte_eal_cleanup();
	return rc == 0 && cpl.status == 0 ? 0 : 1;
}
