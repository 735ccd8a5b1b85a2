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
    "\n  query AwaitingApproval {\n    readoutRequests(status: [AWAITING_APPROVAL]) {\n      id\n      reason\n      status\n      requestedAt\n      requestedBy {\n        marking\n      }\n      target {\n        id\n        ... on Key {\n          marking\n        }\n        ... on Cylinder {\n          marking\n        }\n        ... on RemoteDevice {\n          serial\n        }\n      }\n    }\n  }\n": typeof types.AwaitingApprovalDocument,
    "\n  query KeysPage($filter: KeyFilter, $first: Int, $after: String) {\n    keys(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          type\n          generation\n          status\n          holder {\n            firstName\n            lastName\n          }\n          domain {\n            name\n          }\n          validity {\n            alwaysValid\n            validUntil\n          }\n        }\n      }\n    }\n  }\n": typeof types.KeysPageDocument,
    "\n  query KeyDomains {\n    domains {\n      id\n      name\n    }\n  }\n": typeof types.KeyDomainsDocument,
    "\n  mutation SignInWithLink($input: SignInWithLinkInput!) {\n    signInWithLink(input: $input) {\n      signedIn\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.SignInWithLinkDocument,
    "\n  mutation StartBridgeLogin($input: StartBridgeLoginInput!) {\n    startBridgeLogin(input: $input) {\n      loginId\n      secret\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": typeof types.StartBridgeLoginDocument,
    "\n  mutation FinishBridgeLogin($input: FinishBridgeLoginInput!) {\n    finishBridgeLogin(input: $input) {\n      status\n      errorCode\n      errorMessage\n    }\n  }\n": typeof types.FinishBridgeLoginDocument,
    "\n  query Viewer {\n    tenant {\n      name\n    }\n    me {\n      marking\n      holder {\n        firstName\n        lastName\n      }\n      roles {\n        name\n      }\n    }\n    myRights\n  }\n": typeof types.ViewerDocument,
};
const documents: Documents = {
    "\n  mutation SignOut {\n    logout {\n      loggedOut\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.SignOutDocument,
    "\n  query AwaitingApproval {\n    readoutRequests(status: [AWAITING_APPROVAL]) {\n      id\n      reason\n      status\n      requestedAt\n      requestedBy {\n        marking\n      }\n      target {\n        id\n        ... on Key {\n          marking\n        }\n        ... on Cylinder {\n          marking\n        }\n        ... on RemoteDevice {\n          serial\n        }\n      }\n    }\n  }\n": types.AwaitingApprovalDocument,
    "\n  query KeysPage($filter: KeyFilter, $first: Int, $after: String) {\n    keys(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          type\n          generation\n          status\n          holder {\n            firstName\n            lastName\n          }\n          domain {\n            name\n          }\n          validity {\n            alwaysValid\n            validUntil\n          }\n        }\n      }\n    }\n  }\n": types.KeysPageDocument,
    "\n  query KeyDomains {\n    domains {\n      id\n      name\n    }\n  }\n": types.KeyDomainsDocument,
    "\n  mutation SignInWithLink($input: SignInWithLinkInput!) {\n    signInWithLink(input: $input) {\n      signedIn\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.SignInWithLinkDocument,
    "\n  mutation StartBridgeLogin($input: StartBridgeLoginInput!) {\n    startBridgeLogin(input: $input) {\n      loginId\n      secret\n      errors {\n        field\n        code\n        message\n      }\n    }\n  }\n": types.StartBridgeLoginDocument,
    "\n  mutation FinishBridgeLogin($input: FinishBridgeLoginInput!) {\n    finishBridgeLogin(input: $input) {\n      status\n      errorCode\n      errorMessage\n    }\n  }\n": types.FinishBridgeLoginDocument,
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
export function graphql(source: "\n  query AwaitingApproval {\n    readoutRequests(status: [AWAITING_APPROVAL]) {\n      id\n      reason\n      status\n      requestedAt\n      requestedBy {\n        marking\n      }\n      target {\n        id\n        ... on Key {\n          marking\n        }\n        ... on Cylinder {\n          marking\n        }\n        ... on RemoteDevice {\n          serial\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AwaitingApproval {\n    readoutRequests(status: [AWAITING_APPROVAL]) {\n      id\n      reason\n      status\n      requestedAt\n      requestedBy {\n        marking\n      }\n      target {\n        id\n        ... on Key {\n          marking\n        }\n        ... on Cylinder {\n          marking\n        }\n        ... on RemoteDevice {\n          serial\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeysPage($filter: KeyFilter, $first: Int, $after: String) {\n    keys(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          type\n          generation\n          status\n          holder {\n            firstName\n            lastName\n          }\n          domain {\n            name\n          }\n          validity {\n            alwaysValid\n            validUntil\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query KeysPage($filter: KeyFilter, $first: Int, $after: String) {\n    keys(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          marking\n          type\n          generation\n          status\n          holder {\n            firstName\n            lastName\n          }\n          domain {\n            name\n          }\n          validity {\n            alwaysValid\n            validUntil\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyDomains {\n    domains {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query KeyDomains {\n    domains {\n      id\n      name\n    }\n  }\n"];
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
export function graphql(source: "\n  query Viewer {\n    tenant {\n      name\n    }\n    me {\n      marking\n      holder {\n        firstName\n        lastName\n      }\n      roles {\n        name\n      }\n    }\n    myRights\n  }\n"): (typeof documents)["\n  query Viewer {\n    tenant {\n      name\n    }\n    me {\n      marking\n      holder {\n        firstName\n        lastName\n      }\n      roles {\n        name\n      }\n    }\n    myRights\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;