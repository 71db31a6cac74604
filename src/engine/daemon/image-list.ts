import { parseTime } from "../../common/docker-flags.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { familiarName, parseReference, type Reference } from "../../common/reference.js";
import type { ImageStore, LocalImage } from "../images/images.js";
import { labelMatch } from "./container-list.js";

/** The keys `docker images --filter` and `GET /images/json` take (moby daemon/images/image_list.go). */
const KEYS = new Set(["dangling", "label", "before", "since", "reference", "until"]);

/**
 * Docker's reference.FamiliarMatch: a pattern of REPOSITORY[:TAG] in path.Match
 * syntax (`*` within a path segment) against a tag's familiar name, and its tag
 * when the pattern has one ("busybox", "library/*", "*:v1").
 */
export function referenceMatch(pattern: string, ref: Reference): boolean {
  const tagged = /:[^/]+$/.test(pattern);
  const [name, tag] = tagged ? [pattern.slice(0, pattern.lastIndexOf(":")), pattern.slice(pattern.lastIndexOf(":") + 1)] : [pattern, undefined];
  const glob = (g: string, v: string): boolean => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`).test(v);
  let full = name;
  if (!/[*?[]/.test(name)) {
    try {
      full = familiarName(parseReference(name));
    } catch {
      return false;
    }
  }
  return glob(full, familiarName(ref)) && (tag === undefined || glob(tag, ref.tag ?? ""));
}

/** An image as listed: its tags that the filters kept (none: a dangling image). */
export interface ListedImage {
  local: LocalImage;
  tags: Reference[];
}

/**
 * The images `docker images` and `GET /images/json` list, with Docker's
 * filters: one key's values OR'ed (label's AND'ed), keys AND'ed; `dangling`
 * true/false, `before`/`since` an image, `until` a time, `reference` a
 * pattern (an image is listed with the tags that match).
 * @throws BerthError invalid-parameter "invalid filter 'x'" in moby's words; image-not-found for before/since
 */
export function listImages(images: ImageStore, filters: Record<string, string[]>): ListedImage[] {
  const bad = (k: string, v?: string[]): BerthError => new BerthError(ErrorCode.invalidParameter, `Cannot list images: invalid filter '${k}${v ? `=[${v.join(" ")}]` : ""}'`);
  for (const k of Object.keys(filters)) if (!KEYS.has(k)) throw bad(k);
  let dangling: boolean | undefined;
  if (filters["dangling"]) {
    const vs = filters["dangling"];
    const t = vs.some((v) => v === "1" || v === "true");
    const f = vs.some((v) => v === "0" || v === "false");
    if (t === f) throw bad("dangling", vs);
    dangling = t;
  }
  const created = (l: LocalImage): number => Date.parse(l.image.config.created ?? "") || 0;
  const imageTime = (ref: string): number => {
    const l = images.find(ref);
    if (!l) throw new BerthError(ErrorCode.imageNotFound, `Cannot list images: No such image: ${ref}`);
    return created(l);
  };
  // several values: the oldest "before", the newest "since" (moby ANDs them so)
  const before = Math.min(...(filters["before"] ?? []).map(imageTime), ...(filters["until"] ?? []).map((v) => parseTime(v, "until")));
  const since = Math.max(...(filters["since"] ?? []).map(imageTime));
  const out: ListedImage[] = [];
  for (const local of images.all()) {
    const t = created(local);
    if (Number.isFinite(before) && !(t < before)) continue;
    if (Number.isFinite(since) && !(t > since)) continue;
    if (filters["label"]?.length && !filters["label"].every((v) => labelMatch(local.image.config.config?.Labels, v))) continue;
    const all = images.tagsOf(local);
    const refs = filters["reference"]?.length ? all.filter((r) => filters["reference"]!.some((p) => referenceMatch(p, r))) : all;
    if (all.length === 0) {
      if (dangling === false || filters["reference"]?.length) continue;
    } else {
      if (dangling === true) continue;
      if (refs.length === 0) continue;
    }
    out.push({ local, tags: refs });
  }
  return out;
}
