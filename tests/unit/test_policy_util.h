/* Helpers shared by the agent/policy unit tests (temp dirs, fixtures). */
#ifndef TEST_POLICY_UTIL_H
#define TEST_POLICY_UTIL_H

#include <stddef.h>
#include <sys/types.h>

struct tp_dir {
	char	path[256];
};

/* cmocka setup/teardown: *state becomes a struct tp_dir (mkdtemp). The
 * directory is kept when PA_TEST_KEEP=1. */
int	tp_setup(void **state);
int	tp_teardown(void **state);

/* All returned strings are malloc'd; the caller frees them. */
char	*tp_source_path(const char *rel);	/* $PA_SOURCE_DIR/rel */
char	*tp_source_file(const char *rel);	/* its contents */
char	*tp_fixture_path(const char *name);	/* tests/fixtures/policy/ */
char	*tp_fixture(const char *name);
char	*tp_copy_fixture(struct tp_dir *, const char *name, mode_t mode);
char	*tp_path(struct tp_dir *, const char *name);
char	*tp_read(const char *path);		/* NULL if unreadable */
void	tp_write(const char *path, const char *text);
size_t	tp_count_entries(struct tp_dir *);

#endif
