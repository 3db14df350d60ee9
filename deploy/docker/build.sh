#!/bin/sh
# The container image's build stage (Dockerfile, stage `build`), also run by
# scripts/test-deploy.sh so CI checks the same commands without a Docker engine.
#   deploy/docker/build.sh OUTDIR     # from the repository root
# Builds the release binary, strips its debug sections, and checks that it runs on the runtime
# images (Debian 12 glibc, no other shared libraries).
set -eu
out=${1:?usage: deploy/docker/build.sh OUTDIR}
cargo build --release --locked -p switchyard
mkdir -p "$out"
strip --strip-debug -o "$out/switchyard" target/release/switchyard
deploy/docker/check-binary.sh "$out/switchyard"
