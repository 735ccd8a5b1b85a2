import type { ReportKeyLostInput, ValidityInput } from '../../gql/graphql';

/** Where one of a key's authorizations comes from (R13): the server's `via` read against the
 * key's own access profiles and its holder's. */
export type Origin =
  | { kind: 'direct' }
  | { kind: 'profile' | 'holderProfile' | 'bothProfiles' | 'group' | 'cylinderGroup'; name: string }
  | { kind: 'other'; name: string };

/** ``via`` is "direct", "profile:<name>", "group:<name>" or "cylinderGroup:<name>"; a profile
 * is the key's own, its holder's (R13: profiles given to an employee reach every key they
 * hold), or both. */
export function authorizationOrigin(
  via: string,
  ownProfiles: readonly string[],
  holderProfiles: readonly string[],
): Origin {
  if (via === 'direct') return { kind: 'direct' };
  const colon = via.indexOf(':');
  const prefix = colon < 0 ? via : via.slice(0, colon);
  const name = colon < 0 ? '' : via.slice(colon + 1);
  if (prefix === 'profile') {
    const own = ownProfiles.includes(name);
    const holders = holderProfiles.includes(name);
    if (own && holders) return { kind: 'bothProfiles', name };
    return { kind: holders ? 'holderProfile' : 'profile', name };
  }
  if (prefix === 'group') return { kind: 'group', name };
  if (prefix === 'cylinderGroup') return { kind: 'cylinderGroup', name };
  return { kind: 'other', name: via };
}

/** What the validity fields of a form hold: dates as the date inputs give them (YYYY-MM-DD). */
export interface ValidityForm {
  alwaysValid: boolean;
  from: string;
  until: string;
}

export const ALWAYS_VALID: ValidityForm = { alwaysValid: true, from: '', until: '' };

/** The server's ValidityInput (R12): a key valid from the start of its first day, local time,
 * to the end of its last day; the server checks the rest and names the field at fault. */
export function validityInput(form: ValidityForm): ValidityInput {
  if (form.alwaysValid) return { alwaysValid: true };
  return {
    alwaysValid: false,
    validFrom: form.from ? new Date(`${form.from}T00:00:00`).toISOString() : null,
    validUntil: form.until ? new Date(`${form.until}T23:59:59`).toISOString() : null,
  };
}

/** The areas a lost key can be deprogrammed from (R19; FAQ: "deprogrammed of
 * security-relevant areas depending on the authorisation"). */
export type LostChoice = 'all' | 'securityRelevant' | 'chosen' | 'none';

export function lostInput(keyId: string, choice: LostChoice, cylinderIds: readonly string[]): ReportKeyLostInput {
  switch (choice) {
    case 'all':
      return { keyId, deprogram: true };
    case 'securityRelevant':
      return { keyId, deprogram: true, securityRelevantOnly: true };
    case 'chosen':
      return { keyId, deprogram: true, cylinderIds: [...cylinderIds] };
    case 'none':
      return { keyId, deprogram: false };
  }
}

export interface AreaCylinder {
  id: string;
  marking: string;
  securityRelevant: boolean;
  domain: { id: string; name: string };
}

export interface Area {
  id: string;
  name: string;
  cylinders: AreaCylinder[];
}

/** The cylinders a key opens, once each, by area (its domain: a building, R8), in the order of
 * their markings: what the lost-key form offers to choose from. */
export function cylindersByArea(authorizations: readonly { cylinder: AreaCylinder }[]): Area[] {
  const areas = new Map<string, Area>();
  const seen = new Set<string>();
  for (const { cylinder } of authorizations) {
    if (seen.has(cylinder.id)) continue;
    seen.add(cylinder.id);
    const area = areas.get(cylinder.domain.id) ?? { ...cylinder.domain, cylinders: [] };
    area.cylinders.push(cylinder);
    areas.set(cylinder.domain.id, area);
  }
  const sorted = [...areas.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const area of sorted) area.cylinders.sort((a, b) => a.marking.localeCompare(b.marking));
  return sorted;
}

/** Which actions a key's status allows (R10, R19, R20) and the caller's rights grant (R7). */
export function keyActions(status: string, rights: readonly string[]) {
  const may = (right: string) => rights.includes(right);
  return {
    issue: status === 'IN_STOCK' && may('keys.issue'),
    return: status === 'ISSUED' && may('keys.issue'),
    lost: ['IN_STOCK', 'ISSUED', 'DEFECTIVE'].includes(status) && may('keys.write'),
    defective: ['IN_STOCK', 'ISSUED'].includes(status) && may('keys.write'),
    copy: status !== 'NOT_ACTIVATED' && may('keys.write'),
  };
}
