/* Evidence popup, filters, links and the reviewer's decisions: no libraries, nothing fetched. */
(function () {
  "use strict";
  var pop = document.getElementById("pop");
  var conf = document.getElementById("conf");
  var confOut = document.getElementById("conf-out");
  var showHeld = document.getElementById("show-held");
  var shown = document.getElementById("shown");
  var pinned = null;
  var lit = [];

  function byId(id) { return document.getElementById(id); }

  function kindClass(el) {
    for (var i = 0; i < el.classList.length; i++) {
      if (el.classList[i].indexOf("k-") === 0) { return el.classList[i]; }
    }
    return "";
  }

  function light(i) {
    lit.forEach(function (el) { el.classList.remove("hl"); });
    lit = ["in-", "out-"].map(function (p) { return byId(p + i); }).filter(Boolean);
    lit.forEach(function (el) { el.classList.add("hl"); });
  }

  function show(el, pin) {
    var i = el.getAttribute("data-e");
    var card = byId("card-" + i);
    if (!card) { return; }
    // the cards were escaped when the page was written; copying them copies escaped text
    pop.innerHTML = card.innerHTML;
    pop.querySelectorAll("details.why").forEach(function (d) { d.open = true; });
    pop.className = "pop " + kindClass(card) + (pin ? " pinned" : "") + (card.getAttribute("data-d") ? " decided" : "");
    pop.setAttribute("data-e", i);
    pop.hidden = false;
    var r = el.getBoundingClientRect();
    var width = document.documentElement.clientWidth;
    var left = Math.max(8, Math.min(r.left, width - pop.offsetWidth - 8));
    pop.style.left = (window.scrollX + left) + "px";
    pop.style.top = (window.scrollY + r.bottom + 6) + "px";
    light(i);
    if (pin) { pinned = i; }
  }

  function hide(force) {
    if (pinned !== null && !force) { return; }
    pinned = null;
    pop.hidden = true;
    light(-1);
  }

  function open(i) {
    var el = byId("in-" + i) || byId("out-" + i);
    if (!el) { return; }
    var r = el.getBoundingClientRect();
    if (r.top < 40 || r.bottom > window.innerHeight - 40) { el.scrollIntoView({ block: "center" }); }
    show(el, true);
  }

  document.addEventListener("mouseover", function (ev) {
    var el = ev.target.closest && ev.target.closest(".e");
    if (el && pinned === null && !el.classList.contains("off")) { show(el, false); }
  });
  document.addEventListener("mouseout", function (ev) {
    var el = ev.target.closest && ev.target.closest(".e");
    if (el && pinned === null) { hide(false); }
  });
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button[data-act]");
    if (btn) {
      var holder = btn.closest("[data-e]");
      if (holder) { decide(holder.getAttribute("data-e"), btn.getAttribute("data-act"), btn.getAttribute("data-text")); }
      return;
    }
    var el = ev.target.closest(".e");
    if (el && !el.classList.contains("off")) {
      var i = el.getAttribute("data-e");
      if (pinned === i) { hide(true); } else { show(el, true); }
      return;
    }
    var tick = ev.target.closest(".tick, .goto");
    if (tick) {
      ev.preventDefault();
      var target = tick.getAttribute("href").slice(1);
      history.replaceState(null, "", "#" + target);
      open(indexOf(target));
      return;
    }
    if (!ev.target.closest("#pop")) { hide(true); }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { hide(true); return; }
    var el = document.activeElement;
    if ((ev.key === "Enter" || ev.key === " ") && el && el.classList.contains("e")) {
      ev.preventDefault();
      show(el, true);
    }
  });

  function applyFilters() {
    var kinds = {};
    document.querySelectorAll(".kind-filter").forEach(function (box) { kinds[box.value] = box.checked; });
    var min = parseFloat(conf.value);
    confOut.textContent = min.toFixed(2);
    var held = showHeld.checked;  // edits not applied are shown at any confidence while it is ticked
    var total = 0;
    var on = 0;
    document.querySelectorAll("[data-e]").forEach(function (el) {
      if (el === pop) { return; }
      var visible = kinds[el.getAttribute("data-k")] !== false &&
        ((held && el.getAttribute("data-a") !== "1") || parseFloat(el.getAttribute("data-c")) >= min - 1e-9) &&
        (held || el.getAttribute("data-a") === "1");
      el.classList.toggle("off", !visible);
      if (el.classList.contains("card")) { total += 1; on += visible ? 1 : 0; }
    });
    shown.textContent = "showing " + on + " of " + total + " edits";
    if (pinned !== null && byId("card-" + pinned).classList.contains("off")) { hide(true); }
  }

  document.querySelectorAll(".kind-filter").forEach(function (box) { box.addEventListener("change", applyFilters); });
  conf.addEventListener("input", applyFilters);
  showHeld.addEventListener("change", applyFilters);
  applyFilters();

  // "#edit-N" is the Nth edit as the cards number them (from 1); in-, out- and card- ids count from 0
  function indexOf(target) {
    var m = /^(in|out|card|edit)-(\d+)$/.exec(target);
    if (!m) { return null; }
    return m[1] === "edit" ? String(parseInt(m[2], 10) - 1) : m[2];
  }

  function fromHash() {
    var i = indexOf(location.hash.slice(1));
    if (i !== null) { open(i); }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();

  // ---- decisions: kept in the page (and the browser's storage for this input), downloaded as a file
  var body = document.body;
  var storeKey = "repair-decisions:" + body.getAttribute("data-sha");
  var made = {};  // edit index -> {decision, after}
  var save = byId("save");
  var madeOut = byId("made");
  var LABELS = { accepted: "accepted", rejected: "rejected", chosen: "chosen" };

  function mark(i) {
    var card = byId("card-" + i);
    var d = made[i];
    [card, pop.getAttribute("data-e") === i ? pop : null].forEach(function (box) {
      if (!box) { return; }
      box.classList.toggle("decided", !!d);
      var status = box.querySelector(".status");
      if (status) { status.textContent = d ? LABELS[d.decision] + (d.decision === "chosen" ? ": " + JSON.stringify(d.after) : "") : ""; }
      box.querySelectorAll("button.pick").forEach(function (b) {
        b.classList.toggle("on", !!d && d.decision === "chosen" && b.getAttribute("data-text") === d.after);
      });
    });
    if (d) { card.setAttribute("data-d", d.decision); } else { card.removeAttribute("data-d"); }
    var out = byId("out-" + i);
    if (out && d) {
      // the repaired column shows what the decision gives; the input column stays as it was
      out.textContent = d.decision === "rejected" ? card.getAttribute("data-before") :
        d.decision === "chosen" ? d.after : card.getAttribute("data-after");
      out.classList.toggle("na", d.decision === "rejected");
    }
  }

  function refresh() {
    var n = Object.keys(made).length;
    madeOut.textContent = n ? n + (n === 1 ? " decision" : " decisions") + " made" : "no decisions yet";
    save.disabled = n === 0;
    try { localStorage.setItem(storeKey, JSON.stringify(made)); } catch (e) { /* storage off: the download still works */ }
  }

  // an edit as the decisions file names it: a kept decision is restored only onto the same edit
  function keyOf(card) {
    return [card.getAttribute("data-s"), card.getAttribute("data-t"), card.getAttribute("data-k"),
      card.getAttribute("data-before")].join(":");
  }

  function decide(i, decision, text) {
    var card = byId("card-" + i);
    if (!card) { return; }
    var same = made[i] && made[i].decision === decision && (decision !== "chosen" || made[i].after === text);
    if (same) { delete made[i]; } else { made[i] = { decision: decision, after: decision === "chosen" ? text : null, key: keyOf(card) }; }
    mark(i);
    refresh();
  }

  function decisionsFile() {
    var list = Object.keys(made).map(Number).sort(function (a, b) { return a - b; }).map(function (i) {
      var card = byId("card-" + i);
      var d = { start: parseInt(card.getAttribute("data-s"), 10), end: parseInt(card.getAttribute("data-t"), 10),
        before: card.getAttribute("data-before"), kind: card.getAttribute("data-k"), decision: made[i].decision };
      if (made[i].decision === "chosen") { d.after = made[i].after; }
      return d;
    });
    return { format: "repair-decisions", version: 1, input: body.getAttribute("data-input"),
      input_sha256: body.getAttribute("data-sha"), decisions: list };
  }

  save.addEventListener("click", function () {
    var blob = new Blob([JSON.stringify(decisionsFile(), null, 1) + "\n"], { type: "application/json" });
    var a = document.createElement("a");
    var name = (body.getAttribute("data-input") || "input").split(/[\\/]/).pop().replace(/\.[^.]*$/, "");
    a.href = URL.createObjectURL(blob);
    a.download = name + ".decisions.json";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
  });

  try {
    var kept = JSON.parse(localStorage.getItem(storeKey) || "{}");
    Object.keys(kept).forEach(function (i) {
      var card = byId("card-" + i);
      if (card && kept[i].key === keyOf(card)) { made[i] = kept[i]; mark(i); }
    });
  } catch (e) { /* nothing kept */ }
  refresh();
}());
