"""What the suite costs over the least a user must spend anyway: ``python -m gpt2spec.overhead``.

The floor is "import TransformerLens, load GPT-2 small, one ``run_with_cache`` on the document's
text", in a fresh process. The documentation run (``--benchmark-disable``) and the default run
(benchmarks on) are timed the same way, all on the CPU and the stand-in, interleaved round by
round so that a machine that slows down slows all three alike; the medians and their ratios are
printed as Markdown. It measures; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

FLOOR = (
    "from gpt2spec import document, loading, weights\n"
    "with weights.choose('standin', say=lambda line: None).in_effect():\n"
    "    model = loading.load('cpu')\n"
    "    model.run_with_cache(model.to_tokens(document.TEXT))\n"
)
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--device", "cpu", "--weights", "standin"]
RUNS = {
    "floor: import TransformerLens, load GPT-2 small, one run_with_cache": [sys.executable, "-c", FLOOR],
    "documentation: pytest --benchmark-disable": [*PYTEST, "--benchmark-disable", "specs"],
    "default: pytest (benchmarks on)": [*PYTEST, "specs"],
}


def wall(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gpt2spec.overhead", description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    args = p.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    wall(RUNS[next(iter(RUNS))], root)  # untimed: builds the stand-in if needed, warms the disk cache
    times: dict[str, list[float]] = {name: [] for name in RUNS}
    for _ in range(args.rounds):
        for name, command in RUNS.items():
            times[name].append(wall(command, root))
    floor = statistics.median(next(iter(times.values())))
    print(f"| run (CPU, stand-in, {args.rounds} interleaved rounds) | median s | x floor |")
    print("|---|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {median / floor:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
