"""The devices, GPT-2 small loaded once per device (and dtype), and the document's shared run.

Whose weights are settled after collection, and only when a collected claim needs the model; a
setup that cannot load it ends the run once, in one line.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from typing import Any, Callable

import pytest
import torch

from gpt2spec import hubcache, loading, outcomes, paths, provenance, sources
from gpt2spec.page.sections import Section
from gpt2spec.plugin.keys import CHOICE, CIRCUIT_MODEL, DEVICES, FACTS, IN_EFFECT, TALLY
from gpt2spec.run import DocumentRun, document_run
from gpt2spec.sources import Choice
from gpt2spec.weights import Weights, identify

MODEL_FIXTURES = {"model", "model_on", "run", "weights"}  # model_on: the half-precision claims ask for it alone


def lives_for_the_session() -> None:
    """Take every object alive now out of Python's cyclic garbage collector (``gc.freeze``): before a
    load, the libraries imported so far; after it, the model too. All of them live until the session
    ends, yet each full collection (several during a load, pytest's two at its end, the interpreter's
    at exit) would scan them again: some 450,000 objects once the model is loaded, about 0.2 s a
    collection on a 2-core CPU. A load leaves a few dozen objects of garbage; frozen, they are kept."""
    gc.freeze()


def skip_without(device: str) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        outcomes.skip(outcomes.SKIP_CUDA, "CUDA is not available on this machine (the CPU run covers the claim)")


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
    hf_cache = "the Hugging Face cache (HF_HOME)"
    try:
        paths.folder(hubcache.hf_home(), hf_cache, "set HF_HOME to a folder", writable=False)  # read even for a stand-in
        choice = sources.choose(session.config.getoption("--weights"), say=lambda line: print(line, file=sys.stderr))
        if choice.endpoint is not None:  # GPT-2 small downloads into it
            paths.folder(hubcache.hf_home(), hf_cache, "set HF_HOME to a folder you can write, or run --weights standin")
        session.config.stash[CHOICE] = choice
        session.config.stash[IN_EFFECT] = stack = contextlib.ExitStack()
        stack.enter_context(choice.in_effect())
        loading.check_offline_cache()
        loading.check_cache_files()
    except (loading.SetupError, paths.BadPath) as error:
        raise pytest.UsageError(str(error)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    if IN_EFFECT in config.stash:
        config.stash[IN_EFFECT].close()


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
            try:
                lives_for_the_session()
                with pytestconfig.stash[TALLY].loading(device, str(dtype).removeprefix("torch.")), downloading(pytestconfig):
                    loaded[key] = loading.load(device, dtype)
                lives_for_the_session()
                if dtype == torch.float32 and pytestconfig.getoption("--spec-results"):  # only the results file keeps them
                    pytestconfig.stash.setdefault(FACTS, {})[device] = provenance.model_facts(loaded[key])
            except loading.SetupError as error:
                pytest.exit(str(error), returncode=4)
            except OSError as error:  # huggingface_hub / transformers: no network, missing files
                if (endpoint := pytestconfig.stash[CHOICE].endpoint) is not None:
                    pytest.exit(sources.download_failed(endpoint, error), returncode=4)
                pytest.exit(f"could not load GPT-2 small ({loading.first_line(error)}): see docs/troubleshooting.md", returncode=4)
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
    if config.stash[CHOICE].endpoint is None or hubcache.cache_lacks() is None:
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
    found = identify(model, weights_choice.describe())
    pytestconfig.stash[TALLY].weights[device] = found
    if found.circuit is not None:  # the page shows how its circuit is built, from this model's weights
        pytestconfig.stash.setdefault(CIRCUIT_MODEL, model)
    return found


def pytest_spec_page_sections(config: pytest.Config) -> list[Section]:
    """How the stand-in's induction heads are built: only where the run's weights are a stand-in with the circuit."""
    if CIRCUIT_MODEL not in config.stash:
        return []
    from gpt2spec.page import circuit_figures  # draws with plotly: only when the page is written

    return [circuit_figures.section(config.stash[CIRCUIT_MODEL])]


@pytest.fixture(scope="session")
def run(model: Any, device: str, pytestconfig: pytest.Config) -> DocumentRun:
    """The document's tokens, logits and cache on its example text: one forward pass a device."""
    with pytestconfig.stash[TALLY].timed(device, "run_with_cache on the document's text"):
        result = document_run(model)
    pytestconfig.stash[TALLY].runs[device] = result
    return result
