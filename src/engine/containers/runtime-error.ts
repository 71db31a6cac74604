import type { Container } from "./container.js";

/**
 * crun's complaint as Docker's daemon words it (runc through containerd): the
 * docker CLI reads its exit status from these words (127 for "executable file
 * not found" or "no such file or directory", 126 for "permission denied").
 * @param command the container's command, named when crun's words do not
 */
export function runtimeError(message: string, command = ""): string {
  const why = message.replace(/^Cannot start container "[^"]*": /, "");
  const prefix = "failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process";
  const notFound = /executable file `(.+?)` not found in \$PATH/.exec(why);
  if (notFound) return `${prefix}: exec: "${notFound[1]}": executable file not found in $PATH: unknown`;
  const exec = /`(.+?)`/.exec(why)?.[1] ?? command;
  if (/open executable: Operation not permitted/i.test(why)) return `${prefix}: exec: "${exec}": is a directory: unknown`;
  if (/permission denied/i.test(why)) return `${prefix}: exec: "${exec}": permission denied: unknown`;
  if (/no such file or directory/i.test(why)) return `${prefix}: exec: "${exec}": no such file or directory: unknown`;
  return why;
}

/** The program a container starts (what crun's errors are about): docker-init's when --init, else the command's first word. */
export function startCommand(c: Container): string {
  return c.hostConfig.init ? "/sbin/docker-init" : [...c.config.entrypoint, ...c.config.cmd][0] ?? "";
}
