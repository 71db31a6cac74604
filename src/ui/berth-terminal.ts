// The one file that imports xterm.
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import { LitElement, css, html, unsafeCSS, type PropertyValues } from "lit";
import xtermCss from "@xterm/xterm/css/xterm.css";
import { isBerthError } from "../common/errors.js";
import { sharedEngine, type ShellSession } from "./engine-client.js";
import { progressText } from "./progress-text.js";

/**
 * `<berth-terminal>`: a guest shell in the page. Boots (or restores) the page's
 * shared engine, then opens a login shell on a guest pty that follows the
 * element's size. Attributes: `guest` (URL of the guest files, default /guest/),
 * `memory` (MB, default 256), `snapshot-db` (IndexedDB database of the saved
 * state), `persist="session"` (a reload goes on with the containers still
 * running, see EngineClientOptions.persist). The first component on a page decides them for the shared engine.
 * A folder dropped on it (or picked with its "Share a folder" button, where the
 * browser has showDirectoryPicker) is shared into the guest at /root/NAME, as
 * Docker Desktop shares the host's files: `docker run -v /root/NAME:/app …`.
 */
export class BerthTerminal extends LitElement {
  static override properties = {
    guest: { type: String },
    memory: { type: Number },
    snapshotDb: { type: String, attribute: "snapshot-db" },
    network: { type: Boolean },
    persist: { type: String },
    status: { state: true },
    error: { state: true },
    ports: { state: true },
  };

  static override styles = [
    unsafeCSS(xtermCss),
    css`
      :host { display: block; position: relative; min-height: 20em; background: var(--berth-background, #111); border-radius: var(--berth-radius, 6px); overflow: hidden; }
      .term { position: absolute; inset: 0.5em; }
      .status { position: absolute; right: 0.75em; bottom: 0.5em; font: 12px system-ui, sans-serif; color: var(--berth-status-color, #9cf); pointer-events: none; }
      .error { position: absolute; inset: auto 0.75em 0.5em 0.75em; font: 13px system-ui, sans-serif; color: var(--berth-error-color, #f88); }
      .ports { position: absolute; right: 0.75em; top: 0.4em; font: 12px system-ui, sans-serif; background: rgba(0, 0, 0, 0.6); padding: 0.15em 0.5em; border-radius: 4px; z-index: 10; }
      .ports a { color: var(--berth-link-color, #9cf); margin-left: 0.5em; }
      .share { position: absolute; right: 0.75em; bottom: 2em; font: 12px system-ui, sans-serif; z-index: 10; opacity: 0.7; }
      :host(.dragging) { outline: 2px dashed var(--berth-link-color, #9cf); }
    `,
  ];

  /** directory URL of the guest files; default /guest/ */
  guest: string | undefined;
  /** guest memory in MB */
  memory = 256;
  /** IndexedDB database that keeps the saved VM state */
  snapshotDb: string | undefined;
  /** a NIC on a network of the page's own, from berth serve's relay (containers with --network host reach the outside) */
  network = false;
  /** "session": the whole session (running containers too) survives a reload (EngineClientOptions.persist) */
  persist: string | undefined;
  status = "";
  error = "";
  /** published ports of running containers, shown as links to /port/<n>/ (served by berth-sw.js) */
  ports: Array<{ hostPort: number; containerPort: number; container: string }> = [];
  #poll: ReturnType<typeof setInterval> | undefined;

  #term: Terminal | undefined;
  #fit = new FitAddon();
  #session: ShellSession | undefined;
  #observer: ResizeObserver | undefined;
  #disposers: Array<() => void> = [];

