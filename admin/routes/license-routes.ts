// License keys: import (verified here, then installed through the log), list,
// remove, and the licenses the cluster retired (superseded by a newer key, or
// removed by an admin). A refused key answers its code and changes nothing.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AdminDeps } from '../admin-deps.ts';
import { auditStamp, type AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses, jsonRequestBody, jsonResponse } from '../api-schemas.ts';
import { AdminError, statusOfCode } from '../errors.ts';
import { activationRequestFileSchema, licenseKeyFileSchema } from '../../protocol/index.ts';
import { writeActivationRequest } from '../activation-request.ts';
import { activateFromKeyCenter, clusterMembers, installActivatedKey } from '../key-center-activation.ts';
import { readAnswer, readBarrier, readSchema, staleQuerySchema } from '../read-barrier.ts';
import { requireRole } from '../require-role.ts';

/** Characters of a license key, at most (a key is a few hundred). */
const LICENSE_KEY_CHARS_MAX = 20_000;

/** POST /licenses. */
export const licenseImportSchema = z.object({ key: z.string().min(1).max(LICENSE_KEY_CHARS_MAX).openapi({ example: 'FLOE1.eyJ2Ijo…' }) }).strict();

/** What POST /licenses answers. */
export const licenseImportedSchema = z.object({
  licenseId: z.string(),
  features: z.array(z.string()),
  supersededLicenseId: z.string().optional().openapi({ description: 'the installed license this key superseded, removed in the same step' }),
});

/** One retired license, as GET /licenses/retired lists it. */
export const retiredLicenseSchema = z
  .object({
    licenseId: z.string(),
    reason: z.enum(['superseded', 'removed']).openapi({ description: 'superseded: refused for good (SUPERSEDED); removed: an import adds it back, a license file does not' }),
    supersededBy: z.string().optional(),
    retiredAt: z.number().openapi({ description: 'ms since the epoch' }),
  })
  .openapi('RetiredLicense');

/** One installed license, as GET /licenses lists it. */
export const licenseSchema = z
  .object({
    licenseId: z.string(),
    status: z.enum(['pending', 'active', 'expired']),
    features: z.array(z.string()),
    product: z.string(),
    version: z.string(),
    model: z.string(),
    seats: z.number().int(),
    notBefore: z.number().openapi({ description: 'ms since the epoch' }),
    expiresAt: z.number().nullable().openapi({ description: 'ms since the epoch; null: permanent' }),
    lockCodes: z.array(z.string()),
    lockMatch: z.enum(['tolerant', 'exact']).openapi({ description: 'how its tolerant lock codes match a node (docs/lock-codes.md)' }),
    supersedes: z.string().nullable().openapi({ description: 'the license this key superseded' }),
    hostDescription: z.string().nullable(),
    installedAt: z.number(),
    orderNumber: z.string().nullable().openapi({ description: "the vendor's order number, when the key names one" }),
    authCode: z.string().openapi({ description: 'the authorization code the key was activated from' }),
    keyCenterUrl: z.string().nullable().openapi({ description: 'the key center it came from (activate, or a key file); null: imported as a bare key or from a license file' }),
    activatedVia: z.enum(['online', 'offline']).nullable().openapi({ description: 'online: floe license activate; offline: a key file answering a request file' }),
  })
  .openapi('License');

const importLicense = createRoute({
  method: 'post',
  path: '/licenses',
  summary: 'Import a license key (checked on this node, then installed through the log)',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonRequestBody(licenseImportSchema) },
  responses: { 201: jsonResponse(licenseImportedSchema, 'installed'), ...errorResponses(400, 409, 413, 415, 422, 503) },
});

const listLicenses = createRoute({
  method: 'get',
  path: '/licenses',
  summary: 'Every installed license',
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: staleQuerySchema },
  responses: { 200: jsonResponse(readSchema(z.array(licenseSchema)), 'the licenses'), ...errorResponses(400, 503) },
});

