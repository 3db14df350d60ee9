// How the tests start switchyard on a git repository of their own. Kept apart from the tests so
// that a change of the CLI touches one file.
import { cpSync } from 'node:fs';
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
 * The command line: serve that repository on 127.0.0.1:port with a 1 s poll; `poll` and an admin
 * `token` (authentication on) may be given.
 */
export function serverArgs({ dir, repo, port }, { poll = '1s', token } = {}) {
  const args = ['demo', '--listen', `127.0.0.1:${port}`, '--dir', dir, '--repo', repo, '--poll-interval', poll];
  if (token) args.push('--token', token);
  return args;
}
