/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Waiting at the wall (seed 001, steps 506-516). A request that the pool cannot serve
 * (at its wall, or hugepages exhausted) joins a FIFO queue; while the queue is not empty
 * every new request joins it too, so nobody barges. The control thread serves the head,
 * every tick, when the driver's free lists hold enough for it, and times out the requests
 * whose deadline passed, blocked and asynchronous alike: deadlines are on the pool
 * library's clock (pool_now_ns(), which tests drive), checked at the tick after them.
 *
 * One mutex guards the queue. Blocked callers sleep on their own condition variable;
 * asynchronous callbacks run after the mutex is dropped.
 *
 * A call holds the pool from its lookup (pool_hold()) until its request is queued, or
 * counted as blocked: a free that comes meanwhile waits for the hold, then cancels what is
 * queued (pool_waiters_close()) and waits for the blocked callers to leave, so no caller
 * is ever inside a pool's record once it is freed.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "pool_private.h"
#include "tide_mempool.h"

void
pool_waiters_init(struct tide_pool *tp)
{
	pool_mutex_init(&tp->wait_lock);
	pool_cond_init(&tp->blocked_gone);
	TAILQ_INIT(&tp->waiters);
	/* Tickets of a pool made again at the same address are not its predecessor's (a stale
	 * one is not found, not another request cancelled): the pool's serial on top.
	 */
	tp->next_ticket = (tp->serial << 32) + 1;
}

/* Allocate n mbufs only if the driver holds them: no growth, no failure counted. */
static bool
wait_try_alloc(struct tide_pool *tp, struct rte_mbuf **m, unsigned int n)
{
	struct tide_mempool_stats st;

	if (tide_mempool_stats_get(tp->mp, &st) != 0 || st.nb_free < n)
		return false;
	return rte_pktmbuf_alloc_bulk(tp->mp, m, n) == 0;
}

/*
 * Read without the wait lock: growth and the reaper ask under the grow lock, which an
 * allocation under the wait lock may take (a growing dequeue).
 */
uint64_t
pool_waiters_demand(const struct tide_pool *tp)
{
	return __atomic_load_n(&tp->head_demand, __ATOMIC_RELAXED);
}

/* The head of the queue changed. Caller holds wait_lock. */
static void
wait_head_changed_locked(struct tide_pool *tp)
{
	struct pool_waiter *w = TAILQ_FIRST(&tp->waiters);

	__atomic_store_n(&tp->head_demand, w != NULL ? (uint64_t)w->n : 0, __ATOMIC_RELAXED);
}

/* End a queued request with status; collect callbacks to run after unlocking. */
static void
wait_finish_locked(struct tide_pool *tp, struct pool_waiter *w, int status,
	struct pool_waiter_list *done)
{
	uint64_t *counter = status == 0 ? &tp->waits_served :
		status == -ETIMEDOUT ? &tp->waits_timedout : &tp->waits_cancelled;

	TAILQ_REMOVE(&tp->waiters, w, next);
	tp->nb_waiting--;
	wait_head_changed_locked(tp);
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
	w->status = status;
	w->done = true;
	if (w->cb != NULL)
		TAILQ_INSERT_TAIL(done, w, next);
	else
		pthread_cond_signal(&w->cond);
}

/* Callbacks this thread is inside while it holds their pool (a free waits for them). */
static __thread unsigned int wait_cb_depth;

/* Run the callbacks of ended requests; @p held: this thread holds the pool meanwhile (the
 * control thread, a cancel), not a free's cancellations (the pool out of reach, no hold). */
static void
wait_run_callbacks(struct tide_pool *tp, struct pool_waiter_list *done, bool held)
{
	struct pool_waiter *w;

	while ((w = TAILQ_FIRST(done)) != NULL) {
		TAILQ_REMOVE(done, w, next);
		wait_cb_depth += held;
		w->cb(tp->mp, w->m, w->n, w->status, w->arg);
		wait_cb_depth -= held;
		free(w);
	}
}

bool
pool_free_refused_in_callback(const char *what)
{
	if (wait_cb_depth == 0)
		return false;
	POOL_REFUSE(ERR, EDEADLK, "%s freed from a waiter's callback: the free would wait for "
		"the call running the callback, for ever; left alone", what);
	return true;
}

/* Serve the head as long as there is enough for it: strict FIFO. Caller holds wait_lock. */
static void
wait_serve_head_locked(struct tide_pool *tp, struct pool_waiter_list *done)
{
	struct pool_waiter *w;

	while ((w = TAILQ_FIRST(&tp->waiters)) != NULL && wait_try_alloc(tp, w->m, w->n))
		wait_finish_locked(tp, w, 0, done);
}

