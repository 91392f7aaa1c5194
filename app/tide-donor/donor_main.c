/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * tide-donor: a donor process. The tidepool donor library (lib/donor) starts one per share
 * of memory its consumer cannot hold itself; nobody else should run it.
 *
 *   tide-donor --ppid PID --kind huge|pinned --bytes N --page-size N [--index N] [--adopt]
 *
 * It allocates its share under its own limits (a memfd: of hugepages, or of ordinary
 * memory that it locks with mlock()), hands the descriptor to the consumer over the socket
 * it finds as descriptor 3 (SCM_RIGHTS), and then sleeps until the consumer says TERM or
 * goes away. It dies with its consumer: PR_SET_PDEATHSIG (SIGKILL), set before anything
 * else and followed by a check that its parent is still the consumer (the consumer may
 * have died before the setting took effect); and a consumer that dies closes its end of
 * the socket, which wakes the donor up to exit. With --adopt it allocates nothing: it is
 * given memory whose donor died, and locks it again.
 *
 * No DPDK here: a donor starts in a millisecond and holds nothing but its share.
 *
 * Test builds (-Dfault_injection=true) read TIDE_DONOR_TEST_FAULT=ACTION[:INDEX] to
 * misbehave on purpose (see donor_fault_names); INDEX limits it to the donor started with
 * that --index (lib/donor numbers a request's donors from 0, its own part not counted, and
 * gives a re-pinning donor the number of the one it replaces).
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/memfd.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "donor_proto.h"
#include "tide_process.h"

#define DONOR_SOCK DONOR_PROTO_FD

struct donor_args {
	pid_t ppid;
	bool huge;
	bool adopt;
	uint64_t bytes;
	uint64_t page_sz;
	unsigned long index;
};

/* ---- Test hooks: ways to misbehave, compiled in test builds only. */

enum donor_fault {
	DF_NONE,
	DF_DIE_START,  /* killed before HELLO */
	DF_DIE_HELLO,  /* killed after HELLO */
	DF_DIE_ALLOC,  /* killed after allocating, before OFFER */
	DF_DIE_OFFER,  /* killed after OFFER, before ACK */
	DF_DIE_ACK,    /* killed right after ACK */
	DF_HANG_HELLO, /* says HELLO, then never anything else */
	DF_FAIL_ALLOC, /* says it cannot allocate (ERROR ENOMEM) */
	DF_FD_NONE,    /* OFFER without a descriptor */
	DF_FD_TWO,     /* OFFER with two descriptors */
	DF_FD_FILE,    /* OFFER with a file on disk, not a memfd */
	DF_FD_SMALL,   /* OFFER with a memfd half the size */
	DF_FD_UNSEALED, /* OFFER with a memfd that may still shrink */
	DF_FD_KIND,    /* OFFER with a memfd of the other kind */
	DF_MSG_GARBAGE, /* OFFER with a wrong magic */
	DF_NO_LOCK,    /* pinned: never calls mlock() */
	DF_FD_RDONLY,  /* OFFER with the memfd opened again read-only */
	DF_FD_WSEALED, /* OFFER with a memfd sealed against writing */
	DF_OFFER_PID,  /* OFFER that names another process as its sender */
	DF_HELLO_FD,   /* HELLO with a descriptor */
	DF_LOCKED_CLAIM, /* OFFER that claims far more locked memory than the donor has */
	DF_OLD_VERSION, /* HELLO of protocol version 1 (a tide-donor of an older build) */
	DF_DIE_ADOPT,  /* --adopt: killed after HELLO */
	DF_HANG_ADOPT, /* --adopt: says HELLO, then never anything else */
	DF_SLOW_ADOPT, /* --adopt: takes a second before it locks what it is given */
	DF_ADOPT_GARBAGE, /* --adopt: LOCKED with a wrong magic and a descriptor */
	DF_ADOPT_PID,  /* --adopt: LOCKED that names another process as its sender */
	DF_ADOPT_NOFILE, /* --adopt: after HELLO, no descriptor free under its RLIMIT_NOFILE */
	DF_COUNT
};

