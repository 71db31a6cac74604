import type { RuntimeOptions } from "../daemon/host-options.js";
import type { OciMount } from "../../common/oci-spec.js";
import { newState, type ContainerState, type RestartPolicy } from "../../common/container-state.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import type { PortBinding } from "../../common/port-spec.js";
import type { GuestProcess } from "../vm/guest-channel.js";

/*
 * A container as the daemon keeps it: Docker's Config and HostConfig, its
 * state, logs and attached clients, and where it lives in the guest.
 */

/** A container's mount as the daemon keeps it (moby's container.MountPoints entry). */
export interface ContainerMount {
  type: "bind" | "volume" | "tmpfs";
  /** a volume's name */
  name?: string;
  /** a bind's guest path */
  source?: string;
  destination: string;
  rw: boolean;
  mode: string;
  propagation: string;
  /** -v bind: its missing source is made at start (Docker's rule for -v, not --mount) */
  createSource?: boolean;
  /** --mount tmpfs options */
  tmpfs?: { sizeBytes?: number; mode?: number };
  /** copy the image's content into the volume if it is empty (done once, at create) */
  copyData?: boolean;
}

/** What `docker create` fixed about a container (Docker's Config). */
export interface ContainerConfig {
  /** the working directory is not in the image: made before the container starts (Docker's rule) */
  createWorkdir?: boolean;
  /** the image as the user named it */
  image: string;
  imageId: string;
  /** guest directories of the image's layers, top first */
  layers: string[];
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  /** as given (-u or the image's User) and as resolved */
  user: string;
  uid: number;
  gid: number;
  hostname: string;
  labels: Record<string, string>;
  tty: boolean;
  openStdin: boolean;
  /** close its stdin when the attached client's ends (Docker's StdinOnce: `run -i` attached, not `-d`) */
  stdinOnce: boolean;
  stopSignal: string;
  stopTimeout: number | undefined;
  /** volumes, bind mounts and --mount tmpfs (Docker's MountPoints) */
  mounts?: ContainerMount[];
  /** Config.Volumes: the anonymous volumes' paths (-v /path and the image's VOLUME) */
  volumes?: string[];
}

/** Docker's HostConfig: limits and privileges. */
export interface HostConfig {
  memory: number;
  memorySwap: number;
  nanoCpus: number;
  cpuShares: number;
  pidsLimit: number;
  readonlyRootfs: boolean;
  restartPolicy: RestartPolicy;
  autoRemove: boolean;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  securityOpt: string[];
  init: boolean;
  tmpfs: Record<string, string>;
  /** "none" (the container's own loopback only), "host" (the VM's network); "bridge" is "none" until bridges exist */
  networkMode: string;
  /** the networks it is on (names; the first is where its default route goes); with networkMode bridge or a network's name */
  networks: string[];
  /** --network-alias, per network */
  aliases: Record<string, string[]>;
  /** --link NAME[:ALIAS] */
  links: Array<{ name: string; alias: string }>;
  /** --add-host lines for /etc/hosts ("10.0.0.1\tdb") */
  extraHosts: string[];
  /** --dns */
  dns: string[];
  /** -p: host port 0 is chosen at start */
  portBindings: PortBinding[];
  /** -P: every exposed port gets a host port */
  publishAll: boolean;
  /** the image's EXPOSE and --expose, "80/tcp" */
  exposed: string[];
  /** --dns-search */
  dnsSearch?: string[];
  /** --dns-option */
  dnsOptions?: string[];
  /** --ip, by network name */
  staticIps?: Record<string, string>;
  /** --mac-address: the first network's endpoint */
  macAddress?: string;
  /** the create request's other HostConfig fields, as given (inspect shows them as Docker does) */
  given?: Record<string, unknown>;
  /** what goes to the OCI spec as it is: ulimits, sysctls, groups, namespaces shared with the VM, … */
  runtime?: RuntimeOptions;
}

/**
 * What the container service asks of networking (NetworkService is it), so the
 * two do not import each other: a started container onto its networks, and off.
 */
export interface ContainerNetworking {
  /** puts a created container on its networks (veths, addresses, /etc/hosts) */
  attach(c: Container): Promise<void>;
  /** takes it off them at exit; `forget` at removal also drops its endpoints */
  detach(c: Container, o?: { forget?: boolean }): Promise<void>;
}

/** What the container service asks of the volume service (the daemon wires it), so the two do not import each other. */
export interface ContainerVolumes {
  /** the OCI mounts of a starting container (volume data loaded, -v sources made) */
  mounts(c: Container): Promise<OciMount[]>;
  /** the container stopped: what it wrote to its volumes is saved */
  released(c: Container): void;
  /** the container was removed; `anonymous`: its anonymous volumes no one else uses go too */
  removed(c: Container, anonymous: boolean): Promise<void>;
}

export interface LogLine {
  stream: "stdout" | "stderr";
  /** ms since the epoch */
  time: number;
  bytes: Uint8Array;
}

export interface Attachment {
  stdout(b: Uint8Array): void;
  stderr(b: Uint8Array): void;
}

export class Container {
  name: string;
  readonly state: ContainerState = newState();
  restartCount = 0;
  readonly logs: LogLine[] = [];
  logBytes = 0;
  proc: GuestProcess | undefined;
  mounted = false;
  /** while it runs: its published ports, host ports chosen */
  ports: PortBinding[] = [];
  /** crun's deletion of the last run, while it is under way */
  deleting: Promise<void> = Promise.resolve();
  /** output goes to attached sessions (not while crun is still creating it) */
  forwarding = false;
  /** stop/kill by the user: the restart policy does not apply */
  manualStop = false;
  restartTimer: ReturnType<typeof setTimeout> | undefined;
  readonly attached = new Set<Attachment>();
  readonly logWaiters = new Set<(l: LogLine | undefined) => void>();
  exitWaiters: Array<(code: number) => void> = [];
  /** an API client attached before the start (docker run): wires the process when it is created */
  pendingWire: ((p: GuestProcess) => void) | undefined;
  /** resolves once the container is removed (wait condition=removed) */
  readonly removed: Promise<void>;
  markRemoved!: () => void;
  partial: Record<"stdout" | "stderr", Uint8Array[]> = { stdout: [], stderr: [] };

  constructor(
    readonly id: string,
    name: string,
    readonly created: number,
    readonly config: ContainerConfig,
    readonly hostConfig: HostConfig,
  ) {
    this.name = name;
    this.removed = new Promise((r) => (this.markRemoved = r));
  }

  get shortId(): string {
    return this.id.slice(0, 12);
  }
  get bundle(): string {
    return `${BUNDLES}/${this.id}`;
  }
  /** the container's writable layer, as the guest sees it */
  get upperDir(): string {
    return `${this.bundle}/rootfs.rw/upper`;
  }
  get rootfs(): string {
    return `${this.bundle}/rootfs`;
  }
  get cgroup(): string {
    return `/sys/fs/cgroup/berth/${this.id}`;
  }
}

const BUNDLES = "/run/berth/bundles";
const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23,
  XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};

/** "SIGTERM", "TERM", "15" → 15 */
export function signalNumber(s: string): number {
  const n = /^\d+$/.test(s) ? Number(s) : SIGNALS[s.toUpperCase().replace(/^SIG/, "")];
  if (n === undefined || n < 1 || n > 64) throw new BerthError(ErrorCode.invalidParameter, `Cannot send signal "${s}": invalid signal`);
  return n;
}
