// One reader of the Server-Timing header every suite asserts round-trip budgets with:
// `db;dur=3.1;desc="1", cache;dur=0.4;desc="2", total;dur=5.2` (src/platform/metrics.ts).
export function roundTripsIn(header: string | null, kind: 'db' | 'cache'): number | undefined {
  const match = new RegExp(`(?:^|,\\s*)${kind};[^,]*desc="(\\d+)"`).exec(header ?? '')
  return match?.[1] === undefined ? undefined : Number(match[1])
}
