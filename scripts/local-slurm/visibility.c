/*
 * How soon does a task on one node see what a task on another node wrote into an existing file of a shared
 * directory? One candidate way of polling per run (scripts/local-slurm/visibility.sh drives it under srun -N 2).
 *   visibility writer FILE GO          waits for GO (a path in a non-cached directory), then writes "x" in place
 *   visibility reader FILE GO CAND     reads FILE once (warms this node's caches: it is empty), creates GO,
 *                                      then polls FILE by CAND every 5 ms until it has content; prints
 *                                      "CAND <ms from the write to the first poll that saw it>"
 * Candidates: open-read, held-pread, odirect, flock-read, readdir-open, stat-size, statx-sync-open,
 *             statx-sync-held, fadvise-held
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static ssize_t read_at0(int fd, char *buf, size_t n) { return pread(fd, buf, n, 0); }

static int sync_attrs(const char *f) { /* statx(2): AT_STATX_FORCE_SYNC asks the server, not the cache */
    struct statx sx;
    return statx(AT_FDCWD, f, AT_STATX_FORCE_SYNC, STATX_SIZE | STATX_MTIME, &sx);
}

static int poll_once(const char *cand, const char *f, int *held) {
    char buf[4096] __attribute__((aligned(4096)));
    ssize_t n = 0;
    int fd;
    if (!strcmp(cand, "open-read")) {
        if ((fd = open(f, O_RDONLY)) < 0) return 0;
        n = read_at0(fd, buf, sizeof buf); close(fd);
    } else if (!strcmp(cand, "held-pread")) {
        n = read_at0(*held, buf, sizeof buf);
    } else if (!strcmp(cand, "odirect")) {
        if ((fd = open(f, O_RDONLY | O_DIRECT)) < 0) return 0;
        n = read_at0(fd, buf, sizeof buf); close(fd);
    } else if (!strcmp(cand, "flock-read")) {
        if ((fd = open(f, O_RDONLY)) < 0) return 0;
        flock(fd, LOCK_SH); n = read_at0(fd, buf, sizeof buf); flock(fd, LOCK_UN); close(fd);
    } else if (!strcmp(cand, "readdir-open")) {
        char d[4096]; strncpy(d, f, sizeof d - 1); d[sizeof d - 1] = 0;
        DIR *dp = opendir(dirname(d));
        if (dp) { while (readdir(dp)) {} closedir(dp); }
        if ((fd = open(f, O_RDONLY)) < 0) return 0;
        n = read_at0(fd, buf, sizeof buf); close(fd);
    } else if (!strcmp(cand, "stat-size")) {
        struct stat st; if (stat(f, &st) == 0) n = st.st_size;
    } else if (!strcmp(cand, "statx-sync-open")) {
        sync_attrs(f);
        if ((fd = open(f, O_RDONLY)) < 0) return 0;
        n = read_at0(fd, buf, sizeof buf); close(fd);
    } else if (!strcmp(cand, "statx-sync-held")) {
        sync_attrs(f);
        n = read_at0(*held, buf, sizeof buf);
    } else if (!strcmp(cand, "fadvise-held")) {
        posix_fadvise(*held, 0, 0, POSIX_FADV_DONTNEED);
        n = read_at0(*held, buf, sizeof buf);
    } else {
        fprintf(stderr, "unknown candidate %s\n", cand); exit(2);
    }
    return n > 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "writer")) {
        while (access(argv[3], F_OK) != 0) usleep(1000);
        usleep(200000); /* the reader is polling by now */
        int fd = open(argv[2], O_WRONLY);
        if (fd < 0) { perror(argv[2]); return 1; }
        double t = now();
        if (pwrite(fd, "x\n", 2, 0) != 2) { perror("pwrite"); return 1; }
        close(fd);
        printf("written %.6f\n", t);
        return 0;
    }
    if (argc >= 5 && !strcmp(argv[1], "reader")) {
        char buf[64];
        int held = open(argv[2], O_RDONLY);
        if (held < 0) { perror(argv[2]); return 1; }
        if (read_at0(held, buf, sizeof buf) != 0) { fprintf(stderr, "%s is not empty\n", argv[2]); return 1; }
        int fd = open(argv[3], O_WRONLY | O_CREAT, 0600); close(fd);
        double deadline = now() + 30;
        while (!poll_once(argv[4], argv[2], &held)) {
            if (now() > deadline) { printf("seen never\n"); return 1; }
            usleep(5000);
        }
        printf("seen %.6f\n", now());
        return 0;
    }
    fprintf(stderr, "usage: visibility writer FILE GO | reader FILE GO CANDIDATE\n");
    return 2;
}
