"""The docs cannot rot silently: every command in a code block of the README, CONTRIBUTING.md,
CHANGELOG.md and docs/*.md (and in the notebook) names something real, every relative link and
image resolves, every doc the code cites exists with the heading it names, and every claim that
COMPATIBILITY.md and results/history/ name is a claim the specs collect.

What "real" means, each asked once of the thing itself: a nox session is one ``nox -l`` lists; a
``python -m gpt2spec.X`` module's ``--help`` exits 0 (one subprocess runs them all, so torch is
imported once) and lists each option the command gives; a pytest option is one ``pytest --help``
lists; a path into the repository's tracked folders exists. ``pytest --help`` and ``pytest --co``
run in this process (gpt2spec.faults.catching.run_pytest), as a user's command would.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gpt2spec.snapshot import without_device

from gpt2spec import outcomes
from gpt2spec.faults import catching

from .conftest import ROOT, STANDIN_CACHE, environment
from .test_workflow import commands, nox_sessions, sessions

SHELL = ("", "bash", "sh", "shell", "console")  # the code blocks that hold commands; ```text holds output
NOTEBOOK = ROOT / "notebooks" / "colab.ipynb"


def documents() -> list[Path]:
    """The Markdown a user reads (COMPATIBILITY.md is generated: its links and claims are checked apart)."""
    named = [ROOT / name for name in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")]
    return [p for p in named if p.exists()] + sorted((ROOT / "docs").glob("*.md"))


def blocks(markdown: str) -> list[tuple[str, str]]:
    """(language, text) of every fenced code block."""
    return re.findall(r"^```([\w-]*)[^\n]*\n(.*?)^```", markdown, flags=re.S | re.M)


def shell_lines(text: str) -> str:
    """A block's commands: a console block's ``$ `` prompts and a notebook's ``!`` dropped."""
    return "\n".join(re.sub(r"^\s*(\$ |!)", "", line) for line in text.splitlines())


def unfenced(markdown: str) -> str:
    """The Markdown without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)


def prose(markdown: str) -> str:
    """The Markdown without its code (fenced blocks and inline code), where links live."""
    return re.sub(r"`[^`\n]*`", "", unfenced(markdown))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def headings(path: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", unfenced(path.read_text()), flags=re.M)}


@dataclass
class Facts:
    """What the project offers, asked once."""

    sessions: frozenset[str]
    pytest_options: frozenset[str]
    helps: dict[str, tuple[int, str]]  # module -> (--help's exit code, its text)
    scripts: dict[str, str]  # console script -> module
    tracked: frozenset[str]  # the top-level folders a clone has
    claims: frozenset[str] = field(default_factory=frozenset)


HELP = """
import contextlib, io, json, runpy, sys
found = {}
for module in sys.argv[1:]:
    out = io.StringIO()
    sys.argv = [module, "--help"]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException as error:
        code, out = 1, io.StringIO(f"{type(error).__name__}: {error}")
    found[module] = [code, out.getvalue()]
