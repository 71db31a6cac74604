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
 * state). The first component on a page decides them for the shared engine.
 */
export class BerthTerminal extends LitElement {
  static override properties = {
    guest: { type: String },
    memory: { type: Number },
    snapshotDb: { type: String, attribute: "snapshot-db" },
    network: { type: Boolean },
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
    return html`<div class="term" part="terminal"></div>
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
    const engine = sharedEngine({
      ...(this.guest ? { guestUrl: new URL(this.guest, location.href).href } : {}),
      ...(this.snapshotDb ? { snapshotDb: this.snapshotDb } : {}),
      ...(this.network ? { relay: true } : {}),
      memoryMB: this.memory,
    });
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
