import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { useQuery } from 'urql';

import { Facts } from '../../components/Facts';
import { CardFrame } from '../../components/CardFrame';
import { OpenJobsSection } from '../../components/OpenJobsSection';
import { OPEN_JOB_STATUSES } from '../../components/ProgrammingJobsTable';
import { Section } from '../../components/Section';
import { graphql } from '../../gql';
import { useSession } from '../../session';
import { AccessListSection, AuditTrailSection } from './CylinderSections';
import { CYLINDER_STATUS_COLOR } from './Cylinders';

export const CylinderCardFields = graphql(`
  fragment CylinderCardCylinder on Cylinder {
    id
    marking
    uid
    status
    securityRelevant
    isClone
    needsReprogramming
    domain {
      id
      name
    }
    accessList {
      desired
      programmed
      key {
        id
        marking
        type
        holder {
          firstName
          lastName
        }
      }
      group {
        id
        name
      }
      cylinderGroup {
        id
        name
      }
    }
  }
`);

const CylinderCardDocument = graphql(`
  query CylinderCard($id: ID!) {
    node(id: $id) {
      __typename
      ...CylinderCardCylinder
    }
    tenant {
      approverFunction
    }
  }
`);

/** The cylinder card (route /cylinders/:id, issue 11 item 3): what the cylinder is, its desired
 * against its programmed access list (R11), its open programming jobs (R15) and its audit trail
 * (R28, as R29 allows). */
export function CylinderCard() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const { viewer } = useSession();
  const rights = viewer?.myRights ?? [];
  const [{ data, fetching, error }] = useQuery({ query: CylinderCardDocument, variables: { id } });
  const cylinder = data?.node?.__typename === 'Cylinder' ? data.node : null;
  const openJobs = useMemo(() => ({ cylinderId: id, status: [...OPEN_JOB_STATUSES] }), [id]);
  const yesNo = (value: boolean) => t(value ? 'keyCard.yes' : 'keyCard.no');

  return (
    <CardFrame
      back={{ to: '/cylinders', label: t('cylinderCard.back') }}
      error={error}
      fetching={fetching || !data}
      notFound={t('cylinderCard.notFound')}
      heading={
        cylinder && {
          title: t('cylinderCard.title', { marking: cylinder.marking }),
          status: t(`cylinderStatus.${cylinder.status}`),
          color: CYLINDER_STATUS_COLOR[cylinder.status],
        }
      }
    >
      {cylinder && (
        <>
          <Section id="cylinder-facts" title={t('cylinderCard.cylinder')}>
            <Facts
              caption={t('cylinderCard.cylinder')}
              rows={[
                [t('keyCard.uid'), cylinder.uid],
                [t('keys.domain'), cylinder.domain.name],
                [t('cylinders.securityRelevant'), yesNo(cylinder.securityRelevant)],
                [t('cylinders.needsReprogramming'), yesNo(cylinder.needsReprogramming)],
                [t('cylinders.clone'), yesNo(cylinder.isClone)],
              ]}
            />
          </Section>
          <AccessListSection cylinder={cylinder} />
          {rights.includes('jobs.read') && (
            <OpenJobsSection id="cylinder-open-jobs" filter={openJobs} version={0} withCylinder={false} />
          )}
          {rights.includes('audit.read') && (
            <AuditTrailSection
              cylinderId={cylinder.id}
              approverFunction={Boolean(data?.tenant.approverFunction)}
              mayRequest={rights.includes('readout.request')}
              version={0}
            />
          )}
        </>
      )}
    </CardFrame>
  );
}
