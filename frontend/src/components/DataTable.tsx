import { Table, VisuallyHidden } from '@mantine/core';
import { flexRender, type Table as TanStackTable } from '@tanstack/react-table';
import type { ReactNode } from 'react';

/** A TanStack table drawn with Mantine's table: a caption for screen readers, column headers,
 * and ``empty`` in place of rows when there are none. */
export function DataTable<Row>({
  table,
  caption,
  empty,
  busy = false,
  minWidth = 640,
}: {
  table: TanStackTable<Row>;
  caption: string;
  empty?: ReactNode;
  busy?: boolean;
  /** below this width the table scrolls sideways */
  minWidth?: number;
}) {
  const rows = table.getRowModel().rows;
  return (
    // On narrow screens the table scrolls sideways: its viewport takes the focus, so the
    // keyboard scrolls it too.
    <Table.ScrollContainer minWidth={minWidth} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
      <Table striped highlightOnHover aria-busy={busy}>
        <VisuallyHidden component="caption">{caption}</VisuallyHidden>
        <Table.Thead>
          {table.getHeaderGroups().map((group) => (
            <Table.Tr key={group.id}>
              {group.headers.map((header) => (
                <Table.Th key={header.id} scope="col">
                  {flexRender(header.column.columnDef.header, header.getContext())}
                </Table.Th>
              ))}
            </Table.Tr>
          ))}
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.id}>
              {row.getVisibleCells().map((cell) => (
                <Table.Td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</Table.Td>
              ))}
            </Table.Tr>
          ))}
          {rows.length === 0 && empty && (
            <Table.Tr>
              <Table.Td colSpan={table.getVisibleLeafColumns().length}>{empty}</Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
