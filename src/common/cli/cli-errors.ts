import { UsageKind } from "../docker-flags.js";
import { dockerMessage, ErrorCode, isBerthError } from "../errors.js";

/** What the docker CLI prints for a failed command, and the status it exits with. */
export interface CliFailure {
  /** the whole text for stderr, without the final newline */
  text: string;
  status: number;
}

/** The commands whose errors docker/cli decorates with "docker: … Run 'docker run --help'" and exits 125 (cli/command/container/run.go, create.go). */
const RUN_LIKE = new Set(["run", "create"]);

/** `run`, `create`, … for a typed path ("container run" → "run"). */
export function commandName(path: string): string {
  return path.replace(/^container /, "");
}

/**
 * An error as the docker CLI (28.x) prints it for command `path`, with its exit
 * status: pflag's errors as they are (125), cobra's argument counts (1); a
 * command's own option check ("docker: …" and the help line, 125, for run and
 * create; the message, 1, for the others); the daemon's refusals as
 * "Error response from daemon: <message>" (1; run: decorated, 125, or 126/127
 * when the container's command cannot be executed or found, as run.go's
 * toStatusError reads the words).
 */
export function cliFailure(e: unknown, path: string): CliFailure {
  const name = commandName(path);
  const withHelp = (m: string): string => `docker: ${m}\n\nRun 'docker ${name} --help' for more information`;
  if (isBerthError(e) && e.code === ErrorCode.usage && e.detail === UsageKind.flags) return { text: e.message, status: 125 };
  if (isBerthError(e) && e.code === ErrorCode.usage && (e.detail === UsageKind.args || e.detail === UsageKind.plain)) return { text: e.message, status: 1 };
  if (isBerthError(e) && e.code === ErrorCode.usage) return RUN_LIKE.has(name) ? { text: withHelp(e.message), status: 125 } : { text: e.message, status: 1 };
  // docker/cli parses image references itself: its words without the daemon's prefix
  if (isBerthError(e) && e.code === ErrorCode.invalidReference) return RUN_LIKE.has(name) ? { text: withHelp(dockerMessage(e)), status: 125 } : { text: dockerMessage(e), status: 1 };
  const message = `Error response from daemon: ${isBerthError(e) ? dockerMessage(e) : e instanceof Error ? e.message : String(e)}`;
  if (name !== "run") return { text: message, status: 1 };
  if (/executable file not found|no such file or directory/.test(message)) return { text: withHelp(message), status: 127 };
  if (/permission denied|is a directory/.test(message)) return { text: withHelp(message), status: 126 };
  return { text: withHelp(message), status: 125 };
}
