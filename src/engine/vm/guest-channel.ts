import { BerthError, ErrorCode } from "../../common/errors.js";
import {
  AGENT_VERSION, ExecFlag, FrameDecoder, Msg, decodeCliStart, encodeExec, encodeFrame, encodeStrings,
  readI32, readU32, text, u32, u64, type CliStart, type ExecRequest, type Frame,
} from "../../common/agent-protocol.js";

/** A byte pipe to the guest agent (the VM host provides one per channel). */
export interface ByteLink {
  send(bytes: Uint8Array): void;
  onBytes(listener: (bytes: Uint8Array) => void): () => void;
}

export interface ExecOptions {
  stdin?: boolean;
  tty?: boolean;
  onStdout?: (b: Uint8Array) => void;
  onStderr?: (b: Uint8Array) => void;
}

/**
 * The guest as the container and network services use it: files, overlay
 * mounts, processes and crun containers. GuestChannel is the real one (the
 * agent over virtio-console); tests give the services a fake that boots nothing.
 * Every request rejects with a BerthError when the agent refuses it.
 */
export interface GuestRuntime {
  writeFile(path: string, data: Uint8Array | string, mode?: number): Promise<unknown>;
  /** an overlayfs at `target`: `lower` directories (top first) under a tmpfs upper */
  mountOverlay(target: string, lower: readonly string[]): Promise<unknown>;
  exec(req: ExecRequest, options?: ExecOptions): GuestProcess;
  /** `crun create` of a bundle; the process is the container's init, its output as it comes */
  createContainer(c: { name: string; bundle: string; config: string }, options?: ExecOptions): Promise<GuestProcess>;
  startContainer(name: string): Promise<unknown>;
  /** takes over a process of a restored VM by its id (GuestChannel.adopt) */
  adopt(id: number, options?: ExecOptions): GuestProcess;
  killContainer(name: string, signal: string | number): Promise<unknown>;
  deleteContainer(name: string): Promise<unknown>;
}

/** A process (or container) running in the guest. */
export interface GuestProcess {
  readonly id: number;
  /** Resolves with the exit status: the code, or 128 + signal. */
  readonly exit: Promise<number>;
  write(bytes: Uint8Array): void;
  closeStdin(): void;
  kill(signal: number): void;
  resize(rows: number, cols: number): void;
}

/**
 * The channel's ids at one instant, kept with a saved VM state so that the
 * channel of the restored VM goes on where this one was (see GuestChannel.resume).
 */
export interface ChannelSession {
  /** the next request id */
  nextId: number;
  /** ids of processes running in the guest (exec and container streams) */
  streams: number[];
  /** ids of the guest's `docker` commands in progress */
  cli: number[];
}

/** A `docker` command run in the guest, answered by the engine. */
export interface CliSession extends CliStart {
  readonly id: number;
  stdout(b: Uint8Array | string): void;
  stderr(b: Uint8Array | string): void;
  /** ends the command with this status; later writes are dropped */
  exit(code: number): void;
  onStdin(listener: (b: Uint8Array) => void): void;
  /** the client went away (Ctrl-C, a closed pipe) */
  onClose(listener: () => void): void;
  /** asks the client to put its terminal in raw mode (docker run -t) */
  raw(): void;
  /** the client's terminal changed size */
  onResize(listener: (rows: number, cols: number) => void): void;
  /** asks the client to catch its signals and send them (docker run --sig-proxy, the default without -t) */
  sigProxy(): void;
  /** a signal the client caught (by number), after sigProxy() */
  onSignal(listener: (signal: number) => void): void;
}

// virtio-console hands each host write to one guest buffer of a page; v86 drops
// a write when the guest has no free buffer (src/virtio_console.js "TODO: Buffer"),
// so writes are cut to a page and at most WINDOW are in flight until the agent
// ACKs that it has read them. Linux posts 16 buffers per port.
const CHUNK = 4096;
const WINDOW = 8;

interface Pending {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
}

interface Stream {
  onStdout?: ((b: Uint8Array) => void) | undefined;
  onStderr?: ((b: Uint8Array) => void) | undefined;
  exited: (code: number) => void;
  failed: (e: Error) => void;
}

export class GuestChannel implements GuestRuntime {
  #link: ByteLink;
  #decoder = new FrameDecoder();
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #streams = new Map<number, Stream>();
  #queue: Uint8Array[] = [];
  #inFlight: number[] = [];
  #readyWaiters: Array<() => void> = [];
  #closed: Error | undefined;
  #cliHandler: ((s: CliSession) => void) | undefined;
  #cli = new Map<number, { stdin: Array<(b: Uint8Array) => void>; pending: Uint8Array[]; close: Array<() => void>; resize: Array<(rows: number, cols: number) => void>; signal: Array<(signal: number) => void>; done: boolean }>();
  #unlisten: () => void;
  /** while a restored session's processes wait to be adopted: their output and exits, by id */
  #held: Map<number, Frame[]> | undefined;
  /** Frames that failed their checks and were skipped (for tests and diagnostics). */
  get skippedBytes(): number {
    return this.#decoder.skipped;
  }

