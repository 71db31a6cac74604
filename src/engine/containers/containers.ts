import { Status, canPause, canRemove, canStart, canUnpause, isRunning, shouldRestart, wrongState } from "../../common/container-state.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { VALID_NAME, generateName } from "../../common/names.js";
import { containerSpec, DEFAULT_PATH_ENV } from "../../common/oci-spec.js";
import type { PortBinding } from "../../common/port-spec.js";
import type { ExecOptions, GuestProcess, GuestRuntime } from "../vm/guest-channel.js";
import { concatBytes } from "../../common/bytes.js";
import { randomId } from "../random-id.js";
import { execFailure, runtimeError, startCommand } from "./runtime-error.js";
import { Container, signalNumber, type ContainerConfig, type ContainerNetworking, type ContainerVolumes, type HostConfig, type LogLine } from "./container.js";
import { EventBus } from "../daemon/events.js";

export { Container, signalNumber } from "./container.js";
export type { Attachment, ContainerConfig, ContainerMount, ContainerNetworking, ContainerVolumes, HostConfig, LogLine } from "./container.js";

/** json-file keeps everything; we keep the newest 4 MB of a container's output in memory */
const LOG_LIMIT = 4 * 1024 * 1024;

/**
 * Containers in the guest: create, start, stop, restart policies, removal,
 * logs and exec, with Docker's identities (64-hex IDs, unique prefixes,
 * generated names). They live as long as the VM does.
 */
export class ContainerService {
  readonly #channel: GuestRuntime;
  readonly #containers = new Map<string, Container>();
  /** set by the composition root (DockerCli): connects containers to their networks */
  networks: ContainerNetworking | undefined;
  /** set by the daemon: the containers' volumes and bind mounts */
  volumes: ContainerVolumes | undefined;
  /** set by the daemon's state: before a container's root filesystem is mounted (its layers unpacked), and after (its kept writable layer put back) */
  mountHooks: { before(c: Container): Promise<void>; after(c: Container): Promise<void> } | undefined;

  /** where the containers' events go (create, start, die, kill, stop, destroy, exec_*, …) */
  readonly events: EventBus;

  constructor(channel: GuestRuntime, events = new EventBus()) {
    this.#channel = channel;
    this.events = events;
  }

  /** Publishes a container event with Docker's attributes: the image, the name, the labels, and `extra`. */
  event(c: Container, action: string, extra: Record<string, string> = {}): void {
    this.events.publish("container", action, c.id, { ...c.config.labels, image: c.config.image, name: c.name, ...extra });
  }

