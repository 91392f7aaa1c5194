/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE

/*
 * The robust reader-writer lock and its per-process holds (lib/common/tide_rwlock.h), in
 * shared memory between this process and forked children, no EAL: the holds (a pool's pins,
 * a directory's reads) of a child killed with -9 are taken back by the waiter, with a
 * WARNING; a stopped child is waited for (sleeping, not spinning); a live process is never
 * judged gone (main thread exited, a name like a zombie's, no descriptor left, another pid
 * namespace); a process id reused by another process keeps neither a dead holder's holds
 * nor a dead writer's word; a writer's death is recovered by readers and writers; readers
 * that find every slot taken still get in; a thread that holds the read lock takes it again
 * past a waiting writer; a child forked during a claim can claim.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_common.h"
#include "tide_rwlock.h"

#define LOGTYPE RTE_LOGTYPE_USER1
#define WAIT_MS 10000

struct shared {
	struct tide_rwlock lock;
	struct tide_share pins;
};

static struct shared *sh;
static pid_t child_live; /* the child a test has running, or 0 */

struct child {
	pid_t pid;
	int go[2];    /* parent -> child: give the hold back and exit */
	int ready[2]; /* child -> parent: it holds */
};

enum hold {
	HOLD_PIN,   /* sh->pins */
	HOLD_READ,  /* sh->lock, read */
	HOLD_WRITE, /* sh->lock, written */
};

/* A child that takes @hold, says so, then waits for word to give it back. */
static void
child_start(struct child *c, enum hold hold)
{
	char b = 0;

	CU_ASSERT_FATAL(pipe(c->go) == 0 && pipe(c->ready) == 0);
	c->pid = fork();
	CU_ASSERT_FATAL(c->pid >= 0);
	child_live = c->pid;
	if (c->pid == 0) {
		uint32_t *held = NULL;

		if (hold == HOLD_READ)
			held = tide_rwlock_read_lock(&sh->lock, LOGTYPE, "test");
		else if (hold == HOLD_WRITE)
			tide_rwlock_write_lock(&sh->lock, LOGTYPE, "test");
		else
			held = tide_share_get(&sh->pins, LOGTYPE, "test");
		if (write(c->ready[1], &b, 1) != 1 || read(c->go[0], &b, 1) != 1)
			_exit(2);
		if (hold == HOLD_READ)
			tide_rwlock_read_unlock(&sh->lock, held);
		else if (hold == HOLD_WRITE)
			tide_rwlock_write_unlock(&sh->lock);
		else
			tide_share_put(held);
		_exit(0);
	}
	CU_ASSERT_FATAL(read(c->ready[0], &b, 1) == 1);
}

/* Let the child give its hold back; its exit code. */
static int
child_end(struct child *c)
{
	char b = 0;
	int status = 0;

	CU_ASSERT(write(c->go[1], &b, 1) == 1);
	waitpid(c->pid, &status, 0);
	child_live = 0;
	close(c->go[0]);
	close(c->go[1]);
	close(c->ready[0]);
	close(c->ready[1]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
child_kill(struct child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	child_live = 0;
	close(c->go[0]);
	close(c->go[1]);
	close(c->ready[0]);
	close(c->ready[1]);
}

/* What a waiter thread does: wait for sh->pins, write-lock sh->lock, or read-lock it. */
enum { WAIT_PINS, WAIT_WRITE, WAIT_READ };

struct waiter {
	int what;    /* WAIT_* */
	bool done;
	pid_t tid;
	pthread_t t;
};

static void *
waiter_run(void *arg)
{
	struct waiter *w = arg;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	if (w->what == WAIT_WRITE) {
		tide_rwlock_write_lock(&sh->lock, LOGTYPE, "test lock");
		tide_rwlock_write_unlock(&sh->lock);
	} else if (w->what == WAIT_READ) {
		tide_rwlock_read_unlock(&sh->lock, tide_rwlock_read_lock(&sh->lock, LOGTYPE,
			"test lock"));
	} else {
		tide_share_wait(&sh->pins, LOGTYPE, "test pins");
	}
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static bool
waiter_done(void *arg)
{
	return __atomic_load_n(&((struct waiter *)arg)->done, __ATOMIC_ACQUIRE);
}

static void
waiter_start(struct waiter *w, int what)
{
	w->what = what;
	w->done = false;
	w->tid = 0;
	CU_ASSERT_FATAL(pthread_create(&w->t, NULL, waiter_run, w) == 0);
}

/* Wait for the waiter to end, WAIT_MS at most: one that hangs ends the test process. */
static void
waiter_end(struct waiter *w)
{
	if (!tide_test_wait(waiter_done, w, WAIT_MS)) {
		printf("\n    the waiter still waits after %d ms\n", WAIT_MS);
		if (child_live != 0)
			kill(child_live, SIGKILL);
		fflush(stdout);
		_exit(1);
	}
	pthread_join(w->t, NULL);
}

static void
reset(void)
{
	memset(sh, 0, sizeof(*sh));
}

/* A pin of a process killed with -9 is taken back by the pool's free, with a WARNING. */
static void
test_a_pin_of_a_killed_process_is_taken_back(void)
{
	struct child c;
	struct waiter w;
	char *log;

	reset();
	child_start(&c, HOLD_PIN);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 1);
	child_kill(&c);
	tide_test_log_begin();
	waiter_start(&w, WAIT_PINS);
	waiter_end(&w);
	log = tide_test_log_end();
	CU_ASSERT_EQUAL(sh->pins.recovered, 1);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "test pins: process"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "died holding it (1 hold(s))"));
	free(log);
}

