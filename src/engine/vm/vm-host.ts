// The one file that imports v86. Everything here uses the documented API in
// v86.d.ts except six uses, noted where they are: writing to a virtio-console
// port, catching an emulator panic, writing image trees into the 9p filesystem
// with their modes, owners, links and device nodes (and hooks on its change notices and
// symlinks), restoring a state without
// zeroing all of guest memory, asking whether the relay's socket is open, and
// moving the emulator's clock on so a state saved by an older process keeps its timers.
import { V86 } from "v86";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { GuestChannel, type ByteLink } from "./guest-channel.js";

export interface VmImages {
  bios: ArrayBuffer;
  bzimage: ArrayBuffer;
  /** uncompressed newc cpio: the kernel then only copies it (decompressing costs emulated CPU) */
  initrd: ArrayBuffer;
  wasm: WebAssembly.Module;
}

export interface VmOptions {
  memoryMB: number;
  /**
   * a state from saveState() of a VM with the same images and memory size; a
   * promise lets it be read and checked while the emulator is made (a rejection
   * is thrown from start(), after the emulator is freed)
   */
  state?: ArrayBuffer | Promise<ArrayBuffer>;
  /** ms to wait for the agent: cold boots take seconds, restores well under one */
  readyTimeoutMs?: number;
  /** every byte the serial console prints, from the very start (boot log, shell) */
  onConsole?: (bytes: Uint8Array) => void;
  /** filled with where start() spent its time, in ms */
  timings?: Record<string, number>;
  /** a virtio NIC whose Ethernet frames go to this WebSocket relay (ws://…/relay/<room>?token=…) */
  relayUrl?: string;
  /** `state` is a saved session's: its processes' output waits for GuestChannel.adopt, new ids start at this */
  sessionNextId?: number;
  /** the emulator's clock (ms, VmHost.clock()) when `state` was saved: a later process's clock is moved on to it */
  stateClock?: number;
}

/**
 * The emulator's clock, v86's `microtick` (performance.now(), ms since the
 * process or worker began), moved on by `offset` ms: a state saved by an
 * older process has timers armed at its clock's values (the APIC's, the
 * PIT's), which a younger process's clock would reach only after as long as
 * the old one had run, the guest's sleeping processes frozen until then.
 * One offset per process (v86 keeps its clock per process too), only ever raised.
 */
const clock = { offset: 0 };
const SHIFTED = Symbol("berth-shifted-clock");
type Tick = (() => number) & { [SHIFTED]?: true };

/** Undocumented: the JS devices read v86's clock from the emulator class's static `microtick`. */
function emulatorClock(emu: V86): { microtick?: Tick } | undefined {
  return (emu as unknown as { v86?: { constructor: { microtick?: Tick } } }).v86?.constructor;
}

function shifted(f: Tick): Tick {
  if (f[SHIFTED]) return f;
  const g: Tick = () => f() + clock.offset;
  g[SHIFTED] = true;
  return g;
}

/** The kernel command line. `quiet`: printing the boot log costs emulated time. */
const AGENT_PORT = 1; // virtio-console port 0 is left alone; the agent opens port 1 ("virtio-1")

export const CMDLINE = "console=ttyS0 rdinit=/init quiet loglevel=3 tsc=reliable mitigations=off";


/** Metadata of a node written into the 9p share. */
export interface NodeAttrs {
  mode: number;
  uid: number;
  gid: number;
  /** seconds since the epoch */
  mtime: number;
}

/**
 * The guest's 9p share (mounted at /mnt/host in the guest), for writing
 * unpacked image trees. Ids are v86's inode numbers; the root is 0.
 */
