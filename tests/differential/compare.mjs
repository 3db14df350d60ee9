// Differential check: switchyard-core's expected results vs Flipt's Rust evaluation engine as
// shipped (WASM build) in @flipt-io/flipt-client-js 0.5.1.
//
// Usage: node compare.mjs [corpus.json]   (default: work/corpus.json next to this file)
// For each flag set, FliptClient.init() is given a `fetcher` that answers with the exported client
// snapshot (status 200, an `etag` header, json()); every case is evaluated with evaluateVariant /
// evaluateBoolean and compared on match, reason, variant key, variant attachment, enabled and the
// SET of segment keys. Prints every mismatch and a final line `N passed, M failed`; exits 1 on any
// mismatch or when no case ran.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { FliptClient } from '@flipt-io/flipt-client-js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpusPath = process.argv[2] ?? path.join(here, 'work', 'corpus.json');
const MAX_PRINTED = Number(process.env.DIFF_MAX_PRINTED ?? 50);

// wasm-bindgen prints a deprecation warning on every init; keep the output readable.
const origWarn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('deprecated parameters for the initialization function')) return;
  origWarn(...args);
};

const corpus = JSON.parse(readFileSync(corpusPath, 'utf8'));

let passed = 0;
let failed = 0;
let printed = 0;
const failedSets = new Set();

function sortedKeys(keys) {
  return [...(keys ?? [])].sort();
}

function report(set, c, actual, diffs) {
  failed += 1;
  failedSets.add(set.index);
  if (printed >= MAX_PRINTED) return;
  printed += 1;
  console.log(`MISMATCH set=${set.index} flag=${c.flagKey} type=${c.type} entity=${JSON.stringify(c.entityId)}`);
  console.log(`  context:  ${JSON.stringify(c.context)}`);
  console.log(`  fields:   ${diffs.join(', ')}`);
  console.log(`  switchyard: ${JSON.stringify(c.expected)}`);
  console.log(`  flipt-js:   ${JSON.stringify(actual)}`);
}

for (const set of corpus) {
  const body = set.snapshot;
  const etag = `"set-${set.index}-${body.digest ?? ''}"`;
  const fetcher = async () => ({
    ok: true,
    status: 200,
    statusText: 'OK',
    headers: { get: (name) => (name.toLowerCase() === 'etag' ? etag : null) },
    json: async () => structuredClone(body),
  });
  let client;
  try {
    client = await FliptClient.init({ namespace: 'default', fetcher, updateInterval: 0, errorStrategy: 'fail' });
  } catch (e) {
    // Every case of this set fails.
    for (const c of set.cases) report(set, c, { error: `init: ${e.message}` }, ['init']);
    continue;
  }
  for (const c of set.cases) {
    let actual;
    const diffs = [];
    try {
      const req = { flagKey: c.flagKey, entityId: c.entityId, context: c.context };
      if (c.type === 'BOOLEAN_FLAG_TYPE') {
        const r = client.evaluateBoolean(req);
        actual = { reason: r.reason, enabled: r.enabled, segmentKeys: sortedKeys(r.segmentKeys) };
        if (r.enabled !== c.expected.enabled) diffs.push('enabled');
      } else {
        const r = client.evaluateVariant(req);
        actual = {
          match: r.match,
          reason: r.reason,
          variantKey: r.variantKey ?? '',
          variantAttachment: r.variantAttachment ?? '',
          segmentKeys: sortedKeys(r.segmentKeys),
        };
        if (r.match !== c.expected.match) diffs.push('match');
        if (actual.variantKey !== c.expected.variantKey) diffs.push('variantKey');
        if (actual.variantAttachment !== c.expected.variantAttachment) diffs.push('variantAttachment');
      }
      if (actual.reason !== c.expected.reason) diffs.push('reason');
      if (JSON.stringify(actual.segmentKeys) !== JSON.stringify(sortedKeys(c.expected.segmentKeys))) diffs.push('segmentKeys');
    } catch (e) {
      actual = { error: e.message };
      diffs.push('error');
    }
    if (diffs.length === 0) passed += 1;
    else report(set, c, actual, diffs);
  }
  client.close();
}

if (failed > MAX_PRINTED) console.log(`(${failed - MAX_PRINTED} more mismatches not printed; DIFF_MAX_PRINTED raises the limit)`);
if (failedSets.size > 0) console.log(`flag sets with mismatches: ${[...failedSets].slice(0, 100).join(' ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
