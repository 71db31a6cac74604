/**
 * Docker's display rules (docker/go-units and the CLI's formatters), so a
 * course's screenshots match what the student sees.
 */

/**
 * go-units HumanSizeWithPrecision: 1000-based, `precision` significant digits.
 * The CLI's tables (images, ps --size) use 3 ("4.26MB"); HumanSize, as
 * system df and the prunes' "Total reclaimed space" print, is 4 ("4.261MB").
 */
export function humanSize(n: number, precision = 3): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(precision))}${units[i]}`;
}

/** go-units BytesSize: 1024-based ("1.5MiB"), used by `docker stats`. */
export function bytesSize(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

/** go-units HumanDuration: "Less than a second", "3 seconds", "About a minute", … */
export function humanDuration(ms: number): string {
  const s = Math.max(0, ms / 1000);
  const m = Math.floor(s / 60);
  const h = Math.floor(ms / 3_600_000 + 0.5);
  if (s < 1) return "Less than a second";
  if (Math.floor(s) === 1) return "1 second";
  if (s < 60) return `${Math.floor(s)} seconds`;
  if (m === 1) return "About a minute";
  if (m < 60) return `${m} minutes`;
  if (h === 1) return "About an hour";
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

/** The CREATED column's wording: "5 seconds ago". */
export function humanAgo(from: Date, now = new Date()): string {
  return `${humanDuration(now.getTime() - from.getTime())} ago`;
}

/** The CLI's Ellipsis: at most `max` characters, the last one "…" when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

/** A table like the CLI's tabwriter (minwidth 10, padding 3): each column as wide as its widest cell plus 3, at least 10. */
export function columns(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return "";
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? "")].length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + " ".repeat(Math.max(10, widths[i]! + 3) - [...c].length))).join("").trimEnd() + "\n")
    .join("");
}

/** RFC 3339 with nanoseconds, as Docker prints times (`logs -t`, inspect). */
export function rfc3339Nano(ms: number, nanos = 0): string {
  const iso = new Date(ms).toISOString(); // 2026-11-23T01:30:35.123Z
  const frac = String((ms % 1000) * 1_000_000 + nanos).padStart(9, "0");
  return `${iso.slice(0, 19)}.${frac}Z`;
}
