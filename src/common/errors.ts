/**
 * The one error type users see. Every failure a person can act on carries a
 * stable kebab-case code from this table; programmer bugs stay TypeError.
 * Messages: sentence case, no trailing period, values quoted,
 * "Cannot <action>: <state>".
 */
export const ErrorCode = {
  agentProtocol: "agent-protocol",
  containerNotFound: "container-not-found",
  containerStartFailed: "container-start-failed",
  containerWrongState: "container-wrong-state",
  digestMismatch: "digest-mismatch",
  guestCrashed: "guest-crashed",
  imageNotFound: "image-not-found",
  invalidReference: "invalid-reference",
  nameInUse: "name-in-use",
  networkNotFound: "network-not-found",
  platformNotAvailable: "platform-not-available",
  proxyUnavailable: "proxy-unavailable",
  registryError: "registry-error",
  registryRateLimited: "registry-rate-limited",
  registryUnauthorized: "registry-unauthorized",
  registryUnavailable: "registry-unavailable",
  relayUnavailable: "relay-unavailable",
  snapshotInvalid: "snapshot-invalid",
  storageFull: "storage-full",
  unsupportedMediaType: "unsupported-media-type",
  usage: "usage",
  vmAssetMissing: "vm-asset-missing",
  vmBootFailed: "vm-boot-failed",
  vmNotRunning: "vm-not-running",
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
