// The Sohar mock console. A client of the admin API (openapi/admin.yaml) and nothing else:
// it polls GET /__admin/health, and when the mock's change counter moved, asks only for what
// changed since its cursor (`since=`). No build step, no dependency.
"use strict";

const POLL_MS = 700;
const SLOW_EVERY = 5; // endpoints and scenario files: every fifth poll, and after each action
const KEEP_ROWS = 1000;
const SHOW_ROWS = 300;
const KEEP_JOURNAL = 200;

// One entry per product with the asynchronous lifecycle (created → pending → final on the mock
// clock, a webhook per change, forced statuses): each says where the admin API keeps it and how
// its rows and details read; everything else is shared.
const RESOURCES = [
  {
    key: "verifications",
    title: "Verifications",
    noun: "verification",
    idField: "verificationId",
    list: "/__admin/verifications",
    detail: (id) => `/__admin/verifications/${encodeURIComponent(id)}`,
    forceOperation: "/__admin/verifications/{verificationId}/status",
    deliveriesFilter: "verificationId",
    healthCount: "verifications",
    cap: "--max-verifications",
    bodyTitle: "Get Verification body",
    placeholder: "id, verification id, member, rule",
    empty: "Nothing yet: create one through the API, or run `sohar-mock trigger complete.eligible`.",
    reasons: true,
    // `optional` columns give way on a phone's width, `secondary` ones to an open detail panel;
    // the row's button opens everything.
    columns: [
      { title: "created", cell: (v) => timeCell(v.created), optional: true },
      { title: "status", cell: (v) => statusCell(v.status, v.statusReason) },
      { title: "env", cell: (v) => text(v.environment), optional: true },
      { title: "verification id", cell: (v) => idCell(v.verificationId, true) },
      { title: "id", cell: (v) => text(v.id || ""), optional: true },
      { title: "member", cell: (v) => text(v.memberId || ""), optional: true },
      { title: "decided by", cell: (v) => text(v.rule || "roster"), optional: true, secondary: true },
      { title: "next transition", cell: (v) => nextCell(v.nextTransitionAt), optional: true, secondary: true },
    ],
    searchable: (v) => [v.verificationId, v.id, v.memberId, v.rule || "roster", v.payerId, v.status, v.statusReason],
    facts: (v) => [
      ["status", statusBadge(v.status)],
      ["statusReason", text(v.statusReason || "—")],
      ["environment", text(v.environment)],
      ["id", text(v.id || "—")],
      ["member / payer", text(`${v.memberId || "—"} / ${v.payerId || "—"}`)],
      ["decided by", text(v.rule || "the roster")],
      ["created", timeCell(v.created)],
      ["next transition", v.nextTransitionAt ? nextCell(v.nextTransitionAt) : text("—")],
    ],
    forceBody: (form) => ({ status: form.status, statusReason: form.reason || null }),
    forced: (answer) => `${answer.status}${answer.statusReason ? ` / ${answer.statusReason}` : ""}`,
  },
  {
    key: "discoveries",
    title: "Discoveries",
    noun: "discovery",
    idField: "discoveryId",
    list: "/__admin/discoveries",
    detail: (id) => `/__admin/discoveries/${encodeURIComponent(id)}`,
    forceOperation: "/__admin/discoveries/{discoveryId}/status",
    deliveriesFilter: "discoveryId",
    healthCount: "discoveries",
    cap: "--max-discoveries",
    bodyTitle: "Get Discovery body",
    placeholder: "id, discovery id, state, payer, member, rule",
    empty: "Nothing yet: create one through the API (POST /v2/discovery), or run `sohar-mock discover NY`.",
    reasons: false,
    columns: [
      { title: "created", cell: (d) => timeCell(d.created), optional: true },
      { title: "status", cell: (d) => statusBadge(d.status) },
      { title: "env", cell: (d) => text(d.environment), optional: true },
      { title: "discovery id", cell: (d) => idCell(d.discoveryId, true) },
      { title: "id", cell: (d) => text(d.id || ""), optional: true },
      { title: "state", cell: (d) => text(d.state || ""), optional: true, secondary: true },
      { title: "found", cell: (d) => text(foundSummary(d)), optional: true },
      { title: "decided by", cell: (d) => text(d.rule || "roster search"), optional: true, secondary: true },
      { title: "next transition", cell: (d) => nextCell(d.nextTransitionAt), optional: true, secondary: true },
    ],
    searchable: (d) => [
      d.discoveryId,
      d.id,
      d.state,
      d.rule || "roster search",
      d.status,
      ...d.coverages.flatMap((c) => [c.payerId, c.memberId]),
    ],
    facts: (d) => [
      ["status", statusBadge(d.status)],
      ["environment", text(d.environment)],
      ["id", text(d.id || "—")],
      ["state searched", text(d.state || "—")],
      ["coverages found", text(d.status === "complete" ? coverageList(d.coverages) : "— (still searching)")],
      ["decided by", text(d.rule || "the roster search")],
      ["created", timeCell(d.created)],
      ["next transition", d.nextTransitionAt ? nextCell(d.nextTransitionAt) : text("—")],
    ],
    // `complete` with no coverages typed: what the scenarios decide for its request.
    forceBody: (form) => {
      const coverages = parseCoverages(form.coverages || "");
      return form.status === "complete" && coverages.length ? { status: form.status, coverages } : { status: form.status };
    },
    forced: (answer) => `${answer.status}${answer.status === "complete" ? ` (found: ${coverageList(answer.coverages)})` : ""}`,
  },
];

