"""The page (--spec-report) reads like the notebook, re-executed, opens offline, and its figures draw."""

import html
import re
import subprocess
from pathlib import Path

import pytest
import torch

from gpt2spec import circuit, page
from gpt2spec.page import circuit_figures, figures, values
from gpt2spec.plugin import models
from gpt2spec.page.screenshot import BUDGET_MS, CHROMIUM, FLAGS
from gpt2spec.page.sections import Section
from gpt2spec.tally import Record, Tally

from .conftest import run_here

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)"
)
MB = 1_000_000
OPENAI = "needs OpenAI's GPT-2 weights; these are not"
NO_CUDA = "CUDA is not available on this machine"


@pytest.fixture(scope="module")
def report(standin_home, tmp_path_factory, fault_models):
    if page.missing_packages():
        pytest.skip(f"the page needs {page.missing_packages()}: pip install -e '.[report]'")
    path = tmp_path_factory.mktemp("page") / "report.html"
    result = run_here(
        "specs/test_01_config.py", "specs/test_05_output.py", "specs/test_08_attention.py",
        "--spec-report", str(path), "-p", "tests.page_plugin", hf_home=standin_home, models=fault_models,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    return path


def visible(text: str) -> str:
    """The page's text as a reader sees it: no tags, no attributes, entities decoded."""
    body = text[text.index("<body") : text.index('<script type="' + figures.LIBRARY)]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_the_summary_comes_first_then_the_sections_in_document_order(report):
    seen = visible(report.read_text())
    summary = ("weights", "NOT OpenAI's GPT-2 small", "versions", "transformer_lens", "the document's claims", "run time")
    sections = ("Getting acquainted with the model", 'Output: "What comes out?"', "Attention patterns (In [39], [45])")
    places = [seen.index(said) for said in summary + sections]
    assert places == sorted(places)


def test_cells_follow_the_document_not_their_numbers(report):
    """The notebook shows In [29] before In [21], and draws In [28] after In [30]."""
    text = report.read_text()
    output = text[text.index('<h2 id="test_05_output"') : text.index('<h2 id="test_08_attention"')]
    cells = [int(n) for n in re.findall(r'<h3 class="cell">In \[(\d+)\]:</h3>', output)]
    assert cells == [15, 16, 29, 21, 24, 30, 28]
    assert output.index('data-figure="In [28]"') > output.index("In [30]:")


def test_a_parametrized_claim_is_one_table(report):
    """In [5]: 24 fields, one table (a row each, code and words once), not 24 blocks."""
    text = report.read_text()
    config = text[text.index('<h2 id="test_01_config"') : text.index('<h2 id="test_05_output"')]
    assert config.count("<table") == 1 and config.count('class="words"') == 1
    table = config[config.index("<table") : config.index("</table>")]
    assert table.count("<tr") == 1 + 24
    assert "getattr(model.cfg, field)" in config and "cfg.d_vocab" in table and "50257" in table


def test_a_plugin_adds_a_section_after_the_document_s(report):
    text = report.read_text()
    assert text.index('<h2 id="from-a-plugin">') > text.index('<h2 id="test_08_attention"')
    assert "<td>&lt;asked&gt;</td><td>at the end</td>" in text, "its words escaped"
    assert '<a href="#from-a-plugin">' in text


def test_a_skip_reason_shared_by_many_claims_is_said_once(report):
    seen = visible(report.read_text())
    assert seen.count(OPENAI) == 1, "the reason OpenAI-only claims are skipped, said once at the top"
    assert seen.count("needs OpenAI's weights") > 3, "and each such claim is marked"
    if not torch.cuda.is_available():
        assert seen.count(NO_CUDA) == 1


def test_a_skipped_claim_still_shows_its_code_and_what_the_document_printed(report):
    seen = visible(report.read_text())
    that = seen[seen.index("gpt2.tokenizer.decode(326) is ' that'") :]
    that = that[: that.index("In [24]:")]
    assert "evaluates run.logits[0, -1].argmax()" in " ".join(that.split())
    assert "(326, ' that')" in that and "not run" in that and "skipped" in that


def test_the_page_is_small_and_offline(report):
    text = report.read_text()
    assert report.stat().st_size < 3 * MB, f"{report.stat().st_size / MB:.1f} MB"
    remote = re.findall(r"<script[^>]*\bsrc=|\bfrom\s+[\"']https?://|\bimport\(\s*[\"']https?://", text)
    assert not remote, "no script is loaded from elsewhere: the page opens offline"
    libraries = re.findall(r'data-library="([^"(]+)', text)
    assert sorted(name.strip() for name in libraries) == ["circuitsvis", "plotly.js"], "each library once"


def cells(observed: str, expected: str, ok: bool) -> tuple[str, str]:
    """(expected, observed) of one comparison, as the page's template writes them."""
    value = page.environment().get_template("parts.html.j2").module.value
    pair = values.comparison({"against": "document", "observed": observed, "expected": expected, "ok": ok})
    return tuple(str(value(v)) for v in pair)


def test_a_differing_number_is_marked_with_its_distance():
    observed = "list([\n  0.051700,\n  -0.127400,\n  0.050200,\n])"
    printed = "list([\n  0.0517,\n  -0.0274,\n  0.0502,\n])"
    expected, shown = cells(observed, printed, ok=False)
    assert expected == '<span class="value">[0.0517, -0.0274, 0.0502]</span>'
    assert '<mark class="off"' in shown and ">-0.127400</mark>" in shown
    assert shown.count("<mark") == 1, "only the number that differs is marked"
    assert "1 of 3 numbers differs: number 2: -0.127400 vs -0.0274, off by 0.1" in shown


def test_a_number_within_its_printed_precision_is_not_marked():
    observed, printed = "list([\n  0.051740,\n])", "list([\n  0.0517,\n])"  # 4e-5 off: inside half a unit + noise
    _, shown = cells(observed, printed, ok=True)
    assert "<mark" not in shown and "differ" not in shown


def test_text_that_differs_is_said_to():
    _, shown = cells("' the'", "' that'", ok=False)
    assert "the text differs" in shown


def test_every_word_is_escaped():
    """The templates escape what they are given: a claim's words, its code, its values."""
    _, shown = cells("'<b>'", "'<i>'", ok=False)
    assert "<b>" not in shown and "&lt;b&gt;" in shown


@pytest.fixture
def made_up(tmp_path) -> Path:
    """A page from a made-up run (no model): a failed claim, and a section another plugin adds."""
    import plotly.express as px

    tally = Tally()
    for device in ("cpu", "cuda"):
        record = Record(
            nodeid=f"specs/test_04_embedding.py::test_corner[{device}]",
            section="Embedding (In [13], [14]).", words="In [14]: the corner.",
            cell=14, openai=False, versioned=None, outcome="passed", code="model.W_E[tokens, :]",
        )  # fmt: skip
        record.comparisons.append({"against": "document", "observed": "list([\n  0.0517,\n])", "expected": "list([\n  0.0517,\n])", "ok": True})
        tally.records[record.nodeid] = record
    failed = tally.records["specs/test_04_embedding.py::test_corner[cuda]"]
    failed.outcome, failed.comparisons[0] = "failed", {**failed.comparisons[0], "observed": "list([\n  0.0600,\n])", "ok": False}
    line = px.line(y=[1, 2, 3]).to_html(full_html=False, include_plotlyjs=False)
    added = Section("added", "Added <by> a plugin", text="a ``table``", pre=["a  b"], figures={"scaling: a line another helper draws": line})
    path = tmp_path / "made_up.html"
    page.write(path, tally, sections=[added])
    return path


def test_a_failure_on_one_device_shows_that_device_s_number(made_up):
    text = made_up.read_text()
    assert "on CUDA:" in text and ">0.0600</mark>" in text and "off by 0.0083" in text
    assert "✓ holds" in text and "✗ failed" in text
    assert 'href="#c' in text[: text.index('<h2 id="test_04_embedding"')], "the summary links the failed claim"


def test_a_section_given_to_the_page_is_escaped(made_up):
    text = made_up.read_text()
    assert text.index('<h2 id="added">Added &lt;by&gt; a plugin</h2>') > text.index('<h2 id="test_04_embedding"')
    assert "<p>a <code>table</code></p>" in text and "<pre>a  b</pre>" in text


def test_a_failure_many_claims_share_is_said_once(tmp_path):
    """--require-pretrained on other weights: every OpenAI-only claim fails for one reason."""
    tally = Tally()
    why = "needs OpenAI's GPT-2 weights; these are not (...) and --require-pretrained was given"
    for name in ("a", "b", "c"):
        tally.records[name] = Record(
            nodeid=f"specs/test_05_output.py::test_{name}[cpu]",
            section="Output.", words=f"In [21]: {name}.", cell=21, openai=True,
            versioned=None, outcome="failed", failure=why,
        )  # fmt: skip
    page.write(tmp_path / "page.html", tally)
    seen = visible((tmp_path / "page.html").read_text())
    assert seen.count(why) == 1 and seen.count("✗ failed") == 3


def drawn_sizes(path: Path, profile: Path) -> tuple[str, dict[str, tuple[int, int]]]:
    """Open the page in headless Chromium; its last script writes each figure's drawn size."""
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={BUDGET_MS}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=300,
    ).stdout  # fmt: skip
    status = re.search(r'<body[^>]*data-figures="([^"]*)"', dom)
    sizes = {}
    for tag in re.findall(r"<figure\b[^>]*>", dom):
        title = html.unescape(re.search(r'data-figure="([^"]*)"', tag)[1])
        size = re.search(r'data-drawn="(\d+)x(\d+)', tag)
        sizes[title] = (int(size[1]), int(size[2])) if size else (0, 0)
    return (status[1] if status else "no status"), sizes


