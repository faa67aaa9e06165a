// @ts-check
// The approval page's script: plain browser JavaScript, no framework, no build step.
// Safety rules kept throughout: every string from the API reaches the page through textContent
// (never innerHTML); the token lives in sessionStorage only (this tab, gone when it closes) and
// goes only to this origin's /v1 API.
/* global window, document, sessionStorage, fetch, location, setTimeout, clearTimeout -- browser globals; the repository's lint config targets Node */

// The plan types are core's (packages/core/src/approvals/plan.ts), the schemas the API checks a
// stored plan against before answering with it: the page shows what the schema says a plan is.
/** @typedef {import("@gdr/core/approvals/plan").FrozenPlan} FrozenPlan */
/** @typedef {import("@gdr/core/approvals/plan").DryRunPlan} DryRunPlan */
/** @typedef {import("@gdr/core/approvals/plan").PlannedCall} PlannedCall */
/**
 * @typedef {{ id: string, findingId: string, playbook: string, resourceKey: string, accountId: string,
 *   region: string, mode: string, status: string, planHash: string | null, error: string | null,
 *   createdAt: string, updatedAt: string }} Remediation
 */
/**
 * @typedef {{ name: string, order: number, status: string, attempts: number, startedAt: string | null,
 *   finishedAt: string | null, errorClass: string | null, errorCode: string | null, errorMessage: string | null,
 *   note: string | null }} Step
 */
/** @typedef {{ step: string, decision: string, actor: string, reason: string, planHash: string, decidedAt: string }} Approval */
/** @typedef {{ at: string, actor: string, action: string, awsRequestIds: string[], detail: unknown }} AuditEvent */
/**
 * @typedef {Remediation & { plan: FrozenPlan | DryRunPlan | null, planProblem: string | null, steps: Step[], approvals: Approval[],
 *   auditEvents: AuditEvent[] }} RemediationDetail
 */
/** @typedef {{ id: string, type: string, severity: number, title: string }} Finding */

const TOKEN_KEY = "gdr.apiToken";

class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T }} type
 * @returns {T}
 */
function byId(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page lacks #${id}`);
  return found;
}

/**
 * An element whose text is set with textContent: the only way API data reaches the page.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [text]
 * @param {string} [className]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** @param {HTMLTableRowElement} row @param {(string | Node)[]} cells */
function addCells(row, cells) {
  for (const cell of cells) {
    const td = el("td");
    if (typeof cell === "string") td.textContent = cell;
    else td.append(cell);
    row.append(td);
  }
}

/** @param {string | null} iso */
function when(iso) {
  return iso ? `${iso.slice(0, 19).replace("T", " ")} UTC` : "—";
}

/** @param {number} ms */
function age(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 1) return "under a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** @param {number} severity */
function severityLabel(severity) {
  const level = severity >= 7 ? "High" : severity >= 4 ? "Medium" : "Low";
  return `${level} (${severity})`;
}

/** @param {unknown} value */
function json(value) {
  return JSON.stringify(value, null, 2);
}

/**
 * Calls this origin's API with the pasted token.
 * @param {"GET" | "POST"} method
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<unknown>}
 */
async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new ApiError(0, "no_token", "Paste an API token first.");
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json", authorization: `Bearer ${token}` };
  /** @type {RequestInit} */
  const init = { method, headers, cache: "no-store", credentials: "omit", redirect: "error" };
  if (body) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  /** @type {unknown} */
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = /** @type {{ error?: unknown, message?: unknown } | null} */ (data);
    const code = typeof err?.error === "string" ? err.error : "http_error";
    const message = typeof err?.message === "string" ? err.message : `HTTP ${res.status}`;
    throw new ApiError(res.status, code, message);
  }
  return data;
}

/** Words for a person for each way a call can fail. @param {unknown} err */
function explain(err) {
  if (!(err instanceof ApiError)) return `Something went wrong: ${err instanceof Error ? err.message : String(err)}`;
  if (err.status === 0) return err.message;
  if (err.status === 401) return "The API refused the token (missing, unknown or revoked). Paste a valid token.";
  if (err.status === 403 && err.code === "account_not_allowed") return `Refused by the policy (nothing was done): ${err.message}`;
  if (err.status === 403) return `This token's role is not enough: ${err.message}`;
  if (err.status === 409 && err.code === "plan_changed") {
    return "The plan changed since this page showed it (409 plan_changed). Nothing was recorded. Load the current plan, review it, and decide again.";
  }
  if (err.status === 409) return `Not recorded (409 ${err.code}): ${err.message}`;
  if (err.status === 429) return "Too many requests; wait a minute and try again.";
  return `The API answered ${err.status} ${err.code}: ${err.message}`;
}

