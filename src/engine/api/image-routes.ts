import { listImages } from "../daemon/image-list.js";
import type { JsonMessage } from "../../common/api/json-message.js";
import { BerthError, ErrorCode, isBerthError } from "../../common/errors.js";
import { DEFAULT_PLATFORM, parsePlatform } from "../../common/oci-image.js";
import { familiarName, parseReference, serverName } from "../../common/reference.js";
import type { Daemon } from "../daemon/daemon.js";
import { imageJson } from "../daemon/image-inspect.js";
import { boolParam, bytes, json, empty, type ApiReply, type ApiRequest, type StreamSink } from "./api-types.js";
import { loadImages, saveImages } from "../daemon/image-archive.js";
import { importImage } from "../daemon/image-commit.js";
import { pruneImages } from "../daemon/prune.js";
import { dockerMessage, route, type Route } from "./router.js";
import { filtersParam } from "./container-routes.js";

/** `GET /images/json`'s items (moby api/types/image.Summary). */
function imageSummaries(d: Daemon, filters: Record<string, string[]>): unknown[] {
  return listImages(d.images, filters).map(({ local: l, tags: refs }) => {
    const tags = refs.map((t) => `${familiarName(t)}:${t.tag}`);
    return {
      Id: l.id,
      ParentId: "",
      RepoTags: tags,
      RepoDigests: [...l.repoDigests],
      Created: Math.floor(Date.parse(l.image.config.created ?? "1970-01-01T00:00:00Z") / 1000) || 0,
      Size: l.size,
      SharedSize: -1,
      VirtualSize: l.size,
      Labels: l.image.config.config?.Labels ?? null,
      Containers: -1,
    };
  });
}

/**
 * `POST /images/create?fromImage=…&tag=…`: a pull, answered as Docker's JSON
 * message stream. An error before anything was pulled (no such image, the
 * registry refused) is the reply's status, as Docker's; a later one is an
 * error message in the stream.
 */
async function pull(d: Daemon, req: ApiRequest): Promise<ApiReply> {
  const q = req.query;
  const from = q.get("fromImage");
  if (!from) return importReply(d, req);
  const tag = q.get("tag");
  const name = tag ? (tag.startsWith("sha256:") ? `${from}@${tag}` : `${from}:${tag}`) : from;
  parseReference(name); // invalid-reference before anything starts
  const platform = q.get("platform") ? parsePlatform(q.get("platform")!) : DEFAULT_PLATFORM;
  await registryAuth(d, req.headers["x-registry-auth"], name);
  const queue: JsonMessage[] = [];
  let sink: StreamSink | undefined;
  let started!: () => void;
  const first = new Promise<void>((r) => (started = r));
  const send = (m: JsonMessage): void => {
    if (sink) sink.write(`${JSON.stringify(m)}\r\n`);
    else queue.push(m);
    if (m.status !== undefined && !m.status.startsWith("Pulling from")) started();
  };
  const done = d.pullImage(name, { platform, onMessage: send });
  // the registry's answer decides the status: wait for the first real progress, or the end
  await Promise.race([first, done]);
  return {
    kind: "stream",
    status: 200,
    contentType: "application/json",
    run: async (out) => {
      for (const m of queue.splice(0)) out.write(`${JSON.stringify(m)}\r\n`);
      sink = out;
      try {
        await done;
        await d.persist();
      } catch (e) {
        const message = isBerthError(e) ? dockerMessage(e) : String(e);
        out.write(`${JSON.stringify({ errorDetail: { message }, error: message })}\r\n`);
      }
    },
  };
}

/**
 * X-Registry-Auth (base64url JSON {username, password, serveraddress}, what
 * the docker CLI sends from its credentials): the daemon logs in to the
 * image's registry with it before the pull. An empty or anonymous header is ignored.
 * @throws BerthError usage (not base64 JSON), registry-unauthorized
 */
async function registryAuth(d: Daemon, header: string | undefined, name: string): Promise<void> {
  if (!header) return;
  let auth: { username?: string; password?: string; serveraddress?: string };
  try {
    const bin = atob(header.replace(/-/g, "+").replace(/_/g, "/").replace(/\s/g, ""));
    auth = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)))) as typeof auth;
  } catch {
    throw new BerthError(ErrorCode.invalidParameter, "Cannot pull: invalid X-Registry-Auth header: not base64-encoded JSON");
  }
  if (!auth?.username || !auth.password) return;
  await d.login(serverName(parseReference(name).registry), { username: auth.username, password: auth.password });
}

