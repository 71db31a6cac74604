import { last, usageError } from "../../common/docker-flags.js";
import type { Container } from "../containers/containers.js";
import type { GuestProcess } from "../vm/guest-channel.js";
import type { CliContext } from "./docker-cli-context.js";

/**
 * `--detach-keys "ctrl-a,x"` as bytes (moby/term ToBytes: a single character
 * or ctrl-<a-z @ [ \\ ] ^ _>, comma-separated).
 * @throws BerthError usage in Docker's words ("Unknown character: 'xy'")
 */
export function parseDetachKeys(spec: string): number[] {
  return spec.split(",").map((k) => {
    const m = /^ctrl-(.)$/i.exec(k);
    if (m) {
      const ch = m[1]!.toLowerCase();
      if (/[a-z]/.test(ch)) return ch.charCodeAt(0) - 96;
      const special = "@[\\]^_".indexOf(ch);
      if (special >= 0) return special === 0 ? 0 : 26 + special;
      throw usageError(`Unknown character: '${k}'`);
    }
    if (k.length === 1) return k.charCodeAt(0);
    throw usageError(`Unknown character: '${k}'`);
  });
}

/** `--detach-keys` from a command's flags, for attach(). */
export const detachKeysOf = (opts: Map<string, string[]>): { detachKeys?: number[] } => (opts.has("detach-keys") ? { detachKeys: parseDetachKeys(last(opts, "detach-keys")!) } : {});

/**
 * Relays a container to the session until it exits: output, and stdin when
 * `stdin` (raw mode on a tty); Ctrl-P Ctrl-Q detaches. Resolves with the exit
 * status, or undefined when the user detached.
 */
export function attach(ctx: CliContext, c: Container, o: { stdin: boolean; streams?: Set<string>; sigProxy?: boolean; detachKeys?: number[] }): { attached: Promise<number | undefined>; wire: (p: GuestProcess) => void } {
  const s = ctx.s;
  if (o.sigProxy) {
    // Docker's --sig-proxy (on by default): the client's signals go to the container (docker/cli container/signals.go)
    s.sigProxy();
    s.onSignal((n) => void ctx.containers.kill(c, String(n)).catch(() => {}));
  }
  const streams = o.streams ?? new Set(["stdout", "stderr"]);
  const link = {
    stdout: (b: Uint8Array) => streams.has("stdout") && s.stdout(b),
    stderr: (b: Uint8Array) => streams.has("stderr") && s.stderr(b),
  };
  c.attached.add(link);
  let detach!: () => void;
  const detached = new Promise<undefined>((r) => (detach = () => r(undefined)));
  const wire = (p: GuestProcess): void => {
    if (c.config.tty) {
      p.resize(s.rows || 24, s.cols || 80);
      s.onResize((rows, cols) => p.resize(rows, cols));
      if (o.stdin && s.tty) s.raw();
    }
    if (!o.stdin) {
      if (!c.config.tty && !c.config.openStdin) p.closeStdin();
      return;
    }
    // Docker's detach keys (Ctrl-P Ctrl-Q, or --detach-keys), matched across reads
    const keys = o.detachKeys ?? [0x10, 0x11];
    let matched = 0;
    s.onStdin((b) => {
      if (!b.length) return c.config.stdinOnce && !c.config.tty ? p.closeStdin() : undefined;
      if (c.config.tty) {
        for (let i = 0; i < b.length; i++) {
          matched = b[i] === keys[matched] ? matched + 1 : b[i] === keys[0] ? 1 : 0;
          if (matched === keys.length) {
            s.stderr("\r\nread escape sequence\r\n");
            detach();
            return;
          }
        }
      }
      p.write(b);
    });
    s.onClose(() => {
      if (!c.config.tty && c.config.stdinOnce) p.closeStdin();
    });
  };
  const attached = Promise.race([ctx.containers.nextExit(c), detached]).finally(() => c.attached.delete(link));
  return { attached, wire };
}

