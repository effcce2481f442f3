#!/usr/bin/env python3
"""Generate or check every examples/NAME.iam.json from `alb-rollout iam-policy`.

Usage: iam-policies.py --write BINARY | --check BINARY

The arguments per example are in examples/iam-policies.txt. --write
rewrites each file with the generated statements, keeping any statement for
another service (a team's own deploy command, e.g. SSM) after them. --check
fails unless each file's ELBv2, CloudWatch and S3 statements are exactly the
generated ones, in order (other services' statements are allowed in
addition). .ci/run runs --check.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OURS = ("elasticloadbalancing:", "cloudwatch:", "s3:")


def manifest() -> list[tuple[str, list[str]]]:
    out = []
    for line in (HERE / "iam-policies.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, *args = shlex.split(line)
            out.append((name, args))
    return out


def ours(statement: dict) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    return any(a.startswith(OURS) for a in actions)


def generated(binary: str, args: list[str]) -> dict:
    run = subprocess.run([binary, "iam-policy", *args], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        sys.exit(f"iam-policy {shlex.join(args)} failed ({run.returncode}): {run.stderr}")
    return json.loads(run.stdout)


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("--write", "--check"):
        sys.exit(__doc__)
    mode, binary = sys.argv[1], sys.argv[2]
    problems = []
    for name, args in manifest():
        path = HERE / f"{name}.iam.json"
        want = generated(binary, args)
        have = json.loads(path.read_text()) if path.exists() else {"Statement": []}
        others = [s for s in have.get("Statement", []) if not ours(s)]
        if mode == "--write":
            doc = {**want, "Statement": want["Statement"] + others}
            path.write_text(json.dumps(doc, indent=2) + "\n")
            print(f"wrote {path.name}")
            continue
        got = [s for s in have.get("Statement", []) if ours(s)]
        if not path.exists():
            problems.append(f"{path.name}: missing")
        elif got != want["Statement"] or have.get("Version") != want["Version"]:
            problems.append(f"{path.name}: its ELBv2/CloudWatch statements are not what "
                            f"`alb-rollout iam-policy {shlex.join(args)}` prints; "
                            f"run examples/iam-policies.py --write BINARY")
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if mode == "--check" and not problems:
        print(f"iam policies: {len(manifest())} examples match iam-policy")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
