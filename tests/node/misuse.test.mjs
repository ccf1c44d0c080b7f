// Misuse of the Node binding: wrong types, calls after close, re-entrant listeners, throwing
// listeners, abandoned iterators, many sessions, promise hygiene. Nothing may abort or hang.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'

import { flowai, here, uniqueThread, waitFor, rejectsWithCode } from './support.mjs'

const { Session, MessagingClient, ManagementClient, WebhookReceiver, AidaClient, FlowAIError, verifyAndParse } = flowai

/** Resolve after pending callbacks, microtasks and unhandled-rejection checks have run. */
function settle(ms = 20) {
  return new Promise((resolve) => setTimeout(() => setImmediate(resolve), ms))
}

/** Assert a call throws (synchronously, or by rejecting) a TypeError or an INVALID_ARGUMENT FlowAIError. */
async function rejectsAsTypeMisuse(call, label) {
  let outcome
  try {
    await call()
    outcome = 'resolved'
  } catch (err) {
    outcome = err
  }
  assert.ok(
    outcome instanceof TypeError || (outcome instanceof FlowAIError && outcome.code === 'FLOWAI_INVALID_ARGUMENT'),
    `${label}: expected TypeError or FLOWAI_INVALID_ARGUMENT, got ${outcome && (outcome.stack || outcome)}`,
  )
}

test('wrong types are TypeError (or FLOWAI_INVALID_ARGUMENT), never an abort', async () => {
  const wrong = [42, {}, [], null, undefined, true, () => {}, Symbol('s'), 10n]
  const session = await Session.connect({ threadId: uniqueThread('types') })
  try {
    for (const value of wrong) {
      await rejectsAsTypeMisuse(() => session.sendText(value), `sendText(${String(value)})`)
      await rejectsAsTypeMisuse(() => session.sendEvent(value), `sendEvent(${String(value)})`)
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        await rejectsAsTypeMisuse(() => session.send(value), `send(${String(value)})`)
      }
      await rejectsAsTypeMisuse(() => session.upload(value), `upload(${String(value)})`)
    }
    await rejectsAsTypeMisuse(() => session.sendText('hi', 'not options'), 'sendText options')
    await rejectsAsTypeMisuse(() => session.send({ speech: 42 }), 'send({ speech: 42 })')
    await rejectsAsTypeMisuse(() => session.send({ speech: 'x', traceId: 'seven' }), 'send traceId string')
    await rejectsAsTypeMisuse(() => session.upload(path.join(here, 'misuse.test.mjs'), 'not a function'), 'upload progress')
    // The session is unharmed.
    const delivered = await session.sendText('still fine')
    assert.equal(typeof delivered.traceId, 'number')
  } finally {
    await session.close()
  }

  // Constructors and options.
  for (const options of [42, 'x', [], true]) {
    assert.throws(() => new Session(options), TypeError)
    assert.throws(() => new MessagingClient(options), TypeError)
    assert.throws(() => new ManagementClient(options), TypeError)
    assert.throws(() => new AidaClient(options), TypeError)
    await assert.rejects(WebhookReceiver.start(options), TypeError)
  }
  await assert.rejects(WebhookReceiver.start(), TypeError)
  await assert.rejects(WebhookReceiver.start({}), TypeError)
  await assert.rejects(WebhookReceiver.start({ verifyKey: 7 }), TypeError)
  for (const options of [{ threadId: 42 }, { pingIntervalMs: 'fast' }, { apiUrl: {} }, { originator: 'me' }]) {
    const s = new Session(options)
    const closed = waitFor(s, 'closed')
    await rejectsAsTypeMisuse(() => s.ready(), `Session(${JSON.stringify(options)})`)
    assert.ok((await closed).error)
    assert.ok(s.closed)
    await s.close()
  }
  await rejectsAsTypeMisuse(() => new MessagingClient({ apiUrl: 42 }), 'MessagingClient apiUrl')
  await rejectsAsTypeMisuse(() => AidaClient.connect({ bot: 42 }), 'AidaClient bot')

  const client = new MessagingClient()
  await rejectsAsTypeMisuse(() => client.sendText(1, 'x'), 'client.sendText threadId')
  await rejectsAsTypeMisuse(() => client.sendText('t', undefined), 'client.sendText text')
  await rejectsAsTypeMisuse(() => client.sendEvent('t', {}), 'client.sendEvent')
  await rejectsAsTypeMisuse(() => client.sendLocation('t', {}, 4), 'client.sendLocation')
  await rejectsAsTypeMisuse(() => client.sendMedia('t', 5, 'image'), 'client.sendMedia')
  await rejectsAsTypeMisuse(() => client.createWebhook(null), 'createWebhook(null)')
  await rejectsAsTypeMisuse(() => client.createWebhook({ url: 'http://127.0.0.1:1/', verifyKey: 'k', events: 'all' }), 'createWebhook events')
  await rejectsAsTypeMisuse(() => client.getWebhook(undefined), 'getWebhook')
  await rejectsAsTypeMisuse(() => client.updateWebhook('w', 5), 'updateWebhook')
  const management = new ManagementClient()
  await rejectsAsTypeMisuse(() => management.flowInfo(42), 'flowInfo')
  assert.throws(() => verifyAndParse(5, '{}', 'key'), TypeError)
  assert.throws(() => verifyAndParse({}, 5, 'key'), TypeError)
  assert.throws(() => verifyAndParse({}, '{}', 5), TypeError)
  assert.throws(() => verifyAndParse({}, '{}', 'key', 'options'), TypeError)

  const aida = await AidaClient.connect()
  try {
    const chat = await aida.newSession()
    await rejectsAsTypeMisuse(() => chat.sendText(5), 'aida sendText')
    await rejectsAsTypeMisuse(() => chat.putData('x'), 'aida putData')
    await rejectsAsTypeMisuse(() => chat.sendImage(5, 'a.png', 'image/png'), 'aida sendImage')
    assert.throws(() => aida.session(5), TypeError)
    await rejectsAsTypeMisuse(() => aida.downloadImage({}), 'downloadImage')
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
  await rejectsWithCode(assert, session.sendText('hi'), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, session.sendEvent('INTRO'), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, session.send({ speech: 'hi' }), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, session.typing(), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, session.noticed(), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, session.history(), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, session.unnoticed(), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, session.upload(path.join(here, 'misuse.test.mjs')), 'FLOWAI_CLOSED')
  await session.close()

  const aida = await AidaClient.connect()
  const chat = await aida.newSession()
  await chat.delete()
  await rejectsWithCode(assert, chat.sendText('hi'), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, chat.putData({ a: 1 }), 'FLOWAI_CLOSED')
  await rejectsWithCode(assert, chat.delete(), 'FLOWAI_CLOSED')
  await chat.close()
  await aida.close()
  await aida.close()
  assert.ok(aida.closed)
  await rejectsWithCode(assert, aida.newSession(), 'FLOWAI_CLOSED')
})

