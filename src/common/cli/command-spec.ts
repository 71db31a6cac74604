import { DOCKER_COMMANDS, type CommandSpec } from "./docker-commands.js";

export type { CommandSpec };

/** The other names cobra gives a command (docker/cli's Aliases), by the name its usage line uses. */
const ALIASES: Record<string, string> = {
  "container list": "container ls", "container ps": "container ls", "container remove": "container rm",
  "image list": "image ls", "image remove": "image rm", "network list": "network ls", "network remove": "network rm",
  "context list": "context ls", "context remove": "context rm",
  "volume list": "volume ls", "volume remove": "volume rm",
};

/** A typed command path ("container list") as cobra names it ("container ls"). */
export function commandPath(typed: string): string {
  return ALIASES[typed] ?? typed;
}

/** The spec of a command path ("run", "network create"), or undefined for one Docker's CLI does not have. */
export function commandSpec(path: string): CommandSpec | undefined {
  return DOCKER_COMMANDS[commandPath(path)];
}