const statusLine = byId("status", HTMLParagraphElement);
/** @param {string} text @param {"ok" | "error" | ""} [kind] */
function setStatus(text, kind = "") {
  statusLine.textContent = text;
  statusLine.className = kind;
}

/** Runs an async action from an event handler, reporting its failure in the status line. @param {() => Promise<unknown>} action */
function run(action) {
  action().catch((/** @type {unknown} */ err) => {
    setStatus(explain(err), "error");
  });
}

/** The remediation on review and the plan hash the page showed for it: what a decision sends. */
let current = /** @type {{ id: string, planHash: string } | null} */ (null);
/** The remediation the review panel shows (with or without a plan). */
let shownId = "";

/** When the remediation started waiting: its latest gate audit event, else its last update. @param {RemediationDetail} r */
function waitingSince(r) {
  const gate = r.auditEvents.filter((e) => e.action === "remediation.awaiting_approval").at(-1);
  return gate ? gate.at : r.updatedAt;
}

async function loadPending() {
  const list = /** @type {{ items: Remediation[] }} */ (await api("GET", "/v1/remediations?status=awaiting_approval&limit=100"));
  const rows = await Promise.all(
    list.items.map(async (r) => {
      const [detail, finding] = await Promise.all([
        /** @type {Promise<RemediationDetail>} */ (api("GET", `/v1/remediations/${encodeURIComponent(r.id)}`)),
        /** @type {Promise<Finding | null>} */ (api("GET", `/v1/findings/${encodeURIComponent(r.findingId)}`).catch(() => null)),
      ]);
      return { detail, finding };
    }),
  );
  const body = byId("pending", HTMLTableElement).tBodies[0];
  if (!body) return;
  body.replaceChildren();
  for (const { detail, finding } of rows) {
    const tr = el("tr");
    tr.dataset["remediationId"] = detail.id;
    if (current?.id === detail.id) tr.className = "selected";
    const what = el("div");
    what.append(el("strong", finding ? finding.type : `finding ${detail.findingId}`));
    if (finding) what.append(el("div", finding.title));
    const since = waitingSince(detail);
    const waited = el("time", age(Date.now() - Date.parse(since)));
    waited.dateTime = since;
    waited.title = `waiting since ${when(since)}`;
    const review = el("button", "Review");
    review.type = "button";
    review.setAttribute("aria-label", `Review the plan for ${detail.resourceKey} (${detail.playbook})`);
    review.addEventListener("click", () => {
      run(() => loadDetail(detail.id, true));
    });
    addCells(tr, [what, finding ? severityLabel(finding.severity) : "—", detail.accountId, detail.region, detail.resourceKey, detail.playbook, detail.mode, waited, review]);
    body.append(tr);
  }
  byId("pending-empty", HTMLParagraphElement).hidden = rows.length > 0;
  setStatus(`${rows.length} remediation(s) waiting for approval; loaded ${when(new Date().toISOString())}.`, "ok");
}

/** @param {RemediationDetail} r */
function renderPlan(r) {
  const container = byId("plan", HTMLDivElement);
  container.replaceChildren();
  const plan = r.plan;
  if (!plan) {
    // The API does not pass on a stored plan its schema cannot read; it says why instead.
    container.append(el("p", r.planProblem ? `The stored plan cannot be shown: ${r.planProblem}` : "No plan.", r.planProblem ? "error" : undefined));
    return;
  }
  container.append(
    el("p", "action" in plan ? `Action once approved: ${plan.action}. ${plan.steps.length} step(s) still to run.` : `Dry run: what ${plan.steps.length} step(s) would call. Nothing to approve.`),
  );
  if ("reason" in plan && plan.reason) container.append(el("p", `Why a person is asked: ${plan.reason}`));
  for (const step of plan.steps) {
    const box = el("div", undefined, step.destructive ? "plan-step destructive" : "plan-step");
    const title = el("h4", step.name);
    if (step.destructive) title.append(el("span", "destructive", "badge"));
    box.append(title);
    if ("note" in step && step.note) box.append(el("p", step.note, "note"));
    if (step.calls.length === 0) {
      box.append(el("p", "No calls."));
    } else {
      const table = el("table");
      table.setAttribute("aria-label", `Calls of step ${step.name}`);
      const head = el("tr");
      for (const h of ["Service", "Operation", "Parameters"]) {
        const th = el("th", h);
        th.scope = "col";
        head.append(th);
      }
      table.createTHead().append(head);
      const body = table.createTBody();
      for (const call of step.calls) {
        const tr = el("tr", undefined, "call");
        addCells(tr, [call.service, el("code", call.operation), el("pre", json(call.params))]);
        body.append(tr);
      }
      box.append(table);
    }
    container.append(box);
  }
}