function coverageList(coverages) {
  return coverages.length ? coverages.map((c) => `${c.payerId} / ${c.memberId}`).join(", ") : "none";
}

function foundSummary(discovery) {
  if (discovery.status !== "complete") return "";
  const [first, ...more] = discovery.coverages;
  if (!first) return "none";
  return `${first.payerId} / ${first.memberId}${more.length ? ` +${more.length}` : ""}`;
}

// "60054:00000001, 62308:A100" → [{payerId, memberId}, …]; a malformed pair goes to the mock as
// typed, so its refusal is the mock's own message.
function parseCoverages(typed) {
  return typed
    .split(/[,\n]/)
    .map((pair) => pair.trim())
    .filter((pair) => pair)
    .map((pair) => {
      const [payerId, ...rest] = pair.split(":");
      return { payerId: payerId.trim(), memberId: rest.join(":").trim() };
    });
}

const state = {
  resource: RESOURCES[0],
  items: new Map(), // id -> summary
  order: new Map(), // id -> first-seen order, for rows created at the same mock instant
  seen: 0,
  cursor: null, // revision of the last listing; null: load afresh
  lastRevision: null,
  resetRevision: null,
  selected: null,
  journal: [],
  journalSeq: 0,
  now: null, // mock clock, Unix seconds
  tick: 0,
  forceChoice: null, // {id, status, reason} being chosen: kept when a poll redraws the form
  timer: null,
  inFlight: null,
};

// -- DOM helpers: text only, never HTML from data ---------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const $ = (selector) => document.querySelector(selector);
const text = (value) => document.createTextNode(value === null || value === undefined ? "" : String(value));

// Re-rendering replaces elements; the one that had focus gets it back by its data-key.
function keepingFocus(render) {
  const key = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
  render();
  if (key) {
    const again = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again && again !== document.activeElement) again.focus();
  }
}

function fmtTime(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").replace("Z", "");
}

function shortTime(iso) {
  if (!iso) return "";
  const time = iso.split("T")[1] || iso;
  return time.replace("Z", "");
}

function timeCell(iso) {
  return h("time", { datetime: iso, title: `${fmtTime(iso)} UTC (mock clock)` }, shortTime(iso));
}

function idCell(id, short) {
  return h("code", { class: short ? "id short" : "id", title: id }, short && id.length > 13 ? `${id.slice(0, 8)}…` : id);
}

