/*
 * disk_append - the disk's own limit for a durable log: append 400-byte
 * records to one file with write(2), fdatasync(2) every SYNC_EVERY records.
 *
 *   disk_append FILE SYNC_EVERY COUNT
 *
 * Prints one line: sync_every=N records=N seconds=S rate=R. Built and run by
 * bench/peers/run only; never fails on slowness.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char rec[400];
	unsigned long every, count, i;
	double t0, s;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: disk_append FILE SYNC_EVERY COUNT\n");
		return 2;
	}
	every = strtoul(argv[2], NULL, 10);
	count = strtoul(argv[3], NULL, 10);
	if (every == 0 || count == 0)
		return 2;
	memset(rec, 'x', sizeof(rec));
	rec[sizeof(rec) - 1] = '\n';
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	t0 = now_s();
	for (i = 1; i <= count; i++) {
		if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec)) {
			perror("write");
			return 1;
		}
		/* The last partial group is synced too: every record counted is durable. */
		if ((i % every == 0 || i == count) && fdatasync(fd) != 0) {
			perror("fdatasync");
			return 1;
		}
	}
	s = now_s() - t0;
	close(fd);
	printf("sync_every=%lu records=%lu seconds=%.3f rate=%.0f\n", every, count, s,
	       (double)count / s);
	return 0;
}
