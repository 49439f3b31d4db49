/*
 * A stand-in for libFuzzer's main in builds without -fsanitize=fuzzer: runs
 * LLVMFuzzerTestOneInput over every file of the directories (or files)
 * given, so that each harness's seed corpus is a regression test, plus
 * every prefix of each seed (a truncation sweep).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
run_file(const char *path)
{
	FILE *f;
	uint8_t *buf;
	long n;
	size_t i;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -1;
	}
	fclose(f);
	for (i = 0; i <= (size_t)n; i++) {
		/* Each prefix in its own exact-size allocation. */
		uint8_t *copy = malloc(i + 1);

		if (copy == NULL)
			break;
		memcpy(copy, buf, i);
		LLVMFuzzerTestOneInput(copy, i);
		free(copy);
	}
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, runs = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: cannot stat\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) != 0)
				return 1;
			runs++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL)
			return 1;
		while ((e = readdir(d)) != NULL) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (run_file(path) != 0) {
				closedir(d);
				return 1;
			}
			runs++;
		}
		closedir(d);
	}
	printf("replayed %d seed(s) and all their prefixes\n", runs);
	return runs > 0 ? 0 : 1;
}
