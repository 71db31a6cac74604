// The page bundle (dist/web/berth.js): registers the components and exports the engine API.
export { BerthLab } from "./berth-lab.js";
export { BerthRun } from "./berth-run.js";
export { BerthTerminal } from "./berth-terminal.js";
export { EngineClient, createEngine, sharedEngine, type EngineClientOptions, type OutputListener } from "./engine-client.js";