function relative(iso) {
  if (!iso || state.now === null) return "";
  const seconds = Date.parse(iso) / 1000 - state.now;
  if (seconds <= 0) return "due now";
  if (seconds < 120) return `in ${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 7200) return `in ${Math.round(seconds / 60)} min`;
  return `in ${(seconds / 3600).toFixed(1)} h`;
}

function nextCell(iso) {
  if (!iso) return text("");
  return h("time", { datetime: iso, title: `${fmtTime(iso)} UTC (mock clock)` }, relative(iso));
}

function statusBadge(status) {
  const kind =
    status === "complete" || status.startsWith("complete.eligible")
    ? "good"
    : status.startsWith("complete.")
      ? "warn"
      : status.startsWith("error.")
        ? "bad"
        : "wait";
  return h("span", { class: `badge ${kind}` }, status);
}

function statusCell(status, reason) {
  const cell = h("span", { class: "status-cell" }, statusBadge(status));
  if (reason) cell.append(h("span", { class: "reason" }, reason));
  return cell;
}

function stateBadge(value) {
  const kind = { delivered: "good", failed: "bad", aborted: "warn", pending: "wait", sending: "wait" }[value] || "wait";
  return h("span", { class: `badge ${kind}` }, value);
}

// -- the admin API --------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const detail = body && (body.message || (body.param ? `param ${body.param}` : body.error));
    super(`HTTP ${status}${detail ? `: ${detail}` : ""}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, { json, body, contentType } = {}) {
  const init = { method, headers: { accept: "application/json" }, cache: "no-store" };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["content-type"] = "application/json";
  } else if (body !== undefined) {
    init.body = body;
    init.headers["content-type"] = contentType || "application/octet-stream";
  }
  const response = await fetch(path, init);
  let answer = null;
  try {
    answer = await response.json();
  } catch (_) {
    answer = null;
  }
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

// -- messages to the person at the keyboard ---------------------------------------------------------

function notify(message) {
  $("#problem").textContent = "";
  $("#notice").textContent = message;
}

function complain(what, error) {
  $("#notice").textContent = "";
  $("#problem").textContent = `${what} failed: ${error.message}`;
}

function setConnection(ok, detail) {
  const el = $("#connection");
  el.dataset.state = ok ? "live" : "offline";
  el.textContent = ok ? `live · ${detail}` : `offline: ${detail} (retrying)`;
}

// -- the list ---------------------------------------------------------------------------------------

function remember(item) {
  const id = item[state.resource.idField];
  if (!state.order.has(id)) state.order.set(id, state.seen++);
  state.items.set(id, item);
}

function forgetOldest() {
  if (state.items.size <= KEEP_ROWS) return;
  const byAge = [...state.items.keys()].sort((a, b) => state.order.get(a) - state.order.get(b));
  for (const id of byAge.slice(0, state.items.size - KEEP_ROWS)) {
    state.items.delete(id);
    state.order.delete(id);
  }
}

function clearList() {
  state.items.clear();
  state.order.clear();
  state.cursor = null;
  state.lastRevision = null; // the next poll lists afresh whatever the counter says
}

function startOver() {
  clearList();
  state.journal = [];
  state.journalSeq = 0;
}

async function refreshList() {
  const resource = state.resource;
  // Bounded either way: a load test may change 100 000 between two polls; the page keeps the newest.
  const query = state.cursor === null ? `limit=${KEEP_ROWS}` : `since=${state.cursor}&limit=${KEEP_ROWS}`;
  const answer = await api("GET", `${resource.list}?${query}`);
  if (state.resource !== resource) return; // another list was opened meanwhile: it asks afresh
  if (state.resetRevision !== null && answer.resetRevision !== state.resetRevision) {
    state.resetRevision = answer.resetRevision;
    startOver(); // the mock was reset: what we hold is gone
    return refreshList();
  }
  state.resetRevision = answer.resetRevision;
  for (const item of answer[resource.key]) remember(item);
  forgetOldest();
  state.cursor = answer.revision;
  keepingFocus(renderList);
}

