import { usageError } from "./docker-flags.js";
import { BerthError, ErrorCode } from "./errors.js";

/** A published port: `-p [ip:][hostPort:]containerPort[/proto]`. */
export interface PortBinding {
  hostIp: string;
  /** 0: chosen by the engine */
  hostPort: number;
  containerPort: number;
  proto: "tcp" | "udp";
}

/** Docker's words for a bad -p (docker/go-connections nat.ParsePortSpec), said by the CLI as "docker: …" */
const bad = (message: string): BerthError => usageError(message);

/** nat.ParsePortRange: "80" or "8000-8010", each 0–65535, start ≤ end; undefined when it is not one. */
function range(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  return a > 65535 || b > 65535 || b < a ? undefined : [a, b];
}

/**
 * Docker's -p forms, ranges included ("8080-8081:80-81"); one binding per port.
 * The rules and words are go-connections' nat.ParsePortSpec, as docker 28 says
 * them ("invalid containerPort: abc", "invalid hostPort: 70000", "invalid proto: xyz").
 * @throws BerthError usage (a command's option check)
 */
export function parsePublish(spec: string): PortBinding[] {
  const parts = spec.split(":");
  const n = parts.length;
  const last = parts[n - 1]!;
  const hostPart = n >= 2 ? parts[n - 2]! : "";
  let ip = n >= 3 ? parts.slice(0, n - 2).join(":") : "";
  // the protocol is split off the container port: "80/udp"; "a/b/c" is port "a", proto "b"
  const slash = last.split("/");
  const containerPart = slash[0]!;
  const proto = slash.length > 1 && slash[1] !== "" ? slash[1]! : "tcp";
  if (ip.startsWith("[")) {
    if (!/^\[[0-9a-fA-F:.]+\]$/.test(ip)) throw bad(`invalid IP address ${ip}: address ${ip}: missing port in address`);
    ip = ip.slice(1, -1);
  }
  if (ip && !/^(\d{1,3})(\.\d{1,3}){3}$/.test(ip) && !(/^[0-9a-fA-F:]+$/.test(ip) && (ip.includes("::") || ip.split(":").length === 8))) throw bad(`invalid IP address: ${ip}`);
  if (containerPart === "") throw bad(`no port specified: ${spec}<empty>`);
  const c = range(containerPart);
  if (!c) throw bad(`invalid containerPort: ${containerPart}`);
  const h = hostPart ? range(hostPart) : ([0, 0] as [number, number]);
  if (!h) throw bad(`invalid hostPort: ${hostPart}`);
  if (hostPart && c[1] - c[0] !== h[1] - h[0] && c[1] !== c[0]) throw bad(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`);
  const p = proto.toLowerCase();
  if (p !== "tcp" && p !== "udp" && p !== "sctp") throw bad(`invalid proto: ${proto}`);
  if (p === "sctp") throw new BerthError(ErrorCode.invalidParameter, `Cannot publish "${spec}": Berth's port forwarding carries tcp and udp, not sctp`);
  const out: PortBinding[] = [];
  for (let port = c[0]; port <= c[1]; port++) {
    const hostPort = hostPart ? (h[0] !== h[1] && c[0] === c[1] ? h[0] : h[0] + (port - c[0])) : 0;
    out.push({ hostIp: ip, hostPort, containerPort: port, proto: p });
  }
  return out;
}

/** The PORTS column: "0.0.0.0:8080->80/tcp". */
export function formatBinding(b: PortBinding): string {
  return `${b.hostIp || "0.0.0.0"}:${b.hostPort}->${b.containerPort}/${b.proto}`;
}
