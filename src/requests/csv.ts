import type { z } from '@hono/zod-openapi'
import type { priorities } from '../db/schema'
import type { FieldError } from '../platform/errors'
import { DayInput, type ImportField, importFields, itemFields, Priority } from './schemas'

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

/**
 * One row. A field is `undefined` when its column is not in the file (an update keeps the
 * item's value) and `null` when its cell is empty (an update clears it).
 */
export interface ImportRow {
  reference: string
  title: string
  section?: string | null
  description?: string | null
  dueDate?: string | null
  priority?: (typeof priorities)[number] | null
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

/** `today + days` as YYYY-MM-DD, on UTC days like the database's `current_date`. */
function daysFromToday(today: Date, days: number): string {
  const date = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()))
  date.setUTCDate(date.getUTCDate() + days)
  return date.toISOString().slice(0, 10)
}

const firstIssue = (result: z.ZodSafeParseResult<unknown>) =>
  result.success ? undefined : (result.error.issues[0]?.message ?? 'Invalid value')

const dueColumns = ['due_date', 'due_in_days']

/** The fields a file sets, from its header: a column that is absent leaves its field alone. */
function fieldsOf(names: string[]): ImportField[] {
  const present = (name: string) => names.includes(name)
  return importFields.filter((field) =>
    field === 'dueDate' ? dueColumns.some(present) : present(field),
  )
}

function headerErrors(names: string[]): FieldError[] {
  const errors: FieldError[] = []
  names.forEach((name, index) => {
    if (!columns.includes(name)) {
      errors.push({ path: `header.${name}`, message: 'Unknown column', code: 'unknown_field' })
    } else if (names.indexOf(name) !== index) {
      // Which of two same-named columns was meant cannot be guessed.
      errors.push({ path: `header.${name}`, message: 'Column repeated', code: 'duplicate' })
    }
  })
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
  return errors
}

/**
 * A PBC list as import rows, or every problem found, row by row, in the error contract's
 * field-error shape (`rows.<row>.<column>`; `header.<column>` for the header line).
 */
export function readPbcList(
  text: string,
  today: Date,
): { rows: ImportRow[]; fields: ImportField[]; errors: FieldError[] } {
  let records: CsvRecord[]
  try {
    records = parseCsv(text)
  } catch (error) {
    if (!(error instanceof CsvSyntaxError)) throw error
    return {
      rows: [],
      fields: [],
      errors: [{ path: `rows.${error.row}`, message: error.message, code: 'csv_syntax' }],
    }
  }

  const [header, ...body] = records
  const names = (header?.cells ?? []).map((name) => name.trim().toLowerCase())
  const fields = fieldsOf(names)
  const errors = headerErrors(names)
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
  if (errors.length > 0) return { rows: [], fields, errors }

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
    const parsed = <T>(column: string, schema: z.ZodType<T>, value: unknown) => {
      const result = schema.safeParse(value)
      if (!result.success) fail(column, firstIssue(result) ?? 'Invalid value')
      return result
    }

    const reference = parsed('reference', itemFields.reference, cell('reference') ?? '')
    const title = parsed('title', itemFields.title, cell('title') ?? '')
    const row: ImportRow = { reference: '', title: '', ord: index + 1 }
    if (names.includes('section')) {
      const section = parsed('section', itemFields.section, cell('section'))
      row.section = section.data ?? null
    }
    if (names.includes('description')) {
      const description = parsed('description', itemFields.description, cell('description'))
      row.description = description.data ?? null
    }
    if (names.includes('priority')) {
      const value = cell('priority')
      const priority = Priority.nullable().safeParse(value?.toLowerCase() ?? null)
      if (!priority.success) fail('priority', 'One of low, medium, high, urgent')
      row.priority = priority.data ?? null
    }
    if (names.includes('due_in_days')) {
      const dueIn = cell('due_in_days')
      const days = dueIn === null ? null : Number(dueIn)
      if (days === null) row.dueDate = null
      else if (!Number.isInteger(days) || days < 0 || days > 3650) {
        fail('due_in_days', 'A whole number of days from 0 to 3650')
      } else row.dueDate = daysFromToday(today, days)
    } else if (names.includes('due_date')) {
      row.dueDate = parsed('due_date', DayInput.nullable(), cell('due_date')).data ?? null
    }

    if (!reference.success || !title.success) return
    const seen = firstRowOf.get(reference.data)
    if (seen !== undefined) {
      fail('reference', `Reference repeated (first on row ${seen})`, 'duplicate')
      return
    }
    firstRowOf.set(reference.data, record.row)
    rows.push({ ...row, reference: reference.data, title: title.data })
  })
  return { rows: errors.length > 0 ? [] : rows, fields, errors }
}
