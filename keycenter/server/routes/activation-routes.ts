// The activation API, for license servers and scripts: an authorization code
// and lock codes in, a signed key out. Possession of the code authorizes it;
// it is rate-limited per client address and per code; the same request again
// answers the same key. Also a lock-code check the portal's wizard calls as
// a person types, so the check character is verified by the one parser.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { activationAnswerSchema, activationRequestFileSchema, activationRequestSchema, licenseKeyFileSchema } from '../../../protocol/index.ts';
import { checkLockCode } from '../../activation.ts';
import { parseAuthCode } from '../../auth-code.ts';
import { countHit } from '../../rate-limiter.ts';
import { activateRequestFile } from '../../request-file-activation.ts';
import { errorResponses, jsonRequestBody, jsonResponse } from '../api-schemas.ts';
import type { KcEnv } from '../server-env.ts';

const activate = createRoute({
  method: 'post',
  path: '/activations',
  summary: 'Activate an authorization code on the lock codes of one server (or three redundant ones)',
  description:
    'Possession of the code authorizes the request. The same code with the same lock codes again answers the same key. Rate-limited per client address and per code.',
  request: { body: jsonRequestBody(activationRequestSchema) },
  responses: {
    201: jsonResponse(activationAnswerSchema, 'the license key'),
    ...errorResponses(400, 404, 409, 410, 413, 415, 422, 429),
  },
});

const activateRequest = createRoute({
  method: 'post',
  path: '/activation-requests',
  summary: 'Activate from an offline request file (`floe license request`): the file in, the key file out',
  description:
    'For license servers with no route here: a person uploads the signed request file their cluster wrote. It must verify (REQUEST_MALFORMED, ' +
    'REQUEST_SIGNATURE_INVALID when it was edited, REQUEST_LOCK_CODE_UNBOUND); then the code is activated as by POST /activations: the same file ' +
    'again answers the same key. Install the answer with `floe license import --key-file`. Rate-limited as /activations.',
  request: { body: jsonRequestBody(activationRequestFileSchema) },
  responses: {
    201: jsonResponse(licenseKeyFileSchema, 'the key file'),
    ...errorResponses(400, 404, 409, 410, 413, 415, 422, 429),
  },
});

const checkLock = createRoute({
  method: 'post',
  path: '/lock-codes/check',
  summary: 'Check a typed lock code: its canonical form, or LOCK_CODE_TYPO / LOCK_CODE_MALFORMED',
  request: { body: jsonRequestBody(z.object({ lockCode: z.string().max(256) }).strict()) },
  responses: { 200: jsonResponse(z.object({ lockCode: z.string() }), 'the canonical lock code'), ...errorResponses(400, 415, 422) },
});

/** The public routes: activation by code, the lock-code check. */
export function activationRoutes() {
  return new OpenAPIHono<KcEnv>()
    .openapi(activate, async (c) => {
      const body = c.req.valid('json');
      const kc = c.var.kc;
      await countHit(kc.ctx, 'activationPerAddress', c.var.address);
      const code = parseAuthCode(body.authCode);
      await countHit(kc.ctx, 'activationPerCode', code.ok ? code.code : body.authCode.trim().toUpperCase().slice(0, 64));
      const key = await kc.activate(
        { authCode: body.authCode, lockCodes: body.lockCodes, hostDescription: body.hostDescription, seats: body.seats },
        { actor: `api:${c.var.address}` },
      );
      return c.json({ licenseId: key.licenseId, key: key.keyText }, 201);
    })
    .openapi(activateRequest, async (c) => {
      const file = c.req.valid('json');
      const kc = c.var.kc;
      await countHit(kc.ctx, 'activationPerAddress', c.var.address);
      await countHit(kc.ctx, 'activationPerCode', file.request.authCode.trim().toUpperCase().slice(0, 64));
      const answer = await activateRequestFile(kc, file, new URL(c.req.url).origin, { actor: `api:${c.var.address}` });
      return c.json(answer, 201);
    })
    .openapi(checkLock, (c) => c.json({ lockCode: checkLockCode(c.req.valid('json').lockCode) }, 200));
}
