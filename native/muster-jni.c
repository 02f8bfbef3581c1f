/*
 * libmuster.so: the system calls muster makes, as JNI functions of dev.muster.core.NativeLibrary. A JNI call
 * costs a cold JVM nothing to set up, where the first Foreign Function & Memory downcall costs it a generated stub
 * (tens of milliseconds on every task); and JNI works on Java 17-21 too, which have no FFM API
 * (docs/exec.md). Built by scripts/build-native when a C compiler exists; muster falls back to FFM (Java 22+) or
 * a supervised child (Java 17-21) when the library is missing.
 *
 * Strings come from Java as one byte array of NUL-terminated UTF-8 strings, so that one JNI copy brings them all.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jni.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Bumped whenever a signature below changes: the Java side refuses a library of another ABI. */
#define MUSTER_NATIVE_ABI 4

JNIEXPORT jint JNICALL Java_dev_muster_core_NativeLibrary_abi(JNIEnv *env, jclass cls) {
	(void)env;
	(void)cls;
	return MUSTER_NATIVE_ABI;
}

/* Points out[0..n-1] at the next n strings of buf[pos..len); returns the position after them, or -1. */
static long split(char *buf, long pos, long len, char **out, int n) {
	for (int i = 0; i < n; i++) {
		if (pos >= len) {
			return -1;
		}
		out[i] = buf + pos;
		pos += (long)strlen(buf + pos) + 1;
	}
	out[n] = NULL;
	return pos;
}

static void mark_cloexec(int fd) {
	int flags = fcntl(fd, F_GETFD);
	if (flags >= 0 && !(flags & FD_CLOEXEC)) {
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
}

static int kept(const jint *keep, jsize nkeep, int fd) {
	for (jsize i = 0; i < nkeep; i++) {
		if (keep[i] == fd) {
			return 1;
		}
	}
	return 0;
}

/*
 * Marks every descriptor >= 3 but those in keep (ascending) close-on-exec: close_range(CLOSE_RANGE_CLOEXEC) on
 * the gaps between them (Linux 5.11+, one system call a gap), else one fcntl per descriptor of /proc/self/fd.
 */
static void cloexec_all_but(const jint *keep, jsize nkeep) {
	unsigned int lo = 3;
	int ok = 1;
	for (jsize i = 0; i <= nkeep && ok; i++) {
		unsigned int hi = i < nkeep ? (unsigned int)keep[i] : ~0U;
		if (i < nkeep && (keep[i] < 3 || (unsigned int)keep[i] < lo)) {
			continue;
		}
		if (hi > lo) {
			ok = syscall(SYS_close_range, lo, i < nkeep ? hi - 1 : hi, CLOSE_RANGE_CLOEXEC) == 0;
		}
		lo = hi + 1;
	}
	if (ok) {
		return;
	}
	DIR *d = opendir("/proc/self/fd"); /* O_CLOEXEC itself */
	if (d == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (fd >= 3 && fd != dirfd(d) && !kept(keep, nkeep, fd)) {
			mark_cloexec(fd);
		}
	}
	closedir(d);
}

/*
 * execve(path, argv, envp) after marking every descriptor >= 3 but those in keep (ascending; the task's inherited
 * ones) close-on-exec, unless keep is NULL, and, when sigmask >= 0, setting the thread's signal mask to it (the
 * kernel's 64-bit layout: bit n-1 for signal n; the raw system call, because glibc's would keep its own signals
 * blocked). block holds path, argc arguments and envc entries.
 * Returns only on failure, with errno (EINVAL for a malformed block, ENOMEM when out of memory).
 */
JNIEXPORT jint JNICALL Java_dev_muster_core_NativeLibrary_execve(JNIEnv *env, jclass cls, jbyteArray block, jint argc,
								 jint envc, jintArray keep, jlong sigmask) {
	(void)cls;
	if (argc < 0 || envc < 0) {
		return EINVAL;
	}
	jsize len = (*env)->GetArrayLength(env, block);
	jsize nkeep = keep == NULL ? 0 : (*env)->GetArrayLength(env, keep);
	char *buf = malloc((size_t)len + 1);
	char **ptrs = malloc(((size_t)argc + (size_t)envc + 2) * sizeof(char *));
	jint *fds = malloc(((size_t)nkeep + 1) * sizeof(jint));
	int rc = ENOMEM;
	if (buf == NULL || ptrs == NULL || fds == NULL) {
		goto out;
	}
	(*env)->GetByteArrayRegion(env, block, 0, len, (jbyte *)buf);
	if (keep != NULL) {
		(*env)->GetIntArrayRegion(env, keep, 0, nkeep, fds);
	}
	buf[len] = '\0';
	rc = EINVAL;
	char *path = buf;
	long pos = (long)strlen(buf) + 1;
	if (pos > len) {
		goto out;
	}
	pos = split(buf, pos, len, ptrs, argc);
	if (pos < 0 || split(buf, pos, len, ptrs + argc + 1, envc) < 0) {
		goto out;
	}
	if (keep != NULL) {
		cloexec_all_but(fds, nkeep);
	}
	if (sigmask >= 0) {
		uint64_t set = (uint64_t)sigmask;
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, sizeof set);
	}
	execve(path, ptrs, ptrs + argc + 1);
	rc = errno;
out:
	free(buf);
	free(ptrs);
	free(fds);
	return rc;
}