@needs_chromium
def test_the_document_s_figures_draw_in_headless_chromium(report, tmp_path):
    status, sizes = drawn_sizes(report, tmp_path / "profile")
    assert status == "measured"
    assert {"In [28]", "In [39]", "In [45]"} <= set(sizes) and len(sizes) == 3 + 3, "the document's three and the circuit's three"
    for title, (width, height) in sizes.items():
        assert width > 0 and height > 0, f"{title} drew nothing"


@needs_chromium
def test_a_figure_another_module_adds_draws_too(made_up, tmp_path):
    status, sizes = drawn_sizes(made_up, tmp_path / "profile")
    assert status == "measured"
    width, height = sizes["scaling: a line another helper draws"]
    assert width > 0 and height > 0


@pytest.fixture(scope="module")
def standin_parameters(report, fault_models):
    """The loaded stand-in's parameters under TransformerLens's names (the page's run loaded it)."""
    model = fault_models.loaded[("cpu", torch.float32)]
    return model, circuit_figures.loading.tl_parameters(model)


def shuffled(params: dict, name: str, head: int, subspace: str) -> dict:
    """``params`` with one head's rows of ``name`` in ``subspace`` permuted (a fixed permutation): its matches scrambled."""
    dims = circuit.SUBSPACES[subspace]
    weight = params[name].clone()
    order = torch.randperm(len(dims), generator=torch.Generator().manual_seed(0)) + dims.start
    weight[head, dims.start : dims.stop] = weight[head, order]
    return {**params, name: weight}


