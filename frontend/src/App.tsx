import { Center, Loader } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes, useLocation } from 'react-router';

import { Layout } from './components/Layout';
import { homePath } from './menu';
import { Approvals } from './screens/Approvals';
import { Keys } from './screens/Keys';
import { NotFound } from './screens/NotFound';
import { SignIn } from './screens/SignIn';
import { useSession } from './session';

/** The web manager's routes: sign-in for everyone, every other screen behind the session. */
export function App() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignIn />} />
      <Route element={<SignedIn />}>
        <Route index element={<Home />} />
        <Route path="keys" element={<Keys />} />
        <Route path="approvals" element={<Approvals />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function SignedIn() {
  const { viewer, fetching } = useSession();
  const location = useLocation();
  const { t } = useTranslation();
  if (viewer === null) {
    if (fetching) {
      return (
        <Center h="100vh">
          <Loader aria-label={t('app.loading')} />
        </Center>
      );
    }
    return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
  }
  return <Layout viewer={viewer} />;
}

function Home() {
  const { viewer } = useSession();
  const home = homePath(viewer?.myRights ?? []);
  return home ? <Navigate to={home} replace /> : <NotFound />;
}
