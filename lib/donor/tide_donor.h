/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_DONOR_H
#define TIDE_DONOR_H

/**
 * @file
 * Donor processes: memory beyond what one process may hold, allocated by helper processes
 * under their own limits and handed over to this one.
 *
 * A process has limits a host does not: RLIMIT_MEMLOCK caps what it may lock in RAM
 * (zero-copy TX pins pages), DPDK's --socket-limit caps its hugepage heap. A donor manager
 * (the seed's "memory driver") serves a request for more: it takes what the consumer's own
 * allowance still permits first, and the shortfall from K = ceil(shortfall / per-process
 * maximum) donor processes (the `tide-donor` helper program), each holding at most that
 * maximum. Two kinds of memory:
 *  - TIDE_DONOR_HUGE: hugepages (a memfd with MFD_HUGETLB), for mempool blocks;
 *  - TIDE_DONOR_PINNED: ordinary memory the holder locks with mlock(), for zero-copy send
 *    buffers.
 * Each donor allocates its share as a memfd, sized and sealed against shrinking and
 * growing, populated (and locked for the pinned kind), and sends the descriptor over a
 * UNIX socket (SCM_RIGHTS). The manager checks the descriptor (a memfd of the kind, size
 * and seals promised; for the pinned kind, the donor's VmLck), maps all shares of a
 * request side by side into one virtual range (a region), finds the IO address of every
 * page (the virtual address in IOVA-as-VA mode, /proc/self/pagemap in PA mode), and
 * registers the region with DPDK (rte_extmem_register(), and rte_dev_dma_map() for the
 * device of every ethdev port), so that it may hold mbufs and be sent from. Nothing is
 * mapped that was not received and checked.
 *
 * Donors sleep until the manager tells them to terminate (when their region is freed).
 * They die with the consumer: each sets PR_SET_PDEATHSIG (SIGKILL) and then checks that its
 * parent is still the consumer, and a consumer's death also hangs up their sockets, which
 * wakes them to exit. Donors are started by the manager's own control thread (the parent
 * a PR_SET_PDEATHSIG refers to is a thread), so they do not die with the thread that
 * asked for memory.
 *
 * When a donor dies while holding memory, the consumer keeps running: its own mapping of
 * the memfd keeps the memory alive, so no byte disappears under an mbuf. What the donor
 * took with it is its lock: hugepages need none (they are never swapped), and the part is
 * counted as held by the consumer alone (orphan_bytes); pinned memory is unlocked, so the
 * manager starts a new donor that is given the same memfd and locks it again (a re-pin),
 * and checks in PA mode that no page moved meanwhile. Each death of a part's donor has three
 * tries at that, however often the part was re-pinned before; a part that cannot be
 * re-pinned is reported unpinned (stats, telemetry, region info, an ERR log line) and
 * tide_donor_alloc() hands out none of it. Every death is logged and counted. Re-pins run
 * on the control thread, so no call returns their errno: a failed try is counted
 * (repin_failures) and logged with it -- EMFILE the new donor had no descriptor free for the
 * memory under its RLIMIT_NOFILE (donors inherit the consumer's), or this process none to
 * read what the new donor locked (ENFILE: none in the system), ENOMEM it could not lock
 * the memory, ECONNRESET, ETIMEDOUT or EPROTO it died, did not answer within timeout_ms or
 * broke the protocol -- and the consumer keeps the memory mapped whatever the failure.
 *
 * Threads: every call here is a control-path call, safe from any thread (EAL or not),
 * serialised per manager; none is for the fast path. A manager's control thread watches
 * its donors (pidfds) and re-pins. Primary process only: donor memory is mapped in this
 * process alone.
 *
 * Finding the helper: tide_donor_params.helper, else the environment variable
 * TIDE_DONOR_HELPER, else the installed `tide-donor` (libexecdir).
 *
 * Logs go to the log type "tide.donor"; telemetry: /tide/donor/list and
 * /tide/donor/info,<name> (the manager's counters and each donor: pid, bytes, state).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Kinds of memory. */
