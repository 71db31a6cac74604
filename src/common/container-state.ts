import { BerthError, ErrorCode } from "./errors.js";
import { humanDuration } from "./docker-format.js";

/**
 * A container's life, Docker's states and the moves between them (youki's
 * state.rs: can_start, can_kill, … and one "wrong state" error).
 */
export const Status = {
  created: "created",
  running: "running",
  paused: "paused",
  restarting: "restarting",
  removing: "removing",
  exited: "exited",
  dead: "dead",
} as const;
export type Status = (typeof Status)[keyof typeof Status];

export interface ContainerState {
  status: Status;
  exitCode: number;
  /** ms since the epoch; 0 when it never happened */
  startedAt: number;
  finishedAt: number;
  oomKilled: boolean;
  error: string;
}

export function newState(): ContainerState {
  return { status: Status.created, exitCode: 0, startedAt: 0, finishedAt: 0, oomKilled: false, error: "" };
}

export const isRunning = (s: ContainerState): boolean => s.status === Status.running || s.status === Status.paused;
export const canStart = (s: ContainerState): boolean => s.status === Status.created || s.status === Status.exited || s.status === Status.dead;
export const canExec = (s: ContainerState): boolean => s.status === Status.running;
export const canPause = (s: ContainerState): boolean => s.status === Status.running;
export const canUnpause = (s: ContainerState): boolean => s.status === Status.paused;
export const canRemove = (s: ContainerState): boolean => !isRunning(s) && s.status !== Status.restarting;

/** Docker's words when a container is not in the state a command needs. */
export function wrongState(action: string, name: string, s: ContainerState): BerthError {
  const why =
    s.status === Status.paused ? `container ${name} is paused, unpause the container before ${action}`
    : s.status === Status.restarting ? `container ${name} is restarting, wait until the container is running`
    : isRunning(s) ? `container ${name} is running`
    : `container ${name} is not running`;
  return new BerthError(ErrorCode.containerWrongState, `Cannot ${action} "${name}": ${why}`);
}

/** The STATUS column: "Up 3 seconds", "Exited (0) 5 seconds ago", "Created". */
export function statusText(s: ContainerState, now = Date.now()): string {
  switch (s.status) {
    case Status.created:
      return "Created";
    case Status.running:
      return `Up ${humanDuration(now - s.startedAt)}`;
    case Status.paused:
      return `Up ${humanDuration(now - s.startedAt)} (Paused)`;
    case Status.restarting:
      return `Restarting (${s.exitCode}) ${humanDuration(now - s.finishedAt)} ago`;
    case Status.removing:
      return "Removal In Progress";
    case Status.dead:
      return "Dead";
    case Status.exited:
      return `Exited (${s.exitCode}) ${humanDuration(now - s.finishedAt)} ago`;
  }
}

export interface RestartPolicy {
  name: "no" | "always" | "on-failure" | "unless-stopped";
  maximumRetryCount: number;
}

/** `--restart no|always|unless-stopped|on-failure[:N]` */
export function parseRestartPolicy(spec: string): RestartPolicy {
  const [name, count, extra] = spec.split(":");
  if (extra !== undefined || !["no", "always", "on-failure", "unless-stopped"].includes(name!)) {
    throw new BerthError(ErrorCode.usage, `invalid restart policy format: ${spec}`);
  }
  if (count !== undefined) {
    if (name !== "on-failure") throw new BerthError(ErrorCode.usage, `invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
    if (!/^\d+$/.test(count)) throw new BerthError(ErrorCode.usage, `invalid restart policy format: maximum retry count must be an integer`);
  }
  return { name: name as RestartPolicy["name"], maximumRetryCount: count === undefined ? 0 : Number(count) };
}

/** After an exit the user did not ask for: does the policy start the container again? */
export function shouldRestart(p: RestartPolicy, exitCode: number, restartCount: number): boolean {
  switch (p.name) {
    case "always":
    case "unless-stopped":
      return true;
    case "on-failure":
      return exitCode !== 0 && (p.maximumRetryCount === 0 || restartCount < p.maximumRetryCount);
    default:
      return false;
  }
}
