import type { ContainerPruneReport, ImagePruneReport } from "../../common/api/system-data.js";
import { Status } from "../../common/container-state.js";
import { familiarName } from "../../common/reference.js";
import type { Daemon } from "./daemon.js";
import { listContainers } from "./container-list.js";



/**
 * Removes the stopped containers (exited, created, dead) that match the
 * `label` filters (Docker's `label=K[=V]`, `label!=…` as in ps).
 */
export async function pruneContainers(d: Daemon, filters: Record<string, string[]> = {}): Promise<ContainerPruneReport> {
  const stopped = d.containers.list().filter((c) => c.state.status === Status.exited || c.state.status === Status.created || c.state.status === Status.dead);
  const gone = listContainers(stopped, d.images, { all: true, filters: Object.fromEntries(Object.entries(filters).filter(([k]) => k === "label")) });
  for (const c of gone) await d.containers.remove(c);
  d.events.publish("container", "prune", "", { reclaimed: "0" });
  return { ContainersDeleted: gone.length ? gone.map((c) => c.id) : null, SpaceReclaimed: 0 };
}

/** Removes the user-defined networks no container is on (network prune, system prune); answers their names. */
export async function pruneNetworks(d: Pick<Daemon, "containers" | "networks">): Promise<string[]> {
  const used = new Set(d.containers.list().flatMap((c) => c.hostConfig.networks));
  const gone: string[] = [];
  for (const n of d.networks.list()) {
    if (n.driver !== "bridge" || n.name === "bridge" || used.has(n.name)) continue;
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
export async function pruneImages(d: Daemon, all: boolean): Promise<ImagePruneReport> {
  const used = new Set(d.containers.list().map((c) => c.config.imageId));
  const items: Array<{ Untagged?: string; Deleted?: string }> = [];
  let reclaimed = 0;
  for (const local of d.images.all()) {
    if (used.has(local.id)) continue;
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