#ifdef TIDE_FAULT_INJECTION
static const char *const donor_fault_names[DF_COUNT] = {
	[DF_DIE_START] = "die-start", [DF_DIE_HELLO] = "die-hello",
	[DF_DIE_ALLOC] = "die-alloc", [DF_DIE_OFFER] = "die-offer",
	[DF_DIE_ACK] = "die-ack", [DF_HANG_HELLO] = "hang-hello",
	[DF_FAIL_ALLOC] = "fail-alloc", [DF_FD_NONE] = "fd-none", [DF_FD_TWO] = "fd-two",
	[DF_FD_FILE] = "fd-file", [DF_FD_SMALL] = "fd-small",
	[DF_FD_UNSEALED] = "fd-unsealed", [DF_FD_KIND] = "fd-kind",
	[DF_MSG_GARBAGE] = "msg-garbage", [DF_NO_LOCK] = "no-lock",
	[DF_FD_RDONLY] = "fd-rdonly", [DF_FD_WSEALED] = "fd-wsealed",
	[DF_OFFER_PID] = "offer-pid", [DF_HELLO_FD] = "hello-fd",
	[DF_LOCKED_CLAIM] = "locked-claim", [DF_OLD_VERSION] = "old-version",
	[DF_DIE_ADOPT] = "die-adopt",
	[DF_HANG_ADOPT] = "hang-adopt", [DF_SLOW_ADOPT] = "slow-adopt",
	[DF_ADOPT_GARBAGE] = "adopt-garbage", [DF_ADOPT_PID] = "adopt-pid",
	[DF_ADOPT_NOFILE] = "adopt-nofile",
};
#endif

static enum donor_fault donor_fault;

static void
donor_fault_load(const struct donor_args *a)
{
#ifdef TIDE_FAULT_INJECTION
	const char *v = getenv("TIDE_DONOR_TEST_FAULT");
	const char *colon;
	size_t len;

	if (v == NULL)
		return;
	colon = strchr(v, ':');
	len = colon != NULL ? (size_t)(colon - v) : strlen(v);
	if (colon != NULL && strtoul(colon + 1, NULL, 10) != a->index)
		return;
	for (int f = DF_NONE + 1; f < DF_COUNT; f++)
		if (strlen(donor_fault_names[f]) == len &&
				strncmp(v, donor_fault_names[f], len) == 0)
			donor_fault = (enum donor_fault)f;
	/* The faults from DF_DIE_ADOPT on are an adopting donor's, the others a giving one's. */
	if (donor_fault != DF_NONE && a->adopt != (donor_fault >= DF_DIE_ADOPT))
		donor_fault = DF_NONE;
#else
	(void)a;
#endif
}

static bool
donor_faulty(enum donor_fault f)
{
	return donor_fault == f;
}

static void
donor_die_if(enum donor_fault f)
{
	if (donor_faulty(f))
		raise(SIGKILL);
}

/* Lower RLIMIT_NOFILE to the lowest descriptor number free: none is free under it, so the
 * kernel drops a descriptor sent to this process (MSG_CTRUNC), as at a real limit.
 */
