// notifme-sdk ships Flow types only; this declares the part the benchmark uses.
declare module 'notifme-sdk' {
  interface CustomEmailProvider {
    type: 'custom';
    id: string;
    send(request: unknown): Promise<string>;
  }
  interface NotifmeOptions {
    channels: { email: { multiProviderStrategy: 'fallback' | 'roundrobin' | 'no-fallback'; providers: CustomEmailProvider[] } };
  }
  class NotifmeSdk {
    constructor(options: NotifmeOptions);
    logger: { mute(): void };
    send(request: { email: { from: string; to: string; subject: string; text: string } }): Promise<{ status: string }>;
  }
  const module: { default: typeof NotifmeSdk };
  export default module;
}
