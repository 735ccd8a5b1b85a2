/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation SignOut {\n    logout {\n      loggedOut\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.SignOutDocument,
    "\n  query Domains {\n    domains {\n      id\n      name\n    }\n  }\n": typeof types.DomainsDocument,
    "\n  query OpenJobs($filter: ProgrammingJobFilter!, $first: Int, $after: String) {\n    programmingJobs(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...ProgrammingJobRow\n        }\n      }\n    }\n  }\n": typeof types.OpenJobsDocument,
    "\n  query KeyOptions($search: String, $first: Int) {\n    keys(filter: { search: $search }, first: $first) {\n      edges {\n        node {\n          id\n          marking\n          type\n          status\n          holder {\n            firstName\n            lastName\n          }\n        }\n      }\n    }\n  }\n": typeof types.KeyOptionsDocument,
    "\n  query EmployeeOptions($search: String, $first: Int) {\n    employees(search: $search, first: $first) {\n      edges {\n        node {\n          id\n          employeeNumber\n          firstName\n          lastName\n        }\n      }\n    }\n  }\n": typeof types.EmployeeOptionsDocument,
    "\n  query CylinderOptions($search: String, $first: Int) {\n    cylinders(filter: { search: $search }, first: $first) {\n      edges {\n        node {\n          id\n          marking\n          domain {\n            name\n          }\n        }\n      }\n    }\n  }\n": typeof types.CylinderOptionsDocument,
    "\n  fragment ProgrammingJobRow on ProgrammingJob {\n    id\n    status\n    createdAt\n    cylinder {\n      id\n      marking\n      securityRelevant\n    }\n    changes {\n      op\n      key {\n        id\n        marking\n      }\n      group {\n        id\n        name\n      }\n      cylinderGroup {\n        id\n        name\n      }\n    }\n    assignee {\n      marking\n    }\n  }\n": typeof types.ProgrammingJobRowFragmentDoc,
    "\n  query AwaitingApproval {\n    readoutRequests(status: [AWAITING_APPROVAL]) {\n      id\n      reason\n      status\n      requestedAt\n      requestedBy {\n        marking\n      }\n      target {\n        id\n        ... on Key {\n          marking\n        }\n        ... on Cylinder {\n          marking\n        }\n        ... on RemoteDevice {\n          serial\n        }\n      }\n    }\n  }\n": typeof types.AwaitingApprovalDocument,
    "\n  query KeysPage($filter: KeyFilter, $first: Int, $after: String) {\n    keys(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          type\n          generation\n          status\n          holder {\n            firstName\n            lastName\n          }\n          domain {\n            name\n          }\n          validity {\n            alwaysValid\n            validUntil\n          }\n        }\n      }\n    }\n  }\n": typeof types.KeysPageDocument,
    "\n  mutation SignInWithLink($input: SignInWithLinkInput!) {\n    signInWithLink(input: $input) {\n      signedIn\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.SignInWithLinkDocument,
    "\n  mutation StartBridgeLogin($input: StartBridgeLoginInput!) {\n    startBridgeLogin(input: $input) {\n      loginId\n      secret\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.StartBridgeLoginDocument,
    "\n  mutation FinishBridgeLogin($input: FinishBridgeLoginInput!) {\n    finishBridgeLogin(input: $input) {\n      status\n      errorCode\n      errorMessage\n    }\n  }\n": typeof types.FinishBridgeLoginDocument,
    "\n  fragment AccessProfileRow on AccessProfile {\n    id\n    name\n    extensionIntervalHours\n    schedule {\n      id\n      name\n    }\n    cylinders {\n      id\n      marking\n      domain {\n        name\n      }\n    }\n  }\n": typeof types.AccessProfileRowFragmentDoc,
    "\n  fragment AccessProfileOutcome on AccessProfilePayload {\n    accessProfile {\n      ...AccessProfileRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": typeof types.AccessProfileOutcomeFragmentDoc,
    "\n  query ScheduleOptions {\n    schedules {\n      id\n      name\n    }\n  }\n": typeof types.ScheduleOptionsDocument,
    "\n  mutation CreateAccessProfile($input: CreateAccessProfileInput!) {\n    createAccessProfile(input: $input) {\n      ...AccessProfileOutcome\n    }\n  }\n": typeof types.CreateAccessProfileDocument,
    "\n  mutation UpdateAccessProfile($input: UpdateAccessProfileInput!) {\n    updateAccessProfile(input: $input) {\n      ...AccessProfileOutcome\n    }\n  }\n": typeof types.UpdateAccessProfileDocument,
    "\n  query AccessProfiles {\n    accessProfiles {\n      ...AccessProfileRow\n    }\n  }\n": typeof types.AccessProfilesDocument,
    "\n  mutation DeleteAccessProfile($input: DeleteInput!) {\n    deleteAccessProfile(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.DeleteAccessProfileDocument,
    "\n  query AuditTrailPage($filter: AuditEventFilter, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          at\n          result\n          key {\n            id\n            marking\n          }\n          cylinder {\n            id\n            marking\n          }\n        }\n      }\n    }\n  }\n": typeof types.AuditTrailPageDocument,
    "\n  query AuditFilterLabels($ids: [ID!]!) {\n    nodes(ids: $ids) {\n      ... on Key {\n        id\n        marking\n      }\n      ... on Cylinder {\n        id\n        marking\n      }\n    }\n  }\n": typeof types.AuditFilterLabelsDocument,
    "\n  fragment CylinderCardCylinder on Cylinder {\n    id\n    marking\n    uid\n    status\n    securityRelevant\n    isClone\n    needsReprogramming\n    domain {\n      id\n      name\n    }\n    accessList {\n      desired\n      programmed\n      key {\n        id\n        marking\n        type\n        holder {\n          firstName\n          lastName\n        }\n      }\n      group {\n        id\n        name\n      }\n      cylinderGroup {\n        id\n        name\n      }\n    }\n  }\n": typeof types.CylinderCardCylinderFragmentDoc,
    "\n  query CylinderCard($id: ID!) {\n    node(id: $id) {\n      __typename\n      ...CylinderCardCylinder\n    }\n    tenant {\n      approverFunction\n    }\n  }\n": typeof types.CylinderCardDocument,
    "\n  query CylinderAuditTrail($filter: AuditEventFilter!, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          at\n          result\n          key {\n            id\n            marking\n          }\n        }\n      }\n    }\n  }\n": typeof types.CylinderAuditTrailDocument,
    "\n  mutation RequestReadout($input: RequestReadoutInput!) {\n    requestReadout(input: $input) {\n      readoutRequest {\n        id\n        status\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.RequestReadoutDocument,
    "\n  query CylindersPage($filter: CylinderFilter, $first: Int, $after: String) {\n    cylinders(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          status\n          securityRelevant\n          needsReprogramming\n          isClone\n          domain {\n            name\n          }\n        }\n      }\n    }\n  }\n": typeof types.CylindersPageDocument,
    "\n  query KeyGroupOptions {\n    keyGroups {\n      id\n      name\n    }\n  }\n": typeof types.KeyGroupOptionsDocument,
    "\n  mutation ChangeAuthorizations($input: ChangeAuthorizationsInput!) {\n    changeAuthorizations(input: $input) {\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      unchangedCylinders {\n        id\n        marking\n      }\n      skippedCylinders {\n        cylinder {\n          id\n          marking\n        }\n        code\n        message\n      }\n      warnings {\n        code\n        message\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.ChangeAuthorizationsDocument,
    "\n  query Dashboard {\n    dashboard {\n      keyCount\n      cylinderCount\n      employeeCount\n      offlineDevices\n      waitingJobs {\n        domain {\n          id\n          name\n        }\n        waiting\n      }\n      expiringKeys {\n        count\n        first {\n          id\n          marking\n          validity {\n            validUntil\n          }\n        }\n      }\n      blockingList {\n        keys\n        limit\n        warnAt\n      }\n      auditEventsPerDay {\n        day\n        events\n      }\n    }\n  }\n": typeof types.DashboardDocument,
    "\n  fragment EmployeeRow on Employee {\n    id\n    employeeNumber\n    firstName\n    lastName\n    email\n    department\n    phone\n    domain {\n      id\n      name\n    }\n    keys {\n      id\n    }\n    accessProfiles {\n      id\n      name\n    }\n  }\n": typeof types.EmployeeRowFragmentDoc,
    "\n  fragment EmployeeOutcome on EmployeePayload {\n    employee {\n      ...EmployeeRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": typeof types.EmployeeOutcomeFragmentDoc,
    "\n  mutation CreateEmployee($input: CreateEmployeeInput!) {\n    createEmployee(input: $input) {\n      ...EmployeeOutcome\n    }\n  }\n": typeof types.CreateEmployeeDocument,
    "\n  mutation UpdateEmployee($input: UpdateEmployeeInput!) {\n    updateEmployee(input: $input) {\n      ...EmployeeOutcome\n    }\n  }\n": typeof types.UpdateEmployeeDocument,
    "\n  query AccessProfileOptions {\n    accessProfiles {\n      id\n      name\n    }\n  }\n": typeof types.AccessProfileOptionsDocument,
    "\n  mutation ImportEmployees($input: ImportFileInput!) {\n    importEmployees(input: $input) {\n      validCount\n      invalidRows {\n        line\n        message\n      }\n      created\n      updated\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.ImportEmployeesDocument,
    "\n  query EmployeesPage($search: String, $first: Int, $after: String) {\n    employees(search: $search, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...EmployeeRow\n        }\n      }\n    }\n  }\n": typeof types.EmployeesPageDocument,
    "\n  mutation DeleteEmployee($input: EmployeeIdInput!) {\n    deleteEmployee(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.DeleteEmployeeDocument,
    "\n  fragment CylinderGroupRow on CylinderGroup {\n    id\n    name\n    cylinders {\n      id\n      marking\n      domain {\n        name\n      }\n    }\n  }\n": typeof types.CylinderGroupRowFragmentDoc,
    "\n  fragment CylinderGroupOutcome on CylinderGroupPayload {\n    cylinderGroup {\n      ...CylinderGroupRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": typeof types.CylinderGroupOutcomeFragmentDoc,
    "\n  mutation CreateCylinderGroup($input: CreateCylinderGroupInput!) {\n    createCylinderGroup(input: $input) {\n      ...CylinderGroupOutcome\n    }\n  }\n": typeof types.CreateCylinderGroupDocument,
    "\n  mutation UpdateCylinderGroup($input: UpdateCylinderGroupInput!) {\n    updateCylinderGroup(input: $input) {\n      ...CylinderGroupOutcome\n    }\n  }\n": typeof types.UpdateCylinderGroupDocument,
    "\n  query CylinderGroups {\n    cylinderGroups {\n      ...CylinderGroupRow\n    }\n  }\n": typeof types.CylinderGroupsDocument,
    "\n  mutation DeleteCylinderGroup($input: DeleteInput!) {\n    deleteCylinderGroup(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.DeleteCylinderGroupDocument,
    "\n  fragment KeyGroupRow on KeyGroup {\n    id\n    name\n    keys {\n      id\n      marking\n      type\n    }\n  }\n": typeof types.KeyGroupRowFragmentDoc,
    "\n  fragment KeyGroupOutcome on KeyGroupPayload {\n    keyGroup {\n      ...KeyGroupRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    remoteJobs {\n      id\n      kind\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": typeof types.KeyGroupOutcomeFragmentDoc,
    "\n  mutation CreateKeyGroup($input: CreateKeyGroupInput!) {\n    createKeyGroup(input: $input) {\n      ...KeyGroupOutcome\n    }\n  }\n": typeof types.CreateKeyGroupDocument,
    "\n  mutation UpdateKeyGroup($input: UpdateKeyGroupInput!) {\n    updateKeyGroup(input: $input) {\n      ...KeyGroupOutcome\n    }\n  }\n": typeof types.UpdateKeyGroupDocument,
    "\n  query KeyGroups {\n    keyGroups {\n      ...KeyGroupRow\n    }\n  }\n": typeof types.KeyGroupsDocument,
    "\n  mutation DeleteKeyGroup($input: DeleteInput!) {\n    deleteKeyGroup(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.DeleteKeyGroupDocument,
    "\n  mutation AssignJobs($input: AssignProgrammingJobsInput!) {\n    assignProgrammingJobs(input: $input) {\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      warnings {\n        code\n        message\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.AssignJobsDocument,
    "\n  query ProgrammingKeyOptions {\n    programmingKeys {\n      id\n      marking\n      kind\n      holder {\n        firstName\n        lastName\n      }\n    }\n  }\n": typeof types.ProgrammingKeyOptionsDocument,
    "\n  subscription JobEvents {\n    jobEvents {\n      at\n      programmingJob {\n        ...ProgrammingJobRow\n      }\n    }\n  }\n": typeof types.JobEventsDocument,
    "\n  mutation CopyKeyConfiguration($input: CopyKeyConfigurationInput!) {\n    copyKeyConfiguration(input: $input) {\n      key {\n        id\n        marking\n      }\n      copied {\n        what\n        detail\n      }\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.CopyKeyConfigurationDocument,
    "\n  query KeyFormOptions {\n    schedules {\n      id\n      name\n    }\n    accessProfiles {\n      id\n      name\n    }\n  }\n": typeof types.KeyFormOptionsDocument,
    "\n  mutation IssueKey($input: IssueKeyInput!) {\n    issueKey(input: $input) {\n      ...KeyOutcome\n    }\n  }\n": typeof types.IssueKeyDocument,
    "\n  mutation ReturnKey($input: KeyIdInput!) {\n    returnKey(input: $input) {\n      ...KeyOutcome\n    }\n  }\n": typeof types.ReturnKeyDocument,
    "\n  mutation ReportKeyDefective($input: KeyIdInput!) {\n    reportKeyDefective(input: $input) {\n      ...KeyOutcome\n    }\n  }\n": typeof types.ReportKeyDefectiveDocument,
    "\n  fragment KeyCardKey on Key {\n    id\n    marking\n    uid\n    type\n    generation\n    firmwareVersion\n    status\n    auditReadoutEnabled\n    extensionIntervalHours\n    domain {\n      id\n      name\n    }\n    holder {\n      id\n      firstName\n      lastName\n      employeeNumber\n      accessProfiles {\n        id\n        name\n      }\n    }\n    validity {\n      alwaysValid\n      validFrom\n      validUntil\n    }\n    schedule {\n      id\n      name\n    }\n    accessProfiles {\n      id\n      name\n    }\n    groups {\n      id\n      name\n    }\n    authorizations {\n      via\n      programmed\n      effectiveExtensionIntervalHours\n      cylinder {\n        id\n        marking\n        securityRelevant\n        domain {\n          id\n          name\n        }\n      }\n      schedule {\n        id\n        name\n      }\n    }\n  }\n": typeof types.KeyCardKeyFragmentDoc,
    "\n  query KeyCard($id: ID!) {\n    node(id: $id) {\n      __typename\n      ...KeyCardKey\n    }\n  }\n": typeof types.KeyCardDocument,
    "\n  query KeyRemoteJobs($id: ID!, $first: Int, $after: String) {\n    node(id: $id) {\n      __typename\n      ... on Key {\n        id\n        remoteJobs(first: $first, after: $after) {\n          totalCount\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          edges {\n            node {\n              id\n              kind\n              status\n              createdAt\n              completedAt\n              deliveredVia {\n                name\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n": typeof types.KeyRemoteJobsDocument,
    "\n  query KeyBlockingList {\n    blockingList {\n      version\n      issuedAt\n      validUntil\n      keyUids\n    }\n  }\n": typeof types.KeyBlockingListDocument,
    "\n  fragment KeyOutcome on KeyPayload {\n    key {\n      id\n      marking\n      status\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    remoteJobs {\n      id\n      kind\n      status\n    }\n    warnings {\n      code\n      message\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": typeof types.KeyOutcomeFragmentDoc,
    "\n  mutation ReportKeyLost($input: ReportKeyLostInput!) {\n    reportKeyLost(input: $input) {\n      ...KeyOutcome\n    }\n  }\n": typeof types.ReportKeyLostDocument,
    "\n  fragment ScheduleRow on Schedule {\n    id\n    name\n    windows {\n      days\n      start\n      end\n    }\n  }\n": typeof types.ScheduleRowFragmentDoc,
    "\n  fragment ScheduleOutcome on SchedulePayload {\n    schedule {\n      ...ScheduleRow\n    }\n    remoteJobs {\n      id\n      kind\n      status\n      key {\n        id\n        marking\n      }\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": typeof types.ScheduleOutcomeFragmentDoc,
    "\n  mutation CreateSchedule($input: CreateScheduleInput!) {\n    createSchedule(input: $input) {\n      ...ScheduleOutcome\n    }\n  }\n": typeof types.CreateScheduleDocument,
    "\n  mutation UpdateSchedule($input: UpdateScheduleInput!) {\n    updateSchedule(input: $input) {\n      ...ScheduleOutcome\n    }\n  }\n": typeof types.UpdateScheduleDocument,
    "\n  query Schedules {\n    schedules {\n      ...ScheduleRow\n    }\n  }\n": typeof types.SchedulesDocument,
    "\n  mutation DeleteSchedule($input: DeleteInput!) {\n    deleteSchedule(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.DeleteScheduleDocument,
    "\n  query Viewer {\n    tenant {\n      name\n    }\n    me {\n      marking\n      holder {\n        firstName\n        lastName\n      }\n      roles {\n        name\n      }\n    }\n    myRights\n  }\n": typeof types.ViewerDocument,
};
const documents: Documents = {
    "\n  mutation SignOut {\n    logout {\n      loggedOut\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.SignOutDocument,
    "\n  query Domains {\n    domains {\n      id\n      name\n    }\n  }\n": types.DomainsDocument,
    "\n  query OpenJobs($filter: ProgrammingJobFilter!, $first: Int, $after: String) {\n    programmingJobs(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...ProgrammingJobRow\n        }\n      }\n    }\n  }\n": types.OpenJobsDocument,
    "\n  query KeyOptions($search: String, $first: Int) {\n    keys(filter: { search: $search }, first: $first) {\n      edges {\n        node {\n          id\n          marking\n          type\n          status\n          holder {\n            firstName\n            lastName\n          }\n        }\n      }\n    }\n  }\n": types.KeyOptionsDocument,
    "\n  query EmployeeOptions($search: String, $first: Int) {\n    employees(search: $search, first: $first) {\n      edges {\n        node {\n          id\n          employeeNumber\n          firstName\n          lastName\n        }\n      }\n    }\n  }\n": types.EmployeeOptionsDocument,
    "\n  query CylinderOptions($search: String, $first: Int) {\n    cylinders(filter: { search: $search }, first: $first) {\n      edges {\n        node {\n          id\n          marking\n          domain {\n            name\n          }\n        }\n      }\n    }\n  }\n": types.CylinderOptionsDocument,
    "\n  fragment ProgrammingJobRow on ProgrammingJob {\n    id\n    status\n    createdAt\n    cylinder {\n      id\n      marking\n      securityRelevant\n    }\n    changes {\n      op\n      key {\n        id\n        marking\n      }\n      group {\n        id\n        name\n      }\n      cylinderGroup {\n        id\n        name\n      }\n    }\n    assignee {\n      marking\n    }\n  }\n": types.ProgrammingJobRowFragmentDoc,
    "\n  query AwaitingApproval {\n    readoutRequests(status: [AWAITING_APPROVAL]) {\n      id\n      reason\n      status\n      requestedAt\n      requestedBy {\n        marking\n      }\n      target {\n        id\n        ... on Key {\n          marking\n        }\n        ... on Cylinder {\n          marking\n        }\n        ... on RemoteDevice {\n          serial\n        }\n      }\n    }\n  }\n": types.AwaitingApprovalDocument,
    "\n  query KeysPage($filter: KeyFilter, $first: Int, $after: String) {\n    keys(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          type\n          generation\n          status\n          holder {\n            firstName\n            lastName\n          }\n          domain {\n            name\n          }\n          validity {\n            alwaysValid\n            validUntil\n          }\n        }\n      }\n    }\n  }\n": types.KeysPageDocument,
    "\n  mutation SignInWithLink($input: SignInWithLinkInput!) {\n    signInWithLink(input: $input) {\n      signedIn\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.SignInWithLinkDocument,
    "\n  mutation StartBridgeLogin($input: StartBridgeLoginInput!) {\n    startBridgeLogin(input: $input) {\n      loginId\n      secret\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.StartBridgeLoginDocument,
    "\n  mutation FinishBridgeLogin($input: FinishBridgeLoginInput!) {\n    finishBridgeLogin(input: $input) {\n      status\n      errorCode\n      errorMessage\n    }\n  }\n": types.FinishBridgeLoginDocument,
    "\n  fragment AccessProfileRow on AccessProfile {\n    id\n    name\n    extensionIntervalHours\n    schedule {\n      id\n      name\n    }\n    cylinders {\n      id\n      marking\n      domain {\n        name\n      }\n    }\n  }\n": types.AccessProfileRowFragmentDoc,
    "\n  fragment AccessProfileOutcome on AccessProfilePayload {\n    accessProfile {\n      ...AccessProfileRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": types.AccessProfileOutcomeFragmentDoc,
    "\n  query ScheduleOptions {\n    schedules {\n      id\n      name\n    }\n  }\n": types.ScheduleOptionsDocument,
    "\n  mutation CreateAccessProfile($input: CreateAccessProfileInput!) {\n    createAccessProfile(input: $input) {\n      ...AccessProfileOutcome\n    }\n  }\n": types.CreateAccessProfileDocument,
    "\n  mutation UpdateAccessProfile($input: UpdateAccessProfileInput!) {\n    updateAccessProfile(input: $input) {\n      ...AccessProfileOutcome\n    }\n  }\n": types.UpdateAccessProfileDocument,
    "\n  query AccessProfiles {\n    accessProfiles {\n      ...AccessProfileRow\n    }\n  }\n": types.AccessProfilesDocument,
    "\n  mutation DeleteAccessProfile($input: DeleteInput!) {\n    deleteAccessProfile(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.DeleteAccessProfileDocument,
    "\n  query AuditTrailPage($filter: AuditEventFilter, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          at\n          result\n          key {\n            id\n            marking\n          }\n          cylinder {\n            id\n            marking\n          }\n        }\n      }\n    }\n  }\n": types.AuditTrailPageDocument,
    "\n  query AuditFilterLabels($ids: [ID!]!) {\n    nodes(ids: $ids) {\n      ... on Key {\n        id\n        marking\n      }\n      ... on Cylinder {\n        id\n        marking\n      }\n    }\n  }\n": types.AuditFilterLabelsDocument,
    "\n  fragment CylinderCardCylinder on Cylinder {\n    id\n    marking\n    uid\n    status\n    securityRelevant\n    isClone\n    needsReprogramming\n    domain {\n      id\n      name\n    }\n    accessList {\n      desired\n      programmed\n      key {\n        id\n        marking\n        type\n        holder {\n          firstName\n          lastName\n        }\n      }\n      group {\n        id\n        name\n      }\n      cylinderGroup {\n        id\n        name\n      }\n    }\n  }\n": types.CylinderCardCylinderFragmentDoc,
    "\n  query CylinderCard($id: ID!) {\n    node(id: $id) {\n      __typename\n      ...CylinderCardCylinder\n    }\n    tenant {\n      approverFunction\n    }\n  }\n": types.CylinderCardDocument,
    "\n  query CylinderAuditTrail($filter: AuditEventFilter!, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          at\n          result\n          key {\n            id\n            marking\n          }\n        }\n      }\n    }\n  }\n": types.CylinderAuditTrailDocument,
    "\n  mutation RequestReadout($input: RequestReadoutInput!) {\n    requestReadout(input: $input) {\n      readoutRequest {\n        id\n        status\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.RequestReadoutDocument,
    "\n  query CylindersPage($filter: CylinderFilter, $first: Int, $after: String) {\n    cylinders(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          status\n          securityRelevant\n          needsReprogramming\n          isClone\n          domain {\n            name\n          }\n        }\n      }\n    }\n  }\n": types.CylindersPageDocument,
    "\n  query KeyGroupOptions {\n    keyGroups {\n      id\n      name\n    }\n  }\n": types.KeyGroupOptionsDocument,
    "\n  mutation ChangeAuthorizations($input: ChangeAuthorizationsInput!) {\n    changeAuthorizations(input: $input) {\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      unchangedCylinders {\n        id\n        marking\n      }\n      skippedCylinders {\n        cylinder {\n          id\n          marking\n        }\n        code\n        message\n      }\n      warnings {\n        code\n        message\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.ChangeAuthorizationsDocument,
    "\n  query Dashboard {\n    dashboard {\n      keyCount\n      cylinderCount\n      employeeCount\n      offlineDevices\n      waitingJobs {\n        domain {\n          id\n          name\n        }\n        waiting\n      }\n      expiringKeys {\n        count\n        first {\n          id\n          marking\n          validity {\n            validUntil\n          }\n        }\n      }\n      blockingList {\n        keys\n        limit\n        warnAt\n      }\n      auditEventsPerDay {\n        day\n        events\n      }\n    }\n  }\n": types.DashboardDocument,
    "\n  fragment EmployeeRow on Employee {\n    id\n    employeeNumber\n    firstName\n    lastName\n    email\n    department\n    phone\n    domain {\n      id\n      name\n    }\n    keys {\n      id\n    }\n    accessProfiles {\n      id\n      name\n    }\n  }\n": types.EmployeeRowFragmentDoc,
    "\n  fragment EmployeeOutcome on EmployeePayload {\n    employee {\n      ...EmployeeRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": types.EmployeeOutcomeFragmentDoc,
    "\n  mutation CreateEmployee($input: CreateEmployeeInput!) {\n    createEmployee(input: $input) {\n      ...EmployeeOutcome\n    }\n  }\n": types.CreateEmployeeDocument,
    "\n  mutation UpdateEmployee($input: UpdateEmployeeInput!) {\n    updateEmployee(input: $input) {\n      ...EmployeeOutcome\n    }\n  }\n": types.UpdateEmployeeDocument,
    "\n  query AccessProfileOptions {\n    accessProfiles {\n      id\n      name\n    }\n  }\n": types.AccessProfileOptionsDocument,
    "\n  mutation ImportEmployees($input: ImportFileInput!) {\n    importEmployees(input: $input) {\n      validCount\n      invalidRows {\n        line\n        message\n      }\n      created\n      updated\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.ImportEmployeesDocument,
    "\n  query EmployeesPage($search: String, $first: Int, $after: String) {\n    employees(search: $search, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...EmployeeRow\n        }\n      }\n    }\n  }\n": types.EmployeesPageDocument,
    "\n  mutation DeleteEmployee($input: EmployeeIdInput!) {\n    deleteEmployee(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.DeleteEmployeeDocument,
    "\n  fragment CylinderGroupRow on CylinderGroup {\n    id\n    name\n    cylinders {\n      id\n      marking\n      domain {\n        name\n      }\n    }\n  }\n": types.CylinderGroupRowFragmentDoc,
    "\n  fragment CylinderGroupOutcome on CylinderGroupPayload {\n    cylinderGroup {\n      ...CylinderGroupRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": types.CylinderGroupOutcomeFragmentDoc,
    "\n  mutation CreateCylinderGroup($input: CreateCylinderGroupInput!) {\n    createCylinderGroup(input: $input) {\n      ...CylinderGroupOutcome\n    }\n  }\n": types.CreateCylinderGroupDocument,
    "\n  mutation UpdateCylinderGroup($input: UpdateCylinderGroupInput!) {\n    updateCylinderGroup(input: $input) {\n      ...CylinderGroupOutcome\n    }\n  }\n": types.UpdateCylinderGroupDocument,
    "\n  query CylinderGroups {\n    cylinderGroups {\n      ...CylinderGroupRow\n    }\n  }\n": types.CylinderGroupsDocument,
    "\n  mutation DeleteCylinderGroup($input: DeleteInput!) {\n    deleteCylinderGroup(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.DeleteCylinderGroupDocument,
    "\n  fragment KeyGroupRow on KeyGroup {\n    id\n    name\n    keys {\n      id\n      marking\n      type\n    }\n  }\n": types.KeyGroupRowFragmentDoc,
    "\n  fragment KeyGroupOutcome on KeyGroupPayload {\n    keyGroup {\n      ...KeyGroupRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    remoteJobs {\n      id\n      kind\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": types.KeyGroupOutcomeFragmentDoc,
    "\n  mutation CreateKeyGroup($input: CreateKeyGroupInput!) {\n    createKeyGroup(input: $input) {\n      ...KeyGroupOutcome\n    }\n  }\n": types.CreateKeyGroupDocument,
    "\n  mutation UpdateKeyGroup($input: UpdateKeyGroupInput!) {\n    updateKeyGroup(input: $input) {\n      ...KeyGroupOutcome\n    }\n  }\n": types.UpdateKeyGroupDocument,
    "\n  query KeyGroups {\n    keyGroups {\n      ...KeyGroupRow\n    }\n  }\n": types.KeyGroupsDocument,
    "\n  mutation DeleteKeyGroup($input: DeleteInput!) {\n    deleteKeyGroup(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.DeleteKeyGroupDocument,
    "\n  mutation AssignJobs($input: AssignProgrammingJobsInput!) {\n    assignProgrammingJobs(input: $input) {\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      warnings {\n        code\n        message\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.AssignJobsDocument,
    "\n  query ProgrammingKeyOptions {\n    programmingKeys {\n      id\n      marking\n      kind\n      holder {\n        firstName\n        lastName\n      }\n    }\n  }\n": types.ProgrammingKeyOptionsDocument,
    "\n  subscription JobEvents {\n    jobEvents {\n      at\n      programmingJob {\n        ...ProgrammingJobRow\n      }\n    }\n  }\n": types.JobEventsDocument,
    "\n  mutation CopyKeyConfiguration($input: CopyKeyConfigurationInput!) {\n    copyKeyConfiguration(input: $input) {\n      key {\n        id\n        marking\n      }\n      copied {\n        what\n        detail\n      }\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.CopyKeyConfigurationDocument,
    "\n  query KeyFormOptions {\n    schedules {\n      id\n      name\n    }\n    accessProfiles {\n      id\n      name\n    }\n  }\n": types.KeyFormOptionsDocument,
    "\n  mutation IssueKey($input: IssueKeyInput!) {\n    issueKey(input: $input) {\n      ...KeyOutcome\n    }\n  }\n": types.IssueKeyDocument,
    "\n  mutation ReturnKey($input: KeyIdInput!) {\n    returnKey(input: $input) {\n      ...KeyOutcome\n    }\n  }\n": types.ReturnKeyDocument,
    "\n  mutation ReportKeyDefective($input: KeyIdInput!) {\n    reportKeyDefective(input: $input) {\n      ...KeyOutcome\n    }\n  }\n": types.ReportKeyDefectiveDocument,
    "\n  fragment KeyCardKey on Key {\n    id\n    marking\n    uid\n    type\n    generation\n    firmwareVersion\n    status\n    auditReadoutEnabled\n    extensionIntervalHours\n    domain {\n      id\n      name\n    }\n    holder {\n      id\n      firstName\n      lastName\n      employeeNumber\n      accessProfiles {\n        id\n        name\n      }\n    }\n    validity {\n      alwaysValid\n      validFrom\n      validUntil\n    }\n    schedule {\n      id\n      name\n    }\n    accessProfiles {\n      id\n      name\n    }\n    groups {\n      id\n      name\n    }\n    authorizations {\n      via\n      programmed\n      effectiveExtensionIntervalHours\n      cylinder {\n        id\n        marking\n        securityRelevant\n        domain {\n          id\n          name\n        }\n      }\n      schedule {\n        id\n        name\n      }\n    }\n  }\n": types.KeyCardKeyFragmentDoc,
    "\n  query KeyCard($id: ID!) {\n    node(id: $id) {\n      __typename\n      ...KeyCardKey\n    }\n  }\n": types.KeyCardDocument,
    "\n  query KeyRemoteJobs($id: ID!, $first: Int, $after: String) {\n    node(id: $id) {\n      __typename\n      ... on Key {\n        id\n        remoteJobs(first: $first, after: $after) {\n          totalCount\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          edges {\n            node {\n              id\n              kind\n              status\n              createdAt\n              completedAt\n              deliveredVia {\n                name\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n": types.KeyRemoteJobsDocument,
    "\n  query KeyBlockingList {\n    blockingList {\n      version\n      issuedAt\n      validUntil\n      keyUids\n    }\n  }\n": types.KeyBlockingListDocument,
    "\n  fragment KeyOutcome on KeyPayload {\n    key {\n      id\n      marking\n      status\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    remoteJobs {\n      id\n      kind\n      status\n    }\n    warnings {\n      code\n      message\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": types.KeyOutcomeFragmentDoc,
    "\n  mutation ReportKeyLost($input: ReportKeyLostInput!) {\n    reportKeyLost(input: $input) {\n      ...KeyOutcome\n    }\n  }\n": types.ReportKeyLostDocument,
    "\n  fragment ScheduleRow on Schedule {\n    id\n    name\n    windows {\n      days\n      start\n      end\n    }\n  }\n": types.ScheduleRowFragmentDoc,
    "\n  fragment ScheduleOutcome on SchedulePayload {\n    schedule {\n      ...ScheduleRow\n    }\n    remoteJobs {\n      id\n      kind\n      status\n      key {\n        id\n        marking\n      }\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n": types.ScheduleOutcomeFragmentDoc,
    "\n  mutation CreateSchedule($input: CreateScheduleInput!) {\n    createSchedule(input: $input) {\n      ...ScheduleOutcome\n    }\n  }\n": types.CreateScheduleDocument,
    "\n  mutation UpdateSchedule($input: UpdateScheduleInput!) {\n    updateSchedule(input: $input) {\n      ...ScheduleOutcome\n    }\n  }\n": types.UpdateScheduleDocument,
    "\n  query Schedules {\n    schedules {\n      ...ScheduleRow\n    }\n  }\n": types.SchedulesDocument,
    "\n  mutation DeleteSchedule($input: DeleteInput!) {\n    deleteSchedule(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.DeleteScheduleDocument,
    "\n  query Viewer {\n    tenant {\n      name\n    }\n    me {\n      marking\n      holder {\n        firstName\n        lastName\n      }\n      roles {\n        name\n      }\n    }\n    myRights\n  }\n": types.ViewerDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignOut {\n    logout {\n      loggedOut\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation SignOut {\n    logout {\n      loggedOut\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Domains {\n    domains {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query Domains {\n    domains {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OpenJobs($filter: ProgrammingJobFilter!, $first: Int, $after: String) {\n    programmingJobs(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...ProgrammingJobRow\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query OpenJobs($filter: ProgrammingJobFilter!, $first: Int, $after: String) {\n    programmingJobs(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...ProgrammingJobRow\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyOptions($search: String, $first: Int) {\n    keys(filter: { search: $search }, first: $first) {\n      edges {\n        node {\n          id\n          marking\n          type\n          status\n          holder {\n            firstName\n            lastName\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query KeyOptions($search: String, $first: Int) {\n    keys(filter: { search: $search }, first: $first) {\n      edges {\n        node {\n          id\n          marking\n          type\n          status\n          holder {\n            firstName\n            lastName\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EmployeeOptions($search: String, $first: Int) {\n    employees(search: $search, first: $first) {\n      edges {\n        node {\n          id\n          employeeNumber\n          firstName\n          lastName\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query EmployeeOptions($search: String, $first: Int) {\n    employees(search: $search, first: $first) {\n      edges {\n        node {\n          id\n          employeeNumber\n          firstName\n          lastName\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CylinderOptions($search: String, $first: Int) {\n    cylinders(filter: { search: $search }, first: $first) {\n      edges {\n        node {\n          id\n          marking\n          domain {\n            name\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CylinderOptions($search: String, $first: Int) {\n    cylinders(filter: { search: $search }, first: $first) {\n      edges {\n        node {\n          id\n          marking\n          domain {\n            name\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ProgrammingJobRow on ProgrammingJob {\n    id\n    status\n    createdAt\n    cylinder {\n      id\n      marking\n      securityRelevant\n    }\n    changes {\n      op\n      key {\n        id\n        marking\n      }\n      group {\n        id\n        name\n      }\n      cylinderGroup {\n        id\n        name\n      }\n    }\n    assignee {\n      marking\n    }\n  }\n"): (typeof documents)["\n  fragment ProgrammingJobRow on ProgrammingJob {\n    id\n    status\n    createdAt\n    cylinder {\n      id\n      marking\n      securityRelevant\n    }\n    changes {\n      op\n      key {\n        id\n        marking\n      }\n      group {\n        id\n        name\n      }\n      cylinderGroup {\n        id\n        name\n      }\n    }\n    assignee {\n      marking\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AwaitingApproval {\n    readoutRequests(status: [AWAITING_APPROVAL]) {\n      id\n      reason\n      status\n      requestedAt\n      requestedBy {\n        marking\n      }\n      target {\n        id\n        ... on Key {\n          marking\n        }\n        ... on Cylinder {\n          marking\n        }\n        ... on RemoteDevice {\n          serial\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AwaitingApproval {\n    readoutRequests(status: [AWAITING_APPROVAL]) {\n      id\n      reason\n      status\n      requestedAt\n      requestedBy {\n        marking\n      }\n      target {\n        id\n        ... on Key {\n          marking\n        }\n        ... on Cylinder {\n          marking\n        }\n        ... on RemoteDevice {\n          serial\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeysPage($filter: KeyFilter, $first: Int, $after: String) {\n    keys(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          type\n          generation\n          status\n          holder {\n            firstName\n            lastName\n          }\n          domain {\n            name\n          }\n          validity {\n            alwaysValid\n            validUntil\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query KeysPage($filter: KeyFilter, $first: Int, $after: String) {\n    keys(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          type\n          generation\n          status\n          holder {\n            firstName\n            lastName\n          }\n          domain {\n            name\n          }\n          validity {\n            alwaysValid\n            validUntil\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignInWithLink($input: SignInWithLinkInput!) {\n    signInWithLink(input: $input) {\n      signedIn\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation SignInWithLink($input: SignInWithLinkInput!) {\n    signInWithLink(input: $input) {\n      signedIn\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartBridgeLogin($input: StartBridgeLoginInput!) {\n    startBridgeLogin(input: $input) {\n      loginId\n      secret\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation StartBridgeLogin($input: StartBridgeLoginInput!) {\n    startBridgeLogin(input: $input) {\n      loginId\n      secret\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation FinishBridgeLogin($input: FinishBridgeLoginInput!) {\n    finishBridgeLogin(input: $input) {\n      status\n      errorCode\n      errorMessage\n    }\n  }\n"): (typeof documents)["\n  mutation FinishBridgeLogin($input: FinishBridgeLoginInput!) {\n    finishBridgeLogin(input: $input) {\n      status\n      errorCode\n      errorMessage\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AccessProfileRow on AccessProfile {\n    id\n    name\n    extensionIntervalHours\n    schedule {\n      id\n      name\n    }\n    cylinders {\n      id\n      marking\n      domain {\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment AccessProfileRow on AccessProfile {\n    id\n    name\n    extensionIntervalHours\n    schedule {\n      id\n      name\n    }\n    cylinders {\n      id\n      marking\n      domain {\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AccessProfileOutcome on AccessProfilePayload {\n    accessProfile {\n      ...AccessProfileRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"): (typeof documents)["\n  fragment AccessProfileOutcome on AccessProfilePayload {\n    accessProfile {\n      ...AccessProfileRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ScheduleOptions {\n    schedules {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query ScheduleOptions {\n    schedules {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateAccessProfile($input: CreateAccessProfileInput!) {\n    createAccessProfile(input: $input) {\n      ...AccessProfileOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation CreateAccessProfile($input: CreateAccessProfileInput!) {\n    createAccessProfile(input: $input) {\n      ...AccessProfileOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateAccessProfile($input: UpdateAccessProfileInput!) {\n    updateAccessProfile(input: $input) {\n      ...AccessProfileOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateAccessProfile($input: UpdateAccessProfileInput!) {\n    updateAccessProfile(input: $input) {\n      ...AccessProfileOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AccessProfiles {\n    accessProfiles {\n      ...AccessProfileRow\n    }\n  }\n"): (typeof documents)["\n  query AccessProfiles {\n    accessProfiles {\n      ...AccessProfileRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteAccessProfile($input: DeleteInput!) {\n    deleteAccessProfile(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteAccessProfile($input: DeleteInput!) {\n    deleteAccessProfile(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditTrailPage($filter: AuditEventFilter, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          at\n          result\n          key {\n            id\n            marking\n          }\n          cylinder {\n            id\n            marking\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditTrailPage($filter: AuditEventFilter, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          at\n          result\n          key {\n            id\n            marking\n          }\n          cylinder {\n            id\n            marking\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditFilterLabels($ids: [ID!]!) {\n    nodes(ids: $ids) {\n      ... on Key {\n        id\n        marking\n      }\n      ... on Cylinder {\n        id\n        marking\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditFilterLabels($ids: [ID!]!) {\n    nodes(ids: $ids) {\n      ... on Key {\n        id\n        marking\n      }\n      ... on Cylinder {\n        id\n        marking\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CylinderCardCylinder on Cylinder {\n    id\n    marking\n    uid\n    status\n    securityRelevant\n    isClone\n    needsReprogramming\n    domain {\n      id\n      name\n    }\n    accessList {\n      desired\n      programmed\n      key {\n        id\n        marking\n        type\n        holder {\n          firstName\n          lastName\n        }\n      }\n      group {\n        id\n        name\n      }\n      cylinderGroup {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment CylinderCardCylinder on Cylinder {\n    id\n    marking\n    uid\n    status\n    securityRelevant\n    isClone\n    needsReprogramming\n    domain {\n      id\n      name\n    }\n    accessList {\n      desired\n      programmed\n      key {\n        id\n        marking\n        type\n        holder {\n          firstName\n          lastName\n        }\n      }\n      group {\n        id\n        name\n      }\n      cylinderGroup {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CylinderCard($id: ID!) {\n    node(id: $id) {\n      __typename\n      ...CylinderCardCylinder\n    }\n    tenant {\n      approverFunction\n    }\n  }\n"): (typeof documents)["\n  query CylinderCard($id: ID!) {\n    node(id: $id) {\n      __typename\n      ...CylinderCardCylinder\n    }\n    tenant {\n      approverFunction\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CylinderAuditTrail($filter: AuditEventFilter!, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          at\n          result\n          key {\n            id\n            marking\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CylinderAuditTrail($filter: AuditEventFilter!, $first: Int, $after: String) {\n    auditEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          at\n          result\n          key {\n            id\n            marking\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestReadout($input: RequestReadoutInput!) {\n    requestReadout(input: $input) {\n      readoutRequest {\n        id\n        status\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RequestReadout($input: RequestReadoutInput!) {\n    requestReadout(input: $input) {\n      readoutRequest {\n        id\n        status\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CylindersPage($filter: CylinderFilter, $first: Int, $after: String) {\n    cylinders(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          status\n          securityRelevant\n          needsReprogramming\n          isClone\n          domain {\n            name\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CylindersPage($filter: CylinderFilter, $first: Int, $after: String) {\n    cylinders(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          status\n          securityRelevant\n          needsReprogramming\n          isClone\n          domain {\n            name\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyGroupOptions {\n    keyGroups {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query KeyGroupOptions {\n    keyGroups {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangeAuthorizations($input: ChangeAuthorizationsInput!) {\n    changeAuthorizations(input: $input) {\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      unchangedCylinders {\n        id\n        marking\n      }\n      skippedCylinders {\n        cylinder {\n          id\n          marking\n        }\n        code\n        message\n      }\n      warnings {\n        code\n        message\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ChangeAuthorizations($input: ChangeAuthorizationsInput!) {\n    changeAuthorizations(input: $input) {\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      unchangedCylinders {\n        id\n        marking\n      }\n      skippedCylinders {\n        cylinder {\n          id\n          marking\n        }\n        code\n        message\n      }\n      warnings {\n        code\n        message\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Dashboard {\n    dashboard {\n      keyCount\n      cylinderCount\n      employeeCount\n      offlineDevices\n      waitingJobs {\n        domain {\n          id\n          name\n        }\n        waiting\n      }\n      expiringKeys {\n        count\n        first {\n          id\n          marking\n          validity {\n            validUntil\n          }\n        }\n      }\n      blockingList {\n        keys\n        limit\n        warnAt\n      }\n      auditEventsPerDay {\n        day\n        events\n      }\n    }\n  }\n"): (typeof documents)["\n  query Dashboard {\n    dashboard {\n      keyCount\n      cylinderCount\n      employeeCount\n      offlineDevices\n      waitingJobs {\n        domain {\n          id\n          name\n        }\n        waiting\n      }\n      expiringKeys {\n        count\n        first {\n          id\n          marking\n          validity {\n            validUntil\n          }\n        }\n      }\n      blockingList {\n        keys\n        limit\n        warnAt\n      }\n      auditEventsPerDay {\n        day\n        events\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment EmployeeRow on Employee {\n    id\n    employeeNumber\n    firstName\n    lastName\n    email\n    department\n    phone\n    domain {\n      id\n      name\n    }\n    keys {\n      id\n    }\n    accessProfiles {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  fragment EmployeeRow on Employee {\n    id\n    employeeNumber\n    firstName\n    lastName\n    email\n    department\n    phone\n    domain {\n      id\n      name\n    }\n    keys {\n      id\n    }\n    accessProfiles {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment EmployeeOutcome on EmployeePayload {\n    employee {\n      ...EmployeeRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"): (typeof documents)["\n  fragment EmployeeOutcome on EmployeePayload {\n    employee {\n      ...EmployeeRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateEmployee($input: CreateEmployeeInput!) {\n    createEmployee(input: $input) {\n      ...EmployeeOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation CreateEmployee($input: CreateEmployeeInput!) {\n    createEmployee(input: $input) {\n      ...EmployeeOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateEmployee($input: UpdateEmployeeInput!) {\n    updateEmployee(input: $input) {\n      ...EmployeeOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateEmployee($input: UpdateEmployeeInput!) {\n    updateEmployee(input: $input) {\n      ...EmployeeOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AccessProfileOptions {\n    accessProfiles {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query AccessProfileOptions {\n    accessProfiles {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ImportEmployees($input: ImportFileInput!) {\n    importEmployees(input: $input) {\n      validCount\n      invalidRows {\n        line\n        message\n      }\n      created\n      updated\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ImportEmployees($input: ImportFileInput!) {\n    importEmployees(input: $input) {\n      validCount\n      invalidRows {\n        line\n        message\n      }\n      created\n      updated\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EmployeesPage($search: String, $first: Int, $after: String) {\n    employees(search: $search, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...EmployeeRow\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query EmployeesPage($search: String, $first: Int, $after: String) {\n    employees(search: $search, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...EmployeeRow\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteEmployee($input: EmployeeIdInput!) {\n    deleteEmployee(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteEmployee($input: EmployeeIdInput!) {\n    deleteEmployee(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CylinderGroupRow on CylinderGroup {\n    id\n    name\n    cylinders {\n      id\n      marking\n      domain {\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment CylinderGroupRow on CylinderGroup {\n    id\n    name\n    cylinders {\n      id\n      marking\n      domain {\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CylinderGroupOutcome on CylinderGroupPayload {\n    cylinderGroup {\n      ...CylinderGroupRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"): (typeof documents)["\n  fragment CylinderGroupOutcome on CylinderGroupPayload {\n    cylinderGroup {\n      ...CylinderGroupRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateCylinderGroup($input: CreateCylinderGroupInput!) {\n    createCylinderGroup(input: $input) {\n      ...CylinderGroupOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation CreateCylinderGroup($input: CreateCylinderGroupInput!) {\n    createCylinderGroup(input: $input) {\n      ...CylinderGroupOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateCylinderGroup($input: UpdateCylinderGroupInput!) {\n    updateCylinderGroup(input: $input) {\n      ...CylinderGroupOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateCylinderGroup($input: UpdateCylinderGroupInput!) {\n    updateCylinderGroup(input: $input) {\n      ...CylinderGroupOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CylinderGroups {\n    cylinderGroups {\n      ...CylinderGroupRow\n    }\n  }\n"): (typeof documents)["\n  query CylinderGroups {\n    cylinderGroups {\n      ...CylinderGroupRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteCylinderGroup($input: DeleteInput!) {\n    deleteCylinderGroup(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteCylinderGroup($input: DeleteInput!) {\n    deleteCylinderGroup(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment KeyGroupRow on KeyGroup {\n    id\n    name\n    keys {\n      id\n      marking\n      type\n    }\n  }\n"): (typeof documents)["\n  fragment KeyGroupRow on KeyGroup {\n    id\n    name\n    keys {\n      id\n      marking\n      type\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment KeyGroupOutcome on KeyGroupPayload {\n    keyGroup {\n      ...KeyGroupRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    remoteJobs {\n      id\n      kind\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"): (typeof documents)["\n  fragment KeyGroupOutcome on KeyGroupPayload {\n    keyGroup {\n      ...KeyGroupRow\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    remoteJobs {\n      id\n      kind\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateKeyGroup($input: CreateKeyGroupInput!) {\n    createKeyGroup(input: $input) {\n      ...KeyGroupOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation CreateKeyGroup($input: CreateKeyGroupInput!) {\n    createKeyGroup(input: $input) {\n      ...KeyGroupOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateKeyGroup($input: UpdateKeyGroupInput!) {\n    updateKeyGroup(input: $input) {\n      ...KeyGroupOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateKeyGroup($input: UpdateKeyGroupInput!) {\n    updateKeyGroup(input: $input) {\n      ...KeyGroupOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyGroups {\n    keyGroups {\n      ...KeyGroupRow\n    }\n  }\n"): (typeof documents)["\n  query KeyGroups {\n    keyGroups {\n      ...KeyGroupRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteKeyGroup($input: DeleteInput!) {\n    deleteKeyGroup(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteKeyGroup($input: DeleteInput!) {\n    deleteKeyGroup(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AssignJobs($input: AssignProgrammingJobsInput!) {\n    assignProgrammingJobs(input: $input) {\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      warnings {\n        code\n        message\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation AssignJobs($input: AssignProgrammingJobsInput!) {\n    assignProgrammingJobs(input: $input) {\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      warnings {\n        code\n        message\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProgrammingKeyOptions {\n    programmingKeys {\n      id\n      marking\n      kind\n      holder {\n        firstName\n        lastName\n      }\n    }\n  }\n"): (typeof documents)["\n  query ProgrammingKeyOptions {\n    programmingKeys {\n      id\n      marking\n      kind\n      holder {\n        firstName\n        lastName\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobEvents {\n    jobEvents {\n      at\n      programmingJob {\n        ...ProgrammingJobRow\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription JobEvents {\n    jobEvents {\n      at\n      programmingJob {\n        ...ProgrammingJobRow\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CopyKeyConfiguration($input: CopyKeyConfigurationInput!) {\n    copyKeyConfiguration(input: $input) {\n      key {\n        id\n        marking\n      }\n      copied {\n        what\n        detail\n      }\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CopyKeyConfiguration($input: CopyKeyConfigurationInput!) {\n    copyKeyConfiguration(input: $input) {\n      key {\n        id\n        marking\n      }\n      copied {\n        what\n        detail\n      }\n      programmingJobs {\n        ...ProgrammingJobRow\n      }\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyFormOptions {\n    schedules {\n      id\n      name\n    }\n    accessProfiles {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query KeyFormOptions {\n    schedules {\n      id\n      name\n    }\n    accessProfiles {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation IssueKey($input: IssueKeyInput!) {\n    issueKey(input: $input) {\n      ...KeyOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation IssueKey($input: IssueKeyInput!) {\n    issueKey(input: $input) {\n      ...KeyOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReturnKey($input: KeyIdInput!) {\n    returnKey(input: $input) {\n      ...KeyOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation ReturnKey($input: KeyIdInput!) {\n    returnKey(input: $input) {\n      ...KeyOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReportKeyDefective($input: KeyIdInput!) {\n    reportKeyDefective(input: $input) {\n      ...KeyOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation ReportKeyDefective($input: KeyIdInput!) {\n    reportKeyDefective(input: $input) {\n      ...KeyOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment KeyCardKey on Key {\n    id\n    marking\n    uid\n    type\n    generation\n    firmwareVersion\n    status\n    auditReadoutEnabled\n    extensionIntervalHours\n    domain {\n      id\n      name\n    }\n    holder {\n      id\n      firstName\n      lastName\n      employeeNumber\n      accessProfiles {\n        id\n        name\n      }\n    }\n    validity {\n      alwaysValid\n      validFrom\n      validUntil\n    }\n    schedule {\n      id\n      name\n    }\n    accessProfiles {\n      id\n      name\n    }\n    groups {\n      id\n      name\n    }\n    authorizations {\n      via\n      programmed\n      effectiveExtensionIntervalHours\n      cylinder {\n        id\n        marking\n        securityRelevant\n        domain {\n          id\n          name\n        }\n      }\n      schedule {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment KeyCardKey on Key {\n    id\n    marking\n    uid\n    type\n    generation\n    firmwareVersion\n    status\n    auditReadoutEnabled\n    extensionIntervalHours\n    domain {\n      id\n      name\n    }\n    holder {\n      id\n      firstName\n      lastName\n      employeeNumber\n      accessProfiles {\n        id\n        name\n      }\n    }\n    validity {\n      alwaysValid\n      validFrom\n      validUntil\n    }\n    schedule {\n      id\n      name\n    }\n    accessProfiles {\n      id\n      name\n    }\n    groups {\n      id\n      name\n    }\n    authorizations {\n      via\n      programmed\n      effectiveExtensionIntervalHours\n      cylinder {\n        id\n        marking\n        securityRelevant\n        domain {\n          id\n          name\n        }\n      }\n      schedule {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyCard($id: ID!) {\n    node(id: $id) {\n      __typename\n      ...KeyCardKey\n    }\n  }\n"): (typeof documents)["\n  query KeyCard($id: ID!) {\n    node(id: $id) {\n      __typename\n      ...KeyCardKey\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyRemoteJobs($id: ID!, $first: Int, $after: String) {\n    node(id: $id) {\n      __typename\n      ... on Key {\n        id\n        remoteJobs(first: $first, after: $after) {\n          totalCount\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          edges {\n            node {\n              id\n              kind\n              status\n              createdAt\n              completedAt\n              deliveredVia {\n                name\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query KeyRemoteJobs($id: ID!, $first: Int, $after: String) {\n    node(id: $id) {\n      __typename\n      ... on Key {\n        id\n        remoteJobs(first: $first, after: $after) {\n          totalCount\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          edges {\n            node {\n              id\n              kind\n              status\n              createdAt\n              completedAt\n              deliveredVia {\n                name\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyBlockingList {\n    blockingList {\n      version\n      issuedAt\n      validUntil\n      keyUids\n    }\n  }\n"): (typeof documents)["\n  query KeyBlockingList {\n    blockingList {\n      version\n      issuedAt\n      validUntil\n      keyUids\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment KeyOutcome on KeyPayload {\n    key {\n      id\n      marking\n      status\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    remoteJobs {\n      id\n      kind\n      status\n    }\n    warnings {\n      code\n      message\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"): (typeof documents)["\n  fragment KeyOutcome on KeyPayload {\n    key {\n      id\n      marking\n      status\n    }\n    programmingJobs {\n      ...ProgrammingJobRow\n    }\n    remoteJobs {\n      id\n      kind\n      status\n    }\n    warnings {\n      code\n      message\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReportKeyLost($input: ReportKeyLostInput!) {\n    reportKeyLost(input: $input) {\n      ...KeyOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation ReportKeyLost($input: ReportKeyLostInput!) {\n    reportKeyLost(input: $input) {\n      ...KeyOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ScheduleRow on Schedule {\n    id\n    name\n    windows {\n      days\n      start\n      end\n    }\n  }\n"): (typeof documents)["\n  fragment ScheduleRow on Schedule {\n    id\n    name\n    windows {\n      days\n      start\n      end\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ScheduleOutcome on SchedulePayload {\n    schedule {\n      ...ScheduleRow\n    }\n    remoteJobs {\n      id\n      kind\n      status\n      key {\n        id\n        marking\n      }\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"): (typeof documents)["\n  fragment ScheduleOutcome on SchedulePayload {\n    schedule {\n      ...ScheduleRow\n    }\n    remoteJobs {\n      id\n      kind\n      status\n      key {\n        id\n        marking\n      }\n    }\n    errors {\n      field\n      code\n      message\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateSchedule($input: CreateScheduleInput!) {\n    createSchedule(input: $input) {\n      ...ScheduleOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation CreateSchedule($input: CreateScheduleInput!) {\n    createSchedule(input: $input) {\n      ...ScheduleOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateSchedule($input: UpdateScheduleInput!) {\n    updateSchedule(input: $input) {\n      ...ScheduleOutcome\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateSchedule($input: UpdateScheduleInput!) {\n    updateSchedule(input: $input) {\n      ...ScheduleOutcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Schedules {\n    schedules {\n      ...ScheduleRow\n    }\n  }\n"): (typeof documents)["\n  query Schedules {\n    schedules {\n      ...ScheduleRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteSchedule($input: DeleteInput!) {\n    deleteSchedule(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteSchedule($input: DeleteInput!) {\n    deleteSchedule(input: $input) {\n      deletedId\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    tenant {\n      name\n    }\n    me {\n      marking\n      holder {\n        firstName\n        lastName\n      }\n      roles {\n        name\n      }\n    }\n    myRights\n  }\n"): (typeof documents)["\n  query Viewer {\n    tenant {\n      name\n    }\n    me {\n      marking\n      holder {\n        firstName\n        lastName\n      }\n      roles {\n        name\n      }\n    }\n    myRights\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;