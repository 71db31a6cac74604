import type { TopResponse } from "../../common/api/container-data.js";
import { BerthError, ErrorCode } from "../../common/errors.js";
import { isRunning } from "../../common/container-state.js";
import type { Container } from "../containers/containers.js";
import type { Daemon } from "./daemon.js";


const dec = new TextDecoder();
/** the guest kernel's USER_HZ: /proc's times are in 1/100 s */
const HZ = 100;

/** Clock ticks as ps prints TIME: "HH:MM:SS". */
function psTime(ticks: number): string {
  const s = Math.floor(ticks / HZ);
  return [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, "0")).join(":");
}

/**
 * The processes of a running container as `ps -ef` shows them (UID PID PPID
 * C STIME TTY TIME CMD): the processes of its cgroup, read from the guest's
 * /proc. Docker runs the host's ps with `ps_args`; Berth answers -ef's columns
 * only, and refuses other options rather than show them wrongly.
 * @throws BerthError container-wrong-state (not running), usage (ps options other than -ef)
 */
export async function containerTop(d: Daemon, c: Container, psArgs = "-ef"): Promise<TopResponse> {
  if (!isRunning(c.state)) throw new BerthError(ErrorCode.containerWrongState, `Cannot show the processes of "${c.name}": container ${c.id} is not running`);
  if (psArgs !== "-ef" && psArgs !== "") throw new BerthError(ErrorCode.invalidParameter, `Cannot show the processes of "${c.name}": Berth's top shows ps -ef's columns and takes no other ps options (got "${psArgs}")`);
  // per process: uid, pid, ppid, utime+stime (ticks), the tty number, the command line
  const script = `for p in $(cat "$1/cgroup.procs"); do
    [ -r /proc/$p/stat ] || continue
    u=$(awk '/^Uid:/{print $2}' /proc/$p/status)
    set -- "$1" $(sed 's/.*) //' /proc/$p/stat)
    printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$u" "$p" "$3" "$((${13} + ${14}))" "$6" "$(tr '\\0' ' ' < /proc/$p/cmdline)"
  done`;
  const r = await d.containers.guest(["/bin/sh", "-c", script, "top", c.cgroup]);
  const started = new Date(c.state.startedAt).toISOString().slice(11, 16);
  const Processes: string[][] = [];
  for (const line of dec.decode(r.stdout).split("\n").filter(Boolean)) {
    const [uid, pid, ppid, ticks, tty, cmd] = line.split("\t") as [string, string, string, string, string, string];
    // tty_nr: major 136 is /dev/pts/N (minor in the low byte)
    const ttyNr = Number(tty);
    const ttyName = (ttyNr >> 8) === 136 ? `pts/${ttyNr & 0xff}` : "?";
    Processes.push([uid === "0" ? "root" : uid, pid, ppid, "0", started, ttyName, psTime(Number(ticks)), cmd.trim()]);
  }
  return { Titles: ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], Processes };
}
