import { startSendGridStandIn } from '@mailroute/standins/sendgrid';
import type { ChildReply, ParentRequest, StandInChildOptions } from './standin-process.js';

/** Child-process entry of `startStandInProcess`: the SendGrid stand-in on a core of its own. */

const options = JSON.parse(process.argv[2] ?? '{}') as StandInChildOptions;
const standIn = await startSendGridStandIn({ apiKey: options.apiKey, latencyMs: options.latencyMs, logLimit: 100 });
const send = (reply: ChildReply) => process.send?.(reply);

process.on('message', (request: ParentRequest) => {
  if (request.type === 'usage') {
    send({
      type: 'usage',
      id: request.id,
      cpu: process.cpuUsage(),
      requests: standIn.counters.requests,
      accepted: standIn.counters.accepted,
    });
    return;
  }
  void shutdown();
});
// Closing, or the parent died: nothing is left to serve.
process.on('disconnect', () => void shutdown());

async function shutdown(): Promise<void> {
  await standIn.close();
  process.exit(0);
}
send({ type: 'ready', url: standIn.url });