/**
 * A step's status as it happened. `unavailable`: the step could not do its work and the playbook
 * went on without it (the reason is the step's note), never to be read as done; `verified`: the
 * final check found the containment in place.
 * @param {Step} s
 */
function stepStatus(s) {
  if (s.status === "unavailable") {
    const cell = el("span", "not available", "step-status unavailable");
    if (s.note) cell.append(el("span", `: ${s.note}`, "step-note"));
    return cell;
  }
  if (s.status === "verified") return el("span", "verified", "step-status verified");
  return el("span", s.status.replaceAll("_", " "), "step-status");
}

/** @param {RemediationDetail} r */
function renderTimeline(r) {
  const steps = byId("steps", HTMLTableElement).tBodies[0];
  steps?.replaceChildren();
  for (const s of r.steps) {
    const tr = el("tr");
    const error = s.errorClass || s.errorCode || s.errorMessage ? [s.errorClass, s.errorCode, s.errorMessage].filter(Boolean).join(": ") : "—";
    addCells(tr, [String(s.order), s.name, stepStatus(s), String(s.attempts), when(s.startedAt), when(s.finishedAt), error]);
    steps?.append(tr);
  }
  const audit = byId("audit", HTMLOListElement);
  audit.replaceChildren();
  for (const e of r.auditEvents) {
    const li = el("li");
    li.append(el("strong", e.action), el("span", ` by ${e.actor} at ${when(e.at)}`));
    if (e.awsRequestIds.length > 0) li.append(el("div", `AWS request ids: ${e.awsRequestIds.join(", ")}`));
    if (e.detail !== null && e.detail !== undefined) li.append(el("pre", json(e.detail)));
    audit.append(li);
  }
  if (r.auditEvents.length === 0) audit.append(el("li", "No audit events yet."));
}

/** @param {boolean} enabled */
function setDecisionEnabled(enabled) {
  byId("approve", HTMLButtonElement).disabled = !enabled;
  byId("reject", HTMLButtonElement).disabled = !enabled;
  byId("reason", HTMLTextAreaElement).disabled = !enabled;
}

/**
 * Shows one remediation: summary, frozen plan, timeline. Returns whether it is still moving on its
 * own (queued, running, or carrying out an approved plan), so that the page can follow it.
 * @param {string} id @param {boolean} fresh a newly chosen remediation: clear the last decision's message
 * @returns {Promise<{ status: string, moving: boolean }>}
 */
async function loadDetail(id, fresh) {
  const r = /** @type {RemediationDetail} */ (await api("GET", `/v1/remediations/${encodeURIComponent(id)}`));
  const finding = /** @type {Finding | null} */ (await api("GET", `/v1/findings/${encodeURIComponent(r.findingId)}`).catch(() => null));
  current = r.planHash ? { id: r.id, planHash: r.planHash } : null;
  if (shownId !== r.id) {
    clearTimeout(followTimer);
    byId("follow", HTMLParagraphElement).textContent = "";
  }
  shownId = r.id;
  byId("review", HTMLElement).hidden = false;
  byId("review-heading", HTMLHeadingElement).textContent = `Review: ${r.playbook} on ${r.resourceKey}`;

  const summary = byId("review-summary", HTMLDListElement);
  summary.replaceChildren();
  /** @type {[string, string][]} */
  const facts = [
    ["Remediation", r.id],
    ["Status", r.status.replaceAll("_", " ")],
    ["Finding", finding ? `${finding.type} — ${finding.title}` : r.findingId],
    ["Severity", finding ? severityLabel(finding.severity) : "—"],
    ["Account", r.accountId],
    ["Region", r.region],
    ["Resource", r.resourceKey],
    ["Playbook", r.playbook],
    ["Mode", r.mode],
    ["Waiting since", when(waitingSince(r))],
  ];
  for (const a of r.approvals) facts.push([`Decision on ${a.step}`, `${a.decision} by ${a.actor} at ${when(a.decidedAt)}: ${a.reason}`]);
  for (const [k, v] of facts) summary.append(el("dt", k), el("dd", v));

  byId("plan-hash", HTMLElement).textContent = r.planHash ?? "none";
  renderPlan(r);
  renderTimeline(r);

  const decided = r.approvals.some((a) => a.planHash === r.planHash);
  setDecisionEnabled(r.status === "awaiting_approval" && Boolean(r.planHash) && !decided);
  if (fresh) {
    byId("decision-result", HTMLDivElement).replaceChildren();
    byId("reason", HTMLTextAreaElement).value = "";
  }
  for (const tr of byId("pending", HTMLTableElement).querySelectorAll("tbody tr")) {
    if (tr instanceof HTMLTableRowElement) tr.className = tr.dataset["remediationId"] === r.id ? "selected" : "";
  }
  const moving = r.status === "queued" || r.status === "running" || (r.status === "awaiting_approval" && decided);
  return { status: r.status, moving };
}

