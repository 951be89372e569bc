"""What the specification catches: GPT-2 small broken on purpose, one way at a time.

Each fault is a small named object that breaks a model already loaded, in this process, and puts
it back afterwards: an activation-level fault as TransformerLens hooks (``add_perma_hook``, on every
version: ``run_with_cache`` and ``hooks()`` drop the non-permanent ones when they end, which would
undo the fault after the document's first run), anything else as an edit of the weights, the config
or the tokenizer, restored on exit. None needs a fresh process.

``python -m gpt2spec.faults`` runs the specs (in this process, the model loaded once) unbroken and
then against each fault, and prints which claims caught each; it exits 1 when a fault is caught by
no claim, or when the unbroken model fails one.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator

import pytest
import torch

from gpt2spec import document, loading, outcomes

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Fault:
    """One way to break GPT-2 small. ``inject(model)`` is a context: broken inside, whole after."""

    name: str
    what: str
    inject: Callable[[Any], ContextManager[None]]


FAULTS: dict[str, Fault] = {}


def fault(fn: Callable[[Any], Iterator[None]]) -> Fault:
    """Register a generator ``fn(model)`` that breaks the model, yields, and mends it; its docstring says how."""
    made = Fault(fn.__name__.replace("_", "-"), " ".join((fn.__doc__ or "").split()), contextlib.contextmanager(fn))
    FAULTS[made.name] = made
    return made


@contextlib.contextmanager
def hooked(model: Any, hooks: list[tuple[str, Callable]]) -> Iterator[None]:
    """TransformerLens forward hooks, as permanent hooks (they outlive run_with_cache); on exit exactly
    these are removed, whatever else the hook points hold."""
    points = {name: model.hook_dict[name] for name, _ in hooks}
    before = {name: list(point.fwd_hooks) for name, point in points.items()}
    for name, fn in hooks:
        model.add_perma_hook(name, fn)
    try:
        yield
    finally:
        for name, point in points.items():
            for handle in point.fwd_hooks:
                if not any(handle is kept for kept in before[name]):
                    handle.hook.remove()
            point.fwd_hooks = before[name]


@contextlib.contextmanager
def setting(target: Any, name: str, value: Any) -> Iterator[None]:
    """``target.name = value`` inside, the old value after."""
    old = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, old)


def layers(model: Any, hook: str) -> list[str]:
    return [f"blocks.{layer}.{hook}" for layer in range(model.cfg.n_layers)]


@fault
def wrong_activation(model: Any) -> Iterator[None]:
    """The MLP applies ReLU where GPT-2 applies gelu_new."""
    pre: dict[int, torch.Tensor] = {}
    saves = [(f"blocks.{i}.mlp.hook_pre", lambda x, hook, i=i: pre.__setitem__(i, x)) for i in range(model.cfg.n_layers)]
    relu = [(f"blocks.{i}.mlp.hook_post", lambda x, hook, i=i: torch.relu(pre[i])) for i in range(model.cfg.n_layers)]
    with hooked(model, saves + relu):
        yield


@fault
def no_causal_mask(model: Any) -> Iterator[None]:
    """Attention is spread evenly over every position, the future included."""
    with hooked(model, [(name, lambda p, hook: torch.full_like(p, 1.0 / p.shape[-1])) for name in layers(model, "attn.hook_pattern")]):
        yield


@fault
def unscaled_attention(model: Any) -> Iterator[None]:
    """Attention scores are not divided by sqrt(d_head) (multiplied back by 8)."""
    scale = model.cfg.d_head**0.5
    with hooked(model, [(name, lambda s, hook: s * scale) for name in layers(model, "attn.hook_attn_scores")]):
        yield


@fault
def no_bos(model: Any) -> Iterator[None]:
    """Tokens are made without the <|endoftext|> the document's tokens start with (a config edit)."""
    with setting(model.cfg, "default_prepend_bos", False):
        yield


@fault
def leaky_residual(model: Any) -> Iterator[None]:
    """Something (0.01) is added to the residual stream between attention and MLP."""
    with hooked(model, [(name, lambda x, hook: x + 1e-2) for name in layers(model, "hook_resid_mid")]):
        yield


@fault
def perturbed_embedding(model: Any) -> Iterator[None]:
    """Embeddings drift by up to 2e-3 (not uniformly: LayerNorm would cancel a constant shift), as
    after a numerics regression: everything downstream moves a little."""
    with hooked(model, [("hook_embed", lambda x, hook: x + 2e-3 * torch.linspace(-1, 1, x.shape[-1], device=x.device, dtype=x.dtype))]):
        yield


@fault
def skewed_final_norm(model: Any) -> Iterator[None]:
    """The final LayerNorm's output is scaled by 1.01 before the unembedding (its cached scale is not)."""
    with hooked(model, [("ln_final.hook_normalized", lambda x, hook: x * 1.01)]):
        yield


