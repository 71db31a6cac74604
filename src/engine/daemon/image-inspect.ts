import { shortName } from "../../common/reference.js";
import type { ImageStore, LocalImage } from "../images/images.js";

/** Docker's image inspect document (`GET /images/{name}/json`, `docker image inspect`; moby api/types/image.InspectResponse). */
export function imageJson(images: ImageStore, l: LocalImage): Record<string, unknown> {
  const c = l.image.config;
  return {
    Id: l.id,
    RepoTags: images.tagsOf(l).map(shortName),
    RepoDigests: [...l.repoDigests],
    Parent: "",
    Comment: "",
    Created: c.created ?? "",
    DockerVersion: "",
    Author: c.author ?? "",
    Config: { Hostname: "", Domainname: "", User: "", AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: "", Volumes: null, WorkingDir: "", Entrypoint: null, OnBuild: null, Labels: null, ...c.config },
    Architecture: c.architecture ?? "386",
    Os: c.os ?? "linux",
    Size: l.size,
    GraphDriver: { Data: null, Name: "overlay2" },
    RootFS: { Type: "layers", Layers: c.rootfs?.diff_ids ?? [] },
    Metadata: { LastTagTime: "0001-01-01T00:00:00Z" },
  };
}
