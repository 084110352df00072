#!/usr/bin/env node
/** The `cedana` binary (the bundle's main.js); the launcher runs the same from the startup snapshot when it can (snapshot-main.ts). */
import { hideBin } from 'yargs/helpers';
import { runMain } from './run-main.js';

process.exit(await runMain(hideBin(process.argv)));
