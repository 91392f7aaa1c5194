/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Submission and polling (the inline fast path of tide_zctx.h) under EAL: sends of every
 * shape travel packed through the submission ring and arrive whole, a burst queues in
 * order and stops where it must, bad sends are refused with the errno documented, and
 * back-pressure is -EAGAIN, counted.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include "test_common.h"
#include "test_zctx_util.h"
#include "tide_zctx.h"

/*
 * A send travels packed (its iovecs, then its header bytes): sends of every shape, back to
 * back through the same ring elements, must arrive byte for byte, copied or zero-copy.
 */
static void
test_sends_of_every_shape_arrive_whole(void)
{
	static const uint32_t thresholds[2] = { 0, UINT32_MAX - 1 };
	uint8_t *buf = page_buf(64 * KB), want[2048], got[2048], h[TIDE_ZCTX_HDR_MAX];
	struct tide_zctx_cpl cpl[8];
	struct ring_port rp;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_shape", 1024) == 0);
	for (unsigned int t = 0; t < 2; t++) {
		struct tide_zctx *z = zctx_make(t ? "shape_c" : "shape_z", rp.port,
			thresholds[t], 0, 64);

		CU_ASSERT_FATAL(z != NULL);
		/* Many iovecs and a long header, then few and short, then many again. */
		for (unsigned int k = 0; k < 6; k++) {
			unsigned int nb = k % 2 ? 1 + k : TIDE_ZCTX_MAX_IOV - k;
			uint16_t hl = (uint16_t)(k % 2 ? 10 + k : TIDE_ZCTX_HDR_MAX - k);
			struct iovec iov[TIDE_ZCTX_MAX_IOV];
			struct tide_zctx_send s = {
				.cookie = k, .port = rp.port, .hdr_len = hl, .nb_iov = (uint16_t)nb,
				.hdr = h, .iov = iov,
			};
			struct rte_mbuf *pkt;
			uint32_t len = hl;

			for (unsigned int i = 0; i < hl; i++)
				h[i] = (uint8_t)(k * 31 + i);
			memcpy(want, h, hl);
			for (unsigned int i = 0; i < nb; i++) {
				/* Scattered over the buffer, odd lengths. */
				iov[i].iov_base = buf + 4096 * i + 37 * k + i;
				iov[i].iov_len = 17 + 5 * i + k;
				memcpy(want + len, iov[i].iov_base, iov[i].iov_len);
				len += (uint32_t)iov[i].iov_len;
			}
			CU_ASSERT_EQUAL_FATAL(tide_zctx_submit(z, &s), 0);
			while (ring_drain(&rp, &pkt, 1) == 0)
				;
			CU_ASSERT_EQUAL(pkt->pkt_len, len);
			CU_ASSERT(pkt->pkt_len <= sizeof(got) && memcmp(rte_pktmbuf_read(pkt, 0,
				pkt->pkt_len, got), want, len) == 0);
			rte_pktmbuf_free(pkt);
			CU_ASSERT_EQUAL(poll_n(z, cpl, 1), 1);
			CU_ASSERT_EQUAL(cpl[0].cookie, k);
			CU_ASSERT_EQUAL(cpl[0].status, 0);
			CU_ASSERT_EQUAL(cpl[0].bytes, len - hl);
		}
		CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	}
	ring_port_close(&rp);
	munmap(buf, 64 * KB);
}

