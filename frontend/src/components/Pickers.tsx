import { MultiSelect, Select, type ComboboxItem, type OptionsFilter } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../gql';
import type { CylinderOptionsQuery, EmployeeOptionsQuery, KeyOptionsQuery } from '../gql/graphql';

/** How many matches a picker offers: the server searches, the list never loads all rows. */
export const PICKER_SIZE = 20;
const SEARCH_DELAY_MS = 250;

const KeyOptionsDocument = graphql(`
  query KeyOptions($search: String, $first: Int) {
    keys(filter: { search: $search }, first: $first) {
      edges {
        node {
          id
          marking
          type
          status
          holder {
            firstName
            lastName
          }
        }
      }
    }
  }
`);

const EmployeeOptionsDocument = graphql(`
  query EmployeeOptions($search: String, $first: Int) {
    employees(search: $search, first: $first) {
      edges {
        node {
          id
          employeeNumber
          firstName
          lastName
        }
      }
    }
  }
`);

const CylinderOptionsDocument = graphql(`
  query CylinderOptions($search: String, $first: Int) {
    cylinders(filter: { search: $search }, first: $first) {
      edges {
        node {
          id
          marking
          domain {
            name
          }
        }
      }
    }
  }
`);

type Kind = 'key' | 'employee' | 'cylinder';

function keyOptions(data: KeyOptionsQuery, t: (key: string) => string): ComboboxItem[] {
  return data.keys.edges.map(({ node }) => {
    const who = node.holder ? `${node.holder.lastName}, ${node.holder.firstName}` : t(`keyStatus.${node.status}`);
    return { value: node.id, label: `${node.marking} · ${node.type} · ${who}` };
  });
}

function employeeOptions(data: EmployeeOptionsQuery): ComboboxItem[] {
  return data.employees.edges.map(({ node }) => ({
    value: node.id,
    label: `${node.lastName}, ${node.firstName}${node.employeeNumber ? ` (${node.employeeNumber})` : ''}`,
  }));
}

function cylinderOptions(data: CylinderOptionsQuery): ComboboxItem[] {
  return data.cylinders.edges.map(({ node }) => ({ value: node.id, label: `${node.marking} · ${node.domain.name}` }));
}

/** The options the server finds for what is typed, plus those chosen before (their labels stay
 * known while the matches change). */
function useServerOptions(kind: Kind, chosen: readonly string[], known: readonly ComboboxItem[] = []) {
  const { t } = useTranslation();
  const [search, setSearch] = useState('');
  const labels = useRef(new Map<string, string>(known.map((o) => [o.value, o.label])));
  // A single picker shows the chosen option's label as its text: that is no search.
  const typed = chosen.some((value) => labels.current.get(value) === search) ? '' : search;
  const [debounced] = useDebouncedValue(typed, SEARCH_DELAY_MS);
  const variables = useMemo(() => ({ search: debounced.trim() || null, first: PICKER_SIZE }), [debounced]);
  const [keys] = useQuery({ query: KeyOptionsDocument, variables, pause: kind !== 'key' });
  const [employees] = useQuery({ query: EmployeeOptionsDocument, variables, pause: kind !== 'employee' });
  const [cylinders] = useQuery({ query: CylinderOptionsDocument, variables, pause: kind !== 'cylinder' });
  const found = useMemo(() => {
    if (kind === 'key') return keys.data ? keyOptions(keys.data, t) : [];
    if (kind === 'cylinder') return cylinders.data ? cylinderOptions(cylinders.data) : [];
    return employees.data ? employeeOptions(employees.data) : [];
  }, [kind, keys.data, employees.data, cylinders.data, t]);
  for (const option of found) labels.current.set(option.value, option.label);
  const data = [
    ...chosen
      .filter((value) => !found.some((o) => o.value === value))
      .map((value) => ({ value, label: labels.current.get(value) ?? value })),
    ...found,
  ];
  const result = kind === 'key' ? keys : kind === 'cylinder' ? cylinders : employees;
  return { data, search, setSearch, fetching: result.fetching, failed: Boolean(result.error) };
}

// The server has searched already: show its matches as they are.
const asFound: OptionsFilter = ({ options }) => options;

interface PickerProps {
  kind: Kind;
  label: string;
  error?: string;
  description?: string;
  required?: boolean;
  /** labels of options chosen before the picker opened (e.g. a profile's cylinders) */
  known?: readonly ComboboxItem[];
}

/** What a single and a multiple picker share: the server's matches, searched as you type. */
function useSearchProps({ kind, known, ...field }: PickerProps, chosen: readonly string[]) {
  const { t } = useTranslation();
  const options = useServerOptions(kind, chosen, known);
  const empty = options.fetching ? 'app.loading' : options.failed ? 'picker.failed' : 'picker.nothing';
  return {
    ...field,
    placeholder: t('picker.typeToSearch'),
    searchable: true,
    clearable: true,
    data: options.data,
    filter: asFound,
    searchValue: options.search,
    onSearchChange: options.setSearch,
    nothingFoundMessage: t(empty),
  };
}

/** One key, employee or cylinder, searched on the server as you type. */
export function SearchPicker({
  value,
  onChange,
  ...props
}: PickerProps & { value: string | null; onChange: (value: string | null) => void }) {
  const shared = useSearchProps(props, value ? [value] : []);
  return <Select {...shared} value={value} onChange={onChange} />;
}

/** Several keys (or employees, or cylinders), searched on the server as you type. */
export function SearchMultiPicker({
  value,
  onChange,
  ...props
}: PickerProps & { value: string[]; onChange: (value: string[]) => void }) {
  const shared = useSearchProps(props, value);
  return <MultiSelect {...shared} value={value} onChange={onChange} />;
}
