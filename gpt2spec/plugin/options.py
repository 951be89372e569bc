"""The command line: the options, their checks when pytest starts, and the opt-in parts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gpt2spec import loading, paths, sources
from gpt2spec.plugin.keys import CHOICE, DEVICES, LEFT_OUT, UNTESTED

# Opt-in parts, marker -> the option that runs them: each costs more than the document itself
# (the scaling grid takes minutes; half precision loads the model twice more).
OPT_IN = {"scaling": "--scaling", "half_precision": "--half-precision"}
OUTPUTS = {"--spec-report": "page.html", "--spec-results": "results.json"}  # the files a run writes at its end


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gpt2spec", "GPT-2 small specification")
    group.addoption(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="run the claims on cpu, cuda, or both (auto: CPU and CUDA, CUDA skipped where absent)",
    )
    group.addoption(
        "--weights",
        choices=sources.MODES,
        default="auto",
        help="whose GPT-2 small: auto (the Hugging Face cache or hub, else the stand-in, built once), "
        "hub (OpenAI's, never a stand-in), standin (seeded weights around GPT-2's real config; offline)",
    )
    group.addoption(
        "--spec-report",
        metavar="PATH",
        type=Path,
        help="write the run as one self-contained HTML page that reads like the notebook",
    )
    group.addoption(
        "--spec-results",
        metavar="PATH",
        type=Path,
        help="write each claim's outcome as JSON, for `python -m gpt2spec.radar.compat` (claims x versions)",
    )
    group.addoption(
        "--scaling",
        action="store_true",
        help="also run the scaling benchmark (specs/test_11_scaling.py): sequence lengths, batch sizes, dtypes; minutes",
    )
    group.addoption(
        "--half-precision",
        action="store_true",
        help="also run the claims that hold for any weights in bfloat16 and float16 "
        "(specs/test_12_half_precision.py; loads the model once more per dtype)",
    )
    group.addoption(
        "--require-pretrained",
        action="store_true",
        help="fail, instead of skip, the claims that need OpenAI's weights when the weights are not OpenAI's",
    )
    group.addoption(
        "--require-baselines",
        action="store_true",
        help="fail the run when a claim's baseline for these weights was never recorded (on OpenAI's weights such "
        "a claim is otherwise counted 'no baseline yet', checking nothing); the run ends with the command that records them",
    )
    group.addoption(
        "--record-baselines",
        metavar="DIR",
        type=Path,
        help="write the baselines these weights lack into DIR/<weights>/, each file as snapshots/ holds it plus "
        "them (never a recorded value changed); the run ends with the one command that commits them",
    )


@pytest.hookimpl(tryfirst=True)  # refuse a run that cannot work before the other parts set up
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("numprocesses", None) or config.getoption("dist", "no") != "no":
        raise pytest.UsageError(
            "-n/--numprocesses (pytest-xdist) is not supported: the summary, the page and the results "
            "file are gathered in one process, and each worker would load GPT-2 small again; run without -n"
        )
    into = config.getoption("--record-baselines")
    if into is not None and into.exists() and not into.is_dir():
        raise pytest.UsageError(f"--record-baselines {into}: is a file; give a folder (it is created if missing), e.g. --record-baselines snapshots")
    try:
        for option, example in OUTPUTS.items():  # now, not after the run has been paid for
            if path := config.getoption(option):
                paths.output_file(path, option, example)
        if (untested := loading.check_supported()) is not None:
            config.stash[UNTESTED] = untested  # said in the header, one line; the run goes on
        config.stash[DEVICES] = loading.resolve_device(config.getoption("--device"))
    except (loading.SetupError, paths.BadPath) as error:
        raise pytest.UsageError(str(error)) from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without their option, the opt-in parts are deselected (pytest counts them as deselected)."""
    skipped = {marker for marker, option in OPT_IN.items() if not config.getoption(option)}
    off = [item for item in items if any(item.get_closest_marker(marker) for marker in skipped)]
    if off:
        items[:] = [item for item in items if not any(item.get_closest_marker(marker) for marker in skipped)]
        config.hook.pytest_deselected(items=off)
        config.stash[LEFT_OUT] = {
            OPT_IN[m]: sum(1 for item in off if item.get_closest_marker(m)) for m in OPT_IN if m in skipped
        }


def pytest_sessionstart(session: pytest.Session) -> None:
    """An untested TransformerLens major: its one line, shown even under -q (where the header is not)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if UNTESTED in session.config.stash and reporter is not None:
        reporter.write_line(f"gpt2spec: WARNING: {session.config.stash[UNTESTED]}", yellow=True)


def pytest_report_header(config: pytest.Config) -> list[str]:
    v = loading.versions()
    return [
        "gpt2spec: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "gpt2spec: devices: " + ", ".join(
            d + ("" if d == "cpu" or torch.cuda.is_available() else " (not available here: skipped)")
            for d in config.stash[DEVICES]
        ),
    ]


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    lines = [f"gpt2spec: GPT-2 small from {config.stash[CHOICE].describe()}"] if CHOICE in config.stash else []
    if left_out := {option: n for option, n in config.stash.get(LEFT_OUT, {}).items() if n}:
        lines.append("gpt2spec: opt-in, not in this run: " + ", ".join(f"{option} ({n} tests)" for option, n in left_out.items()))
    return lines
