import { RequestError } from './decode.js';

/** The credentials a server accepts; none set means any non-empty credential is accepted. */
export interface Credentials {
  /** Project token: required in `/track` and `/engage` records; accepted as Basic user on `/import`. */
  token?: string | undefined;
  /** API secret: accepted on `/import` as `Basic base64(secret:)`. */
  apiSecret?: string | undefined;
  /** Service account: accepted on `/import` with `?project_id=`. */
  serviceAccount?: { username: string; secret: string; projectId: string } | undefined;
}

/** Checks the token a `/track` or `/engage` record carries. */
export function checkRecordToken(token: unknown, credentials: Credentials): void {
  if (typeof token !== 'string' || token.length === 0) throw new RequestError(400, 'token, missing or empty');
  if (credentials.token !== undefined && token !== credentials.token) throw new RequestError(401, 'Invalid token');
}

/** Checks `/import`'s Basic authentication (project token, API secret or service account). */
export function checkImportAuth(
  authorization: string | undefined,
  projectId: string | null,
  credentials: Credentials,
): void {
  const header = authorization ?? '';
  if (!header.startsWith('Basic ')) throw new RequestError(401, 'Basic authentication is required');
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  const { token, apiSecret, serviceAccount } = credentials;
  if (!user) throw new RequestError(401, 'Invalid credentials');
  if (token === undefined && apiSecret === undefined && serviceAccount === undefined) return;
  const ok =
    (serviceAccount !== undefined &&
      user === serviceAccount.username &&
      password === serviceAccount.secret &&
      projectId === serviceAccount.projectId) ||
    (apiSecret !== undefined && user === apiSecret && password === '') ||
    (token !== undefined && user === token && password === '');
  if (!ok) throw new RequestError(401, 'Invalid credentials');
}