static bool
pins_checked_twice(void *arg __rte_unused)
{
	return __atomic_load_n(&sh->pins.waiting, __ATOMIC_ACQUIRE) == 1 &&
		__atomic_load_n(&sh->pins.checks, __ATOMIC_ACQUIRE) >= 2;
}

/* A stopped process is alive: its pin is waited for, then given back once it goes on. */
static void
test_a_pin_of_a_stopped_process_is_waited_for(void)
{
	struct child c;
	struct waiter w;

	reset();
	child_start(&c, HOLD_PIN);
	kill(c.pid, SIGSTOP);
	waiter_start(&w, WAIT_PINS);
	CU_ASSERT(tide_test_wait(pins_checked_twice, NULL, WAIT_MS));
	CU_ASSERT_FALSE(waiter_done(&w));
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 1);
	kill(c.pid, SIGCONT);
	CU_ASSERT_EQUAL(child_end(&c), 0);
	waiter_end(&w);
	CU_ASSERT_EQUAL(sh->pins.recovered, 0);
}

/* A holder whose process id now names another process (its start time differs) is gone. */
static void
test_a_process_id_reused_does_not_keep_a_dead_holders_pin(void)
{
	struct tide_share_slot *slot = NULL;
	struct child c;
	struct waiter w;

	reset();
	child_start(&c, HOLD_PIN);
	for (unsigned int i = 0; i < TIDE_RWLOCK_SLOTS; i++)
		if (TIDE_SHARE_OWNER_PID(sh->pins.slot[i].owner) == (uint32_t)c.pid)
			slot = &sh->pins.slot[i];
	CU_ASSERT_PTR_NOT_NULL_FATAL(slot);
	CU_ASSERT_EQUAL(slot->start, tide_process_start((uint32_t)c.pid));
	CU_ASSERT_NOT_EQUAL(slot->start, 0);
	slot->start++; /* as if the holder died and its id went to the child */
	waiter_start(&w, WAIT_PINS);
	waiter_end(&w);
	CU_ASSERT_EQUAL(sh->pins.recovered, 1);
	child_kill(&c);
}

/*
 * A dead holder whose process id is now this process's: this process counts its own holds
 * in another slot, and a waiter takes the dead one's back without taking this one's.
 */
static void
test_a_dead_holder_of_this_process_id_is_not_this_process(void)
{
	uint32_t me = (uint32_t)getpid(), *held;
	struct tide_share_slot *dead;

	reset();
	dead = &sh->pins.slot[me % TIDE_RWLOCK_SLOTS];
	dead->owner = TIDE_SHARE_OWNER(me, 1);
	dead->start = tide_process_start(me) + 1;
	dead->ns = tide_process_ns();
	dead->count = 1;
	held = tide_share_get(&sh->pins, LOGTYPE, "test");
	CU_ASSERT_PTR_NOT_EQUAL(held, &dead->count);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 2);
	CU_ASSERT_TRUE(tide_share_busy(&sh->pins, true, LOGTYPE, "test"));
	CU_ASSERT_EQUAL(sh->pins.recovered, 1);
	CU_ASSERT_EQUAL(TIDE_SHARE_OWNER_PID(dead->owner), 0);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 1);
	tide_share_put(held);
	CU_ASSERT_FALSE(tide_share_busy(&sh->pins, true, LOGTYPE, "test"));
}

/* A reader of a directory killed with -9: the writer takes its read back. */
static void
test_a_read_of_a_killed_process_is_taken_back_by_the_writer(void)
{
	struct child c;
	struct waiter w;

	reset();
	child_start(&c, HOLD_READ);
	CU_ASSERT_EQUAL(tide_rwlock_readers(&sh->lock), 1);
	child_kill(&c);
	waiter_start(&w, WAIT_WRITE);
	waiter_end(&w);
	CU_ASSERT_EQUAL(sh->lock.readers.recovered, 1);
	CU_ASSERT_EQUAL(sh->lock.writer, 0);
}

/* Thread *@arg sleeps (S), seen twice in a row: it waits without spinning. */
static bool
thread_sleeps(void *arg)
{
	static unsigned int seen;
	static pid_t last;
	pid_t tid = __atomic_load_n((pid_t *)arg, __ATOMIC_ACQUIRE);

	seen = tid != 0 && tid == last && tide_test_thread_state(tid) == 'S' ? seen + 1 : 0;
	last = tid;
	return seen >= 2;
}

/* Every slot of the lock's readers taken by a live process (@c, a child). */
static void
fill_slots_with(const struct child *c)
{
	for (unsigned int i = 0; i < TIDE_RWLOCK_SLOTS; i++) {
		struct tide_share_slot *slot = &sh->lock.readers.slot[i];

		slot->start = tide_process_start((uint32_t)c->pid);
		slot->ns = tide_process_ns();
		slot->owner = TIDE_SHARE_OWNER(c->pid, 1);
	}
}

