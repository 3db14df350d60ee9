"""Checks that Flipt's engine answered the benchmark's request as switchyard-core did.

Usage: python3 check.py INPUT.json < ANSWERS
INPUT.json is the engine_input binary's output; each line of ANSWERS is `NAME JSON`, an engine's
answer as it returned it: either a response (`match`, `reason`, `variantKey`/`variant_key`,
`segmentKeys`/`segment_keys`) or the engines' envelope `{"status": "success", "result": ...}`.
Compares match, reason, variant key and the set of segment keys with `expected`. Prints one line
per answer; exits 1 if any differs, or if there is no answer.
"""

import json
import re
import sys


def snake(key: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), key)


def summary(match, reason, variant, segments) -> str:
    return f"match={json.dumps(match)} reason={reason} variant={variant!r} segments={sorted(segments)}"


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: check.py INPUT.json < ANSWERS", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        exp = json.load(f)["expected"]
    want = summary(exp["match"], exp["reason"], exp["variantKey"], exp["segmentKeys"])
    answers = 0
    failed = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        answers += 1
        name, _, text = line.partition(" ")
        try:
            got = json.loads(text)
            if "status" in got:
                if got["status"] != "success":
                    raise ValueError(f"engine answered {got['status']}: {got.get('error_message') or got.get('errorMessage')}")
                got = got["result"]
            got = {snake(k): v for k, v in got.items()}
            have = summary(got["match"], got["reason"], got["variant_key"], got.get("segment_keys") or [])
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            print(f"{name}: unreadable answer ({e}): {text}")
            failed += 1
            continue
        if have == want:
            print(f"{name}: same answer as switchyard-core ({have})")
        else:
            print(f"{name}: DIFFERENT answer\n  switchyard-core: {want}\n  {name}: {have}")
            failed += 1
    if answers == 0:
        print("check.py: no answers to check")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
