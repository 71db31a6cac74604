// The page bundle (dist/web/berth.js): registers the components.
export { BerthTerminal } from "./berth-terminal.js";
export { EngineClient, sharedEngine } from "./engine-client.js";