/* Every slot taken by live processes: a reader counts apart, and still gets in and out. */
static void
test_a_reader_that_finds_no_slot_still_gets_in(void)
{
	struct child c;
	uint32_t *held;
	char *log;

	reset();
	child_start(&c, HOLD_PIN);
	fill_slots_with(&c);
	tide_test_log_begin();
	held = tide_rwlock_read_lock(&sh->lock, LOGTYPE, "test lock");
	log = tide_test_log_end();
	CU_ASSERT_PTR_EQUAL(held, &sh->lock.readers.overflow);
	CU_ASSERT_EQUAL(tide_rwlock_readers(&sh->lock), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "all 64 reader slots taken"));
	tide_rwlock_read_unlock(&sh->lock, held);
	CU_ASSERT_EQUAL(tide_rwlock_readers(&sh->lock), 0);
	CU_ASSERT_EQUAL(sh->lock.readers.recovered, 0);
	CU_ASSERT_EQUAL(child_end(&c), 0);
	free(log);
}

static bool
writer_waits(void *arg __rte_unused)
{
	return tide_rwlock_writer_waits(&sh->lock);
}

/*
 * A thread that holds the read lock takes it again while a writer waits (it would wait for
 * itself otherwise); a new reader of another thread gives way to the writer: it waits
 * (seen sleeping) until the writer has been in and out.
 */
static void
test_a_reader_takes_the_lock_again_past_a_waiting_writer(void)
{
	struct waiter r = { .what = WAIT_READ };
	uint32_t *outer, *inner;
	struct waiter w;

	reset();
	outer = tide_rwlock_read_lock(&sh->lock, LOGTYPE, "test lock");
	waiter_start(&w, WAIT_WRITE);
	CU_ASSERT(tide_test_wait(writer_waits, NULL, WAIT_MS));
	inner = tide_rwlock_read_lock(&sh->lock, LOGTYPE, "test lock");
	CU_ASSERT_EQUAL(tide_rwlock_readers(&sh->lock), 2);
	CU_ASSERT_FALSE(waiter_done(&w));
	CU_ASSERT_FATAL(pthread_create(&r.t, NULL, waiter_run, &r) == 0);
	CU_ASSERT(tide_test_wait(thread_sleeps, &r.tid, WAIT_MS));
	CU_ASSERT_FALSE(waiter_done(&r));
	tide_rwlock_read_unlock(&sh->lock, inner);
	tide_rwlock_read_unlock(&sh->lock, outer);
	waiter_end(&w);
	CU_ASSERT(tide_test_wait(waiter_done, &r, WAIT_MS));
	pthread_join(r.t, NULL);
	CU_ASSERT_EQUAL(sh->lock.readers.recovered, 0);
}

/* A reader that counts apart (no slot left) is waited for by a writer, never taken back. */
static void
test_a_writer_waits_for_a_reader_without_a_slot(void)
{
	struct child c;
	struct waiter w;
	uint32_t *held;

	reset();
	child_start(&c, HOLD_PIN);
	fill_slots_with(&c);
	held = tide_rwlock_read_lock(&sh->lock, LOGTYPE, "test lock");
	CU_ASSERT_PTR_EQUAL(held, &sh->lock.readers.overflow);
	waiter_start(&w, WAIT_WRITE);
	CU_ASSERT(tide_test_wait(writer_waits, NULL, WAIT_MS));
	CU_ASSERT(tide_test_wait(thread_sleeps, &w.tid, WAIT_MS)); /* past 1024 looks */
	CU_ASSERT_FALSE(waiter_done(&w));
	CU_ASSERT_EQUAL(tide_rwlock_readers(&sh->lock), 1);
	tide_rwlock_read_unlock(&sh->lock, held);
	waiter_end(&w);
	CU_ASSERT_EQUAL(sh->lock.readers.recovered, 0);
	CU_ASSERT_EQUAL(sh->lock.readers.overflow, 0);
	CU_ASSERT_EQUAL(child_end(&c), 0);
}

/* A child that pins sh->pins in a thread, then ends its main thread (pthread_exit). */
struct review_pin_arg {
	int ready_fd, go_fd;
};

static void *
review_pin_thread(void *arg)
{
	struct review_pin_arg *a = arg;
	uint32_t *held = tide_share_get(&sh->pins, LOGTYPE, "test");
	char b = 0;

	if (write(a->ready_fd, &b, 1) != 1 || read(a->go_fd, &b, 1) != 1)
		_exit(2);
	tide_share_put(held);
	_exit(0);
	return NULL;
}

/* mode 0: main thread pthread_exit()s; 1: the process names itself "x) Z". */
static pid_t
review_child_pin_then(int mode, int ready_fd, int go_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		static struct review_pin_arg a;
		pthread_t t;

		a.ready_fd = ready_fd;
		a.go_fd = go_fd;
		if (mode == 1)
			prctl(PR_SET_NAME, "x) Z", 0, 0, 0);
		if (pthread_create(&t, NULL, review_pin_thread, &a) != 0)
			_exit(3);
		pthread_exit(NULL);
	}
	return pid;
}

