import { ULIMIT_TYPES } from "../../common/api/run-flags.js";
import type { ContainerCreateBody, HostConfigBody } from "../../common/api/container-create.js";
import type { BerthError } from "../../common/errors.js";

/**
 * The create options that go to the OCI spec as they are (ulimits, sysctls,
 * extra groups, a memory reservation, namespaces shared with the VM, /dev/shm's
 * size, devices), after Docker's daemon checks.
 */
export interface RuntimeOptions {
  rlimits?: Array<{ type: string; soft: number; hard: number }>;
  sysctl?: Record<string, string>;
  additionalGids?: number[];
  /** bytes (cgroup v2 memory.low) */
  memoryReservation?: number;
  /** namespaces not made for the container: "pid", "ipc", "uts", "cgroup" (--pid host, …) */
  hostNamespaces?: string[];
  /** bytes */
  shmSize?: number;
  devices?: Array<{ path: string; type: "c"; major: number; minor: number; fileMode: number }>;
  /** json-file (Docker's default), local or none */
  logDriver?: string;
  /** --cpu-period, --cpu-quota (µs) */
  cpuPeriod?: number;
  cpuQuota?: number;
  /** --oom-score-adj */
  oomScoreAdj?: number;
  /** --annotation, passed to the OCI runtime */
  annotations?: Record<string, string>;
}

/** The guest's character devices a container may be given (--device), as Linux numbers them (Documentation/admin-guide/devices.txt). */
const DEVICES: Record<string, [number, number]> = {
  "/dev/null": [1, 3], "/dev/zero": [1, 5], "/dev/full": [1, 7], "/dev/random": [1, 8], "/dev/urandom": [1, 9], "/dev/tty": [5, 0],
};

