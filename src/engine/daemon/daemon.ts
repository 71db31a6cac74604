import type { JsonMessage } from "../../common/api/json-message.js";
import type { Platform } from "../../common/oci-image.js";
import type { LocalImage } from "../images/images.js";
import type { CreateDeps } from "./container-create.js";

/**
 * The daemon's services as the Engine API routes use them: images,
 * containers and networks (CreateDeps) and the image operations. The docker
 * CLI layer (DockerCli) is one; the guest's `docker` and the API share it, so
 * a container started from one is seen by the other.
 */
export interface Daemon extends CreateDeps {
  /**
   * Pulls an image (`POST /images/create`), sending Docker's progress messages.
   * @throws BerthError image-not-found, registry-*, platform-not-available, …
   */
  pullImage(name: string, o: { platform: Platform; onMessage?: (m: JsonMessage) => void }): Promise<LocalImage>;
  /** Saves the image list beside the blobs when it changed (a restarted daemon finds the images). */
  persist(): Promise<void>;
  /**
   * Removes an image with Docker's rules (untag, conflicts, force): Docker's {Untagged}/{Deleted} items.
   * @throws BerthError image-not-found, container-wrong-state
   */
  removeImage(name: string, o: { force: boolean }): Array<{ Untagged?: string; Deleted?: string }>;
  /** Deletes the blobs no image names; answers the bytes freed. */
  collectBlobs(): Promise<number>;
  /**
   * Logs in to a registry ("docker.io", "127.0.0.1:5000").
   * @throws BerthError registry-unauthorized, registry-unavailable
   */
  login(server: string, creds: { username: string; password: string }): Promise<void>;
}

/** What `GET /version` and `GET /info` say of the machine. */
export interface SystemFacts {
  /** guest memory, bytes */
  memTotal: number;
  /** the guest kernel's release ("6.1.176") */
  kernelVersion: string;
  /** Berth's own version (package.json) */
  version: string;
}
