"""The page (--spec-report) opens from disk in a real browser and its pictures actually draw."""

import re
import shutil
import subprocess

import pytest

from gpt2spec import page

from .conftest import run_pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="module")
def report(standin_home, tmp_path_factory):
    if page.missing_packages():
        pytest.skip(f"the page needs {page.missing_packages()}: pip install -e '.[report]'")
    path = tmp_path_factory.mktemp("page") / "report.html"
    result = run_pytest(
        "specs/test_05_output.py", "specs/test_08_attention.py", "--device", "cpu", "--spec-report", str(path),
        hf_home=standin_home,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    return path


def test_the_page_reads_like_the_notebook(report):
    text = report.read_text()
    assert "Output: &quot;What comes out?&quot;" in text and "Attention patterns" in text
    assert text.index("Output:") < text.index("Attention patterns")
    assert "test_the_next_token_is_that" in text and "needs OpenAI&#x27;s GPT-2 weights" in text
    remote = re.findall(r"<script[^>]*\bsrc=[\"']?(?:https?:)?//|\bfrom\s+[\"']https?://", text)
    assert not remote, "no script is loaded from a CDN: the page opens offline"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
def test_the_pictures_draw_in_headless_chromium(report, tmp_path):
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000", "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=300,
    ).stdout
    plot = dom[dom.index('id="log-prob-line"'):]
    assert 'class="main-svg"' in plot[:20000], "plotly drew the log-probability line"
    layer0 = dom[dom.index("id=\"attention-layer-0\""): dom.index("id=\"attention-layer-5\"")]
    assert "<canvas" in layer0, "circuitsvis drew layer 0 head 5"
    layer5 = dom[dom.index("id=\"attention-layer-5\""):]
    assert "<canvas" in layer5 and "L5H11" in layer5, "circuitsvis drew the layer 5 heads, named"