test('close inside a listener: closed still comes once and last, nothing hangs', async () => {
  const session = await Session.connect({ threadId: uniqueThread('close-in') })
  const types = []
  session.on('event', (e) => types.push(e.type))
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
  assert.equal(types.filter((t) => t === 'closed').length, 1)
  assert.equal(types.at(-1), 'closed')

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
  const clientTypes = []
  const chatTypes = []
  aida.on('event', (e) => clientTypes.push(e.type))
  chat.on('event', (e) => chatTypes.push(e.type))
  let clientClosing = null
  chat.once('message', () => {
    clientClosing = aida.close()
  })
  const clientClosed = waitFor(aida, 'closed')
  await chat.sendText('hi')
  await clientClosed
  await clientClosing
  await chat.close()
  await settle()
  assert.equal(clientTypes.filter((t) => t === 'closed').length, 1)
  assert.equal(clientTypes.at(-1), 'closed')
  assert.equal(chatTypes.filter((t) => t === 'closed').length, 1)
  assert.equal(chatTypes.at(-1), 'closed')
})

test('send inside a listener does not deadlock', async () => {
  const session = await Session.connect({ threadId: uniqueThread('send-in') })
  try {
    const echoed = new Promise((resolve, reject) => {
      session.once('reply', () => {
        session.sendText('again').then(resolve, reject)
      })
    })
    await session.sendText('hi')
    const delivered = await echoed
    assert.equal(delivered.threadId, session.threadId)
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

function runChild(script, arg, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, script), arg], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} ${arg} did not exit within ${timeoutMs} ms:\n${out}\n${err}`))
    }, timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, err })
    })
  })
}

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
    for await (const event of session) {
      if (event.type === 'delivered') break
    }
    await sent
    // A second iterator, abandoned without reading at all.
    const abandoned = session[Symbol.asyncIterator]()
    await abandoned.return()
    const delivered = waitFor(session, 'delivered')
    const second = await session.sendText('second')
    assert.equal((await delivered).delivered.traceId, second.traceId)
    // A third iterator reads on after the early breaks.
    const iterator = session[Symbol.asyncIterator]()
    const third = await session.sendText('third')
    for (;;) {
      const { value, done } = await iterator.next()
      assert.equal(done, false)
      if (value.type === 'delivered' && value.delivered.traceId === third.traceId) break
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
    await assert.rejects(session.sendText(5), TypeError)
    await session.close()
    await assert.rejects(session.sendText('late'), FlowAIError)
    await assert.rejects(session.typing(), FlowAIError)
    // A failed connect whose ready() is awaited, and one nobody awaits (reported by 'closed').
    await assert.rejects(new Session({ clientId: '' }).ready(), FlowAIError)
    const ignored = new Session({ clientId: 'd3Jvbmd8Y2xpZW50' })
    await waitFor(ignored, 'closed')
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
