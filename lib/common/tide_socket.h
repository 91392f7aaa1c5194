/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_SOCKET_H
#define TIDE_SOCKET_H

/* NUMA sockets as EAL knows them (internal, not installed): what a socket_id parameter may
 * name. */

#include <stdbool.h>

#include <rte_lcore.h>
#include <rte_memory.h>

/* Whether @p socket is SOCKET_ID_ANY or a socket EAL knows (rte_socket_id_by_idx()). */
static inline bool
tide_socket_known(int socket)
{
	if (socket == SOCKET_ID_ANY)
		return true;
	for (unsigned int i = 0; i < rte_socket_count(); i++)
		if (rte_socket_id_by_idx(i) == socket)
			return true;
	return false;
}

#endif /* TIDE_SOCKET_H */
