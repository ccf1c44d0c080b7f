// Misuse of the Node binding: wrong types, calls after close, re-entrant listeners, throwing
// listeners, abandoned iterators, many sessions, promise hygiene. Nothing may abort or hang.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'

import { flowai, here, uniqueThread, waitFor, rejectsWithCode, settle, runChild } from './support.mjs'

const { Session, MessagingClient, ManagementClient, WebhookReceiver, AidaClient, FlowAIError, FlowAIObject } = flowai

/** Assert a call rejects (never throws synchronously) with a TypeError or FLOWAI_INVALID_ARGUMENT. */
async function rejectsAsMisuse(call, label) {
  let promise
  try {
    promise = call()
  } catch (err) {
    assert.fail(`${label}: threw synchronously instead of rejecting: ${err && err.stack}`)
  }
  assert.ok(promise instanceof Promise, `${label}: no Promise`)
  const outcome = await promise.then(
    () => 'resolved',
    (err) => err,
  )
  assert.ok(
    outcome instanceof TypeError || (outcome instanceof FlowAIError && outcome.code === 'FLOWAI_INVALID_ARGUMENT'),
    `${label}: expected TypeError or FLOWAI_INVALID_ARGUMENT, got ${outcome && (outcome.stack || outcome)}`,
  )
}

test('wrong types reject with FLOWAI_INVALID_ARGUMENT (or TypeError), never an abort', async () => {
  const wrong = [42, {}, [], null, undefined, true, () => {}, Symbol('s'), 10n]
  const session = await Session.connect({ threadId: uniqueThread('types') })
  try {
    for (const value of wrong) {
      await rejectsAsMisuse(() => session.sendText(value), `sendText(${String(value)})`)
      await rejectsAsMisuse(() => session.sendEvent(value), `sendEvent(${String(value)})`)
      await rejectsAsMisuse(() => session.send(value === undefined || value === null ? { text: value } : value), `send(${String(value)})`)
      await rejectsAsMisuse(() => session.upload(value), `upload(${String(value)})`)
      await rejectsAsMisuse(() => session.call(value, {}), `call(${String(value)})`)
    }
    await rejectsAsMisuse(() => session.send({ text: 42 }), 'send({ text: 42 })')
    await rejectsAsMisuse(() => session.send({ text: 'x', traceId: 'seven' }), 'send traceId string')
    await rejectsAsMisuse(() => session.call('sendText', 'text'), 'call with a string')
    // The session is unharmed.
    const delivered = await session.sendText('still fine')
    assert.equal(typeof delivered.traceId, 'number')
  } finally {
    await session.close()
  }

  // Settings of the wrong type: the open rejects, 'closed' still comes once.
  for (const settings of [42, 'x', [], true, { threadId: 42 }, { pingIntervalMs: 'fast' }, { apiUrl: {} }, { originator: 'me' }]) {
    const s = new Session(settings)
    const closed = waitFor(s, 'closed')
    await rejectsAsMisuse(() => s.ready(), `Session(${JSON.stringify(settings)})`)
    assert.ok((await closed).error)
    assert.ok(s.closed)
    await s.close()
  }
  // One settings object serves every client, so a REST client ignores a session's fields.
  for (const settings of [42, 'x', [], true, { apiUrl: {} }, { timeoutMs: -1 }]) {
    await rejectsAsMisuse(() => MessagingClient.open(settings), `MessagingClient(${JSON.stringify(settings)})`)
    await rejectsAsMisuse(() => ManagementClient.open(settings), `ManagementClient(${JSON.stringify(settings)})`)
  }
  await rejectsAsMisuse(() => WebhookReceiver.open({ verifyKey: 7 }), 'WebhookReceiver verifyKey')
  await rejectsAsMisuse(() => AidaClient.connect({ aidaBot: 42 }), 'AidaClient aidaBot')
  await rejectsAsMisuse(() => MessagingClient.open({ timeoutMs: 10n }), 'a BigInt setting')
  assert.throws(() => new FlowAIObject(), TypeError)

  const client = new MessagingClient()
  await rejectsAsMisuse(() => client.sendLocation('t', {}, 4), 'sendLocation')
  await rejectsAsMisuse(() => client.createWebhook(null, 'k', ['message.reply']), 'createWebhook(null)')
  await rejectsAsMisuse(() => client.updateWebhook('w', 5), 'updateWebhook options')
  const cyclic = {}
  cyclic.self = cyclic
  await rejectsAsMisuse(() => client.send(cyclic), 'a cyclic argument')

  const aida = await AidaClient.connect()
  try {
    const chat = await aida.newSession()
    await rejectsAsMisuse(() => chat.sendText(5), 'aida sendText')
    await rejectsAsMisuse(() => chat.putData('x'), 'aida putData')
    await rejectsAsMisuse(() => chat.sendImage(5), 'aida sendImage')
    await rejectsAsMisuse(() => aida.fetchImage({}), 'fetchImage')
    await chat.close()
  } finally {
    await aida.close()
  }
})

