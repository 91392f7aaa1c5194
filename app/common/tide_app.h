/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_APP_H
#define TIDE_APP_H

/*
 * Shared start-up of tidepool's programs (tidepmd, tide-bench; not installed).
 *
 * Command lines follow DPDK: EAL arguments first, then "--", then the program's own.
 * Without "--" every argument is the program's and EAL gets @p default_eal. Either way
 * EAL gets "--file-prefix <prog>-<pid>" unless the EAL arguments name one, so that two
 * runs never share hugepage files.
 */

#include <stdbool.h>
#include <stdint.h>

/**
 * Initialise EAL from the command line.
 *
 * @param default_eal
 *   Space-separated EAL arguments used when the command line has no "--".
 * @param app_argc, app_argv
 *   Set to the program's own arguments; app_argv[0] is the program name.
 * @return
 *   0, or a negative value after printing why.
 */
int tide_app_eal_init(int argc, char **argv, const char *prog, const char *default_eal,
	int *app_argc, char ***app_argv);

/** rte_eal_cleanup(), and free what tide_app_eal_init() kept for EAL. */
void tide_app_eal_cleanup(void);

/** "-l 0-N" for the machine's first cores, at most @p max lcores, for default_eal strings. */
const char *tide_app_lcores(unsigned int max);

/** Install SIGINT/SIGTERM handlers that set the flag tide_app_quit() reads. */
void tide_app_signals(void);

/** True once SIGINT or SIGTERM arrived. */
bool tide_app_quit(void);

/** Monotonic time in ns. */
uint64_t tide_app_now_ns(void);

/** Packet counts of one forwarding loop. */
struct tide_app_fwd_counts {
	uint64_t rx;
	uint64_t tx;
	uint64_t dropped; /* refused by TX, freed */
};

/**
 * io forwarding: until *stop, receive up to @p burst packets on queue @p queue of each
 * port ports[i] and send them on the same queue of ports[i ^ 1]. Counts go to @p c.
 */
void tide_app_fwd_io(const uint16_t *ports, unsigned int nb_ports, uint16_t queue,
	unsigned int burst, volatile bool *stop, struct tide_app_fwd_counts *c);

#endif
