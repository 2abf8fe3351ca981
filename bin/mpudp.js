#!/usr/bin/env node
// mpudp's command line (src/cli/main.ts, built into dist/ by `npm run build`,
// which `npm install` and `npm pack` run).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`mpudp: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
