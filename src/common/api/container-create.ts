import type { Mount } from "./mounts.js";
/**
 * The body of the Engine API's `POST /containers/create` (Docker's
 * ContainerConfig with its HostConfig and NetworkingConfig), the fields Berth
 * reads. Names and shapes are Docker's (moby api/types/container/config.go,
 * hostconfig.go), so the real docker CLI's requests and `docker run`'s flags
 * arrive as the same thing. Unknown fields are ignored, as Docker's are.
 */
export interface ContainerCreateBody {
  /** the image as the user named it: "busybox", "busybox:1.36", an ID */
  Image: string;
  /** null or absent: the image's */
  Cmd?: string[] | string | null;
  /** null or absent: the image's; [] or [""]: none (and the image's Cmd is dropped) */
  Entrypoint?: string[] | string | null;
  /** "NAME=value" entries; they win over the image's */
  Env?: string[] | null;
  WorkingDir?: string;
  /** "user", "uid", "user:group", "uid:gid"; "" is the image's */
  User?: string;
  Hostname?: string;
  Domainname?: string;
  Labels?: Record<string, string> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  StopSignal?: string;
  /** seconds */
  StopTimeout?: number | null;
  /** "80/tcp": {} */
  ExposedPorts?: Record<string, object> | null;
  /** anonymous volumes: "/data": {} (the CLI's `-v /data`) */
  Volumes?: Record<string, object> | null;
  MacAddress?: string;
  Healthcheck?: { Test?: string[] | null; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number } | null;
  HostConfig?: HostConfigBody | null;
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettingsBody | null> | null } | null;
}

/** Docker's HostConfig: limits, privileges, networking, ports. */
export interface HostConfigBody {
  /** bytes; 0 = unlimited */
  Memory?: number;
  /** bytes, -1 unlimited */
  MemorySwap?: number;
  /** CPUs × 1e9 */
  NanoCpus?: number;
  CpuShares?: number;
  /** null or 0 = unlimited */
  PidsLimit?: number | null;
  ReadonlyRootfs?: boolean;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
  AutoRemove?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Privileged?: boolean;
  SecurityOpt?: string[] | null;
  Init?: boolean | null;
  /** mount point -> options ("size=64m,mode=1777") */
  Tmpfs?: Record<string, string> | null;
  /** "default", "bridge", "host", "none", "container:<name|id>", or a network's name */
  NetworkMode?: string;
  /** "name:alias" */
  Links?: string[] | null;
  /** "host:ip" (Docker's API form; the CLI's --add-host is "host:ip" too) */
  ExtraHosts?: string[] | null;
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  /** "80/tcp" -> [{HostIp, HostPort}]; HostPort "" or "0": chosen by the engine */
  PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
  PublishAllPorts?: boolean;
  /** `-v` with a source: "NAME:/path[:mode]" (a volume) or "/guest/dir:/path[:mode]" (a bind mount) */
  Binds?: string[] | null;
  Mounts?: Mount[] | null;
  Ulimits?: Array<{ Name?: string; Soft?: number; Hard?: number }> | null;
  Sysctls?: Record<string, string> | null;
  GroupAdd?: string[] | null;
  MemoryReservation?: number;
  OomKillDisable?: boolean | null;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  CgroupnsMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Runtime?: string;
  Isolation?: string;
  LogConfig?: { Type?: string; Config?: Record<string, string> | null } | null;
  Devices?: Array<{ PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }> | null;
  CpuPeriod?: number;
  CpuQuota?: number;
  OomScoreAdj?: number;
  MemorySwappiness?: number | null;
  KernelMemory?: number;
  BlkioWeight?: number;
  BlkioWeightDevice?: unknown[] | null;
  BlkioDeviceReadBps?: unknown[] | null;
  BlkioDeviceWriteBps?: unknown[] | null;
  BlkioDeviceReadIOps?: unknown[] | null;
  BlkioDeviceWriteIOps?: unknown[] | null;
  CgroupParent?: string;
  VolumesFrom?: string[] | null;
  VolumeDriver?: string;
  StorageOpt?: Record<string, string> | null;
  Annotations?: Record<string, string> | null;
  DeviceCgroupRules?: string[] | null;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  DeviceRequests?: Array<{ Driver?: string; Count?: number; Capabilities?: string[][] | null }> | null;
}

export interface EndpointSettingsBody {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  MacAddress?: string;
}

/** The answer to `POST /containers/create`. */
export interface ContainerCreateResponse {
  Id: string;
  Warnings: string[];
}

/** Cmd and Entrypoint may come as a string (Docker's strslice takes both). */
export function strSlice(v: string[] | string | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === "string" ? [v] : v;
}
