// The instants a DateTime may name: RFC 3339's years, 0001 to 9999 (RFC 3339 §5.6; year 0000
// is ISO 8601's 1 BC). JavaScript's Date takes years from -271821 to 275760, and Prisma writes
// one before year 1 in a form PostgreSQL refuses ("date/time field value out of range"): a
// filter or a cursor holding one failed as a fault of ours. Refused as input instead.

export const EARLIEST_DATE_TIME = '0001-01-01T00:00:00.000Z';
export const LATEST_DATE_TIME = '9999-12-31T23:59:59.999Z';

const earliest = Date.parse(EARLIEST_DATE_TIME);
const latest = Date.parse(LATEST_DATE_TIME);

/** Whether `date` is a valid instant within RFC 3339's years. */
export function isStorableDate(date: Date): boolean {
  const time = date.getTime();
  return time >= earliest && time <= latest;
}
