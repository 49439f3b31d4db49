/*
 * Kerberos (GSS-API) authentication in the IKE engine: what the event loop
 * around the engine must do. The calls that talk to the KDC run in worker
 * threads (struct ike_gss_async); their results come back on a pollable
 * fd, which the loop watches beside ike_fds().
 *
 *	ike_krb_start(ike);		after ike_new (optional: fetches
 *					our tickets early)
 *	fd = ike_krb_fd(ike);		poll it when >= 0 (it appears once
 *					Kerberos is first used; ask again
 *					each loop turn)
 *	ike_krb_dispatch(ike);		when it is readable
 *	ike_krb_free(ike);		before ike_free
 */
#ifndef PA_IKE_KRB_H
#define PA_IKE_KRB_H

struct ike;

/* Start fetching our tickets if Kerberos is configured. Never blocks. */
void	ike_krb_start(struct ike *);
/* The fd to poll for finished Kerberos jobs, or -1. */
int	ike_krb_fd(const struct ike *);
/* Run what finished Kerberos jobs report. */
void	ike_krb_dispatch(struct ike *);
/* Forget Kerberos state (waits for jobs already running). NULL ok. */
void	ike_krb_free(struct ike *);

#endif
