import { LitElement, css, html, nothing, type PropertyValues } from "lit";
import { shellWords } from "../common/shell-words.js";
import { sharedEngine, type EngineClient } from "./engine-client.js";
import { progressText } from "./progress-text.js";

// CSI/OSC sequences and lone escapes: the output region is text, not a terminal
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r(?!\n)/g;
const MAX_OUTPUT = 200_000;

/**
 * `<berth-run image="busybox" command="echo hello">`: a runnable container in a
 * docs page. Shows the `docker run` line, a Run button (or runs at once with
 * `autorun`), streams the output, and ends with the exit status. `editable`
 * lets the reader change the command; `options` adds `docker run` flags.
 * Every `<berth-run>` and `<berth-terminal>` on a page shares one engine (one
 * Worker, one VM); runs take turns. Themable with --berth-* custom properties
 * and ::part(bar|command|input|button|output|status).
 */
export class BerthRun extends LitElement {
  static override properties = {
    image: { type: String },
    command: { type: String },
    options: { type: String },
    autorun: { type: Boolean },
    editable: { type: Boolean },
    guest: { type: String },
    memory: { type: Number },
    snapshotDb: { type: String, attribute: "snapshot-db" },
    network: { type: Boolean },
    proxy: { type: String },
    output: { state: true },
    status: { state: true },
    error: { state: true },
    running: { state: true },
    exitCode: { state: true },
  };

  static override styles = css`
    :host {
      display: block; margin: 1em 0; border-radius: var(--berth-radius, 6px); overflow: hidden;
      background: var(--berth-background, #111); color: var(--berth-foreground, #ddd);
      font: 14px/1.45 var(--berth-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace);
    }
    .bar { display: flex; align-items: center; gap: 0.5em; padding: 0.5em 0.75em; background: var(--berth-bar-background, #222); }
    .prompt { color: var(--berth-accent, #6cf); user-select: none; }
    .command { flex: 1; white-space: pre-wrap; word-break: break-all; }
    input { flex: 1; font: inherit; color: inherit; background: transparent; border: 1px solid #555; border-radius: 3px; padding: 0.15em 0.4em; }
    button {
      font: 13px system-ui, sans-serif; padding: 0.3em 0.9em; border: 0; border-radius: 4px; cursor: pointer;
      background: var(--berth-accent, #6cf); color: var(--berth-button-color, #000);
    }
    button:disabled { opacity: 0.5; cursor: progress; }
    button:focus-visible, input:focus-visible { outline: 2px solid var(--berth-focus, #fc6); outline-offset: 2px; }
    pre { margin: 0; padding: 0.5em 0.75em; max-height: var(--berth-max-height, 20em); overflow: auto; white-space: pre-wrap; word-break: break-all; }
    pre:empty { display: none; }
    .status { padding: 0.25em 0.75em 0.5em; font: 12px system-ui, sans-serif; color: var(--berth-status-color, #9cf); }
    .status:empty { display: none; }
    .error { color: var(--berth-error-color, #f88); }
    .ok { color: var(--berth-ok-color, #8d8); }
  `;

  image = "";
  command = "";
  options = "";
  autorun = false;
  editable = false;
  guest: string | undefined;
  memory = 256;
  snapshotDb: string | undefined;
  /** a NIC on a network of the page's own, from berth serve's relay (containers with --network host reach the outside) */
  network = false;
  proxy: string | undefined;
  output = "";
  status = "";
  error = "";
  running = false;
  exitCode: number | undefined;

  #engine: EngineClient | undefined;
  #off: (() => void) | undefined;

  override render() {
    const pre = `docker run --rm${this.options ? ` ${this.options}` : ""} ${this.image}`;
    return html`<div class="bar" part="bar">
        <span class="prompt" aria-hidden="true">$</span>
        ${this.editable
          ? html`<span class="command" part="command">${pre}</span><input part="input" aria-label="Command to run in ${this.image}" .value=${this.command}
              @input=${(e: Event) => (this.command = (e.target as HTMLInputElement).value)} @keydown=${(e: KeyboardEvent) => e.key === "Enter" && this.run()}>`
          : html`<span class="command" part="command">${pre}${this.command ? ` ${this.command}` : ""}</span>`}
        <button part="button" ?disabled=${this.running} @click=${() => this.run()} aria-label="Run ${this.image}">${this.running ? "Running…" : "Run"}</button>
      </div>
      <pre part="output" role="log" aria-live="polite" aria-label="Output">${this.output}</pre>
      ${this.error
        ? html`<div class="status error" part="status" role="alert">${this.error}</div>`
        : html`<div class="status ${this.exitCode === 0 ? "ok" : nothing}" part="status" aria-live="polite">${this.status}</div>`}`;
  }

  protected override firstUpdated(_changed: PropertyValues): void {
    if (this.autorun) void this.run();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#off?.();
  }

  /** Runs the container (again); resolves with its exit status (125 when the engine could not). */
  async run(): Promise<number> {
    if (this.running) return -1;
    this.running = true;
    this.output = "";
    this.error = "";
    this.exitCode = undefined;
    this.status = "Starting…";
    let args: string[];
    let options: string[];
    try {
      args = shellWords(this.command);
      options = shellWords(this.options);
    } catch (e) {
      this.error = `Error [usage]: ${(e as Error).message}`;
      this.running = false;
      return 125;
    }
    const engine = (this.#engine ??= sharedEngine({
      ...(this.guest ? { guestUrl: new URL(this.guest, location.href).href } : {}),
      ...(this.snapshotDb ? { snapshotDb: this.snapshotDb } : {}),
      ...(this.network ? { relay: true } : {}),
      ...(this.proxy ? { proxyUrl: new URL(this.proxy, location.href).href } : {}),
      memoryMB: this.memory,
    }));
    this.#off ??= engine.onProgress((p) => {
      if (this.running) this.status = progressText(p) || "Running…";
    });
    const dec = new TextDecoder();
    try {
      const r = await engine.enqueue(
        async () => {
          this.status = "Running…";
          // the daemon's run operation: a failure to run rejects with a coded error, not a status to read
          return engine.run(this.image, args, {
            options,
            onOutput: (_stream, b) => {
              this.output = (this.output + dec.decode(b, { stream: true }).replace(ANSI, "")).slice(-MAX_OUTPUT);
            },
          });
        },
        (ahead) => (this.status = `Waiting for ${ahead} other run${ahead === 1 ? "" : "s"} on this page…`),
      );
      this.exitCode = r.code;
      this.status = `Exited with status ${r.code}`;
    } catch (e) {
      const err = e as { code?: string; message?: string };
      this.error = `Error [${err.code ?? "internal"}]: ${err.message ?? String(e)}`;
      this.exitCode = 125;
    } finally {
      this.running = false;
    }
    this.dispatchEvent(new CustomEvent("berth-exit", { detail: { code: this.exitCode }, bubbles: true, composed: true }));
    return this.exitCode;
  }
}

customElements.define("berth-run", BerthRun);

declare global {
  interface HTMLElementTagNameMap {
    "berth-run": BerthRun;
  }
}
