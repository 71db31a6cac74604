import type { ContainerUpdateBody } from "../../common/api/container-update.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { ImageConfig } from "../images/image-puller.js";
import { containerChanges } from "../daemon/container-changes.js";
import { exportContainer, getArchive, putArchive, statPath } from "../daemon/container-archive.js";
import type { PathStat, StatsResponse } from "../../common/api/container-data.js";
import { containerStats } from "../daemon/container-stats.js";
import { containerTop } from "../daemon/container-top.js";
import { updateContainer } from "../daemon/container-update.js";
import type { Daemon } from "../daemon/daemon.js";
import { commitContainer } from "../daemon/image-commit.js";
import { boolParam, bytes, empty, json, type ApiReply } from "./api-types.js";
import { jsonBody, route, type Route } from "./router.js";

const TAR = "application/x-tar";
/** the parts of a commit's Config that become the image's run config */
const RUN_CONFIG = new Set(["Cmd", "Entrypoint", "Env", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "StopSignal"]);

/** The header Docker's archive routes carry: the path's stat as base64 JSON. */
function statHeader(stat: PathStat): Record<string, string> {
  const text = JSON.stringify(stat);
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return { "X-Docker-Container-Path-Stat": btoa(bin) };
}

function pathParam(q: URLSearchParams): string {
  const p = q.get("path");
  if (!p) throw new BerthError(ErrorCode.invalidParameter, "Cannot copy: bad parameter: path cannot be empty");
  return p;
}

/**
 * `GET /containers/{id}/stats`: one sample with `stream=false` (after a
 * second sample half a second later, so the CPU figure has a base, unless
 * `one-shot`), else a sample a second until the client goes.
 */
function stats(d: Daemon, id: string, q: URLSearchParams): ApiReply {
  const c = d.containers.find(id);
  const stream = q.get("stream") === null || boolParam(q, "stream");
  return {
    kind: "stream",
    status: 200,
    contentType: "application/json",
    run: async (out) => {
      let closed = false;
      out.onClose(() => (closed = true));
      let pre: StatsResponse | undefined;
      if (!stream) {
        if (!boolParam(q, "one-shot")) {
          pre = await containerStats(d, c);
          await new Promise((r) => setTimeout(r, 500));
        }
        out.write(`${JSON.stringify(await containerStats(d, c, pre))}\n`);
        return;
      }
      while (!closed && !out.closed) {
        pre = await containerStats(d, c, pre);
        out.write(`${JSON.stringify(pre)}\n`);
        if (c.state.status === "removing") return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    },
  };
}

/** Engine API routes for a container's files and resources: changes, archive, export, top, stats, update, and `POST /commit`. */
export function containerDataRoutes(d: Daemon): Route[] {
  const find = (id: string) => d.containers.find(id);
  return [
    route("GET", "/containers/{id}/changes", async (_req, [id]) => json(await containerChanges(d, find(id!)))),
    route("HEAD", "/containers/{id}/archive", async (req, [id]) => ({ kind: "empty", status: 200, headers: statHeader(await statPath(d, find(id!), pathParam(req.query))) })),
    route("GET", "/containers/{id}/archive", async (req, [id]) => {
      const { stat, tar } = await getArchive(d, find(id!), pathParam(req.query));
      return bytes(tar, TAR, statHeader(stat));
    }),
    route("PUT", "/containers/{id}/archive", async (req, [id]) => {
      await putArchive(d, find(id!), pathParam(req.query), req.body, { copyUIDGID: boolParam(req.query, "copyUIDGID") });
      return empty(200);
    }),
    route("GET", "/containers/{id}/export", async (_req, [id]) => bytes(await exportContainer(d, find(id!)), TAR)),
    route("GET", "/containers/{id}/top", async (req, [id]) => json(await containerTop(d, find(id!), req.query.get("ps_args") ?? "-ef"))),
    route("GET", "/containers/{id}/stats", (req, [id]) => stats(d, id!, req.query)),
    route("POST", "/containers/{id}/update", async (req, [id]) => json({ Warnings: await updateContainer(d, find(id!), jsonBody<ContainerUpdateBody>(req)) })),
    route("POST", "/commit", async (req) => {
      const q = req.query;
      const c = find(q.get("container") ?? "");
      const repo = q.get("repo");
      const tag = q.get("tag");
      // the CLI sends no Config (or null); a given one's null fields leave the container's
      const text = new TextDecoder().decode(req.body).trim();
      const given = text && text !== "null" ? jsonBody<Record<string, unknown>>(req) : {};
      const blank = (v: unknown): boolean => v === null || v === "" || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && Object.keys(v as object).length === 0);
      const body = Object.fromEntries(Object.entries(given).filter(([k, v]) => RUN_CONFIG.has(k) && !blank(v))) as NonNullable<ImageConfig["config"]>;
      const local = await commitContainer(d, c, {
        ...(repo ? { repo: tag ? `${repo}:${tag}` : repo } : {}),
        ...(q.get("author") ? { author: q.get("author")! } : {}),
        ...(q.get("comment") ? { comment: q.get("comment")! } : {}),
        changes: q.getAll("changes").flatMap((ch) => ch.split("\n")).filter((ch) => ch.trim()),
        ...(Object.keys(body).length ? { config: body } : {}),
      });
      await d.persist();
      return json({ Id: local.id }, 201);
    }),
  ];
}
