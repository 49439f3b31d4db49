/*
 * The "xfrm" backend: Linux kernel IPsec over XFRM netlink (libmnl).
 *
 * What is ours: policies with a priority in [XFRM_PRIO_BASE,
 * XFRM_PRIO_BASE + XFRM_PRIO_SPAN) and states with a reqid in
 * XFRM_REQID_BASE's range; nothing else is touched.
 *
 * The kernel tells policies apart by selector, direction and mark, not by
 * priority: two filters with identical selectors (an SA entry over a
 * host-to-host filter) would replace each other. Each of ours carries its
 * filter index in the selector's "user" field, which the kernel compares
 * but never matches packets against, so entries stack by priority as
 * driver.h wants, and a policy names its filter (acquire, settle).
 *
 * Fail-closed: close() removes our states and leaves the policies, whose
 * templates no state serves, so what they protect stays held (outbound:
 * acquires nobody answers) or dropped (inbound) after the process ends.
 * open() reports what a previous instance left (leftover); the new policy
 * replaces those entries in place (XFRM_MSG_UPDPOLICY, atomic), settle()
 * removes the rest, clear() removes everything of ours.
 *
 * Kernel replies and events are read through struct rd: fixed headers
 * are copied out with rd_copy, attributes checked by type and length.
 */
#include <linux/netlink.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "pa_buf.h"
#include "pa_log.h"
#include "pa_secret.h"

#define XFRM_PRIO_BASE		0x50400000U
#define XFRM_PRIO_SPAN		0x00100000U
#define XFRM_PRIO_BYPASS	XFRM_PRIO_BASE
#define XFRM_PRIO_FIRST		(XFRM_PRIO_BASE + 0x10)
#define XFRM_REQID_BASE		0x50000000U
#define XFRM_REQID_MASK		0x00ffffffU
#define XFRM_BUF		8192
#define XFRM_USER_BYPASS	0U	/* sel.user of the IKE bypass */

/* A filter we installed (the kernel deletes by selector + direction). */
struct xfrm_pol {
	struct spd_id		id;
	struct spd_params	p;
	struct xfrm_selector	ksel;
	bool			fwd;	/* tunnel IN: a FWD twin as well */
};

/* An SA we installed, for expire cookies. */
struct xfrm_sa {
	struct sa_id	id;
	uint64_t	cookie;
	uint8_t		kind;	/* XFRM_BYTES_* of its bytes */
};

/* The ipsecmon byte counters an SA's bytes go to. */
enum {
	XFRM_BYTES_CONF_OUT,
	XFRM_BYTES_CONF_IN,
	XFRM_BYTES_AUTH_OUT,
	XFRM_BYTES_AUTH_IN,
	XFRM_BYTES_N
};

struct driver {
	struct driver_cfg	 cfg;
	struct driver_events	 ev;
	void			*cbarg;
	struct mnl_socket	*nl;	/* requests */
	struct mnl_socket	*mc;	/* acquire/expire multicast */
	unsigned		 portid;
	unsigned		 seq;
	struct xfrm_pol		*pols;
	size_t			 npols, cappols;
	struct xfrm_sa		*sas;
	size_t			 nsas, capsas;
	/* Bytes of our SAs that are gone (deleted or hard-expired). */
	uint64_t		 gone_bytes[XFRM_BYTES_N];
	/* States a previous instance left, removed by settle(). */
	struct xfrm_usersa_info	*old_sas;
	size_t			 nold_sas;
};

/* ---- conversions ---- */

static void
xfrm_addr_to(const struct pa_addr *a, xfrm_address_t *x)
{
	memset(x, 0, sizeof(*x));
	memcpy(x, a->a, pa_addr_len(a->family));
}

static void
xfrm_addr_from(const xfrm_address_t *x, uint16_t family, struct pa_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family != AF_INET && family != AF_INET6)
		return;
	a->family = (uint8_t)family;
	memcpy(a->a, x, pa_addr_len(a->family));
}

static uint16_t
xfrm_family(const struct drv_sel *s)
{
	return s->src.addr.family != 0 ? s->src.addr.family :
	    s->dst.addr.family != 0 ? s->dst.addr.family : AF_INET;
}

static void
xfrm_sel_to(const struct drv_sel *s, struct xfrm_selector *k)
{
	memset(k, 0, sizeof(*k));
	k->family = xfrm_family(s);
	xfrm_addr_to(&s->src.addr, &k->saddr);
	xfrm_addr_to(&s->dst.addr, &k->daddr);
	k->prefixlen_s = s->src.addr.family != 0 ? s->src.len : 0;
	k->prefixlen_d = s->dst.addr.family != 0 ? s->dst.len : 0;
	k->proto = s->proto;
	if (s->sport != 0) {
		k->sport = htons(s->sport);
		k->sport_mask = 0xffff;
	}
	if (s->dport != 0) {
		k->dport = htons(s->dport);
		k->dport_mask = 0xffff;
	}
}

static void
xfrm_sel_from(const struct xfrm_selector *k, struct drv_sel *s)
{
	memset(s, 0, sizeof(*s));
	xfrm_addr_from(&k->saddr, k->family, &s->src.addr);
	xfrm_addr_from(&k->daddr, k->family, &s->dst.addr);
	s->src.len = k->prefixlen_s;
	s->dst.len = k->prefixlen_d;
	s->proto = k->proto;
	s->sport = k->sport_mask != 0 ? ntohs(k->sport) : 0;
	s->dport = k->dport_mask != 0 ? ntohs(k->dport) : 0;
}

static uint32_t
xfrm_reqid(uint32_t reqid)
{
	return XFRM_REQID_BASE | (reqid & XFRM_REQID_MASK);
}

static bool
xfrm_reqid_ours(uint32_t k)
{
	return (k & ~XFRM_REQID_MASK) == XFRM_REQID_BASE;
}

static uint32_t
xfrm_prio(uint32_t p)
{
	if (p > XFRM_PRIO_SPAN - 0x11)
		p = XFRM_PRIO_SPAN - 0x11;
	return XFRM_PRIO_FIRST + p;
}

/* ---- netlink ---- */

struct xfrm_reply {
	int	(*cb)(const struct nlmsghdr *, void *);
	void	*arg;
};

