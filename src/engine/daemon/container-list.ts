import { Status, isRunning } from "../../common/container-state.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { Container } from "../containers/containers.js";
import type { ImageStore } from "../images/images.js";

/** `GET /containers/json`'s query: Docker's `all`, `limit` and `filters` ({"status": ["exited"], …}). */
export interface ContainerListQuery {
  all?: boolean;
  /** the newest N, of every state (-n, -l); negative or absent: no limit */
  limit?: number;
  filters?: Record<string, string[]>;
}

/** moby's words for a bad filter: "invalid filter 'status=bogus': <why>" */
const bad = (f: string, why?: string): BerthError => new BerthError(ErrorCode.invalidParameter, `Cannot list containers: invalid filter '${f}'${why ? `: ${why}` : ""}`);

/** moby's container states and health statuses, in its order (api/types/container). */
const STATES = ["created", "running", "paused", "restarting", "removing", "exited", "dead"];
const HEALTHS = ["none", "starting", "healthy", "unhealthy"];

/**
 * A publish/expose filter value ("80", "8000-8010/udp") as the set of "port/proto" it names (moby portOp).
 * @throws BerthError invalid-parameter in moby's words
 */
function portFilter(v: string, key: string): Set<string> {
  if (v.includes(":")) throw new BerthError(ErrorCode.invalidParameter, `Cannot list containers: filter for '${key}' should not contain ':': ${v}`);
  const [port = "", proto = "tcp"] = v.split("/");
  const m = /^(\d+)(?:-(\d+))?$/.exec(port);
  if (!m || Number(m[2] ?? m[1]) < Number(m[1]) || Number(m[2] ?? m[1]) > 65535) throw new BerthError(ErrorCode.invalidParameter, `Cannot list containers: error while looking up for ${key} ${v}: invalid port range: ${port}`);
  const out = new Set<string>();
  for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]); p++) out.add(`${p}/${proto || "tcp"}`);
  return out;
}

/** "a=b" labels, or the key alone: does `labels` have it? */
export function labelMatch(labels: Record<string, string> | undefined, spec: string): boolean {
  const [k, v] = spec.split(/=(.*)/s) as [string, string?];
  return labels !== undefined && k in labels && (v === undefined || labels[k] === v);
}

/**
 * The containers `docker ps` shows, with Docker's rules (moby daemon/list.go):
 * running ones unless `all`, a limit or a `status`/`exited` filter; the values
 * of one filter key are OR'ed, different keys AND'ed; newest first.
 * @throws BerthError usage "invalid filter '…'" for an unknown key or a bad value
 */
export function listContainers(all: Container[], images: ImageStore, q: ContainerListQuery): Container[] {
  const filters = q.filters ?? {};
  // each publish/expose value read once (checked below), not once per container
  const portSets = new Map<string, Set<string>>();
  const ports = (v: string, key: string): Set<string> => portSets.get(`${key} ${v}`) ?? new Set();
  const tests: Record<string, (c: Container, v: string) => boolean> = {
    status: (c, v) => c.state.status === v,
    name: (c, v) => new RegExp(v).test(c.name),
    id: (c, v) => c.id.startsWith(v),
    label: (c, v) => labelMatch(c.config.labels, v),
    ancestor: (c, v) => c.config.image === v || c.config.imageId === v || c.config.imageId.slice(7).startsWith(v) || images.find(v)?.id === c.config.imageId,
    exited: (c, v) => c.state.status === Status.exited && c.state.exitCode === Number(v),
    before: () => true,
    since: () => true,
    network: (c, v) => c.hostConfig.networks.includes(v) || c.hostConfig.networkMode === v,
    "is-task": (_c, v) => v !== "true",
    // moby daemon/list.go: a published (host) port, or a container port of its Ports
    publish: (c, v) => c.ports.some((b) => ports(v, "publish").has(`${b.hostPort}/${b.proto}`)),
    expose: (c, v) => [...c.ports.map((b) => `${b.containerPort}/${b.proto}`), ...c.hostConfig.exposed].some((p) => ports(v, "expose").has(p)),
    // Berth runs no health checks yet: every container's health is "none"
    health: (_c, v) => v === "none",
    // moby daemon/list.go: a mount's volume name or its destination
    volume: (c, v) => (c.config.mounts ?? []).some((m) => m.name === v || m.destination === v),
    // Windows-only in Docker: on Linux every container passes
    isolation: () => true,
  };
  for (const [k, values] of Object.entries(filters)) {
    if (!tests[k]) throw bad(k);
    for (const v of values) {
      if (k === "status" && !STATES.includes(v)) throw bad(`${k}=${v}`, `invalid value for state (${v}): must be one of ${STATES.join(", ")}`);
      if (k === "health" && !HEALTHS.includes(v)) throw bad(`${k}=${v}`, `invalid value for health (${v}): must be one of ${HEALTHS.join(", ")}`);
      if (k === "exited" && !/^[+-]?\d+$/.test(v)) throw bad(`${k}=${v}`, `strconv.Atoi: parsing "${v}": invalid syntax`);
      if (k === "publish" || k === "expose") portSets.set(`${k} ${v}`, portFilter(v, k));
      if ((k === "before" || k === "since") && !all.some((c) => c.id.startsWith(v) || c.name === v.replace(/^\//, ""))) throw new BerthError(ErrorCode.containerNotFound, `Cannot list containers: No such container: ${v}`);
    }
  }
  const limit = q.limit !== undefined && q.limit > 0 ? q.limit : -1;
  const everyState = q.all || limit > 0 || "status" in filters || "exited" in filters;
  let list = [...all].sort((a, b) => b.created - a.created);
  if (!everyState) list = list.filter((c) => isRunning(c.state) || c.state.status === Status.restarting);
  for (const ref of filters["before"] ?? []) {
    const at = all.find((c) => c.id.startsWith(ref) || c.name === ref);
    list = list.filter((c) => at !== undefined && c.created < at.created);
  }
  for (const ref of filters["since"] ?? []) {
    const at = all.find((c) => c.id.startsWith(ref) || c.name === ref);
    list = list.filter((c) => at !== undefined && c.created > at.created);
  }
  for (const [k, values] of Object.entries(filters)) {
    if (k === "before" || k === "since" || !values.length) continue;
    list = list.filter((c) => (k === "label" ? values.every((v) => tests[k]!(c, v)) : values.some((v) => tests[k]!(c, v))));
  }
  return limit > 0 ? list.slice(0, limit) : list;
}
