"""What the plugin's parts share through ``config.stash`` (and an item's stash)."""

from __future__ import annotations

import contextlib

import pytest

from gpt2spec.scaling.points import Scaling
from gpt2spec.tally import Tally
from gpt2spec.sources import Choice

DEVICES = pytest.StashKey[list]()  # the devices this run covers
TALLY = pytest.StashKey[Tally]()  # what the summary, the page and the results are made of
SCALING = pytest.StashKey[Scaling]()  # the scaling benchmark's points, with --scaling
LEFT_OUT = pytest.StashKey[dict]()  # option -> how many of its tests this run deselected
NOT_OPENAI = pytest.StashKey[str]()  # why an `openai` or `mechanism` claim must fail (with --require-pretrained)
FACTS = pytest.StashKey[dict]()  # device -> the loaded model's dtype, attention, parameter names
CHOICE = pytest.StashKey[Choice]()  # whose weights and which cache (--weights), settled once
UNTESTED = pytest.StashKey[str]()  # the warning a TransformerLens major this suite has not run comes with
IN_EFFECT = pytest.StashKey[contextlib.ExitStack]()  # Hugging Face pointed at that cache until the run ends
CIRCUIT_MODEL = pytest.StashKey[object]()  # a loaded stand-in with the induction circuit built in, for the page's section on it
UNRECORDED_SEEN = pytest.StashKey[list]()  # (file, entry, observed text) of each baseline these weights lack
