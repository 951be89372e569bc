"""Which claims catch each fault: the specs run in this process (``gpt2spec.harness``), the model
loaded once, unbroken and then against each fault (``python -m gpt2spec.faults``)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest
import torch

from gpt2spec import document, loading, paths
from gpt2spec.faults import FAULTS, Fault, setting
from gpt2spec.harness import Run, Verdicts, run_pytest
from gpt2spec.ids import NodeId, cell_label
from gpt2spec.page.sections import Section, Table


def fingerprint(model: Any) -> dict[str, object]:
    """What a fault may change and must put back, each part by name: the hooks at every hook point
    (TransformerLens's lists and torch's own), every config field, the tokenizer, what is set on each
    module's instance (a wrapped method, say), and every weight (the tensor itself, not a copy)."""
    found: dict[str, object] = {}
    for name, point in model.hook_dict.items():
        found[f"the hooks at {name}"] = (
            [id(h) for h in point.fwd_hooks], [id(h) for h in getattr(point, "bwd_hooks", [])],
            list(point._forward_hooks), list(point._backward_hooks),
        )  # fmt: skip
    found |= {f"cfg.{key}": repr(value) for key, value in vars(model.cfg).items()}
    found["the tokenizer"] = (id(model.tokenizer), len(model.tokenizer))
    for name, module in model.named_modules():
        found[f"what is set on {name or 'the model'}"] = {k: id(v) for k, v in vars(module).items() if not k.startswith("_")}
    found |= {f"the weight {name}": weight.detach() for name, weight in model.named_parameters()}
    return found


def same(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
    return a == b


class NotUndone(AssertionError):
    """A fault left the model changed after its run: every later run would be broken too."""


def kept(model: Any) -> dict[str, object]:
    """``fingerprint(model)`` to compare with later: the weights copied."""
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in fingerprint(model).items()}


@contextlib.contextmanager
def injected(model: Any, broken: Fault, whole: dict[str, object]) -> Iterator[Any]:
    """``broken`` injected into ``model``; on exit undone, and seen to be: its fingerprint is ``whole``
    (the model's unbroken ``kept``) again, or NotUndone names what differs. So the half-precision
    faults need no control that reruns their claims (a forward in each dtype, 9 s here) to show their
    model whole again."""
    with broken.inject(model):
        yield model
    after = fingerprint(model)
    changed = sorted(k for k in whole.keys() | after.keys() if not same(whole.get(k), after.get(k)))
    if changed:
        raise NotUndone(f"{broken.name} left the model changed ({len(changed)}): {', '.join(changed[:5])}")


class Models:
    """GPT-2 small per device and dtype, loaded once for every run; ``loading.load``'s stand-in while a
    run goes on, handing out the model with this run's fault injected (undone when the run ends, and
    seen to be: ``injected``, against the fingerprint taken once, before its first fault; so each run
    compares the weights, 0.1 s in float32, and copies none, which would be 0.2 s more)."""

    def __init__(self) -> None:
        self.loaded: dict[tuple[str, torch.dtype], Any] = {}
        self.whole: dict[tuple[str, torch.dtype], dict[str, object]] = {}
        self.real = loading.load

    @contextlib.contextmanager
    def serving(self, broken: Fault | None = None) -> Iterator[None]:
        with contextlib.ExitStack() as undo:

            def load(device: str, dtype: torch.dtype = torch.float32) -> Any:
                key = (device, dtype)
                if key not in self.loaded:
                    self.loaded[key] = self.real(device, dtype)
                if broken is not None:
                    if key not in self.whole:  # before its first fault: every run since the load left it whole
                        self.whole[key] = kept(self.loaded[key])
                    undo.enter_context(injected(self.loaded[key], broken, self.whole[key]))
                return self.loaded[key]

            undo.enter_context(setting(loading, "load", load))
            yield


# Every run: the specs on the CPU, offline on the stand-in, the half-precision claims included.
SPEC_ARGS = ["--device", "cpu", "--weights", "standin", "--half-precision", "--benchmark-disable", "-p", "no:cacheprovider"]


def run_specs(models: Models, broken: Fault | None, *args: str, verdicts: Verdicts | None = None) -> Run:
    """The specs (or ``args``' selection) in this process, with ``broken`` injected into each model."""
    fault = broken.name if broken else ""
    return run_pytest(["-q", *SPEC_ARGS, *args], models.serving(broken), verdicts=verdicts, fault=fault)  # no paths in args: pyproject's testpaths, specs/


