"""Speed and memory across versions, paired: two environments (two TransformerLens, say), one
long-lived worker process each, alternated round by round on the same tokens.

    nox -s versus -- tl-3.9 tl-4.3           # two sessions' environments (made by nox -s tl-3.9 tl-4.3)
    python -m gpt2spec.radar.versus A B [--rounds N] [--long 1024] [-o FILE]

A and B: a nox session's name (its environment under .nox/), a virtual environment's folder, or a
Python interpreter, each with this project installed. Each worker (``python -m gpt2spec.radar.versus
worker``, started with that environment's Python, one JSON line a request and an answer on its
stdin and stdout) loads GPT-2 small once, as the specs do on the stand-in (``--weights standin``:
``sources.choose``, ``loading.load``), on the CPU. The driver alternates the two round by round
after warm-up (``paired.alternate``: A B, B A, ...) on the same tokens (the document's 45, which
both sides must tokenize alike, and those repeated to a longer input as the scaling grid does), for
``forward`` and ``run_with_cache``. Each call is timed inside its worker, so the pipe is not; then,
in rounds of their own, untimed calls give the peak memory each adds (``memory.peak_memory``: the
kernel's high-water mark). Each is B over A, per pair, with ``paired.ratio``'s distribution-free
interval. Beside them, each side's load time and peak resident memory after loading, once each.

A change counts as a regression only when the whole interval lies above ``FACTOR``, an
improvement only when it lies wholly below 1/FACTOR (``verdict``); the rest is within the noise
this can resolve. The results (``FORMAT``, read back by ``read``) go to ``python -m gpt2spec.radar.compat``
(COMPATIBILITY.md's "Speed and memory across versions") and ``python -m gpt2spec.radar.changes --cost``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from gpt2spec import paired

FORMAT = 1  # of a versus results file: bump when its fields change (read() refuses newer ones)
# asv's default for `asv compare` (its --factor, 1.1): "the factor above or below which a result is
# considered problematic". Below it a change is within what a benchmark run is taken to resolve.
FACTOR = 1.1
WORK = ("forward", "run_with_cache")
ROUNDS, MEMORY_ROUNDS, WARMUP = 20, 6, 1  # 20 pairs: a 95% interval from the 6th and 15th ratios; 6: the range
LONG = 1024  # GPT-2's n_ctx, the scaling grid's longest input (gpt2spec.scaling.grid.SEQS)
NOX_ENVS = Path(".nox")
OUT = NOX_ENVS / "results" / "versus"


class Stopped(RuntimeError):
    """A side could not be started or stopped answering: its message is one line that says why."""


# -- the worker: one environment's side ---------------------------------------------------------


def worker() -> int:
    """Load GPT-2 small (the stand-in) once, say what runs, then ``serve`` requests until ``quit``."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # what TransformerLens and the rest print goes to stderr, not into the answers

    def send(answer: dict) -> None:
        protocol.write(json.dumps(answer) + "\n")

    try:
        from gpt2spec import loading, sources

        choice = sources.choose("standin", say=lambda line: print(line, file=sys.stderr))
        with choice.in_effect():
            start = time.perf_counter()
            model = loading.load("cpu")
            load_s = time.perf_counter() - start
        send(ready(model, load_s))
    except Exception as error:  # noqa: BLE001 - whatever stops the load is said in one line
        send({"error": (str(error).strip().splitlines() or [type(error).__name__])[0]})
        return 2
    serve(model, sys.stdin, send)
    return 0


def ready(model: Any, load_s: float) -> dict:
    """A worker's first answer: what it runs, where, how long the load took, its peak memory since."""
    from gpt2spec import document, provenance, timing
    from gpt2spec.scaling import memory

    return {
        "environment": provenance.environment(), "conditions": timing.conditions("cpu"),
        "load_s": load_s, "peak_after_load_bytes": memory.high_water_mark(), "tokens": model.to_tokens(document.TEXT)[0].tolist(),
    }  # fmt: skip


