import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST as it arrived. */
export interface ReceivedNotice {
  readonly path: string;
  readonly body: Record<string, unknown>;
  /** When it arrived (this process's clock, epoch ms). */
  readonly at: number;
}

export interface AlertReceiver {
  /** `http://127.0.0.1:<port>`; post to any path under it. */
  readonly url: string;
  readonly received: ReceivedNotice[];
  close(): Promise<void>;
}

/**
 * A local HTTP endpoint standing in for a Slack incoming webhook and a JSON webhook: it takes
 * every JSON POST with 200 `ok`, as Slack answers, and keeps it.
 */
export async function startAlertReceiver(): Promise<AlertReceiver> {
  const received: ReceivedNotice[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on('end', () => {
      try {
        received.push({ path: request.url ?? '', body: JSON.parse(text) as Record<string, unknown>, at: Date.now() });
        response.end('ok');
      } catch {
        response.statusCode = 400;
        response.end('invalid_payload');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