@fault
def negated_half_precision_logits(model: Any) -> Iterator[None]:
    """Only in half precision, the final residual is negated before the unembedding, as a broken
    low-precision kernel might: float32 is untouched."""
    hooks = [] if model.cfg.dtype == torch.float32 else [("ln_final.hook_normalized", lambda x, hook: -x)]
    with hooked(model, hooks):
        yield


@fault
def half_precision_mlp_drift(model: Any) -> Iterator[None]:
    """Only in half precision, the MLP's activations after BOS are 3% off (about 8 bfloat16 units, 60
    float16 units), as a low-precision kernel with a bad rounding might: small next to BOS's large
    values, so only a tolerance taken position by position sees it."""
    hooks = [] if model.cfg.dtype == torch.float32 else [(n, drift_after_bos) for n in layers(model, "mlp.hook_post")]
    with hooked(model, hooks):
        yield


def drift_after_bos(x: torch.Tensor, hook: Any) -> torch.Tensor:
    x = x.clone()
    x[:, 1:] *= 1.03
    return x


@fault
def wrong_config(model: Any) -> Iterator[None]:
    """The config claims a different activation function."""
    with setting(model.cfg, "act_fn", "relu"):
        yield


@fault
def extra_token(model: Any) -> Iterator[None]:
    """The tokenizer gained a token: the vocabulary is no longer GPT-2's 50257 (a copy of the tokenizer
    is edited and swapped in: adding a token to the loaded one cannot be undone)."""
    grown = copy.deepcopy(model.tokenizer)
    grown.add_tokens(["<|quomatarus|>"])
    with setting(model, "tokenizer", grown):
        yield


@fault
def cache_alters_logits(model: Any) -> Iterator[None]:
    """run_with_cache returns logits 1e-3 off what the forward pass gives (as a caching hook that
    writes into the activations it records would): the instance's method is wrapped, then unwrapped."""
    real = model.run_with_cache

    def altered(*args: Any, **kwargs: Any) -> Any:
        logits, cache = real(*args, **kwargs)
        return logits + 1e-3, cache

    model.run_with_cache = altered
    try:
        yield
    finally:
        del model.run_with_cache


@fault
def forged_fingerprint(model: Any) -> Iterator[None]:
    """The stand-in's <|endoftext|> embedding starts with the three numbers In [14] prints first, the
    fingerprint of OpenAI's weights: taken for OpenAI's, every claim that needs them runs, and none
    may pass on these weights (a weight edit, restored after)."""
    bos = model.tokenizer.bos_token_id
    printed = torch.tensor([float(x) for x in document.EMBEDDING_CORNER[0]], dtype=model.W_E.dtype, device=model.W_E.device)
    saved = model.W_E[bos, : len(printed)].clone()
    model.W_E[bos, : len(printed)] = printed
    try:
        yield
    finally:
        model.W_E[bos, : len(printed)] = saved


# ---- running the specs in this process ------------------------------------------------------


@contextlib.contextmanager
def suite_state() -> Iterator[None]:
    """What a run of the suite leaves in this process, put back after it: the working directory (a run
    starts in the project's root, where its test paths are), the environment (HF_HOME, HF_HUB_OFFLINE:
    the plugin puts the chosen weights in effect for a run and undoes it when the run ends; this holds
    even for a run that stops early), huggingface_hub's constants read from it at import, and the
    lookups cached per folder (the snapshot extension's classes)."""
    from gpt2spec import snapshot

    cwd = os.getcwd()
    os.chdir(ROOT)
    environ = dict(os.environ)
    constants = sys.modules.get("huggingface_hub.constants")
    saved = {k: getattr(constants, k) for k in ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE")} if constants else {}
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environ)
        for key, value in saved.items():
            setattr(constants, key, value)
        snapshot.NumericSnapshotExtension.for_folder.cache_clear()


class Models:
    """GPT-2 small per device and dtype, loaded once for every run; ``loading.load``'s stand-in while a
    run goes on, handing out the model with this run's fault injected (undone when the run ends)."""

    def __init__(self) -> None:
        self.loaded: dict[tuple[str, torch.dtype], Any] = {}
        self.real = loading.load

    @contextlib.contextmanager
    def serving(self, broken: Fault | None) -> Iterator[None]:
        with contextlib.ExitStack() as undo:

            def load(device: str, dtype: torch.dtype = torch.float32) -> Any:
                if (device, dtype) not in self.loaded:
                    self.loaded[device, dtype] = self.real(device, dtype)
                model = self.loaded[device, dtype]
                if broken is not None:
                    undo.enter_context(broken.inject(model))
                return model

            undo.enter_context(setting(loading, "load", load))
            yield


