#!/usr/bin/env bash
# Runs the Compose example the way Docker would, without a Docker engine: inside a private mount
# and network namespace (so ports 8080 and 9418 and the name `git` are the Compose file's own),
# the `git-seed` and `git` services' commands, then the switchyard service in a chroot laid out
# like the image stage: the binary at /usr/local/bin/switchyard, a read-only root, a tmpfs at
# /tmp, the `data` volume at /var/lib/switchyard, the config bind-mounted read-only, the stage's
# USER, ENV, ENTRYPOINT and the service's command, health-checked with the stage's HEALTHCHECK.
# Started by scripts/test-deploy.sh as:
#   unshare --mount --net --propagation private deploy/test/container-run.sh \
#     BINARY STAGE_JSON PROJECT_JSON WORKDIR WITH_SSH [BACKEND]
# BACKEND `memory` overrides the example's `local` backend (SWITCHYARD_STORAGE__FLAGS__BACKEND__TYPE),
# so the repository lives under TMPDIR on the tmpfs instead of on the volume.
# Prints "PASS: …" / "FAIL: …" lines; exits 1 if any check failed.
set -uo pipefail
bin=$1 stage_json=$2 project_json=$3 work=$4 with_ssh=$5 backend=${6:-local}
repo=$(cd "$(dirname "$0")/../.." && pwd)
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# Reads a value from a JSON file with a Python expression over `d`.
get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r if isinstance(r,str) else json.dumps(r))' "$1" "$2"; }
# Prints a JSON list of strings as NUL-separated words.
words() { python3 -c 'import json,sys; sys.stdout.write("".join(w+"\0" for w in json.loads(sys.argv[1])))' "$1"; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
trap 'exit 1' INT TERM

ip link set lo up

# --- git-seed and git: the services' commands, their /srv/git volume a directory here
srv="$work/srv-git"
mkdir -p "$srv"
GIT_ROOT="$srv" SEED_FLAGS="$repo/examples/seed/flipt/features.yml" sh "$repo/deploy/compose/seed.sh" >"$work/seed.log" 2>&1 \
  && pass "git-seed: seed.sh created the repository" || fail "git-seed: $(cat "$work/seed.log")"
mapfile -d '' git_cmd < <(words "$(get "$project_json" 'd["services"]["git"]["entrypoint"] + d["services"]["git"]["command"]')")
git_cmd=("${git_cmd[@]//\/srv\/git/$srv}")
"${git_cmd[@]}" >"$work/git-daemon.log" 2>&1 &
pids+=($!)

# --- the image's filesystem
root="$work/rootfs"
mkdir -p "$root"/{usr/local/bin,usr/lib,usr/lib64,usr/bin,etc/switchyard,etc/ssl,tmp,var/lib/switchyard,dev,proc}
ln -sfn usr/lib "$root/lib"; ln -sfn usr/lib64 "$root/lib64"; ln -sfn usr/bin "$root/bin"
cp "$bin" "$root/usr/local/bin/switchyard"
user=$(get "$stage_json" 'd["user"]')
uid=${user%%:*} gid=${user##*:}
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nswitchyard:x:%s:%s::/var/lib/switchyard:/usr/sbin/nologin\n' "$uid" "$gid" >"$root/etc/passwd"
printf 'root:x:0:\nswitchyard:x:%s:\n' "$gid" >"$root/etc/group"
# Compose's service name resolves through the network's DNS; here through /etc/hosts
printf '127.0.0.1 localhost git\n' >"$root/etc/hosts"
: >"$root/etc/switchyard/switchyard.yml"
data="$work/data"
mkdir -p "$data" && chown "$uid:$gid" "$data"
mount --bind "$root" "$root"
for d in usr/lib usr/lib64 etc/ssl; do mount --bind -o ro "/$d" "$root/$d"; done
# the default image has the ssh client; the minimal one has no /usr/bin at all
[ "$with_ssh" = 1 ] && mount --bind -o ro /usr/bin "$root/usr/bin"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount -t tmpfs -o size=256m,mode=1777 tmpfs "$root/tmp"
mount --bind "$data" "$root/var/lib/switchyard"
config_src=$(get "$project_json" '[v["source"] for v in d["services"]["switchyard"]["volumes"] if v["target"]=="/etc/switchyard/switchyard.yml"][0]')
mount --bind -o ro "$config_src" "$root/etc/switchyard/switchyard.yml"
# an SSH remote (default image only): a real sshd, the key mounted as the chart mounts it
# (0440, owned by root, group-readable through the pod's fsGroup), a config of its own
ssh_ok=0
if [ "$with_ssh" = 1 ] && [ -x /usr/sbin/sshd ]; then
  keys="$work/ssh"
  mkdir -p "$keys" "$root/etc/switchyard/ssh"
  ssh-keygen -q -t ed25519 -N "" -C host -f "$keys/host_ed25519"
  ssh-keygen -q -t ed25519 -N "" -C client -f "$keys/client_ed25519"
  cp "$keys/client_ed25519.pub" "$keys/authorized_keys"
  printf '[127.0.0.1]:2222 %s\n' "$(cut -d' ' -f1,2 "$keys/host_ed25519.pub")" >"$keys/known_hosts"
  printf 'ListenAddress 127.0.0.1\nPort 2222\nHostKey %s/host_ed25519\nPidFile %s/sshd.pid\nAuthorizedKeysFile %s/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n' \
    "$keys" "$keys" "$keys" >"$keys/sshd_config"
  mkdir -p /run/sshd
  /usr/sbin/sshd -D -f "$keys/sshd_config" -E "$keys/sshd.log" &
  pids+=($!)
  install -m 0440 -o 0 -g "$gid" "$keys/client_ed25519" "$root/etc/switchyard/ssh/id_ed25519"
  install -m 0444 "$keys/known_hosts" "$root/etc/switchyard/ssh/known_hosts"
  printf 'storage:\n  flags:\n    remote: ssh://root@127.0.0.1:2222%s/flags.git\n    branch: main\n    credentials: key\n    poll_interval: 2s\n    fetch_policy: lenient\ncredentials:\n  key:\n    type: ssh\n    ssh:\n      private_key_path: /etc/switchyard/ssh/id_ed25519\n      known_hosts_path: /etc/switchyard/ssh/known_hosts\nenvironments:\n  default:\n    storage: flags\n    default: true\n' \
    "$srv" >"$root/etc/switchyard/ssh.yml"
  ssh_ok=1
fi
mount -o remount,bind,ro "$root"

if touch "$root/probe" 2>/dev/null; then
  fail "the root filesystem is writable"
else
  pass "the root filesystem is read-only"
fi

# --- the container's environment: the stage's ENV, then the service's
env_args=()
while IFS= read -r kv; do env_args+=("$kv"); done < <(get "$stage_json" '"\n".join(k+"="+v for k,v in d["env"].items())')
while IFS= read -r kv; do [ -n "$kv" ] && env_args+=("$kv"); done < <(get "$project_json" '"\n".join(k+"="+(v or "") for k,v in (d["services"]["switchyard"].get("environment") or {}).items())')
env_args+=("HOME=/var/lib/switchyard" "PATH=/usr/local/bin:/usr/bin")
[ "$backend" = memory ] && env_args+=("SWITCHYARD_STORAGE__FLAGS__BACKEND__TYPE=memory")
# env -i from outside the root (the minimal layout has no /usr/bin/env); exec keeps one process
chroot=$(command -v chroot)
in_image() { (exec env -i "${env_args[@]}" "$chroot" --userspec="$uid:$gid" "$root" "$@"); }
version=$(in_image /usr/local/bin/switchyard --version 2>&1) \
  && pass "the binary runs in the image layout as $uid:$gid ($version)" \
  || fail "the binary does not run in the image layout: $version"

mapfile -d '' entry < <(words "$(get "$stage_json" 'd["entrypoint"]')")
mapfile -d '' command < <(words "$(get "$project_json" 'd["services"]["switchyard"]["command"] or []')")
[ ${#command[@]} -gt 0 ] || mapfile -d '' command < <(words "$(get "$stage_json" 'd["cmd"]')")
(exec env -i "${env_args[@]}" "$chroot" --userspec="$uid:$gid" "$root" "${entry[@]}" "${command[@]}") \
  >"$work/switchyard.log" 2>&1 &
server=$!
pids+=($server)

mapfile -d '' health < <(words "$(get "$stage_json" 'd["healthcheck"]["cmd"]')")
healthy=0
for _ in $(seq 1 300); do
  if in_image "${health[@]}" >/dev/null 2>&1; then healthy=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ $healthy = 1 ] && pass "HEALTHCHECK (${health[*]}) healthy" \
  || fail "HEALTHCHECK never healthy; log: $(tail -n 20 "$work/switchyard.log")"

ready=0
for _ in $(seq 1 300); do
  if in_image /usr/local/bin/switchyard health --url http://127.0.0.1:8080/ready >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[ $ready = 1 ] && pass "/ready: the git service's repository is served" \
  || fail "/ready never 200; log: $(tail -n 20 "$work/switchyard.log")"

# a push to the published git:// port, as the Compose file's comment says, is served
clone="$work/clone"
if git clone -q git://127.0.0.1:9418/flags.git "$clone" 2>"$work/push.log" \
  && sed -i 's/rollout: 25/rollout: 50/; s/rollout: 75/rollout: 50/' "$clone/flipt/features.yml" \
  && git -C "$clone" -c user.name=T -c user.email=t@t.invalid -c commit.gpgsign=false commit -q -am "Roll out to 50%" \
  && git -C "$clone" push -q origin main 2>>"$work/push.log"; then
  sha=$(git -C "$clone" rev-parse HEAD)
  served=0
  for _ in $(seq 1 100); do
    curl -sf -o "$work/status.json" http://127.0.0.1:8080/api/v1/sync/status \
      && [ "$(get "$work/status.json" 'd["servingCommit"]["sha"] if d.get("servingCommit") else ""')" = "$sha" ] \
      && { served=1; break; }
    sleep 0.1
  done
  [ $served = 1 ] && pass "a push to git://127.0.0.1:9418/flags.git is served (commit ${sha:0:8})" \
    || fail "pushed commit $sha not served within 10 s: $(curl -s http://127.0.0.1:8080/api/v1/sync/status)"
else
  fail "clone/push over git://: $(cat "$work/push.log")"
fi

# the repository is where the backend says, and nothing else was written
if [ "$backend" = local ]; then
  if [ -e "$data/flags" ] && [ "$(find "$data" -maxdepth 1 -mindepth 1 | wc -l)" = 1 ]; then
    pass "the local backend keeps its repository on the volume (/var/lib/switchyard/flags)"
  else
    fail "volume contents: $(ls -A "$data")"
  fi
elif [ -z "$(ls -A "$data")" ] && compgen -G "$root/tmp/switchyard-git-*" >/dev/null; then
  pass "the memory backend keeps its repository under TMPDIR (/tmp/switchyard-git-*), the volume untouched"
else
  fail "memory backend: volume $(ls -A "$data"), /tmp $(ls -A "$root/tmp")"
fi

if [ $ssh_ok = 1 ]; then
  (exec env -i "${env_args[@]}" "$chroot" --userspec="$uid:$gid" "$root" "${entry[@]}" \
    serve --config /etc/switchyard/ssh.yml --listen 127.0.0.1:8081) >"$work/switchyard-ssh.log" 2>&1 &
  ssh_server=$!
  pids+=($ssh_server)
  ready=0
  for _ in $(seq 1 300); do
    if in_image /usr/local/bin/switchyard health --url http://127.0.0.1:8081/ready >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.1
  done
  [ $ready = 1 ] && pass "an ssh:// remote is served (the image's ssh client as $uid, key 0440 root:$gid, read-only root)" \
    || fail "ssh:// remote not served; log: $(tail -n 5 "$work/switchyard-ssh.log"); sshd: $(tail -n 5 "$work/ssh/sshd.log")"
  kill -TERM "$ssh_server"
  wait "$ssh_server" 2>/dev/null
fi

kill -TERM "$server"
wait "$server"
code=$?
[ $code = 0 ] && pass "SIGTERM: serve exits 0" || fail "SIGTERM: serve exited $code; log: $(tail -n 5 "$work/switchyard.log")"
in_image "${health[@]}" >"$work/health-down.log" 2>&1
code=$?
[ $code = 1 ] && pass "HEALTHCHECK unhealthy (exit 1) once the server is gone" \
  || fail "HEALTHCHECK exited $code with the server stopped: $(cat "$work/health-down.log")"
[ $failures = 0 ]
