/* docker: the guest's thin Docker CLI. It sends its argv, environment, working
 * directory and terminal state to the engine (through the agent's socket) and
 * relays bytes: the engine parses Docker's flags and prints Docker's output. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "protocol.h"

extern char **environ;

static uint8_t out[BT_HEADER + BT_MAX_PAYLOAD + BT_TRAILER];
static struct termios saved;
static int raw;
static volatile sig_atomic_t winch;
/* signals caught for the engine (docker run --sig-proxy): a bit per signal number */
static volatile sig_atomic_t caught[2];

static void on_winch(int sig) { (void)sig; winch = 1; }
static void on_signal(int sig) { caught[sig / 32] |= 1u << (sig % 32); }

/* the signals Docker's CLI forwards to the container (cli/command/container/signals.go: all but
 * SIGCHLD, SIGPIPE, SIGURG and SIGWINCH); SIGKILL and SIGSTOP cannot be caught */
static const int PROXIED[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS};

static void restore(void) {
  if (raw) tcsetattr(0, TCSANOW, &saved);
  raw = 0;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= w;
  }
  return 0;
}

static size_t put_str(uint8_t *p, const char *s) {
  size_t n = strlen(s);
  bt_put32(p, (uint32_t)n);
  memcpy(p + 4, s, n);
  return 4 + n;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, BT_DOCKER_SOCK);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
    fprintf(stderr, "Cannot connect to the Docker daemon at unix://%s. Is the docker daemon running?\n", BT_DOCKER_SOCK);
    return 1;
  }
  /* the start request: argc, envc, argv..., env..., cwd, tty, rows, cols */
  static uint8_t req[BT_MAX_PAYLOAD];
  size_t n = 0, room = sizeof req;
  int envc = 0;
  while (environ[envc]) envc++;
  char num[32], cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "/");
  struct winsize ws = {0};
  int tty = isatty(0) && isatty(1);
  if (tty) ioctl(1, TIOCGWINSZ, &ws);
  snprintf(num, sizeof num, "%d", argc - 1); n += put_str(req + n, num);
  snprintf(num, sizeof num, "%d", envc); n += put_str(req + n, num);
  for (int i = 1; i < argc; i++) { if (n + strlen(argv[i]) + 4 > room - 8192) goto big; n += put_str(req + n, argv[i]); }
  for (int i = 0; i < envc; i++) { if (n + strlen(environ[i]) + 4 > room - 8192) goto big; n += put_str(req + n, environ[i]); }
  n += put_str(req + n, cwd);
  n += put_str(req + n, tty ? "1" : "0");
  snprintf(num, sizeof num, "%u", ws.ws_row); n += put_str(req + n, num);
  snprintf(num, sizeof num, "%u", ws.ws_col); n += put_str(req + n, num);
  if (write_all(s, out, bt_encode(out, BT_CLI_START, 0, 0, req, n)) < 0) goto lost;

  static uint8_t buf[2 * (BT_HEADER + 65536 + BT_TRAILER)];
  size_t len = 0;
  int in_open = 1;
  if (tty) {
    struct sigaction sa = {.sa_handler = on_winch};
    sigaction(SIGWINCH, &sa, NULL);
  }
  for (;;) {
    for (int sig = 1; sig < 64; sig++) {
      if (!(caught[sig / 32] & (1u << (sig % 32)))) continue;
      caught[sig / 32] &= ~(1u << (sig % 32));
      uint8_t v[4];
      bt_put32(v, (uint32_t)sig);
      if (write_all(s, out, bt_encode(out, BT_CLI_SIGNAL, 0, 0, v, 4)) < 0) goto lost;
    }
    if (winch) {
      /* the terminal was resized: the container's pty follows */
      winch = 0;
      struct winsize w;
      uint8_t sz[4];
      if (ioctl(1, TIOCGWINSZ, &w) == 0) {
        sz[0] = w.ws_row; sz[1] = w.ws_row >> 8; sz[2] = w.ws_col; sz[3] = w.ws_col >> 8;
        if (write_all(s, out, bt_encode(out, BT_RESIZE, 0, 0, sz, 4)) < 0) in_open = 0;
      }
    }
    struct pollfd fds[2] = {{s, POLLIN, 0}, {0, in_open ? POLLIN : 0, 0}};
    if (poll(fds, 2, -1) < 0) { if (errno == EINTR) continue; goto lost; }
    if (fds[0].revents) {
      ssize_t r = read(s, buf + len, sizeof buf - len);
      if (r <= 0) goto lost;
      len += r;
      size_t start, flen, skip;
      while (bt_find(buf, len, &start, &flen, &skip)) {
        const uint8_t *f = buf + start;
        uint32_t pn = bt_get32(f + 8);
        if (f[2] == BT_STDOUT) write_all(1, f + BT_HEADER, pn);
        else if (f[2] == BT_STDERR) write_all(2, f + BT_HEADER, pn);
        else if (f[2] == BT_EXIT && pn == 4) { restore(); return (int)bt_get32(f + BT_HEADER); }
        else if (f[2] == BT_CLI_SIGPROXY) {
          /* docker run without -t: the container gets the signals this client gets */
          struct sigaction ss = {.sa_handler = on_signal};
          for (size_t i = 0; i < sizeof PROXIED / sizeof PROXIED[0]; i++) sigaction(PROXIED[i], &ss, NULL);
        }
        else if (f[2] == BT_CLI_RAW && !raw && isatty(0) && tcgetattr(0, &saved) == 0) {
          /* docker run -t: keys go to the container as they are (Ctrl-C included) */
          struct termios t = saved;
          cfmakeraw(&t);
          tcsetattr(0, TCSANOW, &t);
          raw = 1;
        }
        memmove(buf, buf + start + flen, len - start - flen);
        len -= start + flen;
      }
      if (skip) { memmove(buf, buf + skip, len - skip); len -= skip; }
      if (len == sizeof buf) goto lost;
    }
    /* stdin after the socket: the engine may have answered and closed already,
     * and what it sent must be read before a failed write counts */
    if (fds[1].revents && in_open) {
      uint8_t data[32768];
      ssize_t r = read(0, data, sizeof data);
      if (r <= 0) { in_open = 0; r = 0; }
      if (write_all(s, out, bt_encode(out, BT_STDIN, 0, 0, data, (size_t)r)) < 0) in_open = 0;
    }
  }
big:
  fprintf(stderr, "docker: the command line and environment are too large\n");
  return 125;
lost:
  restore();
  fprintf(stderr, "docker: the connection to the engine was lost\n");
  return 125;
}
