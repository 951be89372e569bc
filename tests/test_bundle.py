"""The GPU bundle's inputs to pip, offline: the image's package list is data, and a stand-in wheel is what pip takes as installed."""

import json
import subprocess
import sys

from gpt2spec import bundle


def test_the_image_list_is_data_with_the_versions_read_there():
    there = bundle.image()
    assert (there["torch"], there["transformers"], there["pandas"]) == ("2.11.0", "5.17.0", None)
    assert not {"transformer-lens", "datasets", "dill", "multiprocess", "fancy-einsum", "syrupy"} & set(there)  # what it lacks


def test_pip_resolves_against_a_stand_in_wheel(tmp_path):
    """pip's own resolver, offline, takes the stand-in for the installed package, and needs nothing it does not declare."""
    bundle.stand_in_wheel(tmp_path, "torch", "2.11.0+gpuimage")
    report = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-index", "--find-links", str(tmp_path),
         "--report", "-", "-q", "torch==2.11.0+gpuimage"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    installed = [(item["metadata"]["name"], item["metadata"]["version"]) for item in json.loads(report.stdout)["install"]]
    assert installed == [("torch", "2.11.0+gpuimage")]
