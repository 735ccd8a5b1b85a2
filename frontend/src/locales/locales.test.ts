import { describe, expect, it } from 'vitest';

import de from './de.json';
import en from './en.json';

type Tree = { [key: string]: string | Tree };

function leaves(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : leaves(value, `${prefix}${key}.`),
  );
}

const PLURAL = /_(zero|one|two|few|many|other)$/;

/** The keys the sources ask for by name: t('keys.title') or t(cond ? 'keyCard.yes' : 'keyCard.no');
 * keys built at run time are not seen. */
function keysInSources(): string[] {
  const sources = import.meta.glob(['../**/*.{ts,tsx}', '!../**/*.test.*', '!../gql/**'], {
    query: '?raw',
    import: 'default',
    eager: true,
  }) as Record<string, string>;
  const namespaces = Object.keys(en).join('|');
  const key = `['\`]((?:${namespaces})\\.[A-Za-z.]+)['\`]`;
  const pattern = new RegExp(`\\bt\\((?:[^'\`;\\n]*\\?\\s*)?${key}(?:\\s*:\\s*${key})?`, 'g');
  return [
    ...new Set(
      Object.values(sources).flatMap((text) => [...text.matchAll(pattern)].flatMap((m) => [m[1], m[2]].filter(Boolean))),
    ),
  ];
}

describe('English and German (issue 11 item 8)', () => {
  it('have the same strings', () => {
    const base = (keys: string[]) => [...new Set(keys.map((k) => k.replace(PLURAL, '')))].sort();
    expect(base(leaves(de as Tree))).toEqual(base(leaves(en as Tree)));
  });

  it('have every string the screens ask for by name', () => {
    const known = new Set(leaves(en as Tree).map((k) => k.replace(PLURAL, '')));
    const used = keysInSources();
    expect(used.length).toBeGreaterThan(100);
    expect(used.filter((key) => !known.has(key))).toEqual([]);
  });
});
