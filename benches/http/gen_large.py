"""Writes FLAGS flags of one namespace (`default`) into FILES files `part-NN/features.yml` (Flipt
v2's layout), with 100 segments in the first file; every flag references a segment. Used by
large.sh.

    python3 gen_large.py DIR FLAGS FILES
"""
import sys, os
out, flags, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
per = flags // files
for f in range(files):
    lines = ['version: "1.4"', 'namespace: default']
    if f == 0:
        lines.append('segments:')
        for s in range(100):
            lines.append(f'  - key: seg-{s}\n    name: Segment {s}\n    match_type: ALL_MATCH_TYPE\n    constraints:\n      - {{type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: plan-{s}}}')
    lines.append('flags:')
    for j in range(per):
        i = f * per + j
        if i % 2:
            lines.append(f'  - key: flag-{i}\n    name: Flag {i}\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n    rollouts:\n      - segment: {{key: seg-{i % 100}, value: true}}\n      - threshold: {{percentage: 50, value: true}}')
        else:
            lines.append(f'  - key: flag-{i}\n    name: Flag {i}\n    type: VARIANT_FLAG_TYPE\n    enabled: true\n    variants:\n      - {{key: control, default: true}}\n      - {{key: treatment, attachment: {{color: blue, size: {i}}}}}\n    rules:\n      - segment: seg-{i % 100}\n        distributions:\n          - {{variant: control, rollout: 50}}\n          - {{variant: treatment, rollout: 50}}')
    os.makedirs(os.path.join(out, f'part-{f:02}'), exist_ok=True)
    open(os.path.join(out, f'part-{f:02}', 'features.yml'), 'w').write('\n'.join(lines) + '\n')
