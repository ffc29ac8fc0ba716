// Fidelity of the local Neon endpoint: the production driver (@neondatabase/serverless and
// drizzle-orm/neon-http) runs inside workerd against it exactly as it would against Neon.
//
// Building a drizzle neon-http instance switches the driver's global type parsers for
// timestamptz, timestamp, date, interval and some arrays to raw strings. Drizzle is therefore
// only built inside tests, and date-like assertions accept both a Date and Postgres text.
import { NeonDbError, neon, neonConfig } from '@neondatabase/serverless'
import { env } from 'cloudflare:workers'
import { count, eq } from 'drizzle-orm'
import { DrizzleQueryError } from 'drizzle-orm/errors'
import { drizzle } from 'drizzle-orm/neon-http'
import {
  bigint,
  date,
  integer,
  jsonb,
  numeric,
  pgTable,
  serial,
  text,
  timestamp,
} from 'drizzle-orm/pg-core'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'

function binding(name: string): string {
  const value: unknown = Reflect.get(env, name)
  if (typeof value !== 'string' || value === '') {
    throw new Error(`binding ${name} is missing; vitest.config.ts injects it from the local stack`)
  }
  return value
}

const databaseUrl = binding('DATABASE_URL')
const backends = binding('TEST_BACKENDS')

/** Unique per test, so parallel runs on a shared CI database never touch each other's tables. */
const createdTables: string[] = []
function tableName(label: string): string {
  const name = `fid_${label}_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
  createdTables.push(name)
  return name
}

/** Postgres timestamptz text (`2026-12-03 21:56:08.853264+00`) or a Date, as epoch ms. */
function instant(value: unknown): number {
  if (value instanceof Date) return value.getTime()
  if (typeof value !== 'string') throw new Error(`expected a timestamp, got ${typeof value}`)
  const iso = value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')
  return new Date(iso).getTime()
}

/** A date column as YYYY-MM-DD whether the parser produced a Date (UTC midnight) or text. */
function calendarDay(value: unknown): string {
  if (value instanceof Date) return value.toISOString().slice(0, 10)
  if (typeof value !== 'string') throw new Error(`expected a date, got ${typeof value}`)
  return value
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject')
}

function errorCause(error: unknown): unknown {
  return error instanceof Error ? error.cause : undefined
}

const sql = neon(databaseUrl)
const fullSql = neon(databaseUrl, { fullResults: true })

beforeAll(function pointDriverAtLocalEndpoint() {
  // The only production difference: the driver's global endpoint setting.
  neonConfig.fetchEndpoint = binding('NEON_FETCH_ENDPOINT')
})

afterEach(async function dropCreatedTables() {
  const tables = createdTables.splice(0)
  for (const table of tables) await sql.query(`drop table if exists ${table}`)
})

describe(`neon /sql endpoint (${backends})`, () => {
  it('round-trips the common Postgres types through the driver', async () => {
    const when = new Date('2026-12-03T21:56:08.853Z')
    const awkward = [',', '"quoted"', 'back\\slash', null, 'héllo 🌍', '', 'NULL', '{}', ' pad ']
    const id = crypto.randomUUID()
    const bytes = new Uint8Array([0, 1, 127, 128, 255])

    const rows = await sql`
      select ${'9007199254740993'}::int8 as big,
             ${'12345.6789'}::numeric as amount,
             ${when}::timestamptz as at,
             ${'2026-12-03'}::date as day,
             ${{ a: 1, nested: { list: [1, 'x', null], emoji: '🎉' } }}::jsonb as doc,
             ${awkward}::text[] as tags,
             ${id}::uuid as id,
             ${true}::bool as yes,
             ${false}::bool as no,
             ${bytes} as blob,
             ${null}::text as nothing,
             ${9007199254740993n}::int8 + 1 as next_big`
    const row = rows[0]

    expect(row).toBeDefined()
    expect(row?.big).toBe('9007199254740993')
    expect(row?.next_big).toBe('9007199254740994')
    expect(row?.amount).toBe('12345.6789')
    expect(instant(row?.at)).toBe(when.getTime())
    expect(calendarDay(row?.day)).toBe('2026-12-03')
    expect(row?.doc).toEqual({ a: 1, nested: { list: [1, 'x', null], emoji: '🎉' } })
    expect(row?.tags).toEqual(awkward)
    expect(row?.id).toBe(id)
    expect(row?.yes).toBe(true)
    expect(row?.no).toBe(false)
    expect(Array.from(row?.blob ?? [])).toEqual(Array.from(bytes))
    expect(row?.nothing).toBeNull()
  })

  it('answers in Postgres text output with type OIDs, as the driver expects', async () => {
    const response = await fetch(binding('NEON_FETCH_ENDPOINT'), {
      method: 'POST',
      headers: {
        'Neon-Connection-String': databaseUrl,
        'Neon-Raw-Text-Output': 'true',
        'Neon-Array-Mode': 'true',
      },
      body: JSON.stringify({
        query: `select true as t, '\\x00ff10'::bytea as b, array['a,b', null, '"q"']::text[] as arr,
                  '{"k": [1, 2]}'::jsonb as j, '2026-12-03 21:56:08.853264+00'::timestamptz as ts,
                  'infinity'::timestamptz as forever, $1::int4 as n`,
        params: ['7'],
      }),
    })
    const body: unknown = await response.json()

    expect(response.status, JSON.stringify(body)).toBe(200)
    expect(body).toMatchObject({
      command: 'SELECT',
      rowCount: 1,
      rowAsArray: true,
      rows: [
        [
          't',
          '\\x00ff10',
          '{"a,b",NULL,"\\"q\\""}',
          '{"k": [1, 2]}',
          '2026-12-03 21:56:08.853264+00',
          'infinity',
          '7',
        ],
      ],
    })
    const fields = Reflect.get(Object(body), 'fields')
    expect(fields).toMatchObject([
      { name: 't', dataTypeID: 16 },
      { name: 'b', dataTypeID: 17 },
      { name: 'arr', dataTypeID: 1009 },
      { name: 'j', dataTypeID: 3802 },
      { name: 'ts', dataTypeID: 1184 },
      { name: 'forever', dataTypeID: 1184 },
      { name: 'n', dataTypeID: 23 },
    ])
  })

  it('reports readiness and refuses malformed requests without a Postgres code', async () => {
    const endpoint = new URL(binding('NEON_FETCH_ENDPOINT'))
    const health = await fetch(new URL('/_local/health', endpoint))
    expect(await health.json()).toEqual({ ok: true, backend: backends.split(',')[0] })

    const badIsolation = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'Neon-Connection-String': databaseUrl,
        'Neon-Batch-Isolation-Level': 'Serializable; drop table x',
      },
      body: JSON.stringify({ queries: [{ query: 'select 1', params: [] }] }),
    })
    expect(badIsolation.status).toBe(400)
    expect(await badIsolation.json()).toEqual({
      message: 'unsupported Neon-Batch-Isolation-Level "Serializable; drop table x"',
    })

    const wrongMethod = await fetch(endpoint)
    expect(wrongMethod.status).toBe(405)
    await wrongMethod.body?.cancel()
  })

  it('reports command and rowCount with fullResults, and empty fields/rows for DDL', async () => {
    const table = tableName('counts')

    const created = await fullSql.query(`create table ${table} (id serial primary key, v text)`)
    expect(created).toMatchObject({ command: 'CREATE', rowCount: null, fields: [], rows: [] })

    const inserted = await fullSql.query(`insert into ${table} (v) values ($1), ($2), ($3)`, [
      'a',
      'b',
      'c',
    ])
    expect(inserted).toMatchObject({ command: 'INSERT', rowCount: 3, rows: [] })

    const updated = await fullSql.query(`update ${table} set v = $1 where v <> $2`, ['z', 'a'])
    expect(updated).toMatchObject({ command: 'UPDATE', rowCount: 2 })

    const selected = await fullSql.query(`select id, v from ${table} order by id`)
    expect(selected.command).toBe('SELECT')
    expect(selected.rowCount).toBe(3)
    expect(selected.fields.map((field) => [field.name, field.dataTypeID])).toEqual([
      ['id', 23],
      ['v', 25],
    ])
    expect(selected.rows).toEqual([
      { id: 1, v: 'a' },
      { id: 2, v: 'z' },
      { id: 3, v: 'z' },
    ])

    const deleted = await fullSql.query(`delete from ${table} where v = $1`, ['z'])
    expect(deleted).toMatchObject({ command: 'DELETE', rowCount: 2 })
  })

  it('delivers a unique violation as NeonDbError with code 23505 and its details', async () => {
    const table = tableName('unique')
    await sql.query(`create table ${table} (email text constraint ${table}_email_key unique)`)
    await sql.query(`insert into ${table} (email) values ($1)`, ['dup@x.test'])

    const insert = `insert into ${table} (email) values ($1)`
    const error = await caught(sql.query(insert, ['dup@x.test']))

    expect(error).toBeInstanceOf(NeonDbError)
    expect(error).toMatchObject({
      code: '23505',
      severity: 'ERROR',
      constraint: `${table}_email_key`,
      table,
      schema: 'public',
      detail: 'Key (email)=(dup@x.test) already exists.',
    })
  })

  it('rolls back a whole sql.transaction when one statement fails', async () => {
    const table = tableName('txn')
    await sql.query(`create table ${table} (v text unique)`)

    const error = await caught(
      sql.transaction([
        sql.query(`insert into ${table} (v) values ($1)`, ['first']),
        sql.query(`insert into ${table} (v) values ($1)`, ['second']),
        sql.query(`insert into ${table} (v) values ($1)`, ['first']),
      ]),
    )
    expect(error).toMatchObject({ code: '23505' })

    const divide = await caught(
      sql.transaction([
        sql.query(`insert into ${table} (v) values ($1)`, ['third']),
        sql.query('select 1 / 0'),
      ]),
    )
    expect(divide).toMatchObject({ code: '22012' })

    const [remaining] = await sql.query(`select count(*)::int as n from ${table}`)
    expect(remaining).toEqual({ n: 0 })
  })

  it('runs a successful transaction in order, later statements seeing earlier ones', async () => {
    const table = tableName('order')
    await sql.query(`create table ${table} (id serial primary key, v text)`)

    const [insert, total] = await sql.transaction([
      sql.query(`insert into ${table} (v) values ($1) returning id`, ['one']),
      sql.query(`select count(*)::int as n from ${table}`),
    ])

    expect(insert).toEqual([{ id: 1 }])
    expect(total).toEqual([{ n: 1 }])
  })

  it('applies the Neon-Batch-* transaction options', async () => {
    const [settings] = await sql.transaction(
      [
        sql`select current_setting('transaction_isolation') as isolation,
                   current_setting('transaction_read_only') as read_only,
                   current_setting('transaction_deferrable') as deferrable`,
      ],
      { isolationLevel: 'Serializable', readOnly: true, deferrable: true },
    )
    expect(settings).toEqual([{ isolation: 'serializable', read_only: 'on', deferrable: 'on' }])

    const table = tableName('readonly')
    await sql.query(`create table ${table} (v text)`)
    const error = await caught(
      sql.transaction([sql.query(`insert into ${table} (v) values ('x')`)], { readOnly: true }),
    )
    expect(error).toMatchObject({ code: '25006' })
  })

  it('refuses a string with several statements with 42601, like a prepared statement', async () => {
    const error = await caught(sql.query('select 1; select 2'))

    expect(error).toBeInstanceOf(NeonDbError)
    expect(error).toMatchObject({ code: '42601' })
  })

  it('refuses a connection string whose host is not local, without a Postgres code', async () => {
    const remote = neon('postgresql://app:secret@ep-example-123.us-east-2.aws.neon.tech/app')
    const error = await caught(remote`select 1`)

    expect(error).toBeInstanceOf(NeonDbError)
    expect(String(error)).toContain('HTTP status 403')
    expect(String(error)).toContain('refusing non-local database host')
    expect(error).toMatchObject({ code: undefined })

    const lookalike = neon('postgresql://app:secret@localhost.example.com/app')
    expect(String(await caught(lookalike`select 1`))).toContain('HTTP status 403')
  })

  it('serializes concurrent batches correctly, failing ones leaving nothing behind', async () => {
    const table = tableName('concurrent')
    await sql.query(`create table ${table} (v text unique)`)

    const batches = Array.from({ length: 10 }, function batchFor(_, index) {
      // Every third batch repeats its own first value and must roll back entirely.
      const last = index % 3 === 0 ? `b${index}-1` : `b${index}-2`
      return sql.transaction([
        sql.query(`insert into ${table} (v) values ($1)`, [`b${index}-1`]),
        sql.query(`insert into ${table} (v) values ($1)`, [last]),
      ])
    })
    const outcomes = await Promise.allSettled(batches)

    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(4)
    const [total] = await sql.query(`select count(*)::int as n from ${table}`)
    expect(total).toEqual({ n: 12 })
  })

  it('rolls back a drizzle db.batch; 23505 reaches the app through drizzle', async () => {
    const name = tableName('drizzle')
    const accounts = pgTable(name, {
      id: serial('id').primaryKey(),
      email: text('email').notNull().unique(`${name}_email_key`),
    })
    const db = drizzle({ client: sql })
    await sql.query(
      `create table ${name} (id serial primary key,
         email text not null constraint ${name}_email_key unique)`,
    )

    const error = await caught(
      db.batch([
        db.insert(accounts).values({ email: 'a@x.test' }),
        db.insert(accounts).values({ email: 'b@x.test' }),
        db.insert(accounts).values({ email: 'a@x.test' }),
      ]),
    )
    // drizzle 0.45 passes batch errors through unwrapped; single queries are wrapped (below).
    expect(error).toBeInstanceOf(NeonDbError)
    expect(error).toMatchObject({ code: '23505', constraint: `${name}_email_key` })

    const [afterBatch] = await db.select({ n: count() }).from(accounts)
    expect(afterBatch).toEqual({ n: 0 })

    await db.insert(accounts).values({ email: 'a@x.test' })
    const single = await caught(db.insert(accounts).values({ email: 'a@x.test' }))
    expect(single).toBeInstanceOf(DrizzleQueryError)
    expect(Reflect.get(Object(single), 'code')).toBeUndefined()
    expect(errorCause(single)).toBeInstanceOf(NeonDbError)
    expect(errorCause(single)).toMatchObject({ code: '23505', constraint: `${name}_email_key` })
  })

  it('round-trips typed drizzle columns and reports update rowCount', async () => {
    const name = tableName('typed')
    const ledger = pgTable(name, {
      id: integer('id').primaryKey(),
      big: bigint('big', { mode: 'bigint' }).notNull(),
      amount: numeric('amount').notNull(),
      tags: text('tags').array().notNull(),
      doc: jsonb('doc').$type<{ k: string[] }>().notNull(),
      day: date('day').notNull(),
      at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    })
    const db = drizzle({ client: sql })
    await sql.query(
      `create table ${name} (id int primary key, big int8 not null, amount numeric not null,
         tags text[] not null, doc jsonb not null, day date not null, at timestamptz not null)`,
    )
    const at = new Date('2026-12-03T21:56:08.853Z')

    await db.insert(ledger).values({
      id: 1,
      big: 9007199254740993n,
      amount: '12345.6789',
      tags: ['a,b', '"q"', 'é'],
      doc: { k: ['x', 'y'] },
      day: '2026-12-03',
      at,
    })
    const [row] = await db.select().from(ledger).where(eq(ledger.id, 1))

    expect(row).toEqual({
      id: 1,
      big: 9007199254740993n,
      amount: '12345.6789',
      tags: ['a,b', '"q"', 'é'],
      doc: { k: ['x', 'y'] },
      day: '2026-12-03',
      at,
    })

    const updated = await db.update(ledger).set({ amount: '1' }).where(eq(ledger.id, 1))
    expect(updated.rowCount).toBe(1)
  })
})
