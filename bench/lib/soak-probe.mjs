/**
 * Loaded into the soak's BFF process before the BFF itself (`node --expose-gc --import <this>
 * dist/bff/server.js`); nothing in bff/ knows of it. Plain JavaScript: the child runs the built
 * bundle on plain node, without tsx.
 *
 * On SIGUSR2 it collects garbage (below) and writes, to the file named by SOAK_PROBE_FILE:
 * the process's memory (process.memoryUsage(), after that collection) and its active resources
 * (process.getActiveResourcesInfo(): one entry per handle or request that keeps the event loop
 * alive, e.g. `TCPServerWrap`, `TCPSocketWrap`, `Timeout`). The soak asks for it only at its two
 * checkpoints, with no load running, so the forced collection never lands in a measured window.
 *
 * Why a full collection: the heap's size at any other moment is mostly garbage not yet collected
 * (Node 24 sizes its young generation at up to 134 MB on a 24 GiB machine), which would hide a leak
 * of a few MB or fake one. After a full collection what is left is what the process keeps.
 *
 * The answer is written to a temporary name and renamed, so the soak never reads half of it.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const out = process.env.SOAK_PROBE_FILE;
let seq = 0;

if (out) {
  process.on('SIGUSR2', () => {
    // A full collection, then V8's most thorough one ('last-resort': it also compacts the old
    // generation and gives back the pages it keeps in reserve, as when memory runs short; V8 versions
    // without that option run a second full collection). So the figures are of what the process
    // keeps, not of how much room V8 chose to keep around it, which varies with the machine's load.
    globalThis.gc?.();
    globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    const answer = {
      seq: ++seq,
      time: Date.now(),
      gc: typeof globalThis.gc === 'function',
      memory: process.memoryUsage(),
      // Each V8 space's committed size, and what is used of it: where RSS beyond the live heap sits.
      spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size, physical: s.physical_space_size }])),
      resources: process.getActiveResourcesInfo(),
    };
    writeFileSync(`${out}.tmp`, JSON.stringify(answer));
    renameSync(`${out}.tmp`, out);
  });
}
