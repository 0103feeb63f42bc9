/* Evidence popup, filters and links: no libraries, nothing fetched. */
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
    pop.className = "pop " + kindClass(card) + (pin ? " pinned" : "");
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
      open(target.replace(/^in-/, ""));
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
    var held = showHeld.checked;
    var total = 0;
    var on = 0;
    document.querySelectorAll("[data-e]").forEach(function (el) {
      if (el === pop) { return; }
      var visible = kinds[el.getAttribute("data-k")] !== false &&
        parseFloat(el.getAttribute("data-c")) >= min - 1e-9 &&
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

  function fromHash() {
    var m = /^#(?:in|out|card|edit)-(\d+)$/.exec(location.hash);
    if (m) { open(m[1]); }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
}());
