import type { Container } from "./container.js";

/**
 * What runc says after "unable to start container process: " for crun's
 * complaint, and the status moby and the docker CLI give it: 127 for a
 * command or directory not found, 126 for one that cannot be executed (a
 * directory, no permission). For `exec` (runc exec) the program is named as
 * the user gave it, a missing file is stat'ed first, and a bad working
 * directory is said; for a container's start the program is crun's `name`,
 * else `command`.
 */
function runcWords(crun: string, command: string, o: { exec?: boolean } = {}): { words: string; code: number } | undefined {
  const notFound = /executable file `(.+?)` not found in \$PATH/.exec(crun);
  if (notFound) return { words: `exec: "${notFound[1]}": executable file not found in $PATH`, code: 127 };
  const chdir = o.exec ? /chdir `(.+?)`/.exec(crun) : null;
  if (chdir) return { words: `chdir to cwd ("${chdir[1]}") set in config.json failed: no such file or directory`, code: 127 };
  const exec = o.exec ? command : /`(.+?)`/.exec(crun)?.[1] ?? command;
  // crun cannot open a directory as the program (runc: "is a directory"; moby answers 126)
  if (/open executable: Operation not permitted/i.test(crun)) return { words: `exec: "${exec}": is a directory`, code: 126 };
  if (/permission denied/i.test(crun)) return { words: `exec: "${exec}": permission denied`, code: 126 };
  if (/no such file or directory/i.test(crun)) return { words: `exec: "${exec}": ${o.exec ? `stat ${exec}: ` : ""}no such file or directory`, code: 127 };
  return undefined;
}

/**
 * crun's complaint as Docker's daemon words it (runc through containerd): the
 * docker CLI reads its exit status from these words (127 for "executable file
 * not found" or "no such file or directory", 126 for "permission denied").
 * @param command the container's command, named when crun's words do not
 */
export function runtimeError(message: string, command = ""): string {
  const why = message.replace(/^Cannot start container "[^"]*": /, "");
  const w = runcWords(why, command);
  return w ? `failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${w.words}: unknown` : why;
}

/**
 * crun exec's failure as Docker's daemon says it (moby daemon/exec.go through
 * runc): "OCI runtime exec failed: exec failed: unable to start container
 * process: exec: "X": executable file not found in $PATH: unknown", status 127
 * (126 when it is not executable), as the docker CLI exits.
 */
export function execFailure(crun: string, command: string): { message: string; code: number } | undefined {
  const w = runcWords(crun, command, { exec: true });
  return w ? { message: `OCI runtime exec failed: exec failed: unable to start container process: ${w.words}: unknown`, code: w.code } : undefined;
}

/** The program a container starts (what crun's errors are about): docker-init's when --init, else the command's first word. */
export function startCommand(c: Container): string {
  return c.hostConfig.init ? "/sbin/docker-init" : [...c.config.entrypoint, ...c.config.cmd][0] ?? "";
}