void
pool_waiters_serve(struct tide_pool *tp, uint64_t now)
{
	struct pool_waiter_list done = TAILQ_HEAD_INITIALIZER(done);
	struct pool_waiter *w, *nw;

	pthread_mutex_lock(&tp->wait_lock);
	/* The head first: a request whose mbufs came in the tick its deadline passed is
	 * served, not timed out.
	 */
	wait_serve_head_locked(tp, &done);
	/* Then the deadlines, and the head again: one that timed out may have held back
	 * requests behind it that can be served.
	 */
	for (w = TAILQ_FIRST(&tp->waiters); w != NULL; w = nw) {
		nw = TAILQ_NEXT(w, next);
		if (w->deadline_ns != 0 && now >= w->deadline_ns)
			wait_finish_locked(tp, w, -ETIMEDOUT, &done);
	}
	wait_serve_head_locked(tp, &done);
	pthread_mutex_unlock(&tp->wait_lock);
	wait_run_callbacks(tp, &done, true);
}

/* Queue w behind everyone. Caller holds wait_lock. */
static void
wait_enqueue_locked(struct tide_pool *tp, struct pool_waiter *w, uint64_t timeout_us,
	uint64_t *ticket)
{
	uint64_t ns;

	w->ticket = tp->next_ticket++;
	/* 0: no limit; so is a timeout too long for a deadline in nanoseconds. */
	if (timeout_us == 0 || __builtin_mul_overflow(timeout_us, UINT64_C(1000), &ns) ||
			__builtin_add_overflow(pool_now_ns(), ns, &w->deadline_ns))
		w->deadline_ns = 0;
	TAILQ_INSERT_TAIL(&tp->waiters, w, next);
	tp->nb_waiting++;
	wait_head_changed_locked(tp);
	if (ticket != NULL)
		*ticket = w->ticket;
}

/* The most mbufs @p tp can ever hold: its base's and those of the whole blocks the wall it
 * was made with leaves room for (pool_most_set()). */
static uint64_t
wait_most(const struct tide_pool *tp)
{
	return tp->most_objs;
}

static int
wait_args_check(struct tide_pool *tp, struct rte_mbuf **m, unsigned int n)
{
	uint64_t most;

	if (tp == NULL || m == NULL || n == 0) {
		POOL_LOG(ERR, "bad arguments (not an elastic pool, NULL table or n = 0)");
		return -EINVAL;
	}
	most = wait_most(tp);
	if (n > most) {
		/* It would never be served, and every request behind it would wait for it. */
		POOL_LOG(ERR, "%s: %u mbufs asked for, more than the pool can ever hold (%" PRIu64
			")", tp->name, n, most);
		return -EINVAL;
	}
	return 0;
}

/*
 * Whether this is a secondary process, refused with ENOTSUP (logged, in @p fn's name): the
 * queue is served by the primary's control thread, which can call back and wake callers of
 * its own process only, and a secondary's registry, where the calls find a pool, is empty
 * (the primary's pools are in its directory only).
 */
static bool
wait_secondary_refuses(const char *fn)
{
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		return false;
	POOL_REFUSE(ERR, ENOTSUP, "%s() in a secondary process: only the primary's control "
		"thread serves requests at a pool's wall, for callers of its own", fn);
	return true;
}

/* Serve at once when nobody waits (an allocation that may grow the pool). */
static bool
wait_immediate_locked(struct tide_pool *tp, struct rte_mbuf **m, unsigned int n)
{
	return TAILQ_EMPTY(&tp->waiters) && rte_pktmbuf_alloc_bulk(tp->mp, m, n) == 0;
}

