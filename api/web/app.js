// The planner page: every call goes through the /v1 API with the key kept in this tab's session storage.
// User text (names, notes, reasons, file contents) only ever reaches the page as textContent.
"use strict";

(function () {
  const KEY_STORAGE = "annoplan.apiKey";
  const REPLAN_DELAY_MS = 350;
  const COLORS = { band: "#9ecae1", line: "#08519c", pilot: "#d94801", target: "#238b45", stop: "#6a51a3" };
  const state = { pilot: null, plan: null, request: null, quote: null, planSeq: 0, replanTimer: null };

  const $ = (id) => document.getElementById(id);

  function setText(id, text) {
    $(id).textContent = text === null || text === undefined ? "" : String(text);
  }

  function fillList(id, items) {
    const list = $(id);
    list.replaceChildren();
    for (const item of items || []) {
      const li = document.createElement("li");
      li.textContent = String(item);
      list.appendChild(li);
    }
  }

  function money(value, currency) {
    if (value === null || value === undefined) return "n/a";
    const number = Number(value).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return currency ? `${number} ${currency}` : number;
  }

  function count(value) {
    return value === null || value === undefined ? "n/a" : Math.round(Number(value)).toLocaleString("en-US");
  }

  function percent(value) {
    return `${(100 * Number(value)).toFixed(0)}%`;
  }

  // --- the API key: session storage only ----------------------------------------------------------------

  function apiKey() {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  }

  function showKeyState() {
    setText("key-state", apiKey() ? "Key set for this tab's session." : "No key yet: the API answers 401 without one.");
  }

  // --- calls ----------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem && problem.detail ? problem.detail : `the API answered ${status}`);
      this.status = status;
      this.fields = (problem && problem.errors) || [];
    }
  }

  async function api(method, path, body) {
    const headers = { "X-API-Key": apiKey(), Accept: "application/json" };
    const init = { method, headers, credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (!response.ok) {
      let problem = null;
      try {
        problem = await response.json();
      } catch (ignored) {
        problem = null;
      }
      throw new ApiError(response.status, problem);
    }
    return response;
  }

  function showStatus(text, isError) {
    setText("status", text);
    $("status").className = isError ? "error" : "";
    if (!isError) fillList("problem-fields", []);
  }

  function showError(error) {
    if (error instanceof ApiError) {
      showStatus(`${error.status}: ${error.message}`, true);
      fillList("problem-fields", error.fields.map((f) => `${f.field}: ${f.message}`));
    } else {
      showStatus(`Error: ${error.message}`, true);
    }
  }

  async function download(path, fallbackName) {
    const response = await api("GET", path);
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="?([A-Za-z0-9._-]+)"?/.exec(disposition);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = match ? match[1] : fallbackName;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  // --- pilot upload ----------------------------------------------------------------------------------------

  function fillFromRequest(request) {
    const setValue = (id, value) => {
      if (value !== undefined && value !== null) $(id).value = String(value);
    };
    setValue("name", request.name);
    setValue("notes", request.notes);
    setValue("pool_size", request.pool_size);
    if (request.goal && request.goal.type) {
      $("goal_type").value = request.goal.type;
      setValue("goal_value", request.goal.type === "model_metric" ? request.goal.target : request.goal.max_label_error);
      goalLabel();
    }
    const costs = request.costs || {};
    setValue("currency", costs.currency);
    for (const name of ["label", "review", "correction", "audit", "audit_rate", "platform_fee", "round_overhead"]) {
      setValue(`cost_${name}`, costs[name]);
    }
  }

  async function uploadPilot(file) {
    const content = await file.text();
    showStatus(`Reading ${file.name}...`);
    try {
      const response = await api("POST", "/v1/pilots/import", { content });
      const imported = await response.json();
      state.pilot = imported.pilot;
      if (imported.source === "request") {
        fillFromRequest(JSON.parse(content));
      }
      const rounds = imported.pilot.rounds.map((r) => `${count(r.n_labels)}: ${Number(r.value).toFixed(3)}`);
      const metric = imported.pilot.metric || "accuracy";
      const metricName = typeof metric === "object" ? metric.name : metric;
      setText("pilot-status", `${file.name}: ${rounds.length} rounds (labels: ${metricName}) ${rounds.join(", ")}`);
      fillList("pilot-warnings", imported.warnings);
      showStatus("Pilot read: set the scenario and plan.");
    } catch (error) {
      state.pilot = null;
      setText("pilot-status", `${file.name} could not be read.`);
      showError(error);
    }
  }

  // --- plans -----------------------------------------------------------------------------------------------

  function number(id) {
    return Number($(id).value);
  }

  function planRequest() {
    const goalType = $("goal_type").value;
    const goal = goalType === "model_metric"
      ? { type: goalType, target: number("goal_value") }
      : { type: goalType, max_label_error: number("goal_value") };
    const costs = { currency: $("currency").value.trim().toUpperCase() };
    for (const name of ["label", "review", "correction", "audit", "audit_rate", "platform_fee", "round_overhead"]) {
      costs[name] = number(`cost_${name}`);
    }
    const request = { pool_size: number("pool_size"), goal, pilot: state.pilot, costs };
    const name = $("name").value.trim();
    const notes = $("notes").value.trim();
    if (name) request.name = name;
    if (notes) request.notes = notes;
    return request;
  }

  async function makePlan() {
    if (!state.pilot) {
      showStatus("Upload a pilot first.", true);
      return;
    }
    const seq = ++state.planSeq;
    const request = planRequest();
    showStatus("Planning...");
    document.body.classList.add("busy");
    try {
      const response = await api("POST", "/v1/plans", request);
      const plan = await response.json();
      if (seq !== state.planSeq) return; // a newer plan was asked for meanwhile
      state.plan = plan;
      state.request = request;
      renderPlan(plan, request);
      showStatus(`Planned (plan ${plan.id}).`);
    } catch (error) {
      if (seq === state.planSeq) showError(error);
    } finally {
      if (seq === state.planSeq) document.body.classList.remove("busy");
    }
  }

  function replanSoon() {
    if (!state.plan) return;
    clearTimeout(state.replanTimer);
    state.replanTimer = setTimeout(makePlan, REPLAN_DELAY_MS);
  }

  function renderPlan(plan, request) {
    const currency = plan.currency;
    const rec = plan.recommendation;
    $("result").hidden = false;
    setText("plan-name", plan.name || "Plan");
    setText("plan-notes", request.notes || "");
    setText("rec-strategy", rec.reachable === false ? `${rec.strategy} (goal not reachable)` : rec.strategy);
    setText("rec-cost", money(rec.cost.p50, currency));
    setText("rec-p10", money(rec.cost.p10, currency));
    setText("rec-p90", money(rec.cost.p90, currency));
    setText("rec-savings", rec.savings_vs_manual ? money(rec.savings_vs_manual.p50, currency) : "n/a");
    const settings = [`batches of ${count(rec.batch_size)}`];
    if (rec.confidence_threshold !== null && rec.confidence_threshold !== undefined) {
      settings.push(`threshold ${Number(rec.confidence_threshold).toFixed(3)}`);
    }
    if (rec.human_labels_budget !== undefined) settings.push(`human labels budget ${count(rec.human_labels_budget)}`);
    if (rec.stop_rule) settings.push(`stop ${rec.stop_rule}`);
    setText("rec-settings", settings.join("; "));
    fillList("reasons", rec.reasons);
    fillList("warnings", plan.warnings);

    const body = $("strategies").querySelector("tbody");
    body.replaceChildren();
    for (const s of plan.strategies) {
      const row = document.createElement("tr");
      if (s.strategy === rec.strategy) row.className = "recommended";
      const cells = [
        s.strategy,
        money(s.cost.p10),
        money(s.cost.p50),
        money(s.cost.p90),
        money(s.cost.mean),
        count(s.human_labels.p50),
        Number(s.days.p50).toFixed(1),
        percent(s.probability_goal_met),
      ];
      cells.forEach((text, i) => {
        const cell = document.createElement(i === 0 ? "th" : "td");
        cell.textContent = text;
        row.appendChild(cell);
      });
      body.appendChild(row);
    }
    drawPlanCharts(plan, request);
    fillList("runbook", ((plan.policy && plan.policy.steps) || []).map((s) => `${s.action}: ${s.rule}`));
    $("download-quote").hidden = true;
    $("quote-result").replaceChildren();
    setText("tracking-status", "");
    fillList("advice", []);
    $("chart-burnup").hidden = true;
  }

  function drawPlanCharts(plan, request) {
    const charts = window.AnnoplanCharts;
    const curve = plan.learning_curve || [];
    const rounds = request.pilot.rounds;
    const metric = typeof request.pilot.metric === "object" ? request.pilot.metric.name : request.pilot.metric || "accuracy";
    const hlines = request.goal.type === "model_metric" ? [{ y: request.goal.target, color: COLORS.target, label: "target" }] : [];
    const stop = plan.recommendation.stop_at_labels;
    const x = curve.map((p) => p.n_labels);
    charts.xy($("chart-curve"), {
      title: "Learning curve",
      xlabel: "labels (log scale)",
      ylabel: metric,
      logX: true,
      series: [
        { kind: "band", x, lo: curve.map((p) => p.p10), hi: curve.map((p) => p.p90), color: COLORS.band, label: "P10-P90" },
        { kind: "line", x, y: curve.map((p) => p.p50), color: COLORS.line, label: "P50" },
        { kind: "points", x: rounds.map((r) => r.n_labels), y: rounds.map((r) => r.value), color: COLORS.pilot, label: "pilot" },
      ],
      hlines,
      vlines: stop ? [{ x: stop, color: COLORS.stop, label: "recommended stop" }] : [],
    });
    charts.ranges($("chart-costs"), {
      title: `Cost by strategy (${plan.currency}): P10-P90, P50, mean`,
      xlabel: plan.currency,
      rows: plan.strategies.map((s) => ({
        label: s.strategy,
        p10: Number(s.cost.p10),
        p50: Number(s.cost.p50),
        p90: Number(s.cost.p90),
        mean: Number(s.cost.mean),
        highlight: s.strategy === plan.recommendation.strategy,
      })),
    });
    const thresholds = plan.thresholds || [];
    const svg = $("chart-thresholds");
    svg.hidden = thresholds.length === 0;
    if (thresholds.length) {
      const tx = thresholds.map((t) => t.threshold);
      const chosen = thresholds.find((t) => t.chosen);
      charts.xy(svg, {
        title: "Threshold trade-off",
        xlabel: "confidence threshold",
        ylabel: "share of items",
        series: [
          { kind: "line", x: tx, y: thresholds.map((t) => t.coverage), color: COLORS.line, label: "coverage" },
          { kind: "line", x: tx, y: thresholds.map((t) => t.risk), color: COLORS.pilot, label: "risk" },
          { kind: "line", x: tx, y: thresholds.map((t) => t.upper_bound), color: COLORS.pilot, dash: true, label: "risk upper bound" },
        ],
        vlines: chosen ? [{ x: chosen.threshold, color: COLORS.stop, label: `chosen ${chosen.threshold.toFixed(3)}` }] : [],
      });
    }
  }

  // --- quotes ----------------------------------------------------------------------------------------------

  async function makeQuote() {
    if (!state.plan) return;
    const request = state.request;
    if (request.goal.type !== "labeled_dataset") {
      showStatus("A quote needs a labeled-dataset goal (at most a share of the pool wrong).", true);
      return;
    }
    const costs = request.costs;
    const body = {
      pool_size: request.pool_size,
      pilot: request.pilot,
      max_label_error: request.goal.max_label_error,
      vendor_costs: {
        review: costs.review,
        correction: costs.correction,
        audit: costs.audit,
        audit_rate: costs.audit_rate,
        round_overhead: costs.round_overhead,
      },
      margin: number("margin"),
      risk_level: number("risk_level"),
      validity_days: number("validity_days"),
      currency: costs.currency,
    };
    if (request.name) body.name = request.name;
    const vendor = $("vendor").value.trim();
    if (vendor) body.vendor = vendor;
    showStatus("Quoting...");
    try {
      const quote = await (await api("POST", "/v1/quotes", body)).json();
      state.quote = quote;
      const facts = [
        ["status", quote.status],
        ["price per correction", money(quote.price_per_correction, quote.currency)],
        ["price per audit", money(quote.price_per_audit, quote.currency)],
        ["price cap", money(quote.price_cap, quote.currency)],
        ["valid until", quote.valid_until],
        ["why", (quote.reasons || []).join(" ")],
      ];
      const list = $("quote-result");
      list.replaceChildren();
      for (const [term, value] of facts) {
        const dt = document.createElement("dt");
        dt.textContent = term;
        const dd = document.createElement("dd");
        dd.textContent = String(value);
        list.append(dt, dd);
      }
      $("download-quote").hidden = false;
      showStatus(`Quoted (quote ${quote.id}).`);
    } catch (error) {
      showError(error);
    }
  }

  // --- plan versus actual ----------------------------------------------------------------------------------

  const ACTUAL_COLUMNS = ["round", "human_labels", "cost", "corrections", "auto_accepted", "metric"];

  function actualRounds(text) {
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l);
    let columns = ACTUAL_COLUMNS;
    if (lines.length && /[a-z]/i.test(lines[0])) {
      columns = lines.shift().split(",").map((c) => c.trim());
    }
    return lines.map((line) => {
      const cells = line.split(",").map((c) => c.trim());
      const round = {};
      columns.forEach((column, i) => {
        if (cells[i] === undefined || cells[i] === "") return;
        round[column] = column === "cost" ? cells[i] : Number(cells[i]);
      });
      return round;
    });
  }

  async function reportActuals() {
    if (!state.plan) return;
    showStatus("Re-planning from the actuals...");
    try {
      const path = `/v1/plans/${encodeURIComponent(state.plan.id)}/actuals`;
      const tracked = await (await api("POST", path, { rounds: actualRounds($("actuals").value) })).json();
      const forecast = tracked.forecast;
      setText(
        "tracking-status",
        `${tracked.status.replace(/_/g, " ")}: spent ${money(tracked.spent, tracked.currency)}; total now ` +
          `${money(forecast.cost.p50, tracked.currency)} (P10 ${money(forecast.cost.p10)}, P90 ${money(forecast.cost.p90)}) ` +
          `against the plan's ${money(tracked.plan_cost.p50, tracked.currency)}.`
      );
      fillList("advice", tracked.advice);
      const rows = tracked.burn_up;
      const svg = $("chart-burnup");
      svg.hidden = false;
      const x = rows.map((r) => r.round);
      const actual = rows.filter((r) => r.actual !== null);
      window.AnnoplanCharts.xy(svg, {
        title: `Burn-up (${tracked.currency}, cumulative)`,
        xlabel: "round",
        ylabel: tracked.currency,
        series: [
          { kind: "band", x, lo: rows.map((r) => Number(r.plan_p10)), hi: rows.map((r) => Number(r.plan_p90)), color: COLORS.band, label: "plan P10-P90" },
          { kind: "line", x, y: rows.map((r) => Number(r.plan_p50)), color: COLORS.line, label: "plan P50" },
          { kind: "points", x: actual.map((r) => r.round), y: actual.map((r) => Number(r.actual)), color: COLORS.pilot, label: "actual" },
        ],
      });
      showStatus("Actuals reported; the workbook now has a Burn-up sheet.");
    } catch (error) {
      showError(error);
    }
  }

  // --- wiring ----------------------------------------------------------------------------------------------

  function goalLabel() {
    setText("goal_value_label", $("goal_type").value === "model_metric" ? "Target" : "Max label error");
  }

  function guard(action) {
    return (event) => {
      if (event) event.preventDefault();
      Promise.resolve(action()).catch(showError);
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    showKeyState();
    $("key-form").addEventListener("submit", guard(() => {
      sessionStorage.setItem(KEY_STORAGE, $("api-key").value);
      $("api-key").value = "";
      showKeyState();
    }));
    $("forget-key").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORAGE);
      showKeyState();
    });
    $("pilot-file").addEventListener("change", guard(() => {
      const file = $("pilot-file").files[0];
      return file ? uploadPilot(file) : undefined;
    }));
    $("goal_type").addEventListener("change", goalLabel);
    $("scenario").addEventListener("submit", guard(makePlan));
    $("scenario").addEventListener("change", replanSoon);
    $("download-plan").addEventListener("click", guard(() => download(`/v1/plans/${encodeURIComponent(state.plan.id)}/report.xlsx`, "plan.xlsx")));
    $("download-quote").addEventListener("click", guard(() => download(`/v1/quotes/${encodeURIComponent(state.quote.id)}/report.xlsx?copy=client`, "quote.xlsx")));
    $("quote-form").addEventListener("submit", guard(makeQuote));
    $("actuals-form").addEventListener("submit", guard(reportActuals));
  });
})();
