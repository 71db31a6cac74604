/**
 * `POST /containers/{id}/update`'s body (moby api/types/container.UpdateConfig),
 * the resources Berth can change on a running container and the restart policy.
 */
export interface ContainerUpdateBody {
  /** bytes; 0 leaves it */
  Memory?: number;
  MemorySwap?: number;
  /** CPUs × 1e9 */
  NanoCpus?: number;
  CpuShares?: number;
  /** -1 or 0: unlimited */
  PidsLimit?: number | null;
  RestartPolicy?: { Name?: "" | "no" | "always" | "on-failure" | "unless-stopped"; MaximumRetryCount?: number };
}
