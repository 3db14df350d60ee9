#!/usr/bin/env bash
# Deployment checks without a Docker engine or a Kubernetes cluster (README, "Deploy"):
#  - the image's build stage, deploy/docker/build.sh: the release build and its link check
#    against the runtime images (glibc 2.36, glibc's and libgcc's libraries only);
#  - the Dockerfile's stages (deploy/test/dockerfile.py);
#  - the Compose file loaded by compose-go (the Compose specification's schema), then run the way
#    Docker would for both image stages (deploy/test/container-run.sh: namespaces, a chroot laid
#    out like the image, a read-only root, the HEALTHCHECK), when run as root;
#  - the Helm chart: helm lint --strict and helm template for every value set, every object
#    decoded strictly against the Kubernetes API types (deploy/test/k8scheck), and the rendered
#    configuration loaded by the real binary;
#  - that each checker rejects a broken input.
# Tools (helm v3.22.0, the Go checkers) are built once into target/deploy-tools and reused.
# Ends with one line: "deploy: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=$root/target/deploy-tools
work=$root/target/deploy-sim
chart=deploy/helm/switchyard
bin=$root/target/deploy-image/switchyard
HELM_VERSION=v3.22.0
export GOFLAGS=-mod=mod
passed=0 failed=0
rm -rf "$work" && mkdir -p "$work" "$tools"

pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
# check NAME CMD...: passes when CMD exits 0; shows CMD's last output line, or its output on failure.
check() {
  local name=$1 log last
  shift
  log=$(mktemp)
  if "$@" >"$log" 2>&1; then
    last=$(tail -n 1 "$log")
    pass "$name${last:+: $last}"
  else
    fail "$name"
    tail -n 40 "$log" | sed 's/^/    /'
  fi
  rm -f "$log"
}
# refuses PATTERN NAME CMD...: passes when CMD fails and its output contains PATTERN.
refuses() {
  local pattern=$1 name=$2 out
  shift 2
  if out=$("$@" 2>&1); then
    fail "$name: accepted"
  elif grep -qF -- "$pattern" <<<"$out"; then
    pass "$name"
  else
    fail "$name: expected \"$pattern\" in:"
    sed 's/^/    /' <<<"$out" | tail -n 20
  fi
}

echo "==> tools (cached in $tools)"
if ! command -v go >/dev/null; then
  fail "Go is needed to build helm and the checkers (https://go.dev/dl/, 1.26 or later: deploy/test/go.mod)"
  echo "deploy: $passed passed, $failed failed"
  exit 1
fi
if ! "$tools/helm" version --short 2>/dev/null | grep -q "^${HELM_VERSION%.0}"; then
  GOBIN=$tools go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" || fail "go install helm $HELM_VERSION"
