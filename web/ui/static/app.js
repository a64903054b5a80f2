// edgeward admin pages: progressive enhancement only; every page works
// without this file. Loaded with defer from the same origin (strict CSP).
"use strict";
(() => {
  // ---- Local times: <time datetime="RFC3339" data-local> (views/components/when)
  // shows the browser's local time, with the date only when not today.
  const pad = n => String(n).padStart(2, "0");
  const localTime = root => {
    const today = new Date().toDateString();
    for (const el of root.querySelectorAll("time[data-local][datetime]")) {
      const d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) continue;
      const hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
      el.textContent = d.toDateString() === today ? hm :
        d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + hm;
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
  // htmx swaps in new rows and cards: enhance them too.
  document.addEventListener("htmx:load", e => enhance(e.target));
})();
