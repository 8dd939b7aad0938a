import { connect, createServer, type Socket } from 'node:net';

export interface TcpTap {
  readonly host: string;
  readonly port: number;
  /** Everything clients wrote through the tap so far, as text (SMTP commands, AUTH included). */
  clientBytes(): string;
  close(): Promise<void>;
}

/** A TCP relay to `target` on 127.0.0.1 that keeps a copy of what clients send: proof of what went over the wire. */
export async function startTcpTap(target: { readonly host: string; readonly port: number }): Promise<TcpTap> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp tap has no port');
  return {
    host: '127.0.0.1',
    port: address.port,
    clientBytes: () => Buffer.concat(chunks).toString('utf8'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
