/** One entry of the main menu: shown only to callers holding its right (R7). */
export interface MenuItem {
  path: string;
  /** i18n key of its label */
  label: string;
  right: string;
}

export const MENU: readonly MenuItem[] = [
  // The dashboard (issue 12 item 1) leads for whoever reads keys; its parts follow their own
  // rights on the server, so an Approver (no keys.read) keeps the approvals alone (R29).
  { path: '/dashboard', label: 'menu.dashboard', right: 'keys.read' },
  { path: '/keys', label: 'menu.keys', right: 'keys.read' },
  { path: '/cylinders', label: 'menu.cylinders', right: 'cylinders.read' },
  { path: '/employees', label: 'menu.employees', right: 'employees.read' },
  { path: '/jobs', label: 'menu.jobs', right: 'jobs.read' },
  { path: '/approvals', label: 'menu.approvals', right: 'readout.read' },
  // Audit trails of keys and cylinders (issue 12 item 8; R28).
  { path: '/audit', label: 'audit.menu', right: 'audit.read' },
  // Schedules and access (issue 11 item 5): what keys carry, seen with keys.read (R12, R13).
  { path: '/schedules', label: 'schedules.menu', right: 'keys.read' },
  { path: '/access-profiles', label: 'accessProfiles.menu', right: 'keys.read' },
  { path: '/key-groups', label: 'keyGroups.menu', right: 'keys.read' },
  // Cylinder groups are read with cylinders.read (the cylinderGroups query's right, R13).
  { path: '/cylinder-groups', label: 'cylinderGroups.menu', right: 'cylinders.read' },
];

/** The entries the caller's rights open: an Approver sees only the approvals (R29). */
export function visibleMenu(rights: readonly string[]): MenuItem[] {
  const held = new Set(rights);
  return MENU.filter((item) => held.has(item.right));
}

/** Where a signed-in caller lands: the first screen its rights open. */
export function homePath(rights: readonly string[]): string | null {
  return visibleMenu(rights)[0]?.path ?? null;
}
