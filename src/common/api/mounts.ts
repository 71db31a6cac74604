/*
 * Mounts as Docker's API and CLI write them: `--mount` values, `-v` specs,
 * `--volumes-from`, and the daemon's checks of each, in docker/cli's and
 * moby's words (docker/cli opts/mount.go and cli/compose/loader/volume.go;
 * moby volume/mounts/linux_parser.go, validate.go). Pure: table-tested.
 */

/** HostConfig.Mounts[] (Docker's API, api/types/mount). */
export interface Mount {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
  ImageOptions?: { Subpath?: string } | null;
}

/** A container's mount as `docker inspect` shows it (Docker's MountPoint: .Mounts[]). */
export interface MountPoint {
  Type: "bind" | "volume" | "tmpfs";
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

const PROPAGATIONS = new Set(["private", "rprivate", "shared", "rshared", "slave", "rslave"]);
const BOOL_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const BOOL_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean | undefined {
  return BOOL_TRUE.has(v) ? true : BOOL_FALSE.has(v) ? false : undefined;
}

/** go-units RAMInBytes ("64m" = 64 MiB); undefined when it is not a size. */
export function ramInBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(i?b)?$/i.exec(v);
  if (!m) return undefined;
  const unit = 1024 ** "bkmgtp".indexOf((m[2] || "b").toLowerCase());
  return Math.floor(Number(m[1]) * unit);
}