enum tide_donor_kind {
	TIDE_DONOR_HUGE = 0,   /**< hugepages of the system's default size */
	TIDE_DONOR_PINNED = 1, /**< 4 KB pages locked in RAM by their holder */
	TIDE_DONOR_KINDS       /**< how many kinds there are (not a kind) */
};

/** Request flag: all of it from donors, nothing from the consumer's own allowance. */
#define TIDE_DONOR_F_NO_OWN (1u << 0)
/** Request flag: do not register the region with DPDK (the caller will, e.g. in a heap). */
#define TIDE_DONOR_F_NO_REGISTER (1u << 1)

/** Manager flag: report a dead pinned donor's memory unpinned; do not re-pin it. */
#define TIDE_DONOR_MGR_F_NO_REPIN (1u << 0)

/** Most characters of a manager's name, NUL included. */
#define TIDE_DONOR_NAMESIZE 24

/** Parameters of a manager. Fill with tide_donor_params_init(), then change what you need. */
struct tide_donor_params {
	const char *name;       /**< unique, < TIDE_DONOR_NAMESIZE chars (copied) */
	const char *helper;     /**< path of tide-donor, an executable file; NULL: see the
				 *   file comment */
	int socket_id;          /**< NUMA socket whose --socket-limit is the consumer's
				 *   hugepage allowance, one EAL knows (rte_socket_id_by_idx());
				 *   SOCKET_ID_ANY: the caller's */
	unsigned int max_donors; /**< most donors alive at once (default 64) */
	/** Per kind: the per-process maximum, most bytes one donor holds. 0: measured --
	 *  pinned: RLIMIT_MEMLOCK's soft limit (donors inherit the consumer's); hugepages:
	 *  the consumer's hugepage allowance (heap_limit), unlimited if it has none. */
	uint64_t donor_max[TIDE_DONOR_KINDS];
	/** Per kind: most bytes of a request taken from the consumer's own allowance
	 *  (default UINT64_MAX: all it permits; 0: none). Own pinned memory is locked by
	 *  the consumer within RLIMIT_MEMLOCK (what it locks already counts); own hugepages
	 *  come from a memfd of its own, counted with its DPDK heap against heap_limit. */
	uint64_t own_max[TIDE_DONOR_KINDS];
	/** The consumer's hugepage allowance on socket_id, bytes. 0: its --socket-limit,
	 *  read from the process's command line (none there: no limit). While a manager with
	 *  a limit lives, DPDK's heap on that socket may grow only to the limit less the
	 *  hugepages the managers took as own parts (with several such managers on one
	 *  socket, the strictest limit of those alive now). */
	uint64_t heap_limit;
	uint64_t heap_grow;     /**< bytes tide_donor_alloc() adds to its heap at a time
				 *   (default 16 MB): from 1 to SIZE_MAX rounded down to
				 *   whole 4 KB pages, the most the heap asks for at once */
	unsigned int timeout_ms; /**< most time the donors of one request (or one
				  *   re-pinning donor) have, from their start, to hand their
				  *   memory over (or lock it), 1..INT_MAX (default 5000) */
	uint32_t flags;         /**< TIDE_DONOR_MGR_F_* */
};

/** States of a region's part. */
enum tide_donor_state {
	TIDE_DONOR_STATE_OWN = 0,  /**< the consumer's own memory */
	TIDE_DONOR_STATE_LIVE,     /**< a live donor holds it (and locks it, if pinned) */
	TIDE_DONOR_STATE_ORPHAN,   /**< hugepages whose donor died: the consumer's mapping
				    *   alone keeps them; nothing is lost */
	TIDE_DONOR_STATE_UNPINNED, /**< pinned memory whose donor died and that could not be
				    *   re-pinned: still mapped, no longer locked */
	TIDE_DONOR_STATE_REPINNING, /**< its donor died; a new one is being given it */
};