export interface ShareFiles {
  /** the id of the directory at `path` (made, with its parents, if missing) */
  dir(path: string): number;
  mkdir(parent: number, name: string, a: NodeAttrs): number;
  file(parent: number, name: string, data: Uint8Array, a: NodeAttrs): Promise<number>;
  symlink(parent: number, name: string, target: string, a: NodeAttrs): number;
  /** a character or block device, or a fifo */
  node(parent: number, name: string, kind: "char" | "block" | "fifo", major: number, minor: number, a: NodeAttrs): number;
  hardlink(parent: number, name: string, target: number): void;
  /** sets a node's mode, owner and times */
  setAttrs(id: number, type: "dir" | "file" | "symlink" | "char" | "block" | "fifo", a: NodeAttrs): void;
  /** a regular file's contents, or undefined if there is none at `path` */
  read(path: string): Promise<Uint8Array | undefined>;
  /** removes `path` and everything below it; no error if it is not there */
  remove(path: string): void;
  /** everything below directory `path` (not itself), parents before children, names sorted; [] if it is not there */
  walk(path: string): ShareEntry[];
  /** the attributes of `path`, or undefined if it is not there */
  stat(path: string): ShareEntry | undefined;
  /** a regular file's contents by its id */
  readId(id: number): Promise<Uint8Array>;
  /**
   * ids of the nodes written, made, renamed or removed through 9p (by the
   * guest, or by these calls) since the caller last emptied it: the live set
   */
  readonly written: Set<number>;
}

/** A node found by ShareFiles.walk. */
export interface ShareEntry extends NodeAttrs {
  /** relative to the walked directory, "/"-separated */
  path: string;
  id: number;
  type: "dir" | "file" | "symlink" | "char" | "block" | "fifo" | "socket";
  /** bytes (regular files) */
  size: number;
  /** a symlink's target */
  target: string;
  major: number;
  minor: number;
  nlinks: number;
}

const S_IF = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000, block: 0o060000, fifo: 0o010000 } as const;

/** The parts of v86's lib/filesystem.js FS that ShareFiles uses. */
interface V86Fs {
  inodes: Array<{ mode: number; uid: number; gid: number; mtime: number; ctime: number; atime: number; size: number; symlink: string; major: number; minor: number; nlinks: number; direntries: Map<string, number> }>;
  Read(id: number, offset: number, count: number): Promise<Uint8Array | null>;
  SearchPath(path: string): { id: number; parentid: number };
  CreateDirectory(name: string, parentid: number): number;
  CreateBinaryFile(name: string, parentid: number, data: Uint8Array): Promise<number>;
  CreateSymlink(name: string, parentid: number, target: string): number;
  CreateNode(name: string, parentid: number, major: number, minor: number): number;
  Link(parentid: number, targetid: number, name: string): number;
  RecursiveDelete(path: string): void;
  NotifyListeners(id: number, event: string): void;
  read_file(path: string): Promise<Uint8Array | null>;
}

/** A running guest: its agent channel and its serial console. */
export class VmHost {
  readonly channel: GuestChannel;
  #emu: V86;
  #consoleListeners = new Set<(b: Uint8Array) => void>();
  readonly #written = new Set<number>();
  #stopped = false;

  private constructor(emu: V86, channel: GuestChannel) {
    this.#emu = emu;
    this.channel = channel;
  }