static char
review_state(pid_t pid)
{
	char path[64], line[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return '?';
	p = fgets(line, sizeof(line), f);
	fclose(f);
	p = p != NULL ? strrchr(line, ')') : NULL;
	return p != NULL ? p[2] : '?';
}

static bool
review_zombie_leader(void *arg)
{
	return review_state(*(pid_t *)arg) == 'Z';
}

static void
review_live_child_keeps_its_pin(int mode)
{
	int go[2], ready[2];
	pid_t pid;
	char b = 0;

	reset();
	CU_ASSERT_FATAL(pipe(go) == 0 && pipe(ready) == 0);
	pid = review_child_pin_then(mode, ready[1], go[0]);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_FATAL(read(ready[0], &b, 1) == 1);
	if (mode == 0) /* the leader is a zombie, the process lives on */
		CU_ASSERT(tide_test_wait(review_zombie_leader, &pid, WAIT_MS));
	CU_ASSERT_EQUAL(kill(pid, 0), 0);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 1);
	CU_ASSERT_TRUE(tide_share_busy(&sh->pins, true, LOGTYPE, "review"));
	/* The child is alive and still pinning: nothing may be taken back. */
	CU_ASSERT_EQUAL(sh->pins.recovered, 0);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

/* A live process whose main thread has exited (its /proc/PID/stat says Z) is not gone. */
static void
test_review_a_process_whose_main_thread_exited_keeps_its_pin(void)
{
	review_live_child_keeps_its_pin(0);
}

/* A live process named "x) Z" (prctl, or its executable's name) is not a zombie. */
static void
test_review_a_process_named_like_a_zombie_keeps_its_pin(void)
{
	review_live_child_keeps_its_pin(1);
}

/* The waiter cannot open /proc/PID/stat (no file descriptor left): the holder is not gone. */
static void
test_review_a_waiter_out_of_fds_does_not_take_a_live_pin(void)
{
	struct child c;
	int fds[65536], n = 0;
	uint64_t recovered;

	reset();
	child_start(&c, HOLD_PIN);
	while (n < (int)RTE_DIM(fds) && (fds[n] = dup(0)) >= 0)
		n++;
	CU_ASSERT(n < (int)RTE_DIM(fds)); /* the descriptors ran out */
	tide_share_busy(&sh->pins, true, LOGTYPE, "review");
	recovered = sh->pins.recovered;
	while (n > 0)
		close(fds[--n]);
	CU_ASSERT_EQUAL(recovered, 0);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), recovered == 0 ? 1 : 0);
	child_kill(&c);
}

/* A process killed and not yet waited for (a zombie, its one thread dead) is gone. */
static void
test_a_zombie_is_gone(void)
{
	struct child c;

	reset();
	child_start(&c, HOLD_PIN);
	kill(c.pid, SIGKILL);
	CU_ASSERT(tide_test_wait(review_zombie_leader, &c.pid, WAIT_MS));
	CU_ASSERT_TRUE(tide_process_gone((uint32_t)c.pid));
	CU_ASSERT_TRUE(tide_share_busy(&sh->pins, true, LOGTYPE, "test") == false);
	CU_ASSERT_EQUAL(sh->pins.recovered, 1);
	child_kill(&c);
	CU_ASSERT_TRUE(tide_process_gone((uint32_t)c.pid));
}

/*
 * A waiter in another pid namespace (a secondary, or the primary, in a container) must not
 * take back the hold of a live process of this one.
 */
static void
test_review_a_waiter_in_another_pid_namespace_does_not_take_a_live_pin(void)
{
	uint32_t *held;
	pid_t mid;
	int status = -1;

	reset();
	held = tide_share_get(&sh->pins, LOGTYPE, "test"); /* this process: alive */
	mid = fork();
	CU_ASSERT_FATAL(mid >= 0);
	if (mid == 0) {
		pid_t in;
		int st = 0;

		if (unshare(CLONE_NEWPID) != 0)
			_exit(77);
		in = fork();
		if (in == 0) { /* pid 1 of a new namespace: this process's id is unknown there */
			tide_share_busy(&sh->pins, true, LOGTYPE, "review");
			_exit((int)sh->pins.recovered);
		}
		waitpid(in, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 99);
	}
	waitpid(mid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		printf("\n    no pid namespace here: skipped ");
	} else {
		CU_ASSERT(WIFEXITED(status));
		CU_ASSERT_EQUAL(WEXITSTATUS(status), 0); /* nothing taken back */
		CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 1);
	}
	if (tide_share_holds(&sh->pins) == 1)
		tide_share_put(held);
}

static bool
lock_checked_twice(void *arg __rte_unused)
{
	return __atomic_load_n(&sh->lock.readers.checks, __ATOMIC_ACQUIRE) >= 2;
}

/*
 * A reader in another pid namespace must not take over a live writer (this process): it
 * checks the writer (twice, the evidence that it looked) and still waits.
 */
static void
test_review_a_reader_in_another_pid_namespace_does_not_take_over_a_live_writer(void)
{
	pid_t mid;
	int status = -1;

	reset();
	tide_rwlock_write_lock(&sh->lock, LOGTYPE, "review"); /* held, by a live process */
	mid = fork();
	CU_ASSERT_FATAL(mid >= 0);
	if (mid == 0) {
		pid_t in;
		int st = 0;

		if (unshare(CLONE_NEWPID) != 0)
			_exit(77);
		in = fork();
		if (in == 0) {
			struct waiter r = { .what = WAIT_READ };

			if (pthread_create(&r.t, NULL, waiter_run, &r) != 0)
				_exit(12);
			if (!tide_test_wait(lock_checked_twice, NULL, WAIT_MS))
				_exit(13); /* the reader never looked at the writer */
			/* the right outcome: it still waits for the writer */
			_exit(waiter_done(&r) ? 10 : 11);
		}
		waitpid(in, &st, 0);
		_exit(WIFSIGNALED(st) ? 100 + WTERMSIG(st) : WEXITSTATUS(st));
	}
	waitpid(mid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		printf("\n    no pid namespace here: skipped ");
	} else {
		if (WEXITSTATUS(status) == 10)
			printf("\n    the reader cleared the live writer's word and read ");
		CU_ASSERT_EQUAL(WEXITSTATUS(status), 11);
	}
	CU_ASSERT_NOT_EQUAL(__atomic_load_n(&sh->lock.writer, __ATOMIC_ACQUIRE), 0);
	tide_rwlock_write_unlock(&sh->lock);
}

