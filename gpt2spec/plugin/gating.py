"""Claims marked ``openai`` hold only for OpenAI's GPT-2 weights: on any other they are skipped,
loudly, or failed with ``--require-pretrained``; never passed."""

from __future__ import annotations

import pytest

from gpt2spec import outcomes
from gpt2spec.plugin.keys import NOT_OPENAI
from gpt2spec.weights import Weights


@pytest.fixture(autouse=True)
def _openai_weights_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("openai") is None:
        return
    found: Weights = request.getfixturevalue("weights")
    if found.is_openai:
        return
    reason = f"needs OpenAI's GPT-2 weights; these are not ({found.evidence})"
    if request.config.getoption("--require-pretrained"):
        request.node.stash[NOT_OPENAI] = reason  # fails in the call phase: a failed claim, not a setup error
        return
    outcomes.skip(outcomes.SKIP_OPENAI, reason)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    reason = pyfuncitem.stash.get(NOT_OPENAI, None)
    if reason is not None:
        pytest.fail(reason + " and --require-pretrained was given", pytrace=False)
