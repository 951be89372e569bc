"""While a run lasts, the libraries and the model are out of Python's garbage collector
(``plugin.models.lives_for_the_session``): the full collections during the load, pytest's two at
the session's end and the interpreter's at exit then scan what the run made since, not them. An
in-process run gives them back when it ends (``harness.suite_state``)."""

import gc

import pytest

from gpt2spec import harness
from tests.conftest import PYTEST, STANDIN_CACHE, environment


class Counts(harness.Verdicts):
    """Objects frozen, and objects the collector still tracks, as each test is called."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        self.seen.append((gc.get_freeze_count(), len(gc.get_objects())))


def test_the_model_is_frozen_while_the_run_lasts_and_given_back_after(standin_home):
    """The run loads its own model (a served one was made before the run, and is frozen with
    the libraries whatever the plugin does): frozen, it is most of what the process holds."""
    counts = Counts()
    run = harness.run_pytest(
        [*PYTEST, "--weights", "standin", "--device", "cpu", "specs/test_01_config.py", "-k", "act_fn"],
        environ=environment(standin_home, False, STANDIN_CACHE), verdicts=counts,
    )  # fmt: skip
    assert run.code == 0, run.output[-2000:]
    assert counts.seen, "no test ran"
    for frozen, tracked in counts.seen:
        assert frozen > 4 * tracked, f"{frozen} objects frozen, {tracked} still tracked: the model was not frozen after its load"
    assert gc.get_freeze_count() == 0, "the in-process run kept its objects out of the collector"
