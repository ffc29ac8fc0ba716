// The bench's data set, in a database of its own that is dropped and made again every run:
// many organizations, ten thousand staff users, thousands of requests and tens of thousands
// of items, written with set-based INSERT … SELECT generate_series so seeding takes seconds.
import pg from 'pg'

import { hashPassword } from '../src/auth/passwords.ts'

export const benchDatabase = 'currentmesh_bench'
export const benchPassword = 'bench-password-not-a-secret'

export interface SeedShape {
  organizations: number
  usersPerOrganization: number
  clientsPerOrganization: number
  requestsPerOrganization: number
  /** Items per request vary around this mean, from 40% to 160% of it. */
  itemsPerRequest: number
}

export interface SeedCounts {
  organizations: number
  users: number
  clients: number
  contacts: number
  requests: number
  items: number
  comments: number
  events: number
  seconds: number
}

export interface BenchUser {
  id: string
  email: string
  role: 'owner' | 'admin' | 'manager' | 'member'
  authVersion: number
}

export interface BenchRequest {
  id: string
  /** An item of this request that still takes uploads and comments. */
  itemId: string
}

export interface BenchOrganization {
  id: string
  slug: string
  users: BenchUser[]
  /** Requests that are open (sent or in progress), so writes to them are allowed. */
  openRequests: BenchRequest[]
  /** Every live request, whatever its status. */
  requestIds: string[]
}

function assertLocal(url: string): URL {
  const parsed = new URL(url)
  if (!['127.0.0.1', 'localhost'].includes(parsed.hostname)) {
    throw new Error(`the bench only seeds a PostgreSQL on this machine, not ${parsed.hostname}`)
  }
  return parsed
}

/** `postgresql://…/currentmesh_bench` on the same server as `serverUrl`. */
export function benchDatabaseUrl(serverUrl: string): string {
  const url = assertLocal(serverUrl)
  url.pathname = `/${benchDatabase}`
  return url.toString()
}

/** Drops and recreates the bench database; it never touches any other database. */
export async function recreateDatabase(serverUrl: string): Promise<void> {
  const url = assertLocal(serverUrl)
  url.pathname = '/postgres'
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    await client.query(`drop database if exists ${benchDatabase} with (force)`)
    await client.query(`create database ${benchDatabase}`)
  } finally {
    await client.end()
  }
}

const sections = `(array['Cash', 'Receivables', 'Inventory', 'Fixed assets', 'Payables', 'Payroll',
  'Revenue', 'Tax', 'Equity', 'Leases'])`
const documentsAsked = `(array['Bank confirmation', 'Aged debtors listing', 'Stock count sheets',
  'Fixed asset register', 'Supplier statement reconciliation', 'Payroll summary',
  'Sales cut-off testing', 'Corporation tax computation', 'Share register', 'Lease agreements',
  'Board minutes', 'Trial balance'])`