/** A region, as tide_donor_region_info() reports it. */
struct tide_donor_region_info {
	void *addr;              /**< first byte */
	size_t len;              /**< bytes (a multiple of page_sz) */
	size_t page_sz;          /**< page size */
	enum tide_donor_kind kind; /**< its memory's kind */
	uint64_t own_bytes;      /**< of len, from the consumer's own allowance */
	uint32_t nb_parts;       /**< parts: the own part (if any), then one per donor */
	uint32_t nb_donors;      /**< donor parts */
	uint32_t nb_deaths;      /**< donors of this region that died holding memory */
	uint64_t unpinned_bytes; /**< pinned kind: bytes no process locks now */
	bool registered;         /**< registered with DPDK (extmem or the manager's heap) */
};

/** One part of a region, as tide_donor_region_part() reports it. */
struct tide_donor_part_info {
	uint64_t offset;    /**< from the region's start */
	uint64_t bytes;     /**< its length */
	int pid;            /**< the donor holding it now (the last one if it died); the
			     *   consumer's own pid for the own part */
	enum tide_donor_state state; /**< who holds it now */
	uint64_t locked_kb; /**< the donor's VmLck when it handed the memory over (pinned) */
	uint32_t repins;    /**< times a new donor took over this part */
};

/** Counters of a manager. Gauges say "now"; the rest count since creation. */
struct tide_donor_stats {
	uint32_t donors;          /**< donors alive now */
	uint32_t regions;         /**< regions now (tide_donor_alloc()'s heap included) */
	uint64_t donated_bytes;   /**< bytes live donors hold now */
	uint64_t own_bytes;       /**< bytes taken from the consumer's own allowance, now */
	uint64_t orphan_bytes;    /**< hugepage bytes whose donor died, now */
	uint64_t unpinned_bytes;  /**< pinned bytes no process locks now */
	uint64_t heap_bytes;      /**< bytes in tide_donor_alloc()'s heap, now */
	uint64_t requests;        /**< regions asked for, each once, whatever became of it
				   *   (tide_donor_request(), blocks, the heap's growth) */
	uint64_t refused;         /**< of those, refused (bad arguments included) or failed */
	uint64_t spawned;         /**< donors started */
	uint64_t spawn_failures;  /**< donors that could not be started */
	uint64_t handshake_failures; /**< donors that died, timed out, could not allocate or
				      *   broke the protocol before handing memory over */
	uint64_t bad_messages;    /**< of those, broke the protocol (message or descriptor) */
	uint64_t terminated;      /**< donors told to exit that did */
	uint64_t killed;          /**< donors killed (failed handshakes; no exit after TERM) */
	uint64_t deaths;          /**< donors that died while holding memory */
	uint64_t repins;          /**< dead pinned donors replaced */
	uint64_t repin_failures;  /**< re-pins that failed */
	uint64_t iova_moved;      /**< pages whose IO address had changed at a re-pin */
};

/** A block of hugepage memory from donors, for tide_mempool_block_add(). */
struct tide_donor_block {
	void *addr;     /**< first byte, hugepage aligned */
	rte_iova_t iova; /**< IO address of the first byte */
	size_t len;     /**< bytes */
	/** Returns the block (pass both to tide_mempool_block_add()). */
	rte_mempool_memchunk_free_cb_t *free_cb;
	void *opaque;   /**< argument of free_cb */
};

struct tide_donor_mgr;
struct tide_donor_region;

/**
 * Fill @p p with defaults: 64 donors at most, per-process maxima measured, own allowance
 * used first, a 16 MB heap step, 5 s handshakes, re-pinning on.
 *
 * @param p
 *   The parameters to fill.
 * @param name
 *   Manager name (copied at creation).
 */
void tide_donor_params_init(struct tide_donor_params *p, const char *name);

/**
 * Create a manager and start its control thread. EAL must be initialised.
 *
 * @return
 *   The manager, or NULL with rte_errno set: EINVAL bad parameters (no name, too long,
 *   max_donors, timeout_ms or heap_grow 0, timeout_ms above INT_MAX, heap_grow above its
 *   range, socket_id neither SOCKET_ID_ANY nor a NUMA socket EAL knows, an unknown flag,
 *   a malformed --socket-limit); ENOTSUP a secondary process (donor memory is mapped in
 *   the primary alone); EEXIST the name is taken; ENOENT the helper program is
 *   not there, not a regular file (a directory) or not executable; ENOMEM no memory; or
 *   the errno of the control thread's creation (EAGAIN, EPERM, ENOMEM), or of its epoll
 *   and eventfd descriptors (EMFILE, ENFILE, ENOMEM, and ENOSPC: the eventfd cannot be
 *   watched, fs.epoll.max_user_watches used up).
 */
