"""The upgrade-radar workflow (.github/workflows/) cannot run here: these check that it runs the
docs' own commands (every nox session, gpt2spec module and option it uses appears in a code block
of README.md or docs/, and every session exists), on OpenAI's weights, weekly and on demand, with the
Hugging Face cache kept and the page, results, COMPATIBILITY.md and what changed kept as artifacts.
Its schema is checked in CI (check-jsonschema --builtin-schema vendor.github-workflows)."""

from __future__ import annotations

import functools
import importlib.util
import itertools
import json
import re
import shlex
import sys
import types
from pathlib import Path

import pytest
import yaml

from gpt2spec.radar import axes

from .conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "upgrade-radar.yml"


def load() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def commands(lines: str) -> list[list[str]]:
    """The shell commands of a script or code block, as words (comments and blank lines dropped)."""
    found = []
    for line in lines.replace("\\\n", " ").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:  # not shell: a block of output
            continue
        while words and re.fullmatch(r"\w+=\S*", words[0]):  # VAR=value before the command
            words = words[1:]
        if words:
            found.append(words)
    return found


def ours(words: list[str]) -> bool:
    """nox, pytest, or one of this project's modules (not pip and the like)."""
    return words[0] in ("nox", "pytest") or words[:2] == ["python", "-m"] and words[2].startswith("gpt2spec")


def expand(run: str, matrix: dict) -> list[str]:
    """A run step once per matrix combination, ``${{ matrix.x }}`` filled in."""
    keys = [k for k in matrix if isinstance(matrix[k], list)]
    out = []
    for values in itertools.product(*(matrix[k] for k in keys)) if keys else [()]:
        text = run
        for key, value in zip(keys, values):
            text = text.replace("${{ matrix.%s }}" % key, str(value))
        out.append(text)
    return out


def workflow_commands() -> list[list[str]]:
    found = []
    for job in load()["jobs"].values():
        matrix = job.get("strategy", {}).get("matrix", {})
        for step in job["steps"]:
            for script in expand(step.get("run", ""), matrix):
                found += [words for words in commands(script) if ours(words)]
    return found


def readme_commands(readme: str) -> list[list[str]]:
    blocks = re.findall(r"```([\w-]*)\n(.*?)```", readme, flags=re.S)  # every block, so that fences pair up
    shell = [block for language, block in blocks if language in ("", "bash", "sh", "shell", "console")]
    return [words for block in shell for words in commands(block) if ours(words)]


def sessions(words: list[str]) -> list[str]:
    """The sessions a nox command names (``-s a b``, up to the next option or ``--``)."""
    if "-s" not in words:
        return []
    rest = words[words.index("-s") + 1 :]
    return list(itertools.takewhile(lambda w: not w.startswith("-"), rest))


def options(words: list[str]) -> set[str]:
    return {w.split("=")[0] for w in words if w.startswith("--") and w != "--"}


def program(words: list[str]) -> str:
    return " ".join(words[:3]) if words[0] == "python" else words[0]


def missing_from(readme: str, used: list[list[str]]) -> list[str]:
    """What the workflow runs that no README code block shows."""
    shown = readme_commands(readme)
    shown_sessions = {s for words in shown for s in sessions(words)}
    shown_options = {o for words in shown for o in options(words)}
    shown_programs = {program(words) for words in shown}
    missing = []
    for words in used:
        if program(words) not in shown_programs:
            missing.append(f"program {program(words)}")
        missing += [f"nox session {s}" for s in sessions(words) if s not in shown_sessions]
        missing += [f"option {o} (of {program(words)})" for o in sorted(options(words) - shown_options)]
    return sorted(set(missing))


def test_the_workflow_runs_the_documented_commands():
    docs = "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    missing = missing_from(docs, workflow_commands())
    assert not missing, "the workflow runs what neither README.md nor docs/ shows: " + "; ".join(missing)


def test_the_check_notices_a_command_the_readme_lacks():
    readme = "```bash\nnox -s tl-4.3 -- --require-pretrained\n```\n"
    used = [["nox", "-s", "tl-4.3", "--", "--require-pretrained"], ["nox", "-s", "tl-9.9", "--", "--spec-report=x.html"]]
    assert missing_from(readme, used) == ["nox session tl-9.9", "option --spec-report (of nox)"]
    assert missing_from(readme, used[:1]) == []


