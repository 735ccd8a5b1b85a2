import {
  getCoreRowModel,
  getPaginationRowModel,
  useReactTable,
  type ColumnDef,
  type Table,
} from '@tanstack/react-table';

// TanStack's column helpers give columns of differing value types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Columns<Row> = ColumnDef<Row, any>[];

/** A TanStack table of one page the server sent; it knows the list's total for the page count. */
export function useServerPagedTable<Row extends { id: string }>(
  rows: Row[],
  columns: Columns<Row>,
  totalCount: number,
  pageIndex: number,
  pageSize: number,
): { table: Table<Row>; pages: number } {
  const table = useReactTable({
    data: rows,
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (row) => row.id,
    manualPagination: true,
    rowCount: totalCount,
    state: { pagination: { pageIndex, pageSize } },
  });
  return { table, pages: Math.max(1, table.getPageCount()) };
}

/** A TanStack table of a list the server sends whole (a card's access list or authorizations),
 * shown a page at a time. */
export function useClientPagedTable<Row>(
  rows: Row[],
  columns: Columns<Row>,
  pageSize: number,
): Table<Row> {
  return useReactTable({
    data: rows,
    columns,
    getCoreRowModel: getCoreRowModel(),
    getPaginationRowModel: getPaginationRowModel(),
    autoResetPageIndex: true,
    initialState: { pagination: { pageIndex: 0, pageSize } },
  });
}
