/*
 * muster-wait: the last wait of a task on the TCP path, without a JVM.
 *
 * muster run execs this program (same PID) while the task waits, so that the JVM's teardown happens before the
 * release rather than after it. A task other than rank 0 hands over once it is connected to rank 0, before its
 * hello: the waiter says hello (the task arrives then), holds the connection (an inherited descriptor), reads the
 * release, applies its values to the environment and execs the program. Rank 0 hands over its listener
 * (MUSTER_WAIT_LISTEN): the waiter answers the others' hellos, counts the arrivals, decides through the claim and
 * sends the outcome, then starts rank 0's program the same way (leader() below). Everything else was decided by
 * the JVM beforehand and comes in MUSTER_WAIT_* variables (docs/barrier.md, "The small waiter"): the waiter parses
 * the release only as far as it needs to.
 *
 * Every other ending (an abort or a timeout, the connection lost, its own deadline, TERM/INT/HUP) is rare and has
 * messages and file-system work the JVM already knows how to do: the waiter execs the JVM again (MUSTER_WAIT_JVM)
 * with MUSTER_WAIT_RESUME saying what happened, and that JVM ends the task exactly as the in-JVM wait would. A
 * follower's connection stays open across that exec, so that rank 0 does not take a signal for a lost task before
 * the abort is written.
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
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_OUTCOME (1 << 16)

static volatile sig_atomic_t caught;
/* The follower's hello, when this waiter sends it: the time of its arrival, for the trace line (0: the JVM's). */
static long long arrive_us;
static void write_arrival(void);
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

extern char **environ;

/* Removes every MUSTER_WAIT_* variable (but for MUSTER_WAIT_RESUME and _DETAIL when keep_resume): nothing of the
   hand-off is left to the program, or to a JVM that waits anew. */
