"""Strict schema test of Switchyard's client snapshots against Flipt v2's own proto.

Compiles Flipt v2.11.0's `evaluationv2.proto` (path in $FLIPT_EVALUATION_PROTO; see README.md) with grpcio-tools'
protoc, starts a real `switchyard serve` on 127.0.0.1 over a real Git repository whose flags use
every construct the snapshot carries, and decodes every snapshot it serves with protobuf's
`json_format.Parse` in strict mode (unknown fields and unknown enum spellings are errors, as in
protojson's default `DiscardUnknown: false`). Each decoded message is written back with every
field (protojson `EmitDefaultValues`) and must equal what Switchyard sent: no field more, none
missing. A control case checks that the decoder does reject an extra field. The attachment of the
default variant must come out as Flipt writes it in every API that carries it (evaluation, OFREP
metadata, snapshot distributions and default variant), as Go decided in
crates/switchyard-core/tests/vectors/go_attachment.jsonl.

Usage: strict_snapshot.py SWITCHYARD_BIN. Ends with "proto-strict: N passed, M failed".
"""

import datetime
import importlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from google.protobuf import json_format
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))

FLAGS = """version: "1.4"
namespace: default
flags:
  - key: checkout
    name: Checkout
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - key: control
        default: true
        attachment: {z: 1.0, a: [1e21, "<&>", 1.5e-7], m: 5}
      - key: treatment
        attachment: {color: blue, size: 2}
      - key: bare
    rules:
      - segment: {keys: [pro, staff], operator: AND_SEGMENT_OPERATOR}
        distributions: [{variant: treatment, rollout: 40.5}, {variant: control, rollout: 59.5}]
      - segment: everyone
        distributions: [{variant: control, rollout: 100}]
      - segment: {keys: [pro, staff], operator: OR_SEGMENT_OPERATOR}
  - key: dark-mode
    name: Dark mode
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - description: staff first
        segment: {keys: [staff, pro], operator: AND_SEGMENT_OPERATOR, value: true}
      - description: then a tenth
        threshold: {percentage: 10.5, value: true}
      - segment: {key: everyone, value: false}
  - key: retired
    name: Retired
    type: VARIANT_FLAG_TYPE
    enabled: false
segments:
  - key: pro
    name: Pro
    match_type: ANY_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: isoneof, value: '["pro","enterprise"]'}
      - {type: NUMBER_COMPARISON_TYPE, property: seats, operator: gte, value: "1_0"}
      - {type: BOOLEAN_COMPARISON_TYPE, property: beta, operator: "true"}
      - {type: DATETIME_COMPARISON_TYPE, property: since, operator: lt, value: "2026-01-02T03:04:05+02:00"}
      - {type: ENTITY_ID_COMPARISON_TYPE, property: entityId, operator: prefix, value: "user-"}
  - key: staff
    name: Staff
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: email, operator: suffix, value: "@acme.io"}
  - key: everyone
    name: Everyone
    match_type: ALL_MATCH_TYPE
"""


def compile_proto(out_dir):
    """The vendored proto without its HTTP/OpenAPI annotations (imports not shipped with protoc)."""
    with open(os.environ["FLIPT_EVALUATION_PROTO"], encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r'^import "(gnostic|google/api)/[^"]+";\n', "", text, flags=re.M)
    text = re.sub(r"^service \w+ \{.*?^\}\n", "", text, flags=re.M | re.S)
    os.makedirs(out_dir, exist_ok=True)
    src = os.path.join(out_dir, "evaluationv2.proto")
    with open(src, "w", encoding="utf-8") as f:
        f.write(text)
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    rc = protoc.main(["protoc", f"-I{out_dir}", f"-I{include}", f"--python_out={out_dir}", src])
    if rc != 0:
        raise SystemExit(f"protoc failed ({rc})")
    sys.path.insert(0, out_dir)
    return importlib.import_module("evaluationv2_pb2")


def compile_environments(out_dir):
    """Flipt v2.11.0's environments API messages: `rpc/v2/environments/environments.proto` and the
    `rpc/flipt/core/core.proto` it imports (paths in $FLIPT_ENVIRONMENTS_PROTO and
    $FLIPT_CORE_PROTO), annotations and service stripped; None when either is not given."""
    env_path, core_path = os.environ.get("FLIPT_ENVIRONMENTS_PROTO"), os.environ.get("FLIPT_CORE_PROTO")
    if not (env_path and core_path and os.path.isfile(env_path) and os.path.isfile(core_path)):
        return None
    with open(env_path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r'^import "(gnostic|google/api)/[^"]+";\n', "", text, flags=re.M)
    text = re.sub(r"^service \w+ \{.*?^\}\n", "", text, flags=re.M | re.S)
    os.makedirs(os.path.join(out_dir, "core"), exist_ok=True)
    env_src, core_src = os.path.join(out_dir, "environments.proto"), os.path.join(out_dir, "core", "core.proto")
    with open(env_src, "w", encoding="utf-8") as f:
        f.write(text)
    with open(core_path, encoding="utf-8") as f, open(core_src, "w", encoding="utf-8") as g:
        g.write(f.read())
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    rc = protoc.main(["protoc", f"-I{out_dir}", f"-I{include}", f"--python_out={out_dir}", env_src, core_src])
    if rc != 0:
        raise SystemExit(f"protoc failed ({rc})")
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
    importlib.import_module("core.core_pb2")  # the Any payloads' types
    return importlib.import_module("environments_pb2")


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def post(url, body, timeout=10):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


