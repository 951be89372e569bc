"""The run as the notebook, re-executed: ``pytest --spec-report report.html``.

One self-contained HTML page. A summary first (whose weights, versions, counts, run time, and each
skip reason shared by many claims, said once), then the document's sections in order and, in each,
its cells in the document's order: for each claim, the code the spec evaluates, the value the
document printed (or the recorded baseline), the value observed, and a verdict per device. A
parametrized claim is one table. Where a number differs, it is marked with its distance. The
document's pictures sit at their cells: In [28] (plotly), In [39] and In [45] (circuitsvis). Other
parts of the run add sections at the end, each through ``sections``' hook (the CPU vs CUDA table
last: the tally's plugin adds it).

The page's structure is in ``templates/`` (Jinja2, autoescaped), its style and script in
``assets/``; the modules here only compute what goes in: ``values`` (a value, what differs),
``claims`` (a claim's table), ``layout`` (the document's order), ``figures`` (the pictures and
their libraries). Every script is inline and each library inlined once, gzip-compressed; the page
unpacks them with the browser's DecompressionStream, so it opens from disk, offline, with no
server. Its script writes each figure's drawn size into ``data-drawn``, which
``tests/test_page.py`` reads from headless Chromium.
"""

from __future__ import annotations

import importlib.util
import re
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from gpt2spec import loading, outcomes, snapshot, summary
from gpt2spec.page.claims import Notes
from gpt2spec.page.figures import DEFERRED, LIBRARY, Drawing, Figure, deferred
from gpt2spec.page.layout import chapters, failed_claims, shared_reasons
from gpt2spec.page.sections import Section
from gpt2spec.tally import Tally


def missing_packages() -> list[str]:
    """The page draws with plotly and circuitsvis, the document's own tools (the 'report' extra)."""
    return [name for name in ("plotly", "circuitsvis", "jinja2") if importlib.util.find_spec(name) is None]


def duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def environment() -> Any:
    """Jinja2 over ``templates/``, every value escaped; ``words`` turns reST ``code`` into <code>."""
    import jinja2
    from markupsafe import Markup, escape

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gpt2spec.page", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["words"] = lambda text: Markup(re.sub(r"``(.+?)``", r"<code>\1</code>", str(escape(text))))
    env.filters["duration"] = duration
    env.filters["label"] = outcomes.label
    return env


def asset(name: str) -> str:
    return (resources.files("gpt2spec.page") / "assets" / name).read_text(encoding="utf-8")


def write(path: Path, tally: Tally, root: Path = Path("."), sections: Iterable[Section] = ()) -> None:
    """The page of ``tally``'s run; ``sections`` (``sections.gathered``) go after the document's."""
    from markupsafe import Markup

    records = [r for r in tally.records.values() if r.ran]
    notes = Notes(records)
    run = tally.runs.get("cpu") or next(iter(tally.runs.values()), None)
    drawing = Drawing(run)
    document = Path(root) / "snapshots" / snapshot.DOCUMENT
    extra = [
        (s, [Figure(title, title, deferred(fragment)) for title, fragment in s.figures.items()])
        for s in sections
    ]
    html = environment().get_template("page.html.j2").render(
        summary=summary.of(tally),
        versions=", ".join(f"{k} {v}" for k, v in loading.versions().items()),
        failing={code for code, outcome in outcomes.OUTCOMES.items() if outcome.look == "failed"},
        failed=failed_claims(records),
        reasons=shared_reasons(notes),
        chapters=chapters(
            records, notes, lambda module: snapshot.entries(document, module), loading.tl_major(),
            drawing.document_figure if run is not None else None,
        ),  # fmt: skip
        sections=extra,
        libraries=drawing.packed(),
        types={"library": LIBRARY, "deferred": DEFERRED},
        css=Markup(asset("page.css")),
        script=Markup(asset("page.js")),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
