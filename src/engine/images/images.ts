import { BerthError, ErrorCode } from "../../common/errors.js";
import { familiarName, formatReference, parseReference, type Reference } from "../../common/reference.js";
import type { PulledImage } from "./image-puller.js";
import { EventBus } from "../daemon/events.js";

/** An image the engine holds: its tree and config, and what it is called. */
export interface LocalImage {
  readonly id: string;
  image: PulledImage;
  /** the layers' uncompressed size, as Docker counts an image's */
  size: number;
  /** `repo@sha256:…` of the manifests it was pulled as */
  repoDigests: Set<string>;
}

/**
 * Images by ID and by tag, with Docker's rules: a tag names one image; an
 * image whose last tag moves away is "dangling" (<none>:<none>) until pruned.
 */
/** What is kept of the images between runs (their blobs are in the blob store). */
export interface ImagesRecord {
  version: 1;
  images: Array<{ id: string; manifestDigest: string; reference: string; layers: PulledImage["layers"]; layerSizes: number[]; repoDigests: string[] }>;
  /** tag -> image ID */
  tags: Record<string, string>;
}

export class ImageStore {
  readonly #byId = new Map<string, LocalImage>();
  readonly #tags = new Map<string, string>();
  /** bumped by every change, so the engine knows when to save the record */
  changes = 0;
  /** where tag, untag and delete events go (Docker's image events) */
  readonly events: EventBus;

  constructor(events = new EventBus()) {
    this.events = events;
  }

  /** Publishes an image event: Actor.ID the image ID or reference, its `name` attribute. */
  event(action: string, id: string, name?: string): void {
    this.events.publish("image", action, id, name ? { name } : {});
  }

  record(): ImagesRecord {
    return {
      version: 1,
      images: this.all().map((l) => ({
        id: l.id, manifestDigest: l.image.manifestDigest, reference: formatReference(l.image.reference),
        layers: l.image.layers, layerSizes: l.image.layerSizes, repoDigests: [...l.repoDigests],
      })),
      tags: Object.fromEntries(this.#tags),
    };
  }

  /** Brings back an image from a record (its config and tree rebuilt from blobs by the caller). */
  restore(image: PulledImage, repoDigests: string[], tags: string[]): void {
    const { local } = this.add(undefined, image);
    for (const d of repoDigests) local.repoDigests.add(d);
    for (const t of tags) this.#tags.set(t, image.id);
  }

  /** Records a pulled (or committed) image under `ref`; returns the image this tag named before. */
  add(ref: Reference | undefined, image: PulledImage): { local: LocalImage; previous: LocalImage | undefined } {
    let local = this.#byId.get(image.id);
    if (!local) {
      local = { id: image.id, image, size: image.layerSizes.reduce((a, b) => a + b, 0), repoDigests: new Set() };
      this.#byId.set(image.id, local);
    }
    this.changes++;
    if (ref && image.manifestDigest) local.repoDigests.add(`${familiarName(ref)}@${image.manifestDigest}`);
    if (!ref || !ref.tag) return { local, previous: undefined };
    const key = formatReference({ ...ref, digest: undefined });
    const previous = this.#byId.get(this.#tags.get(key) ?? "");
    this.#tags.set(key, image.id);
    return { local, previous: previous === local ? undefined : previous };
  }

  tag(local: LocalImage, ref: Reference): void {
    this.changes++;
    if (!ref.tag) ref = { ...ref, tag: "latest" };
    this.#tags.set(formatReference({ ...ref, digest: undefined }), local.id);
    this.event("tag", local.id, `${familiarName(ref)}:${ref.tag}`);
  }

  /** Removes a tag; true when it existed. */
  untag(ref: Reference): boolean {
    this.changes++;
    const key = formatReference({ ...ref, digest: undefined });
    const id = this.#tags.get(key);
    if (id) this.event("untag", id, `${familiarName(ref)}:${ref.tag ?? "latest"}`);
    return this.#tags.delete(key);
  }

  delete(local: LocalImage): void {
    this.changes++;
    this.#byId.delete(local.id);
    for (const [k, id] of this.#tags) if (id === local.id) this.#tags.delete(k);
    this.event("delete", local.id);
  }

  tagsOf(local: LocalImage): Reference[] {
    return [...this.#tags].filter(([, id]) => id === local.id).map(([k]) => parseReference(k));
  }

  all(): LocalImage[] {
    return [...this.#byId.values()];
  }

  /** Tag rows for `docker images`: one per tag, one for an untagged image. */
  rows(): Array<{ local: LocalImage; ref: Reference | undefined }> {
    const rows: Array<{ local: LocalImage; ref: Reference | undefined }> = [];
    for (const local of this.#byId.values()) {
      const tags = this.tagsOf(local);
      if (tags.length === 0) rows.push({ local, ref: undefined });
      for (const ref of tags) rows.push({ local, ref });
    }
    return rows;
  }

  /** By name[:tag], name@digest, full ID (with or without sha256:) or a unique ID prefix. */
  find(name: string): LocalImage | undefined {
    const bare = name.replace(/^sha256:/, "");
    if (/^[0-9a-f]{4,64}$/.test(bare)) {
      const hits = this.all().filter((l) => l.id.slice(7).startsWith(bare));
      if (hits.length === 1 && (bare.length === 64 || !this.#isTagName(name))) return hits[0];
    }
    let ref: Reference;
    try {
      ref = parseReference(name);
    } catch {
      return undefined;
    }
    if (ref.digest) return this.all().find((l) => l.repoDigests.has(`${familiarName(ref)}@${ref.digest}`) || l.image.manifestDigest === ref.digest);
    return this.#byId.get(this.#tags.get(formatReference(ref)) ?? "");
  }

  #isTagName(name: string): boolean {
    try {
      return this.#tags.has(formatReference(parseReference(name)));
    } catch {
      return false;
    }
  }

  require(name: string, action = "find image"): LocalImage {
    const l = this.find(name);
    if (!l) throw new BerthError(ErrorCode.imageNotFound, `Cannot ${action}: No such image: ${name}`);
    return l;
  }
}
