// The dashboard page. Every value from the server is put in the page as text
// (textContent, attributes through setAttribute), never parsed as HTML.

const main = document.getElementById("main")
const statuses = ["succeeded", "failed", "timed_out", "dead", "cancelled", "interrupted"]

// --- elements ---------------------------------------------------------------

const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value)
    else el.setAttribute(key, value === true ? "" : String(value))
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

const badge = (status) => h("span", { class: `badge ${status}` }, status.replace("_", " "))

const table = (headers, rows, empty) =>
  rows.length === 0
    ? h("p", { class: "empty" }, empty)
    : h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))), h("tbody", {}, rows))

const section = (title, ...children) => h("section", {}, h("h2", {}, title), ...children)

// ids begin with their creation time, so their end tells runs apart
const runLink = (runId) =>
  h("a", { href: `#/runs/${encodeURIComponent(runId)}`, class: "mono", title: runId }, runId.length > 12 ? `…${runId.slice(-8)}` : runId)

// --- time -------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, "0")
const clock = (ms) => {
  if (ms === undefined || ms === null) return "–"
  const d = new Date(ms)
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  if (d.toDateString() === new Date().toDateString()) return time
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`
}
// the instant a workflow run waiting for a child or a signal is queued for (Journal.untilWoken)
const untilWoken = Date.UTC(9999, 11, 31, 23, 59, 59, 999)
const span = (ms) => {
  const s = Math.abs(ms) / 1000
  if (s < 1) return `${Math.round(Math.abs(ms))}ms`
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.floor(s % 60)}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`
}
const relative = (ms) => {
  if (ms === undefined || ms === null) return ""
  const d = ms - Date.now()
  return d >= 0 ? `in ${span(d)}` : `${span(d)} ago`
}
const when = (ms) => h("span", { class: "when", title: ms === undefined ? "" : new Date(ms).toString() }, clock(ms), ms === undefined ? "" : h("small", {}, ` ${relative(ms)}`))

// --- server -----------------------------------------------------------------

const token = () => sessionStorage.getItem("clockwork-token") ?? ""

const api = async (path, init = {}) => {
  const headers = { accept: "application/json" }
  if (init.method === "POST" && token() !== "") headers.authorization = `Bearer ${token()}`
  const response = await fetch(`/api${path}`, { ...init, headers })
  const body = await response.json().catch(() => ({}))
  if (!response.ok) throw new Error(body.message ?? `${response.status} ${response.statusText}`)
  return body
}

const note = (text, kind = "info") => {
  const log = document.getElementById("log")
  const entry = h("div", { class: `note ${kind}` }, h("time", {}, clock(Date.now())), " ", text)
  log.prepend(entry)
  while (log.childElementCount > 4) log.lastElementChild.remove()
  setTimeout(() => entry.classList.add("old"), 6000)
  setTimeout(() => entry.remove(), 20000)
}

const confirmAction = (text) =>
  new Promise((resolve) => {
    const dialog = document.getElementById("confirm")
    document.getElementById("confirm-text").textContent = text
    dialog.returnValue = ""
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true })
    dialog.showModal()
  })

/** Asks, then runs an action and says how it went; the view is drawn again. */
const action = (label, question, path) => async () => {
  if (!(await confirmAction(question))) return
  try {
    const result = await api(path, { method: "POST" })
    const outcome = result.outcome ? `: ${result.outcome}` : ""
    note(`${label}${outcome}`, "ok")
  } catch (error) {
    note(`${label} refused: ${error.message}`, "error")
  }
  refresh()
}

const button = (text, onclick, kind = "") => h("button", { type: "button", class: kind, onclick }, text)

// --- views ------------------------------------------------------------------

