import { keyValues } from "../../common/api/run-flags.js";
import { listNetworks } from "../networks/networks.js";
import { pruneNetworks } from "../daemon/prune.js";
import { columns } from "../../common/docker-format.js";
import { usageError, last, parseFlags, requireArgs } from "../../common/docker-flags.js";
import { confirm, eachArgument, filtersOf, printFormat, printInspect, type Handler } from "./docker-cli-context.js";
import type { Network } from "../networks/networks.js";
import { networkJson } from "../daemon/network-inspect.js";

/** `docker network …`: bridge networks in the VM (see networks.ts). */
const sub: Record<string, Handler> = {
  async create(ctx, args) {
    const { opts, rest } = parseFlags(args, { "d,driver": "value", subnet: "value", label: "value", internal: "bool", attachable: "bool", gateway: "value", "ip-range": "value" }, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 1 }, ctx.path);
    const labels = keyValues(opts.get("label") ?? []);
    // docker/cli's own check (cli/command/network/create.go), before the daemon is asked
    if ((opts.has("gateway") || opts.has("ip-range")) && !opts.has("subnet")) throw usageError("every ip-range or gateway must have a corresponding subnet");
    const one = (k: string): Record<string, string> => (last(opts, k) ? { [k === "ip-range" ? "ipRange" : k]: last(opts, k)! } : {});
    const n = ctx.networks.create(rest[0]!, { ...one("subnet"), ...one("gateway"), ...one("ip-range"), labels, internal: opts.has("internal"), ...one("driver") });
    ctx.s.stdout(`${n.id}\n`);
    return 0;
  },
  async ls(ctx, args) {
    const { opts } = parseFlags(args, { "q,quiet": "bool", "no-trunc": "bool", "f,filter": "value", format: "value" }, ctx.path, { interspersed: true });
    const filters = filtersOf(opts);
    const list = listNetworks(ctx.networks.list(), filters);
    list.sort((a, b) => a.name.localeCompare(b.name));
    const id = (n: Network): string => (opts.has("no-trunc") ? n.id : n.id.slice(0, 12));
    if (opts.has("quiet")) {
      ctx.s.stdout(list.map((n) => `${id(n)}\n`).join(""));
      return 0;
    }
    const rows = list.map((n) => ({ ID: id(n), Name: n.name, Driver: n.driver, Scope: "local", Internal: String(n.internal) }));
    const format = last(opts, "format");
    if (format && format !== "table") return printFormat(ctx, format, rows, { ID: "NETWORK ID", Name: "NAME", Driver: "DRIVER", Scope: "SCOPE", Internal: "INTERNAL" });
    ctx.s.stdout(columns([["NETWORK ID", "NAME", "DRIVER", "SCOPE"], ...rows.map((r) => [r.ID, r.Name, r.Driver, r.Scope])]));
    return 0;
  },
  async inspect(ctx, args) {
    const { opts, rest } = parseFlags(args, { "f,format": "value", "v,verbose": "bool" }, ctx.path, { interspersed: true });
    requireArgs(rest, { min: 1 }, ctx.path);
    return printInspect(ctx, rest.map((r) => () => networkJson(ctx, ctx.networks.find(r))), last(opts, "format"));
  },
  async rm(ctx, args) {
    const { opts, rest } = parseFlags(args, { "f,force": "bool" }, ctx.path, { interspersed: true });
    requireArgs(rest, { min: 1 }, ctx.path);
    const code = await eachArgument(ctx, rest, async (r) => {
      await ctx.networks.remove(ctx.networks.find(r));
      ctx.s.stdout(`${r}\n`);
    }, opts.has("force") ? { force: "quiet" } : {});
    // docker 28.2.2's closing line (cli/command/network/remove.go)
    if (code) throw usageError(`exit status ${code}`);
    return 0;
  },
  async connect(ctx, args) {
    const { opts, rest } = parseFlags(args, { alias: "value", ip: "value" }, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 2 }, ctx.path);
    await ctx.networks.connect(ctx.networks.find(rest[0]!), ctx.containers.find(rest[1]!), opts.get("alias") ?? [], last(opts, "ip"));
    return 0;
  },
  async disconnect(ctx, args) {
    const { rest } = parseFlags(args, { "f,force": "bool" }, ctx.path, { interspersed: true });
    requireArgs(rest, { exact: 2 }, ctx.path);
    await ctx.networks.disconnect(ctx.networks.find(rest[0]!), ctx.containers.find(rest[1]!));
    return 0;
  },
  async prune(ctx, args) {
    const { opts } = parseFlags(args, { "f,force": "bool", filter: "value" }, ctx.path, { interspersed: true });
    if (!(await confirm(ctx, "WARNING! This will remove all custom networks not used by at least one container.", opts.has("force")))) return 0;
    const gone = await pruneNetworks(ctx, filtersOf(opts));
    ctx.s.stdout(gone.length ? `Deleted Networks:\n${gone.join("\n")}\n` : "");
    return 0;
  },
};

/** `docker network create`, … by handler name ("network-create"). */
export const NETWORK_COMMANDS: Record<string, Handler> = Object.fromEntries(Object.entries(sub).map(([k, h]) => [`network-${k}`, h]));
