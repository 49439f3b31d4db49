/* The directory source's settings, from the configuration (dir_setup.c). */
#ifndef PA_SVC_DIR_SETUP_H
#define PA_SVC_DIR_SETUP_H

#include <stddef.h>

#include "config.h"
#include "dir_source.h"

#define SVC_DIR_MAX_URIS	8

struct svc_dir_setup {
	struct pol_dir_cfg	 cfg;	/* points into this structure */
	char			 uris_buf[1024];
	const char		*uris[SVC_DIR_MAX_URIS];
	struct pa_secret	*pw;	/* simple bind; pa_secret_free() it */
};

/* Fill ds from c; on error eb says why (free ds->pw either way). */
int	svc_dir_setup(const struct svc_config *c, struct svc_dir_setup *ds,
	    char *eb, size_t ec) PA_MUST_USE;

#endif
