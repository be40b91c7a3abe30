#!/usr/bin/env node
// The workspace ships TypeScript sources: tsx compiles them on the fly (no build step to forget).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
await main(process.argv);
