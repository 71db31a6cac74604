import { humanSize } from "../docker-format.js";

/**
 * One message of Docker's JSON progress stream, as `POST /images/create` (pull),
 * push and load send it, one JSON object a line (moby pkg/jsonmessage).
 */
export interface JsonMessage {
  status?: string;
  /** the layer's short ID, or the tag for "Pulling from …" */
  id?: string;
  progressDetail?: { current?: number; total?: number };
  /** the rendered bar ("[==>   ]  1.2MB/2.1MB"): only for terminals */
  progress?: string;
  stream?: string;
  error?: string;
  errorDetail?: { message: string; code?: number };
}

/**
 * The line Docker's CLI prints for a message when its output is not a
 * terminal (jsonmessage.Display): "id: status", no progress bars (a message
 * with one prints nothing). Undefined when nothing is printed.
 */
export function messageLine(m: JsonMessage): string | undefined {
  if (m.error !== undefined) return undefined;
  if (m.progress) return undefined;
  if (m.stream !== undefined) return m.stream;
  return `${m.id ? `${m.id}: ` : ""}${m.status ?? ""}\n`;
}

/** Docker's progress bar text for `current` of `total` bytes (jsonmessage.JSONProgress.String, 50 columns). */
export function progressBar(current: number, total: number): string {
  const width = 50;
  const done = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const bar = `[${"=".repeat(Math.max(0, done - 1))}${done > 0 ? ">" : ""}${" ".repeat(width - done)}]`;
  return `${bar} ${humanSize(current)}/${humanSize(total)}`;
}
