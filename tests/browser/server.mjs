// How the tests start switchyard on a git repository of their own. Kept apart from the tests so
// that a change of the CLI touches one file.
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, git, tempDir } from './lib.mjs';

/** A fresh git repository holding the seed's flags (examples/seed), one commit on main. */
export function setupRepo() {
  const dir = tempDir('switchyard-browser-');
  const repo = join(dir, 'flags');
  cpSync(join(ROOT, 'examples/seed'), repo, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main', repo);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'Seed flags');
  return { dir, repo, featuresPath: 'flipt/features.yml' };
}

/**
 * The command line for that repository on 127.0.0.1:port.
 * Without a token: `switchyard demo`, which reuses the repository (and installs its post-commit
 * hook that asks for a sync at once) with the given poll. With an admin token: `switchyard serve`
 * with a Flipt v2 configuration file that turns token authentication on.
 */
export function serverArgs({ dir, repo, port }, { poll = '1s', token } = {}) {
  const listen = `127.0.0.1:${port}`;
  if (!token) return ['demo', '--dir', repo, '--listen', listen, '--poll-interval', poll];
  const config = join(dir, 'switchyard.yml');
  writeFileSync(config, `storage:
  flags:
    remote: ${JSON.stringify(repo)}
    branch: main
    poll_interval: ${poll}
environments:
  default: { storage: flags, default: true }
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
