"""Paired timing: the one way this project compares two things' speed.

The sides of a comparison (TransformerLens and Hugging Face, CUDA and CPU, bfloat16 and float32,
two ways of running the suite) run in one loop, round by round, on the same inputs, after
warm-up; each round's order is the previous one's reversed (A B, B A, A B, ...) so that neither
side always runs first. A machine that slows down for a while then slows both sides of the same
rounds, and each round gives one ratio. The answer is the median of those per-pair ratios with a
distribution-free 95% confidence interval for it, from order statistics (the sign test's interval:
no assumption about how the ratios are spread, no resampling, the same interval for the same
pairs). With fewer than 6 pairs no such interval exists, and the range of the pairs is given.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

LEVEL = 0.95


def alternate(
    arms: dict[str, Callable[[], Any]],
    rounds: int,
    min_seconds: float = 0.0,
    max_rounds: int = 200,
    warmup: int = 1,
    clock: Callable[[Callable[[], Any]], float] | None = None,
    enough: Callable[[dict[str, list[float]]], bool] | None = None,
    cap: int = 0,
) -> dict[str, list[float]]:
    """Seconds of each arm in each round: ``rounds`` rounds, more while under ``min_seconds`` in
    all (up to ``max_rounds``), then, where ``enough`` is given, more while ``enough(times)`` says no,
    up to ``cap`` rounds in all. Arms that queue work on a GPU must be ``timing.synchronized``."""
    if clock is None:  # timing's clock (torch): imported where a loop runs, so the radar reads ratios without torch
        from gpt2spec import timing

        clock = lambda fn: timing.timed("cpu", fn)[1]
    names = list(arms)
    for _ in range(warmup):
        for name in names:
            arms[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    start = time.perf_counter()
    done = 0
    while (
        done < rounds
        or (done < max_rounds and time.perf_counter() - start < min_seconds)
        or (enough is not None and done < cap and not enough(times))
    ):
        for name in names if done % 2 == 0 else reversed(names):
            times[name].append(clock(arms[name]))
        done += 1
    return times


def tight(times: dict[str, list[float]], ratios: Sequence[tuple[str, str]], width: float) -> bool:
    """Whether each ``(numerator, denominator)``'s ratio has its 95% interval (not a mere range) and
    that interval's high end within ``1 + width`` times its low end: ``alternate``'s ``enough``. (A loop
    that stops once its interval looks tight covers the median a little less often than 95%.)"""
    for numerator, denominator in ratios:
        low, high, confident = median_interval([a / b for a, b in zip(times[numerator], times[denominator], strict=True)])
        if not confident or high > (1 + width) * low:
            return False
    return True


def median_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float, bool]:
    """(low, high, is_confidence_interval): the order statistics x(k), x(n-k+1) that cover the
    median with probability >= ``level`` for any continuous distribution; the range when n is too small."""
    xs, n = sorted(values), len(values)
    below, k = 0.0, 0
    while k < n and below + math.comb(n, k) / 2**n <= (1 - level) / 2:
        below += math.comb(n, k) / 2**n
        k += 1
    if k == 0:
        return xs[0], xs[-1], False
    return xs[k - 1], xs[n - k], True


@dataclass(frozen=True)
class Ratio:
    """``numerator`` over ``denominator``, paired round by round: e.g. TransformerLens's forward over
    Hugging Face's on the CPU."""

    question: str  # what the ratio answers: "TransformerLens over Hugging Face (eager)"
    label: str  # which work, as printed: "forward"
    numerator: str
    denominator: str
    median: float
    low: float
    high: float
    pairs: int
    interval: str  # "95% CI" or "range"
    conditions: dict[str, str]

    def __str__(self) -> str:
        return f"{self.label} {self.figure()}"

    def figure(self) -> str:
        """The ratio as every table writes it: ``1.10x (1.04-1.16, 9 pairs)``."""
        return f"{self.median:.2f}x ({self.low:.2f}-{self.high:.2f}, {self.pairs} pairs)"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ratio(
    times: dict[str, list[float]], numerator: str, denominator: str, question: str, label: str, conditions: dict[str, str]
) -> Ratio:
    per_pair = [a / b for a, b in zip(times[numerator], times[denominator], strict=True)]
    low, high, confident = median_interval(per_pair)
    return Ratio(
        question=question, label=label, numerator=numerator, denominator=denominator,
        median=statistics.median(per_pair), low=low, high=high, pairs=len(per_pair),
        interval=f"{LEVEL:.0%} CI of the median" if confident else "range", conditions=dict(conditions),
    )  # fmt: skip


def describe_interval() -> str:
    """What the parenthesis after each ratio is: printed under every table of ratios."""
    return (
        "ratios: median of per-pair ratios, paired round by round (A B, B A, ...) after warm-up on the same inputs; "
        f"(low-high, n pairs): a distribution-free {LEVEL:.0%} confidence interval of that median (order statistics), "
        "or the range under 6 pairs"
    )
