import type { z } from '@hono/zod-openapi'
import type { priorities } from '../db/schema'
import type { FieldError } from '../platform/errors'
import { itemFields, Priority } from './schemas'

/** A PBC list may have at most this many rows; bigger lists are split by the auditor. */
export const maxImportRows = 1000

interface CsvRecord {
  /** The line the record starts on, from 1 (the header): what an editor shows. */
  row: number
  cells: string[]
}

export class CsvSyntaxError extends Error {
  readonly row: number

  constructor(row: number, message: string) {
    super(message)
    this.name = 'CsvSyntaxError'
    this.row = row
  }
}

/**
 * RFC 4180 records: quoted fields may hold commas, line breaks and doubled quotes; lines
 * end in CRLF or LF; a UTF-8 byte order mark is ignored; blank lines are skipped.
 */
export function parseCsv(text: string): CsvRecord[] {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text
  const records: CsvRecord[] = []
  let cells: string[] = []
  let cell = ''
  let quoted = false
  let wasQuoted = false
  let line = 1
  let start = 1

  const endCell = () => {
    cells.push(cell)
    cell = ''
    wasQuoted = false
  }
  const endRecord = () => {
    endCell()
    if (cells.length > 1 || cells[0] !== '') records.push({ row: start, cells })
    cells = []
    line += 1
    start = line
  }

  for (let index = 0; index < input.length; index += 1) {
    const char = input[index]
    if (quoted) {
      if (char === '\n') line += 1
      if (char !== '"') cell += char
      else if (input[index + 1] === '"') {
        cell += '"'
        index += 1
      } else quoted = false
    } else if (char === '"') {
      if (cell !== '' || wasQuoted) {
        throw new CsvSyntaxError(line, 'A quote inside an unquoted field')
      }
      quoted = true
      wasQuoted = true
    } else if (char === ',') endCell()
    else if (char === '\n') endRecord()
    else if (char === '\r') {
      if (input[index + 1] !== '\n') throw new CsvSyntaxError(line, 'A bare carriage return')
    } else if (wasQuoted) {
      throw new CsvSyntaxError(line, 'Text after a closing quote')
    } else cell += char
  }
  if (quoted) throw new CsvSyntaxError(start, 'A quoted field is not closed')
  if (cell !== '' || cells.length > 0 || wasQuoted) endRecord()
  return records
}

export interface ImportRow {
  reference: string
  section: string | null
  title: string
  description: string | null
  dueDate: string | null
  priority: (typeof priorities)[number] | null
  /** Order in the file, from 1: new items are appended in this order. */
  ord: number
}

const columns = [
  'reference',
  'section',
  'title',
  'description',
  'due_date',
  'due_in_days',
  'priority',
]
const required = ['reference', 'title']

const dayPattern = /^\d{4}-\d{2}-\d{2}$/

/** `today + days` as YYYY-MM-DD, on UTC days like the database's `current_date`. */
function daysFromToday(today: Date, days: number): string {
  const date = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()))
  date.setUTCDate(date.getUTCDate() + days)
  return date.toISOString().slice(0, 10)
}

const firstIssue = (result: z.ZodSafeParseResult<unknown>) =>
  result.success ? undefined : (result.error.issues[0]?.message ?? 'Invalid value')

/**
 * A PBC list as import rows, or every problem found, row by row, in the error contract's
 * field-error shape (`rows.<row>.<column>`; `header.<column>` for the header line).
 */
export function readPbcList(
  text: string,
  today: Date,
): { rows: ImportRow[]; errors: FieldError[] } {
  let records: CsvRecord[]
  try {
    records = parseCsv(text)
  } catch (error) {
    if (!(error instanceof CsvSyntaxError)) throw error
    return {
      rows: [],
      errors: [{ path: `rows.${error.row}`, message: error.message, code: 'csv_syntax' }],
    }
  }

  const errors: FieldError[] = []
  const [header, ...body] = records
  const names = (header?.cells ?? []).map((name) => name.trim().toLowerCase())
  for (const name of names) {
    if (!columns.includes(name)) {
      errors.push({ path: `header.${name}`, message: 'Unknown column', code: 'unknown_field' })
    }
  }
  for (const name of required) {
    if (!names.includes(name)) {
      errors.push({ path: `header.${name}`, message: 'Required column', code: 'missing_column' })
    }
  }
  if (names.includes('due_date') && names.includes('due_in_days')) {
    errors.push({
      path: 'header.due_in_days',
      message: 'Use due_date or due_in_days, not both',
      code: 'conflicting_columns',
    })
  }
  if (body.length === 0) {
    errors.push({ path: 'rows', message: 'The file has no data rows', code: 'empty' })
  }
  if (body.length > maxImportRows) {
    errors.push({
      path: 'rows',
      message: `At most ${maxImportRows} rows per import`,
      code: 'too_many_rows',
    })
  }
  if (errors.length > 0) return { rows: [], errors }

  const rows: ImportRow[] = []
  const firstRowOf = new Map<string, number>()
  body.forEach((record, index) => {
    const fail = (column: string, message: string, code = 'invalid') =>
      errors.push({ path: `rows.${record.row}.${column}`, message, code })
    if (record.cells.length !== names.length) {
      errors.push({
        path: `rows.${record.row}`,
        message: `Expected ${names.length} cells, found ${record.cells.length}`,
        code: 'column_count',
      })
      return
    }
    const cell = (name: string) => {
      const value = record.cells[names.indexOf(name)]?.trim()
      return value === undefined || value === '' ? null : value
    }

    const reference = itemFields.reference.safeParse(cell('reference') ?? '')
    if (!reference.success) fail('reference', firstIssue(reference) ?? 'Invalid reference')
    const title = itemFields.title.safeParse(cell('title') ?? '')
    if (!title.success) fail('title', firstIssue(title) ?? 'Invalid title')
    const section = cell('section')
    if (section !== null && section.length > 120) fail('section', 'At most 120 characters')
    const description = cell('description')
    if (description !== null && description.length > 5000) {
      fail('description', 'At most 5000 characters')
    }

    const priorityCell = cell('priority')
    const priority = priorityCell === null ? null : Priority.safeParse(priorityCell.toLowerCase())
    if (priority !== null && !priority.success) fail('priority', 'One of low, medium, high, urgent')

    let dueDate: string | null = null
    const dueIn = cell('due_in_days')
    const dueOn = cell('due_date')
    if (dueIn !== null) {
      const days = Number(dueIn)
      if (!Number.isInteger(days) || days < 0 || days > 3650) {
        fail('due_in_days', 'A whole number of days from 0 to 3650')
      } else dueDate = daysFromToday(today, days)
    } else if (dueOn !== null) {
      if (!dayPattern.test(dueOn) || Number.isNaN(Date.parse(dueOn))) {
        fail('due_date', 'A date as YYYY-MM-DD')
      } else dueDate = dueOn
    }

    if (!reference.success || !title.success) return
    const seen = firstRowOf.get(reference.data)
    if (seen !== undefined) {
      fail('reference', `Reference repeated (first on row ${seen})`, 'duplicate')
      return
    }
    firstRowOf.set(reference.data, record.row)
    rows.push({
      reference: reference.data,
      section,
      title: title.data,
      description,
      dueDate,
      priority: priority?.success ? priority.data : null,
      ord: index + 1,
    })
  })
  return { rows: errors.length > 0 ? [] : rows, errors }
}
