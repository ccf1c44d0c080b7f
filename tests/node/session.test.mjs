// Flow Socket sessions: conversation, event order, async iteration, errors, process exit.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { flowai, here, uniqueThread, waitFor, replyTexts, rejectsWithCode } from './support.mjs'

const { Session, FlowAIError } = flowai

test('INTRO and "hi" get the demo bot answers', async () => {
  const session = await Session.connect({ threadId: uniqueThread('intro') })
  try {
    const intro = waitFor(session, 'reply', (e) => replyTexts(e.reply).includes('Hi, how can we help?'))
    const delivered = await session.sendEvent('INTRO')
    assert.equal(delivered.threadId, session.threadId)
    assert.equal(typeof delivered.traceId, 'number')
    const introReply = (await intro).reply
    const quick = introReply.messages.flatMap((m) => m.responses.flatMap((r) => r.payload.quickReplies ?? []))
    assert.equal(quick.length, 3)
    assert.ok(quick.every((q) => typeof q.label === 'string'))

    const hi = waitFor(session, 'reply', (e) => /customer service demo bot/.test(replyTexts(e.reply).join(' ')))
    await session.sendText('hi', { traceId: 4242, originator: { name: 'Tester', role: 'external' } })
    const hiReply = (await hi).reply
    assert.equal(hiReply.threadId, session.threadId)
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
  await session.ready()
  const reply = waitFor(session, 'reply')
  const delivered = await session.sendText('hi')
  await reply
  await session.close()
  await session.close()
  assert.equal(closedCount, 1)
  assert.equal(events[0].type, 'connected')
  assert.equal(events.at(-1).type, 'closed')
  assert.equal(events.at(-1).error, null)
  assert.equal(events.filter((e) => e.type === 'closed').length, 1)
  const d = events.findIndex((e) => e.type === 'delivered' && e.delivered.traceId === delivered.traceId)
  const r = events.findIndex((e) => e.type === 'reply')
  assert.ok(d > 0 && r > d, JSON.stringify(events.map((e) => e.type)))
  assert.ok(session.closed)
})

test('for await iterates events until closed', async () => {
  const session = new Session({ threadId: uniqueThread('iter') })
  const types = []
  let sent = false
  for await (const event of session) {
    types.push(event.type)
    if (event.type === 'connected' && !sent) {
      sent = true
      session.sendEvent('INTRO').catch(() => {})
    }
    if (event.type === 'reply') await session.close()
  }
  assert.deepEqual(types.slice(0, 1), ['connected'])
  assert.equal(types.at(-1), 'closed')
  assert.ok(types.includes('delivered') && types.includes('reply'))
  // An iterator made after the end finishes at once.
  const after = await session[Symbol.asyncIterator]().next()
  assert.equal(after.done, true)
})

test('several sends in flight are each delivered once', async () => {
  const session = await Session.connect({ threadId: uniqueThread('many') })
  try {
    const seen = new Map()
    session.on('delivered', (e) => seen.set(e.delivered.traceId, (seen.get(e.delivered.traceId) ?? 0) + 1))
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => session.sendText(`message ${i}`)))
    const ids = new Set(results.map((d) => d.traceId))
    assert.equal(ids.size, 32)
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (const id of ids) assert.equal(seen.get(id), 1)
  } finally {
    await session.close()
  }
})

test('typing, noticed and history', async () => {
  const session = await Session.connect({ threadId: uniqueThread('hist') })
  try {
    const reply = waitFor(session, 'reply')
    await session.sendText('hi')
    await reply
    await session.typing()
    await session.noticed()
    assert.ok(await session.history())
  } finally {
    await session.close()
  }
})

test('uploads a file to the thread with progress', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowai-node-'))
  const file = path.join(dir, 'notes.txt')
  fs.writeFileSync(file, 'x'.repeat(200 * 1024))
  const session = await Session.connect({ threadId: uniqueThread('upload') })
  try {
    const seen = []
    const answer = await session.upload(file, (sent, total) => seen.push([sent, total]))
    assert.ok(answer)
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(seen.at(-1), [200 * 1024, 200 * 1024])
    await assert.rejects(session.upload(42), TypeError)
    await assert.rejects(session.upload(path.join(dir, 'missing.txt')), flowai.FlowAIError)
  } finally {
    await session.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('errors: FLOWAI_CLOSED after close, TypeError, FLOWAI_INVALID_ARGUMENT, FLOWAI_AUTH', async () => {
  const session = await Session.connect({ threadId: uniqueThread('err') })
  await rejectsWithCode(assert, session.sendText('x'.repeat(256)), 'FLOWAI_INVALID_ARGUMENT')
  await assert.rejects(session.sendText(5), TypeError)
  await assert.rejects(session.send('nope'), TypeError)
  assert.throws(() => new Session('x'), TypeError)
  await session.close()
  await rejectsWithCode(assert, session.sendText('hi'), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, session.sendEvent('INTRO'), 'FLOWAI_CLOSED')

  const refused = new Session({ clientId: 'd3Jvbmd8Y2xpZW50' })
  const closed = waitFor(refused, 'closed')
  await rejectsWithCode(assert, refused.ready(), 'FLOWAI_AUTH')
  assert.equal((await closed).error.code, 'FLOWAI_AUTH')
  await refused.close()

  await rejectsWithCode(assert, new Session({ clientId: '' }).ready(), 'FLOWAI_INVALID_ARGUMENT')
})

function runChild(script, arg, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, script), arg], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} ${arg} did not exit by itself within ${timeoutMs} ms:\n${out}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

for (const kind of ['session', 'aida', 'receiver']) {
  test(`an open ${kind} keeps the process alive and close() lets it exit`, async () => {
    const { code, out } = await runChild('child_session.cjs', kind, 8000)
    assert.equal(code, 0, out)
    assert.match(out, /still-alive/)
    assert.match(out, /closed-last/)
  })
}

test('the error kinds are FlowAIError instances', () => {
  const err = new FlowAIError('FLOWAI_TIMEOUT', 'late')
  assert.ok(err instanceof Error)
  assert.equal(err.code, 'FLOWAI_TIMEOUT')
})