static void
donor_nofile_if(enum donor_fault f)
{
	struct rlimit rl;
	int fd;

	if (!donor_faulty(f) || getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	fd = fcntl(DONOR_SOCK, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return;
	close(fd);
	rl.rlim_cur = (rlim_t)fd;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- The donor proper. */

static int
donor_usage(const char *prog)
{
	fprintf(stderr, "usage: %s --ppid PID --kind huge|pinned --bytes N --page-size N "
		"[--index N] [--adopt]\n(started by the tidepool donor library, not by hand)\n",
		prog);
	return DONOR_EXIT_USAGE;
}

/* At start, no consumer to serve (@p why; @p detail if any): its consumer died before the
 * donor could tie itself to it (the library then reads the status only), or the donor was
 * started by hand.
 */
static int
donor_orphan(const char *why, const char *detail)
{
	fprintf(stderr, "tide-donor: %s%s%s (parent %d): nothing done; the tidepool donor "
		"library starts donors, not a user\n", why, detail != NULL ? ": " : "",
		detail != NULL ? detail : "", (int)getppid());
	return DONOR_EXIT_ORPHAN;
}

/*
 * Decimal digits, no leading zero, as lib/donor writes its numbers: 0, -EINVAL if @p s is
 * not that, -ERANGE if it does not fit. strtoull() alone would also take blanks, a sign
 * ("-1" wraps), "0x" and octal ("010000" is 4096): a value the library never wrote would
 * pass for another.
 */
static int
donor_decimal(const char *s, uint64_t *v)
{
	const char *p = s;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == s || *p != '\0' || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, NULL, 10);
	return errno == ERANGE ? -ERANGE : 0;
}

/* The number of option @p opt, in @p min..@p max; says why not on stderr. */
static int
donor_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	int ret = donor_decimal(s, v);
	char range[48];

	if (ret == 0 && *v >= min && *v <= max)
		return 0;
	if (min == max)
		snprintf(range, sizeof(range), "%" PRIu64, min);
	else
		snprintf(range, sizeof(range), "%" PRIu64 "..%" PRIu64, min, max);
	fprintf(stderr, "tide-donor: %s: '%s' is %s; accepted: %s\n", opt, s,
		ret == -EINVAL ? "not a decimal number (no sign, blank or leading zero)" :
		"out of range", range);
	return -1;
}

/* The hugepage sizes this kernel supports (in bytes), as many as fit in @p sz; how many. */
static unsigned int
donor_huge_sizes(uint64_t *sz, unsigned int max)
{
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	struct dirent *e;
	unsigned int n = 0;

	if (d == NULL)
		return 0;
	while (n < max && (e = readdir(d)) != NULL) {
		unsigned long long kb;
		char tail;

		if (sscanf(e->d_name, "hugepages-%llukB%c", &kb, &tail) == 1 && kb != 0)
			sz[n++] = (uint64_t)kb << 10;
	}
	closedir(d);
	return n;
}

/*
 * --page-size: DONOR_PINNED_PAGE for the pinned kind (what lib/donor offers); a hugepage
 * size this kernel supports for the huge kind: memfd_create() is given its log2, so any
 * other value would silently become another page size, or fail later as if the allocation
 * had.
 */
static int
donor_parse_page_sz(const char *s, bool huge, uint64_t *v)
{
	uint64_t sz[16];
	char list[sizeof(sz) / sizeof(sz[0]) * 22] = "";
	unsigned int n, i;
	size_t len = 0;

	if (!huge)
		return donor_parse_u64("--page-size", s, DONOR_PINNED_PAGE, DONOR_PINNED_PAGE, v);
	n = donor_huge_sizes(sz, sizeof(sz) / sizeof(sz[0]));
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%" PRIu64,
			i == 0 ? "" : ", ", sz[i]);
	if (donor_decimal(s, v) == 0)
		for (i = 0; i < n; i++)
			if (*v == sz[i])
				return 0;
	fprintf(stderr, "tide-donor: --page-size: '%s' is not a hugepage size of this system; "
		"accepted: %s\n", s, n == 0 ? "none (no hugepages in this kernel)" : list);
	return -1;
}

/*
 * --bytes: whole pages (mmap() and mlock() of a hugetlb memfd work in pages, and the
 * library checks the size offered against the one it asked for), at most what ftruncate()
 * and mmap() take.
 */
static int
donor_parse_bytes(const char *s, uint64_t page_sz, uint64_t *v)
{
	uint64_t lim = (uint64_t)INT64_MAX < SIZE_MAX ? (uint64_t)INT64_MAX : SIZE_MAX;
	uint64_t max = lim / page_sz * page_sz;

	if (donor_parse_u64("--bytes", s, page_sz, max, v) != 0)
		return -1;
	if (*v % page_sz == 0)
		return 0;
	fprintf(stderr, "tide-donor: --bytes: '%s' is not a multiple of the page size; accepted: "
		"%" PRIu64 "..%" PRIu64 " in steps of %" PRIu64 "\n", s, page_sz, max, page_sz);
	return -1;
}

