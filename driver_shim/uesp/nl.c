/*
 * rtnetlink for the uesp glue, over libmnl: bring the TUN up, and the
 * policy routing that steers marked packets into it (an ip rule on the
 * mark and a default route in our own table).
 */
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "uesp_priv.h"

/* Send one request and wait for its acknowledgement. */
static int
uesp_nl_talk(struct nlmsghdr *nlh)
{
	static _Atomic unsigned seqgen;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned seq, portid;
	ssize_t n;
	int rc = PA_E_SYS, e;

	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL)
		return PA_E_SYS;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned)time(NULL) + atomic_fetch_add(&seqgen, 1);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);

		if (r == MNL_CB_STOP) {
			rc = 0;
			break;
		}
		if (r < 0)
			break;
	}
out:
	e = errno;
	mnl_socket_close(nl);
	errno = e;
	return rc;
}

int
uesp_nl_link_up(unsigned ifindex, unsigned mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return uesp_nl_talk(nlh);
}

int
uesp_nl_rule(bool add, int family, uint32_t mark, uint32_t table,
    uint32_t prio)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL :
	    0);
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
	mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffffU);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
	return uesp_nl_talk(nlh);
}

/*
 * A default route message of ours in table: RTM_NEWROUTE (with NLM_F_CREATE
 * and addflags) or RTM_DELROUTE, scope and type as given; the caller adds
 * what follows RTA_TABLE.
 */
static struct nlmsghdr *
route_msg(char *buf, bool add, uint16_t addflags, int family, uint8_t scope,
    uint8_t type, uint32_t table)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | addflags : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = scope;
	rtm->rtm_type = type;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return nlh;
}

int
uesp_nl_route(bool add, int family, unsigned ifindex, uint32_t table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = route_msg(buf, add, NLM_F_REPLACE, family, RT_SCOPE_LINK,
	    RTN_UNICAST, table);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	return uesp_nl_talk(nlh);
}

/*
 * The fail-closed route: "unreachable default" at metric UESP_UNREACH_METRIC
 * in our table. The TUN's route (metric 0, IPv6 1024) wins while the TUN
 * exists; when it goes (close, crash), marked packets meet this one and are
 * dropped with an error instead of falling through to the main table. It
 * outlives the process. excl: fail with EEXIST (errno) if it is there.
 */
int
uesp_nl_unreach(bool add, bool excl, int family, uint32_t table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = route_msg(buf, add, excl ? NLM_F_EXCL : NLM_F_REPLACE, family,
	    RT_SCOPE_UNIVERSE, RTN_UNREACHABLE, table);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, UESP_UNREACH_METRIC);
	return uesp_nl_talk(nlh);
}
