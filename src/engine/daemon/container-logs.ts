import { BerthError, ErrorCode } from "../../common/errors.js";
import { Status, isRunning } from "../../common/container-state.js";
import type { Container, ContainerService, LogLine } from "../containers/containers.js";

/** What `docker logs` and `GET /containers/{id}/logs` ask for. */
export interface LogsQuery {
  /** ms since the epoch; 0 = from the start */
  since: number;
  /** ms since the epoch; Infinity = no end */
  until: number;
  /** "all" or a count of the newest lines */
  tail: string;
  /** then each new line while the container runs (or restarts) */
  follow: boolean;
}

/**
 * A container's log lines in [since, until], the newest `tail` of them, then,
 * with `follow`, each new one until the container stops for good or the reader
 * goes (`onClose`). Docker's rules: no follow with `until`, none for a stopped
 * container.
 */
export async function streamLogs(containers: ContainerService, c: Container, q: LogsQuery, send: (l: LogLine) => void, onClose: (f: () => void) => void): Promise<void> {
  // --log-driver none keeps nothing to read (Docker's words, daemon/logs.go)
  if (c.hostConfig.runtime?.logDriver === "none") throw new BerthError(ErrorCode.invalidParameter, `Cannot read the logs of "${c.name}": configured logging driver does not support reading`);
  const inRange = (l: LogLine): boolean => l.time >= q.since && l.time <= q.until;
  let lines = c.logs.filter(inRange);
  if (q.tail !== "all" && /^\d+$/.test(q.tail)) lines = Number(q.tail) === 0 ? [] : lines.slice(-Number(q.tail));
  for (const l of lines) send(l);
  if (!q.follow || q.until !== Infinity || !(isRunning(c.state) || c.state.status === Status.restarting)) return;
  await new Promise<void>((resolve) => {
    const off = containers.onLog(c, (l) => {
      if (l) {
        if (inRange(l)) send(l);
      } else if (c.state.status !== Status.restarting) {
        off();
        resolve();
      }
    });
    onClose(() => {
      off();
      resolve();
    });
  });
}
