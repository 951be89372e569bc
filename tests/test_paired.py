"""Paired timing, its interval and the lines it prints, without a model and without timing anything real."""

import pytest

from gpt2spec import paired, timing
from gpt2spec.tally import Tally, benchmark_lines, ratio_lines


def test_the_arms_alternate_round_by_round_after_warm_up():
    calls: list[str] = []
    arms = {name: (lambda name=name: calls.append(name)) for name in "AB"}
    times = paired.alternate(arms, rounds=3, warmup=1, clock=lambda fn: fn() or 1.0)
    assert calls == ["A", "B", "A", "B", "B", "A", "A", "B"]  # warm-up, then A B, B A, A B
    assert times == {"A": [1.0] * 3, "B": [1.0] * 3}


def test_more_rounds_while_under_the_minimum_time():
    times = paired.alternate({"A": lambda: None, "B": lambda: None}, rounds=2, min_seconds=60, max_rounds=7, clock=lambda fn: 0.01)
    assert len(times["A"]) == len(times["B"]) == 7  # past the 2 rounds asked, stopped by max_rounds


def clock_of(seconds: dict[str, list[float]]):
    """A clock that gives each arm its next time from ``seconds`` (the arm returns its name)."""
    left = {name: iter(values) for name, values in seconds.items()}
    return lambda fn: next(left[fn()])


def test_the_loop_stops_once_the_interval_is_tight_and_at_the_cap_otherwise():
    """After the rounds asked, rounds go on while a ratio's 95% interval is wider than asked: 6 equal
    ratios stop at once; ratios that keep spreading stop at the cap."""
    arms = {name: (lambda name=name: name) for name in ("A", "B")}
    enough = lambda times: paired.tight(times, [("A", "B")], 0.10)
    steady = paired.alternate(arms, 6, enough=enough, cap=15, warmup=0, clock=clock_of({"A": [1.1] * 20, "B": [1.0] * 20}))
    assert len(steady["A"]) == 6
    spread = [1.0, 2.0] * 10  # ratios 1 and 2 in turn: the interval stays 1-2
    noisy = paired.alternate(arms, 6, enough=enough, cap=15, warmup=0, clock=clock_of({"A": spread, "B": [1.0] * 20}))
    assert len(noisy["A"]) == 15
    settling = [2.0] + [1.0] * 19  # one slow round, then steady: tight once it is outside the 95% interval
    assert len(paired.alternate(arms, 6, enough=enough, cap=15, warmup=0, clock=clock_of({"A": settling, "B": [1.0] * 20}))["A"]) == 6 + 3


def test_tight_needs_a_confidence_interval_not_a_range():
    assert not paired.tight({"A": [1.0] * 5, "B": [1.0] * 5}, [("A", "B")], 0.10)  # 5 pairs: only a range
    assert paired.tight({"A": [1.0] * 6, "B": [1.0] * 6}, [("A", "B")], 0.10)


@pytest.mark.parametrize("n, k", [(6, 1), (12, 3), (15, 4), (20, 6), (30, 10)])
def test_the_interval_is_the_sign_tests(n, k):
    """The order statistics x(k), x(n-k+1): binomial tables for a 95% interval of the median."""
    low, high, confident = paired.median_interval(list(range(1, n + 1)))
    assert (low, high, confident) == (k, n - k + 1, True)


def test_under_six_pairs_the_interval_is_the_range():
    assert paired.median_interval([3.0, 1.0, 2.0]) == (1.0, 3.0, False)


def test_a_ratio_is_the_median_of_per_pair_ratios():
    """Pair by pair: a slow phase that slows both sides leaves each pair's ratio at 1.2."""
    times = {"TL": [1.2, 12.0, 2.4, 1.2, 6.0, 1.2], "HF": [1.0, 10.0, 2.0, 1.0, 5.0, 1.0]}
    where = timing.conditions("cpu")
    r = paired.ratio(times, "TL", "HF", "TransformerLens over Hugging Face (eager) on CPU", "forward", where)
    assert (round(r.median, 6), round(r.low, 6), round(r.high, 6), r.pairs) == (1.2, 1.2, 1.2, 6)
    assert str(r) == "forward 1.20x (1.20-1.20, 6 pairs)"
    lines = ratio_lines([r.as_dict(), {**r.as_dict(), "label": "run_with_cache", "median": 1.4}])
    assert lines == ["TransformerLens over Hugging Face (eager) on CPU: forward 1.20x (1.20-1.20, 6 pairs), run_with_cache 1.40x (1.20-1.20, 6 pairs)"]


def test_the_benchmark_lines_state_conditions_ratios_and_fidelity():
    tally = Tally()
    times = {"TL": [1.1] * 6, "HF": [1.0] * 6}
    tally.ratios.append(paired.ratio(times, "TL", "HF", "TL over HF on CPU", "forward", timing.conditions("cpu", "float32", "eager")).as_dict())
    tally.fidelity.append({"what": "the document's 45 tokens", "device": "cpu", "dtype": "float32", "max": 3.8e-6, "median": 0.0})
    lines = benchmark_lines(tally)
    assert any(line.startswith("conditions:") and "torch threads" in line and "float32" in line and "eager" in line for line in lines)
    assert "TL over HF on CPU: forward 1.10x (1.10-1.10, 6 pairs)" in lines
    assert any("95% confidence interval" in line for line in lines)
    assert any("3.8e-06" in line for line in lines)