const overview = async () => {
  const [counts, queue, workers, failures] = await Promise.all([
    api("/counts"),
    api("/queue"),
    api("/workers"),
    api("/runs?status=dead&limit=10").then(async (dead) => {
      const failed = await api("/runs?status=failed&limit=10")
      return [...dead.runs, ...failed.runs].sort((a, b) => b.finishedAt - a.finishedAt).slice(0, 10)
    })
  ])
  const total = (status) => counts.byJob.filter((c) => c.status === status).reduce((n, c) => n + c.count, 0)
  const lag = Math.max(0, ...queue.jobs.map((j) => (j.oldestDueAt === undefined ? 0 : queue.now - j.oldestDueAt)))
  const due = queue.jobs.reduce((n, j) => n + j.due, 0)
  const card = (label, value, kind = "") => h("div", { class: `card ${kind}` }, h("div", { class: "value" }, value), h("div", { class: "label" }, label))
  return [
    h("div", { class: "cards" },
      card("succeeded, last hour", total("succeeded"), "succeeded"),
      card("failed, last hour", total("failed") + total("timed_out"), total("failed") + total("timed_out") > 0 ? "failed" : ""),
      card("dead, last hour", total("dead"), total("dead") > 0 ? "dead" : ""),
      card("due now", due),
      card("running", queue.running.length),
      card("queue lag", lag === 0 ? "0s" : span(lag), lag > 60_000 ? "failed" : ""),
      card("workers alive", workers.length, workers.length === 0 ? "dead" : "")),
    section("Runs per minute, last hour", chart(counts)),
    section("Latest failures", table(
      ["finished", "job", "run", "status", "error"],
      failures.map((r) => h("tr", {}, h("td", {}, when(r.finishedAt)), h("td", {}, r.jobName), h("td", {}, runLink(r.runId)),
        h("td", {}, badge(r.status)), h("td", { class: "error" }, r.error ? `${r.error.tag}: ${r.error.message}` : ""))),
      "no failures"))
  ]
}

const chart = (counts) => {
  const minutes = new Map()
  for (const b of counts.buckets) {
    const entry = minutes.get(b.at) ?? {}
    entry[b.status] = (entry[b.status] ?? 0) + b.count
    minutes.set(b.at, entry)
  }
  const first = Math.floor(counts.from / counts.bucketMs) * counts.bucketMs
  const slots = []
  for (let at = first; at < counts.to; at += counts.bucketMs) slots.push([at, minutes.get(at) ?? {}])
  const peak = Math.max(1, ...slots.map(([, e]) => Object.values(e).reduce((a, b) => a + b, 0)))
  const bars = slots.map(([at, entry]) => {
    const total = Object.values(entry).reduce((a, b) => a + b, 0)
    const bar = h("div", { class: "bar", title: `${clock(at)}: ${statuses.filter((s) => entry[s]).map((s) => `${entry[s]} ${s}`).join(", ") || "none"}` })
    for (const status of statuses) {
      if (!entry[status]) continue
      const part = h("div", { class: `part ${status}` })
      part.style.height = `${(entry[status] / peak) * 100}%`
      bar.append(part)
    }
    bar.dataset.total = String(total)
    return bar
  })
  return h("div", {},
    h("div", { class: "chart" }, bars),
    h("div", { class: "legend" }, statuses.map((s) => h("span", {}, h("i", { class: `part ${s}` }), s.replace("_", " "))),
      h("span", { class: "peak" }, `peak ${peak} per ${counts.bucketMs === 60_000 ? "minute" : span(counts.bucketMs)}`)))
}