  list(): Container[] {
    return [...this.#containers.values()].sort((a, b) => b.created - a.created);
  }

  /** By full ID, name, or a unique ID prefix (Docker's order). */
  find(ref: string): Container {
    const name = ref.replace(/^\//, "");
    const exact = this.#containers.get(ref) ?? this.list().find((c) => c.name === name);
    if (exact) return exact;
    const byPrefix = ref.length > 0 ? this.list().filter((c) => c.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new BerthError(ErrorCode.containerNotFound, `Cannot find container "${ref}": multiple IDs found with provided prefix`);
    throw new BerthError(ErrorCode.containerNotFound, `Cannot find container "${ref}": No such container: ${ref}`);
  }

  tryFind(ref: string): Container | undefined {
    try {
      return this.find(ref);
    } catch {
      return undefined;
    }
  }

  create(config: ContainerConfig, hostConfig: HostConfig, name?: string): Container {
    const id = randomId();
    if (name !== undefined) this.checkName(name);
    let chosen = name;
    while (chosen === undefined || this.list().some((c) => c.name === chosen)) chosen = generateName();
    const c = new Container(id, chosen, Date.now(), config, hostConfig);
    this.#containers.set(id, c);
    this.event(c, "create");
    return c;
  }

  /**
   * Puts back a container kept by an earlier engine (the daemon's state), as
   * it was, without events: Docker's restored containers.
   */
  restore(c: Container): void {
    this.#containers.set(c.id, c);
  }

  /**
   * Puts back a container that is running (or paused) in a restored VM, a
   * saved session: its init process, the guest stream `procId`, is taken over;
   * its output goes to its log again and its exit is handled as any other.
   */
  adopt(c: Container, procId: number): void {
    this.#containers.set(c.id, c);
    const proc = this.#channel.adopt(procId, { tty: c.config.tty, onStdout: (b) => this.#output(c, "stdout", b), onStderr: (b) => this.#output(c, "stderr", b) });
    c.proc = proc;
    c.forwarding = true;
    proc.exit.then(
      (code) => void this.#exited(c, code),
      (e: unknown) => void this.#exited(c, 255, e),
    );
  }

  rename(c: Container, name: string): void {
    if (name === c.name) throw new BerthError(ErrorCode.invalidParameter, `Cannot rename "${c.name}": Renaming a container with the same name as its current name`);
    // after finding the container, as Docker's daemon does (moby daemon/rename.go)
    if (!VALID_NAME.test(name)) throw new BerthError(ErrorCode.invalidParameter, `Cannot rename "${c.name}": Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    this.checkName(name);
    const oldName = c.name;
    c.name = name;
    this.event(c, "rename", { oldName: `/${oldName}` });
  }

  /**
   * Refuses a name another container has.
   * @throws BerthError container-wrong-state (Docker's "Conflict. The container name … is already in use")
   */
  checkName(name: string): void {
    const other = this.list().find((c) => c.name === name);
    if (other) {
      throw new BerthError(ErrorCode.containerWrongState, `Cannot create container "${name}": Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name`);
    }
  }

  /** Published ports of running containers, for forwarders (Node) and the page's links. */
  onPortsChange: (() => void) | undefined;

  published(): Array<PortBinding & { container: Container }> {
    return this.list().filter((c) => isRunning(c.state)).flatMap((c) => c.ports.map((p) => ({ ...p, container: c })));
  }

  /** Docker's rule: a host port is published by one running container; 0 picks a free one from 49153. */
  #allocatePorts(c: Container): PortBinding[] {
    const h = c.hostConfig;
    const wanted = [...h.portBindings];
    if (h.publishAll) {
      for (const e of h.exposed) {
        const [port, proto = "tcp"] = e.split("/");
        if (!wanted.some((b) => b.containerPort === Number(port) && b.proto === proto)) wanted.push({ hostIp: "", hostPort: 0, containerPort: Number(port), proto: proto as "tcp" | "udp" });
      }
    }
    const taken = new Set(this.published().filter((p) => p.container !== c).map((p) => `${p.hostPort}/${p.proto}`));
    const out: PortBinding[] = [];
    for (const b of wanted) {
      let hostPort = b.hostPort;
      if (hostPort === 0) {
        hostPort = 49153;
        while (taken.has(`${hostPort}/${b.proto}`)) hostPort++;
      } else if (taken.has(`${hostPort}/${b.proto}`)) {
        throw new BerthError(ErrorCode.containerStartFailed, `Cannot start container "${c.name}": failed to set up container networking: driver failed programming external connectivity on endpoint ${c.name} (${c.id}): Bind for ${b.hostIp || "0.0.0.0"}:${hostPort} failed: port is already allocated`);
      }
      taken.add(`${hostPort}/${b.proto}`);
      out.push({ ...b, hostPort });
    }
    return out;
  }

  /**
   * A connection to the container's port (TCP, or UDP datagrams), made in its
   * network namespace by berth-fwd in the guest: what is written goes to the port, what it
   * answers comes to `onData`; the process ends when the connection does.
   */
  connect(c: Container, port: number, onData: (b: Uint8Array) => void, proto: "tcp" | "udp" = "tcp"): GuestProcess {
    if (c.state.status !== Status.running) throw new BerthError(ErrorCode.containerWrongState, `Cannot connect to port ${port} of "${c.name}": container ${c.id} is not running`);
    // rootfs/agent/fwd.c: into the container's namespace, a connection to the port, bytes both ways
    const script = c.hostConfig.networkMode === "host" ? 'exec berth-fwd - "$3" "$2"' : '{ read -r pid < "$1/pid" || [ -n "$pid" ]; } && exec berth-fwd "$pid" "$3" "$2"';
    return this.#channel.exec({ argv: ["/bin/sh", "-c", script, "forward", c.bundle, String(port), proto], env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], cwd: "/" }, { stdin: true, onStdout: onData });
  }

  /** Mounts the container's root filesystem (image layers + a tmpfs writable layer) in the guest. */
  async mount(c: Container): Promise<void> {
    if (c.mounted) return;
    await this.mountHooks?.before(c);
    await this.#channel.mountOverlay(c.rootfs, c.config.layers);
    await this.mountHooks?.after(c);
    // Docker's init layer has an empty /.dockerenv, how programs tell they run in a container
    await this.#channel.writeFile(`${c.rootfs}/.dockerenv`, "", 0o755);
    c.mounted = true;
  }

  /** Creates the container in crun and starts it; output goes to its log and to whoever is attached. */
  async start(c: Container, io: { onCreated?: (p: GuestProcess) => void; policy?: boolean } = {}): Promise<void> {
    // a restart by the policy starts from "restarting", and stays so until it runs
    if (!(io.policy && c.state.status === Status.restarting) && !canStart(c.state)) {
      if (isRunning(c.state)) return;
      throw wrongState("start", c.name, c.state);
    }
    if (c.restartTimer) clearTimeout(c.restartTimer);
    c.restartTimer = undefined;
    await c.deleting;
    c.ports = this.#allocatePorts(c);
    await this.mount(c);
    const h = c.hostConfig;
    // --network container:X shares X's namespace (and its /etc/hosts and resolv.conf)
    let shared: Container | undefined;
    let netnsPath: string | undefined;
    if (h.networkMode.startsWith("container:")) {
      shared = this.find(h.networkMode.slice("container:".length));
      if (shared.state.status !== Status.running) throw new BerthError(ErrorCode.containerWrongState, `Cannot start container "${c.name}": cannot join network of a non running container: ${shared.id}`);
      const pid = new TextDecoder().decode((await this.guest(["/bin/cat", `${shared.bundle}/pid`])).stdout).trim();
      if (!/^\d+$/.test(pid)) throw new BerthError(ErrorCode.containerWrongState, `Cannot start container "${c.name}": cannot find the network of ${shared.name}`);
      netnsPath = `/proc/${pid}/ns/net`;
    }
    const bridged = h.networkMode !== "host" && h.networkMode !== "none" && !shared;
    // every container has its own /etc/hostname, as Docker's
    await this.#channel.writeFile(`${c.bundle}/hostname`, `${c.config.hostname}\n`);
    if (c.config.createWorkdir) {
      const r = await this.guest(["/bin/mkdir", "-p", `${c.rootfs}${c.config.workingDir}`]);
      if (r.code !== 0) throw new BerthError(ErrorCode.containerStartFailed, `Cannot start container "${c.name}": mkdir ${c.config.workingDir}: ${r.stderr.trim().replaceAll(c.rootfs, "")}`);
    }
    if (bridged) {
      // the file the container's /etc/hosts is (filled once it has an address, rewritten in place as
      // peers come and go); its resolv.conf is the guest's, or --dns's
      await this.#channel.writeFile(`${c.bundle}/hosts`, "");
      if (ownResolvConf(h)) {
        // --dns-search/--dns-option without --dns keep the guest's nameservers (Docker's rule)
        const servers = h.dns.length ? h.dns : new TextDecoder().decode((await this.guest(["/bin/cat", "/etc/resolv.conf"])).stdout).split("\n").flatMap((l) => /^nameserver\s+(\S+)/.exec(l)?.[1] ?? []);
        const lines = [...servers.map((d) => `nameserver ${d}`), ...(h.dnsSearch?.length ? [`search ${h.dnsSearch.join(" ")}`] : []), ...(h.dnsOptions?.length ? [`options ${h.dnsOptions.join(" ")}`] : [])];
        await this.#channel.writeFile(`${c.bundle}/resolv.conf`, lines.map((l) => `${l}\n`).join(""));
      }
    }
    const args = [...(h.init ? ["/sbin/docker-init", "--"] : []), ...c.config.entrypoint, ...c.config.cmd];
    const spec = containerSpec({
      args,
      env: processEnv([DEFAULT_PATH_ENV, `HOSTNAME=${c.config.hostname}`, ...(c.config.tty ? ["TERM=xterm"] : [])], c.config.env),
      cwd: c.config.workingDir || "/",
      hostname: c.config.hostname,
      ...h.runtime,
      terminal: c.config.tty,
      readonlyRootfs: h.readonlyRootfs,
      cgroupsPath: `/berth/${c.id}`,
      user: { uid: c.config.uid, gid: c.config.gid },
      ...(h.memory ? { memoryMax: h.memory } : {}),
      ...(h.pidsLimit > 0 ? { pidsMax: h.pidsLimit } : {}),
      ...(h.nanoCpus ? { nanoCpus: h.nanoCpus } : {}),
      ...(h.cpuShares ? { cpuShares: h.cpuShares } : {}),
      capAdd: h.capAdd,
      capDrop: h.capDrop,
      privileged: h.privileged,
      noNewPrivileges: h.securityOpt.some((o) => /^no-new-privileges(:true|=true)?$/.test(o)),
      tmpfs: h.tmpfs,
      mounts: this.volumes ? await this.volumes.mounts(c) : [],
      hostNetwork: h.networkMode === "host",
      ...(bridged ? { etcFiles: { hosts: `${c.bundle}/hosts`, resolv: ownResolvConf(h) ? `${c.bundle}/resolv.conf` : "/etc/resolv.conf", hostname: `${c.bundle}/hostname` } } : {}),
      ...(netnsPath ? { netnsPath } : {}),
      ...(shared && shared.hostConfig.networkMode !== "none" && shared.hostConfig.networkMode !== "host" ? { etcFiles: { hosts: `${shared.bundle}/hosts`, resolv: ownResolvConf(shared.hostConfig) ? `${shared.bundle}/resolv.conf` : "/etc/resolv.conf" } } : {}),
      ...(h.init ? { initBinary: "/sbin/berth-init" } : {}),
      ...(bridged ? {} : { hostnameFile: `${c.bundle}/hostname` }),
    });
    const options: ExecOptions = {
      tty: c.config.tty,
      onStdout: (b) => this.#output(c, "stdout", b),
      onStderr: (b) => this.#output(c, "stderr", b),
    };
    c.manualStop = false;
    c.state.error = "";
    // until crun has created it, what the container prints is crun's complaint: it becomes the error
    c.forwarding = false;
    const mark = c.logs.length;
    let proc: GuestProcess;
    try {
      proc = await this.#channel.createContainer({ name: c.id, bundle: c.bundle, config: JSON.stringify(spec) }, options);
    } catch (e) {
      throw this.#failed(c, e, mark);
    }
    c.forwarding = true;
    c.proc = proc;
    if (bridged && this.networks) {
      try {
        await this.networks.attach(c);
      } catch (e) {
        await this.#channel.deleteContainer(c.id).catch(() => {});
        throw this.#failed(c, e, mark);
      }
    }
    const wire = io.onCreated ?? c.pendingWire;
    c.pendingWire = undefined;
    if (wire) wire(proc);
    else if (!c.config.openStdin && !c.config.tty) proc.closeStdin();
    try {
      await this.#channel.startContainer(c.id);
    } catch (e) {
      await this.#channel.deleteContainer(c.id).catch(() => {});
      throw this.#failed(c, e, mark);
    }
    Object.assign(c.state, { status: Status.running, startedAt: Date.now(), oomKilled: false, exitCode: 0 });
    this.event(c, "start");
    if (c.ports.length) this.onPortsChange?.();
    proc.exit.then(
      (code) => void this.#exited(c, code),
      (e: unknown) => void this.#exited(c, 255, e),
    );
  }

  /** crun could not create or start the container: Docker's 127 (no such command) or 126, with crun's words. */
  #failed(c: Container, e: unknown, mark: number): BerthError {
    this.#flush(c);
    const said = c.logs.slice(mark).map((l) => new TextDecoder().decode(l.bytes)).join("").trim().split("\n").at(-1) ?? "";
    const why = said.replace(/^(crun: )?(Error: )?/, "") || (e instanceof Error ? e.message.replace(/^Cannot start container "[^"]*": /, "") : String(e));
    Object.assign(c.state, { status: Status.exited, exitCode: /not found|No such file/.test(why) ? 127 : 126, finishedAt: Date.now(), error: runtimeError(why, startCommand(c)) });
    const waiters = c.exitWaiters;
    c.exitWaiters = [];
    for (const w of waiters) w(c.state.exitCode);
    return new BerthError(ErrorCode.containerStartFailed, `Cannot start container "${c.name}": ${why}`);
  }

  async #exited(c: Container, code: number, error?: unknown): Promise<void> {
    c.proc = undefined;
    this.#flush(c);
    const h = c.hostConfig;
    Object.assign(c.state, {
      status: Status.exited,
      exitCode: code,
      finishedAt: Date.now(),
      // the kernel's OOM killer sends SIGKILL: with a memory limit, 137 not asked for is an OOM kill
      oomKilled: code === 137 && h.memory > 0 && !c.manualStop,
      error: error instanceof Error ? error.message : "",
    });
    if (c.state.oomKilled) this.event(c, "oom");
    this.event(c, "die", { exitCode: String(code) });
    if (c.ports.length) this.onPortsChange?.();
    void this.networks?.detach(c).catch(() => {});
    this.volumes?.released(c);
    // crun's record of it goes in the background: whoever waits hears of the exit at once,
    // and the next start or the removal waits for the deletion
    c.deleting = this.#channel.deleteContainer(c.id).then(() => {}, () => {});
    for (const l of c.logWaiters) l(undefined);
    const waiters = c.exitWaiters;
    c.exitWaiters = [];
    for (const w of waiters) w(code);
    if (!c.manualStop && !error && shouldRestart(h.restartPolicy, code, c.restartCount)) {
      c.state.status = Status.restarting;
      // Docker's back-off: 100 ms, doubling, at most a minute
      const delay = Math.min(60_000, 100 * 2 ** Math.min(c.restartCount, 10));
      c.restartTimer = setTimeout(() => {
        c.restartTimer = undefined;
        if (c.state.status !== Status.restarting) return;
        c.restartCount++;
        this.start(c, { policy: true }).catch(() => {});
      }, delay);
    } else if (h.autoRemove) {
      await this.remove(c, { force: true, volumes: true }).catch(() => {});
    }
  }

  /** Resolves with the exit status at the container's next exit (now, if it has stopped; a created one waits for its run). */
  wait(c: Container): Promise<number> {
    if (c.state.status === Status.exited || c.state.status === Status.dead) return Promise.resolve(c.state.exitCode);
    return this.nextExit(c);
  }

  nextExit(c: Container): Promise<number> {
    return new Promise((resolve) => c.exitWaiters.push(resolve));
  }

  async kill(c: Container, signal = "KILL"): Promise<void> {
    const n = signalNumber(signal);
    if (!isRunning(c.state)) throw notRunning(c);
    c.manualStop = true;
    this.event(c, "kill", { signal: String(n) });
    try {
      await this.#channel.killContainer(c.id, n);
    } catch (e) {
      // it died just now (crun: "No such process") and its exit is on its way: Docker's "not running"
      await Promise.race([this.wait(c), sleep(2000)]);
      if (!isRunning(c.state)) throw notRunning(c);
      throw e;
    }
    if (c.state.status === Status.paused && (n === 9 || n === 15)) await this.unpause(c).catch(() => {});
  }

  /** The stop signal, then SIGKILL after `timeout` seconds (the container's, or 10). */
  async stop(c: Container, timeout?: number): Promise<void> {
    if (c.state.status === Status.restarting) {
      c.manualStop = true;
      if (c.restartTimer) clearTimeout(c.restartTimer);
      c.restartTimer = undefined;
      c.state.status = Status.exited;
      return;
    }
    if (!isRunning(c.state)) return;
    c.manualStop = true;
    const exited = this.wait(c);
    const t = timeout ?? c.config.stopTimeout ?? 10;
    if (c.state.status === Status.paused) await this.unpause(c).catch(() => {});
    this.event(c, "kill", { signal: String(signalNumber(c.config.stopSignal)) });
    await this.#channel.killContainer(c.id, signalNumber(c.config.stopSignal)).catch(() => {});
    const done = await Promise.race([exited.then(() => true), sleep(t < 0 ? 2 ** 31 - 1 : t * 1000).then(() => false)]);
    if (!done) {
      this.event(c, "kill", { signal: "9" });
      await this.#channel.killContainer(c.id, 9).catch(() => {});
      await exited;
    }
    this.event(c, "stop");
  }

  async restart(c: Container, timeout?: number): Promise<void> {
    await this.stop(c, timeout);
    await this.start(c);
    this.event(c, "restart");
  }

  async pause(c: Container): Promise<void> {
    if (!canPause(c.state)) throw c.state.status === Status.paused ? new BerthError(ErrorCode.containerWrongState, `Cannot pause "${c.name}": container ${c.id} is already paused`) : wrongState("pause", c.name, c.state);
    await this.#crun(["pause", c.id]);
    c.state.status = Status.paused;
    this.event(c, "pause");
  }

  async unpause(c: Container): Promise<void> {
    if (!canUnpause(c.state)) throw new BerthError(ErrorCode.containerWrongState, `Cannot unpause "${c.name}": container ${c.id} is not paused`);
    await this.#crun(["resume", c.id]);
    c.state.status = Status.running;
    this.event(c, "unpause");
  }

  /**
   * Removes the container, its writable layer and its logs; `force` kills a
   * running one first; `volumes` (rm -v, --rm) removes its anonymous volumes no
   * other container uses, as Docker's does.
   */
  async remove(c: Container, o: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    if (!this.#containers.has(c.id)) return;
    if (!canRemove(c.state)) {
      if (!o.force) {
        const what = c.state.status === Status.paused ? "paused" : c.state.status === Status.restarting ? "restarting" : "running";
        throw new BerthError(ErrorCode.containerWrongState, `Cannot remove "${c.name}": cannot remove container "/${c.name}": container is ${what}: stop the container before removing or force remove`);
      }
      if (c.state.status === Status.restarting) await this.stop(c);
      else {
        const exited = this.wait(c);
        c.manualStop = true;
        if (c.state.status === Status.paused) await this.unpause(c).catch(() => {});
        this.event(c, "kill", { signal: "9" });
        await this.#channel.killContainer(c.id, 9).catch(() => {});
        await exited;
      }
    }
    if (c.restartTimer) clearTimeout(c.restartTimer);
    await this.networks?.detach(c, { forget: true }).catch(() => {});
    this.#containers.delete(c.id);
    c.state.status = Status.removing;
    this.event(c, "destroy");
    await this.volumes?.removed(c, o.volumes ?? false).catch(() => {});
    // removed once its anonymous volumes are (moby daemon/delete.go): `run --rm` and `wait
    // --condition=removed` answer after them
    c.markRemoved();
    // gone for every command from here; the guest's cleanup (unmount, delete) finishes in the background
    if (c.mounted) {
      c.mounted = false;
      const deleting = c.deleting;
      void deleting.then(() => this.#channel.exec({ argv: ["/bin/sh", "-c", 'umount "$1/rootfs"; umount "$1/rootfs.rw"; rm -rf "$1"', "rm", c.bundle] }).exit).catch(() => {});
    }
  }

  /**
   * A process in the running container (`crun exec`), on a pty for -t. Publishes
   * `exec_start: CMD` and, at its end, `exec_die` (with `execId`, Docker's execID attribute).
   */
  exec(c: Container, argv: string[], o: ExecOptions & { env?: string[]; user?: string; workdir?: string; execId?: string }): GuestProcess {
    if (c.state.status !== Status.running) {
      throw c.state.status === Status.paused
        ? new BerthError(ErrorCode.containerWrongState, `Cannot exec in "${c.name}": container ${c.id} is paused, unpause the container before exec`)
        : new BerthError(ErrorCode.containerWrongState, `Cannot exec in "${c.name}": container ${c.id} is not running`);
    }
    const env = processEnv(processEnv([DEFAULT_PATH_ENV, `HOSTNAME=${c.config.hostname}`], c.config.env), o.env ?? []);
    const flags = [...env.flatMap((e) => ["--env", e]), "--cwd", o.workdir || c.config.workingDir || "/"];
    if (o.user) flags.push("--user", o.user);
    // crun's own failure (no such command, not executable) is held back, to be said in Docker's words with its status
    let held: Uint8Array | undefined;
    let said = false;
    const onStderr = o.onStderr;
    const options: ExecOptions = {
      ...o,
      ...(onStderr ? {
        onStderr: (b: Uint8Array) => {
          if (!said && !held && CRUN_EXEC_FAILED.test(new TextDecoder().decode(b))) held = b;
          else onStderr(b);
          said = true;
        },
      } : {}),
    };
    const p = this.#channel.exec({ argv: ["/usr/bin/crun", "exec", ...flags, c.id, ...argv], env: [], cwd: "/" }, options);
    const exit = p.exit.then((code) => {
      if (!held) return code;
      const failure = execFailure(new TextDecoder().decode(held), argv[0] ?? "");
      if (code !== 255 || !failure) {
        onStderr?.(held);
        return code;
      }
      onStderr?.(new TextEncoder().encode(`${failure.message}\n`));
      return failure.code;
    });
    const ids: Record<string, string> = o.execId ? { execID: o.execId } : {};
    this.event(c, `exec_start: ${argv.join(" ")}`, ids);
    exit.then((code) => this.event(c, "exec_die", { ...ids, exitCode: String(code) }), () => {});
    return { id: p.id, exit, write: (b) => p.write(b), closeStdin: () => p.closeStdin(), kill: (s) => p.kill(s), resize: (r, cols) => p.resize(r, cols) };
  }

  /** Runs a guest command to completion, collecting its output; fails with its stderr. */
  async guest(argv: string[], o: { stdin?: Uint8Array; cwd?: string } = {}): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const p = this.#channel.exec({ argv, env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], cwd: o.cwd ?? "/" }, { stdin: o.stdin !== undefined, onStdout: (b) => out.push(b), onStderr: (b) => err.push(b) });
    if (o.stdin) {
      p.write(o.stdin);
      p.closeStdin();
    }
    const code = await p.exit;
    return { code, stdout: concatBytes(out), stderr: new TextDecoder().decode(concatBytes(err)) };
  }

  async #crun(args: string[]): Promise<void> {
    const r = await this.guest(["/usr/bin/crun", ...args]);
    if (r.code !== 0) throw new BerthError(ErrorCode.containerWrongState, `Cannot ${args[0]} container: ${r.stderr.trim() || `crun exited with ${r.code}`}`);
  }

  /** Follows a container's log: each new line, then undefined when it stops. */
  onLog(c: Container, listener: (l: LogLine | undefined) => void): () => void {
    c.logWaiters.add(listener);
    return () => c.logWaiters.delete(listener);
  }

  #output(c: Container, stream: "stdout" | "stderr", b: Uint8Array): void {
    if (c.forwarding) for (const a of c.attached) a[stream](b);
    // json-file stores a line per entry; a partial line waits for its end
    let start = 0;
    for (let i = 0; i < b.length; i++) {
      if (b[i] !== 10) continue;
      c.partial[stream].push(b.subarray(start, i + 1));
      this.#log(c, stream, concatBytes(c.partial[stream]));
      c.partial[stream] = [];
      start = i + 1;
    }
    if (start < b.length) c.partial[stream].push(b.slice(start));
  }

  #flush(c: Container): void {
    for (const stream of ["stdout", "stderr"] as const) {
      if (c.partial[stream].length) this.#log(c, stream, concatBytes(c.partial[stream]));
      c.partial[stream] = [];
    }
  }

  #log(c: Container, stream: "stdout" | "stderr", bytes: Uint8Array): void {
    const line: LogLine = { stream, time: Date.now(), bytes };
    c.logs.push(line);
    c.logBytes += bytes.length;
    while (c.logBytes > LOG_LIMIT && c.logs.length > 1) c.logBytes -= c.logs.shift()!.bytes.length;
    for (const l of c.logWaiters) l(line);
  }
}


