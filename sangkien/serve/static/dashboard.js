// The dashboard page: fetches /api/v1/dashboard (and a unit's view on a drill-down), and the
// initiatives behind a worklist row when it is opened; renders with DOM nodes only. Every text
// from the data goes through textContent, never innerHTML, so a name cannot inject markup.
// Every word comes from the labels the server embeds (the catalogue of the page's language).
(function () {
  "use strict";

  var L = JSON.parse(document.getElementById("labels").textContent);
  var SVG = "http://www.w3.org/2000/svg";
  var PAGE = 20; // units drawn before "show all": a sector union can have thousands of units
  var ITEMS = 25; // initiatives per page of a worklist row's list
  var numbers = new Intl.NumberFormat(L.locale);
  var percent = new Intl.NumberFormat(L.locale, { style: "percent", maximumFractionDigits: 1 });
  var VIETNAM = 7 * 3600 * 1000; // every time shown is Vietnam time (UTC+7, no daylight saving)
  var state = { phase: null, view: null, showAll: false, summary: null, items: null };
  var main = document.getElementById("dashboard");
  // the program shown: ?program=CODE in the page's address (else the node's default program)
  var PROGRAM = new URLSearchParams(location.search).get("program");
  var PROGRAM_QUERY = PROGRAM ? "&program=" + encodeURIComponent(PROGRAM) : "";

  // --- small DOM helpers ------------------------------------------------------------
  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (key) {
        if (key === "text") node.textContent = props[key];
        else if (key === "class") node.className = props[key];
        else node.setAttribute(key, props[key]);
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function num(value) { return value === null || value === undefined ? "–" : numbers.format(value); }
  function pct(value) { return value === null || value === undefined ? "–" : percent.format(value); }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  // "04/12/2026 01:30 (UTC+7)": the one format people read times in, on the page as in the terminal
  function vnDate(ms) {
    var d = new Date(ms + VIETNAM);
    return two(d.getUTCDate()) + "/" + two(d.getUTCMonth() + 1) + "/" + d.getUTCFullYear();
  }
  function when(text) {
    if (!text) return "–";
    var ms = Date.parse(text), d = new Date(ms + VIETNAM);
    return vnDate(ms) + " " + two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " (UTC+7)";
  }
  function label(group, key) { return (L[group] && L[group][key]) || key || ""; }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "" : values[k]; });
  }

  // the phases' configured names, the same on the page, in the workbook and in the terminal
  function phaseName(p) {
    if (p.name) return p.name;
    var known = (state.view || state.summary || { phases: [] }).phases;
    for (var i = 0; i < known.length; i++) if (known[i].phase === p.phase && known[i].name) return known[i].name;
    return String(p.phase);
  }

  function figures(unit, phase) {
    if (!unit) return null;
    for (var i = 0; i < unit.phases.length; i++) if (unit.phases[i].phase === phase) return unit.phases[i];
    return null;
  }

  function bar(completion) {
    var wrap = el("span", { class: "bar", role: "img", "aria-label": pct(completion) });
    var fill = el("span", { class: "fill" + (completion !== null && completion >= 1 ? " done" : "") });
    fill.style.width = Math.min(100, Math.max(0, (completion || 0) * 100)).toFixed(1) + "%";
    wrap.appendChild(fill);
    return wrap;
  }

  function fetchJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (reply) {
      if (!reply.ok) {
        return reply.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(reply.status + " " + (body.detail || reply.statusText));
        });
      }
      return reply.json();
    });
  }

  // --- sections -----------------------------------------------------------------------
  function renderNational(view) {
    var box = clear(document.getElementById("national"));
    if (!view.unit) return;
    view.phases.forEach(function (p) {
      var f = figures(view.unit, p.phase);
      var counted = el("strong", { class: "counted", "data-value": String(f.counted), text: num(f.counted) });
      var card = el("article", { class: "card", "data-phase": String(p.phase) },
        el("h3", { text: phaseName(p) }),
        el("p", { class: "big" }, counted,
          el("span", { class: "of", text: " / " + (f.target === null ? L.no_target : num(f.target)) })),
        el("p", { class: "basis", text: label("bases", f.basis) }),
        bar(f.completion),
        el("p", { class: "completion" }, L.completion + ": ",
          el("strong", { "data-value": f.completion === null ? "" : String(f.completion), text: pct(f.completion) })));
      box.appendChild(card);
    });
  }

  function renderTabs(view) {
    var tabs = clear(document.getElementById("phase-tabs"));
    view.phases.forEach(function (p) {
      var button = el("button", { type: "button", "data-phase": String(p.phase),
        "aria-pressed": String(p.phase === state.phase), text: phaseName(p) });
      button.addEventListener("click", function () {
        state.phase = p.phase;
        renderTabs(state.view);
        renderUnits(state.view);
        renderWorklist(state.view);
        renderTrend(state.view);
        renderTargets(state.view);
        renderClusters(state.view);
      });
      tabs.appendChild(button);
    });
  }

  function ranked(units, phase) {
    return units.slice().sort(function (a, b) {
      var fa = figures(a, phase) || {}, fb = figures(b, phase) || {};
      var ca = fa.completion === undefined ? null : fa.completion;
      var cb = fb.completion === undefined ? null : fb.completion;
      if ((ca === null) !== (cb === null)) return ca === null ? 1 : -1;
      if (ca !== cb) return cb - ca;
      if ((fa.counted || 0) !== (fb.counted || 0)) return (fb.counted || 0) - (fa.counted || 0);
      return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
    });
  }

  function renderCrumbs(view) {
    var nav = clear(document.getElementById("crumbs"));
    var trail = view.path.concat([{ code: view.unit.code, name: view.unit.name }]);
    trail.forEach(function (step, i) {
      if (i > 0) nav.appendChild(el("span", { class: "sep", "aria-hidden": "true", text: "›" }));
      var last = i === trail.length - 1;
      if (last) nav.appendChild(el("span", { class: "here", "aria-current": "page", text: step.name }));
      else {
        var top = state.summary.unit && step.code === state.summary.unit.code;
        nav.appendChild(el("a", { href: top ? "#" : "#unit=" + encodeURIComponent(step.code), text: step.name }));
      }
    });
  }

  function renderUnits(view) {
    var body = clear(document.querySelector("#units tbody"));
    var more = clear(document.getElementById("units-more"));
    var rows = ranked(view.children, state.phase);
    var shown = state.showAll ? rows : rows.slice(0, PAGE);
    if (!rows.length) more.appendChild(document.createTextNode(L.no_units));
    shown.forEach(function (unit, i) {
      var f = figures(unit, state.phase) || { counted: 0, target: null, completion: null };
      var name = unit.children > 0
        ? el("button", { type: "button", class: "drill", "data-code": unit.code, title: L.open_unit, text: unit.name })
        : el("span", { text: unit.name });
      if (unit.children > 0) {
        name.addEventListener("click", function () { location.hash = "unit=" + encodeURIComponent(unit.code); });
      }
      body.appendChild(el("tr", { "data-code": unit.code },
        el("td", { class: "num", text: String(i + 1) }),
        el("td", { class: "name" }, name, el("span", { class: "code", text: unit.code })),
        el("td", { class: "kind", text: label("kinds", unit.kind) }),
        el("td", { class: "num", "data-value": String(f.counted), text: num(f.counted) }),
        el("td", { class: "num target", text: f.target === null ? "–" : num(f.target) }),
        el("td", { class: "bar-col" }, bar(f.completion), el("span", { class: "pct", text: pct(f.completion) }))));
    });
    if (shown.length < rows.length) {
      var all = el("button", { type: "button", class: "more", text: L.show_all + " (" + num(rows.length) + ")" });
      all.addEventListener("click", function () { state.showAll = true; renderUnits(view); });
      more.appendChild(all);
    }
  }

  function renderTrend(view) {
    var box = clear(document.getElementById("trend"));
    document.getElementById("trend-unit").textContent = "— " + view.unit.name;
    var points = view.history.filter(function (h) { return h.phase === state.phase; });
    var f = figures(view.unit, state.phase);
    var target = f ? f.target : null;
    if (!points.length) { box.appendChild(el("p", { class: "muted", text: L.no_history })); return; }
    // drawn at the box's own width so that text keeps its size on a phone and a wide screen
    var W = Math.max(300, Math.round(box.clientWidth || 640) - 16), H = W < 500 ? 200 : 260;
    var left = 64, right = 16, top = 20, bottom = 32;
    var times = points.map(function (p) { return Date.parse(p.as_of); });
    var t0 = Math.min.apply(null, times), t1 = Math.max.apply(null, times);
    var peak = Math.max(target || 0, Math.max.apply(null, points.map(function (p) { return p.counted; })), 1);
    var step = niceStep(peak / 4), high = Math.ceil(peak * 1.05 / step) * step;
    function x(t) { return t1 === t0 ? (left + W - right) / 2 : left + (t - t0) / (t1 - t0) * (W - left - right); }
    function y(v) { return H - bottom - v / high * (H - top - bottom); }
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, class: "trend", role: "img",
      "aria-label": L.trend + " — " + phaseName({ phase: state.phase }) });
    for (var v = 0; v <= high + step / 2; v += step) {
      chart.appendChild(svg("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }));
      chart.appendChild(svg("text", { x: left - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" },
        numbers.format(v)));
    }
    chart.appendChild(svg("text", { x: left, y: H - 8, class: "axis" }, vnDate(t0)));
    chart.appendChild(svg("text", { x: W - right, y: H - 8, class: "axis", "text-anchor": "end" }, vnDate(t1)));
    if (target !== null) {
      chart.appendChild(svg("line", { x1: left, x2: W - right, y1: y(target), y2: y(target), class: "target" }));
      chart.appendChild(svg("text", { x: W - right, y: y(target) - 6, class: "target-label", "text-anchor": "end" },
        L.target_line + " " + numbers.format(target)));
    }
    chart.appendChild(svg("polyline", { class: "line", points: points.map(function (p, i) {
      return x(times[i]).toFixed(1) + "," + y(p.counted).toFixed(1);
    }).join(" ") }));
    points.forEach(function (p, i) {
      var dot = svg("circle", { cx: x(times[i]).toFixed(1), cy: y(p.counted).toFixed(1), r: 3, class: "dot" });
      dot.appendChild(svg("title", {}, when(p.as_of) + ": " + numbers.format(p.counted)));
      chart.appendChild(dot);
    });
    box.appendChild(chart);
  }

  // 1, 2 or 5 times a power of ten, at least ``rough`` and never below 1 (counts are whole)
  function niceStep(rough) {
    if (rough <= 1) return 1;
    var power = Math.pow(10, Math.floor(Math.log10(rough)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * power >= rough) return steps[i] * power;
    return 10 * power;
  }

  function table(columns, rows, empty) {
    if (!rows.length) return el("p", { class: "muted", text: empty });
    var head = el("tr");
    columns.forEach(function (c) { head.appendChild(el("th", { scope: "col", class: c.num ? "num" : "", text: c.title })); });
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr");
      columns.forEach(function (c) {
        var value = c.value(row);
        var cell = el("td", { class: (c.num ? "num " : "") + (c.cls ? c.cls(row) : "") },
          value === null || value === undefined ? "" : String(value));
        if (c.tip && c.tip(row)) cell.setAttribute("title", c.tip(row));
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
    return el("table", { class: "plain" }, el("thead", null, head), body);
  }

  // --- the worklist: where the sources disagree, for the unit on screen and the units under it ---
  function renderWorklist(view) {
    var box = clear(document.getElementById("worklist"));
    var count = clear(document.getElementById("worklist-count"));
    document.getElementById("worklist-unit").textContent = L.worklist_of + " " + view.unit.name;
    if (view.program && !view.program.default) {
      box.appendChild(el("p", { class: "muted", text: L.worklist_default_only }));
      return;
    }
    var page = view.worklist && view.worklist.phases[String(state.phase)];
    var rows = page ? page.rows : [];
    if (!rows.length) { box.appendChild(el("p", { class: "muted", text: L.no_worklist })); return; }
    var list = el("ol", { class: "work", start: String(1) });
    rows.forEach(function (row, i) {
      var open = row.items > 0 ? el("button", { type: "button", class: "open", "data-rank": String(row.rank),
        text: L.open_list + " (" + num(row.items) + ")" }) : null;
      if (open) open.addEventListener("click", function () { openItems(row); });
      var where = el("p", { class: "where" }, el("strong", { text: row.unit_name || row.unit_code }),
        row.source_label ? el("span", { class: "muted", text: " · " + row.source_label }) : null);
      var last = row.effect_text ? el("p", { class: "effect" }, el("span", { text: row.effect_text + " " }), open)
        : el("p", { class: "effect" }, open);
      var item = el("li", { class: "row" + (row.crosses ? " crosses" : ""), "data-rank": String(row.rank),
                            "data-items": String(row.items),
                            "data-unit": row.unit_code, "data-cause": row.cause, title: row.cause_label },
        el("span", { class: "n", text: String(i + 1) }),
        el("div", { class: "body" }, where, el("p", { class: "explain", text: row.explanation }), last));
      list.appendChild(item);
    });
    box.appendChild(list);
    count.textContent = fill(L.worklist_shown, { shown: num(rows.length), total: num(page.total) });
  }

  // --- the initiatives behind a worklist row: paged, filtered on the server ---
  function itemsUrl() {
    var it = state.items, r = it.row, f = it.filter;
    var q = ["unit=" + encodeURIComponent(r.unit_code), "phase=" + r.phase, "kind=" + encodeURIComponent(r.kind),
      "cause=" + encodeURIComponent(r.cause), "source=" + encodeURIComponent(r.source || ""),
      "offset=" + it.offset, "limit=" + ITEMS];
    Object.keys(f).forEach(function (k) { if (f[k]) q.push(k + "=" + encodeURIComponent(f[k])); });
    return "api/v1/worklist/initiatives?" + q.join("&");
  }

  function openItems(row) {
    state.items = { row: row, offset: 0, filter: {} };
    var panel = document.getElementById("items");
    panel.hidden = false;
    document.getElementById("items-about").textContent = (row.unit_name || row.unit_code) + " · " +
      row.cause_label + (row.source_label ? " · " + row.source_label : "") + " · " + phaseName({ phase: row.phase });
    document.getElementById("items-filter").reset();
    loadItems();
    panel.scrollIntoView();
  }

  function closeItems() {
    state.items = null;
    document.getElementById("items").hidden = true;
  }

  function loadItems() {
    var it = state.items;
    if (!it) return;
    var panel = document.getElementById("items");
    panel.setAttribute("data-state", "loading");
    fetchJSON(itemsUrl()).then(function (page) {
      if (state.items !== it) return; // another row was opened meanwhile
      renderItems(page);
      panel.setAttribute("data-state", "ready");
    }).catch(fail);
  }

  function renderItems(page) {
    var box = clear(document.getElementById("items-table"));
    box.appendChild(table([
      { title: L.id, value: function (r) { return r.initiative_id; }, num: true },
      { title: L.initiative_title, value: function (r) { return r.title || "–"; } },
      { title: L.unit, value: function (r) { return (r.unit_name || "") + " (" + r.unit_code + ")"; } },
      { title: L.status, value: function (r) { return label("statuses", r.status); } },
      { title: L.held_by, value: function (r) {
        return r.held_by.map(function (h) { return h.source + ": " + h.record; }).join("; ");
      } }
    ], page.rows, L.no_items));
    var at = Math.floor(page.offset / page.limit) + 1;
    // filtered, the server does not count every match (a national row has hundreds of thousands): page on
    var caption = page.total === null ? fill(L.page_only, { page: num(at) })
      : fill(L.page_of, { page: num(at), pages: num(Math.max(1, Math.ceil(page.total / page.limit))),
                          total: num(page.total) });
    document.getElementById("items-page").textContent = caption;
    document.getElementById("items-prev").disabled = page.offset === 0;
    document.getElementById("items-next").disabled = !page.more;
  }

  function wireItems() {
    var status = document.querySelector("#items-filter select[name=status]");
    status.appendChild(el("option", { value: "", text: L.filter_all }));
    ["valid", "pending", "rejected"].forEach(function (s) {
      status.appendChild(el("option", { value: s, text: label("statuses", s) }));
    });
    document.getElementById("items-filter").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!state.items) return;
      var form = event.target;
      state.items.filter = { status: form.status.value, in_unit: form.in_unit.value.trim(), q: form.q.value.trim() };
      state.items.offset = 0;
      loadItems();
    });
    document.getElementById("items-prev").addEventListener("click", function () {
      if (!state.items) return;
      state.items.offset = Math.max(0, state.items.offset - ITEMS);
      loadItems();
    });
    document.getElementById("items-next").addEventListener("click", function () {
      if (!state.items) return;
      state.items.offset += ITEMS;
      loadItems();
    });
    document.getElementById("items-close").addEventListener("click", closeItems);
  }

  function renderSources(list) {
    var box = clear(document.getElementById("sources"));
    box.appendChild(table([
      { title: L.source, value: function (r) { return r.source; } },
      { title: L.last_sync, value: function (r) { return when(r.last_sync_at); } },
      // the kind of error in the page's language; the source's own message (often English) on hover
      { title: L.sync_status, value: function (r) {
        return label("sync_statuses", r.status) + (r.error_type ? ": " + label("error_types", r.error_type) : "");
      }, cls: function (r) { return "status-" + r.status; }, tip: function (r) { return r.error || ""; } },
      { title: L.last_ok, value: function (r) { return when(r.last_ok_at); } },
      { title: L.received, value: function (r) { return num(r.received); }, num: true },
      { title: L.accepted, value: function (r) { return num(r.accepted); }, num: true },
      { title: L.held, value: function (r) { return num(r.quarantined); }, num: true }
    ], list, L.no_sources));
  }

  // --- every target of the unit on screen (who set it; shares of members or units), and cluster ranks ---
  // Both sections stay hidden where there is nothing more than the units' table shows: one target a unit
  // and phase on valid initiatives, no competition clusters loaded.
  var shareFormat = new Intl.NumberFormat(L.locale, { maximumFractionDigits: 2 });
  function isShare(t) { return t.basis.indexOf("share_of") === 0; }
  function renderTargets(view) {
    var box = document.getElementById("targets-box");
    var rows = (view.targets || []).filter(function (t) { return t.phase === state.phase; });
    box.hidden = !(rows.length > 1 || rows.some(isShare));
    if (box.hidden) return;
    document.getElementById("targets-unit").textContent = view.unit.name;
    clear(document.getElementById("targets")).appendChild(table([
      { title: L.set_by, value: function (t) { return t.self_set ? L.self_set : (t.assigned_by_name || t.assigned_by); } },
      { title: L.basis, value: function (t) { return label("bases", t.basis); } },
      { title: L.target, num: true, value: function (t) { return isShare(t) ? shareFormat.format(t.target) + " %" : num(t.target); } },
      { title: L.counted, num: true, value: function (t) {
        if (t.counted === null || t.counted === undefined) return L.no_member_count;
        return isShare(t) ? shareFormat.format(t.counted) + " %" : num(t.counted); } },
      { title: L.completion, num: true, value: function (t) { return pct(t.completion); } }
    ], rows, ""));
  }

  function renderClusters(view) {
    var box = document.getElementById("clusters-box");
    var found = (view.clusters || []).filter(function (c) { return c.phase === state.phase; });
    box.hidden = !found.length;
    var holder = clear(document.getElementById("clusters"));
    found.forEach(function (c) {
      holder.appendChild(el("h3", { text: c.name }));
      holder.appendChild(table([
        { title: L.rank, num: true, value: function (u) { return u.rank + "/" + u.of; } },
        { title: L.unit, value: function (u) { return u.name || u.code; } },
        { title: L.counted, num: true, value: function (u) { return num(u.valid); } },
        { title: L.target, num: true, value: function (u) { return num(u.target); } },
        { title: L.completion, num: true, value: function (u) { return pct(u.completion); } }
      ], c.units, ""));
    });
  }

  // --- the program switch: shown when the store holds more than one program ---
  function renderPrograms(summary) {
    var nav = document.getElementById("programs");
    var programs = summary.programs || [];
    nav.hidden = programs.length < 2;
    if (nav.hidden) return;
    var links = clear(document.getElementById("program-links"));
    programs.forEach(function (p) {
      var href = "?lang=" + L.lang + (p.default ? "" : "&program=" + encodeURIComponent(p.code));
      var link = el("a", { href: href, "data-program": p.code, title: p.code, text: p.name });
      if (p.code === summary.program.code) link.setAttribute("aria-current", "page");
      links.appendChild(link);
    });
    document.getElementById("program-note").hidden = summary.program.default;
  }

  // --- loading and navigation ---------------------------------------------------------
  function showView(view) {
    state.view = view;
    state.showAll = false;
    closeItems();
    renderTabs(view);
    renderCrumbs(view);
    renderUnits(view);
    renderWorklist(view);
    renderTrend(view);
    renderTargets(view);
    renderClusters(view);
  }

  function fail(error) {
    var status = document.getElementById("status");
    status.textContent = L.load_error + ": " + error.message;
    status.className = "status error";
    status.setAttribute("role", "alert");
    main.setAttribute("data-state", "error");
  }

  function ready() {
    document.getElementById("status").textContent = "";
    main.setAttribute("data-state", "ready");
    main.setAttribute("data-render-ms", String(Math.round(performance.now())));
  }

  function route() {
    var match = /^#unit=(.+)$/.exec(location.hash);
    main.setAttribute("data-state", "loading");
    if (!match || (state.summary.unit && decodeURIComponent(match[1]) === state.summary.unit.code)) {
      showView(state.summary);
      ready();
      return;
    }
    fetchJSON("api/v1/dashboard/units/" + match[1] + "?lang=" + L.lang + PROGRAM_QUERY +
              (state.phase === null ? "" : "&phase=" + state.phase))
      .then(function (view) { showView(view); ready(); document.getElementById("h-units").scrollIntoView(); })
      .catch(fail);
  }

  wireItems();
  fetchJSON("api/v1/dashboard?lang=" + L.lang + PROGRAM_QUERY).then(function (summary) {
    state.summary = summary;
    renderPrograms(summary);
    document.getElementById("as-of").textContent = summary.as_of ? when(summary.as_of) : L.never_synced;
    if (summary.as_of) document.getElementById("as-of").setAttribute("datetime", summary.as_of);
    renderNational(summary);
    renderSources(summary.sources);
    state.phase = summary.rank_phase;
    if (!summary.unit) { ready(); return; }
    window.addEventListener("hashchange", route);
    var resizing = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizing);
      resizing = setTimeout(function () { if (state.view) renderTrend(state.view); }, 150);
    });
    route();
  }).catch(fail);
})();