ATTACHMENT_SRC = '{z: 1.0, a: [1e21, "<&>", 1.5e-7], m: 5}'


def go_attachment(src):
    """The row of Go's attachment vectors for this YAML source."""
    path = os.path.join(HERE, "..", "..", "crates", "switchyard-core", "tests", "vectors", "go_attachment.jsonl")
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                row = json.loads(line)
                if row["format"] == "yaml" and row["src"] == src:
                    return row
    raise SystemExit(f"no Go vector for {src}")


def start_server(binary, root):
    repo = os.path.join(root, "flags-repo")
    os.makedirs(os.path.join(repo, "flags"))
    git(repo, "init", "-q", "-b", "main")
    with open(os.path.join(repo, "flags", "features.yaml"), "w", encoding="utf-8") as f:
        f.write(FLAGS)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "flags")
    config = os.path.join(root, "switchyard.yml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(f'storage:\n  default:\n    remote: "file://{repo}"\n    branch: main\n'
                "environments:\n  default: { storage: default, default: true }\n")
    port = free_port()
    log = open(os.path.join(root, "server.log"), "w", encoding="utf-8")
    proc = subprocess.Popen([binary, "serve", "--config", config, "--listen", f"127.0.0.1:{port}"],
                            cwd=root, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"switchyard exited early; log:\n{open(log.name).read()}")
        try:
            if get(f"{url}/ready", timeout=2)[0] == 200:
                return proc, url, log.name
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"switchyard not ready within 20 s; log:\n{open(log.name).read()}")
        time.sleep(0.05)


def same(sent, back, path="$"):
    """Structural equality; numbers compare by value, timestamps by instant. Returns problems."""
    if isinstance(sent, dict) and isinstance(back, dict):
        problems = [f"{path}.{k}: sent but not in the proto" for k in sent.keys() - back.keys()]
        problems += [f"{path}.{k}: in the proto (EmitDefaultValues) but not sent" for k in back.keys() - sent.keys()]
        for k in sent.keys() & back.keys():
            problems += same(sent[k], back[k], f"{path}.{k}")
        return problems
    if isinstance(sent, list) and isinstance(back, list):
        if len(sent) != len(back):
            return [f"{path}: {len(sent)} items sent, {len(back)} decoded"]
        return [p for i, (a, b) in enumerate(zip(sent, back)) for p in same(a, b, f"{path}[{i}]")]
    if path.endswith(("createdAt", "updatedAt")) and isinstance(sent, str) and isinstance(back, str):
        parse = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
        return [] if parse(sent) == parse(back) else [f"{path}: {sent!r} != {back!r}"]
    if isinstance(sent, (int, float)) and isinstance(back, (int, float)) and not isinstance(sent, bool):
        return [] if float(sent) == float(back) else [f"{path}: {sent!r} != {back!r}"]
    return [] if sent == back else [f"{path}: {sent!r} != {back!r}"]


