import { BerthError, ErrorCode } from "./errors.js";

/**
 * OCI runtime config.json for crun, shaped like `crun spec` on cgroup v2:
 * the namespaces, mounts and masked paths Docker gives a container.
 */
/** One entry of the OCI runtime spec's `mounts`. */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

function depth(p: string): number {
  return p.split("/").filter(Boolean).length;
}

export interface ContainerSpecOptions {
  args: readonly string[];
  env?: readonly string[];
  cwd?: string;
  hostname?: string;
  terminal?: boolean;
  readonlyRootfs?: boolean;
  /** memory.max in bytes */
  memoryMax?: number;
  /** pids.max */
  pidsMax?: number;
  /** cgroup path below the cgroup2 root */
  cgroupsPath?: string;
  user?: { uid: number; gid: number };
  /** memory + swap in bytes (-1: unlimited swap) */
  memorySwap?: number;
  /** --cpus as nano CPUs: a CFS quota over a 100 ms period */
  nanoCpus?: number;
  /** --cpu-shares (cgroup v1 units; crun converts them to cpu.weight) */
  cpuShares?: number;
  capAdd?: readonly string[];
  capDrop?: readonly string[];
  privileged?: boolean;
  noNewPrivileges?: boolean;
  /** --tmpfs: mount point -> options */
  tmpfs?: Readonly<Record<string, string>>;
  /** volumes, bind mounts and --mount tmpfs, as OCI mounts (sorted by the caller, parents first) */
  mounts?: ReadonlyArray<OciMount>;
  /** --init: this guest binary is bind-mounted as /sbin/docker-init */
  initBinary?: string;
  /** --network host: no network namespace; the guest's resolv.conf is bind-mounted */
  hostNetwork?: boolean;
  /** --network container:X: join this network namespace (/proc/<pid>/ns/net of X's init) */
  netnsPath?: string;
  /** files bind-mounted over the container's /etc/hosts and /etc/resolv.conf (a bridge network's), and /etc/hostname */
  etcFiles?: { hosts: string; resolv: string; hostname?: string };
  /** --ulimit, as OCI rlimits (RLIMIT_NOFILE defaults to Docker's 1048576) */
  rlimits?: ReadonlyArray<{ type: string; soft: number; hard: number }>;
  /** --sysctl */
  sysctl?: Readonly<Record<string, string>>;
  /** --group-add */
  additionalGids?: readonly number[];
  /** --memory-reservation, bytes */
  memoryReservation?: number;
  /** --pid/--ipc/--uts/--cgroupns host: these namespaces are the VM's */
  hostNamespaces?: readonly string[];
  /** --shm-size, bytes (Docker's default 64 MiB) */
  shmSize?: number;
  /** /etc/hostname's file when there are no etcFiles (--network none, host, container:) */
  hostnameFile?: string;
  /** --cpu-period/--cpu-quota, µs */
  cpuPeriod?: number;
  cpuQuota?: number;
  /** --oom-score-adj */
  oomScoreAdj?: number;
  /** --annotation */
  annotations?: Readonly<Record<string, string>>;
  /** --device: character devices made in the container's /dev and allowed by its cgroup */
  devices?: ReadonlyArray<{ path: string; type: "c"; major: number; minor: number; fileMode: number }>;
}

const DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

