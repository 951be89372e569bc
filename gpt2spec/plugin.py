"""pytest wiring: options, the session-scoped model per device, snapshots, benchmarks, report.

``pyproject.toml`` loads this module with ``-p`` (before the command line is parsed). Specs ask
for ``model``, ``run`` (the document's shared forward pass), ``printed`` (the document's printed
value), ``snapshot`` (a baseline for these weights) and ``bench`` (device-aware benchmark).
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import torch

from gpt2spec import compat, loading, page, provenance, report, scaling, timing, weights as whose
from gpt2spec.run import DocumentRun, document_run
from gpt2spec.snapshot import DOCUMENT, NumericSnapshotExtension
from gpt2spec.weights import Choice, Weights, identify

MODEL_FIXTURES = {"model", "run", "weights"}
DEVICES = pytest.StashKey[list]()  # the devices this run covers
REPORT = pytest.StashKey["report.Tally"]()  # what the summary, the page and the results are made of
SCALING = pytest.StashKey["scaling.Scaling"]()  # the scaling benchmark's points, with --scaling
LEFT_OUT = pytest.StashKey[dict]()  # option -> how many of its tests this run deselected
NOT_OPENAI = pytest.StashKey[str]()  # why an `openai` claim must fail (with --require-pretrained)
FACTS = pytest.StashKey[dict]()  # device -> the loaded model's dtype, attention, parameter names
CHOICE = pytest.StashKey[Choice]()  # whose weights and which cache (--weights), settled once
IN_EFFECT = pytest.StashKey[contextlib.ExitStack]()  # Hugging Face pointed at that cache until the run ends


def skip_without(device: str) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("CUDA is not available on this machine (the CPU run covers the claim)")


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
        choices=whose.MODES,
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
        help="write each claim's outcome as JSON, for `python -m gpt2spec.compat` (claims x versions)",
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


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("numprocesses", None) or config.getoption("dist", "no") != "no":
        raise pytest.UsageError(
            "-n/--numprocesses (pytest-xdist) is not supported: the summary, the page and the results "
            "file are gathered in one process, and each worker would load GPT-2 small again; run without -n"
        )
    try:
        loading.check_supported()
        config.stash[DEVICES] = loading.resolve_device(config.getoption("--device"))
    except loading.SetupError as error:
        raise pytest.UsageError(str(error)) from None
    if config.getoption("--spec-report") and (missing := page.missing_packages()):
        raise pytest.UsageError(f"--spec-report draws with {' and '.join(missing)}: pip install -e '.[report]'")
    config.stash[REPORT] = report.Tally()
    config.pluginmanager.register(config.stash[REPORT], "gpt2spec-tally")
    if config.getoption("--scaling"):
        configure_scaling(config)
    config.pluginmanager.register(Snapshots(), "gpt2spec-snapshots")


def configure_scaling(config: pytest.Config) -> None:
    if config.getoption("benchmark_disable", False) and not config.getoption("benchmark_enable", False):
        raise pytest.UsageError("--scaling measures with pytest-benchmark: drop --benchmark-disable")
    config.stash[SCALING] = scaling.Scaling(tally=config.stash[REPORT])
    config.pluginmanager.register(config.stash[SCALING], "gpt2spec-scaling")


# Opt-in parts, marker -> the option that runs them: each costs more than the document itself
# (the scaling grid takes minutes; half precision loads the model twice more).
OPT_IN = {"scaling": "--scaling", "half_precision": "--half-precision"}


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


@pytest.fixture(scope="session")
def scaling_results(pytestconfig: pytest.Config) -> scaling.Scaling:
    """Where the scaling benchmark's points go (only with --scaling)."""
    return pytestconfig.stash[SCALING]


def pytest_report_header(config: pytest.Config) -> list[str]:
    v = loading.versions()
    return [
        "gpt2spec: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "gpt2spec: devices: " + ", ".join(
            d + ("" if d == "cpu" or torch.cuda.is_available() else " (not available here: skipped)")
            for d in config.stash[DEVICES]
        ),
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", metafunc.config.stash[DEVICES], indirect=True, scope="session")


def needs_model(session: pytest.Session) -> bool:
    return not session.config.option.collectonly and any(
        MODEL_FIXTURES & set(getattr(item, "fixturenames", ())) for item in session.items
    )


