"""Path options always work: an existing PATH outside the project is the option's value, run after run."""

import json

import pytest

from gpt2spec import page
from gpt2spec.faults import catching

SPEC = "specs/test_04_embedding.py"


@pytest.mark.parametrize("option", ["--spec-report", "--spec-results"])
def test_an_existing_path_outside_the_project_twice(fault_models, tmp_path_factory, option):
    """Once pytest read an existing file after an option it did not know yet as a path to test
    ('unrecognized arguments'): the plugin now loads before the command line is parsed. In this
    process (pytest.main parses a fresh command line with pyproject's addopts, as a user's run does),
    on the model the suite has loaded already."""
    if option == "--spec-report" and page.missing_packages():
        pytest.skip(f"the page needs {page.missing_packages()}: pip install -e '.[report]'")
    path = tmp_path_factory.mktemp("elsewhere") / ("run.html" if option == "--spec-report" else "run.json")
    for attempt in (1, 2):
        run = catching.run_specs(fault_models, None, SPEC, option, str(path))
        assert run.code == 0 and run.outcome, f"run {attempt}: {run.output[-3000:]}"
        assert path.stat().st_size > 0
    if option == "--spec-results":
        assert json.loads(path.read_text())["claims"]


def test_record_baselines_into_a_file_is_one_line(fault_models, tmp_path):
    """--record-baselines names a folder: a file there is refused before anything runs, in one line."""
    taken = tmp_path / "a-file"
    taken.write_text("mine")
    run = catching.run_specs(fault_models, None, SPEC, "--record-baselines", str(taken))
    assert run.code == pytest.ExitCode.USAGE_ERROR and "Traceback" not in run.output
    assert f"--record-baselines {taken}: is a file; give a folder" in run.output and taken.read_text() == "mine"