/* A burst goes in order, stops before a bad send and at the depth, and completes. */
static void
test_a_burst_of_sends_queues_in_order_and_stops_where_it_must(void)
{
	uint8_t *buf = page_buf(64 * KB);
	struct tide_zctx_send s[TIDE_ZCTX_SUBMIT_BURST];
	struct iovec iov[TIDE_ZCTX_SUBMIT_BURST];
	struct tide_zctx_cpl cpl[TIDE_ZCTX_SUBMIT_BURST];
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;
	unsigned int got = 0;
	char *log;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_burst", 1024) == 0);
	z = zctx_make("burst", rp.port, 512, 0, 16);
	CU_ASSERT_FATAL(z != NULL);
	/* Both paths: 100 B copied, 1000 B zero-copy. */
	for (unsigned int i = 0; i < RTE_DIM(s); i++)
		send_init(&s[i], &iov[i], rp.port, i, buf + 1000 * i, i % 2 ? 1000 : 100);
	/* A bad send (s[5]) stops the burst before it; alone, it is refused. */
	iov[5].iov_len = 0;
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, s, 10), 5);
	tide_test_log_begin();
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, &s[5], 5), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, s, 0), -EINVAL);
	log = tide_test_log_end();
	CU_ASSERT(log != NULL && strstr(log, "zero length") != NULL);
	free(log);
	iov[5].iov_len = 100;
	/* Depth 16, 5 outstanding: 11 go, then back-pressure. */
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, &s[5], 40), 11);
	CU_ASSERT_EQUAL(tide_zctx_submit_burst(z, &s[16], 40), -EAGAIN);
	CU_ASSERT_EQUAL(rte_errno, EAGAIN);
	for (unsigned int i = 0; i < 16; i++) {
		while (ring_drain(&rp, &pkt, 1) == 0)
			;
		CU_ASSERT(pkt_is(pkt, iov[i].iov_base, (uint32_t)iov[i].iov_len));
		rte_pktmbuf_free(pkt);
	}
	while (got < 16) {
		unsigned int n = poll_n(z, &cpl[got], 16 - got);

		CU_ASSERT_FATAL(n > 0);
		got += n;
	}
	for (unsigned int i = 0; i < 16; i++) {
		CU_ASSERT_EQUAL(cpl[i].cookie, i);
		CU_ASSERT_EQUAL(cpl[i].status, 0);
		CU_ASSERT_EQUAL(cpl[i].bytes, iov[i].iov_len);
	}
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
	munmap(buf, 64 * KB);
}

static void
expect_refused(struct tide_zctx *z, const struct tide_zctx_send *s, int err)
{
	CU_ASSERT_EQUAL(tide_zctx_submit(z, s), -err);
	CU_ASSERT_EQUAL(rte_errno, err);
}

static void
test_bad_iovecs_are_refused_at_submission(void)
{
	struct tide_zctx_stats st;
	struct tide_zctx *z;
	static uint8_t data[4096];
	struct iovec iov[TIDE_ZCTX_MAX_IOV + 1];
	struct tide_zctx_send s = {
		.port = null_port, .hdr_len = HDR_LEN, .nb_iov = 1, .hdr = hdr, .iov = iov,
	};
	uint64_t op0 = port_opackets(null_port);
	char *log;

	for (unsigned int i = 0; i < RTE_DIM(iov); i++)
		iov[i] = (struct iovec){ .iov_base = data, .iov_len = 64 };
	z = zctx_make("bad", null_port, 0, 0, 64);
	CU_ASSERT_FATAL(z != NULL);
	tide_test_log_begin();
	iov[0].iov_base = NULL;
	expect_refused(z, &s, EINVAL);
	iov[0] = (struct iovec){ .iov_base = data, .iov_len = 0 };
	expect_refused(z, &s, EINVAL);
	iov[0] = (struct iovec){ .iov_base = (void *)(UINTPTR_MAX - 10), .iov_len = 64 };
	expect_refused(z, &s, EOVERFLOW);
	iov[0] = (struct iovec){ .iov_base = data, .iov_len = TIDE_ZCTX_MAX_SEND + 1 };
	expect_refused(z, &s, EMSGSIZE);
	/* Two iovecs whose lengths add up to 2^64: the total wraps to 0. */
	iov[0] = (struct iovec){ .iov_base = (void *)(uintptr_t)0x1000, .iov_len = 1ull << 63 };
	iov[1] = (struct iovec){ .iov_base = (void *)(uintptr_t)0x2000, .iov_len = 1ull << 63 };
	s.nb_iov = 2;
	expect_refused(z, &s, EMSGSIZE);
	iov[1] = (struct iovec){ .iov_base = data, .iov_len = 64 };
	s.nb_iov = 1;
	iov[0] = (struct iovec){ .iov_base = data, .iov_len = 64 };
	s.nb_iov = 0;
	expect_refused(z, &s, EINVAL);
	s.nb_iov = TIDE_ZCTX_MAX_IOV + 1;
	expect_refused(z, &s, EINVAL);
	s.nb_iov = 1;
	s.iov = NULL;
	expect_refused(z, &s, EINVAL);
	s.iov = iov;
	s.queue = 5;
	expect_refused(z, &s, EINVAL);
	s.queue = 0;
	s.hdr_len = TIDE_ZCTX_HDR_MAX + 1;
	expect_refused(z, &s, EINVAL);
	s.hdr_len = 10;
	s.hdr = NULL;
	expect_refused(z, &s, EINVAL);
	log = tide_test_log_end();
	CU_ASSERT(strstr(log, "send refused") != NULL);
	CU_ASSERT(strstr(log, "NULL base or zero length") != NULL);
	CU_ASSERT(strstr(log, "wraps around") != NULL);
	free(log);
	tide_zctx_stats_get(z, &st);
	CU_ASSERT_EQUAL(st.rejected, 11);
	CU_ASSERT_EQUAL(st.submitted, 0);
	CU_ASSERT_EQUAL(port_opackets(null_port), op0);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
}

