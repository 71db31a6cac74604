import type { FilesystemChange } from "../../common/api/container-data.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { Container } from "../containers/containers.js";
import { readTar, type TarEntry } from "../unpack/tar-reader.js";
import type { Daemon } from "./daemon.js";


/** the mount points of /etc/hosts, /etc/resolv.conf, /etc/hostname and docker-init, and /.dockerenv: not a container's changes (Docker keeps them in an init layer) */
const MOUNT_POINTS = new Set(["etc/hosts", "etc/resolv.conf", "etc/hostname", "sbin/docker-init", ".dockerenv"]);

/**
 * The container's writable layer as a layer tar and its entries, overlayfs
 * whiteouts (0:0 character devices) turned into OCI `.wh.` names — what
 * `docker commit` stores and `docker diff` lists. The empty mount points
 * crun made, and directories copied up only to hold them, are left out.
 * @throws BerthError container-wrong-state when the guest cannot read it
 */
export async function writableLayer(d: Daemon, c: Container): Promise<{ entries: TarEntry[]; tar: Uint8Array }> {
  await d.containers.mount(c);
  const r = await d.containers.guest(["/bin/tar", "-C", c.upperDir, "-cf", "-", "."]);
  if (r.code !== 0) throw new BerthError(ErrorCode.containerWrongState, `Cannot read the changes of "${c.name}": ${r.stderr.trim()}`);
  const all = [...readTar(r.stdout, `the changes of "${c.name}"`)];
  const kept = all.filter((e) => !(MOUNT_POINTS.has(e.path) && e.type === "file" && e.data.length === 0));
  const dirs = new Set(kept.filter((e) => e.type === "dir").map((e) => e.path));
  const base = await imageView(d, c);
  for (const e of all) {
    if (!MOUNT_POINTS.has(e.path) || kept.includes(e)) continue;
    for (let p = e.path.slice(0, e.path.lastIndexOf("/")); p && dirs.has(p) && base?.has(p); p = p.slice(0, Math.max(0, p.lastIndexOf("/")))) {
      if (kept.some((k) => k.path.startsWith(`${p}/`))) break;
      dirs.delete(p);
    }
  }
  const entries: TarEntry[] = [];
  for (const e of kept) {
    if (e.path === "" || (e.type === "dir" && !dirs.has(e.path))) continue;
    if (e.type === "char" && e.devmajor === 0 && e.devminor === 0) {
      const slash = e.path.lastIndexOf("/");
      entries.push({ ...e, type: "file", path: `${e.path.slice(0, slash + 1)}.wh.${e.path.slice(slash + 1)}`, data: new Uint8Array(0) });
    } else entries.push(e);
  }
  return { entries, tar: r.stdout };
}

async function imageView(d: Daemon, c: Container): Promise<{ has(path: string): boolean } | undefined> {
  const local = d.images.find(c.config.imageId);
  return local ? d.imageView(local) : undefined;
}

/**
 * The container's changes against its image, sorted by path (Docker's
 * `docker diff`, `GET /containers/{id}/changes`): a path the image has is
 * modified, a new one added, a whiteout deleted.
 * @throws BerthError container-wrong-state when the guest cannot read the layer
 */
export async function containerChanges(d: Daemon, c: Container): Promise<FilesystemChange[]> {
  const base = await imageView(d, c);
  const { entries } = await writableLayer(d, c);
  const out: FilesystemChange[] = entries.map((e) => {
    const name = e.path.slice(e.path.lastIndexOf("/") + 1);
    if (name.startsWith(".wh.")) return { Path: `/${e.path.slice(0, e.path.length - name.length)}${name.slice(4)}`, Kind: 2 };
    return { Path: `/${e.path}`, Kind: base?.has(e.path) ? 0 : 1 };
  });
  return out.sort((a, b) => a.Path.localeCompare(b.Path));
}
