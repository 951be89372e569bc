"""pytest-xdist (-n): refused in one line. With -n the controller's session has no items, so the
summary, the page and the results file came out empty (the summary vanished), and each worker
loads GPT-2 small again: on a 2-core machine `-n 2` made the specs slower, not faster."""

import pytest

from .conftest import run_here
from .test_setup_errors import one_clear_line

pytest.importorskip("xdist")


@pytest.mark.parametrize("option", [["-n", "2"], ["-n", "auto"], ["--dist", "load", "--tx", "popen"]], ids=" ".join)
def test_parallel_runs_are_refused_in_one_line(tmp_path, option):
    result = run_here("specs/test_03_tokenization.py", *option, hf_home=tmp_path)
    one_clear_line(result, "-n/--numprocesses (pytest-xdist) is not supported", "run without -n")
    assert result.returncode == 4


def test_n_0_is_a_plain_run(tmp_path):
    """-n 0 is xdist's own way to say "no workers": allowed."""
    result = run_here("--co", "-n", "0", hf_home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