static bool
completed_8(const struct tide_zctx_stats *st, void *arg __rte_unused)
{
	return st->completed == 8;
}

static void
test_back_pressure_is_eagain_and_counted(void)
{
	struct tide_zctx_cpl cpl[8];
	struct tide_zctx_stats st;
	struct rte_mbuf *pkts[8];
	struct ring_port rp;
	struct tide_zctx *z;
	static uint8_t data[1000];
	unsigned int n = 0;

	CU_ASSERT_FATAL(ring_port_open(&rp, "zt_bp", 1024) == 0);
	z = zctx_make("bp", rp.port, 0, 0, 8);
	CU_ASSERT_FATAL(z != NULL);
	for (unsigned int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(send_one(z, rp.port, i, data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 8, data, sizeof(data)), -EAGAIN);
	CU_ASSERT_EQUAL(rte_errno, EAGAIN);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 8, data, sizeof(data)), -EAGAIN);
	tide_zctx_stats_get(z, &st);
	CU_ASSERT_EQUAL(st.eagain, 2);
	while (n < 8)
		n += ring_drain(&rp, &pkts[n], 8 - n);
	rte_pktmbuf_free_bulk(pkts, 8);
	/* Completions posted but not polled still count against the depth. */
	CU_ASSERT_FATAL(stats_wait(z, completed_8, NULL));
	CU_ASSERT_EQUAL(send_one(z, rp.port, 8, data, sizeof(data)), -EAGAIN);
	CU_ASSERT_EQUAL(poll_n(z, cpl, 8), 8);
	CU_ASSERT_EQUAL(send_one(z, rp.port, 8, data, sizeof(data)), 0);
	while (ring_drain(&rp, pkts, 1) == 0)
		;
	rte_pktmbuf_free(pkts[0]);
	CU_ASSERT_EQUAL(poll_n(z, cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl[0].cookie, 8);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("zctx_submit", zctx_suite_init, zctx_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_sends_of_every_shape_arrive_whole);
	CU_ADD_TEST(s, test_a_burst_of_sends_queues_in_order_and_stops_where_it_must);
	CU_ADD_TEST(s, test_bad_iovecs_are_refused_at_submission);
	CU_ADD_TEST(s, test_back_pressure_is_eagain_and_counted);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "zctx_submit", true, register_tests);
}
