// phoenix.js (the official Phoenix client) against FLOWAI_AIDA_URL: join, new_session, utb_msg -> btu_msg, refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'phoenix';
import WebSocket from 'ws';

const { FLOWAI_AIDA_URL, FLOWAI_AIDA_BOT, FLOWAI_AIDA_TOKEN } = process.env;
assert.ok(FLOWAI_AIDA_URL && FLOWAI_AIDA_BOT && FLOWAI_AIDA_TOKEN, 'FLOWAI_AIDA_* must be set');

// The seed's endpoint form: ws(s)://SERVER/socket (phoenix.js appends /websocket and vsn).
const endpoint = FLOWAI_AIDA_URL.replace(/^http/, 'ws').replace(/\/$/, '') + '/socket';
const GUARD_MS = 10000;

function openSocket() {
  // Node 20 has no global WebSocket: hand phoenix.js the `ws` implementation.
  const socket = new Socket(endpoint, { transport: WebSocket, timeout: GUARD_MS });
  socket.connect();
  return socket;
}

function join(channel) {
  return new Promise((resolve, reject) => {
    channel.join()
      .receive('ok', resolve)
      .receive('error', (resp) => reject(Object.assign(new Error('join refused'), { resp })))
      .receive('timeout', () => reject(new Error('join timed out')));
  });
}

function push(channel, event, payload) {
  return new Promise((resolve, reject) => {
    channel.push(event, payload)
      .receive('ok', resolve)
      .receive('error', (resp) => reject(Object.assign(new Error(`${event} refused`), { resp })))
      .receive('timeout', () => reject(new Error(`${event} timed out`)));
  });
}

test('join, new_session, utb_msg and the btu_msg of that session', async () => {
  const socket = openSocket();
  try {
    const channel = socket.channel(`bot:${FLOWAI_AIDA_BOT}`, { access_token: FLOWAI_AIDA_TOKEN });
    await join(channel);
    const { session } = await push(channel, 'new_session', { data: { first_name: 'Ada' } });
    assert.equal(typeof session, 'string');
    const { session: other } = await push(channel, 'new_session', {});
    assert.notEqual(session, other);

    const reply = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no btu_msg')), GUARD_MS);
      channel.on('btu_msg', (payload) => {
        // Every client of the bot sees every session's replies: filter by session.
        if (payload.session === session) {
          clearTimeout(timer);
          resolve(payload);
        }
      });
    });
    await push(channel, 'utb_msg', { session, text: 'hi' });
    const payload = await reply;
    assert.equal(payload.session, session);
    assert.equal(typeof payload.text, 'string');
    assert.ok(payload.text.length > 0);

    await push(channel, 'put_data', { session, data: { last_name: 'Lovelace' } });
    await assert.rejects(push(channel, 'utb_msg', { session: 'no-such-session', text: 'x' }),
      (err) => err.resp && err.resp.reason === 'unknown session');
    await push(channel, 'delete_session', { session });
  } finally {
    socket.disconnect();
  }
});

test('an unknown token or bot is refused with unauthorized', async () => {
  const socket = openSocket();
  try {
    const badToken = socket.channel(`bot:${FLOWAI_AIDA_BOT}`, { access_token: 'wrong' });
    await assert.rejects(join(badToken), (err) => err.resp && err.resp.reason === 'unauthorized');
    badToken.leave();
    const badBot = socket.channel('bot:00000000-0000-0000-0000-000000000000', { access_token: FLOWAI_AIDA_TOKEN });
    await assert.rejects(join(badBot), (err) => err.resp && err.resp.reason === 'unauthorized');
    badBot.leave();
  } finally {
    socket.disconnect();
  }
});