const schedules = async () => {
  const all = await api("/schedules")
  return section("Schedules", table(
    ["schedule", "job", "trigger", "next fire", "last fire", "last outcome", "", ""],
    all.map((s) => h("tr", { class: s.paused ? "paused" : "", "data-schedule": s.id },
      h("td", {}, h("a", { href: `#/history?schedule=${encodeURIComponent(s.id)}` }, s.id)),
      h("td", {}, s.jobName),
      h("td", {}, s.triggerText),
      h("td", {}, s.paused ? h("span", { class: "badge paused" }, "paused") : when(s.nextFireAt)),
      h("td", {}, when(s.lastFireAt)),
      h("td", {}, s.lastOutcome ? [badge(s.lastOutcome.status), " ", runLink(s.lastOutcome.runId)] : "–"),
      h("td", { class: "actions" },
        button("Run now", action(`run schedule ${s.id} now`, `Run schedule “${s.id}” (${s.jobName}) now?`, `/schedules/${encodeURIComponent(s.id)}/run`)),
        s.paused
          ? button("Resume", action(`resume schedule ${s.id}`, `Resume schedule “${s.id}”?`, `/schedules/${encodeURIComponent(s.id)}/resume`))
          : button("Pause", action(`pause schedule ${s.id}`, `Pause schedule “${s.id}”?`, `/schedules/${encodeURIComponent(s.id)}/pause`))))),
    "no schedules"))
}

const cancelButton = (run) =>
  button("Cancel", action(`cancel run ${run.id}`, `Cancel run ${run.id} of “${run.jobName}”?`, `/runs/${encodeURIComponent(run.id)}/cancel`), "danger")

const queue = async () => {
  const q = await api("/queue")
  return [
    section("Per job", table(
      ["job", "due", "later", "running", "waiting since", "workers"],
      q.jobs.map((j) => h("tr", {},
        h("td", {}, j.jobName), h("td", { class: "num" }, j.due), h("td", { class: "num" }, j.later),
        h("td", { class: "num" }, j.running),
        h("td", {}, j.oldestDueAt === undefined ? "–" : `${span(q.now - j.oldestDueAt)}`),
        h("td", { class: j.workers.length === 0 && j.due > 0 ? "warn" : "" }, j.workers.length === 0 ? "none" : j.workers.join(", ")))),
      "the queue is empty")),
    section("Running", table(
      ["run", "job", "attempt", "due since", "worker", ""],
      q.running.map((r) => h("tr", { "data-run": r.id },
        h("td", {}, runLink(r.id)), h("td", {}, r.jobName), h("td", { class: "num" }, r.attempt),
        h("td", {}, when(r.runAt)), h("td", { class: "mono" }, r.workerId ?? "–"), h("td", { class: "actions" }, cancelButton(r)))),
      "nothing running")),
    section("Queued", table(
      ["run", "job", "due", "priority", "schedule", ""],
      q.queued.map((r) => h("tr", { "data-run": r.id },
        h("td", {}, runLink(r.id)), h("td", {}, r.jobName), h("td", {}, when(r.runAt)), h("td", { class: "num" }, r.priority),
        h("td", {}, r.scheduleId ?? "–"), h("td", { class: "actions" }, cancelButton(r)))),
      "nothing queued"))
  ]
}

