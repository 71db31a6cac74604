import type { Progress } from "../common/engine-api.js";

const PHASE_TEXT: Record<Progress["phase"], string> = {
  downloading: "Downloading the guest",
  restoring: "Restoring the VM",
  booting: "Booting the VM",
  saving: "Saving the VM state",
  pulling: "Pulling",
  ready: "Ready",
};

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

/** The engine's progress in words: "Downloading the guest: 1.2 of 4.8 MB", "Pulling busybox: 40% of 2.1 MB". */
export function progressText(p: Progress): string {
  if (p.phase === "downloading" && p.total) return `${PHASE_TEXT.downloading}: ${mb(p.loaded ?? 0)} of ${mb(p.total)}`;
  if (p.phase === "pulling") {
    const pct = p.total ? Math.floor(((p.loaded ?? 0) / p.total) * 100) : 0;
    return `Pulling ${p.detail ?? "the image"}: ${pct}% of ${mb(p.total ?? 0)}`;
  }
  return p.phase === "ready" ? "" : `${PHASE_TEXT[p.phase]}…`;
}
