import { Alert, Button, FileInput, Group, Progress, Stack, Table, Text } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import { FormError } from '../../components/Feedback';
import { DomainSelect } from '../../components/ListControls';
import { graphql } from '../../gql';
import type { ImportEmployeesMutation } from '../../gql/graphql';
import { useFormats } from '../../hooks/useFormats';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';

const ImportEmployeesDocument = graphql(`
  mutation ImportEmployees($input: ImportFileInput!) {
    importEmployees(input: $input) {
      validCount
      invalidRows {
        line
        message
      }
      created
      updated
      errors {
        field
        code
        message
      }
    }
  }
`);

type Report = ImportEmployeesMutation['importEmployees'];
const FIELDS = ['file', 'domainId'];
const payloadOf = (data: ImportEmployeesMutation) => data.importEmployees;

/** The dry run's report (R30): how many lines are valid, and each invalid one with its line and
 * reason. */
export function ImportPreview({ report }: { report: Report }) {
  const { t } = useTranslation();
  const formats = useFormats();
  const invalid = report.invalidRows;
  return (
    <Stack gap="xs" aria-labelledby="import-preview">
      <Text fw={500} id="import-preview" role="status">
        {t('import.preview', {
          count: report.validCount,
          n: formats.number(report.validCount),
          invalid: formats.number(invalid.length),
        })}
      </Text>
      {invalid.length > 0 && (
        <Table.ScrollContainer minWidth={360} mah={260} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
          <Table striped captionSide="top">
            <caption>{t('import.invalidRows', { count: invalid.length })}</caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">{t('import.line')}</Table.Th>
                <Table.Th scope="col">{t('import.reason')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {invalid.map((row) => (
                <Table.Tr key={`${row.line}:${row.message}`}>
                  <Table.Td>{formats.number(row.line)}</Table.Td>
                  <Table.Td>{row.message}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}

/** The employee import (R30): the file is checked first (a dry run: nothing written), the valid
 * and invalid lines shown; then the valid lines are imported, in one transaction on the server,
 * while a progress bar runs. */
export function EmployeeImport({ onDone, onCancel }: { onDone: (title: string) => void; onCancel: () => void }) {
  const { t } = useTranslation();
  const [file, setFile] = useState<File | null>(null);
  const [domainId, setDomainId] = useState<string | null>(null);
  const [checked, setChecked] = useState<Report | null>(null);
  const [importing, setImporting] = useState(false);
  const dryRun = usePayloadMutation(ImportEmployeesDocument, payloadOf, FIELDS);
  const run = usePayloadMutation(ImportEmployeesDocument, payloadOf, FIELDS);
  const errors = { ...dryRun.errors, ...run.errors };

  function choose(chosen: File | null) {
    dryRun.clear();
    run.clear();
    setChecked(null);
    setFile(chosen);
  }

  async function check(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setChecked(await dryRun.submit({ input: { file, dryRun: true, domainId } }));
  }

  async function importValid() {
    if (!file) return;
    setImporting(true);
    const done = await run.submit({ input: { file, dryRun: false, domainId } });
    setImporting(false);
    if (done) onDone(t('import.done', { created: done.created, updated: done.updated, count: done.invalidRows.length }));
  }

  return (
    <form onSubmit={(e) => void check(e)} noValidate>
      <Stack>
        <Text size="sm">{t('import.intro')}</Text>
        <FormError message={errors['']} />
        <FileInput
          label={t('import.file')}
          placeholder={t('import.choose')}
          accept=".csv,text/csv"
          value={file}
          onChange={choose}
          error={errors.file}
          clearable
          clearButtonProps={{ 'aria-label': t('import.clearFile') }}
        />
        <DomainSelect value={domainId} onChange={setDomainId} />
        {errors.domainId && <FormError message={errors.domainId} />}
        {checked && <ImportPreview report={checked} />}
        {importing && (
          <Stack gap={4}>
            <Text size="sm" id="import-progress">
              {t('import.importing', { count: checked?.validCount ?? 0 })}
            </Text>
            <Progress value={100} striped animated aria-labelledby="import-progress" />
          </Stack>
        )}
        {checked && checked.validCount === 0 && (
          <Alert color="yellow" variant="light">
            {t('import.nothingValid')}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="submit" variant={checked ? 'default' : 'filled'} disabled={!file} loading={dryRun.fetching}>
            {t('import.check')}
          </Button>
          {checked && checked.validCount > 0 && (
            <Button onClick={() => void importValid()} loading={importing}>
              {t('import.run', { count: checked.validCount })}
            </Button>
          )}
        </Group>
      </Stack>
    </form>
  );
}
