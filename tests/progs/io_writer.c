// SPDX-License-Identifier: GPL-2.0
/*
 * A writer that keeps a block device busy through a recovery, run inside
 * the guest whose device is reset.
 *
 * Usage: io_writer [-j JOBS] [-b BLOCKS] [-o OFFSET_KB] [-k AFTER]
 *                  [-m MARKFILE] [-t SECONDS] [-s STALL_MS] DEV
 *
 * JOBS processes (default 1: one synchronous writer; more keep that many
 * requests outstanding) each own BLOCKS 4 KiB blocks (default 256) from
 * OFFSET_KB on and write them round and round with O_DIRECT, every block
 * stamped with its job, number and generation.  Once every job has
 * written a few blocks the writer prints "io_writer: running".  Once
 * MARKFILE exists each job writes AFTER more blocks (default 200) and
 * stops; SECONDS (default 300) stops them in any case.  Then each job
 * reads its blocks back and checks that every block it wrote with success
 * holds the last generation written to it.
 *
 * Prints a line per job and then
 *   io_writer: done writes N errors N bad N max_stall_ms N
 * where a stall is the longest time one write took, and bad counts blocks
 * that did not read back as last written.  Exits 0 only with no errors
 * and no bad block.  With STALL_MS, a write that took that long or longer
 * is also reported to /dev/kmsg, on the clock of the kernel log and the
 * modules' trace events (make bench times recoveries by it):
 *   pvr-stall: io_writer job N write took N us
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLOCK		4096
#define MAX_JOBS	16
#define STARTED		32	/* writes per job before "running" */
#define MAGIC		0x57525650u	/* "PVRW" */

struct stamp {
	uint32_t magic;
	uint32_t job;
	uint32_t block;
	uint32_t gen;
};

/* What each job reports to the parent, in shared memory. */
struct job_state {
	volatile uint64_t writes;
	volatile uint64_t errors;
	volatile uint64_t bad;
	volatile uint64_t max_stall_ns;
	volatile uint64_t stall_at_ns;	/* when the longest write started */
	volatile uint64_t after_mark;
	volatile int first_errno;
};