@pytest.hookimpl(tryfirst=True)  # before the terminal reports the collection, with our line
def pytest_collection_finish(session: pytest.Session) -> None:
    """Settle whose weights (--weights), and fail fast, in one line, on a setup that cannot load the
    model. Only when a collected claim needs the model: a table of contents or the machinery's
    own tests need none."""
    if not needs_model(session):
        return
    try:
        choice = whose.choose(session.config.getoption("--weights"), say=lambda line: print(line, file=sys.stderr))
        session.config.stash[CHOICE] = choice
        session.config.stash[IN_EFFECT] = stack = contextlib.ExitStack()
        stack.enter_context(choice.in_effect())
        loading.check_offline_cache()
        loading.check_cache_files()
    except loading.SetupError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    lines = [f"gpt2spec: GPT-2 small from {config.stash[CHOICE].describe()}"] if CHOICE in config.stash else []
    if left_out := {option: n for option, n in config.stash.get(LEFT_OUT, {}).items() if n}:
        lines.append("gpt2spec: opt-in, not in this run: " + ", ".join(f"{option} ({n} tests)" for option, n in left_out.items()))
    return lines


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> str:
    name = getattr(request, "param", "cpu")
    skip_without(name)
    return name


@pytest.fixture(scope="session")
def model_on(pytestconfig: pytest.Config) -> Callable[[str], Any]:
    """``model_on(device, dtype=float32)``: GPT-2 small on that device in that dtype, loaded the first
    time it is asked for."""
    loaded: dict[tuple[str, torch.dtype], Any] = {}

    def get(device: str, dtype: torch.dtype = torch.float32) -> Any:
        skip_without(device)
        key = device, dtype
        if key not in loaded:
            step = "load the model" + ("" if dtype == torch.float32 else f" in {str(dtype).removeprefix('torch.')}")
            try:
                with pytestconfig.stash[REPORT].timed(device, step), downloading(pytestconfig):
                    loaded[key] = loading.load(device, dtype)
                if dtype == torch.float32 and pytestconfig.getoption("--spec-results"):  # only the results file keeps them
                    pytestconfig.stash.setdefault(FACTS, {})[device] = provenance.model_facts(loaded[key])
            except loading.SetupError as error:
                pytest.exit(str(error), returncode=4)
            except OSError as error:  # huggingface_hub / transformers: no network, missing files
                if (endpoint := pytestconfig.stash[CHOICE].endpoint) is not None:
                    pytest.exit(whose.download_failed(endpoint, error), returncode=4)
                first = str(error).strip().splitlines()[0]
                pytest.exit(f"could not load GPT-2 small ({first}): see README, 'Troubleshooting'", returncode=4)
            except Exception as error:  # anything else: end the run once, not once per test
                if pytestconfig.option.fulltrace:
                    raise
                first = (str(error).strip().splitlines() or [""])[0]
                pytest.exit(
                    f"could not load GPT-2 small on {device} ({type(error).__name__}: {first}): "
                    "is the cache whole? --full-trace shows where it failed",
                    returncode=4,
                )
        return loaded[key]

    return get


def downloading(config: pytest.Config) -> contextlib.AbstractContextManager:
    """While GPT-2 small downloads, its progress bars reach the terminal (pytest captures the rest)."""
    if config.stash[CHOICE].endpoint is None or loading.cache_lacks() is None:
        return contextlib.nullcontext()
    return config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled()


@pytest.fixture(scope="session")
def weights_choice(pytestconfig: pytest.Config) -> Choice:
    """Whose weights and which cache this run settled on (``--weights``)."""
    return pytestconfig.stash[CHOICE]


@pytest.fixture(scope="session")
def model(device: str, model_on: Callable[[str], Any]) -> Any:
    """GPT-2 small, loaded once per device through TransformerLens's own entry point."""
    return model_on(device)


@pytest.fixture(scope="session")
def weights(model: Any, device: str, weights_choice: Choice, pytestconfig: pytest.Config) -> Weights:
    found = identify(model, weights_choice)
    pytestconfig.stash[REPORT].weights[device] = found
    return found