  override render() {
    const picker = typeof (globalThis as { showDirectoryPicker?: unknown }).showDirectoryPicker === "function";
    return html`<div class="term" part="terminal"></div>
      ${picker ? html`<button class="share" part="share" title="Share a folder of yours with the guest (at /root/NAME)" @click=${() => void this.#pick()}>Share a folder</button>` : ""}
      ${this.ports.length ? html`<div class="ports" part="ports">Published:${this.ports.map((p) => html`<a href="/port/${p.hostPort}/" target="_blank" rel="noopener">${p.hostPort} → ${p.container}:${p.containerPort}</a>`)}</div>` : ""}
      ${this.error ? html`<div class="error" part="error" role="alert">${this.error}</div>` : html`<div class="status" part="status" aria-live="polite">${this.status}</div>`}`;
  }

  protected override firstUpdated(_changed: PropertyValues): void {
    const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 14, scrollback: 5000 });
    this.#term = term;
    term.loadAddon(this.#fit);
    term.open(this.renderRoot.querySelector(".term") as HTMLElement);
    this.#fit.fit();
    this.#observer = new ResizeObserver(() => this.#resize());
    this.#observer.observe(this);
    const enc = new TextEncoder();
    const input = term.onData((d) => this.#session?.write(enc.encode(d)));
    const binary = term.onBinary((d) => this.#session?.write(Uint8Array.from(d, (c) => c.charCodeAt(0))));
    this.#disposers.push(() => input.dispose(), () => binary.dispose());
    const over = (e: DragEvent): void => {
      e.preventDefault();
      this.classList.add("dragging");
    };
    const leave = (): void => this.classList.remove("dragging");
    const drop = (e: DragEvent): void => {
      e.preventDefault();
      leave();
      void this.#dropped(e.dataTransfer);
    };
    this.addEventListener("dragover", over);
    this.addEventListener("dragleave", leave);
    this.addEventListener("drop", drop);
    this.#disposers.push(() => this.removeEventListener("dragover", over), () => this.removeEventListener("dragleave", leave), () => this.removeEventListener("drop", drop));
    void this.#connect();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#observer?.disconnect();
    if (this.#poll) clearInterval(this.#poll);
    for (const d of this.#disposers.splice(0)) d();
    this.#term?.dispose();
  }

  /** The text on the terminal's screen (for tests and for copying). */
  screenText(): string {
    const buf = this.#term?.buffer.active;
    if (!buf) return "";
    const lines: string[] = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? "");
    return lines.join("\n").replace(/\n+$/, "");
  }

  /** Types text into the shell as if from the keyboard. */
  type(text: string): void {
    this.#session?.write(new TextEncoder().encode(text));
  }

  async #connect(): Promise<void> {
    const engine = this.#engine();
    this.#disposers.push(engine.onProgress((p) => (this.status = progressText(p))));
    const term = this.#term!;
    try {
      this.#session = await engine.openShell(
        { rows: term.rows, cols: term.cols },
        (b) => term.write(b),
        (code) => {
          term.write(`\r\n[shell exited with status ${code}]\r\n`);
          this.#session = undefined;
        },
      );
      this.status = "";
      for (const w of await engine.warnings()) term.write(`\x1b[33m${w}\x1b[0m\r\n`);
      this.dispatchEvent(new CustomEvent("berth-ready", { bubbles: true, composed: true }));
      this.#poll = setInterval(() => {
        engine.ports().then((p) => {
          if (JSON.stringify(p) !== JSON.stringify(this.ports)) this.ports = p;
        }, () => {});
      }, 2000);
    } catch (e) {
      this.error = isBerthError(e) ? e.toLine() : `Error: ${String(e)}`;
    }
  }

  /**
   * Shares a folder or files into the guest and says where, on the terminal.
   * @param source a folder handle, or files with their relative paths
   */
  async share(source: FileSystemDirectoryHandle | readonly File[]): Promise<string | undefined> {
    try {
      const path = await this.#engine().share(source);
      this.#term?.write(`\r\n\x1b[36m[shared at ${path}: docker run -v ${path}:/app …]\x1b[0m\r\n`);
      this.dispatchEvent(new CustomEvent("berth-shared", { detail: { path }, bubbles: true, composed: true }));
      return path;
    } catch (e) {
      this.#term?.write(`\r\n\x1b[31m${isBerthError(e) ? e.toLine() : String(e)}\x1b[0m\r\n`);
      return undefined;
    }
  }

  async #pick(): Promise<void> {
    const pick = (globalThis as { showDirectoryPicker?: (o: { mode: string }) => Promise<FileSystemDirectoryHandle> }).showDirectoryPicker;
    const handle = await pick?.({ mode: "readwrite" }).catch(() => undefined);
    if (handle) await this.share(handle);
  }

  /** A drop: a folder handle where Chromium gives one, else the files (and folders' files) dropped. */
  async #dropped(dt: DataTransfer | null): Promise<void> {
    if (!dt) return;
    const items = [...dt.items].filter((i) => i.kind === "file");
    const handles = await Promise.all(items.map((i) => (i as { getAsFileSystemHandle?: () => Promise<FileSystemHandle | null> }).getAsFileSystemHandle?.() ?? Promise.resolve(null)));
    const dir = handles.find((h) => h?.kind === "directory") as FileSystemDirectoryHandle | undefined;
    if (dir) {
      await this.share(dir);
      return;
    }
    const files: File[] = [];
    const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
      if (entry.isFile) {
        const f = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
        Object.defineProperty(f, "webkitRelativePath", { value: `${prefix}${f.name}` });
        files.push(f);
      } else if (entry.isDirectory) {
        const reader = (entry as FileSystemDirectoryEntry).createReader();
        for (;;) {
          const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
          if (!batch.length) break;
          for (const e of batch) await walk(e, `${prefix}${entry.name}/`);
        }
      }
    };
    for (const i of items) {
      const entry = i.webkitGetAsEntry();
      if (entry) await walk(entry, entry.isDirectory ? "" : "dropped/");
    }
    if (files.length) await this.share(files);
  }

  #engine(): ReturnType<typeof sharedEngine> {
    return sharedEngine({
      ...(this.guest ? { guestUrl: new URL(this.guest, location.href).href } : {}),
      ...(this.snapshotDb ? { snapshotDb: this.snapshotDb } : {}),
      ...(this.network ? { relay: true } : {}),
      ...(this.persist === "session" ? { persist: "session" as const } : {}),
      memoryMB: this.memory,
    });
  }

  #resize(): void {
    if (!this.#term) return;
    this.#fit.fit();
    this.#session?.resize({ rows: this.#term.rows, cols: this.#term.cols });
  }
}

customElements.define("berth-terminal", BerthTerminal);

declare global {
  interface HTMLElementTagNameMap {
    "berth-terminal": BerthTerminal;
  }
}
