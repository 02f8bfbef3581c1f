/*
 * The machine's floor for the TCP release, for scripts/bench-barrier: muster's TCP path done by a C program, with
 * no JVM. Run as every task of an srun step:
 *
 *   bench-floor <dir> <trace> prog args...
 *
 * Rank 0 listens on any address, publishes "address port" in <dir>/ep (written to a temporary name, then renamed;
 * the address is its node's, SLURMD_NODENAME resolved, as muster advertises it, else loopback),
 * accepts SLURM_NTASKS-1 connections (each sends its rank), then writes one byte to each, the newest first, and
 * execs the program. Every other rank polls <dir>/ep, connects, sends its rank, blocks in read(), and on the byte
 * appends "rank=R arrive_us=A release_us=T via=floor" to <trace> (the format of muster's --trace) and execs the
 * program. arrive_us is taken when the task starts, as muster's is. On a flat test cluster the node names resolve
 * to loopback; on the rig (a network per node) to the node's own address. No token, no timeouts, no fallback:
 * this is a measuring stick, not a barrier.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static void die(const char *what) {
	fprintf(stderr, "muster[-] bench-floor: %s: %s\n", what, strerror(errno));
	exit(70);
}

static void stamp(const char *trace, int rank, long long arrive) {
	char line[160];
	int n = snprintf(line, sizeof line, "rank=%d arrive_us=%lld release_us=%lld via=floor\n", rank, arrive, now_us());
	int fd = open(trace, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0 || write(fd, line, n) != n)
		die("trace");
	close(fd);
}

int main(int argc, char **argv) {
	long long arrive = now_us();
	if (argc < 4 || !getenv("SLURM_PROCID") || !getenv("SLURM_NTASKS")) {
		fprintf(stderr, "muster[-] bench-floor: usage: bench-floor DIR TRACE PROG ARGS... (in an srun step)\n");
		return 64;
	}
	int rank = atoi(getenv("SLURM_PROCID")), size = atoi(getenv("SLURM_NTASKS"));
	char ep[4096], tmp[4096];
	snprintf(ep, sizeof ep, "%s/ep", argv[1]);
	snprintf(tmp, sizeof tmp, "%s/ep.tmp", argv[1]);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	int one = 1;
	if (rank == 0) {
		struct in_addr self = {htonl(INADDR_LOOPBACK)};
		struct addrinfo hint = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
		const char *node = getenv("SLURMD_NODENAME");
		if (node && !getaddrinfo(node, 0, &hint, &res)) {
			self = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
			freeaddrinfo(res);
		}
		a.sin_addr.s_addr = htonl(INADDR_ANY);
		int ls = socket(AF_INET, SOCK_STREAM, 0);
		socklen_t l = sizeof a;
		if (ls < 0 || bind(ls, (void *)&a, sizeof a) || listen(ls, 4096) || getsockname(ls, (void *)&a, &l))
			die("listen");
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%s %d\n", inet_ntoa(self), ntohs(a.sin_port)) < 0 || fclose(f) || rename(tmp, ep))
			die("publish");
		int *peer = calloc(size, sizeof *peer), order[size], k = 0;
		for (int i = 1; i < size; i++) {
			int s = accept(ls, 0, 0), r = -1;
			if (s < 0 || read(s, &r, sizeof r) != sizeof r || r <= 0 || r >= size)
				die("accept");
			setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			peer[r] = s;
			order[k++] = r;
		}
		for (int i = k - 1; i >= 0; i--)
			if (write(peer[order[i]], "r", 1) != 1)
				die("send");
		stamp(argv[2], rank, arrive);
	} else {
		FILE *f;
		int port = 0;
		char host[64];
		for (int us = 1000; !(f = fopen(ep, "r")); us = us < 100000 ? us * 2 : 100000)
			usleep(us);
		if (fscanf(f, "%63s %d", host, &port) != 2 || !inet_aton(host, &a.sin_addr))
			die("endpoint");
		fclose(f);
		a.sin_port = htons(port);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0 || connect(s, (void *)&a, sizeof a) || write(s, &rank, sizeof rank) != sizeof rank)
			die("connect");
		char c;
		if (read(s, &c, 1) != 1)
			die("release");
		stamp(argv[2], rank, arrive);
	}
	execvp(argv[3], argv + 3);
	die(argv[3]);
}
