/**
 * IPv4 addresses and CIDR prefixes as 32-bit numbers, for Docker's network
 * address management (moby api/types/network/ipam.go's checks).
 */

/** A dotted quad to its number, or undefined when it is not one ("10.0.0.1" → 167772161). */
export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255) || m.slice(1).some((p) => p.length > 1 && p.startsWith("0"))) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** A number to its dotted quad. */
export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** An IPv4 CIDR prefix: its address as given, and its length. */
export interface Prefix {
  addr: number;
  bits: number;
}

/** "10.9.0.0/24" to a prefix, or undefined when it is not IPv4 CIDR notation. */
export function parsePrefix(s: string): Prefix | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  const addr = m ? parseIpv4(m[1]!) : undefined;
  if (!m || addr === undefined || Number(m[2]) > 32) return undefined;
  return { addr, bits: Number(m[2]) };
}

/** The prefix's mask as a number. */
const mask = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** The prefix with its host bits cleared (netip.Prefix.Masked). */
export function masked(p: Prefix): Prefix {
  return { addr: (p.addr & mask(p.bits)) >>> 0, bits: p.bits };
}

export function formatPrefix(p: Prefix): string {
  return `${formatIpv4(p.addr)}/${p.bits}`;
}

/** Whether the prefix holds the address. */
export function contains(p: Prefix, ip: number): boolean {
  return ((ip & mask(p.bits)) >>> 0) === masked(p).addr;
}

/** Whether two prefixes share an address. */
export function overlaps(a: Prefix, b: Prefix): boolean {
  const bits = Math.min(a.bits, b.bits);
  return ((a.addr & mask(bits)) >>> 0) === ((b.addr & mask(bits)) >>> 0);
}

/** The last address of the prefix (its broadcast address). */
export function lastAddress(p: Prefix): number {
  return (masked(p).addr | (~mask(p.bits) >>> 0)) >>> 0;
}
