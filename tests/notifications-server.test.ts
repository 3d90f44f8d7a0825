/**
 * The notifier inside a running server: it starts with HAVEN_SMTP_URL, a request noted just
 * before SIGTERM still becomes a pending flag (the stop flushes it before the database
 * closes), and a server without HAVEN_SMTP_URL keeps nothing at all.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { openDatabase } from '../api/db/connect.ts';
import { addressKey, sealAddress } from '../api/notifications/address-box.ts';
import { upsertSubscription } from '../api/notifications/notification.repository.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';
import { makeCredentials } from './helpers/responder-client.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealRequest } from './helpers/requester-client.ts';
import { SmtpSink } from './helpers/smtp-sink.ts';

const p = await loadSodiumPrimitives();
const SECRET = 'c3'.repeat(32);

async function optedInMember(live: LiveServer): Promise<void> {
  const { db } = live.server.database;
  const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
  const creds = await makeCredentials(p, 'notify.server');
  const id = await insertAccountDirectly(db, p, creds, 'responder');
  await approveAccount(db, p, live.demo, id, [legal.id]);
  await upsertSubscription(db, id, sealAddress(p, addressKey(p, Buffer.from(SECRET, 'hex')), id, 'member@responders.example'));
}

async function submit(live: LiveServer): Promise<void> {
  const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
  const keys = await requesterKeys(p, `server notify ${base64urlEncode(p.randomBytes(6))}`, live.demo.organisationId);
  const challenge = base64urlDecode(((await (await fetch(new URL('/api/v1/pow/challenge', live.server.requesterUrl))).json()) as { challenge: string }).challenge);
  const res = await fetch(new URL('/api/v1/requests', live.server.requesterUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ envelope: base64urlEncode(sealRequest(p, live.demo, legal, keys, requestBody('server notify', keys))), lookupHash: base64urlEncode(lookupTokenHash(p, keys.lookupToken)), pow: proofFor(p, challenge) }),
  });
  expect(res.status).toBe(201);
}

async function pendingAfterStop(live: LiveServer): Promise<boolean[]> {
  await live.server.stop();
  // The data directory outlives the server until live.stop(): open it again and look.
  const reopened = await openDatabase({ databaseUrl: null, dataDir: live.dataDir });
  try {
    return (await reopened.db.selectFrom('notification_subscriptions').select('pending').execute()).map((r) => r.pending);
  } finally {
    await reopened.close();
  }
}

describe('the notifier in a running server', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await new SmtpSink().start();
  });
  afterAll(async () => {
    await sink.stop();
  });

  it('starts with HAVEN_SMTP_URL and, on stop, writes the flag of a request noted just before', async () => {
    const live = await startLiveServer({
      HAVEN_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, HAVEN_SMTP_REQUIRE_TLS: 'false', HAVEN_NOTIFY_FROM: 'haven@hotline.example', HAVEN_SERVER_SECRET: SECRET,
      HAVEN_NOTIFY_INTERVAL_MINUTES: '1440',
    });
    try {
      expect(live.logLines.some((l) => l.includes('"event":"notify_started"'))).toBe(true);
      await optedInMember(live);
      await submit(live);
      // Stopped at once: the coalescing delay has not passed, so only the stop's flush can write it.
      expect(await pendingAfterStop(live)).toEqual([true]);
      expect(sink.mails).toEqual([]);
    } finally {
      await live.stop();
    }
    expect(fs.existsSync(live.dataDir)).toBe(false);
  }, 180_000);

  it('without HAVEN_SMTP_URL runs no notifier and notes nothing', async () => {
    const live = await startLiveServer({ HAVEN_SERVER_SECRET: SECRET });
    try {
      expect(live.logLines.some((l) => l.includes('notify_started'))).toBe(false);
      await optedInMember(live);
      await submit(live);
      expect(await pendingAfterStop(live)).toEqual([false]);
    } finally {
      await live.stop();
    }
  }, 180_000);
});
