#!/usr/bin/env python3
"""Tests of the GitHub Action (action.yml, action/*.sh) without GitHub.

Each test runs the composite step the way the runner does: the `run:` text of
action.yml in `bash --noprofile --norc -eo pipefail FILE`, with the step's
`env:` evaluated from the given inputs (and action.yml's defaults), and fake
GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_PATH, RUNNER_TOOL_CACHE
and RUNNER_TEMP in a temporary directory. The release is a fake one served by
an HTTP server on 127.0.0.1 in this process (stopped at the end, and after 120 s
in any case), reached through ALB_ROLLOUT_ACTION_TEST_RELEASE_BASE; its
"binary" is a shell script that records its pid, argv and environment and
traps SIGTERM. Also checked here: action.yml against the CLI's variables,
every workflow's use of the action, the README's snippet against the
self-test, the examples' IAM policies, and that every example has a scenario
of the example runner (or a reason it has none).

Run: python3 action/tests/test_action.py (needs PyYAML); prints
`action-tests: N passed, M failed` last.
"""

import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((REPO / "action.yml").read_text())
STEP = ACTION["runs"]["steps"][0]
TARGETS = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "aarch64-apple-darwin",
    "x86_64-apple-darwin",
]
TAG = "v9.8.7"

FAKE_BINARY = r"""#!/bin/sh
# Fake alb-rollout: record how it was started, then exit or wait for SIGTERM.
d=${FAKE_MARKERS:?}
echo $$ > "$d/pid"
for a in "$@"; do printf '%s\n' "$a"; done > "$d/argv"
env > "$d/env"
if [ "${FAKE_MODE:-wait}" = exit ]; then
  echo "result=promoted" >> "$GITHUB_OUTPUT"
  exit 0
fi
trap 'echo TERM > "$d/signal"; echo "result=cancelled" >> "$GITHUB_OUTPUT"; exit 130' TERM
: > "$d/ready"
i=0
while [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
exit 99
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Release:
    """A fake GitHub release: files served from a directory on 127.0.0.1."""

    def __init__(self, root: Path):
        self.dir = root / "release"
        self.dir.mkdir()
        handler = functools.partial(Quiet, directory=str(self.dir))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.watchdog = threading.Timer(120, self.server.shutdown)
        self.watchdog.daemon = True
        self.watchdog.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/download/{TAG}"
        (self.dir / "download" / TAG).mkdir(parents=True)

    def put(self, name: str, data: bytes):
        (self.dir / "download" / TAG / name).write_bytes(data)

    def requests(self):
        return list(Quiet.log)

    def close(self):
        self.watchdog.cancel()
        self.server.shutdown()
        self.server.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    log = []

    def log_message(self, fmt, *args):
        Quiet.log.append(self.path)


def closed_port_base() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/download/{TAG}"


class Env:
    """A temporary runner: fake GITHUB_* files, tool cache, action checkout."""

    def __init__(self, root: Path, table: str | None = None):
        self.root = root
        self.action = root / "action-checkout"
        (self.action / "action").mkdir(parents=True)
        shutil.copy(REPO / "action" / "run.sh", self.action / "action" / "run.sh")
        shutil.copy(REPO / "action" / "checksums.sha256", self.action / "action" / "checksums.sha256")
        if table is not None:
            (self.action / "action" / "checksums.sha256").write_text(table)
        self.markers = root / "markers"
        self.markers.mkdir()
        self.cache = root / "toolcache"
        self.files = {}
        for name in ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH"]:
            p = root / name.lower()
            p.write_text("")
            self.files[name] = p
        (root / "runner-temp").mkdir()

    def env(self, inputs: dict, release_base: str | None, extra: dict | None = None) -> dict:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTION_PATH": str(self.action),
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_TOOL_CACHE": str(self.cache),
            "RUNNER_TEMP": str(self.root / "runner-temp"),
            "FAKE_MARKERS": str(self.markers),
        }
        env.update({k: str(v) for k, v in self.files.items()})
        env.update(step_env(inputs))
        if release_base is not None:
            env["ALB_ROLLOUT_ACTION_TEST_RELEASE_BASE"] = release_base
        env.update(extra or {})
        return env

    def start(self, inputs: dict, release_base: str | None, extra: dict | None = None):
        script = self.root / "step.sh"
        script.write_text(STEP["run"])
        return subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            env=self.env(inputs, release_base, extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, inputs: dict, release_base: str | None, extra: dict | None = None):
        p = self.start(inputs, release_base, extra)
        out, err = p.communicate(timeout=20)
        return p.returncode, out, err

    def outputs(self) -> str:
        return self.files["GITHUB_OUTPUT"].read_text()

    def marker(self, name: str) -> str | None:
        p = self.markers / name
        return p.read_text() if p.exists() else None

    def cached(self) -> list:
        if not self.cache.exists():
            return []
        return sorted(str(p.relative_to(self.cache)) for p in self.cache.rglob("*") if p.is_file())


def step_env(inputs: dict) -> dict:
    """The step's env: as the runner evaluates it for these inputs."""
    declared = ACTION["inputs"]
    for k in inputs:
        assert k in declared, f"input {k} is not declared in action.yml"
    env = {}
    for k, v in STEP["env"].items():
        m = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", str(v))
        if m:
            name = m.group(1)
            env[k] = str(inputs.get(name, declared[name].get("default", "")))
        else:
            assert "${{" not in str(v), f"unexpected expression in env {k}: {v}"
            env[k] = str(v)
    return env


