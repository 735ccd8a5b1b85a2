import { Alert, Anchor, Badge, Button, SegmentedControl, Stack, Text, Textarea } from '@mantine/core';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { DataTable } from '../../components/DataTable';
import { FormError, RequestError } from '../../components/Feedback';
import { cursorControls, Pager, tableControls } from '../../components/Pager';
import { Section, SECTION_PAGE_SIZE } from '../../components/Section';
import { graphql } from '../../gql';
import type { CylinderAuditTrailQuery, CylinderCardCylinderFragment, RequestReadoutMutation } from '../../gql/graphql';
import { useCursorPager } from '../../hooks/useCursorPager';
import { useFormats } from '../../hooks/useFormats';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import { useRefetchOn } from '../../hooks/useRefetchOn';
import { useClientPagedTable } from '../../hooks/useTables';
import { EventElement, ResultBadge } from '../audit/AuditCells';
import { accessState, type AccessState } from './cylinderModel';

const ACCESS_PAGE_SIZE = 20;

const STATE_COLOR: Record<AccessState, string> = { inSync: 'green', toAdd: 'yellow', toRemove: 'orange' };

type Entry = CylinderCardCylinderFragment['accessList'][number];
type Row = Entry & { state: AccessState };
const accessColumn = createColumnHelper<Row>();

function EntryName({ entry }: { entry: Entry }) {
  const { t } = useTranslation();
  if (entry.key) {
    const holder = entry.key.holder ? ` · ${entry.key.holder.lastName}, ${entry.key.holder.firstName}` : '';
    return (
      <Text size="sm" span>
        <Anchor component={Link} to={`/keys/${entry.key.id}`} size="sm">
          {entry.key.marking}
        </Anchor>
        {` · ${entry.key.type}${holder}`}
      </Text>
    );
  }
  if (entry.group) return <>{t('jobs.keyGroup', { name: entry.group.name })}</>;
  if (entry.cylinderGroup) return <>{t('jobs.cylinderGroup', { name: entry.cylinderGroup.name })}</>;
  // A key of a domain the caller does not administer (R8).
  return <>{t('jobs.hidden')}</>;
}

/** The cylinder's two access lists side by side (R11): what the administration decided
 * (desired) and what the hardware holds (programmed); differences are what its open jobs
 * carry out (R15). */
export function AccessListSection({ cylinder }: { cylinder: CylinderCardCylinderFragment }) {
  const { t } = useTranslation();
  const [show, setShow] = useState<'all' | 'differences'>('all');
  const all = useMemo(() => cylinder.accessList.map((e) => ({ ...e, state: accessState(e) })), [cylinder]);
  const differences = all.filter((e) => e.state !== 'inSync').length;
  const rows = useMemo(() => (show === 'all' ? all : all.filter((e) => e.state !== 'inSync')), [all, show]);
  const columns = useMemo(
    () => [
      accessColumn.display({
        id: 'entry',
        header: () => t('cylinderCard.entry'),
        cell: (c) => <EntryName entry={c.row.original} />,
      }),
      accessColumn.accessor('desired', {
        header: () => t('cylinderCard.desired'),
        cell: (c) => t(c.getValue() ? 'keyCard.yes' : 'keyCard.no'),
      }),
      accessColumn.accessor('programmed', {
        header: () => t('cylinderCard.programmed'),
        cell: (c) => t(c.getValue() ? 'keyCard.yes' : 'keyCard.no'),
      }),
      accessColumn.accessor('state', {
        header: () => t('cylinderCard.state'),
        cell: (c) => (
          <Badge variant="dot" color={STATE_COLOR[c.getValue()]}>
            {t(`accessState.${c.getValue()}`)}
          </Badge>
        ),
      }),
    ],
    [t],
  );
  const table = useClientPagedTable(rows, columns, ACCESS_PAGE_SIZE);
  return (
    <Section
      id="cylinder-access-list"
      title={t('cylinderCard.accessList')}
      extra={
        <Text size="sm">
          {t('cylinderCard.differences', { count: differences, total: all.length })}
        </Text>
      }
    >
      <SegmentedControl
        aria-label={t('cylinderCard.show')}
        value={show}
        onChange={(value) => setShow(value as 'all' | 'differences')}
        data={[
          { value: 'all', label: t('cylinderCard.showAll') },
          { value: 'differences', label: t('cylinderCard.showDifferences') },
        ]}
        w="fit-content"
      />
      <DataTable table={table} caption={t('cylinderCard.accessList')} empty={t('cylinderCard.noEntries')} minWidth={520} />
      <Pager controls={tableControls(table)} label={t('cylinderCard.accessList')} />
    </Section>
  );
}

