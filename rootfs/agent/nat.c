/*
 * berth-nat: Docker's NAT for its bridge networks, with nf_tables over
 * netlink (the guest has no nft or iptables): a table "berth" with a
 * postrouting nat chain that masquerades what leaves through OUT_IF, and IPv4
 * forwarding on. Run once, when the first bridge network comes up.
 *
 *   berth-nat OUT_IF
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

static char buf[8192];
static size_t len;
static uint32_t seq;

static void die(const char *what) {
  fprintf(stderr, "berth-nat: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint32_t be32(uint32_t x) { return __builtin_bswap32(x); }

static struct nlmsghdr *msg(uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id) {
  len = NLMSG_ALIGN(len);
  struct nlmsghdr *n = (struct nlmsghdr *)(buf + len);
  memset(n, 0, NLMSG_LENGTH(sizeof(struct nfgenmsg)));
  n->nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg));
  n->nlmsg_type = type;
  n->nlmsg_flags = NLM_F_REQUEST | flags;
  n->nlmsg_seq = ++seq;
  struct nfgenmsg *g = NLMSG_DATA(n);
  g->nfgen_family = family;
  g->version = NFNETLINK_V0;
  g->res_id = __builtin_bswap16(res_id);
  return n;
}

static struct nlattr *attr(struct nlmsghdr *n, uint16_t type, const void *data, size_t dlen) {
  struct nlattr *a = (struct nlattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
  a->nla_type = type;
  a->nla_len = NLA_HDRLEN + dlen;
  if (dlen) memcpy((char *)a + NLA_HDRLEN, data, dlen);
  n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + NLA_ALIGN(a->nla_len);
  return a;
}

static struct nlattr *nest(struct nlmsghdr *n, uint16_t type) { return attr(n, type | NLA_F_NESTED, NULL, 0); }
static void close_nest(struct nlmsghdr *n, struct nlattr *a) { a->nla_len = (char *)n + n->nlmsg_len - (char *)a; }
static void str(struct nlmsghdr *n, uint16_t type, const char *s) { attr(n, type, s, strlen(s) + 1); }
static void u32(struct nlmsghdr *n, uint16_t type, uint32_t v) { uint32_t b = be32(v); attr(n, type, &b, 4); }
static void done(struct nlmsghdr *n) { len = (char *)n - buf + n->nlmsg_len; }

int main(int argc, char **argv) {
  if (argc != 2 || strlen(argv[1]) >= 16) { fprintf(stderr, "usage: berth-nat OUT_IF\n"); return 2; }
  int fwd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
  if (fwd < 0 || write(fwd, "1\n", 2) != 2) die("ip_forward");
  close(fwd);

  struct nlmsghdr *n = msg(NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  done(n);
  n = msg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, NFPROTO_IPV4, 0);
  str(n, NFTA_TABLE_NAME, "berth");
  done(n);
  n = msg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK, NFPROTO_IPV4, 0);
  str(n, NFTA_CHAIN_TABLE, "berth");
  str(n, NFTA_CHAIN_NAME, "postrouting");
  struct nlattr *hook = nest(n, NFTA_CHAIN_HOOK);
  u32(n, NFTA_HOOK_HOOKNUM, NF_INET_POST_ROUTING);
  u32(n, NFTA_HOOK_PRIORITY, 100);
  close_nest(n, hook);
  str(n, NFTA_CHAIN_TYPE, "nat");
  u32(n, NFTA_CHAIN_POLICY, NF_ACCEPT);
  done(n);
  /* oifname OUT_IF masquerade */
  n = msg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, NFPROTO_IPV4, 0);
  str(n, NFTA_RULE_TABLE, "berth");
  str(n, NFTA_RULE_CHAIN, "postrouting");
  struct nlattr *exprs = nest(n, NFTA_RULE_EXPRESSIONS);
  struct nlattr *e = nest(n, NFTA_LIST_ELEM);
  str(n, NFTA_EXPR_NAME, "meta");
  struct nlattr *d = nest(n, NFTA_EXPR_DATA);
  u32(n, NFTA_META_KEY, NFT_META_OIFNAME);
  u32(n, NFTA_META_DREG, NFT_REG_1);
  close_nest(n, d);
  close_nest(n, e);
  e = nest(n, NFTA_LIST_ELEM);
  str(n, NFTA_EXPR_NAME, "cmp");
  d = nest(n, NFTA_EXPR_DATA);
  u32(n, NFTA_CMP_SREG, NFT_REG_1);
  u32(n, NFTA_CMP_OP, NFT_CMP_EQ);
  struct nlattr *v = nest(n, NFTA_CMP_DATA);
  char ifname[16] = {0};
  memcpy(ifname, argv[1], strlen(argv[1]));
  attr(n, NFTA_DATA_VALUE, ifname, 16);
  close_nest(n, v);
  close_nest(n, d);
  close_nest(n, e);
  e = nest(n, NFTA_LIST_ELEM);
  str(n, NFTA_EXPR_NAME, "masq");
  close_nest(n, e);
  close_nest(n, exprs);
  done(n);
  n = msg(NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  done(n);

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) die("netlink");
  if (send(fd, buf, len, 0) < 0) die("send");
  /* an ACK (error 0) or an error per message asked to ACK: the table, the chain, the rule */
  char rb[8192];
  int acks = 0;
  while (acks < 3) {
    ssize_t r = recv(fd, rb, sizeof rb, 0);
    if (r < 0) { if (errno == EINTR) continue; die("recv"); }
    for (struct nlmsghdr *h = (struct nlmsghdr *)rb; NLMSG_OK(h, (unsigned)r); h = NLMSG_NEXT(h, r)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err) { errno = -err; die("nf_tables"); }
      acks++;
    }
  }
  return 0;
}
