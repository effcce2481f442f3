"""Run one step of an example workflow that uses the alb-rollout action, the
way GitHub's runner does, on this machine.

Owns: reading a workflow, evaluating its `${{ }}` expressions from a fixture
map, and running an action step. The step's inputs are action.yml's
defaults overridden by its `with:`; they reach the step's script through the
`env:` mapping action.yml itself declares (read from action.yml, so this
uses the real input -> variable mapping), and the script is action.yml's
`run:` text in `bash --noprofile --norc -eo pipefail FILE`, as on GitHub.

The binary is the one cargo built, reached through action/run.sh's prebuilt
path: a temporary action directory whose action/checksums.sha256 lists that
binary's sha256 under a local tag, and a tool cache that holds it. run.sh
verifies it as it verifies a downloaded release; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((REPO / "action.yml").read_text())
STEP = ACTION["runs"]["steps"][0]
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
PATH_EXPR = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*")
LOCAL_TAG = "v0.0.0-local"


def load(name: str) -> dict:
    return yaml.safe_load((REPO / "examples" / name).read_text())


def is_action(step: dict) -> bool:
    uses = step.get("uses", "")
    return uses == "./" or re.match(r"[\w.-]+/alb-rollout@", uses) is not None


def action_steps(workflow: dict, job: str) -> list[dict]:
    """The job's steps that use the alb-rollout action, in order."""
    return [s for s in workflow["jobs"][job]["steps"] if is_action(s)]


def evaluate(text: str, ctx: dict) -> str:
    """Replace each `${{ a.b.c }}` by ctx["a.b.c"]. Only plain context paths
    are supported; anything else (or a path the fixture lacks) is an error,
    so an example can never pass with a value the runner made up."""

    def one(m: re.Match) -> str:
        expr = m.group(1)
        if not PATH_EXPR.fullmatch(expr):
            raise ValueError(f"expression not supported by the example runner: {m.group(0)}")
        if expr not in ctx:
            raise KeyError(f"no fixture for {m.group(0)} (have: {', '.join(sorted(ctx))})")
        value = ctx[expr]
        return str(value() if callable(value) else value)

    return EXPR.sub(one, text)


def target_triple() -> str:
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[platform.machine()]
    if platform.system() == "Darwin":
        return f"{arch}-apple-darwin"
    return f"{arch}-unknown-linux-musl"


@dataclass
class ActionDir:
    """A checkout of the action whose checksum table lists `binary`, and a
    tool cache holding it, so run.sh's verified prebuilt path runs it."""

    binary: Path
    root: Path = field(init=False)
    tool_cache: Path = field(init=False)

    def __post_init__(self) -> None:
        base = Path(tempfile.mkdtemp(prefix="alb-rollout-examples-"))
        self.root, self.tool_cache = base / "action-checkout", base / "tool-cache"
        (self.root / "action").mkdir(parents=True)
        shutil.copy2(REPO / "action" / "run.sh", self.root / "action" / "run.sh")
        shutil.copy2(REPO / "action.yml", self.root / "action.yml")
        target = target_triple()
        digest = hashlib.sha256(self.binary.read_bytes()).hexdigest()
        (self.root / "action" / "checksums.sha256").write_text(
            f"repository local/alb-rollout\ntag {LOCAL_TAG}\n{digest}  alb-rollout-{target}\n")
        cached = self.tool_cache / "alb-rollout" / LOCAL_TAG[1:] / target
        cached.mkdir(parents=True)
        shutil.copy2(self.binary, cached / "alb-rollout")
        (cached.parent / f"{target}.complete").write_text("")
        self.base = base

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


@dataclass
class Outcome:
    code: int
    outputs: dict
    log: str
    seconds: float


def parse_outputs(text: str) -> dict:
    """GITHUB_OUTPUT: `k=v` lines and `k<<DELIM` ... `DELIM` blocks."""
    out, lines, i = {}, text.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            out[key] = "\n".join(lines[i + 1:j])
            i = j + 1
            continue
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
        i += 1
    return out


def step_inputs(step: dict, ctx: dict, overrides) -> dict:  # noqa: ANN001
    """action.yml's defaults, then the step's `with:` evaluated, then the
    runner's declared duration overrides (`overrides(name, value)`)."""
    inputs = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
    for k, v in (step.get("with") or {}).items():
        if k not in inputs:
            raise KeyError(f"step {step.get('name')!r}: input {k!r} is not in action.yml")
        value = "true" if v is True else "false" if v is False else str(v)
        inputs[k] = overrides(k, evaluate(value, ctx))
    return inputs


def step_env(inputs: dict) -> dict:
    """action.yml's own `env:` of its step, with `inputs.*` substituted."""
    ictx = {f"inputs.{k}": v for k, v in inputs.items()}
    return {k: evaluate(str(v), ictx) for k, v in STEP["env"].items()}


def start(step: dict, ctx: dict, action: ActionDir, base_env: dict, work: Path, overrides) -> tuple:  # noqa: ANN001
    """Start the step; returns (process, output file, log file)."""
    inputs = step_inputs(step, ctx, overrides)
    work.mkdir(parents=True, exist_ok=True)
    out, summary, log = work / "output", work / "summary", work / "log"
    for f in (out, summary):
        f.write_text("")
    script = work / "step.sh"
    script.write_text(STEP["run"])
    env = dict(base_env)
    env.update(step_env(inputs))
    env.update({
        "GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": str(action.root), "GITHUB_OUTPUT": str(out),
        "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TOOL_CACHE": str(action.tool_cache),
        "RUNNER_TEMP": str(work),
    })
    with open(log, "wb") as f:
        proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                                env=env, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    return proc, out, log


def run(step: dict, ctx: dict, action: ActionDir, base_env: dict, work: Path, overrides,  # noqa: ANN001
        timeout: float) -> Outcome:
    t0 = time.monotonic()
    proc, out, log = start(step, ctx, action, base_env, work, overrides)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        code = proc.wait()
    return Outcome(code, parse_outputs(out.read_text()), log.read_text(errors="replace"), time.monotonic() - t0)