/* The writer's word of a process that is gone, or of an id reused by a live process @pid. */
static uint64_t
dead_writer_word(pid_t pid)
{
	uint64_t start = tide_process_start((uint32_t)pid) + 1; /* it started later */

	return (uint64_t)pid | start << TIDE_PROCESS_PID_BITS;
}

/*
 * The writer died and its process id went to another (live) process: the writer's word
 * names the id and the start time, so a reader sees the writer is gone, clears its word
 * and reads. Simulated, as the tests above simulate a reused id: the word is set to a live
 * child's id with another start time.
 */
/* A waiter doing @what (WAIT_READ, WAIT_WRITE) meets the word of a dead writer whose id
 * now names a live process: it sees the writer gone and takes the word over. */
static void
dead_writers_reused_id_taken_over_by(int what)
{
	struct child c;
	struct waiter w;
	char *log;

	reset();
	child_start(&c, HOLD_PIN);
	sh->lock.writer_ns = (uint64_t)tide_process_ns() << 32 | (uint32_t)c.pid;
	__atomic_store_n(&sh->lock.writer, dead_writer_word(c.pid), __ATOMIC_RELEASE);
	tide_test_log_begin();
	waiter_start(&w, what);
	waiter_end(&w);
	log = tide_test_log_end();
	CU_ASSERT_EQUAL(sh->lock.writer_recovered, 1);
	CU_ASSERT_EQUAL(sh->lock.writer, 0);
	CU_ASSERT_EQUAL(sh->lock.writer_ns, 0); /* the dead writer's namespace went with it */
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "died writing: taken over by process"));
	CU_ASSERT_EQUAL(child_end(&c), 0);
	free(log);
}

static void
test_review_a_dead_writers_reused_id_does_not_block_readers(void)
{
	dead_writers_reused_id_taken_over_by(WAIT_READ);
}

/* The same for a writer. */
static void
test_a_dead_writers_reused_id_does_not_block_a_writer(void)
{
	dead_writers_reused_id_taken_over_by(WAIT_WRITE);
}

/* A writer killed with -9: the next waiter doing @what (WAIT_READ: it clears the word and
 * reads; WAIT_WRITE: it takes the word) does so, with a WARNING. */
static void
killed_writer_taken_over_by(int what)
{
	struct child c;
	struct waiter w;
	char *log;

	reset();
	child_start(&c, HOLD_WRITE);
	child_kill(&c);
	tide_test_log_begin();
	waiter_start(&w, what);
	waiter_end(&w);
	log = tide_test_log_end();
	CU_ASSERT_EQUAL(sh->lock.writer_recovered, 1);
	CU_ASSERT_EQUAL(sh->lock.writer, 0);
	CU_ASSERT_EQUAL(sh->lock.writer_ns, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "test lock: process"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "died writing"));
	free(log);
}

static void
test_a_writer_of_a_killed_process_is_taken_over_by_a_writer(void)
{
	killed_writer_taken_over_by(WAIT_WRITE);
}

static void
test_a_writer_of_a_killed_process_is_cleared_by_a_reader(void)
{
	killed_writer_taken_over_by(WAIT_READ);
}

/* Letting go of a write lock this process does not hold leaves it alone, logged at ERR. */
static void
test_a_write_unlock_of_another_writers_lock_leaves_it(void)
{
	uint64_t other;
	char *log;

	reset();
	other = (uint64_t)1 | (uint64_t)1 << TIDE_PROCESS_PID_BITS;
	sh->lock.writer = other;
	tide_test_log_begin();
	tide_rwlock_write_unlock(&sh->lock);
	log = tide_test_log_end();
	CU_ASSERT_EQUAL(sh->lock.writer, other);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "not its own"));
	free(log);
}

#ifdef TIDE_FAULT_INJECTION
/* The slot a waiter judged is freed and claimed again by a live process of the same id. */
static void
reclaimed_meanwhile(struct tide_share_slot *slot)
{
	uint64_t owner = slot->owner;

	slot->start--; /* the live child's, as a new claim would publish it */
	slot->owner = TIDE_SHARE_OWNER(TIDE_SHARE_OWNER_PID(owner),
		TIDE_SHARE_OWNER_GEN(owner) + 2); /* freed (one), claimed again (two) */
}

/*
 * A waiter judges a slot's holder gone (a dead process of a reused id), then, before it
 * frees the slot, the slot is freed and claimed again by a live process of that id: the
 * waiter leaves the new holder's holds alone.
 */
