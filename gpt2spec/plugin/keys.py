"""What the plugin's parts share through ``config.stash`` (and an item's stash)."""

from __future__ import annotations

import contextlib

import pytest

DEVICES = pytest.StashKey[list]()  # the devices this run covers
REPORT = pytest.StashKey["report.Tally"]()  # what the summary, the page and the results are made of
SCALING = pytest.StashKey["scaling.Scaling"]()  # the scaling benchmark's points, with --scaling
LEFT_OUT = pytest.StashKey[dict]()  # option -> how many of its tests this run deselected
NOT_OPENAI = pytest.StashKey[str]()  # why an `openai` claim must fail (with --require-pretrained)
FACTS = pytest.StashKey[dict]()  # device -> the loaded model's dtype, attention, parameter names
CHOICE = pytest.StashKey["weights.Choice"]()  # whose weights and which cache (--weights), settled once
IN_EFFECT = pytest.StashKey[contextlib.ExitStack]()  # Hugging Face pointed at that cache until the run ends
UNRECORDED_SEEN = pytest.StashKey[list]()  # (file, entry, observed text) of each baseline these weights lack
