import { BerthError, ErrorCode } from "./errors.js";

/** A published port: `-p [ip:][hostPort:]containerPort[/proto]`. */
export interface PortBinding {
  hostIp: string;
  /** 0: chosen by the engine */
  hostPort: number;
  containerPort: number;
  proto: "tcp" | "udp";
}

const bad = (spec: string, why: string): BerthError => new BerthError(ErrorCode.usage, `Cannot publish "${spec}": ${why}`);

function range(s: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw bad(spec, `invalid port "${s}"`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b > 65535 || b < a) throw bad(spec, `invalid port range "${s}"`);
  return [a, b];
}

/** Docker's -p forms, ranges included ("8080-8081:80-81"); one binding per port. */
export function parsePublish(spec: string): PortBinding[] {
  const [addr, protoPart, extra] = spec.split("/");
  if (extra !== undefined) throw bad(spec, "too many slashes");
  const proto = (protoPart ?? "tcp").toLowerCase();
  if (proto !== "tcp" && proto !== "udp") throw bad(spec, `invalid protocol "${protoPart}"`);
  // [ip:][host:]container; an IPv6 host address is in brackets
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|\d+\.\d+\.\d+\.\d+):)?(?:(\d*(?:-\d+)?):)?(\d+(?:-\d+)?)$/.exec(addr ?? "");
  if (!m) throw bad(spec, "not [ip:][hostPort:]containerPort[/protocol]");
  const hostIp = m[1]?.replace(/^\[|\]$/g, "") ?? "";
  const [c0, c1] = range(m[3]!, spec);
  const [h0, h1] = m[2] ? range(m[2], spec) : [0, 0];
  if (m[2] && h1 - h0 !== c1 - c0 && h0 !== h1) throw bad(spec, "the host and container port ranges differ in size");
  const out: PortBinding[] = [];
  for (let p = c0; p <= c1; p++) out.push({ hostIp, hostPort: m[2] ? (h0 === h1 && c0 !== c1 ? h0 : h0 + (p - c0)) : 0, containerPort: p, proto: proto as "tcp" | "udp" });
  return out;
}

/** The PORTS column: "0.0.0.0:8080->80/tcp". */
export function formatBinding(b: PortBinding): string {
  return `${b.hostIp || "0.0.0.0"}:${b.hostPort}->${b.containerPort}/${b.proto}`;
}
