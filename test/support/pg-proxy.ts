/**
 * A plaintext PostgreSQL wire-protocol proxy for tests that must stall one
 * client at an exact step: it reads the frontend's messages and, once a message
 * matching `holdAfter` has passed, holds everything that client sends next until
 * `release()` — a "network stall" or "slow Lambda" placed between two statements.
 * Plaintext only (the client's connection has `ssl: false`): under TLS the
 * messages cannot be read.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import "./promise-with-resolvers.js";

export interface PgProxy {
  readonly port: number;
  /** Resolves when a held client has tried to send its next message. */
  readonly held: Promise<void>;
  /** Forward what was held, and everything after it. */
  release(): void;
  stop(): Promise<void>;
}

/** Frontend messages: the untyped startup packet, then `type byte, int32 length, body`. */
class FrontendReader {
  private buf = Buffer.alloc(0);
  private started = false;

  /** Append bytes; returns the complete messages (raw bytes and their text). */
  push(chunk: Buffer): { raw: Buffer; text: string }[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: { raw: Buffer; text: string }[] = [];
    for (;;) {
      const header = this.started ? 5 : 4;
      if (this.buf.length < header) break;
      const len = this.started ? this.buf.readInt32BE(1) + 1 : this.buf.readInt32BE(0);
      if (this.buf.length < len) break;
      const raw = this.buf.subarray(0, len);
      this.buf = this.buf.subarray(len);
      if (!this.started) {
        // An SSLRequest (80877103) would be followed by another startup packet.
        this.started = raw.length !== 8 || raw.readInt32BE(4) !== 80877103;
      }
      out.push({ raw: Buffer.from(raw), text: raw.toString("latin1") });
    }
    return out;
  }
}

/**
 * Proxy `127.0.0.1:<port>` to `target`. The first client connection that sends a
 * message matching `holdAfter` is held after that message; other connections
 * pass untouched.
 */
export async function startPgProxy(
  target: { host: string; port: number },
  holdAfter: RegExp,
): Promise<PgProxy> {
  const held = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  let claimed = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    sockets.add(client);
    sockets.add(upstream);
    const reader = new FrontendReader();
    let holding = false;
    const queue: Buffer[] = [];
    client.on("data", (chunk: Buffer) => {
      for (const msg of reader.push(chunk)) {
        if (holding) {
          queue.push(msg.raw);
          held.resolve();
          continue;
        }
        upstream.write(msg.raw);
        if (!claimed && holdAfter.test(msg.text)) {
          claimed = true;
          holding = true;
          void release.promise.then(() => {
            holding = false;
            for (const raw of queue.splice(0)) upstream.write(raw);
          });
        }
      }
    });
    upstream.on("data", (chunk) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", close);
    upstream.on("close", close);
    client.on("error", close);
    upstream.on("error", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy did not bind");
  return {
    port: address.port,
    held: held.promise,
    release: () => release.resolve(),
    async stop() {
      release.resolve();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