/**
 * `POST /images/create?fromSrc=-` (`docker import`): the body is a root
 * filesystem tar; answered as Docker's JSON messages, the new image's ID as the status.
 */
async function importReply(d: Daemon, req: ApiRequest): Promise<ApiReply> {
  const q = req.query;
  const src = q.get("fromSrc");
  if (src !== "-") throw new BerthError(ErrorCode.invalidParameter, src ? `Cannot import "${src}": Berth imports from the request body only (fromSrc=-)` : "Cannot pull: give fromImage or fromSrc");
  const repo = q.get("repo");
  const tag = q.get("tag");
  const message = q.get("message");
  const local = await importImage(d, req.body, {
    ...(repo ? { repo: tag ? `${repo}:${tag}` : repo } : {}),
    ...(message ? { message } : {}),
    changes: q.getAll("changes").flatMap((ch) => ch.split("\n")).filter((ch) => ch.trim()),
  });
  await d.persist();
  return { kind: "text", status: 200, contentType: "application/json", body: `${JSON.stringify({ status: local.id })}\r\n` };
}

/** Engine API routes for images. */
export function imageRoutes(d: Daemon): Route[] {
  const find = (name: string) => d.images.require(name, `find image "${name}"`);
  return [
    route("GET", "/images/json", (req) => json(imageSummaries(d, filtersParam(req.query)))),
    route("POST", "/images/create", (req) => pull(d, req)),
    route("GET", "/images/{name*}/json", (_req, [name]) => json(imageJson(d.images, find(name!)))),
    route("DELETE", "/images/{name*}", async (req, [name]) => {
      const items = d.removeImage(name!, { force: boolParam(req.query, "force") });
      if (items.some((i) => i.Deleted)) await d.collectBlobs();
      await d.persist();
      return json(items);
    }),
    route("GET", "/images/{name*}/history", (_req, [name]) => {
      const l = find(name!);
      const sizes = [...l.image.layerSizes].reverse();
      let layer = 0;
      return json([...(l.image.config.history ?? [])].reverse().map((h, i) => ({
        Id: i === 0 ? l.id : "<missing>",
        Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
        CreatedBy: h.created_by ?? "",
        Tags: i === 0 ? d.images.tagsOf(l).map((t) => `${familiarName(t)}:${t.tag}`) : null,
        Size: h.empty_layer ? 0 : sizes[layer++] ?? 0,
        Comment: h.comment ?? "",
      })));
    }),
    route("POST", "/images/{name*}/tag", async (req, [name]) => {
      const l = find(name!);
      const repo = req.query.get("repo");
      if (!repo) throw new BerthError(ErrorCode.invalidParameter, "Cannot tag: repository name must have at least one component");
      const ref = parseReference(`${repo}${req.query.get("tag") ? `:${req.query.get("tag")}` : ""}`);
      if (ref.digest) throw new BerthError(ErrorCode.invalidParameter, "Cannot tag: refusing to create a tag with a digest reference");
      d.images.tag(l, ref);
      await d.persist();
      return empty(201);
    }),
    route("GET", "/images/get", async (req) => bytes(await saveImages(d, req.query.getAll("names")), "application/x-tar")),
    route("GET", "/images/{name*}/get", async (_req, [name]) => bytes(await saveImages(d, [name!]), "application/x-tar")),
    route("POST", "/images/load", async (req) => {
      const lines = await loadImages(d, req.body, "the request body");
      await d.persist();
      return { kind: "text", status: 200, contentType: "application/json", body: lines.map((l) => `${JSON.stringify({ stream: `${l}\n` })}\r\n`).join("") };
    }),
    route("POST", "/images/prune", async (req) => {
      const filters = filtersParam(req.query);
      const report = await pruneImages(d, filters["dangling"]?.includes("false") ?? false, filters);
      await d.persist();
      return json(report);
    }),
    route("GET", "/images/search", async (req) => {
      const term = req.query.get("term");
      if (!term) throw new BerthError(ErrorCode.invalidParameter, "Cannot search: term is required");
      const limit = Number(req.query.get("limit") || 25);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new BerthError(ErrorCode.invalidParameter, `Cannot search: limit ${req.query.get("limit")} is outside the range of [1, 100]`);
      const hits = await d.searchImages(term, limit);
      return json(hits.map((h) => ({ name: h.name, description: h.description, star_count: h.stars, is_official: h.official, is_automated: false })));
    }),
  ];
}
