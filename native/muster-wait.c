/*
 * muster-wait: the last wait of a task that is connected to rank 0 over TCP, without a JVM.
 *
 * muster run execs this program (same PID) once the task has arrived and rank 0 has accepted its connection,
 * so that the JVM's teardown happens while waiting rather than after the release. It holds the connection (an
 * inherited descriptor), reads the release, applies its values to the environment and execs the program.
 * Everything else was decided by the JVM beforehand and comes in MUSTER_WAIT_* variables (docs/barrier.md,
 * "The small waiter"): the waiter parses the release only as far as it needs to.
 *
 * Every other ending (an abort or a timeout sent by rank 0, the connection lost, its own deadline, TERM/INT/HUP)
 * is rare and has messages and file-system work the JVM already knows how to do: the waiter execs the JVM again
 * (MUSTER_WAIT_JVM) with MUSTER_WAIT_RESUME saying what happened, and that JVM ends the task exactly as the
 * in-JVM wait would. The connection stays open across that exec, so that rank 0 does not take a signal for a
 * lost task before the abort is written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_OUTCOME (1 << 16)

static volatile sig_atomic_t caught;
static char *prefix = "muster[-] ";

static void on_signal(int sig) {
    if (!caught) {
        caught = sig;
    }
}

static long long now_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long env_ll(const char *name, long long dflt) {
    const char *v = getenv(name);
    return v && *v ? strtoll(v, NULL, 10) : dflt;
}

/* One line on stderr with one write(), as the JVM prints it. */
static void say(const char *what, const char *message) {
    char line[4096];
    int n = snprintf(line, sizeof line, "%s%s%s\n", prefix, what, message);
    if (n > 0) {
        ssize_t ignored = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)ignored;
    }
}

/* The release's escaping (Outcome.escape): \\ for \, \n for a newline, \e for '='; in place. */
static void unescape(char *s) {
    char *o = s;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *o++ = *s == 'n' ? '\n' : *s == 'e' ? '=' : *s;
        } else {
            *o++ = *s;
        }
    }
    *o = 0;
}

/* Applies "KEY=VALUE" lines (values escaped as in the release) to the environment. */
static void set_lines(const char *lines) {
    if (!lines) {
        return;
    }
    char *copy = strdup(lines), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(l, '=');
        if (eq && eq != l) {
            *eq = 0;
            unescape(eq + 1);
            setenv(l, eq + 1, 1);
        }
    }
    free(copy);
}

/* Execs the JVM again to end the task as the in-JVM wait would (see the top of this file). */
static void resume(const char *kind, const char *detail) {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, NULL); /* a second signal must not end the JVM before it writes the abort */
    setenv("MUSTER_WAIT_RESUME", kind, 1);
    setenv("MUSTER_WAIT_DETAIL", detail, 1);
    const char *spec = getenv("MUSTER_WAIT_JVM");
    char *copy = strdup(spec ? spec : ""), *save = NULL;
    char *argv[512];
    int n = 0;
    for (char *l = strtok_r(copy, "\n", &save); l && n < 511; l = strtok_r(NULL, "\n", &save)) {
        unescape(l);
        argv[n++] = l;
    }
    argv[n] = NULL;
    if (n > 0) {
        execv(argv[0], argv);
    }
    char m[512];
    snprintf(m, sizeof m, "cannot start the JVM again to end the wait (%s): %s", kind, strerror(errno));
    say("error: ", m);
    _exit(70);
}

/*
 * Claims this task's abort for a signal while waiting, as the JVM's handler would (Claim.decide: a private file
 * linked to the claim, then the pre-created outcome file filled with one write), before the JVM is started again:
 * that start takes 0.1-0.3 s, in which rank 0 could count the last arrival and release the step without this task.
 * The JVM then finds its own abort decided. A lost claim (rank 0 released first, or another task decided) or any
 * failure leaves the outcome to the JVM, as before.
 */
