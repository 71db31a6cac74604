import type { ContainerPruneReport, ImagePruneReport } from "../../common/api/system-data.js";
import { Status } from "../../common/container-state.js";
import { familiarName } from "../../common/reference.js";
import type { Daemon } from "./daemon.js";
import { labelMatch } from "./container-list.js";
import { parseTime } from "../../common/docker-flags.js";
import { BerthError, ErrorCode } from "../../common/errors.js";



/**
 * Docker's prune filters (moby daemon/prune.go): `until` (a time or a
 * duration before now: older objects only), `label=K[=V]` (all must match) and
 * `label!=K[=V]` (none may), plus `extra` keys the caller reads itself.
 * @returns the predicate over an object's creation time (ms) and labels
 * @throws BerthError invalid-parameter "invalid filter 'x'" for another key
 */
export function pruneFilter(filters: Record<string, string[]>, what: string, extra: string[] = []): (o: { created: number; labels: Record<string, string> | undefined }) => boolean {
  for (const k of Object.keys(filters)) {
    if (!["until", "label", "label!", ...extra].includes(k)) throw new BerthError(ErrorCode.invalidParameter, `Cannot prune ${what}: invalid filter '${k}'`);
  }
  const until = Math.min(...(filters["until"] ?? []).map((v) => parseTime(v, "until")));
  return (o) =>
    (!Number.isFinite(until) || o.created < until) &&
    (filters["label"] ?? []).every((v) => labelMatch(o.labels, v)) &&
    !(filters["label!"] ?? []).some((v) => labelMatch(o.labels, v));
}

/** Removes the stopped containers (exited, created, dead) that match Docker's prune filters (pruneFilter). */
export async function pruneContainers(d: Daemon, filters: Record<string, string[]> = {}): Promise<ContainerPruneReport> {
  const keep = pruneFilter(filters, "containers");
  const gone = d.containers.list().filter((c) => (c.state.status === Status.exited || c.state.status === Status.created || c.state.status === Status.dead) && keep({ created: c.created, labels: c.config.labels }));
  for (const c of gone) await d.containers.remove(c);
  d.events.publish("container", "prune", "", { reclaimed: "0" });
  return { ContainersDeleted: gone.length ? gone.map((c) => c.id) : null, SpaceReclaimed: 0 };
}

/** Removes the user-defined networks no container is on (network prune, system prune); answers their names. */
export async function pruneNetworks(d: Pick<Daemon, "containers" | "networks">, filters: Record<string, string[]> = {}): Promise<string[]> {
  const keep = pruneFilter(filters, "networks");
  const used = new Set(d.containers.list().flatMap((c) => c.hostConfig.networks));
  const gone: string[] = [];
  for (const n of d.networks.list()) {
    if (n.driver !== "bridge" || n.name === "bridge" || used.has(n.name) || !keep({ created: n.created, labels: n.labels })) continue;
    await d.networks.remove(n);
    gone.push(n.name);
  }
  return gone;
}

/**
 * Removes dangling images (with `all`, every image no container uses) and
 * collects their blobs, with Docker's report: an {Untagged} item per tag, then
 * {Deleted}; the space is the images' layer bytes.
 */
export async function pruneImages(d: Daemon, all: boolean, filters: Record<string, string[]> = {}): Promise<ImagePruneReport> {
  const keep = pruneFilter(filters, "images", ["dangling"]);
  const used = new Set(d.containers.list().map((c) => c.config.imageId));
  const items: Array<{ Untagged?: string; Deleted?: string }> = [];
  let reclaimed = 0;
  for (const local of d.images.all()) {
    if (used.has(local.id) || !keep({ created: Date.parse(local.image.config.created ?? "") || 0, labels: local.image.config.config?.Labels })) continue;
    const tags = d.images.tagsOf(local);
    if (tags.length && !all) continue;
    for (const t of tags) {
      d.images.untag(t);
      items.push({ Untagged: `${familiarName(t)}:${t.tag ?? "latest"}` });
    }
    d.images.delete(local);
    items.push({ Deleted: local.id });
    reclaimed += local.size;
  }
  await d.collectBlobs();
  d.events.publish("image", "prune", "", { reclaimed: String(reclaimed) });
  return { ImagesDeleted: items.length ? items : null, SpaceReclaimed: reclaimed };
}
