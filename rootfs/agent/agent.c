/* berth-agent: the guest half of the engine <-> guest channel.
 *
 * One thread, one poll loop. It reads frames (protocol.h) from the channel
 * device, runs processes with piped or pty stdio and streams their output back,
 * and drives crun for containers. It is a child subreaper, so container init
 * processes that crun leaves behind are reaped here and their exits reported.
 * A bad frame is answered with BT_ERROR or skipped; nothing a frame says can
 * make the agent exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "protocol.h"

#ifndef SYS_close_range
#define SYS_close_range 436 /* i386, Linux 5.9 */
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2) /* Linux 5.11 */
#endif

#define MAX_PROCS 256
#define MAX_STRS 512
#define CRUN "/usr/bin/crun"
#define STALL_MS 500

struct proc {
  int used;
  uint32_t id;
  pid_t pid;          /* the process whose exit is reported */
  pid_t helper;       /* `crun create` while it runs, else 0 */
  int in, out, err;   /* our ends; -1 when closed */
  int exited, status;
  char name[128];     /* container name, or "" for a plain process */
  char bundle[256];
  int console;        /* a tty container: the socket crun hands the pty master over, else -1 */
};

static struct proc procs[MAX_PROCS];

/* docker clients connected on BT_DOCKER_SOCK; their frames are relayed to the
 * engine under a session id, and the engine's answers back to them */
#define MAX_CLIENTS 32
#define CLIENT_BUF (256 * 1024)
struct client { int fd; uint32_t id; size_t len; uint8_t *buf; };
static struct client clients[MAX_CLIENTS];
static uint32_t next_client_id = 0x40000000u;
static int chan = -1;
static uint8_t rbuf[2 * (BT_HEADER + BT_MAX_PAYLOAD + BT_TRAILER)];
static size_t rlen;

#define put32 bt_put32
#define get32 bt_get32

/* patience: how many 100 ms waits for a full pipe before the rest is dropped
 * (-1: forever, for the channel, which the engine always drains) */
static void write_all_wait(int fd, const uint8_t *p, size_t n, int patience) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && patience != 0) {
        struct pollfd q = {fd, POLLOUT, 0};
        if (poll(&q, 1, 100) == 0 && patience > 0) patience--;
        continue;
      }
      return;
    }
    p += w; n -= w;
  }
}
static void write_all(int fd, const uint8_t *p, size_t n) { write_all_wait(fd, p, n, -1); }

static void send_frame(uint8_t type, uint32_t id, const void *data, size_t n) {
  static uint8_t out[BT_HEADER + 65536 + BT_TRAILER];
  const uint8_t *d = data;
  do { /* long payloads go out as several frames of the same type */
    size_t part = n > 65536 ? 65536 : n;
    out[0] = BT_MAGIC0; out[1] = BT_MAGIC1; out[2] = type; out[3] = 0;
    put32(out + 4, id); put32(out + 8, part);
    if (part) memcpy(out + BT_HEADER, d, part);
    put32(out + BT_HEADER + part, bt_crc32(out, BT_HEADER + part));
    write_all(chan, out, BT_HEADER + part + BT_TRAILER);
    d += part; n -= part;
  } while (n);
}

static void send_text(uint8_t type, uint32_t id, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  send_frame(type, id, msg, n < 0 ? 0 : (size_t)n >= sizeof msg ? sizeof msg - 1 : (size_t)n);
}

/* Payload = a list of (u32 length, bytes) strings; each is NUL-terminated in place
 * by copying into a scratch area, so handlers can use them as C strings. */
struct strs { int n; char *s[MAX_STRS]; size_t len[MAX_STRS]; };
static char scratch[BT_MAX_PAYLOAD + MAX_STRS];

static int parse_strs(const uint8_t *p, size_t n, struct strs *out) {
  size_t off = 0, so = 0;
  out->n = 0;
  while (off < n) {
    if (n - off < 4 || out->n == MAX_STRS) return -1;
    uint32_t l = get32(p + off);
    off += 4;
    if (l > n - off) return -1;
    memcpy(scratch + so, p + off, l);
    scratch[so + l] = 0;
    out->s[out->n] = scratch + so;
    out->len[out->n++] = l;
    so += l + 1; off += l;
  }
  return 0;
}

