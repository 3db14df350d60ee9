// How the tests start switchyard on a git repository of their own. Kept apart from the tests so
// that a change of the CLI touches one file.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, git, tempDir } from './lib.mjs';

/**
 * A fresh git repository holding the seed's flags (examples/seed), one commit on main. With
 * `twoEnvironments`, the seed's file sits in production/default/ and a copy with newPaymentFlow
 * at 60% in staging/default/, one environment each (Flipt v2's layout: its rule reads
 * `<namespace dir>/features.yml` below an environment's directory, never a file at its root).
 */
export function setupRepo({ twoEnvironments = false } = {}) {
  const dir = tempDir('switchyard-browser-');
  const repo = join(dir, 'flags');
  if (twoEnvironments) {
    const seed = readFileSync(join(ROOT, 'examples/seed/flipt/features.yml'), 'utf8');
    mkdirSync(join(repo, 'production/default'), { recursive: true });
    mkdirSync(join(repo, 'staging/default'), { recursive: true });
    writeFileSync(join(repo, 'production/default/features.yml'), seed);
    writeFileSync(join(repo, 'staging/default/features.yml'), seed.replace('rollout: 25', 'rollout: 60').replace('rollout: 75', 'rollout: 40'));
  } else {
    cpSync(join(ROOT, 'examples/seed'), repo, { recursive: true });
  }
  git(dir, 'init', '-q', '-b', 'main', repo);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'Seed flags');
  return { dir, repo, featuresPath: twoEnvironments ? 'production/default/features.yml' : 'flipt/features.yml', twoEnvironments };
}

/**
 * The command line for that repository on 127.0.0.1:port.
 * Without a token: `switchyard demo`, which reuses the repository (and installs its post-commit
 * hook that asks for a sync at once) with the given poll. With an admin token: `switchyard serve`
 * with a Flipt v2 configuration file that turns token authentication on (and declares the two
 * environments of a `twoEnvironments` repository).
 */
export function serverArgs({ dir, repo, port, twoEnvironments }, { poll = '1s', token } = {}) {
  const listen = `127.0.0.1:${port}`;
  if (!token) return ['demo', '--dir', repo, '--listen', listen, '--poll-interval', poll];
  const config = join(dir, 'switchyard.yml');
  writeFileSync(config, `storage:
  flags:
    remote: ${JSON.stringify(repo)}
    branch: main
    poll_interval: ${poll}
environments:
${twoEnvironments
    ? '  production: { storage: flags, directory: production, default: true }\n  staging: { storage: flags, directory: staging }'
    : '  default: { storage: flags, default: true }'}
authentication:
  methods:
    token:
      enabled: true
      storage:
        tokens:
          admin: { credential: ${JSON.stringify(token)} }
`);
  return ['serve', '--config', config, '--listen', listen];
}