def serve(model: Any, lines: Iterable[str], send: Callable[[dict], None]) -> None:
    """Answer each request line until ``quit``: ``{"op": "call", "work": "forward", "tokens": [...]}``
    with its seconds, ``{"op": "peak", ...}`` with the peak memory the call added (``memory.peak_memory``)."""
    import torch

    from gpt2spec import timing
    from gpt2spec.scaling import memory

    for line in lines:
        request = json.loads(line)
        if request["op"] == "quit":
            return
        ids = torch.tensor([request["tokens"]])
        call = {"forward": lambda: model(ids), "run_with_cache": lambda: model.run_with_cache(ids)}[request["work"]]
        if request["op"] == "call":
            out, seconds = timing.timed("cpu", call)
            del out  # freed before answering: the next call starts from the same heap
            send({"seconds": seconds})
        else:
            with memory.peak_memory("cpu") as seen:
                call()  # its result dropped within the block: its memory counts
            send(seen)


# -- the driver ---------------------------------------------------------------------------------


def interpreter(env: str) -> Path:
    """The Python of ``env``: an interpreter, a virtual environment's folder, or a nox session's name
    (its folder under .nox/, named as nox names it: other characters than letters, digits and - become -)."""
    for candidate in (Path(env), Path(env) / "bin" / "python", NOX_ENVS / re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "-", env).strip().lower()).strip("-") / "bin" / "python"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise Stopped(
        f"{env} is not a Python, a virtual environment or a nox session's environment here: "
        f"make it with nox -s {env} (or give a venv folder or a python)"
    )


class Worker:
    """One side: ``python -m gpt2spec.radar.versus worker`` under an environment's Python (``command``)."""

    def __init__(self, label: str, command: list[str], threads: int):
        self.label = label
        name = re.sub(r"[^\w.-]", "-", label)
        self.log = tempfile.NamedTemporaryFile("w+", prefix=f"versus-{name}-", suffix=".log", delete=False)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        self.failed = False  # its output is kept (and named) where it failed
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        try:
            self.ready = self.answer("loading GPT-2 small")
        except Stopped:
            self.close()  # not yet among the sides run() stops
            raise
        self.peak_bytes = self.ready["peak_after_load_bytes"]  # the process's peak so far; calls may raise it

    def answer(self, doing: str) -> dict:
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            self.log.seek(0)
            said = [x for x in self.log.read().splitlines() if x.strip()]
            self.failed = True
            raise Stopped(f"{self.label} stopped while {doing}: {said[-1] if said else 'no message'} (its output: {self.log.name})")
        found = json.loads(line)
        if "error" in found:
            self.failed = True
            raise Stopped(f"{self.label} could not start: {found['error']} (its output: {self.log.name})")
        return found

    def ask(self, op: str, work: str, tokens: list[int]) -> dict:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({"op": op, "work": work, "tokens": tokens}) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # it has stopped: answer() says so, with its last words
        found = self.answer(f"{op} {work} on {len(tokens)} tokens")
        if found.get("peak_bytes"):
            self.peak_bytes = max(self.peak_bytes or 0, found["peak_bytes"])
        return found

    def close(self) -> None:
        assert self.process.stdin is not None
        try:
            if self.process.poll() is None:
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.close()  # closed even where it has stopped: nothing left to flush at exit
            self.process.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
        self.log.close()
        if not self.failed:
            os.unlink(self.log.name)


def verdict(ratio: dict[str, Any] | None, factor: float = FACTOR) -> str:
    """What a paired ratio (B over A, as ``paired.Ratio.as_dict`` stores it) says at ``factor``."""
    if ratio is None:
        return "not measured"
    if ratio["interval"] == "range":
        return "too few pairs for an interval"
    if ratio["low"] > factor:
        return "regression"
    if ratio["high"] < 1 / factor:
        return "improvement"
    return "within"


