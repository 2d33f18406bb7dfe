// @ts-check
/**
 * The entry of every pool thread. It is plain JavaScript and imports only
 * node:worker_threads: it must load before any TypeScript loader exists (Node
 * 20 ignores a loader given to a worker, nodejs/node#47747), and a fresh
 * thread should be ready in milliseconds, since every killed thread is
 * replaced by one.
 *
 * It loads the worker modules it is asked to preload and reports ready; then,
 * for each run request, it loads the requested worker module (once) and runs
 * the job: through what `WorkerJob.serve` registered (Effect, Schemas), or
 * through a plain function the module exports by the job's name. The main
 * thread kills the thread on a timeout or a cancel, so nothing here needs to
 * be interruptible.
 */
/** @import { Outcome, Ready, Report, RunRequest, Served, ThreadData } from "./protocol.js" */
import { parentPort, workerData } from "node:worker_threads"

if (parentPort === null) throw new Error("@clockwork/node: the pool's thread entry was loaded outside a worker thread")
const port = parentPort

/** @param {Report | Outcome | Ready} message */
const post = (message) => port.postMessage(message)

/**
 * @param {number} seq
 * @param {unknown} error
 * @returns {Outcome}
 */
const errored = (seq, error, prefix = "") => ({
  _tag: "Errored",
  seq,
  tag: typeof error === "object" && error !== null && "_tag" in error
    ? String(error._tag)
    : error instanceof Error
    ? error.name
    : "Error",
  message: prefix + (error instanceof Error ? error.message : String(error)),
  cause: error instanceof Error && error.stack !== undefined ? error.stack : String(error)
})

// a TypeScript worker module goes through tsx, registered here when first needed
const typescript = /\.[cm]?tsx?$/
const tsxApi = "tsx/esm/api"
let tsxRegistered = false

/** @type {Map<string, Promise<{ readonly default?: unknown }>>} */
const modules = new Map()

/**
 * Loads a worker module once: a repeated `import()` of a loaded module still
 * costs a resolve, a round trip to the loader thread when tsx is registered.
 *
 * @param {string} module
 * @returns {Promise<{ readonly default?: unknown }>}
 */
const importModule = (module) => {
  let loaded = modules.get(module)
  if (loaded === undefined) {
    loaded = load(module)
    modules.set(module, loaded)
  }
  return loaded
}

/** @param {string} module */
const load = async (module) => {
  if (!tsxRegistered && typescript.test(new URL(module).pathname)) {
    const tsx = await import(tsxApi).catch(() => undefined)
    if (tsx !== undefined) tsx.register()
    tsxRegistered = true
  }
  return import(module)
}

/** @returns {Map<string, Served> | undefined} */
const served = () => /** @type {any} */ (globalThis)[Symbol.for("@clockwork/node/served")]

const levels = ["All", "Trace", "Debug", "Info", "Warning", "Error", "Fatal", "None"]

/** @param {unknown} value */
const cloneable = (value) => {
  try {
    return structuredClone(value)
  } catch {
    return String(value)
  }
}

/**
 * A plain function exported by the job's name: it gets the payload as
 * encoded, returns the encoded result, and reports through plain callbacks.
 *
 * @param {RunRequest} request
 * @param {(payload: unknown, ctx: unknown) => unknown} handler
 * @returns {Promise<Outcome>}
 */
const runPlain = async (request, handler) => {
  const { seq } = request
  const logs = levels.indexOf("Info") >= levels.indexOf(request.minimumLogLevel)
  const ctx = {
    runId: request.context.runId,
    jobName: request.jobName,
    attempt: request.context.attempt,
    scheduledFor: new Date(request.context.scheduledFor),
    scheduleId: request.context.scheduleId,
    /** @param {number} value */
    progress: (value) => post({ _tag: "Progress", seq, value }),
    /** @param {Record<string, unknown>} metrics */
    metrics: (metrics) => post({ _tag: "Metrics", seq, metrics }),
    /** @param {...unknown} message */
    log: (...message) => {
      if (logs) post({ _tag: "Log", seq, level: "Info", message: message.map(cloneable), annotations: {}, cause: undefined })
    }
  }
  try {
    return { _tag: "Succeeded", seq, value: await handler(request.payload, ctx) }
  } catch (error) {
    return errored(seq, error)
  }
}

/**
 * @param {RunRequest} request
 * @returns {Promise<Outcome>}
 */
const run = async (request) => {
  let module
  try {
    module = await importModule(request.module)
  } catch (error) {
    const hint = /** @type {{ code?: unknown }} */ (error)?.code === "ERR_UNKNOWN_FILE_EXTENSION"
      ? " (a TypeScript worker module needs tsx installed, or compile it)"
      : ""
    return errored(request.seq, error, `could not load the worker module ${request.module}${hint}: `)
  }
  const job = served()?.get(request.jobName)
  if (job !== undefined) return job.execute(request, post)
  const plain = typeof module.default === "object" && module.default !== null
    ? /** @type {Record<string, unknown>} */ (module.default)[request.jobName]
    : undefined
  if (typeof plain === "function") return runPlain(request, /** @type {any} */ (plain))
  return {
    _tag: "Errored",
    seq: request.seq,
    tag: "HandlerNotFound",
    message: `${request.module} does not serve the job "${request.jobName}" ` +
      `(call WorkerJob.serve in it, or export a function by the job's name in its default export)`,
    cause: ""
  }
}

// a module that fails here fails again, with its reason, in the run that needs it
for (const module of /** @type {ThreadData} */ (workerData).preload) await importModule(module).catch(() => undefined)
post({ _tag: "Ready" })

port.on("message", (/** @type {RunRequest} */ request) => {
  run(request).catch((error) => errored(request.seq, error)).then((outcome) => {
    try {
      post(outcome)
    } catch (error) {
      // a result structured clone cannot copy (a function, a class with private fields)
      post(errored(request.seq, error, "its outcome cannot be sent to the main thread: "))
    }
  })
})
