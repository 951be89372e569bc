"""The document's pictures, drawn with its own tools (In [28]: plotly; In [39], In [45]: circuitsvis),
and the libraries they need, inlined once each, gzip-compressed (plotly.js alone is 4.8 MB)."""

from __future__ import annotations

import base64
import gzip
import re
from dataclasses import dataclass
from typing import Any, Callable

from gpt2spec.run import next_token_log_probs

DEFERRED = "text/x-after-libraries"  # inline scripts that need a library run once it is unpacked
LIBRARY = "application/x-gzip-base64"


@dataclass(frozen=True)
class Figure:
    title: str  # data-figure: what the page's last script measures it by ("In [28]")
    caption: str
    fragment: str  # the library's HTML, its scripts deferred until the libraries are unpacked
    cell: int | None = None


def deferred(fragment: str) -> str:
    """A figure's inline scripts wait for the libraries (plotly's ``include_plotlyjs=False`` HTML)."""
    return re.sub(r"<script(?:\s+type=[\"']?text/javascript[\"']?)?\s*>", f'<script type="{DEFERRED}">', fragment)


def packed(source: str) -> str:
    """A library as the page carries it: gzip, then base64 (the page unpacks it with DecompressionStream)."""
    return base64.b64encode(gzip.compress(source.encode("utf-8"), 9, mtime=0)).decode("ascii")


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
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id="log-prob-line")


def circuitsvis_parts(view: Any) -> tuple[str, str]:
    """(library, fragment): circuitsvis's ``local_src`` holds its whole bundle in every view; split it
    off to inline it once. (Its ``str()`` loads from a CDN instead: not offline.)"""
    head, _, call = view.local_src.rpartition("CircuitsVis.render(")
    div, _, library = head.partition("<script crossorigin type=\"module\">")
    element = re.search(r'id="([^"]+)"', div)
    call = "CircuitsVis.render(" + call.rsplit("</script>", 1)[0]
    return library.strip(), f'<div id="{element[1]}"></div><script>{call}</script>'


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


class Drawing:
    """Draws the page's figures and keeps the libraries they need: plotly.js, and circuitsvis's
    bundle once a circuitsvis figure is drawn."""

    def __init__(self, run: Any):
        import plotly
        import plotly.offline

        self.run = run  # run.DocumentRun: the document's forward pass the figures show
        self.libraries = {f"plotly.js (plotly {plotly.__version__})": plotly.offline.get_plotlyjs()}

    def document_figure(self, cell: int) -> Figure:
        caption, draw = FIGURES[cell]
        drawn = draw(self.run)
        if not isinstance(drawn, str):  # a circuitsvis view: its bundle goes in once
            bundle, drawn = circuitsvis_parts(drawn)
            self.libraries.setdefault("circuitsvis", bundle)
        return Figure(f"In [{cell}]", caption, deferred(drawn), cell)

    def packed(self) -> list[tuple[str, str]]:
        return [(name, packed(source)) for name, source in self.libraries.items()]
