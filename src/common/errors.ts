/**
 * The one error type users see. Every failure a person can act on carries a
 * stable kebab-case code from this table (alphabetised, one line each, like
 * regclient's types/errs); programmer bugs stay TypeError and reach the user as
 * `internal`.
 * Messages: sentence case, no trailing period, values quoted,
 * "Cannot <action>: <state>".
 */
export const ErrorCode = {
  /** the guest agent sent something the engine cannot read (or a Worker answer lost its code) */
  agentProtocol: "agent-protocol",
  /** no container by that name, ID or unique ID prefix */
  containerNotFound: "container-not-found",
  /** crun could not create or start the container (command not found: 127, not executable: 126) */
  containerStartFailed: "container-start-failed",
  /** the container's state forbids it (running, paused, stopped, in use) */
  containerWrongState: "container-wrong-state",
  /** a blob's bytes do not match its digest (truncated or tampered) */
  digestMismatch: "digest-mismatch",
  /** the emulator stopped: the guest did something v86 cannot do */
  guestCrashed: "guest-crashed",
  /** no image by that name or ID, or the registry has no such tag */
  imageNotFound: "image-not-found",
  /** a bug in Berth: said as it is, with the message of what failed */
  internal: "internal",
  /** a value the daemon refuses: a filter, a limit, an option, a request body (Docker's 400 "invalid parameter") */
  invalidParameter: "invalid-parameter",
  /** not a valid image reference (Docker's rules) */
  invalidReference: "invalid-reference",
  /** the name is taken by another container or network */
  nameInUse: "name-in-use",
  /** no network by that name or ID */
  networkNotFound: "network-not-found",
  /** the image has no linux/386 (or asked) platform */
  platformNotAvailable: "platform-not-available",
  /** the page's CORS registry proxy cannot be reached */
  proxyUnavailable: "proxy-unavailable",
  /** the registry answered with an error Berth has no better code for */
  registryError: "registry-error",
  /** the registry's pull limit (TOOMANYREQUESTS) */
  registryRateLimited: "registry-rate-limited",
  /** credentials missing or refused */
  registryUnauthorized: "registry-unauthorized",
  /** the registry cannot be reached */
  registryUnavailable: "registry-unavailable",
  /** the network relay cannot be reached or does not answer DHCP */
  relayUnavailable: "relay-unavailable",
  /** a saved VM state that cannot be used (another build, corrupt); it is discarded */
  snapshotInvalid: "snapshot-invalid",
  /** the browser's quota or the disk is full; nothing stored before is lost */
  storageFull: "storage-full",
  /** a layer or manifest media type Berth cannot read */
  unsupportedMediaType: "unsupported-media-type",
  /** a command's flags or arguments are wrong (the docker CLI's own check: "docker: …", exit 125; `berth`'s own flags) */
  usage: "usage",
  /** a guest file (kernel, initramfs, BIOS, wasm) is missing: the project is not built */
  vmAssetMissing: "vm-asset-missing",
  /** the guest did not boot (kernel panic, no agent in time, bad initramfs) */
  vmBootFailed: "vm-boot-failed",
  /** the VM was stopped; nothing more can run in it */
  vmNotRunning: "vm-not-running",
  /** a volume is used by a container (Docker's 409 "volume is in use") */
  volumeInUse: "volume-in-use",
  /** no volume by that name */
  volumeNotFound: "volume-not-found",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const codes = new Set<string>(Object.values(ErrorCode));

export class BerthError extends Error {
  override name = "BerthError";
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options?.detail;
  }

  /** The one-line form the CLI prints: `Error [code]: message`. */
  toLine(): string {
    return `Error [${this.code}]: ${this.message}`;
  }

  /** Plain data for crossing a Worker boundary (comlink keeps only name/message/stack). */
  toWire(): WireError {
    return { code: this.code, message: this.message, detail: this.detail };
  }

  static fromWire(w: WireError): BerthError {
    return new BerthError(isErrorCode(w.code) ? w.code : ErrorCode.agentProtocol, w.message, w.detail === undefined ? undefined : { detail: w.detail });
  }
}

export interface WireError {
  code: string;
  message: string;
  detail: string | undefined;
}

export function isErrorCode(s: string): s is ErrorCode {
  return codes.has(s);
}

export function isBerthError(e: unknown): e is BerthError {
  return e instanceof BerthError;
}

/**
 * Docker's part of a Berth message: the "Cannot <action>: " prefix dropped
 * ('Cannot find container "x": No such container: x' → "No such container: x"),
 * as the daemon answers it and the docker CLI prints it.
 */
export function dockerMessage(e: BerthError): string {
  // the subject may be quoted or hold colons ("127.0.0.1:5000"); the prefix ends at the first ": " outside quotes
  return e.message.replace(/^Cannot (?:[^":]|"[^"]*"|:(?! ))*: /, "");
}
