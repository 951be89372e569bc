"""A test's id, read in one place (as syrupy's ``location.py`` reads its test's): its file, its
function, its parameters, its device; and the label of the document's cell a claim prints.

``specs/test_07_mlp.py::test_mlp_by_hand[cpu-layer 0]`` is the file ``specs/test_07_mlp.py``, the
function ``test_mlp_by_hand``, the parameters ``layer 0`` and the device ``cpu``. Without its device
it is the claim (``claim``): the same on CPU and CUDA, and the name of its snapshot (``name``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SPECS = "specs/"  # the claims' folder: their ids start with it, the tables show them without it
_DEVICE = re.compile(r"(?<=[\[-])(cpu|cuda)(?=[-\]])")  # a device among the parameters


def without_device(name: str) -> str:
    """``test_x[cuda-layer 0]`` -> ``test_x[layer 0]``; ``test_x[cpu]`` -> ``test_x``."""
    name = re.sub(r"\[(?:cpu|cuda)\]", "", name)
    name = re.sub(r"\[(?:cpu|cuda)-", "[", name)
    return re.sub(r"-(?:cpu|cuda)(?=[-\]])", "", name)


@dataclass(frozen=True)
class NodeId:
    file: str  # "specs/test_07_mlp.py"
    function: str  # "test_mlp_by_hand"
    params: str  # the parameters without the device ("layer 0"), or ""
    device: str  # "cpu", "cuda", or "" for a test not run per device

    @classmethod
    def of(cls, nodeid: str) -> NodeId:
        file, _, rest = nodeid.partition("::")
        function, bracket, params = rest.partition("[")
        found = _DEVICE.search(bracket + params)
        return cls(file, function, without_device(f"x[{params}")[2:-1] if bracket else "", found.group(1) if found else "")

    @property
    def name(self) -> str:
        """Its function and parameters, without the device: its snapshot's name."""
        return f"{self.function}[{self.params}]" if self.params else self.function

    @property
    def claim(self) -> str:
        """The id without its device: one name for the same claim on CPU and CUDA."""
        return f"{self.file}::{self.name}"

    @property
    def group(self) -> str:
        """The id without its parameters: every parametrization of one claim (one table on the page)."""
        return f"{self.file}::{self.function}"

    @property
    def brief(self) -> str:
        """Its name without ``test_``, as the faults table lists it."""
        return self.name.removeprefix("test_")


def in_specs(nodeid: str) -> bool:
    return nodeid.startswith(SPECS)


def relative(claim: str) -> str:
    """A claim's id as the radar's tables show it: relative to ``specs/``."""
    return claim.removeprefix(SPECS)


def cell_label(cell: int | None) -> str:
    """Where a claim is: the document's cell that prints it ("In [16]"), or "beyond" the document."""
    return f"In [{cell}]" if cell is not None else "beyond"