const listRetiredLicenses = createRoute({
  method: 'get',
  path: '/licenses/retired',
  summary: 'Licenses superseded by a newer key or removed by an admin, in the order retired',
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: staleQuerySchema },
  responses: { 200: jsonResponse(readSchema(z.array(retiredLicenseSchema)), 'the retired licenses'), ...errorResponses(400, 503) },
});

const removeLicense = createRoute({
  method: 'delete',
  path: '/licenses/{licenseId}',
  summary: 'Remove a license; leases beyond the remaining seats are revoked; it stays removed whatever licenseFiles says (an import adds it back)',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { params: z.object({ licenseId: z.string() }) },
  responses: { 200: jsonResponse(z.object({ licenseId: z.string() }), 'removed'), ...errorResponses(404, 503) },
});

/** Characters of an activation's requestId, at most. */
const ACTIVATION_REQUEST_ID_CHARS_MAX = 64;

/** POST /licenses/activate. */
export const licenseActivateSchema = z
  .object({
    authCode: z.string().min(1).max(64).openapi({ example: 'C9XKP-X9CS0-WH5B3-KZWCP' }),
    keyCenterUrl: z.string().url().regex(/^https?:\/\//).optional().openapi({ description: "the key center to ask; default: the config's keyCenterUrl" }),
    hostDescription: z.string().max(200).optional().openapi({ example: 'License servers, Minneapolis data center' }),
    requestId: z
      .string()
      .min(1)
      .max(ACTIVATION_REQUEST_ID_CHARS_MAX)
      .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, dot, dash, colon, underscore')
      .optional()
      .openapi({
        description:
          'the same id on every retry of one activation: a retry whose first attempt was installed (its answer lost) answers that install instead of ALREADY_ACTIVATED',
        example: '6f1c2c1e-8a7b-4f0e-9d7c-2b8f0e1a9c3d',
      }),
  })
  .strict();

/** What POST /licenses/activate answers. */
export const licenseActivatedSchema = z.object({
  licenseId: z.string(),
  features: z.array(z.string()),
  lockCodes: z.array(z.string()).openapi({ description: "every member's lock code, which the key names" }),
  keyCenterUrl: z.string(),
  supersededLicenseId: z.string().optional().openapi({ description: 'the installed license this key superseded (a renewal or a rehost), removed in the same step' }),
});

const activateLicense = createRoute({
  method: 'post',
  path: '/licenses/activate',
  summary: "Activate an authorization code at the vendor's key center for every member's lock code, and install the key",
  description:
    'Errors: KEY_CENTER_URL_MISSING, CLUSTER_INCOMPLETE (naming the members), LOCK_CODE_DUPLICATE, KEY_CENTER_UNREACHABLE (with the URL and cause), ' +
    "the key center's refusal passed through (ALREADY_ACTIVATED, AUTH_CODE_TYPO, UNKNOWN_AUTH_CODE, SEATS_EXHAUSTED, …), KEY_CENTER_ANSWER_INVALID. Nothing is installed on any of them.",
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonRequestBody(licenseActivateSchema) },
  responses: { 201: jsonResponse(licenseActivatedSchema, 'installed'), ...errorResponses(400, 404, 409, 410, 413, 415, 422, 429, 502, 503) },
});

/** POST /licenses/activation-request. */
export const activationRequestAskSchema = z
  .object({
    authCode: z.string().min(1).max(64).openapi({ example: 'C9XKP-X9CS0-WH5B3-KZWCP' }),
    hostDescription: z.string().max(200).optional().openapi({ example: 'License servers, Minneapolis data center' }),
  })
  .strict();

