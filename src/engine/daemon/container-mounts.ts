import { checkMount, parseBind, parseVolumesFrom, type Mount, type MountPoint, type ParsedMount } from "../../common/api/mounts.js";
import type { ContainerCreateBody } from "../../common/api/container-create.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { OciMount } from "../../common/oci-spec.js";
import type { Container, ContainerMount, ContainerService } from "../containers/containers.js";

export type { ContainerMount };
import { VOLUMES_ROOT, type VolumeService } from "../volumes/volumes.js";

/**
 * The mounts of a container being created, in moby's order (daemon/volumes.go
 * registerMountPoints, create_unix.go): `--volumes-from`, then `-v` with a
 * source (Binds), then `--mount`, then the anonymous volumes of `-v /path` and
 * the image's VOLUME where nothing is mounted yet. Named volumes not there are
 * created (Docker's daemon does on create).
 * @param imageVolumes the image's config Volumes
 * @throws BerthError invalid-parameter with moby's words ("invalid volume
 *   specification: …", "Duplicate mount point: /x", "invalid mount config for
 *   type \"bind\": bind source path does not exist: /x", "invalid mode: rx"),
 *   container-not-found for --volumes-from
 */
export async function resolveMounts(
  d: { containers: ContainerService; volumes: VolumeService },
  body: ContainerCreateBody,
  imageVolumes: readonly string[],
  fail: (why: string) => BerthError,
): Promise<{ mounts: ContainerMount[]; volumes: string[] }> {
  const h = body.HostConfig ?? {};
  if (h.VolumeDriver && h.VolumeDriver !== "local") throw fail(`error looking up volume plugin ${h.VolumeDriver}: plugin "${h.VolumeDriver}" not found`);
  const out = new Map<string, ContainerMount>();
  for (const spec of h.VolumesFrom ?? []) {
    const r = parseVolumesFrom(spec);
    if (typeof r === "string") throw fail(r);
    const from = d.containers.find(r.container);
    for (const m of from.config.mounts ?? []) out.set(m.destination, { ...m, rw: m.rw && r.rw, copyData: false });
  }
  const given = new Set<string>();
  const tmpfs = new Set(Object.keys(h.Tmpfs ?? {}).map((t) => t.replace(/\/+$/, "") || "/"));
  const add = async (p: ParsedMount, bind: boolean): Promise<void> => {
    if (given.has(p.destination) || (bind && tmpfs.has(p.destination))) throw fail(`Duplicate mount point: ${p.destination}`);
    given.add(p.destination);
    if (p.type === "volume") {
      // a volume made here gets --mount's volume-label and volume-opt (an existing one keeps its own, as in Docker)
      const v = await d.volumes.create(p.name || undefined, { ...(p.labels ? { labels: p.labels } : {}), ...(p.options ? { options: p.options } : {}), anonymous: !p.name });
      out.set(p.destination, { type: "volume", name: v.name, destination: p.destination, rw: p.rw, mode: p.mode || "z", propagation: "", copyData: p.copyData });
    } else if (p.type === "bind") {
      if (p.mustExist && !(await exists(d.containers, p.source))) throw fail(`invalid mount config for type "bind": bind source path does not exist: ${p.source}`);
      out.set(p.destination, { type: "bind", source: p.source, destination: p.destination, rw: p.rw, mode: p.mode, propagation: p.propagation || "rprivate", createSource: !p.mustExist });
    } else {
      out.set(p.destination, { type: "tmpfs", destination: p.destination, rw: p.rw, mode: "", propagation: "", ...(p.tmpfs ? { tmpfs: p.tmpfs } : {}) });
    }
  };
  for (const raw of h.Binds ?? []) {
    const p = parseBind(raw);
    if (typeof p === "string") throw fail(p);
    await add(p, true);
  }
  for (const m of (h.Mounts ?? []) as Mount[]) {
    const p = checkMount(m);
    if (typeof p === "string") throw fail(p);
    await add(p, false);
  }
  const anonymous = [...Object.keys(body.Volumes ?? {}), ...imageVolumes];
  for (const spec of anonymous) {
    const p = parseBind(spec);
    if (typeof p === "string") throw fail(p);
    if (p.type !== "volume" || p.name) throw fail(`invalid volume specification: '${spec}'`);
    if (out.has(p.destination) || tmpfs.has(p.destination)) continue;
    const v = await d.volumes.create(undefined, { anonymous: true });
    out.set(p.destination, { type: "volume", name: v.name, destination: p.destination, rw: true, mode: "", propagation: "", copyData: true });
  }
  return { mounts: [...out.values()], volumes: [...new Set(anonymous)] };
}

