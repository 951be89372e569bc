"""Path options always work: an existing PATH outside the project is the option's value, run after run."""

import json

import pytest

from gpt2spec import page

from .conftest import run_pytest

SPEC = "specs/test_04_embedding.py"


@pytest.mark.parametrize("option", ["--spec-report", "--spec-results"])
def test_an_existing_path_outside_the_project_twice(standin_home, tmp_path_factory, option):
    """Once pytest read an existing file after an option it did not know yet as a path to test
    ('unrecognized arguments'): the plugin now loads before the command line is parsed."""
    if option == "--spec-report" and page.missing_packages():
        pytest.skip(f"the page needs {page.missing_packages()}: pip install -e '.[report]'")
    path = tmp_path_factory.mktemp("elsewhere") / ("run.html" if option == "--spec-report" else "run.json")
    for attempt in (1, 2):
        result = run_pytest(SPEC, "--device", "cpu", option, str(path), hf_home=standin_home)
        assert result.returncode == 0, f"run {attempt}: {result.stdout[-1500:]}{result.stderr[-1500:]}"
        assert path.stat().st_size > 0
    if option == "--spec-results":
        assert json.loads(path.read_text())["claims"]