function visibleItems() {
  const status = $("#filter-status").value;
  const environment = $("#filter-environment").value;
  const needle = $("#filter-text").value.trim().toLowerCase();
  return [...state.items.values()]
    .filter((v) => !status || v.status === status)
    .filter((v) => !environment || v.environment === environment)
    .filter(
      (v) =>
        !needle ||
        state.resource
          .searchable(v)
          .some((value) => value && String(value).toLowerCase().includes(needle)),
    )
    .sort((a, b) => {
      if (a.created !== b.created) return a.created < b.created ? 1 : -1;
      return state.order.get(b[state.resource.idField]) - state.order.get(a[state.resource.idField]);
    });
}

function columnClass(column) {
  return [column.optional ? "optional" : "", column.secondary ? "secondary" : ""].join(" ").trim() || null;
}

function renderHead() {
  const head = $("#rows-head");
  head.replaceChildren(
    ...state.resource.columns.map((c) => h("th", { scope: "col", class: columnClass(c) }, c.title)),
    h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "actions")),
  );
}

function renderList() {
  const resource = state.resource;
  const items = visibleItems();
  const rows = items.slice(0, SHOW_ROWS).map((item) => {
    const id = item[resource.idField];
    return h(
      "tr",
      { dataset: { id }, class: id === state.selected ? "selected" : null },
      ...resource.columns.map((c) => h("td", { class: columnClass(c) }, c.cell(item))),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            class: "small",
            dataset: { key: `open-${id}` },
            "aria-label": `Details of ${resource.noun} ${id}`,
            "aria-pressed": id === state.selected ? "true" : "false",
            onclick: () => select(id),
          },
          "Details",
        ),
      ),
    );
  });
  $("#rows tbody").replaceChildren(...rows);
  $("#rows-empty").hidden = items.length > 0;
  $("#rows-empty").textContent = state.items.size === 0 ? resource.empty : "No row matches the filters.";
  $("#list-title").textContent = `${resource.title} (${items.length}${items.length > SHOW_ROWS ? `, newest ${SHOW_ROWS} shown` : ""})`;
}

// -- one item in detail -----------------------------------------------------------------------------

async function select(id) {
  state.selected = id;
  keepingFocus(renderList);
  $("#detail").hidden = false;
  await refreshDetail();
  $("#detail-title").focus();
}

function closeDetail() {
  const id = state.selected;
  state.selected = null;
  $("#detail").hidden = true;
  keepingFocus(renderList);
  const opener = id && document.querySelector(`[data-key="${CSS.escape(`open-${id}`)}"]`);
  if (opener) opener.focus();
}

async function refreshDetail() {
  const id = state.selected;
  if (!id) return;
  const resource = state.resource;
  let detail;
  try {
    detail = await api("GET", resource.detail(id));
  } catch (error) {
    if (error.status === 404) {
      $("#detail-title").textContent = `${resource.noun} ${id}`;
      $("#detail-body").replaceChildren(
        h("p", { class: "empty" }, `Gone: the mock was reset, or dropped it to stay under ${resource.cap}.`),
      );
      return;
    }
    throw error;
  }
  const messages = await api(
    "GET",
    `/__admin/webhooks/deliveries?${resource.deliveriesFilter}=${encodeURIComponent(id)}`,
  );
  if (state.selected !== id) return; // another one was opened meanwhile
  keepingFocus(() => renderDetail(detail, messages.deliveries));
}

function dl(pairs) {
  return h(
    "dl",
    { class: "facts" },
    ...pairs.filter(([, value]) => value !== undefined).flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
  );
}

function renderDetail(detail, messages) {
  const resource = state.resource;
  const id = detail[resource.idField];
  $("#detail-title").textContent = `${resource.noun[0].toUpperCase()}${resource.noun.slice(1)} ${id}`;
  const facts = dl(resource.facts(detail));
  $("#detail-body").replaceChildren(
    facts,
    forceForm(resource, id, detail),
    h("h3", {}, "Status timeline (mock clock)"),
    h(
      "ol",
      { class: "timeline" },
      ...detail.timeline.map((step) =>
        h(
          "li",
          {},
          timeCell(step.at),
          " ",
          statusBadge(step.status),
          step.statusReason ? ` ${step.statusReason}` : "",
          h("span", { class: "cause" }, ` ${step.cause}`),
        ),
      ),
    ),
    h("h3", {}, `Webhook messages (${messages.length})`),
    messages.length
      ? h("div", { class: "messages-list" }, ...messages.map(messageBlock))
      : h("p", { class: "empty" }, "None: no endpoint is subscribed to its events."),
    h("h3", {}, resource.bodyTitle),
    h("pre", { class: "json", tabindex: "0", "aria-label": resource.bodyTitle }, JSON.stringify(detail.body, null, 2)),
  );
}

