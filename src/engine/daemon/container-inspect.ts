import { ownResolvConf } from "../containers/containers.js";
import { Status, isRunning } from "../../common/container-state.js";
import type { Container } from "../containers/containers.js";
import type { NetworkService } from "../networks/networks.js";
import { mountPoints } from "./container-mounts.js";

/**
 * Docker's container inspect document (`GET /containers/{id}/json`, `docker
 * inspect`), with its JSON names (moby api/types/container.InspectResponse).
 */
export function containerJson(ctx: { networks: NetworkService }, c: Container): Record<string, unknown> {
  // Go's time in JSON: RFC 3339 with the fraction's trailing zeros trimmed ("…:30.637Z", "…:30Z")
  const t = (ms: number): string => (ms ? new Date(ms).toISOString().replace(/(\.\d*?)0+Z$/, "$1Z").replace(/\.Z$/, "Z") : "0001-01-01T00:00:00Z");
  const h = c.hostConfig;
  const args = [...(h.init ? ["--", ...c.config.entrypoint] : c.config.entrypoint.slice(1)), ...c.config.cmd];
  return {
    Id: c.id,
    Created: t(c.created),
    Path: h.init ? "/sbin/docker-init" : c.config.entrypoint[0] ?? c.config.cmd[0] ?? "",
    Args: h.init || c.config.entrypoint.length ? args : c.config.cmd.slice(1),
    State: {
      Status: c.state.status,
      Running: isRunning(c.state),
      Paused: c.state.status === Status.paused,
      Restarting: c.state.status === Status.restarting,
      OOMKilled: c.state.oomKilled,
      Dead: c.state.status === Status.dead,
      Pid: c.proc ? 1 : 0,
      ExitCode: c.state.exitCode,
      Error: c.state.error,
      StartedAt: t(c.state.startedAt),
      FinishedAt: t(c.state.finishedAt),
    },
    Image: c.config.imageId,
    // the guest files bind-mounted over the container's (Docker's are under /var/lib/docker/containers/ID)
    ResolvConfPath: ownResolvConf(c.hostConfig) ? `${c.bundle}/resolv.conf` : "/etc/resolv.conf",
    HostnamePath: `${c.bundle}/hostname`,
    HostsPath: `${c.bundle}/hosts`,
    LogPath: "",
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: "overlay2",
    Platform: "linux",
    HostConfig: {
      Memory: h.memory,
      MemorySwap: h.memorySwap,
      NanoCpus: h.nanoCpus,
      CpuShares: h.cpuShares,
      PidsLimit: h.pidsLimit || null,
      ReadonlyRootfs: h.readonlyRootfs,
      RestartPolicy: { Name: h.restartPolicy.name, MaximumRetryCount: h.restartPolicy.maximumRetryCount },
      AutoRemove: h.autoRemove,
      CapAdd: h.capAdd.length ? h.capAdd : null,
      CapDrop: h.capDrop.length ? h.capDrop : null,
      Privileged: h.privileged,
      SecurityOpt: h.securityOpt.length ? h.securityOpt : null,
      Init: h.init || null,
      Tmpfs: Object.keys(h.tmpfs).length ? h.tmpfs : null,
      NetworkMode: h.networkMode === "bridge" ? "bridge" : h.networkMode,
      ExtraHosts: h.extraHosts.length ? h.extraHosts.map((l) => l.split("\t").reverse().join(":")) : null,
      Dns: h.dns, DnsSearch: h.dnsSearch ?? [], DnsOptions: h.dnsOptions ?? [],
      Links: h.links.length ? h.links.map((l) => `/${l.name}:/${c.name}/${l.alias}`) : null,
      PortBindings: Object.fromEntries(h.portBindings.map((b) => [`${b.containerPort}/${b.proto}`, [{ HostIp: b.hostIp, HostPort: b.hostPort ? String(b.hostPort) : "" }]])),
      PublishAllPorts: h.publishAll,
      // Docker's defaults for what was not given (moby's HostConfig as inspect shows it), then what was
      LogConfig: { Type: "json-file", Config: {} }, Ulimits: [], Sysctls: undefined, GroupAdd: null, MemoryReservation: 0, OomKillDisable: null,
      PidMode: "", IpcMode: "private", UTSMode: "", CgroupnsMode: "private", UsernsMode: "", ShmSize: 67108864, CpusetCpus: "", CpusetMems: "",
      Binds: null, VolumeDriver: "", VolumesFrom: null, Runtime: "runc", Isolation: "", Devices: [], CpuPeriod: 0, CpuQuota: 0, OomScoreAdj: 0, MemorySwappiness: null, BlkioWeight: 0,
      ...h.given,
    },
    GraphDriver: { Name: "overlay2", Data: { LowerDir: c.config.layers.join(":"), MergedDir: c.rootfs, UpperDir: c.upperDir } },
    Mounts: mountPoints(c),
    Config: {
      Hostname: c.config.hostname,
      Domainname: "",
      User: c.config.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: c.config.tty,
      OpenStdin: c.config.openStdin,
      StdinOnce: c.config.stdinOnce,
      Env: c.config.env,
      Cmd: c.config.cmd.length ? c.config.cmd : null,
      Image: c.config.image,
      Volumes: c.config.volumes?.length ? Object.fromEntries(c.config.volumes.map((v) => [v, {}])) : null,
      WorkingDir: c.config.workingDir,
      Entrypoint: c.config.entrypoint.length ? c.config.entrypoint : null,
      OnBuild: null,
      Labels: c.config.labels,
      StopSignal: c.config.stopSignal,
      ...(c.hostConfig.exposed.length ? { ExposedPorts: Object.fromEntries(c.hostConfig.exposed.map((p) => [p, {}])) } : {}),
      ...(c.config.stopTimeout !== undefined ? { StopTimeout: c.config.stopTimeout } : {}),
    },
    NetworkSettings: {
      IPAddress: ctx.networks.find("bridge").endpoints.get(c.id)?.ip ?? "",
      Gateway: ctx.networks.find("bridge").endpoints.has(c.id) ? ctx.networks.find("bridge").gateway : "",
      MacAddress: ctx.networks.find("bridge").endpoints.get(c.id)?.mac ?? "",
      Networks: Object.fromEntries(ctx.networks.of(c).map((n) => {
        const ep = n.endpoints.get(c.id);
        return [n.name, { NetworkID: n.id, IPAddress: ep?.ip ?? "", Gateway: n.gateway, IPPrefixLen: n.prefix.bits, IPAMConfig: c.hostConfig.staticIps?.[n.name] ? { IPv4Address: c.hostConfig.staticIps[n.name] } : null, MacAddress: ep?.mac ?? "", Aliases: ep?.aliases.length ? ep.aliases : null }];
      })),
      Ports: Object.fromEntries(c.ports.map((b) => [`${b.containerPort}/${b.proto}`, [{ HostIp: b.hostIp || "0.0.0.0", HostPort: String(b.hostPort) }]])) },
  };
}
