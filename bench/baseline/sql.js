// @ts-check
// BASELINE FOR THE BENCHMARK ONLY, not part of the product (see bench/README.md).
// The statements the baseline sends: the same JSON views the Worker's SQL builds
// (src/requests/queries.ts), written out by hand as an Express app would hold them.

const iso = (/** @type {string} */ expr) =>
  `to_char(${expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
const day = (/** @type {string} */ expr) => `to_char(${expr}, 'YYYY-MM-DD')`
const openStatuses = `('draft', 'sent', 'in_progress')`

const progress = `(
  select jsonb_build_object(
    'open', count(*) filter (where pi.status = 'open'),
    'submitted', count(*) filter (where pi.status = 'submitted'),
    'accepted', count(*) filter (where pi.status = 'accepted'),
    'returned', count(*) filter (where pi.status = 'returned'),
    'total', count(*))
  from request_items pi where pi.request_id = r.id and pi.deleted_at is null)`

export const requestView = `jsonb_build_object(
  'id', r.id,
  'title', r.title,
  'description', r.description,
  'status', r.status,
  'priority', r.priority,
  'dueDate', ${day('r.due_date')},
  'overdue', coalesce(r.due_date < current_date and r.status in ${openStatuses}, false),
  'client', (select jsonb_build_object('id', rc.id, 'name', rc.name)
    from clients rc where rc.id = r.client_id),
  'assignee', (select jsonb_build_object('id', ra.id, 'name', ra.name)
    from users ra where ra.id = r.assignee_id),
  'progress', ${progress},
  'revision', r.revision,
  'sentAt', ${iso('r.sent_at')},
  'completedAt', ${iso('r.completed_at')},
  'cancelledAt', ${iso('r.cancelled_at')},
  'createdAt', ${iso('r.created_at')},
  'updatedAt', ${iso('r.updated_at')},
  'deletedAt', ${iso('r.deleted_at')})`

const itemDue = `coalesce(i.due_date,
  (select ir.due_date from requests ir where ir.id = i.request_id))`

export const itemView = `jsonb_build_object(
  'id', i.id,
  'requestId', i.request_id,
  'reference', i.reference,
  'section', i.section,
  'title', i.title,
  'description', i.description,
  'status', i.status,
  'returnReason', i.return_reason,
  'dueDate', ${day(itemDue)},
  'ownDueDate', i.due_date is not null,
  'priority', i.priority,
  'position', i.position,
  'revision', i.revision,
  'createdAt', ${iso('i.created_at')},
  'updatedAt', ${iso('i.updated_at')},
  'deletedAt', ${iso('i.deleted_at')})`

export const commentView = `jsonb_build_object(
  'id', cm.id,
  'requestId', cm.request_id,
  'itemId', cm.item_id,
  'body', cm.body,
  'author', jsonb_build_object('type', cm.author_type, 'id', cm.author_id,
    'name', (select pu.name from users pu where pu.id = cm.author_id)),
  'createdAt', ${iso('cm.created_at')},
  'internal', cm.internal)`

/** $1 user id, $2 organization id, $3 auth version, $4 the roles that may act. */
const holds = `exists (select 1 from users actor
  where actor.id = $1::uuid and actor.organization_id = $2::uuid and actor.removed_at is null
    and actor.auth_version = $3::int and actor.role::text = any($4::text[]))`

/** The stored user, read with the gate so a refusal can say why (as the Worker's reads do). */
const standing = `(select jsonb_build_object('role', su.role, 'authVersion', su.auth_version,
    'removedAt', su.removed_at)
  from users su where su.id = $1::uuid and su.organization_id = $2::uuid)`

/** One page of live requests, newest first; $5 is the page size plus one. */
export const listRequests = `
  select g.allowed, g.standing, x.body, x.sort_key, x.row_id
  from (select ${holds} as allowed, ${standing} as standing) g
  left join lateral (
    select ${requestView} as body, r.created_at as sort_value,
      (extract(epoch from r.created_at) * 1000000)::bigint::text as sort_key, r.id as row_id
    from requests r
    where g.allowed and r.organization_id = $2::uuid and r.deleted_at is null
    order by r.created_at desc, r.id desc
    limit $5::int
  ) x on true
  order by x.sort_value desc, x.row_id desc`

/** One live request by id ($5). */
export const readRequest = `
  select g.allowed, g.standing, x.body, x.etag
  from (select ${holds} as allowed, ${standing} as standing) g
  left join lateral (
    select v.body, md5(v.body::text) as etag
    from requests r cross join lateral (select ${requestView} as body) v
    where r.id = $5::uuid and r.organization_id = $2::uuid and r.deleted_at is null
  ) x on g.allowed`

export const signIn = `
  select u.id, u.email, u.name, u.role, u.auth_version, u.password_hash,
    o.id as organization_id, o.name as organization_name, o.slug as organization_slug
  from users u join organizations o on o.id = u.organization_id
  where o.slug = $1 and u.email = $2 and u.removed_at is null
  limit 1`

export const storeRefreshToken = `
  insert into refresh_tokens (organization_id, user_id, family_id, token_hash, expires_at)
  values ($1::uuid, $2::uuid, gen_random_uuid(), $3, now() + $4::int * interval '1 second')`

/** The actor as stored, locked against a concurrent role change until COMMIT. */
export const lockActor = `
  select role, auth_version, removed_at from users
  where id = $1::uuid and organization_id = $2::uuid
  for share`

/** The request row, locked: writes to one request queue behind each other. */
export const lockRequest = `
  select status from requests
  where id = $1::uuid and organization_id = $2::uuid and deleted_at is null
  for update`

export const insertItem = `
  insert into request_items (organization_id, request_id, reference, section, title,
    description, position)
  values ($1::uuid, $2::uuid, $3, $4, $5, $6,
    coalesce((select max(position) + 1 from request_items
      where request_id = $2::uuid and deleted_at is null), 1))
  returning id, reference, title`

export const insertEvent = `
  insert into activity_events (organization_id, request_id, item_id, actor_type, actor_id,
    action, after)
  values ($1::uuid, $2::uuid, $3::uuid, 'user', $4::uuid, $5, $6::jsonb)`

export const readItem = `select ${itemView} as body from request_items i where i.id = $1::uuid`

export const insertComment = `
  insert into comments (organization_id, request_id, item_id, author_type, author_id, body,
    internal)
  values ($1::uuid, $2::uuid, $3::uuid, 'user', $4::uuid, $5, $6)
  returning id`

export const readComment = `select ${commentView} as body from comments cm where cm.id = $1::uuid`

/** The item and its request's status, if the actor's organization holds both. */
export const uploadTarget = `
  select i.status::text as item_status, r.status::text as request_status
  from request_items i join requests r on r.id = i.request_id
  where i.id = $1::uuid and i.request_id = $2::uuid and i.organization_id = $3::uuid
    and i.deleted_at is null and r.organization_id = $3::uuid and r.deleted_at is null`

export const insertUploadIntent = `
  insert into upload_intents (id, organization_id, request_id, item_id, object_key, filename,
    content_type, size_bytes, checksum_sha256, created_by_type, created_by_id, expires_at)
  values ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5, $6, $7, $8::bigint, $9, 'user',
    $10::uuid, $11::timestamptz)`