static struct proc *find_id(uint32_t id) {
  for (int i = 0; i < MAX_PROCS; i++) if (procs[i].used && procs[i].id == id) return &procs[i];
  return NULL;
}
static struct proc *find_name(const char *name) {
  for (int i = 0; i < MAX_PROCS; i++) if (procs[i].used && procs[i].name[0] && !strcmp(procs[i].name, name)) return &procs[i];
  return NULL;
}
static struct proc *new_proc(uint32_t id) {
  if (find_id(id)) return NULL;
  for (int i = 0; i < MAX_PROCS; i++)
    if (!procs[i].used) {
      memset(&procs[i], 0, sizeof procs[i]);
      procs[i].used = 1; procs[i].id = id; procs[i].in = procs[i].out = procs[i].err = procs[i].console = -1;
      return &procs[i];
    }
  return NULL;
}

static void close_fd(int *fd) { if (*fd >= 0) close(*fd); *fd = -1; }

/* A process is finished once it was reaped and its output fully drained. */
static void maybe_finish(struct proc *p) {
  if (!p->exited || p->helper || p->out >= 0 || p->err >= 0) return;
  int32_t code = WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 128 + WTERMSIG(p->status);
  uint8_t b[4];
  put32(b, (uint32_t)code);
  send_frame(BT_EXIT, p->id, b, 4);
  close_fd(&p->in);
  p->used = 0;
}

/* fork + exec with stdio wired to pipes (or a pty). Returns the pid or -1 (errno set). */
static pid_t spawn(struct proc *p, char **argv, char **envp, const char *cwd, int flags) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, ex[2];
  int master = -1;
  if (pipe2(ex, O_CLOEXEC) < 0) return -1;
  if (flags & BT_F_TTY) {
    int slave;
    if (openpty(&master, &slave, NULL, NULL, NULL) < 0) { close(ex[0]); close(ex[1]); return -1; }
    in[0] = slave; out[1] = dup(slave); err[1] = dup(slave);
  } else {
    if (flags & BT_F_STDIN) { if (pipe2(in, O_CLOEXEC) < 0) return -1; }
    else in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    setsid();
    if (flags & BT_F_TTY) ioctl(in[0], TIOCSCTTY, 0);
    dup2(in[0], 0); dup2(out[1], 1); dup2(err[1], 2);
    /* Every other descriptor is closed at exec. One close_range call instead of
     * a close() per possible fd: 1021 syscalls in emulated time were most of
     * the cost of an exec (1.2M guest instructions for /bin/true). */
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
      for (int fd = 3; fd < 1024; fd++) if (fd != ex[1]) close(fd);
    if (cwd && *cwd && chdir(cwd) < 0) { int e = errno; write(ex[1], &e, sizeof e); _exit(127); }
    execvpe(argv[0], argv, envp);
    int e = errno;
    write(ex[1], &e, sizeof e);
    _exit(e == ENOENT ? 127 : 126);
  }
  int saved = errno;
  close(ex[1]);
  if (in[0] >= 0) close(in[0]);
  if (out[1] >= 0) close(out[1]);
  if (err[1] >= 0) close(err[1]);
  if (pid < 0) { close(ex[0]); errno = saved; return -1; }
  int e = 0;
  ssize_t r;
  do r = read(ex[0], &e, sizeof e); while (r < 0 && errno == EINTR);
  close(ex[0]);
  if (flags & BT_F_TTY) { p->in = master; p->out = dup(master); p->err = -1; fcntl(p->out, F_SETFD, FD_CLOEXEC); fcntl(master, F_SETFD, FD_CLOEXEC); }
  else { p->in = in[1]; p->out = out[0]; p->err = err[0]; }
  if (p->in >= 0) fcntl(p->in, F_SETFL, O_NONBLOCK);
  if (p->out >= 0) fcntl(p->out, F_SETFL, O_NONBLOCK);
  if (p->err >= 0) fcntl(p->err, F_SETFL, O_NONBLOCK);
  if (r == sizeof e) { /* exec failed: the child exits 126/127 and we report why */
    send_text(BT_STDERR, p->id, "%s: %s\n", argv[0], strerror(e));
  }
  return pid;
}

