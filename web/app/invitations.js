// @ts-check
// Invitations: a space's manager invites by e-mail or makes a shareable code; an invitation
// e-mail links to {front end}/invitations/{code}, where this page accepts it once signed in.

/** @import { Schemas } from './types.js' */
import { api, ok } from './session.js';

/**
 * The invitation of an address like /invitations/{code}: null when the address is not one, the
 * code, or `invalid` when the code does not percent-decode (`/invitations/%E0`).
 * @param {string} path
 * @returns {{ code: string } | { invalid: true } | null}
 */
export function invitationCode(path) {
  const m = /^\/invitations\/([^/]+)\/?$/.exec(path);
  if (!m || !m[1]) return null;
  try {
    return { code: decodeURIComponent(m[1]) };
  } catch {
    return { invalid: true };
  }
}

/**
 * E-mail invitations (one per address) or, without addresses, one shareable code.
 * @param {string} spaceId
 * @param {string[]} emails
 * @param {Schemas['InviteRole']} role
 */
export async function invite(spaceId, emails, role) {
  /** @type {Schemas['NewInvitations']} */
  const body = emails.length ? { emails, role } : { role, maxUses: 30 };
  const call = await ok('InvitationList', 'POST', `/spaces/${spaceId}/invitations`, { body }, [201]);
  return call.body.items;
}

/** @param {string} spaceId */
export async function listInvitations(spaceId) {
  return (await ok('InvitationList', 'GET', `/spaces/${spaceId}/invitations`)).body.items;
}

/** The e-mail invitations to the signed-in person. */
export async function myInvitations() {
  return (await ok('InvitationList', 'GET', '/users/me/invitations')).body.items;
}

/** Accepts an invitation: the space joined. @param {string} code */
export async function accept(code) {
  const call = await api('POST', `/invitations/${encodeURIComponent(code)}/accept`);
  return { status: call.status, body: call.body };
}
