import { Alert, Button, Center, Loader, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useSearchParams } from 'react-router';
import { useClient, useMutation } from 'urql';

import { errorsByField } from '../errors';
import { graphql } from '../gql';

const SignInWithLinkDocument = graphql(`
  mutation SignInWithLink($input: SignInWithLinkInput!) {
    signInWithLink(input: $input) {
      signedIn
      errors {
        field
        code
        message
      }
    }
  }
`);

const StartBridgeLoginDocument = graphql(`
  mutation StartBridgeLogin($input: StartBridgeLoginInput!) {
    startBridgeLogin(input: $input) {
      loginId
      secret
      errors {
        field
        code
        message
      }
    }
  }
`);

const FinishBridgeLoginDocument = graphql(`
  mutation FinishBridgeLogin($input: FinishBridgeLoginInput!) {
    finishBridgeLogin(input: $input) {
      status
      errorCode
      errorMessage
    }
  }
`);

const POLL_MS = 1000;

/** After signing in: a fresh page, so the client and its WebSocket start with the new cookie. */
function enter() {
  window.location.replace('/');
}

/** The link's code travels in the fragment (#link=…), which no server or Referer ever sees. */
function linkFromHash(hash: string): string | null {
  const code = new URLSearchParams(hash.replace(/^#/, '')).get('link');
  return code && code.trim() ? code.trim() : null;
}

/** Sign-in: with a one-time link (development, self-hosters) or with the programming key in
 * a site bridge's desk device and its PIN (R5). */
export function SignIn() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  // From the router, so that a link opened in a tab already on this page is taken too.
  const link = linkFromHash(useLocation().hash);
  return (
    <Center mih="100vh" p="md">
      <Paper component="main" withBorder p="xl" w={440} maw="100%">
        <Stack>
          <Title order={1} size="h2">
            {t('signIn.title')}
          </Title>
          {params.get('signedOut') && <Alert color="gray">{t('signIn.signedOut')}</Alert>}
          {link ? <WithLink key={link} code={link} /> : <WithKey />}
        </Stack>
      </Paper>
    </Center>
  );
}

function WithLink({ code }: { code: string }) {
  const { t } = useTranslation();
  const [{ data, error }, signIn] = useMutation(SignInWithLinkDocument);
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    // The code is spent: it must not stay in the address bar or the history.
    window.history.replaceState(null, '', window.location.pathname);
    void signIn({ input: { link: code } }).then((result) => {
      if (result.data?.signInWithLink.signedIn) enter();
    });
  }, [code, signIn]);
  const failed = error || (data && !data.signInWithLink.signedIn);
  if (!failed) {
    return (
      <Stack align="center">
        <Loader aria-label={t('app.loading')} />
        <Text>{t('signIn.withLink')}</Text>
      </Stack>
    );
  }
  return (
    <Stack>
      <Alert color="red" role="alert">
        {error ? t('errors.network') : t('signIn.linkFailed')}
      </Alert>
      <WithKey />
    </Stack>
  );
}

function WithKey() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const client = useClient();
  const [tenantId, setTenantId] = useState(params.get('tenant') ?? '');
  const [bridgeId, setBridgeId] = useState(params.get('bridge') ?? '');
  const [pin, setPin] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [waiting, setWaiting] = useState(false);
  const [, start] = useMutation(StartBridgeLoginDocument);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const missing: Record<string, string> = {};
    if (!tenantId.trim()) missing.tenantId = t('errors.required');
    if (!bridgeId.trim()) missing.bridgeId = t('errors.required');
    if (!/^[0-9]{4,8}$/.test(pin)) missing.pin = t('errors.pinFormat');
    setFieldErrors(missing);
    if (Object.keys(missing).length) return;

    const started = await start({ input: { tenantId: tenantId.trim(), bridgeId: bridgeId.trim(), pin } });
    const payload = started.data?.startBridgeLogin;
    if (!payload) {
      setFieldErrors({ '': t('errors.network') });
      return;
    }
    if (payload.errors.length) {
      const byField = errorsByField(payload.errors, ['tenantId', 'bridgeId', 'pin'], t);
      if (payload.errors.some((e) => e.code === 'BRIDGE_OFFLINE')) {
        byField.bridgeId = t('signIn.bridgeOffline');
      }
      setFieldErrors(byField);
      return;
    }
    setPin('');
    setWaiting(true);
    const outcome = await poll(payload.loginId!, payload.secret!);
    setWaiting(false);
    if (outcome === null) enter();
    else setFieldErrors({ '': outcome });
  }

  /** Null once signed in, else what went wrong, in the user's language where we know it. */
  async function poll(loginId: string, secret: string): Promise<string | null> {
    for (;;) {
      const result = await client
        .mutation(FinishBridgeLoginDocument, { input: { loginId, secret, useCookie: true } })
        .toPromise();
      const outcome = result.data?.finishBridgeLogin;
      if (!outcome) return t('errors.network');
      if (outcome.status === 'DONE') return null;
      if (outcome.status === 'FAILED') {
        if (outcome.errorCode === 'EXPIRED') return t('signIn.expired');
        if (outcome.errorCode === 'WRONG_PIN') return t('signIn.wrongPin');
        return t('signIn.failed', { reason: outcome.errorMessage ?? outcome.errorCode });
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  return (
    <form onSubmit={(event) => void onSubmit(event)} noValidate>
      <Stack>
        <Title order={2} size="h4">
          {t('signIn.withKey')}
        </Title>
        <Text size="sm">{t('signIn.withKeyHelp')}</Text>
        <TextInput
          label={t('signIn.tenantId')}
          value={tenantId}
          onChange={(e) => setTenantId(e.currentTarget.value)}
          error={fieldErrors.tenantId}
          required
          autoComplete="organization"
        />
        <TextInput
          label={t('signIn.bridgeId')}
          value={bridgeId}
          onChange={(e) => setBridgeId(e.currentTarget.value)}
          error={fieldErrors.bridgeId}
          required
        />
        <PasswordInput
          label={t('signIn.pin')}
          value={pin}
          onChange={(e) => setPin(e.currentTarget.value)}
          error={fieldErrors.pin}
          required
          inputMode="numeric"
          autoComplete="off"
        />
        {fieldErrors[''] && (
          <Alert color="red" role="alert">
            {fieldErrors['']}
          </Alert>
        )}
        {waiting && (
          <Alert color="blue" role="status">
            {t('signIn.waiting')}
          </Alert>
        )}
        <Button type="submit" loading={waiting}>
          {t('signIn.submit')}
        </Button>
      </Stack>
    </form>
  );
}
