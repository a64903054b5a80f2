package web

// pageCheck lists, one per line, what the open page gets wrong at the
// current screen size and colour scheme:
//   - the page scrolls sideways (scrollWidth > innerWidth);
//   - a visible button, a.btn or submit input lies partly outside the
//     viewport horizontally, or outside a box of its that scrolls or clips
//     sideways (those in a closed <details> are skipped: they are not
//     shown until it opens);
//   - text whose contrast with its effective background is below 4.5:1
//     (3:1 for large text: 24px, or 18.66px bold), from computed colours.
//
// The effective background is the element's own background-color or the
// nearest ancestor's that is not transparent, translucent layers blended
// over the ones beneath (white below the root). Text inside <svg> (its
// own colours, as a QR code's) and in elements not rendered, including
// content-visibility hidden (a closed <details>), is skipped, as are
// disabled controls (WCAG exempts inactive ones).
const pageCheck = `(() => {
	const bad = [];
	const W = window.innerWidth;
	const name = el => {
		let s = el.tagName.toLowerCase();
		if (el.dataset.testid) s += '[data-testid="' + el.dataset.testid + '"]';
		else if (el.id) s += "#" + el.id;
		else if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\s+/).join(".");
		const outer = el.parentElement && el.parentElement.closest("[data-testid]");
		if (!el.dataset.testid && outer) s += ' in [data-testid="' + outer.dataset.testid + '"]';
		const t = (el.value !== undefined && el.tagName !== "BUTTON" ? el.value : el.textContent).trim().replace(/\s+/g, " ").slice(0, 40);
		return s + (t ? ' "' + t + '"' : "");
	};
	const shown = el => el.getClientRects().length > 0 &&
		el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true, contentVisibilityAuto: true});

	for (const el of [document.documentElement, document.body]) {
		if (el.scrollWidth > W) bad.push("the page scrolls sideways: " + el.tagName.toLowerCase() + " scrollWidth " + el.scrollWidth + " > innerWidth " + W);
	}

	for (const el of document.querySelectorAll("button, a.btn, input[type=submit]")) {
		if (!shown(el) || el.closest("details:not([open]) > :not(summary)")) continue;
		const r = el.getBoundingClientRect();
		if (r.right > W + 1 || r.left < -1) {
			bad.push("outside the screen: " + name(el) + " spans x " + Math.round(r.left) + ".." + Math.round(r.right) + ", screen 0.." + W);
			continue;
		}
		// On the screen but cut off by a box that scrolls or clips
		// sideways (a table too wide for its card).
		for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
			if (getComputedStyle(a).overflowX === "visible") continue;
			const b = a.getBoundingClientRect();
			if (r.right > b.right + 1 || r.left < b.left - 1) {
				bad.push("cut off by its box: " + name(el) + " spans x " + Math.round(r.left) + ".." + Math.round(r.right) + ", " + name(a).split(" \"")[0] + " shows " + Math.round(b.left) + ".." + Math.round(b.right));
				break;
			}
		}
	}

	// Colours: rgb()/rgba() as Chromium computes them, [r, g, b, a].
	const rgba = c => {
		const m = /^rgba?\(([^)]*)\)$/.exec(c);
		if (!m) return null;
		const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
		return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
	};
	const over = (top, below) => [0, 1, 2].map(i => top[i] * top[3] + below[i] * (1 - top[3]));
	const background = el => {
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const c = rgba(getComputedStyle(e).backgroundColor);
			if (c === null) return null;
			if (c[3] > 0) layers.push(c);
			if (c[3] >= 1) break;
		}
		let rgb = [255, 255, 255];
		for (let i = layers.length - 1; i >= 0; i--) rgb = over(layers[i], rgb);
		return rgb;
	};
	const lum = rgb => {
		const [r, g, b] = rgb.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => p - q); return (y + 0.05) / (x + 0.05); };

	const texts = new Set();
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walk.nextNode(); n; n = walk.nextNode()) {
		if (n.textContent.trim() && n.parentElement) texts.add(n.parentElement);
	}
	for (const el of document.querySelectorAll("input:not([type=hidden],[type=checkbox],[type=radio],[type=range],[type=color]), select, textarea")) {
		if (el.value) texts.add(el);
	}
	const lines = [];
	for (const el of texts) {
		if (el.closest("svg, script, style, noscript, template") || el.disabled || !shown(el)) continue;
		const st = getComputedStyle(el);
		const fg = rgba(st.color), bg = background(el);
		if (fg === null || bg === null) { lines.push("unreadable colour: " + name(el) + " colour " + st.color); continue; }
		if (fg[3] === 0) continue;
		const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
		const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
		const got = ratio(over(fg, bg), bg);
		if (got < need) lines.push("contrast " + got.toFixed(2) + " < " + need + ": " + name(el) + " " + st.color + " on rgb(" + bg.map(Math.round).join(", ") + ")");
	}
	return bad.concat(lines.slice(0, 25)).join("\n");
})()`