test('every call after close is FLOWAI_CLOSED; close twice is fine', async () => {
  const session = await Session.connect({ threadId: uniqueThread('after') })
  await session.close()
  await session.close()
  assert.ok(session.closed)
  for (const call of [
    () => session.sendText('hi'),
    () => session.sendEvent('INTRO'),
    () => session.send({ text: 'hi' }),
    () => session.typing(),
    () => session.noticed(),
    () => session.history(),
    () => session.unnoticed(),
    () => session.info(),
    () => session.upload(path.join(here, 'misuse.test.mjs')),
  ]) {
    await rejectsWithCode(assert, call(), 'FLOWAI_CLOSED')
  }
  await session.close()

  const aida = await AidaClient.connect()
  const chat = await aida.newSession()
  await chat.delete()
  await rejectsWithCode(assert, chat.sendText('hi'), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, chat.putData({ data: { a: 1 } }), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, chat.delete(), 'FLOWAI_CLOSED')
  await chat.close()
  await aida.close()
  await aida.close()
  assert.ok(aida.closed)
  await rejectsWithCode(assert, aida.newSession(), 'FLOWAI_CLOSED')

  const client = new MessagingClient()
  await client.close()
  assert.ok(client.closed)
  await rejectsWithCode(assert, client.sendText('t', 'hi'), 'FLOWAI_CLOSED')
})

test('close inside a listener: closed still comes once and last, nothing hangs', async () => {
  const session = await Session.connect({ threadId: uniqueThread('close-in') })
  const names = []
  session.on('event', (e) => names.push(e.event))
  let closing = null
  session.on('delivered', () => {
    closing = session.close()
  })
  const closed = waitFor(session, 'closed')
  await session.sendText('hi')
  await closed
  await closing
  await session.close()
  await settle()
  assert.equal(names.filter((t) => t === 'closed').length, 1)
  assert.equal(names.at(-1), 'closed')

  // An async listener that awaits the close of its own session.
  const second = await Session.connect({ threadId: uniqueThread('close-await') })
  const done = new Promise((resolve, reject) => {
    second.once('delivered', async () => {
      try {
        await second.close()
        resolve()
      } catch (err) {
        reject(err)
      }
    })
  })
  await second.sendText('hi')
  await done
  assert.ok(second.closed)

  // The AIDA client closed from a session's listener: both end once, closed last.
  const aida = await AidaClient.connect()
  const chat = await aida.newSession()
  const clientNames = []
  const chatNames = []
  aida.on('event', (e) => clientNames.push(e.event))
  chat.on('event', (e) => chatNames.push(e.event))
  let clientClosing = null
  chat.once('aidaMessage', () => {
    clientClosing = aida.close()
  })
  const clientClosed = waitFor(aida, 'closed')
  await chat.sendText('hi')
  await clientClosed
  await clientClosing
  await chat.close()
  await settle()
  assert.equal(clientNames.filter((t) => t === 'closed').length, 1)
  assert.equal(clientNames.at(-1), 'closed')
  assert.equal(chatNames.filter((t) => t === 'closed').length, 1)
  assert.equal(chatNames.at(-1), 'closed')
})

test('send inside a listener does not deadlock', async () => {
  const session = await Session.connect({ threadId: uniqueThread('send-in') })
  try {
    const { threadId } = await session.info()
    const echoed = new Promise((resolve, reject) => {
      session.once('reply', () => {
        session.sendText('again').then(resolve, reject)
      })
    })
    await session.sendText('hi')
    const delivered = await echoed
    assert.equal(delivered.threadId, threadId)
    // A listener that awaits sends in a loop.
    const many = new Promise((resolve, reject) => {
      session.once('delivered', async () => {
        try {
          for (let i = 0; i < 5; i++) await session.sendText(`nested ${i}`)
          resolve()
        } catch (err) {
          reject(err)
        }
      })
    })
    await session.sendText('start')
    await many
  } finally {
    await session.close()
  }
})

