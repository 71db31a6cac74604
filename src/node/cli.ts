import { homedir } from "node:os";
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DirHostTree } from "./host-tree.js";
import { parseArgs } from "node:util";
import { BerthError, ErrorCode, isBerthError } from "../common/errors.js";
import { Engine } from "../engine/engine.js";
import { RegistryClient } from "../engine/registry/registry-client.js";
import { DirBlobStore } from "./dir-blob-store.js";
import { DirSnapshotStore } from "./dir-snapshot-store.js";
import { loadGuestAssets, packageRoot } from "./guest-files.js";
import { interactiveShell, runScript } from "./shell.js";
import { installWebSocket } from "./websocket.js";
import { PortForwarder } from "./port-forwarder.js";
import { parseHost } from "./daemon-server.js";
import { runDaemon } from "./daemon.js";

const USAGE = `Usage:
  berth [OPTIONS]                  an interactive shell in the guest
  berth [OPTIONS] sh -c SCRIPT     run SCRIPT in the guest; exit with its status
  berth [OPTIONS] daemon [-H unix:///PATH|tcp://HOST:PORT]...
                                   the Docker Engine API on a socket (default
                                   unix://~/.cache/berth/docker.sock): use it with
                                   DOCKER_HOST=unix://… docker …; the guest's docker
                                   shares the same containers
  berth serve [--port N] [--host ADDR] [--registry-allow HOST]...
                                   the demo page and the registry proxy (default 127.0.0.1:8080);
                                   --registry-allow lets the proxy reach a registry on a private
                                   or loopback address (e.g. 127.0.0.1:5000)

Options:
  -m, --memory MB        guest memory (default 256)
      --snapshot-dir DIR where the VM state saved after a boot is kept
                         (default ~/.cache/berth/snapshots, or $BERTH_SNAPSHOT_DIR)
      --no-snapshot      always cold boot, save nothing
      --relay URL        give the guest a NIC on this network relay: a room's ws://…/relay/ROOM?token=…
                         URL, or a berth serve's http://HOST:PORT (a room of its own is asked for)
      --image-dir DIR    where pulled image blobs and the image list are kept
                         (default ~/.cache/berth/blobs, or $BERTH_IMAGE_DIR)
      --state-dir DIR    where volumes' data, containers and networks are kept (default:
                         beside a given --image-dir, else ~/.local/share/berth/state,
                         or $BERTH_STATE_DIR)
      --share DIR[:PATH] show the host directory DIR in the guest at PATH (default: the
                         same absolute path), both ways, as Docker Desktop shares files:
                         docker run -v "$PWD":/app … then works on your files (repeatable)
      --kernel FILE      boot this bzImage instead of the built one
      --initrd FILE      boot this gzip initramfs instead of the built one
      --boot-timeout S   seconds a cold boot may take (default 60)
  -v, --verbose          show the guest's serial console while it boots
  -h, --help             this text
`;

/** Engine errors exit 125, like Docker's CLI. */
const ENGINE_ERROR = 125;

function fail(e: unknown): never {
  if (isBerthError(e)) {
    process.stderr.write(`berth: ${e.toLine()}\n`);
  } else {
    process.stderr.write(`berth: ${new BerthError(ErrorCode.internal, e instanceof Error ? e.message : String(e)).toLine()}\n`);
    if (process.env["BERTH_DEBUG"]) console.error(e);
  }
  process.exit(ENGINE_ERROR);
}

function usage(message: string): never {
  fail(new BerthError(ErrorCode.usage, `${message} (see "berth --help")`));
}

