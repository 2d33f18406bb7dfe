import { StoreError } from "@clockwork/core/JobStore"
import * as Migrator from "@effect/sql/Migrator"
import { SqlClient } from "@effect/sql/SqlClient"
import { Cause, Effect, Option } from "effect"
import { classify, describe } from "./errors.js"
import { createClaimRunsV1, createClaimRunsV2 } from "./sql/claim.js"
import { createCompleteRunsV1, createCompleteRunsV2 } from "./sql/complete.js"
import { createEnqueueRunsV1 } from "./sql/enqueue.js"
import type { Tables } from "./tables.js"

/**
 * The migrations, in code (keyed "<id>_<name>", as `Migrator.fromRecord`
 * reads them). They are functions of the schema because every statement names
 * its schema. Append new ones; never edit one that has shipped.
 */
const migrations = (t: Tables): Record<string, Effect.Effect<void, unknown, SqlClient>> => ({
  "0001_create_tables": Effect.gen(function*() {
    const sql = t.sql
    yield* sql`
      create table ${t.schedules} (
        id text primary key,
        job_name text not null,
        payload jsonb,
        trigger jsonb not null,
        misfire jsonb not null,
        overlap text not null check (overlap in ('skip', 'queue', 'allow')),
        misfire_grace_ms bigint not null,
        paused boolean not null default false,
        next_fire_at timestamptz,
        last_fire_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`
    yield* sql`create index schedules_due on ${t.schedules} (next_fire_at) where not paused`

    // the queue; `then` is a reserved word in SQL, hence then_jobs
    yield* sql`
      create table ${t.runs} (
        id uuid primary key default gen_random_uuid(),
        seq bigint generated always as identity,
        job_name text not null,
        payload jsonb,
        schedule_id text,
        state text not null default 'queued'
          check (state in ('queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'dead')),
        attempt integer not null default 0,
        run_at timestamptz not null,
        scheduled_for timestamptz not null,
        priority integer not null default 0,
        key text,
        serial boolean not null default false,
        then_jobs text[] not null default '{}',
        result jsonb,
        error jsonb,
        worker_id text,
        lease_until timestamptz,
        claimed_at timestamptz,
        created_at timestamptz not null,
        finished_at timestamptz
      )`
    yield* sql`create unique index runs_seq on ${t.runs} (seq)`
    // the claim's scan, in claim order
    yield* sql`create index runs_claim on ${t.runs} (priority desc, run_at, seq) where state = 'queued'`
    // nextRunAt: the earliest future run
    yield* sql`create index runs_queued_run_at on ${t.runs} (run_at) where state = 'queued'`
    // a dedup key is held while its run is queued or running
    yield* sql`
      create unique index runs_active_key on ${t.runs} (key)
      where key is not null and state in ('queued', 'running')`
    // overlap `skip`: does the schedule have a queued or running run
    yield* sql`
      create index runs_active_schedule on ${t.runs} (schedule_id)
      where state in ('queued', 'running') and schedule_id is not null`
    // serial runs (overlap `queue`): which queued one of a schedule is the earliest
    yield* sql`create index runs_serial_queued on ${t.runs} (schedule_id, run_at, seq) where state = 'queued' and serial`
    // the reaper
    yield* sql`create index runs_lease on ${t.runs} (lease_until) where state = 'running'`

    // every attempt of every run (the seed's scheduled_job_runs)
    yield* sql`
      create table ${t.history} (
        seq bigint generated always as identity primary key,
        run_id uuid not null,
        job_name text not null,
        schedule_id text,
        attempt integer not null,
        status text not null
          check (status in ('succeeded', 'failed', 'timed_out', 'cancelled', 'interrupted', 'dead')),
        scheduled_for timestamptz not null,
        started_at timestamptz not null,
        finished_at timestamptz not null,
        duration_ms bigint generated always as ((extract(epoch from finished_at - started_at) * 1000)::bigint) stored,
        error_tag text,
        error_message text,
        error_cause text,
        result jsonb,
        metrics jsonb,
        retry_at timestamptz,
        worker_id text
      )`
    yield* sql`create index run_history_finished on ${t.history} (finished_at desc, seq desc)`
    yield* sql`create index run_history_job on ${t.history} (job_name, finished_at desc, seq desc)`
    yield* sql`create index run_history_run on ${t.history} (run_id)`
    yield* sql`
      create index run_history_schedule on ${t.history} (schedule_id, finished_at desc, seq desc)
      where schedule_id is not null`

    // live workers and their heartbeats
    yield* sql`
      create table ${t.workers} (
        id text primary key,
        started_at timestamptz not null,
        heartbeat_at timestamptz not null,
        info jsonb not null default '{}'
      )`
  }),

  // pruneHistory finds the final runs by when they ended
  "0002_runs_finished_index": Effect.asVoid(
    t.sql`create index runs_finished on ${t.runs} (finished_at) where finished_at is not null`
  ),

  // runners' beats: a row is live until expires_at (a lease's length after its last beat)
  "0003_workers_expiry": Effect.asVoid(
    t.sql`alter table ${t.workers} add column expires_at timestamptz not null default now()`
  ),

  // fencing: how many attempts of a run lost their lease (they count against its retry policy), and a
  // cancellation requested for a running run, which its worker hears through its heartbeat
  "0004_lease_expiries_and_cancel_requests": Effect.asVoid(
    t.sql`alter table ${t.runs}
      add column lease_expiries integer not null default 0,
      add column cancel_requested boolean not null default false`
  ),

  // the run feed: rows are read in (xact, seq) order below the oldest transaction still running, so a
  // reader never passes a row that commits later (seq alone is taken in insert order, not commit order).
  // Rows recorded before this migration count as one old transaction ('0'), without rewriting the table.
  "0005_run_feed": Effect.gen(function*() {
    const sql = t.sql
    yield* sql`alter table ${t.history} add column xact xid8 not null default '0'`
    yield* sql`alter table ${t.history} alter column xact set default pg_current_xact_id()`
    yield* sql`create index run_history_feed on ${t.history} (xact, seq)`
    // schedule changes take their seq from the history's sequence: one order across the two tables
    const [sequence] = yield* sql<{ readonly name: string }>`
      select pg_get_serial_sequence(${`${t.schema}.run_history`}, 'seq') as name`
    yield* sql`
      create table ${t.scheduleChanges} (
        seq bigint primary key default nextval(${sql.literal(`'${sequence!.name}'`)}::regclass),
        xact xid8 not null default pg_current_xact_id(),
        schedule_id text not null,
        job_name text not null,
        change text not null check (change in ('created', 'updated', 'paused', 'resumed', 'removed')),
        at timestamptz not null
      )`
    yield* sql`create index schedule_changes_feed on ${t.scheduleChanges} (xact, seq)`
    yield* sql`create index schedule_changes_at on ${t.scheduleChanges} (at)`
    yield* sql`
      create table ${t.feedConsumers} (
        name text primary key,
        cursor_xact xid8 not null,
        cursor_seq bigint not null,
        holder text,
        lease_until timestamptz,
        updated_at timestamptz not null
      )`
  }),

  // the trace a run continues: the W3C traceparent of the span that enqueued it
  "0006_run_traceparent": Effect.asVoid(t.sql`alter table ${t.runs} add column traceparent text`),

  // workflows: a child run names its parent; a run counts its wakes (a child ended, a signal came), so
  // an attempt that ends waiting knows whether it was woken while it ran. Retention deletes a run's
  // journal with it (no foreign key: `truncate runs` keeps working as it did)
  "0007_workflows": Effect.gen(function*() {
    const sql = t.sql
    yield* sql`alter table ${t.runs} add column parent_run_id uuid, add column wakes integer not null default 0`
    yield* sql`create index runs_parent on ${t.runs} (parent_run_id) where parent_run_id is not null`
    yield* sql`
      create table ${t.steps} (
        run_id uuid not null,
        name text not null,
        seq bigint generated always as identity,
        kind text not null check (kind in ('step', 'sleep', 'child', 'signal')),
        status text not null check (status in ('succeeded', 'failed', 'waiting')),
        position text not null,
        attempt integer not null,
        started_at timestamptz not null,
        finished_at timestamptz,
        wake_at timestamptz,
        child_run_id uuid,
        result jsonb,
        error jsonb,
        primary key (run_id, name)
      )`
  }),

  // the claim and the completion as server-side functions, so their plans are kept per connection
  // (sql/claim.ts, sql/complete.ts)
  "0008_claim_and_complete_functions": Effect.gen(function*() {
    yield* t.sql.unsafe(createClaimRunsV1(t.schema))
    yield* t.sql.unsafe(createCompleteRunsV1(t.schema))
  }),

  // the claim that also answers when the next run is due and whether a suspect waits (sql/claim.ts),
  // with the index of queued runs that lost a lease (suspects are among them) it reads; the enqueue of
  // runs without dedup keys as a function too (sql/enqueue.ts)
  "0009_claim_v2_and_enqueue_function": Effect.gen(function*() {
    yield* t.sql`create index runs_suspects on ${t.runs} (run_at) where state = 'queued' and lease_expiries > 0`
    yield* t.sql.unsafe(createClaimRunsV2(t.schema))
    yield* t.sql.unsafe(createEnqueueRunsV1(t.schema, t.channel))
  }),

  // the completion that ends cancelled a run whose cancellation was requested, instead of queueing it
  // again (sql/complete.ts)
  "0010_complete_v2": Effect.asVoid(t.sql.unsafe(createCompleteRunsV2(t.schema)))
})

