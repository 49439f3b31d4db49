/*
 * Certificate-to-account mapping lookups on a worker thread of their own
 * (a directory search may wait its timeout; IKE must not), with a
 * connection setting of their own (agent_crl_dir, copied at start). The
 * engine's requests queue here; answers come back through an eventfd the
 * service's loop watches. At stop a lookup under way is not waited for:
 * whichever of the loop and the thread lets go last frees everything.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent_int.h"
#include "ike.h"
#include "pa_err.h"

#define CERTMAP_QUEUE	32	/* lookups waiting or done, at most */

struct certmap_item {
	struct certmap_item	*next;
	struct ike_certmap_req	 req;
	struct ike_certmap_ans	 ans;
};

struct agent_certmap {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 thr;
	struct agent_crl_dir	*dir;
	struct certmap_item	*todo, *todo_tail;	/* under mu */
	struct certmap_item	*done;			/* under mu */
	size_t			 n;			/* both lists */
	int			 refs;			/* loop, thread */
	bool			 quit;
	int			 evfd;
};

static void
items_free(struct certmap_item *it)
{
	struct certmap_item *nx;

	for (; it != NULL; it = nx) {
		nx = it->next;
		free(it);
	}
}

static void
certmap_destroy(struct agent_certmap *m)
{
	items_free(m->todo);
	items_free(m->done);
	agent_crl_dir_free(m->dir);
	if (m->evfd >= 0)
		close(m->evfd);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* Drop one reference (under no lock); the last one frees. */
static void
certmap_unref(struct agent_certmap *m)
{
	bool last;

	pthread_mutex_lock(&m->mu);
	last = --m->refs == 0;
	pthread_mutex_unlock(&m->mu);
	if (last)
		certmap_destroy(m);
}

static void *
certmap_thread(void *arg)
{
	struct agent_certmap *m = arg;
	struct certmap_item *it;
	uint64_t one = 1;

	pthread_mutex_lock(&m->mu);
	for (;;) {
		while (!m->quit && m->todo == NULL)
			pthread_cond_wait(&m->cv, &m->mu);
		if (m->quit)
			break;
		it = m->todo;
		if ((m->todo = it->next) == NULL)
			m->todo_tail = NULL;
		pthread_mutex_unlock(&m->mu);
		agent_crl_dir_map(m->dir, &it->req, &it->ans);
		memcpy(it->ans.cky_i, it->req.cky_i, 8);
		memcpy(it->ans.cky_r, it->req.cky_r, 8);
		it->ans.id = it->req.id;
		pthread_mutex_lock(&m->mu);
		it->next = m->done;
		m->done = it;
		(void)!write(m->evfd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&m->mu);
	certmap_unref(m);
	return NULL;
}

struct agent_certmap *
agent_certmap_new(struct agent_crl_dir *dir)
{
	struct agent_certmap *m;

	if (dir == NULL || (m = calloc(1, sizeof(*m))) == NULL) {
		agent_crl_dir_free(dir);
		return NULL;
	}
	m->evfd = -1;
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		agent_crl_dir_free(dir);
		free(m);
		return NULL;
	}
	if (pthread_cond_init(&m->cv, NULL) != 0) {
		agent_crl_dir_free(dir);
		pthread_mutex_destroy(&m->mu);
		free(m);
		return NULL;
	}
	m->dir = dir;
	if ((m->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		certmap_destroy(m);
		return NULL;
	}
	m->refs = 2;
	if (pthread_create(&m->thr, NULL, certmap_thread, m) != 0) {
		certmap_destroy(m);
		return NULL;
	}
	(void)pthread_detach(m->thr);
	return m;
}

int
agent_certmap_fd(const struct agent_certmap *m)
{
	return m != NULL ? m->evfd : -1;
}

int
agent_certmap_ask(struct agent_certmap *m, const struct ike_certmap_req *r)
{
	struct certmap_item *it;

	if (m == NULL)
		return PA_E_STATE;
	pthread_mutex_lock(&m->mu);
	if (m->n >= CERTMAP_QUEUE) {
		pthread_mutex_unlock(&m->mu);
		return PA_E_AGAIN;
	}
	pthread_mutex_unlock(&m->mu);
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return PA_E_NOMEM;
	it->req = *r;
	pthread_mutex_lock(&m->mu);
	m->n++;
	if (m->todo_tail != NULL)
		m->todo_tail->next = it;
	else
		m->todo = it;
	m->todo_tail = it;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

void
agent_certmap_dispatch(struct agent_certmap *m,
    void (*fn)(void *, const struct ike_certmap_ans *), void *arg)
{
	struct certmap_item *done, *it;
	uint64_t v;

	(void)!read(m->evfd, &v, sizeof(v));
	pthread_mutex_lock(&m->mu);
	done = m->done;
	m->done = NULL;
	for (it = done; it != NULL; it = it->next)
		m->n--;
	pthread_mutex_unlock(&m->mu);
	for (it = done; it != NULL; it = it->next)
		fn(arg, &it->ans);
	items_free(done);
}

void
agent_certmap_free(struct agent_certmap *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->quit = true;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	certmap_unref(m);
}
