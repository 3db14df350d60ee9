#!/bin/sh
# Creates $GIT_ROOT/flags.git holding $SEED_FLAGS as flipt/features.yml on `main`, unless it
# exists. Run by the Compose example's `git-seed` service and by scripts/test-deploy.sh.
set -eu
repo="$GIT_ROOT/flags.git"
if [ -d "$repo" ]; then
  echo "seed: $repo exists"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git init -q -b main "$work"
mkdir -p "$work/flipt"
cp "$SEED_FLAGS" "$work/flipt/features.yml"
git -C "$work" add flipt/features.yml
git -C "$work" -c user.name=Switchyard -c user.email=seed@switchyard.invalid -c commit.gpgsign=false \
  commit -q -m "Seed flags"
git init -q --bare -b main "$repo"
git -C "$work" push -q "$repo" main
# the daemon serves a bare repository only with this file or --export-all; both are set
touch "$repo/git-daemon-export-ok"
echo "seed: created $repo"
