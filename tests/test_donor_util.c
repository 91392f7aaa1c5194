/* SPDX-License-Identifier: BSD-3-Clause */

/* Harness of the donor tests: scenarios in processes of their own (see test_donor_util.h). */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>

#include "test_common.h"
#include "test_donor_util.h"
#include "tide_process.h"

#define TDU_MAX_ARGS 32

static unsigned int tdu_nb_failures;

bool
tdu_check(bool ok, const char *what, const char *file, int line)
{
	if (!ok) {
		tdu_nb_failures++;
		fprintf(stderr, "CHECK FAILED %s:%d: %s\n", file, line, what);
	}
	return ok;
}

unsigned int
tdu_failures(void)
{
	return tdu_nb_failures;
}

void
tdu_report(const char *key, long value)
{
	printf("%s=%ld\n", key, value);
	fflush(stdout);
}

int
tdu_child_main(int argc, char **argv, const struct tdu_scenario *s, unsigned int n)
{
	static char prefix[64];
	char *eal[TDU_MAX_ARGS];
	const struct tdu_scenario *sc = NULL;
	int ne = 0, ret;

	if (argc < 3 || strcmp(argv[1], "--child") != 0)
		return -1;
	for (unsigned int i = 0; i < n; i++)
		if (strcmp(s[i].name, argv[2]) == 0)
			sc = &s[i];
	if (sc == NULL) {
		fprintf(stderr, "no scenario %s\n", argv[2]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sc->pre_eal != NULL && sc->pre_eal() != 0) {
		fprintf(stderr, "%s: cannot set the process up\n", sc->name);
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "tdn-%s-%d", sc->name, (int)getpid());
	eal[ne++] = argv[0];
	eal[ne++] = "-l";
	eal[ne++] = "0-1";
	eal[ne++] = "--no-pci";
	eal[ne++] = "--file-prefix";
	eal[ne++] = prefix;
	eal[ne++] = "--huge-unlink";
	eal[ne++] = "--log-level";
	eal[ne++] = "lib.eal:warning";
	for (int i = 3; i < argc && ne < TDU_MAX_ARGS - 1; i++)
		eal[ne++] = argv[i];
	eal[ne] = NULL;
	if (rte_eal_init(ne, eal) < 0) {
		fprintf(stderr, "%s: cannot initialise EAL\n", sc->name);
		return 2;
	}
	ret = sc->fn();
	tide_test_eal_cleanup();
	return ret != 0 || tdu_nb_failures != 0 ? 1 : 0;
}

int
tdu_memlock_limit(size_t bytes)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl = { .rlim_cur = bytes, .rlim_max = bytes };

	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0)
		return -errno;
	/* Root ignores RLIMIT_MEMLOCK with CAP_IPC_LOCK: give it up, for exec'd donors too. */
	if (prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0) != 0 && errno != EINVAL)
		return -errno;
	if (syscall(SYS_capget, &h, d) != 0)
		return -errno;
	d[0].effective &= ~(1u << CAP_IPC_LOCK);
	d[0].permitted &= ~(1u << CAP_IPC_LOCK);
	d[0].inheritable &= ~(1u << CAP_IPC_LOCK);
	if (syscall(SYS_capset, &h, d) != 0)
		return -errno;
	return 0;
}

char *
tdu_telemetry(const char *cmd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char *buf = calloc(1, 65536);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t n;

	if (buf == NULL)
		return NULL;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/dpdk_telemetry.v2",
		rte_eal_get_runtime_dir());
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
			read(fd, buf, 65535) <= 0 || write(fd, cmd, strlen(cmd)) < 0) {
		buf[0] = '\0';
	} else {
		n = read(fd, buf, 65535);
		buf[n > 0 ? n : 0] = '\0';
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Field @p idx (from 1, after the command) of /proc/<pid>/stat, and the command. */
static bool
tdu_stat(pid_t pid, char *comm, size_t clen, char *state, pid_t *ppid)
{
	char path[64], buf[512], *l, *r;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return false;
	}
	fclose(f);
	l = strchr(buf, '(');
	r = strrchr(buf, ')');
	if (l == NULL || r == NULL)
		return false;
	snprintf(comm, clen, "%.*s", (int)(r - l - 1), l + 1);
	return sscanf(r + 2, "%c %d", state, ppid) == 2;
}

unsigned int
tdu_donor_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	unsigned int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char comm[64], state;
		pid_t ppid;
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid > 0 && tdu_stat(pid, comm, sizeof(comm), &state, &ppid) &&
				ppid == getpid() && strcmp(comm, "tide-donor") == 0 && state != 'Z')
			n++;
	}
	closedir(d);
	return n;
}

bool
tdu_pid_alive(pid_t pid)
{
	char comm[64], state;
	pid_t ppid;

	return tdu_stat(pid, comm, sizeof(comm), &state, &ppid) && state != 'Z' && state != 'X';
}

long
tdu_vmlck_kb(pid_t pid)
{
	return tide_process_status((uint32_t)pid, "VmLck");
}

unsigned int
tdu_maps_count(const char *needle)
{
	char line[512];
	unsigned int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

bool
tdu_maps_cover(uintptr_t addr, size_t len)
{
	uintptr_t at = addr, end = addr + len;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		return false;
	/* The lines are sorted by address: follow the range from mapping to mapping. */
	while (at < end && fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= at && hi > at)
			at = hi;
	}
	fclose(f);
	return at >= end;
}

unsigned int
tdu_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

pid_t
tdu_start(const char *name, const char *const *extra, int *out_fd)
{
	char *argv[TDU_MAX_ARGS];
	int p[2], n = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	argv[n++] = "test_donor";
	argv[n++] = "--child";
	argv[n++] = (char *)(uintptr_t)name;
	for (int i = 0; extra != NULL && extra[i] != NULL && n < TDU_MAX_ARGS - 1; i++)
		argv[n++] = (char *)(uintptr_t)extra[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	*out_fd = p[0];
	return pid;
}

int
tdu_wait(pid_t pid, unsigned int timeout_ms)
{
	uint64_t end = tide_test_now_ns() + (uint64_t)timeout_ms * 1000000;
	int st;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (w < 0 && errno != EINTR)
			return -1;
		if (tide_test_now_ns() > end) {
			fprintf(stderr, "child %d timed out: killed\n", (int)pid);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		tide_test_sleep_us(2000);
	}
}

int
tdu_run(const char *name, const char *const *extra, char *out, size_t len)
{
	size_t got = 0;
	int fd, ret;
	pid_t pid = tdu_start(name, extra, &fd);
	ssize_t n;

	if (pid < 0)
		return -1;
	for (;;) {
		char sink[4096];

		n = got + 1 < len ? read(fd, out + got, len - got - 1) :
			read(fd, sink, sizeof(sink));
		if (n <= 0)
			break;
		if (got + 1 < len)
			got += (size_t)n;
	}
	out[got] = '\0';
	close(fd);
	ret = tdu_wait(pid, 300000);
	if (ret != 0)
		fprintf(stderr, "scenario %s failed (%d); its output:\n%s\n", name, ret, out);
	return ret;
}

long
tdu_value(const char *out, const char *key)
{
	size_t klen = strlen(key);

	for (const char *l = out; l != NULL && *l != '\0'; l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (strncmp(l, key, klen) == 0 && l[klen] == '=')
			return strtol(l + klen + 1, NULL, 10);
	return -1;
}
