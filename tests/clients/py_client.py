"""Drives the PyPI `flipt-client` (Flipt's FFI engine) for clients.test.mjs.

Protocol: one JSON command per line on stdin, one JSON reply per line on stdout.
  {"cmd": "init", "name": "s", "url": "...", "mode": "streaming"|"polling", "interval": 1}
  {"cmd": "eval", "name": "s"}   -> the values of the known flags for user-1, free and premium
  {"cmd": "unknown", "name": "s"} -> how an unknown flag is reported
  {"cmd": "close"}
Replies: {"ok": true, ...} or {"ok": false, "error": "..."}.
"""
import json
import sys
import traceback

from flipt_client import FliptClient
from flipt_client.models import ClientOptions, EvaluationRequest, FetchMode

clients = {}


def values(c, plan):
    ctx = {"plan": plan}
    b = c.evaluate_boolean("newHomeUI", "user-1", ctx)
    v = c.evaluate_variant("checkoutExperiment", "user-1", ctx)
    return {
        "newHomeUI": b.enabled,
        "newHomeUIReason": b.reason,
        "checkoutExperiment": v.variant_key,
        "checkoutReason": v.reason,
        "attachment": v.variant_attachment,
    }


def handle(cmd):
    op = cmd["cmd"]
    if op == "init":
        mode = FetchMode.STREAMING if cmd["mode"] == "streaming" else FetchMode.POLLING
        clients[cmd["name"]] = FliptClient(
            opts=ClientOptions(
                url=cmd["url"],
                namespace="default",
                environment="default",
                fetch_mode=mode,
                update_interval=cmd.get("interval", 1),
            )
        )
        return {}
    c = clients[cmd["name"]]
    if op == "eval":
        batch = c.evaluate_batch(
            [
                EvaluationRequest(flag_key="newHomeUI", entity_id="user-1", context={}),
                EvaluationRequest(flag_key="checkoutExperiment", entity_id="user-1", context={}),
                EvaluationRequest(flag_key="noSuchFlag", entity_id="user-1", context={}),
            ]
        )
        flags = sorted(f.key for f in c.list_flags())
        return {
            "free": values(c, "free"),
            "premium": values(c, "premium"),
            "batchTypes": [r.type for r in batch.responses],
            "flags": flags,
        }
    if op == "unknown":
        try:
            c.evaluate_variant("noSuchFlag", "user-1", {})
            return {"raised": None}
        except Exception as e:  # the client raises EvaluationError
            return {"raised": type(e).__name__, "message": str(e)}
    raise ValueError(f"unknown command {op}")


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd["cmd"] == "close":
            for c in clients.values():
                c.close()
            print(json.dumps({"ok": True}), flush=True)
            return
        try:
            reply = {"ok": True, **handle(cmd)}
        except Exception as e:
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
