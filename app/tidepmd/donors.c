/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * --donors: the elastic pool's second block source. When DPDK's heap refuses a block (the
 * process's --socket-limit, no free hugepages), the pool's control thread gets it from
 * donor processes (tide-donor), and the reaper gives it back to them, which ends them.
 */

#include <stdbool.h>
#include <stdio.h>

#include <rte_errno.h>

#include "tide_app.h"
#include "tide_donor.h"
#include "tide_pool.h"
#include "tidepmd.h"

static struct tide_donor_mgr *tpmd_dm;

int
tpmd_donors_start(struct tpmd *t)
{
	struct tide_donor_params p;
	bool unset = true;
	unsigned int k;
	int err;

	tide_donor_params_init(&p, "tidepmd");
	p.helper = tide_app_donor_helper();
	tpmd_dm = tide_donor_mgr_create(&p);
	if (tpmd_dm == NULL) {
		fprintf(stderr, "tidepmd: --donors: cannot start a donor manager: %s\n",
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	for (k = 0; k < t->pools->nb_pools; k++)
		if (tide_pool_block_source_set(t->pools->pools[k], tide_donor_pool_source,
				tpmd_dm) != 0)
			goto refused;
	/* Test builds: refused as a further pool's set would be (fault donor-source), so that
	 * the pools set before it exist on a machine of one socket too.
	 */
	if (tpmd_test_fault("donor-source")) {
		rte_errno = EBUSY;
		goto refused;
	}
	printf("tidepmd: past this process's hugepage limit, the pool grows on blocks from "
		"donor processes\n");
	return 0;

refused:
	err = rte_errno;
	fprintf(stderr, "tidepmd: --donors: %s\n", rte_strerror(err));
	/* All or nothing: no pool may keep a source whose manager is freed. */
	while (k-- > 0)
		if (tide_pool_block_source_set(t->pools->pools[k], NULL, NULL) != 0)
			unset = false;
	/* A pool that kept it: the manager goes after the pools (tpmd_donors_stop()). */
	if (unset) {
		tide_donor_mgr_free(tpmd_dm);
		tpmd_dm = NULL;
	}
	return -err;
}

int
tpmd_donors_stats(char *buf, size_t len)
{
	struct tide_donor_stats st;

	if (tpmd_dm == NULL || tide_donor_stats_get(tpmd_dm, &st) != 0)
		return 0;
	return snprintf(buf, len, " | donors %u holding %.0f MB", st.donors,
		st.donated_bytes / 1048576.0);
}

/* After the pool is freed: its donor blocks went with it. */
void
tpmd_donors_stop(void)
{
	if (tpmd_dm != NULL && tide_donor_mgr_free(tpmd_dm) != 0)
		fprintf(stderr, "tidepmd: the donor manager still has memory out: %s\n",
			rte_strerror(rte_errno));
	tpmd_dm = NULL;
}
