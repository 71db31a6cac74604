import type { ShareFiles } from "../vm/vm-host.js";

/**
 * The guest command line (sh) that writes a tar of directory `dir` into file
 * `file` of the share (both shell words, e.g. '"$1"'): with direct I/O,
 * because the share's page cache writes back a page (4 KB) per 9p request; it
 * fails when tar does (pipefail).
 */
export function tarToShare(dir: string, file: string): string {
  return `set -o pipefail; tar -C ${dir} -cf - . | dd of=${file} bs=512k oflag=direct 2>/dev/null`;
}

/**
 * Files moved between the engine and the guest through the 9p share (the
 * volumes' data, containers' writable layers): the guest writes a file there
 * and the engine takes it, or the engine puts bytes there for the guest to
 * read. Every transfer has a file name of its own, removed after it: the guest
 * caches the share (cache=loose) and the engine removes the file behind its back.
 */
export class ShareTransfer {
  readonly #files: ShareFiles;
  readonly #prefix: string;
  #n = 0;

  /** `prefix` names the transfer files in the share's root ("xfer" → /xfer-1.tar, …). */
  constructor(files: ShareFiles, prefix: string) {
    this.#files = files;
    this.#prefix = prefix;
  }

  /**
   * Runs `produce` with the guest path of a fresh file; when it answers true
   * (the guest wrote the file), answers the file's bytes, else undefined. The
   * file is removed either way.
   */
  async take(produce: (guestPath: string) => Promise<boolean>): Promise<Uint8Array | undefined> {
    const name = this.#name();
    try {
      return (await produce(`/mnt/host${name}`)) ? await this.#files.read(name) : undefined;
    } finally {
      this.#files.remove(name);
    }
  }

  /** Puts `bytes` in a fresh file (root's, 0600) and runs `consume` with its guest path; the file is removed after. */
  async give<T>(bytes: Uint8Array, consume: (guestPath: string) => Promise<T>): Promise<T> {
    const name = this.#name();
    await this.#files.file(this.#files.dir("/"), name.slice(1), bytes, { mode: 0o600, uid: 0, gid: 0, mtime: 0 });
    try {
      return await consume(`/mnt/host${name}`);
    } finally {
      this.#files.remove(name);
    }
  }

  #name(): string {
    return `/${this.#prefix}-${++this.#n}.tar`;
  }
}
