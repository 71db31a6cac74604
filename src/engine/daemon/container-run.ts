import type { RunRequest } from "../../common/api/run-flags.js";
import { messageLine } from "../../common/api/json-message.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { Attachment } from "../containers/containers.js";
import type { LocalImage } from "../images/images.js";
import { createContainer } from "./container-create.js";
import type { Daemon } from "./daemon.js";

/** Where a run's output goes: the container's streams, and the pull's progress lines (Docker's CLI prints them on stderr). */
export interface RunOutput {
  stdout(b: Uint8Array): void;
  stderr(b: Uint8Array): void;
  pullLine?(line: string): void;
}

/**
 * The image for a run, by Docker's --pull rule: "missing" pulls when it is not
 * held, "always" pulls, "never" does not.
 * @throws BerthError usage (a bad --pull value), image-not-found, the registry's errors
 */
export async function imageForRun(d: Daemon, name: string, req: Pick<RunRequest, "platform" | "pull">, out?: RunOutput): Promise<LocalImage> {
  if (!["missing", "always", "never"].includes(req.pull)) throw new BerthError(ErrorCode.invalidParameter, `Cannot run "${name}": invalid pull option: '${req.pull}': must be one of "always", "missing" or "never"`);
  const held = d.images.find(name);
  if (held && req.pull !== "always") return held;
  if (req.pull === "never") throw new BerthError(ErrorCode.imageNotFound, `Cannot run "${name}": No such image: ${name}`);
  const local = await d.pullImage(name, { platform: req.platform, onMessage: (m) => { const l = messageLine(m); if (l) out?.pullLine?.(l); } });
  await d.persist();
  return local;
}

/**
 * `docker run` without a terminal, as an operation (the page's `run()`): the
 * image pulled when the rule says so, the container created, its output
 * relayed from the start, and its exit status once it stops. Stdin is empty.
 * With AutoRemove (--rm) the daemon removes it at its exit, as Docker's does.
 * @returns the container's exit status (127 or 126, with the error line on stderr, when its command is missing or not executable)
 * @throws BerthError as createContainer and ContainerService.start do (image-not-found, name-in-use, usage, …)
 */
export async function runContainer(d: Daemon, req: RunRequest, out: RunOutput): Promise<number> {
  const image = req.body.Image ?? "";
  await imageForRun(d, image, req, out);
  const { container: c } = await createContainer(d, req.body, { ...(req.name !== undefined ? { name: req.name } : {}), action: "run" });
  const link: Attachment = { stdout: (b) => out.stdout(b), stderr: (b) => out.stderr(b) };
  c.attached.add(link);
  try {
    const exited = d.containers.nextExit(c);
    try {
      await d.containers.start(c);
    } catch (e) {
      if (c.hostConfig.autoRemove) await d.containers.remove(c, { force: true, volumes: true }).catch(() => {});
      // a command that is missing or not executable is the container's status (127, 126), as Docker's CLI exits
      if (e instanceof BerthError && e.code === ErrorCode.containerStartFailed) {
        out.stderr(new TextEncoder().encode(`${e.toLine()}\n`));
        return c.state.exitCode;
      }
      throw e;
    }
    const code = await exited;
    // --rm: answered once the container and its anonymous volumes are gone (Docker's condition "removed")
    if (c.hostConfig.autoRemove) await c.removed;
    return code;
  } finally {
    c.attached.delete(link);
  }
}
