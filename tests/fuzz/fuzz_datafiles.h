/* Shared by the data-file fuzz targets: a scratch directory made once per
 * process, and writing the input into a file there. */
#ifndef FUZZ_DATAFILES_H
#define FUZZ_DATAFILES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char fuzz_dir[64];

static const char *fuzz_write(const char *name, const uint8_t *data, size_t size)
{
	static char path[128];
	FILE *f;

	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/donthu-fuzz.XXXXXX");
		if (!mkdtemp(fuzz_dir))
			abort();
	}
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	return path;
}

#endif
