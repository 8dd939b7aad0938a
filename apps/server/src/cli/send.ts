import { type Command, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, parseFlags, println, UsageError } from './io.js';
import { connect, describeApiError, remoteFlags } from './remote.js';

/** `mailroute send`: one test message through the API, as a company app would send it. */
export const sendCommand: Command = async (args, io) => {
  const { values } = parseFlags(args, {
    ...remoteFlags,
    to: { type: 'string', multiple: true },
    from: { type: 'string' },
    subject: { type: 'string', default: 'mailroute test message' },
    text: { type: 'string', default: 'This is a test message sent with `mailroute send`.' },
  });
  if (!values.to || values.to.length === 0) throw new UsageError('--to is required (repeat it for more recipients)');
  const client = await connect(values, io);
  try {
    const result = await client.mail.send.mutate({
      from: values.from ?? io.env.MAILROUTE_FROM ?? 'mailroute@example.com',
      to: values.to,
      subject: values.subject ?? '',
      text: values.text ?? '',
    });
    println(io.stdout, `accepted: ${result.id} (${result.status})`);
    return EXIT_OK;
  } catch (error) {
    const { text, badInput } = describeApiError(error);
    io.stderr.write(`send refused: ${text}\n`);
    return badInput ? EXIT_USAGE : EXIT_RUNTIME;
  }
};
