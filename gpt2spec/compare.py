"""Comparing recorded values: the numbers in a value's text, how far each may be off, and where two
values differ and by how much. The snapshots (``snapshot``), the page and the radar's drift column
(``compat``) all compare through here.

The tolerance of a number is read off its recorded text, so it is grounded in how the number was
written: half a unit in its last printed digit (``0.0517`` is known to +-5e-5; ``6.6198e-04`` to
+-0.5e-8, i.e. relatively), plus fp32 device noise (TransformerLens's guide: differences under
5e-5 are noise, 1e-4 or more suspicious).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

NOISE_ABS = 5e-5  # fp32 CPU-vs-CUDA noise on activations and logits (TransformerLens guide)
NOISE_REL = 1e-5  # fp32 relative noise, for large values (logits ~ 20)
# The document prints probabilities and log-probabilities in scientific notation; a logit noise
# of 5e-5 moves exp() of it by 5e-5 relatively, so those get 1e-4 relative ("suspicious" above).
NOISE_SCI_REL = 1e-4

# A number as written: optional sign, digits, optional fraction, optional exponent.
NUMBER = re.compile(r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)")


def tolerance(printed: str) -> float:
    """How far a true value may lie from ``printed`` and still have printed as it did."""
    mantissa, _, exponent = printed.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    if "." not in mantissa and not exponent:
        return 0.0  # an integer: ids, counts, shapes are exact
    half_unit = 0.5 * 10.0 ** (-decimals) * 10.0 ** int(exponent or 0)
    if exponent:
        return half_unit + NOISE_SCI_REL * abs(float(printed))
    return half_unit + NOISE_ABS + NOISE_REL * abs(float(printed))


def within(value: float, printed: str) -> bool:
    return math.isclose(value, float(printed), rel_tol=0.0, abs_tol=tolerance(printed)) or (
        math.isnan(value) and printed.lower() == "nan"
    )


@dataclass(frozen=True)
class Difference:
    """One number of an observed value beside the recorded one."""

    index: int  # which number, counted from 0 in reading order
    observed: str
    expected: str

    @property
    def off(self) -> float:
        return abs(float(self.observed) - float(self.expected))

    @property
    def within(self) -> bool:
        return within(float(self.observed), self.expected)


def paired(observed: str, expected: str) -> list[Difference] | None:
    """Each number of ``observed`` beside ``expected``'s; None where they hold different counts."""
    got, want = NUMBER.findall(observed), NUMBER.findall(expected)
    if len(got) != len(want):
        return None
    return [Difference(i, g, w) for i, (g, w) in enumerate(zip(got, want))]


def differences(observed: str, expected: str) -> list[Difference] | None:
    """The numbers of ``observed`` outside the tolerance of ``expected``'s; None where the text
    between the numbers differs (then it is not only a number that changed)."""
    if NUMBER.split(observed)[::2] != NUMBER.split(expected)[::2]:
        return None
    return [d for d in paired(observed, expected) or [] if not d.within]


def numbers_match(observed: str, recorded: str) -> bool:
    """Equal text between the numbers; each number within the recorded one's tolerance."""
    return differences(observed, recorded) == []