def compare(a: Worker, b: Worker, long: int, rounds: int, memory_rounds: int, warmup: int, say: Any = print) -> list[dict]:
    """Each work on each input, alternated: B over A in time and in the peak memory a call adds."""
    import torch

    from gpt2spec.scaling import grid

    if a.ready["tokens"] != b.ready["tokens"]:
        raise Stopped(f"{a.label} and {b.label} tokenize the document differently ({len(a.ready['tokens'])} and {len(b.ready['tokens'])} tokens): no common input")
    document = a.ready["tokens"]
    inputs = {len(document): document}
    if long:
        inputs[long] = grid.same_tokens(torch.tensor([document]), 1, long)[0].tolist()
    conditions = {"device_name": a.ready["conditions"]["device_name"], "threads": a.ready["conditions"]["threads"]}
    rows = []
    for n, tokens in inputs.items():
        for work in WORK:
            label = f"{work}, {n} tokens"

            def arm(side: Worker, op: str, key: str, got: list) -> Any:
                def call() -> float:
                    got.append(side.ask(op, work, tokens)[key])
                    return got[-1]

                return call

            seconds: dict[str, list] = {"A": [], "B": []}
            times = paired.alternate({"A": arm(a, "call", "seconds", seconds["A"]), "B": arm(b, "call", "seconds", seconds["B"])},
                                     rounds=rounds, warmup=warmup, clock=lambda fn: fn())  # fmt: skip
            time_ratio = paired.ratio(times, "B", "A", f"{b.label} over {a.label}", label, conditions)
            added: dict[str, list] = {"A": [], "B": []}
            peaks = paired.alternate({"A": arm(a, "peak", "added_bytes", added["A"]), "B": arm(b, "peak", "added_bytes", added["B"])},
                                     rounds=memory_rounds, warmup=0, clock=lambda fn: fn())  # fmt: skip
            measured = memory_rounds and all(x and x > 0 for side in peaks.values() for x in side)  # None: no /proc here
            memory_ratio = paired.ratio(peaks, "B", "A", f"{b.label} over {a.label}", label, conditions).as_dict() if measured else None
            row = {
                "work": work, "tokens": n, "time": time_ratio.as_dict(), "memory": memory_ratio,
                "median_s": {"A": statistics.median(times["A"]), "B": statistics.median(times["B"])},
                "median_added_bytes": {"A": statistics.median(peaks["A"]), "B": statistics.median(peaks["B"])} if measured else None,
            }  # fmt: skip
            say(line(row))
            rows.append(row)
    return rows


def mib(n: float | None) -> str:
    return "-" if n is None else f"{n / 2**20:,.0f} MiB"


def ratio_text(r: dict | None) -> str:
    """A stored ratio (``paired.Ratio.as_dict``) as written everywhere, or "-" where none was measured."""
    return "-" if r is None else paired.Ratio(**r).figure()


def line(row: dict, factor: float = FACTOR) -> str:
    """One row in the terminal: time and memory, B over A, with what each says at ``factor``."""
    t, m = row["time"], row["memory"]
    return (
        f"  {t['label']:<28} time {ratio_text(t)}: {verdict(t, factor)} at {factor}; "
        f"memory added {ratio_text(m)}: {verdict(m, factor)}"
    )


def side(w: Worker) -> dict:
    env = w.ready["environment"]
    return {
        "label": w.label, "versions": {k: env[k] for k in ("transformer_lens", "torch", "transformers", "numpy", "python") if k in env},
        "untested": env.get("untested"), "load_s": w.ready["load_s"], "peak_after_load_bytes": w.ready["peak_after_load_bytes"], "peak_bytes": w.peak_bytes,
    }  # fmt: skip


def worker_command(env: str) -> list[str]:
    return [str(interpreter(env)), "-m", "gpt2spec.radar.versus", "worker"]


