"""The scaling benchmark as a person reads it: the terminal table, its notes, the page's log-log plot."""

from __future__ import annotations

import html

from gpt2spec import paired, timing
from gpt2spec.page.sections import Section
from gpt2spec.scaling import grid
from gpt2spec.scaling.points import Point, Scaling

TITLE = "Scaling: GPT-2 small forward, median of each point"  # the terminal's section


def _mib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:.0f}"


def _ratio(point: Point) -> str:
    r = point.over_reference
    return "1.00x" if point.implementation == grid.REFERENCE else "-" if r is None else f"{r['median']:.2f}x ({r['low']:.2f}-{r['high']:.2f})"


def table_lines(points: list[Point]) -> list[str]:
    head = (f"{'device':<6} {'dtype':<8} {'implementation':<38} {'batch x seq':>11} {'ms':>9} {'tokens/s':>9} {'+MiB':>7} "
            f"{'x HF eager (95% CI)':>20} {'TFLOP/s':>8} {'of peak':>7}")  # fmt: skip
    lines = [head]
    order = sorted(points, key=lambda p: (p.device, grid.DTYPES.index(p.dtype), p.batch * p.seq, p.batch, list(grid.IMPLEMENTATIONS).index(p.implementation)))
    for p in order:
        share = f"{p.flop_s / p.peak_flop_s:.1%}" if p.peak_flop_s else "-"
        lines.append(
            f"{p.device:<6} {p.dtype:<8} {grid.IMPLEMENTATIONS[p.implementation]:<38} {f'{p.batch} x {p.seq}':>11} "
            f"{p.median_s * 1e3:>9.2f} {p.tokens_per_s:>9.0f} {_mib(p.added_bytes):>7} "
            f"{_ratio(p):>20} {p.flop_s / 1e12:>8.3f} {share:>7}"
        )
    return lines


def notes(points: list[Point], peak_sources: dict[str, str]) -> list[str]:
    lines = [
        f"ms: median of each implementation's own rounds ({grid.ROUNDS} or more, paired, after one warm-up; CUDA: each call ends with "
        "torch.cuda.synchronize); tokens/s: batch x seq / median; +MiB: peak memory one more call added over what was resident "
        "(CUDA: torch.cuda.max_memory_allocated; CPU: the kernel's high-water mark VmHWM, reset through /proc/self/clear_refs)",
        "x HF eager: " + paired.describe_interval().removeprefix("ratios: "),
        "TFLOP/s: forward FLOPs (Kaplan et al. 2020, Table 1, attention counted for q.k and pattern.v) / median",
    ]
    lines.extend({timing.conditions_line({k: v for k, v in p.conditions.items() if k not in ("dtype", "attention")}): None for p in points})
    loads = {(p.device, p.dtype, grid.MODELS[p.implementation]): p.load_s for p in points if p.load_s is not None}
    if loads:
        lines.append("load (not in the medians): " + ", ".join(f"{m} on {d} in {t} {s:.1f} s" for (d, t, m), s in sorted(loads.items())))
    for device in sorted({p.device for p in points}):
        lines.append(f"peak of {device}: " + peak_sources.get(device, "not known (no published peak grounded for this device)"))
    return lines


def figures(points: list[Point]) -> dict[str, str]:
    """A log-log plot per device: median latency against tokens a call, a line per implementation, dtype and batch."""
    import plotly.graph_objects as go

    out: dict[str, str] = {}
    for device in sorted({p.device for p in points}):
        fig = go.Figure()
        lines: dict[tuple[str, str, int], list[Point]] = {}
        for p in sorted((p for p in points if p.device == device), key=lambda p: p.seq):
            lines.setdefault((p.implementation, p.dtype, p.batch), []).append(p)
        for (implementation, dtype, batch), line in sorted(lines.items(), key=lambda kv: (grid.DTYPES.index(kv[0][1]), kv[0][2], kv[0][0])):
            fig.add_trace(go.Scatter(
                x=[p.tokens for p in line], y=[p.median_s * 1e3 for p in line], mode="lines+markers",
                name=f"{grid.IMPLEMENTATIONS[implementation]}, {dtype}, batch {batch}",
                text=[f"{p.batch} x {p.seq}: {p.tokens_per_s:,.0f} tokens/s, {_mib(p.added_bytes)} MiB added, {_ratio(p)} HF eager" for p in line],
                hovertemplate="%{text}<br>%{y:.2f} ms<extra></extra>",
            ))  # fmt: skip
        fig.update_layout(
            xaxis={"type": "log", "title": "tokens a call (batch x sequence length)"},
            yaxis={"type": "log", "title": "median latency (ms)"},
            height=520, margin={"t": 30},
        )
        title = f"Scaling on {html.escape(device)}: GPT-2 small forward latency against tokens (log-log)"
        out[title] = fig.to_html(full_html=False, include_plotlyjs=False)
    return out


def terminal_lines(found: Scaling) -> list[str]:
    """The terminal's section: the table, its notes, and the points left out; none where nothing was measured or left out."""
    if not found.points and not found.skipped:
        return []
    return table_lines(found.points) + notes(found.points, found.peak_sources) + [f"skipped {len(which)} points: {reason}" for reason, which in found.skipped.items()]


def page_sections(found: Scaling) -> list[Section]:
    """The page's section: the table with its notes, and a log-log plot per device."""
    if not found.points:
        return []
    lines = table_lines(found.points) + notes(found.points, found.peak_sources)
    return [Section("scaling", "Scaling: GPT-2 small forward against tokens a call", pre=lines, figures=figures(found.points))]