export async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        memory: { type: "string", short: "m" },
        "snapshot-dir": { type: "string" },
        "no-snapshot": { type: "boolean" },
        "image-dir": { type: "string" },
        "state-dir": { type: "string" },
        share: { type: "string", multiple: true },
        relay: { type: "string" },
        kernel: { type: "string" },
        initrd: { type: "string" },
        "boot-timeout": { type: "string" },
        verbose: { type: "boolean", short: "v" },
        help: { type: "boolean", short: "h" },
        port: { type: "string", short: "p" },
        host: { type: "string", short: "H", multiple: true },
        "registry-allow": { type: "string", multiple: true },
        c: { type: "string", short: "c" },
      },
    });
  } catch (e) {
    usage((e as Error).message.split("\n")[0]!.replace(/\.$/, ""));
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [command, ...rest] = positionals;

  if (command === "serve") {
    if (rest.length > 0) usage(`Unexpected argument "${rest[0]}"`);
    const port = o.port === undefined ? 8080 : Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`Cannot use port "${o.port}": not a port number`);
    const { serve } = await import("../server/serve.js");
    const { DEFAULT_ALLOWED } = await import("../server/registry-proxy.js");
    const extra = o["registry-allow"] ?? [];
    await serve({
      root: packageRoot,
      port,
      host: o.host?.at(-1) ?? "127.0.0.1",
      proxy: { allow: [...DEFAULT_ALLOWED, ...extra], allowPrivate: extra, cache: new DirBlobStore(join(homedir(), ".cache", "berth", "proxy-blobs")) },
    }).catch(fail);
    return;
  }
  if (o.port !== undefined || o["registry-allow"]) usage("--port and --registry-allow go with \"berth serve\"");
  if (o.host !== undefined && command !== "daemon") usage("--host goes with \"berth serve\" and \"berth daemon\"");
  if (command !== undefined && command !== "sh" && command !== "daemon") usage(`Unknown command "${command}"`);
  if (command === "daemon" && rest.length > 0) usage(`Unexpected argument "${rest[0]}"`);
  const hosts = command === "daemon" ? (o.host ?? [`unix://${join(homedir(), ".cache", "berth", "docker.sock")}`]).map((h) => {
    try {
      return parseHost(h);
    } catch (e) {
      fail(e);
    }
  }) : [];
  if (command === "sh" && (o.c === undefined || rest.length > 0)) usage('Use "berth sh -c SCRIPT"');
  if (command === undefined && o.c !== undefined) usage('-c goes with "berth sh -c SCRIPT"');

  const memoryMB = o.memory === undefined ? 256 : Number(o.memory);
  if (!Number.isInteger(memoryMB) || memoryMB < 64 || memoryMB > 2048) usage(`Cannot use ${o.memory} MB of memory: give a whole number from 64 to 2048`);
  const bootTimeout = o["boot-timeout"] === undefined ? 60 : Number(o["boot-timeout"]);
  if (!(bootTimeout > 0)) usage(`Cannot use a boot timeout of "${o["boot-timeout"]}" seconds`);
  const snapshotDir = o["snapshot-dir"] ?? process.env["BERTH_SNAPSHOT_DIR"] ?? join(homedir(), ".cache", "berth", "snapshots");
  const imageDir = o["image-dir"] ?? process.env["BERTH_IMAGE_DIR"] ?? join(homedir(), ".cache", "berth", "blobs");
  const givenImageDir = o["image-dir"] ?? process.env["BERTH_IMAGE_DIR"];
  // volumes and containers are the user's data, not a cache: beside a given image store, else in ~/.local/share
  const stateDir = o["state-dir"] ?? process.env["BERTH_STATE_DIR"] ?? (givenImageDir ? join(dirname(givenImageDir), "state") : join(homedir(), ".local", "share", "berth", "state"));

  const shares = (o.share ?? []).map((spec) => {
    const at = spec.indexOf(":", spec.startsWith("/") ? 0 : 1);
    const dir = resolve(at < 0 ? spec : spec.slice(0, at));
    const guestPath = at < 0 ? dir : spec.slice(at + 1);
    if (!guestPath.startsWith("/") || guestPath === "/") usage(`Cannot share "${spec}": the guest path must be absolute and not "/"`);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) usage(`Cannot share "${spec}": ${dir} is not a directory`);
    return { tree: new DirHostTree(dir), guestPath: guestPath.replace(/\/+$/, ""), label: dir };
  });
  // in a shared directory, the script starts where the user is (as in their shell)
  const here = process.cwd();
  const inShare = shares.find((s) => here === s.label || here.startsWith(`${s.label}/`));
  const cwd = inShare ? inShare.guestPath + here.slice(inShare.label.length) : undefined;

  let relayUrl: string | undefined;
  if (o.relay !== undefined) {
    if (/^wss?:\/\//.test(o.relay)) relayUrl = o.relay;
    else if (/^https?:\/\//.test(o.relay)) {
      const base = o.relay.replace(/\/$/, "");
      try {
        const r = (await (await fetch(`${base}/relay-room`)).json()) as { path: string };
        relayUrl = `${base.replace(/^http/, "ws")}${r.path}`;
      } catch (e) {
        fail(new BerthError(ErrorCode.relayUnavailable, `Cannot get a network from ${base}: ${e instanceof Error ? e.message : String(e)}`));
      }
    } else usage(`Cannot use relay "${o.relay}": give a ws:// room URL or a berth serve's http:// URL`);
    installWebSocket();
  }

  let engine: Engine;
  const forwarder = new PortForwarder((l) => process.stderr.write(`${l}\n`));
  try {
    const assets = await loadGuestAssets({ ...(o.kernel ? { bzimage: o.kernel } : {}), ...(o.initrd ? { initrd: o.initrd } : {}) });
    engine = await Engine.start({
      assets,
      memoryMB,
      bootTimeoutMs: bootTimeout * 1000,
      ...(o["no-snapshot"] ? {} : { snapshots: new DirSnapshotStore(snapshotDir) }),
      ...(relayUrl ? { relayUrl } : {}),
      onWarning: (w) => process.stderr.write(`berth: Warning [${w.code}]: ${w.message}\n`),
      // in Node the engine talks to registries itself; blobs are kept by digest, with the image list
      docker: { client: new RegistryClient(), store: new DirBlobStore(imageDir), stateStore: new DirBlobStore(stateDir), onPorts: (ports) => forwarder.update(ports) },
      ...(o.verbose ? { onConsole: (b: Uint8Array) => process.stderr.write(b) } : {}),
    });
  } catch (e) {
    fail(e);
  }
  forwarder.attach(engine.daemon);
  try {
    await engine.daemon!.share(shares);
  } catch (e) {
    await engine.stop().catch(() => {});
    fail(e);
  }
  if (command === "daemon") {
    await runDaemon(engine, hosts, memoryMB).catch(async (e: unknown) => {
      await engine.stop().catch(() => {});
      fail(e);
    });
    return;
  }
  let code: number;
  try {
    // a script that wants the network finds it configured (or a warning said why not)
    if (relayUrl) await engine.network();
    code = command === "sh" ? await runScript(engine, o.c!, cwd) : await interactiveShell(engine, cwd);
  } catch (e) {
    await engine.stop().catch(() => {});
    fail(e);
  }
  await engine.stop().catch(() => {});
  process.exit(code);
}
