"""The GPU bundle's inputs to pip, offline: the target's packages come from a file made there (pip freeze
or pip list --format=json), and a stand-in wheel is what pip takes as installed."""

import json
import subprocess
import sys

import pytest

from gpt2spec import bundle


def test_the_example_packages_file_reads_with_the_versions_it_gives():
    there = bundle.packages(bundle.EXAMPLE)
    assert (there["torch"], there["transformers"], there["pandas"]) == ("2.11.0", "5.17.0", None)
    assert not {"transformer-lens", "datasets", "dill", "multiprocess", "fancy-einsum", "syrupy"} & set(there)  # what it lacks


def test_pip_freeze_and_pip_list_json_read_alike(tmp_path):
    freeze = tmp_path / "freeze.txt"
    freeze.write_text("# pip freeze\nTorch==2.11.0\ntyping_extensions==4.15.0\nmylib @ file:///src/mylib\n-e git+https://example.org/x.git#egg=x\n")
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"name": "torch", "version": "2.11.0"}, {"name": "typing_extensions", "version": "4.15.0"}, {"name": "mylib", "version": ""}]))
    assert bundle.packages(freeze) == bundle.packages(listed) == {"torch": "2.11.0", "typing-extensions": "4.15.0", "mylib": None}


@pytest.mark.parametrize("text", ["not a package list at all", "[{\"no\": \"name\"}]"], ids=["text", "json"])
def test_a_file_that_is_not_a_package_list_is_one_line_and_nothing_is_made(text, tmp_path, capsys):
    bad = tmp_path / "packages.txt"
    bad.write_text(text)
    assert bundle.main([str(tmp_path / "out"), "--packages", str(bad)]) == 2
    said = capsys.readouterr().err.strip()
    assert len(said.splitlines()) == 1 and "pip freeze" in said and "Traceback" not in said
    assert not (tmp_path / "out").exists()


def test_pip_resolves_against_a_stand_in_wheel(tmp_path):
    """pip's own resolver, offline, takes the stand-in for the installed package, and needs nothing it does not declare."""
    bundle.stand_in_wheel(tmp_path, "torch", f"2.11.0+{bundle.THERE}")
    report = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-index", "--find-links", str(tmp_path),
         "--report", "-", "-q", f"torch==2.11.0+{bundle.THERE}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    installed = [(item["metadata"]["name"], item["metadata"]["version"]) for item in json.loads(report.stdout)["install"]]
    assert installed == [("torch", f"2.11.0+{bundle.THERE}")]
