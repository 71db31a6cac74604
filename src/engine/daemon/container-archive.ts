import type { PathStat } from "../../common/api/container-data.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { Container } from "../containers/containers.js";
import type { Daemon } from "./daemon.js";


const dec = new TextDecoder();

/** A Unix st_mode as Go's os.FileMode (io/fs: ModeDir, ModeSymlink, ModeNamedPipe, ModeSocket, ModeDevice, ModeCharDevice, setuid/setgid/sticky). */
export function goFileMode(st: number): number {
  const types: Record<number, number> = { 0o040000: 2 ** 31, 0o120000: 2 ** 27, 0o010000: 2 ** 25, 0o140000: 2 ** 24, 0o060000: 2 ** 26, 0o020000: 2 ** 26 + 2 ** 21 };
  let m = (st & 0o777) + (types[st & 0o170000] ?? 0);
  if (st & 0o4000) m += 2 ** 23;
  if (st & 0o2000) m += 2 ** 22;
  if (st & 0o1000) m += 2 ** 20;
  return m;
}

/** "/a/b/" → ["/a", "b"]; "/a/b/." → ["/a/b", "."] (Docker's archive.SplitPathDirEntry). */
export function splitPath(path: string): [string, string] {
  const abs = `/${path}`.replace(/\/+/g, "/");
  if (/\/\.$/.test(abs)) return [abs.slice(0, -2) || "/", "."];
  const clean = abs.replace(/\/+$/, "") || "/";
  if (clean === "/") return ["/", "."];
  const i = clean.lastIndexOf("/");
  return [clean.slice(0, i) || "/", clean.slice(i + 1)];
}

function notFound(c: Container, path: string): BerthError {
  return new BerthError(ErrorCode.containerNotFound, `Cannot copy: Could not find the file ${path} in container ${c.name}`);
}

/**
 * Where a path of the container is in the guest: under a volume or bind mount,
 * in the mount's source (Docker's cp reads and writes volumes); else in the
 * container's root filesystem. Answers the guest path and the mount's rw.
 */
export async function guestPathOf(d: Daemon, c: Container, path: string): Promise<{ full: string; rw: boolean }> {
  const p = `/${path.replace(/^\/+/, "")}`.replace(/\/\.?$/, "") || "/";
  const m = (c.config.mounts ?? [])
    .filter((x) => x.type !== "tmpfs" && (p === x.destination || p.startsWith(`${x.destination}/`)))
    .sort((a, b) => b.destination.length - a.destination.length)[0];
  if (!m) return { full: `${c.rootfs}${p === "/" ? "" : p}` || c.rootfs, rw: !c.hostConfig.readonlyRootfs };
  const source = m.type === "volume" ? await d.volumes.guestPath(d.volumes.get(m.name!)) : m.source!;
  return { full: source + p.slice(m.destination.length), rw: m.rw };
}

/**
 * Stats a path in the container's filesystem (lstat: a symlink is itself),
 * running or stopped. Paths are resolved in the guest below the container's
 * root (a symlink in the path that points out of it reaches the guest's files, not the user's).
 * @throws BerthError container-not-found (Docker's 404 "Could not find the file …")
 */
export async function statPath(d: Daemon, c: Container, path: string): Promise<PathStat> {
  await d.containers.mount(c);
  const { full } = await guestPathOf(d, c, path);
  const r = await d.containers.guest(["/bin/sh", "-c", 'stat -c "%f %s %Y" -- "$1" && { readlink -- "$1" || true; }', "stat", full]);
  if (r.code !== 0) throw notFound(c, path);
  const [head = "", link = ""] = dec.decode(r.stdout).split("\n");
  const [mode = "0", size = "0", mtime = "0"] = head.split(" ");
  const [, base] = splitPath(path);
  return { name: base === "." ? (path.replace(/\/+\.?$/, "").split("/").pop() || "/") : base, size: Number(size), mode: goFileMode(parseInt(mode, 16)), mtime: new Date(Number(mtime) * 1000).toISOString().replace(/\.000Z$/, "Z"), linkTarget: link };
}

/**
 * `GET /containers/{id}/archive?path=`: a tar of the path, its entries named
 * from the path's base name ("/etc/hosts" → "hosts", "/etc/." → "./…"), with its stat.
 * @throws BerthError container-not-found when the path is not there
 */
export async function getArchive(d: Daemon, c: Container, path: string): Promise<{ stat: PathStat; tar: Uint8Array }> {
  const stat = await statPath(d, c, path);
  const [dir, base] = splitPath(path);
  const { full } = await guestPathOf(d, c, dir);
  const r = await d.containers.guest(["/bin/tar", "-C", full, "-cf", "-", base]);
  if (r.code !== 0) throw new BerthError(ErrorCode.containerWrongState, `Cannot copy from "${c.name}": ${r.stderr.trim().replaceAll(c.rootfs, "")}`);
  d.containers.event(c, "archive-path");
  return { stat, tar: r.stdout };
}

/**
 * `PUT /containers/{id}/archive?path=`: extracts a tar into a directory of
 * the container. Files get root's owner unless `copyUIDGID` (docker cp -a).
 * @throws BerthError container-not-found (no such directory), usage ("extraction
 *   point is not a directory"), container-wrong-state (a read-only root, a bad tar)
 */
export async function putArchive(d: Daemon, c: Container, path: string, tar: Uint8Array, o: { copyUIDGID?: boolean } = {}): Promise<void> {
  const stat = await statPath(d, c, path);
  if (stat.mode < 2 ** 31) throw new BerthError(ErrorCode.invalidParameter, `Cannot copy to "${c.name}": extraction point is not a directory`);
  const { full, rw } = await guestPathOf(d, c, path);
  if (!rw) throw new BerthError(ErrorCode.containerWrongState, `Cannot copy to "${c.name}": ${full.startsWith(c.rootfs) ? "container rootfs is marked read-only" : "mounted volume is marked read-only"}`);
  const r = await d.containers.guest(["/bin/tar", "-C", full, "-xf", "-", ...(o.copyUIDGID ? [] : ["--no-same-owner"])], { stdin: tar });
  if (r.code !== 0) throw new BerthError(ErrorCode.containerWrongState, `Cannot copy to "${c.name}": ${r.stderr.trim().replaceAll(c.rootfs, "") || `tar exited ${r.code}`}`);
  // Docker's event (moby daemon/archive.go); the daemon's state saves the changed writable layer on it
  d.containers.event(c, "extract-to-dir");
}

/**
 * `GET /containers/{id}/export` (`docker export`): the container's whole
 * filesystem as a tar, running or stopped.
 * @throws BerthError container-wrong-state when the guest cannot read it
 */
export async function exportContainer(d: Daemon, c: Container): Promise<Uint8Array> {
  await d.containers.mount(c);
  const r = await d.containers.guest(["/bin/tar", "-C", c.rootfs, "-cf", "-", "."]);
  if (r.code !== 0) throw new BerthError(ErrorCode.containerWrongState, `Cannot export "${c.name}": ${r.stderr.trim().replaceAll(c.rootfs, "")}`);
  return r.stdout;
}
