import { parseReference } from "../common/reference.js";
import type { BlobStore } from "./blob-store.js";
import { runContainer } from "./container-runner.js";
import type { ExecOptions, GuestChannel } from "./guest-channel.js";
import { pullImage, type PullProgress } from "./image-puller.js";
import type { RegistryClient } from "./registry-client.js";
import { writeRootfs } from "./rootfs-writer.js";
import type { ShareFiles } from "./vm-host.js";

export interface RunImageDeps {
  channel: GuestChannel;
  files: ShareFiles;
  client: RegistryClient;
  store?: BlobStore;
}

export interface RunImageOptions {
  image: string;
  /** the command; default the image's Entrypoint + Cmd (given args replace Cmd, as in `docker run IMAGE ARGS`) */
  args?: string[];
  onProgress?: (p: PullProgress) => void;
}

let counter = 0;

/**
 * Pull (or find in the store) an image, write its tree into the 9p share and
 * run it once with crun, the image's Env, WorkingDir and Entrypoint/Cmd
 * applied. Resolves with the container's exit status. (The docker CLI layer
 * of the containers issue builds on this.)
 */
export async function runImage(d: RunImageDeps, o: RunImageOptions, io: ExecOptions = {}): Promise<number> {
  const ref = parseReference(o.image);
  const img = await pullImage(d.client, ref, { ...(d.store ? { store: d.store } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
  const dir = `/images/${img.id.slice(7, 19)}/rootfs`;
  await writeRootfs(d.files, dir, img.tree);
  const c = img.config.config ?? {};
  const args = [...(c.Entrypoint ?? []), ...(o.args ?? c.Cmd ?? [])];
  if (args.length === 0) args.push("sh");
  return runContainer(
    d.channel,
    {
      name: `run-${img.id.slice(7, 15)}-${++counter}-${Date.now() % 100000}`,
      layers: [`/mnt/host${dir}`],
      args,
      env: c.Env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      cwd: c.WorkingDir || "/",
    },
    io,
  );
}
