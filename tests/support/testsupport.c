#include "testsupport.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"

char *cm_test_tmpdir(const char *tag)
{
	char *path = cm_xasprintf("/tmp/donthu-%s.XXXXXX", tag);

	if (!mkdtemp(path))
		cm_require_failed("mkdtemp", __FILE__, __LINE__);
	return path;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

void cm_test_rmrf(const char *path)
{
	if (path && strncmp(path, "/tmp/", 5) == 0)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void cm_test_write_file(const char *dir, const char *name, const char *text)
{
	char *p = cm_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		cm_require_failed("write test file", __FILE__, __LINE__);
	free(p);
}
