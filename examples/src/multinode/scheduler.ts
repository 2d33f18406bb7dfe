/**
 * The scheduler role: the scheduler API, the ticker (fires due schedules) and
 * a reaper, no runner. It registers the cron schedule under its stable id (a
 * restart finds it and duplicates nothing), then enqueues a burst of jobs every
 * BURST_INTERVAL (3 seconds by default): BURST_SIZE images to resize (8) and
 * half as many receipts. Any number of these may run against one store; each
 * tick still becomes exactly one run.
 *
 *   DATABASE_URL=... node --import tsx --conditions=source src/multinode/scheduler.ts
 */
import { Clockwork, Scheduler, Trigger } from "@clockwork/core"
import { Config, DateTime, Duration, Effect, Fiber, Layer } from "effect"
import * as Deployment from "./deployment.js"
import { purgeSessionsScheduleId, resizeImage, schedulePurgeSessions, sendReceipt } from "./jobs.js"

const burstSize = Config.integer("BURST_SIZE").pipe(Config.withDefault(8))
const burstInterval = Config.duration("BURST_INTERVAL").pipe(Config.withDefault(Duration.seconds(3)))

const widths = [320, 640, 1280, 1920]

const time = (instant: DateTime.Utc) => DateTime.formatIso(instant).slice(11, 19)

const burst = (n: number, size: number) =>
  Effect.gen(function*() {
    const images = Array.from({ length: size }, (_, i) => ({ image: `photo-${n}-${i + 1}.jpg`, width: widths[i % 4]! }))
    const orders = Array.from({ length: Math.ceil(size / 2) }, (_, i) => ({
      order: n * 100 + i + 1,
      email: `customer${i + 1}@example.com`
    }))
    // one statement per job, however many payloads; a shutdown waits for the burst to be enqueued
    // whole (it came between the two statements, leaving a burst of images without its orders). Made on
    // a fiber of its own that the shutdown does not interrupt: an uninterruptible region is not enough,
    // as the store waits for each statement interruptibly (so a caller can give up on a silent network)
    const enqueued = yield* Effect.forkDaemon(
      Effect.zipRight(Scheduler.enqueueMany(resizeImage, images), Scheduler.enqueueMany(sendReceipt, orders))
    )
    yield* Effect.uninterruptible(Fiber.join(enqueued))
    yield* Effect.log(`burst ${n}: enqueued ${images.length} resize-image and ${orders.length} send-receipt runs`)
  })

const program = Effect.gen(function*() {
  const schedule = yield* schedulePurgeSessions
  const next = schedule.nextFireAt === undefined ? "" : `, next tick ${time(schedule.nextFireAt)} UTC`
  yield* Effect.log(
    `schedule ${purgeSessionsScheduleId}: ${Trigger.describe(schedule.trigger)}, ` +
      `registered since ${time(schedule.createdAt)} UTC${next}`
  )
  yield* Deployment.ready
  const size = yield* burstSize
  const interval = yield* burstInterval
  for (let n = 1;; n++) {
    yield* burst(n, size)
    yield* Effect.sleep(interval)
  }
})

const SchedulerRole = Clockwork.layerScheduler({ reaper: { interval: "5 seconds" } }).pipe(
  Layer.provideMerge(Deployment.Store("clockwork-scheduler"))
)

Deployment.runMain(Effect.provide(program, SchedulerRole))