struct tide_donor_mgr *tide_donor_mgr_create(const struct tide_donor_params *p);

/**
 * Free a manager: gives back tide_donor_alloc()'s heap (terminating its donors) and stops
 * the control thread. NULL is a no-op.
 *
 * @return
 *   0, or a negative errno with rte_errno set:
 *   - -EBUSY while regions, blocks, tide_donor_alloc() buffers or memory taken from its
 *     heap with rte_malloc_socket() are still out: free those first (and the mempools
 *     that hold donor blocks); nothing is freed then. (-EBUSY also if DPDK refuses to take
 *     the heap's memory back or to destroy the heap, which it should not: the heap's
 *     parts it did take back are given back then.) -EBUSY too, logged, while another
 *     thread's tide_donor_mgr_free() of it, or another call on it (a request, an alloc...),
 *     is under way: nothing is done;
 *   - -EINVAL @p m is not a live manager (freed already, or not from
 *     tide_donor_mgr_create()): refused with a log line, nothing read or written through
 *     it. A manager made since at the same address is live: the pointer names it.
 */
int tide_donor_mgr_free(struct tide_donor_mgr *m);

/**
 * Get @p bytes of memory of @p kind: the own part first (unless TIDE_DONOR_F_NO_OWN), the
 * rest from donors started now. The region is one virtual range, registered with DPDK
 * unless TIDE_DONOR_F_NO_REGISTER. Blocks until every donor has handed its share over, or
 * the handshake fails or times out; on failure every donor of the request is killed and
 * reaped and nothing stays mapped.
 *
 * How long it blocks: timeout_ms at most for the handshake, counted once the request's
 * donors have started; before that, the request waits for the manager's control thread to
 * start them, which may first finish re-pinning dead donors (up to three tries a death,
 * each up to timeout_ms), and for another request of the manager in progress.
 *
 * @param bytes
 *   Size, rounded up to whole pages of @p kind.
 * @return
 *   The region, or NULL with rte_errno set: EINVAL a bad argument or flag, or @p m is not
 *   a live manager (NULL, freed already, or not from tide_donor_mgr_create(): logged,
 *   nothing read or written through it); EBUSY a tide_donor_mgr_free() of @p m is under
 *   way (logged); ENOSPC more
 *   donors needed than max_donors permits (or a per-process maximum below one page);
 *   ENOMEM more than the system can give (free hugepages, available RAM), a donor or the
 *   consumer could not allocate or lock its share, or no memory for tables or for checking
 *   the pages are resident; ECONNRESET a donor died before handing its share over;
 *   ETIMEDOUT a donor did not answer within timeout_ms; EPROTO a donor broke the protocol
 *   (a bad message, one of another protocol version (a tide-donor of another build,
 *   logged as such), or one that names another process as its sender; a descriptor that is
 *   not a memfd of the kind and size promised, sealed against shrinking, not sealed against
 *   writing and open for reading and writing; pinned memory it did not lock; or a page of
 *   the region not resident after mapping); EMFILE this process has no descriptor free
 *   under its RLIMIT_NOFILE for a donor's socket, its pidfd, the memory it sends (not the
 *   donor's breach; a live donor takes three), the donor's /proc status (what it locked:
 *   a fourth, a moment) or /proc/self/pagemap; ENFILE none left in the system for the
 *   last two;
 *   EPERM IOVA mode PA and no access to physical addresses; EFAULT a page not present in
 *   /proc/self/pagemap when its IO address is read; EIO /proc/self/pagemap unreadable
 *   (it cannot be opened for another reason, or read), or a device refused
 *   the DMA mapping; ENOSPC/EEXIST DPDK refused the registration (no
 *   memseg list left), or a donor cannot be watched for its death (epoll_ctl(2): ENOSPC
 *   fs.epoll.max_user_watches used up, ENOMEM); or the errno of a failed process start
 *   (ENOENT, EAGAIN...).
 */
