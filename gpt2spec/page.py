"""The run as the notebook, re-executed: ``pytest --spec-report report.html``.

One self-contained HTML page. A summary first (whose weights, versions, counts, run time, and each
skip reason shared by many claims, said once), then the document's sections in order and, in each,
its cells in the document's order: for each claim, the code the spec evaluates, the value the
document printed (or the recorded baseline), the value observed, and a verdict per device. A
parametrized claim is one table. Where a number differs, it is marked with its distance. The
document's pictures sit at their cells: In [28] (plotly), In [39] and In [45] (circuitsvis).

Every script is inline and each library is inlined once, gzip-compressed (plotly.js alone is
4.8 MB); the page unpacks them with the browser's DecompressionStream, so it opens from disk,
offline, with no server. A last script writes each figure's drawn size into ``data-drawn``, which
``tests/test_page.py`` reads from headless Chromium.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from gpt2spec import loading
from gpt2spec.report import Record, Tally, benchmark_lines
from gpt2spec.run import next_token_log_probs
from gpt2spec.snapshot import DOCUMENT, NUMBER, tolerance, within, without_device

# The document's cells in the order it shows them (execution counts are not in order: In [29]
# comes before In [21], and In [28] after In [30]).
CELL_ORDER = (1, 2, 3, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 29, 21, 24, 30, 28, 31, 32, 34, 35, 37, 38, 39, 45)
DEFERRED = "text/x-after-libraries"  # inline scripts that need a library run once it is unpacked
LIBRARY = "application/x-gzip-base64"
LONG = 60  # characters: an observed value this long and equal to the expected one is not repeated

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1150px; margin: 1.5em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.2em; border-bottom: 2px solid #ddd; margin-top: 2.2em; }
h3.cell { font: 600 .95em ui-monospace, monospace; color: #3955a3; margin: 1.4em 0 .3em; }
h3.beyond { font-size: .95em; color: #555; margin: 1.4em 0 .3em; }
code, pre, .value { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85em; }
.summary { background: #f6f7f9; border: 1px solid #e2e4e8; border-radius: 6px; padding: .6em 1em; }
.summary th { text-align: left; padding-right: 1em; white-space: nowrap; vertical-align: top; font-weight: 600; }
.summary td { padding: .15em 0; }
.claim { margin: .3em 0 1em 1.2em; } .words { margin: .2em 0; } .code { margin: .1em 0 .3em; color: #444; }
.code code { background: #f3f3f3; padding: 0 .3em; border-radius: 3px; }
table.values { border-collapse: collapse; width: 100%; font-size: .9em; } table.verdicts { width: auto; min-width: 20em; }
table.values th { text-align: left; font-weight: 600; color: #555; border-bottom: 1px solid #ccc; padding: .2em .5em; }
table.values td { border-bottom: 1px solid #eee; padding: .2em .5em; vertical-align: top; overflow-wrap: anywhere; }
td.param { white-space: nowrap; } td.verdict { white-space: nowrap; width: 7em; }
.value { white-space: pre-wrap; overflow-wrap: break-word; max-height: 7.5em; overflow: auto; display: block; }
.passed { color: #186a1c; font-weight: 600; } .failed { color: #b00020; font-weight: 600; }
.skipped, .muted { color: #777; } .note { color: #8a6d00; }
tr.openai td { background: #fffaf0; } .badge { font-size: .75em; border: 1px solid #d9b45a; color: #8a6d00;
  border-radius: 3px; padding: 0 .3em; margin-left: .4em; white-space: nowrap; }
mark.off { background: #ffd6d6; color: #8b0000; font-weight: 600; } .diff { color: #b00020; font-size: .85em; }
figure { margin: .6em 0 1.5em 1.2em; } figure[data-figure="In [39]"] { max-width: 760px; } figcaption { font-size: .9em; color: #444; margin-bottom: .3em; }
nav { font-size: .9em; } nav a { margin-right: .8em; } sup a { text-decoration: none; }
"""