static int
donor_parse(int argc, char **argv, struct donor_args *a)
{
	static const struct option opts[] = {
		{ "ppid", required_argument, NULL, 'p' },
		{ "kind", required_argument, NULL, 'k' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "page-size", required_argument, NULL, 's' },
		{ "index", required_argument, NULL, 'i' },
		{ "adopt", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	/* The numbers are read once the kind is known: the page size depends on it. */
	const char *ppid = NULL, *bytes = NULL, *page_sz = NULL, *index = "0";
	const char *kind = NULL;
	uint64_t v;
	int opt;

	memset(a, 0, sizeof(*a));
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			ppid = optarg;
			break;
		case 'k':
			if (strcmp(optarg, "huge") != 0 && strcmp(optarg, "pinned") != 0) {
				fprintf(stderr, "tide-donor: --kind: '%s' is not a kind; "
					"accepted: huge, pinned\n", optarg);
				return -1;
			}
			kind = optarg;
			break;
		case 'b':
			bytes = optarg;
			break;
		case 's':
			page_sz = optarg;
			break;
		case 'i':
			index = optarg;
			break;
		case 'a':
			a->adopt = true;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tide-donor: '%s': not an option\n", argv[optind]);
		return -1;
	}
	if (ppid == NULL || kind == NULL || bytes == NULL || page_sz == NULL) {
		fprintf(stderr, "tide-donor: %s is missing\n", ppid == NULL ? "--ppid" :
			kind == NULL ? "--kind" : bytes == NULL ? "--bytes" : "--page-size");
		return -1;
	}
	a->huge = strcmp(kind, "huge") == 0;
	if (donor_parse_u64("--ppid", ppid, 1, INT32_MAX, &v) != 0)
		return -1;
	a->ppid = (pid_t)v;
	/* lib/donor numbers a region's donors with an unsigned int. */
	if (donor_parse_u64("--index", index, 0, UINT32_MAX, &v) != 0)
		return -1;
	a->index = (unsigned long)v;
	if (donor_parse_page_sz(page_sz, a->huge, &a->page_sz) != 0 ||
			donor_parse_bytes(bytes, a->page_sz, &a->bytes) != 0)
		return -1;
	return 0;
}

/* This process's VmLck in kB (-1 if unreadable). */
static long
donor_vmlck_kb(void)
{
	return tide_process_status((uint32_t)getpid(), "VmLck");
}

static int
donor_send(enum donor_msg_type type, const struct donor_args *a, int *fds, unsigned int nfds,
	long locked_kb)
{
	struct donor_msg m;

	donor_msg_init(&m, type, (int)getpid());
	m.bytes = a->bytes;
	m.page_sz = a->page_sz;
	m.locked_kb = locked_kb > 0 ? (uint64_t)locked_kb : 0;
	if ((donor_faulty(DF_MSG_GARBAGE) && type == DONOR_MSG_OFFER) ||
			(donor_faulty(DF_ADOPT_GARBAGE) && type == DONOR_MSG_LOCKED))
		m.magic = ~DONOR_PROTO_MAGIC;
	if (donor_faulty(DF_LOCKED_CLAIM) && type == DONOR_MSG_OFFER)
		m.locked_kb = UINT64_MAX / 2;
	if ((donor_faulty(DF_OFFER_PID) && type == DONOR_MSG_OFFER) ||
			(donor_faulty(DF_ADOPT_PID) && type == DONOR_MSG_LOCKED))
		m.pid = (int)a->ppid; /* a process that exists, but not this one */
	if (donor_faulty(DF_OLD_VERSION) && type == DONOR_MSG_HELLO)
		m.version = 1;
	return donor_msg_send(DONOR_SOCK, &m, fds, nfds);
}

static int
donor_send_error(int err, enum donor_step step)
{
	struct donor_msg m;

	donor_msg_init(&m, DONOR_MSG_ERROR, (int)getpid());
	m.err = err;
	m.step = step;
	donor_msg_send(DONOR_SOCK, &m, NULL, 0);
	return DONOR_EXIT_ALLOC;
}

/* Results of donor_wait() besides a message type (none is negative): a malformed message,
 * and one whose descriptors this process had no room for under its RLIMIT_NOFILE.
 */
#define DONOR_BROKEN (-1)
#define DONOR_NOFILE (-2)

/* Wait for one message: its type; DONOR_MSG_TERM when the consumer has gone; DONOR_BROKEN
 * when it broke the protocol (a consumer of another protocol version included);
 * DONOR_NOFILE when the kernel dropped the descriptors it carries (the message is in @p m
 * all the same).
 */
static int
donor_wait(struct donor_msg *m, int *fds, unsigned int *nfds)
{
	struct pollfd pfd = { .fd = DONOR_SOCK, .events = POLLIN };

	*nfds = 0; /* nothing received, whatever ends the wait */
	for (;;) {
		int ret;

		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return DONOR_MSG_TERM;
		}
		ret = donor_msg_recv(DONOR_SOCK, m, fds, nfds);
		if (ret == -EAGAIN)
			continue;
		if (ret == -EPROTO || ret == -EPROTONOSUPPORT)
			return DONOR_BROKEN;
		if (ret == -EMFILE)
			return DONOR_NOFILE;
		if (ret != 0)
			return DONOR_MSG_TERM; /* hung up (or the socket failed): leave */
		return m->type;
	}
}

