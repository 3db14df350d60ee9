"""Writes a realistic flag file for the HTTP benchmarks: the seed's four flags and segments
plus generated ones (variant flags with segment rules and percentage splits, boolean flags
with segment and threshold rollouts), all in namespace `default`.

python3 gen_flags.py OUT.yml [EXTRA_FLAGS=60]
"""
import sys

out = sys.argv[1]
extra = int(sys.argv[2]) if len(sys.argv) > 2 else 60

lines = ['version: "1.4"', "namespace: default", "flags:"]
seed_flags = """  - key: newHomeUI
    name: New Home UI
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - key: enabled
      - key: disabled
        default: true
    rules:
      - segment: premium-users
        distributions:
          - {variant: enabled, rollout: 100}
  - key: newDashboard
    name: New Dashboard
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - key: enabled
      - key: disabled
        default: true
    rules:
      - segment: beta-testers
        distributions:
          - {variant: enabled, rollout: 100}
  - key: newPaymentFlow
    name: New Payment Flow
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - key: enabled
      - key: disabled
        default: true
    rules:
      - segment: premium-users
        distributions:
          - {variant: enabled, rollout: 25}
          - {variant: disabled, rollout: 75}
  - key: checkoutExperiment
    name: Checkout Experiment
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - key: control
        default: true
      - key: variant-a
        attachment: {buttonColor: green}
      - key: variant-b
        attachment: {buttonColor: blue}
    rules:
      - segment: enterprise-users
        distributions:
          - {variant: variant-a, rollout: 50}
          - {variant: variant-b, rollout: 50}"""
lines.append(seed_flags)
segs = ["premium-users", "beta-testers", "enterprise-users"] + [f"cohort-{i}" for i in range(8)]
for i in range(extra):
    seg = segs[i % len(segs)]
    seg2 = segs[(i + 3) % len(segs)]
    if i % 3 == 2:
        lines.append(f"""  - key: bool-flag-{i}
    name: Boolean flag {i}
    type: BOOLEAN_FLAG_TYPE
    enabled: {"true" if i % 2 else "false"}
    rollouts:
      - segment: {{key: {seg}, value: true}}
      - threshold: {{percentage: {(i * 7) % 100}, value: true}}""")
    else:
        lines.append(f"""  - key: variant-flag-{i}
    name: Variant flag {i}
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - key: control
        default: true
      - key: treatment
        attachment: {{size: {i}, label: "t{i}"}}
      - key: holdout
    rules:
      - segment: {seg}
        distributions:
          - {{variant: treatment, rollout: 100}}
      - segment: {seg2}
        distributions:
          - {{variant: treatment, rollout: 45}}
          - {{variant: control, rollout: 45}}
          - {{variant: holdout, rollout: 10}}""")
lines.append("segments:")
lines.append("""  - key: premium-users
    name: Premium users
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: premium}
  - key: beta-testers
    name: Beta testers
    match_type: ANY_MATCH_TYPE
    constraints:
      - {type: BOOLEAN_COMPARISON_TYPE, property: betaTester, operator: "true"}
  - key: enterprise-users
    name: Enterprise users
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: enterprise}""")
for i in range(8):
    lines.append(f"""  - key: cohort-{i}
    name: Cohort {i}
    match_type: ALL_MATCH_TYPE
    constraints:
      - {{type: STRING_COMPARISON_TYPE, property: country, operator: isoneof, value: '["de","fr","nl","c{i}"]'}}
      - {{type: NUMBER_COMPARISON_TYPE, property: age, operator: gte, value: "{18 + i}"}}""")
open(out, "w").write("\n".join(lines) + "\n")
print(f"{out}: {4 + extra} flags, {len(segs)} segments")
