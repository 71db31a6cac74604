import type { ContainerUpdateBody } from "../../common/api/container-update.js";
import { isRunning } from "../../common/container-state.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { Container } from "../containers/containers.js";
import type { Daemon } from "./daemon.js";

/**
 * Changes a container's limits and restart policy (`docker update`, `POST
 * /containers/{id}/update`): a running container's cgroup at once (`crun
 * update`), and its config for the next starts. Docker's rule: a restart
 * policy cannot be set on an --rm container.
 * @returns Docker's warnings (a swap limit on a guest without swap)
 * @throws BerthError usage (the --rm rule, bad values), container-wrong-state (crun refused)
 */
export async function updateContainer(d: Daemon, c: Container, b: ContainerUpdateBody): Promise<string[]> {
  const policy = b.RestartPolicy?.Name ? { name: b.RestartPolicy.Name, maximumRetryCount: b.RestartPolicy.MaximumRetryCount ?? 0 } : undefined;
  if (policy && c.hostConfig.autoRemove && policy.name !== "no") throw new BerthError(ErrorCode.invalidParameter, `Cannot update container ${c.id}: Restart policy cannot be updated because AutoRemove is enabled for the container`);
  for (const [k, v] of Object.entries({ Memory: b.Memory, NanoCpus: b.NanoCpus, CpuShares: b.CpuShares })) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new BerthError(ErrorCode.invalidParameter, `Cannot update container ${c.id}: invalid ${k}: ${v}`);
  }
  const warnings: string[] = [];
  if (b.MemorySwap !== undefined && b.MemorySwap !== 0) {
    const memory = b.Memory ?? c.hostConfig.memory;
    if (b.MemorySwap > 0 && memory > 0 && b.MemorySwap < memory) throw new BerthError(ErrorCode.invalidParameter, `Cannot update container ${c.id}: Minimum memoryswap limit should be larger than memory limit, see usage`);
    if (b.MemorySwap > 0 && !memory) throw new BerthError(ErrorCode.invalidParameter, `Cannot update container ${c.id}: You should always set the Memory limit when using Memoryswap limit, see usage`);
    // the guest kernel has no swap (CONFIG_SWAP off): the limit is kept, as Docker keeps it on such hosts, and said
    warnings.push("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.");
  }
  const flags: string[] = [];
  if (b.Memory) flags.push("--memory", String(b.Memory));
  if (b.NanoCpus) flags.push("--cpu-quota", String(Math.round(b.NanoCpus / 1e4)), "--cpu-period", "100000");
  if (b.PidsLimit !== undefined && b.PidsLimit !== null) flags.push("--pids-limit", String(b.PidsLimit > 0 ? b.PidsLimit : -1));
  if (b.CpuShares) flags.push("--cpu-share", String(b.CpuShares));
  if (flags.length && isRunning(c.state)) {
    const r = await d.containers.guest(["/usr/bin/crun", "update", ...flags, c.id]);
    if (r.code !== 0) throw new BerthError(ErrorCode.containerWrongState, `Cannot update container ${c.id}: ${r.stderr.trim()}`);
  }
  const h = c.hostConfig;
  if (b.Memory) h.memory = b.Memory;
  if (b.MemorySwap !== undefined && b.MemorySwap !== 0) h.memorySwap = b.MemorySwap;
  if (b.NanoCpus) h.nanoCpus = b.NanoCpus;
  if (b.PidsLimit !== undefined && b.PidsLimit !== null) h.pidsLimit = b.PidsLimit;
  if (b.CpuShares) h.cpuShares = b.CpuShares;
  if (policy) h.restartPolicy = policy;
  d.containers.event(c, "update");
  return warnings;
}