static int
xfrm_data_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_reply *r = arg;

	if (r->cb != NULL && r->cb(nlh, r->arg) != 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

/*
 * Send a request (NLM_F_ACK added unless it is a dump) and run cb on the
 * data messages of the answer. Errors from the kernel come back as
 * PA_E_SYS with errno set.
 */
static int
xfrm_talk(struct driver *d, struct nlmsghdr *nlh,
    int (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	char buf[XFRM_BUF];
	struct xfrm_reply r = { cb, arg };
	ssize_t n;
	int rc;

	nlh->nlmsg_seq = ++d->seq;
	/* NLM_F_DUMP is two bits, one shared with NLM_F_EXCL. */
	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len) < 0)
		return PA_E_SYS;
	for (;;) {
		if ((n = mnl_socket_recvfrom(d->nl, buf, sizeof(buf))) <= 0)
			return PA_E_SYS;
		rc = mnl_cb_run(buf, (size_t)n, d->seq, d->portid,
		    xfrm_data_cb, &r);
		if (rc == MNL_CB_STOP)
			return 0;
		if (rc < 0)
			return PA_E_SYS;
	}
}

/* The fixed header of a message, copied out through a reader. */
static int
xfrm_fixed(const struct nlmsghdr *nlh, void *out, size_t len)
{
	struct rd r;

	rd_init(&r, mnl_nlmsg_get_payload(nlh), mnl_nlmsg_get_payload_len(nlh));
	return rd_copy(&r, out, len);
}

/* ---- policies ---- */

static int
xfrm_policy_msg(struct driver *d, bool add, const struct xfrm_selector *ksel,
    uint8_t dir, const struct spd_params *p, uint32_t prio)
{
	char buf[XFRM_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_userpolicy_info *pi;
	struct xfrm_userpolicy_id *pid;
	struct xfrm_user_tmpl t[2];
	size_t nt = 0, i;
	bool esp, ah;

	if (!add) {
		nlh->nlmsg_type = XFRM_MSG_DELPOLICY;
		nlh->nlmsg_flags = NLM_F_REQUEST;
		pid = mnl_nlmsg_put_extra_header(nlh, sizeof(*pid));
		pid->sel = *ksel;
		pid->dir = dir;
		return xfrm_talk(d, nlh, NULL, NULL);
	}
	/* UPD: a previous instance's entry with this selector is replaced in
	 * one step (ours are told apart by sel.user, see the top). */
	nlh->nlmsg_type = XFRM_MSG_UPDPOLICY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE;
	pi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pi));
	pi->sel = *ksel;
	pi->lft.soft_byte_limit = pi->lft.hard_byte_limit = XFRM_INF;
	pi->lft.soft_packet_limit = pi->lft.hard_packet_limit = XFRM_INF;
	pi->priority = prio;
	pi->dir = dir;
	pi->action = p->action == DRV_ACT_BLOCK ? XFRM_POLICY_BLOCK :
	    XFRM_POLICY_ALLOW;
	if (p->action != DRV_ACT_PROTECT)
		return xfrm_talk(d, nlh, NULL, NULL);
	/* Templates, innermost first: ESP, then AH around it. */
	esp = p->want_esp || !p->want_ah;
	ah = p->want_ah;
	memset(t, 0, sizeof(t));
	for (i = 0; i < 2; i++) {
		if ((i == 0 && !esp) || (i == 1 && !ah))
			continue;
		t[nt].id.proto = i == 0 ? IPPROTO_ESP : IPPROTO_AH;
		t[nt].family = ksel->family;
		/* A filter's reqid 0 is no state's (XFRM_REQID_BASE): its
		 * packets raise an acquire unless an SA entry wins. */
		t[nt].reqid = xfrm_reqid(p->reqid);
		t[nt].aalgos = t[nt].ealgos = t[nt].calgos = ~0U;
		/* AH over ESP in tunnel mode: AH is transport outside. An
		 * unset side is ours: zero, the kernel takes the address of
		 * the route towards the peer (out) or any (in). */
		if (p->mode == DRV_MODE_TUNNEL && !(i == 1 && esp)) {
			t[nt].mode = XFRM_MODE_TUNNEL;
			t[nt].family = p->tunnel_dst.family != 0 ?
			    p->tunnel_dst.family : p->tunnel_src.family;
			if (p->tunnel_dst.family != 0)
				xfrm_addr_to(&p->tunnel_dst, &t[nt].id.daddr);
			if (p->tunnel_src.family != 0)
				xfrm_addr_to(&p->tunnel_src, &t[nt].saddr);
		} else
			t[nt].mode = XFRM_MODE_TRANSPORT;
		/* inpass: clear text is accepted on the way in. */
		t[nt].optional = dir != XFRM_POLICY_OUT && p->inpass;
		nt++;
	}
	mnl_attr_put(nlh, XFRMA_TMPL, nt * sizeof(t[0]), t);
	return xfrm_talk(d, nlh, NULL, NULL);
}

static uint8_t
xfrm_dir(enum drv_dir dir)
{
	return dir == DRV_DIR_OUT ? XFRM_POLICY_OUT : XFRM_POLICY_IN;
}

static int
xfrm_policy_add(struct driver *d, const struct spd_id *id,
    const struct spd_params *p)
{
	struct xfrm_pol *pol;
	size_t i;
	int rc;

	/* Tunnel: the peer's side is needed, ours may be unset (driver.h). */
	if ((id->dir != DRV_DIR_OUT && id->dir != DRV_DIR_IN) ||
	    id->index == XFRM_USER_BYPASS ||
	    p->action < DRV_ACT_PERMIT || p->action > DRV_ACT_PROTECT ||
	    (p->action == DRV_ACT_PROTECT && p->mode == DRV_MODE_TUNNEL &&
	    (id->dir == DRV_DIR_OUT ? p->tunnel_dst.family == 0 :
	    p->tunnel_src.family == 0)) ||
	    (p->action == DRV_ACT_PROTECT && p->mode == DRV_MODE_TUNNEL &&
	    p->tunnel_dst.family != 0 && p->tunnel_src.family != 0 &&
	    p->tunnel_dst.family != p->tunnel_src.family))
		return PA_E_INVAL;
	for (i = 0; i < d->npols; i++)
		if (d->pols[i].id.index == id->index &&
		    d->pols[i].id.dir == id->dir)
			return PA_E_EXIST;
	if (d->npols == d->cappols) {
		size_t ncap = d->cappols == 0 ? 16 : d->cappols * 2;
		struct xfrm_pol *np;

		if ((np = reallocarray(d->pols, ncap, sizeof(*np))) == NULL)
			return PA_E_NOMEM;
		d->pols = np;
		d->cappols = ncap;
	}
	pol = &d->pols[d->npols];
	memset(pol, 0, sizeof(*pol));
	pol->id = *id;
	pol->p = *p;
	xfrm_sel_to(&p->sel, &pol->ksel);
	pol->ksel.user = id->index;
	if ((rc = xfrm_policy_msg(d, true, &pol->ksel, xfrm_dir(id->dir), p,
	    xfrm_prio(p->priority))) != 0)
		return errno == EEXIST ? PA_E_EXIST : rc;
	/* Tunnel mode: what we decrypt for others is forwarded. */
	if (id->dir == DRV_DIR_IN && p->action == DRV_ACT_PROTECT &&
	    p->mode == DRV_MODE_TUNNEL) {
		if ((rc = xfrm_policy_msg(d, true, &pol->ksel,
		    XFRM_POLICY_FWD, p, xfrm_prio(p->priority))) != 0) {
			if (xfrm_policy_msg(d, false, &pol->ksel,
			    xfrm_dir(id->dir), p, 0) != 0)
				log_warn("xfrm: undoing a policy");
			return rc;
		}
		pol->fwd = true;
	}
	d->npols++;
	return 0;
}

