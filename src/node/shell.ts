import type { Engine } from "../engine/engine.js";

/** `berth sh -c SCRIPT`: streams output, forwards piped stdin, returns the exit status. */
export async function runScript(engine: Engine, script: string, cwd?: string): Promise<number> {
  const piped = !process.stdin.isTTY;
  const p = engine.exec(
    { argv: ["/bin/sh", "-c", script], ...(cwd ? { cwd } : {}) },
    { stdin: piped, onStdout: (b) => process.stdout.write(b), onStderr: (b) => process.stderr.write(b) },
  );
  if (piped) {
    process.stdin.on("data", (b: Buffer) => p.write(b));
    process.stdin.on("end", () => p.closeStdin());
    process.stdin.on("error", () => p.closeStdin());
  }
  // the signal goes to the script; a script that does not end within 2 s (a sh waiting on a
  // child that ignores it), or a second signal, ends berth itself with 128 + the signal, as a shell would
  let force!: (code: number) => void;
  const forced = new Promise<number>((r) => (force = r));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const signal = (n: number): void => {
    if (timer) return force(128 + n);
    p.kill(n);
    timer = setTimeout(() => force(128 + n), 2000);
  };
  const onInt = (): void => signal(2);
  const onTerm = (): void => signal(15);
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    const code = await Promise.race([p.exit, forced]);
    if (timer) clearTimeout(timer);
    await drain();
    return code;
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    if (piped) process.stdin.destroy();
  }
}

/** `berth`: a login shell on a guest pty, in raw mode, following the window size. */
export async function interactiveShell(engine: Engine, cwd?: string): Promise<number> {
  const tty = process.stdin.isTTY && process.stdout.isTTY;
  if (!tty) return runScript(engine, "exec /bin/sh -s", cwd);
  const p = engine.exec({ argv: ["/bin/sh", "-l"], ...(cwd ? { cwd } : {}) }, { tty: true, stdin: true, onStdout: (b) => process.stdout.write(b) });
  const resize = (): void => p.resize(process.stdout.rows, process.stdout.columns);
  resize();
  process.stdout.on("resize", resize);
  process.stdin.setRawMode(true);
  process.stdin.on("data", (b: Buffer) => p.write(b));
  try {
    return await p.exit;
  } finally {
    process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdout.off("resize", resize);
  }
}

function drain(): Promise<void> {
  return new Promise((resolve) => {
    let n = 2;
    const done = (): void => void (--n === 0 && resolve());
    process.stdout.write("", done);
    process.stderr.write("", done);
  });
}
