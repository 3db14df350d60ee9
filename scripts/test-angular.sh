#!/usr/bin/env bash
# The Angular client's tests (clients/angular/test.sh): builds, unit tests in headless Chromium,
# end-to-end against target/debug/switchyard (or $SWITCHYARD_BIN).
exec "$(dirname "$0")/../clients/angular/test.sh" "$@"
