"""Every bad path is one line, before the work: an output file that cannot be written (a folder
given for it, a file above it, a folder where nothing can be created), a cache folder that is a
file, and a file a command reads that is missing, unreadable or not what it should be. No
traceback, no model loaded, no install started, nothing overwritten.

Everything runs in this process: the specs through conftest.run_here, the commands through their
``main``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gpt2spec import bundle, harness, loading, standin
from gpt2spec.faults import catching
from gpt2spec.radar import axes as radar, bisection as bisect, changes, compat

from .conftest import PYTEST, ROOT, environment, run_here
from .test_setup_errors import one_clear_line

SPEC = "specs/test_01_config.py"  # its claims ask for the model
RESULTS = ROOT / "results" / "tl-4.3.json"
HISTORY = next((ROOT / "results" / "history").glob("*.json"))
KEPT = "written before this run\n"  # what a file the run must not touch holds
NOWHERE = Path("/proc")  # nothing can be created in it, even by root (a read-only folder stops only others)
linux = pytest.mark.skipif(not NOWHERE.is_dir(), reason="needs Linux's /proc")


@pytest.fixture
def loads(monkeypatch) -> list:
    """The models loaded in the run (none, for a refused one): the in-process run calls loading.load."""
    calls: list = []
    monkeypatch.setattr(loading, "load", lambda *args, **kwargs: calls.append(args) or pytest.fail("loaded a model"))
    return calls


def refused(result, *needles: str) -> None:
    one_clear_line(result, *needles)
    assert result.returncode == 4  # pytest's usage error: the setup, not a claim, is wrong
    assert len((result.stdout + result.stderr).strip().splitlines()) <= 3, result.stdout + result.stderr


def kept(path: Path) -> Path:
    path.write_text(KEPT)
    return path


@pytest.mark.parametrize(
    "bad, other, needles",
    [
        ("--spec-report", "{tmp}", ["--spec-report", "is a folder", "page.html"]),
        ("--spec-results", "{tmp}/a-file/results.json", ["a-file is a file, not a folder"]),
        pytest.param("--spec-report", f"{NOWHERE}/page.html", [f"nothing can be written in {NOWHERE}"], marks=linux),
        pytest.param("--spec-results", f"{NOWHERE}/new/results.json", [f"nothing can be written in {NOWHERE}"], marks=linux),
    ],
    ids=["a folder for the page", "under a file", "the page where nothing is writable", "the results in a folder that cannot be made"],
)
def test_an_output_that_cannot_be_written(tmp_path, loads, bad, other, needles):
    """Refused when the run starts, not after it (a 70-line traceback once the run was paid for);
    the other output, an existing file, is left as it was."""
    kept(tmp_path / "a-file")
    good = kept(tmp_path / "kept.out")
    second = "--spec-results" if bad == "--spec-report" else "--spec-report"
    result = run_here(SPEC, bad, other.format(tmp=tmp_path), second, str(good), hf_home=tmp_path / "hf")
    refused(result, bad, *needles)
    assert good.read_text() == KEPT and (tmp_path / "a-file").read_text() == KEPT
    assert loads == []


def test_gpt2spec_cache_a_file(tmp_path, loads):
    """The issue's case: an INTERNALERROR traceback before."""
    cache = kept(tmp_path / "cache")
    result = run_here(SPEC, "--weights", "standin", hf_home=tmp_path / "hf", standin_cache=cache)
    refused(result, "GPT2SPEC_CACHE", f"{cache} is a file, not a folder", "set GPT2SPEC_CACHE to a folder you can write")
    assert cache.read_text() == KEPT and loads == []


@linux
def test_gpt2spec_cache_where_nothing_can_be_written(tmp_path, loads):
    result = run_here(SPEC, "--weights", "standin", hf_home=tmp_path / "hf", standin_cache=NOWHERE / "gpt2spec")
    refused(result, "GPT2SPEC_CACHE", f"nothing can be written in {NOWHERE}")
    assert loads == []


def test_xdg_cache_home_a_file(tmp_path, loads):
    """Without GPT2SPEC_CACHE the stand-in goes to $XDG_CACHE_HOME/gpt2spec."""
    cache = kept(tmp_path / "cache")
    environ = environment(tmp_path / "hf", False, cache) | {"GPT2SPEC_CACHE": None, "XDG_CACHE_HOME": str(cache)}
    run = harness.run_pytest([*PYTEST, SPEC, "--weights", "standin"], None, environ=environ)
    refused(subprocess.CompletedProcess([], run.code, run.stdout, run.stderr), f"{cache} is a file, not a folder", "set GPT2SPEC_CACHE")
    assert cache.read_text() == KEPT and loads == []


def test_hf_home_a_file(tmp_path, loads):
    """Hugging Face reads its token from HF_HOME even for the stand-in: a file there failed the load."""
    home = kept(tmp_path / "hf")
    refused(run_here(SPEC, hf_home=home), "HF_HOME", f"{home} is a file, not a folder")
    assert home.read_text() == KEPT and loads == []


def test_a_built_standin_in_a_folder_that_cannot_be_written_still_serves(standin_home, monkeypatch):
    """Only a build needs to write: a finished stand-in is used where it is, read-only or not."""
    monkeypatch.setattr("gpt2spec.paths._writable", lambda *args: pytest.fail("checked a finished stand-in's folder"))
    assert standin.ensure(root=standin_home.parent) == (standin_home, False)


# The commands: each reads or writes files. A bad one is one line on stderr, exit 2 (argparse's
# code for bad input), with no usage lines and nothing written.


