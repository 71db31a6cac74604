import { containerSpec, type ContainerSpecOptions } from "../../common/oci-spec.js";
import type { ExecOptions, GuestChannel, GuestProcess } from "../vm/guest-channel.js";

export interface RunContainerOptions extends ContainerSpecOptions {
  name: string;
  /** guest directories holding the image's layers, top first */
  layers: readonly string[];
}

const BUNDLES = "/run/berth/bundles";

/**
 * One container from start to finish, the way `crun run` does it but through
 * the agent: overlay rootfs (tmpfs upper), create, start, wait, delete, unmount.
 * Resolves with the container's exit status.
 */
export async function runContainer(
  channel: GuestChannel,
  o: RunContainerOptions,
  io: ExecOptions & { onCreated?: (p: GuestProcess) => void } = {},
): Promise<number> {
  const bundle = `${BUNDLES}/${o.name}`;
  await channel.mountOverlay(`${bundle}/rootfs`, o.layers);
  try {
    // a tty container gets its pty from crun ("terminal": true), made inside it: a controlling terminal
    const config = JSON.stringify(containerSpec({ cgroupsPath: `/berth/${o.name}`, ...o, terminal: o.terminal ?? io.tty ?? false }));
    const proc = await channel.createContainer({ name: o.name, bundle, config }, io);
    // the container's stdin is a pipe: whoever runs it feeds it, or it is closed (EOF, as /dev/null)
    if (io.onCreated) io.onCreated(proc);
    else if (!io.tty) proc.closeStdin();
    try {
      await channel.startContainer(o.name);
      return await proc.exit;
    } finally {
      await channel.deleteContainer(o.name).catch(() => {});
    }
  } finally {
    await cleanup(channel, bundle);
  }
}

async function cleanup(channel: GuestChannel, bundle: string): Promise<void> {
  const p = channel.exec({ argv: ["/bin/sh", "-c", 'umount "$1/rootfs"; umount "$1/rootfs.rw"; rm -rf "$1"', "cleanup", bundle] });
  await p.exit.catch(() => {});
}

/** A busybox image built in the guest from its own static busybox: enough to test crun with. */
export async function makeBusyboxLayer(channel: GuestChannel, dir: string): Promise<void> {
  const script = `set -e; mkdir -p "$1/bin" "$1/proc" "$1/dev" "$1/sys" "$1/etc" "$1/tmp" "$1/root"
cp /bin/busybox "$1/bin/busybox"
for a in $(/bin/busybox --list); do [ -e "$1/bin/$a" ] || ln -s busybox "$1/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$1/etc/passwd"; echo 'root:x:0:' > "$1/etc/group"`;
  const p = channel.exec({ argv: ["/bin/sh", "-c", script, "mklayer", dir], env: ["PATH=/bin:/usr/bin"] });
  const code = await p.exit;
  if (code !== 0) throw new Error(`making the busybox layer exited ${code}`);
}
