"""The numeric snapshot format: tolerances grounded in printed precision and fp32 noise."""


import pytest

from gpt2spec import standin
from gpt2spec.compare import NOISE_ABS, numbers_match, tolerance, within
from gpt2spec.ids import NodeId, without_device

from .conftest import run_here, snapshots_copy


@pytest.mark.parametrize(
    ("value", "printed", "holds"),
    [
        (0.05174, "0.0517", True),  # rounds to what the document printed
        (0.05179, "0.0517", True),  # half a unit in the last digit plus fp32 noise
        (0.0519, "0.0517", False),  # two units off: a different number
        (6.6198e-04 * (1 + 5e-5), "6.6198e-04", True),  # relative, for scientific notation
        (6.7e-04, "6.6198e-04", False),
        (326, "326", True),
        (327, "326", False),  # integers (ids, shapes) are exact
    ],
)
def test_tolerance_is_read_off_the_printed_number(value, printed, holds):
    assert within(value, printed) is holds


def test_noise_is_below_the_suspicious_level():
    """TransformerLens's guide: under 5e-5 is noise, 1e-4 or more is suspicious."""
    assert tolerance("0.123456") == pytest.approx(0.5e-6 + NOISE_ABS + 1e-5 * 0.123456)
    assert tolerance("0.123456") < 1e-4


def test_structure_must_match_exactly():
    assert numbers_match("list([\n  0.051712,\n])", "list([\n  0.0517,\n])")
    assert not numbers_match("list([\n  0.051712,\n  1,\n])", "list([\n  0.0517,\n])")
    assert not numbers_match("'a that'", "' that'")


def test_one_entry_serves_cpu_and_cuda():
    assert without_device("test_x[cuda-layer 0]") == without_device("test_x[cpu-layer 0]") == "test_x[layer 0]"
    assert without_device("test_x[cpu]") == "test_x"


def test_a_test_id_is_read_in_one_place():
    """File, function, parameters and device; the claim and the snapshot's name are the id without its device."""
    found = NodeId.of("specs/test_07_mlp.py::test_mlp[cuda-layer 0]")
    assert (found.file, found.function, found.params, found.device) == ("specs/test_07_mlp.py", "test_mlp", "layer 0", "cuda")
    assert found.claim == "specs/test_07_mlp.py::test_mlp[layer 0]" == without_device(found.file + "::test_mlp[cuda-layer 0]")
    assert (found.name, found.group, found.brief) == ("test_mlp[layer 0]", "specs/test_07_mlp.py::test_mlp", "mlp[layer 0]")
    assert NodeId.of("specs/a.py::test_b[cpu]").name == "test_b" and NodeId.of("tests/a.py::test_c").device == ""


def test_a_corrupt_snapshot_fails_with_one_clear_line(standin_home, tmp_path, fault_models):
    """A hand-broken snapshot file: the spec fails saying which file and how to restore it."""
    copy = snapshots_copy(tmp_path / "repo")
    target = copy / "snapshots" / standin.name() / "test_05_output.ambr"
    target.write_text("this is not an amber file\n# name: \n")
    before = target.read_bytes()
    out = run_here(
        "--rootdir", str(copy), "--device", "cpu", "specs/test_05_output.py", "-k", "actual_next_tokens",
        hf_home=standin_home, models=fault_models,
    )  # fmt: skip
    assert out.returncode == 1
    assert "cannot be read" in out.stdout and "git checkout --" in out.stdout
    assert target.read_bytes() == before, "nothing is overwritten"