def command(main, args: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ended:
        main(args)
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err and "usage:" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return ended.value.code, err


def bad_inputs(tmp: Path) -> dict[str, Path]:
    (tmp / "a-folder.json").mkdir()
    (tmp / "not-json.json").write_text("<html>rate limited</html>")
    (tmp / "other-json.json").write_text('{"axes": 3, "claims": []}')
    (tmp / "binary.json").write_bytes(b"\xff\xfe\x00")
    return {
        "missing": tmp / "missing.json", "a folder": tmp / "a-folder.json", "not JSON": tmp / "not-json.json",
        "JSON of another shape": tmp / "other-json.json", "not text": tmp / "binary.json",
    }  # fmt: skip


SAYS = {
    "missing": "No such file or directory", "a folder": "it is a folder", "not JSON": "is not JSON",
    "JSON of another shape": "is not", "not text": "is not JSON",
}  # fmt: skip


@pytest.mark.parametrize("case", list(SAYS))
@pytest.mark.parametrize(
    "name, args",
    [
        ("compat", lambda bad, out: [str(RESULTS), str(bad), "-o", str(out)]),
        ("compat", lambda bad, out: [str(RESULTS), "--history", str(bad), "-o", str(out)]),
        ("changes", lambda bad, out: [str(RESULTS), str(bad), "-o", str(out)]),
        ("radar", lambda bad, out: ["attach", str(bad), str(out)]),
    ],
    ids=["compat's results", "compat's history", "changes' new results", "radar attach's axes"],
)
def test_a_file_a_command_reads(tmp_path, capsys, name, args, case):
    """Missing, unreadable or foreign: one line naming the file and what to give; the output (for
    radar attach, the results file it adds to) is left as it was."""
    bad = bad_inputs(tmp_path)[case]
    out = tmp_path / "out.json"
    shutil.copy(RESULTS, out)
    before = out.read_bytes()
    code, err = command({"compat": compat.main, "changes": changes.main, "radar": radar.main}[name], args(bad, out), capsys)
    assert code == 2 and str(bad) in err and SAYS[case] in err and "give " in err
    assert out.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_file_that_cannot_be_read(tmp_path, capsys):
    locked = tmp_path / "results.json"
    shutil.copy(RESULTS, locked)
    locked.chmod(0)
    code, err = command(changes.main, [str(RESULTS), str(locked)], capsys)
    assert code == 2 and "Permission denied" in err


def test_radar_attach_to_a_file_that_is_not_results(tmp_path, capsys):
    axes = tmp_path / "axes.json"
    axes.write_text('{"axes": []}')
    foreign = kept(tmp_path / "results.json")
    code, err = command(radar.main, ["attach", str(axes), str(foreign)], capsys)
    assert code == 2 and "is not JSON" in err and foreign.read_text() == KEPT


@pytest.fixture
def no_work(monkeypatch):
    """The work a refused command must not start: installs, runs of the specs, downloads."""
    for where, name in [(bisect, "bisect"), (catching, "run_all"), (bundle, "resolve"), (standin, "build"), (radar, "prepare")]:
        monkeypatch.setattr(where, name, lambda *args, name=name, **kwargs: pytest.fail(f"{name} started"))


@pytest.mark.parametrize(
    "name, args, says",
    [
        ("compat", ["-o", "{tmp}"], "-o {tmp} is a folder: name a file, e.g. -o {tmp}/COMPATIBILITY.md"),
        ("compat", ["-o", "{tmp}/a-file/C.md"], "{tmp}/a-file is a file, not a folder"),
        ("changes", ["-o", "{tmp}/a-file/C.md"], "{tmp}/a-file is a file, not a folder"),
        ("bisect", ["-o", "{tmp}"], "-o {tmp} is a folder"),
        ("bisect", ["--cache", "{tmp}/a-file"], "--cache {tmp}/a-file is a file, not a folder"),
        ("radar", ["{tmp}"], "{tmp} is a folder: name a file"),
        ("faults", ["--spec-report", "{tmp}"], "--spec-report {tmp} is a folder"),
        ("bundle", ["{tmp}/a-file"], "{tmp}/a-file is a file, not a folder"),
        ("standin", ["{tmp}/a-file"], "{tmp}/a-file is a file, not a folder"),
    ],
    ids=["compat -o a folder", "compat -o under a file", "changes -o under a file", "bisect -o a folder",
         "bisect --cache a file", "radar prepare's axes a folder", "faults --spec-report a folder",
         "bundle into a file", "standin into a file"],  # fmt: skip
)
def test_an_output_a_command_cannot_write(tmp_path, capsys, no_work, name, args, says):
    """Refused before the work (a bisect's installs, the faults' runs, a bundle's downloads)."""
    kept(tmp_path / "a-file")
    args = [a.format(tmp=tmp_path) for a in args]
    main, first = {
        "compat": (compat.main, [str(RESULTS), "--history", str(HISTORY)]),
        "changes": (changes.main, [str(RESULTS), str(RESULTS)]),
        "bisect": (bisect.main, ["transformer_lens", "3.0.0", "3.9.0"]),
        "radar": (radar.main, ["prepare"]),
        "faults": (catching.main, []),
        "bundle": (bundle.main, ["--packages", str(ROOT / "examples" / "gpu-image-pip-freeze.txt")]),
        "standin": (standin.main, []),
    }[name]
    code, err = command(main, [*first, *args] + (["transformers=newest"] if name == "radar" else []), capsys)
    assert code == 2 and says.format(tmp=tmp_path) in err
    assert (tmp_path / "a-file").read_text() == KEPT
