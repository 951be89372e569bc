"""The ``bench`` fixture: pytest-benchmark, device-aware."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from gpt2spec import timing
from gpt2spec.ids import NodeId


@pytest.fixture
def bench(benchmark: Any, device: str, request: pytest.FixtureRequest) -> Callable[[Callable[[], Any]], Any]:
    """``bench(fn)`` times ``fn`` on this test's device and returns its result; ``bench(fn, shared=x)``
    where the session already computed ``x = fn()``; ``bench(fn, rounds=1)`` for work of seconds
    (see timing.measure).

    Grouped by claim (the test id without the device) so CPU and CUDA sit side by side.
    """
    benchmark.group = NodeId.of(request.node.nodeid).claim
    benchmark.extra_info["device"] = device

    def keep() -> None:
        if benchmark.stats is not None:
            request.node.user_properties.append(("median_s", benchmark.stats.stats.median))

    request.addfinalizer(keep)

    return lambda fn, **options: timing.measure(benchmark, device, fn, **options)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    machine_info.update(timing.machine_info())
