import { Table } from '@mantine/core';
import type { ReactNode } from 'react';

/** Label and value pairs of an element's card, as a table with row headers (screen readers
 * read each value with its label). */
export function Facts({ caption, rows }: { caption: string; rows: readonly (readonly [string, ReactNode])[] }) {
  return (
    <Table variant="vertical" layout="fixed" withRowBorders={false} aria-label={caption}>
      <Table.Tbody>
        {rows.map(([label, value]) => (
          <Table.Tr key={label}>
            <Table.Th scope="row" w="40%" fw={500}>
              {label}
            </Table.Th>
            <Table.Td>{value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