function forceForm(resource, id, detail) {
  const options = resource.forceOptions || [];
  const statusSelect = h(
    "select",
    { id: "force-status", dataset: { key: "force-status" } },
    ...options.map((o) => h("option", { value: o.status, selected: o.status === detail.status }, o.status)),
  );
  const choice = state.forceChoice && state.forceChoice.id === id ? state.forceChoice : null;
  if (choice) statusSelect.value = choice.status;
  const fields = [h("label", { for: "force-status" }, "Status"), statusSelect];
  let reasonSelect = null;
  let coveragesInput = null;
  if (resource.reasons) {
    reasonSelect = h("select", { id: "force-reason", dataset: { key: "force-reason" } });
    const fillReasons = () => {
      const option = options.find((o) => o.status === statusSelect.value);
      const reasons = option ? option.reasons : [];
      const choices = (option && option.required ? [] : [["", "none"]]).concat(reasons.map((r) => [r, r]));
      reasonSelect.replaceChildren(...choices.map(([value, label]) => h("option", { value }, label)));
      reasonSelect.disabled = choices.length <= 1 && !reasons.length;
    };
    fillReasons();
    const reason = choice ? choice.reason : detail.statusReason;
    if (reason) reasonSelect.value = reason;
    statusSelect.addEventListener("change", fillReasons);
    fields.push(h("label", { for: "force-reason" }, "statusReason"), reasonSelect);
  } else {
    // A forced `complete` finds what is typed here, or else what the scenarios decide.
    coveragesInput = h("input", {
      id: "force-coverages",
      type: "text",
      dataset: { key: "force-coverages" },
      placeholder: "payerId:memberId, … (empty: the scenarios decide)",
      autocomplete: "off",
      value: choice ? choice.coverages : "",
    });
    const showCoverages = () => {
      coveragesInput.disabled = statusSelect.value !== "complete";
    };
    showCoverages();
    statusSelect.addEventListener("change", showCoverages);
    fields.push(h("label", { for: "force-coverages" }, "Coverages found"), coveragesInput);
  }
  const typed = () => ({
    id,
    status: statusSelect.value,
    reason: reasonSelect ? reasonSelect.value : "",
    coverages: coveragesInput ? coveragesInput.value : "",
  });
  const remember = () => {
    state.forceChoice = typed();
  };
  for (const field of [statusSelect, reasonSelect, coveragesInput]) {
    if (field) for (const type of ["change", "input"]) field.addEventListener(type, remember);
  }
  return h(
    "form",
    {
      class: "force",
      onsubmit: async (event) => {
        event.preventDefault();
        const path = resource.forceOperation.replace(`{${resource.idField}}`, encodeURIComponent(id));
        try {
          const answer = await api("POST", path, { json: resource.forceBody(typed()) });
          state.forceChoice = null;
          notify(`Forced ${id} to ${resource.forced(answer)}.`);
        } catch (error) {
          complain("Forcing the status", error);
        }
        await pollNow();
      },
    },
    h("h3", {}, "Force a status"),
    ...fields,
    h("button", { type: "submit", dataset: { key: "force-submit" } }, "Force status"),
  );
}

function attemptResult(attempt) {
  if (attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300) {
    return String(attempt.statusCode);
  }
  return attempt.error || String(attempt.statusCode);
}

