import { eventLine, type DockerEvent } from "../../common/api/events.js";
import { last, parseFlags, parseTime, requireArgs } from "../../common/docker-flags.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { renderTemplate } from "../../common/go-template.js";
import { followEvents, unknownEventFilters } from "../daemon/events.js";
import { filtersOf, type Handler } from "./docker-cli-context.js";

/**
 * `docker events [--since T] [--until T] [-f K=V]… [--format F]`: the kept
 * events from --since, then live ones until --until or the session ends, in
 * the docker CLI's line (or through --format, `json` for the API's objects).
 */
export const events: Handler = async (ctx, args) => {
  const { opts, rest } = parseFlags(args, { since: "value", until: "value", "f,filter": "value", format: "value" }, ctx.path, { interspersed: true });
  requireArgs(rest, { exact: 0 }, ctx.path);
  const since = opts.has("since") ? parseTime(last(opts, "since")!, "since") : undefined;
  const until = opts.has("until") ? parseTime(last(opts, "until")!, "until") : undefined;
  const filters = filtersOf(opts);
  const unknown = unknownEventFilters(filters);
  if (unknown.length) throw new BerthError(ErrorCode.invalidParameter, `Cannot follow events: invalid filter '${unknown[0]}'`);
  const format = last(opts, "format");
  const print = (e: DockerEvent): void => {
    const { timeNano, ...rest } = e;
    const doc = { ...rest, TimeNano: Number(timeNano), Status: e.Action, ID: e.Actor.ID, From: e.Actor.Attributes["image"] ?? "" };
    ctx.s.stdout(`${format === undefined ? eventLine(e) : renderTemplate(format === "json" ? "{{json .}}" : format, doc)}\n`);
  };
  await followEvents(ctx.events, { since, until, filters }, print, (f) => ctx.s.onClose(f));
  return 0;
};
