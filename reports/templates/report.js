// MammoBench report: collapse, sort, filter. Inline, no network. Without JavaScript everything stays expanded.
(function () {
  "use strict";
  var doc = document;
  function each(sel, fn, root) { Array.prototype.forEach.call((root || doc).querySelectorAll(sel), fn); }

  // 1. collapse full tables and secondary figures (they are <details open> in the HTML)
  each("details.fold", function (d) { d.open = false; });

  // 2. a link to something inside a collapsed block opens it
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && doc.getElementById(id);
    if (!el) return;
    for (var p = el; p; p = p.parentElement) { if (p.tagName === "DETAILS") p.open = true; }
    el.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);
  if (location.hash) reveal();

  // 3. expand / collapse all
  var bar = doc.getElementById("toc");
  if (bar) {
    var btn = doc.createElement("button");
    btn.type = "button";
    btn.textContent = "expand all";
    btn.addEventListener("click", function () {
      var open = btn.textContent === "expand all";
      each("details.fold", function (d) { d.open = open; });
      btn.textContent = open ? "collapse all" : "expand all";
    });
    bar.appendChild(btn);
  }

  // 4. sortable columns: click a header; numbers sort as numbers ("0.812 [..]" by 0.812, "<0.001" as 0.0005)
  function key(text) {
    var t = text.trim().replace("\u2212", "-");
    if (t.indexOf("<") === 0) return parseFloat(t.slice(1)) / 2;
    var x = parseFloat(t);
    return isNaN(x) ? null : x;
  }
  each("table.data", function (table) {
    each("thead th", function (th, col) {
      th.title = "sort";
      th.addEventListener("click", function () {
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        each("thead th", function (h) { h.removeAttribute("aria-sort"); }, table);
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent, y = b.cells[col].textContent, kx = key(x), ky = key(y);
          if (kx !== null && ky !== null) return dir * (kx - ky);
          if (kx !== null) return -1;
          if (ky !== null) return 1;
          return dir * x.localeCompare(y);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    }, table);
  });

  // 5. filters by arm and attribute, built from the rows' data-arm / data-attribute
  each("table.data[data-filter]", function (table) {
    var rows = Array.prototype.slice.call(table.tBodies[0].rows), box = doc.createElement("div");
    var chosen = {};
    box.className = "filters";
    table.getAttribute("data-filter").split(" ").forEach(function (field) {
      var values = [];
      rows.forEach(function (r) {
        var v = r.getAttribute("data-" + field);
        if (v && values.indexOf(v) < 0) values.push(v);
      });
      if (values.length < 2) return;
      var label = doc.createElement("label"), select = doc.createElement("select");
      label.textContent = field + " ";
      select.setAttribute("data-field", field);
      [""].concat(values.sort()).forEach(function (v) {
        var o = doc.createElement("option");
        o.value = v;
        o.textContent = v || "all";
        select.appendChild(o);
      });
      select.addEventListener("change", function () {
        chosen[field] = select.value;
        rows.forEach(function (r) {
          r.hidden = Object.keys(chosen).some(function (f) {
            return chosen[f] && r.getAttribute("data-" + f) !== chosen[f];
          });
        });
      });
      label.appendChild(select);
      box.appendChild(label);
    });
    if (box.childNodes.length) table.parentNode.insertBefore(box, table);
  });
})();