function messageBlock(message) {
  return h(
    "article",
    { class: "message", dataset: { message: message.id } },
    h(
      "div",
      { class: "message-head" },
      h("code", { class: "id" }, message.id),
      " ",
      stateBadge(message.state),
      " ",
      h("span", {}, message.event),
      h(
        "button",
        {
          type: "button",
          class: "small",
          dataset: { key: `replay-${message.id}` },
          "aria-label": `Replay message ${message.id}`,
          onclick: () => replay(message.id),
        },
        "Replay",
      ),
    ),
    h(
      "p",
      { class: "hint" },
      `to ${message.url} · status ${message.payload.status}`,
      message.nextAttemptAt ? ` · next attempt ${relative(message.nextAttemptAt)}` : "",
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "attempts" },
        h("thead", {}, h("tr", {}, ...["#", "at", "trigger", "HTTP", "latency", "error"].map((t) => h("th", {}, t)))),
        h(
          "tbody",
          {},
          ...message.attempts.map((a) =>
            h(
              "tr",
              { class: a.statusCode >= 200 && a.statusCode < 300 ? "ok" : "failed" },
              h("td", {}, a.attempt),
              h("td", {}, timeCell(a.at)),
              h("td", {}, a.trigger),
              h("td", {}, a.statusCode === null ? "—" : a.statusCode),
              h("td", {}, a.latencyMs === null ? "—" : `${a.latencyMs.toFixed(1)} ms`),
              h("td", {}, a.error || ""),
            ),
          ),
        ),
      ),
    ),
  );
}

async function replay(messageId) {
  try {
    const message = await api("POST", `/__admin/webhooks/deliveries/${encodeURIComponent(messageId)}/replay`);
    const last = message.attempts[message.attempts.length - 1];
    notify(`Replayed ${messageId}: attempt ${last.attempt} → ${attemptResult(last)}.`);
  } catch (error) {
    complain(`Replaying ${messageId}`, error);
  }
  await pollNow();
}

// -- the journal, endpoints, scenario files ---------------------------------------------------------

async function refreshJournal() {
  const answer = await api("GET", `/__admin/requests?since=${state.journalSeq}`);
  if (!answer.requests.length) return;
  state.journal = state.journal.concat(answer.requests).slice(-KEEP_JOURNAL);
  state.journalSeq = answer.requests[answer.requests.length - 1].seq;
  renderJournal();
}

function renderJournal() {
  const onlyBreaking = $("#journal-breaking").checked;
  const rows = state.journal
    .filter((r) => !onlyBreaking || !r.conforms)
    .slice()
    .reverse()
    .map((r) =>
      h(
        "tr",
        { class: r.conforms ? null : "breaking" },
        h("td", {}, r.seq),
        h("td", {}, timeCell(new Date(r.at * 1000).toISOString())),
        h("td", {}, h("code", {}, `${r.method} ${r.path}`)),
        h("td", {}, r.operationId || "—"),
        h("td", {}, r.statusCode),
        h("td", { class: "optional" }, r.environment || "—"),
        h(
          "td",
          {},
          r.conforms
            ? "conforms"
            : h(
                "span",
                { class: "violation" },
                h("strong", {}, `breaks the spec: ${r.violation.kind} / ${r.violation.rule}`),
                r.violation.param ? ` at ${r.violation.param}` : "",
                ` — ${r.violation.message}`,
              ),
        ),
      ),
    );
  $("#journal-rows tbody").replaceChildren(...rows);
}

async function refreshEndpoints() {
  const answer = await api("GET", "/__admin/webhooks/endpoints");
  keepingFocus(() =>
    $("#endpoint-rows tbody").replaceChildren(
      ...answer.endpoints.map((e) =>
        h(
          "tr",
          {},
          h("td", {}, h("code", { class: "id" }, e.url)),
          h("td", {}, e.source),
          h("td", { class: "optional" }, e.events.join(", ") || "none yet"),
          h(
            "td",
            { class: "secret" },
            h("code", { class: "id", id: `secret-${e.endpointId}` }, e.secret),
            h(
              "button",
              {
                type: "button",
                class: "small",
                dataset: { key: `copy-${e.endpointId}` },
                "aria-label": `Copy the signing secret of ${e.url}`,
                onclick: () => copy(e.secret, `secret-${e.endpointId}`),
              },
              "Copy",
            ),
          ),
        ),
      ),
    ),
  );
  if (!answer.endpoints.length) {
    $("#endpoint-rows tbody").replaceChildren(
      h("tr", {}, h("td", { colspan: 4, class: "empty" }, "None: start the mock with --webhook-url, or register one.")),
    );
  }
}

