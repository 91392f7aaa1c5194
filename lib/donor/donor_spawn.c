/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Donor processes: starting one (posix_spawn of tide-donor with its end of a
 * SOCK_SEQPACKET pair as descriptor 3 and nothing else of ours), talking to it with a
 * deadline, checking the memory it hands over, terminating and reaping it (through its
 * pidfd, so no other child of the process is ever waited for), and re-pinning: giving a
 * dead pinned donor's memfd to a new donor that locks it again.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include "donor_private.h"
#include "tide_fault.h"

extern char **environ;

/* How long a donor whose VmLck is short may take to show it is dying rather than lying. */
#define SPAWN_DYING_MS 100

uint64_t
dn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *
spawn_kind_name(enum tide_donor_kind kind)
{
	return kind == TIDE_DONOR_HUGE ? "huge" : "pinned";
}

/* The donor's end of the socket must not be descriptor 3 already (dup2 would keep its
 * close-on-exec flag): move it if it is.
 */
static int
spawn_child_end(int fd)
{
	int moved;

	if (fd != DONOR_PROTO_FD)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, DONOR_PROTO_FD + 1);
	close(fd);
	return moved;
}

static int
spawn_exec(struct tide_donor_mgr *m, const struct dn_spawn_spec *s, int child, pid_t *pid)
{
	char a_ppid[24], a_bytes[24], a_pg[24], a_idx[24];
	char *argv[] = {
		m->helper, "--ppid", a_ppid, "--kind", (char *)(uintptr_t)spawn_kind_name(s->kind),
		"--bytes", a_bytes, "--page-size", a_pg, "--index", a_idx,
		s->adopt ? "--adopt" : NULL, NULL,
	};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	snprintf(a_ppid, sizeof(a_ppid), "%d", (int)getpid());
	snprintf(a_bytes, sizeof(a_bytes), "%" PRIu64, s->bytes);
	snprintf(a_pg, sizeof(a_pg), "%" PRIu64, s->page_sz);
	snprintf(a_idx, sizeof(a_idx), "%u", s->index);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, child, DONOR_PROTO_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, DONOR_PROTO_FD + 1);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(pid, m->helper, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

int
dn_spawn(struct tide_donor_mgr *m, struct dn_spawn_spec *s)
{
	int sv[2], rc;
	pid_t pid;

	s->pid = 0;
	s->pidfd = -1;
	s->sock = -1;
	s->err = 0;
	if (TIDE_FAULT(TIDE_FAULT_SPAWN)) {
		s->err = EAGAIN;
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		s->err = errno;
		goto fail;
	}
	sv[1] = spawn_child_end(sv[1]);
	rc = sv[1] < 0 ? errno : spawn_exec(m, s, sv[1], &pid);
	if (sv[1] >= 0)
		close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		s->err = rc;
		goto fail;
	}
	s->pidfd = pidfd_open(pid, 0);
	if (s->pidfd < 0) {
		s->err = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(sv[0]);
		goto fail;
	}
	s->pid = pid;
	s->sock = sv[0];
	pthread_mutex_lock(&m->lock);
	m->alive++;
	m->st.spawned++;
	pthread_mutex_unlock(&m->lock);
	return 0;
fail:
	pthread_mutex_lock(&m->lock);
	m->st.spawn_failures++;
	pthread_mutex_unlock(&m->lock);
	DN_LOG(ERR, "%s: cannot start donor %s: %s", m->name, m->helper, strerror(s->err));
	return -s->err;
}

/* The descriptors of a donor's message that did not arrive: this process's limit, not the
 * donor's breach. */
static void
spawn_log_nofile(const struct tide_donor_mgr *m, const struct dn_part *pt, const char *what)
{
	struct rlimit rl;
	char lim[24];

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		snprintf(lim, sizeof(lim), "unknown");
	else if (rl.rlim_cur == RLIM_INFINITY)
		snprintf(lim, sizeof(lim), "unlimited");
	else
		snprintf(lim, sizeof(lim), "%llu", (unsigned long long)rl.rlim_cur);
	DN_LOG(ERR, "%s: cannot %s donor %d: this process has no descriptor free under its "
		"RLIMIT_NOFILE (ulimit -n: %s); raise it (a live donor takes three, and a fourth "
		"a moment)", m->name, what, (int)pt->pid, lim);
}

/*
 * What donor @p pt has locked (VmLck, kB), or a negative errno: -EMFILE or -ENFILE where
 * this process has no descriptor free to read it (logged), -EIO where it cannot be read.
 */
