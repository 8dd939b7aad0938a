import { connect } from 'node:net';

/** How a slow request ended. */
export interface SlowEnd {
  /** Milliseconds from the connection to its close. */
  readonly afterMs: number;
  /** Whatever the server answered before closing (status line first), possibly nothing. */
  readonly response: string;
  /** True when the server ended or reset the connection; false when `stop()` did. */
  readonly byServer: boolean;
}

export interface SlowSocket {
  readonly ended: Promise<SlowEnd>;
  /** Closes the connection from this side (counts as not closed by the server). */
  stop(): void;
}

export interface SlowRequestOptions {
  /** Request line and header lines, without the blank line that ends the headers. */
  readonly head: readonly string[];
  /** Sent at once after the head; the blank line is sent too unless `trickleHeaders`. */
  readonly body?: string;
  /** Send the head itself a byte at a time, never finishing it (slow headers). */
  readonly trickleHeaders?: boolean;
  /** One byte every this many milliseconds; 0: nothing more after the start. */
  readonly trickleEveryMs: number;
}

/**
 * A client that never finishes its request: it sends the head (or trickles it), then a byte
 * of body now and then, and never closes by itself. Resolves `ended` when the connection ends.
 */
export function openSlowRequest(url: string, { head, body = '', trickleHeaders = false, trickleEveryMs }: SlowRequestOptions): SlowSocket {
  const { hostname, port } = new URL(url);
  const startedAt = performance.now();
  const socket = connect({ host: hostname, port: Number(port) });
  let response = '';
  let stoppedHere = false;
  let timer: NodeJS.Timeout | undefined;
  const pendingHead = `${head.join('\r\n')}\r\n`;
  let headSent = 0;
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    response += chunk.toString('latin1');
  });
  // Writes after the server closed fail with EPIPE or ECONNRESET: that is the close we wait for.
  socket.on('error', () => {});
  socket.once('connect', () => {
    if (!trickleHeaders) socket.write(`${pendingHead}\r\n${body}`);
    if (trickleEveryMs > 0) {
      timer = setInterval(() => {
        if (socket.destroyed || !socket.writable) return;
        if (trickleHeaders) {
          socket.write(pendingHead[headSent % pendingHead.length] ?? 'x');
          headSent += 1;
        } else socket.write('x');
      }, trickleEveryMs);
    }
  });
  const ended = new Promise<SlowEnd>((resolve) => {
    socket.once('close', () => {
      clearInterval(timer);
      resolve({ afterMs: performance.now() - startedAt, response, byServer: !stoppedHere });
    });
  });
  return {
    ended,
    stop() {
      stoppedHere = true;
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** The status code of a raw HTTP response, if one arrived. */
export function statusOf(response: string): number | undefined {
  const status = /^HTTP\/1\.1 (\d{3})/.exec(response)?.[1];
  return status === undefined ? undefined : Number(status);
}