struct shared {
	volatile int marked;
	volatile int stop;
	struct job_state job[MAX_JOBS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The block's contents for a generation: a stamp and then bytes no other
 * block or generation has in that order. */
static void fill(unsigned char *buf, uint32_t job, uint32_t block, uint32_t gen)
{
	struct stamp s = { MAGIC, job, block, gen };
	uint32_t x = (job + 1) * 2654435761u ^ (block + 1) * 40503u ^ gen * 97u;
	size_t i;

	memcpy(buf, &s, sizeof(s));
	for (i = sizeof(s); i < BLOCK; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

static void run_job(const char *dev, struct shared *sh, uint32_t job,
		    uint32_t blocks, uint64_t offset, uint64_t after,
		    uint64_t until_ns, uint64_t stall_ns)
{
	int kfd = stall_ns ? open("/dev/kmsg", O_WRONLY) : -1;
	char line[96];
	struct job_state *st = &sh->job[job];
	unsigned char *buf, *want;
	uint32_t *gen;
	uint32_t b;
	int marked;
	int fd;

	fd = open(dev, O_RDWR | O_DIRECT);
	gen = calloc(blocks, sizeof(*gen));
	if (fd < 0 || !gen || posix_memalign((void **)&buf, BLOCK, BLOCK) ||
	    posix_memalign((void **)&want, BLOCK, BLOCK)) {
		st->first_errno = errno ? errno : ENOMEM;
		st->errors++;
		_exit(1);
	}

	for (b = 0; !sh->stop; b = (b + 1) % blocks) {
		off_t pos = offset + ((off_t)job * blocks + b) * BLOCK;
		uint64_t t0, took;
		ssize_t n;

		if (now_ns() >= until_ns)
			break;
		/* Writes that start once the mark is seen count after it. */
		marked = sh->marked;
		if (marked && st->after_mark >= after)
			break;

		fill(buf, job, b, gen[b] + 1);
		t0 = now_ns();
		n = pwrite(fd, buf, BLOCK, pos);
		took = now_ns() - t0;
		if (took > st->max_stall_ns) {
			st->max_stall_ns = took;
			st->stall_at_ns = t0;
		}
		if (kfd >= 0 && took >= stall_ns) {
			snprintf(line, sizeof(line),
				 "pvr-stall: io_writer job %u write took %llu us\n",
				 job, (unsigned long long)(took / 1000));
			if (write(kfd, line, strlen(line)) < 0)
				kfd = -1;
		}
		if (n == BLOCK) {
			gen[b]++;
		} else {
			/* The block holds either generation now: read back
			 * below whichever it is. */
			if (!st->errors)
				st->first_errno = n < 0 ? errno : EIO;
			st->errors++;
			gen[b] |= 0x80000000u;
		}
		st->writes++;
		if (marked)
			st->after_mark++;
	}

	for (b = 0; b < blocks; b++) {
		off_t pos = offset + ((off_t)job * blocks + b) * BLOCK;
		uint32_t g = gen[b] & 0x7fffffffu;

		/* A job that wrote fewer than BLOCKS blocks never wrote the
		 * rest with success: they hold what the disk held before,
		 * which nothing here knows.
		 */
		if (!g)
			continue;
		if (pread(fd, buf, BLOCK, pos) != BLOCK) {
			st->bad++;
			continue;
		}
		fill(want, job, b, g);
		if (!memcmp(buf, want, BLOCK))
			continue;
		if (gen[b] & 0x80000000u) {
			fill(want, job, b, g + 1);
			if (!memcmp(buf, want, BLOCK))
				continue;
		}
		st->bad++;
	}
	close(fd);
	_exit(0);
}

int main(int argc, char **argv)
{
	uint64_t offset = 0, after = 200, seconds = 300, until, stall_ns = 0;
	uint64_t writes = 0, errors = 0, bad = 0, stall = 0;
	const char *mark = NULL;
	uint32_t jobs = 1, blocks = 256, j;
	int running = 0, opt, status, rc = 0;
	uint64_t start = now_ns();
	struct shared *sh;
	pid_t pid[MAX_JOBS];

	while ((opt = getopt(argc, argv, "j:b:o:k:m:t:s:")) != -1) {
		switch (opt) {
		case 'j': jobs = strtoul(optarg, NULL, 0); break;
		case 'b': blocks = strtoul(optarg, NULL, 0); break;
		case 'o': offset = strtoull(optarg, NULL, 0) * 1024; break;
		case 'k': after = strtoull(optarg, NULL, 0); break;
		case 'm': mark = optarg; break;
		case 't': seconds = strtoull(optarg, NULL, 0); break;
		case 's': stall_ns = strtoull(optarg, NULL, 0) * 1000000ull; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || !jobs || jobs > MAX_JOBS || !blocks ||
	    offset % BLOCK)
		goto usage;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("io_writer: mmap");
		return 1;
	}
	until = start + seconds * 1000000000ull;
	for (j = 0; j < jobs; j++) {
		pid[j] = fork();
		if (pid[j] < 0) {
			perror("io_writer: fork");
			sh->stop = 1;
			return 1;
		}
		if (!pid[j])
			run_job(argv[optind], sh, j, blocks, offset, after, until,
				stall_ns);
	}

	/* Watch the jobs until all have exited; the parent never does I/O. */
	for (;;) {
		struct timespec tick = { 0, 10 * 1000 * 1000 };
		pid_t done = waitpid(-1, &status, WNOHANG);

		if (done > 0) {
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				rc = 1;
			continue;
		}
		if (done < 0)
			break;
		if (!running) {
			for (j = 0; j < jobs && sh->job[j].writes >= STARTED; j++)
				;
			if (j == jobs) {
				running = 1;
				printf("io_writer: running\n");
				fflush(stdout);
			}
		}
		if (mark && !sh->marked && !access(mark, F_OK))
			sh->marked = 1;
		nanosleep(&tick, NULL);
	}

	for (j = 0; j < jobs; j++) {
		struct job_state *st = &sh->job[j];

		printf("io_writer: job %u writes %llu after_mark %llu errors %llu (first errno %d) bad %llu max_stall_ms %llu at_ms %llu\n",
		       j, (unsigned long long)st->writes,
		       (unsigned long long)st->after_mark,
		       (unsigned long long)st->errors, st->first_errno,
		       (unsigned long long)st->bad,
		       (unsigned long long)(st->max_stall_ns / 1000000),
		       (unsigned long long)(st->stall_at_ns > start ?
					    (st->stall_at_ns - start) / 1000000 : 0));
		writes += st->writes;
		errors += st->errors;
		bad += st->bad;
		if (st->max_stall_ns > stall)
			stall = st->max_stall_ns;
	}
	printf("io_writer: done writes %llu errors %llu bad %llu max_stall_ms %llu\n",
	       (unsigned long long)writes, (unsigned long long)errors,
	       (unsigned long long)bad, (unsigned long long)(stall / 1000000));
	return rc || errors || bad;

usage:
	fprintf(stderr, "usage: io_writer [-j JOBS] [-b BLOCKS] [-o OFFSET_KB] [-k AFTER] [-m MARKFILE] [-t SECONDS] [-s STALL_MS] DEV\n");
	return 2;
}
