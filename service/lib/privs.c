/*
 * Dropping privileges once everything that needs them is open: the
 * process keeps uid 0 (its files stay readable) but only the capabilities
 * the running agent needs: CAP_NET_ADMIN (XFRM, nftables, routes, TUN),
 * CAP_NET_RAW (raw ESP/AH sockets) and CAP_NET_BIND_SERVICE (ports 500 and
 * 4500 when IKE sockets are reopened). Everything else leaves the
 * bounding, permitted, effective and inheritable sets, and no ambient
 * capability remains, so a compromise cannot regain them.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

#define KEEP	((1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW) | \
		    (1ULL << CAP_NET_BIND_SERVICE))

uint64_t
svc_privs_keep_mask(void)
{
	return KEEP;
}

int
svc_privs_drop(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	int cap;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
	    errno != EINVAL)
		return PA_E_SYS;
	/*
	 * Only what is still in the bounding set: dropping needs
	 * CAP_SETPCAP, which a service manager that already narrowed the
	 * set to what we keep (the unit's CapabilityBoundingSet=) does not
	 * give. CAP_SETPCAP itself goes last.
	 */
	for (cap = 0; cap <= CAP_LAST_CAP; cap++) {
		if ((KEEP & (1ULL << cap)) || cap == CAP_SETPCAP ||
		    prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
		    errno != EINVAL)
			return PA_E_SYS;
	}
	if (prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1 &&
	    prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0) != 0)
		return PA_E_SYS;
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	data[0].effective = data[0].permitted = (uint32_t)KEEP;
	data[1].effective = data[1].permitted = (uint32_t)(KEEP >> 32);
	if (syscall(SYS_capset, &hdr, data) != 0)
		return PA_E_SYS;
	/* No privilege through execve either. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return PA_E_SYS;
	return 0;
}
