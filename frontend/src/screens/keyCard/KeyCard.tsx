import { Anchor, SimpleGrid, Text } from '@mantine/core';
import { useMemo, useReducer, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';

import { Facts } from '../../components/Facts';
import { CardFrame } from '../../components/CardFrame';
import { OpenJobsSection } from '../../components/OpenJobsSection';
import { OPEN_JOB_STATUSES } from '../../components/ProgrammingJobsTable';
import { Section } from '../../components/Section';
import { graphql } from '../../gql';
import type { KeyCardKeyFragment } from '../../gql/graphql';
import { useFormats } from '../../hooks/useFormats';
import { useRefetchOn } from '../../hooks/useRefetchOn';
import { useSession } from '../../session';
import { STATUS_COLOR } from '../Keys';
import { KeyActions } from './KeyActions';
import { AuthorizationsSection, BlockingListSection, KeyRemoteJobsSection } from './KeySections';
import { OutcomeView, type Outcome } from './Outcome';

export const KeyCardFields = graphql(`
  fragment KeyCardKey on Key {
    id
    marking
    uid
    type
    generation
    firmwareVersion
    status
    auditReadoutEnabled
    extensionIntervalHours
    domain {
      id
      name
    }
    holder {
      id
      firstName
      lastName
      employeeNumber
      accessProfiles {
        id
        name
      }
    }
    validity {
      alwaysValid
      validFrom
      validUntil
    }
    schedule {
      id
      name
    }
    accessProfiles {
      id
      name
    }
    groups {
      id
      name
    }
    authorizations {
      via
      programmed
      effectiveExtensionIntervalHours
      cylinder {
        id
        marking
        securityRelevant
        domain {
          id
          name
        }
      }
      schedule {
        id
        name
      }
    }
  }
`);

const KeyCardDocument = graphql(`
  query KeyCard($id: ID!) {
    node(id: $id) {
      __typename
      ...KeyCardKey
    }
  }
`);

function Names({ items, none }: { items: readonly { id: string; name: string }[]; none: string }) {
  if (!items.length) return <>{none}</>;
  return <>{items.map((i) => i.name).join(', ')}</>;
}

/** What the key is (R10) and how it is configured (R12–R14). */
function KeyFacts({ keyData }: { keyData: KeyCardKeyFragment }) {
  const { t } = useTranslation();
  const formats = useFormats();
  const { validity, holder } = keyData;
  const validityText = validity.alwaysValid
    ? t('validity.alwaysValid')
    : [
        validity.validFrom && t('validity.fromDate', { date: formats.date(validity.validFrom) }),
        validity.validUntil && t('validity.untilDate', { date: formats.date(validity.validUntil) }),
      ]
        .filter(Boolean)
        .join(' ');
  const none = t('keyCard.none');
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <Section id="key-facts" title={t('keyCard.key')}>
        <Facts
          caption={t('keyCard.key')}
          rows={[
            [t('keys.type'), keyData.type],
            [t('keys.generation'), t(`generation.${keyData.generation}`)],
            [t('keyCard.firmware'), keyData.firmwareVersion],
            [t('keyCard.uid'), keyData.uid],
            [t('keys.domain'), keyData.domain.name],
            [
              t('keys.holder'),
              holder
                ? `${holder.lastName}, ${holder.firstName}${holder.employeeNumber ? ` (${holder.employeeNumber})` : ''}`
                : none,
            ],
          ]}
        />
      </Section>
      <Section id="key-configuration" title={t('keyCard.configuration')}>
        <Facts
          caption={t('keyCard.configuration')}
          rows={[
            [t('keyCard.validity'), validityText],
            [t('keyCard.schedule'), keyData.schedule.name],
            [
              t('keyCard.extensionInterval'),
              keyData.extensionIntervalHours == null ? none : t('keyCard.hours', { count: keyData.extensionIntervalHours }),
            ],
            [t('keyCard.accessProfiles'), <Names items={keyData.accessProfiles} none={none} />],
            [t('keyCard.holderProfiles'), <Names items={holder?.accessProfiles ?? []} none={none} />],
            [t('keyCard.keyGroups'), <Names items={keyData.groups} none={none} />],
            [t('keyCard.auditReadout'), t(keyData.auditReadoutEnabled ? 'keyCard.yes' : 'keyCard.no')],
          ]}
        />
      </Section>
    </SimpleGrid>
  );
}

/** An E2/E3 key's audit trail (R10, R28) is the audit trail screen filtered by the key: there
 * it pages, filters further and exports (issue 12 item 8). */
function KeyAuditTrailSection({ keyId }: { keyId: string }) {
  const { t } = useTranslation();
  return (
    <Section id="key-audit-trail" title={t('audit.title')}>
      <Text size="sm">{t('audit.keyTrail')}</Text>
      <Anchor component={Link} to={`/audit?${new URLSearchParams({ keyId })}`} size="sm" w="fit-content">
        {t('audit.showKeyTrail')}
      </Anchor>
    </Section>
  );
}

/** The key card (route /keys/:id): what the key is, its configuration, its effective
 * authorizations with their origin, its programmed state and open jobs, and the actions its
 * status allows (issue 11 item 2). */
export function KeyCard() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const { viewer } = useSession();
  const rights = viewer?.myRights ?? [];
  const [version, changed] = useReducer((n: number) => n + 1, 0);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [{ data, fetching, error }, reexecute] = useQuery({ query: KeyCardDocument, variables: { id } });
  useRefetchOn(version, reexecute);
  const keyData = data?.node?.__typename === 'Key' ? data.node : null;
  const openJobs = useMemo(() => ({ keyId: id, status: [...OPEN_JOB_STATUSES] }), [id]);

  return (
    <CardFrame
      back={{ to: '/keys', label: t('keyCard.back') }}
      error={error}
      fetching={fetching || !data}
      notFound={t('keyCard.notFound')}
      heading={
        keyData && {
          title: t('keyCard.title', { marking: keyData.marking }),
          status: t(`keyStatus.${keyData.status}`),
          color: STATUS_COLOR[keyData.status],
        }
      }
    >
      {keyData && (
        <>
          <KeyActions
            keyData={keyData}
            rights={rights}
            onDone={(done) => {
              setOutcome(done);
              changed();
            }}
          />
          {outcome && <OutcomeView outcome={outcome} />}
          <KeyFacts keyData={keyData} />
          <AuthorizationsSection keyData={keyData} />
          {rights.includes('jobs.read') && (
            <>
              <OpenJobsSection id="key-open-jobs" filter={openJobs} version={version} />
              <KeyRemoteJobsSection keyId={keyData.id} version={version} />
            </>
          )}
          {keyData.type !== 'E1' && rights.includes('audit.read') && <KeyAuditTrailSection keyId={keyData.id} />}
          {keyData.status === 'LOST' && rights.includes('blocking_list.read') && (
            <BlockingListSection uid={keyData.uid} version={version} />
          )}
        </>
      )}
    </CardFrame>
  );
}