const LOG_DRIVERS = new Set(["json-file", "local", "none"]);
/** Docker's other log drivers: known to Docker, not kept by Berth */
const OTHER_LOG_DRIVERS = new Set(["syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "etwlogs", "gcplogs", "logentries"]);

/**
 * Checks and converts the create body's runtime options as Docker's daemon
 * does (daemon/daemon_unix.go verifyPlatformContainerSettings and friends):
 * what Berth's guest can do is returned for the spec; what it cannot is
 * refused in Docker's words where Docker has them (no GPU: "could not select
 * device driver"), never silently ignored; cgroup v2's discards are warnings.
 * @param group a group name of the image's /etc/group to its gid
 * @throws BerthError from `fail` (invalid-parameter)
 */
export function runtimeOptions(body: ContainerCreateBody, o: { fail: (why: string) => BerthError; warnings: string[]; group: (name: string) => number | undefined }): RuntimeOptions {
  const h: HostConfigBody = body.HostConfig ?? {};
  const { fail, warnings } = o;
  const out: RuntimeOptions = {};
  if (h.DeviceRequests?.length) {
    // Go's %v of the first request's [][]string: [[gpu]]
    const r = h.DeviceRequests[0]!;
    throw fail(`could not select device driver "${r.Driver ?? ""}" with capabilities: [${(r.Capabilities ?? []).map((c) => `[${c.join(" ")}]`).join(" ")}]`);
  }
  if (h.Runtime && h.Runtime !== "runc" && h.Runtime !== "crun") throw fail(`unknown or invalid runtime name: ${h.Runtime}`);
  if (h.Isolation && h.Isolation !== "default") throw fail(`invalid isolation "${h.Isolation}": linux only supports 'default'`);
  if (h.UsernsMode && h.UsernsMode !== "host") throw fail(`invalid userns mode "${h.UsernsMode}": Berth does not remap user namespaces`);
  const test = body.Healthcheck?.Test ?? [];
  if (test.length && test[0] !== "NONE") throw fail("health checks are not run by Berth yet (--health-cmd, HEALTHCHECK)");
  const host: string[] = [];
  for (const [ns, mode, ok] of [["pid", h.PidMode, ["", "private", "host"]], ["ipc", h.IpcMode, ["", "private", "shareable", "none", "host"]], ["uts", h.UTSMode, ["", "host"]], ["cgroup", h.CgroupnsMode, ["", "private", "host"]]] as const) {
    if (!mode) continue;
    if (mode.startsWith("container:")) throw fail(`--${ns === "cgroup" ? "cgroupns" : ns} ${mode}: Berth cannot join another container's ${ns} namespace yet`);
    if (!(ok as readonly string[]).includes(mode)) throw fail(`invalid ${ns === "cgroup" ? "cgroup namespace" : ns.toUpperCase()} mode: ${mode}`);
    if (mode === "host") host.push(ns);
  }
  if (host.length) out.hostNamespaces = host;
  if (h.CpusetCpus && !/^0(-0)?$/.test(h.CpusetCpus)) throw fail(`Requested CPUs are not available - requested ${h.CpusetCpus}, available: 0`);
  if (h.CpusetMems && !/^0(-0)?$/.test(h.CpusetMems)) throw fail(`Requested memory nodes are not available - requested ${h.CpusetMems}, available: 0`);
  if (h.OomKillDisable) warnings.push("Your kernel does not support OomKillDisable. OomKillDisable discarded.");
  if (h.MemoryReservation) {
    if (h.MemoryReservation < 6 * 1024 * 1024) throw fail("Minimum memory reservation allowed is 6MB");
    if (h.Memory && h.Memory < h.MemoryReservation) throw fail("Minimum memory limit can not be less than memory reservation limit, see usage");
    out.memoryReservation = h.MemoryReservation;
  }
  if (h.ShmSize) {
    if (h.ShmSize < 0) throw fail("SHM size can not be less than 0");
    out.shmSize = h.ShmSize;
  }
  if (h.Ulimits?.length) {
    out.rlimits = h.Ulimits.map((u) => {
      if (!ULIMIT_TYPES.has(u.Name ?? "")) throw fail(`invalid ulimit type: ${u.Name}`);
      if ((u.Soft ?? 0) > (u.Hard ?? 0)) throw fail(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
      return { type: `RLIMIT_${u.Name!.toUpperCase()}`, soft: u.Soft ?? 0, hard: u.Hard ?? 0 };
    });
  }
  if (h.Sysctls && Object.keys(h.Sysctls).length) out.sysctl = { ...h.Sysctls };
  if (h.GroupAdd?.length) {
    out.additionalGids = h.GroupAdd.map((g) => {
      const gid = /^\d+$/.test(g) ? Number(g) : o.group(g);
      if (gid === undefined) throw fail(`Unable to find group ${g}: no matching entries in group file`);
      return gid;
    });
  }
  if (h.Devices?.length) {
    out.devices = h.Devices.map((d) => {
      const n = DEVICES[d.PathOnHost ?? ""];
      if (!n) throw fail(`error gathering device information while adding custom device "${d.PathOnHost}": no such file or directory`);
      return { path: d.PathInContainer || d.PathOnHost!, type: "c" as const, major: n[0], minor: n[1], fileMode: 0o666 };
    });
  }
  // what this guest's kernel has not got is discarded with Docker's own warnings (moby daemon/daemon_unix.go, a host without these cgroup files)
  if (h.MemorySwappiness !== undefined && h.MemorySwappiness !== null && h.MemorySwappiness !== -1) {
    if (h.MemorySwappiness < 0 || h.MemorySwappiness > 100) throw fail(`Invalid value: ${h.MemorySwappiness}, valid memory swappiness range is 0-100`);
    warnings.push("Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.");
  }
  if (h.KernelMemory) warnings.push("Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.");
  if (h.BlkioWeight) {
    if (h.BlkioWeight < 10 || h.BlkioWeight > 1000) throw fail("Range of blkio weight is from 10 to 1000");
    warnings.push("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.");
  }
  if (h.BlkioWeightDevice?.length) warnings.push("Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.");
  if (h.BlkioDeviceReadBps?.length) warnings.push("Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.");
  if (h.BlkioDeviceWriteBps?.length) warnings.push("Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.");
  if (h.BlkioDeviceReadIOps?.length) warnings.push("Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.");
  if (h.BlkioDeviceWriteIOps?.length) warnings.push("Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.");
  if (h.CpuRealtimePeriod || h.CpuRealtimeRuntime) throw fail("Your kernel does not support CPU real-time scheduler");
  if (h.CgroupParent) throw fail("--cgroup-parent: Berth keeps every container under its own cgroup (/berth)");
  if (h.StorageOpt && Object.keys(h.StorageOpt).length) throw fail("--storage-opt is supported only for overlay over xfs with 'pquota' mount option");
  if (h.DeviceCgroupRules?.length) throw fail("--device-cgroup-rule is not supported by Berth yet");
  if (h.CpuPeriod || h.CpuQuota) {
    if (h.NanoCpus) throw fail(h.CpuPeriod ? "Conflicting options: Nano CPUs and CPU Period cannot both be set" : "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    if (h.CpuPeriod && (h.CpuPeriod < 1000 || h.CpuPeriod > 1000000)) throw fail("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
    if (h.CpuQuota && h.CpuQuota > 0 && h.CpuQuota < 1000) throw fail("CPU cfs quota can not be less than 1ms (i.e. 1000)");
    if (h.CpuPeriod) out.cpuPeriod = h.CpuPeriod;
    if (h.CpuQuota && h.CpuQuota > 0) out.cpuQuota = h.CpuQuota;
  }
  if (h.OomScoreAdj) {
    if (h.OomScoreAdj < -1000 || h.OomScoreAdj > 1000) throw fail(`Invalid value ${h.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
    out.oomScoreAdj = h.OomScoreAdj;
  }
  if (h.Annotations && Object.keys(h.Annotations).length) out.annotations = { ...h.Annotations };
  const log = h.LogConfig?.Type ?? "";
  if (log && !LOG_DRIVERS.has(log)) throw fail(OTHER_LOG_DRIVERS.has(log) ? `failed to initialize logging driver: Berth keeps logs with json-file, local or none, not ${log}` : `logger: no log driver named '${log}' is registered`);
  if (log) out.logDriver = log;
  return out;
}