/* The port of descriptor fd's own (peer 0) or remote (peer 1) address when it is a TCP socket, else -1. */
static int tcp_port(int fd, int peer) {
	struct sockaddr_storage a;
	socklen_t n = sizeof a;
	if ((peer ? getpeername(fd, (struct sockaddr *)&a, &n) : getsockname(fd, (struct sockaddr *)&a, &n)) != 0) {
		return -1;
	}
	if (a.ss_family == AF_INET) {
		return ntohs(((struct sockaddr_in *)&a)->sin_port);
	}
	if (a.ss_family == AF_INET6) {
		return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
	}
	return -1;
}

/*
 * The descriptor of this process's TCP connection from port local to port remote, or -1: each descriptor in
 * /proc/self/fd is asked for its addresses (microseconds, where /proc/self/net/tcp walks every bucket of the
 * host's connection table).
 */
JNIEXPORT jint JNICALL Java_dev_muster_core_NativeLibrary_socketFd(JNIEnv *env, jclass cls, jint local, jint remote) {
	(void)env;
	(void)cls;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL) {
		return -1;
	}
	int found = -1;
	struct dirent *e;
	while (found < 0 && (e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		int type = 0;
		socklen_t tl = sizeof type;
		if (end == e->d_name || *end != '\0' || fd < 3 || fd == dirfd(d) ||
		    getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM) {
			continue;
		}
		if (tcp_port((int)fd, 0) == local && tcp_port((int)fd, 1) == remote) {
			found = (int)fd;
		}
	}
	closedir(d);
	return found;
}

/* A NUL-terminated copy of a Java byte array (the caller frees it), or NULL when out of memory. */
static char *cstring(JNIEnv *env, jbyteArray bytes) {
	jsize len = (*env)->GetArrayLength(env, bytes);
	char *s = malloc((size_t)len + 1);
	if (s != NULL) {
		(*env)->GetByteArrayRegion(env, bytes, 0, len, (jbyte *)s);
		s[len] = '\0';
	}
	return s;
}

/*
 * openat(AT_FDCWD, path, O_NONBLOCK|O_NOFOLLOW|O_NOCTTY|O_CLOEXEC, read-only or O_WRONLY, O_CREAT 0600 when
 * create): a FIFO swapped in under a shared name cannot block the open, a final symbolic link fails with ELOOP
 * (why: docs/security.md). Returns the descriptor or minus the errno.
 */
JNIEXPORT jint JNICALL Java_dev_muster_core_NativeLibrary_open(JNIEnv *env, jclass cls, jbyteArray path, jboolean write,
							       jboolean create) {
	(void)cls;
	char *p = cstring(env, path);
	if (p == NULL) {
		return -ENOMEM;
	}
	int flags = O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | (write ? O_WRONLY : O_RDONLY) | (create ? O_CREAT : 0);
	int fd = openat(AT_FDCWD, p, flags, create ? 0600 : 0);
	int rc = fd >= 0 ? fd : -errno;
	free(p);
	return rc;
}

