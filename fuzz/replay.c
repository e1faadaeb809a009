/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A main() for the harnesses without a fuzzing engine: every file named, and every file of
 * every directory named (not recursive, dot files skipped, in name order), is read into a
 * buffer of exactly its size and handed to LLVMFuzzerTestOneInput.  Built with the normal
 * compiler in every build, so CI replays each corpus and regression input under ASan and
 * UBSan (a harness abort()s on any disagreement).  Exit status 0 when every input ran. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int verbose;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	/* exactly its size (at least 1 byte for malloc), so ASan sees any read past the end */
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || (len && fread(buf, 1, (size_t)len, f) != (size_t)len)) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (verbose)
		fprintf(stderr, "replay: %s (%ld bytes)\n", path, len);
	(void)LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

static int skip_name(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	unsigned long ran = 0;
	int errors = 0;

	if (LLVMFuzzerInitialize)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	verbose = getenv("FUZZ_REPLAY_VERBOSE") != NULL;
	for (int a = 1; a < argc; a++) {
		struct stat st;

		if (stat(argv[a], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
			errors++;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			struct dirent **list;
			int n = scandir(argv[a], &list, skip_name, alphasort);

			if (n < 0) {
				fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
				errors++;
				continue;
			}
			for (int i = 0; i < n; i++) {
				char path[4096];
				struct stat fst;

				snprintf(path, sizeof(path), "%s/%s", argv[a], list[i]->d_name);
				if (stat(path, &fst) == 0 && S_ISREG(fst.st_mode)) {
					if (run_file(path) == 0)
						ran++;
					else
						errors++;
				}
				free(list[i]);
			}
			free(list);
		} else if (run_file(argv[a]) == 0) {
			ran++;
		} else {
			errors++;
		}
	}
	printf("replayed %lu inputs, %d unreadable\n", ran, errors);
	return errors ? 1 : 0;
}
