/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Packets of a send (lib/zctx/zctx_build.c) under EAL, on a net_ring port this test
 * drains: zero-copy segments carry the pages' IO addresses as DPDK's own pagemap reader
 * and memseg lists give them, split at the MTU; copies below the threshold carry the same
 * bytes; a PMD that reads by virtual address gets a packet's payload in one segment.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include "test_common.h"
#include "test_zctx_util.h"
#include "tide_zctx.h"

/* Payload bytes a packet carries on the suite's ports: MTU 1500, and the header. */
#define PAYLOAD (1500 + RTE_ETHER_HDR_LEN - HDR_LEN)

static void
test_segments_carry_pagemap_addresses(void)
{
	struct tide_zctx_cpl cpl;
	struct rte_mbuf *pkts[64];
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(64 * KB);
	unsigned int n, segs = 0;
	uint32_t off = 0;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_xl", 1024) == 0);
	cache_set(0, 0);
	z = zctx_make("xl", rp.port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	/* Not page aligned, several pages, several packets (MTU 1500). */
	CU_ASSERT_EQUAL(send_one(z, rp.port, 7, buf + 100, 9000), 0);
	while (off < 9000) {
		n = 0;
		while (n == 0)
			n = ring_drain(&rp, pkts, 1);
		CU_ASSERT(pkts[0]->pkt_len <= 1514);
		CU_ASSERT(pkt_is(pkts[0], buf + 100 + off, pkts[0]->pkt_len - HDR_LEN));
		for (struct rte_mbuf *m = pkts[0]->next; m != NULL; m = m->next) {
			void *va = rte_pktmbuf_mtod(m, void *);

			const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(va);

			CU_ASSERT(!!RTE_MBUF_HAS_EXTBUF(m));
			CU_ASSERT_EQUAL(rte_pktmbuf_iova(m), rte_mem_virt2phy(va));
			/* DPDK knows the memory: its memseg shows the same address. */
			CU_ASSERT_FATAL(msl != NULL && msl->external);
			CU_ASSERT_EQUAL(rte_mem_virt2memseg(va, msl)->iova +
				((uintptr_t)va & 4095), rte_pktmbuf_iova(m));
			segs++;
		}
		off += pkts[0]->pkt_len - HDR_LEN;
		rte_pktmbuf_free(pkts[0]);
	}
	CU_ASSERT_EQUAL(off, 9000);
	CU_ASSERT(segs >= 7); /* 9000 bytes over 3+ pages, 7 packets */
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.cookie, 7);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(cpl.bytes, 9000);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	munmap(buf, 64 * KB);
}

/*
 * A PMD that reads by virtual address (net_null: it frees what it is given) takes a
 * packet's payload in one segment, however many pages it spans and wherever their IO
 * addresses lie; net_ring, whose mbufs may go on to a device, gets them split where the
 * IO addresses stop (above).
 */
