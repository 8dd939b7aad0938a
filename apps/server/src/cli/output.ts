/** A plain text table: left-aligned columns, a header line, two spaces between columns. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export interface Progress {
  update(done: number): void;
  finish(): void;
}

/**
 * A one-line progress bar redrawn in place on a terminal; elsewhere (a pipe, a log file)
 * nothing is drawn, so scripts read only the final summary.
 */
export function progressBar(stream: NodeJS.WritableStream & { isTTY?: boolean }, total: number, label: string): Progress {
  if (!stream.isTTY || total <= 0) return { update: () => {}, finish: () => {} };
  const width = 30;
  const draw = (done: number) => {
    const filled = Math.round((Math.min(done, total) / total) * width);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  };
  draw(0);
  return {
    update: draw,
    finish: () => stream.write('\n'),
  };
}
