// @types/node 20 does not declare WebAssembly (lib.dom does); these are the
// parts src/node uses. The engine, compiled with lib WebWorker, has the full types.
declare namespace WebAssembly {
  interface Module {}
  function compile(bytes: ArrayBuffer): Promise<Module>;
}
