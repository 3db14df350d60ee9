#!/usr/bin/env python3
"""Reads the repository's Dockerfile without a Docker engine and checks what the image promises.

    dockerfile.py Dockerfile            # checks; prints one line per problem, exit 1 if any
    dockerfile.py Dockerfile STAGE      # prints the stage's facts as JSON (after the checks)

Checked: the build stage runs deploy/docker/build.sh (the commands scripts/test-deploy.sh runs);
the runtime stages are Debian 12 (the glibc deploy/docker/check-binary.sh checks against), run
as a numeric non-root user, keep TMPDIR=/tmp, expose the listen port, health-check through
`switchyard health`, and start `switchyard serve`; the default (last) stage has the ssh client.
"""
import json
import shlex
import sys


def instructions(text):
    """(instruction, arguments) pairs with line continuations joined and comments dropped."""
    out, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def stages(text):
    """Stage name -> facts: base image, env, user, entrypoint, cmd, healthcheck, runs, copies."""
    args, result, stage = {}, {}, None
    for word, rest in instructions(text):
        if word == "ARG" and stage is None:
            key, _, value = rest.partition("=")
            args[key] = value
        elif word == "FROM":
            parts = rest.split()
            base = parts[0]
            for key, value in args.items():
                base = base.replace("${%s}" % key, value)
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(result))
            stage = {"name": name, "base": base, "env": {}, "user": None, "entrypoint": None,
                     "cmd": None, "healthcheck": None, "expose": [], "run": [], "copy": []}
            result[name] = stage
        elif stage is None:
            continue
        elif word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                stage["env"][key] = value
        elif word == "USER":
            stage["user"] = rest
        elif word in ("ENTRYPOINT", "CMD"):
            stage[word.lower()] = json.loads(rest)
        elif word == "HEALTHCHECK":
            options, _, command = rest.partition("CMD")
            stage["healthcheck"] = {"options": options.split(), "cmd": json.loads(command)}
        elif word == "EXPOSE":
            stage["expose"] += rest.split()
        elif word == "RUN":
            stage["run"].append(rest)
        elif word == "COPY":
            stage["copy"].append(rest)
    return result


def problems(all_stages):
    found = []
    names = list(all_stages)
    build = all_stages.get("build")
    if not build or not any("deploy/docker/build.sh /out" in r for r in build["run"]):
        found.append("the build stage does not run deploy/docker/build.sh /out")
    if names[-1:] != ["runtime"]:
        found.append("the last (default) stage is %r, expected 'runtime'" % names[-1:])
    for name in ("minimal", "runtime"):
        s = all_stages.get(name)
        if not s:
            found.append("no %s stage" % name)
            continue
        where = "stage %s: " % name
        if "bookworm" not in s["base"] and "debian12" not in s["base"]:
            found.append(where + "base %s is not Debian 12 (check-binary.sh checks glibc 2.36)" % s["base"])
        uid = (s["user"] or "").split(":")[0]
        if not uid.isdigit() or int(uid) == 0:
            found.append(where + "USER %r is not a numeric non-root uid (runAsNonRoot needs one)" % s["user"])
        if s["env"].get("TMPDIR") != "/tmp":
            found.append(where + "TMPDIR is not /tmp (the documented writable path)")
        port = s["env"].get("SWITCHYARD_LISTEN", "").rpartition(":")[2]
        if not port or port not in s["expose"]:
            found.append(where + "EXPOSE %s does not include the listen port %r" % (s["expose"], port))
        if s["entrypoint"] != ["/usr/local/bin/switchyard"] or s["cmd"] != ["serve"]:
            found.append(where + "ENTRYPOINT/CMD are %s %s" % (s["entrypoint"], s["cmd"]))
        hc = s["healthcheck"]
        if not hc or hc["cmd"][:2] != ["/usr/local/bin/switchyard", "health"]:
            found.append(where + "HEALTHCHECK does not run `switchyard health`")
        if not any(c.split()[-2:] == ["/out/switchyard", "/usr/local/bin/switchyard"] for c in s["copy"]):
            found.append(where + "does not copy /out/switchyard to /usr/local/bin/switchyard")
    runtime = all_stages.get("runtime")
    if runtime and not any("openssh-client" in r for r in runtime["run"]):
        found.append("stage runtime: no openssh-client (SSH remotes run the system ssh)")
    return found


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        all_stages = stages(f.read())
    found = problems(all_stages)
    for p in found:
        print("dockerfile: " + p, file=sys.stderr)
    if found:
        sys.exit(1)
    if len(sys.argv) == 3:
        print(json.dumps(all_stages[sys.argv[2]]))


if __name__ == "__main__":
    main()
