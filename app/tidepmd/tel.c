/* SPDX-License-Identifier: BSD-3-Clause */

/* A telemetry client of the process itself, and just enough JSON to read its answers. */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>

#include "tel.h"

#define TEL_DEPTH 16

static char *
json_ws(char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

static struct tpmd_json *
json_node(struct tpmd_tel *tel, enum tpmd_json_type type)
{
	struct tpmd_json *n;

	if (tel->nb_nodes == TPMD_TEL_MAX_NODES)
		return NULL;
	n = &tel->nodes[tel->nb_nodes++];
	memset(n, 0, sizeof(*n));
	n->type = type;
	return n;
}

/* A string at p (after its quote), unescaped in place; returns what follows it. */
static char *
json_string(char *p, const char **out)
{
	char *w = p;

	*out = p;
	while (*p != '"') {
		if (*p == '\0')
			return NULL;
		if (*p == '\\') {
			p++;
			switch (*p) {
			case 'n': *w++ = '\n'; break;
			case 't': *w++ = '\t'; break;
			case 'u':
				*w++ = '?';
				for (int i = 0; i < 4 && isxdigit((unsigned char)p[1]); i++)
					p++;
				break;
			case '\0': return NULL;
			default: *w++ = *p;
			}
			p++;
			continue;
		}
		*w++ = *p++;
	}
	*w = '\0';
	return p + 1;
}

static char *json_value(struct tpmd_tel *tel, char *p, struct tpmd_json **out, int depth);

/* The members of an array or object at p (after its bracket). */
static char *
json_members(struct tpmd_tel *tel, char *p, struct tpmd_json *n, int depth)
{
	char close = n->type == TPMD_JSON_OBJ ? '}' : ']';
	struct tpmd_json **tail = &n->child, *m;
	const char *key = NULL;

	p = json_ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (n->type == TPMD_JSON_OBJ) {
			if (*p != '"' || (p = json_string(p + 1, &key)) == NULL)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = json_value(tel, p, &m, depth + 1);
		if (p == NULL)
			return NULL;
		m->key = key;
		*tail = m;
		tail = &m->next;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
		p = json_ws(p);
	}
}

static char *
json_value(struct tpmd_tel *tel, char *p, struct tpmd_json **out, int depth)
{
	struct tpmd_json *n;
	char *end;

	p = json_ws(p);
	if (depth > TEL_DEPTH)
		return NULL;
	if (*p == '{' || *p == '[') {
		n = json_node(tel, *p == '{' ? TPMD_JSON_OBJ : TPMD_JSON_ARR);
		*out = n;
		return n == NULL ? NULL : json_members(tel, p + 1, n, depth);
	}
	if (*p == '"') {
		n = json_node(tel, TPMD_JSON_STR);
		*out = n;
		return n == NULL ? NULL : json_string(p + 1, &n->str);
	}
	if (strncmp(p, "null", 4) == 0 || strncmp(p, "true", 4) == 0 ||
			strncmp(p, "false", 5) == 0) {
		n = json_node(tel, *p == 'n' ? TPMD_JSON_NULL : TPMD_JSON_BOOL);
		if (n != NULL)
			n->num = *p == 't';
		*out = n;
		return n == NULL ? NULL : p + (*p == 'f' ? 5 : 4);
	}
	n = json_node(tel, TPMD_JSON_NUM);
	*out = n;
	if (n == NULL)
		return NULL;
	n->num = strtod(p, &end);
	if (end == p)
		return NULL;
	if (isdigit((unsigned char)*p))
		n->u64 = strtoull(p, NULL, 10);
	return end;
}

/* Send @p cmd on this process's telemetry socket; the answer goes to tel->buf. */
static int
tel_ask(struct tpmd_tel *tel, const char *cmd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	ssize_t n = -1;
	int fd;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/dpdk_telemetry.v2",
			rte_eal_get_runtime_dir()) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* The server speaks first (its version and limits), then answers one command. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
			recv(fd, tel->buf, TPMD_TEL_MAX_OUT, 0) > 0 &&
			send(fd, cmd, strlen(cmd), 0) == (ssize_t)strlen(cmd))
		n = recv(fd, tel->buf, TPMD_TEL_MAX_OUT, 0);
	close(fd);
	if (n <= 0)
		return -EIO;
	tel->buf[n] = '\0';
	return 0;
}

const struct tpmd_json *
tpmd_tel_query(struct tpmd_tel *tel, const char *cmd)
{
	struct tpmd_json *root;

	tel->nb_nodes = 0;
	if (tel_ask(tel, cmd) != 0 || json_value(tel, tel->buf, &root, 0) == NULL ||
			root->type != TPMD_JSON_OBJ || root->child == NULL)
		return NULL;
	/* {"<command>": <answer>} */
	return root->child;
}

const struct tpmd_json *
tpmd_json_get(const struct tpmd_json *o, const char *key)
{
	if (o == NULL || o->type != TPMD_JSON_OBJ)
		return NULL;
	for (const struct tpmd_json *m = o->child; m != NULL; m = m->next)
		if (m->key != NULL && strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

uint64_t
tpmd_json_u64(const struct tpmd_json *o, const char *key)
{
	const struct tpmd_json *m = tpmd_json_get(o, key);

	return m != NULL && m->type == TPMD_JSON_NUM ? m->u64 : 0;
}

const char *
tpmd_json_str(const struct tpmd_json *o, const char *key)
{
	const struct tpmd_json *m = tpmd_json_get(o, key);

	return m != NULL && m->type == TPMD_JSON_STR ? m->str : "";
}
