/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * A secondary whose mempool drivers are not its primary's: it registers a driver of its
 * own, so the tide ops (registered during rte_eal_init, after every other driver) get an
 * index one higher here than in the test primary. tidepool
 * must refuse it during rte_eal_init(); if it ever got past, this prints "attached=1".
 */

#include <errno.h>
#include <stdio.h>

#include <rte_eal.h>
#include <rte_mempool.h>

static int
dummy_alloc(struct rte_mempool *mp __rte_unused)
{
	return -ENOTSUP;
}

static void
dummy_free(struct rte_mempool *mp __rte_unused)
{
}

static int
dummy_enqueue(struct rte_mempool *mp __rte_unused, void * const *objs __rte_unused,
	unsigned int n __rte_unused)
{
	return -ENOTSUP;
}

static int
dummy_dequeue(struct rte_mempool *mp __rte_unused, void **objs __rte_unused,
	unsigned int n __rte_unused)
{
	return -ENOTSUP;
}

static unsigned int
dummy_get_count(const struct rte_mempool *mp __rte_unused)
{
	return 0;
}

static struct rte_mempool_ops dummy_ops = {
	.name = "tide_test_dummy",
	.alloc = dummy_alloc,
	.free = dummy_free,
	.enqueue = dummy_enqueue,
	.dequeue = dummy_dequeue,
	.get_count = dummy_get_count,
};

RTE_MEMPOOL_REGISTER_OPS(dummy_ops);

int
main(int argc, char **argv)
{
	if (rte_eal_init(argc, argv) < 0) {
		printf("error=cannot initialise EAL\n");
		return 2;
	}
	printf("attached=1\n");
	rte_eal_cleanup();
	return 0;
}