/** An ISO instant as a datetime-local input's value, in this browser's zone. */
const localInput = (iso) => {
  const d = iso ? new Date(iso) : undefined
  if (d === undefined || Number.isNaN(d.getTime())) return ""
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

const historyFilters = ["job", "status", "schedule", "from", "to"]

const history = async (params) => {
  const query = new URLSearchParams()
  for (const key of historyFilters) if (params.get(key)) query.set(key, params.get(key))
  const page = await api(`/runs?${query}`)
  const body = h("tbody", {})
  const more = h("div", { class: "more" })
  const addPage = (p) => {
    body.append(...p.runs.map(historyRow))
    more.replaceChildren()
    if (p.next) {
      more.append(button("Older runs", async () => {
        pagedFurther = true
        const next = new URLSearchParams(query)
        next.set("cursor", p.next)
        addPage(await api(`/runs?${next}`))
      }))
    }
  }
  addPage(page)
  const input = (name, type = "text", placeholder = "") =>
    h("label", {}, name, h("input", { name, type, placeholder, value: params.get(name) ?? "" }))
  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault()
    const next = new URLSearchParams()
    for (const [key, value] of new FormData(event.target)) if (value !== "") next.set(key, key === "from" || key === "to" ? new Date(value).toISOString() : value)
    location.hash = `#/history?${next}`
  } },
    input("job", "text", "any job"),
    h("label", {}, "status", h("select", { name: "status" }, h("option", { value: "" }, "any"),
      statuses.map((s) => h("option", { value: s, selected: params.get("status") === s }, s)))),
    input("schedule", "text", "any schedule"),
    h("label", {}, "from", h("input", { name: "from", type: "datetime-local", step: 1, value: localInput(params.get("from")) })),
    h("label", {}, "to", h("input", { name: "to", type: "datetime-local", step: 1, value: localInput(params.get("to")) })),
    h("button", { type: "submit", class: "primary" }, "Filter"),
    h("a", { href: "#/history", class: "clear" }, "clear"))
  return section("History",
    form,
    page.runs.length === 0
      ? h("p", { class: "empty" }, "no runs match")
      : h("table", {}, h("thead", {}, h("tr", {}, ["finished", "job", "run", "attempt", "status", "duration", "schedule", "error"].map((x) => h("th", {}, x)))), body),
    more)
}

const historyRow = (r) => h("tr", { "data-run": r.runId },
  h("td", {}, when(r.finishedAt)), h("td", {}, r.jobName), h("td", {}, runLink(r.runId)), h("td", { class: "num" }, r.attempt),
  h("td", {}, badge(r.status)), h("td", { class: "num" }, span(r.durationMs)), h("td", {}, r.scheduleId ?? "–"),
  h("td", { class: "error" }, r.error ? `${r.error.tag}: ${r.error.message}` : ""))

const json = (value) => h("pre", {}, JSON.stringify(value, null, 2))