const ALL_CAPS = [
  ...DEFAULT_CAPS, "CAP_DAC_READ_SEARCH", "CAP_LINUX_IMMUTABLE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_IPC_LOCK",
  "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
  "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_LEASE", "CAP_AUDIT_CONTROL",
  "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
  "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

/** Docker's default PATH for a container (and for an image that sets none), as its daemon's DefaultPathEnv. */
export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Docker's capability arithmetic: defaults, minus --cap-drop, plus --cap-add ("ALL" works in both). */
export function capabilities(o: Pick<ContainerSpecOptions, "capAdd" | "capDrop" | "privileged">): string[] {
  if (o.privileged) return [...ALL_CAPS];
  const norm = (c: string): string => (c.toUpperCase() === "ALL" ? "ALL" : `CAP_${c.toUpperCase().replace(/^CAP_/, "")}`);
  const drop = new Set((o.capDrop ?? []).map(norm));
  const add = new Set((o.capAdd ?? []).map(norm));
  for (const c of [...drop, ...add]) if (c !== "ALL" && !ALL_CAPS.includes(c)) throw new BerthError(ErrorCode.usage, `Cannot use capability "${c}": unknown capability`);
  const base = add.has("ALL") ? ALL_CAPS : drop.has("ALL") ? [] : DEFAULT_CAPS.filter((c) => !drop.has(c));
  return [...new Set([...base, ...[...add].filter((c) => c !== "ALL")])];
}

export function containerSpec(o: ContainerSpecOptions): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  if (o.memoryMax !== undefined || o.memoryReservation) {
    resources["memory"] = { ...(o.memoryMax !== undefined ? { limit: o.memoryMax } : {}), ...(o.memorySwap !== undefined ? { swap: o.memorySwap } : {}), ...(o.memoryReservation ? { reservation: o.memoryReservation } : {}) };
  }
  if (o.devices?.length) resources["devices"] = [{ allow: false, access: "rwm" }, ...o.devices.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: "rwm" }))];
  if (o.pidsMax !== undefined) resources["pids"] = { limit: o.pidsMax };
  if (o.nanoCpus || o.cpuShares || o.cpuPeriod || o.cpuQuota) {
    resources["cpu"] = {
      ...(o.cpuShares ? { shares: o.cpuShares } : {}), ...(o.nanoCpus ? { quota: Math.round(o.nanoCpus / 1e4), period: 100000 } : {}),
      ...(o.cpuQuota ? { quota: o.cpuQuota } : {}), ...(o.cpuPeriod || o.cpuQuota ? { period: o.cpuPeriod ?? 100000 } : {}),
    };
  }
  const caps = capabilities(o);
  const tmpfs: OciMount[] = Object.entries(o.tmpfs ?? {}).map(([destination, opts]) => ({
    destination, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "noexec", ...(opts ? opts.split(",") : [])],
  }));
  const mounts: OciMount[] = [];
  if (o.etcFiles) {
    mounts.push({ destination: "/etc/hosts", type: "bind", source: o.etcFiles.hosts, options: ["bind", "rw"] });
    mounts.push({ destination: "/etc/resolv.conf", type: "bind", source: o.etcFiles.resolv, options: ["bind", o.etcFiles.resolv === "/etc/resolv.conf" ? "ro" : "rw"] });
    if (o.etcFiles.hostname) mounts.push({ destination: "/etc/hostname", type: "bind", source: o.etcFiles.hostname, options: ["bind", "rw"] });
  }
  if (o.hostNetwork) mounts.push({ destination: "/etc/resolv.conf", type: "bind", source: "/etc/resolv.conf", options: ["bind", "ro"] });
  if (o.hostnameFile && !o.etcFiles?.hostname) mounts.push({ destination: "/etc/hostname", type: "bind", source: o.hostnameFile, options: ["bind", "rw"] });
  if (o.initBinary) mounts.push({ destination: "/sbin/docker-init", type: "bind", source: o.initBinary, options: ["bind", "ro"] });
  // Docker mounts the user's mounts in order of depth, after its own (daemon/oci_linux.go sortMounts)
  const user = [...tmpfs, ...(o.mounts ?? [])].sort((a, b) => depth(a.destination) - depth(b.destination));
  const own = mounts.filter((m) => !user.some((u) => u.destination === m.destination));
  return {
    ociVersion: "1.0.0",
    process: {
      terminal: o.terminal ?? false,
      user: { uid: o.user?.uid ?? 0, gid: o.user?.gid ?? 0, ...(o.additionalGids?.length ? { additionalGids: [...o.additionalGids] } : {}) },
      args: [...o.args],
      env: [...(o.env ?? [DEFAULT_PATH_ENV])],
      cwd: o.cwd ?? "/",
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [...(o.rlimits?.some((r) => r.type === "RLIMIT_NOFILE") ? [] : [{ type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576 }]), ...(o.rlimits ?? [])],
      noNewPrivileges: o.noNewPrivileges ?? false,
      ...(o.oomScoreAdj ? { oomScoreAdj: o.oomScoreAdj } : {}),
    },
    ...(o.annotations ? { annotations: { ...o.annotations } } : {}),
    root: { path: "rootfs", readonly: o.readonlyRootfs ?? false },
    // with the VM's UTS namespace the hostname is the VM's (crun refuses to set one)
    ...(o.hostNamespaces?.includes("uts") ? {} : { hostname: o.hostname ?? "container" }),
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${Math.ceil((o.shmSize ?? 64 * 1024 * 1024) / 1024)}k`] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", o.privileged ? "rw" : "ro"] },
      ...own,
      ...user,
    ],
    linux: {
      cgroupsPath: o.cgroupsPath ?? "/berth",
      resources,
      namespaces: [{ type: "pid" }, ...(o.hostNetwork ? [] : [{ type: "network", ...(o.netnsPath ? { path: o.netnsPath } : {}) }]), { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "cgroup" }].filter((n) => !o.hostNamespaces?.includes(n.type)),
      ...(o.sysctl && Object.keys(o.sysctl).length ? { sysctl: { ...o.sysctl } } : {}),
      ...(o.devices?.length ? { devices: o.devices.map((d) => ({ ...d, uid: 0, gid: 0 })) } : {}),
      // Docker's list, less what our kernel has not got (acpi, asound, kcore, latency_stats,
      // timer_stats, sched_debug, scsi): each entry costs crun mount work in emulated time
      maskedPaths: o.privileged ? [] : ["/proc/keys", "/proc/timer_list", "/sys/firmware"],
      readonlyPaths: o.privileged ? [] : ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}