static int
donor_memfd(bool huge, uint64_t page_sz)
{
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;

	if (huge)
		flags |= MFD_HUGETLB | ((unsigned int)__builtin_ctzll(page_sz) << MFD_HUGE_SHIFT);
	return memfd_create("tide-donor", flags);
}

/* Map @p fd and, for the pinned kind, lock it; the mapping stays until exit. */
static int
donor_map(int fd, const struct donor_args *a)
{
	void *p = mmap(NULL, a->bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	/* The system call itself: sanitizer runtimes turn libc's mlock() into a no-op. */
	if (!a->huge && !donor_faulty(DF_NO_LOCK) && syscall(SYS_mlock, p, a->bytes) != 0)
		return -errno;
	return 0;
}

/* Allocate the share: a sized, sealed, populated (and for pinned, locked) memfd. */
static int
donor_alloc(const struct donor_args *a, int *fd)
{
	int ret;

	if (donor_faulty(DF_FAIL_ALLOC))
		return -ENOMEM;
	*fd = donor_memfd(a->huge, a->page_sz);
	if (*fd < 0)
		return -errno;
	if (ftruncate(*fd, (off_t)a->bytes) != 0 ||
			fcntl(*fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
		return -errno;
	ret = donor_map(*fd, a);
	return ret;
}

/* A descriptor that breaks the protocol, for the test hooks (@p good: the share); -1 if none
 * is asked for.
 */
static int
donor_bad_fd(const struct donor_args *a, int good)
{
	char path[64];
	int fd = -1;

	if (donor_faulty(DF_FD_RDONLY)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", good);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} else if (donor_faulty(DF_FD_WSEALED)) {
		fd = donor_memfd(a->huge, a->page_sz);
		if (fd >= 0 && ftruncate(fd, (off_t)a->bytes) == 0)
			fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
				F_SEAL_SEAL);
	} else if (donor_faulty(DF_FD_FILE)) {
		fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0 && ftruncate(fd, (off_t)a->bytes) != 0)
			return fd;
	} else if (donor_faulty(DF_FD_SMALL) || donor_faulty(DF_FD_UNSEALED) ||
			donor_faulty(DF_FD_KIND)) {
		bool huge = donor_faulty(DF_FD_KIND) ? !a->huge : a->huge;

		fd = donor_memfd(huge, huge ? (a->huge ? a->page_sz : 2u << 20) : 4096);
		if (fd < 0)
			return -1;
		if (ftruncate(fd, (off_t)(donor_faulty(DF_FD_SMALL) ? a->bytes / 2 :
				a->bytes)) != 0)
			return fd;
		if (!donor_faulty(DF_FD_UNSEALED))
			fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	}
	return fd;
}

static int
donor_give(const struct donor_args *a)
{
	int fds[2] = { -1, -1 }, bad, ret;
	unsigned int nfds = 1;

	ret = donor_alloc(a, &fds[0]);
	if (ret != 0)
		return donor_send_error(-ret, DONOR_STEP_ALLOC);
	donor_die_if(DF_DIE_ALLOC);
	bad = donor_bad_fd(a, fds[0]);
	if (bad >= 0)
		fds[0] = bad;
	if (donor_faulty(DF_FD_NONE))
		nfds = 0;
	if (donor_faulty(DF_FD_TWO)) {
		fds[1] = dup(fds[0]);
		nfds = 2;
	}
	if (donor_send(DONOR_MSG_OFFER, a, fds, nfds, donor_vmlck_kb()) != 0)
		return DONOR_EXIT_OK; /* the consumer has gone */
	donor_die_if(DF_DIE_OFFER);
	return -1;
}

/*
 * Hold the memory until TERM or until the consumer hangs up, then leave at once: the
 * kernel gives everything back, and exit handlers (a sanitizer's leak check) would only
 * keep the consumer waiting. A sleeping donor is sent no descriptor, and nobody reads
 * what it says: a message whose descriptors the kernel dropped is a broken protocol.
 */
static int
donor_sleep(void)
{
	int fds[DONOR_PROTO_MAX_FDS];
	unsigned int nfds;
	struct donor_msg m;

	for (;;) {
		int type = donor_wait(&m, fds, &nfds);

		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
		if (type == DONOR_MSG_TERM)
			_exit(DONOR_EXIT_OK);
		if (type == DONOR_BROKEN || type == DONOR_NOFILE)
			_exit(DONOR_EXIT_PROTO);
	}
}

static int
donor_adopt(const struct donor_args *a)
{
	unsigned int nfds, i;
	struct donor_msg m;
	struct stat st;
	int fds[DONOR_PROTO_MAX_FDS];
	int type, ret;

	donor_die_if(DF_DIE_ADOPT);
	if (donor_faulty(DF_HANG_ADOPT))
		return donor_sleep();
	donor_nofile_if(DF_ADOPT_NOFILE);
	type = donor_wait(&m, fds, &nfds);
	/* The memory it is given did not arrive: this process is at its descriptor limit.
	 * The consumer waits for an answer, and still holds the memory. */
	if (type == DONOR_NOFILE) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return donor_send_error(EMFILE, DONOR_STEP_ADOPT);
	}
	if (type != DONOR_MSG_ADOPT || nfds != 1 || m.bytes != a->bytes) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return type == DONOR_MSG_TERM ? DONOR_EXIT_OK : DONOR_EXIT_PROTO;
	}
	if (fstat(fds[0], &st) != 0 || (uint64_t)st.st_size < a->bytes)
		return donor_send_error(EINVAL, DONOR_STEP_ADOPT);
	if (donor_faulty(DF_SLOW_ADOPT))
		sleep(1);
	ret = donor_map(fds[0], a);
	if (ret != 0)
		return donor_send_error(-ret, DONOR_STEP_ADOPT);
	if (donor_send(DONOR_MSG_LOCKED, a, fds, donor_faulty(DF_ADOPT_GARBAGE) ? 1 : 0,
			donor_vmlck_kb()) != 0)
		return DONOR_EXIT_OK;
	return -1;
}