static long
spawn_vmlck_kb(const struct tide_donor_mgr *m, const struct dn_part *pt)
{
	long kb;

	errno = 0;
	kb = dn_vmlck_kb(pt->pid);
	if (kb >= 0)
		return kb;
	if (errno == EMFILE || errno == ENFILE) {
		int err = errno;

		spawn_log_nofile(m, pt, "read how much memory has been locked by");
		return -err;
	}
	return -EIO;
}

/* A message received whole: from the donor it says it is from? A donor of another protocol
 * version (a tide-donor of another build) is -EPROTO, with a line that says so. */
static int
spawn_check_sender(const struct tide_donor_mgr *m, const struct dn_part *pt, int ret,
	const struct donor_msg *msg)
{
	if (ret == -EPROTONOSUPPORT) {
		DN_LOG(ERR, "%s: tide-donor at %s speaks donor protocol version %u, this library "
			"version %u: install the tide-donor of this build", m->name, m->helper,
			(unsigned int)msg->version, (unsigned int)DONOR_PROTO_VERSION);
		ret = -EPROTO;
	} else if (ret == -EPROTO) {
		DN_LOG(ERR, "%s: donor %d broke the protocol: a malformed message", m->name,
			(int)pt->pid);
	} else if (ret == -EMFILE) {
		spawn_log_nofile(m, pt, "receive all the descriptors sent by");
	}
	if (ret != 0 || msg->pid == pt->pid)
		return ret;
	DN_LOG(ERR, "%s: donor %d broke the protocol: a message that names process %d as its "
		"sender", m->name, (int)pt->pid, (int)msg->pid);
	return -EPROTO;
}

int
dn_recv(const struct tide_donor_mgr *m, const struct dn_part *pt, struct donor_msg *msg,
	int *fds, unsigned int *nfds, uint64_t deadline_ns)
{
	struct pollfd pfd[2] = {
		{ .fd = pt->sock, .events = POLLIN },
		{ .fd = pt->pidfd, .events = POLLIN },
	};

	*nfds = 0;
	for (;;) {
		uint64_t now = dn_now_ns();
		int ret;

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		ret = poll(pfd, 2, (int)((deadline_ns - now + 999999) / 1000000));
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		/* A donor that died may have said something first: read what it left. */
		ret = donor_msg_recv(pt->sock, msg, fds, nfds);
		if (ret != -EAGAIN)
			return spawn_check_sender(m, pt, ret, msg);
		if (pfd[1].revents != 0)
			return -ECONNRESET;
	}
}

/* Still alive after @p ms? (A donor that is exiting loses its memory -- and its VmLck --
 * before its pidfd says it has exited.)
 */
static bool
spawn_alive(const struct dn_part *pt, int ms)
{
	struct pollfd pfd = { .fd = pt->pidfd, .events = POLLIN };
	int ret;

	while ((ret = poll(&pfd, 1, ms)) < 0 && errno == EINTR)
		;
	return ret == 0;
}

static int
spawn_check_fd(const struct dn_part *pt, int fd, enum tide_donor_kind kind, uint64_t page_sz,
	const char **why)
{
	struct statfs sfs;
	struct stat st;
	int seals, mode;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return -EPROTO;
	}
	if ((uint64_t)st.st_size != pt->bytes) {
		*why = "not of the size asked for";
		return -EPROTO;
	}
	if (fstatfs(fd, &sfs) != 0 ||
			(kind == TIDE_DONOR_HUGE && (sfs.f_type != HUGETLBFS_MAGIC ||
				(uint64_t)sfs.f_bsize != page_sz)) ||
			(kind == TIDE_DONOR_PINNED && sfs.f_type != TMPFS_MAGIC)) {
		*why = kind == TIDE_DONOR_HUGE ? "not hugepages of the size asked for" :
			"not shared memory (a memfd)";
		return -EPROTO;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		*why = "not a memfd sealed against shrinking (it could vanish under a mapping)";
		return -EPROTO;
	}
	/* What would make the mapping fail (EPERM, EACCES) is the donor's breach too. */
	if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
		*why = "a memfd sealed against writing (it cannot be mapped for writing)";
		return -EPROTO;
	}
	mode = fcntl(fd, F_GETFL);
	if (mode < 0 || (mode & O_ACCMODE) != O_RDWR) {
		*why = "not open for reading and writing (it cannot be mapped for writing)";
		return -EPROTO;
	}
	return 0;
}