static void unset_wait_vars(int keep_resume) {
    size_t n = 0;
    for (char **e = environ; *e; e++) {
        n++;
    }
    char **names = calloc(n + 1, sizeof *names);
    size_t k = 0;
    for (char **e = environ; names && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (strncmp(*e, "MUSTER_WAIT_", 12) == 0 && eq) {
            names[k++] = strndup(*e, (size_t)(eq - *e));
        }
    }
    for (size_t i = 0; i < k; i++) {
        if (names[i] && !(keep_resume && (strcmp(names[i], "MUSTER_WAIT_RESUME") == 0 ||
                                          strcmp(names[i], "MUSTER_WAIT_DETAIL") == 0))) {
            unsetenv(names[i]);
        }
        free(names[i]);
    }
    free(names);
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
    if (strcmp(kind, "refused") == 0) {
        unset_wait_vars(1); /* the JVM waits anew, in itself (TaskPath), and its program must not see the hand-off */
    }
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
static int claim_outcome(const char *bytes, size_t len);

static void claim_abort(int sig) {
    const char *bytes = getenv(sig == SIGTERM ? "MUSTER_WAIT_ABORT_TERM"
                               : sig == SIGINT ? "MUSTER_WAIT_ABORT_INT"
                                               : "MUSTER_WAIT_ABORT_HUP");
    if (bytes && claim_outcome(bytes, strlen(bytes)) == 1 && getenv("MUSTER_WAIT_DEBUG")) {
        say("", "claimed the abort for the signal before starting the JVM again");
    }
}

/*
 * Claim.decide: a private file with the outcome's bytes linked to the claim; the one that links first fills the
 * pre-created outcome file with one write. Returns 1 when this process won, 0 when another did, -1 when it could
 * not try (no claim variables, or its private file could not be written).
 */
static int claim_outcome(const char *bytes, size_t len) {
    const char *claim = getenv("MUSTER_WAIT_CLAIM");
    const char *temp = getenv("MUSTER_WAIT_CLAIM_TEMP");
    const char *outcome = getenv("MUSTER_WAIT_OUTCOME");
    if (!claim || !temp || !outcome) {
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s%llx", temp, (unsigned long long)now_ns(CLOCK_MONOTONIC));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    int written = write(fd, bytes, len) == (ssize_t)len;
    close(fd);
    int won = written && link(path, claim) == 0;
    int lost = written && !won && errno == EEXIST;
    unlink(path);
    if (!won) {
        return lost ? 0 : -1;
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
    return 1;
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
static void start_program(int fd, char **argv, char *outcome, const char *via) {
    write_arrival(); /* before the departure: the clean-up and the sweep expect it */
    const char *departure = getenv("MUSTER_WAIT_DEPARTURE");
    if (departure) {
        int d = open(departure, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
        if (d >= 0) {
            close(d); /* a missing one only delays the clean-up, which is bounded */
        }
    }
    if (getenv("MUSTER_WAIT_DEBUG")) {
        char m[64];
        snprintf(m, sizeof m, "released (%s)", via);
        say("", m);
    }
    const char *trace = getenv("MUSTER_WAIT_TRACE");
    const char *line = getenv("MUSTER_WAIT_TRACE_LINE");
    if (trace && line) {
        int t = open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (t >= 0) {
            char buf[1024];
            char arrived[64] = "";
            if (arrive_us) {
                snprintf(arrived, sizeof arrived, " arrive_us=%lld", arrive_us);
            }
            int n = snprintf(buf, sizeof buf, "%s%s release_us=%lld via=%s\n", line, arrived,
                now_ns(CLOCK_REALTIME) / 1000, via);
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
    unset_wait_vars(0);
    if (fd >= 0) {
        close(fd);
    }
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

/*
 * Rank 0's wait (MUSTER_WAIT_LISTEN): muster run execs this program once rank 0 has arrived and its listener is
 * open, before it has accepted any connection, so that rank 0's JVM is torn down while the others arrive rather
 * than between the last arrival and the programs. It does what TcpLeader and TcpServer do: answers the hellos
 * (TcpHello), counts a task as arrived when it authenticated, said bye, or its arrival file exists, reads the
 * outcome file and lists the arrival groups that still miss somebody with backoff up to --poll-max, sends a beat
 * every second and the progress lines, and decides through the claim (the release the JVM encoded beforehand, an
 * abort naming a lost connection, or a timeout at the deadline). It sends the outcome to every connected task; a
 * release then starts rank 0's program, anything else is handed to the JVM, which ends the task as the in-JVM
 * wait would (docs/barrier.md, "Rank 0's wait").
 */
#define HELLO_LINE 128
#define HELLO_MAX (HELLO_LINE + 4096 + 4) /* the line, a card (Card.MAX_BYTES) and a bye */
#define MAX_PENDING 256
#define HELLO_NS 2000000000LL
#define BEAT_NS 1000000000LL

struct pending {
    int fd;
    long long since;
    size_t have;
    char buf[HELLO_MAX];
};

static int size;
static unsigned char token[64];
static size_t token_len;
static struct pending *pend;
static int npend;
static int *peer;               /* each rank's connection, or -1 */
static unsigned char *leaving;  /* said bye: its close is no lost task */
static unsigned char *arrived_; /* by file, or departed after a bye */
static int connected, lost = -1, newest = -1, refused;
static int debug;

static void debugf(const char *fmt, long long a, long long b) {
    if (debug) {
        char m[256];
        snprintf(m, sizeof m, fmt, a, b);
        say("", m);
    }
}

/* StepFiles.parseRank: decimal digits, no leading zero, at most 9 of them; -1 otherwise. */
static int parse_rank(const char *s, size_t n) {
    if (n == 0 || n > 9 || (n > 1 && s[0] == '0')) {
        return -1;
    }
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        r = r * 10 + (s[i] - '0');
    }
    return r;
}

static int hex_digit(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* TcpHello.parse: the rank the bytes authenticate, -2 while incomplete, -1 when bad; *bye when a bye followed. */
static int parse_hello(const char *b, size_t have, int *bye) {
    size_t nl = 0;
    while (nl < have && nl < HELLO_LINE && b[nl] != '\n') {
        nl++;
    }
    if (nl >= have || nl >= HELLO_LINE) {
        return have < HELLO_LINE ? -2 : -1;
    }
    const char *v1 = "muster-hello 1 ", *v2 = "muster-hello 2 ";
    size_t end = nl, card = 0;
    if (strncmp(b, v2, 15) == 0) {
        size_t sp = nl;
        while (sp > 15 && b[sp - 1] != ' ') {
            sp--;
        }
        if (sp <= 15 || sp == nl || nl - sp > 4) {
            return -1;
        }
        for (size_t i = sp; i < nl; i++) {
            if (b[i] < '0' || b[i] > '9') {
                return -1;
            }
            card = card * 10 + (size_t)(b[i] - '0');
        }
        if (card > 4096) {
            return -1;
        }
        end = sp - 1;
    } else if (strncmp(b, v1, 15) != 0) {
        return -1;
    }
    const char *f = b + 15, *sp = memchr(f, ' ', end - 15);
    if (!sp) {
        return -1;
    }
    int rank = parse_rank(f, (size_t)(sp - f));
    size_t hex = end - (size_t)(sp + 1 - b);
    if (rank <= 0 || rank >= size || hex != 2 * token_len) {
        return -1;
    }
    unsigned char diff = 0;
    for (size_t i = 0; i < token_len; i++) {
        int hi = hex_digit(sp[1 + 2 * i]), lo = hex_digit(sp[2 + 2 * i]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        diff |= (unsigned char)(hi << 4 | lo) ^ token[i];
    }
    if (diff) {
        return -1; /* before waiting for a card: a stranger's bytes are not read any further */
    }
    size_t at = nl + 1 + card;
    if (have < at) {
        return -2;
    }
    *bye = have - at == 4 && memcmp(b + at, "bye\n", 4) == 0;
    return have == at || *bye ? rank : -1;
}

static void refuse(int i) {
    close(pend[i].fd);
    refused++;
    memmove(pend + i, pend + i + 1, (size_t)(npend - i - 1) * sizeof *pend);
    npend--;
}

/* Reads pending connection i's hello; returns 1 when i is gone from the pending list. */
static int read_hello(int i) {
    struct pending *p = &pend[i];
    ssize_t n = recv(p->fd, p->buf + p->have, HELLO_MAX - p->have, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return 0;
    }
    int bye = 0, rank = n <= 0 ? -1 : (p->have += (size_t)n, parse_hello(p->buf, p->have, &bye));
    if (rank == -2) {
        if (p->have < HELLO_MAX) {
            return 0;
        }
        rank = -1;
    }
    if (rank < 0) {
        debugf("refused a connection: a bad hello, or closed before it", 0, 0);
        refuse(i);
        return 1;
    }
    int fd = p->fd;
    memmove(pend + i, pend + i + 1, (size_t)(npend - i - 1) * sizeof *pend);
    npend--;
    if (bye) {
        debugf("rank %lld gave up at its deadline before its hello was answered", rank, 0);
        arrived_[rank] = 1;
        close(fd);
        return 1;
    }
    if (send(fd, "ok\n", 3, MSG_NOSIGNAL | MSG_DONTWAIT) != 3) {
        close(fd);
        refused++;
        return 1;
    }
    if (peer[rank] >= 0) {
        close(peer[rank]); /* the same task reconnected after a drop it saw first */
    } else {
        connected++;
    }
    peer[rank] = fd;
    newest = rank;
    debugf("rank %lld connected over TCP (%lld of the others)", rank, connected);
    return 1;
}

static void accept_all(int listener, long long now) {
    for (int i = 0; i < 1024; i++) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return; /* none left, or e.g. EMFILE: the peer retries or falls back to files */
        }
        if (npend >= MAX_PENDING) {
            refuse(0); /* the oldest makes room */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pend[npend].fd = fd;
        pend[npend].since = now;
        pend[npend].have = 0;
        npend++;
        read_hello(npend - 1); /* the hello often came with the connection */
    }
}

/* TcpPeers.read: a bye, or the close of rank r's connection (a lost task unless it said bye). */
static void read_peer(int r) {
    char scratch[256];
    ssize_t n;
    while ((n = recv(peer[r], scratch, sizeof scratch, MSG_DONTWAIT)) > 0) {
        if (scratch[0] == 'b') {
            leaving[r] = 1;
        }
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(peer[r]);
        peer[r] = -1;
        connected--;
        debugf(leaving[r] ? "rank %lld's connection closed after its bye" : "rank %lld's connection closed", r, 0);
        if (leaving[r]) {
            arrived_[r] = 1;
        } else if (lost < 0) {
            lost = r;
        }
    }
}

static int count(void) {
    int n = 0;
    for (int r = 0; r < size; r++) {
        n += arrived_[r] || peer[r] >= 0;
    }
    return n;
}

/* The outcome file as PolledFile reads it: "hold" pread()s a held descriptor, "sync" refreshes the attributes from
   the server first (statx AT_STATX_FORCE_SYNC), "open" opens, reads and closes every time. Its length, or 0. */
static int policy_sync, policy_hold;
static int held = -1;

static void force_sync(const char *path) {
    if (policy_sync) {
        unsigned long long b[32];
        syscall(SYS_statx, AT_FDCWD, path, 0x2000 /* AT_STATX_FORCE_SYNC */, 0x200 | 0x40, b);
    }
}

static size_t read_outcome(char *buf, size_t cap) {
    static long long opened;
    const char *path = getenv("MUSTER_WAIT_OUTCOME");
    if (!path) {
        return 0;
    }
    force_sync(path);
    long long now = now_ns(CLOCK_MONOTONIC);
    if (held >= 0 && now - opened >= 2000000000LL) {
        close(held); /* opened afresh every 2 s all the same (PolledFile.REOPEN_NANOS): a swept directory shows */
        held = -1;
    }
    int fd = held;
    if (fd < 0) {
        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
            close(fd);
            fd = -1;
        }
        if (fd < 0) {
            return 0;
        }
    }
    size_t have = 0;
    ssize_t n;
    while (have < cap && (n = pread(fd, buf + have, cap - have, (off_t)have)) > 0) {
        have += (size_t)n;
    }
    if (policy_hold) {
        opened = held == fd ? opened : now;
        held = fd;
    } else {
        close(fd);
    }
    buf[have] = 0;
    return have >= 5 && strcmp(buf + have - 4, "end\n") == 0 ? have : 0;
}

/* StepFiles.listArrivals: adds the ranks whose arrival files exist, listing only groups that still miss a task. */
static void list_arrivals(void) {
    const char *dir = getenv("MUSTER_WAIT_ARRIVALS");
    int width = (int)env_ll("MUSTER_WAIT_WIDTH", 0);
    if (!dir || width < 1) {
        return;
    }
    for (int from = 0; from < size; from += width) {
        int to = from + width < size ? from + width : size, missing = 0;
        for (int r = from; r < to && !missing; r++) {
            missing = !arrived_[r] && peer[r] < 0;
        }
        if (!missing) {
            continue;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%d", dir, from / width);
        force_sync(path);
        DIR *d = opendir(path);
        if (!d) {
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int r = parse_rank(e->d_name, strlen(e->d_name));
            if (r >= from && r < to && !arrived_[r]) {
                arrived_[r] = 1;
                if (peer[r] < 0) {
                    debugf("rank %lld counted by its arrival file", r, 0);
                }
            }
        }
        closedir(d);
    }
}

/* The missing ranks as FailureReport.ranks names them: at most 16, then how many in all. */
static void missing_ranks(char *out, size_t cap, int all) {
    size_t at = 0;
    int n = 0, shown = 0;
    out[0] = 0;
    for (int r = 0; r < size; r++) {
        if (arrived_[r] || peer[r] >= 0) {
            continue;
        }
        n++;
        if (all || shown < 16) {
            at += (size_t)snprintf(out + at, at < cap ? cap - at : 0, "%s%d", shown ? "," : "", r);
            shown++;
        }
        if (at >= cap) {
            break;
        }
    }
    if (!all && n > 16 && at < cap) {
        snprintf(out + at, cap - at, ",... (%d in all)", n);
    }
}

/* Sends the outcome to every connected task, the newest first (TcpPeers.sendAll), and closes everything. */
static void relay(int listener, const char *bytes, size_t len) {
    for (int i = -1; i < size; i++) {
        int r = i < 0 ? newest : i;
        if (r < 0 || (i >= 0 && r == newest) || peer[r] < 0) {
            continue;
        }
        size_t at = 0;
        ssize_t n = send(peer[r], bytes, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            at = (size_t)n;
        }
        if (n >= 0 && at < len) {
            fcntl(peer[r], F_SETFL, fcntl(peer[r], F_GETFL) & ~O_NONBLOCK); /* it stopped reading: the rest */
            while (at < len && (n = send(peer[r], bytes + at, len - at, MSG_NOSIGNAL)) > 0) {
                at += (size_t)n;
            }
        }
    }
    close(listener);
    for (int i = 0; i < npend; i++) {
        close(pend[i].fd);
    }
    npend = 0;
    debugf("outcome sent to %lld tasks (t_us=%lld)", connected, now_ns(CLOCK_REALTIME) / 1000);
    if (refused) {
        debugf("refused %lld TCP connections (bad hello or token, too slow, no room)", refused, 0);
    }
}

/* Sends the outcome decided (by this rank 0 or another task) and closes every connection; a release then starts
   the program (via=tcp when some task was connected, as TcpLeader says), anything else goes to the JVM. */
static void finish(int listener, char **argv, char *bytes, size_t len) {
    int via_tcp = connected > 0;
    relay(listener, bytes, len);
    for (int r = 0; r < size; r++) {
        if (peer[r] >= 0) {
            close(peer[r]);
        }
    }
    if (!is_release(bytes)) {
        resume("outcome", bytes);
    }
    start_program(-1, argv, bytes, via_tcp ? "tcp" : "file");
}

/*
 * Decides o through the claim and relays what was decided (o, or the outcome that won); a release then starts the
 * program, anything else goes back to the JVM.
 */
static void decide(int listener, char **argv, const char *o) {
    static char won[MAX_OUTCOME + 1];
    size_t len = strlen(o);
    int c = claim_outcome(o, len);
    if (c == 1) {
        memcpy(won, o, len + 1);
    } else {
        /* lost: the winner is writing the outcome right now (Claim.winners) */
        len = 0;
        for (int i = 0; i < 10000 && len == 0; i++) {
            len = read_outcome(won, MAX_OUTCOME);
            if (len == 0) {
                usleep(1000);
            }
        }
        if (len == 0) {
            resume("outcome", ""); /* the JVM names the directory whose claim has no outcome */
        }
    }
    finish(listener, argv, won, len);
}

static void leader(int listener, char **argv) {
    size = (int)env_ll("MUSTER_WAIT_SIZE", 0);
    const char *hex = getenv("MUSTER_WAIT_TOKEN");
    const char *release = getenv("MUSTER_WAIT_RELEASE");
    const char *policy = getenv("MUSTER_WAIT_POLICY");
    int type = 0, on = 0;
    socklen_t tl = sizeof type, ol = sizeof on;
    if (size < 2 || !hex || strlen(hex) % 2 || strlen(hex) > 2 * sizeof token || !release ||
        getsockopt(listener, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM ||
        getsockopt(listener, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) != 0 || !on) {
        say("error: ", "muster-wait: rank 0's wait was handed over incompletely (docs/barrier.md)");
        _exit(70);
    }
    token_len = strlen(hex) / 2;
    for (size_t i = 0; i < token_len; i++) {
        token[i] = (unsigned char)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
    }
    policy_sync = policy && strcmp(policy, "sync") == 0;
    policy_hold = policy && (policy_sync || strcmp(policy, "hold") == 0);
    debug = getenv("MUSTER_WAIT_DEBUG") != NULL;
    fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
    fcntl(listener, F_SETFD, FD_CLOEXEC);
    pend = calloc(MAX_PENDING, sizeof *pend);
    peer = malloc((size_t)size * sizeof *peer);
    leaving = calloc((size_t)size, 1);
    arrived_ = calloc((size_t)size, 1);
    struct pollfd *pfd = malloc(((size_t)size + MAX_PENDING + 1) * sizeof *pfd);
    int *who = malloc(((size_t)size + MAX_PENDING + 1) * sizeof *who);
    if (!pend || !peer || !leaving || !arrived_ || !pfd || !who) {
        say("error: ", "muster-wait: out of memory");
        _exit(70);
    }
    for (int r = 0; r < size; r++) {
        peer[r] = -1;
    }
    arrived_[0] = 1;
    long long deadline = env_ll("MUSTER_WAIT_DEADLINE", 0);
    long long progress = env_ll("MUSTER_WAIT_PROGRESS", deadline);
    long long every = env_ll("MUSTER_WAIT_EVERY", 10000000000LL);
    long long ceiling = env_ll("MUSTER_WAIT_POLL_MAX", 100000000LL), step = 1000000LL;
    int quiet = getenv("MUSTER_WAIT_QUIET") != NULL;
    long long now = now_ns(CLOCK_MONOTONIC), next_files = now, next_beat = now + BEAT_NS;
    srand((unsigned)(now ^ getpid()));
    static char buf[MAX_OUTCOME + 1];
    /* the hellos that waited in the backlog are answered before any file is counted (TcpLeader) */
    accept_all(listener, now);
    while (1) {
        if (caught) {
            claim_abort(caught); /* the JVM started again finds the abort decided, as after a follower's signal */
            resume("signal", caught == SIGTERM ? "TERM" : caught == SIGINT ? "INT" : "HUP");
        }
        if (now >= next_files) {
            size_t n = read_outcome(buf, MAX_OUTCOME);
            if (n > 0) {
                if (strncmp(buf, "muster-outcome 1\n", 17) != 0) {
                    resume("outcome", buf); /* the JVM names what wrote there */
                }
                finish(listener, argv, buf, n);
            }
            if (count() < size) {
                list_arrivals();
            }
            long long b = step / 2 + (long long)((double)rand() / RAND_MAX * (double)(step / 2));
            next_files = now + (b < 1 ? 1 : b);
            step = step * 2 < ceiling ? step * 2 : ceiling;
        }
        if (lost >= 0) {
            char o[512];
            snprintf(o, sizeof o,
                "muster-outcome 1\nkind=abort\nrank=%d\ncode=0\nreason=rank %d's connection to rank 0 closed before "
                "the release (the task was killed, or its node failed)\nmissing=\nend\n",
                lost, lost);
            decide(listener, argv, o);
        }
        if (count() == size) {
            debugf("all %lld arrived, %lld by TCP", size, connected);
            decide(listener, argv, release);
        }
        if (now >= deadline) {
            size_t cap = (size_t)size * 11 + 128;
            char *o = malloc(cap), *m = malloc(cap);
            if (!o || !m) {
                _exit(70);
            }
            missing_ranks(m, cap, 1);
            snprintf(o, cap, "muster-outcome 1\nkind=timeout\nrank=0\ncode=0\nreason=\nmissing=%s\nend\n", m);
            decide(listener, argv, o);
        }
        if (now >= progress) {
            if (!quiet) {
                char m[256], line[512];
                missing_ranks(m, sizeof m, 0);
                snprintf(line, sizeof line, "%d/%d arrived (%d by TCP), waiting for %s (%lld s left)", count(), size,
                    connected, m, (deadline - now) / 1000000000LL);
                say("", line);
            }
            progress = now + every;
        }
        if (now >= next_beat) {
            for (int r = 0; r < size; r++) {
                if (peer[r] >= 0) {
                    ssize_t ignored = send(peer[r], "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                    (void)ignored; /* its close shows in the next poll */
                }
            }
            next_beat = now + BEAT_NS;
        }
        long long until = next_files;
        until = deadline < until ? deadline : until;
        until = progress < until ? progress : until;
        until = next_beat < until ? next_beat : until;
        int n = 0;
        pfd[n].fd = listener;
        pfd[n].events = POLLIN;
        who[n++] = -1;
        for (int i = 0; i < npend; i++) {
            pfd[n].fd = pend[i].fd;
            pfd[n].events = POLLIN;
            who[n++] = -2 - i;
        }
        for (int r = 0; r < size; r++) {
            if (peer[r] >= 0) {
                pfd[n].fd = peer[r];
                pfd[n].events = POLLIN;
                who[n++] = r;
            }
        }
        long long ms = (until - now + 999999) / 1000000LL;
        int ready = poll(pfd, (nfds_t)n, ms < 0 ? 0 : ms > 1000 ? 1000 : (int)ms);
        now = now_ns(CLOCK_MONOTONIC);
        if (ready > 0) {
            /* pending connections from the last first: reading one may remove it, shifting those after it */
            for (int k = n - 1; k > 0; k--) {
                if (pfd[k].revents && who[k] >= 0 && peer[who[k]] == pfd[k].fd) {
                    read_peer(who[k]);
                } else if (pfd[k].revents && who[k] <= -2 && -2 - who[k] < npend && pend[-2 - who[k]].fd == pfd[k].fd) {
                    read_hello(-2 - who[k]);
                }
            }
            if (pfd[0].revents) {
                accept_all(listener, now);
            }
        }
        while (npend > 0 && now - pend[0].since >= HELLO_NS) {
            refuse(0); /* no hello within 2 s; oldest first */
        }
    }
}

static int debug_on(void) {
    return getenv("MUSTER_WAIT_DEBUG") != NULL;
}

/* The task's arrival file (StepFiles.writeArrival), once: MUSTER_WAIT_ARRIVAL, with MUSTER_WAIT_ARRIVAL_INFO. */
static void write_arrival(void) {
    static int written;
    const char *path = getenv("MUSTER_WAIT_ARRIVAL");
    const char *info = getenv("MUSTER_WAIT_ARRIVAL_INFO");
    if (written || !path || !info) {
        return;
    }
    written = 1;
    char group[4096];
    snprintf(group, sizeof group, "%s", path);
    char *slash = strrchr(group, '/');
    if (slash) {
        *slash = 0;
        mkdir(group, 0700); /* rank 0 or another task of the group may have made it */
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    struct stat st;
    size_t len = strlen(info);
    int ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) == 0 &&
             write(fd, info, len) == (ssize_t)len;
    if (!ok) {
        char m[4200];
        snprintf(m, sizeof m, "cannot write the arrival file %s (%s); the release still comes over TCP", path,
            strerror(errno));
        say("warning: ", m);
    }
    if (fd >= 0) {
        close(fd);
    }
}

/* An outcome found in the file before rank 0 answered: a release (rank 0 counted this task by its arrival file)
   starts the program, as TcpFollower's finish does; anything else goes to the JVM. */
static void decided_by_file(char **argv, char *outcome) {
    write_arrival();
    if (is_release(outcome)) {
        start_program(-1, argv, outcome, "file");
    }
    resume("outcome", outcome);
}

/*
 * The hello was not accepted: rank 0 closed the connection, or something else answered. Rank 0 closes its listener
 * once it has decided: the outcome is then in the file (looked at as TcpFollower does, 10, 20 and 40 ms apart);
 * otherwise the JVM starts again and waits anew in itself, as after a refused connection.
 */
static void unanswered(int fd, char **argv, const char *why) {
    static char buf[MAX_OUTCOME + 1];
    close(fd);
    for (int pause = 10; pause <= 40; pause *= 2) {
        if (read_outcome(buf, MAX_OUTCOME) > 0) {
            decided_by_file(argv, buf);
        }
        usleep((useconds_t)pause * 1000);
    }
    resume("refused", why);
}

int main(int argc, char **argv) {
    const char *p = getenv("MUSTER_WAIT_PREFIX");
    if (p) {
        prefix = strdup(p);
    }
    int listener = (int)env_ll("MUSTER_WAIT_LISTEN", -1);
    int fd = listener >= 3 ? listener : (int)env_ll("MUSTER_WAIT_FD", -1);
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

    if (listener >= 3) {
        leader(listener, argv);
    }
    long long deadline = env_ll("MUSTER_WAIT_DEADLINE", 0);
    long long heard = env_ll("MUSTER_WAIT_HEARD", now_ns(CLOCK_MONOTONIC));
    long long progress = env_ll("MUSTER_WAIT_PROGRESS", deadline);
    long long every = env_ll("MUSTER_WAIT_EVERY", 30000000000LL);
    int quiet = getenv("MUSTER_WAIT_QUIET") != NULL;
    static char buf[MAX_OUTCOME + 1];
    size_t have = 0;
    char detail[256];
    /* The hello, when this waiter sends it (MUSTER_WAIT_HELLO): the task arrives now, not when its JVM connected,
       and waits for rank 0's ok as TcpFollower does, looking at the outcome file once a second meanwhile. */
    const char *hello = getenv("MUSTER_WAIT_HELLO");
    int answered = hello == NULL;
    const char *policy = getenv("MUSTER_WAIT_POLICY");
    policy_sync = policy && strcmp(policy, "sync") == 0; /* a caching mount: as PolledFile reads it; no held file */
    long long ok_round = 0, write_arrival_at = 0;
    if (hello && !caught) { /* a signal caught during the hand-off ends the task before it arrives */
        size_t hl = strlen(hello);
        if (getenv("MUSTER_WAIT_ARRIVAL")) {
            arrive_us = now_ns(CLOCK_REALTIME) / 1000; /* the hello is the arrival (else the JVM's file was) */
        }
        if (send(fd, hello, hl, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)hl) {
            unanswered(fd, argv, strerror(errno));
        }
        if (debug_on()) {
            say("", "hello sent to rank 0");
        }
        ok_round = now_ns(CLOCK_MONOTONIC) + 1000000000LL;
    }
    while (1) {
        if (caught) {
            claim_abort(caught); /* (no arrival file: a task that dies of the signal needs none) */
            resume("signal", caught == SIGTERM ? "TERM" : caught == SIGINT ? "INT" : "HUP");
        }
        long long now = now_ns(CLOCK_MONOTONIC);
        if (now >= deadline) {
            ssize_t ignored = send(fd, "bye\n", 4, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)ignored;
            write_arrival(); /* before the JVM's listing, so that a short --timeout does not name this task */
            snprintf(detail, sizeof detail, "%lld", now - heard);
            resume("deadline", detail);
        }
        if (!answered && now >= ok_round) {
            /* rank 0 answers once it has arrived itself: be counted (and named in a timeout) by the file meanwhile,
               and see an outcome decided without this task */
            if (debug_on()) {
                say("", "no answer to the hello yet");
            }
            write_arrival();
            size_t n = read_outcome(buf, MAX_OUTCOME);
            if (n > 0) {
                close(fd);
                decided_by_file(argv, buf);
            }
            ok_round = now + 1000000000LL;
        }
        if (write_arrival_at && now >= write_arrival_at) {
            write_arrival(); /* for the timeout lists and the clean-up; the release came later than usual */
            write_arrival_at = 0;
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
        until = !answered && ok_round < until ? ok_round : until;
        until = write_arrival_at && write_arrival_at < until ? write_arrival_at : until;
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
        if (n <= 0 && !answered) {
            unanswered(fd, argv, n == 0 ? "rank 0 closed the connection before accepting it" : strerror(errno));
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
        if (!answered) {
            if (have < 3) {
                continue;
            }
            if (memcmp(buf, "ok\n", 3) != 0) {
                unanswered(fd, argv, "the listener answered something else: it is not muster's");
            }
            answered = 1;
            memmove(buf, buf + 3, have - 3);
            have -= 3;
            write_arrival_at = heard + 500000000LL; /* TcpFollower.ARRIVAL_FILE_DELAY_NANOS */
            if (debug_on()) {
                say("", "connected to rank 0: it accepted the hello");
            }
        }
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
        start_program(fd, argv, buf, "tcp");
    }
}
