import type { CpuStats, StatsResponse } from "../../common/api/container-data.js";
import { isRunning } from "../../common/container-state.js";
import { rfc3339Nano } from "../../common/docker-format.js";
import type { Container } from "../containers/containers.js";
import type { Daemon } from "./daemon.js";



const dec = new TextDecoder();
const emptyCpu = (): CpuStats => ({ cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } });

/** The files a sample reads, in one `head` (its "==> FILE <==" headers part them): one guest process, not a shell script. */
function sampleFiles(c: Container, networks: number): string[] {
  const cg = ["cpu.stat", "memory.current", "memory.max", "memory.stat", "pids.current", "pids.max"].map((f) => `${c.cgroup}/${f}`);
  // the host end of each veth counts the other way round: its rx is the container's tx
  const net = Array.from({ length: networks }, (_, i) => [`/sys/class/net/v${c.id.slice(0, 9)}${i}/statistics/rx_bytes`, `/sys/class/net/v${c.id.slice(0, 9)}${i}/statistics/tx_bytes`]).flat();
  return [...cg, "/proc/stat", "/proc/meminfo", ...net];
}

/**
 * Samples a container's resource use (cgroup v2 files, /proc) as Docker's
 * stats document; `pre` (an earlier sample) fills `precpu_stats`, from which
 * the docker CLI computes CPU %. A container that is not running gives zeros,
 * as Docker's does.
 */
export async function containerStats(d: Daemon, c: Container, pre?: StatsResponse): Promise<StatsResponse> {
  const now = Date.now();
  const out: StatsResponse = {
    name: `/${c.name}`, id: c.id, read: rfc3339Nano(now), preread: pre?.read ?? "0001-01-01T00:00:00Z",
    pids_stats: {}, blkio_stats: { io_service_bytes_recursive: null }, num_procs: 0,
    cpu_stats: emptyCpu(), precpu_stats: pre?.cpu_stats ?? emptyCpu(), memory_stats: {},
  };
  if (!isRunning(c.state)) return out;
  const networks = d.networks.of(c).length;
  const r = await d.containers.guest(["/usr/bin/head", "-n", "100", ...sampleFiles(c, networks)]);
  const files = new Map<string, string>();
  for (const part of dec.decode(r.stdout).split(/^==> /m).filter(Boolean)) {
    const nl = part.indexOf("\n");
    files.set(part.slice(0, nl).replace(/ <==$/, ""), part.slice(nl + 1));
  }
  const file = (name: string): string => files.get(name.startsWith("/") ? name : `${c.cgroup}/${name}`) ?? "";
  const field = (text: string, key: string): number => Number(new RegExp(`^${key}\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  const cpu = file("cpu.stat");
  out.cpu_stats.cpu_usage = { total_usage: field(cpu, "usage_usec") * 1000, usage_in_usermode: field(cpu, "user_usec") * 1000, usage_in_kernelmode: field(cpu, "system_usec") * 1000 };
  const procStat = file("/proc/stat");
  // /proc/stat's cpu line: ticks of 1/100 s
  const all = /^cpu\s+(.*)$/m.exec(procStat);
  if (all) out.cpu_stats.system_cpu_usage = all[1]!.trim().split(/\s+/).map(Number).reduce((a, b) => a + b, 0) * 10_000_000;
  out.cpu_stats.online_cpus = procStat.match(/^cpu\d+ /gm)?.length ?? 1;
  const max = file("memory.max").trim();
  out.memory_stats = { usage: Number(file("memory.current").trim() || 0), limit: max && max !== "max" ? Number(max) : field(file("/proc/meminfo"), "MemTotal:") * 1024, stats: { inactive_file: field(file("memory.stat"), "inactive_file") } };
  const pidsMax = file("pids.max").trim();
  out.pids_stats = { current: Number(file("pids.current").trim() || 0), ...(pidsMax && pidsMax !== "max" ? { limit: Number(pidsMax) } : {}) };
  for (let i = 0; i < networks; i++) {
    const [rx, tx] = sampleFiles(c, networks).slice(-2 * networks).slice(2 * i, 2 * i + 2).map((f) => Number(file(f).trim() || 0)) as [number, number];
    (out.networks ??= {})[`eth${i}`] = { rx_bytes: tx, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: rx, tx_packets: 0, tx_errors: 0, tx_dropped: 0 };
  }
  return out;
}