def test_the_circuit_s_matrices_are_diagonals_and_a_shuffled_head_s_are_not(standin_parameters):
    """Every row's largest entry is on the diagonal (the previous position; the same token); with the
    head's key (or value) rows permuted within its subspace, few are (a random permutation keeps ~1/n)."""
    model, params = standin_parameters
    ids, _ = circuit_figures.sampled_tokens(model)
    share = circuit_figures.diagonal_share
    assert share(circuit_figures.previous_token_qk(params), offset=1) == 1
    assert share(circuit_figures.induction_qk(params, ids)) == 1
    assert share(circuit_figures.induction_ov(params, ids)) == 1
    assert share(circuit_figures.previous_token_qk(shuffled(params, "blocks.4.attn.W_K", 11, "position")), offset=1) < 0.5
    assert share(circuit_figures.induction_qk(shuffled(params, "blocks.5.attn.W_K", 5, "previous token"), ids)) < 0.5
    assert share(circuit_figures.induction_ov(shuffled(params, "blocks.5.attn.W_V", 5, "token"), ids)) < 0.5
    assert share(circuit_figures.induction_qk(params, ids, head=(5, 4))) < 0.5, "a head of noise shows no diagonal"


def test_the_page_shows_how_the_circuit_is_built_on_the_stand_in_only(report):
    text = report.read_text()
    assert text.index('<h2 id="circuit">') > text.index('<h2 id="test_08_attention"')
    seen = " ".join(visible(text).split())
    assert all(f"{name} ({len(dims)})" in seen for name, dims in circuit.SUBSPACES.items())
    assert text.count('data-figure="Head ') == 3
    assert models.pytest_spec_page_sections(type("Config", (), {"stash": pytest.Stash()})()) == [], "no stand-in with a circuit: no section"
