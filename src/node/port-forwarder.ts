import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server } from "node:net";
import type { GuestProcess } from "../engine/vm/guest-channel.js";
import type { EngineDaemon, PublishedPort } from "../engine/daemon/engine-daemon.js";

/**
 * `docker run -p 8080:80` under `berth`: a listener on the host's 127.0.0.1
 * per published TCP port, each connection carried into the container's port
 * through the guest (nsenter + nc). Listeners follow the running containers.
 */
export class PortForwarder {
  readonly #servers = new Map<number, Server>();
  readonly #udp = new Map<number, UdpSocket>();
  readonly #warn: (line: string) => void;
  #docker: EngineDaemon | undefined;

  constructor(warn: (line: string) => void) {
    this.#warn = warn;
  }

  attach(docker: EngineDaemon | undefined): void {
    this.#docker = docker;
  }

  update(ports: PublishedPort[]): void {
    this.#updateUdp(ports);
    const want = new Set(ports.filter((p) => p.proto === "tcp").map((p) => p.hostPort));
    for (const [port, server] of this.#servers) {
      if (!want.has(port)) {
        server.close();
        this.#servers.delete(port);
      }
    }
    for (const port of want) {
      if (this.#servers.has(port)) continue;
      const server = createServer((socket) => {
        let proc;
        try {
          proc = this.#docker!.connectPort(port, (b) => socket.write(b));
        } catch {
          socket.destroy();
          return;
        }
        socket.on("data", (b: Buffer) => proc.write(new Uint8Array(b)));
        socket.on("end", () => proc.closeStdin());
        socket.on("error", () => proc.kill(15));
        proc.exit.finally(() => socket.end()).catch(() => {});
      });
      server.on("error", (e: NodeJS.ErrnoException) => {
        this.#warn(`berth: Warning [usage]: Cannot forward 127.0.0.1:${port} to the container: ${e.code === "EADDRINUSE" ? "the port is in use on this machine" : e.message}`);
        this.#servers.delete(port);
      });
      server.listen(port, "127.0.0.1");
      this.#servers.set(port, server);
    }
  }

  /** UDP: a `nc -u` in the container's namespace per peer address; each read one datagram either way. */
  #updateUdp(ports: PublishedPort[]): void {
    const want = new Set(ports.filter((p) => p.proto === "udp").map((p) => p.hostPort));
    for (const [port, sock] of this.#udp) {
      if (!want.has(port)) {
        sock.close();
        this.#udp.delete(port);
      }
    }
    for (const port of want) {
      if (this.#udp.has(port)) continue;
      const sock = createSocket("udp4");
      const peers = new Map<string, GuestProcess>();
      sock.on("message", (msg, from) => {
        const key = `${from.address}:${from.port}`;
        let proc = peers.get(key);
        if (!proc) {
          try {
            proc = this.#docker!.connectPort(port, (b) => sock.send(b, from.port, from.address), "udp");
          } catch {
            return;
          }
          peers.set(key, proc);
          proc.exit.finally(() => peers.delete(key)).catch(() => {});
        }
        proc.write(new Uint8Array(msg));
      });
      sock.on("error", (e) => this.#warn(`berth: Warning [usage]: Cannot forward 127.0.0.1:${port}/udp to the container: ${e.message}`));
      sock.bind(port, "127.0.0.1");
      this.#udp.set(port, sock);
    }
  }

  close(): void {
    for (const s of this.#servers.values()) s.close();
    this.#servers.clear();
    for (const s of this.#udp.values()) s.close();
    this.#udp.clear();
  }
}