/**
 * Docker's copy-up: a volume mounted where the image has content, and empty,
 * gets that content (and the directory's owner and mode) once, at create
 * (moby daemon/create_unix.go populateVolumes). Done in the guest, from the
 * container's mounted root filesystem.
 */
export async function populateVolumes(d: { containers: ContainerService; volumes: VolumeService }, c: Container): Promise<void> {
  const todo = (c.config.mounts ?? []).filter((m) => m.type === "volume" && m.copyData);
  if (!todo.length) return;
  await d.containers.mount(c);
  for (const m of todo) {
    m.copyData = false;
    const v = d.volumes.get(m.name!);
    // nothing of the image's there: nothing to copy, and the volume is not touched (one with mount
    // options is mounted at the start, and fails there, as Docker's)
    if ((await d.containers.guest(["/bin/sh", "-c", '[ -d "$1" ]', "has", `${c.rootfs}${m.destination}`])).code !== 0) continue;
    if (!(await d.volumes.isEmpty(v))) continue;
    const target = await d.volumes.guestPath(v);
    // the image's directory: its owner and mode, then what is in it
    const script = 'set -e; o=$(stat -c "%u:%g %a" "$1"); chown "${o% *}" "$2"; chmod "${o#* }" "$2"; cp -a "$1/." "$2/"';
    const r = await d.containers.guest(["/bin/sh", "-c", script, "copy-up", `${c.rootfs}${m.destination}`, target]);
    if (r.code !== 0) throw new BerthError(ErrorCode.containerStartFailed, `Cannot create container "${c.name}": copying the image's ${m.destination} into volume ${v.name}: ${r.stderr.trim().replaceAll(c.rootfs, "")}`);
  }
}

/**
 * The OCI mounts of a container's volumes, binds and --mount tmpfs, as it
 * starts: a volume's data is loaded into the share first; a `-v` bind's
 * missing source directory is made (Docker's rule).
 * @throws BerthError container-start-failed ("error while creating mount source path …")
 */
export async function ociMounts(d: { containers: ContainerService; volumes: VolumeService }, c: Container): Promise<OciMount[]> {
  const out: OciMount[] = [];
  for (const m of c.config.mounts ?? []) {
    const ro = m.rw ? "rw" : "ro";
    if (m.type === "volume") {
      out.push({ destination: m.destination, type: "bind", source: await d.volumes.guestPath(d.volumes.get(m.name!)), options: ["rbind", "rprivate", ro] });
    } else if (m.type === "bind") {
      if (m.createSource && !(await exists(d.containers, m.source!))) {
        const r = await d.containers.guest(["/bin/mkdir", "-p", m.source!]);
        if (r.code !== 0) throw new BerthError(ErrorCode.containerStartFailed, `Cannot start container "${c.name}": error while creating mount source path '${m.source}': ${r.stderr.trim()}`);
      }
      out.push({ destination: m.destination, type: "bind", source: m.source!, options: ["rbind", m.propagation || "rprivate", ro] });
    } else {
      const t = m.tmpfs ?? {};
      out.push({
        destination: m.destination, type: "tmpfs", source: "tmpfs",
        options: ["nosuid", "nodev", "noexec", ...(m.rw ? [] : ["ro"]), ...(t.sizeBytes ? [`size=${t.sizeBytes}`] : []), ...(t.mode ? [`mode=${t.mode.toString(8)}`] : [])],
      });
    }
  }
  return out;
}

/** `docker inspect`'s Mounts (Docker's MountPoint JSON). */
export function mountPoints(c: Container): MountPoint[] {
  return (c.config.mounts ?? []).map((m) => ({
    Type: m.type,
    ...(m.type === "volume" ? { Name: m.name! } : {}),
    Source: m.type === "volume" ? `${VOLUMES_ROOT}/${m.name}/_data` : m.source ?? "",
    Destination: m.destination,
    ...(m.type === "volume" ? { Driver: "local" } : {}),
    Mode: m.mode,
    RW: m.rw,
    Propagation: m.type === "bind" ? m.propagation : "",
  }));
}

/** The volumes a container uses (names). */
export function volumeNames(c: Container): string[] {
  return (c.config.mounts ?? []).flatMap((m) => (m.type === "volume" && m.name ? [m.name] : []));
}

async function exists(containers: ContainerService, path: string): Promise<boolean> {
  return (await containers.guest(["/bin/sh", "-c", '[ -e "$1" ]', "exists", path])).code === 0;
}
