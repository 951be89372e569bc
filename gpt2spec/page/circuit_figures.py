"""How the stand-in's induction circuit is built, as pictures: its heads' QK and OV matrices
restricted to the subspaces ``circuit.py`` reserves, read from the loaded model's own weights
(TransformerLens's ``W_Q``, ``W_K``, ``W_V``, ``W_O``, ``W_E``, ``W_pos``, ``W_U``, after its weight
processing), so the page shows what the forward pass computes with, not what the build meant to write.

Each matrix's expected structure is a diagonal: the previous-token head's query at position i meets
the key at i - 1; an induction head's query for token a meets the key whose previous token is a; its
OV sends token b's code to b's logit. LayerNorm's scale and the biases are left out: they rescale a
row, and move no peak.
"""

from __future__ import annotations

from typing import Any

from jaxtyping import Float
from torch import Tensor

from gpt2spec import circuit, document, loading
from gpt2spec.page.sections import Section

POSITIONS = 24  # enough rows to see the diagonal, few enough to read each cell
TOKENS = 16  # the first distinct tokens of the document's example text


def _span(name: str) -> slice:
    dims = circuit.SUBSPACES[name]
    return slice(dims.start, dims.stop)


def _head(params: dict[str, Tensor], layer: int, head: int, part: str) -> Float[Tensor, "..."]:
    return params[f"blocks.{layer}.attn.{part}"][head].detach().float().cpu()


def previous_token_qk(params: dict[str, Tensor], head: tuple[int, int] = circuit.PREVIOUS_TOKEN_HEAD,
                      n: int = POSITIONS) -> Float[Tensor, "query key"]:  # fmt: skip
    """Head 4.11's QK on the position code: score of query position i against key position j."""
    pos, (layer, index) = _span("position"), head
    x = params["pos_embed.W_pos"][:n, pos].detach().float().cpu()
    q = x @ _head(params, layer, index, "W_Q")[pos]
    k = x @ _head(params, layer, index, "W_K")[pos]
    return q @ k.T / circuit.D_HEAD**0.5


def sampled_tokens(model: Any, n: int = TOKENS) -> tuple[list[int], list[str]]:
    """The first ``n`` distinct tokens of the document's example (its readers know them), with their text."""
    ids = list(dict.fromkeys(model.to_tokens(document.TEXT, prepend_bos=False)[0].tolist()))[:n]
    return ids, [model.to_string([i]) for i in ids]


def induction_qk(params: dict[str, Tensor], tokens: list[int], head: tuple[int, int] = (5, 5),
                 writer: tuple[int, int] = circuit.PREVIOUS_TOKEN_HEAD) -> Float[Tensor, "query key"]:  # fmt: skip
    """An induction head's QK from the ``token`` code (the query's current token a) to the
    ``previous token`` code that head 4.11 writes at the position after b (through its OV): high where a = b."""
    tok, prev = _span("token"), _span("previous token")
    x = params["embed.W_E"][tokens][:, tok].detach().float().cpu()
    wl, wi = writer
    ov = _head(params, wl, wi, "W_V")[tok] @ _head(params, wl, wi, "W_O")[:, prev]
    layer, index = head
    q = x @ _head(params, layer, index, "W_Q")[tok]
    k = (x @ ov) @ _head(params, layer, index, "W_K")[prev]
    return q @ k.T / circuit.D_HEAD**0.5


def induction_ov(params: dict[str, Tensor], tokens: list[int], head: tuple[int, int] = (5, 5)) -> Float[Tensor, "attended logit"]:
    """An induction head's OV from the attended position's ``token`` code into ``prediction``, read by
    the unembedding: the logit each sampled token gets when the head attends to token b. High where they are the same."""
    tok, pred = _span("token"), _span("prediction")
    x = params["embed.W_E"][tokens][:, tok].detach().float().cpu()
    layer, index = head
    written = x @ _head(params, layer, index, "W_V")[tok] @ _head(params, layer, index, "W_O")[:, pred]
    return written @ params["unembed.W_U"][pred][:, tokens].detach().float().cpu()


def diagonal_share(matrix: Float[Tensor, "n m"], offset: int = 0) -> float:
    """How much the diagonal (``offset`` below the main one) stands out: the fraction of rows whose
    largest entry lies on it."""
    rows = range(max(0, offset), min(matrix.shape[0], matrix.shape[1] + offset))
    return sum(int(matrix[i].argmax()) == i - offset for i in rows) / len(rows)


def _heatmap(matrix: Tensor, x: list[str], y: list[str], xtitle: str, ytitle: str, div_id: str) -> str:
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=matrix.double().round(decimals=2).tolist(), x=x, y=y, colorscale="RdBu", zmid=0))
    fig.update_layout(
        height=420, width=520, margin=dict(l=90, r=20, t=20, b=80),
        xaxis=dict(title=xtitle, type="category"), yaxis=dict(title=ytitle, type="category", autorange="reversed"),
    )  # fmt: skip
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)


def section(model: Any) -> Section:
    """The page's section: which subspaces and heads the circuit uses, and three of its matrices."""
    params = loading.tl_parameters(model)
    spans = ", ".join(f"``{name}`` ({len(dims)})" for name, dims in circuit.SUBSPACES.items())
    heads = ", ".join(f"{layer}.{index}" for layer, index in circuit.INDUCTION_HEADS)
    prev = "{}.{}".format(*circuit.PREVIOUS_TOKEN_HEAD)
    text = (
        f"The stand-in is seeded noise at GPT-2's scale, except for an induction circuit written in by hand "
        f"(``gpt2spec/circuit.py``, version {circuit.VERSION}). Residual dimensions "
        f"{circuit.RESERVED.start}-{circuit.RESERVED.stop - 1} are set aside as subspaces (dimensions each): {spans}. "
        f"Head {prev} attends to the previous position and copies its ``token`` code into ``previous token``; "
        f"induction heads {heads} match the current ``token`` code against ``previous token``, attend to the "
        f"position after an earlier occurrence of the current token (else to BOS), and copy the ``token`` code "
        f"found there into ``prediction``, which the tied unembedding reads. The matrices below are the "
        f"loaded model's own weights (after TransformerLens's processing) restricted to those subspaces; "
        f"LayerNorm's scale and the biases left out."
    )
    ids, words = sampled_tokens(model)
    numbers = [str(i) for i in range(POSITIONS)]
    figures = {
        f"Head {prev}'s QK on the position code: the score of each query position against each key "
        f"position peaks one below the diagonal, at the previous position": _heatmap(
            previous_token_qk(params), numbers, numbers, "key position", "query position", "circuit-previous-qk"),
        f"Head 5.5's QK: the current token's ``token`` code (query) against the ``previous token`` code head {prev} "
        f"writes after each token (key), for the example's first {len(ids)} distinct tokens: a diagonal": _heatmap(
            induction_qk(params, ids), words, words, "previous token at the key", "current token (query)", "circuit-induction-qk"),
        "Head 5.5's OV: the attended token's ``token`` code, written into ``prediction`` and read by the "
        "unembedding, raises that token's own logit: a diagonal": _heatmap(
            induction_ov(params, ids), words, words, "logit of", "attended token", "circuit-induction-ov"),
    }  # fmt: skip
    return Section("circuit", "How the stand-in's induction heads are built", text=text, figures=figures)
