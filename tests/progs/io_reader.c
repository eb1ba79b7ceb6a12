// SPDX-License-Identifier: GPL-2.0
/*
 * A reader that tells the kernel log when a read was stalled, run inside a
 * guest (or L1) whose device is reset: make bench times the first read
 * that completes after an error from the line it logs.
 *
 * Usage: io_reader [-b BLOCKS] [-s STALL_MS] DEV
 *
 * Reads one 4 KiB block at a time with O_DIRECT, block after block over
 * the first BLOCKS blocks (default 256), until killed.  A read that
 * completed STALL_MS (default 20) or longer after the one before it is
 * reported to /dev/kmsg as
 *   pvr-stall: io_reader read took N us
 * N counting from the previous read's completion: whether the read waited
 * on the device or the reader waited for a CPU (a guest busy recovering),
 * it is the time the reader went without data.
 * so the line carries the kernel log's timestamp, the clock the modules'
 * trace events use, and a failed read as
 *   pvr-stall: io_reader read failed errno N after N us
 * The first read that succeeds after a failed one is reported however
 * long it took.  Prints "io_reader: running" once the first reads have
 * completed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK	4096
#define STARTED	32

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void kmsg(int fd, const char *text)
{
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		fprintf(stderr, "%s", text);
}

int main(int argc, char **argv)
{
	uint64_t stall_ns = 20 * 1000000ull, reads = 0, last;
	uint32_t blocks = 256, b;
	unsigned char *buf;
	char line[128];
	int fd, kfd, opt, failed = 0;

	while ((opt = getopt(argc, argv, "b:s:")) != -1) {
		switch (opt) {
		case 'b': blocks = strtoul(optarg, NULL, 0); break;
		case 's': stall_ns = strtoull(optarg, NULL, 0) * 1000000ull; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || !blocks)
		goto usage;

	fd = open(argv[optind], O_RDONLY | O_DIRECT);
	kfd = open("/dev/kmsg", O_WRONLY);
	if (fd < 0 || posix_memalign((void **)&buf, BLOCK, BLOCK)) {
		perror(argv[optind]);
		return 1;
	}
	for (b = 0, last = now_ns();; b = (b + 1) % blocks) {
		ssize_t n = pread(fd, buf, BLOCK, (off_t)b * BLOCK);
		uint64_t t = now_ns(), took = t - last;

		last = t;
		if (n != BLOCK) {
			snprintf(line, sizeof(line),
				 "pvr-stall: io_reader read failed errno %d after %llu us\n",
				 n < 0 ? errno : EIO,
				 (unsigned long long)(took / 1000));
			kmsg(kfd, line);
			failed = 1;
		} else if (took >= stall_ns || failed) {
			snprintf(line, sizeof(line),
				 "pvr-stall: io_reader read took %llu us\n",
				 (unsigned long long)(took / 1000));
			kmsg(kfd, line);
			failed = 0;
		}
		if (++reads == STARTED) {
			printf("io_reader: running\n");
			fflush(stdout);
		}
	}
usage:
	fprintf(stderr, "usage: io_reader [-b BLOCKS] [-s STALL_MS] DEV\n");
	return 2;
}