static void
test_a_slot_claimed_again_after_the_check_is_not_taken_back(void)
{
	struct tide_share_slot *slot = NULL;
	struct child c;

	reset();
	child_start(&c, HOLD_PIN);
	for (unsigned int i = 0; i < TIDE_RWLOCK_SLOTS; i++)
		if (TIDE_SHARE_OWNER_PID(sh->pins.slot[i].owner) == (uint32_t)c.pid)
			slot = &sh->pins.slot[i];
	CU_ASSERT_PTR_NOT_NULL_FATAL(slot);
	slot->start++; /* a dead holder of the child's id */
	tide_share_reclaim_hook = reclaimed_meanwhile;
	CU_ASSERT_TRUE(tide_share_busy(&sh->pins, true, LOGTYPE, "test"));
	tide_share_reclaim_hook = NULL;
	CU_ASSERT_EQUAL(sh->pins.recovered, 0);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 1);
	CU_ASSERT_EQUAL(TIDE_SHARE_OWNER_PID(slot->owner), (uint32_t)c.pid);
	CU_ASSERT_EQUAL(child_end(&c), 0);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 0);
}
#endif

static void *
review_hold_claim_mu(void *arg)
{
	int *fd = arg;
	char b = 0;

	pthread_mutex_lock(&tide_rwlock_claim_mu);
	if (write(fd[1], &b, 1) != 1 || read(fd[2], &b, 1) != 1)
		abort();
	pthread_mutex_unlock(&tide_rwlock_claim_mu);
	return NULL;
}

/* fork() while another thread claims a slot: the child can still claim one. */
static void
test_review_a_child_forked_during_a_claim_can_claim(void)
{
	int p1[2], p2[2], fd[3], status = -1;
	pthread_t t;
	pid_t pid;
	char b = 0;

	reset();
	tide_rwlock_self();
	CU_ASSERT_FATAL(pipe(p1) == 0 && pipe(p2) == 0);
	fd[0] = p1[0];
	fd[1] = p1[1];
	fd[2] = p2[0];
	CU_ASSERT_FATAL(pthread_create(&t, NULL, review_hold_claim_mu, fd) == 0);
	CU_ASSERT_FATAL(read(p1[0], &b, 1) == 1); /* the other thread is inside a claim */
	pid = fork();
	if (pid == 0) {
		alarm(3);
		tide_share_put(tide_share_get(&sh->pins, LOGTYPE, "test"));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFSIGNALED(status))
		printf("\n    the child hung in its first claim (signal %d) ", WTERMSIG(status));
	CU_ASSERT(write(p2[1], &b, 1) == 1);
	pthread_join(t, NULL);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

/* A process that cannot read its own start time counts apart (no slot), logged once. */
static void
test_a_process_of_unknown_start_time_counts_without_a_slot(void)
{
	uint64_t start;
	uint32_t *held;
	char *log;

	reset();
	tide_rwlock_self();
	start = tide_rwlock_me.start;
	tide_rwlock_me.start = 0;
	tide_test_log_begin();
	held = tide_share_get(&sh->pins, LOGTYPE, "test pins");
	log = tide_test_log_end();
	tide_rwlock_me.start = start;
	CU_ASSERT_PTR_EQUAL(held, &sh->pins.overflow);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "cannot read its start time"));
	for (unsigned int i = 0; i < TIDE_RWLOCK_SLOTS; i++)
		CU_ASSERT_EQUAL(sh->pins.slot[i].owner, 0);
	tide_share_put(held);
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 0);
	free(log);
}

/* A writer waiting for a stopped reader backs off to sleeping instead of yielding for ever. */
static void
test_a_waiter_for_a_stopped_holder_sleeps(void)
{
	struct child c;
	struct waiter w;

	reset();
	child_start(&c, HOLD_READ);
	kill(c.pid, SIGSTOP);
	waiter_start(&w, WAIT_WRITE);
	CU_ASSERT(tide_test_wait(thread_sleeps, &w.tid, WAIT_MS));
	CU_ASSERT_FALSE(waiter_done(&w));
	kill(c.pid, SIGCONT);
	CU_ASSERT_EQUAL(child_end(&c), 0);
	waiter_end(&w);
	CU_ASSERT_EQUAL(sh->lock.readers.recovered, 0);
}

/* A reader queued behind a writer backs off to sleeping as well. */
static void
test_a_reader_behind_a_writer_sleeps(void)
{
	struct waiter r = { .what = WAIT_READ };

	reset();
	tide_rwlock_write_lock(&sh->lock, LOGTYPE, "test lock");
	CU_ASSERT_FATAL(pthread_create(&r.t, NULL, waiter_run, &r) == 0);
	CU_ASSERT(tide_test_wait(thread_sleeps, &r.tid, WAIT_MS));
	CU_ASSERT_FALSE(waiter_done(&r));
	tide_rwlock_write_unlock(&sh->lock);
	CU_ASSERT(tide_test_wait(waiter_done, &r, WAIT_MS));
	pthread_join(r.t, NULL);
}

struct review_stress {
	uint32_t writing, violations, stop;
	uint64_t reads, writes;
};

static struct review_stress *rs;

static void *
review_stress_reader(void *arg __rte_unused)
{
	while (!__atomic_load_n(&rs->stop, __ATOMIC_ACQUIRE)) {
		uint32_t *h = tide_rwlock_read_lock(&sh->lock, LOGTYPE, "stress");

		if (__atomic_load_n(&rs->writing, __ATOMIC_RELAXED) != 0)
			__atomic_fetch_add(&rs->violations, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&rs->reads, 1, __ATOMIC_RELAXED);
		tide_rwlock_read_unlock(&sh->lock, h);
	}
	return NULL;
}

