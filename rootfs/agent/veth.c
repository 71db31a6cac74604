/*
 * berth-veth: connects a container to a bridge network in one process, with
 * rtnetlink (busybox's `ip` took about ten processes, ~100 ms of emulated
 * time per `docker run`, and cannot name a veth's peer).
 *
 *   berth-veth PID BRIDGE HOST_IF CONTAINER_IF MAC ADDRESS/PREFIX [GATEWAY]
 *
 * Makes the veth pair with its peer already in PID's network namespace,
 * enslaves the host end to BRIDGE and brings it up; then, inside the
 * namespace, sets the address, brings the link up and, given a gateway, adds
 * the default route.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

struct req {
  struct nlmsghdr n;
  char buf[1024];
};

static void die(const char *what) {
  fprintf(stderr, "berth-veth: %s: %s\n", what, strerror(errno));
  exit(1);
}

static struct rtattr *add(struct nlmsghdr *n, int type, const void *data, int len) {
  struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static void end(struct nlmsghdr *n, struct rtattr *nest) { nest->rta_len = (char *)n + n->nlmsg_len - (char *)nest; }

/* Sends one request and waits for its ACK; errno from the kernel's answer. */
static int talk(int fd, struct nlmsghdr *n) {
  static unsigned seq;
  n->nlmsg_seq = ++seq;
  n->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (send(fd, n, n->nlmsg_len, 0) < 0) return -1;
  char buf[4096];
  for (;;) {
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)r); h = NLMSG_NEXT(h, r)) {
      if (h->nlmsg_seq != n->nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
      int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (e) { errno = -e; return -1; }
      return 0;
    }
  }
}

static int nl(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) die("netlink");
  return fd;
}

static int ifindex(const char *name) {
  struct ifreq r;
  memset(&r, 0, sizeof r);
  snprintf(r.ifr_name, sizeof r.ifr_name, "%s", name);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 || ioctl(s, SIOCGIFINDEX, &r) < 0) { fprintf(stderr, "berth-veth: no interface %s\n", name); exit(1); }
  close(s);
  return r.ifr_ifindex;
}

static void link_up(int fd, int index, int master) {
  struct req q;
  memset(&q, 0, sizeof q);
  q.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  q.n.nlmsg_type = RTM_NEWLINK;
  struct ifinfomsg *i = NLMSG_DATA(&q.n);
  i->ifi_family = AF_UNSPEC;
  i->ifi_index = index;
  i->ifi_flags = IFF_UP;
  i->ifi_change = IFF_UP;
  if (master) add(&q.n, IFLA_MASTER, &master, 4);
  if (talk(fd, &q.n) < 0) die("link up");
}

static int parse_ip(const char *s, unsigned char out[4]) {
  unsigned a, b, c, d;
  if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 || c > 255 || d > 255) return -1;
  out[0] = a; out[1] = b; out[2] = c; out[3] = d;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: berth-veth PID BRIDGE HOST_IF CONTAINER_IF MAC ADDRESS/PREFIX [GATEWAY]\n"); return 2; }
  int pid = atoi(argv[1]);
  const char *bridge = argv[2], *host = argv[3], *peer = argv[4];
  unsigned char mac[6], ip[4], gw[4];
  unsigned prefix = 16;
  if (sscanf(argv[5], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6) { fprintf(stderr, "berth-veth: bad MAC\n"); return 2; }
  char addr[32];
  snprintf(addr, sizeof addr, "%s", argv[6]);
  char *slash = strchr(addr, '/');
  if (slash) { *slash = 0; prefix = atoi(slash + 1); }
  if (parse_ip(addr, ip) < 0 || (argc > 7 && parse_ip(argv[7], gw) < 0)) { fprintf(stderr, "berth-veth: bad address\n"); return 2; }

  int fd = nl();
  int br = ifindex(bridge);
  /* the pair: HOST_IF here, CONTAINER_IF (with its MAC) already in the container's namespace */
  struct req q;
  memset(&q, 0, sizeof q);
  q.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  q.n.nlmsg_type = RTM_NEWLINK;
  q.n.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  ((struct ifinfomsg *)NLMSG_DATA(&q.n))->ifi_family = AF_UNSPEC;
  add(&q.n, IFLA_IFNAME, host, strlen(host) + 1);
  struct rtattr *info = add(&q.n, IFLA_LINKINFO, NULL, 0);
  add(&q.n, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = add(&q.n, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *p = add(&q.n, VETH_INFO_PEER, NULL, 0);
  q.n.nlmsg_len += sizeof(struct ifinfomsg); /* the peer's ifinfomsg, zeroed */
  add(&q.n, IFLA_IFNAME, peer, strlen(peer) + 1);
  add(&q.n, IFLA_ADDRESS, mac, 6);
  add(&q.n, IFLA_NET_NS_PID, &pid, 4);
  end(&q.n, p);
  end(&q.n, data);
  end(&q.n, info);
  if (talk(fd, &q.n) < 0) die("veth");
  link_up(fd, ifindex(host), br);
  close(fd);

  /* inside the container's namespace */
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) die("setns");
  fd = nl();
  int idx = ifindex(peer);
  memset(&q, 0, sizeof q);
  q.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
  q.n.nlmsg_type = RTM_NEWADDR;
  q.n.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct ifaddrmsg *a = NLMSG_DATA(&q.n);
  a->ifa_family = AF_INET;
  a->ifa_prefixlen = prefix;
  a->ifa_index = idx;
  add(&q.n, IFA_LOCAL, ip, 4);
  add(&q.n, IFA_ADDRESS, ip, 4);
  if (talk(fd, &q.n) < 0) die("address");
  link_up(fd, idx, 0);
  if (argc > 7) {
    memset(&q, 0, sizeof q);
    q.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
    q.n.nlmsg_type = RTM_NEWROUTE;
    q.n.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    struct rtmsg *r = NLMSG_DATA(&q.n);
    r->rtm_family = AF_INET;
    r->rtm_table = RT_TABLE_MAIN;
    r->rtm_protocol = RTPROT_BOOT;
    r->rtm_scope = RT_SCOPE_UNIVERSE;
    r->rtm_type = RTN_UNICAST;
    add(&q.n, RTA_GATEWAY, gw, 4);
    add(&q.n, RTA_OIF, &idx, 4);
    if (talk(fd, &q.n) < 0) die("route");
  }
  return 0;
}
