"""Speed and memory across versions (``gpt2spec.radar.versus``): the driver and its workers' protocol on a
fake worker (no model, no other environment), the regression rule, the reports made of its file,
and one real worker in this environment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gpt2spec import paired
from gpt2spec.radar import changes, compat, versus

from .conftest import ROOT

FAKE = Path(__file__).with_name("versus_fake_worker.py")


def ratio(a: list[float], b: list[float]) -> dict:
    return paired.ratio({"A": a, "B": b}, "B", "A", "B over A", "forward", {}).as_dict()


@pytest.mark.parametrize(
    "b_over_a, said",
    [
        (1.25, "regression"),  # the whole interval above 1.1
        (1.1, "within"),  # interval around the factor: not beyond it
        (1.0, "within"),
        (0.8, "improvement"),  # the whole interval below 1/1.1
    ],
)
def test_a_change_counts_only_when_its_whole_interval_lies_beyond_the_factor(b_over_a, said):
    a = [1.0 + 0.001 * i for i in range(20)]
    b = [x * b_over_a * (1 + 0.02 * ((i % 5) - 2)) for i, x in enumerate(a)]  # +-4% round to round
    assert versus.verdict(ratio(a, b)) == said


def test_under_six_pairs_there_is_no_interval_and_no_verdict():
    assert versus.verdict(ratio([1.0] * 5, [2.0] * 5)) == "too few pairs for an interval"
    assert versus.verdict(None) == "not measured"


@pytest.fixture
def fake(tmp_path, monkeypatch):
    log = tmp_path / "requests.jsonl"
    monkeypatch.setenv("VERSUS_FAKE_LOG", str(log))
    return lambda env: [sys.executable, str(FAKE), env], log


def test_the_driver_alternates_two_workers_on_the_same_tokens_and_finds_the_slower(fake):
    start, log = fake
    said: list[str] = []
    found = versus.run("1.0", "1.3", long=100, rounds=8, memory_rounds=6, warmup=1, start=start, say=said.append)
    requests = [json.loads(x) for x in log.read_text().splitlines()]
    calls = [r for r in requests if r["op"] == "call"]
    assert [r["side"] for r in calls[:6]] == ["1.0", "1.3", "1.0", "1.3", "1.3", "1.0"]  # warm-up, then A B, B A
    assert len(calls) == 2 * 2 * 2 * (1 + 8)  # 2 inputs x 2 works x 2 sides x (warm-up + 8 rounds)
    for n in (45, 100):
        sent = {r["side"]: r["tokens"] for r in calls if len(r["tokens"]) == n}
        assert sent["1.0"] == sent["1.3"]
    assert [r["tokens"] for r in calls if len(r["tokens"]) == 100][0] == (list(range(45)) * 3)[:100]  # the document repeated (grid.same_tokens)
    assert [r["op"] for r in requests].count("quit") == 2
    assert [(r["time"]["label"], versus.verdict(r["time"]), versus.verdict(r["memory"])) for r in found["rows"]] == [
        (f"{work}, {n} tokens", "regression", "within") for n in (45, 100) for work in versus.WORK
    ]
    assert round(found["rows"][0]["time"]["median"], 2) == 1.3 and found["sides"]["B"]["versions"]["transformer_lens"] == "4.3.0"
    assert versus.regressions(found) == [f"time of {work}, {n} tokens" for n in (45, 100) for work in versus.WORK]
    assert said[-4].startswith("  forward, 45 tokens") and "regression at 1.1" in said[-4]


def test_the_reports_show_the_cost_and_changes_exits_1_on_a_regression(fake, tmp_path, capsys):
    start, _ = fake
    found = versus.run("1.0", "1.3", long=0, rounds=6, memory_rounds=6, warmup=1, start=start, say=lambda line: None)
    found["command"] = "python -m gpt2spec.radar.versus 1.0 1.3 --long 0"
    path = tmp_path / "versus.json"
    path.write_text(json.dumps(found))
    table = compat.versus_table([versus.read(path)])
    assert "| TL 3.9.0 to 4.3.0 | forward, 45 tokens | 1.30x (" in table and "| regression |" in table
    assert "`python -m gpt2spec.radar.versus 1.0 1.3 --long 0`" in table and "a fake CPU" in table
    runs = [ROOT / "results" / "tl-3.9.json", ROOT / "results" / "tl-4.3.json"]
    assert changes.main([*map(str, runs), "--cost", str(path)]) == 1
    out = capsys.readouterr().out
    assert "2 cost regressions beyond 1.1x: time of forward, 45 tokens; time of run_with_cache, 45 tokens" in out
    assert "NOTE" not in out  # the file measured the two versions the results files hold


def test_a_side_that_cannot_start_or_stops_is_said_in_one_line(fake, tmp_path, capsys):
    start, _ = fake
    with pytest.raises(versus.Stopped, match=r"^dies stopped while call forward on 45 tokens: no message \(its output: "):
        versus.run("1.0", "dies", long=0, rounds=6, start=start, say=lambda line: None)
    assert versus.main(["tl-0.0", "tl-4.3", "--rounds", "6"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("versus: tl-0.0 is not a Python, a virtual environment or a nox session's environment here: make it with nox -s tl-0.0")
    (tmp_path / "not.json").write_text("{}")
    with pytest.raises(ValueError, match="is not a versus results file"):
        versus.read(tmp_path / "not.json")


def test_the_worker_answers_each_request_on_the_loaded_model(fault_models, standin_home):
    """What a worker says first and how it answers, on the model the suite loaded already (a worker
    process loads its own: ``worker`` is ``ready`` then ``serve`` on stdin and stdout)."""
    from gpt2spec import loading, sources

    with fault_models.serving(), sources.choose("standin", say=lambda line: None).in_effect():
        model = loading.load("cpu")
    first = versus.ready(model, 1.0)
    assert len(first["tokens"]) == 45 and first["peak_after_load_bytes"] > 500e6  # 124M float32 parameters, resident
    assert first["environment"]["transformer_lens"] == loading.tl_version() and "torch threads" in first["conditions"]["threads"]
    answers: list[dict] = []
    requests = [{"op": op, "work": "run_with_cache", "tokens": first["tokens"]} for op in ("call", "peak")]
    versus.serve(model, [json.dumps(r) for r in [*requests, {"op": "quit"}, requests[0]]], answers.append)
    assert len(answers) == 2 and answers[0]["seconds"] > 0  # nothing after quit
    assert answers[1]["added_bytes"] > 45 * 45 * 12 * 12 * 4  # at least layer 0's attention pattern, cached


def test_the_bisect_finds_the_first_release_whose_cost_crossed_the_factor(monkeypatch, tmp_path):
    from packaging.version import Version

    from gpt2spec.radar import bisection as bisect

    releases = ["3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0"]
    monkeypatch.setattr(bisect.index, "offered", lambda package: [Version(v) for v in releases])
    a = [1.0 + 0.001 * i for i in range(8)]

    class Canned(bisect.CostRunner):  # 3.3.0 on: run_with_cache 1.3x 3.0.0's; forward never changes
        def install_and_run(self, version: Version) -> bisect.Release:
            if version == self.old:
                return super().install_and_run(version)
            slower = 1.3 if version >= Version("3.3.0") else 1.0
            rows = [{"time": paired.ratio({"A": a, "B": [x * s for x in a]}, "B", "A", "", label, {}).as_dict()}
                    for label, s in (("forward, 45 tokens", 1.0), ("run_with_cache, 45 tokens", slower))]  # fmt: skip
            found = {"kind": "versus", "format": versus.FORMAT, "factor": versus.FACTOR, "rows": rows, "sides": {"B": {"versions": {"transformer_lens": str(version)}}}}
            self.paths(version)[0].write_text(json.dumps(found))  # where a real run leaves its versus file: read back from the cache
            return self.cached(version)

    runner = Canned("transformer_lens", tmp_path, "torch==2.13.0", Version("3.0.0"), long=0, rounds=8)
    found = bisect.cost_bisect("transformer_lens", Version("3.0.0"), Version("3.4.0"), runner, "run_with_cache, 45 tokens")
    (change,) = found["changes"]
    assert (change["kind"], change["first"], change["before"]) == ("cost", "3.3.0", "within") and change["after"].startswith("1.30x (")
    assert set(found["ran"]) == {"3.2.0", "3.3.0", "3.4.0"}  # a binary search: not every release
    assert "| [3.3.0](" in compat.history([found]) and "cost: `run_with_cache, 45 tokens`" in compat.history([found])
    nothing = bisect.cost_bisect("transformer_lens", Version("3.0.0"), Version("3.4.0"), runner, "forward, 45 tokens")
    assert nothing["changes"] == []
    with pytest.raises(ValueError, match="no work 'forward, 1024 tokens'"):
        bisect.cost_bisect("transformer_lens", Version("3.0.0"), Version("3.4.0"), runner, "forward, 1024 tokens")
