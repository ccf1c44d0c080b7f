// An independent Flow Socket client written from the seeds (socket.info, message.send with an
// event attachment and with text, ping/pong), run against whatever FLOWAI_API_URL points at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

const apiUrl = (process.env.FLOWAI_API_URL || '').replace(/\/+$/, '');
const clientId = process.env.FLOWAI_CLIENT_ID || '';

function threadIdFor(id) {
  // The official SDK's shape: <32 hex>|<channelId>, channelId from base64 "<organisation>|<channelId>".
  const decoded = Buffer.from(id, 'base64').toString('utf8');
  const channel = decoded.includes('|') ? decoded.split('|')[1] : '';
  const hex = randomBytes(16).toString('hex');
  return channel ? `${hex}|${channel}` : hex;
}

async function socketInfo(sessionId) {
  const url = `${apiUrl}/socket.info?clientId=${encodeURIComponent(clientId)}&sessionId=${sessionId}`;
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/** Open the socket and return helpers that wait for frames of a type. */
async function open(endpoint) {
  const ws = new WebSocket(endpoint);
  const frames = [];
  const waiters = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    frames.push(frame);
    for (const w of [...waiters]) w();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = (pred, ms = 5000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const i = frames.findIndex(pred);
        if (i >= 0) {
          const [frame] = frames.splice(i, 1);
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(timer);
          resolve(frame);
        }
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        reject(new Error(`no matching frame within ${ms} ms; got ${JSON.stringify(frames)}`));
      }, ms);
      waiters.push(check);
      check();
    });
  return { ws, next, send: (f) => ws.send(JSON.stringify(f)) };
}

test('environment is set', () => {
  assert.ok(apiUrl.startsWith('http'), 'FLOWAI_API_URL must be set');
  assert.ok(clientId.length > 0, 'FLOWAI_CLIENT_ID must be set');
});

test('socket.info refuses an unknown clientId', async () => {
  const res = await fetch(`${apiUrl}/socket.info?clientId=nope&sessionId=${Date.now()}`);
  assert.equal(res.status, 401);
  assert.equal((await res.json()).status, 'error');
});

test('INTRO event and "hi" over a raw websocket', async () => {
  const { status, body } = await socketInfo(Date.now());
  assert.equal(status, 200);
  assert.equal(body.status.toLowerCase(), 'ok');
  const endpoint = body.payload.endpoint;
  assert.match(endpoint, /^wss?:\/\//);

  const { ws, next, send } = await open(endpoint);
  try {
    const threadId = threadIdFor(clientId);

    send({ type: 'ping' });
    await next((f) => f.type === 'pong');

    const introTrace = Date.now();
    send({
      type: 'message.send',
      payload: {
        threadId,
        traceId: introTrace,
        speech: 'event attachment',
        attachment: { type: 'event', payload: { name: 'INTRO' } },
        originator: {
          name: 'Jane Doe',
          role: 'external',
          profile: { fullName: 'Jane Doe', firstName: 'Jane', lastName: 'Doe', gender: 'F', locale: 'en-US', timezone: -5, country: 'us' },
          metadata: { clientNumber: '12345', preference: 'A,B,G' },
        },
        metadata: { language: 'en-US', timezone: -5, params: { seats: [{ value: 'Business class' }] } },
      },
    });
    const delivered = await next((f) => f.type === 'message.delivered' && f.payload.traceId === introTrace);
    assert.equal(delivered.payload.threadId, threadId);
    const intro = await next((f) => f.type === 'message.received');
    assert.equal(intro.payload.threadId, threadId);
    const message = intro.payload.messages[0];
    assert.equal(message.fallback, 'Hi, how can we help?');
    const text = message.responses.find((r) => r.type === 'text');
    assert.equal(text.payload.text, 'Hi, how can we help?');
    assert.equal(text.payload.quickReplies.length, 3);

    const hiTrace = introTrace + 1;
    send({ type: 'message.send', payload: { threadId, traceId: hiTrace, speech: 'hi' } });
    const hiDelivered = await next((f) => f.type === 'message.delivered' && f.payload.traceId === hiTrace);
    assert.equal(hiDelivered.payload.speech, 'hi');
    const greeting = await next((f) => f.type === 'message.received');
    const texts = greeting.payload.messages
      .flatMap((m) => m.responses)
      .filter((r) => r.type === 'text')
      .map((r) => r.payload.text)
      .join(' ');
    assert.match(texts, /customer service demo bot/);

    send({ type: 'garbage' });
    const error = await next((f) => f.type === 'error');
    assert.equal(typeof error.message, 'string');
    ws.send('not json');
    await next((f) => f.type === 'error');
    send({ type: 'ping' });
    await next((f) => f.type === 'pong');
  } finally {
    ws.close();
  }
});

test('an endpoint URL is single-use', async () => {
  const { body } = await socketInfo(Date.now());
  const { ws } = await open(body.payload.endpoint);
  ws.close();
  await assert.rejects(open(body.payload.endpoint));
});
