import { Status } from "../../common/container-state.js";
import { API_VERSION, MIN_API_VERSION } from "../api/api-types.js";
import type { Daemon, SystemFacts } from "./daemon.js";

/** `GET /version` (moby api/types.Version): the engine and its runtime. */
export function versionDoc(facts: SystemFacts): Record<string, unknown> {
  const engine = { ApiVersion: API_VERSION, Arch: "386", BuildTime: "", Experimental: "false", GitCommit: "", GoVersion: "", KernelVersion: facts.kernelVersion, MinAPIVersion: MIN_API_VERSION, Os: "linux" };
  return {
    Platform: { Name: "Berth Engine" },
    Components: [
      { Name: "Engine", Version: facts.version, Details: engine },
      { Name: "crun", Version: "1.8.1", Details: { GitCommit: "" } },
    ],
    Version: facts.version,
    ...engine,
    Experimental: false,
  };
}

/** `GET /info` (moby api/types/system.Info): counts, the machine, what the engine can do. */
export function infoDoc(d: Daemon, facts: SystemFacts): Record<string, unknown> {
  const all = d.containers.list();
  const count = (s: string): number => all.filter((c) => c.state.status === s).length;
  return {
    ID: "BERTH",
    Containers: all.length,
    ContainersRunning: count(Status.running) + count(Status.restarting),
    ContainersPaused: count(Status.paused),
    ContainersStopped: count(Status.exited) + count(Status.created) + count(Status.dead),
    Images: d.images.all().length,
    Driver: "overlay2",
    DriverStatus: [["Backing Filesystem", "9p"], ["Supports d_type", "true"], ["Using metacopy", "false"], ["Native Overlay Diff", "true"]],
    Plugins: { Volume: [], Network: ["bridge", "host", "null"], Authorization: null, Log: ["json-file"] },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: false,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: "json-file",
    CgroupDriver: "cgroupfs",
    CgroupVersion: "2",
    NEventsListener: 0,
    KernelVersion: facts.kernelVersion,
    OperatingSystem: "Berth (v86 guest)",
    OSVersion: "",
    OSType: "linux",
    Architecture: "i686",
    IndexServerAddress: "https://index.docker.io/v1/",
    RegistryConfig: { IndexConfigs: { "docker.io": { Name: "docker.io", Mirrors: [], Secure: true, Official: true } }, InsecureRegistryCIDRs: ["127.0.0.0/8"], Mirrors: [] },
    NCPU: 1,
    MemTotal: facts.memTotal,
    GenericResources: null,
    DockerRootDir: "/var/lib/docker",
    HttpProxy: "",
    HttpsProxy: "",
    NoProxy: "",
    Name: "berth",
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: facts.version,
    Runtimes: { crun: { path: "crun" }, runc: { path: "crun" } },
    DefaultRuntime: "crun",
    Swarm: { NodeID: "", NodeAddr: "", LocalNodeState: "inactive", ControlAvailable: false, Error: "", RemoteManagers: null },
    LiveRestoreEnabled: false,
    Isolation: "",
    InitBinary: "docker-init",
    ContainerdCommit: { ID: "" },
    RuncCommit: { ID: "" },
    InitCommit: { ID: "" },
    SecurityOptions: ["name=seccomp,profile=builtin", "name=cgroupns"],
    Warnings: null,
  };
}