def table_for(binary: bytes, repo="octo/alb-rollout", tag=TAG) -> str:
    lines = [f"repository {repo}", f"tag {tag}"]
    lines += [f"{sha256(binary)}  alb-rollout-{t}" for t in TARGETS]
    return "\n".join(lines) + "\n"


def source_fn(call: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Source run.sh (main does not run) and run one of its functions."""
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; source "$1"; {call}', "x", str(REPO / "action" / "run.sh")],
        env={"PATH": os.environ["PATH"], **(env or {})},
        capture_output=True,
        text=True,
        timeout=10,
    )


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def wait_for(path: Path, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.02)
    return False


CANARY = {"command": "canary", "listener": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/2", "blue": "web-blue", "green": "web-green", "steps": "10,100"}


# ---- the download path -------------------------------------------------------


@test
def committed_table_lists_no_release_and_points_to_build_from_source(tmp: Path):
    env = Env(tmp)  # the repository's own action/checksums.sha256
    code, out, err = env.run(CANARY, closed_port_base())
    assert code == 1, (code, out, err)
    assert "::error title=alb-rollout action::" in out and "build-from-source: true" in out, out
    assert "result=failed" in env.outputs()
    assert env.marker("pid") is None and env.cached() == []


@test
def checksum_mismatch_is_refused_and_nothing_runs_or_is_cached(tmp: Path):
    release = Release(tmp)
    try:
        binary = FAKE_BINARY.encode()
        release.put("alb-rollout-x86_64-unknown-linux-musl", binary + b"\n# tampered\n")
        env = Env(tmp, table_for(binary))
        code, out, err = env.run(CANARY, release.base)
        assert code == 1, (code, out, err)
        assert "refusing to run alb-rollout-x86_64-unknown-linux-musl" in out, out
        assert sha256(binary) in out, out
        assert "result=failed" in env.outputs()
        assert env.marker("pid") is None, "the unverified binary ran"
        assert env.cached() == [], env.cached()
        assert any(r.endswith("/alb-rollout-x86_64-unknown-linux-musl") for r in release.requests())
    finally:
        release.close()


@test
def verified_binary_is_execd_and_receives_sigterm_sent_to_the_step(tmp: Path):
    release = Release(tmp)
    try:
        binary = FAKE_BINARY.encode()
        for t in TARGETS:
            release.put(f"alb-rollout-{t}", binary)
        # The table as the release workflow writes it.
        dist = tmp / "dist"
        dist.mkdir()
        for t in TARGETS:
            (dist / f"alb-rollout-{t}").write_bytes(binary)
        table = subprocess.run(
            [str(REPO / "action" / "write-checksums.sh"), str(dist), "octo/alb-rollout", TAG],
            capture_output=True, text=True, check=True,
        ).stdout
        env = Env(tmp, table)
        inputs = dict(CANARY, args="--stickiness 5m  -v\n--probe http://x/*=200")
        p = env.start(inputs, release.base)
        try:
            assert wait_for(env.markers / "ready", 15), p.communicate(timeout=5)
            # exec all the way down: the step's process is the binary.
            assert env.marker("pid").strip() == str(p.pid), (env.marker("pid"), p.pid)
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert p.returncode == 130, (p.returncode, out, err)
        assert env.marker("signal") == "TERM\n"
        assert env.marker("argv").splitlines() == ["canary", "--stickiness", "5m", "-v", "--probe", "http://x/*=200"]
        passed = dict(line.split("=", 1) for line in env.marker("env").splitlines() if line.startswith("ALB_ROLLOUT_"))
        assert passed == {
            "ALB_ROLLOUT_LISTENER": CANARY["listener"],
            "ALB_ROLLOUT_BLUE": "web-blue",
            "ALB_ROLLOUT_GREEN": "web-green",
            "ALB_ROLLOUT_STEPS": "10,100",
        }, passed  # empty inputs and the action's own variables are unset
        assert env.outputs() == "result=cancelled\n"
        assert "downloaded and verified" in err, err
        assert env.cached() == [f"alb-rollout/{TAG[1:]}/x86_64-unknown-linux-musl.complete",
                                f"alb-rollout/{TAG[1:]}/x86_64-unknown-linux-musl/alb-rollout"], env.cached()
    finally:
        release.close()


@test
def tool_cache_is_used_offline_and_reverified(tmp: Path):
    release = Release(tmp)
    binary = FAKE_BINARY.encode()
    try:
        release.put("alb-rollout-x86_64-unknown-linux-musl", binary)
        env = Env(tmp, table_for(binary))
        code, out, err = env.run(CANARY, release.base, {"FAKE_MODE": "exit"})
        assert code == 0, (code, out, err)
    finally:
        release.close()
    n = len(release.requests())
    # Second use: no release reachable, the cached, re-verified binary runs.
    code, out, err = env.run(dict(CANARY, command="status"), closed_port_base(), {"FAKE_MODE": "exit"})
    assert code == 0, (code, out, err)
    assert "from the tool cache" in err, err
    assert env.marker("argv").splitlines() == ["status"]
    assert len(release.requests()) == n
    # A cached binary that changed is not run; it is fetched again (and here
    # the release is unreachable, so the step fails).
    cached = env.cache / "alb-rollout" / TAG[1:] / "x86_64-unknown-linux-musl" / "alb-rollout"
    cached.write_bytes(binary + b"# changed\n")
    (env.markers / "pid").unlink()
    code, out, err = env.run(CANARY, closed_port_base(), {"FAKE_MODE": "exit"})
    assert code == 1, (code, out, err)
    assert "::warning title=alb-rollout action::the cached binary's sha256" in out, out
    assert "could not download" in out, out
    assert env.marker("pid") is None


@test
def missing_release_asset_fails_clearly(tmp: Path):
    release = Release(tmp)
    try:
        env = Env(tmp, table_for(b"whatever"))
        code, out, err = env.run(CANARY, release.base)
        assert code == 1, (code, out, err)
        assert f"could not download {release.base}/alb-rollout-x86_64-unknown-linux-musl" in out, out
        assert "404" in err, err
        assert env.cached() == []
    finally:
        release.close()


@test
def production_downloads_only_from_the_github_release(tmp: Path):
    r = source_fn('release_url octo/alb-rollout v1.2.3 alb-rollout-x86_64-unknown-linux-musl; echo "$URL"')
    assert r.returncode == 0, r
    assert r.stdout == "https://github.com/octo/alb-rollout/releases/download/v1.2.3/alb-rollout-x86_64-unknown-linux-musl\n"
    # action.yml pins the test override to empty, so a workflow's env cannot set it.
    assert STEP["env"]["ALB_ROLLOUT_ACTION_TEST_RELEASE_BASE"] == ""
    for bad in ["https://example.com/x", "http://127.0.0.1.example.com/x", "http://10.0.0.1/x", "file:///tmp/x"]:
        r = source_fn("release_url o/r v1 a", {"ALB_ROLLOUT_ACTION_TEST_RELEASE_BASE": bad})
        assert r.returncode != 0 and "loopback" in r.stdout, (bad, r)


@test
def runner_platforms_map_to_release_targets(tmp: Path):
    cases = {
        ("Linux", "X64"): "x86_64-unknown-linux-musl",
        ("Linux", "ARM64"): "aarch64-unknown-linux-musl",
        ("macOS", "ARM64"): "aarch64-apple-darwin",
        ("macOS", "X64"): "x86_64-apple-darwin",
    }
    for (os_, arch), want in cases.items():
        r = source_fn("target_triple", {"RUNNER_OS": os_, "RUNNER_ARCH": arch})
        assert r.stdout.strip() == want, (os_, arch, r)
    env = Env(tmp, table_for(b"x"))
    code, out, err = env.run(CANARY, closed_port_base(), {"RUNNER_OS": "Windows"})
    assert code == 1 and "no prebuilt alb-rollout for Windows/X64" in out and "build-from-source: true" in out, out


@test
def bad_command_or_flag_input_is_refused_before_anything_runs(tmp: Path):
    env = Env(tmp, table_for(b"x"))
    for inputs in [dict(CANARY, command="deploy"), dict(CANARY, command="canary; id"), dict(CANARY, command=""),
                   dict(CANARY, command="rollback status"), dict(CANARY, command=" canary"),
                   dict(CANARY, **{"build-from-source": "yes"})]:
        code, out, err = env.run(inputs, closed_port_base())
        assert code == 2 and "::error" in out, (inputs, code, out, err)
    assert env.marker("pid") is None
    # An input cannot inject a workflow command: newlines are escaped.
    code, out, err = env.run(dict(CANARY, command="canary\n::warning::injected"), closed_port_base())
    assert code == 2 and "%0A::warning::injected" in out, out
    assert not any(l.startswith("::warning::") for l in out.splitlines()), out


@test
def build_from_source_runs_cargo_install_locked_and_execs(tmp: Path):
    env = Env(tmp)
    extra = fake_cargo(tmp)
    code, out, err = env.run(dict(CANARY, **{"build-from-source": "true"}), None, extra)
    assert code == 0, (code, out, err)
    build = tmp / "runner-temp" / "alb-rollout-action"
    assert env.marker("cargo-argv").splitlines() == ["install", "--locked", "--path", str(env.action), "--root", str(build)]
    assert env.marker("cargo-target-dir").strip() == str(build / "target")
    assert "::group::Build alb-rollout from source" in err and "::endgroup::" in err, err
    assert env.marker("argv").splitlines() == ["canary"]
    assert env.outputs() == "result=promoted\n"


def fake_cargo(tmp: Path) -> dict:
    """A `cargo` on PATH whose `install --root R` puts the fake binary in R/bin."""
    bindir = tmp / "fakebin"
    bindir.mkdir()
    (bindir / "cargo").write_text(
        "#!/bin/sh\n"
        'printf "%s\\n" "$@" > "$FAKE_MARKERS/cargo-argv"\n'
        'echo "$CARGO_TARGET_DIR" > "$FAKE_MARKERS/cargo-target-dir"\n'
        'while [ $# -gt 0 ]; do [ "$1" = --root ] && root=$2; shift; done\n'
        'mkdir -p "$root/bin" && cp "$FAKE_SOURCE" "$root/bin/alb-rollout" && chmod +x "$root/bin/alb-rollout"\n'
    )
    (bindir / "cargo").chmod(0o755)
    (tmp / "fake-alb-rollout").write_text(FAKE_BINARY)
    return {"PATH": f"{bindir}:{os.environ['PATH']}", "FAKE_SOURCE": str(tmp / "fake-alb-rollout"), "FAKE_MODE": "exit"}


@test
def local_run_script_runs_the_step_and_prints_its_outputs(tmp: Path):
    markers = tmp / "markers"
    markers.mkdir()
    env = {**fake_cargo(tmp), "HOME": str(tmp), "XDG_CACHE_HOME": str(tmp / "cache"), "FAKE_MARKERS": str(markers)}
    script = str(REPO / "examples" / "local-run.sh")
    r = subprocess.run([script, "command=status", "listener=arn:l", "dry-run=true", "args=-v"], env=env,
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r
    assert "== step outputs (GITHUB_OUTPUT)\nresult=promoted\n" in r.stdout and "== exit code 0" in r.stdout, r.stdout
    assert (markers / "argv").read_text().splitlines() == ["status", "-v"]
    passed = [l for l in (markers / "env").read_text().splitlines() if l.startswith(("ALB_ROLLOUT_", "GITHUB_ACTIONS="))]
    assert sorted(passed) == ["ALB_ROLLOUT_DRY_RUN=true", "ALB_ROLLOUT_LISTENER=arn:l", "GITHUB_ACTIONS=true"], passed
    assert (markers / "cargo-argv").read_text().splitlines()[:2] == ["install", "--locked"]
    r = subprocess.run([script, "command=status", "lisener=x"], env=env, capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "unknown input 'lisener'" in r.stderr, r


@test
def write_checksums_refuses_an_incomplete_release(tmp: Path):
    (tmp / "alb-rollout-x86_64-unknown-linux-musl").write_bytes(b"x")
    r = subprocess.run([str(REPO / "action" / "write-checksums.sh"), str(tmp), "octo/alb-rollout", TAG], capture_output=True, text=True)
    assert r.returncode == 1 and "missing" in r.stderr, r
    r = subprocess.run([str(REPO / "action" / "write-checksums.sh"), str(tmp), "octo/alb-rollout", "1.0"], capture_output=True, text=True)
    assert r.returncode == 2, r


# ---- action.yml, workflows, examples, README ------------------------------------


@test
def every_cli_variable_is_an_input_and_outputs_are_declared(tmp: Path):
    cli = "".join(p.read_text() for p in sorted((REPO / "src").glob("cli*.rs")))
    cli_vars = set(re.findall(r'env = "(ALB_ROLLOUT_[A-Z_]+)"', cli)) | {"ALB_ROLLOUT_LOG"}
    mapped = {k for k in STEP["env"] if not k.startswith("ALB_ROLLOUT_ACTION_")}
    assert cli_vars <= mapped, sorted(cli_vars - mapped)
    # Secrets are never inputs (an input's value is echoed in logs when it is
    # not a secret): the OIDC client secret reaches the binary from the step's
    # env, and the README says so.
    assert "ALB_ROLLOUT_OIDC_CLIENT_SECRET" not in STEP["env"]
    assert "ALB_ROLLOUT_OIDC_CLIENT_SECRET" in (REPO / "README.md").read_text()
    for k in mapped:
        m = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", STEP["env"][k])
        assert m, k
        # The one variable that is not a flag: the credentials' expiry, named
        # as botocore and the binary read it.
        name = {"credentials-expiration": "AWS_CREDENTIAL_EXPIRATION"}.get(
            m.group(1), "ALB_ROLLOUT_" + m.group(1).upper().replace("-", "_"))
        assert name == k, k
    used = set(re.findall(r"inputs\.([a-z-]+)", json.dumps(STEP["env"])))
    assert used == set(ACTION["inputs"]), set(ACTION["inputs"]) ^ used
    assert "${{" not in STEP["run"], "an expression inside run:"
    assert STEP["run"].strip().startswith("exec "), STEP["run"]
    outs = {"result", "final-weights", "failed-check", "detection-to-revert-seconds", "duration-seconds", "run-id"}
    assert set(ACTION["outputs"]) == outs
    for k, v in ACTION["outputs"].items():
        assert v["value"] == f"${{{{ steps.{STEP['id']}.outputs.{k} }}}}", (k, v)
    assert ACTION["branding"]["icon"] and ACTION["branding"]["color"] and ACTION["description"]


def workflow_files():
    return sorted((REPO / ".github" / "workflows").glob("*.yml")) + sorted((REPO / "examples").glob("*.yml"))


@test
def workflows_use_the_action_with_declared_inputs_and_pinned_refs(tmp: Path):
    files = workflow_files()
    assert len(files) >= 8, files
    uses_of_action = 0
    for f in files:
        wf = yaml.safe_load(f.read_text())
        for job in wf["jobs"].values():
            for step in job.get("steps", []):
                uses = step.get("uses")
                if not uses:
                    continue
                if uses != "./":
                    assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), f"{f.name}: not pinned to a commit: {uses}"
                if uses == "./" or re.match(r"[\w.-]+/alb-rollout@", uses):
                    uses_of_action += 1
                    unknown = set(step.get("with", {})) - set(ACTION["inputs"])
                    assert not unknown, f"{f.name}: inputs not in action.yml: {unknown}"
                    assert "command" in step["with"], f"{f.name}: {step}"
        if f.parent.name == "examples":
            text = f.read_text()
            assert "concurrency:" in text, f"{f.name}: no concurrency group"
            policy = f.with_suffix(".iam.json")
            assert policy.exists(), f"{f.name}: no IAM policy {policy.name}"
            json.loads(policy.read_text())
    assert uses_of_action >= 8, uses_of_action
    json.loads((REPO / "examples" / "oidc-trust-policy.json").read_text())
    # Each policy is generated by `alb-rollout iam-policy` from its line in
    # iam-policies.txt (.ci/run checks the statements with the binary).
    listed = {l.split()[0] for l in (REPO / "examples" / "iam-policies.txt").read_text().splitlines()
              if l.strip() and not l.startswith("#")}
    for f in (REPO / "examples").glob("*.yml"):
        assert f.stem in listed, f"{f.name}: no line in examples/iam-policies.txt"
    for name in listed:
        assert (REPO / "examples" / f"{name}.iam.json").exists(), f"{name}.iam.json missing"


def example_scenarios() -> tuple[set, dict]:
    """The examples action/tests/example_scenarios.py runs (its SCENARIOS'
    files) and those it lists as not run, with why (NOT_RUN), read from its
    source: importing it needs the emulator's venv (boto3), not this one."""
    import ast
    tree = ast.parse((REPO / "action" / "tests" / "example_scenarios.py").read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            found[node.targets[0].id] = node.value
    run = {v.elts[0].value for v in found["SCENARIOS"].values}
    not_run = {}
    for k, v in zip(found["NOT_RUN"].keys, found["NOT_RUN"].values):
        not_run[k.value] = ast.literal_eval(v)
    return run, not_run


@test
def every_example_is_run_on_the_emulator_or_says_why_not(tmp: Path):
    run, not_run = example_scenarios()
    examples = {f.name for f in (REPO / "examples").glob("*.yml")}
    missing = examples - run - set(not_run)
    assert not missing, f"no scenario in action/tests/example_scenarios.py for {sorted(missing)} (add one, or a NOT_RUN entry saying why it cannot run)"
    assert not (run & set(not_run)), f"both run and NOT_RUN: {sorted(run & set(not_run))}"
    assert (run | set(not_run)) <= examples, f"no such examples: {sorted((run | set(not_run)) - examples)}"
    for name, why in not_run.items():
        assert isinstance(why, str) and len(why) > 20, f"NOT_RUN {name}: say why it cannot run"


def snippet(text: str, name: str) -> list:
    m = re.search(rf"# >>> {name}\n(.*?)# <<< {name}\n", text, re.S)
    assert m, f"no {name} markers"
    return m.group(1).splitlines()


@test
def readme_workflow_snippet_is_the_one_the_self_test_runs(tmp: Path):
    readme = (REPO / "README.md").read_text()
    selftest = (REPO / ".github" / "workflows" / "self-test.yml").read_text()
    ours = snippet(readme, "deploy-steps")
    theirs = snippet(selftest, "deploy-steps")
    # The self-test uses the action from the checkout and builds it; the
    # README pins a release. Nothing else may differ.
    norm = []
    for line in theirs:
        if line.strip() == "build-from-source: true  # self-test only":
            continue
        norm.append(line.replace("uses: ./", "uses: OWNER/alb-rollout@SHA # v1.2.3"))
    assert [l.rstrip() for l in ours] == [l.rstrip() for l in norm], "\n".join(ours) + "\n----\n" + "\n".join(norm)
    assert "concurrency:" in readme and "if: cancelled()" in "\n".join(ours)


# ---- runner ------------------------------------------------------------------------


def main() -> int:
    only = sys.argv[1:]
    passed = failed = 0
    start = time.monotonic()
    for fn in TESTS:
        if only and not any(o in fn.__name__ for o in only):
            continue
        with tempfile.TemporaryDirectory(prefix="action-test-") as d:
            t0 = time.monotonic()
            try:
                fn(Path(d))
                passed += 1
                print(f"ok    {fn.__name__} ({time.monotonic() - t0:.1f}s)")
            except Exception:
                failed += 1
                print(f"FAIL  {fn.__name__}")
                traceback.print_exc(file=sys.stdout)
    print(f"({time.monotonic() - start:.1f}s)")
    print(f"action-tests: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