/** Inserts the data set into a migrated, empty bench database. */
export async function seed(databaseUrl: string, shape: SeedShape): Promise<SeedCounts> {
  const started = performance.now()
  // One hash for everyone: deriving ten thousand would take minutes and prove nothing.
  const passwordHash = await hashPassword(benchPassword)
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query('begin')
    await client.query(
      `insert into organizations (name, slug)
       select 'Bench Audit Firm ' || o, 'bench-' || lpad(o::text, 4, '0')
       from generate_series(1, $1::int) o`,
      [shape.organizations],
    )
    await client.query(
      `insert into users (organization_id, email, name, role, password_hash)
       select org.id, 'staff' || lpad(u::text, 3, '0') || '@' || org.slug || '.bench.test',
         'Staff Member ' || u,
         (case when u = 1 then 'owner' when u <= 4 then 'admin' when u <= 14 then 'manager'
           else 'member' end)::staff_role,
         $2
       from organizations org cross join generate_series(1, $1::int) u`,
      [shape.usersPerOrganization, passwordHash],
    )
    await client.query(
      `insert into clients (organization_id, name)
       select org.id, 'Client ' || lpad(k::text, 2, '0') || ' Holdings Ltd'
       from organizations org cross join generate_series(1, $1::int) k`,
      [shape.clientsPerOrganization],
    )
    await client.query(
      `insert into client_contacts (organization_id, client_id, email, name)
       select c.organization_id, c.id,
         'finance' || row_number() over (partition by c.organization_id order by c.name)
           || '@client.bench.test',
         'Finance Contact'
       from clients c`,
    )
    // Mostly live work (sent, in progress); some drafts and closed ones, as a real firm has.
    await client.query(
      `with c as (
         select id, organization_id,
           row_number() over (partition by organization_id order by name) as n from clients),
       u as (
         select id, organization_id,
           row_number() over (partition by organization_id order by email) as n from users)
       insert into requests (organization_id, client_id, title, description, status, priority,
         assignee_id, due_date, created_by, sent_at, completed_at, cancelled_at, created_at,
         updated_at)
       select org.id, c.id,
         'Year-end audit ' || (2020 + r % 6) || ' — ' || ${sections}[1 + r % 10] || ' PBC list',
         'Documents needed for the ' || (2020 + r % 6) || ' year-end fieldwork.',
         (array['sent', 'in_progress', 'in_progress', 'sent', 'draft', 'completed', 'sent',
           'in_progress', 'cancelled', 'sent'])[1 + r % 10]::request_status,
         (array['low', 'medium', 'medium', 'high', 'urgent'])[1 + r % 5]::priority,
         u.id, current_date + ((r % 60) - 20), u.id,
         case when r % 10 not in (4) then now() - make_interval(days => 30 - r % 30) end,
         case when r % 10 = 5 then now() - make_interval(days => r % 10) end,
         case when r % 10 = 8 then now() - make_interval(days => r % 10) end,
         now() - make_interval(days => 40 - r % 40, mins => r),
         now() - make_interval(days => 20 - r % 20, mins => r)
       from organizations org cross join generate_series(1, $1::int) r
       join c on c.organization_id = org.id and c.n = 1 + r % $2::int
       join u on u.organization_id = org.id and u.n = 1 + r % $3::int`,
      [shape.requestsPerOrganization, shape.clientsPerOrganization, shape.usersPerOrganization],
    )
    const low = Math.max(1, Math.round(shape.itemsPerRequest * 0.4))
    const spread = Math.max(1, Math.round(shape.itemsPerRequest * 1.6) - low + 1)
    await client.query(
      `with numbered as (
         select id, organization_id, created_at,
           row_number() over (order by organization_id, id) as n from requests)
       insert into request_items (organization_id, request_id, reference, section, title,
         description, status, position, created_at, updated_at)
       select q.organization_id, q.id, 'PBC-' || lpad(i::text, 3, '0'),
         ${sections}[1 + (q.n + i) % 10],
         ${documentsAsked}[1 + (q.n * 7 + i) % 12] || ' (' || i || ')',
         'Please upload the signed copy.',
         (array['open', 'open', 'submitted', 'accepted', 'open', 'returned'])[1 + (q.n + i) % 6]
           ::item_status,
         i, q.created_at + make_interval(mins => i), q.created_at + make_interval(hours => i)
       from numbered q
       cross join lateral generate_series(1, $1::int + (q.n * 7 % $2::int)::int) i`,
      [low, spread],
    )
    await client.query(
      `insert into comments (organization_id, request_id, author_type, author_id, body,
         created_at, updated_at)
       select r.organization_id, r.id, 'user', r.assignee_id,
         case k when 1 then 'Sent to the client; chasing the bank confirmation first.'
           else 'Reminder: fieldwork starts next week.' end,
         r.created_at + make_interval(hours => k), r.created_at + make_interval(hours => k)
       from requests r cross join generate_series(1, 2) k`,
    )
    await client.query(
      `insert into activity_events (organization_id, request_id, item_id, actor_type, actor_id,
         action, after, created_at)
       select i.organization_id, i.request_id, i.id, 'user', r.created_by, 'item.created',
         jsonb_build_object('reference', i.reference, 'title', i.title), i.created_at
       from request_items i join requests r on r.id = i.request_id`,
    )
    await client.query('commit')
    await client.query('analyze')

    const { rows } = await client.query<Record<string, string>>(
      `select (select count(*) from organizations) as organizations,
         (select count(*) from users) as users, (select count(*) from clients) as clients,
         (select count(*) from client_contacts) as contacts,
         (select count(*) from requests) as requests, (select count(*) from request_items) as items,
         (select count(*) from comments) as comments,
         (select count(*) from activity_events) as events`,
    )
    const counts = rows[0] ?? {}
    return {
      organizations: Number(counts.organizations),
      users: Number(counts.users),
      clients: Number(counts.clients),
      contacts: Number(counts.contacts),
      requests: Number(counts.requests),
      items: Number(counts.items),
      comments: Number(counts.comments),
      events: Number(counts.events),
      seconds: Math.round((performance.now() - started) / 100) / 10,
    }
  } catch (error) {
    await client.query('rollback').catch(() => undefined)
    throw error
  } finally {
    await client.end()
  }
}

/** Who and what the load can use: every user, and the open requests with a writable item. */
export async function loadFixtures(databaseUrl: string): Promise<BenchOrganization[]> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const organizations = await client.query<{ id: string; slug: string }>(
      'select id, slug from organizations order by slug',
    )
    const users = await client.query<BenchUser & { organization_id: string }>(
      `select id, organization_id, email, role, auth_version as "authVersion"
       from users order by email`,
    )
    const all = await client.query<{ id: string; organization_id: string }>(
      'select id, organization_id from requests where deleted_at is null order by id',
    )
    const requests = await client.query<BenchRequest & { organization_id: string }>(
      `select r.id, r.organization_id,
         (select i.id from request_items i where i.request_id = r.id
            and i.status in ('open', 'returned') and i.deleted_at is null
          order by i.position limit 1) as "itemId"
       from requests r
       where r.status in ('sent', 'in_progress') and r.deleted_at is null
       order by r.created_at desc`,
    )

    const byId = new Map<string, BenchOrganization>()
    for (const row of organizations.rows) {
      byId.set(row.id, { id: row.id, slug: row.slug, users: [], openRequests: [], requestIds: [] })
    }
    for (const { organization_id, ...user } of users.rows)
      byId.get(organization_id)?.users.push(user)
    for (const row of all.rows) byId.get(row.organization_id)?.requestIds.push(row.id)
    for (const { organization_id, ...request } of requests.rows) {
      if (request.itemId !== null) byId.get(organization_id)?.openRequests.push(request)
    }
    return [...byId.values()]
  } finally {
    await client.end()
  }
}
