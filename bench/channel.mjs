// bench/channel: which guest channel suits the agent, virtio-console port 1
// (the one Berth uses) or the second serial port (ttyS1)? Small messages (an
// exec of `true`, round trip) and bulk both ways, through the same agent and
// the same framing. Usage: node bench/channel.mjs [--runs N]
import { parseArgs } from "node:util";
import { Engine } from "../dist/src/engine/engine.js";
import { GuestChannel } from "../dist/src/engine/vm/guest-channel.js";
import { loadGuestAssets } from "../dist/src/node/guest-files.js";
import { report } from "./lib.mjs";

const { values: o } = parseArgs({ options: { runs: { type: "string" } } });
const RUNS = Number(o.runs ?? 30);
const engine = await Engine.start({ assets: await loadGuestAssets() });

// a second agent on ttyS1, over v86's second serial port
const serial = new GuestChannel(engine.vm.serialLink(1));
engine.exec({ argv: ["/sbin/berth-agent", "/dev/ttyS1"] }).exit.catch(() => {});
await serial.handshake({ timeoutMs: 10000, ask: true });

async function exec(ch, argv, stdin) {
  let out = 0;
  const p = ch.exec({ argv, env: ["PATH=/bin:/usr/bin"] }, { stdin: stdin !== undefined, onStdout: (b) => (out += b.length) });
  if (stdin) {
    p.write(stdin);
    p.closeStdin();
  }
  const code = await p.exit;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}`);
  return out;
}

const channels = [["virtio-console", engine.vm.channel], ["serial ttyS1", serial]];
// warm both up first (v86 compiles hot guest code as it goes: whichever ran first looked slower),
// then interleave the two so drift in the host affects both alike
for (const [, ch] of channels) for (let i = 0; i < 10; i++) await exec(ch, ["head", "-c", "100000", "/dev/zero"]);
const small = new Map(channels.map(([n]) => [n, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [name, ch] of channels) {
    const t = performance.now();
    await exec(ch, ["true"]);
    small.get(name).push(performance.now() - t);
  }
}
for (const [name] of channels) report(`${name}: exec true, round trip`, small.get(name));
const size = 2_000_000;
for (let round = 0; round < 2; round++) {
  for (const [name, ch] of channels) {
    let t = performance.now();
    const got = await exec(ch, ["head", "-c", String(size), "/dev/zero"]);
    const outMs = performance.now() - t;
    if (got !== size) throw new Error(`got ${got} of ${size} bytes`);
    t = performance.now();
    await exec(ch, ["sh", "-c", "cat > /dev/null"], new Uint8Array(size));
    const inMs = performance.now() - t;
    if (round === 1) {
      console.log(`${`${name}: guest -> host bulk`.padEnd(44)} ${(size / 1e6 / (outMs / 1000)).toFixed(2)} MB/s (${size / 1e6} MB in ${Math.round(outMs)} ms)`);
      console.log(`${`${name}: host -> guest bulk`.padEnd(44)} ${(size / 1e6 / (inMs / 1000)).toFixed(2)} MB/s (${size / 1e6} MB in ${Math.round(inMs)} ms)`);
    }
  }
}
await engine.stop();
process.exit(0);