@functools.cache
def noxfile() -> tuple[types.ModuleType, frozenset[str]]:
    """noxfile.py and the sessions it defines, read by running it against a stand-in for ``nox`` that
    only records their names (nox itself is installed after the test run in .ci/run)."""
    names: set[str] = set()

    def session(func=None, *, name=None, **_):
        def register(f):
            names.add(name or f.__name__)  # nox's own rule: the function's name unless given one
            return f

        return register(func) if func else register

    fake = types.ModuleType("nox")
    fake.session, fake.options, fake.Session = session, types.SimpleNamespace(), object
    saved = sys.modules.get("nox")
    sys.modules["nox"] = fake
    try:
        spec = importlib.util.spec_from_file_location("noxfile_under_test", ROOT / "noxfile.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            del sys.modules["nox"]
        else:
            sys.modules["nox"] = saved
    return module, frozenset(names)


def nox_sessions() -> frozenset[str]:
    return noxfile()[1]


def test_nox_lists_the_torch_axis_and_the_bisect():
    assert {"torch-oldest", "torch-newest", "transformers-oldest", "transformers-newest", "tl-newest", "bisect"} <= nox_sessions()


def test_ci_and_the_workflow_never_run_the_bisect():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bisect" not in {s for words in workflow_commands() + commands(ci) for s in sessions(words)}


class FakeSession:
    """What noxfile.prepare asks of a nox session; its run() writes what gpt2spec.radar.axes would."""

    def __init__(self, refused: list[str]):
        self.refused, self.ran = refused, []

    def run_install(self, *args, **kwargs):  # prepare installs: it runs under nox --install-only too
        self.ran.append((args, kwargs))
        Path(args[4]).parent.mkdir(parents=True, exist_ok=True)
        Path(args[4]).write_text(json.dumps({"axes": [], "refused": self.refused}))


@pytest.mark.parametrize("refused", [[], ["asked for transformers 5.25.0 (newest) but 5.24.0 is installed: ..."]], ids=["got it", "did not"])
def test_a_session_that_did_not_get_what_it_asked_for_exits_3(refused, tmp_path, monkeypatch):
    module = noxfile()[0]
    monkeypatch.setattr(module, "RESULTS", tmp_path)
    session = FakeSession(refused)
    if refused:
        with pytest.raises(SystemExit) as stopped:
            module.prepare(session, "radar/transformers-newest", "transformers=newest")
        assert stopped.value.code == module.NOT_INSTALLED == axes.NOT_INSTALLED == 3
    else:
        assert module.prepare(session, "tl-3.9", "transformer_lens==3.9.*").exists()
    (args, kwargs), = session.ran
    asks = args[5:8]
    assert args[:4] == ("python", "-m", "gpt2spec.radar.axes", "prepare") and kwargs["success_codes"] == [0, 3]
    assert asks == (("transformer_lens", "transformers=newest", module.TORCH_SPEC) if refused else ("transformer_lens==3.9.*", "transformers", module.TORCH_SPEC))


def test_every_session_the_workflow_names_exists():
    named = {s for words in workflow_commands() for s in sessions(words)}
    assert named and named <= nox_sessions(), named - nox_sessions()


def test_the_matrix_covers_every_pinned_version_and_the_newest():
    matrix = load()["jobs"]["specs"]["strategy"]["matrix"]["session"]
    pinned = {name for name in nox_sessions() if re.fullmatch(r"tl-\d+\.\d+", name)}
    assert pinned and pinned | {"tl-newest", "torch-oldest", "torch-newest"} <= set(matrix)


def test_weekly_and_on_demand_on_openais_weights_with_the_cache_kept():
    wf = load()
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "workflow_dispatch" in triggers and triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "1"]
    runs = [" ".join(words) for words in workflow_commands()]
    assert any("--weights hub --require-pretrained" in r for r in runs) and any("--spec-report" in r for r in runs)
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    cache = [s for s in steps if s.get("uses", "").startswith("actions/cache@")]
    assert cache and cache[0]["with"]["path"] == "~/.cache/huggingface"


@pytest.mark.parametrize("kept", ["COMPATIBILITY.md", "results/", ".nox/results/"])
def test_the_artifacts_keep_the_report(kept):
    uploads = [s["with"]["path"] for job in load()["jobs"].values() for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert any(kept in str(path).split() for path in uploads)