int
main(int argc, char **argv)
{
	struct donor_args a;
	int fds[DONOR_PROTO_MAX_FDS];
	unsigned int nfds;
	struct donor_msg m;
	int ret;

	if (donor_parse(argc, argv, &a) != 0)
		return donor_usage(argv[0]);
	/* Die with the consumer; if it died already, our parent is someone else now. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		return donor_orphan("cannot ask to die with the consumer", strerror(errno));
	if (getppid() != a.ppid)
		return donor_orphan("--ppid is not this process's parent", NULL);
	/* Hold nothing of the consumer's but the socket (the library closes the rest too). */
	close_range(DONOR_SOCK + 1, ~0u, 0);
	signal(SIGPIPE, SIG_IGN);
	donor_fault_load(&a);
	donor_die_if(DF_DIE_START);
	if (donor_faulty(DF_HELLO_FD)) {
		int fd = dup(DONOR_SOCK);

		ret = donor_send(DONOR_MSG_HELLO, &a, &fd, 1, 0);
		close(fd);
	} else {
		ret = donor_send(DONOR_MSG_HELLO, &a, NULL, 0, 0);
	}
	if (ret != 0)
		return DONOR_EXIT_OK;
	donor_die_if(DF_DIE_HELLO);
	if (donor_faulty(DF_HANG_HELLO))
		return donor_sleep();
	ret = a.adopt ? donor_adopt(&a) : donor_give(&a);
	if (ret >= 0)
		return ret;
	if (a.adopt)
		return donor_sleep();
	/* The ACK carries no descriptor, and the consumer reads nothing after the OFFER: one
	 * whose descriptors were dropped (DONOR_NOFILE) breaks the protocol as garbage does. */
	ret = donor_wait(&m, fds, &nfds);
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	if (ret != DONOR_MSG_ACK)
		return ret == DONOR_MSG_TERM ? DONOR_EXIT_OK : DONOR_EXIT_PROTO;
	donor_die_if(DF_DIE_ACK);
	return donor_sleep();
}
