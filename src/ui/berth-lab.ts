import { LitElement, css, html, nothing } from "lit";
import { unsafeHTML } from "lit/directives/unsafe-html.js";
import "./berth-terminal.js";
import type { BerthTerminal } from "./berth-terminal.js";
import { sharedEngine } from "./engine-client.js";

interface Step {
  title: string;
  /** the step's text, from the course file (same origin, trusted like the page) */
  html: string;
  /** commands the "Run" buttons type into the terminal */
  commands: string[];
  /** a guest shell command that exits 0 once the step is done */
  check: string | undefined;
}

type CheckState = "unchecked" | "checking" | "passed" | "failed";

/**
 * `<berth-lab src="course.html">`: a Docker lab, steps beside a terminal. The
 * course is an HTML file of `<section data-title="…" data-check="SHELL">`
 * steps; each `<pre data-run>` in a step gets a button that types it into the
 * terminal, and the check (run in the guest, where `docker` works) passes when
 * it exits 0. Progress is kept in localStorage, so a reload keeps the
 * student's place.
 */
export class BerthLab extends LitElement {
  static override properties = {
    src: { type: String },
    guest: { type: String },
    memory: { type: Number },
    snapshotDb: { type: String, attribute: "snapshot-db" },
    network: { type: Boolean },
    steps: { state: true },
    current: { state: true },
    done: { state: true },
    checks: { state: true },
    error: { state: true },
    ready: { state: true },
  };

  static override styles = css`
    :host { display: grid; grid-template-columns: minmax(16em, 2fr) 3fr; gap: 1em; min-height: 30em; font: 15px/1.5 system-ui, sans-serif; }
    @media (max-width: 50em) { :host { grid-template-columns: 1fr; } }
    nav ol { list-style: none; padding: 0; margin: 0 0 1em; display: flex; flex-wrap: wrap; gap: 0.3em; }
    nav button { font: 12px system-ui, sans-serif; border: 1px solid #bbb; background: #fff; border-radius: 1em; padding: 0.1em 0.7em; cursor: pointer; }
    nav button[aria-current="step"] { border-color: var(--berth-accent, #07c); font-weight: bold; }
    nav button.done { background: var(--berth-done-background, #dfd); }
    h2 { margin: 0 0 0.5em; font-size: 1.2em; }
    .cmd { display: flex; gap: 0.5em; align-items: center; margin: 0.5em 0; }
    .cmd code { flex: 1; background: #f3f3f3; padding: 0.3em 0.5em; border-radius: 4px; font: 13px ui-monospace, monospace; white-space: pre-wrap; }
    button.run, button.check, button.next { font: 13px system-ui, sans-serif; padding: 0.3em 0.8em; border-radius: 4px; border: 0; cursor: pointer; background: var(--berth-accent, #07c); color: #fff; }
    button:disabled { opacity: 0.5; cursor: default; }
    .result { margin-left: 0.5em; }
    .passed { color: #080; }
    .failed { color: #b00; }
    .error { color: #b00; }
    berth-terminal { min-height: 28em; }
  `;

  src = "";
  guest: string | undefined;
  memory = 256;
  snapshotDb: string | undefined;
  network = false;
  steps: Step[] = [];
  current = 0;
  done = new Set<number>();
  checks = new Map<number, CheckState>();
  error = "";
  ready = false;

