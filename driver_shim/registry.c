/*
 * The table of driver backends, looked up by the name given in the
 * agent's configuration. An unknown name is NULL: the caller stops.
 */
#include <stddef.h>
#include <string.h>

#include "driver.h"

extern const struct driver_ops	null_driver_ops;
extern const struct driver_ops	uesp_driver_ops;
extern const struct driver_ops	xfrm_driver_ops;

static const struct driver_ops *const drv_backends[] = {
	&uesp_driver_ops,
	&xfrm_driver_ops,
	&null_driver_ops,
};

static const char *const drv_backend_names[] = {
	"uesp",
	"xfrm",
	"null",
	NULL
};

const struct driver_ops *
drv_lookup(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(drv_backends) / sizeof(drv_backends[0]); i++)
		if (strcmp(drv_backends[i]->name, name) == 0)
			return drv_backends[i];
	return NULL;
}

const char *const *
drv_names(void)
{
	return drv_backend_names;
}
