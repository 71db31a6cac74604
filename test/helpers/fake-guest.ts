// A guest that boots nothing, for unit tests of the container services: it
// records what it is asked, plays crun containers by their command line, and
// answers guest commands with scripted output.
import type { ExecRequest } from "../../src/common/agent-protocol.js";
import type { ExecOptions, GuestProcess, GuestRuntime } from "../../src/engine/vm/guest-channel.js";

const enc = new TextEncoder();

/** What a fake container does when started: print, then exit with a status or run until killed. */
export interface Behaviour {
  stdout?: string;
  stderr?: string;
  /** "run": until a signal ends it */
  exit: number | "run";
}

let nextId = 1;

class FakeProcess implements GuestProcess {
  readonly id = nextId++;
  readonly exit: Promise<number>;
  done = false;
  stdin: string[] = [];
  end!: (code: number) => void;

  constructor() {
    this.exit = new Promise((resolve) => (this.end = (code) => {
      if (this.done) return;
      this.done = true;
      resolve(code);
    }));
  }

  write(b: Uint8Array): void {
    this.stdin.push(new TextDecoder().decode(b));
  }
  closeStdin(): void {}
  kill(signal: number): void {
    this.end(128 + signal);
  }
  resize(): void {}
}

/**
 * The fake guest. `behave(args)` decides what a container with that command
 * line does; `answer(argv)` what a guest command prints; `failCreate` makes the
 * next `crun create` fail with crun's words (as a missing command does).
 */
export class FakeGuest implements GuestRuntime {
  /** every request, as "verb arg…" */
  readonly calls: string[] = [];
  readonly containers = new Map<string, { proc: FakeProcess; options: ExecOptions; args: string[] }>();
  behave: (args: string[]) => Behaviour = () => ({ exit: 0 });
  answer: (argv: readonly string[]) => { code: number; stdout?: string; stderr?: string } = () => ({ code: 0 });
  failCreate: string | undefined;

  async writeFile(path: string): Promise<unknown> {
    this.calls.push(`writeFile ${path}`);
    return undefined;
  }

  async mountOverlay(target: string, lower: readonly string[]): Promise<unknown> {
    this.calls.push(`mount ${target} ${lower.join(":")}`);
    return undefined;
  }

  exec(req: ExecRequest, options: ExecOptions = {}): GuestProcess {
    this.calls.push(`exec ${req.argv.join(" ")}`);
    const p = new FakeProcess();
    const a = this.answer(req.argv);
    queueMicrotask(() => {
      if (a.stdout) options.onStdout?.(enc.encode(a.stdout));
      if (a.stderr) options.onStderr?.(enc.encode(a.stderr));
      p.end(a.code);
    });
    return p;
  }

  async createContainer(c: { name: string; bundle: string; config: string }, options: ExecOptions = {}): Promise<GuestProcess> {
    this.calls.push(`create ${c.name}`);
    if (this.failCreate) {
      const why = this.failCreate;
      this.failCreate = undefined;
      options.onStderr?.(enc.encode(`crun: ${why}\n`));
      throw new Error(`Cannot start container "${c.name}": ${why}`);
    }
    const args = (JSON.parse(c.config) as { process: { args: string[] } }).process.args;
    const proc = new FakeProcess();
    this.containers.set(c.name, { proc, options, args });
    return proc;
  }

  /** a process of a "restored VM": a fresh fake that runs until killed */
  adopt(id: number): GuestProcess {
    this.calls.push(`adopt ${id}`);
    return new FakeProcess();
  }

  async startContainer(name: string): Promise<unknown> {
    this.calls.push(`start ${name}`);
    const c = this.containers.get(name)!;
    const b = this.behave(c.args);
    setTimeout(() => {
      if (b.stdout) c.options.onStdout?.(enc.encode(b.stdout));
      if (b.stderr) c.options.onStderr?.(enc.encode(b.stderr));
      if (b.exit !== "run") c.proc.end(b.exit);
    }, 1);
    return undefined;
  }

  async killContainer(name: string, signal: string | number): Promise<unknown> {
    this.calls.push(`kill ${name} ${signal}`);
    this.containers.get(name)?.proc.kill(Number(signal));
    return undefined;
  }

  async deleteContainer(name: string): Promise<unknown> {
    this.calls.push(`delete ${name}`);
    return undefined;
  }
}