struct tide_donor_region *tide_donor_request(struct tide_donor_mgr *m, size_t bytes,
	enum tide_donor_kind kind, uint32_t flags);

/**
 * Free a region: unregister it from DPDK, unmap it, terminate its donors (TERM, then
 * SIGKILL after a second) and close its memory. Nothing may use it any more (mbufs in it,
 * sends from it). NULL is a no-op.
 *
 * A pointer that is not a region tide_donor_request() (or tide_donor_block_get()) gave and
 * that is not freed yet -- freed already (or being freed by another thread), a region of
 * tide_donor_alloc()'s heap (tide_donor_region_lookup() shows those; tide_donor_trim()
 * gives them back), or anything else -- is refused: rte_errno EINVAL and a log line,
 * nothing read or written through it. A region made since at the same address is live:
 * the pointer names it.
 */
void tide_donor_region_free(struct tide_donor_region *r);

/**
 * Describe a region.
 *
 * @return
 *   0, or -EINVAL (rte_errno set) if an argument is NULL.
 */
int tide_donor_region_info(const struct tide_donor_region *r,
	struct tide_donor_region_info *info);

/**
 * Describe part @p idx of a region (the own part first, if any).
 *
 * @return
 *   0; -EINVAL (rte_errno set) an argument is NULL; -ENOENT no part @p idx.
 */
int tide_donor_region_part(const struct tide_donor_region *r, unsigned int idx,
	struct tide_donor_part_info *info);

/**
 * The region of @p m that contains @p addr (tide_donor_alloc()'s heap included), to read
 * its info and parts. Valid until the region is freed.
 *
 * @return
 *   The region, or NULL (rte_errno EINVAL: @p m is not a live manager (NULL, freed
 *   already, or not from tide_donor_mgr_create()), logged; EBUSY: a
 *   tide_donor_mgr_free() of @p m is under way, logged; ENOENT: no region there).
 */
const struct tide_donor_region *tide_donor_region_lookup(struct tide_donor_mgr *m,
	const void *addr);

/**
 * The IO address of @p addr inside a region.
 *
 * @return
 *   The IOVA, or RTE_BAD_IOVA with rte_errno set: EINVAL @p r is NULL; ENOENT @p addr is
 *   not in @p r.
 */
rte_iova_t tide_donor_region_iova(const struct tide_donor_region *r, const void *addr);

/**
 * Get a block of hugepage memory from donors only, for an elastic pool that must grow
 * past its own heap's limit: pass addr, len, free_cb and opaque to
 * tide_mempool_block_add(). Removing the block (tide_mempool_block_remove(), or freeing
 * the mempool) calls free_cb, which frees the region and terminates its donors. If the
 * block is not added, give it back with tide_donor_block_put().
 *
 * @param bytes
 *   Size, rounded up to whole hugepages.
 * @return
 *   0 and @p blk filled, or a negative errno (rte_errno set): as tide_donor_request(),
 *   EMFILE included (no descriptor free under RLIMIT_NOFILE for a donor).
 */
int tide_donor_block_get(struct tide_donor_mgr *m, size_t bytes, struct tide_donor_block *blk);

/** Give back a block that tide_mempool_block_add() did not take. NULL is a no-op. */
void tide_donor_block_put(struct tide_donor_block *blk);

struct tide_pool_ext_block;

/**
 * A block source for an elastic pool (tide_pool.h, tide_pool_block_source_t): blocks of
 * hugepages from donors, as tide_donor_block_get() gives them, when the pool's own heap
 * has no more (its --socket-limit). Reaping such a block frees its region and terminates
 * its donors.
 *
 *     tide_pool_block_source_set(mp, tide_donor_pool_source, mgr);
 *
 * @param mgr
 *   The donor manager (struct tide_donor_mgr *).
 * @return
 *   0 and @p blk filled, or a negative errno (rte_errno set): as tide_donor_block_get(),
 *   EMFILE included.
 */