static void do_exec(uint32_t id, uint8_t flags, struct strs *a) {
  /* strings: argc, envc, argv..., env..., cwd */
  if (a->n < 3) { send_text(BT_ERROR, id, "exec: malformed request"); return; }
  int argc = atoi(a->s[0]), envc = atoi(a->s[1]);
  if (argc < 1 || envc < 0 || argc + envc + 3 != a->n) { send_text(BT_ERROR, id, "exec: malformed request"); return; }
  struct proc *p = new_proc(id);
  if (!p) { send_text(BT_ERROR, id, "exec: id in use or too many processes"); return; }
  char *argv[MAX_STRS + 1], *envp[MAX_STRS + 1];
  for (int i = 0; i < argc; i++) argv[i] = a->s[2 + i];
  argv[argc] = NULL;
  for (int i = 0; i < envc; i++) envp[i] = a->s[2 + argc + i];
  envp[envc] = NULL;
  pid_t pid = spawn(p, argv, envp, a->s[2 + argc + envc], flags);
  if (pid < 0) { send_text(BT_ERROR, id, "exec: %s", strerror(errno)); p->used = 0; return; }
  p->pid = pid;
}

static int write_file(const char *path, const char *data, size_t n, mode_t mode) {
  char tmp[512];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < n) {
    ssize_t w = write(fd, data + off, n - off);
    if (w < 0) { if (errno == EINTR) continue; close(fd); return -1; }
    off += w;
  }
  if (close(fd) < 0) return -1;
  return rename(tmp, path);
}