static void
test_a_pmd_that_reads_by_address_gets_one_segment_a_packet(void)
{
	struct tide_zctx_stats st;
	struct tide_zctx_cpl cpl;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(128 * KB), *from;
	uintptr_t span_end;

	CU_ASSERT_FATAL(buf != NULL);
	/* Inside one 2 MB span of the pin cache (a send across two is two pieces, and a
	 * segment ends with its piece): the buffer's own start, or just past the span's end
	 * if the payload would reach over it. */
	span_end = RTE_ALIGN_CEIL((uintptr_t)buf + 1, 2048 * KB);
	from = (uintptr_t)buf + 100 + 40000 <= span_end ? buf + 100 :
		(uint8_t *)span_end + 100;
	cache_set(0, 0);
	z = zctx_make("va", null_port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	/* 40000 bytes from an odd address: ten pages and more, 28 packets (MTU 1500). */
	CU_ASSERT_EQUAL(send_one(z, null_port, 3, from, 40000), 0);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(cpl.bytes, 40000);
	CU_ASSERT(stats_wait_completed(z, 1, &st));
	CU_ASSERT_EQUAL(st.zc_sends, 1);
	CU_ASSERT_EQUAL(st.packets, (40000 + PAYLOAD - 1) / PAYLOAD);
	CU_ASSERT_EQUAL(st.segments, st.packets);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	munmap(buf, 128 * KB);
}

/*
 * A clone of a zero-copy packet (rte_pktmbuf_clone(), as a mirror or a retransmit queue
 * keeps one) outlives the packet: the send completes when the clone is freed, whatever
 * became of the segment's shell meanwhile. The shell goes home when the packet is freed
 * and is the next one its pool hands out on this lcore; taken and written over as a reuse
 * would (its private area), it must not take the segment's reference count with it.
 */
static void
test_a_clone_of_a_segment_outlives_its_shell(void)
{
	struct tide_zctx_cpl cpl;
	struct rte_mbuf *pkt = NULL, *clone, *seg;
	struct rte_mempool *shells;
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(4 * KB);
	void *obj;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_cl", 64) == 0);
	cache_set(0, 0);
	z = zctx_make("cl", rp.port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 11, buf, 1000), 0);
	while (ring_drain(&rp, &pkt, 1) == 0)
		;
	seg = pkt->next;
	CU_ASSERT_FATAL(seg != NULL && RTE_MBUF_HAS_EXTBUF(seg));
	shells = seg->pool;
	clone = rte_pktmbuf_clone(pkt, rx_pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(clone);
	rte_pktmbuf_free(pkt);
	/* The clone holds the send: not complete. */
	agent_pass(z);
	CU_ASSERT_EQUAL(tide_zctx_poll(z, &cpl, 1), 0);
	/* The shell, home, handed out again and written over. */
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get(shells, &obj), 0);
	CU_ASSERT_PTR_EQUAL(obj, seg);
	memset(rte_mbuf_to_priv(obj), 0, ((struct rte_mbuf *)obj)->priv_size);
	rte_mempool_put(shells, obj);
	rte_pktmbuf_free(clone);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.cookie, 11);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	munmap(buf, 4 * KB);
}

static void
test_copies_below_the_threshold_carry_the_same_bytes(void)
{
	struct tide_zctx_stats st;
	struct tide_zctx_cpl cpl[2];
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(16 * KB);

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_cp", 1024) == 0);
	z = zctx_make("cp", rp.port, 1000, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 1, buf + 5, 999), 0);  /* copied */
	CU_ASSERT_EQUAL(send_one(z, rp.port, 2, buf + 5, 1000), 0); /* zero-copy */
	for (unsigned int i = 0; i < 2; i++) {
		while (ring_drain(&rp, &pkt, 1) == 0)
			;
		CU_ASSERT(pkt_is(pkt, buf + 5, 999 + i));
		CU_ASSERT_EQUAL(!!RTE_MBUF_HAS_EXTBUF(pkt->next != NULL ? pkt->next : pkt), i == 1);
		rte_pktmbuf_free(pkt);
	}
	CU_ASSERT_EQUAL(poll_n(z, cpl, 2), 2);
	CU_ASSERT(stats_wait_completed(z, 2, &st));
	CU_ASSERT_EQUAL(st.copy_sends, 1);
	CU_ASSERT_EQUAL(st.zc_sends, 1);
	CU_ASSERT_EQUAL(st.zc_released, 1);
	CU_ASSERT_EQUAL(st.threshold, 1000);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	munmap(buf, 16 * KB);
}

/*
 * Memory the application registered with rte_extmem_register() without IO addresses:
 * zero-copy to a PMD that reads by address (net_null), one segment a packet with no IO
 * address; to one that may DMA (net_ring) a fixed threshold that says zero-copy fails the
 * send with -EADDRNOTAVAIL, and an adaptive one copies it. None waits for ever.
 */