const runDetail = async (runId) => {
  const { attempts, run, steps } = await api(`/runs/${encodeURIComponent(runId)}`)
  const fields = [
    ["run", h("span", { class: "mono" }, run.id)], ["job", run.jobName], ["state", badge(run.state)],
    ["attempt", run.attempt], ["schedule", run.scheduleId ?? "–"], ["created", when(run.createdAt)],
    ["due", run.runAt >= untilWoken ? "when woken (a child ends, a signal comes)" : when(run.runAt)], ["scheduled for", when(run.scheduledFor)], ["priority", run.priority],
    ["key", run.key ?? "–"], ["worker", run.workerId ?? "–"], ["then", run.then.length === 0 ? "–" : run.then.join(", ")]
  ]
  const canCancel = run.state === "queued" || run.state === "running"
  const canRetry = ["dead", "failed", "timed_out", "cancelled"].includes(run.state)
  return [
    section(`Run of ${run.jobName}`,
      h("div", { class: "actions" },
        canCancel && cancelButton(run),
        canRetry && button("Retry", action(`retry run ${run.id}`, `Queue run ${run.id} of “${run.jobName}” again?`, `/runs/${encodeURIComponent(run.id)}/retry`))),
      h("dl", {}, fields.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("h3", {}, "payload"), json(run.payload),
      run.result !== undefined && [h("h3", {}, "result"), json(run.result)],
      run.error && [h("h3", {}, "error"), h("p", { class: "error" }, `${run.error.tag}: ${run.error.message}`), h("pre", { class: "cause" }, run.error.cause)]),
    section("Attempts", table(
      ["attempt", "status", "started", "duration", "worker", "error", "metrics"],
      attempts.map((a) => h("tr", {},
        h("td", { class: "num" }, a.attempt), h("td", {}, badge(a.status)), h("td", {}, when(a.startedAt)),
        h("td", { class: "num" }, span(a.durationMs)), h("td", { class: "mono" }, a.workerId ?? "–"),
        h("td", { class: "error" }, a.error ? [h("div", {}, `${a.error.tag}: ${a.error.message}`), h("details", {}, h("summary", {}, "cause"), h("pre", { class: "cause" }, a.error.cause))] : ""),
        h("td", {}, a.metrics ? json(a.metrics) : ""))),
      "no attempt has finished yet")),
    steps.length > 0 && section("Steps", table(
      ["step", "kind", "status", "attempt", "started", "took", "waits until", "child", "result or error"],
      steps.map((s) => h("tr", { "data-step": s.name },
        h("td", { class: "mono" }, s.name), h("td", {}, s.kind), h("td", {}, badge(s.status)),
        h("td", { class: "num" }, s.attempt), h("td", {}, when(s.startedAt)),
        h("td", { class: "num" }, s.finishedAt === undefined ? "–" : span(s.finishedAt - s.startedAt)),
        h("td", {}, s.status === "waiting" && s.wakeAt !== undefined ? when(s.wakeAt) : "–"),
        h("td", {}, s.childRunId ? runLink(s.childRunId) : "–"),
        h("td", { class: s.error ? "error" : "" }, s.error ? `${s.error.tag}: ${s.error.message}` : s.result === undefined ? "" : JSON.stringify(s.result)))),
      ""))
  ]
}

const workers = async () => {
  const all = await api("/workers")
  return section("Workers", table(
    ["worker", "started", "last beat", "running", "concurrency", "jobs"],
    all.map((w) => h("tr", {},
      h("td", { class: "mono" }, w.id), h("td", {}, when(w.startedAt)), h("td", {}, when(w.heartbeatAt)),
      h("td", { class: "num" }, w.info.running), h("td", { class: "num" }, w.info.concurrency), h("td", {}, w.info.jobs.join(", ")))),
    "no worker is alive"))
}

// --- routing and live updates -------------------------------------------------

const route = () => {
  const [path, search = ""] = location.hash.replace(/^#/, "").split("?")
  const parts = path.split("/").filter(Boolean)
  return { view: parts[0] ?? "overview", id: parts[1] === undefined ? undefined : decodeURIComponent(parts[1]), params: new URLSearchParams(search) }
}

let drawing = Promise.resolve()
const draw = () => {
  drawing = drawing.then(async () => {
    const { id, params, view } = route()
    for (const link of document.querySelectorAll("#nav a")) {
      link.classList.toggle("active", link.dataset.view === view || (view === "runs" && link.dataset.view === "history"))
    }
    try {
      const content = view === "schedules" ? await schedules()
        : view === "queue" ? await queue()
        : view === "history" ? await history(params)
        : view === "runs" && id !== undefined ? await runDetail(id)
        : view === "workers" ? await workers()
        : await overview()
      const scroll = window.scrollY
      main.replaceChildren(...[content].flat())
      window.scrollTo(0, scroll)
    } catch (error) {
      main.replaceChildren(h("p", { class: "note error" }, `could not load: ${error.message}`))
    }
  })
  return drawing
}

// a redraw would drop the older pages someone opened: the history then waits for a new filter or a reload
let pagedFurther = false
let pending
const refresh = () => {
  clearTimeout(pending)
  pending = setTimeout(() => {
    if (route().view === "history" && pagedFurther) return
    draw()
  }, 250)
}

const connect = () => {
  const live = document.getElementById("live")
  const events = new EventSource("/api/events")
  events.addEventListener("open", () => { live.textContent = "live"; live.className = "live on" })
  events.addEventListener("update", refresh)
  events.addEventListener("error", () => { live.textContent = "reconnecting"; live.className = "live off" })
}

document.getElementById("token").value = token()
document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault()
  sessionStorage.setItem("clockwork-token", document.getElementById("token").value)
  note(token() === "" ? "token cleared: read-only" : "token set for this tab")
})
window.addEventListener("hashchange", () => {
  pagedFurther = false
  draw()
})
draw()
connect()
// relative times age even when nothing changes
setInterval(() => { if (route().view !== "history") refresh() }, 30_000)
