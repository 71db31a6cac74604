// The components a docs page or a lab uses, in Chromium against the real
// engine: <berth-run> (two on a page share one engine and take turns; a bad
// image is a readable error) and <berth-lab> (a step's check fails before the
// step is done and passes after; progress survives a reload).
import { sharedEngine } from "/dist/web/berth.js";

declare function describe(name: string, f: () => void): void;
declare function it(name: string, f: () => Promise<void>): void;

type Run = HTMLElement & { image: string; command: string; guest: string; run(): Promise<number>; updateComplete: Promise<boolean> };
type Lab = HTMLElement & { src: string; guest: string; check(i?: number): Promise<boolean>; updateComplete: Promise<boolean>; steps: unknown[] };

async function waitFor(what: string, cond: () => boolean, ms = 180000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const host = async (): Promise<string> => ((await (await fetch("/test-registry.json")).json()) as { host: string }).host;
const part = (el: HTMLElement, name: string): HTMLElement => el.shadowRoot!.querySelector(`[part~="${name}"]`) as HTMLElement;

function berthRun(image: string, command: string): Run {
  const el = document.createElement("berth-run") as Run;
  el.guest = "/build/guest/";
  el.image = image;
  el.command = command;
  document.body.append(el);
  return el;
}

describe("berth-run", () => {
  it("two on one page share the engine, take turns, and show output and status", async () => {
    const h = await host();
    const a = berthRun(`${h}/test/busybox`, "sh -c 'echo first from $(hostname)'");
    const b = berthRun(`${h}/test/layered:v1`, "");
    await a.updateComplete;
    await b.updateComplete;
    const statuses: string[] = [];
    const seen = new MutationObserver(() => statuses.push(part(b, "status")?.textContent ?? ""));
    seen.observe(b.shadowRoot!, { subtree: true, characterData: true, childList: true });
    // both buttons clicked at once: the second waits for the first
    part(a, "button").click();
    part(b, "button").click();
    await waitFor("both runs to end", () => /Exited with status/.test(part(a, "status").textContent ?? "") && /Exited with status/.test(part(b, "status").textContent ?? ""));
    seen.disconnect();
    if (!/^first from [0-9a-f]{12}\n?$/m.test(part(a, "output").textContent ?? "")) throw new Error(`first output: ${part(a, "output").textContent}`);
    if (!(part(b, "output").textContent ?? "").includes("from the upper layer")) throw new Error(`second output: ${part(b, "output").textContent}`);
    if (!statuses.some((s) => /Waiting for 1 other run/.test(s))) throw new Error(`the second never queued: ${JSON.stringify(statuses)}`);
    if (part(a, "status").textContent?.trim() !== "Exited with status 0") throw new Error(`status: ${part(a, "status").textContent}`);
    if (sharedEngine() !== sharedEngine()) throw new Error("two engines");
    a.remove();
    b.remove();
  });

  it("a bad image shows a readable error with its code", async () => {
    const h = await host();
    const el = berthRun(`${h}/test/nothing:1`, "true");
    await el.updateComplete;
    const code = await el.run();
    await el.updateComplete;
    const status = part(el, "status");
    if (code !== 125 || status.getAttribute("role") !== "alert" || !/^Error \[image-not-found\]: Cannot pull ".*test\/nothing:1": manifest for .*test\/nothing:1 not found: manifest unknown: manifest unknown$/.test(status.textContent?.trim() ?? "")) {
      throw new Error(`unexpected ${code}: ${status.outerHTML}`);
    }
    el.remove();
  });
});

describe("berth-lab", () => {
  it("a step's check fails before the step is done and passes after; progress survives a reload", async () => {
    const h = await host();
    const course = `<section data-title="Run a named container" data-check="docker ps -a --format '{{.Names}}' | grep -qx labtest">
      <p>Run it:</p><pre data-run>docker run --name labtest ${h}/test/busybox echo lab-ran</pre></section>
      <section data-title="Second"><p>More.</p></section>`;
    const src = URL.createObjectURL(new Blob([course], { type: "text/html" }));
    localStorage.clear();
    const lab = document.createElement("berth-lab") as Lab;
    lab.guest = "/build/guest/";
    lab.src = src;
    lab.style.height = "500px";
    document.body.append(lab);
    await waitFor("the lab's steps", () => lab.steps.length === 2, 10000);
    await waitFor("the terminal", () => !(lab.shadowRoot!.querySelector("button.run") as HTMLButtonElement | null)?.disabled);
    if (await lab.check(0)) throw new Error("the check passed before the step was done");
    await lab.updateComplete;
    if (!/Not yet/.test(lab.shadowRoot!.querySelector(".result")?.textContent ?? "")) throw new Error("no 'not yet' shown");
    (lab.shadowRoot!.querySelector("button.run") as HTMLButtonElement).click();
    const term = lab.shadowRoot!.querySelector("berth-terminal") as HTMLElement & { screenText(): string };
    await waitFor("the command's output in the terminal", () => /^lab-ran$/m.test(term.screenText()), 60000);
    if (!(await lab.check(0))) throw new Error("the check failed after the step was done");
    await lab.updateComplete;
    if (!/Done/.test(lab.shadowRoot!.querySelector(".result")?.textContent ?? "")) throw new Error("no 'done' shown");
    lab.remove();
    // a reload: a new lab on the same course finds step 1 done
    const again = document.createElement("berth-lab") as Lab;
    again.src = src;
    document.body.append(again);
    await waitFor("the lab's steps", () => again.steps.length === 2, 10000);
    await again.updateComplete;
    if (!/✓/.test(again.shadowRoot!.querySelector("nav")?.textContent ?? "")) throw new Error("progress was not kept");
    again.remove();
  });
});

describe("published ports", () => {
  it("the page fetches a container's published port through the engine, no relay needed", async () => {
    const h = await host();
    const engine = sharedEngine();
    const run = await engine.docker(["run", "-d", "--name", "pub", "-p", "18098:80", `${h}/test/busybox`, "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]);
    if (run.code !== 0) throw new Error(`docker run: ${JSON.stringify(run)}`);
    const ports = await engine.ports();
    if (!ports.some((p: { hostPort: number; container: string }) => p.hostPort === 18098 && p.container === "pub")) throw new Error(`ports: ${JSON.stringify(ports)}`);
    let r = await engine.fetchPort(18098, { method: "GET", target: "/passwd", headers: [] });
    for (let i = 0; i < 20 && r.status === 502; i++) {
      await new Promise((res) => setTimeout(res, 250)); // httpd may not listen yet
      r = await engine.fetchPort(18098, { method: "GET", target: "/passwd", headers: [] });
    }
    const text = new TextDecoder().decode(r.body);
    if (r.status !== 200 || !text.startsWith("root:x:0:0")) throw new Error(`got ${r.status}: ${text}`);
    const missing = await engine.fetchPort(18098, { method: "GET", target: "/nothing-here", headers: [] });
    if (missing.status !== 404) throw new Error(`a missing file gave ${missing.status}`);
    await engine.docker(["rm", "-f", "pub"]);
    const gone = await engine.fetchPort(18098, { method: "GET", target: "/", headers: [] });
    if (gone.status !== 502 || !/no running container publishes it/.test(new TextDecoder().decode(gone.body))) throw new Error(`after rm: ${gone.status}`);
  });
});
