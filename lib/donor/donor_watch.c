/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * A manager's control thread. It is the parent of every donor: PR_SET_PDEATHSIG fires
 * when the parent *thread* exits, so donors are started here, by a thread that lives as
 * long as the manager, and not by whichever thread asked for memory (a request hands its
 * spawn job over and waits). Donors inherit this thread's CPU affinity, DPDK's control
 * cpuset: their allocation stays off the CPUs of busy lcores where there are others.
 * It also watches every live donor's pidfd: a donor that dies holding memory is reaped,
 * logged and counted here, and its part is kept (hugepages), re-pinned by a new donor
 * (pinned memory) or reported unpinned.
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "donor_private.h"
#include "tide_fault.h"

#define WATCH_EVENTS 16
#define WATCH_KICK 0 /* epoll data of the eventfd; donor ids start at 1 */

int
dn_watch(struct tide_donor_mgr *m, struct dn_part *pt)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = pt->id };
	int err;

	if (pt->pidfd < 0)
		return 0;
	if (TIDE_FAULT(TIDE_FAULT_WATCH))
		err = ENOSPC; /* tests: as when fs.epoll.max_user_watches is used up */
	else if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, pt->pidfd, &ev) == 0)
		return 0;
	else
		err = errno;
	DN_LOG(ERR, "%s: cannot watch donor %d: %s; its death would go unnoticed", m->name,
		(int)pt->pid, strerror(err));
	return -err;
}

void
dn_unwatch(struct tide_donor_mgr *m, struct dn_part *pt)
{
	if (pt->pidfd >= 0 && pt->state != TIDE_DONOR_STATE_OWN)
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, pt->pidfd, NULL);
}

void
dn_spawn_on_thread(struct tide_donor_mgr *m, struct dn_spawn_spec *specs, unsigned int n)
{
	struct dn_spawn_job job = { .specs = specs, .n = n };
	uint64_t one = 1;

	pthread_mutex_lock(&m->lock);
	while (m->job != NULL)
		pthread_cond_wait(&m->cond, &m->lock);
	m->job = &job;
	pthread_mutex_unlock(&m->lock);
	if (write(m->kickfd, &one, sizeof(one)) != sizeof(one))
		DN_LOG(ERR, "%s: cannot wake the control thread", m->name);
	pthread_mutex_lock(&m->lock);
	while (!job.done)
		pthread_cond_wait(&m->cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
}

/* Run the pending spawn job, if any; false once the manager stops. Called unlocked. */
static bool
watch_jobs(struct tide_donor_mgr *m)
{
	struct dn_spawn_job *job;
	bool stop;

	pthread_mutex_lock(&m->lock);
	job = m->job;
	stop = m->stop;
	pthread_mutex_unlock(&m->lock);
	if (job != NULL) {
		for (unsigned int i = 0; i < job->n; i++)
			dn_spawn(m, &job->specs[i]);
		pthread_mutex_lock(&m->lock);
		job->done = true;
		m->job = NULL;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
	}
	return !stop;
}

/* A re-pin succeeded or failed (m->lock held); true when another try is due. */
static bool
watch_repinned_locked(struct tide_donor_mgr *m, struct tide_donor_region *r, struct dn_part *pt,
	int ret)
{
	if (ret == 0) {
		pt->state = TIDE_DONOR_STATE_LIVE;
		pt->id = ++m->next_id;
		pt->repins++;
		pt->repin_tries = 0; /* the next death has its own tries */
		m->st.repins++;
		/* A watch refused is logged; the part stays live (its memory is locked again),
		 * its next death unnoticed. */
		dn_watch(m, pt);
		DN_LOG(NOTICE, "%s: region %" PRIu64 ": %" PRIu64 " bytes of pinned memory locked "
			"again by donor %d", m->name, r->id, pt->bytes, (int)pt->pid);
		return false;
	}
	m->st.repin_failures++;
	if (donor_death_decide(true, true, m->p.max_donors > m->alive ?
			m->p.max_donors - m->alive : 0, pt->repin_tries, DN_MAX_REPINS) ==
			DONOR_DEATH_REPIN) {
		pt->repin_tries++;
		return true;
	}
	pt->state = TIDE_DONOR_STATE_UNPINNED;
	DN_LOG(ERR, "%s: region %" PRIu64 ": %" PRIu64 " bytes of pinned memory stay unlocked "
		"after %u tries to re-pin them; tide_donor_alloc() hands none of it out", m->name,
		r->id, pt->bytes, pt->repin_tries);
	return false;
}

static void
watch_death(struct tide_donor_mgr *m, uint64_t id)
{
	struct tide_donor_region *r = NULL;
	enum donor_death_action act;
	struct dn_part *pt;
	bool again;

	pthread_mutex_lock(&m->lock);
	pt = dn_part_by_id_locked(m, id, &r);
	if (pt == NULL || pt->state != TIDE_DONOR_STATE_LIVE) {
		pthread_mutex_unlock(&m->lock);
		return; /* being freed: its owner reaps it */
	}
	act = dn_part_died_locked(m, r, pt);
	again = act == DONOR_DEATH_REPIN;
	while (again) {
		int ret;

		pthread_mutex_unlock(&m->lock);
		ret = dn_repin(m, r, pt);
		pthread_mutex_lock(&m->lock);
		again = watch_repinned_locked(m, r, pt, ret);
	}
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

void *
dn_watch_main(void *arg)
{
	struct tide_donor_mgr *m = arg;
	struct epoll_event ev[WATCH_EVENTS];
	uint64_t v;

	for (;;) {
		int n = epoll_wait(m->epfd, ev, WATCH_EVENTS, -1);

		if (n < 0 && errno != EINTR) {
			DN_LOG(ERR, "%s: epoll_wait: %s", m->name, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 == WATCH_KICK) {
				if (read(m->kickfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					DN_LOG(ERR, "%s: eventfd: %s", m->name, strerror(errno));
				continue;
			}
			watch_death(m, ev[i].data.u64);
		}
		if (!watch_jobs(m))
			break;
	}
	return NULL;
}