static int
xfrm_policy_del(struct driver *d, const struct spd_id *id)
{
	struct xfrm_pol *pol;
	size_t i;
	int rc;

	for (i = 0; i < d->npols; i++)
		if (d->pols[i].id.index == id->index &&
		    d->pols[i].id.dir == id->dir)
			break;
	if (i == d->npols)
		return PA_E_NOENT;
	pol = &d->pols[i];
	rc = xfrm_policy_msg(d, false, &pol->ksel, xfrm_dir(id->dir), &pol->p,
	    0);
	if (rc != 0)
		log_warn("%s: in/out", __func__);
	if (pol->fwd && xfrm_policy_msg(d, false, &pol->ksel, XFRM_POLICY_FWD,
	    &pol->p, 0) != 0 && rc == 0) {
		log_warn("%s: fwd", __func__);
		rc = PA_E_SYS;
	}
	memmove(pol, pol + 1, (d->npols - i - 1) * sizeof(*pol));
	d->npols--;
	return rc != 0 && errno == ENOENT ? PA_E_NOENT : rc;
}

/* One bypass policy: UDP/TCP with a source or destination port. */
static int
xfrm_bypass_one(struct driver *d, uint16_t family, uint8_t proto,
    uint8_t dir, uint16_t sport, uint16_t dport)
{
	struct spd_params p;
	struct xfrm_selector k;
	int rc;

	memset(&p, 0, sizeof(p));
	p.action = DRV_ACT_PERMIT;
	memset(&k, 0, sizeof(k));
	k.family = family;
	k.proto = proto;
	k.user = XFRM_USER_BYPASS;
	if (sport != 0) {
		k.sport = htons(sport);
		k.sport_mask = 0xffff;
	}
	if (dport != 0) {
		k.dport = htons(dport);
		k.dport_mask = 0xffff;
	}
	rc = xfrm_policy_msg(d, true, &k, dir, &p, XFRM_PRIO_BYPASS);
	return rc != 0 && errno != EEXIST ? rc : 0;
}

/* IKE must pass in clear whatever the other policies say. */
static int
xfrm_bypass(struct driver *d)
{
	static const uint16_t fams[] = { AF_INET, AF_INET6 };
	uint16_t ports[2] = { d->cfg.ike_port, d->cfg.natt_port };
	struct spd_params p;
	struct xfrm_selector k;
	size_t f, i, dir;
	int rc;

	memset(&p, 0, sizeof(p));
	p.action = DRV_ACT_PERMIT;
	for (f = 0; f < 2; f++)
		for (i = 0; i < 2; i++)
			for (dir = 0; dir < 2; dir++) {
				memset(&k, 0, sizeof(k));
				k.family = fams[f];
				k.proto = IPPROTO_UDP;
				/* Out: from our port; in: to our port. */
				if (dir == 0) {
					k.sport = htons(ports[i]);
					k.sport_mask = 0xffff;
				} else {
					k.dport = htons(ports[i]);
					k.dport_mask = 0xffff;
				}
				rc = xfrm_policy_msg(d, true, &k, dir == 0 ?
				    XFRM_POLICY_OUT : XFRM_POLICY_IN, &p,
				    XFRM_PRIO_BYPASS);
				if (rc != 0 && errno != EEXIST)
					return rc;
			}
	/* Kerberos (UDP and TCP 88), as client and as KDC, both ways. */
	if (!d->cfg.exempt_kerberos)
		return 0;
	for (f = 0; f < 2; f++)
		for (i = 0; i < 2; i++)
			for (dir = 0; dir < 2; dir++) {
				uint8_t kd = dir == 0 ? XFRM_POLICY_OUT :
				    XFRM_POLICY_IN;
				uint8_t pr = i == 0 ? IPPROTO_UDP :
				    IPPROTO_TCP;

				if ((rc = xfrm_bypass_one(d, fams[f], pr, kd,
				    88, 0)) != 0 ||
				    (rc = xfrm_bypass_one(d, fams[f], pr, kd,
				    0, 88)) != 0)
					return rc;
			}
	return 0;
}

/* ---- what is ours in the kernel: dumps, removal ---- */

struct xfrm_victims {
	struct xfrm_userpolicy_id	*pols;
	size_t				 npols, cappols;
	struct xfrm_usersa_info		*sas;	/* fixed part only */
	size_t				 nsas, capsas;
};

static void
xfrm_victims_free(struct xfrm_victims *v)
{
	free(v->pols);
	free(v->sas);
	memset(v, 0, sizeof(*v));
}

static int
xfrm_dump_pol_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_victims *v = arg;
	struct xfrm_userpolicy_info pi;
	void *np;

	if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY ||
	    xfrm_fixed(nlh, &pi, sizeof(pi)) != 0)
		return 0;
	if (pi.priority < XFRM_PRIO_BASE ||
	    pi.priority >= XFRM_PRIO_BASE + XFRM_PRIO_SPAN)
		return 0;
	if (v->npols == v->cappols) {
		size_t ncap = v->cappols == 0 ? 32 : v->cappols * 2;

		if ((np = reallocarray(v->pols, ncap, sizeof(*v->pols))) ==
		    NULL)
			return -1;
		v->pols = np;
		v->cappols = ncap;
	}
	memset(&v->pols[v->npols], 0, sizeof(v->pols[0]));
	v->pols[v->npols].sel = pi.sel;
	v->pols[v->npols].index = pi.index;
	v->pols[v->npols].dir = pi.dir;
	v->npols++;
	return 0;
}

static int
xfrm_dump_sa_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_victims *v = arg;
	struct xfrm_usersa_info si;
	void *np;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA ||
	    xfrm_fixed(nlh, &si, sizeof(si)) != 0 || !xfrm_reqid_ours(si.reqid))
		return 0;
	if (v->nsas == v->capsas) {
		size_t ncap = v->capsas == 0 ? 32 : v->capsas * 2;

		if ((np = reallocarray(v->sas, ncap, sizeof(*v->sas))) == NULL)
			return -1;
		v->sas = np;
		v->capsas = ncap;
	}
	v->sas[v->nsas++] = si;
	return 0;
}