static int mkdirs(const char *path) {
  char b[512];
  snprintf(b, sizeof b, "%s", path);
  for (char *s = b + 1; *s; s++)
    if (*s == '/') { *s = 0; if (mkdir(b, 0755) < 0 && errno != EEXIST) return -1; *s = '/'; }
  return mkdir(b, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* overlay of the given lower dirs (top first, like overlayfs) with a fresh tmpfs
 * holding upper and work, so writes never reach the 9p share. */
static void do_mount_overlay(uint32_t id, struct strs *a) {
  if (a->n < 2) { send_text(BT_ERROR, id, "mount: malformed request"); return; }
  const char *target = a->s[0];
  char state[512], upper[600], work[600], opts[8192];
  snprintf(state, sizeof state, "%s.rw", target);
  if (mkdirs(target) < 0 || mkdirs(state) < 0) { send_text(BT_ERROR, id, "mount: cannot create %s: %s", target, strerror(errno)); return; }
  if (mount("tmpfs", state, "tmpfs", 0, "mode=0755") < 0) { send_text(BT_ERROR, id, "mount: tmpfs on %s: %s", state, strerror(errno)); return; }
  snprintf(upper, sizeof upper, "%s/upper", state);
  snprintf(work, sizeof work, "%s/work", state);
  mkdir(upper, 0755); mkdir(work, 0755);
  size_t o = snprintf(opts, sizeof opts, "lowerdir=");
  for (int i = 1; i < a->n && o < sizeof opts; i++) o += snprintf(opts + o, sizeof opts - o, "%s%s", i > 1 ? ":" : "", a->s[i]);
  if (o < sizeof opts) o += snprintf(opts + o, sizeof opts - o, ",upperdir=%s,workdir=%s", upper, work);
  if (o >= sizeof opts) { umount(state); send_text(BT_ERROR, id, "mount: too many layers"); return; }
  if (mount("overlay", target, "overlay", 0, opts) < 0) { int e = errno; umount(state); send_text(BT_ERROR, id, "mount: overlay on %s: %s", target, strerror(e)); return; }
  send_frame(BT_OK, id, NULL, 0);
}

/* crun subcommands that finish quickly run synchronously: their stderr becomes the error. */
static int run_crun(uint32_t id, char *const argv[]) {
  int err[2];
  if (pipe2(err, O_CLOEXEC) < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    int nul = open("/dev/null", O_RDWR);
    dup2(nul, 0); dup2(nul, 1); dup2(err[1], 2);
    execv(CRUN, argv);
    _exit(127);
  }
  close(err[1]);
  char msg[400];
  size_t n = 0;
  ssize_t r;
  while ((r = read(err[0], msg + n, sizeof msg - 1 - n)) > 0 || (r < 0 && errno == EINTR)) if (r > 0) n += r;
  close(err[0]);
  msg[n] = 0;
  while (n && (msg[n - 1] == '\n')) msg[--n] = 0;
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  send_text(BT_ERROR, id, "%s", n ? msg : "crun failed");
  return -1;
}

static void do_ct_create(uint32_t id, uint8_t flags, struct strs *a) {
  if (a->n != 3 || !a->len[0]) { send_text(BT_ERROR, id, "create: malformed request"); return; }
  if (find_name(a->s[0])) { send_text(BT_ERROR, id, "create: container %s exists", a->s[0]); return; }
  struct proc *p = new_proc(id);
  if (!p) { send_text(BT_ERROR, id, "create: id in use or too many processes"); return; }
  snprintf(p->name, sizeof p->name, "%s", a->s[0]);
  snprintf(p->bundle, sizeof p->bundle, "%s", a->s[1]);
  char path[400], pidfile[400];
  snprintf(path, sizeof path, "%s/config.json", p->bundle);
  snprintf(pidfile, sizeof pidfile, "%s/pid", p->bundle);
  if (mkdirs(p->bundle) < 0 || write_file(path, a->s[2], a->len[2], 0644) < 0) {
    send_text(BT_ERROR, id, "create: cannot write %s: %s", path, strerror(errno)); p->used = 0; return;
  }
  /* `crun create` returns once the container waits for `start`; its init keeps our
   * pipes, or, for a tty container (config "terminal": true), a pty crun makes in the
   * container and hands us the master of over --console-socket (SCM_RIGHTS). */
  char sock[400];
  snprintf(sock, sizeof sock, "%s/console.sock", p->bundle);
  char *argv[10] = {"crun", "create", "--bundle", p->bundle, "--pid-file", pidfile, NULL, NULL, NULL, NULL};
  int n = 5;
  if (flags & BT_F_TTY) {
    unlink(sock);
    p->console = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(sock) >= sizeof sa.sun_path) { send_text(BT_ERROR, id, "create: bundle path too long for a socket"); close_fd(&p->console); p->used = 0; return; }
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    if (p->console < 0 || bind(p->console, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(p->console, 1) < 0) {
      send_text(BT_ERROR, id, "create: console socket: %s", strerror(errno)); close_fd(&p->console); p->used = 0; return;
    }
    argv[++n] = "--console-socket";
    argv[++n] = sock;
  }
  argv[++n] = p->name;
  pid_t pid = spawn(p, argv, (char *[]){NULL}, "/", (flags & ~BT_F_TTY) | BT_F_STDIN);
  if (pid < 0) { send_text(BT_ERROR, id, "create: %s", strerror(errno)); p->used = 0; return; }
  p->helper = pid;
}

/* The pty master crun sent over the console socket (it connected before it exited). */
static int take_console(struct proc *p) {
  struct pollfd q = {p->console, POLLIN, 0};
  if (poll(&q, 1, 2000) <= 0) return -1;
  int c = accept4(p->console, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return -1;
  char data[256];
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
  struct iovec iov = {data, sizeof data};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  int fd = -1;
  if (recvmsg(c, &m, MSG_CMSG_CLOEXEC) >= 0) {
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(h), sizeof fd);
  }
  close(c);
  return fd;
}

static void helper_done(struct proc *p, int st) {
  p->helper = 0;
  if (p->console >= 0) {
    int master = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? take_console(p) : -1;
    close_fd(&p->console);
    if (master >= 0) {
      /* from now on the container's terminal is all there is to relay */
      close_fd(&p->in); close_fd(&p->out); close_fd(&p->err);
      p->in = master;
      p->out = dup(master);
      fcntl(p->out, F_SETFD, FD_CLOEXEC);
      fcntl(p->out, F_SETFL, O_NONBLOCK);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
      st = 1 << 8; /* created, but no terminal came: treat as a failure below */
      char *kill9[] = {"crun", "delete", "-f", p->name, NULL};
      run_crun(p->id, kill9);
    }
  }
  char pidfile[400], buf[32] = {0};
  snprintf(pidfile, sizeof pidfile, "%s/pid", p->bundle);
  int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && fd >= 0 && read(fd, buf, sizeof buf - 1) > 0) {
    p->pid = atoi(buf);
    close(fd);
    send_frame(BT_OK, p->id, NULL, 0);
    return;
  }
  if (fd >= 0) close(fd);
  /* creation failed: whatever crun said went out as BT_STDERR; the request fails */
  send_text(BT_ERROR, p->id, "create: crun exited with %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  close_fd(&p->in); close_fd(&p->out); close_fd(&p->err);
  p->used = 0;
}

static void do_ct_simple(uint32_t id, uint8_t type, struct strs *a) {
  if (a->n < 1 || !a->len[0] || (type == BT_CT_KILL && a->n != 2)) { send_text(BT_ERROR, id, "container: malformed request"); return; }
  char *argv[8] = {"crun"};
  if (type == BT_CT_START) { argv[1] = "start"; argv[2] = a->s[0]; }
  else if (type == BT_CT_KILL) { argv[1] = "kill"; argv[2] = a->s[0]; argv[3] = a->s[1]; }
  else { argv[1] = "delete"; argv[2] = "-f"; argv[3] = a->s[0]; }
  if (run_crun(id, argv) == 0) send_frame(BT_OK, id, NULL, 0);
}

static struct client *find_client(uint32_t id) {
  for (int i = 0; i < MAX_CLIENTS; i++) if (clients[i].fd >= 0 && clients[i].id == id) return &clients[i];
  return NULL;
}

static void drop_client(struct client *c, int tell_engine) {
  if (tell_engine) send_frame(BT_CLI_CLOSE, c->id, NULL, 0);
  close(c->fd);
  c->fd = -1;
  free(c->buf);
  c->buf = NULL;
}

static void to_client(struct client *c, uint8_t type, const uint8_t *p, uint32_t n) {
  static uint8_t out[BT_HEADER + BT_MAX_PAYLOAD + BT_TRAILER];
  size_t len = bt_encode(out, type, 0, c->id, p, n);
  write_all_wait(c->fd, out, len, 50);
}

static void handle(uint8_t type, uint8_t flags, uint32_t id, const uint8_t *p, uint32_t n) {
  struct strs a;
  switch (type) {
  case BT_CLI_STDOUT: case BT_CLI_STDERR: case BT_CLI_EXIT: case BT_CLI_RAW: case BT_CLI_SIGPROXY: {
    struct client *c = find_client(id);
    if (!c) return; /* the client went away: nothing to deliver */
    to_client(c, type == BT_CLI_STDOUT ? BT_STDOUT : type == BT_CLI_STDERR ? BT_STDERR : type == BT_CLI_EXIT ? BT_EXIT : type, p, n);
    if (type == BT_CLI_EXIT) drop_client(c, 0);
    return;
  }
  case BT_HELLO:
    send_frame(BT_READY, id, BT_VERSION, strlen(BT_VERSION));
    return;
  case BT_STDIN: {
    struct proc *pr = find_id(id);
    if (!pr || pr->in < 0) return; /* the process is gone: input is dropped, like a closed pipe */
    if (n == 0) { close_fd(&pr->in); return; }
    /* a process that does not read its stdin must not stall the agent: 5 s, then drop */
    write_all_wait(pr->in, p, n, 50);
    return;
  }
  case BT_SIGNAL: {
    struct proc *pr = find_id(id);
    if (n != 4) { send_text(BT_ERROR, id, "signal: malformed request"); return; }
    if (pr && pr->pid > 0) kill(pr->pid, (int)get32(p));
    return;
  }
  case BT_RESIZE: {
    struct proc *pr = find_id(id);
    if (n != 4 || !pr || pr->in < 0) return;
    struct winsize ws = {.ws_row = p[0] | p[1] << 8, .ws_col = p[2] | p[3] << 8};
    ioctl(pr->in, TIOCSWINSZ, &ws);
    return;
  }
  case BT_SET_TIME: {
    if (n != 8) { send_text(BT_ERROR, id, "time: malformed request"); return; }
    uint64_t ms = get32(p) | (uint64_t)get32(p + 4) << 32;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    if (settimeofday(&tv, NULL) < 0) send_text(BT_ERROR, id, "time: %s", strerror(errno));
    else send_frame(BT_OK, id, NULL, 0);
    return;
  }
  }
  if (parse_strs(p, n, &a) < 0) { send_text(BT_ERROR, id, "malformed request (type %u)", type); return; }
  switch (type) {
  case BT_EXEC: do_exec(id, flags, &a); return;
  case BT_WRITE_FILE:
    if (a.n != 3) { send_text(BT_ERROR, id, "write: malformed request"); return; }
    if (write_file(a.s[0], a.s[2], a.len[2], strtol(a.s[1], NULL, 8)) < 0) send_text(BT_ERROR, id, "write: %s: %s", a.s[0], strerror(errno));
    else send_frame(BT_OK, id, NULL, 0);
    return;
  case BT_MOUNT_OVERLAY: do_mount_overlay(id, &a); return;
  case BT_CT_CREATE: do_ct_create(id, flags, &a); return;
  case BT_CT_START: case BT_CT_KILL: case BT_CT_DELETE: do_ct_simple(id, type, &a); return;
  default: send_text(BT_ERROR, id, "unknown request type %u", type);
  }
}

/* Take every whole frame out of rbuf; resynchronise past garbage. With
 * `stalled`, the frame at the head has waited too long for its remaining bytes:
 * it was truncated, so drop its first byte and rescan (what followed it is
 * found again inside the buffer). */
static void parse_frames(int stalled) {
  size_t off = stalled && rlen ? 1 : 0;
  while (rlen - off >= BT_HEADER + BT_TRAILER) {
    uint8_t *f = rbuf + off;
    uint32_t n = get32(f + 8);
    if (f[0] != BT_MAGIC0 || f[1] != BT_MAGIC1 || n > BT_MAX_PAYLOAD) { off++; continue; }
    if (rlen - off < BT_HEADER + n + BT_TRAILER) break;
    if (bt_crc32(f, BT_HEADER + n) != get32(f + BT_HEADER + n)) { off++; continue; }
    handle(f[2], f[3], get32(f + 4), f + BT_HEADER, n);
    off += BT_HEADER + n + BT_TRAILER;
  }
  memmove(rbuf, rbuf + off, rlen - off);
  rlen -= off;
}

static void reap(void) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (int i = 0; i < MAX_PROCS; i++) {
      struct proc *p = &procs[i];
      if (!p->used) continue;
      if (p->helper == pid) { helper_done(p, st); break; }
      if (p->pid == pid && !p->helper) { p->exited = 1; p->status = st; maybe_finish(p); break; }
    }
  }
}