test('a throwing listener is reported as uncaughtException and the session goes on', async () => {
  const handled = await runChild('child_listener_throws.cjs', 'handled', 15000)
  assert.equal(handled.code, 0, handled.err)
  const result = JSON.parse(handled.out.trim().split('\n').at(-1))
  assert.deepEqual(result.caught, ['listener boom'])
  assert.notEqual(result.traces[0], result.traces[1])
  assert.equal(result.delivered, 2)
  assert.equal(result.closed, 1)
  assert.equal(result.last, 'closed')

  // Without a handler it ends the process like any exception of an I/O callback: no abort.
  const unhandled = await runChild('child_listener_throws.cjs', 'unhandled', 15000)
  assert.equal(unhandled.code, 1, unhandled.err)
  assert.equal(unhandled.signal, null)
  assert.match(unhandled.err, /listener boom/)
})

test('removing all listeners and breaking out of for await early leave the session working', async () => {
  const session = await Session.connect({ threadId: uniqueThread('iter-break') })
  try {
    session.on('delivered', () => {})
    session.removeAllListeners()
    const sent = session.sendText('first')
    for await (const ev of session) {
      if (ev.event === 'delivered') break
    }
    await sent
    // A second iterator, abandoned without reading at all.
    const abandoned = session[Symbol.asyncIterator]()
    await abandoned.return()
    const delivered = waitFor(session, 'delivered')
    const second = await session.sendText('second')
    assert.equal((await delivered).traceId, second.traceId)
    // A third iterator reads on after the early breaks.
    const iterator = session[Symbol.asyncIterator]()
    const third = await session.sendText('third')
    for (;;) {
      const { value, done } = await iterator.next()
      assert.equal(done, false)
      if (value.event === 'delivered' && value.payload.traceId === third.traceId) break
    }
    await iterator.return()
  } finally {
    await session.close()
  }
  assert.ok(session.closed)
})

test('no unhandled rejections once failed calls are awaited', async () => {
  const unhandled = []
  const onUnhandled = (reason) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  try {
    const session = await Session.connect({ threadId: uniqueThread('reject') })
    await assert.rejects(session.sendText('x'.repeat(256)), FlowAIError)
    await assert.rejects(session.sendText(5), FlowAIError)
    await session.close()
    await assert.rejects(session.sendText('late'), FlowAIError)
    await assert.rejects(session.typing(), FlowAIError)
    // A failed open whose ready() is awaited, and one nobody awaits (reported by 'closed').
    await assert.rejects(new Session({ clientId: '' }).ready(), FlowAIError)
    const ignored = new Session({ clientId: 'd3Jvbmd8Y2xpZW50' })
    await waitFor(ignored, 'closed')
    new MessagingClient({ timeoutMs: 0 })
    const client = new MessagingClient()
    await assert.rejects(client.sendText('', 'x'), FlowAIError)
    await settle(50)
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
  assert.deepEqual(unhandled, [])
})

test('2,000 sessions opened and closed, 100 at a time: memory stays flat', async () => {
  const rss = () => process.memoryUsage().rss
  const wave = async (count) => {
    const sessions = await Promise.all(
      Array.from({ length: count }, () => Session.connect({ threadId: uniqueThread('mass') })),
    )
    await Promise.all(sessions.map((s) => s.close()))
    assert.ok(sessions.every((s) => s.closed))
  }
  const round = async (sessions) => {
    for (let i = 0; i < sessions; i += 100) await wave(100)
    await settle(20)
    return rss()
  }
  const started = Date.now()
  await round(500) // warm-up: allocator arenas, V8 heap, connection pools
  const warm = await round(500)
  const after = [await round(500), await round(500)]
  const growth = Math.max(...after) - warm
  const elapsed = Date.now() - started
  // Generous: a leak of a few KiB per session over 1,000 sessions stays under this, a leak
  // of a session's buffers or callbacks does not.
  const bound = Math.max(0.25 * warm, 48 * 1024 * 1024)
  assert.ok(
    growth <= bound,
    `RSS grew by ${(growth / 1048576).toFixed(1)} MiB after warm-up (${(warm / 1048576).toFixed(1)} MiB) in ${elapsed} ms`,
  )
  console.log(
    `# 2,000 sessions in ${elapsed} ms; RSS after warm-up ${(warm / 1048576).toFixed(1)} MiB, then ${after.map((r) => (r / 1048576).toFixed(1)).join(', ')} MiB`,
  )
})