static void claim_abort(int sig) {
    const char *bytes = getenv(sig == SIGTERM ? "MUSTER_WAIT_ABORT_TERM"
                               : sig == SIGINT ? "MUSTER_WAIT_ABORT_INT"
                                               : "MUSTER_WAIT_ABORT_HUP");
    const char *claim = getenv("MUSTER_WAIT_CLAIM");
    const char *temp = getenv("MUSTER_WAIT_CLAIM_TEMP");
    const char *outcome = getenv("MUSTER_WAIT_OUTCOME");
    if (!bytes || !claim || !temp || !outcome) {
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s%llx", temp, (unsigned long long)now_ns(CLOCK_MONOTONIC));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return;
    }
    size_t len = strlen(bytes);
    int written = write(fd, bytes, len) == (ssize_t)len;
    close(fd);
    int won = written && link(path, claim) == 0;
    unlink(path);
    if (!won) {
        return;
    }
    /* never blocking on a FIFO swapped in under the name, never following a link (SharedFiles) */
    fd = open(outcome, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        size_t at = 0;
        while (at < len) {
            ssize_t n = pwrite(fd, bytes + at, len - at, (off_t)at);
            if (n <= 0) {
                break;
            }
            at += (size_t)n;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    if (getenv("MUSTER_WAIT_DEBUG")) {
        say("", "claimed the abort for the signal before starting the JVM again");
    }
}

/* Whether an outcome (Outcome.encode) is a release: its first line after the header says so. */
static int is_release(const char *outcome) {
    return strncmp(outcome, "muster-outcome 1\nkind=release\n", 30) == 0;
}

/* Applies the release's values: env.NAME as NAME, and the keys MUSTER_WAIT_MAP names ("key=NAME" lines). */
static void apply_release(char *outcome) {
    const char *map = getenv("MUSTER_WAIT_MAP");
    char *save = NULL;
    for (char *l = strtok_r(outcome, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "d.", 2) != 0 || !strchr(l, '=')) {
            continue;
        }
        char *key = l + 2, *eq = strchr(key, '=');
        *eq = 0;
        char *value = eq + 1;
        unescape(key);
        unescape(value);
        if (strncmp(key, "env.", 4) == 0 && key[4]) {
            setenv(key + 4, value, 1);
            continue;
        }
        size_t kl = strlen(key);
        for (const char *m = map; m && *m;) {
            const char *end = strchr(m, '\n');
            size_t ml = end ? (size_t)(end - m) : strlen(m);
            if (ml > kl + 1 && strncmp(m, key, kl) == 0 && m[kl] == '=') {
                char name[256];
                size_t nl = ml - kl - 1 < sizeof name - 1 ? ml - kl - 1 : sizeof name - 1;
                memcpy(name, m + kl + 1, nl);
                name[nl] = 0;
                setenv(name, value, 1);
            }
            m = end ? end + 1 : NULL;
        }
    }
}

/* After the release: the departure file, the trace line, then the program in place of this process. */
static void start_program(int fd, char **argv, char *outcome) {
    const char *departure = getenv("MUSTER_WAIT_DEPARTURE");
    if (departure) {
        int d = open(departure, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
        if (d >= 0) {
            close(d); /* a missing one only delays the clean-up, which is bounded */
        }
    }
    if (getenv("MUSTER_WAIT_DEBUG")) {
        say("", "released (tcp)");
    }
    const char *trace = getenv("MUSTER_WAIT_TRACE");
    const char *line = getenv("MUSTER_WAIT_TRACE_LINE");
    if (trace && line) {
        int t = open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (t >= 0) {
            char buf[1024];
            int n = snprintf(buf, sizeof buf, "%s release_us=%lld via=tcp\n", line, now_ns(CLOCK_REALTIME) / 1000);
            ssize_t ignored = write(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
            (void)ignored;
            close(t);
        }
    }
    set_lines(getenv("MUSTER_WAIT_SET"));
    apply_release(outcome);
    sigset_t mask;
    sigemptyset(&mask);
    long long bits = env_ll("MUSTER_WAIT_SIGMASK", 0);
    for (int s = 1; s <= 64; s++) {
        if (bits & (1LL << (s - 1))) {
            sigaddset(&mask, s);
        }
    }
    const char *vars[] = {"MUSTER_WAIT_FD", "MUSTER_WAIT_DEADLINE", "MUSTER_WAIT_HEARD", "MUSTER_WAIT_PROGRESS",
        "MUSTER_WAIT_EVERY", "MUSTER_WAIT_PREFIX", "MUSTER_WAIT_QUIET", "MUSTER_WAIT_SET", "MUSTER_WAIT_MAP",
        "MUSTER_WAIT_DEPARTURE", "MUSTER_WAIT_TRACE", "MUSTER_WAIT_TRACE_LINE", "MUSTER_WAIT_DEBUG",
        "MUSTER_WAIT_JVM", "MUSTER_WAIT_SIGMASK", "MUSTER_WAIT_CLAIM", "MUSTER_WAIT_CLAIM_TEMP",
        "MUSTER_WAIT_OUTCOME", "MUSTER_WAIT_ABORT_TERM", "MUSTER_WAIT_ABORT_INT", "MUSTER_WAIT_ABORT_HUP", NULL};
    for (int i = 0; vars[i]; i++) {
        unsetenv(vars[i]);
    }
    close(fd);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    execv(argv[1], argv + 2);
    int e = errno;
    char m[4096];
    snprintf(m, sizeof m, "cannot exec %s: %s", argv[1],
        e == ENOENT   ? "no such file (ENOENT)"
        : e == ENOEXEC ? "not an executable format (ENOEXEC); add a #! line"
        : e == EACCES  ? "permission denied (EACCES)"
        : e == E2BIG   ? "argument list too long (E2BIG)"
                       : strerror(e));
    say("error: ", m);
    _exit(e == ENOENT ? 127 : 126);
}

int main(int argc, char **argv) {
    const char *p = getenv("MUSTER_WAIT_PREFIX");
    if (p) {
        prefix = strdup(p);
    }
    int fd = (int)env_ll("MUSTER_WAIT_FD", -1);
    if (argc < 3 || fd < 3) {
        say("error: ", "muster-wait is started by muster run only (docs/barrier.md, \"The small waiter\")");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGTERM);
    sigaddset(&unblock, SIGINT);
    sigaddset(&unblock, SIGHUP);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL); /* muster run blocked them across its exec of this program */
    /* TERM, INT and HUP that came during the hand-off: muster run caught them into this pipe rather than let its
       JVM queue them for a thread that its exec of this program ended (docs/barrier.md, "The small waiter":
       signals during the hand-off) */
    int sigfd = (int)env_ll("MUSTER_WAIT_SIGFD", -1);
    if (sigfd >= 3) {
        unsigned char early[16];
        ssize_t got = read(sigfd, early, sizeof early);
        for (ssize_t i = 0; i < got; i++) {
            if (early[i] == SIGTERM || early[i] == SIGINT || early[i] == SIGHUP) {
                on_signal(early[i]);
                if (getenv("MUSTER_WAIT_DEBUG")) {
                    say("", "a signal came during the hand-off");
                }
            }
        }
        close(sigfd);
        unsetenv("MUSTER_WAIT_SIGFD");
    }

    long long deadline = env_ll("MUSTER_WAIT_DEADLINE", 0);
    long long heard = env_ll("MUSTER_WAIT_HEARD", now_ns(CLOCK_MONOTONIC));
    long long progress = env_ll("MUSTER_WAIT_PROGRESS", deadline);
    long long every = env_ll("MUSTER_WAIT_EVERY", 30000000000LL);
    int quiet = getenv("MUSTER_WAIT_QUIET") != NULL;
    static char buf[MAX_OUTCOME + 1];
    size_t have = 0;
    char detail[256];
    while (1) {
        if (caught) {
            claim_abort(caught);
            resume("signal", caught == SIGTERM ? "TERM" : caught == SIGINT ? "INT" : "HUP");
        }
        long long now = now_ns(CLOCK_MONOTONIC);
        if (now >= deadline) {
            ssize_t ignored = send(fd, "bye\n", 4, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)ignored;
            snprintf(detail, sizeof detail, "%lld", now - heard);
            resume("deadline", detail);
        }
        if (now >= progress) {
            if (!quiet) {
                char m[128];
                snprintf(m, sizeof m, "waiting for the release from rank 0 over TCP (%lld s left)",
                    (deadline - now) / 1000000000LL);
                say("", m);
            }
            progress = now + every;
        }
        long long until = deadline < progress ? deadline : progress;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ms = (int)((until - now) / 1000000LL);
        int r = poll(&pfd, 1, ms < 1 ? 1 : ms);
        if (r <= 0) {
            continue; /* a timeout, or a signal: both are looked at above */
        }
        ssize_t n = recv(fd, buf + have, MAX_OUTCOME - have, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        if (n < 0) {
            /* as Java words it: a reset is "Connection reset", anything else the system's text */
            snprintf(detail, sizeof detail, "%s", errno == ECONNRESET ? "Connection reset" : strerror(errno));
            resume("closed", detail);
        }
        if (n == 0 || have + (size_t)n >= MAX_OUTCOME) {
            snprintf(detail, sizeof detail, "connection closed after %zu bytes of the outcome", have);
            resume("closed", detail);
        }
        heard = now_ns(CLOCK_MONOTONIC);
        have += (size_t)n;
        size_t beats = 0;
        while (beats < have && buf[beats] == '\n') {
            beats++; /* rank 0's signs of life before the outcome */
        }
        memmove(buf, buf + beats, have - beats);
        have -= beats;
        buf[have] = 0;
        char *end = strstr(buf, "\nend\n");
        if (!end) {
            continue;
        }
        end[5] = 0; /* a roster may follow on the stream: it is not this waiter's (muster run keeps rosters) */
        if (!is_release(buf)) {
            resume("outcome", buf);
        }
        start_program(fd, argv, buf);
    }
}
