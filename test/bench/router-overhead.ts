import { accepted, createRouter, type Message, type Provider } from '@mailroute/core';
import { sampleMessage } from '@mailroute/core/testing';
import { createMessage, type Receipt, type Transport } from '@upyo/core';
import { PoolTransport } from '@upyo/pool';
import notifmeModule from 'notifme-sdk';
import { fmt, measureSequential, printTable, type Rate } from './measure.js';

/**
 * Router overhead: sends per second through mailroute's router over three zero-latency
 * in-memory providers, against calling a provider directly and against two peers'
 * failover pools over equally empty transports. Goal: under 5 us of overhead per send and
 * not slower than either peer.
 */

const ITERATIONS = 100_000;

// notifme-sdk is CommonJS with an ES-module-interop default: the class sits one level down.
const NotifmeSdk = notifmeModule.default;

function zeroLatencyProvider(name: string): Provider {
  return {
    name,
    type: 'memory',
    send: async () => accepted(`${name}-id`),
    verify: async () => ({ ok: true }),
    close: async () => {},
  };
}

function zeroLatencyUpyoTransport(id: string): Transport {
  return {
    id,
    send: async (): Promise<Receipt> => ({ successful: true, messageId: `${id}-id` }),
    async *sendMany() {},
  };
}

export async function runRouterOverhead(): Promise<Rate[]> {
  const message: Message = sampleMessage();
  const signal = new AbortController().signal;

  const direct = zeroLatencyProvider('direct');
  const router = createRouter({ providers: ['a', 'b', 'c'].map((name) => ({ provider: zeroLatencyProvider(name) })) });

  const pool = new PoolTransport({
    strategy: 'priority',
    transports: ['a', 'b', 'c'].map((id, index) => ({ transport: zeroLatencyUpyoTransport(id), priority: 100 - index })),
    maxRetries: 2,
  });
  const upyoMessage = createMessage({ from: 'sender@example.com', to: 'guest@example.org', subject: 'Hi', content: { text: 'x' } });

  const notifme = new NotifmeSdk({
    channels: {
      email: {
        multiProviderStrategy: 'fallback',
        providers: ['a', 'b', 'c'].map((id) => ({ type: 'custom', id, send: async () => `${id}-id` })),
      },
    },
  });
  notifme.logger.mute();
  const notifmeRequest = { email: { from: 'sender@example.com', to: 'guest@example.org', subject: 'Hi', text: 'x' } };

  const rates = [
    await measureSequential('direct provider.send', () => direct.send(message, { signal }), ITERATIONS),
    await measureSequential('mailroute router (3 providers)', () => router.send(message), ITERATIONS),
    await measureSequential('@upyo/pool priority (3 transports)', () => pool.send(upyoMessage), ITERATIONS),
    await measureSequential('notifme-sdk fallback (3 providers)', () => notifme.send(notifmeRequest), ITERATIONS),
  ];
  await router.close();

  const [directRate, routerRate, upyoRate, notifmeRate] = rates as [Rate, Rate, Rate, Rate];
  printTable(
    'Router overhead (zero-latency providers, sequential sends)',
    rates.map((rate) => ({
      contender: rate.name,
      'sends/s': Math.round(rate.opsPerSecond),
      'us/send': fmt(rate.nsPerOp / 1000, 3),
      'overhead vs direct (us)': fmt((rate.nsPerOp - directRate.nsPerOp) / 1000, 3),
    })),
  );
  const overheadUs = (routerRate.nsPerOp - directRate.nsPerOp) / 1000;
  console.log(`router overhead per send: ${fmt(overheadUs, 3)} us (goal < 5 us)`);
  console.log(`router vs @upyo/pool: ${fmt(upyoRate.nsPerOp / routerRate.nsPerOp)}x the speed (goal >= 1)`);
  console.log(`router vs notifme-sdk: ${fmt(notifmeRate.nsPerOp / routerRate.nsPerOp)}x the speed (goal >= 1)`);
  return rates;
}

if (import.meta.url === `file://${process.argv[1]}`) await runRouterOverhead();