const writeRequest = createRoute({
  method: 'post',
  path: '/licenses/activation-request',
  summary: 'Write a signed offline activation request: the code, every member\'s lock code and node key, for the key center\'s portal or API',
  description:
    'For a site with no route to the key center. Errors: AUTH_CODE_TYPO, AUTH_CODE_MALFORMED, CLUSTER_INCOMPLETE (naming the members), LOCK_CODE_DUPLICATE, ' +
    'REQUEST_LOCK_CODE_UNBOUND. Changes nothing; the key file the key center answers is installed with POST /licenses/key-file.',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonRequestBody(activationRequestAskSchema) },
  responses: { 201: jsonResponse(activationRequestFileSchema, 'the request file, to save as is'), ...errorResponses(400, 409, 413, 415, 422, 503) },
});

const installKeyFile = createRoute({
  method: 'post',
  path: '/licenses/key-file',
  summary: "Install the key file a key center answered an offline request with, checked like an online activation's answer",
  description:
    "The key must verify here (vendor signature, dates) and name exactly every member's lock code (else LOCK_CODE_MISMATCH); " +
    'one already installed answers ALREADY_ACTIVATED. The key center it names is recorded with the license.',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonRequestBody(licenseKeyFileSchema) },
  responses: { 201: jsonResponse(licenseActivatedSchema, 'installed'), ...errorResponses(400, 409, 410, 413, 415, 422, 503) },
});

/** The license routes. */
export function licenseRoutes({ node }: AdminDeps) {
  return new OpenAPIHono<AdminEnv>()
    .openapi(importLicense, async (c) => {
      const r = await node.importLicense(c.req.valid('json').key, auditStamp(c));
      if (!r.ok) throw new AdminError(statusOfCode(r.code), r.code, r.message);
      return c.json({ licenseId: r.licenseId, features: r.features, ...(r.supersededLicenseId === undefined ? {} : { supersededLicenseId: r.supersededLicenseId }) }, 201);
    })
    .openapi(activateLicense, async (c) => {
      const activated = await activateFromKeyCenter(node, c.req.valid('json'), { timeoutMs: node.config.keyCenterTimeoutMs, audit: auditStamp(c) });
      return c.json(activated, 201);
    })
    .openapi(writeRequest, (c) => c.json(writeActivationRequest(node, c.req.valid('json'), Date.now()), 201))
    .openapi(installKeyFile, async (c) => {
      const file = c.req.valid('json');
      const lockCodes = clusterMembers(node).map((m) => m.lockCode);
      const installed = await installActivatedKey(node, file.key.trim(), lockCodes, { provenance: { keyCenterUrl: file.keyCenterUrl, via: 'offline' }, audit: auditStamp(c) });
      return c.json(installed, 201);
    })
    .openapi(listLicenses, (c) =>
      c.json(
        readAnswer(
          c,
          node.licenses().map((l) => ({
            licenseId: l.licenseId,
            status: l.status,
            features: [...l.features],
            product: l.payload.product,
            version: l.payload.version,
            model: l.payload.model,
            seats: l.payload.seats,
            notBefore: l.payload.notBefore,
            expiresAt: l.payload.expiresAt ?? null,
            lockCodes: [...l.payload.lockCodes],
            lockMatch: l.payload.lockMatch ?? 'tolerant',
            supersedes: l.payload.supersedes ?? null,
            hostDescription: l.payload.hostDescription ?? null,
            installedAt: l.installedAt,
            orderNumber: l.payload.orderNumber ?? null,
            authCode: l.payload.authCode,
            keyCenterUrl: l.provenance?.keyCenterUrl ?? null,
            activatedVia: l.provenance?.via ?? null,
          })),
        ),
        200,
      ),
    )
    .openapi(listRetiredLicenses, (c) => c.json(readAnswer(c, node.retiredLicenses().map((r) => ({ ...r }))), 200))
    .openapi(removeLicense, async (c) => {
      const { licenseId } = c.req.valid('param');
      const r = await node.propose({ type: 'license-remove', licenseId }, auditStamp(c));
      if (!r.reply.ok) throw new AdminError(statusOfCode(r.reply.code), r.reply.code, r.reply.message);
      return c.json({ licenseId }, 200);
    });
}