print(json.dumps(found))
"""


# The nox sessions whose arguments after ``--`` go to a command of this project, not to pytest
# (noxfile.py's versus and bisect): their options are that command's.
POSARGS_OF = {"versus": "gpt2spec.radar.versus", "bisect": "gpt2spec.radar.bisection"}


def modules_named(texts: list[str]) -> set[str]:
    named = set(re.findall(r"python -m (gpt2spec[\w.]*)", "\n".join(texts)))
    return named | set(scripts().values()) | set(POSARGS_OF.values())


@functools.cache
def scripts() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {name: target.split(":")[0] for name, target in project.get("scripts", {}).items()}


def listed_sessions() -> frozenset[str]:
    """``nox -l``'s sessions; where nox is not installed, noxfile.py read by nox's own rule (test_workflow)."""
    if importlib.util.find_spec("nox") is None:
        return nox_sessions()
    listed = subprocess.run([sys.executable, "-m", "nox", "-l"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return frozenset(re.findall(r"^[*-] (\S+)", listed, flags=re.M))


def option_strings(help_text: str) -> frozenset[str]:
    return frozenset(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", help_text))


def all_texts() -> list[str]:
    texts = [p.read_text() for p in documents()]
    return texts + ([notebook_commands()] if NOTEBOOK.exists() else [])


@pytest.fixture(scope="module")
def facts(tmp_path_factory) -> Facts:
    names = sorted(modules_named([*all_texts(), MADE_UP]))
    helping = subprocess.Popen([sys.executable, "-c", HELP, *names], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    environ = environment(tmp_path_factory.mktemp("hf"), online=False, standin_cache=STANDIN_CACHE)
    helped = catching.run_pytest(["--help"], environ=environ)
    assert helped.code == 0, helped.stdout[-2000:]
    everything = ["--weights", "standin", "--device", "cpu", "--scaling", "--half-precision"]  # the opt-in claims too
    collected = catching.run_pytest(["--co", "-q", "-p", "no:cacheprovider", *everything, "specs"], environ=environ)
    assert collected.code == 0, collected.stdout[-2000:]
    claims = frozenset(without_device(line) for line in collected.stdout.splitlines() if "::" in line)
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.splitlines()
    folders = frozenset(p.split("/")[0] for p in tracked if "/" in p) or frozenset(
        p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    out, _ = helping.communicate(timeout=300)
    helps = {module: (code, text) for module, (code, text) in json.loads(out).items()}
    return Facts(listed_sessions(), option_strings(helped.stdout), helps, scripts(), folders, claims)


def path_problems(words: list[str], facts: Facts) -> list[str]:
    """A word (or an option's value) that points into a tracked folder must exist (globs must match)."""
    found = []
    for word in words:
        value = word.split("=", 1)[1] if word.startswith("-") and "=" in word else word
        value = value.split("::")[0]
        if "/" in value and "://" not in value and value.split("/")[0] in facts.tracked:
            if not list(ROOT.glob(value.rstrip("/"))):
                found.append(f"{value} does not exist")
    return found


def pytest_problems(words: list[str], facts: Facts) -> list[str]:
    found = []
    for word in words:
        if word.startswith("--") and len(word) > 2:
            name = word.split("=")[0]
        elif re.fullmatch(r"-[A-Za-z]\S*", word):
            name = word[:2]
        else:
            continue
        if name not in facts.pytest_options:
            found.append(f"pytest has no option {name}")
    return found


def module_problems(module: str, words: list[str], facts: Facts) -> list[str]:
    """A ``python -m gpt2spec.X`` whose --help fails, or an option in ``words`` that its --help does not list."""
    code, help_text = facts.helps.get(module, (None, ""))
    if code != 0:
        return [f"python -m {module} --help exits {code}: {help_text.strip()[-300:]}"]
    options = option_strings(help_text)
    return [f"{module} has no option {w.split('=')[0]}" for w in words if w.startswith("--") and w.split("=")[0] not in options]


def problems(text: str, facts: Facts) -> list[str]:
    """What a block of shell commands names that does not exist."""
    found = []
    for words in commands(shell_lines(text)):
        if words[:3] == ["python", "-m", "pytest"]:
            words = ["pytest", *words[3:]]
        command = " ".join(words)
        said = []
        if words[0] == "nox":
            said += [f"nox -l lists no session {s}" for s in sessions(words) if s not in facts.sessions]
            if "--" in words:
                given = words[words.index("--") + 1 :]
                module = next((POSARGS_OF[s] for s in sessions(words) if s in POSARGS_OF), None)
                if module is None:
                    said += pytest_problems(given, facts)
                else:
                    said += module_problems(module, given, facts)
        elif words[0] == "pytest":
            said += pytest_problems(words[1:], facts)
        elif words[:2] == ["python", "-m"] and words[2].startswith("gpt2spec") or words[0] in facts.scripts:
            said += module_problems(words[2] if words[0] == "python" else facts.scripts[words[0]], words, facts)
        elif re.fullmatch(r"gpt2spec-[\w-]+", words[0]):
            said.append(f"{words[0]} is not a script pyproject.toml declares")
        said += path_problems(words, facts)
        found += [f"`{command}`: {s}" for s in said]
    return found


LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<(?:img|a)\b[^>]*\b(?:src|href)=\"([^\"]+)\"")