static void pump(struct proc *p, int *fd, uint8_t type) {
  static uint8_t buf[32768];
  ssize_t r = read(*fd, buf, sizeof buf);
  if (r > 0) send_frame(type, p->id, buf, r);
  else if (r == 0 || (errno != EAGAIN && errno != EINTR)) { close_fd(fd); maybe_finish(p); }
}

/* The channel is the virtio-console port the host names `want` (v86 names port N
 * "virtio-N"); its /dev node depends on probe order, so look it up by name. */
static int open_raw(const char *path) {
  int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
  struct termios t;
  if (fd >= 0 && tcgetattr(fd, &t) == 0) { cfmakeraw(&t); tcsetattr(fd, TCSANOW, &t); }
  return fd;
}

/* `want` is a device path (e.g. /dev/ttyS1, put in raw mode if a tty) or a port name. */
static int open_port(const char *want) {
  if (want[0] == '/') return open_raw(want);
  char path[300], name[64];
  for (int dev = 0; dev < 8; dev++)
    for (int port = 0; port < 8; port++) {
      snprintf(path, sizeof path, "/sys/class/virtio-ports/vport%dp%d/name", dev, port);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      ssize_t n = read(fd, name, sizeof name - 1);
      close(fd);
      if (n <= 0) continue;
      name[n] = 0;
      if (name[n - 1] == '\n') name[n - 1] = 0;
      if (strcmp(name, want)) continue;
      snprintf(path, sizeof path, "/dev/vport%dp%d", dev, port);
      fd = open(path, O_RDWR | O_CLOEXEC);
      if (fd >= 0 || errno != ENXIO) return fd;
      /* v86 marks every port a console port, and Linux then serves it as
       * /dev/hvcN (ports get hvc numbers in order) and refuses the vport node */
      snprintf(path, sizeof path, "/dev/hvc%d", port);
      return open_raw(path);
    }
  errno = ENOENT;
  return -1;
}