def run_all(models: Models | None = None, names: list[str] | None = None, *args: str, page: Path | None = None) -> list[Run]:
    """The unbroken model, then each fault (``names``, or all). With ``page``, the unbroken run also
    writes ``--spec-report page`` with the table as a section: it runs last, so the table is whole."""
    models = models or Models()
    if page is None:
        return [run_specs(models, None, *args)] + [run_specs(models, FAULTS[n], *args) for n in names or FAULTS]
    broken = [run_specs(models, FAULTS[n], *args) for n in names or FAULTS]
    return [run_specs(models, None, *args, f"--spec-report={page}", verdicts=FaultsSection(broken))] + broken


class FaultsSection(Verdicts):
    """The unbroken run's verdicts, and the faults table (with ``broken``, the faults' runs) as a
    section of its page (``pytest_spec_page_sections``)."""

    def __init__(self, broken: list[Run]) -> None:
        super().__init__()
        self.broken = broken

    def pytest_spec_page_sections(self, config: pytest.Config) -> list[Section]:
        unbroken = Run("", self.outcome, self.cell, "")
        return [
            Section(
                "faults", "What the spec catches: faults",
                text="GPT-2 small broken on purpose, one named fault at a time (``python -m gpt2spec.faults``): "
                "the claims that failed where the unbroken model passed, by cell.",
                table=Table(["fault", "what it breaks", "the claims that caught it"],
                            [[fault or "unbroken", FAULTS[fault].what if fault else "nothing", said] for fault, said in rows([unbroken, *self.broken])]),
            )
        ]  # fmt: skip


def rows(runs: list[Run]) -> list[tuple[str, str]]:
    """(fault, the claims that caught it, by cell), the unbroken model first (fault "")."""
    unbroken, *broken = runs
    ran = len(unbroken.ended("passed") | unbroken.failed())
    held = "every claim that ran held" if not unbroken.failed() else f"FAILED {len(unbroken.failed())}: " + ", ".join(sorted((NodeId.of(n).brief for n in unbroken.failed())))
    found = [("", f"{held} ({ran} ran, {len(unbroken.ended('skipped'))} skipped)")]
    for run in broken:
        caught = run.failed() - unbroken.failed()
        by_cell = Counter(run.cell.get(n) for n in caught)
        cells = sorted(by_cell, key=document.position)
        text = ", ".join(f"{cell_label(c)} {by_cell[c]}" for c in cells) if caught else "CAUGHT BY NO CLAIM"
        found.append((run.fault, f"{len(caught):>3} claims: {text}"))
    return found


def table(runs: list[Run]) -> list[str]:
    """Faults with the claims that caught each, grouped by cell, the unbroken model first."""
    return [f"{fault or 'unbroken':<30} {said}" for fault, said in rows(runs)]


def problems(runs: list[Run]) -> list[str]:
    unbroken, *broken = runs
    found = [f"the unbroken model fails {NodeId.of(n).brief}" for n in sorted(unbroken.failed())]
    return found + [f"{run.fault} is caught by no claim" for run in broken if not run.failed() - unbroken.failed()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpt2spec.faults", description="Run the specs unbroken, then against each fault, and print which claims caught each.")
    parser.add_argument("names", nargs="*", metavar="FAULT", help=f"faults to run (default all: {', '.join(FAULTS)})")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every claim that caught each fault")
    parser.add_argument("--spec-report", type=Path, metavar="PATH", help="also write the unbroken run's page, with this table as a section")
    parser.epilog = "Arguments after -- go to pytest (a selection of specs, say: -- specs/test_07_mlp.py)."
    argv = sys.argv[1:] if argv is None else argv
    ours, pytest_args = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    options = parser.parse_args(ours)
    if unknown := [n for n in options.names if n not in FAULTS]:
        parser.error(f"no fault named {', '.join(unknown)}: choose from {', '.join(FAULTS)}")
    page = options.spec_report.resolve() if options.spec_report else None  # the runs start in the project's root
    if page:
        try:  # before the runs (minutes), not after
            paths.output_file(page, "--spec-report", "page.html")
        except paths.BadPath as error:
            paths.refuse(parser, error)
    runs = run_all(None, options.names or None, *pytest_args, page=page)
    print(f"{'fault':<30} the claims that caught it (failed where the unbroken model passed), by cell")
    for line in table(runs):
        print(line)
    if options.verbose:
        for run in runs[1:]:
            print(f"\n{run.fault}: " + FAULTS[run.fault].what)
            for nodeid in sorted(run.failed() - runs[0].failed()):
                print(f"  {cell_label(run.cell.get(nodeid)):<8} {NodeId.of(nodeid).brief}")
    if page:
        print(f"\nthe page, with this table: {page}")
    found = problems(runs)
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    return 1 if found else 0

