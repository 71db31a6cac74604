// The engine Worker boots (or restores) a real guest, and <berth-terminal> is a
// working shell on it. Mocha globals come from @web/test-runner.
import { EngineClient, sharedEngine } from "/dist/web/berth.js";

declare function describe(name: string, f: () => void): void;
declare function it(name: string, f: () => Promise<void>): void;

type Term = HTMLElement & { screenText(): string; type(s: string): void; guest: string };

async function waitFor(what: string, cond: () => boolean, ms = 180000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("berth-terminal", () => {
  it("shows the guest prompt and the output of a typed command", async () => {
    const el = document.createElement("berth-terminal") as Term;
    el.guest = "/build/guest/";
    el.style.height = "400px";
    document.body.append(el);
    await waitFor("the prompt", () => /# $/m.test(el.screenText()));
    el.type("echo $((6 * 7)) from $(uname -m)\r");
    await waitFor("the command's output", () => el.screenText().includes("42 from i686"), 30000);
    el.type("berth-demo\r");
    await waitFor("the container's output", () => /Hello from a container: I am PID 1/.test(el.screenText()), 60000);
  });

  it("docker run -it --rm busybox sh in the terminal, then back to the prompt", async () => {
    const el = document.querySelector("berth-terminal") as Term;
    const { host } = (await (await fetch("/test-registry.json")).json()) as { host: string };
    el.type(`clear; docker run -it --rm ${host}/test/busybox sh\r`);
    await waitFor("the container's prompt", () => /\n\/ # $/m.test(el.screenText()), 60000);
    el.type("hostname; tty\r");
    await waitFor("the container's answer", () => /\/dev\/pts\/0/.test(el.screenText()), 30000);
    // a smaller terminal: the guest's pty, the docker client and the container's pty follow
    el.style.height = "240px";
    await new Promise((r) => setTimeout(r, 1000));
    el.type("clear; stty size\r");
    await waitFor("the container's new size", () => /^(1\d|[2-9]) \d+$/m.test(el.screenText()), 30000);
    el.type("exit\r");
    await waitFor("the guest's prompt again", () => /~ # $/m.test(el.screenText().trimEnd() + " "), 30000);
  });

  it("a second engine restores the saved state from IndexedDB", async () => {
    // the terminal's engine (the page's shared one) stores its snapshot in the background
    await sharedEngine().saved();
    // the first test's engine booted (or restored) and saved a snapshot; a new Worker finds it
    const engine = new EngineClient({ guestUrl: new URL("/build/guest/", location.href).href });
    const t0 = performance.now();
    const info = await engine.start();
    if (!info.restored) throw new Error("the second engine did a cold boot");
    const r = await engine.guest(["echo", "restored"]);
    if (r.stdout !== "restored\n") throw new Error(`unexpected output ${JSON.stringify(r)}`);
    console.log(`restore to an answering agent: ${Math.round(performance.now() - t0)} ms (engine says ${info.readyMs} ms)`);
  });
});
