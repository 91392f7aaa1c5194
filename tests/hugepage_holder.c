/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * A DPDK process that holds hugepage memory until it is killed, for the clean-up test of
 * scripts/setup.sh: it reserves the given MB in a memzone (new hugepages, one file each
 * unless EAL is told otherwise), touches them, prints "ready <MB>" and waits for a signal.
 *   hugepage_holder [EAL args] -- MB
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_memzone.h>

int
main(int argc, char **argv)
{
	const struct rte_memzone *mz;
	unsigned long mb;
	int n = rte_eal_init(argc, argv);

	if (n < 0 || argc - n < 2) {
		fprintf(stderr, "usage: hugepage_holder [EAL args] -- MB\n");
		return 2;
	}
	mb = strtoul(argv[n + 1], NULL, 10);
	mz = rte_memzone_reserve("holder", mb << 20, SOCKET_ID_ANY, 0);
	if (mz == NULL) {
		fprintf(stderr, "hugepage_holder: cannot reserve %lu MB\n", mb);
		return 1;
	}
	memset(mz->addr, 0x5a, mz->len);
	printf("ready %lu\n", mb);
	fflush(stdout);
	for (;;)
		pause();
}
