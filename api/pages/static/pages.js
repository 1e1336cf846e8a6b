// grantflow pages: countdowns to server-given instants, and the call page's counts redrawn while it is open.
"use strict";

function remaining(ms) {
  if (ms <= 0) return "due";
  const s = Math.floor(ms / 1000), d = Math.floor(s / 86400), pad = (n) => String(n).padStart(2, "0");
  return d + " d " + pad(Math.floor(s % 86400 / 3600)) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
}

function tick(loaded) {
  // the server's instant at rendering, plus the time since the page loaded: this machine's clock is not trusted
  for (const el of document.querySelectorAll(".countdown")) {
    const left = Date.parse(el.dataset.at) - Date.parse(el.dataset.now) - (performance.now() - loaded);
    el.textContent = remaining(left);
  }
}

async function redraw(section) {
  const answer = await fetch(section.dataset.countsUrl, {credentials: "same-origin", cache: "no-store"});
  if (!answer.ok) return;
  const counts = await answer.json();
  let total = 0;
  for (const el of document.querySelectorAll("[data-count-of]")) {
    const n = counts[el.dataset.countOf] || 0;
    el.textContent = String(n);
  }
  for (const n of Object.values(counts)) total += n;
  const shown = document.getElementById("total");
  if (shown) shown.textContent = String(total);
}

document.addEventListener("DOMContentLoaded", () => {
  const loaded = performance.now();
  tick(loaded);
  setInterval(() => tick(loaded), 1000);
  const machine = document.getElementById("machine");
  if (machine) setInterval(() => redraw(machine).catch(() => undefined), 10000);
});
