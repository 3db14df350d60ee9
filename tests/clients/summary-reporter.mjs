// node:test reporter that prints the final `N passed, M failed` line (suites not counted).
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  const failures = [];
  for await (const event of source) {
    if (event.type === 'test:pass' && event.data.details?.type !== 'suite') passed++;
    if (event.type === 'test:fail' && event.data.details?.type !== 'suite') {
      failed++;
      failures.push(event.data.name);
    }
  }
  if (failures.length) yield `failed: ${failures.join('; ')}\n`;
  yield `${passed} passed, ${failed} failed\n`;
}
