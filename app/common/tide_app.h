/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_APP_H
#define TIDE_APP_H

/*
 * Shared start-up of tidepool's programs (tidepmd, tide-bench; not installed).
 *
 * Command lines follow DPDK: EAL arguments first, then "--", then the program's own.
 * Without "--" every argument is the program's; without EAL arguments (no "--", or none
 * before it: "prog -- -i") EAL gets the program's defaults. Either
 * way EAL gets "--file-prefix <prog>-<pid>" unless the EAL arguments name one, so that two
 * runs never share hugepage files. A program splits its command line first
 * (tide_app_args()), checks its own arguments, and only then starts EAL, so that a bad
 * option is refused at once.
 */

#include <stdbool.h>
#include <stdint.h>

/**
 * Split the command line at "--" (kept for tide_app_eal_init()) and name the program in
 * messages.
 *
 * @param prog_argc, prog_argv
 *   Set to the program's own arguments; prog_argv[0] is the program name.
 * @return
 *   0.
 */
int tide_app_args(int argc, char **argv, const char *prog, int *prog_argc,
	char ***prog_argv);

/** The program's name as given to tide_app_args(). */
const char *tide_app_prog(void);

/**
 * Initialise EAL with the EAL part of the command line given to tide_app_args().
 * SIGINT, SIGTERM and SIGPIPE are blocked meanwhile: EAL's own threads keep them blocked,
 * so none reaches them; one that came during the init is taken on return.
 *
 * @param default_eal
 *   Space-separated EAL arguments used when the command line has none: no "--", or
 *   nothing before it.
 * @return
 *   0, or a negative value after printing why (the file prefix in use by another
 *   primary, no hugepages, bad EAL arguments, or what EAL said).
 */
int tide_app_eal_init(const char *default_eal);

/**
 * rte_eal_cleanup(), free what tide_app_eal_init() kept for EAL, and, in a primary process
 * that no live secondary is attached to, remove the DPDK runtime directory of its file
 * prefix (DPDK leaves it behind).
 */
void tide_app_eal_cleanup(void);

/** The lcores of default_eal strings: one on each CPU the process may run on (@p own_cpus;
 *  else on each online CPU, whatever its affinity), at most @p max (64), at least @p min
 *  (those past its CPUs on its first): "-l 0-N" where those CPUs are 0..N,
 *  "--lcores 0@C,1@C',..." otherwise. */
const char *tide_app_lcores(unsigned int max, unsigned int min, bool own_cpus);

/** Install SIGINT/SIGTERM/SIGPIPE handlers that set the flag tide_app_quit() reads. */
void tide_app_signals(void);

/** True once SIGINT, SIGTERM or SIGPIPE arrived. */
bool tide_app_quit(void);

/** How many SIGINT and SIGTERM arrived (not SIGPIPE, which the program's own writes raise):
 *  a wait begun at count N that sees more was asked to end by the user. */
unsigned int tide_app_signal_count(void);

/** Monotonic time in ns. */
uint64_t tide_app_now_ns(void);

/**
 * The tide-donor helper for a donor manager's params.helper: the one of this program's
 * build tree (app/tide-donor/tide-donor beside app/<program>/), or NULL when there is none
 * (an installed program: the library finds the installed helper, or TIDE_DONOR_HELPER).
 */
const char *tide_app_donor_helper(void);

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