int
tide_pool_alloc_wait(struct rte_mempool *mp, struct rte_mbuf **m, unsigned int n,
	uint64_t timeout_us, uint64_t *ticket)
{
	struct pool_waiter w = { .m = m, .n = n };
	struct tide_pool *tp;
	int ret;

	if (wait_secondary_refuses(__func__))
		return -ENOTSUP;
	/* On the control thread it would wait for itself; on a cancelling thread, for a pool
	 * that thread holds, which a free could not cancel requests of.
	 */
	if (pool_ctl_is_self() || wait_cb_depth != 0)
		return POOL_REFUSE(ERR, EDEADLK, "tide_pool_alloc_wait() from a waiter's callback: "
			"the thread running it holds the pool, and the control thread serves the "
			"request");
	tp = pool_hold(mp);

	ret = wait_args_check(tp, m, n);
	if (ret < 0) {
		ret = pool_error(-ret);
		goto out;
	}
	/* Held: a free waits for the hold before it cancels requests (pool_waiters_close()),
	 * so this one is queued before that, and cancelled with the others.
	 */
	pthread_mutex_lock(&tp->wait_lock);
	if (wait_immediate_locked(tp, m, n)) {
		pthread_mutex_unlock(&tp->wait_lock);
		ret = 0;
		goto out;
	}
	pthread_cond_init(&w.cond, NULL);
	wait_enqueue_locked(tp, &w, timeout_us, ticket);
	tp->nb_blocked++;
	/* Counted: a free now waits for this caller to leave instead (pool_waiters_close()),
	 * and must get past the hold first to cancel the request.
	 */
	pool_release(tp);
	/* Served, timed out or cancelled by the control thread (or cancelled by a caller). */
	while (!w.done)
		pthread_cond_wait(&w.cond, &tp->wait_lock);
	if (--tp->nb_blocked == 0)
		pthread_cond_broadcast(&tp->blocked_gone);
	pthread_mutex_unlock(&tp->wait_lock);
	pthread_cond_destroy(&w.cond);
	return w.status < 0 ? pool_error(-w.status) : 0;

out:
	if (tp != NULL)
		pool_release(tp);
	return ret;
}

int
tide_pool_alloc_async(struct rte_mempool *mp, struct rte_mbuf **m, unsigned int n,
	uint64_t timeout_us, tide_pool_wait_cb_t *cb, void *arg, uint64_t *ticket)
{
	struct pool_waiter *w;
	struct tide_pool *tp;
	int ret;

	if (wait_secondary_refuses(__func__))
		return -ENOTSUP;
	tp = pool_hold(mp);
	ret = wait_args_check(tp, m, n);
	if (ret < 0) {
		ret = pool_error(-ret);
		goto out;
	}
	if (cb == NULL) {
		ret = POOL_REFUSE(ERR, EINVAL, "%s: no callback", tp->name);
		goto out;
	}
	/* Held, as in tide_pool_alloc_wait(): a free cancels the request once queued. */
	pthread_mutex_lock(&tp->wait_lock);
	if (wait_immediate_locked(tp, m, n)) {
		pthread_mutex_unlock(&tp->wait_lock);
		ret = 0;
		goto out;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		pthread_mutex_unlock(&tp->wait_lock);
		ret = POOL_REFUSE(ERR, ENOMEM, "%s: no memory to queue a request for %u mbufs",
			tp->name, n);
		goto out;
	}
	w->m = m;
	w->n = n;
	w->cb = cb;
	w->arg = arg;
	wait_enqueue_locked(tp, w, timeout_us, ticket);
	pthread_mutex_unlock(&tp->wait_lock);
	ret = 1;
out:
	/* Queued or not: a free from now on cancels the request itself. */
	if (tp != NULL)
		pool_release(tp);
	return ret;
}

int
tide_pool_wait_cancel(struct rte_mempool *mp, uint64_t ticket)
{
	struct pool_waiter_list done = TAILQ_HEAD_INITIALIZER(done);
	struct pool_waiter *w;
	struct tide_pool *tp;
	int ret = -ENOENT;

	if (wait_secondary_refuses(__func__))
		return -ENOTSUP;
	tp = pool_hold(mp);
	if (tp == NULL)
		return POOL_REFUSE(ERR, EINVAL, "%p is not an elastic pool", (void *)mp);
	pthread_mutex_lock(&tp->wait_lock);
	TAILQ_FOREACH(w, &tp->waiters, next)
		if (w->ticket == ticket) {
			wait_finish_locked(tp, w, -ECANCELED, &done);
			ret = 0;
			break;
		}
	pthread_mutex_unlock(&tp->wait_lock);
	/* Still held: the callbacks get the pool's mempool, not yet freed. */
	wait_run_callbacks(tp, &done, true);
	if (ret < 0)
		ret = POOL_REFUSE(DEBUG, -ret, "%s: no request %" PRIu64 " queued (served or "
			"ended already?)", tp->name, ticket);
	pool_release(tp);
	return ret;
}

/* The pool is going: cancel every request and wait for blocked callers to leave. */
void
pool_waiters_close(struct tide_pool *tp)
{
	struct pool_waiter_list done = TAILQ_HEAD_INITIALIZER(done);
	struct pool_waiter *w;

	pthread_mutex_lock(&tp->wait_lock);
	while ((w = TAILQ_FIRST(&tp->waiters)) != NULL)
		wait_finish_locked(tp, w, -ECANCELED, &done);
	while (tp->nb_blocked > 0)
		pthread_cond_wait(&tp->blocked_gone, &tp->wait_lock);
	pthread_mutex_unlock(&tp->wait_lock);
	wait_run_callbacks(tp, &done, false);
}
