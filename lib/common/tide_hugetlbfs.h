/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_HUGETLBFS_H
#define TIDE_HUGETLBFS_H

/*
 * hugetlbfs mounts (internal, not installed): the library finds which directories a
 * process's flock() waits on, the apps and the tests remove the hugepage files a primary
 * run without --huge-unlink leaves behind. Slow path only: it reads /proc/mounts.
 */

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Call @p cb with every directory hugetlbfs is mounted on, until it returns true.
 * Returns whether one did (false also when /proc/mounts cannot be read).
 */
static inline bool
tide_hugetlbfs_each(bool (*cb)(const char *dir, void *arg), void *arg)
{
	char line[512], dir[256], type[64];
	FILE *mounts = fopen("/proc/mounts", "re");
	bool done = false;

	while (mounts != NULL && !done && fgets(line, sizeof(line), mounts) != NULL)
		done = sscanf(line, "%*s %255s %63s", dir, type) == 2 &&
			strcmp(type, "hugetlbfs") == 0 && cb(dir, arg);
	if (mounts != NULL)
		fclose(mounts);
	return done;
}

/*
 * Remove the hugepage files "<prefix>map_<n>" of EAL file prefix @p prefix (a string)
 * from one hugetlbfs directory: a primary that ran without --huge-unlink leaves them,
 * and they hold their pages until a process of that prefix starts again. A callback for
 * tide_hugetlbfs_each(); returns false (go on).
 */
static inline bool
tide_hugetlbfs_unlink_prefix(const char *dir, void *prefix)
{
	size_t plen = strlen(prefix);
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d != NULL && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, plen) == 0 &&
				strncmp(e->d_name + plen, "map_", 4) == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d != NULL)
		closedir(d);
	return false;
}

#endif /* TIDE_HUGETLBFS_H */
