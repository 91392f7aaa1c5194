/* SPDX-License-Identifier: BSD-3-Clause */

/* Messages between a consumer and its donors (see donor_proto.h): one datagram each. */

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "donor_proto.h"

void
donor_msg_init(struct donor_msg *m, enum donor_msg_type type, int pid)
{
	memset(m, 0, sizeof(*m));
	m->magic = DONOR_PROTO_MAGIC;
	m->version = DONOR_PROTO_VERSION;
	m->type = (uint16_t)type;
	m->pid = pid;
}

int
donor_msg_send(int sock, const struct donor_msg *m, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * DONOR_PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct donor_msg out = *m;
	struct iovec iov = { .iov_base = &out, .iov_len = sizeof(out) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (nfds > DONOR_PROTO_MAX_FDS)
		return -EINVAL;
	out.nfds = nfds;
	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(out) ? 0 : -EPROTO;
}

/* Store the descriptors of every SCM_RIGHTS header of @p mh. */
static void
proto_take_fds(struct msghdr *mh, int *fds, unsigned int *nfds)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		unsigned int n, i;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < n && *nfds < DONOR_PROTO_MAX_FDS; i++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
}

int
donor_msg_recv(int sock, struct donor_msg *m, int *fds, unsigned int *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * DONOR_PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -ECONNRESET : -errno;
	proto_take_fds(&mh, fds, nfds);
	if (n == 0)
		return -ECONNRESET;
	/* A peer of another build: its version, whatever the size of its messages. */
	if ((size_t)n >= offsetof(struct donor_msg, type) && m->magic == DONOR_PROTO_MAGIC &&
			m->version != DONOR_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (n != (ssize_t)sizeof(*m) || (mh.msg_flags & MSG_TRUNC) ||
			m->magic != DONOR_PROTO_MAGIC || m->nfds > DONOR_PROTO_MAX_FDS)
		return -EPROTO;
	/* Cut short though the buffer had room for all it says it carries: the kernel could not
	 * give this process the others (no descriptor free), and closed them. */
	if ((mh.msg_flags & MSG_CTRUNC) && *nfds < m->nfds)
		return -EMFILE;
	if ((mh.msg_flags & MSG_CTRUNC) || *nfds != m->nfds)
		return -EPROTO;
	return 0;
}