  static async start(images: VmImages, options: VmOptions): Promise<VmHost> {
    const restoring = options.state !== undefined;
    let mark = performance.now();
    const lap = (name: string): void => {
      const t = performance.now();
      if (options.timings) options.timings[name] = Math.round(t - mark);
      mark = t;
    };
    const emu = new V86({
      // Undocumented: the imports v86 gives its wasm are `env`, its clock `microtick` among them
      wasm_fn: async (imports) => {
        const env = imports["env"] as { microtick?: Tick } | undefined;
        if (env?.microtick) env.microtick = shifted(env.microtick);
        return (await WebAssembly.instantiate(images.wasm, imports)).exports;
      },
      memory_size: options.memoryMB * 1024 * 1024,
      vga_memory_size: 256 * 1024,
      bios: { buffer: images.bios },
      // A restore brings the kernel and initramfs back with the memory image.
      // v86 writes the boot parameters into the bzimage it is given: a copy, so the caller's (part of
      // the snapshot key) stays as it was for the next start
      ...(restoring ? {} : { bzimage: { buffer: images.bzimage.slice(0) }, initrd: { buffer: images.initrd }, cmdline: CMDLINE }),
      filesystem: {},
      virtio_console: true as unknown as never, // "true creates a virtio console device without adapter" (v86.d.ts)
      autostart: false,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
      uart1: true, // ttyS1: the alternative agent channel bench/channel.mjs measures
      // v86 carries the NIC's frames over the WebSocket, one per binary message, and reconnects when it drops
      ...(options.relayUrl ? { net_device: { type: "virtio" as const, relay_url: options.relayUrl } } : {}),
    });
    await new Promise<void>((resolve) => emu.add_listener("emulator-loaded", () => resolve()));
    lap("vm-create");
    const ticks = emulatorClock(emu);
    if (ticks?.microtick) ticks.microtick = shifted(ticks.microtick);

    // The agent's channel is virtio-console port 1: measured against the second
    // serial port (bench/channel.mjs, BENCHMARKS.md) it answers small requests
    // as fast and moves bulk data 2x (out) to 7x (in) faster.
    const channel = new GuestChannel(virtioLink(emu, AGENT_PORT));
    if (options.sessionNextId !== undefined) channel.hold(options.sessionNextId);
    const host = new VmHost(emu, channel);
    // Undocumented: when a broken guest drives v86 into a path it does not
    // implement, its Rust code panics and the wasm trap escapes the emulator's
    // tick (v86.do_tick, called from setImmediate/postMessage in src/main.js) as
    // an uncaught exception that would take the whole process or worker down.
    // The tick is looked up on the instance at each call, so wrap it there.
    const core = (emu as unknown as { v86?: { do_tick?: () => void } }).v86;
    if (core?.do_tick) {
      const tick = core.do_tick.bind(core);
      core.do_tick = () => {
        try {
          tick();
        } catch (e) {
          host.#crash(e);
        }
      };
    }
    let panic = "";
    const tail: number[] = [];
    emu.add_listener("serial0-output-byte", (byte) => {
      const b = new Uint8Array([byte]);
      options.onConsole?.(b);
      for (const l of host.#consoleListeners) l(b);
      tail.push(byte);
      if (tail.length > 200) tail.shift();
      if (byte === 10 && !panic) {
        const line = String.fromCharCode(...tail).trim().split("\n").pop() ?? "";
        if (/Kernel panic|end Kernel panic/.test(line)) panic = line;
      }
    });

    if (options.state) {
      let state: ArrayBuffer;
      try {
        state = await options.state;
      } catch (e) {
        await host.destroy();
        throw e;
      }
      lap("snapshot-wait");
      const behind = options.stateClock !== undefined && ticks?.microtick ? options.stateClock - ticks.microtick() : 0;
      if (behind > 0) clock.offset += behind + 1;
      if (options.timings && options.stateClock !== undefined) options.timings["clock-moved"] = Math.round(Math.max(behind, 0));
      try {
        await restoreSparse(emu, state);
      } catch (e) {
        await host.destroy();
        throw new BerthError(ErrorCode.snapshotInvalid, "Cannot restore the saved VM state: it does not match this emulator", { cause: e });
      }
      lap("vm-restore");
    }
    await emu.run();
    try {
      await Promise.race([
        channel.handshake({ timeoutMs: options.readyTimeoutMs ?? (restoring ? 5000 : 60000), ask: restoring, retryMs: restoring ? 15 : 100 }),
        (async () => {
          while (!panic && !host.#stopped) await sleep(100);
          if (panic) throw new BerthError(ErrorCode.vmBootFailed, `Cannot boot the guest: ${panic.replace(/^\[[ .0-9]*\] /, "")}`);
        })(),
      ]);
    } catch (e) {
      await host.destroy();
      throw e;
    }
    lap(restoring ? "handshake" : "vm-boot");
    // After a restore the guest clock is the saved one; after a boot it is the RTC's.
    // Not awaited: the agent handles requests in order, so it is set before anything
    // asked after it runs; a failure (the guest went away) shows on that request.
    channel.setTime(Date.now()).catch(() => {});
    return host;
  }

  /**
   * The 9p share, to write image trees into. Undocumented: v86.d.ts offers only
   * create_file/read_file (mode 0666, no owners, links or devices); the FS
   * object behind them (`fs9p`, lib/filesystem.js) has the calls used here.
   */
  shareFiles(): ShareFiles {
    const fs = (this.#emu as unknown as { fs9p?: V86Fs }).fs9p;
    if (!fs) throw new TypeError("this VM has no 9p filesystem");
    // Undocumented: lib/filesystem.js calls NotifyListeners(id, "write" | "newfile" | "newdir" |
    // "rename" | "delete") on each change, a no-op hook; it tells which files the guest wrote
    const written = this.#written;
    fs.NotifyListeners = (id) => void written.add(id);
    // a symlink v86 makes has no permission bits and size 0 (`ls -l` shows "l---------", size 0):
    // give it Linux's 0777 and its target's length
    const createSymlink = fs.CreateSymlink.bind(fs);
    fs.CreateSymlink = (name, parent, target) => {
      const id = createSymlink(name, parent, target);
      const ino = fs.inodes[id]!;
      ino.mode = S_IF.symlink | 0o777;
      ino.size = new TextEncoder().encode(target).length;
      written.add(id);
      return id;
    };
    const set = (id: number, type: keyof typeof S_IF, a: NodeAttrs): number => {
      const ino = fs.inodes[id]!;
      ino.mode = S_IF[type] | (a.mode & 0o7777);
      ino.uid = a.uid;
      ino.gid = a.gid;
      ino.mtime = ino.ctime = ino.atime = a.mtime;
      return id;
    };
    const TYPES: Record<number, ShareEntry["type"]> = { 0o040000: "dir", 0o100000: "file", 0o120000: "symlink", 0o020000: "char", 0o060000: "block", 0o010000: "fifo", 0o140000: "socket" };
    const entry = (id: number, path: string): ShareEntry => {
      const ino = fs.inodes[id]!;
      return {
        path, id, type: TYPES[ino.mode & 0o170000] ?? "file", mode: ino.mode & 0o7777, uid: ino.uid, gid: ino.gid, mtime: ino.mtime,
        size: ino.size, target: ino.symlink ?? "", major: ino.major ?? 0, minor: ino.minor ?? 0, nlinks: ino.nlinks ?? 1,
      };
    };
    return {
      written,
      dir: (path) => {
        let id = 0;
        let walked = "";
        for (const name of path.split("/").filter(Boolean)) {
          walked += `/${name}`;
          const found = fs.SearchPath(walked);
          id = found.id >= 0 ? found.id : fs.CreateDirectory(name, id);
        }
        return id;
      },
      mkdir: (parent, name, a) => set(fs.CreateDirectory(name, parent), "dir", a),
      file: async (parent, name, data, a) => set(await fs.CreateBinaryFile(name, parent, data), "file", a),
      symlink: (parent, name, target, a) => set(fs.CreateSymlink(name, parent, target), "symlink", { ...a, mode: 0o777 }),
      node: (parent, name, kind, major, minor, a) => set(fs.CreateNode(name, parent, major, minor), kind, a),
      hardlink: (parent, name, target) => {
        if (fs.Link(parent, target, name) < 0) throw new TypeError(`cannot hard link ${name}`);
      },
      setAttrs: (id, type, a) => {
        set(id, type, a);
      },
      read: async (path) => {
        const ino = fs.SearchPath(path);
        if (ino.id < 0 || (fs.inodes[ino.id]!.mode & 0o170000) !== S_IF.file) return undefined;
        return (await fs.read_file(path)) ?? undefined;
      },
      remove: (path) => {
        if (fs.SearchPath(path).id >= 0) fs.RecursiveDelete(path);
      },
      walk: (path) => {
        const top = fs.SearchPath(path).id;
        const out: ShareEntry[] = [];
        if (top < 0) return out;
        const visit = (id: number, prefix: string): void => {
          const dir = fs.inodes[id]!;
          for (const name of [...dir.direntries.keys()].sort()) {
            if (name === "." || name === "..") continue;
            const child = dir.direntries.get(name)!;
            const e = entry(child, prefix + name);
            out.push(e);
            if (e.type === "dir") visit(child, `${prefix}${name}/`);
          }
        };
        visit(top, "");
        return out;
      },
      stat: (path) => {
        const id = fs.SearchPath(path).id;
        return id < 0 ? undefined : entry(id, "");
      },
      readId: async (id) => (await fs.Read(id, 0, fs.inodes[id]!.size)) ?? new Uint8Array(),
    };
  }

  /** A byte link over serial port `n` (ttySn), for an agent started there: bench/channel.mjs compares it. */
  serialLink(n: number): ByteLink {
    return serialLink(this.#emu, n);
  }

  /**
   * Whether the NIC's WebSocket to the relay is open. Undocumented: v86 keeps
   * its relay adapter as `network_adapter` (src/browser/network.js), which
   * opens the socket at the first frame and reconnects every 10 s after a close.
   */
  relayOpen(): boolean {
    const adapter = (this.#emu as unknown as { network_adapter?: { socket?: { readyState?: number } } }).network_adapter;
    return adapter?.socket?.readyState === 1;
  }

  /** Bytes for the serial console (the interactive guest shell). */
  writeConsole(bytes: Uint8Array): void {
    this.#emu.serial_send_bytes(0, bytes);
  }

  onConsole(listener: (bytes: Uint8Array) => void): () => void {
    this.#consoleListeners.add(listener);
    return () => this.#consoleListeners.delete(listener);
  }

  /** The emulator's clock now (ms): saved with a session's state, given back as VmOptions.stateClock. */
  clock(): number {
    return emulatorClock(this.#emu)?.microtick?.() ?? performance.now() + clock.offset;
  }

  async saveState(): Promise<ArrayBuffer> {
    return this.#emu.save_state();
  }

  #crash(e: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const why = e instanceof Error ? e.message : String(e);
    this.channel.close(new BerthError(ErrorCode.guestCrashed, `Cannot go on: the emulator stopped with "${why}"`));
    // the emulator's state is broken: free it, but do not wait for a clean stop
    void this.#emu.destroy().catch(() => {});
  }

  get running(): boolean {
    return !this.#stopped;
  }

  async destroy(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.channel.close(new BerthError(ErrorCode.vmNotRunning, "Cannot talk to the guest: the VM was stopped"));
    await this.#emu.destroy();
  }
}

/** A byte link over virtio-console port `port` (the agent opens "virtio-N", Linux's /dev/hvcN). */
function virtioLink(emu: V86, port: number): ByteLink {
  const output = `virtio-console${port}-output-bytes` as "virtio-console0-output-bytes"; // same payload type
  return {
    // Undocumented: v86.d.ts lists the per-port bus events but no method to send
    // one; v86's own xterm adapter sends "virtio-consoleN-input-bytes" on `bus`
    // (src/virtio_console.js registers it for every port).
    send: (bytes) => (emu as unknown as { bus: { send(event: string, data: Uint8Array): void } }).bus.send(`virtio-console${port}-input-bytes`, bytes),
    onBytes: (listener) => {
      const l = (b: Uint8Array): void => listener(b);
      emu.add_listener(output, l);
      return () => emu.remove_listener(output, l);
    },
  };
}

/**
 * A byte link over serial port `n`. v86 hands serial output over a byte at a
 * time; bytes are gathered and passed on once per microtask.
 */
function serialLink(emu: V86, n: number): ByteLink {
  const event = `serial${n}-output-byte` as "serial1-output-byte";
  return {
    send: (bytes) => emu.serial_send_bytes(n, bytes),
    onBytes: (listener) => {
      let pending: number[] = [];
      const l = (byte: number): void => {
        if (pending.length === 0) {
          queueMicrotask(() => {
            const b = Uint8Array.from(pending);
            pending = [];
            listener(b);
          });
        }
        pending.push(byte);
      };
      emu.add_listener(event, l);
      return () => emu.remove_listener(event, l);
    },
  };
}

/** Guest memory below this is where a fresh emulator has written (BIOS and option ROMs). */
const LOW_MEMORY = 1 << 20;

/**
 * Restores `state` into a VM that has never run, writing only the pages the
 * state holds, so a restore costs the size of the state and not of guest memory.
 * Undocumented: v86's CPU.unpack_memory (src/cpu.js) first zeroes all of guest
 * memory with the wasm export `zero_memory`, then copies the state's non-zero
 * pages. A fresh emulator's guest memory is fresh wasm memory, zero already,
 * but for the low 1 MiB where the BIOS is loaded; and on hosts where the first
 * write to a page is slow, zeroing 256 MiB cost ~750 ms, more than the rest of
 * a restore. So while the restore runs, zeroing is limited to the low 1 MiB.
 */
async function restoreSparse(emu: V86, state: ArrayBuffer): Promise<void> {
  const cpu = (emu as unknown as { v86?: { cpu?: { zero_memory?: (addr: number, len: number) => void } } }).v86?.cpu;
  const zero = cpu?.zero_memory;
  if (!cpu || !zero) return emu.restore_state(state);
  cpu.zero_memory = (addr, len) => {
    const end = Math.min(addr + len, LOW_MEMORY);
    if (end > addr) zero(addr, end - addr);
  };
  try {
    await emu.restore_state(state);
  } finally {
    cpu.zero_memory = zero;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
