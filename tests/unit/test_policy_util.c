/* Helpers shared by the agent/policy unit tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_policy_util.h"

static char *
xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	return s;
}

int
tp_setup(void **state)
{
	struct tp_dir *d = calloc(1, sizeof(*d));
	const char *tmp = getenv("TMPDIR");

	if (d == NULL)
		return -1;
	snprintf(d->path, sizeof(d->path), "%s/pa-policy-XXXXXX",
	    tmp ? tmp : "/tmp");
	if (mkdtemp(d->path) == NULL) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int
tp_teardown(void **state)
{
	struct tp_dir *d = *state;
	const char *keep = getenv("PA_TEST_KEEP");

	if (keep == NULL || strcmp(keep, "1") != 0)
		(void)nftw(d->path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
	return 0;
}

char *
tp_source_path(const char *rel)
{
	const char *src = getenv("PA_SOURCE_DIR");

	return xasprintf("%s/%s", src ? src : ".", rel);
}

char *
tp_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

char *
tp_source_file(const char *rel)
{
	char *p = tp_source_path(rel), *s = tp_read(p);

	if (s == NULL)
		fail_msg("cannot read %s (is PA_SOURCE_DIR set?)", p);
	free(p);
	return s;
}

char *
tp_fixture_path(const char *name)
{
	char *rel = xasprintf("tests/fixtures/policy/%s", name);
	char *p = tp_source_path(rel);

	free(rel);
	return p;
}

char *
tp_fixture(const char *name)
{
	char *p = tp_fixture_path(name), *s = tp_read(p);

	if (s == NULL)
		fail_msg("cannot read fixture %s", p);
	free(p);
	return s;
}

char *
tp_path(struct tp_dir *d, const char *name)
{
	return xasprintf("%s/%s", d->path, name);
}

void
tp_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

char *
tp_copy_fixture(struct tp_dir *d, const char *name, mode_t mode)
{
	char *text = tp_fixture(name), *dst = tp_path(d, name);

	tp_write(dst, text);
	assert_int_equal(chmod(dst, mode), 0);
	free(text);
	return dst;
}

size_t
tp_count_entries(struct tp_dir *d)
{
	DIR *dir = opendir(d->path);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}
