import type { JsonMessage } from "../../common/api/json-message.js";
import type { Platform } from "../../common/oci-image.js";
import type { PulledImage } from "../images/image-puller.js";
import type { LocalImage } from "../images/images.js";
import type { BlobStore } from "../store/blob-store.js";
import type { MergedView } from "../unpack/layer-store.js";
import type { CreateDeps } from "./container-create.js";
import type { EventBus } from "./events.js";

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
  /**
   * Searches a registry: TERM on Docker Hub, or REGISTRY/TERM.
   * @throws BerthError registry-unavailable, registry-unauthorized
   */
  searchImages(term: string, limit: number): Promise<SearchResult[]>;
  /** the one event bus (`GET /events`, `docker events`) */
  readonly events: EventBus;
  /** where blobs are kept (image layers and configs), when the daemon has a store */
  readonly store: BlobStore | undefined;
  /** the paths an image's layers show, merged (unpacked on first use) */
  imageView(local: LocalImage): Promise<MergedView>;
  /** unpacks the layers of an image made here (commit, import, load) from their bytes; answers the entries neutralised */
  unpackLayers(image: Pick<PulledImage, "layers">, data: ReadonlyMap<string, Uint8Array>): Promise<string[]>;
}

/** A registry's search hit. */
export interface SearchResult {
  name: string;
  description: string;
  stars: number;
  official: boolean;
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
