// Flow Socket sessions: conversation, event order, async iteration, errors, process exit.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { flowai, uniqueThread, waitFor, replyTexts, rejectsWithCode, runChild } from './support.mjs'

const { Session } = flowai

test('INTRO and "hi" get the demo bot answers', async () => {
  const session = await Session.connect({ threadId: uniqueThread('intro') })
  try {
    const { threadId } = await session.info()
    const intro = waitFor(session, 'reply', (p) => replyTexts(p.reply).includes('Hi, how can we help?'))
    const delivered = await session.sendEvent('INTRO')
    assert.equal(delivered.threadId, threadId)
    assert.equal(typeof delivered.traceId, 'number')
    const introReply = (await intro).reply
    const quick = introReply.messages.flatMap((m) => m.responses.flatMap((r) => r.payload.quickReplies ?? []))
    assert.equal(quick.length, 3)
    assert.ok(quick.every((q) => typeof q.label === 'string'))

    const hi = waitFor(session, 'reply', (p) => /customer service demo bot/.test(replyTexts(p.reply).join(' ')))
    const sent = await session.send({ text: 'hi', traceId: 4242, originator: { name: 'Tester', role: 'external' } })
    assert.equal(sent.traceId, 4242)
    const payload = await hi
    assert.equal(payload.threadId, threadId)
    assert.equal(payload.reply.threadId, threadId)
  } finally {
    await session.close()
  }
})

test('events come in order: connected first, delivered before its reply, closed last and once', async () => {
  const session = new Session({ threadId: uniqueThread('order') })
  const events = []
  session.on('event', (e) => events.push(e))
  let closedCount = 0
  session.on('closed', () => closedCount++)
  assert.equal(await session.ready(), session)
  const reply = waitFor(session, 'reply')
  const delivered = await session.sendText('hi')
  await reply
  await session.close()
  await session.close()
  assert.equal(closedCount, 1)
  assert.equal(events[0].event, 'connected')
  assert.equal(events.at(-1).event, 'closed')
  assert.deepEqual(events.at(-1).payload, { error: null })
  assert.equal(events.filter((e) => e.event === 'closed').length, 1)
  const d = events.findIndex((e) => e.event === 'delivered' && e.payload.traceId === delivered.traceId)
  const r = events.findIndex((e) => e.event === 'reply')
  assert.ok(d > 0 && r > d, JSON.stringify(events.map((e) => e.event)))
  assert.equal(events[d].payload.message.speech, 'hi')
  assert.ok(session.closed)
})

test('for await iterates events until closed', async () => {
  const session = new Session({ threadId: uniqueThread('iter') })
  const names = []
  let sent = false
  for await (const { event } of session) {
    names.push(event)
    if (event === 'connected' && !sent) {
      sent = true
      session.sendEvent('INTRO').catch(() => {})
    }
    if (event === 'reply') await session.close()
  }
  assert.deepEqual(names.slice(0, 1), ['connected'])
  assert.equal(names.at(-1), 'closed')
  assert.ok(names.includes('delivered') && names.includes('reply'))
  // An iterator made after the end finishes at once.
  const after = await session[Symbol.asyncIterator]().next()
  assert.equal(after.done, true)
})

test('several sends in flight are each delivered once', async () => {
  const session = await Session.connect({ threadId: uniqueThread('many') })
  try {
    const seen = new Map()
    session.on('delivered', (p) => seen.set(p.traceId, (seen.get(p.traceId) ?? 0) + 1))
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => session.sendText(`message ${i}`)))
    const ids = new Set(results.map((d) => d.traceId))
    assert.equal(ids.size, 32)
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (const id of ids) assert.equal(seen.get(id), 1)
  } finally {
    await session.close()
  }
})

test('typing, noticed, history and unnoticed', async () => {
  const session = await Session.connect({ threadId: uniqueThread('hist') })
  try {
    const reply = waitFor(session, 'reply')
    await session.sendText('hi')
    await reply
    assert.equal(await session.typing(), null)
    assert.equal(await session.noticed(), null)
    assert.ok(await session.history())
    assert.ok(await session.unnoticed())
  } finally {
    await session.close()
  }
})

test('uploads a file to the thread with progress events', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowai-node-'))
  const file = path.join(dir, 'notes.txt')
  fs.writeFileSync(file, 'x'.repeat(200 * 1024))
  const session = await Session.connect({ threadId: uniqueThread('upload') })
  try {
    const seen = []
    session.on('progress', ({ sent, total }) => seen.push([sent, total]))
    assert.ok(await session.upload(file))
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(seen.at(-1), [200 * 1024, 200 * 1024])
    await rejectsWithCode(assert, session.upload(42), 'FLOWAI_INVALID_ARGUMENT')
    await rejectsWithCode(assert, session.upload(path.join(dir, 'missing.txt')), 'FLOWAI_INVALID_ARGUMENT')
  } finally {
    await session.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('errors: FLOWAI_CLOSED after close, FLOWAI_INVALID_ARGUMENT, FLOWAI_AUTH', async () => {
  const session = await Session.connect({ threadId: uniqueThread('err') })
  await rejectsWithCode(assert, session.sendText('x'.repeat(256)), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, session.sendText(5), 'FLOWAI_INVALID_ARGUMENT', 'send_text: `text` must be a string')
  await rejectsWithCode(assert, session.send({ text: 'a', event: 'B' }), 'FLOWAI_INVALID_ARGUMENT', 'send: give exactly one of `text` and `event`')
  await session.close()
  await rejectsWithCode(assert, session.sendText('hi'), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, session.sendEvent('INTRO'), 'FLOWAI_CLOSED')

  const refused = new Session({ clientId: 'd3Jvbmd8Y2xpZW50' })
  const closed = waitFor(refused, 'closed')
  await rejectsWithCode(assert, refused.ready(), 'FLOWAI_AUTH')
  assert.equal((await closed).error.code, 'FLOWAI_AUTH')
  await refused.close()

  await rejectsWithCode(assert, Session.connect({ clientId: '' }), 'FLOWAI_INVALID_ARGUMENT', 'no client_id given: set client_id or FLOWAI_CLIENT_ID')
  await rejectsWithCode(assert, Session.connect({ pingIntervalMs: 0 }), 'FLOWAI_INVALID_ARGUMENT', 'ping_interval_ms must be greater than 0')
})

for (const kind of ['session', 'aida', 'receiver', 'emulator']) {
  test(`an open ${kind} keeps the process alive and close() lets it exit`, async () => {
    const { code, out, err } = await runChild('child_session.cjs', kind, 15000)
    assert.equal(code, 0, out + err)
    assert.match(out, /still-alive/)
    assert.match(out, /closed-last/)
  })
}

test('a messaging client does not keep the process alive', async () => {
  const { code, out, err } = await runChild('child_session.cjs', 'messaging', 15000)
  assert.equal(code, 0, out + err)
  assert.match(out, /sent/)
  assert.doesNotMatch(out, /still-alive/)
})

test('clients no longer referenced are collected and do not keep the process alive', async () => {
  const { code, out, err } = await runChild('child_session.cjs', 'forgotten', 30000)
  assert.equal(code, 0, out + err)
  const collected = Number(/collected (\d+)/.exec(out)?.[1])
  assert.ok(collected >= 290, out)
  assert.doesNotMatch(out, /still-alive/)
})
