import { BerthError, ErrorCode } from "../../common/errors.js";
import { parseReference } from "../../common/reference.js";
import type { Container } from "../containers/containers.js";
import { sha256Hex } from "../digest.js";
import type { ImageConfig, PulledImage } from "../images/image-puller.js";
import type { LocalImage } from "../images/images.js";
import { writableLayer } from "./container-changes.js";
import type { Daemon } from "./daemon.js";

const enc = new TextEncoder();
const TAR_LAYER = "application/vnd.oci.image.layer.v1.tar";
type RunConfig = NonNullable<ImageConfig["config"]>;

/**
 * Applies Dockerfile instructions to an image config, as `docker commit -c`
 * and `docker import -c` do (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER,
 * VOLUME, WORKDIR, STOPSIGNAL; JSON or shell form).
 * @throws BerthError usage for an instruction Docker refuses there
 */
export function applyChanges(config: RunConfig, changes: readonly string[]): void {
  const list = (v: string): string[] => (v.trim().startsWith("[") ? (JSON.parse(v) as string[]) : ["/bin/sh", "-c", v.trim()]);
  for (const ch of changes) {
    const m = /^\s*(\w+)\s+(.*)$/s.exec(ch);
    if (!m) throw new BerthError(ErrorCode.invalidParameter, `Cannot apply change "${ch}": dockerfile parse error`);
    const [, op, v] = m as unknown as [string, string, string];
    switch (op.toUpperCase()) {
      case "CMD": config.Cmd = list(v); break;
      case "ENTRYPOINT": config.Entrypoint = list(v); break;
      case "WORKDIR": config.WorkingDir = v.trim(); break;
      case "USER": config.User = v.trim(); break;
      case "ENV": {
        const [k, val] = v.includes("=") ? v.trim().split(/=(.*)/s) as [string, string] : v.trim().split(/\s+(.*)/s) as [string, string];
        config.Env = [...(config.Env ?? []).filter((e) => !e.startsWith(`${k}=`)), `${k}=${val ?? ""}`];
        break;
      }
      case "LABEL": {
        const [k, val = ""] = v.trim().split(/=(.*)/s) as [string, string?];
        config.Labels = { ...(config.Labels ?? {}), [k.replace(/^"|"$/g, "")]: val.replace(/^"|"$/g, "") };
        break;
      }
      case "EXPOSE": config.ExposedPorts = { ...(config.ExposedPorts ?? {}), [v.includes("/") ? v.trim() : `${v.trim()}/tcp`]: {} }; break;
      case "VOLUME": {
        const paths = v.trim().startsWith("[") ? (JSON.parse(v) as string[]) : v.trim().split(/\s+/);
        config.Volumes = { ...(config.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) };
        break;
      }
      case "STOPSIGNAL": config.StopSignal = v.trim(); break;
      default: throw new BerthError(ErrorCode.invalidParameter, `Cannot apply change "${ch}": ${op} is not a valid change command`);
    }
  }
}

/**
 * Adds an image made here (commit, import, load): its layers are unpacked from
 * the bytes at hand, its config and new layers go to the blob store (so save
 * and a restarted daemon find them), and `repo` (if any, `:latest` by default) names it.
 * @param knownId the image ID when the config's own bytes are stored already (load)
 * @returns the image
 * @throws BerthError invalid-reference (a bad `repo`), and the layer store's errors for a bad layer
 */
export async function addImage(d: Daemon, image: Omit<PulledImage, "id" | "reference">, repo: string | undefined, blobs: Array<{ digest: string; data: Uint8Array }> = [], knownId?: string): Promise<LocalImage> {
  const ref = repo ? parseReference(repo) : undefined;
  const configBytes = enc.encode(JSON.stringify(image.config));
  const id = knownId ?? `sha256:${await sha256Hex(configBytes)}`;
  const neutralised = await d.unpackLayers(image, new Map(blobs.map((b) => [b.digest, b.data])));
  for (const b of [...blobs, ...(knownId ? [] : [{ digest: id, data: configBytes }])]) await d.store?.put(b.digest, b.data);
  const full: PulledImage = { ...image, neutralised, id, reference: ref ?? parseReference("none") };
  const { local } = d.images.add(undefined, full);
  if (ref) d.images.tag(local, ref.tag ? ref : { ...ref, tag: "latest" });
  return local;
}