# Unpacks the libraries, runs the scripts that wait for them, then measures what each figure drew.
SCRIPT = """
async function unpack(text) {
  const bytes = Uint8Array.from(atob(text.trim()), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}
async function draw() {
  for (const lib of document.querySelectorAll('script[type="LIBRARY"]')) {
    const script = document.createElement("script");
    script.text = await unpack(lib.textContent);
    document.head.append(script);
  }
  for (const waiting of document.querySelectorAll('script[type="DEFERRED"]')) {
    const script = document.createElement("script");
    script.text = waiting.text;
    waiting.replaceWith(script);
  }
  await new Promise(done => setTimeout(done, 1500));
  for (const figure of document.querySelectorAll("figure[data-figure]")) {
    let best = {width: 0, height: 0}, kind = "nothing";
    for (const el of figure.querySelectorAll("svg, canvas")) {
      const box = el.getBoundingClientRect();
      if (box.width * box.height > best.width * best.height) { best = box; kind = el.tagName.toLowerCase(); }
    }
    figure.dataset.drawn = `${Math.round(best.width)}x${Math.round(best.height)} ${kind}`;
  }
  document.body.dataset.figures = "measured";
}
if (typeof DecompressionStream === "undefined") {
  document.body.dataset.figures = "this browser cannot unpack the figures' scripts (DecompressionStream)";
} else {
  draw().catch(error => { document.body.dataset.figures = "error: " + error; });
}
""".replace("LIBRARY", LIBRARY).replace("DEFERRED", DEFERRED)


def missing_packages() -> list[str]:
    """The page draws with plotly and circuitsvis, the document's own tools (the 'report' extra)."""
    import importlib.util

    return [name for name in ("plotly", "circuitsvis") if importlib.util.find_spec(name) is None]


# -- values: the recorded text, compacted, and where the observed one differs ------------------------


@dataclass(frozen=True)
class Difference:
    index: int  # which number, counted from 0 in reading order
    observed: str
    expected: str

    @property
    def off(self) -> float:
        return abs(float(self.observed) - float(self.expected))


def differences(observed: str, expected: str) -> list[Difference] | None:
    """The numbers of ``observed`` outside the tolerance of ``expected``'s (snapshot.numbers_match's
    rule, number by number); None where the text between the numbers differs."""
    got, want = NUMBER.split(observed), NUMBER.split(expected)
    if len(got) != len(want) or any(g != w for g, w in zip(got[::2], want[::2])):
        return None
    return [
        Difference(i, g, w) for i, (g, w) in enumerate(zip(got[1::2], want[1::2])) if not within(float(g), w)
    ]


_AMBER = [("list([", "["), ("])", "]"), ("dict({", "{"), ("})", "}"), ("set({", "{"), ("tuple(", "(")]


def _compact(piece: str) -> str:
    """Amber's text between two numbers, as a Python literal reads: ``list([\\n  1,\\n])`` -> ``[1]``."""
    piece = re.sub(r"\s*\n\s*", " ", piece)
    for amber, plain in _AMBER:
        piece = piece.replace(amber, plain)
    for opening in "[({":
        piece = piece.replace(opening + " ", opening)
    for closing in "])}":
        piece = piece.replace(", " + closing, closing).replace(" " + closing, closing)
    return piece


