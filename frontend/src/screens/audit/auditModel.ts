import type { AccessResult, AuditEventFilter } from '../../gql/graphql';

/** Every access result an audit event can have (R28), in the order the filter offers them. */
export const ACCESS_RESULTS: readonly AccessResult[] = [
  'GRANTED',
  'DENIED_NOT_AUTHORIZED',
  'DENIED_SCHEDULE',
  'DENIED_EXPIRED',
  'DENIED_BLOCKED',
];

/** What the audit trail screen is filtered by, as its URL's query string spells it: ids as the
 * API spells them, days (YYYY-MM-DD) in the user's time zone, so a link can be shared. */
export interface AuditCriteria {
  keyId: string | null;
  cylinderId: string | null;
  results: AccessResult[];
  from: string | null;
  until: string | null;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The criteria a query string holds; what it spells wrong is left out, not guessed. */
export function criteriaFromSearch(params: URLSearchParams): AuditCriteria {
  const day = (name: string) => {
    const value = params.get(name);
    return value && DAY.test(value) ? value : null;
  };
  return {
    keyId: params.get('keyId') || null,
    cylinderId: params.get('cylinderId') || null,
    results: params.getAll('result').filter((r): r is AccessResult => ACCESS_RESULTS.includes(r as AccessResult)),
    from: day('from'),
    until: day('until'),
  };
}

/** The query string of ``criteria`` (the inverse of ``criteriaFromSearch``). */
export function searchFromCriteria(criteria: AuditCriteria): URLSearchParams {
  const params = new URLSearchParams();
  if (criteria.keyId) params.set('keyId', criteria.keyId);
  if (criteria.cylinderId) params.set('cylinderId', criteria.cylinderId);
  for (const result of criteria.results) params.append('result', result);
  if (criteria.from) params.set('from', criteria.from);
  if (criteria.until) params.set('until', criteria.until);
  return params;
}

/** The instant a local day starts (``end``: its last millisecond), with its UTC offset. */
function dayBoundary(day: string, end: boolean): string {
  const [year, month, date] = day.split('-').map(Number);
  const moment = end ? new Date(year, month - 1, date, 23, 59, 59, 999) : new Date(year, month - 1, date);
  return moment.toISOString();
}

/** The server's ``AuditEventFilter``: the days as the instants they start and end in the user's
 * time zone, both inclusive. */
export function auditFilter(criteria: AuditCriteria): AuditEventFilter {
  return {
    keyId: criteria.keyId,
    cylinderId: criteria.cylinderId,
    result: criteria.results.length ? criteria.results : null,
    from: criteria.from ? dayBoundary(criteria.from, false) : null,
    until: criteria.until ? dayBoundary(criteria.until, true) : null,
  };
}

/** Where the CSV of the events ``criteria`` select downloads: the same filter as query
 * parameters (the session cookie signs the request in). */
export function exportHref(criteria: AuditCriteria): string {
  const filter = auditFilter(criteria);
  const query = searchFromCriteria({
    ...criteria,
    from: filter.from ? String(filter.from) : null,
    until: filter.until ? String(filter.until) : null,
  }).toString();
  return `/export/audit-events.csv${query ? `?${query}` : ''}`;
}
