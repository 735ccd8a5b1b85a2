import { Anchor, AppShell, Badge, Burger, Button, Group, NavLink, NativeSelect, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useTranslation } from 'react-i18next';
import { Link, Outlet, useLocation } from 'react-router';
import { useMutation } from 'urql';

import { graphql } from '../gql';
import { LANGUAGES } from '../i18n';
import { visibleMenu } from '../menu';
import type { Viewer } from '../session';

const SignOutDocument = graphql(`
  mutation SignOut {
    logout {
      loggedOut
      errors {
        field
        code
        message
      }
    }
  }
`);

/** The frame of every signed-in screen: who and where in the header, the menu the rights open. */
export function Layout({ viewer }: { viewer: Viewer }) {
  const { t, i18n } = useTranslation();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const [, signOut] = useMutation(SignOutDocument);
  const holder = viewer.me?.holder;
  const who = holder ? `${holder.firstName} ${holder.lastName}` : (viewer.me?.marking ?? '');
  const roles = viewer.me?.roles.map((r) => r.name) ?? [];

  async function onSignOut() {
    await signOut({});
    // A fresh page: nothing of the session stays in memory or in the client's cache.
    window.location.assign('/sign-in?signedOut=1');
  }

  return (
    <AppShell
      header={{ height: 64 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <Anchor href="#main" className="skip-link">
        {t('app.skipToContent')}
      </Anchor>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('header.openMenu')} />
            <Title order={1} size="h3">
              {t('app.name')}
            </Title>
            <Text size="sm" c="gray.7" visibleFrom="xs" aria-label={t('header.tenant')}>
              {viewer.tenant.name}
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Stack gap={0} align="flex-end" visibleFrom="sm">
              <Text size="sm" fw={500}>
                {t('header.signedInAs', { name: who })}
              </Text>
              <Group gap={4} aria-label={t('header.roles')}>
                {roles.map((role) => (
                  <Badge key={role} size="xs" variant="default">
                    {role}
                  </Badge>
                ))}
              </Group>
            </Stack>
            <NativeSelect
              aria-label={t('header.language')}
              size="xs"
              value={i18n.resolvedLanguage}
              onChange={(event) => void i18n.changeLanguage(event.currentTarget.value)}
              data={LANGUAGES.map((lng) => ({ value: lng, label: t(`language.${lng}`) }))}
            />
            <Button size="xs" variant="default" onClick={() => void onSignOut()}>
              {t('header.signOut')}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label={t('menu.label')}>
        {visibleMenu(viewer.myRights).map((item) => (
          <NavLink
            key={item.path}
            component={Link}
            to={item.path}
            label={t(item.label)}
            active={location.pathname.startsWith(item.path)}
            variant="filled"
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
