import { Center, Loader } from '@mantine/core';
import { lazy, Suspense, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes, useLocation } from 'react-router';

import { Layout } from './components/Layout';
import { homePath } from './menu';
import { Approvals } from './screens/Approvals';
import { Keys } from './screens/Keys';
import { NotFound } from './screens/NotFound';
import { SignIn } from './screens/SignIn';
import { useSession } from './session';

// The cards and the cylinders load when first opened: the sign-in and keys routes stay small.
const KeyCard = lazy(() => import('./screens/keyCard/KeyCard').then((m) => ({ default: m.KeyCard })));
const Cylinders = lazy(() => import('./screens/cylinders/Cylinders').then((m) => ({ default: m.Cylinders })));
const CylinderCard = lazy(() =>
  import('./screens/cylinders/CylinderCard').then((m) => ({ default: m.CylinderCard })),
);
const Employees = lazy(() => import('./screens/employees/Employees').then((m) => ({ default: m.Employees })));
const AuditTrail = lazy(() => import('./screens/audit/AuditTrail').then((m) => ({ default: m.AuditTrail })));
const Jobs = lazy(() => import('./screens/jobs/Jobs').then((m) => ({ default: m.Jobs })));
// The dashboard brings the charting library along: only when it is opened (issue 12 item 1).
const Dashboard = lazy(() => import('./screens/dashboard/Dashboard').then((m) => ({ default: m.Dashboard })));
// Schedules and access (issue 11 item 5)
const Schedules = lazy(() => import('./screens/schedules/Schedules').then((m) => ({ default: m.Schedules })));
const KeyGroups = lazy(() => import('./screens/groups/KeyGroups').then((m) => ({ default: m.KeyGroups })));
const CylinderGroups = lazy(() =>
  import('./screens/groups/CylinderGroups').then((m) => ({ default: m.CylinderGroups })),
);
const AccessProfiles = lazy(() =>
  import('./screens/access/AccessProfiles').then((m) => ({ default: m.AccessProfiles })),
);

function Loading() {
  const { t } = useTranslation();
  return (
    <Center h="100vh">
      <Loader aria-label={t('app.loading')} />
    </Center>
  );
}

/** A screen loaded when first opened: a spinner in the page until it is there. */
function Later({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  return <Suspense fallback={<Loader aria-label={t('app.loading')} />}>{children}</Suspense>;
}

/** The web manager's routes: sign-in for everyone, every other screen behind the session. */
export function App() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignIn />} />
      <Route element={<SignedIn />}>
        <Route index element={<Home />} />
        <Route path="dashboard" element={
            <Later>
              <Dashboard />
            </Later>
          } />
        <Route path="keys" element={<Keys />} />
        <Route path="keys/:id" element={
            <Later>
              <KeyCard />
            </Later>
          } />
        <Route path="cylinders" element={
            <Later>
              <Cylinders />
            </Later>
          } />
        <Route path="cylinders/:id" element={
            <Later>
              <CylinderCard />
            </Later>
          } />
        <Route path="employees" element={
            <Later>
              <Employees />
            </Later>
          } />
        <Route path="jobs" element={
            <Later>
              <Jobs />
            </Later>
          } />
        <Route path="approvals" element={<Approvals />} />
        <Route path="audit" element={
            <Later>
              <AuditTrail />
            </Later>
          } />
        {/* Schedules and access (issue 11 item 5) */}
        <Route path="schedules" element={
            <Later>
              <Schedules />
            </Later>
          } />
        <Route path="access-profiles" element={
            <Later>
              <AccessProfiles />
            </Later>
          } />
        <Route path="key-groups" element={
            <Later>
              <KeyGroups />
            </Later>
          } />
        <Route path="cylinder-groups" element={
            <Later>
              <CylinderGroups />
            </Later>
          } />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function SignedIn() {
  const { viewer, fetching } = useSession();
  const location = useLocation();
  if (viewer === null) {
    if (fetching) return <Loading />;
    return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
  }
  return <Layout viewer={viewer} />;
}

function Home() {
  const { viewer } = useSession();
  const home = homePath(viewer?.myRights ?? []);
  return home ? <Navigate to={home} replace /> : <NotFound />;
}