/** How often, and for how long at most, the page re-reads a remediation it follows. */
const FOLLOW_EVERY_MS = 1_500;
const FOLLOW_AT_MOST_MS = 15 * 60_000;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let followTimer;

/**
 * After a decision, keeps the timeline current until the remediation stops moving: it finished,
 * failed, or reached another gate that needs a person. Choosing another remediation stops it.
 * @param {string} id
 */
function follow(id) {
  clearTimeout(followTimer);
  const until = Date.now() + FOLLOW_AT_MOST_MS;
  const followLine = byId("follow", HTMLParagraphElement);
  const tick = () => {
    followTimer = setTimeout(() => {
      run(async () => {
        if (shownId !== id) return;
        const { status, moving } = await loadDetail(id, false);
        const words = status.replaceAll("_", " ");
        if (moving && Date.now() < until) {
          followLine.textContent = `Following this remediation: ${words}…`;
          tick();
        } else {
          followLine.textContent = `This remediation is now ${words}.`;
          await loadPending();
        }
      });
    }, FOLLOW_EVERY_MS);
  };
  followLine.textContent = "Following this remediation…";
  tick();
}

/** @param {string} text @param {"ok" | "error"} kind @param {HTMLElement} [extra] */
function showResult(text, kind, extra) {
  const box = byId("decision-result", HTMLDivElement);
  box.replaceChildren(el("p", text, kind));
  if (extra) box.append(extra);
}

/** @param {"approve" | "reject"} decision */
async function decide(decision) {
  if (!current) return;
  const { id, planHash } = current;
  const reason = byId("reason", HTMLTextAreaElement).value.trim();
  if (reason.length < 3) {
    showResult("A reason of at least 3 characters is required.", "error");
    return;
  }
  setDecisionEnabled(false);
  try {
    const res = /** @type {{ step: string, jobId?: string }} */ (await api("POST", `/v1/remediations/${encodeURIComponent(id)}/${decision}`, { reason, planHash }));
    const text =
      decision === "approve"
        ? `Approved: step ${res.step} and the rest of the plan will run; the remediation is continuing${res.jobId ? ` (job ${res.jobId})` : ""}.`
        : "Rejected: nothing in this plan runs. A resource already contained stays contained.";
    const { moving } = await loadDetail(id, false);
    showResult(text, "ok");
    await loadPending();
    if (moving) follow(id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && err.code === "plan_changed") {
      // Do not reload the plan silently: the person must see that it changed and review it again.
      const reload = el("button", "Load the current plan");
      reload.type = "button";
      reload.addEventListener("click", () => {
        run(() => loadDetail(id, true));
      });
      showResult(explain(err), "error", reload);
      return;
    }
    showResult(explain(err), "error");
    setDecisionEnabled(!(err instanceof ApiError && err.status === 409));
  }
}

/** The pending list, then the remediation a notification's link names (`/ui/#<remediation id>`), if any. */
async function openLinked() {
  await loadPending();
  const linked = /^#([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(location.hash)?.[1];
  if (linked) {
    const { moving } = await loadDetail(linked, true);
    if (moving) follow(linked);
  }
}

function init() {
  byId("token-form", HTMLFormElement).addEventListener("submit", (event) => {
    event.preventDefault();
    const input = byId("token", HTMLInputElement);
    const token = input.value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    input.value = "";
    setStatus("Token kept for this tab only. Loading…");
    run(openLinked);
  });
  byId("forget-token", HTMLButtonElement).addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setStatus("Token forgotten.");
  });
  byId("refresh", HTMLButtonElement).addEventListener("click", () => {
    run(loadPending);
  });
  byId("decision-form", HTMLFormElement).addEventListener("submit", (event) => {
    event.preventDefault();
    const submitter = event.submitter;
    const decision = submitter instanceof HTMLButtonElement && submitter.value === "reject" ? "reject" : "approve";
    run(() => decide(decision));
  });
  window.addEventListener("hashchange", () => {
    run(openLinked);
  });
  if (sessionStorage.getItem(TOKEN_KEY)) run(openLinked);
  else setStatus("Paste an API token to see what waits for approval.");
}

init();
