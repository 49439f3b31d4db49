/* Private to ldap/: the connection object shared by conn.c and search.c. */
#ifndef PA_LDAP_DIR_PRIV_H
#define PA_LDAP_DIR_PRIV_H

#include <ldap.h>

#include "dir.h"

struct dir {
	LDAP		*ld;
	char		*uri;		/* the URI in use */
	unsigned	 timeout_ms;
	unsigned	 page_size;
	char		*ccache;	/* "MEMORY:..." with the machine's TGT */
	/* notify.c: RFC 4533 searches still in their refresh phase. */
	int		 refreshing[16];
	size_t		 nrefreshing;
	char		 err[512];
};

void	dir_set_error(struct dir *, int ldap_rc, const char *what);

#endif