def link_problems(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for match in LINK.finditer(prose(path.read_text())):
        target = match[1] or match[2]
        if re.match(r"[a-z][\w+.-]*:", target):  # https:, mailto: ...
            continue
        file, _, anchor = target.partition("#")
        where = (path.parent / file).resolve() if file else path
        if not where.exists():
            found.append(f"{path.relative_to(root)}: {target} does not exist")
        elif anchor and where.suffix == ".md" and anchor not in headings(where):
            found.append(f"{path.relative_to(root)}: {target}: no heading #{anchor} in {where.relative_to(root)}")
    return found


def test_every_command_in_the_docs_names_something_real(facts):
    found = []
    for path in documents():
        for language, text in blocks(path.read_text()):
            if language in SHELL:
                found += [f"{path.relative_to(ROOT)}: {p}" for p in problems(text, facts)]
    assert not found, "\n".join(found)


def test_every_relative_link_and_image_resolves():
    found = [p for path in [*documents(), ROOT / "COMPATIBILITY.md"] for p in link_problems(path)]
    assert not found, "\n".join(found)


CITED = re.compile(r"(?<![\w/.-])(docs/[\w-]+\.md|(?:README|CONTRIBUTING|CHANGELOG)(?:\.md)?)(?![\w/])(?:,? ['\"]([^'\"]+)['\"])?")


def test_every_doc_the_code_cites_exists_with_its_heading():
    tracked = subprocess.run(["git", "ls-files", "*.py", "*.toml", "*.yml", ".ci/run"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    found = []
    for name in tracked:
        for match in CITED.finditer((ROOT / name).read_text()):
            doc = ROOT / (match[1] if match[1].endswith(".md") else match[1] + ".md")
            if not doc.exists():
                found.append(f"{name} cites {match[1]}, which does not exist")
            elif match[2] and slug(match[2]) not in headings(doc):
                found.append(f"{name} cites {match[1]}, '{match[2]}': no such heading")
    assert not found, "\n".join(found)


def named_claims() -> dict[str, set[str]]:
    """Every claim id COMPATIBILITY.md and results/history/ name, by file."""
    named = {"COMPATIBILITY.md": {"specs/" + c.replace("\\|", "|") for c in re.findall(r"`(test_\d+_\w+\.py::[^`]+)`", (ROOT / "COMPATIBILITY.md").read_text())}}
    for path in sorted((ROOT / "results" / "history").glob("*.json")):
        changes = json.loads(path.read_text())["changes"]
        named[str(path.relative_to(ROOT))] = {c["what"] for c in changes if c["kind"] in ("outcome", "drift")}
    named["gpt2spec.outcomes.RENAMED"] = set(outcomes.RENAMED.values())  # what old names read as
    return named


def test_every_claim_compatibility_and_the_history_name_is_collected(facts):
    found = [f"{where} names {claim}, which pytest --co does not collect" for where, claims in named_claims().items() for claim in sorted(claims - facts.claims)]
    assert not found, "\n".join(found)


MADE_UP = "\n".join([
    "nox -s tl-4.3 tl-9.9 -- --weights standin --no-such-option",
    "nox -s versus -- tl-3.9 tl-4.3 --rounds 6 --weights standin",
    "pytest --spec-report report.html -rs --no-such-flag",
    "python -m gpt2spec.radar.compat results/tl-4.3.json --no-such-option",
    "python -m gpt2spec.nothing --help",
    "gpt2spec-standin DIR",
    "cat specs/test_99_nothing.py results/history/*.json",
])  # fmt: skip


def test_the_checks_notice_what_does_not_exist(facts, tmp_path):
    """Each check fails on a name that is not there (and passes on one that is)."""
    found = problems(MADE_UP, facts)
    assert [p.split(": ", 1)[1] for p in found] == [
        "nox -l lists no session tl-9.9", "pytest has no option --no-such-option",
        "gpt2spec.radar.versus has no option --weights", "pytest has no option --no-such-flag",
        "gpt2spec.radar.compat has no option --no-such-option",
        found[5].split(": ", 1)[1],
        "specs/test_99_nothing.py does not exist",
    ]  # fmt: skip
    assert found[5].startswith("`python -m gpt2spec.nothing --help`: python -m gpt2spec.nothing --help exits")
    page = tmp_path / "page.md"
    page.write_text("[a](missing.md) [b](#nowhere) ![c](img.png) [d](https://example.org) `[e](x.md)`\n\n## Somewhere\n[f](#somewhere)\n")
    assert [p.split(": ", 1)[1] for p in link_problems(page, tmp_path)] == [
        "missing.md does not exist", "#nowhere: no heading #nowhere in page.md", "img.png does not exist"
    ]  # fmt: skip


def notebook_commands() -> str:
    """The shell lines of the notebook's code cells (``!`` lines and ``%%bash`` cells)."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    lines = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if source.startswith("%%bash"):
            lines += source.splitlines()[1:]
        else:
            lines += [line.strip()[1:] for line in source.splitlines() if line.strip().startswith("!")]
    return "\n".join(lines)
def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_the_notebook_is_a_clean_notebook_the_readme_links():
    """nbformat 4's shape, checked with json alone: cells of a known type with their source as lines,
    code cells committed without outputs, and Python that compiles once the shell lines are set aside."""
    book = json.loads(NOTEBOOK.read_text())
    assert book["nbformat"] == 4 and book["metadata"]["kernelspec"]["language"] == "python"
    for cell in book["cells"]:
        assert cell["cell_type"] in ("markdown", "code") and isinstance(cell["source"], list)
        assert all(isinstance(line, str) for line in cell["source"])
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
            python = "".join(line for line in cell["source"] if not line.lstrip().startswith(("!", "%")))
            compile(python, f"{NOTEBOOK.name} cell {cell.get('id')}", "exec")
    assert "notebooks/colab.ipynb" in (ROOT / "README.md").read_text()


def test_the_notebook_runs_the_specs_on_every_device_and_shows_the_page(facts):
    shell = notebook_commands()
    assert not problems(shell, facts), problems(shell, facts)
    runs = [words for words in commands(shell) if words[0] == "pytest"]
    assert runs and {"--device", "auto", "--spec-report"} <= set(runs[0])
    assert "display(HTML(" in NOTEBOOK.read_text()