def run(a_env: str, b_env: str, long: int = LONG, rounds: int = ROUNDS, memory_rounds: int = MEMORY_ROUNDS, warmup: int = WARMUP,
        threads: int = 1, start: Callable[[str], list[str]] = worker_command, say: Any = print) -> dict:  # fmt: skip
    """Start both sides (``start``: the command of each), compare them, stop them; the results, as a
    versus results file holds them."""
    workers: list[Worker] = []
    try:
        for env in (a_env, b_env):
            cmd = start(env)
            say(f"versus: starting {env} ({cmd[0]}): loading GPT-2 small (the stand-in)")
            workers.append(Worker(env, cmd, threads))
        a, b = workers
        for w in workers:
            if w.ready["environment"].get("untested"):
                say(f"versus: WARNING: {w.label}: {w.ready['environment']['untested']}")
        say(f"versus: {b.label} (TL {b.ready['environment']['transformer_lens']}) over {a.label} (TL {a.ready['environment']['transformer_lens']}), paired round by round")
        rows = compare(a, b, long, rounds, memory_rounds, warmup, say)
        return {
            "format": FORMAT, "kind": "versus", "date": datetime.date.today().isoformat(), "factor": FACTOR,
            "conditions": {
                **{k: a.ready["conditions"][k] for k in ("device_name", "threads")},
                "rounds": f"{rounds} timed pairs after {warmup} warm-up round(s); {memory_rounds} pairs of untimed calls for memory",
                "platform": a.ready["environment"].get("platform", ""),
            },
            "sides": {"A": side(a), "B": side(b)}, "rows": rows,
        }  # fmt: skip
    finally:
        for w in workers:
            w.close()


def summary(found: dict) -> list[str]:
    """Each side's load and peak memory, and the conditions, as printed under the rows."""
    lines = [
        f"  load (once each): {s['label']} {s['load_s']:.1f} s, peak resident after loading {mib(s['peak_after_load_bytes'])}, over the run {mib(s['peak_bytes'])}"
        for s in found["sides"].values()
    ]
    c = found["conditions"]
    return lines + [f"  conditions: {c['device_name']}; {c['threads']}; {c['rounds']}; {found['date']}"]


def read(path: Path) -> dict:
    """A versus results file, or a one-line reason why not."""
    from gpt2spec import paths

    found = paths.read_json(path, "a versus results file, written by python -m gpt2spec.radar.versus")
    if not isinstance(found, dict) or found.get("kind") != "versus":
        raise ValueError(f"{path} is not a versus results file: give one written by python -m gpt2spec.radar.versus")
    if found.get("format", 1) > FORMAT:
        raise ValueError(f"{path} is versus format {found['format']}, newer than this gpt2spec reads ({FORMAT}): update gpt2spec")
    return found


def regressions(found: dict) -> list[str]:
    """The rows whose time or memory, B over A, lies wholly beyond the file's factor."""
    factor = found.get("factor", FACTOR)
    return [f"{what} of {r['time']['label']}" for r in found["rows"] for what, key in (("time", "time"), ("memory added", "memory")) if verdict(r[key], factor) == "regression"]


def default_output(found: dict) -> Path:
    tl = [found["sides"][s]["versions"]["transformer_lens"] for s in "AB"]
    return OUT / f"tl-{tl[0]}-vs-{tl[1]}.json"


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["worker"]:
        return worker()
    p = argparse.ArgumentParser(prog="python -m gpt2spec.radar.versus", description=__doc__.split("\n\n")[0])
    p.add_argument("a", help="the baseline: a nox session (tl-3.9), a venv folder or a python")
    p.add_argument("b", help="the one compared with it, as A")
    p.add_argument("--rounds", type=int, default=ROUNDS, help=f"timed pairs a work and input (default {ROUNDS}; 6 or more give an interval)")
    p.add_argument("--memory-rounds", type=int, default=MEMORY_ROUNDS, help=f"pairs of untimed calls for memory (default {MEMORY_ROUNDS})")
    p.add_argument("--long", type=int, default=LONG, help=f"the longer input's tokens (default {LONG}; 0: the document's 45 only)")
    p.add_argument("--threads", type=int, default=1, help="torch threads of each worker (default 1: the sides run one at a time)")
    p.add_argument("-o", "--output", type=Path, help=f"default {OUT}/tl-A-vs-B.json")
    args = p.parse_args(argv)
    if args.rounds < 1 or not 0 <= args.long <= 1024:
        p.error("--rounds must be 1 or more and --long from 1 to 1024 (GPT-2's context), or 0")
    try:
        found = run(args.a, args.b, args.long, args.rounds, args.memory_rounds, WARMUP, args.threads)
    except Stopped as error:
        print(f"versus: {error}", file=sys.stderr)
        return 2
    found["command"] = shlex.join(["python", "-m", "gpt2spec.radar.versus", *argv])
    print("\n".join(summary(found)))
    out = args.output or default_output(found)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(found, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
