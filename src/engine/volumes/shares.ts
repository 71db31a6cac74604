import { BerthError, ErrorCode } from "../../common/errors.js";
import { Serial } from "../serial.js";
import type { ShareFiles } from "../vm/vm-host.js";
import { ShareSync, type HostTree } from "./share-sync.js";

/** A user's directory shown in the guest (`berth --share DIR[:GUESTPATH]`). */
export interface ShareSpec {
  tree: HostTree;
  /** where the guest sees it: an absolute path */
  guestPath: string;
  /** what to call it in messages (the host directory) */
  label: string;
}

/** ms between two syncs while the engine runs */
const SYNC_MS = 2000;

/**
 * The user's directories in the guest, as Docker Desktop shares the host's:
 * each is copied into the 9p share and bind-mounted at its guest path, so
 * `docker run -v "$PWD":/app` reads it; changes go both ways (ShareSync)
 * every two seconds, when a container stops, and when the engine stops.
 */
export class ShareService {
  readonly #files: ShareFiles;
  readonly #run: (argv: string[]) => Promise<{ code: number; stderr: string }>;
  readonly #shares: ShareSync[] = [];
  readonly #serial = new Serial();
  #timer: ReturnType<typeof setInterval> | undefined;
  #count = 0;

  constructor(files: ShareFiles, run: (argv: string[]) => Promise<{ code: number; stderr: string }>) {
    this.#files = files;
    this.#run = run;
  }

  /**
   * Copies a directory in and mounts it at its guest path; from then on it is kept in sync.
   * @throws BerthError invalid-parameter when the guest cannot mount it there
   */
  async add(spec: ShareSpec): Promise<void> {
    if (!spec.guestPath.startsWith("/") || spec.guestPath === "/") throw new BerthError(ErrorCode.invalidParameter, `Cannot share ${spec.label} at "${spec.guestPath}": the guest path must be absolute and not "/"`);
    const share = new ShareSync(this.#files, spec.tree, `/shares/${this.#count++}`);
    await this.#serial.run(async () => {
      const r = await share.sync(new Set());
      for (const id of r.made) this.#files.written.delete(id);
    });
    const r = await this.#run(["/bin/sh", "-c", 'mkdir -p "$2" && mount --bind "$1" "$2"', "share", `/mnt/host${share.dir}`, spec.guestPath]);
    if (r.code !== 0) throw new BerthError(ErrorCode.invalidParameter, `Cannot share ${spec.label} at ${spec.guestPath} in the guest: ${r.stderr.trim()}`);
    this.#shares.push(share);
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.sync().catch(() => {}), SYNC_MS);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** One sync of every share, after the guest wrote back its page cache; one at a time. */
  sync(): Promise<void> {
    return this.#serial.run(() => this.#sync());
  }

  async #sync(): Promise<void> {
    if (!this.#shares.length) return;
    await this.#run(["/bin/sh", "-c", "sync"]);
    const written = new Set(this.#files.written);
    this.#files.written.clear();
    let toGuest = 0;
    for (const s of this.#shares) {
      const r = await s.sync(written);
      toGuest += r.toGuest;
      // what this sync wrote into the share is not the guest's change
      for (const id of r.made) this.#files.written.delete(id);
    }
    // the guest caches the share (cache=loose): what came from the host is seen once its caches are dropped
    if (toGuest) await this.#run(["/bin/sh", "-c", "echo 3 > /proc/sys/vm/drop_caches"]);
  }

  /** The last sync, then no more. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.sync();
  }
}
