import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createMailrouteClient } from '@mailroute/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKey, type ServerProcess, spawnMailroute, workDir } from '../e2e/support/server-process.js';

/**
 * `@mailroute/client` as a company app gets it: `npm pack` of packages/client, installed from
 * the tarball (its dependencies from the registry) into an app in the OS temp folder, outside
 * this workspace. The app type-checks against the bundled declarations alone (a misspelt
 * field is an error) and its compiled sample sends a message that the built server stores.
 */

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const clientFolder = join(repoRoot, 'packages/client');
const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
const ADMIN_KEY = adminKey();

let app: string;
let tarball: string;
let dir: ReturnType<typeof workDir>;
let server: ServerProcess;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'mailroute-client-app-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', app], { cwd: clientFolder });
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error(`npm pack printed nothing: ${packed.stderr}`);
  tarball = join(app, info.filename);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'booking-app', private: true, type: 'module' }));
  await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--no-package-lock'], { cwd: app, timeout: 150_000 });
  dir = workDir('client-install');
  server = spawnMailroute({ args: ['serve', '--port', '0'], cwd: dir.path, built: true, env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY } });
}, 200_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  dir?.remove();
  if (app) rmSync(app, { recursive: true, force: true });
});

const goodSample = `import { createMailrouteClient, errorCodeOf, type MailrouteOutputs } from '@mailroute/client';

const mailroute = createMailrouteClient({ url: process.env.MAILROUTE_URL ?? '', apiKey: process.env.MAILROUTE_API_KEY ?? '' });
try {
  const sent: MailrouteOutputs['mail']['send'] = await mailroute.mail.send.mutate({
    from: 'desk@hotel.example',
    to: ['guest@example.org'],
    subject: 'Your booking is confirmed',
    text: 'See you on Friday.',
  });
  const id: string = sent.id;
  console.log(JSON.stringify({ id }));
} catch (error) {
  console.error(errorCodeOf(error), error);
  process.exitCode = 1;
}
`;

/** A field name the API does not have: an app must learn of it from the compiler, not at run time. */
const badSample = goodSample.replace("subject: 'Your booking is confirmed'", "subjekt: 'Your booking is confirmed'");

function writeApp(sample: string): void {
  writeFileSync(join(app, 'sample.ts'), sample);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        // tRPC 11's declarations name Disposable: TypeScript 5.2+ with this lib (or @types/node).
        lib: ['ES2022', 'DOM', 'ESNext.Disposable'],
        types: [],
        strict: true,
        // The bundled declarations are checked too, not taken on trust.
        skipLibCheck: false,
        outDir: 'out',
      },
      files: ['sample.ts', 'env.d.ts'],
    }),
  );
  writeFileSync(join(app, 'env.d.ts'), 'declare const process: { env: Record<string, string | undefined>; exitCode?: number };\n');
}

async function typecheck(): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('the packed client in an app outside the workspace', () => {
  it('installs with public dependencies only and self-contained declarations', () => {
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/@mailroute/client/package.json'), 'utf8')) as {
      version: string;
      dependencies?: Record<string, string>;
      private?: boolean;
    };
    expect(installed.private).toBeUndefined();
    // The README promises client and server share a version (a client talks to the same minor).
    const server = JSON.parse(readFileSync(join(repoRoot, 'apps/server/package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(server.version);
    expect(Object.keys(installed.dependencies ?? {}).sort()).toEqual(['@trpc/client', '@trpc/server']);
    expect(readdirSync(join(app, 'node_modules/@mailroute'))).toEqual(['client']);
    const declarations = readFileSync(join(app, 'node_modules/@mailroute/client/dist/index.d.ts'), 'utf8');
    const imported = [...declarations.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)].map((match) => match[1]);
    expect(new Set(imported)).toEqual(new Set(['@trpc/client', '@trpc/server']));
  });

  it('type-checks a correct sample and refuses a misspelt field', async () => {
    writeApp(badSample);
    const bad = await typecheck();
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/sample\.ts\(\d+,\d+\): error TS\d+: .*'subjekt'/);
    expect(bad.output).not.toMatch(/node_modules/);

    writeApp(goodSample);
    const good = await typecheck();
    expect(good.output).toBe('');
    expect(good.code).toBe(0);
  }, 60_000);

  it('sends a message that the running server stores', async () => {
    const url = await server.url;
    // out/sample.js is what the correct sample compiled to, last, in the test above.
    const { stdout } = await run(process.execPath, [join(app, 'out/sample.js')], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', MAILROUTE_URL: url, MAILROUTE_API_KEY: ADMIN_KEY },
    });
    const { id } = JSON.parse(stdout) as { id: string };
    const stored = await createMailrouteClient({ url, apiKey: ADMIN_KEY }).mail.get.query({ id });
    expect(stored.subject).toBe('Your booking is confirmed');
    expect(stored.to).toEqual([{ email: 'guest@example.org' }]);
  }, 60_000);
});
