"""What the suite costs over the least a user must spend anyway: ``python -m gpt2spec.overhead``.

The floor is "import TransformerLens, load GPT-2 small, one ``run_with_cache`` on the document's
text", in a fresh process. The documentation run (``--benchmark-disable``) and the default run
(benchmarks on) are timed the same way, all on the CPU and the stand-in, paired round by round
(``gpt2spec/paired.py``) so that a machine that slows down slows all three alike; the medians and
each run's ratio to the floor, with its interval, are printed as Markdown. It measures; nothing
here asserts a time.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
from pathlib import Path

from gpt2spec import paired, timing

FLOOR = (
    "from gpt2spec import document, loading, sources\n"
    "with sources.choose('standin', say=lambda line: None).in_effect():\n"
    "    model = loading.load('cpu')\n"
    "    model.run_with_cache(model.to_tokens(document.TEXT))\n"
)
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--device", "cpu", "--weights", "standin"]
RUNS = {
    "floor: import TransformerLens, load GPT-2 small, one run_with_cache": [sys.executable, "-c", FLOOR],
    "documentation: pytest --benchmark-disable": [*PYTEST, "--benchmark-disable", "specs"],
    "default: pytest (benchmarks on)": [*PYTEST, "specs"],
}


def run_quietly(command: list[str], cwd: Path) -> None:
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gpt2spec.overhead", description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="paired rounds (default 3; 6 or more give a 95%% interval)")
    args = p.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    floor = next(iter(RUNS))
    run_quietly(RUNS[floor], root)  # untimed: builds the stand-in if needed, warms the disk cache
    arms = {name: functools.partial(run_quietly, command, root) for name, command in RUNS.items()}
    times = paired.alternate(arms, args.rounds, warmup=0)
    print(f"| run (CPU, stand-in, {args.rounds} paired rounds) | median s | x floor (interval, pairs) |")
    print("|---|---:|---:|")
    conditions = timing.conditions("cpu")
    for name, values in times.items():
        ratio = paired.ratio(times, name, floor, "over the floor", "", conditions)
        print(f"| {name} | {statistics.median(values):.1f} | {ratio.figure()} |")
    print(timing.conditions_line(conditions))
    print(paired.describe_interval())
    return 0


if __name__ == "__main__":
    sys.exit(main())
