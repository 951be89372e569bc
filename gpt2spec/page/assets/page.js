// The page's one script: unpacks the inlined libraries (gzip + base64) with the browser's
// DecompressionStream, runs the figures' scripts that waited for them, then writes each figure's
// drawn size into data-drawn (tests/test_page.py reads it from headless Chromium).
(() => {  // in a function: its names stay out of the global scope the libraries run in
  const types = document.currentScript.dataset;  // the script types of the libraries and of the waiting scripts
  async function unpack(text) {
    const bytes = Uint8Array.from(atob(text.trim()), c => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return await new Response(stream).text();
  }
  async function draw() {
    for (const lib of document.querySelectorAll(`script[type="${types.libraryType}"]`)) {
      const script = document.createElement("script");
      script.text = await unpack(lib.textContent);
      document.head.append(script);
    }
    for (const waiting of document.querySelectorAll(`script[type="${types.deferredType}"]`)) {
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
})();