/* Readers in two processes (two threads each) and a writer: never inside together. */
static void
test_review_stress_readers_and_a_writer_exclude(void)
{
	pid_t kids[2];
	uint64_t end;

	reset();
	rs = mmap(NULL, sizeof(*rs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(rs != MAP_FAILED);
	memset(rs, 0, sizeof(*rs));
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			pthread_t t[2];

			for (int i = 0; i < 2; i++)
				pthread_create(&t[i], NULL, review_stress_reader, NULL);
			for (int i = 0; i < 2; i++)
				pthread_join(t[i], NULL);
			_exit(0);
		}
	}
	end = (uint64_t)time(NULL) + 3;
	while ((uint64_t)time(NULL) < end) {
		tide_rwlock_write_lock(&sh->lock, LOGTYPE, "stress");
		__atomic_store_n(&rs->writing, 1, __ATOMIC_RELAXED);
		for (volatile int i = 0; i < 200; i++)
			;
		__atomic_store_n(&rs->writing, 0, __ATOMIC_RELAXED);
		tide_rwlock_write_unlock(&sh->lock);
		rs->writes++;
	}
	__atomic_store_n(&rs->stop, 1, __ATOMIC_RELEASE);
	for (int k = 0; k < 2; k++)
		waitpid(kids[k], NULL, 0);
	printf("\n    %" PRIu64 " reads, %" PRIu64 " writes, %u violations ", rs->reads,
		rs->writes, rs->violations);
	CU_ASSERT_EQUAL(rs->violations, 0);
	CU_ASSERT_EQUAL(tide_rwlock_readers(&sh->lock), 0);
	munmap(rs, sizeof(*rs));
}

/*
 * A dead writer's word whose namespace is not published yet (the one there is of another
 * process id, a previous writer's): it counts as alive, even checked; once published, a
 * reader clears it.
 */
static void
test_a_writer_whose_namespace_is_not_published_is_alive(void)
{
	struct waiter r = { .what = WAIT_READ };
	struct child c;

	reset();
	child_start(&c, HOLD_PIN);
	sh->lock.writer_ns = (uint64_t)tide_process_ns() << 32 | (uint32_t)getpid();
	__atomic_store_n(&sh->lock.writer, dead_writer_word(c.pid), __ATOMIC_RELEASE);
	CU_ASSERT_FATAL(pthread_create(&r.t, NULL, waiter_run, &r) == 0);
	CU_ASSERT(tide_test_wait(lock_checked_twice, NULL, WAIT_MS));
	CU_ASSERT_FALSE(waiter_done(&r));
	CU_ASSERT_EQUAL(sh->lock.writer_recovered, 0);
	__atomic_store_n(&sh->lock.writer_ns, (uint64_t)tide_process_ns() << 32 |
		(uint32_t)c.pid, __ATOMIC_RELEASE);
	CU_ASSERT(tide_test_wait(waiter_done, &r, WAIT_MS));
	pthread_join(r.t, NULL);
	CU_ASSERT_EQUAL(sh->lock.writer_recovered, 1);
	CU_ASSERT_EQUAL(sh->lock.writer, 0);
	CU_ASSERT_EQUAL(child_end(&c), 0);
}

/* A process id that names no process: a child's, reaped. */
static pid_t
gone_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

/*
 * A waiter killed after it marked a dead holder's slot, before it took the holds back: the
 * next waiter takes the mark over, takes the holds back and frees the slot.
 */
static void
test_a_waiter_killed_while_it_frees_a_slot_is_finished_for(void)
{
	struct tide_share_slot *slot = &sh->pins.slot[5];
	char *log;

	reset();
	slot->start = 1;
	slot->ns = tide_process_ns();
	slot->count = 2;
	slot->owner = TIDE_SHARE_OWNER(TIDE_SHARE_MARK | (uint32_t)gone_pid(), 7);
	tide_test_log_begin();
	CU_ASSERT_FALSE(tide_share_busy(&sh->pins, true, LOGTYPE, "test"));
	log = tide_test_log_end();
	CU_ASSERT_EQUAL(sh->pins.recovered, 1);
	CU_ASSERT_EQUAL(slot->owner, TIDE_SHARE_OWNER(0, 7));
	CU_ASSERT_EQUAL(tide_share_holds(&sh->pins), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "died taking back a dead process's holds (2)"));
	free(log);
}

/*
 * The same mark, seen from another pid namespace than the slot's (where the id names
 * another process, or none): left alone. So is a claim's mark, whose count is 0 (a claimer
 * that died costs a slot, and a live one the slot must stay its own).
 */
static void
test_marks_that_cannot_be_judged_are_left_alone(void)
{
	struct tide_share_slot *slot = &sh->pins.slot[5];
	uint64_t mark;

	reset();
	slot->ns = tide_process_ns() + 1;
	slot->count = 2;
	mark = TIDE_SHARE_OWNER(TIDE_SHARE_MARK | (uint32_t)gone_pid(), 7);
	slot->owner = mark;
	CU_ASSERT_TRUE(tide_share_busy(&sh->pins, true, LOGTYPE, "test"));
	CU_ASSERT_EQUAL(slot->owner, mark);
	CU_ASSERT_EQUAL(slot->count, 2);
	reset();
	slot->ns = tide_process_ns();
	mark = TIDE_SHARE_OWNER(TIDE_SHARE_MARK | TIDE_SHARE_CLAIMING | (uint32_t)gone_pid(), 7);
	slot->owner = mark;
	tide_share_reclaim(&sh->pins, 5, LOGTYPE, "test");
	CU_ASSERT_EQUAL(slot->owner, mark);
	CU_ASSERT_EQUAL(sh->pins.recovered, 0);
}

