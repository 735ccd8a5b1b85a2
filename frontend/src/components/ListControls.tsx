import { Select, Text, TextInput } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../gql';
import { useFormats } from '../hooks/useFormats';
import { useSession } from '../session';

const DomainsDocument = graphql(`
  query Domains {
    domains {
      id
      name
    }
  }
`);

/** A list's search field: the server searches as you type. */
export function SearchInput({
  label,
  placeholder,
  value,
  onChange,
}: {
  label: string;
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <TextInput
      label={label}
      placeholder={placeholder}
      value={value}
      onChange={(e) => onChange(e.currentTarget.value)}
      type="search"
      w={260}
      maw="100%"
    />
  );
}

/** Narrows a list to one of the caller's domains (R8); shown only to callers who may see them. */
export function DomainSelect({ value, onChange }: { value: string | null; onChange: (value: string | null) => void }) {
  const { t } = useTranslation();
  const { viewer } = useSession();
  const [domains] = useQuery({ query: DomainsDocument, pause: !viewer?.myRights.includes('domains.read') });
  if (!domains.data) return null;
  return (
    <Select
      label={t('keys.domain')}
      placeholder={t('keys.allDomains')}
      data={domains.data.domains.map((d) => ({ value: d.id, label: d.name }))}
      value={value}
      onChange={onChange}
      w={180}
      clearable
    />
  );
}

/** How many rows a list holds, said to screen readers as it changes; "loading" until known.
 * ``label`` is a plural i18n key given ``count`` and ``n`` (the number per locale). */
export function ListCount({ total, label }: { total: number | undefined; label: string }) {
  const { t } = useTranslation();
  const formats = useFormats();
  return (
    <Text aria-live="polite" size="sm">
      {total === undefined ? t('app.loading') : t(label, { count: total, n: formats.number(total) })}
    </Text>
  );
}