int tide_donor_pool_source(void *mgr, size_t bytes, struct tide_pool_ext_block *blk);

/**
 * Allocate a send buffer of pinned memory: from the manager's DPDK heap of donor memory
 * (a named external malloc heap, registered with DPDK and DMA-mapped by it), grown by a
 * request of heap_grow bytes (or more, for a larger buffer) when it has no room. The zctx
 * agent sends from it zero-copy as DPDK memory: no pin per send, no pin cache, and beyond
 * the consumer's own RLIMIT_MEMLOCK. Never hands out memory that is unpinned: a buffer
 * that falls on it (a part being re-pinned, or reported unpinned) is set aside, and goes
 * back to the heap once a re-pin has locked that memory again.
 *
 * @param align
 *   Alignment (a power of two), or 0 for a cache line.
 * @return
 *   The buffer, or NULL with rte_errno set: EINVAL a bad argument (@p m not a live
 *   manager: NULL, freed already or not from tide_donor_mgr_create(); @p size 0,
 *   @p align not a power of two, or @p size so large that it wraps around once the
 *   alignment and the heap's overhead are added: refused before the heap grows); EBUSY a
 *   tide_donor_mgr_free() of @p m is under way; ENOMEM
 *   the heap grew but still has no room for it, or too much of it is unpinned; ENOSPC
 *   no heap left in DPDK for the manager's, or no memseg list left to add memory to it;
 *   or as tide_donor_request() when the heap must grow, EMFILE included (no descriptor
 *   free under RLIMIT_NOFILE for a donor).
 */
void *tide_donor_alloc(struct tide_donor_mgr *m, size_t size, unsigned int align);

/**
 * Free a buffer of tide_donor_alloc(). NULL is a no-op.
 *
 * @return
 *   0, or a negative errno (rte_errno set, a log line; nothing is written then): -EINVAL
 *   @p ptr is not a buffer of @p m's heap, or @p m is not a live manager (NULL, freed
 *   already, or not from tide_donor_mgr_create()); -EBUSY a tide_donor_mgr_free() of
 *   @p m is under way (the buffer stays allocated: free it again after).
 */
int tide_donor_free(struct tide_donor_mgr *m, void *ptr);

/**
 * The DPDK socket id of the manager's heap (for rte_malloc_socket(), or a mempool on
 * donor memory), creating the heap if needed. The heap grows only through
 * tide_donor_alloc().
 *
 * @return
 *   The socket id, or a negative errno (rte_errno set): -EINVAL @p m is not a live
 *   manager (NULL, freed already, or not from tide_donor_mgr_create()), logged; -EBUSY a
 *   tide_donor_mgr_free() of @p m is under way, logged; -ENOSPC no heap left in DPDK.
 */
int tide_donor_heap_socket(struct tide_donor_mgr *m);

/**
 * Give back the parts of tide_donor_alloc()'s heap that hold no buffer: their memory
 * leaves DPDK and their donors terminate.
 *
 * @return
 *   Bytes given back; 0 with a log line and rte_errno EINVAL if @p m is not a live
 *   manager (NULL, freed already, or not from tide_donor_mgr_create()), or EBUSY if a
 *   tide_donor_mgr_free() of @p m is under way (rte_errno is left alone otherwise).
 */
size_t tide_donor_trim(struct tide_donor_mgr *m);

/**
 * Read a manager's counters.
 *
 * @return
 *   0, or a negative errno (rte_errno set, a log line): -EINVAL an argument is NULL, or
 *   @p m is not a live manager (freed already, or not from tide_donor_mgr_create()):
 *   nothing read through it; -EBUSY a tide_donor_mgr_free() of @p m is under way.
 */
int tide_donor_stats_get(struct tide_donor_mgr *m, struct tide_donor_stats *st);

/** The name of a state ("own", "live", "orphan", "unpinned", "repinning"). */
const char *tide_donor_state_name(enum tide_donor_state s);

#ifdef __cplusplus
}
#endif

#endif /* TIDE_DONOR_H */
