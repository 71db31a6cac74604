/*
 * berth-fwd: one connection to a container's port, for published ports: enter
 * the network namespace of PID (or stay, for "-"), connect to 127.0.0.1:PORT
 * over TCP or UDP, and relay stdin to it and it to stdout until either side
 * ends. For UDP each read of stdin is one datagram. (busybox's nc has no UDP,
 * and this is one process instead of sh, cat, nsenter and nc.)
 *
 *   berth-fwd PID|- tcp|udp PORT
 *   berth-fwd --echo udp PORT     (an echo server: for checking a published UDP port by hand or in tests,
 *                                  since busybox has no UDP server)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_all(int fd, const char *p, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= w;
  }
  return 0;
}

static int echo_udp(int port) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("berth-fwd: bind"); return 1; }
  char buf[65536];
  for (;;) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (r < 0) { if (errno == EINTR) continue; return 1; }
    sendto(s, buf, r, 0, (struct sockaddr *)&from, fl);
  }
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "--echo") && !strcmp(argv[2], "udp")) return echo_udp(atoi(argv[3]));
  if (argc != 4 || (strcmp(argv[2], "tcp") && strcmp(argv[2], "udp"))) { fprintf(stderr, "usage: berth-fwd PID|- tcp|udp PORT\n"); return 2; }
  int udp = !strcmp(argv[2], "udp");
  if (strcmp(argv[1], "-")) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/ns/net", argv[1]);
    int ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) { perror("berth-fwd: setns"); return 1; }
    close(ns);
  }
  int s = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("berth-fwd: connect"); return 1; }
  struct pollfd p[2] = {{0, POLLIN, 0}, {s, POLLIN, 0}};
  char buf[65536];
  int in_open = 1;
  for (;;) {
    p[0].fd = in_open ? 0 : -1;
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; return 1; }
    if (p[0].revents & (POLLIN | POLLHUP)) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0) {
        in_open = 0;
        if (udp) return 0;
        shutdown(s, SHUT_WR);
      } else if (udp ? send(s, buf, r, 0) < 0 : write_all(s, buf, r) < 0) return 1;
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = recv(s, buf, sizeof buf, 0);
      if (r <= 0) return r < 0 && !udp ? 1 : 0;
      if (write_all(1, buf, r) < 0) return 1;
    }
  }
}
