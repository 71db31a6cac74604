/**
 * Docker's events (`GET /events`, `docker events`): one object a line
 * (moby api/types/events.Message), and the CLI's default printed line.
 */

/** The kinds of object events are about (moby api/types/events: ContainerEventType, …). */
export type EventType = "container" | "image" | "network" | "volume" | "daemon" | "builder";

/** One event. `timeNano` stays a string of digits: nanoseconds since 1970 do not fit a double. */
export interface DockerEvent {
  Type: EventType;
  /** "create", "start", "die", "pull", "tag", "connect", "exec_start: sh -c …", … */
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  /** seconds since 1970 */
  time: number;
  /** nanoseconds since 1970, as digits */
  timeNano: string;
}

/** The event as the API streams it: Docker's JSON, `timeNano` a number, and the legacy status/id/from of container and image events. */
export function eventJson(e: DockerEvent): string {
  const legacy = e.Type === "container" || e.Type === "image" ? { status: e.Action, id: e.Actor.ID, ...(e.Actor.Attributes["image"] ? { from: e.Actor.Attributes["image"] } : {}) } : {};
  return JSON.stringify({ ...legacy, ...e, timeNano: 0 }).replace(/"timeNano":0}$/, `"timeNano":${e.timeNano}}`);
}

/** Parses a line of `GET /events` back (the page and tests). @throws SyntaxError on a line that is not JSON */
export function parseEvent(line: string): DockerEvent {
  const withNano = line.replace(/"timeNano":(\d+)/, '"timeNano":"$1"');
  return JSON.parse(withNano) as DockerEvent;
}

/**
 * The docker CLI's default line (cli/command/system/events.go prettyPrintEvent):
 * `2026-11-30T08:48:17.123456789Z container start <id> (image=busybox, name=web)`
 * — the time in RFC 3339 with nanoseconds, the attributes sorted by key.
 */
export function eventLine(e: DockerEvent): string {
  const ns = e.timeNano.padStart(10, "0");
  const iso = new Date(Number(ns.slice(0, -9)) * 1000).toISOString().slice(0, 19);
  const attrs = Object.keys(e.Actor.Attributes).sort().map((k) => `${k}=${e.Actor.Attributes[k]}`);
  return `${iso}.${ns.slice(-9)}Z ${e.Type} ${e.Action} ${e.Actor.ID}${attrs.length ? ` (${attrs.join(", ")})` : ""}`;
}
