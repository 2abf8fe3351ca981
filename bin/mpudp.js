#!/usr/bin/env node
// mpudp's command line (src/cli/main.ts, built into dist/ by `npm run build`,
// which `npm install` in a clone and `npm pack` run).
import { runMain } from '../dist/cli/main.js';

runMain(process.argv.slice(2));
