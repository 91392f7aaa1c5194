/* SPDX-License-Identifier: BSD-3-Clause */

/* io mode: receive a burst on each port and send it as is to the peer port. */

#include "tide_app.h"
#include "tidepmd.h"

static int
io_worker(struct tpmd *t, unsigned int w)
{
	tide_app_fwd_io(t->ports, t->nb_ports, w, t->cfg.burst, &t->stop, &t->counters[w].fwd);
	return 0;
}

const struct tpmd_mode tpmd_mode_io = {
	.name = "io",
	.help = "forward every packet received on a port to its peer, untouched",
	.worker = io_worker,
};