fi
stamp=$(cat deploy/test/go.mod deploy/test/go.sum deploy/test/*/*.go | sha256sum | cut -c1-16)
if [ "$(cat "$tools/checkers.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$tools/k8scheck" ] || [ ! -x "$tools/composecheck" ]; then
  (cd deploy/test && go build -o "$tools/k8scheck" ./k8scheck && go build -o "$tools/composecheck" ./composecheck) \
    && echo "$stamp" >"$tools/checkers.stamp" || fail "building deploy/test's checkers"
fi
helm=$tools/helm k8scheck=$tools/k8scheck composecheck=$tools/composecheck
check "gofmt: deploy/test" sh -c '! gofmt -l deploy/test | grep .'

echo "==> image: the build stage's commands (deploy/docker/build.sh) and the Dockerfile"
check "build stage: release build, stripped, link check" deploy/docker/build.sh target/deploy-image
refuses "needs GLIBC_" "check-binary refuses a binary needing a newer glibc" deploy/docker/check-binary.sh "$bin" 2.17
refuses "which the runtime images do not ship" "check-binary refuses a binary needing another library" \
  deploy/docker/check-binary.sh "$(command -v git)"
check "Dockerfile: stages, user, TMPDIR, HEALTHCHECK, entrypoint" deploy/test/dockerfile.py Dockerfile
sed 's/openssh-client//; s/^USER 10001:10001/USER root/' Dockerfile >"$work/Dockerfile.bad"
refuses "not a numeric non-root uid" "dockerfile.py refuses a root user" deploy/test/dockerfile.py "$work/Dockerfile.bad"
refuses "no openssh-client" "dockerfile.py refuses a default image without ssh" deploy/test/dockerfile.py "$work/Dockerfile.bad"
check "the binary's --help lists health" sh -c "'$bin' --help | grep -q '^  health'"

echo "==> Docker Compose example"
check "compose-go loads deploy/compose/docker-compose.yml" sh -c "'$composecheck' deploy/compose/docker-compose.yml >'$work/project.json'"
check "compose-go loads the fleet profile: 3 relays of the switchyard service, its relay.yml" sh -c \
  "COMPOSE_PROFILES=fleet '$composecheck' deploy/compose/docker-compose.yml | python3 -c \"import json,sys
r = json.load(sys.stdin)['services']['relay']
assert r['deploy']['replicas'] == 3 and r['read_only'] and r['volumes'][0]['source'].endswith('deploy/compose/relay.yml'), r\""
check "switchyard loads the Compose relays' configuration" deploy/test/config-loads.sh "$bin" deploy/compose/relay.yml "$work/compose-relay"
sed 's/^  git:$/  git:\n    restart_policy: always/' deploy/compose/docker-compose.yml >"$work/bad-compose.yml"
refuses "additional properties 'restart_policy' not allowed" "compose-go refuses a key outside the Compose schema" \
  "$composecheck" "$work/bad-compose.yml"
sed 's/read_only: true/read_only: yes-please/' deploy/compose/docker-compose.yml >"$work/bad-compose.yml"
refuses "invalid boolean: yes-please" "compose-go refuses a value of the wrong type" "$composecheck" "$work/bad-compose.yml"
if [ "$(id -u)" = 0 ] && unshare --mount --net true 2>/dev/null && [ -x "$bin" ]; then
  for variant in "runtime 1 local" "minimal 0 memory"; do
    set -- $variant
    deploy/test/dockerfile.py Dockerfile "$1" >"$work/$1.json"
    mkdir -p "$work/$1"
    echo "-- image stage $1 (backend $3)"
    out=$(timeout 180 unshare --mount --net --propagation private \
      deploy/test/container-run.sh "$bin" "$work/$1.json" "$work/project.json" "$work/$1" "$2" "$3" 2>&1)
    echo "$out" | sed -n 's/^\(PASS\|FAIL\): /\1: ['"$1"'] /p'
    passed=$((passed + $(grep -c '^PASS: ' <<<"$out")))
    failed=$((failed + $(grep -c '^FAIL: ' <<<"$out")))
    grep -q '^\(PASS\|FAIL\): ' <<<"$out" || fail "[$1] container-run.sh: $out"
  done
else
  echo "SKIP: running the Compose services in namespaces needs root, unshare and the built binary"
fi

echo "==> Helm chart ($chart)"
refuses "unknown field \"spec.replica\"" "k8scheck refuses an unknown field" sh -c \
  "'$helm' template t $chart | sed 's/^  replicas:/  replica:/' | '$k8scheck' -"
refuses "unknown field \"spec.endpoints[0].pathh\"" "k8scheck refuses an unknown ServiceMonitor field" sh -c \
  "'$helm' template t $chart --set metrics.serviceMonitor.enabled=true | sed 's/^      path: \/metrics/      pathh: \/metrics/' | '$k8scheck' -"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n' >"$work/dup.yaml"
refuses 'key "name" already set' "k8scheck refuses a duplicated field" "$k8scheck" "$work/dup.yaml"
printf 'apiVersion: v1\nkind: Widget\nmetadata:\n  name: a\n' >"$work/kind.yaml"
refuses 'no kind "Widget" is registered' "k8scheck refuses an unknown kind" "$k8scheck" "$work/kind.yaml"
printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports: 3\n' >"$work/type.yaml"
refuses 'cannot unmarshal number' "k8scheck refuses a value of the wrong type" "$k8scheck" "$work/type.yaml"
refuses "readiness probe /health" "k8scheck refuses a readiness probe on /health" sh -c \
  "'$helm' template t $chart | sed 's#path: /ready#path: /health#' | '$k8scheck' -"
refuses "backend must be memory or local" "the chart refuses an unknown backend" "$helm" template t $chart --set backend=disk
refuses "config is not valid YAML" "the chart refuses a configuration that is not YAML" "$helm" template t $chart --set 'config=x: ['
refuses "relay.enabled needs relay.upstream.url" "the chart refuses a relay without an upstream" \
  "$helm" template t $chart --set relay.enabled=true
refuses "relay mode renders no Git credentials" "the chart refuses an SSH key for a relay" \
  "$helm" template t $chart --set relay.enabled=true --set relay.upstream.url=http://u:8080 --set sshKey.secretName=k
refuses "relay.config must not set storage" "the chart refuses Git storage in a relay's configuration" \
  "$helm" template t $chart --set relay.enabled=true --set relay.upstream.url=http://u:8080 --set-string 'relay.config=storage: {}'
refuses "must exceed shutdown.delaySeconds + shutdown.gracePeriodSeconds (25)" \
  "the chart refuses a terminationGracePeriodSeconds that cuts the drain" "$helm" template t $chart --set terminationGracePeriodSeconds=25
refuses "instead of server.shutdown_grace_period" "the chart refuses shutdown timings set in config" \
  "$helm" template t $chart --set-string 'config=storage: {}
server: {shutdown_grace_period: 1m}'
refuses "does not exceed server.shutdown_delay 5s + shutdown_grace_period 20s" "k8scheck refuses a pod killed while it drains" sh -c \
  "'$helm' template t $chart | sed 's/terminationGracePeriodSeconds: 30/terminationGracePeriodSeconds: 25/' | '$k8scheck' -"
refuses 'relay: volume "ssh-key" (Git credentials) is rendered' "k8scheck refuses Git credentials on a relay" sh -c \
  "'$helm' template t $chart --set sshKey.secretName=k | sed 's|^    storage:|    upstream: {url: \"http://u:8080\"}\n    storage:|' | '$k8scheck' -"
printf 'storage:\n  flags:\n    remotee: https://example.invalid/f.git\n' >"$work/bad-config.yml"
refuses "storage.flags.remotee: unknown key \`remotee\`; did you mean \`remote\`?" "config-loads.sh refuses a configuration switchyard rejects" \
  deploy/test/config-loads.sh "$bin" "$work/bad-config.yml" "$work/bad-config"
for values in default $chart/ci/*-values.yaml; do
  name=$(basename "$values" -values.yaml)
  args=()
  [ "$values" = default ] || args=(-f "$values")
  check "[$name] helm lint --strict" "$helm" lint --strict $chart "${args[@]}"
  check "[$name] helm template, every object decoded strictly" sh -c \
    "'$helm' template sy $chart ${args[*]} | '$k8scheck' -configmaps '$work/helm-$name' -"
  config=$work/helm-$name/sy-switchyard/switchyard.yml
  # the real binary loads the rendered file; its storages' local paths are redirected here
  check "[$name] switchyard loads the rendered configuration" deploy/test/config-loads.sh "$bin" "$config" "$work/helm-$name/data"
done

echo
echo "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