/** Splits one CSV record as Go's encoding/csv does for a flag value (quotes allowed). */
function csvFields(value: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted) {
      if (ch === '"' && value[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur === "") quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * A `--mount` value as docker/cli reads it (opts/mount.go MountOpt.Set): CSV
 * key=value fields, type volume by default.
 * @returns the mount, or the reason docker/cli gives ("unexpected key 'foo' in
 *   'foo=bar'", "target is required", "invalid value for readonly: x", …) as a string
 */
export function parseMountFlag(value: string): Mount | string {
  const m: Mount = { Type: "volume", Target: "" };
  const volume = (): NonNullable<Mount["VolumeOptions"]> => (m.VolumeOptions ??= {});
  const bind = (): NonNullable<Mount["BindOptions"]> => (m.BindOptions ??= {});
  const tmpfs = (): NonNullable<Mount["TmpfsOptions"]> => (m.TmpfsOptions ??= {});
  // the keys whose value is a Go bool
  const BOOL_FIELDS: Record<string, (b: boolean) => void> = {
    readonly: (b) => (m.ReadOnly = b), ro: (b) => (m.ReadOnly = b),
    "bind-nonrecursive": (b) => (bind().NonRecursive = b), "volume-nocopy": (b) => (volume().NoCopy = b),
  };
  for (const field of csvFields(value)) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? "" : field.slice(eq + 1);
    if (eq < 0) {
      if (key === "readonly" || key === "ro") m.ReadOnly = true;
      else if (key === "volume-nocopy") volume().NoCopy = true;
      else if (key === "bind-nonrecursive") bind().NonRecursive = true;
      else return `invalid field '${field}' must be a key=value pair`;
      continue;
    }
    const setBool = BOOL_FIELDS[key];
    if (setBool) {
      const b = parseBool(val);
      if (b === undefined) return `invalid value for ${key}: ${val}`;
      setBool(b);
      continue;
    }
    switch (key) {
      case "type":
        m.Type = val.toLowerCase();
        break;
      case "source":
      case "src":
        m.Source = val;
        break;
      case "target":
      case "dst":
      case "destination":
        m.Target = val;
        break;
      case "consistency":
        m.Consistency = val.toLowerCase();
        break;
      case "bind-propagation":
        bind().Propagation = val.toLowerCase();
        break;
      case "bind-recursive":
        if (!["enabled", "disabled", "writable", "readonly"].includes(val)) return `invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`;
        if (val === "disabled") bind().NonRecursive = true;
        if (val === "writable") bind().ReadOnlyNonRecursive = true;
        if (val === "readonly") bind().ReadOnlyForceRecursive = true;
        if (val === "enabled") bind();
        break;
      case "volume-subpath":
        volume().Subpath = val;
        break;
      case "volume-label": {
        const [k = "", v = ""] = val.split(/=(.*)/s);
        if (k) (volume().Labels ??= {})[k] = v;
        else volume();
        break;
      }
      case "volume-driver":
        (volume().DriverConfig ??= {}).Name = val;
        break;
      case "volume-opt": {
        const [k = "", v = ""] = val.split(/=(.*)/s);
        const d = (volume().DriverConfig ??= {});
        if (k) (d.Options ??= {})[k] = v;
        break;
      }
      case "image-subpath":
        m.ImageOptions = { Subpath: val };
        break;
      case "tmpfs-size": {
        const n = ramInBytes(val);
        if (n === undefined) return `invalid value for ${key}: ${val}`;
        tmpfs().SizeBytes = n;
        break;
      }
      case "tmpfs-mode": {
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) return `invalid value for ${key}: ${val}`;
        tmpfs().Mode = parseInt(val, 8);
        break;
      }
      default:
        return `unexpected key '${key}' in '${field}'`;
    }
  }
  if (m.Type === "") return "type is required";
  if (m.Target === "") return "target is required";
  if (m.VolumeOptions && m.Type !== "volume") return `cannot mix 'volume-*' options with mount type '${m.Type}'`;
  if (m.ImageOptions && m.Type !== "image") return `cannot mix 'image-*' options with mount type '${m.Type}'`;
  if (m.BindOptions && m.Type !== "bind") return `cannot mix 'bind-*' options with mount type '${m.Type}'`;
  if (m.TmpfsOptions && m.Type !== "tmpfs") return `cannot mix 'tmpfs-*' options with mount type '${m.Type}'`;
  if (m.BindOptions?.ReadOnlyNonRecursive && !m.ReadOnly) return "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction";
  if (m.BindOptions?.ReadOnlyForceRecursive) {
    if (!m.ReadOnly) return "option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction";
    if (m.BindOptions.Propagation !== "rprivate") return "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction";
  }
  return m;
}

/**
 * A `-v` value as docker/cli splits it (compose loader.ParseVolume): a source
 * makes it a bind (".", "/" or "~" first) or a named volume and goes to
 * HostConfig.Binds; a target alone is an anonymous volume (Config.Volumes).
 * @returns Docker's complaint ("invalid empty volume spec", "invalid spec: a::b: empty section between colons", "… too many colons") as a string
 */
export function splitVolumeFlag(spec: string): { source: string; target: string } | string {
  if (spec.length === 0) return "invalid empty volume spec";
  if (spec.length <= 2) return { source: "", target: spec };
  const parts = spec.split(":");
  const fields: string[] = [];
  for (const [i, p] of parts.entries()) {
    if (p === "") return `invalid spec: ${spec}: empty section between colons`;
    if (fields.length === 3 || (fields.length === 2 && i < parts.length - 1)) return `invalid spec: ${spec}: too many colons`;
    fields.push(p);
  }
  return fields.length === 1 ? { source: "", target: fields[0]! } : { source: fields[0]!, target: fields[1]! };
}

/** A mount as the daemon resolved it from -v, --mount or the image (moby's volume/mounts.MountPoint). */
export interface ParsedMount {
  type: "bind" | "volume" | "tmpfs";
  /** a named volume's name ("" for an anonymous one) */
  name: string;
  /** a bind's source path */
  source: string;
  destination: string;
  rw: boolean;
  /** -v's mode string ("ro", "z", …) */
  mode: string;
  propagation: string;
  /** copy the image's content into an empty volume (not with nocopy) */
  copyData: boolean;
  /** --mount bind without create-mountpoint: the source must exist */
  mustExist: boolean;
  /** a volume's labels given with --mount volume-label */
  labels?: Record<string, string>;
  /** a new volume's driver options given with --mount volume-opt (DriverConfig.Options) */
  options?: Record<string, string>;
  /** --mount tmpfs options */
  tmpfs?: { sizeBytes?: number; mode?: number };
}

function validMode(mode: string): boolean {
  if (mode === "") return true;
  const counts = { rw: 0, label: 0, prop: 0, copy: 0, cons: 0 };
  for (const o of mode.split(",")) {
    if (o === "rw" || o === "ro") counts.rw++;
    else if (o === "z" || o === "Z") counts.label++;
    else if (PROPAGATIONS.has(o)) counts.prop++;
    else if (o === "nocopy") counts.copy++;
    else if (o === "consistent" || o === "cached" || o === "delegated") counts.cons++;
    else return false;
  }
  return Object.values(counts).every((n) => n <= 1);
}

/** Go's path.Clean: "." and ".." resolved, no doubled or trailing "/" ("" is "."). */
export function cleanPath(p: string): string {
  const abs = p.startsWith("/");
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return (abs ? "/" : "") + out.join("/") || (abs ? "/" : ".");
}

/**
 * Checks a mount as moby's daemon does (validateMountConfigImpl) and resolves
 * it. Errors are moby's: "invalid mount config for type \"volume\": invalid
 * mount path: 'x' mount path must be absolute", "…: field Source must not be
 * empty", "invalid specification: destination can't be '/'", "…: mount type unknown".
 * @returns the mount, or the error text
 */
export function checkMount(m: Mount): ParsedMount | string {
  const bad = (why: string): string => `invalid mount config for type "${m.Type}": ${why}`;
  if (!m.Target) return bad("field Target must not be empty");
  if (cleanPath(m.Target) === "/") return bad("invalid specification: destination can't be '/'");
  if (!m.Target.startsWith("/")) return bad(`invalid mount path: '${m.Target}' mount path must be absolute`);
  const source = m.Source ?? "";
  const base = { destination: cleanPath(m.Target), rw: !m.ReadOnly, mode: "", propagation: "", copyData: true, mustExist: false, name: "", source: "" };
  switch (m.Type) {
    case "bind": {
      if (!source) return bad("field Source must not be empty");
      const prop = m.BindOptions?.Propagation;
      if (prop && !PROPAGATIONS.has(prop)) return bad(`invalid propagation mode: ${prop}`);
      if (m.VolumeOptions) return bad("field VolumeOptions must not be specified");
      if (!source.startsWith("/")) return bad(`invalid mount path: '${source}' mount path must be absolute`);
      return { ...base, type: "bind", source: cleanPath(source), propagation: prop || "rprivate", mustExist: !m.BindOptions?.CreateMountpoint };
    }
    case "volume": {
      if (m.BindOptions) return bad("field BindOptions must not be specified");
      if (m.VolumeOptions?.Subpath) return bad("Berth does not support volume-subpath yet");
      if (m.ReadOnly && !source) return bad("must not set ReadOnly mode when using anonymous volumes");
      const driver = m.VolumeOptions?.DriverConfig?.Name;
      if (driver && driver !== "local") return `error looking up volume plugin ${driver}: plugin "${driver}" not found`;
      const options = m.VolumeOptions?.DriverConfig?.Options;
      return { ...base, type: "volume", name: source, copyData: !m.VolumeOptions?.NoCopy, ...(m.VolumeOptions?.Labels ? { labels: { ...m.VolumeOptions.Labels } } : {}), ...(options && Object.keys(options).length ? { options: { ...options } } : {}) };
    }
    case "tmpfs": {
      if (m.BindOptions) return bad("field BindOptions must not be specified");
      if (source) return bad("field Source must not be specified");
      for (const o of m.TmpfsOptions?.Options ?? []) {
        if (o.length < 1 || o.length > 2) return bad("invalid option array length");
        if (o[0] !== "exec" && o[0] !== "noexec") return bad(`invalid option: ${o[0]}`);
      }
      const t = m.TmpfsOptions;
      return { ...base, type: "tmpfs", copyData: false, tmpfs: { ...(t?.SizeBytes ? { sizeBytes: t.SizeBytes } : {}), ...(t?.Mode ? { mode: t.Mode } : {}) } };
    }
    case "image":
      return bad("Berth does not support image mounts yet");
    default:
      return bad("mount type unknown");
  }
}

/**
 * A HostConfig.Binds entry as moby reads it (ParseMountRaw): SOURCE:DEST[:MODE],
 * a source starting with "/" is a bind, else a named volume.
 * @returns the mount, or moby's words ("invalid volume specification: 'x'", "invalid mode: rx", "invalid volume specification: 'a:b': invalid mount config …")
 */
export function parseBind(raw: string): ParsedMount | string {
  const arr = raw.split(":");
  const spec = `invalid volume specification: '${raw}'`;
  if (arr[0] === "" || arr.length > 3) return spec;
  let mode = "";
  const m: Mount = { Type: "volume", Target: "" };
  if (arr.length === 1) m.Target = arr[0]!;
  else {
    if (arr.length === 2 && validMode(arr[1]!)) return spec;
    m.Source = arr[0]!;
    m.Target = arr[1]!;
    mode = arr[2] ?? "";
  }
  if (!validMode(mode)) return `invalid mode: ${mode}`;
  const modes = mode.split(",");
  m.Type = m.Source?.startsWith("/") ? "bind" : "volume";
  m.ReadOnly = modes.includes("ro");
  const prop = modes.find((o) => PROPAGATIONS.has(o));
  if (prop) m.BindOptions = { Propagation: prop };
  if (modes.includes("nocopy")) m.VolumeOptions = { NoCopy: true };
  if (m.Type === "volume" && m.BindOptions) delete m.BindOptions;
  const r = checkMount(m);
  if (typeof r === "string") return `${spec}: ${r}`;
  return { ...r, mode, mustExist: false, ...(r.type === "volume" && !mode ? { mode: "z" } : {}) };
}

/**
 * A `--volumes-from` value (ParseVolumesFrom): CONTAINER[:ro|:rw].
 * @returns the container and mode, or moby's words ("invalid mode: rx")
 */
export function parseVolumesFrom(spec: string): { container: string; rw: boolean } | string {
  if (!spec) return "volumes-from specification cannot be an empty string";
  const [id, mode = ""] = spec.split(/:(.*)/s) as [string, string?];
  if (!mode) return { container: id, rw: true };
  const modes = mode.split(",");
  if (!validMode(mode) || modes.some((o) => PROPAGATIONS.has(o) || o === "nocopy")) return `invalid mode: ${mode}`;
  return { container: id, rw: !modes.includes("ro") };
}

/** moby's local volume names (volume/local validateName): `[a-zA-Z0-9][a-zA-Z0-9_.-]`, at least two characters. */
export function volumeNameError(name: string): string | undefined {
  if (name.length === 1) return "volume name is too short, names should be at least two alphanumeric characters";
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) return `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`;
  return undefined;
}