/**
 * Brings the schema up to date. Safe when several processes start at once:
 * everything runs in one transaction that first takes an advisory lock for this
 * schema, so the others wait, then find the migrations applied and do nothing.
 * (The Migrator's own `LOCK TABLE` comes too late for that: it creates its table
 * and the schema must exist before.)
 */
export const migrate = (t: Tables): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, StoreError> => {
  const { sql } = t
  const run = Migrator.make({})({ loader: Migrator.fromRecord(migrations(t)), table: t.migrations })
  return sql.withTransaction(Effect.gen(function*() {
    yield* sql`select pg_advisory_xact_lock(hashtext('clockwork.migrate'), hashtext(${t.schema}))`
    yield* sql`create schema if not exists ${sql(t.schema)}`
    // the Migrator's own check for its table is a failing `::regclass` cast, which would abort this
    // transaction; with the table present (same definition as the Migrator's) that check passes
    yield* sql`
      create table if not exists ${sql(t.migrations)} (
        migration_id integer primary key,
        created_at timestamp with time zone not null default now(),
        name text not null
      )`
    return yield* run
  })).pipe(
    Effect.provideService(SqlClient, sql),
    // the Migrator turns a failing migration into a defect
    Effect.catchAllCause((cause) => {
      const error = Option.getOrUndefined(Option.orElse(Cause.failureOption(cause), () => Cause.dieOption(cause)))
      if (error === undefined) return Effect.failCause(cause as Cause.Cause<never>)
      return Effect.fail(
        new StoreError({
          operation: "migrate",
          message: `migrating schema "${t.schema}" failed: ${describe(error)}`,
          kind: classify(error),
          cause: error
        })
      )
    })
  )
}