/** `POST /commit`'s options (the query of moby's postCommit, and the body's Config). */
export interface CommitOptions {
  /** "repo[:tag]" */
  repo?: string;
  author?: string;
  comment?: string;
  /** Dockerfile instructions (`-c`) */
  changes?: readonly string[];
  /** the body's Config: the run config of the new image, over the container's */
  config?: RunConfig;
}

/**
 * Makes an image of a container's changes (`docker commit`, `POST /commit`):
 * the image's layers and the writable layer on top; the container's run
 * config (Env, Cmd, Entrypoint, WorkingDir, User, Labels) with `changes` applied.
 * @returns the new image
 * @throws BerthError image-not-found (the container's image was removed), invalid-reference, usage (a bad change)
 */
export async function commitContainer(d: Daemon, c: Container, o: CommitOptions = {}): Promise<LocalImage> {
  if (o.repo) parseReference(o.repo);
  const base = d.images.require(c.config.imageId, `commit "${c.name}"`);
  const { tar } = await writableLayer(d, c);
  const cfg: RunConfig = { ...(base.image.config.config ?? {}), Env: c.config.env, Cmd: c.config.cmd, Entrypoint: c.config.entrypoint.length ? c.config.entrypoint : undefined, WorkingDir: c.config.workingDir, User: c.config.user, Labels: c.config.labels, ...(o.config ?? {}) };
  applyChanges(cfg, o.changes ?? []);
  const now = new Date().toISOString();
  const digest = `sha256:${await sha256Hex(tar)}`;
  const config: ImageConfig = {
    ...base.image.config,
    created: now,
    author: o.author ?? "",
    config: cfg,
    rootfs: { type: "layers", diff_ids: [...(base.image.config.rootfs?.diff_ids ?? []), digest] },
    history: [...(base.image.config.history ?? []), { created: now, created_by: [...c.config.entrypoint, ...c.config.cmd].join(" "), ...(o.comment ? { comment: o.comment } : {}), ...(o.author ? { author: o.author } : {}) }],
  };
  const layer = { digest, mediaType: TAR_LAYER, size: tar.length };
  const local = await addImage(d, { manifestDigest: "", config, neutralised: [], layerSizes: [...base.image.layerSizes, tar.length], layers: [...base.image.layers, layer] }, o.repo, [{ digest, data: tar }]);
  d.containers.event(c, "commit", { comment: o.comment ?? "", imageID: local.id, imageRef: o.repo ?? "" });
  return local;
}

/**
 * Makes a one-layer image of a root filesystem tar (`docker import`, `POST
 * /images/create?fromSrc=-`), with `changes` applied to an empty config.
 * @returns the new image
 * @throws BerthError invalid-reference, usage (a bad change), and the layer store's errors for a bad tar
 */
export async function importImage(d: Daemon, tar: Uint8Array, o: { repo?: string; message?: string; changes?: readonly string[] } = {}): Promise<LocalImage> {
  if (o.repo) parseReference(o.repo);
  const cfg: RunConfig = {};
  applyChanges(cfg, o.changes ?? []);
  const now = new Date().toISOString();
  const digest = `sha256:${await sha256Hex(tar)}`;
  const config: ImageConfig = {
    architecture: "386", os: "linux", created: now, config: cfg,
    rootfs: { type: "layers", diff_ids: [digest] },
    history: [{ created: now, created_by: "", comment: o.message ?? "Imported from -" }],
  };
  const local = await addImage(d, { manifestDigest: "", config, neutralised: [], layerSizes: [tar.length], layers: [{ digest, mediaType: TAR_LAYER, size: tar.length }] }, o.repo, [{ digest, data: tar }]);
  d.images.event("import", local.id);
  return local;
}