class Verdicts:
    """A pytest plugin: each spec's outcome and cell, from one in-process run."""

    def __init__(self) -> None:
        self.outcome: dict[str, str] = {}
        self.cell: dict[str, int | None] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            marker = item.get_closest_marker("cell")
            self.cell[item.nodeid] = marker.args[0] if marker else None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or not report.passed:
            if self.outcome.get(report.nodeid, outcomes.PASSED) == outcomes.PASSED:
                self.outcome[report.nodeid] = {"passed": outcomes.PASSED, "failed": outcomes.FAILED}.get(
                    report.outcome, outcomes.SKIPPED
                )


# Every run: the specs on the CPU, offline on the stand-in, the half-precision claims included.
SPEC_ARGS = ["--device", "cpu", "--weights", "standin", "--half-precision", "--benchmark-disable", "-p", "no:cacheprovider"]


@dataclass
class Run:
    fault: str  # "" for the unbroken model
    outcome: dict[str, str]
    cell: dict[str, int | None]
    output: str  # pytest's terminal output, for a failure's message

    def failed(self) -> set[str]:
        return {nodeid for nodeid, o in self.outcome.items() if o == outcomes.FAILED}


def run_specs(models: Models, broken: Fault | None, *args: str) -> Run:
    """The specs (or ``args``' selection) in this process, with ``broken`` injected into each model."""
    verdicts = Verdicts()
    out = io.StringIO()
    with suite_state(), models.serving(broken), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        pytest.main(["-q", *SPEC_ARGS, *args], plugins=[verdicts])  # no paths in args: pyproject's testpaths, specs/
    return Run(broken.name if broken else "", verdicts.outcome, verdicts.cell, out.getvalue())


def run_all(models: Models | None = None, names: list[str] | None = None, *args: str) -> list[Run]:
    """The unbroken model first, then each fault (``names``, or all)."""
    models = models or Models()
    return [run_specs(models, None, *args)] + [run_specs(models, FAULTS[n], *args) for n in names or FAULTS]


def short(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1].removeprefix("test_").replace("[cpu]", "").replace("[cpu-", "[")


def where(cell: int | None) -> str:
    return f"In [{cell}]" if cell is not None else "beyond"


def table(runs: list[Run]) -> list[str]:
    """Faults with the claims that caught each, grouped by cell, the unbroken model first."""
    unbroken, *broken = runs
    counts = Counter(unbroken.outcome.values())
    ran = counts[outcomes.PASSED] + counts[outcomes.FAILED]
    held = "every claim that ran held" if not unbroken.failed() else f"FAILED {len(unbroken.failed())}: " + ", ".join(sorted(map(short, unbroken.failed())))
    lines = [f"{'unbroken':<30} {held} ({ran} ran, {counts[outcomes.SKIPPED]} skipped)"]
    for run in broken:
        caught = run.failed() - unbroken.failed()
        by_cell = Counter(run.cell.get(n) for n in caught)
        cells = sorted(by_cell, key=lambda c: (c is None, document_order(c)))
        text = ", ".join(f"{where(c)} {by_cell[c]}" for c in cells) if caught else "CAUGHT BY NO CLAIM"
        lines.append(f"{run.fault:<30} {len(caught):>3} claims: {text}")
    return lines


# The notebook's order of cells (In [29] comes before In [21] there).
ORDER = [1, 2, 3, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 29, 21, 24, 30, 28, 31, 32, 34, 35, 37, 38, 39, 45]


def document_order(cell: int | None) -> int:
    return ORDER.index(cell) if cell in ORDER else len(ORDER)


def problems(runs: list[Run]) -> list[str]:
    unbroken, *broken = runs
    found = [f"the unbroken model fails {short(n)}" for n in sorted(unbroken.failed())]
    return found + [f"{run.fault} is caught by no claim" for run in broken if not run.failed() - unbroken.failed()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpt2spec.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="FAULT", help=f"faults to run (default all: {', '.join(FAULTS)})")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every claim that caught each fault")
    parser.epilog = "Arguments after -- go to pytest (a selection of specs, say: -- specs/test_07_mlp.py)."
    argv = sys.argv[1:] if argv is None else argv
    ours, pytest_args = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    options = parser.parse_args(ours)
    if unknown := [n for n in options.names if n not in FAULTS]:
        parser.error(f"no fault named {', '.join(unknown)}: choose from {', '.join(FAULTS)}")
    runs = run_all(None, options.names or None, *pytest_args)
    print(f"{'fault':<30} the claims that caught it (failed where the unbroken model passed), by cell")
    for line in table(runs):
        print(line)
    if options.verbose:
        for run in runs[1:]:
            print(f"\n{run.fault}: " + FAULTS[run.fault].what)
            for nodeid in sorted(run.failed() - runs[0].failed()):
                print(f"  {where(run.cell.get(nodeid)):<8} {short(nodeid)}")
    for line in problems(runs):
        print(f"error: {line}", file=sys.stderr)
    return 1 if problems(runs) else 0


if __name__ == "__main__":
    sys.exit(main())