/* The mark of a live process (it claims or frees the slot at this moment) is left alone. */
static void
test_a_mark_of_a_live_process_is_left_alone(void)
{
	struct tide_share_slot *slot;
	struct child c;
	uint64_t mark;

	reset();
	child_start(&c, HOLD_PIN);
	slot = &sh->pins.slot[((uint32_t)c.pid + 1) % TIDE_RWLOCK_SLOTS];
	mark = TIDE_SHARE_OWNER(TIDE_SHARE_MARK | (uint32_t)c.pid, 3);
	slot->ns = tide_process_ns(); /* judged by its id: of this namespace */
	slot->count = 1;
	slot->owner = mark;
	CU_ASSERT_TRUE(tide_share_busy(&sh->pins, true, LOGTYPE, "test"));
	CU_ASSERT_EQUAL(sh->pins.recovered, 0);
	CU_ASSERT_EQUAL(slot->owner, mark);
	CU_ASSERT_EQUAL(slot->count, 1);
	slot->count = 0;
	slot->owner = 0;
	CU_ASSERT_EQUAL(child_end(&c), 0);
}

/* A writer lets go of its namespace with its word: the next writer is not judged by it. */
static void
test_a_writer_lets_go_of_its_namespace_with_its_word(void)
{
	reset();
	tide_rwlock_write_lock(&sh->lock, LOGTYPE, "test");
	CU_ASSERT_NOT_EQUAL(sh->lock.writer_ns, 0);
	tide_rwlock_write_unlock(&sh->lock);
	CU_ASSERT_EQUAL(sh->lock.writer, 0);
	CU_ASSERT_EQUAL(sh->lock.writer_ns, 0);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("rwlock");

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == NULL || sh == MAP_FAILED)
		return -1;
	CU_ADD_TEST(s, test_a_pin_of_a_killed_process_is_taken_back);
	CU_ADD_TEST(s, test_a_pin_of_a_stopped_process_is_waited_for);
	CU_ADD_TEST(s, test_a_process_id_reused_does_not_keep_a_dead_holders_pin);
	CU_ADD_TEST(s, test_a_dead_holder_of_this_process_id_is_not_this_process);
	CU_ADD_TEST(s, test_a_waiter_killed_while_it_frees_a_slot_is_finished_for);
	CU_ADD_TEST(s, test_a_mark_of_a_live_process_is_left_alone);
	CU_ADD_TEST(s, test_marks_that_cannot_be_judged_are_left_alone);
	CU_ADD_TEST(s, test_a_writer_lets_go_of_its_namespace_with_its_word);
	CU_ADD_TEST(s, test_a_read_of_a_killed_process_is_taken_back_by_the_writer);
	CU_ADD_TEST(s, test_a_reader_that_finds_no_slot_still_gets_in);
	CU_ADD_TEST(s, test_a_reader_takes_the_lock_again_past_a_waiting_writer);
	CU_ADD_TEST(s, test_a_writer_waits_for_a_reader_without_a_slot);
	CU_ADD_TEST(s, test_a_zombie_is_gone);
	CU_ADD_TEST(s, test_review_a_process_whose_main_thread_exited_keeps_its_pin);
	CU_ADD_TEST(s, test_review_a_process_named_like_a_zombie_keeps_its_pin);
	CU_ADD_TEST(s, test_review_a_waiter_out_of_fds_does_not_take_a_live_pin);
	CU_ADD_TEST(s, test_review_a_waiter_in_another_pid_namespace_does_not_take_a_live_pin);
	CU_ADD_TEST(s,
		test_review_a_reader_in_another_pid_namespace_does_not_take_over_a_live_writer);
	CU_ADD_TEST(s, test_review_a_dead_writers_reused_id_does_not_block_readers);
	CU_ADD_TEST(s, test_a_dead_writers_reused_id_does_not_block_a_writer);
	CU_ADD_TEST(s, test_a_writer_of_a_killed_process_is_taken_over_by_a_writer);
	CU_ADD_TEST(s, test_a_writer_of_a_killed_process_is_cleared_by_a_reader);
	CU_ADD_TEST(s, test_a_write_unlock_of_another_writers_lock_leaves_it);
	CU_ADD_TEST(s, test_a_writer_whose_namespace_is_not_published_is_alive);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_slot_claimed_again_after_the_check_is_not_taken_back);
#endif
	CU_ADD_TEST(s, test_review_a_child_forked_during_a_claim_can_claim);
	CU_ADD_TEST(s, test_a_process_of_unknown_start_time_counts_without_a_slot);
	CU_ADD_TEST(s, test_a_waiter_for_a_stopped_holder_sleeps);
	CU_ADD_TEST(s, test_a_reader_behind_a_writer_sleeps);
	CU_ADD_TEST(s, test_review_stress_readers_and_a_writer_exclude);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "rwlock", false, register_tests);
}
