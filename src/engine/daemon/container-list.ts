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

const bad = (f: string): BerthError => new BerthError(ErrorCode.invalidParameter, `Cannot list containers: invalid filter '${f}'`);

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
  };
  for (const [k, values] of Object.entries(filters)) {
    if (!tests[k]) throw bad(k);
    for (const v of values) {
      if (k === "status" && !Object.values(Status).includes(v as Status)) throw bad(`${k}=${v}`);
      if (k === "exited" && !/^-?\d+$/.test(v)) throw bad(`${k}=${v}`);
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