static void
test_memory_registered_without_io_addresses_never_stalls_a_send(void)
{
	const size_t len = 64 * KB;
	struct tide_zctx_stats st;
	struct tide_zctx_cpl cpl;
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;
	uint8_t *buf = page_buf(len);
	uint32_t got = 0;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL_FATAL(rte_extmem_register(buf, len, NULL, 0, 4096), 0);
	z = zctx_make("noiova_null", null_port, 0, 0, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, null_port, 1, buf + 100, 20000), 0);
	CU_ASSERT_EQUAL_FATAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(cpl.bytes, 20000);
	CU_ASSERT(stats_wait_completed(z, 1, &st));
	CU_ASSERT_EQUAL(st.zc_sends, 1);
	CU_ASSERT_EQUAL(st.segments, st.packets);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);

	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_noiova", 1024) == 0);
	z = zctx_make("noiova_ring", rp.port, 0, 0, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 2, buf + 100, 20000), 0);
	CU_ASSERT_EQUAL_FATAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, -EADDRNOTAVAIL);
	CU_ASSERT_EQUAL(cpl.bytes, 0);
	CU_ASSERT_EQUAL(ring_drain(&rp, &pkt, 1), 0);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);

	z = zctx_make("noiova_adapt", rp.port, TIDE_ZCTX_THRESHOLD_ADAPTIVE, 0, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 3, buf + 100, 20000), 0);
	while (got < 20000) {
		while (ring_drain(&rp, &pkt, 1) == 0)
			;
		CU_ASSERT(pkt_is(pkt, buf + 100 + got, pkt->pkt_len - HDR_LEN));
		CU_ASSERT(!RTE_MBUF_HAS_EXTBUF(pkt->next != NULL ? pkt->next : pkt));
		got += pkt->pkt_len - HDR_LEN;
		rte_pktmbuf_free(pkt);
	}
	CU_ASSERT_EQUAL_FATAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT(stats_wait_completed(z, 1, &st));
	CU_ASSERT_EQUAL(st.copy_sends, 1);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	CU_ASSERT_EQUAL(rte_extmem_unregister(buf, len), 0);
	munmap(buf, len);
}

/*
 * A port that takes no mbuf chains (net_ring without RTE_ETH_TX_OFFLOAD_MULTI_SEGS) gets
 * copies only, each frame in one mbuf: with mbufs of 1 KB, frames shorter than its MTU's.
 */
static void
test_a_port_without_chains_gets_one_mbuf_a_frame(void)
{
	const uint32_t room = 1024, len = 4000, payload = room - HDR_LEN;
	struct rte_mempool *small = rte_pktmbuf_pool_create("zt_small", 256, 0, 0,
		RTE_PKTMBUF_HEADROOM + room, SOCKET_ID_ANY);
	uint8_t *buf = page_buf(16 * KB);
	struct tide_zctx_stats st;
	struct tide_zctx_cpl cpl;
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;
	uint32_t got = 0;

	CU_ASSERT_FATAL(small != NULL && buf != NULL);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7);
	CU_ASSERT_FATAL(ring_port_open_chains(&rp, "zt_flat", 1024, false) == 0);
	z = zctx_make_on("flat", rp.port, 0, 8, small);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 1, buf, len), 0);
	CU_ASSERT_EQUAL_FATAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
	CU_ASSERT_EQUAL(cpl.bytes, len);
	while (ring_drain(&rp, &pkt, 1) == 1) {
		uint32_t n = pkt->pkt_len - HDR_LEN;

		CU_ASSERT_EQUAL(pkt->nb_segs, 1);
		CU_ASSERT_PTR_NULL(pkt->next);
		CU_ASSERT(n == RTE_MIN(payload, len - got));
		CU_ASSERT(pkt_is(pkt, buf + got, n));
		got += n;
		rte_pktmbuf_free(pkt);
	}
	CU_ASSERT_EQUAL(got, len);
	CU_ASSERT(stats_wait_completed(z, 1, &st));
	CU_ASSERT_EQUAL(st.copy_sends, 1);
	CU_ASSERT_EQUAL(st.packets, (len + payload - 1) / payload);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	rte_mempool_free(small);
	munmap(buf, 16 * KB);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("zctx_build", zctx_suite_init, zctx_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_segments_carry_pagemap_addresses);
	CU_ADD_TEST(s, test_a_clone_of_a_segment_outlives_its_shell);
	CU_ADD_TEST(s, test_copies_below_the_threshold_carry_the_same_bytes);
	CU_ADD_TEST(s, test_a_pmd_that_reads_by_address_gets_one_segment_a_packet);
	CU_ADD_TEST(s, test_memory_registered_without_io_addresses_never_stalls_a_send);
	CU_ADD_TEST(s, test_a_port_without_chains_gets_one_mbuf_a_frame);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "zctx_build", true, register_tests);
}
