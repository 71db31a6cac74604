// Small helpers shared by the benchmarks: statistics and a line per figure.
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summary(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

export function fmtMs(x) {
  return `${Math.round(x)} ms`;
}

/** One line: `name  median … (min … max …, n runs)  [target …]` */
export function report(name, xs, target) {
  const s = summary(xs);
  const t = target === undefined ? "" : `  target ≤ ${target} ms: ${s.median <= target ? "met" : "NOT met"}`;
  console.log(`${name.padEnd(44)} median ${fmtMs(s.median).padStart(8)}  (min ${fmtMs(s.min)}, max ${fmtMs(s.max)}, ${s.n} runs)${t}`);
  return s;
}

/** Median of each named part over runs: `  (key 4, load 20, verify 60, restore 250)` */
export function breakdown(timings) {
  const keys = [...new Set(timings.flatMap((t) => Object.keys(t)))];
  return `  where: ${keys.map((k) => `${k} ${Math.round(median(timings.map((t) => t[k] ?? 0)))}`).join(", ")} (ms, medians)`;
}
