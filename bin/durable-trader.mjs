#!/usr/bin/env node
// The operator CLI (cli/main.ts) run through tsx's ESM loader, registered in this
// process: `npx durable-trader --help` from the repository after `npm install`.
import { register } from 'tsx/esm/api';

register();
const { run } = await import(new URL('../cli/main.ts', import.meta.url).href);
process.exitCode = await run(process.argv.slice(2));