def value_html(text: str, marks: Iterable[Difference] = ()) -> str:
    """A recorded value, compacted, with the differing numbers marked (hover: expected, distance)."""
    marked = {d.index: d for d in marks}
    parts = NUMBER.split(str(text))
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(html.escape(_compact(part)))
        elif (d := marked.get(i // 2)) is not None:
            tip = f"expected {d.expected}, off by {d.off:.3g} ({_tolerance(d.expected)})"
            out.append(f'<mark class="off" title="{html.escape(tip)}">{html.escape(part)}</mark>')
        else:
            out.append(html.escape(part))
    return f'<span class="value">{"".join(out).strip()}</span>'


def difference_summary(found: list[Difference] | None, count: int) -> str:
    """One line a person reads: which numbers differ and by how much (at most 3 named)."""
    if found is None:
        return '<div class="diff">the text differs, not only its numbers</div>'
    if not found:
        return ""
    named = "; ".join(
        f"number {d.index + 1}: {d.observed} vs {d.expected}, off by {d.off:.3g} ({_tolerance(d.expected)})"
        for d in sorted(found, key=lambda d: -d.off)[:3]
    )
    more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
    verb = "differs" if len(found) == 1 else "differ"
    return f'<div class="diff">{len(found)} of {count} number{"s" if count > 1 else ""} {verb}: {named}{more}</div>'


def _tolerance(expected: str) -> str:
    allowed = tolerance(expected)
    return f"tolerance {allowed:.1e}" if allowed else "exact"


def comparison_cells(comparison: dict) -> tuple[str, str]:
    """(expected, observed) cells of one comparison; the observed one marks what differs."""
    observed = str(comparison["observed"])
    if comparison["expected"] is None:
        return '<span class="muted">not recorded</span>', value_html(observed)
    expected = str(comparison["expected"])
    if observed == expected and len(_compact(observed)) > LONG:
        return value_html(expected), '<span class="muted">identical</span>'
    found = differences(observed, expected)
    shown = value_html(observed, found or ())
    if not comparison["ok"]:
        shown += difference_summary(found, len(NUMBER.findall(expected)))
    return value_html(expected), shown


# -- the document's printed values, for claims that did not compare (skipped, or versioned) ---------


def document_values(folder: Path, module: str) -> dict[str, str]:
    """snapshot name -> the document's printed value, from snapshots/document/<spec>.ambr."""
    from syrupy.extensions.amber.serializer import AmberDataSerializer

    path = folder / (Path(module).stem + ".ambr")
    if not path.is_file():
        return {}
    try:
        return {s.name: s.data for s in AmberDataSerializer.read_file(str(path))}
    except Exception:  # a corrupt file is reported by its claim; the page shows what it can
        return {}


# -- figures ---------------------------------------------------------------------------------------


def deferred(fragment: str) -> str:
    """A figure's inline scripts wait for the libraries (plotly's ``include_plotlyjs=False`` HTML)."""
    return re.sub(r"<script(?:\s+type=[\"']?text/javascript[\"']?)?\s*>", f'<script type="{DEFERRED}">', fragment)


def log_prob_figure(run: Any) -> str:
    """In [28]: px.line(utils.to_numpy(token_log_probs), hover_name=str_tokens[1:])."""
    import plotly.express as px

    log_probs = next_token_log_probs(run.logits, run.tokens)
    fig = px.line(
        y=log_probs.cpu().numpy(),
        hover_name=run.str_tokens[1:],
        labels={"x": "position of the predicted token", "y": "log-probability (nats)"},
        height=360,
    )
    fig.update_layout(margin=dict(l=60, r=20, t=20, b=50))
    return deferred(fig.to_html(full_html=False, include_plotlyjs=False, div_id="log-prob-line"))


def circuitsvis_parts(view: Any) -> tuple[str, str]:
    """(library, fragment): circuitsvis's ``local_src`` holds its whole bundle in every view; split it
    off to inline it once. (Its ``str()`` loads from a CDN instead: not offline.)"""
    head, _, call = view.local_src.rpartition("CircuitsVis.render(")
    div, _, library = head.partition("<script crossorigin type=\"module\">")
    element = re.search(r'id="([^"]+)"', div)
    call = "CircuitsVis.render(" + call.rsplit("</script>", 1)[0]
    return library.strip(), f'<div id="{element[1]}"></div><script type="{DEFERRED}">{call}</script>'


def _pattern(tensor: Any) -> list:
    return tensor.double().round(decimals=3).cpu().tolist()  # display precision: a third of the page otherwise


def attention_figure(run: Any) -> Any:
    """In [39]: cv.attention.attention_pattern(attention=attention[5], tokens=str_tokens)."""
    import circuitsvis as cv

    return cv.attention.attention_pattern(attention=_pattern(run.cache["pattern", 0].squeeze()[5]), tokens=run.str_tokens)


def layer_5_figure(run: Any) -> Any:
    """In [45]: layer 5's heads named L5H0..L5H11 (the document calls the deprecated attention_patterns,
    which takes no names in circuitsvis 1.43; attention_heads is its replacement)."""
    import circuitsvis as cv

    return cv.attention.attention_heads(
        attention=_pattern(run.cache["pattern", 5, "attn"].squeeze()),
        tokens=run.str_tokens,
        attention_head_names=[f"L5H{i}" for i in range(12)],
    )


# cell -> (what the document runs there, how the page draws it)
FIGURES: dict[int, tuple[str, Callable[[Any], Any]]] = {
    28: ("px.line(utils.to_numpy(token_log_probs), hover_name=str_tokens[1:]): the log-probability of each "
         "actual next token (hover for the token)", log_prob_figure),
    39: ("cv.attention.attention_pattern(attention=attention[5], tokens=str_tokens): layer 0, head 5", attention_figure),
    45: ("cv.attention.attention_heads(tokens=str_tokens, attention=attention_pattern, attention_head_names="
         "[f\"L5H{i}\" for i in range(12)]): layer 5, heads L5H0..L5H11 (click a head to enlarge it)", layer_5_figure),
}  # fmt: skip


# -- layout -----------------------------------------------------------------------------------------


def _position(cell: int | None) -> float:
    if cell is None:
        return float("inf")  # beyond the document: after its cells
    return CELL_ORDER.index(cell) if cell in CELL_ORDER else len(CELL_ORDER) + cell


def _words(text: str) -> str:
    """Docstring text: ``code`` in reST double backquotes becomes <code>."""
    return re.sub(r"``(.+?)``", r"<code>\1</code>", html.escape(text))


def _unescaped(text: str) -> str:
    """pytest writes non-ASCII ids escaped (``\\u0120``): show them as the document prints them."""
    return re.sub(r"\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8}))", lambda m: chr(int(m[1] or m[2] or m[3], 16)), text)


def _anchor(text: str) -> str:
    return "c" + hashlib.sha1(text.encode()).hexdigest()[:10]


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def _template(params: list[str]) -> tuple[str, list[str]]:
    """The words all parameter ids share, and what is left of each: "cfg.d_vocab is as printed",
    "cfg.eps is as printed" -> ("… is as printed", ["cfg.d_vocab", "cfg.eps"])."""
    words = [p.split(" ") for p in params]
    if len(words) < 2:
        return "", params
    lead = 0
    while all(len(w) > lead + 1 and w[lead] == words[0][lead] for w in words):
        lead += 1
    tail = 0
    while all(len(w) > lead + tail + 1 and w[-1 - tail] == words[0][-1 - tail] for w in words):
        tail += 1
    head = " ".join([*words[0][:lead], "…", *words[0][len(words[0]) - tail:]])
    return head, [" ".join(w[lead: len(w) - tail]) for w in words]


class Notes:
    """Why runs were skipped (or failed, unexplained by a comparison), where many share the reason:
    said once at the top, referred to by number in the rows."""

    def __init__(self, records: list[Record]):
        counts: dict[tuple[str, str], int] = {}
        for r in records:
            if why := self.why(r):
                counts[r.outcome, why] = counts.get((r.outcome, why), 0) + 1
        self.counts = {key: n for key, n in counts.items() if n > 1}
        self.number = {why: i + 1 for i, (_, why) in enumerate(self.counts)}
        # a device all of whose runs are skipped for one reason: its column says so in its header
        self.device: dict[str, str] = {}
        for device in dict.fromkeys(r.device for r in records if r.device):
            reasons = {r.reason if r.outcome == "skipped" else None for r in records if r.device == device}
            if len(reasons) == 1 and (only := reasons.pop()) in self.number:
                self.device[device] = only

    @staticmethod
    def why(record: Record) -> str:
        if record.outcome == "skipped":
            return record.reason
        if record.outcome in ("failed", "error") and not any(not c["ok"] for c in record.comparisons):
            return record.failure or record.reason
        return ""  # passed, or a failed comparison: the marked numbers say why

    def ref(self, why: str) -> str:
        n = self.number[why]
        return f'<sup><a href="#note-{n}" title="{html.escape(why)}">{n}</a></sup>'


def verdict(record: Record | None, notes: Notes) -> str:
    if record is None:
        return '<span class="muted">not run</span>'
    why = notes.why(record)
    if record.outcome == "passed":
        timed = f' <span class="muted">{_duration(record.median_s)}</span>' if record.median_s is not None else ""
        return f'<span class="passed">✓ holds</span>{timed}'
    if record.outcome == "skipped" and record.device in notes.device:
        return f'<span class="muted" title="{html.escape(why)}">–</span>'
    said = "skipped" if record.outcome == "skipped" else "✗ " + record.outcome
    said = f'<span class="{record.outcome}">{said}</span>'
    if why in notes.number:
        return said + notes.ref(why)
    return said + (f'<div class="{"note" if record.outcome == "skipped" else "diff"}">{html.escape(why)}</div>' if why else "")


def row_values(by_device: dict[str, Record], printed: dict[str, str], major: int) -> tuple[str, str, set[str]]:
    """(expected, observed, kinds) of one row: the comparisons of a device where it differs (else the
    first device's), or the document's printed value where the claim compared none (skipped)."""
    first = next(iter(by_device.values()))
    compared = [r for r in by_device.values() if r.comparisons]
    shown = next((r for r in compared if not all(c["ok"] for c in r.comparisons)), compared[0] if compared else None)
    name = without_device(first.nodeid.split("::", 1)[1])  # its snapshot's name
    if shown is not None:
        pairs = [comparison_cells(c) for c in shown.comparisons]
        expected, observed = "<br>".join(p[0] for p in pairs), "<br>".join(p[1] for p in pairs)
        if shown is not compared[0]:
            observed = f'<span class="muted">on {html.escape(shown.device.upper())}:</span> ' + observed
        kinds = {c["kind"] for c in shown.comparisons}
    elif name in printed:
        expected, observed, kinds = value_html(printed[name]), '<span class="muted">not run</span>', {"document"}
    else:
        expected, observed, kinds = "", "", set()
    if first.versioned and major in first.versioned["majors"]:
        why = html.escape(first.versioned["why"])
        observed = f'<span class="note">TransformerLens {major}.x differs by design: {why}</span>'
    return expected, observed, kinds


def claim_html(runs: list[Record], notes: Notes, printed: dict[str, str], major: int) -> str:
    """One claim: its words, the code it evaluates, and one table (a row per parametrization)."""
    first = runs[0]
    devices = list(dict.fromkeys(r.device for r in runs))  # "" for a claim that spans the devices
    rows: dict[str, dict[str, Record]] = {}
    for r in runs:
        rows.setdefault(r.params, {})[r.device] = r
    head, labels = _template([_unescaped(p) for p in rows])
    badge = '<span class="badge">needs OpenAI\'s weights</span>' if first.openai else ""
    out = [f'<div class="claim" id="{_anchor(first.claim.partition("[")[0])}">',
           f'<p class="words">{_words(first.words)}{badge}</p>']
    if first.code:  # read from the spec file: a claim that never ran here shows it too
        out.append(f'<p class="code">evaluates <code>{html.escape(first.code)}</code></p>')
    values = [row_values(by_device, printed, major) for by_device in rows.values()]
    shows_values = any(e or o for e, o, _ in values)
    header = f"<th>{html.escape(head or 'parametrized as')}</th>" if first.params else ""
    if shows_values:
        kinds = set().union(*(k for _, _, k in values))
        printed_in = f"printed (In [{first.cell}])" if first.cell else "printed"
        label = {frozenset({"document"}): printed_in, frozenset({"baseline"}): "baseline (recorded)"}
        header += f"<th>{label.get(frozenset(kinds), 'printed or baseline')}</th><th>observed</th>"
    for device in devices:
        ref = notes.ref(notes.device[device]) if device in notes.device else ""
        header += f"<th>{html.escape(device.upper() or 'verdict')}{ref}</th>"
    openai = ' class="openai"' if first.openai else ""
    narrow = "" if shows_values or first.params else " verdicts"
    out.append(f'<table class="values{narrow}"><tr>{header}</tr>')
    for by_device, label, (expected, observed, _) in zip(rows.values(), labels, values):
        row = f'<td class="param">{html.escape(label)}</td>' if first.params else ""
        if shows_values:
            row += f"<td>{expected}</td><td>{observed}</td>"
        row += "".join(f'<td class="verdict">{verdict(by_device.get(d), notes)}</td>' for d in devices)
        out.append(f"<tr{openai}>{row}</tr>")
    out.append("</table></div>")
    return "\n".join(out)


def figure_html(cell: int | str, caption: str, fragment: str) -> str:
    title = f"In [{cell}]" if isinstance(cell, int) else cell
    return (f'<figure data-figure="{html.escape(title)}"><figcaption>{_words(caption)}</figcaption>'
            f"{fragment}</figure>")


def place_figures(records: list[Record]) -> dict[str, dict[int, list[int]]]:
    """module -> cell -> the figures drawn after that cell. A figure goes after its own cell, in the
    section with most claims there (ties: the later section; In [45] is under "Induction heads"),
    or else after the last cell before it in the document (In [28] follows In [30])."""
    placed: dict[str, dict[int, list[int]]] = {}
    claims: dict[tuple[int, str], set[str]] = {}
    for r in records:
        if r.cell is not None:
            claims.setdefault((r.cell, r.module), set()).add(r.claim.partition("[")[0])
    for figure in FIGURES:
        before = [cm for cm in claims if _position(cm[0]) <= _position(figure)]
        if before:
            last = max(_position(c) for c, _ in before)
            cell, module = max((cm for cm in before if _position(cm[0]) == last), key=lambda cm: (len(claims[cm]), cm[1]))
            placed.setdefault(module, {}).setdefault(cell, []).append(figure)
    return placed


def summary_html(tally: Tally, records: list[Record], notes: Notes) -> str:
    rows = []
    verdicts: dict[tuple[str, str], list[str]] = {}
    for device, found in tally.weights.items():
        verdicts.setdefault((found.verdict, found.source), []).append(device)
    for (said, source), devices in verdicts.items():
        rows.append(("weights", f"<b>{html.escape(said)}</b> on {', '.join(devices).upper()}; from {html.escape(source)}"))
    rows.append(("versions", html.escape(", ".join(f"{k} {v}" for k, v in loading.versions().items()))))
    for document, title in ((True, "the document's claims"), (False, "beyond the document")):
        counts = tally.counts(document)
        if counts:
            order = sorted(counts, key=lambda k: (k != "verified", k))
            said = ", ".join(
                f'<span class="{"failed" if k in ("failed", "error") else ""}">{counts[k]} {html.escape(k)}</span>' for k in order
            )
            rows.append((title, said + ' <span class="muted">(runs: a claim counts once per device)</span>'))
    total = time.perf_counter() - tally.started
    steps = "; ".join(f"{html.escape(step)} on {device.upper()} {_duration(s)}" for (device, step), s in tally.seconds.items())
    rows.append(("run time", f"{_duration(total)} in all" + (f"; of it {steps}" if steps else "")))
    failed = list(dict.fromkeys(r.claim.partition("[")[0] for r in records if r.outcome in ("failed", "error")))
    if failed:
        links = ", ".join(f'<a href="#{_anchor(c)}">{html.escape(c.split("::", 1)[-1])}</a>' for c in failed[:10])
        more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
        rows.append(("failed", f'<span class="failed">{len(failed)} claims</span>: {links}{more}'))
    for (outcome, why), n in notes.counts.items():
        devices = [d.upper() for d, r in notes.device.items() if r == why]
        scope = f"every {' and '.join(devices)} run" if devices else f"{n} runs"
        openai = " (rows marked <span class=\"badge\">needs OpenAI's weights</span>)" if "OpenAI" in why else ""
        rows.append((f'<span id="note-{notes.number[why]}">{outcome} <sup>{notes.number[why]}</sup></span>',
                     f"{scope}{openai}: {html.escape(why)}"))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="summary">{body}</table>'


def _library(name: str, source: str) -> str:
    packed = base64.b64encode(gzip.compress(source.encode("utf-8"), 9, mtime=0)).decode("ascii")
    return f'<script type="{LIBRARY}" data-library="{html.escape(name)}">{packed}</script>'


def write(path: Path, tally: Tally, root: Path = Path(".")) -> None:
    import plotly
    import plotly.offline

    records = [r for r in tally.records.values() if r.outcome != "not run"]
    notes = Notes(records)
    run = tally.runs.get("cpu") or next(iter(tally.runs.values()), None)
    placed = place_figures(records) if run is not None else {}
    major = loading.tl_major()
    libraries = {f"plotly.js (plotly {plotly.__version__})": plotly.offline.get_plotlyjs()}

    def figure(cell: int) -> str:
        caption, draw = FIGURES[cell]
        drawn = draw(run)
        if not isinstance(drawn, str):  # a circuitsvis view: its bundle goes in once
            bundle, drawn = circuitsvis_parts(drawn)
            libraries.setdefault("circuitsvis", bundle)
        return figure_html(cell, caption, drawn)

    modules = sorted({r.module for r in records})
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>GPT-2 small: the notebook, re-executed</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>An introduction to mechanistic interpretability on GPT-2 small, re-executed</h1>",
        summary_html(tally, records, notes),
        "<nav>" + " ".join(f'<a href="#{Path(m).stem}">{html.escape(Path(m).stem)}</a>' for m in modules) + "</nav>",
    ]
    for module in modules:
        in_module = [r for r in records if r.module == module]
        parts.append(f'<h2 id="{html.escape(Path(module).stem)}">{_words(in_module[0].section)}</h2>')
        printed = document_values(root / "snapshots" / DOCUMENT, module)
        figures = placed.get(module, {})
        cells = sorted({r.cell for r in in_module} | set(figures), key=_position)
        for cell in cells:
            claims: dict[str, list[Record]] = {}
            for r in in_module:
                if r.cell == cell:
                    claims.setdefault(r.claim.partition("[")[0], []).append(r)
            if cell is None:
                parts.append('<h3 class="beyond">Beyond the document</h3>')
            elif claims:
                parts.append(f'<h3 class="cell">In [{cell}]:</h3>')
            parts.extend(claim_html(runs, notes, printed, major) for runs in claims.values())
            for drawn in figures.get(cell, []) if cell is not None else []:
                if drawn != cell:
                    parts.append(f'<h3 class="cell">In [{drawn}]:</h3>')
                parts.append(figure(drawn))
    if tally.figures:
        parts.append('<h2 id="figures">Figures beyond the document</h2>')
        parts.extend(figure_html(title, title, deferred(fragment)) for title, fragment in tally.figures.items())
    if benchmark := benchmark_lines(tally):  # the terminal's lines: medians, paired ratios, fidelity
        parts.append('<h2 id="devices">CPU vs CUDA: each claim\'s own work, paired ratios, fidelity</h2>')
        parts.append("<pre>" + html.escape("\n".join(benchmark)) + "</pre>")
    parts.extend(_library(name, source) for name, source in libraries.items())
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