async function copy(secret, elementId) {
  try {
    await navigator.clipboard.writeText(secret);
    notify("Copied the signing secret.");
    return;
  } catch (_) {
    // No clipboard access (an insecure origin, a denied permission): select it for Ctrl+C.
  }
  const range = document.createRange();
  range.selectNodeContents(document.getElementById(elementId));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  const copied = document.execCommand && document.execCommand("copy");
  if (copied) notify("Copied the signing secret.");
  else complain("Copying", new Error("the browser refused the clipboard; the secret is selected: press Ctrl+C"));
}

async function refreshScenarios() {
  const answer = await api("GET", "/__admin/scenarios");
  $("#scenario-body").replaceChildren(
    h(
      "ul",
      { class: "files" },
      ...answer.files.map((f) =>
        h(
          "li",
          {},
          h("strong", {}, f.name || f.source),
          ` (${f.loadedAt}) — ${f.payers} payers, ${f.profiles} profiles, ${f.members} members`,
          h("br"),
          h("code", { class: "id" }, f.source),
        ),
      ),
    ),
    h("h3", {}, `Rules in force, tried in order (${answer.rules.length})`),
    h(
      "ol",
      { class: "rules" },
      ...answer.rules.map((r) => h("li", {}, h("code", {}, r.name), ` → ${r.status} `, h("span", { class: "cause" }, r.source))),
    ),
    h("p", { class: "hint" }, `${answer.payers.length} payers, ${answer.members} members on the rosters.`),
  );
}

// -- actions ------------------------------------------------------------------------------------------

async function advance(event) {
  event.preventDefault();
  const seconds = Number($("#advance-seconds").value);
  try {
    const clock = await api("POST", "/__admin/clock/advance", { json: { seconds } });
    notify(`Advanced ${seconds} s: the mock clock reads ${fmtTime(clock.now)} UTC${clock.settled ? "" : " (not settled: a receiver is slow)"}.`);
  } catch (error) {
    complain("Advancing the clock", error);
  }
  await pollNow();
}

async function loadScenario(event) {
  event.preventDefault();
  const file = $("#scenario-file").files[0];
  if (!file) {
    complain("Loading a scenario", new Error("choose a file first"));
    return;
  }
  try {
    const content = await file.text();
    const summary = await api("POST", `/__admin/scenarios?name=${encodeURIComponent(file.name)}`, {
      body: content,
      contentType: "application/yaml",
    });
    const rules = summary.rules && summary.rules.length ? summary.rules.join(", ") : "none";
    notify(`Loaded ${file.name}: ${summary.members} members, ${summary.payers} payers; rules tried first: ${rules}.`);
  } catch (error) {
    complain(`Loading ${file.name}`, error);
  }
  state.tick = 0; // the scenario list now
  await pollNow();
}

async function reset() {
  $("#reset-confirm").hidden = true;
  try {
    await api("POST", "/__admin/reset");
    notify("Reset: back to the start-up state.");
  } catch (error) {
    complain("Resetting", error);
  }
  state.tick = 0;
  await pollNow();
  $("#reset").focus();
}

// -- the poll loop --------------------------------------------------------------------------------------

async function poll() {
  try {
    const health = await api("GET", "/__admin/health");
    state.now = health.clock.nowUnix;
    $("#clock").textContent = `mock clock ${fmtTime(health.clock.now)} UTC · offset ${health.clock.offsetSeconds} s${health.clock.frozen ? " · frozen" : ""}`;
    const resource = state.resource;
    if (health.revision !== state.lastRevision || health.resetRevision !== state.resetRevision) {
      await refreshList();
      if (state.selected) await refreshDetail();
      // Not when another list was opened meanwhile: that one has not been asked for yet.
      if (state.resource === resource) state.lastRevision = health.revision;
    }
    await refreshJournal();
    if (state.tick % SLOW_EVERY === 0) {
      await refreshEndpoints();
      await refreshScenarios();
    }
    setConnection(true, `${health.verifications} verifications, ${health.discoveries} discoveries`);
  } catch (error) {
    setConnection(false, error.message);
  }
  state.tick += 1;
}

