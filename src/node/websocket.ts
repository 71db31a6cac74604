// WebSockets for v86 in Node (its relay adapter uses the global WebSocket,
// which Node 20 lacks): the one file on the Node side that imports ws.
import WebSocket from "ws";

export function installWebSocket(): void {
  if (!("WebSocket" in globalThis)) Object.assign(globalThis, { WebSocket });
}
