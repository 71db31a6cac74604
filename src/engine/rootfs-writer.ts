import type { LayerTree } from "./layer-tree.js";
import type { ShareFiles } from "./vm-host.js";

/**
 * Writes a flattened image tree into the 9p share under `dir` (made afresh),
 * with modes, owners, times, symlinks, hard links and device nodes. Parents
 * come before children (LayerTree.paths()), so every parent id is known.
 */
export async function writeRootfs(files: ShareFiles, dir: string, tree: LayerTree): Promise<{ files: number; bytes: number }> {
  files.remove(dir);
  const rootId = files.dir(dir);
  const ids = new Map<string, number>([["", rootId]]);
  let count = 0;
  let bytes = 0;
  for (const path of tree.paths()) {
    if (path === "") continue;
    const n = tree.nodes.get(path)!;
    const slash = path.lastIndexOf("/");
    const parent = ids.get(slash < 0 ? "" : path.slice(0, slash));
    if (parent === undefined) throw new TypeError(`parent of ${path} was not written first`);
    const name = path.slice(slash + 1);
    const a = { mode: n.mode, uid: n.uid, gid: n.gid, mtime: n.mtime };
    switch (n.type) {
      case "dir":
        ids.set(path, files.mkdir(parent, name, a));
        break;
      case "file":
      case "hardlink": {
        const target = n.hardlinkOf === undefined ? undefined : ids.get(n.hardlinkOf);
        if (target !== undefined) files.hardlink(parent, name, target);
        else {
          ids.set(path, await files.file(parent, name, n.data, a));
          bytes += n.data.length;
        }
        break;
      }
      case "symlink":
        ids.set(path, files.symlink(parent, name, n.linkname, a));
        break;
      case "char":
      case "block":
      case "fifo":
        ids.set(path, files.node(parent, name, n.type, n.devmajor, n.devminor, a));
        break;
    }
    count++;
  }
  return { files: count, bytes };
}