const CylinderAuditTrailDocument = graphql(`
  query CylinderAuditTrail($filter: AuditEventFilter!, $first: Int, $after: String) {
    auditEvents(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          at
          result
          key {
            id
            marking
          }
        }
      }
    }
  }
`);

type EventEdge = CylinderAuditTrailQuery['auditEvents']['edges'][number];
const eventColumn = createColumnHelper<EventEdge>();

const RequestReadoutDocument = graphql(`
  mutation RequestReadout($input: RequestReadoutInput!) {
    requestReadout(input: $input) {
      readoutRequest {
        id
        status
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const READOUT_FIELDS = ['reason'];
const readoutPayload = (data: RequestReadoutMutation) => data.requestReadout;

/** R29, R38: ask an Approver to release this cylinder's audit trail, saying why. */
function RequestReadoutForm({ cylinderId }: { cylinderId: string }) {
  const { t } = useTranslation();
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const request = usePayloadMutation(RequestReadoutDocument, readoutPayload, READOUT_FIELDS);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!reason.trim()) {
      setMissing(true);
      return;
    }
    const payload = await request.submit({ input: { targetId: cylinderId, reason: reason.trim() } });
    if (payload?.readoutRequest) setStatus(payload.readoutRequest.status);
  }

  if (status) {
    return (
      <Alert color="blue" variant="light" role="status">
        {t('readout.requested', { status: t(`readoutStatus.${status}`) })}
      </Alert>
    );
  }
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack gap="xs">
        <FormError message={request.errors['']} />
        <Textarea
          label={t('readout.reason')}
          description={t('readout.reasonHelp')}
          value={reason}
          onChange={(e) => {
            setReason(e.currentTarget.value);
            setMissing(false);
          }}
          error={request.errors.reason ?? (missing ? t('errors.required') : undefined)}
          required
          autosize
          minRows={2}
        />
        <Button type="submit" variant="default" loading={request.fetching} w="fit-content">
          {t('readout.submit')}
        </Button>
      </Stack>
    </form>
  );
}

/** The cylinder's audit trail (R28), newest first, a page at a time. Under the approver function
 * (R29) the server withholds what a programming visit read out until a readout of the cylinder
 * is approved: the card says so and offers to ask for one. */
export function AuditTrailSection({
  cylinderId,
  approverFunction,
  mayRequest,
  version,
}: {
  cylinderId: string;
  approverFunction: boolean;
  mayRequest: boolean;
  version: number;
}) {
  const { t } = useTranslation();
  const formats = useFormats();
  const pager = useCursorPager();
  const filter = useMemo(() => ({ cylinderId }), [cylinderId]);
  const [{ data, error }, reexecute] = useQuery({
    query: CylinderAuditTrailDocument,
    variables: { filter, first: SECTION_PAGE_SIZE, after: pager.after },
  });
  useRefetchOn(version, reexecute);
  const events = data?.auditEvents;
  const columns = useMemo(
    () => [
      eventColumn.accessor((e) => e.node.at, {
        id: 'at',
        header: () => t('audit.at'),
        cell: (c) => formats.dateTime(c.getValue()),
      }),
      eventColumn.accessor((e) => e.node.key, {
        id: 'key',
        header: () => t('audit.key'),
        cell: (c) => <EventElement element={c.getValue()} kind="key" />,
      }),
      eventColumn.accessor((e) => e.node.result, {
        id: 'result',
        header: () => t('audit.result'),
        cell: (c) => <ResultBadge result={c.getValue()} />,
      }),
    ],
    [t, formats],
  );
  const rows = useMemo(() => events?.edges ?? [], [events]);
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), getRowId: (e) => e.cursor });
  return (
    <Section
      id="cylinder-audit-trail"
      title={t('audit.title')}
      extra={events && <Text size="sm">{t('audit.count', { count: events.totalCount, n: formats.number(events.totalCount) })}</Text>}
    >
      {approverFunction && (
        <Alert color="blue" variant="light" title={t('audit.withheldTitle')}>
          <Stack gap="sm">
            <Text size="sm">{t('audit.withheld')}</Text>
            {mayRequest && <RequestReadoutForm cylinderId={cylinderId} />}
          </Stack>
        </Alert>
      )}
      <RequestError error={error} />
      <DataTable
        table={table}
        caption={t('audit.title')}
        empty={events ? t('audit.none') : t('app.loading')}
        minWidth={420}
      />
      <Pager controls={cursorControls(pager, events?.pageInfo)} label={t('audit.title')} />
    </Section>
  );
}
