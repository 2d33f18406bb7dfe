import type { Job } from "@clockwork/core"
import { Effect, FiberRef, LogLevel, Queue, type Scope } from "effect"
import { type ResourceLimits, Worker } from "node:worker_threads"
import type { Outcome, Ready, Report, RunRequest, ThreadData, ThreadMessage } from "./protocol.js"
// types only: WorkerPool.ts documents them, and imports this module
import type { Stats, Task } from "../WorkerPool.js"

export interface PoolConfig {
  readonly size: number
  readonly entry: URL
  /** worker modules every thread loads before it takes runs */
  readonly preload: ReadonlyArray<string>
  readonly execArgv: ReadonlyArray<string> | undefined
  readonly resourceLimits: ResourceLimits | undefined
}

/** A thread that died during a run. */
export interface Crash {
  readonly threadId: number
  readonly exitCode: number
  readonly error: string | undefined
}

type Inbox = ThreadMessage | { readonly _tag: "Exited"; readonly crash: Crash }

const workerOf = (config: PoolConfig, preload: ReadonlyArray<string>) =>
  new Worker(config.entry, {
    workerData: { preload } satisfies ThreadData,
    ...(config.execArgv === undefined ? {} : { execArgv: [...config.execArgv] }),
    ...(config.resourceLimits === undefined ? {} : { resourceLimits: config.resourceLimits })
  })

class Thread {
  readonly worker: Worker
  readonly threadId: number
  seq = 0
  /** it reported ready: its entry and preloaded modules are loaded */
  ready = false
  /** set while a run holds the thread */
  listener: ((message: Inbox) => void) | undefined = undefined
  /** a run was sent and its outcome has not come back: the thread is busy */
  running = false
  exitCode: number | undefined = undefined
  error: string | undefined = undefined
  killed = false
  /** settles when the thread is ready or has exited */
  readonly started: Promise<void>

  constructor(
    config: PoolConfig,
    preload: ReadonlyArray<string>,
    onReady: (thread: Thread) => void,
    onExit: (thread: Thread) => void
  ) {
    this.worker = workerOf(config, preload)
    this.threadId = this.worker.threadId
    let started!: () => void
    this.started = new Promise((resolve) => started = resolve)
    // an idle thread does not keep the process alive
    this.worker.unref()
    this.worker.on("message", (message: ThreadMessage | Ready) => {
      if (message._tag === "Ready") {
        this.ready = true
        started()
        onReady(this)
      } else if (message.seq === this.seq) {
        this.listener?.(message)
      }
    })
    // an uncaught error in the thread: 'exit' follows
    this.worker.on("error", (error) => {
      this.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    })
    this.worker.on("exit", (exitCode) => {
      this.exitCode = exitCode
      this.listener?.({ _tag: "Exited", crash: this.crash! })
      started()
      onExit(this)
    })
  }

  get exited() {
    return this.exitCode !== undefined
  }

  get crash(): Crash | undefined {
    return this.exitCode === undefined
      ? undefined
      : { threadId: this.threadId, exitCode: this.exitCode, error: this.error }
  }
}

/**
 * A fixed number of threads. A run borrows an idle one (first come, first served); when the
 * run ends with an outcome the thread goes back, otherwise (timeout, cancel,
 * shutdown, crash) it is terminated and a fresh thread takes its place.
 */
export const make = (config: PoolConfig): Effect.Effect<
  {
    readonly execute: (task: Task) => Effect.Effect<Outcome, Crash>
    readonly stats: Effect.Effect<Stats>
  },
  never,
  Scope.Scope
