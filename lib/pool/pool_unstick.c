/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Breaking DPDK 22.11's deadlock between a primary that resizes memory and a secondary
 * that exits (primary only).
 *
 * The primary's rte_memzone_reserve() and rte_memzone_free() take the memory hotplug lock,
 * then a blocking flock() on the hugepage directory, then ask every secondary to sync.
 * A secondary syncs on its IPC thread, holding that same directory lock for the time.
 * rte_eal_cleanup() in a secondary cancels its IPC thread (pthread_cancel) and then takes
 * the hotplug lock: cancelled in the middle of a sync, the thread leaves the directory
 * locked by a descriptor nobody will close. The primary's next reserve or free then waits
 * on flock() forever, holding the hotplug lock that the secondary spins on, forever too.
 * Stock tools hit it: dpdk-proc-info, dpdk-pdump or dpdk-dumpcap ending while an elastic
 * pool grows or reaps (seen in tests/test_tidepmd_mp.sh, a few runs in a hundred).
 *
 * A thread of the primary looks, every UNSTICK_PERIOD_MS, whether this process waits for
 * a flock() on a hugetlbfs mount's directory (/proc/locks) held by another process that
 * (a) is attached to this DPDK instance (it has files of our runtime directory open) and
 * (b) has closed its IPC channel (no mp socket of its own: it is inside rte_eal_cleanup(),
 * past the point where it could ever let go). When the same holder has held it so for
 * UNSTICK_GRACE_MS, that process is stuck for good: it is killed (SIGKILL closes its
 * descriptors and with them the lock), with a CRIT line naming it, and memory operations
 * go on. A secondary whose IPC thread still runs is never touched.
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include "pool_private.h"
#include "tide_hugetlbfs.h"

#define UNSTICK_PERIOD_MS 200
#define UNSTICK_GRACE_MS 2000
#define UNSTICK_MAX_DIRS 8

struct unstick_dir {
	unsigned int major, minor;
	unsigned long ino;
};

static uint64_t unstick_kills;

static uint64_t
unstick_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct unstick_dirs {
	struct unstick_dir d[UNSTICK_MAX_DIRS];
	unsigned int n;
};

/* tide_hugetlbfs_each() callback: note one mount's directory; stop when full. */
static bool
unstick_add_hugedir(const char *dir, void *arg)
{
	struct unstick_dirs *dirs = arg;
	struct stat st;

	if (stat(dir, &st) == 0)
		dirs->d[dirs->n++] = (struct unstick_dir){ major(st.st_dev), minor(st.st_dev),
			(unsigned long)st.st_ino };
	return dirs->n == UNSTICK_MAX_DIRS;
}

/* The directories hugetlbfs is mounted on. */
static unsigned int
unstick_hugedirs(struct unstick_dirs *dirs)
{
	dirs->n = 0;
	tide_hugetlbfs_each(unstick_add_hugedir, dirs);
	return dirs->n;
}

static bool
unstick_is_hugedir(const struct unstick_dir *d, unsigned int n, unsigned int maj,
	unsigned int min, unsigned long ino)
{
	for (unsigned int i = 0; i < n; i++)
		if (d[i].major == maj && d[i].minor == min && d[i].ino == ino)
			return true;
	return false;
}

/*
 * The process holding a flock() on a hugepage directory that process @self waits for, or
 * 0. /proc/locks lists a waiter as "N: -> FLOCK ADVISORY WRITE pid maj:min:ino ..." after
 * the holder's "N: FLOCK ADVISORY WRITE pid maj:min:ino ...". Most looks find no waiter
 * of ours: only then are the hugetlbfs mounts read.
 */
static pid_t
unstick_holder(pid_t self)
{
	struct unstick_dirs dirs;
	char line[256], kind[16], mode[16];
	unsigned int id, maj, min, last_id = 0;
	unsigned long ino;
	pid_t pid, last_holder = 0, found = 0;
	FILE *f = fopen("/proc/locks", "r");

	while (f != NULL && found == 0 && fgets(line, sizeof(line), f) != NULL) {
		const char *arrow = strstr(line, "->"), *colon = strchr(line, ':');
		bool waiter = arrow != NULL;
		const char *p = waiter ? arrow + 2 : colon != NULL ? colon + 1 : line;

		if (sscanf(line, "%u:", &id) != 1 ||
				sscanf(p, "%15s %*s %15s %d %x:%x:%lu", kind, mode, &pid, &maj, &min,
				&ino) != 6 || strcmp(kind, "FLOCK") != 0)
			continue;
		if (!waiter) {
			last_id = id;
			last_holder = pid;
		} else if (pid == self && id == last_id && last_holder != self &&
				unstick_is_hugedir(dirs.d, unstick_hugedirs(&dirs), maj,
				min, ino)) {
			found = last_holder;
		}
	}
	if (f != NULL)
		fclose(f);
	return found;
}

/* Whether @pid has a file of the runtime directory @rt open, and whether it still has an
 * IPC channel (a socket descriptor, and its mp socket file there).
 */
static void
unstick_inspect(pid_t pid, const char *rt, bool *attached, bool *ipc)
{
	char path[PATH_MAX], link[PATH_MAX], prefix[64];
	size_t rt_len = strlen(rt);
	bool sock = false, sock_file = false;
	struct dirent *e;
	DIR *d;

	*attached = false;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	while (d != NULL && (e = readdir(d)) != NULL) {
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid, e->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strncmp(link, rt, rt_len) == 0 && link[rt_len] == '/')
			*attached = true;
		if (strncmp(link, "socket:", 7) == 0)
			sock = true;
	}
	if (d != NULL)
		closedir(d);
	snprintf(prefix, sizeof(prefix), "mp_socket_%d_", (int)pid);
	d = opendir(rt);
	while (d != NULL && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			sock_file = true;
	if (d != NULL)
		closedir(d);
	*ipc = sock && sock_file;
}

/* The process's name, for the log. */
static void
unstick_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (f == NULL || fgets(buf, (int)len, f) == NULL)
		snprintf(buf, len, "?");
	buf[strcspn(buf, "\n")] = '\0';
	if (f != NULL)
		fclose(f);
}

void
pool_unstick_pass(struct pool_unstick *u)
{
	const char *dir = rte_eal_get_runtime_dir();
	char rt[PATH_MAX];
	pid_t holder = unstick_holder(getpid());
	uint64_t now = unstick_now_ms();
	bool attached, ipc;
	char comm[32];

	if (holder == 0 || holder != u->holder) {
		u->holder = holder;
		u->since_ms = now;
		return;
	}
	/* As /proc/<pid>/fd shows it (/var/run is often a link to /run). */
	if (now - u->since_ms < UNSTICK_GRACE_MS || dir == NULL || realpath(dir, rt) == NULL)
		return;
	unstick_inspect(holder, rt, &attached, &ipc);
	if (!attached || ipc)
		return;
	unstick_comm(holder, comm, sizeof(comm));
	POOL_LOG(CRIT, "process %d (%s) exited its IPC channel while holding the hugepage "
		"directory lock that this primary waits for (DPDK 22.11: a secondary ending "
		"while the primary reserves or frees memory); it would spin for ever: killing it "
		"so that memory operations go on", (int)holder, comm);
	if (kill(holder, SIGKILL) == 0)
		__atomic_fetch_add(&unstick_kills, 1, __ATOMIC_RELAXED);
	u->holder = 0;
}

unsigned int
pool_unstick_period_ms(void)
{
	return UNSTICK_PERIOD_MS;
}

uint64_t
pool_unstick_kills(void)
{
	return __atomic_load_n(&unstick_kills, __ATOMIC_RELAXED);
}
