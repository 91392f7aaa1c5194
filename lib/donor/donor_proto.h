/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_DONOR_PROTO_H
#define TIDE_DONOR_PROTO_H

/*
 * What a consumer and its tide-donor helper say to each other (internal, not installed;
 * the library and app/tide-donor include it, and must agree on it byte for byte).
 *
 * One SOCK_SEQPACKET socket pair per donor; the donor's end is its descriptor
 * DONOR_PROTO_FD. Every message is one struct donor_msg; OFFER and ADOPT carry one
 * descriptor (SCM_RIGHTS). Every message says how many descriptors it carries: the kernel
 * cuts the descriptors short (MSG_CTRUNC) both when the receiver has no room for them in
 * its control buffer and when it has no descriptor free under its RLIMIT_NOFILE (the rest
 * are closed), and only the count tells a sender's breach from the receiver's limit. The
 * handshake:
 *
 *   donor                                   consumer
 *   starts, sets PR_SET_PDEATHSIG, checks
 *   its parent is still the consumer
 *   HELLO (pid)                       ->
 *   allocates: memfd (MFD_HUGETLB for
 *   hugepages), sized, sealed against
 *   shrinking and growing, populated,
 *   mlock()ed for the pinned kind
 *   OFFER (bytes, page size, VmLck) + fd ->  checks the descriptor, maps it
 *                                     <-  ACK
 *   sleeps until TERM or until the consumer's end hangs up (the consumer died), then
 *   exits: its memory stays as long as the consumer maps it.
 *
 * Every message names its sender (pid): the consumer refuses one from a donor that names
 * another process. A donor that cannot allocate sends ERROR (errno) instead of OFFER. A
 * re-pinning donor (started with --adopt) is given the memory instead: after HELLO the
 * consumer sends ADOPT + fd, the donor maps and locks it and answers LOCKED (VmLck) or
 * ERROR (EMFILE when the descriptor did not reach it: no descriptor free under its own
 * RLIMIT_NOFILE).
 */

#include <stdint.h>

#define DONOR_PROTO_MAGIC 0x7469646eu /* "tidn" */
#define DONOR_PROTO_VERSION 2
/** The donor's end of its socket. */
#define DONOR_PROTO_FD 3
/* The page size of a pinned region, as lib/donor offers it and the donor accepts it: the
 * library counts a pinned region's IO addresses in 4 KB pages. */
#define DONOR_PINNED_PAGE 4096ull

enum donor_msg_type {
	DONOR_MSG_HELLO = 1,
	DONOR_MSG_OFFER,  /* + the memory's descriptor */
	DONOR_MSG_ERROR,
	DONOR_MSG_ACK,
	DONOR_MSG_TERM,
	DONOR_MSG_ADOPT,  /* + the memory's descriptor */
	DONOR_MSG_LOCKED,
};

/** Handshake steps, for ERROR messages and the test hooks. */
enum donor_step {
	DONOR_STEP_START = 1,
	DONOR_STEP_ALLOC,
	DONOR_STEP_OFFER,
	DONOR_STEP_ADOPT,
};

struct donor_msg {
	uint32_t magic;     /* DONOR_PROTO_MAGIC */
	uint16_t version;   /* DONOR_PROTO_VERSION */
	uint16_t type;      /* enum donor_msg_type */
	int32_t pid;        /* the sender's pid */
	int32_t err;        /* ERROR: a positive errno */
	uint32_t step;      /* ERROR: enum donor_step where it failed */
	uint32_t nfds;      /* descriptors it carries (donor_msg_send() sets it) */
	uint64_t bytes;     /* OFFER, ADOPT: size of the memory */
	uint64_t page_sz;   /* OFFER, ADOPT: its page size */
	uint64_t locked_kb; /* OFFER, LOCKED: the donor's VmLck after locking */
};

/** Exit codes of tide-donor. */
enum donor_exit {
	DONOR_EXIT_OK = 0,      /* terminated, or its consumer went away */
	DONOR_EXIT_USAGE = 2,   /* bad command line */
	DONOR_EXIT_ORPHAN = 3,  /* its parent was not (or no longer) the consumer at start */
	DONOR_EXIT_ALLOC = 4,   /* could not allocate, receive or lock (ERROR sent) */
	DONOR_EXIT_PROTO = 5,   /* the consumer broke the protocol */
};

/** Most descriptors one message carries (one is legal; more are read to be refused). */
#define DONOR_PROTO_MAX_FDS 4

/** Fill the common fields of a message of @p type from process @p pid. */
void donor_msg_init(struct donor_msg *m, enum donor_msg_type type, int pid);

/**
 * Send one message with @p nfds descriptors (never raises SIGPIPE); the message sent says
 * @p nfds, whatever @p m says.
 *
 * @return
 *   0, or a negative errno (-EPIPE: the peer has gone).
 */
int donor_msg_send(int sock, const struct donor_msg *m, const int *fds, unsigned int nfds);

/**
 * Receive one message and the descriptors it carries (close-on-exec).
 *
 * @param fds
 *   Room for DONOR_PROTO_MAX_FDS descriptors; every descriptor received is stored here,
 *   even on error, and the caller closes them.
 * @param nfds
 *   Set to how many were received.
 * @return
 *   0 for a well-formed message (magic, version, size and descriptor count checked);
 *   -ECONNRESET the peer closed its end; -EMFILE fewer descriptors arrived than the message
 *   says it carries, with room for them all: this process had no descriptor free under its
 *   RLIMIT_NOFILE (the kernel closed the others); -EPROTONOSUPPORT a message with the right
 *   magic and another version, of any size (a peer of another build; @p m->version says
 *   which); -EPROTO a message of the wrong size or magic, one that says it carries more
 *   than DONOR_PROTO_MAX_FDS descriptors, or that carries another number than it says;
 *   another negative errno from recvmsg().
 */
int donor_msg_recv(int sock, struct donor_msg *m, int *fds, unsigned int *nfds);

#endif /* TIDE_DONOR_PROTO_H */