/** crun exec's complaint when the command cannot start (its first and only output) */
const CRUN_EXEC_FAILED = /^(crun: )?(executable file `.*` not found in \$PATH|exec `.*`|open executable|chdir `.*`)/;

/** Docker's words for a kill of a stopped container (moby daemon/kill.go: "cannot kill container: NAME: container ID is not running"). */
function notRunning(c: Container): BerthError {
  return new BerthError(ErrorCode.containerWrongState, `Cannot kill "${c.name}": cannot kill container: ${c.name}: container ${c.id} is not running`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A process's environment as Docker's daemon makes it (container.CreateDaemonEnvironment
 * and ReplaceOrAppendEnvValues): `defaults` (PATH, HOSTNAME, TERM with a tty)
 * with each entry of `env` replacing the same name in place or appended; an
 * entry without "=" removes its name.
 */
export function processEnv(defaults: readonly string[], env: readonly string[]): string[] {
  const out = [...defaults];
  for (const e of env) {
    const name = e.split("=")[0]!;
    const at = out.findIndex((o) => o.split("=")[0] === name);
    if (!e.includes("=")) {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) out[at] = e;
    else out.push(e);
  }
  return out;
}

/** Whether a container has its own resolv.conf (--dns, --dns-search, --dns-option), not the guest's. */
export function ownResolvConf(h: Pick<HostConfig, "dns" | "dnsSearch" | "dnsOptions">): boolean {
  return h.dns.length > 0 || (h.dnsSearch?.length ?? 0) > 0 || (h.dnsOptions?.length ?? 0) > 0;
}
