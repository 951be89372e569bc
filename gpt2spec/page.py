"""The run as a page that reads like the notebook: ``pytest --spec-report report.html``.

One self-contained HTML file: the document's sections in order, each claim in words with the
value observed beside the document's (or the baseline's), its outcome per device, the pictures the
document draws (the per-token log-probability line, with plotly; the attention patterns of layer 0
head 5 and of layer 5's heads, with circuitsvis), and the benchmark table. Every script is inline:
it opens from disk with no server and no network.
"""

from __future__ import annotations

import html
from itertools import groupby
from pathlib import Path
from typing import Any

from gpt2spec import loading
from gpt2spec.report import Record, Tally, device_table
from gpt2spec.run import next_token_log_probs

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
td, th { border-bottom: 1px solid #eee; padding: .35em .5em; vertical-align: top; text-align: left; }
.passed { color: #186a1c; font-weight: 600; } .failed, .error { color: #b00020; font-weight: 600; }
.skipped { color: #8a6d00; } pre { margin: 0; max-height: 9em; overflow: auto; font-size: .85em; }
.cell { color: #666; white-space: nowrap; } .why { color: #8a6d00; font-size: .85em; }
.figure { margin: 1em 0 2em; }
"""


def missing_packages() -> list[str]:
    """The page draws with plotly and circuitsvis, the document's own tools (the 'report' extra)."""
    import importlib.util

    return [name for name in ("plotly", "circuitsvis") if importlib.util.find_spec(name) is None]


def _text(data: Any, limit: int = 600) -> str:
    text = "" if data is None else str(data)
    return text if len(text) <= limit else text[:limit] + "\n..."


def _claim_rows(records: list[Record]) -> str:
    by_claim: dict[str, list[Record]] = {}  # CPU and CUDA runs of a claim are far apart in run order
    for r in records:
        by_claim.setdefault(r.claim, []).append(r)
    rows = []
    for claim, runs in by_claim.items():
        first = runs[0]
        outcomes = "<br>".join(
            f'<span class="{r.outcome}">{html.escape(r.device or "-")}: {html.escape(r.outcome)}</span>'
            + (f'<div class="why">{html.escape(r.reason)}</div>' if r.reason else "")
            for r in runs
        )
        seen = next((r.comparisons for r in runs if r.comparisons), [])
        values = "".join(
            f"<div>{'document' if c['kind'] == 'document' else 'baseline'}: <pre>{html.escape(_text(c['expected']))}</pre>"
            f"observed: <pre>{html.escape(_text(c['observed']))}</pre></div>"
            for c in seen
        )
        medians = "<br>".join(f"{r.device}: {r.median_s * 1e3:.3f} ms" for r in runs if r.median_s is not None)
        name = claim.split("::", 1)[-1]
        cell = f"In [{first.cell}]" if first.cell is not None else "beyond"
        rows.append(
            f"<tr><td class='cell'>{cell}</td><td><b>{html.escape(name)}</b><br>{html.escape(first.words)}</td>"
            f"<td>{outcomes}</td><td>{values}</td><td>{medians}</td></tr>"
        )
    return "<table><tr><th>cell</th><th>claim</th><th>outcome</th><th>value</th><th>median</th></tr>" + "".join(rows) + "</table>"


def log_prob_figure(run: Any) -> str:
    """In [28]: px.line(token_log_probs, hover_name=str_tokens[1:])."""
    import plotly.express as px

    log_probs = next_token_log_probs(run.logits, run.tokens)
    fig = px.line(
        y=log_probs.cpu().numpy(),
        hover_name=run.str_tokens[1:],
        labels={"x": "position", "y": "log-probability of the next token"},
        title="In [28]: the log-probability of each actual next token (hover for the token)",
    )
    return fig.to_html(full_html=False, include_plotlyjs=True, div_id="log-prob-line")


def attention_figures(run: Any) -> str:
    """In [39] and In [45]: layer 0 head 5, and layer 5's heads named L5H0..L5H11."""
    import circuitsvis as cv

    layer0 = cv.attention.attention_pattern(attention=run.cache["pattern", 0].squeeze()[5].cpu(), tokens=run.str_tokens)
    layer5 = cv.attention.attention_heads(
        attention=run.cache["pattern", 5, "attn"].squeeze().cpu(),
        tokens=run.str_tokens,
        attention_head_names=[f"L5H{i}" for i in range(12)],
    )
    return (
        "<h3>Layer 0, head 5</h3><div id='attention-layer-0'>" + layer0.local_src + "</div>"
        "<h3>Layer 5, heads L5H0..L5H11</h3><div id='attention-layer-5'>" + layer5.local_src + "</div>"
    )


FIGURES = {"specs/test_05_output.py": log_prob_figure, "specs/test_08_attention.py": attention_figures}


def write(path: Path, tally: Tally) -> None:
    records = [r for r in tally.records.values() if r.outcome != "not run"]
    run = tally.runs.get("cpu") or next(iter(tally.runs.values()), None)
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>GPT-2 small: an executable specification</title>",
             f"<style>{CSS}</style></head><body>",
             "<h1>An introduction to mechanistic interpretability on GPT-2 small, checked</h1>"]
    versions = ", ".join(f"{k} {v}" for k, v in loading.versions().items())
    parts.append(f"<p>{html.escape(versions)}</p>")
    for device, found in tally.weights.items():
        parts.append(f"<p>Weights on {html.escape(device)}: <b>{html.escape(found.verdict)}</b>; from {html.escape(found.source)}</p>")
    for module, group in groupby(sorted(records, key=lambda r: r.module), key=lambda r: r.module):
        group = list(group)
        parts.append(f"<h2 id='{html.escape(Path(module).stem)}'>{html.escape(group[0].section)}</h2>")
        parts.append(_claim_rows(group))
        if run is not None and module in FIGURES:
            parts.append(f"<div class='figure'>{FIGURES[module](run)}</div>")
    medians = tally.medians()
    if medians:
        parts.append("<h2>CPU vs CUDA</h2><pre>" + html.escape("\n".join(device_table(medians))) + "</pre>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
