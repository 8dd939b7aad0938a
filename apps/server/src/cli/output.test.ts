import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatTable, progressBar } from './output.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => chunks.join('') };
}

describe('CLI output', () => {
  it('aligns table columns under their headers', () => {
    expect(
      formatTable(
        ['name', 'state'],
        [
          ['sendgrid', 'closed'],
          ['ses', 'open'],
        ],
      ),
    ).toBe('name      state\n--------  ------\nsendgrid  closed\nses       open');
  });

  it('draws a progress bar only on a terminal', () => {
    const tty = sink(true);
    const bar = progressBar(tty.stream, 4, 'requeue');
    bar.update(2);
    bar.update(4);
    bar.finish();
    expect(tty.text()).toContain(`\rrequeue [${'#'.repeat(15)}${'.'.repeat(15)}] 2/4`);
    expect(tty.text().endsWith(`[${'#'.repeat(30)}] 4/4\n`)).toBe(true);

    const pipe = sink(false);
    const quiet = progressBar(pipe.stream, 4, 'requeue');
    quiet.update(4);
    quiet.finish();
    expect(pipe.text()).toBe('');
  });
});
