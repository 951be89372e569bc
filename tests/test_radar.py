"""The radar's answers about what it ran (``gpt2spec.radar.axes``, ``gpt2spec.radar.index``) and which release
changed what (``gpt2spec.radar.bisection``), with pip's answers canned: nothing is installed or downloaded."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from gpt2spec import snapshot, standin
from gpt2spec.radar import axes, bisection, index

# pip's own words, as it printed them on this machine (2 Dec 2026).
KERNELS = (
    "ERROR: Could not find a version that satisfies the requirement kernels<0.20,>=0.19.1 (from transformers) "
    "(from versions: 0.1.7, 0.2.0, 0.17.2)\nERROR: No matching distribution found for kernels<0.20,>=0.19.1"
)
CONFLICT = """ERROR: Cannot install transformer-lens==2.18.0 and transformers==5.24.0 because these package versions have conflicting dependencies.

The conflict is caused by:
    transformer-lens 2.18.0 depends on huggingface-hub<1.0 and >=0.23.2
    transformers 5.24.0 depends on huggingface-hub<3.0 and >=1.31.0

To fix this you could try to:
ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/"""


def test_pips_reason_is_one_line():
    assert index.why_not(KERNELS) == "Could not find a version that satisfies the requirement kernels<0.20,>=0.19.1 (from transformers)"
    assert index.why_not(CONFLICT) == (
        "Cannot install transformer-lens==2.18.0 and transformers==5.24.0: transformer-lens 2.18.0 depends on "
        "huggingface-hub<1.0 and >=0.23.2; transformers 5.24.0 depends on huggingface-hub<3.0 and >=1.31.0"
    )


class FakePip(axes.Pip):
    """The index of 2 Dec 2026 in miniature: transformers 5.25.0 listed but not installable, torch
    capped at 2.14.1 by a constraint. Records what it was asked to install."""

    def __init__(self, installed: dict[str, str]):
        self.versions = dict(installed)
        self.installs: list[tuple[str, ...]] = []
        offer = {
            "transformers": ["4.57.6", "5.9.0", "5.24.0", "5.25.0"],
            "torch": ["2.6.0", "2.13.0", "2.14.1", "2.15.0"],
            "transformer_lens": ["2.18.0", "3.9.0", "4.3.0"],
        }
        floors = {"transformers": ">=5.9.0", "torch": ">=2.6", "transformer_lens": ">=2.18,<5"}
        super().__init__(
            offered=lambda p: [Version(v) for v in offer[p]],
            allowed=lambda p: (SpecifierSet(floors[p]), [f"someone: {floors[p]}"]),
            installed=lambda p: self.versions.get(p),
            dry_run=self.dry,
            install=self.install_,
        )

    def dry(self, requirement: str, *others: str) -> tuple[dict, str | None]:
        assert not any(o.startswith(requirement.split("=")[0] + "=") for o in others), "the axis's own pin is not kept"
        if requirement == "transformers==5.25.0":
            return {}, index.why_not(KERNELS)
        if requirement == "torch==2.15.0":
            return {}, "Cannot install torch==2.15.0: The user requested torch==2.15.0; The user requested (constraint) torch<=2.14.1"
        return {requirement.split("==")[0]: requirement.split("==")[1]}, None

    def install_(self, *requirements: str) -> bool:
        self.installs.append(requirements)
        if requirements[0] == "--upgrade":  # the newest installable
            self.versions[requirements[1]] = {"transformers": "5.24.0", "torch": "2.14.1"}[requirements[1]]
        else:
            name, version = requirements[0].split("==")
            self.versions[name] = version
        return True


PINNED = {"transformer_lens": "4.3.0", "transformers": "5.24.0", "torch": "2.13.0+cpu"}


def test_transformers_newest_names_the_newest_says_why_not_and_installs_nothing():
    pip = FakePip(PINNED)
    (axis,) = axes.prepare(["transformers=newest"], ["torch==2.13.0"], accept=False, pip=pip)
    assert (axis.target, axis.newest, axis.oldest, axis.installed) == ("5.25.0", "5.25.0", "5.9.0", "5.24.0")
    assert axis.missed and not pip.installs
    assert axis.why == "5.25.0 needs kernels<0.20,>=0.19.1, which the index does not have (pip)"
    assert axis.refusal().startswith("asked for transformers 5.25.0 (newest) but 5.24.0 is installed: 5.25.0 needs kernels")
    assert "GPT2SPEC_ACCEPT_INSTALLABLE=1" in axis.refusal()


def test_the_command_exits_3_with_the_line_and_writes_what_it_found(tmp_path, capsys):
    out = tmp_path / "axes.json"
    assert axes.main(["prepare", str(out), "transformers=newest", "torch==2.13.0"], pip=FakePip(PINNED)) == axes.NOT_INSTALLED == 3
    printed = capsys.readouterr()
    assert "transformers: asked newest (5.25.0); index: newest 5.25.0, oldest allowed 5.9.0; installed 5.24.0, not 5.25.0" in printed.out
    assert "torch: asked torch==2.13.0; index: newest 2.15.0, oldest allowed 2.6.0; installed 2.13.0+cpu" in printed.out
    assert printed.err.count("\n") == 1 and "5.25.0" in printed.err and "5.24.0" in printed.err
    found = json.loads(out.read_text())
    assert [a["package"] for a in found["axes"]] == ["transformers", "torch"] and len(found["refused"]) == 1


def test_the_opt_in_installs_the_newest_installable_and_says_so():
    pip = FakePip(PINNED | {"transformers": "5.9.0"})
    (axis,) = axes.prepare(["transformers=newest"], ["torch==2.13.0"], accept=True, pip=pip)
    assert pip.installs == [("--upgrade", "transformers", "torch==2.13.0")]
    assert axis.installed == "5.24.0" and axis.missed and axis.accepted
    assert axis.line().endswith("(accepted: GPT2SPEC_ACCEPT_INSTALLABLE=1)")


def test_an_installable_ask_is_installed_exactly_and_nothing_is_refused():
    pip = FakePip(PINNED)
    (axis,) = axes.prepare(["transformers=oldest"], ["torch==2.13.0"], accept=False, pip=pip)
    assert pip.installs == [("transformers==5.9.0", "torch==2.13.0")]
    assert axis.installed == "5.9.0" and not axis.missed


def test_torch_oldest_is_the_declared_floor_and_keeps_no_torch_pin():
    pip = FakePip(PINNED)
    (axis,) = axes.prepare(["torch=oldest"], ["torch==2.13.0"], accept=False, pip=pip)
    assert axis.target == "2.6.0" and pip.installs == [("torch==2.6.0",)]  # FakePip.dry checks the pin is dropped


def test_torch_newest_past_a_constraint_is_refused_with_pips_line_and_downloads_nothing():
    pip = FakePip(PINNED)
    (axis,) = axes.prepare(["torch=newest"], ["torch==2.13.0"], accept=False, pip=pip)
    assert axis.target == "2.15.0" and axis.missed and not pip.installs
    assert "(constraint) torch<=2.14.1" in axis.refusal()


def test_a_pin_already_installed_is_recorded_as_is():
    pip = FakePip(PINNED)
    asks = ["transformer_lens==4.3.*", "transformers", "torch==2.13.0"]
    found = axes.prepare(asks, ["torch==2.13.0"], accept=False, pip=pip)
    assert not pip.installs and not any(a.missed for a in found)
    assert [a.cell() for a in found] == ["transformer_lens==4.3.*; 2.18.0 to 4.3.0; 4.3.0", "pip's choice; 5.9.0 to 5.25.0; 5.24.0", "torch==2.13.0; 2.6.0 to 2.15.0; 2.13.0+cpu"]


def test_a_bad_ask_gets_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        axes.main(["prepare", str(tmp_path / "a.json"), "transformers=latest!"], pip=FakePip(PINNED))
    assert stopped.value.code == 2 and "give PACKAGE=newest" in capsys.readouterr().err


# -- bisect ------------------------------------------------------------------------------------

RELEASES = [Version(v) for v in ("3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0", "3.7.0")]


def fake_runner(first_changed: str, broken: tuple[str, ...] = ()) -> tuple[list[Version], object]:
    visited: list[Version] = []

    def run(version: Version) -> bisection.Release:
        visited.append(version)
        if str(version) in broken:
            return bisection.Release(version, None, "pip: Could not find a version that satisfies the requirement x")
        return bisection.Release(version, {"value": version >= Version(first_changed)})

    return visited, run


@pytest.mark.parametrize("first", ["3.1.0", "3.4.0", "3.7.0"])
def test_bisect_finds_the_first_release_that_changed_in_few_runs(first):
    visited, run = fake_runner(first)
    found, before, after = bisection.first_change(RELEASES, run, lambda r: r["value"])
    assert (str(found), before, after) == (first, False, True)
    assert len(set(visited)) <= 5  # log2(8) + the two ends


def test_bisect_passes_over_a_release_that_did_not_install():
    _, run = fake_runner("3.4.0", broken=("3.3.0",))
    found, _, _ = bisection.first_change(RELEASES, run, lambda r: r["value"])
    assert str(found) == "3.4.0"


def test_a_second_bisect_installs_nothing(tmp_path, monkeypatch):
    calls: list[str] = []

    def pip(*args: str):
        calls.append(args[1])
        return types.SimpleNamespace(returncode=0, stdout="", stderr="")

    def pytest_run(command, **_):
        out = Path(next(a for a in command if a.startswith("--spec-results=")).split("=", 1)[1])
        out.write_text(json.dumps({"versions": {"transformer_lens": "3.8.1"}, "claims": {}}))
        return types.SimpleNamespace(returncode=0)

    monkeypatch.setattr(bisection.index, "pip", pip)
    monkeypatch.setattr(bisection.subprocess, "run", pytest_run)
    bisection.Runner("transformer_lens", tmp_path, "torch==2.13.0", [])(Version("3.8.1"))
    again = bisection.Runner("transformer_lens", tmp_path, "torch==2.13.0", [])
    assert again(Version("3.8.1")).results and calls == ["transformer_lens==3.8.1"]
    assert again(Version("3.8.0")) and calls[-1] == "transformer_lens==3.8.0"  # 3.8.0 is not 3.8.1's file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transformer_lens-3.8.0.json", "transformer_lens-3.8.1.json"]


def test_a_release_that_does_not_install_is_noted_with_pips_line(tmp_path, monkeypatch):
    monkeypatch.setattr(bisection.index, "pip", lambda *a: types.SimpleNamespace(returncode=1, stdout="", stderr=KERNELS))
    found = bisection.Runner("transformers", tmp_path, "torch==2.13.0", [])(Version("5.25.0"))
    assert found.results is None and found.why.startswith("pip: Could not find a version that satisfies the requirement kernels")


# -- syrupy's advice ---------------------------------------------------------------------------


def test_the_documents_entries_are_named_and_syrupys_advice_kept_for_stale_baselines():
    from syrupy.data import Snapshot, SnapshotCollection, SnapshotCollections
    from syrupy.report import SnapshotReport

    def collection(folder: str, *names: str) -> SnapshotCollection:
        found = SnapshotCollection(location=f"snapshots/{folder}/test_01_config.ambr")
        for name in names:
            found.add(Snapshot(name=name))
        return found

    report = types.SimpleNamespace(unused=SnapshotCollections())
    report.unused.add(collection("document", "test_a", "test_b"))
    line = snapshot.set_aside_document_entries(report)
    assert line.startswith("2 of the document's printed values") and "--snapshot-update keeps them" in line
    assert report.num_unused == 0
    report = types.SimpleNamespace(unused=SnapshotCollections())
    report.unused.add(collection("document", "test_a"))
    report.unused.add(collection(standin.name(), "test_stale"))
    assert snapshot.set_aside_document_entries(report).startswith("1 of the document's")
    assert report.num_unused == 1  # the stale baseline keeps syrupy's count, and so its advice
    assert hasattr(SnapshotReport, "num_unused") and hasattr(SnapshotReport, "unused")  # what this relies on


def test_the_index_offer_is_read_from_pips_own_listing(monkeypatch):
    listing = "transformers (5.25.0)\nAvailable versions: 5.25.0, 5.24.0, 5.0.0rc1, 4.57.6\n"
    monkeypatch.setattr(index, "pip", lambda *a: types.SimpleNamespace(returncode=0, stdout=listing, stderr=""))
    assert index.offered("transformers") == [Version("4.57.6"), Version("5.24.0"), Version("5.25.0")]  # no pre-releases


def test_what_the_installed_metadata_allows_admits_what_is_installed():
    allowed, who = index.allowed("numpy")  # transformers, torch, ... require numpy, and pip satisfied them
    assert who and index.installed("numpy") in allowed


def test_bisect_names_each_difference_its_first_release_cause_and_what_else_moved(monkeypatch):
    from .test_changes import HELD, run, upgraded

    releases = ["4.0.0", "4.1.0", "4.2.0", "4.3.0"]
    monkeypatch.setattr(bisection.index, "offered", lambda package: [Version(v) for v in releases])
    old, new = run(), upgraded()
    new["claims"][HELD]["versioned"] = {"majors": [4], "why": "the cited cause"}

    class Runs:  # a Runner whose releases before 4.2.0 give the old results
        seen: dict = {}

        def __call__(self, version: Version) -> bisection.Release:
            self.seen[version] = bisection.Release(version, old if version < Version("4.2.0") else new)
            return self.seen[version]

    found = bisection.bisect("transformer_lens", Version("4.0.0"), Version("4.3.0"), Runs())
    firsts = {(c["kind"], c["what"]): (c["first"], c["cause"]) for c in found["changes"]}
    assert firsts[("outcome", HELD)] == ("4.2.0", "the cited cause")
    assert firsts[("cache_keys", "blocks.0.hook_in")][0] == "4.2.0"
    assert ["transformers", "5.24.0", "5.9.0"] in map(list, found["also_changed"])
    assert found["notes"]["4.2.0"].endswith("/releases/tag/v4.2.0") and set(found["ran"]) <= set(releases)