JNIEXPORT void JNICALL Java_dev_muster_core_NativeLibrary_close(JNIEnv *env, jclass cls, jint fd) {
	(void)env;
	(void)cls;
	close(fd);
}

/*
 * statx(AT_FDCWD, path, AT_STATX_FORCE_SYNC, STATX_SIZE | STATX_MTIME): a network or FUSE client asks the server
 * (why: docs/barrier.md#shared-file-systems-and-client-caches). Returns 0 or the errno.
 */
JNIEXPORT jint JNICALL Java_dev_muster_core_NativeLibrary_statx(JNIEnv *env, jclass cls, jbyteArray path) {
	(void)cls;
	char *p = cstring(env, path);
	if (p == NULL) {
		return ENOMEM;
	}
	uint64_t buf[32]; /* struct statx: 256 bytes */
	long rc = syscall(SYS_statx, AT_FDCWD, p, 0x2000 /* AT_STATX_FORCE_SYNC */, 0x200 | 0x40 /* SIZE | MTIME */, buf);
	int e = rc == 0 ? 0 : errno;
	free(p);
	return e;
}

/*
 * The hand-off to the small waiter (docs/barrier.md, "The small waiter": signals during the hand-off): from
 * catchSignals on, TERM, INT and HUP no longer reach HotSpot, whose handler would only queue them for a Java thread
 * that the exec of the waiter ends; each is written as one byte into a pipe whose read end the waiter inherits and
 * reads as a signal of its own.
 */
#define MAX_CAUGHT 8
static int sig_pipe[2] = {-1, -1};
static int caught_sigs[MAX_CAUGHT];
static struct sigaction old_actions[MAX_CAUGHT];
static int ncaught;

static void to_pipe(int sig) {
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	ssize_t ignored = write(sig_pipe[1], &b, 1);
	(void)ignored;
	errno = saved;
}

/*
 * Installs to_pipe for each of signals (HotSpot's handlers are kept for restoreSignals) and returns the pipe's
 * read end, not close-on-exec (the waiter inherits it; nothing forks on this path, and the JDK's process
 * launching closes every descriptor above 2 in the child anyway), or minus the errno. Once per process.
 */
JNIEXPORT jint JNICALL Java_dev_muster_core_NativeLibrary_catchSignals(JNIEnv *env, jclass cls, jintArray signals) {
	(void)cls;
	jsize n = (*env)->GetArrayLength(env, signals);
	if (sig_pipe[0] >= 0 || n > MAX_CAUGHT) {
		return -EINVAL;
	}
	jint sigs[MAX_CAUGHT];
	(*env)->GetIntArrayRegion(env, signals, 0, n, sigs);
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		return -errno;
	}
	int flags = fcntl(sig_pipe[0], F_GETFD);
	fcntl(sig_pipe[0], F_SETFD, flags & ~FD_CLOEXEC);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = to_pipe;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (jsize i = 0; i < n; i++) {
		if (sigaction(sigs[i], &sa, &old_actions[ncaught]) == 0) {
			caught_sigs[ncaught++] = sigs[i];
		}
	}
	return sig_pipe[0];
}

/*
 * Puts HotSpot's handlers back, closes the pipe and returns the signals caught in between, one a byte, for the
 * caller to raise again.
 */
JNIEXPORT jbyteArray JNICALL Java_dev_muster_core_NativeLibrary_restoreSignals(JNIEnv *env, jclass cls) {
	(void)cls;
	for (int i = 0; i < ncaught; i++) {
		sigaction(caught_sigs[i], &old_actions[i], NULL);
	}
	ncaught = 0;
	unsigned char got[64];
	ssize_t n = sig_pipe[0] >= 0 ? read(sig_pipe[0], got, sizeof got) : 0;
	if (n < 0) {
		n = 0;
	}
	for (int i = 0; i < 2; i++) {
		if (sig_pipe[i] >= 0) {
			close(sig_pipe[i]);
			sig_pipe[i] = -1;
		}
	}
	jbyteArray out = (*env)->NewByteArray(env, (jsize)n);
	if (out != NULL && n > 0) {
		(*env)->SetByteArrayRegion(env, out, 0, (jsize)n, (const jbyte *)got);
	}
	return out;
}
