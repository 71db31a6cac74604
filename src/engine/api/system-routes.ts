import { infoDoc, versionDoc } from "../daemon/system-info.js";
import type { Daemon, SystemFacts } from "../daemon/daemon.js";
import { json, type ApiReply } from "./api-types.js";
import { jsonBody, route, type Route } from "./router.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { serverName } from "../../common/reference.js";
import { eventJson } from "../../common/api/events.js";
import { followEvents, unknownEventFilters } from "../daemon/events.js";
import { diskUsage } from "../daemon/system-df.js";
import { filtersParam } from "./container-routes.js";

/** Docker's `/_ping` answer: "OK" (the version headers go on every reply). */
const ping = (): ApiReply => ({ kind: "text", status: 200, body: "OK", contentType: "text/plain; charset=utf-8" });


/** Seconds as Docker's events since/until ("1700000000", "1700000000.123456789"): milliseconds, or undefined. */
function eventTime(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new BerthError(ErrorCode.invalidParameter, `Cannot read the events: invalid value for ${name}: ${v}`);
  return Number(v) * 1000;
}

/**
 * `GET /events`: the kept events from `since`, then each new one as it
 * happens, one JSON object a line, until `until` (or the client goes). An
 * `until` in the past ends the answer after the kept events.
 * @throws BerthError usage (bad times, unknown filter keys: Docker's 400)
 */
function events(d: Daemon, q: URLSearchParams): ApiReply {
  const since = eventTime(q, "since");
  const until = eventTime(q, "until");
  const filters = filtersParam(q);
  const unknown = unknownEventFilters(filters);
  if (unknown.length) throw new BerthError(ErrorCode.invalidParameter, `Cannot read the events: invalid filter '${unknown[0]}'`);
  return {
    kind: "stream",
    status: 200,
    contentType: "application/json",
    run: (out) => followEvents(d.events, { since, until, filters }, (e) => out.write(`${eventJson(e)}\n`), (f) => (out.closed ? f() : out.onClose(f))),
  };
}

/** `/_ping`, `/version`, `/info`, `/events`, `/system/df`, `/auth`, `/build/prune`. */
export function systemRoutes(d: Daemon, facts: SystemFacts): Route[] {
  return [
    route("GET", "/_ping", ping),
    route("HEAD", "/_ping", ping),
    route("GET", "/version", () => json(versionDoc(facts))),
    route("GET", "/info", () => json(infoDoc(d, facts))),
    route("POST", "/auth", async (req) => {
      const body = jsonBody<{ username?: string; password?: string; serveraddress?: string }>(req);
      if (!body.username || !body.password) throw new BerthError(ErrorCode.invalidParameter, "Cannot log in: a username and a password are required");
      await d.login(serverName(body.serveraddress), { username: body.username, password: body.password });
      return json({ Status: "Login Succeeded", IdentityToken: "" });
    }),
    route("GET", "/events", (req) => events(d, req.query)),
    route("GET", "/system/df", async () => json(await diskUsage(d))),
    // Berth has no builder yet, so no build cache: nothing to prune (docker system prune asks)
    route("POST", "/build/prune", () => json({ CachesDeleted: null, SpaceReclaimed: 0 })),
  ];
}
