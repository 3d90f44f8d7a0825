/** Requester-site API: `/api/v1/intake`, `/api/v1/requests`, `/api/v1/threads/*`. */
import { Hono } from 'hono';
import { MAX_ENVELOPE_BYTES } from './limits.ts';
import { bytesField, encodeBase64url, objectField, readJsonObject, type JsonObject } from '../http/validate.ts';
import type { IntakeService, Proof } from './intake.service.ts';
import { POW_CHALLENGE_BYTES, POW_NONCE_BYTES } from '../../crypto/v1/pow.ts';
import { ProofError } from './pow.service.ts';

function proofField(body: JsonObject): Proof {
  if (body.pow === undefined) throw new ProofError('proof_required', 'A proof of work is required.');
  const pow = objectField(body, 'pow');
  return {
    challenge: bytesField(pow, 'challenge', { length: POW_CHALLENGE_BYTES }),
    nonce: bytesField(pow, 'nonce', { length: POW_NONCE_BYTES }),
  };
}

export function intakeRoutes(intake: IntakeService) {
  const app = new Hono();

  app.get('/intake', async (c) => {
    const info = await intake.info();
    return c.json({
      organisation: { id: encodeBase64url(info.organisation.id), name: info.organisation.name },
      rootPublicKey: encodeBase64url(info.rootPublicKey),
      rootFingerprint: info.rootFingerprint,
      teams: info.teams.map((t) => ({ id: encodeBase64url(t.id), slug: t.slug, name: t.name, epoch: t.epoch, certificate: encodeBase64url(t.certificate) })),
      pow: { challenge: encodeBase64url(info.challenge) },
    });
  });

  app.get('/pow/challenge', (c) => c.json({ challenge: encodeBase64url(intake.challenge()) }));

  app.post('/requests', async (c) => {
    const body = await readJsonObject(c);
    const envelope = bytesField(body, 'envelope', { maxLength: MAX_ENVELOPE_BYTES });
    const lookupHash = bytesField(body, 'lookupHash', { length: 32 });
    const id = await intake.submit(envelope, lookupHash, proofField(body));
    return c.json({ id: encodeBase64url(id) }, 201);
  });

  app.post('/threads/lookup', async (c) => {
    const body = await readJsonObject(c);
    const thread = await intake.lookup(bytesField(body, 'token', { length: 32 }));
    return c.json({
      messages: thread.messages.map((m) => ({ id: encodeBase64url(m.id), kind: m.kind, position: m.position, blob: encodeBase64url(m.blob) })),
      // The position the next follow-up must sign (0 for an unknown token, like an empty thread).
      nextPosition: thread.nextPosition,
    });
  });

  app.post('/threads/messages', async (c) => {
    const body = await readJsonObject(c);
    const token = bytesField(body, 'token', { length: 32 });
    const envelope = bytesField(body, 'envelope', { maxLength: MAX_ENVELOPE_BYTES });
    const id = await intake.followUp(token, envelope, proofField(body));
    return c.json({ id: encodeBase64url(id) }, 201);
  });

  return app;
}
