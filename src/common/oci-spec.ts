/**
 * OCI runtime config.json for crun, shaped like `crun spec` on cgroup v2:
 * the namespaces, mounts and masked paths Docker gives a container.
 */
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
}

const DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

export function containerSpec(o: ContainerSpecOptions): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  if (o.memoryMax !== undefined) resources["memory"] = { limit: o.memoryMax };
  if (o.pidsMax !== undefined) resources["pids"] = { limit: o.pidsMax };
  return {
    ociVersion: "1.0.0",
    process: {
      terminal: o.terminal ?? false,
      user: { uid: o.user?.uid ?? 0, gid: o.user?.gid ?? 0 },
      args: [...o.args],
      env: [...(o.env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])],
      cwd: o.cwd ?? "/",
      capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576 }],
      noNewPrivileges: false,
    },
    root: { path: "rootfs", readonly: o.readonlyRootfs ?? false },
    hostname: o.hostname ?? "container",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ],
    linux: {
      cgroupsPath: o.cgroupsPath ?? "/berth",
      resources,
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "cgroup" }],
      maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}