/* Our policies (pols) and states (sas) in the kernel now. */
static int
xfrm_dump_ours(struct driver *d, struct xfrm_victims *v, bool pols,
    bool sas)
{
	char buf[XFRM_BUF];
	struct nlmsghdr *nlh;
	int rc;

	memset(v, 0, sizeof(*v));
	if (pols) {
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = XFRM_MSG_GETPOLICY;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		if ((rc = xfrm_talk(d, nlh, xfrm_dump_pol_cb, v)) != 0)
			goto fail;
	}
	if (sas) {
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = XFRM_MSG_GETSA;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		if ((rc = xfrm_talk(d, nlh, xfrm_dump_sa_cb, v)) != 0)
			goto fail;
	}
	return 0;
fail:
	xfrm_victims_free(v);
	return rc;
}

/* Delete one policy by selector (with our tag) and direction. */
static int
xfrm_del_pol(struct driver *d, const struct xfrm_userpolicy_id *id)
{
	char buf[XFRM_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_userpolicy_id *pid;
	int rc;

	nlh->nlmsg_type = XFRM_MSG_DELPOLICY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	pid = mnl_nlmsg_put_extra_header(nlh, sizeof(*pid));
	*pid = *id;
	pid->index = 0;		/* by selector: an index may be reused */
	if ((rc = xfrm_talk(d, nlh, NULL, NULL)) != 0 && errno == ENOENT)
		return 0;
	return rc;
}

struct xfrm_spi_reply {
	uint32_t	spi;
	bool		got;
};

static int
xfrm_spi_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_spi_reply *r = arg;
	struct xfrm_usersa_info si;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA ||
	    xfrm_fixed(nlh, &si, sizeof(si)) != 0)
		return 0;
	r->spi = ntohl(si.id.spi);
	r->got = true;
	return 0;
}

/*
 * Delete one state; larval (acquire) states may vanish meanwhile. A
 * larval state of an acquire has SPI 0 and cannot be named by DELSA (the
 * kernel looks states up by SPI): ALLOCSPI with its addresses, protocol,
 * mode and reqid gives that very state an SPI first.
 */
