#!/usr/bin/env -S node --max-old-space-size=256
import { runCli } from './cli/main.js';

runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then((code) => {
  process.exitCode = code;
  // Whatever a library left open (a pool's idle timer) must not keep a finished command alive.
  setTimeout(() => process.exit(code), 1_000).unref();
});
