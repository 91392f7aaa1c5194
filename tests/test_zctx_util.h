/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_ZCTX_UTIL_H
#define TIDE_TEST_ZCTX_UTIL_H

/*
 * Helpers shared by the zero-copy TX suites (one executable per module of lib/zctx): real
 * vdevs, net_null (the PMD frees at once) and net_ring (the PMD's "wire" is a ring the
 * test drains, so it decides when and in what order the mbufs are freed); pinning checked
 * against the kernel's own count (VmLck).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "tide_zctx.h"

#define KB 1024u
#define TEST_WAIT_MS 10000
#define HDR_LEN 42

extern struct rte_mempool *rx_pool;
extern uint16_t null_port;
extern uint8_t hdr[TIDE_ZCTX_HDR_MAX];

/** The header bytes, an RX pool and a started net_null port with 2 TX queues (CUnit init). */
int zctx_suite_init(void);
/** Undo zctx_suite_init() (CUnit fini). */
int zctx_suite_fini(void);

/** Memzones reserved in this process now. */
unsigned int memzones(void);

/** This process's locked memory, kB (/proc/self/status VmLck), or -1. */
long vmlck_kb(void);

/** A net_ring port whose TX ring (of @p size, queue 0's) the test drains; its second TX
 *  queue's ring (tx1) is there for sends the tests do not make. */
struct ring_port {
	char name[32];
	uint16_t port;
	struct rte_ring *rx, *tx, *tx1;
};

int ring_port_open(struct ring_port *rp, const char *name, unsigned int size);
/** The same, chained mbufs asked for only if @p chains (net_ring offers them). */
int ring_port_open_chains(struct ring_port *rp, const char *name, unsigned int size,
	bool chains);
unsigned int ring_drain(struct ring_port *rp, struct rte_mbuf **pkts, unsigned int max);
void ring_port_close(struct ring_port *rp);

/** An instance on one port (NULL and rte_errno as tide_zctx_create()). */
struct tide_zctx *zctx_make(const char *name, uint16_t port, uint32_t threshold,
	uint32_t flags, unsigned int depth);

/** zctx_make() taking its header mbufs from the application's pool @p mp. */
struct tide_zctx *zctx_make_on(const char *name, uint16_t port, uint32_t threshold,
	unsigned int depth, struct rte_mempool *mp);

/** Configure the pin cache: idle bytes kept and the pin limit (0: RLIMIT_MEMLOCK). */
void cache_set(size_t idle, size_t pin_limit);

/** Fill in @p s (and its @p iov): one send of @p len bytes at @p buf, with the HDR_LEN-byte
 * header, to queue 0 of @p port.
 */
void send_init(struct tide_zctx_send *s, struct iovec *iov, uint16_t port, uint64_t cookie,
	const void *buf, size_t len);

/** Submit one send of @p len bytes at @p buf, with the HDR_LEN-byte header. */
int send_one(struct tide_zctx *z, uint16_t port, uint64_t cookie, const void *buf, size_t len);

/** Poll until @p n completions arrived (or TEST_WAIT_MS passed); returns how many. */
unsigned int poll_n(struct tide_zctx *z, struct tide_zctx_cpl *cpl, unsigned int n);

/** @p len bytes of anonymous memory with a pattern in it (munmap() it). */
void *page_buf(size_t len);

/** Packets the port sent (its opackets counter). */
uint64_t port_opackets(uint16_t port);

/** Whether @p pkt is the header, then @p len payload bytes from @p src. */
bool pkt_is(const struct rte_mbuf *pkt, const uint8_t *src, uint32_t len);

/**
 * Return once the agent of @p z (with a fixed copy threshold) has run one whole pass that
 * began after this call, so that what it would do with what is in place now (retire a
 * send whose mbufs were freed, post a completion) is done. The agent applies a threshold
 * request at the start of a pass: two requests applied one after the other mean the pass
 * that applied the first is over. The threshold is left as it was.
 */
void agent_pass(struct tide_zctx *z);

/** Wait (TEST_WAIT_MS at most) until the instance's counters satisfy @p cond. */
bool stats_wait(struct tide_zctx *z, bool (*cond)(const struct tide_zctx_stats *st, void *arg),
	void *arg);

/**
 * Wait until @p n sends count as completed and fill @p st: the agent counts a send just
 * after it posts its completion, so a completion polled may not be counted yet.
 */
bool stats_wait_completed(struct tide_zctx *z, uint64_t n, struct tide_zctx_stats *st);

#endif