int
dn_check_share(const struct tide_donor_mgr *m, const struct dn_part *pt,
	const struct donor_msg *msg, const int *fds, unsigned int nfds, enum tide_donor_kind kind,
	uint64_t page_sz)
{
	const char *why = NULL;
	long kb;
	int ret;

	if (msg->type == DONOR_MSG_ERROR) {
		DN_LOG(ERR, "%s: donor %d could not allocate its %s share of %" PRIu64
			" bytes: %s", m->name, (int)pt->pid, spawn_kind_name(kind), pt->bytes,
			strerror(msg->err > 0 ? msg->err : EIO));
		return -ENOMEM;
	}
	if (msg->type != DONOR_MSG_OFFER)
		why = "a message other than OFFER";
	else if (nfds != 1)
		why = nfds == 0 ? "no descriptor" : "more than one descriptor";
	else if (msg->bytes != pt->bytes || msg->page_sz != page_sz)
		why = "a share of another size or page size";
	if (why != NULL) {
		ret = -EPROTO;
	} else {
		ret = spawn_check_fd(pt, fds[0], kind, page_sz, &why);
		if (ret == 0 && kind == TIDE_DONOR_PINNED) {
			kb = spawn_vmlck_kb(m, pt);
			if (kb == -EMFILE || kb == -ENFILE)
				return (int)kb; /* this process's limit, not the donor's fault */
			if (kb < 0 || (uint64_t)kb < pt->bytes >> 10) {
				if (!spawn_alive(pt, SPAWN_DYING_MS)) {
					DN_LOG(ERR, "%s: donor %d died right after its offer",
						m->name, (int)pt->pid);
					return -ECONNRESET;
				}
				why = "pinned memory the donor has not locked (its VmLck is short)";
				ret = -EPROTO;
			}
		}
	}
	if (ret != 0)
		DN_LOG(ERR, "%s: donor %d broke the protocol: %s; refused, nothing mapped",
			m->name, (int)pt->pid, why);
	return ret;
}

void
dn_term(const struct dn_part *pt)
{
	struct donor_msg msg;

	if (pt->sock < 0 || pt->pidfd < 0)
		return;
	donor_msg_init(&msg, DONOR_MSG_TERM, (int)getpid());
	donor_msg_send(pt->sock, &msg, NULL, 0);
}

void
dn_stop(struct tide_donor_mgr *m, struct dn_part *pt, unsigned int wait_ms)
{
	struct pollfd pfd = { .fd = pt->pidfd, .events = POLLIN };
	bool exited = false;
	siginfo_t si;

	if (pt->pidfd >= 0) {
		if (wait_ms > 0 && pt->sock >= 0) {
			dn_term(pt);
			while (poll(&pfd, 1, (int)wait_ms) < 0 && errno == EINTR)
				;
			exited = pfd.revents != 0;
		}
		if (!exited) {
			if (pidfd_send_signal(pt->pidfd, SIGKILL, NULL, 0) != 0 && errno != ESRCH)
				DN_LOG(ERR, "%s: cannot kill donor %d: %s", m->name, (int)pt->pid,
					strerror(errno));
			if (wait_ms > 0)
				DN_LOG(WARNING, "%s: donor %d did not exit %u ms after TERM: "
					"killed", m->name, (int)pt->pid, wait_ms);
		}
		while (waitid(P_PIDFD, (id_t)pt->pidfd, &si, WEXITED) != 0 && errno == EINTR)
			;
		close(pt->pidfd);
		pt->pidfd = -1;
		pthread_mutex_lock(&m->lock);
		m->alive--;
		if (exited)
			m->st.terminated++;
		else
			m->st.killed++;
		pthread_mutex_unlock(&m->lock);
	}
	if (pt->sock >= 0)
		close(pt->sock);
	pt->sock = -1;
}

/*
 * A re-pinning donor's ERROR: -EMFILE when the memory it was given did not reach it (the
 * kernel dropped the descriptor at the donor's RLIMIT_NOFILE, which it inherits from this
 * process), -ENOMEM when it could not map or lock it. This process holds the memory all
 * the same.
 */
static int
spawn_adopt_error(const struct tide_donor_mgr *m, const struct dn_part *pt,
	const struct donor_msg *msg)
{
	if (msg->err == EMFILE) {
		DN_LOG(ERR, "%s: donor %d is at its descriptor limit (RLIMIT_NOFILE): the memory "
			"it was given did not reach it (this process still holds it)", m->name,
			(int)pt->pid);
		return -EMFILE;
	}
	DN_LOG(ERR, "%s: donor %d could not lock the memory it was given: %s", m->name,
		(int)pt->pid, strerror(msg->err > 0 ? msg->err : EIO));
	return -ENOMEM;
}