  constructor(link: ByteLink) {
    this.#link = link;
    this.#unlisten = link.onBytes((b) => this.#receive(b));
  }

  /**
   * Waits for the agent. After a restore it is running already: ask until it
   * answers (input can be lost right after a restore). During a cold boot, only
   * listen: the agent announces itself, and writing to the port before the guest
   * driver has set up its queues makes v86 use an unconfigured ring, which was
   * seen to lose the port's setup messages (about one boot in eight).
   */
  async handshake(options: { timeoutMs: number; ask: boolean; retryMs?: number }): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    let answered = false;
    const ready = new Promise<void>((resolve) => this.#readyWaiters.push(() => { answered = true; resolve(); }));
    while (!answered) {
      if (this.#closed) throw this.#closed;
      if (Date.now() > deadline) {
        throw new BerthError(ErrorCode.vmBootFailed, `Cannot reach the guest agent: no answer in ${Math.round(options.timeoutMs / 1000)} s`);
      }
      if (options.ask) {
        // A hello lost in a guest that had no buffer yet never gets ACKed: start the window afresh.
        this.#inFlight = [];
        this.#write(encodeFrame({ type: Msg.hello, id: 0 }));
      }
      await Promise.race([ready, sleep(options.retryMs ?? 250)]);
    }
  }

  /** Sends a request whose answer is OK or ERROR. */
  async request(type: number, payload: Uint8Array): Promise<Frame> {
    this.#check();
    const id = this.#nextId++;
    const answer = new Promise<Frame>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#write(encodeFrame({ type, id, payload }));
    return answer;
  }

  setTime(ms: number): Promise<Frame> {
    return this.request(Msg.setTime, u64(ms));
  }

  writeFile(path: string, data: Uint8Array | string, mode = 0o644): Promise<Frame> {
    return this.request(Msg.writeFile, encodeStrings([path, mode.toString(8), data]));
  }

  /** Mounts an overlay of `lower` (top layer first) on `target`, with a tmpfs upper. */
  mountOverlay(target: string, lower: readonly string[]): Promise<Frame> {
    return this.request(Msg.mountOverlay, encodeStrings([target, ...lower]));
  }

  exec(req: ExecRequest, options: ExecOptions = {}): GuestProcess {
    this.#check();
    const flags = (options.stdin ? ExecFlag.stdin : 0) | (options.tty ? ExecFlag.tty : 0);
    const id = this.#nextId++;
    const proc = this.#running(id, options);
    this.#write(encodeFrame({ type: Msg.exec, id, flags, payload: encodeExec(req) }));
    return proc;
  }

  /** `crun create` from a bundle; resolves once the container exists (not yet started). */
  async createContainer(c: { name: string; bundle: string; config: string }, options: ExecOptions = {}): Promise<GuestProcess> {
    this.#check();
    const id = this.#nextId++;
    const proc = this.#process(id, options);
    const created = new Promise<Frame>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    const flags = options.tty ? ExecFlag.tty : 0;
    this.#write(encodeFrame({ type: Msg.containerCreate, id, flags, payload: encodeStrings([c.name, c.bundle, c.config]) }));
    try {
      await created;
    } catch (e) {
      proc.exit.catch(() => {});
      this.#streams.get(id)?.failed(e as Error);
      throw e;
    }
    return proc;
  }

  startContainer(name: string): Promise<Frame> {
    return this.request(Msg.containerStart, encodeStrings([name]));
  }
  killContainer(name: string, signal: string | number): Promise<Frame> {
    return this.request(Msg.containerKill, encodeStrings([name, String(signal)]));
  }
  deleteContainer(name: string): Promise<Frame> {
    return this.request(Msg.containerDelete, encodeStrings([name]));
  }

  /** Who answers `docker` commands run in the guest. */
  setCliHandler(handler: (s: CliSession) => void): void {
    this.#cliHandler = handler;
  }

  #cliStart(id: number, payload: Uint8Array): void {
    const start = decodeCliStart(payload);
    // stdin that comes before the command wants it (e.g. while an image is pulled) waits in `pending`
    const state = {
      stdin: [] as Array<(b: Uint8Array) => void>,
      pending: [] as Uint8Array[],
      close: [] as Array<() => void>,
      resize: [] as Array<(rows: number, cols: number) => void>,
      signal: [] as Array<(signal: number) => void>,
      done: false,
    };
    const enc = new TextEncoder();
    const send = (type: number, b: Uint8Array | string): void => {
      if (state.done) return;
      const bytes = typeof b === "string" ? enc.encode(b) : b;
      for (let off = 0; off < bytes.length || off === 0; off += 65536) {
        this.#write(encodeFrame({ type, id, payload: bytes.subarray(off, off + 65536) }));
        if (bytes.length === 0) break;
      }
    };
    const exit = (code: number): void => {
      if (state.done) return;
      send(Msg.cliExit, u32(code));
      state.done = true;
      this.#cli.delete(id);
    };
    if (!start || !this.#cliHandler) {
      send(Msg.cliStderr, start ? "docker: the engine is not ready for docker commands\n" : "docker: malformed request\n");
      exit(125);
      return;
    }
    this.#cli.set(id, state);
    this.#cliHandler({
      ...start,
      id,
      stdout: (b) => send(Msg.cliStdout, b),
      stderr: (b) => send(Msg.cliStderr, b),
      exit,
      onStdin: (l) => {
        state.stdin.push(l);
        for (const b of state.pending.splice(0)) l(b);
      },
      onClose: (l) => void state.close.push(l),
      raw: () => send(Msg.cliRaw, new Uint8Array(0)),
      onResize: (l) => void state.resize.push(l),
      sigProxy: () => send(Msg.cliSigProxy, new Uint8Array(0)),
      onSignal: (l) => void state.signal.push(l),
    });
  }

  /**
   * The ids in use now, for a saved session; undefined while a request other
   * than a running process waits for its answer or bytes wait to be sent (the
   * answer would come to a channel that no longer has it).
   */
  session(): ChannelSession | undefined {
    if (this.#queue.length > 0 || [...this.#pending.keys()].some((id) => !this.#streams.has(id))) return undefined;
    return { nextId: this.#nextId, streams: [...this.#streams.keys()], cli: [...this.#cli.keys()] };
  }

  /**
   * Takes over a process of a restored VM (its id from session()): its output
   * and exit come to the returned process as to the one that started it.
   */
  adopt(id: number, options: ExecOptions = {}): GuestProcess {
    this.#check();
    const proc = this.#running(id, options);
    const held = this.#held?.get(id);
    this.#held?.delete(id);
    // what it said while it waited, after the caller has the process
    if (held) queueMicrotask(() => { for (const f of held) this.#dispatch(f); });
    return proc;
  }

  /**
   * Before a restored session's VM runs: new ids start at `nextId` (after the
   * saved ones), and what the saved processes print, and their exits, are
   * kept for adopt() until resume().
   */
  hold(nextId: number): void {
    this.#nextId = Math.max(this.#nextId, nextId);
    this.#held = new Map();
  }

  /**
   * Goes on from a saved session after its VM state was restored: new ids
   * follow the saved ones; the processes nobody adopted (shells, execs and
   * connections whose clients went with the old page) get SIGKILL, and the
   * guest's `docker` commands that were waiting end with status 129 (as a
   * hang-up would end them).
   */
  resume(s: ChannelSession): void {
    this.#nextId = Math.max(this.#nextId, s.nextId);
    this.#held = undefined;
    for (const id of s.streams) if (!this.#streams.has(id)) this.#write(encodeFrame({ type: Msg.signal, id, payload: u32(9) }));
    for (const id of s.cli) {
      this.#write(encodeFrame({ type: Msg.cliStderr, id, payload: new TextEncoder().encode("\nThe engine was restored from a saved session: this command's connection is gone\n") }));
      this.#write(encodeFrame({ type: Msg.cliExit, id, payload: u32(129) }));
    }
  }

  /** Bytes straight to the agent, unframed: for diagnostics and for tests of its resilience. */
  sendRaw(bytes: Uint8Array): void {
    this.#write(bytes);
  }

  /** The guest is gone (close was called). */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Fails everything in flight: the guest is gone. */
  close(reason: Error): void {
    if (this.#closed) return;
    this.#closed = reason;
    this.#unlisten();
    for (const p of this.#pending.values()) p.reject(reason);
    for (const s of this.#streams.values()) s.failed(reason);
    this.#pending.clear();
    this.#streams.clear();
  }

  /** A process that runs until its exit frame; an ERROR instead of output means its request failed (e.g. a malformed argv). */
  #running(id: number, options: ExecOptions): GuestProcess {
    const proc = this.#process(id, options);
    this.#pending.set(id, { resolve: () => {}, reject: (e) => this.#streams.get(id)?.failed(e) });
    return proc;
  }

  #process(id: number, options: ExecOptions): GuestProcess {
    let exited!: (code: number) => void;
    let failed!: (e: Error) => void;
    const exit = new Promise<number>((res, rej) => { exited = res; failed = rej; });
    this.#streams.set(id, { onStdout: options.onStdout, onStderr: options.onStderr, exited, failed });
    return {
      id,
      exit,
      write: (bytes) => {
        for (let off = 0; off < bytes.length; off += 65536) {
          this.#write(encodeFrame({ type: Msg.stdin, id, payload: bytes.subarray(off, off + 65536) }));
        }
      },
      closeStdin: () => this.#write(encodeFrame({ type: Msg.stdin, id })),
      kill: (signal) => this.#write(encodeFrame({ type: Msg.signal, id, payload: u32(signal) })),
      resize: (rows, cols) => {
        const p = new Uint8Array(4);
        new DataView(p.buffer).setUint16(0, rows, true);
        new DataView(p.buffer).setUint16(2, cols, true);
        this.#write(encodeFrame({ type: Msg.resize, id, payload: p }));
      },
    };
  }

  #check(): void {
    if (this.#closed) throw this.#closed;
  }

  #write(frame: Uint8Array): void {
    if (this.#closed) return;
    for (let off = 0; off < frame.length; off += CHUNK) this.#queue.push(frame.subarray(off, off + CHUNK));
    this.#flush();
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#inFlight.length < WINDOW) {
      const chunk = this.#queue.shift()!;
      this.#inFlight.push(chunk.length);
      this.#link.send(chunk);
    }
  }

  #acked(n: number): void {
    // a read may end inside a chunk; a chunk's guest buffer is free once fully read
    while (n > 0 && this.#inFlight.length > 0) {
      const head = this.#inFlight[0]!;
      if (n >= head) {
        this.#inFlight.shift();
        n -= head;
      } else {
        this.#inFlight[0] = head - n;
        n = 0;
      }
    }
    this.#flush();
  }

  #receive(bytes: Uint8Array): void {
    for (const f of this.#decoder.push(bytes)) this.#dispatch(f);
  }

  #dispatch(f: Frame): void {
    // a restored session's process not adopted yet: what it says waits for adopt()
    if (this.#held && (f.type === Msg.stdout || f.type === Msg.stderr || f.type === Msg.exit) && !this.#streams.has(f.id)) {
      const kept = this.#held.get(f.id) ?? [];
      kept.push(f);
      this.#held.set(f.id, kept);
      return;
    }
    switch (f.type) {
      case Msg.ack:
        if (f.payload.length === 4) this.#acked(readU32(f.payload));
        return;
      case Msg.ready: {
        if (text(f.payload) !== AGENT_VERSION) {
          this.close(new BerthError(ErrorCode.agentProtocol, `Cannot talk to the guest agent: it is "${text(f.payload)}", the engine needs "${AGENT_VERSION}"`));
          return;
        }
        const waiters = this.#readyWaiters;
        this.#readyWaiters = [];
        for (const w of waiters) w();
        return;
      }
      case Msg.cliStart:
        this.#cliStart(f.id, f.payload);
        return;
      case Msg.cliStdin: {
        const s = this.#cli.get(f.id);
        if (s && s.stdin.length === 0) s.pending.push(f.payload);
        for (const l of s?.stdin ?? []) l(f.payload);
        return;
      }
      case Msg.resize: {
        const s = this.#cli.get(f.id);
        if (s && f.payload.length === 4) {
          const v = new DataView(f.payload.buffer, f.payload.byteOffset, 4);
          for (const l of s.resize) l(v.getUint16(0, true), v.getUint16(2, true));
        }
        return;
      }
      case Msg.cliSignal: {
        const s = this.#cli.get(f.id);
        if (s && f.payload.length === 4) for (const l of s.signal) l(readI32(f.payload));
        return;
      }
      case Msg.cliClose: {
        const s = this.#cli.get(f.id);
        this.#cli.delete(f.id);
        if (s) s.done = true;
        for (const l of s?.close ?? []) l();
        return;
      }
      case Msg.stdout:
      case Msg.stderr: {
        const s = this.#streams.get(f.id);
        (f.type === Msg.stdout ? s?.onStdout : s?.onStderr)?.(f.payload);
        return;
      }
      case Msg.exit: {
        const s = this.#streams.get(f.id);
        this.#streams.delete(f.id);
        this.#pending.delete(f.id);
        if (f.payload.length === 4) s?.exited(readI32(f.payload));
        return;
      }
      case Msg.ok:
      case Msg.error: {
        const p = this.#pending.get(f.id);
        if (!p) return;
        this.#pending.delete(f.id);
        if (f.type === Msg.ok) p.resolve(f);
        else p.reject(new BerthError(ErrorCode.agentProtocol, `The guest refused a request: ${text(f.payload)}`));
        return;
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
