import { keyValues } from "../../common/api/run-flags.js";
import { columns, humanSize } from "../../common/docker-format.js";
import { last, parseFlags, requireArgs, usageError } from "../../common/docker-flags.js";
import { listVolumes, pruneVolumes } from "../daemon/volume-ops.js";
import { confirm, eachArgument, filtersOf, printFormat, printInspect, type Handler } from "./docker-cli-context.js";

/** `docker volume …`: the daemon's volumes (volumes.ts), with docker/cli 28.2.2's output. */
const sub: Record<string, Handler> = {
  async create(ctx, args) {
    const { opts, rest } = parseFlags(args, { "d,driver": "value", label: "value", "o,opt": "value", name: "value" }, ctx.path, { interspersed: true });
    requireArgs(rest, { max: 1 }, ctx.path);
    const named = last(opts, "name");
    // docker/cli's own check (cli/command/volume/create.go)
    if (named !== undefined && rest[0] !== undefined) throw usageError("conflicting options: cannot specify a volume-name through both --name and as a positional arg");
    const v = await ctx.volumes.create(rest[0] ?? named, { labels: keyValues(opts.get("label") ?? []), options: keyValues(opts.get("opt") ?? []), ...(last(opts, "driver") ? { driver: last(opts, "driver")! } : {}) });
    ctx.s.stdout(`${v.name}\n`);
    return 0;
  },
  async ls(ctx, args) {
    const { opts, rest } = parseFlags(args, { "q,quiet": "bool", "f,filter": "value", format: "value" }, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 0 }, ctx.path);
    const list = listVolumes(ctx, filtersOf(opts));
    if (opts.has("quiet")) {
      ctx.s.stdout(list.map((v) => `${v.name}\n`).join(""));
      return 0;
    }
    const rows = list.map((v) => {
      const d = ctx.volumes.doc(v);
      return { Name: v.name, Driver: "local", Scope: "local", Mountpoint: d.Mountpoint, Labels: Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).join(","), Links: String(ctx.volumes.users(v.name).length), Size: "N/A" };
    });
    const format = last(opts, "format");
    if (format && format !== "table") return printFormat(ctx, format, rows, { Name: "VOLUME NAME", Driver: "DRIVER", Scope: "SCOPE", Mountpoint: "MOUNTPOINT", Labels: "LABELS", Links: "LINKS", Size: "SIZE" });
    ctx.s.stdout(columns([["DRIVER", "VOLUME NAME"], ...rows.map((r) => [r.Driver, r.Name])]));
    return 0;
  },
  async inspect(ctx, args) {
    const { opts, rest } = parseFlags(args, { "f,format": "value" }, ctx.path, { interspersed: true });
    requireArgs(rest, { min: 1 }, ctx.path);
    return printInspect(ctx, rest.map((r) => () => ({ ...ctx.volumes.doc(ctx.volumes.get(r)) })), last(opts, "format"));
  },
  async rm(ctx, args) {
    const { opts, rest } = parseFlags(args, { "f,force": "bool" }, ctx.path, { interspersed: true });
    requireArgs(rest, { min: 1 }, ctx.path);
    return eachArgument(ctx, rest, async (name) => {
      // with --force a missing volume is no error: the daemon answers 204 and the CLI prints the name
      if (!(opts.has("force") && !ctx.volumes.tryGet(name))) await ctx.volumes.remove(name);
      ctx.s.stdout(`${name}\n`);
    });
  },
  async prune(ctx, args) {
    const { opts, rest } = parseFlags(args, { "a,all": "bool", "f,force": "bool", filter: "value" }, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 0 }, ctx.path);
    const filters = filtersOf(opts);
    if (opts.has("all") && filters["all"]) throw usageError("conflicting options: cannot specify both --all and --filter all=1");
    if (opts.has("all")) filters["all"] = ["true"];
    const what = opts.has("all") ? "all local volumes" : "anonymous local volumes";
    if (!(await confirm(ctx, `WARNING! This will remove ${what} not used by at least one container.`, opts.has("force")))) return 0;
    const r = await pruneVolumes(ctx, filters);
    ctx.s.stdout(`${r.VolumesDeleted ? `Deleted Volumes:\n${r.VolumesDeleted.map((n) => `${n}\n`).join("")}\n` : ""}Total reclaimed space: ${humanSize(r.VolumesDeleted ? r.SpaceReclaimed : 0)}\n`);
    return 0;
  },
};

/** `docker volume create`, … by handler name ("volume-create"). */
export const VOLUME_COMMANDS: Record<string, Handler> = Object.fromEntries(Object.entries(sub).map(([k, h]) => [`volume-${k}`, h]));