/* `berth-agent --setup`, run once by init before anything else: the mounts and
 * settings the guest needs. Done here, not in a shell script, because every
 * busybox command costs a fork and exec of a 2 MB binary in emulated time. */
static int setup(void) {
  struct { const char *src, *dst, *type; unsigned long flags; const char *opts; } m[] = {
    {"proc", "/proc", "proc", 0, NULL},
    {"sysfs", "/sys", "sysfs", 0, NULL},
    {"devtmpfs", "/dev", "devtmpfs", 0, NULL},
    {"devpts", "/dev/pts", "devpts", 0, "gid=5,mode=620,ptmxmode=666"},
    {"tmpfs", "/dev/shm", "tmpfs", 0, "mode=1777"},
    {"tmpfs", "/run", "tmpfs", 0, "mode=0755"},
    {"tmpfs", "/tmp", "tmpfs", 0, "mode=1777"},
    {"tmpfs", "/var", "tmpfs", 0, "mode=0755"},
    {"cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL},
    /* the engine's 9p share: unpacked layers, written once under a name that is
     * their content's (the image ID) and read-only after, so the guest may cache
     * them: cache=loose keeps pages and dentries (with cache=none every exec read
     * the whole binary over 9p and `crun create` took ~1 s of lookups) */
    {"host9p", "/mnt/host", "9p", 0, "trans=virtio,version=9p2000.L,msize=512000,cache=loose"},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
    mkdirs(m[i].dst);
    if (mount(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].opts) < 0 && errno != EBUSY) {
      fprintf(stderr, "berth-agent: mount %s on %s: %s\n", m[i].type, m[i].dst, strerror(errno));
      bad = 1;
    }
  }
  const char *dirs[] = {"/var/lib", "/var/log", "/var/run", "/run/crun", "/run/berth"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) mkdirs(dirs[i]);
  /* crun puts containers in child cgroups: let them use these controllers */
  int fd = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "+memory +pids +cpu", 18) < 0) { perror("berth-agent: cgroup controllers"); bad = 1; }
  if (fd >= 0) close(fd);
  /* crun re-executes itself from a sealed copy on every call unless its binary
   * is on a read-only mount (its CVE-2019-5736 guard): make it one */
  if (mount("/usr/bin/crun", "/usr/bin/crun", NULL, MS_BIND, NULL) < 0 ||
      mount(NULL, "/usr/bin/crun", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) { perror("berth-agent: crun read-only"); bad = 1; }
  sethostname("berth", 5);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) perror("berth-agent: lo up");
  if (s >= 0) close(s);
  return bad;
}

