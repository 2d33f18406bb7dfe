import { JobStore, Scheduler } from "@clockwork/core"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { chromium, type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { approval, type App, eventually, hello, hostile, scheduleHello, slow, start, token, urlOf } from "./support.js"

const executablePath = "/usr/bin/chromium"
const haveChromium = existsSync(executablePath)
if (!haveChromium) console.warn(`the dashboard's browser tests are skipped: ${executablePath} is absent (apt-get install chromium)`)

describe.skipIf(!haveChromium)("the dashboard in Chromium", () => {
  let app: App
  let url: string
  let browser: Browser
  let page: Page
  const dialogs: Array<string> = []
  const cspViolations: Array<string> = []

  const shot = (name: string) => page.screenshot({ path: `/tmp/dashboard-${name}.png`, fullPage: true })
  const confirm = async () => {
    await page.locator("#confirm-yes").click()
    await page.locator("#confirm").waitFor({ state: "hidden" })
  }
  const scheduleRow = () => page.locator(`tr[data-schedule="hello-every-hour"]`)

  beforeAll(async () => {
    app = start(JobStore.layerMemory)
    url = await urlOf(app)
    await app.runPromise(Effect.gen(function*() {
      yield* scheduleHello
      const handles = yield* Scheduler.enqueueMany(hello, Array.from({ length: 12 }, (_, n) => ({ n })))
      yield* Effect.forEach(handles, Scheduler.result)
      yield* Scheduler.enqueue(hostile, {})
    }))
    await eventually(async () => (await app.runPromise(Scheduler.history({ jobName: hostile.name })))[0])
    browser = await chromium.launch({
      executablePath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message())
      void dialog.dismiss()
    })
    page.on("console", (message) => {
      if (message.type() === "error" && /Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text())
    })
  })
  afterAll(async () => {
    await browser?.close()
    await app?.dispose()
  })

  it("shows the overview with the last hour's runs, live", async () => {
    await page.goto(url)
    await page.locator(".cards").waitFor()
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 60_000 }).toBe("live")
    expect(await page.locator(".card").first().locator(".value").textContent()).toBe("12")
    await shot("overview")
  })

  it("renders hostile names and errors as text, running no script", async () => {
    await page.goto(`${url}#/history`)
    await page.locator("tr[data-run]").first().waitFor()
    await expect.poll(() => page.getByText(hostile.name, { exact: true }).count()).toBeGreaterThan(0)
    await expect.poll(() => page.getByText("Boom: </script><script>alert(1)</script>").count()).toBeGreaterThan(0)
    expect(await page.locator("main img").count()).toBe(0)
    expect(await page.locator("main script").count()).toBe(0)
    await shot("history")
    const [failed] = await app.runPromise(Scheduler.history({ jobName: hostile.name }))
    await page.goto(`${url}#/runs/${failed!.runId}`)
    await page.getByRole("heading", { name: `Run of ${hostile.name}` }).waitFor()
    await shot("run")
    expect(dialogs).toEqual([])
  })

  it("refuses an action without the token", async () => {
    await page.goto(`${url}#/schedules`)
    await scheduleRow().waitFor()
    await scheduleRow().getByRole("button", { name: "Pause" }).click()
    await confirm()
    await page.locator(".note.error", { hasText: "refused" }).first().waitFor()
    const [schedule] = await app.runPromise(Scheduler.schedules)
    expect(schedule!.paused).toBe(false)
  })

  it("pauses and resumes a schedule with the token", async () => {
    await page.locator("#token").fill(token)
    await page.locator("#token-save").click()
    await scheduleRow().getByRole("button", { name: "Pause" }).click()
    await confirm()
    await scheduleRow().locator(".badge.paused").waitFor()
    expect((await app.runPromise(Scheduler.schedules))[0]!.paused).toBe(true)
    await shot("schedules")
    await scheduleRow().getByRole("button", { name: "Resume" }).click()
    await confirm()
    await scheduleRow().getByRole("button", { name: "Pause" }).waitFor()
    expect((await app.runPromise(Scheduler.schedules))[0]!.paused).toBe(false)
  })

  it("shows a run started after the page loaded, and cancels it", async () => {
    await page.goto(`${url}#/queue`)
    await page.getByRole("heading", { name: "Running" }).waitFor()
    const run = await app.runPromise(Scheduler.enqueue(slow, {}))
    const row = page.locator(`tr[data-run="${run.id}"]`)
    await row.waitFor({ timeout: 60_000 })
    await shot("queue")
    await row.getByRole("button", { name: "Cancel" }).click()
    await confirm()
    await eventually(async () => (await app.runPromise(Scheduler.getRun(run.id))).state === "cancelled" || undefined)
    await row.waitFor({ state: "detached", timeout: 60_000 })

    // a finished run appears in the history without a reload
    await page.goto(`${url}#/history`)
    await page.locator("tr[data-run]").first().waitFor()
    const later = await app.runPromise(Scheduler.enqueue(hello, { n: 99 }))
    await page.locator(`tr[data-run="${later.id}"]`).waitFor({ timeout: 60_000 })
    await page.goto(`${url}#/workers`)
    await page.getByText("worker-1").waitFor()
    await shot("workers")
  })

  it("shows a workflow run's steps, the child linked, the run waiting for its signal", async () => {
    const run = await app.runPromise(Scheduler.enqueue(approval, {}))
    await eventually(async () =>
      (await app.runPromise(Scheduler.steps(run.id))).some((s) => s.name === "signal:go") || undefined
    )
    await page.goto(`${url}#/runs/${run.id}`)
    const waiting = page.locator(`tr[data-step="signal:go"]`)
    await waiting.waitFor({ timeout: 60_000 })
    expect(await waiting.locator("td").nth(2).textContent()).toBe("waiting")
    expect(await page.getByText("when woken (a child ends, a signal comes)").count()).toBe(1)
    const child = page.locator(`tr[data-step="double"] a`)
    expect(await child.count()).toBe(1)
    await shot("workflow")
    await app.runPromise(Scheduler.signal(run.id, "go", 2))
    expect(await app.runPromise(Scheduler.result(run))).toBe(42)
  })

  it("fired no dialog and broke no Content-Security-Policy rule", () => {
    expect(dialogs).toEqual([])
    expect(cspViolations).toEqual([])
  })
})