@pytest.fixture(scope="session")
def run(model: Any, device: str, pytestconfig: pytest.Config) -> DocumentRun:
    """The document's tokens, logits and cache on its example text: one forward pass a device."""
    with pytestconfig.stash[REPORT].timed(device, "run_with_cache on the document's text"):
        result = document_run(model)
    pytestconfig.stash[REPORT].runs[device] = result
    return result


@pytest.fixture(autouse=True)
def _openai_weights_only(request: pytest.FixtureRequest) -> None:
    """Claims marked ``openai`` hold only for OpenAI's weights: skip them, loudly, on any other."""
    if request.node.get_closest_marker("openai") is None:
        return
    found: Weights = request.getfixturevalue("weights")
    if found.is_openai:
        return
    reason = f"needs OpenAI's GPT-2 weights; these are not ({found.evidence})"
    if request.config.getoption("--require-pretrained"):
        request.node.stash[NOT_OPENAI] = reason  # fails in the call phase: a failed claim, not a setup error
        return
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    reason = pyfuncitem.stash.get(NOT_OPENAI, None)
    if reason is not None:
        pytest.fail(reason + " and --require-pretrained was given", pytrace=False)


class Snapshots:
    """The ``snapshot`` and ``printed`` fixtures. Registered in ``pytest_configure``, after syrupy's
    plugin (this module loads with -p, before it), so that this ``snapshot`` overrides syrupy's."""

    @pytest.fixture
    def snapshot(self, snapshot: Any, request: pytest.FixtureRequest) -> Any:
        """syrupy's snapshot, numeric, stored under snapshots/<weights>/: a baseline for these weights.

        On OpenAI's weights, an entry nobody has recorded yet (the document prints no such value)
        passes with a warning saying how to record it, so a user's first real run does not fail.
        """
        found: Weights = request.getfixturevalue("weights")
        root = Path(request.config.rootpath) / "snapshots"
        extension = NumericSnapshotExtension.for_folder(root, found.snapshot_id, missing_ok=found.is_openai)
        return recorded(snapshot.use_extension(extension), request, "baseline")

    @pytest.fixture
    def printed(self, snapshot: Any, request: pytest.FixtureRequest) -> Any:
        """A snapshot under snapshots/document/: the document's printed outputs, transcribed as printed."""
        root = Path(request.config.rootpath) / "snapshots"
        return recorded(snapshot.use_extension(NumericSnapshotExtension.for_folder(root, DOCUMENT)), request, "document")


def recorded(assertion: Any, request: pytest.FixtureRequest, kind: str) -> Any:
    """Keep what each comparison saw (for the report): the observed and the expected text."""

    def keep() -> None:
        for result in assertion.executions.values():
            seen = {"kind": kind, "observed": result.asserted_data, "expected": result.recalled_data, "ok": result.success}
            request.node.user_properties.append(("comparison", seen))

    request.addfinalizer(keep)
    return assertion


@pytest.fixture
def bench(benchmark: Any, device: str, request: pytest.FixtureRequest) -> Callable[[Callable[[], Any]], Any]:
    """``bench(fn)`` times ``fn`` on this test's device and returns its result; ``bench(fn, shared=x)``
    where the session already computed ``x = fn()`` (see timing.measure).

    Grouped by claim (the test id without the device) so CPU and CUDA sit side by side.
    """
    benchmark.group = report.claim_id(request.node)
    benchmark.extra_info["device"] = device

    def keep() -> None:
        if benchmark.stats is not None:
            request.node.user_properties.append(("median_s", benchmark.stats.stats.median))

    request.addfinalizer(keep)

    return lambda fn, **shared: timing.measure(benchmark, device, fn, **shared)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    machine_info.update(timing.machine_info())


def pytest_unconfigure(config: pytest.Config) -> None:
    if IN_EFFECT in config.stash:
        config.stash[IN_EFFECT].close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--spec-report")
    if path and REPORT in session.config.stash:
        page.write(path, session.config.stash[REPORT], root=Path(session.config.rootpath))
    results = session.config.getoption("--spec-results")
    if results and REPORT in session.config.stash:
        results.parent.mkdir(parents=True, exist_ok=True)
        tally = session.config.stash[REPORT]
        found = provenance.of_run(tally, session.config.stash.get(FACTS, {}))
        results.write_text(json.dumps(compat.results(tally, loading.versions(), found), indent=1))