static int listen_docker(void) {
  mkdirs("/run/berth");
  unlink(BT_DOCKER_SOCK);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, BT_DOCKER_SOCK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
    perror("berth-agent: " BT_DOCKER_SOCK);
    if (fd >= 0) close(fd);
    return -1;
  }
  chmod(BT_DOCKER_SOCK, 0666);
  return fd;
}

static void accept_client(int lfd) {
  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) return;
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd < 0) {
      clients[i] = (struct client){fd, next_client_id++, 0, malloc(CLIENT_BUF)};
      if (!clients[i].buf) { close(fd); clients[i].fd = -1; }
      return;
    }
  close(fd); /* too many at once */
}

/* Frames from a docker client go to the engine under the client's session id. */
static void read_client(struct client *c) {
  ssize_t r = read(c->fd, c->buf + c->len, CLIENT_BUF - c->len);
  if (r <= 0) {
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    drop_client(c, 1);
    return;
  }
  c->len += r;
  size_t start, flen, skip;
  while (bt_find(c->buf, c->len, &start, &flen, &skip)) {
    const uint8_t *f = c->buf + start;
    uint8_t type = f[2];
    uint32_t n = bt_get32(f + 8);
    if (type == BT_CLI_START) send_frame(BT_CLI_START, c->id, f + BT_HEADER, n);
    else if (type == BT_STDIN) send_frame(BT_CLI_STDIN, c->id, f + BT_HEADER, n);
    else if (type == BT_RESIZE) send_frame(BT_RESIZE, c->id, f + BT_HEADER, n);
    else if (type == BT_CLI_SIGNAL) send_frame(BT_CLI_SIGNAL, c->id, f + BT_HEADER, n);
    memmove(c->buf, c->buf + start + flen, c->len - start - flen);
    c->len -= start + flen;
  }
  if (skip) { memmove(c->buf, c->buf + skip, c->len - skip); c->len -= skip; }
  if (c->len == CLIENT_BUF) drop_client(c, 1); /* a frame larger than we take */
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--setup")) return setup();
  const char *want = argc > 1 ? argv[1] : "virtio-1";
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  /* the port may appear a little after init starts us: wait for it, quietly */
  for (int tries = 0; (chan = open_port(want)) < 0; tries++) {
    if (tries == 50) fprintf(stderr, "berth-agent: waiting for port %s: %s\n", want, strerror(errno));
    usleep(100000);
  }
  for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;
  int lfd = listen_docker();
  /* tell the engine we are here, unasked: it may be waiting since boot */
  send_frame(BT_READY, 0, BT_VERSION, strlen(BT_VERSION));
  struct pollfd fds[3 + 2 * MAX_PROCS + MAX_CLIENTS];
  struct proc *owner[3 + 2 * MAX_PROCS + MAX_CLIENTS];
  struct client *cowner[3 + 2 * MAX_PROCS + MAX_CLIENTS];
  for (;;) {
    int n = 0;
    fds[n++] = (struct pollfd){chan, POLLIN, 0};
    fds[n++] = (struct pollfd){sfd, POLLIN, 0};
    fds[n++] = (struct pollfd){lfd, lfd >= 0 ? POLLIN : 0, 0};
    for (int i = 0; i < MAX_CLIENTS; i++)
      if (clients[i].fd >= 0) { cowner[n] = &clients[i]; owner[n] = NULL; fds[n++] = (struct pollfd){clients[i].fd, POLLIN, 0}; }
    for (int i = 0; i < MAX_PROCS; i++) {
      if (!procs[i].used) continue;
      if (procs[i].out >= 0) { owner[n] = &procs[i]; cowner[n] = NULL; fds[n++] = (struct pollfd){procs[i].out, POLLIN, 0}; }
      if (procs[i].err >= 0) { owner[n] = &procs[i]; cowner[n] = NULL; fds[n++] = (struct pollfd){procs[i].err, POLLIN, 0}; }
    }
    /* a partial frame that gets no more bytes for STALL_MS was truncated */
    int ready = poll(fds, n, rlen ? STALL_MS : -1);
    if (ready == 0) { parse_frames(1); continue; }
    if (ready < 0) continue;
    if (fds[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {}
      reap();
    }
    if (fds[2].revents & POLLIN) accept_client(lfd);
    for (int i = 3; i < n; i++) {
      if (!fds[i].revents) continue;
      if (cowner[i]) {
        if (cowner[i]->fd == fds[i].fd) read_client(cowner[i]);
        continue;
      }
      struct proc *p = owner[i];
      if (!p->used) continue;
      if (fds[i].fd == p->out) pump(p, &p->out, BT_STDOUT);
      else if (fds[i].fd == p->err) pump(p, &p->err, BT_STDERR);
    }
    if (fds[0].revents & POLLIN) {
      ssize_t r = read(chan, rbuf + rlen, sizeof rbuf - rlen);
      if (r > 0) {
        uint8_t b[4];
        put32(b, (uint32_t)r);
        send_frame(BT_ACK, 0, b, 4);
        rlen += r;
        parse_frames(0);
        if (rlen == sizeof rbuf) rlen = 0; /* cannot happen with the size limits; never wedge */
      }
    } else if (fds[0].revents & (POLLHUP | POLLERR)) {
      usleep(100000); /* host side not open yet: wait instead of spinning */
    }
  }
}
