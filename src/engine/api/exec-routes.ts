import { resolveUser } from "../daemon/container-create.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { randomId } from "../random-id.js";
import type { Container } from "../containers/containers.js";
import type { Daemon } from "../daemon/daemon.js";
import type { GuestProcess } from "../vm/guest-channel.js";
import { MULTIPLEXED_STREAM, RAW_STREAM, empty, frame, json, type Hijacked } from "./api-types.js";
import { jsonBody, route, type Route } from "./router.js";

/** `POST /containers/{id}/exec`'s body (moby api/types/container.ExecOptions). */
interface ExecCreateBody {
  Cmd?: string[] | null;
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Privileged?: boolean;
  Detach?: boolean;
  ConsoleSize?: [number, number] | null;
}

/** An exec instance: made by create, run by start, read by inspect (Docker keeps them while the container lives). */
interface ExecRecord {
  id: string;
  container: Container;
  body: ExecCreateBody;
  proc: GuestProcess | undefined;
  running: boolean;
  exitCode: number | null;
  /** "uid:gid" from the image's /etc/passwd and /etc/group (crun exec takes numbers), or undefined for the container's user */
  user: string | undefined;
}


/** Engine API routes for exec: create, start (attached over a hijacked connection, or detached), inspect, resize. */
export function execRoutes(d: Daemon): Route[] {
  const execs = new Map<string, ExecRecord>();
  const find = (id: string): ExecRecord => {
    const e = execs.get(id);
    if (!e) throw new BerthError(ErrorCode.containerNotFound, `Cannot find exec "${id}": No such exec instance: ${id}`);
    return e;
  };
  const spawn = (e: ExecRecord, out: { stdout?: (b: Uint8Array) => void; stderr?: (b: Uint8Array) => void }, stdin: boolean): GuestProcess => {
    const b = e.body;
    const p = d.containers.exec(e.container, b.Cmd!, {
      tty: b.Tty ?? false,
      stdin,
      ...(out.stdout ? { onStdout: out.stdout } : {}),
      ...(out.stderr ? { onStderr: out.stderr } : {}),
      env: b.Env ?? [],
      execId: e.id,
      ...(e.user ? { user: e.user } : {}),
      ...(b.WorkingDir ? { workdir: b.WorkingDir } : {}),
    });
    e.proc = p;
    e.running = true;
    if (b.Tty && b.ConsoleSize?.[0] && b.ConsoleSize[1]) p.resize(b.ConsoleSize[0], b.ConsoleSize[1]);
    p.exit.then(
      (code) => Object.assign(e, { running: false, exitCode: code }),
      () => Object.assign(e, { running: false, exitCode: 126 }),
    );
    return p;
  };
  return [
    route("POST", "/containers/{id}/exec", async (req, [id]) => {
      const c = d.containers.find(id!);
      const body = jsonBody<ExecCreateBody>(req);
      if (!Array.isArray(body.Cmd) || body.Cmd.length === 0) throw new BerthError(ErrorCode.invalidParameter, "Cannot exec: No exec command specified");
      if (c.state.status !== "running") {
        throw new BerthError(ErrorCode.containerWrongState, c.state.status === "paused" ? `Cannot exec in "${c.name}": Container ${c.id} is paused, unpause the container before exec` : `Cannot exec in "${c.name}": container ${c.id} is not running`);
      }
      const local = d.images.find(c.config.imageId);
      const spec = body.User;
      const ids = spec && local ? await resolveUser(d, local, spec, (why) => new BerthError(ErrorCode.invalidParameter, `Cannot exec as "${spec}": ${why}`)) : undefined;
      const e: ExecRecord = { id: randomId(), container: c, body, proc: undefined, running: false, exitCode: null, user: ids ? `${ids.uid}:${ids.gid}` : spec || undefined };
      execs.set(e.id, e);
      d.containers.event(c, `exec_create: ${body.Cmd.join(" ")}`, { execID: e.id });
      return json({ Id: e.id }, 201);
    }),
    route("POST", "/exec/{id}/start", (req, [id]) => {
      const e = find(id!);
      const start = jsonBody<{ Detach?: boolean; Tty?: boolean }>(req, { optional: true });
      if (e.proc) throw new BerthError(ErrorCode.containerWrongState, `Cannot start exec "${e.id}": exec instance ${e.id} has already been started`);
      if (start.Detach) {
        spawn(e, {}, false).exit.catch(() => {});
        return empty(200);
      }
      const tty = e.body.Tty ?? false;
      return {
        kind: "hijack",
        contentType: tty ? RAW_STREAM : MULTIPLEXED_STREAM,
        run: async (conn: Hijacked) => {
          const b = e.body;
          const p = spawn(e, {
            ...(b.AttachStdout ? { stdout: (x: Uint8Array) => conn.write(tty ? x : frame(1, x)) } : {}),
            ...(b.AttachStderr ? { stderr: (x: Uint8Array) => conn.write(tty ? x : frame(2, x)) } : {}),
          }, b.AttachStdin ?? false);
          if (b.AttachStdin) conn.onData((x) => (x.length ? p.write(x) : tty ? undefined : p.closeStdin()));
          conn.onClose(() => {
            if (e.running && tty) p.kill(1);
          });
          await p.exit.catch(() => {});
        },
      };
    }),
    route("GET", "/exec/{id}/json", (_req, [id]) => {
      const e = find(id!);
      const [entrypoint, ...args] = e.body.Cmd ?? [];
      return json({
        ID: e.id,
        Running: e.running,
        ExitCode: e.exitCode,
        ProcessConfig: { tty: e.body.Tty ?? false, entrypoint, arguments: args, privileged: e.body.Privileged ?? false, user: e.body.User ?? "" },
        OpenStdin: e.body.AttachStdin ?? false,
        OpenStderr: e.body.AttachStderr ?? false,
        OpenStdout: e.body.AttachStdout ?? false,
        CanRemove: !e.running && e.exitCode !== null,
        ContainerID: e.container.id,
        DetachKeys: "",
        Pid: 0,
      });
    }),
    route("POST", "/exec/{id}/resize", (req, [id]) => {
      const e = find(id!);
      const h = Number(req.query.get("h") ?? 0);
      const w = Number(req.query.get("w") ?? 0);
      if (e.proc && e.body.Tty && h > 0 && w > 0) e.proc.resize(h, w);
      return empty(200);
    }),
  ];
}
