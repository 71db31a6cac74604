/**
 * Engine API answers about a container's files and resources, with Docker's
 * JSON field names (moby api/types/container): changes, archive stats, top, stats.
 */

/** One change of `GET /containers/{id}/changes` (moby api/types/container.FilesystemChange): Kind 0 modified, 1 added, 2 deleted. */
export interface FilesystemChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

/**
 * A path's stat as `HEAD /containers/{id}/archive` answers it, base64 JSON in
 * the X-Docker-Container-Path-Stat header (moby api/types/container.PathStat).
 */
export interface PathStat {
  name: string;
  /** bytes */
  size: number;
  /** Go's os.FileMode: the permission bits and Go's type bits (ModeDir 1<<31, ModeSymlink 1<<27, …) */
  mode: number;
  /** RFC 3339 */
  mtime: string;
  linkTarget: string;
}

/** `GET /containers/{id}/top`'s answer (moby api/types/container.TopResponse). */
export interface TopResponse {
  Titles: string[];
  Processes: string[][];
}

/** One sample of `GET /containers/{id}/stats` (moby api/types/container.StatsResponse; the fields the docker CLI reads). */
export interface StatsResponse {
  name: string;
  id: string;
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: { io_service_bytes_recursive: Array<{ major: number; minor: number; op: string; value: number }> | null };
  num_procs: number;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number; tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number }>;
}

export interface CpuStats {
  /** nanoseconds */
  cpu_usage: { total_usage: number; usage_in_kernelmode: number; usage_in_usermode: number };
  /** nanoseconds of every CPU of the machine */
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}