/* Hand the memfd to the new donor and wait until it has locked it: 0, or a negative errno
 * (-EMFILE: the donor is at its descriptor limit; see spawn_adopt_error()). */
static int
spawn_adopt_handshake(struct tide_donor_mgr *m, struct dn_part *pt, uint64_t page_sz)
{
	uint64_t deadline = dn_now_ns() + (uint64_t)m->p.timeout_ms * 1000000;
	int fds[DONOR_PROTO_MAX_FDS];
	struct donor_msg msg;
	unsigned int nfds, i;
	long kb;
	int ret;

	ret = dn_recv(m, pt, &msg, fds, &nfds, deadline);
	if (ret == 0 && (msg.type != DONOR_MSG_HELLO || nfds != 0))
		ret = -EPROTO;
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (ret != 0)
		return ret;
	donor_msg_init(&msg, DONOR_MSG_ADOPT, (int)getpid());
	msg.bytes = pt->bytes;
	msg.page_sz = page_sz;
	ret = donor_msg_send(pt->sock, &msg, &pt->memfd, 1);
	nfds = 0;
	if (ret == 0)
		ret = dn_recv(m, pt, &msg, fds, &nfds, deadline);
	/* A failed receive may have brought descriptors too. */
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (ret != 0)
		return ret == -EPIPE ? -ECONNRESET : ret;
	if (msg.type == DONOR_MSG_ERROR)
		return spawn_adopt_error(m, pt, &msg);
	if (msg.type != DONOR_MSG_LOCKED || nfds != 0)
		return -EPROTO;
	kb = spawn_vmlck_kb(m, pt);
	if (kb == -EMFILE || kb == -ENFILE)
		return (int)kb;
	if (kb < 0 || (uint64_t)kb < pt->bytes >> 10)
		return -EPROTO;
	pt->locked_kb = (uint64_t)kb;
	return 0;
}

/* PA mode: the pages of @p pt were unlocked for a while; note any that moved. */
static void
spawn_recheck_iova(struct tide_donor_mgr *m, struct tide_donor_region *r, struct dn_part *pt)
{
	size_t first = pt->offset / r->page_sz, n = pt->bytes / r->page_sz, moved = 0;
	rte_iova_t *now = TIDE_FAULT(TIDE_FAULT_MALLOC) ? NULL : malloc(n * sizeof(*now));
	int ret = now == NULL ? -ENOMEM : dn_iova_pages(r->addr + pt->offset, n, r->page_sz, now);

	if (ret != 0) {
		DN_LOG(ERR, "%s: cannot check whether %zu pages of region %" PRIu64 " moved while "
			"unlocked (%s): their IO addresses are left as they were", m->name, n,
			r->id, strerror(-ret));
		free(now);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (now[i] != r->iova[first + i]) {
			r->iova[first + i] = now[i];
			moved++;
		}
	free(now);
	if (moved == 0)
		return;
	dn_region_set_iova(r, first, n);
	pthread_mutex_lock(&m->lock);
	m->st.iova_moved += moved;
	pthread_mutex_unlock(&m->lock);
	DN_LOG(ERR, "%s: %zu pages of region %" PRIu64 " moved while unlocked: their IO "
		"addresses are updated; DMA started before the re-pin may have gone astray",
		m->name, moved, r->id);
}

int
dn_repin(struct tide_donor_mgr *m, struct tide_donor_region *r, struct dn_part *pt)
{
	/* The number the part's donor had at the request: donors count from 0 without the
	 * own part.
	 */
	struct dn_spawn_spec s = {
		.kind = TIDE_DONOR_PINNED, .bytes = pt->bytes, .page_sz = r->page_sz,
		.index = (unsigned int)(pt - r->parts) - (r->own_bytes != 0), .adopt = true,
	};
	int ret;

	ret = dn_spawn(m, &s);
	if (ret != 0)
		return ret;
	pthread_mutex_lock(&m->lock);
	pt->pid = s.pid;
	pt->pidfd = s.pidfd;
	pt->sock = s.sock;
	pthread_mutex_unlock(&m->lock);
	ret = spawn_adopt_handshake(m, pt, r->page_sz);
	if (ret != 0) {
		DN_LOG(ERR, "%s: re-pinning donor %d failed: %s", m->name, (int)pt->pid,
			strerror(-ret));
		dn_stop(m, pt, 0);
		return ret;
	}
	if (rte_eal_iova_mode() != RTE_IOVA_VA)
		spawn_recheck_iova(m, r, pt);
	return 0;
}
