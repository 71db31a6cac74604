import { mountPoints } from "./container-mounts.js";
import type { DiskUsage } from "../../common/api/system-data.js";
import { statusText } from "../../common/container-state.js";
import { familiarName } from "../../common/reference.js";
import type { Container } from "../containers/containers.js";
import type { Daemon } from "./daemon.js";


const dec = new TextDecoder();

/**
 * Each container's sizes as Docker reports them (`ps -s`, `inspect -s`, `GET
 * /containers/json?size=1`, system df): SizeRw, its writable layer's bytes, and
 * SizeRootFs, those with its image's; one guest `du` for all.
 */
export async function containerSizes(d: Daemon, list: readonly Container[]): Promise<Map<string, { SizeRw: number; SizeRootFs: number }>> {
  const rw = await writableSizes(d, list);
  return new Map(list.map((c) => {
    const n = rw.get(c.id) ?? 0;
    return [c.id, { SizeRw: n, SizeRootFs: n + (d.images.find(c.config.imageId)?.size ?? 0) }];
  }));
}

/** The bytes in each container's writable layer (one guest `du` for all; a container never started has none). */
async function writableSizes(d: Daemon, list: readonly Container[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const mounted = list.filter((c) => c.mounted);
  if (!mounted.length) return sizes;
  const r = await d.containers.guest(["/bin/sh", "-c", 'for d in "$@"; do du -sk "$d" 2>/dev/null || echo "0 $d"; done', "df", ...mounted.map((c) => c.upperDir)]);
  // du's "KIB\tDIR" lines
  const byDir = new Map(dec.decode(r.stdout).split("\n").filter(Boolean).map((l) => {
    const [kib = "0", dir = ""] = l.split(/\s+/);
    return [dir, Number(kib) * 1024] as const;
  }));
  for (const c of mounted) sizes.set(c.id, byDir.get(c.upperDir) ?? 0);
  return sizes;
}

/**
 * What the daemon's data takes (`GET /system/df`, `docker system df`):
 * images (each with the bytes it shares with others and how many containers
 * use it), containers with their writable layer's size, volumes with their
 * data's size and how many containers use them. No build cache yet.
 */
export async function diskUsage(d: Daemon): Promise<DiskUsage> {
  const containers = d.containers.list();
  const images = d.images.all();
  const layerUse = new Map<string, number>();
  const layerSize = new Map<string, number>();
  // a layer is its uncompressed digest (the config's diff_id), as Docker's layer store keys them:
  // a pulled image and the same image loaded from a save share their layers
  const layerIds = (l: (typeof images)[number]): string[] => l.image.layers.map((x, i) => l.image.config.rootfs?.diff_ids?.[i] ?? x.digest);
  for (const l of images) {
    layerIds(l).forEach((id, i) => {
      layerUse.set(id, (layerUse.get(id) ?? 0) + 1);
      layerSize.set(id, l.image.layerSizes[i] ?? 0);
    });
  }
  const sizes = await containerSizes(d, containers);
  return {
    LayersSize: [...layerSize.values()].reduce((a, b) => a + b, 0),
    Images: images.map((l) => ({
      Id: l.id,
      ParentId: "",
      RepoTags: d.images.tagsOf(l).map((t) => `${familiarName(t)}:${t.tag ?? "latest"}`),
      RepoDigests: [...l.repoDigests],
      Created: Math.floor(Date.parse(l.image.config.created ?? "1970-01-01T00:00:00Z") / 1000) || 0,
      Size: l.size,
      VirtualSize: l.size,
      SharedSize: layerIds(l).reduce((n, id, i) => n + ((layerUse.get(id) ?? 0) > 1 ? l.image.layerSizes[i] ?? 0 : 0), 0),
      Labels: l.image.config.config?.Labels ?? null,
      Containers: containers.filter((c) => c.config.imageId === l.id).length,
    })),
    Containers: containers.map((c) => ({
      Id: c.id,
      Names: [`/${c.name}`],
      Image: c.config.image,
      ImageID: c.config.imageId,
      Command: [...c.config.entrypoint, ...c.config.cmd].join(" "),
      Created: Math.floor(c.created / 1000),
      State: c.state.status,
      Status: statusText(c.state),
      ...sizes.get(c.id)!,
      Labels: c.config.labels,
      Mounts: mountPoints(c),
    })),
    Volumes: await Promise.all(d.volumes.list().map(async (v) => ({ ...d.volumes.doc(v), UsageData: { Size: await d.volumes.size(v), RefCount: d.volumes.users(v.name).length } }))),
    BuildCache: [],
  };
}
