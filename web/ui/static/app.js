// ---- Graph hover: the traffic graph (views/components/graph) reads out
// the rates and time under the pointer. The values come from the lines'
// own points and the scale in data-graph-*; without this the SVG, its
// axes and legend stay complete.
(() => {
  const rate = bytes => {
    const bits = bytes * 8;
    for (const [div, unit] of [[1e9, "Gbit/s"], [1e6, "Mbit/s"], [1e3, "kbit/s"]]) {
      if (bits >= div) return (bits / div).toFixed(bits / div >= 100 ? 0 : 1) + " " + unit;
    }
    return Math.round(bits) + " bit/s";
  };
  const ago = secs => secs <= 0 ? "now" : secs < 60 ? "-" + secs + " s" : "-" + Math.round(secs / 60) + " min";
  // at is the point of line nearest to x (the lines share their x).
  const at = (line, x) => {
    let best = null;
    for (const p of (line?.getAttribute("points") || "").split(" ")) {
      const [px, py] = p.split(",").map(Number);
      if (best === null || Math.abs(px - x) < Math.abs(best[0] - x)) best = [px, py];
    }
    return best;
  };
  const show = (svg, clientX) => {
    const fig = svg.closest(".graph"), out = fig?.querySelector(".graph-readout");
    const box = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
    const rx = at(svg.querySelector(".graph-rx"), (clientX - box.left) / box.width * vb.width);
    if (!out || !rx) return;
    const tx = at(svg.querySelector(".graph-tx"), rx[0]);
    // A point's x is its slot; the right edge is now.
    const top = Number(svg.dataset.graphTop);
    const value = y => rate((vb.height - y) / vb.height * top);
    out.textContent = ago((vb.width - rx[0]) * Number(svg.dataset.graphStep)) + ": received " + value(rx[1]) +
      ", sent " + value(tx[1]);
    const cursor = svg.querySelector(".graph-cursor");
    cursor.setAttribute("x1", rx[0]);
    cursor.setAttribute("x2", rx[0]);
    fig.classList.add("graph-hover");
  };
  // Delegated: htmx replaces the graph every few seconds.
  document.addEventListener("pointermove", e => {
    const svg = e.target.closest?.("svg[data-graph-top]");
    if (svg) show(svg, e.clientX);
  });
  document.addEventListener("pointerout", e => {
    const svg = e.target.closest?.("svg[data-graph-top]");
    if (!svg || svg.contains(e.relatedTarget)) return;
    const fig = svg.closest(".graph");
    fig.classList.remove("graph-hover");
    fig.querySelector(".graph-readout").textContent = "";
  });
})();
