// Times Flipt's Rust evaluation engine as shipped (WASM build) in @flipt-io/flipt-client-js, in
// Node, through two entry points:
//   client: FliptClient.evaluateVariant({flagKey, entityId, context}), the SDK's public call (it
//           converts the request's keys to snake_case, calls the engine, converts the result back);
//   engine: the client's wasm-bindgen Engine.evaluate_variant(request), the raw binding, given a
//           prebuilt snake_case request object (serde-wasm-bindgen converts the JS object into the
//           engine's request and the engine's response back into a JS object).
//
// Usage: node wasm_bench.mjs DIFFERENTIAL_DIR INPUT.json check
//        node wasm_bench.mjs DIFFERENTIAL_DIR INPUT.json bench ROUNDS ITERATIONS WARMUP_ROUNDS
// DIFFERENTIAL_DIR is tests/differential (its node_modules holds the pinned client); INPUT.json is
// the engine_input binary's output. The client is initialised with a `fetcher` answering the
// snapshot, as tests/differential/compare.mjs does. `check` prints `client <json>` and
// `engine <json>`: each entry point's answer to the request. `bench` runs WARMUP_ROUNDS untimed
// rounds, then ROUNDS rounds of ITERATIONS calls timed with process.hrtime.bigint(), and prints
// `client median_ns M min_ns F` and `engine median_ns M min_ns F` (ns per call).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [dir, inputPath, mode, ...counts] = process.argv.slice(2);
if (!dir || !inputPath || !['check', 'bench'].includes(mode) || (mode === 'bench' && counts.length !== 3)) {
  console.error('usage: node wasm_bench.mjs DIFFERENTIAL_DIR INPUT.json check|bench [ROUNDS ITERATIONS WARMUP_ROUNDS]');
  process.exit(2);
}

// wasm-bindgen prints a deprecation warning on every init.
const origWarn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('deprecated parameters for the initialization function')) return;
  origWarn(...args);
};

const require = createRequire(path.join(path.resolve(dir), 'package.json'));
const { FliptClient } = require('@flipt-io/flipt-client-js');

const input = JSON.parse(readFileSync(inputPath, 'utf8'));
const { flagKey, entityId, context } = input.request;
const fetcher = async () => ({
  ok: true,
  status: 200,
  statusText: 'OK',
  headers: { get: (name) => (name.toLowerCase() === 'etag' ? `"${input.snapshot.digest}"` : null) },
  json: async () => structuredClone(input.snapshot),
});
const client = await FliptClient.init({ namespace: 'default', fetcher, updateInterval: 0, errorStrategy: 'fail' });
if (!client.engine || typeof client.engine.evaluate_variant !== 'function') {
  console.error('wasm_bench: this flipt-client-js has no client.engine.evaluate_variant');
  process.exit(1);
}

const clientRequest = { flagKey, entityId, context };
const engineRequest = { flag_key: flagKey, entity_id: entityId, context };
const entryPoints = {
  client: () => client.evaluateVariant(clientRequest),
  engine: () => client.engine.evaluate_variant(engineRequest),
};

if (mode === 'check') {
  for (const [name, call] of Object.entries(entryPoints)) console.log(`${name} ${JSON.stringify(call())}`);
  client.close();
  process.exit(0);
}

const [rounds, iterations, warmup] = counts.map((c) => {
  const v = Number(c);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`wasm_bench: counts must be non-negative integers, got '${c}'`);
    process.exit(2);
  }
  return v;
});
if (rounds < 1 || iterations < 1) {
  console.error('wasm_bench: ROUNDS and ITERATIONS must be at least 1');
  process.exit(2);
}

let sink = 0;
for (const [name, call] of Object.entries(entryPoints)) {
  const perCall = [];
  for (let r = -warmup; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += call() === undefined ? 0 : 1;
    const elapsed = Number(process.hrtime.bigint() - start);
    if (r >= 0) perCall.push(elapsed / iterations);
  }
  perCall.sort((a, b) => a - b);
  const mid = perCall.length >> 1;
  const median = perCall.length % 2 ? perCall[mid] : (perCall[mid - 1] + perCall[mid]) / 2;
  console.log(`${name} median_ns ${median.toFixed(1)} min_ns ${perCall[0].toFixed(1)} rounds ${rounds} iterations ${iterations}`);
}
client.close();
if (sink === 0) process.exit(1);
