import { Status } from "../../common/container-state.js";
import type { Daemon, SystemFacts } from "../daemon/daemon.js";
import { API_VERSION, MIN_API_VERSION, json, type ApiReply } from "./api-types.js";
import { jsonBody, route, type Route } from "./router.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { serverName } from "../../common/reference.js";
import { eventJson } from "../../common/api/events.js";
import { followEvents, unknownEventFilters } from "../daemon/events.js";
import { diskUsage } from "../daemon/system-df.js";
import { filtersParam } from "./container-routes.js";

/** Docker's `/_ping` answer: "OK" (the version headers go on every reply). */
const ping = (): ApiReply => ({ kind: "text", status: 200, body: "OK", contentType: "text/plain; charset=utf-8" });

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

/** Seconds as Docker's events since/until ("1700000000", "1700000000.123456789"): milliseconds, or undefined. */
function eventTime(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new BerthError(ErrorCode.invalidParameter, `Cannot read the events: invalid value for ${name}: ${v}`);
  return Number(v) * 1000;
}

/**
 * `GET /events`: the kept events from `since`, then each new one as it
 * happens, one JSON object a line, until `until` (or the client goes). An
 * `until` in the past ends the answer after the kept events.
 * @throws BerthError usage (bad times, unknown filter keys: Docker's 400)
 */
function events(d: Daemon, q: URLSearchParams): ApiReply {
  const since = eventTime(q, "since");
  const until = eventTime(q, "until");
  const filters = filtersParam(q);
  const unknown = unknownEventFilters(filters);
  if (unknown.length) throw new BerthError(ErrorCode.invalidParameter, `Cannot read the events: invalid filter '${unknown[0]}'`);
  return {
    kind: "stream",
    status: 200,
    contentType: "application/json",
    run: (out) => followEvents(d.events, { since, until, filters }, (e) => out.write(`${eventJson(e)}\n`), (f) => (out.closed ? f() : out.onClose(f))),
  };
}

/** `/_ping`, `/version`, `/info`, `/events`, `/system/df`, `/auth`, `/build/prune`. */
export function systemRoutes(d: Daemon, facts: SystemFacts): Route[] {
  return [
    route("GET", "/_ping", ping),
    route("HEAD", "/_ping", ping),
    route("GET", "/version", () => json(versionDoc(facts))),
    route("GET", "/info", () => json(infoDoc(d, facts))),
    route("POST", "/auth", async (req) => {
      const body = jsonBody<{ username?: string; password?: string; serveraddress?: string }>(req);
      if (!body.username || !body.password) throw new BerthError(ErrorCode.invalidParameter, "Cannot log in: a username and a password are required");
      await d.login(serverName(body.serveraddress), { username: body.username, password: body.password });
      return json({ Status: "Login Succeeded", IdentityToken: "" });
    }),
    route("GET", "/events", (req) => events(d, req.query)),
    route("GET", "/system/df", async () => json(await diskUsage(d))),
    // Berth has no builder yet, so no build cache: nothing to prune (docker system prune asks)
    route("POST", "/build/prune", () => json({ CachesDeleted: null, SpaceReclaimed: 0 })),
  ];
}