def main():
    binary = sys.argv[1]
    passed, failed = 0, 0

    def check(name, problems):
        nonlocal passed, failed
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for p in problems[:20]:
                print(f"     {p}")
        else:
            passed += 1
            print(f"ok   {name}")

    with tempfile.TemporaryDirectory(prefix="switchyard-proto-") as tmp:
        pb = compile_proto(os.path.join(tmp, "gen"))
        root = os.path.join(tmp, "run")
        os.makedirs(root)
        proc, url, log = start_server(binary, root)
        try:
            bodies = {}
            for path in ["/client/v2/environments/default/namespaces/default/snapshot",
                         "/internal/v1/evaluation/snapshot/namespace/default"]:
                status, body = get(url + path)
                bodies[path] = body if status == 200 else None
            # The snapshot stream's first frame: {"result": <snapshot>}.
            stream = url + "/client/v2/environments/default/namespaces/default/stream"
            try:
                with urllib.request.urlopen(stream, timeout=10) as r:
                    bodies[stream[len(url):] + " (first frame)"] = json.dumps(json.loads(r.readline())["result"]).encode()
            except (OSError, ValueError, KeyError) as e:
                check("stream first frame", [f"could not read: {e}"])

            for name, body in bodies.items():
                if body is None:
                    check(name, ["not 200"])
                    continue
                sent = json.loads(body)
                msg = pb.EvaluationNamespaceSnapshot()
                try:
                    json_format.Parse(body, msg)  # strict: ignore_unknown_fields=False
                except json_format.ParseError as e:
                    check(f"{name}: strict decode", [str(e)])
                    continue
                check(f"{name}: strict decode", [])
                back = json_format.MessageToDict(msg, always_print_fields_with_no_presence=True)
                check(f"{name}: exactly the proto's fields", same(sent, back))
                flags = {f["key"]: f for f in sent["flags"]}
                check(f"{name}: constructs present", [] if (
                    len(flags) == 3 and len(flags["checkout"]["rules"]) == 3
                    and len(flags["dark-mode"]["rollouts"]) == 3
                    and "defaultVariant" in flags["checkout"] and "defaultVariant" not in flags["retired"]
                ) else ["the fixture's flags are not all in the snapshot"])

            # The attachment, as Flipt writes it, in every API that carries it.
            want = go_attachment(ATTACHMENT_SRC)
            problems = []
            v = post(url + "/evaluate/v1/variant",
                     {"namespaceKey": "default", "flagKey": "checkout", "entityId": "nobody", "context": {}})
            if (v.get("variantKey"), v.get("variantAttachment")) != ("control", want["structpb"]):
                problems.append(f"evaluation: {v}")
            o = post(url + "/ofrep/v1/evaluate/flags/checkout", {"context": {"targetingKey": "nobody"}})
            if o.get("metadata", {}).get("attachment") != want["structpb"]:
                problems.append(f"OFREP: {o}")
            snap = json.loads(bodies["/client/v2/environments/default/namespaces/default/snapshot"] or b"{}")
            checkout = next((f for f in snap.get("flags", []) if f["key"] == "checkout"), {})
            if checkout.get("defaultVariant", {}).get("attachment") != want["json"]:
                problems.append(f"snapshot defaultVariant: {checkout.get('defaultVariant')}")
            dist = checkout.get("rules", [{}, {}])[1].get("distributions", [{}])[0]
            if dist.get("variantAttachment") != want["structpb"]:
                problems.append(f"snapshot distribution: {dist}")
            check("attachment strings are Flipt's (evaluation, OFREP, snapshot)", problems)

            # Control: the decoder is strict (Flipt's old rollout `description` is refused).
            body = json.loads(bodies["/client/v2/environments/default/namespaces/default/snapshot"] or b"{}")
            try:
                body["flags"][1]["rollouts"][0]["description"] = "x"
                json_format.Parse(json.dumps(body), pb.EvaluationNamespaceSnapshot())
                check("control: an unknown field is refused", ["the strict decoder accepted `description`"])
            except json_format.ParseError as e:
                check("control: an unknown field is refused", [] if "description" in str(e) else [str(e)])
            except (KeyError, IndexError, TypeError) as e:
                check("control: an unknown field is refused", [f"no snapshot to alter: {e}"])

            # Flipt v2's environments API: every read decodes strictly and has exactly the fields.
            envpb = compile_environments(os.path.join(tmp, "gen"))
            if envpb is None:
                print("proto-strict: environments API skipped: set FLIPT_ENVIRONMENTS_PROTO and FLIPT_CORE_PROTO")
            else:
                ns = "/api/v2/environments/default/namespaces"
                for path, cls in [("/api/v2/environments", envpb.ListEnvironmentsResponse),
                                  (ns, envpb.ListNamespacesResponse),
                                  (ns + "/default", envpb.NamespaceResponse),
                                  (ns + "/default/resources/flipt.core.Flag", envpb.ListResourcesResponse),
                                  (ns + "/default/resources/flipt.core.Segment", envpb.ListResourcesResponse),
                                  (ns + "/default/resources/flipt.core.Flag/checkout", envpb.ResourceResponse),
                                  (ns + "/default/resources/flipt.core.Flag/dark-mode", envpb.ResourceResponse),
                                  (ns + "/default/resources/flipt.core.Segment/pro", envpb.ResourceResponse),
                                  ("/api/v2/environments/default/branches", envpb.ListEnvironmentBranchesResponse)]:
                    status, body = get(url + path)
                    msg = cls()
                    try:
                        json_format.Parse(body, msg)  # strict, the Any payloads included
                    except json_format.ParseError as e:
                        check(f"{path}: strict decode", [str(e)])
                        continue
                    back = json_format.MessageToDict(msg, always_print_fields_with_no_presence=True)
                    check(f"{path}: strict decode, exactly the proto's fields",
                          ([] if status == 200 else [f"status {status}"]) + same(json.loads(body), back))
        finally:
            proc.kill()
            proc.wait(timeout=10)
            if failed:
                print(f"server log:\n{open(log).read()[-4000:]}")

    print(f"proto-strict: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