static int
xfrm_del_sa(struct driver *d, const struct xfrm_usersa_info *si)
{
	char buf[XFRM_BUF];
	struct nlmsghdr *nlh;
	struct xfrm_usersa_id *sid;
	uint32_t spi = si->id.spi;
	int rc;

	if (spi == 0) {
		struct xfrm_userspi_info *ui;
		struct xfrm_spi_reply r = { 0, false };

		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = XFRM_MSG_ALLOCSPI;
		nlh->nlmsg_flags = NLM_F_REQUEST;
		ui = mnl_nlmsg_put_extra_header(nlh, sizeof(*ui));
		ui->info.family = si->family;
		ui->info.id.daddr = si->id.daddr;
		ui->info.id.proto = si->id.proto;
		ui->info.saddr = si->saddr;
		ui->info.reqid = si->reqid;
		ui->info.mode = si->mode;
		ui->min = 0x100;
		ui->max = 0xffffffff;
		if ((rc = xfrm_talk(d, nlh, xfrm_spi_cb, &r)) != 0 || !r.got)
			return 0;	/* gone meanwhile */
		spi = htonl(r.spi);
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = XFRM_MSG_DELSA;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	sid = mnl_nlmsg_put_extra_header(nlh, sizeof(*sid));
	memset(sid, 0, sizeof(*sid));
	sid->daddr = si->id.daddr;
	sid->spi = spi;
	sid->family = si->family;
	sid->proto = si->id.proto;
	if ((rc = xfrm_talk(d, nlh, NULL, NULL)) != 0 &&
	    (errno == ENOENT || errno == ESRCH))
		return 0;
	return rc;
}

/* Everything in our priority and reqid ranges, any instance's. */
static int
xfrm_flush_ours(struct driver *d, bool pols)
{
	struct xfrm_victims v;
	size_t i;
	int rc, r;

	if ((rc = xfrm_dump_ours(d, &v, pols, true)) != 0)
		return rc;
	for (i = 0; i < v.npols; i++)
		if ((r = xfrm_del_pol(d, &v.pols[i])) != 0)
			rc = r;
	for (i = 0; i < v.nsas; i++)
		if ((r = xfrm_del_sa(d, &v.sas[i])) != 0)
			rc = r;
	xfrm_victims_free(&v);
	return rc;
}

static int
xfrm_flush(struct driver *d)
{
	int rc = xfrm_flush_ours(d, true);

	d->npols = 0;
	d->nsas = 0;
	/* The IKE bypass stays for as long as we are open. */
	if (rc == 0)
		rc = xfrm_bypass(d);
	return rc;
}

/* Is this kernel policy one this instance installed (or the bypass)? */
static bool
xfrm_pol_current(const struct driver *d, const struct xfrm_userpolicy_id *k)
{
	size_t i;

	if (k->sel.user == XFRM_USER_BYPASS)
		return true;
	for (i = 0; i < d->npols; i++) {
		const struct xfrm_pol *pol = &d->pols[i];

		if (memcmp(&pol->ksel, &k->sel, sizeof(k->sel)) != 0)
			continue;
		if (k->dir == xfrm_dir(pol->id.dir) ||
		    (pol->fwd && k->dir == XFRM_POLICY_FWD))
			return true;
	}
	return false;
}

/* What a previous instance left: reported at open, removed by settle. */
static int
xfrm_find_leftovers(struct driver *d)
{
	struct xfrm_victims v;
	char what[160];
	size_t i, npols = 0;
	int rc;

	if ((rc = xfrm_dump_ours(d, &v, true, true)) != 0)
		return rc;
	for (i = 0; i < v.npols; i++)
		if (v.pols[i].sel.user != XFRM_USER_BYPASS)
			npols++;
	if (npols > 0 || v.nsas > 0) {
		snprintf(what, sizeof(what), "xfrm: %zu policies and %zu "
		    "states of a previous instance", npols, v.nsas);
		log_info("%s: kept until the new policy is in", what);
		if (d->ev.leftover != NULL)
			d->ev.leftover(d->cbarg, what);
	}
	d->old_sas = v.sas;
	d->nold_sas = v.nsas;
	free(v.pols);
	return 0;
}

/* ---- states ---- */

static int
xfrm_spi_alloc(struct driver *d, const struct sa_id *id, uint32_t *spi)
{
	char buf[XFRM_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_userspi_info *si;
	struct xfrm_spi_reply r = { 0, false };
	int rc;

	if (id->dst.family != AF_INET && id->dst.family != AF_INET6)
		return PA_E_INVAL;
	nlh->nlmsg_type = XFRM_MSG_ALLOCSPI;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	si = mnl_nlmsg_put_extra_header(nlh, sizeof(*si));
	si->info.family = id->dst.family;
	xfrm_addr_to(&id->dst, &si->info.id.daddr);
	xfrm_addr_to(&id->src, &si->info.saddr);
	si->info.id.proto = id->proto;
	si->info.reqid = xfrm_reqid(0);
	si->info.mode = XFRM_MODE_TRANSPORT;
	si->info.lft.soft_byte_limit = si->info.lft.hard_byte_limit = XFRM_INF;
	si->info.lft.soft_packet_limit = XFRM_INF;
	si->info.lft.hard_packet_limit = XFRM_INF;
	si->min = 0x100;
	si->max = 0xffffffff;
	if ((rc = xfrm_talk(d, nlh, xfrm_spi_cb, &r)) != 0)
		return rc;
	if (!r.got)
		return PA_E_FORMAT;
	*spi = r.spi;
	return 0;
}

static const char *
xfrm_enc_name(enum drv_enc e)
{
	switch (e) {
	case DRV_ENC_NONE: return "ecb(cipher_null)";
	case DRV_ENC_DES_CBC: return "cbc(des)";
	case DRV_ENC_3DES_CBC: return "cbc(des3_ede)";
	case DRV_ENC_AES_CBC: return "cbc(aes)";
	case DRV_ENC_AES_GCM_16: return "rfc4106(gcm(aes))";
	}
	return NULL;
}

static const char *
xfrm_auth_name(enum drv_auth a, unsigned *trunc)
{
	switch (a) {
	case DRV_AUTH_HMAC_MD5_96: *trunc = 96; return "hmac(md5)";
	case DRV_AUTH_HMAC_SHA1_96: *trunc = 96; return "hmac(sha1)";
	case DRV_AUTH_HMAC_SHA256_128: *trunc = 128; return "hmac(sha256)";
	case DRV_AUTH_NONE: break;
	}
	return NULL;
}

static int
xfrm_sa_msg(struct driver *d, uint16_t type, const struct sa_id *id,
    const struct sa_params *p)
{
	char *buf;
	struct nlmsghdr *nlh;
	struct xfrm_usersa_info *si;
	union {
		struct xfrm_algo	enc;
		struct xfrm_algo_auth	auth;
		struct xfrm_algo_aead	aead;
		uint8_t			raw[sizeof(struct xfrm_algo_auth) + 64];
	} alg;
	const char *name;
	unsigned trunc = 0;
	uint32_t win;
	int rc;

	if ((buf = calloc(1, XFRM_BUF)) == NULL)
		return PA_E_NOMEM;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | (type == XFRM_MSG_NEWSA ?
	    NLM_F_CREATE | NLM_F_EXCL : 0);
	si = mnl_nlmsg_put_extra_header(nlh, sizeof(*si));
	si->family = id->dst.family;
	xfrm_addr_to(&id->dst, &si->id.daddr);
	xfrm_addr_to(&id->src, &si->saddr);
	si->id.spi = htonl(id->spi);
	si->id.proto = id->proto;
	si->reqid = xfrm_reqid(p->reqid);
	si->mode = p->mode == DRV_MODE_TUNNEL ? XFRM_MODE_TUNNEL :
	    XFRM_MODE_TRANSPORT;
	xfrm_sel_to(&p->sel, &si->sel);
	if (p->sel.src.addr.family == 0 && p->sel.dst.addr.family == 0)
		si->sel.family = 0;	/* any */
	si->lft.soft_byte_limit = p->life.soft_bytes ? p->life.soft_bytes :
	    XFRM_INF;
	si->lft.hard_byte_limit = p->life.hard_bytes ? p->life.hard_bytes :
	    XFRM_INF;
	si->lft.soft_packet_limit = si->lft.hard_packet_limit = XFRM_INF;
	si->lft.soft_add_expires_seconds = p->life.soft_sec;
	si->lft.hard_add_expires_seconds = p->life.hard_sec;
	si->lft.hard_use_expires_seconds = p->life.idle_sec;
	if (p->enc_key_len > 64 || p->auth_key_len > 64) {
		free(buf);
		return PA_E_INVAL;
	}
	if (p->enc == DRV_ENC_AES_GCM_16) {
		memset(&alg, 0, sizeof(alg));
		snprintf(alg.aead.alg_name, sizeof(alg.aead.alg_name), "%s",
		    xfrm_enc_name(p->enc));
		alg.aead.alg_key_len = (unsigned)p->enc_key_len * 8;
		alg.aead.alg_icv_len = 128;
		memcpy(&alg.raw[sizeof(alg.aead)], p->enc_key, p->enc_key_len);
		mnl_attr_put(nlh, XFRMA_ALG_AEAD,
		    sizeof(alg.aead) + p->enc_key_len, alg.raw);
	} else if (id->proto == DRV_PROTO_ESP) {
		memset(&alg, 0, sizeof(alg));
		snprintf(alg.enc.alg_name, sizeof(alg.enc.alg_name), "%s",
		    xfrm_enc_name(p->enc));
		alg.enc.alg_key_len = (unsigned)p->enc_key_len * 8;
		memcpy(&alg.raw[sizeof(alg.enc)], p->enc_key, p->enc_key_len);
		mnl_attr_put(nlh, XFRMA_ALG_CRYPT,
		    sizeof(alg.enc) + p->enc_key_len, alg.raw);
	}
	if ((name = xfrm_auth_name(p->auth, &trunc)) != NULL) {
		memset(&alg, 0, sizeof(alg));
		snprintf(alg.auth.alg_name, sizeof(alg.auth.alg_name), "%s",
		    name);
		alg.auth.alg_key_len = (unsigned)p->auth_key_len * 8;
		alg.auth.alg_trunc_len = trunc;
		memcpy(&alg.raw[sizeof(alg.auth)], p->auth_key,
		    p->auth_key_len);
		mnl_attr_put(nlh, XFRMA_ALG_AUTH_TRUNC,
		    sizeof(alg.auth) + p->auth_key_len, alg.raw);
	}
	pa_wipe(&alg, sizeof(alg));
	if (p->encap_dport != 0) {
		struct xfrm_encap_tmpl e;

		memset(&e, 0, sizeof(e));
		e.encap_type = UDP_ENCAP_ESPINUDP;
		e.encap_sport = htons(p->encap_sport);
		e.encap_dport = htons(p->encap_dport);
		mnl_attr_put(nlh, XFRMA_ENCAP, sizeof(e), &e);
	}
	if (p->replay_window != 0) {
		union {
			struct xfrm_replay_state_esn	re;
			uint8_t	raw[sizeof(struct xfrm_replay_state_esn) +
			    XFRMA_REPLAY_ESN_MAX / 8];
		} rb;
		struct xfrm_replay_state_esn *re = &rb.re;

		win = p->replay_window < 1024 ? 1024 : p->replay_window;
		if (win > XFRMA_REPLAY_ESN_MAX)
			win = XFRMA_REPLAY_ESN_MAX;
		memset(&rb, 0, sizeof(rb));
		re->replay_window = win;
		re->bmp_len = win / 32;
		mnl_attr_put(nlh, XFRMA_REPLAY_ESN_VAL,
		    sizeof(*re) + re->bmp_len * 4, rb.raw);
	}
	rc = xfrm_talk(d, nlh, NULL, NULL);
	pa_wipe(buf, XFRM_BUF);
	free(buf);
	return rc;
}

static ssize_t
xfrm_sa_index(const struct driver *d, const struct sa_id *id)
{
	size_t i;

	for (i = 0; i < d->nsas; i++)
		if (d->sas[i].id.spi == id->spi &&
		    d->sas[i].id.proto == id->proto &&
		    pa_addr_eq(&d->sas[i].id.dst, &id->dst))
			return (ssize_t)i;
	return -1;
}

static int
xfrm_sa_add(struct driver *d, const struct sa_id *id,
    const struct sa_params *p)
{
	int rc;

	if ((id->proto != DRV_PROTO_ESP && id->proto != DRV_PROTO_AH) ||
	    id->dst.family != id->src.family ||
	    (id->dst.family != AF_INET && id->dst.family != AF_INET6) ||
	    xfrm_enc_name(p->enc) == NULL ||
	    (id->proto == DRV_PROTO_AH && p->auth == DRV_AUTH_NONE))
		return PA_E_INVAL;
	if (xfrm_sa_index(d, id) >= 0)
		return PA_E_EXIST;
	if (d->nsas == d->capsas) {
		size_t ncap = d->capsas == 0 ? 16 : d->capsas * 2;
		struct xfrm_sa *ns;

		if ((ns = reallocarray(d->sas, ncap, sizeof(*ns))) == NULL)
			return PA_E_NOMEM;
		d->sas = ns;
		d->capsas = ncap;
	}
	/* An SPI from ALLOCSPI is a larval state: update it. */
	rc = xfrm_sa_msg(d, XFRM_MSG_NEWSA, id, p);
	if (rc != 0 && errno == EEXIST)
		rc = xfrm_sa_msg(d, XFRM_MSG_UPDSA, id, p);
	if (rc != 0) {
		/* No such transform in this kernel (e.g. no ESP). */
		if (errno == EPROTONOSUPPORT || errno == ENOSYS ||
		    errno == ENOENT)
			return PA_E_NOTSUP;
		return rc;
	}
	d->sas[d->nsas].id = *id;
	d->sas[d->nsas].cookie = p->cookie;
	d->sas[d->nsas].kind = (uint8_t)((id->proto == DRV_PROTO_ESP &&
	    p->enc != DRV_ENC_NONE ? XFRM_BYTES_CONF_OUT :
	    XFRM_BYTES_AUTH_OUT) + (p->inbound ? 1 : 0));
	d->nsas++;
	return 0;
}

static void
xfrm_said(const struct sa_id *id, struct xfrm_usersa_id *k)
{
	memset(k, 0, sizeof(*k));
	xfrm_addr_to(&id->dst, &k->daddr);
	k->spi = htonl(id->spi);
	k->family = id->dst.family;
	k->proto = id->proto;
}

static int	xfrm_sa_query(struct driver *, const struct sa_id *,
		    struct sa_stats *);

static int
xfrm_sa_del(struct driver *d, const struct sa_id *id)
{
	char buf[XFRM_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_usersa_id *k;
	struct sa_stats st;
	ssize_t i;
	int rc;

	if ((i = xfrm_sa_index(d, id)) >= 0 &&
	    xfrm_sa_query(d, id, &st) == 0)
		d->gone_bytes[d->sas[i].kind] += st.bytes;
	nlh->nlmsg_type = XFRM_MSG_DELSA;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	k = mnl_nlmsg_put_extra_header(nlh, sizeof(*k));
	xfrm_said(id, k);
	rc = xfrm_talk(d, nlh, NULL, NULL);
	if (i >= 0) {
		memmove(&d->sas[i], &d->sas[i + 1],
		    (d->nsas - (size_t)i - 1) * sizeof(d->sas[0]));
		d->nsas--;
	}
	/* A missing state: ESRCH from the kernel (ENOENT from older). */
	return rc != 0 && (errno == ENOENT || errno == ESRCH) ? PA_E_NOENT :
	    rc;
}

static int
xfrm_query_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct sa_stats *st = arg;
	struct xfrm_usersa_info si;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA ||
	    xfrm_fixed(nlh, &si, sizeof(si)) != 0)
		return 0;
	st->bytes = si.curlft.bytes;
	st->packets = si.curlft.packets;
	st->add_time = si.curlft.add_time;
	st->use_time = si.curlft.use_time;
	st->replay_drops = si.stats.replay;
	st->auth_drops = si.stats.integrity_failed;
	return 0;
}

static int
xfrm_sa_query(struct driver *d, const struct sa_id *id, struct sa_stats *st)
{
	char buf[XFRM_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_usersa_id *k;
	int rc;

	memset(st, 0, sizeof(*st));
	nlh->nlmsg_type = XFRM_MSG_GETSA;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	k = mnl_nlmsg_put_extra_header(nlh, sizeof(*k));
	xfrm_said(id, k);
	rc = xfrm_talk(d, nlh, xfrm_query_cb, st);
	return rc != 0 && (errno == ENOENT || errno == ESRCH) ? PA_E_NOENT :
	    rc;
}

/* ---- events ---- */

static int
xfrm_tmpl_attr_cb(const struct nlattr *a, void *arg)
{
	uint32_t *reqid = arg;
	struct xfrm_user_tmpl t;
	struct rd r;

	if (mnl_attr_type_valid(a, XFRMA_MAX) < 0 ||
	    mnl_attr_get_type(a) != XFRMA_TMPL)
		return MNL_CB_OK;
	rd_init(&r, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
	if (rd_copy(&r, &t, sizeof(t)) == 0)
		*reqid = t.reqid;
	return MNL_CB_OK;
}

static void
xfrm_on_acquire(struct driver *d, const struct nlmsghdr *nlh)
{
	struct xfrm_user_acquire ua;
	struct drv_sel pkt;
	struct spd_id none = { 0, DRV_DIR_OUT };
	const struct spd_id *sid = &none;
	uint32_t kreqid = 0, reqid = 0;
	size_t i;

	if (xfrm_fixed(nlh, &ua, sizeof(ua)) != 0)
		return;
	(void)mnl_attr_parse(nlh, sizeof(ua), xfrm_tmpl_attr_cb, &kreqid);
	xfrm_sel_from(&ua.sel, &pkt);
	/* The policy names its filter in sel.user (see the top). */
	for (i = 0; i < d->npols; i++) {
		if (xfrm_dir(d->pols[i].id.dir) == ua.policy.dir &&
		    d->pols[i].id.index == ua.policy.sel.user &&
		    memcmp(&d->pols[i].ksel, &ua.policy.sel,
		    sizeof(ua.policy.sel)) == 0) {
			sid = &d->pols[i].id;
			reqid = d->pols[i].p.reqid;
			break;
		}
	}
	if (sid == &none)
		reqid = kreqid & XFRM_REQID_MASK;
	if (d->ev.acquire != NULL)
		d->ev.acquire(d->cbarg, sid, &pkt, reqid);
}

static void
xfrm_on_expire(struct driver *d, const struct nlmsghdr *nlh)
{
	struct xfrm_user_expire ue;
	struct sa_id id;
	uint64_t cookie = 0;
	ssize_t i;

	if (xfrm_fixed(nlh, &ue, sizeof(ue)) != 0 ||
	    !xfrm_reqid_ours(ue.state.reqid))
		return;
	memset(&id, 0, sizeof(id));
	xfrm_addr_from(&ue.state.id.daddr, ue.state.family, &id.dst);
	xfrm_addr_from(&ue.state.saddr, ue.state.family, &id.src);
	id.proto = ue.state.id.proto;
	id.spi = ntohl(ue.state.id.spi);
	if ((i = xfrm_sa_index(d, &id)) >= 0) {
		cookie = d->sas[i].cookie;
		if (ue.hard) {
			d->gone_bytes[d->sas[i].kind] += ue.state.curlft.bytes;
			memmove(&d->sas[i], &d->sas[i + 1],
			    (d->nsas - (size_t)i - 1) * sizeof(d->sas[0]));
			d->nsas--;
		}
	}
	if (d->ev.expire != NULL)
		d->ev.expire(d->cbarg, &id, cookie, ue.hard != 0);
}

static int
xfrm_event_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct driver *d = arg;

	if (nlh->nlmsg_type == XFRM_MSG_ACQUIRE)
		xfrm_on_acquire(d, nlh);
	else if (nlh->nlmsg_type == XFRM_MSG_EXPIRE)
		xfrm_on_expire(d, nlh);
	return MNL_CB_OK;
}

static int
xfrm_dispatch(struct driver *d)
{
	char buf[XFRM_BUF];
	struct sockaddr_nl from;
	socklen_t fl;
	ssize_t n;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(mnl_socket_get_fd(d->mc), buf, sizeof(buf),
		    MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 :
			    PA_E_SYS;
		/* Only the kernel speaks on these groups. */
		if (fl != sizeof(from) || from.nl_pid != 0)
			continue;
		(void)mnl_cb_run(buf, (size_t)n, 0, 0, xfrm_event_cb, d);
	}
}

static int
xfrm_event_fd(struct driver *d)
{
	return mnl_socket_get_fd(d->mc);
}

/* ---- statistics: the namespace's /proc/net/xfrm_stat ---- */

static int
xfrm_stats(struct driver *d, struct drv_stats *st)
{
	uint64_t b[XFRM_BYTES_N];
	struct sa_stats sst;
	size_t i;
	char name[64];
	unsigned long long v;
	FILE *f;

	memset(st, 0, sizeof(*st));
	st->active_sas = d->nsas;
	/* Bytes: the kernel's per-state counters of ours, and the gone. */
	memcpy(b, d->gone_bytes, sizeof(b));
	for (i = 0; i < d->nsas; i++)
		if (xfrm_sa_query(d, &d->sas[i].id, &sst) == 0)
			b[d->sas[i].kind] += sst.bytes;
	st->conf_bytes_sent = b[XFRM_BYTES_CONF_OUT];
	st->conf_bytes_recv = b[XFRM_BYTES_CONF_IN];
	st->auth_bytes_sent = b[XFRM_BYTES_AUTH_OUT];
	st->auth_bytes_recv = b[XFRM_BYTES_AUTH_IN];
	if ((f = fopen("/proc/net/xfrm_stat", "re")) == NULL)
		return 0;
	while (fscanf(f, "%63s %llu", name, &v) == 2) {
		if (strcmp(name, "XfrmInNoStates") == 0)
			st->bad_spi += v;
		else if (strcmp(name, "XfrmInStateProtoError") == 0)
			st->not_authenticated += v;
		else if (strcmp(name, "XfrmInHdrError") == 0 ||
		    strcmp(name, "XfrmInStateInvalid") == 0 ||
		    strcmp(name, "XfrmInStateModeError") == 0)
			st->not_decrypted += v;
		else if (strcmp(name, "XfrmInStateSeqError") == 0)
			st->replay += v;
		else if (strcmp(name, "XfrmInTmplMismatch") == 0 ||
		    strcmp(name, "XfrmInNoPols") == 0)
			st->cleartext_drops += v;
		else if (strcmp(name, "XfrmInPolBlock") == 0 ||
		    strcmp(name, "XfrmOutPolBlock") == 0 ||
		    strcmp(name, "XfrmFwdHdrError") == 0)
			st->blocked += v;
	}
	fclose(f);
	return 0;
}

static int
xfrm_clear(struct driver *d)
{
	int rc = xfrm_flush_ours(d, true);

	d->npols = 0;
	d->nsas = 0;
	free(d->old_sas);
	d->old_sas = NULL;
	d->nold_sas = 0;
	return rc;
}

/* Our first SPD is in: the previous instance's entries go. */
static int
xfrm_settle(struct driver *d)
{
	struct xfrm_victims v;
	size_t i;
	int rc, r;

	if ((rc = xfrm_dump_ours(d, &v, true, false)) != 0)
		return rc;
	for (i = 0; i < v.npols; i++)
		if (!xfrm_pol_current(d, &v.pols[i]) &&
		    (r = xfrm_del_pol(d, &v.pols[i])) != 0)
			rc = r;
	xfrm_victims_free(&v);
	for (i = 0; i < d->nold_sas; i++)
		if ((r = xfrm_del_sa(d, &d->old_sas[i])) != 0)
			rc = r;
	free(d->old_sas);
	d->old_sas = NULL;
	d->nold_sas = 0;
	return rc;
}

/* ---- open/close ---- */

/*
 * Fail-closed: our states go (larval ones too), our policies stay and
 * keep holding or dropping what they cover until the next start.
 */
static void
xfrm_close(struct driver *d)
{
	if (d == NULL)
		return;
	if (d->nl != NULL && xfrm_flush_ours(d, false) != 0)
		log_warn("xfrm: removing our states");
	if (d->nl != NULL)
		mnl_socket_close(d->nl);
	if (d->mc != NULL)
		mnl_socket_close(d->mc);
	free(d->pols);
	free(d->sas);
	free(d->old_sas);
	free(d);
}

/*
 * The first packet of a flow is held while the SAs are negotiated
 * (net.core.xfrm_larval_drop, per namespace, default 1: dropped).
 */
static void
xfrm_hold_first_packet(void)
{
	FILE *f;

	if ((f = fopen("/proc/sys/net/core/xfrm_larval_drop", "we")) == NULL) {
		log_warn("xfrm: xfrm_larval_drop");
		return;
	}
	if (fputs("0\n", f) == EOF)
		log_warn("xfrm: xfrm_larval_drop");
	if (fclose(f) != 0)
		log_warn("xfrm: xfrm_larval_drop");
}

static int
xfrm_open(const struct driver_cfg *cfg, const struct driver_events *ev,
    void *cbarg, struct driver **out)
{
	struct driver *d;
	int rc = PA_E_SYS, grp;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return PA_E_NOMEM;
	if (cfg != NULL)
		d->cfg = *cfg;
	d->cfg.ifname = NULL;
	if (d->cfg.ike_port == 0)
		d->cfg.ike_port = 500;
	if (d->cfg.natt_port == 0)
		d->cfg.natt_port = 4500;
	if (ev != NULL)
		d->ev = *ev;
	d->cbarg = cbarg;
	d->seq = (unsigned)time(NULL);
	if ((d->nl = mnl_socket_open(NETLINK_XFRM)) == NULL ||
	    mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	d->portid = mnl_socket_get_portid(d->nl);
	if ((d->mc = mnl_socket_open2(NETLINK_XFRM, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(d->mc, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	grp = XFRMNLGRP_ACQUIRE;
	if (mnl_socket_setsockopt(d->mc, NETLINK_ADD_MEMBERSHIP, &grp,
	    sizeof(grp)) < 0)
		goto fail;
	grp = XFRMNLGRP_EXPIRE;
	if (mnl_socket_setsockopt(d->mc, NETLINK_ADD_MEMBERSHIP, &grp,
	    sizeof(grp)) < 0)
		goto fail;
	/* A predecessor's policies and states stay until settle(). */
	if ((rc = xfrm_find_leftovers(d)) != 0 || (rc = xfrm_bypass(d)) != 0)
		goto fail;
	xfrm_hold_first_packet();
	*out = d;
	return 0;
fail:
	log_warn("xfrm: netlink");
	xfrm_close(d);
	return rc;
}

/* Per-socket policies, in and out, that allow without templates. */
static int
xfrm_socket_bypass(struct driver *d, int fd, int family)
{
	struct xfrm_userpolicy_info pi;
	int level, opt;
	uint8_t dir;

	(void)d;
	if (family == AF_INET) {
		level = IPPROTO_IP;
		opt = IP_XFRM_POLICY;
	} else if (family == AF_INET6) {
		level = IPPROTO_IPV6;
		opt = IPV6_XFRM_POLICY;
	} else
		return PA_E_INVAL;
	for (dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_OUT; dir++) {
		memset(&pi, 0, sizeof(pi));
		pi.action = XFRM_POLICY_ALLOW;
		pi.dir = dir;
		pi.sel.family = (uint16_t)family;
		pi.lft.soft_byte_limit = pi.lft.hard_byte_limit = XFRM_INF;
		pi.lft.soft_packet_limit = pi.lft.hard_packet_limit = XFRM_INF;
		if (setsockopt(fd, level, opt, &pi, sizeof(pi)) != 0)
			return PA_E_SYS;
	}
	return 0;
}

/* Is our policy pol in the kernel's dump v, in direction kdir? */
static bool
xfrm_pol_dumped(const struct xfrm_victims *v, const struct xfrm_pol *pol,
    uint8_t kdir)
{
	size_t i;

	for (i = 0; i < v->npols; i++)
		if (v->pols[i].dir == kdir &&
		    memcmp(&v->pols[i].sel, &pol->ksel, sizeof(pol->ksel)) == 0)
			return true;
	return false;
}

/* diag: every policy and state this instance installed is in the kernel. */
static int
xfrm_check(struct driver *d, char *why, size_t cap)
{
	struct xfrm_victims v;
	size_t i, j, want = 0, gone = 0, sgone = 0;
	int rc;

	if ((rc = xfrm_dump_ours(d, &v, true, true)) != 0) {
		snprintf(why, cap, "cannot read the kernel's policies: %s",
		    strerror(errno));
		return rc;
	}
	for (i = 0; i < d->npols; i++) {
		want += d->pols[i].fwd ? 2 : 1;
		if (!xfrm_pol_dumped(&v, &d->pols[i],
		    xfrm_dir(d->pols[i].id.dir)))
			gone++;
		if (d->pols[i].fwd && !xfrm_pol_dumped(&v, &d->pols[i],
		    XFRM_POLICY_FWD))
			gone++;
	}
	for (i = 0; i < d->nsas; i++) {
		const struct sa_id *id = &d->sas[i].id;
		bool found = false;

		for (j = 0; j < v.nsas && !found; j++) {
			struct pa_addr dst;

			xfrm_addr_from(&v.sas[j].id.daddr, v.sas[j].family,
			    &dst);
			found = ntohl(v.sas[j].id.spi) == id->spi &&
			    pa_addr_eq(&dst, &id->dst);
		}
		if (!found)
			sgone++;
	}
	xfrm_victims_free(&v);
	if (gone > 0 || sgone > 0) {
		snprintf(why, cap, "%zu of our %zu kernel policies and %zu of "
		    "our %zu states are gone from the kernel", gone, want,
		    sgone, d->nsas);
		return PA_E_NOENT;
	}
	snprintf(why, cap, "the kernel holds our %zu policies and %zu states",
	    want, d->nsas);
	return 0;
}

const struct driver_ops xfrm_driver_ops = {
	.name = "xfrm",
	.features = DRV_F_ESP | DRV_F_AH | DRV_F_UDPENCAP | DRV_F_TUNNEL |
	    DRV_F_TRANSPORT | DRV_F_GCM | DRV_F_BYTE_LIFETIME |
	    DRV_F_KERNEL_ENCAP,
	.open = xfrm_open,
	.close = xfrm_close,
	.spi_alloc = xfrm_spi_alloc,
	.sa_add = xfrm_sa_add,
	.sa_del = xfrm_sa_del,
	.sa_query = xfrm_sa_query,
	.policy_add = xfrm_policy_add,
	.policy_del = xfrm_policy_del,
	.flush = xfrm_flush,
	.clear = xfrm_clear,
	.settle = xfrm_settle,
	.event_fd = xfrm_event_fd,
	.dispatch = xfrm_dispatch,
	.stats = xfrm_stats,
	.socket_bypass = xfrm_socket_bypass,
	.check = xfrm_check,
};
