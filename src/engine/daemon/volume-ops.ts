import { BerthError, ErrorCode } from "../../common/errors.js";
import { labelMatch } from "./container-list.js";
import type { Daemon } from "./daemon.js";
import { ANONYMOUS_LABEL, type VolumeRecord } from "../volumes/volumes.js";

/** `docker volume prune`'s answer (`POST /volumes/prune`). */
export interface VolumePruneReport {
  VolumesDeleted: string[] | null;
  /** bytes */
  SpaceReclaimed: number;
}

/**
 * The volumes `GET /volumes` and `docker volume ls` show, with moby's filters
 * (volume/service/convert.go): `dangling=true|false` (no container uses it, or
 * one does), `name=` (a substring), `label=K[=V]`, `driver=`.
 * @throws BerthError invalid-parameter "invalid filter 'x'", "invalid filter 'dangling=[x]'"
 */
export function listVolumes(d: Pick<Daemon, "volumes">, filters: Record<string, string[]>): VolumeRecord[] {
  for (const k of Object.keys(filters)) {
    if (!["dangling", "name", "label", "driver"].includes(k)) throw new BerthError(ErrorCode.invalidParameter, `Cannot list volumes: invalid filter '${k}'`);
  }
  const dangling = filters["dangling"];
  let want: boolean | undefined;
  if (dangling) {
    const t = dangling.some((v) => v === "1" || v === "true");
    const f = dangling.some((v) => v === "0" || v === "false");
    if (t === f) throw new BerthError(ErrorCode.invalidParameter, `Cannot list volumes: invalid filter 'dangling=[${dangling.join(" ")}]'`);
    want = t;
  }
  return d.volumes.list().filter((v) =>
    (want === undefined || (d.volumes.users(v.name).length === 0) === want) &&
    (filters["name"] ?? []).every((n) => v.name.includes(n)) &&
    (filters["driver"] ?? []).every((n) => n === "local") &&
    (filters["label"] ?? []).every((l) => labelMatch(v.labels, l)));
}

/**
 * Removes the volumes no container uses (`docker volume prune`): anonymous
 * ones only, unless `all=true` (Docker 23's rule, moby volume/service Prune);
 * `label=`/`label!=` narrow it.
 * @throws BerthError invalid-parameter "invalid filter 'x'"
 */
export async function pruneVolumes(d: Pick<Daemon, "volumes" | "events">, filters: Record<string, string[]> = {}): Promise<VolumePruneReport> {
  for (const k of Object.keys(filters)) {
    if (!["label", "label!", "all"].includes(k)) throw new BerthError(ErrorCode.invalidParameter, `Cannot prune volumes: invalid filter '${k}'`);
  }
  const all = filters["all"] ?? [];
  if (all.length > 1) throw new BerthError(ErrorCode.invalidParameter, `Cannot prune volumes: invalid filter 'all=${all.join(" ")}': only one value is expected`);
  if (all.length === 1 && !/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(all[0]!)) {
    throw new BerthError(ErrorCode.invalidParameter, `Cannot prune volumes: invalid filter 'all': strconv.ParseBool: parsing "${all[0]}": invalid syntax`);
  }
  const every = all.length === 1 && /^(1|t|T|TRUE|true|True)$/.test(all[0]!);
  const gone: string[] = [];
  let reclaimed = 0;
  for (const v of d.volumes.list()) {
    if (d.volumes.users(v.name).length) continue;
    if (!every && !(ANONYMOUS_LABEL in v.labels)) continue;
    if (!(filters["label"] ?? []).every((l) => labelMatch(v.labels, l)) || (filters["label!"] ?? []).some((l) => labelMatch(v.labels, l))) continue;
    reclaimed += await d.volumes.size(v);
    await d.volumes.remove(v.name);
    gone.push(v.name);
  }
  d.events.publish("volume", "prune", "", { reclaimed: String(reclaimed) });
  return { VolumesDeleted: gone.length ? gone : null, SpaceReclaimed: reclaimed };
}
