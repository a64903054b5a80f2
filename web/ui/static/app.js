// edgeward admin pages: progressive enhancement only; every page works
// without this file. Loaded with defer from the same origin (strict CSP).
"use strict";
(() => {
  // ---- Local times: <time datetime="RFC3339" data-local> (views/components/when)
  // shows the browser's local time, with the date only when not today;
  // <time datetime data-local-title> keeps its text (a duration) and gets
  // the local date and time as its tooltip.
  const pad = n => String(n).padStart(2, "0");
  const local = (d, date) => (date ? d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " : "") +
    pad(d.getHours()) + ":" + pad(d.getMinutes());
  const localTime = root => {
    const today = new Date().toDateString();
    for (const el of root.querySelectorAll("time[datetime]:is([data-local], [data-local-title])")) {
      const d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) continue;
      if (el.hasAttribute("data-local-title")) {
        el.title = local(d, true);
        continue;
      }
      el.textContent = local(d, d.toDateString() !== today);
      el.title = d.toString();
    }
  };

  // ---- Copy buttons: <button data-copy="#id" hidden> (views/components/copy)
  // copy the target's text (or value) and say so for two seconds.
  const copyText = async target => {
    const text = "value" in target ? target.value : target.textContent;
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Plain http on a LAN address is not a secure context: no
      // clipboard API there, so select the text and use the old command.
      const range = document.createRange();
      if ("select" in target) target.select(); else {
        range.selectNodeContents(target);
        const sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
      return document.execCommand("copy");
    }
  };
  const copyButtons = root => {
    for (const b of root.querySelectorAll("button[data-copy]")) b.hidden = false;
  };
  document.addEventListener("click", async e => {
    const b = e.target.closest("button[data-copy]");
    const target = b && document.querySelector(b.dataset.copy);
    if (!target) return;
    const label = b.dataset.label || (b.dataset.label = b.textContent.trim());
    b.textContent = (await copyText(target)) ? "Copied" : "Select and copy";
    setTimeout(() => { b.textContent = label; }, 2000);
  });

  const enhance = root => { localTime(root); copyButtons(root); };
  enhance(document);
  // New content (htmx swaps, polls, rows from the event stream) is
  // enhanced as it is added, before it is painted: htmx:load comes only
  // after the settle delay, so a polled time would blink in UTC.
  // The parent is enhanced so that an added <time> itself counts too.
  new MutationObserver(records => {
    const parents = new Set();
    for (const r of records) {
      for (const n of r.addedNodes) if (n.nodeType === 1 && n.parentNode) parents.add(n.parentNode);
    }
    parents.forEach(enhance);
  }).observe(document.body, {childList: true, subtree: true});
})();

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