> =>
  Effect.gen(function*() {
    // idle threads, and the runs waiting for one in the order they came (a Set keeps insertion order). A
    // thread that comes back goes to the longest waiter before that run's fiber resumes; a waiter
    // interrupted then hands it on (see `idleThread`). Effect's Queue loses the thread there, and its
    // Semaphore resumes every waiter on each release (a hundred runs waiting: a hundred wake-ups a run).
    const idle: Array<Thread> = []
    const line = new Set<(thread: Thread | undefined) => void>()
    const putIdle = (thread: Thread): void => {
      const first = line.values().next()
      if (first.done === true) idle.push(thread)
      else first.value(thread)
    }
    const live = new Set<Thread>()
    let closed = false
    let started = 0
    let killed = 0
    let crashed = 0

    // worker modules run so far: a new thread loads them before it reports ready
    const modules = new Set<string>(config.preload)

    const onReady = (thread: Thread) => {
      if (!closed) putIdle(thread)
    }
    const onExit = (thread: Thread) => {
      live.delete(thread)
      if (thread.killed || closed) return
      crashed++
      // a thread that could not start is handed to the next run, which fails
      // with the reason (a broken entry would otherwise be restarted in a loop)
      if (!thread.ready) putIdle(thread)
    }
    const spawn = Effect.sync(() => {
      if (closed) return undefined
      const thread = new Thread(config, Array.from(modules), onReady, onExit)
      live.add(thread)
      started++
      return thread
    })

    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        const threads = Array.from(live)
        for (const thread of threads) thread.killed = true
        // runs still waiting for a thread are interrupted
        for (const handOver of Array.from(line)) handOver(undefined)
        return Effect.promise(() => Promise.all(threads.map((thread) => thread.worker.terminate())))
      })
    )

    // the pool is up when its threads are ready (or have failed to start), so
    // the first runs do not spend their timeout waiting for threads to boot
    const first = yield* Effect.replicateEffect(spawn, config.size)
    yield* Effect.promise(() => Promise.all(first.map((thread) => thread!.started)))

    const replace = Effect.asVoid(spawn)

    // Waits for an idle thread; only the wait can be interrupted. A thread handed over by `putIdle` is
    // this run's before its fiber resumes: an interruption that reaches the fiber together with it hands
    // it on to the next waiter.
    const idleThread: Effect.Effect<Thread> = Effect.suspend(() => {
      if (closed) return Effect.interrupt
      if (idle.length > 0) return Effect.succeed(idle.shift()!)
      let handed: Thread | undefined
      const wait = Effect.async<Thread>((resume) => {
        const handOver = (thread: Thread | undefined) => {
          line.delete(handOver)
          handed = thread
          resume(thread === undefined ? Effect.interrupt : Effect.succeed(thread))
        }
        line.add(handOver)
        return Effect.sync(() => line.delete(handOver))
      })
      return Effect.onInterrupt(
        Effect.interruptible(wait),
        () =>
          Effect.sync(() => {
            if (handed !== undefined) putIdle(handed)
          })
      )
    })
    // a dead idle thread is replaced; one that died while idle (a stray timer
    // threw) is skipped, one that never started fails the run
    const take: Effect.Effect<Thread, Crash> = Effect.uninterruptible(Effect.flatMap(idleThread, (thread) =>
      !thread.exited
        ? Effect.succeed(thread)
        : Effect.zipRight(replace, thread.ready ? take : Effect.fail(thread.crash!))))

    const giveBack = (thread: Thread): Effect.Effect<void> =>
      Effect.suspend(() => {
        thread.listener = undefined
        if (!thread.running && !thread.exited && !closed) {
          thread.worker.unref()
          return Effect.sync(() => putIdle(thread))
        }
        if (thread.exited) return replace
        // still running (a timeout, a cancel, a shutdown): the only way to stop
        // a thread that does not yield is to kill it
        thread.killed = true
        killed++
        return Effect.zipRight(Effect.promise(() => thread.worker.terminate()), replace)
      })

    // waiting for a thread can be interrupted (a run may time out in the line);
    // once taken, the thread is always given back
    const borrow = Effect.acquireRelease(take, giveBack)

    const forward = (report: Report, context: Job.JobContext): Effect.Effect<void> => {
      switch (report._tag) {
        case "Log": {
          const message = report.cause === undefined ? report.message : [...report.message, report.cause]
          // logged from the run's fiber, so the line carries the run's annotations
          return Effect.logWithLevel(LogLevel.fromLiteral(report.level), ...message).pipe(
            Effect.annotateLogs(report.annotations)
          )
        }
        case "Progress":
          return context.progress(report.value)
        case "Metrics":
          return context.metrics(report.metrics)
      }
    }

    const execute = (task: Task): Effect.Effect<Outcome, Crash> =>
      Effect.scoped(Effect.gen(function*() {
        modules.add(task.module)
        const thread = yield* borrow
        const inbox = yield* Queue.unbounded<Inbox>()
        const minimumLogLevel = yield* FiberRef.get(FiberRef.currentMinimumLogLevel)
        const request: RunRequest = {
          seq: ++thread.seq,
          module: task.module,
          jobName: task.jobName,
          payload: task.payload,
          context: {
            runId: task.context.runId,
            attempt: task.context.attempt,
            scheduledFor: task.context.scheduledFor.getTime(),
            scheduleId: task.context.scheduleId
          },
          minimumLogLevel: minimumLogLevel._tag
        }
        thread.listener = (message) => inbox.unsafeOffer(message)
        thread.worker.ref()
        try {
          thread.worker.postMessage(request)
        } catch (error) {
          // the payload could not be copied (DataCloneError); the thread never saw it
          return yield* Effect.die(error)
        }
        thread.running = true
        for (;;) {
          const message = yield* Queue.take(inbox)
          switch (message._tag) {
            case "Log":
            case "Progress":
            case "Metrics":
              yield* forward(message, task.context)
              break
            case "Exited":
              return yield* Effect.fail(message.crash)
            default:
              thread.running = false
              return message
          }
        }
      }))

    return {
      execute,
      stats: Effect.sync(() => ({
        size: config.size,
        idle: idle.length,
        started,
        killed,
        crashed,
        threadIds: Array.from(live, (thread) => thread.threadId)
      }))
    }
  })