// One poll at a time: an action's refresh waits for a poll in flight, then asks afresh.
function pollOnce() {
  if (!state.inFlight) state.inFlight = poll().finally(() => (state.inFlight = null));
  return state.inFlight;
}

async function loop() {
  await pollOnce();
  state.timer = setTimeout(loop, POLL_MS);
}

async function pollNow() {
  if (state.inFlight) await state.inFlight;
  await pollOnce();
}

// The choices QA gets are the admin contract's own: a status the contract adds shows up here.
function forceOptionsFrom(spec, operation) {
  const schema = spec.paths[operation].post.requestBody.content["application/json"].schema;
  return schema.oneOf.flatMap((variant) =>
    variant.properties.status.enum.map((status) => ({
      status,
      reasons: ((variant.properties.statusReason || {}).enum || []).filter((r) => r !== null),
      required: (variant.required || []).includes("statusReason"),
    })),
  );
}

async function loadForceOptions() {
  const spec = await api("GET", "/__admin/openapi.json");
  for (const resource of RESOURCES) resource.forceOptions = forceOptionsFrom(spec, resource.forceOperation);
}

// The list's own controls follow the resource shown: its statuses, what the search looks through.
function renderFilters() {
  const resource = state.resource;
  $("#filter-status").replaceChildren(
    h("option", { value: "" }, "any"),
    ...(resource.forceOptions || []).map((o) => h("option", { value: o.status }, o.status)),
  );
  $("#filter-text").placeholder = resource.placeholder;
  $("#filter-text").value = "";
}

function resourceNamed(key) {
  return RESOURCES.find((r) => r.key === key) || RESOURCES[0];
}

async function show(resource) {
  state.resource = resource;
  state.selected = null;
  state.forceChoice = null;
  $("#detail").hidden = true;
  // The address says which list is open, so a reload or a shared link opens the same one.
  history.replaceState(null, "", resource === RESOURCES[0] ? location.pathname : `#${resource.key}`);
  clearList();
  renderResources();
  renderHead();
  renderFilters();
  keepingFocus(renderList);
  await pollNow();
}

function renderResources() {
  const nav = $("#resources");
  nav.hidden = RESOURCES.length < 2;
  keepingFocus(() =>
    nav.replaceChildren(
      ...RESOURCES.map((r) =>
        h(
          "button",
          {
            type: "button",
            dataset: { key: `show-${r.key}` },
            "aria-pressed": r === state.resource ? "true" : "false",
            onclick: () => show(r),
          },
          r.title,
        ),
      ),
    ),
  );
}

async function start() {
  $("#advance-form").addEventListener("submit", advance);
  $("#scenario-form").addEventListener("submit", loadScenario);
  $("#reset").addEventListener("click", () => {
    $("#reset-confirm").hidden = false;
    $("#reset-no").focus();
  });
  $("#reset-no").addEventListener("click", () => {
    $("#reset-confirm").hidden = true;
    $("#reset").focus();
  });
  $("#reset-yes").addEventListener("click", reset);
  $("#detail-close").addEventListener("click", closeDetail);
  for (const id of ["#filter-status", "#filter-environment", "#filter-text"]) {
    for (const type of ["input", "change"]) $(id).addEventListener(type, () => keepingFocus(renderList));
  }
  $("#filters").addEventListener("submit", (event) => event.preventDefault());
  $("#journal-breaking").addEventListener("change", renderJournal);
  // An address typed or a link followed within the page (`#discoveries`) opens that list.
  window.addEventListener("hashchange", () => show(resourceNamed(location.hash.slice(1))));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.selected) closeDetail();
  });
  state.resource = resourceNamed(location.hash.slice(1));
  renderResources();
  renderHead();
  try {
    await loadForceOptions();
  } catch (error) {
    complain("Reading the admin contract", error);
  }
  renderFilters();
  await loop();
}

document.addEventListener("DOMContentLoaded", start);
