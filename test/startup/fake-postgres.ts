import { createServer, type Server, type Socket } from "node:net";

/**
 * A Postgres server that asks for a password and refuses every one, as a server with md5 or
 * scram authentication does (SQLSTATE 28P01). The shared test Postgres trusts every local
 * connection, so a wrong password cannot be reproduced against it; this speaks just enough of the
 * wire protocol (startup message, AuthenticationCleartextPassword, PasswordMessage, ErrorResponse).
 */
export async function startPasswordRefusingPostgres(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffered = Buffer.alloc(0);
    let stage: "startup" | "password" = "startup";
    let user = "?";
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (stage === "startup") {
        if (buffered.length < 4) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        const params = buffered.subarray(8, length).toString("utf8").split("\0");
        user = params[params.indexOf("user") + 1] ?? "?";
        buffered = buffered.subarray(length);
        stage = "password";
        // 'R', length 8, code 3: send the password in clear text.
        const ask = Buffer.alloc(9);
        ask.write("R", 0);
        ask.writeInt32BE(8, 1);
        ask.writeInt32BE(3, 5);
        socket.write(ask);
        return;
      }
      if (buffered.length < 5 || buffered.length < 1 + buffered.readInt32BE(1)) return;
      socket.end(errorResponse("28P01", `password authentication failed for user "${user}"`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake postgres has no port");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => { resolve(); });
      }),
  };
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, "utf8");
  const head = Buffer.alloc(5);
  head.write("E", 0);
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}
