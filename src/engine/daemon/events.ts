import type { DockerEvent, EventType } from "../../common/api/events.js";

/** How many events are kept for `since` (Docker's daemon keeps 256; moby daemon/events). */
const KEPT = 1024;

/** An image's download, all layers together, as it goes: what the page's progress shows. */
export interface PullProgress {
  /** the image as asked ("busybox:latest") */
  image: string;
  /** bytes so far */
  loaded: number;
  /** bytes in all */
  total: number;
}

/**
 * The daemon's one event bus: containers, images and networks publish what
 * happens to them, `GET /events` and `docker events` subscribe, and the last
 * events are kept for a `since` that reaches back. Pull progress goes over
 * the same bus to the UI (it is not a Docker event, and is not kept).
 */
export class EventBus {
  readonly #kept: DockerEvent[] = [];
  readonly #listeners = new Set<(e: DockerEvent) => void>();
  readonly #progress = new Set<(p: PullProgress) => void>();

  /** Publishes a pull's progress to the UI's listeners. */
  progress(p: PullProgress): void {
    for (const l of this.#progress) l(p);
  }

  /** Calls `listener` with each pull's progress; answers the unsubscribe. */
  onProgress(listener: (p: PullProgress) => void): () => void {
    this.#progress.add(listener);
    return () => this.#progress.delete(listener);
  }
  #lastNano = 0n;

  /**
   * Publishes an event now. Times are unique and increasing (milliseconds
   * from the clock, nanoseconds counted on), so `since`/`until` never split a tie.
   */
  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    let nano = BigInt(Date.now()) * 1_000_000n;
    if (nano <= this.#lastNano) nano = this.#lastNano + 1n;
    this.#lastNano = nano;
    const e: DockerEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: "local", time: Number(nano / 1_000_000_000n), timeNano: String(nano) };
    this.#kept.push(e);
    if (this.#kept.length > KEPT) this.#kept.shift();
    for (const l of this.#listeners) l(e);
  }

  /** The kept events from `sinceMs` on (milliseconds since 1970), oldest first. */
  since(sinceMs: number): DockerEvent[] {
    return this.#kept.filter((e) => Number(BigInt(e.timeNano) / 1_000_000n) >= sinceMs);
  }

  /** Calls `listener` for each event from now; answers the unsubscribe. */
  subscribe(listener: (e: DockerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

const FILTERS = new Set(["container", "event", "image", "label", "network", "type", "volume", "daemon", "scope", "node", "service", "plugin", "config", "secret"]);

/**
 * Whether an event passes Docker's event filters (moby daemon/events/filter.go):
 * each key given must match one of its values. `container`, `image`,
 * `network`, `volume` match the actor's ID or its name attribute (an image
 * also by its repository without the tag); `event` matches the action, for
 * exec events the part before ":"; `label` is KEY or KEY=VALUE among the attributes.
 */
export function eventMatches(e: DockerEvent, filters: Record<string, string[]>): boolean {
  const a = e.Actor.Attributes;
  const any = (k: string, test: (v: string) => boolean): boolean => !filters[k]?.length || filters[k]!.some(test);
  const actor = (type: EventType) => (v: string): boolean => e.Type === type && (e.Actor.ID === v || e.Actor.ID.startsWith(v) || a["name"] === v);
  return any("type", (v) => e.Type === v)
    && any("event", (v) => e.Action === v || e.Action.split(":")[0] === v)
    && any("container", (v) => actor("container")(v) || a["container"] === v)
    && any("image", (v) => a["image"] === v || a["image"]?.split(":")[0] === v || (e.Type === "image" && (e.Actor.ID === v || a["name"] === v || a["name"]?.split(":")[0] === v)))
    && any("network", actor("network"))
    && any("volume", actor("volume"))
    && any("label", (v) => { const [k, val] = v.split(/=(.*)/s); return k! in a && (val === undefined || a[k!] === val); })
    && any("scope", (v) => v === "local");
}

/** The unknown keys among `filters` (Docker answers 400 "invalid filter 'x'"). */
export function unknownEventFilters(filters: Record<string, string[]>): string[] {
  return Object.keys(filters).filter((k) => !FILTERS.has(k));
}

/**
 * Follows the bus as `GET /events` and `docker events` do: the kept events
 * from `since` (ms), then each new one as it happens, those that pass
 * `filters` and are not after `until` (ms), until `until` comes or `onClose`
 * fires. Subscribed before the replay, so no event falls between the two.
 */
export async function followEvents(bus: EventBus, q: { since?: number | undefined; until?: number | undefined; filters: Record<string, string[]> }, send: (e: DockerEvent) => void, onClose: (f: () => void) => void): Promise<void> {
  const pass = (e: DockerEvent): void => {
    if (eventMatches(e, q.filters) && (q.until === undefined || Number(BigInt(e.timeNano) / 1_000_000n) <= q.until)) send(e);
  };
  const live: DockerEvent[] = [];
  let replaying = true;
  const unsubscribe = bus.subscribe((e) => (replaying ? live.push(e) : pass(e)));
  try {
    if (q.since !== undefined) for (const e of bus.since(q.since)) pass(e);
    replaying = false;
    for (const e of live) pass(e);
    await new Promise<void>((resolve) => {
      onClose(resolve);
      if (q.until !== undefined) setTimeout(resolve, Math.max(0, q.until - Date.now()));
    });
  } finally {
    unsubscribe();
  }
}
