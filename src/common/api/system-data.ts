/**
 * Engine API answers about the daemon's storage, with Docker's JSON field
 * names: prune reports (moby api/types/container, image) and disk usage (system).
 */

/** `POST /containers/prune`'s answer (moby api/types/container.PruneReport). */
export interface ContainerPruneReport {
  ContainersDeleted: string[] | null;
  /** bytes */
  SpaceReclaimed: number;
}

/** `POST /images/prune`'s answer (moby api/types/image.PruneReport). */
export interface ImagePruneReport {
  ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }> | null;
  /** bytes */
  SpaceReclaimed: number;
}

/** `GET /system/df`'s answer (moby api/types/system.DiskUsage), with the fields the docker CLI reads. */
export interface DiskUsage {
  /** bytes of every distinct layer */
  LayersSize: number;
  Images: Array<{ Id: string; RepoTags: string[]; Created: number; Size: number; SharedSize: number; Containers: number; RepoDigests: string[]; ParentId: string; Labels: Record<string, string> | null; VirtualSize: number }>;
  Containers: Array<{ Id: string; Names: string[]; Image: string; ImageID: string; Command: string; Created: number; State: string; Status: string; SizeRw: number; SizeRootFs: number; Labels: Record<string, string>; Mounts: unknown[] }>;
  Volumes: Array<{ Name: string; Driver: string; Mountpoint: string; CreatedAt: string; Labels: Record<string, string> | null; Scope: string; Options: Record<string, string> | null; UsageData: { Size: number; RefCount: number } }>;
  BuildCache: unknown[];
}