  get #key(): string {
    return `berth-lab:${new URL(this.src, location.href).pathname}`;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(): Promise<void> {
    try {
      const res = await fetch(new URL(this.src, location.href));
      if (!res.ok) throw new Error(`${this.src} answered ${res.status}`);
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      this.steps = [...doc.querySelectorAll("section")].map((s, i) => ({
        title: s.dataset["title"] ?? s.querySelector("h1,h2,h3")?.textContent ?? `Step ${i + 1}`,
        commands: [...s.querySelectorAll("pre[data-run]")].map((p) => p.textContent?.trim() ?? ""),
        check: s.dataset["check"],
        html: (() => {
          for (const p of s.querySelectorAll("pre[data-run]")) p.replaceWith(Object.assign(doc.createElement("berth-lab-command"), { textContent: p.textContent?.trim() ?? "" }));
          return s.innerHTML;
        })(),
      }));
      const saved = JSON.parse(localStorage.getItem(this.#key) ?? "{}") as { current?: number; done?: number[] };
      this.done = new Set(saved.done ?? []);
      this.current = Math.min(saved.current ?? 0, Math.max(0, this.steps.length - 1));
    } catch (e) {
      this.error = `Error [usage]: Cannot load the lab "${this.src}": ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  #save(): void {
    localStorage.setItem(this.#key, JSON.stringify({ current: this.current, done: [...this.done] }));
  }

  #go(i: number): void {
    this.current = i;
    this.#save();
  }

  #type(command: string): void {
    const term = this.renderRoot.querySelector<BerthTerminal>("berth-terminal");
    term?.type(`${command}\r`);
    term?.focus();
  }

  /** Runs the current step's check in the guest; resolves with whether it passed. */
  async check(i = this.current): Promise<boolean> {
    const step = this.steps[i];
    if (!step?.check) return true;
    this.checks = new Map(this.checks).set(i, "checking");
    const r = await sharedEngine().guest(["/bin/sh", "-c", step.check]).catch(() => ({ code: 1 }));
    const passed = r.code === 0;
    this.checks = new Map(this.checks).set(i, passed ? "passed" : "failed");
    const done = new Set(this.done);
    if (passed) done.add(i);
    else done.delete(i);
    this.done = done;
    this.#save();
    return passed;
  }

  override render() {
    if (this.error) return html`<p class="error" role="alert">${this.error}</p>`;
    const step = this.steps[this.current];
    const state = this.checks.get(this.current) ?? "unchecked";
    const parts = step ? step.html.split(/<berth-lab-command>([^]*?)<\/berth-lab-command>/) : [];
    return html`<section aria-label="Lab steps">
        <nav aria-label="Steps"><ol>
          ${this.steps.map((s, i) => html`<li><button class=${this.done.has(i) ? "done" : ""} aria-current=${i === this.current ? "step" : nothing}
            @click=${() => this.#go(i)} title=${s.title}>${i + 1}${this.done.has(i) ? " ✓" : ""}</button></li>`)}
        </ol></nav>
        ${step
          ? html`<h2>${this.current + 1}. ${step.title}</h2>
              ${parts.map((p, k) => (k % 2 === 0 ? unsafeHTML(p) : html`<div class="cmd"><code>${decode(p)}</code>
                <button class="run" ?disabled=${!this.ready} @click=${() => this.#type(decode(p))} aria-label="Type ${decode(p)} into the terminal">Run</button></div>`))}
              <p>
                ${step.check ? html`<button class="check" ?disabled=${!this.ready || state === "checking"} @click=${() => this.check()}>Check</button>
                  <span class="result ${state}" role="status">${state === "passed" ? "Done ✓" : state === "failed" ? "Not yet: try the command above" : state === "checking" ? "Checking…" : ""}</span>` : nothing}
                ${this.current + 1 < this.steps.length ? html`<button class="next" @click=${() => this.#go(this.current + 1)}>Next step</button>` : nothing}
              </p>`
          : html`<p>Loading the lab…</p>`}
      </section>
      <berth-terminal part="terminal" @berth-ready=${() => (this.ready = true)} .guest=${this.guest} .memory=${this.memory} .snapshotDb=${this.snapshotDb} ?network=${this.network}></berth-terminal>`;
  }
}

/** The text of a command as the course's HTML wrote it (entities decoded). */
function decode(s: string): string {
  const t = document.createElement("textarea");
  t.innerHTML = s;
  return t.value;
}

customElements.define("berth-lab", BerthLab);

declare global {
  interface HTMLElementTagNameMap {
    "berth-lab": BerthLab;
  }
}
