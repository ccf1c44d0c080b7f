// Messaging REST API through the Node package, against the emulator.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { flowai, env, uniqueThread, rejectsWithCode } from './support.mjs'

const { MessagingClient, FlowAIError } = flowai

test('sends text, event and location with options', async () => {
  const client = new MessagingClient()
  const thread = uniqueThread('msg')
  assert.equal(await client.sendText(thread, 'hi', { traceId: 7, lang: 'en', timezone: 2 }), undefined)
  await client.sendEvent(thread, 'INTRO')
  await client.sendLocation(thread, '52.37', '4.89')
  await client.sendLocation(thread, 52.37, 4.89)
  await client.sendText(thread, 'weather', { params: { city: [{ value: 'Amsterdam' }] } })
})

test('takes configuration from arguments over the environment', async () => {
  const client = new MessagingClient({ apiUrl: env.FLOWAI_API_URL, messagingKey: env.FLOWAI_MESSAGING_KEY })
  await client.sendText(uniqueThread('cfg'), 'hi')
})

test('uploads media with progress', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowai-node-'))
  const file = path.join(dir, 'picture.png')
  fs.writeFileSync(file, Buffer.alloc(300 * 1024, 7))
  const seen = []
  try {
    const client = new MessagingClient()
    await client.sendMedia(uniqueThread('media'), file, 'image', {
      mimeType: 'image/png',
      onProgress: (sent, total) => seen.push([sent, total]),
    })
    // Progress calls are queued to the event loop; let the last ones arrive.
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(seen.length > 0)
    assert.deepEqual(seen.at(-1), [300 * 1024, 300 * 1024])
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0])
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('rejects invalid input before sending: FLOWAI_INVALID_ARGUMENT', async () => {
  const client = new MessagingClient()
  await rejectsWithCode(assert, client.sendText('t', 'x'.repeat(256)), 'FLOWAI_INVALID_ARGUMENT')
  await client.sendText(uniqueThread('len'), 'é'.repeat(255))
  await rejectsWithCode(assert, client.sendText('', 'hi'), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.sendText('t', 'hi', { lang: 'eng' }), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.sendText('t', 'hi', { traceId: -1 }), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.sendMedia('t', '/no/such/file.png', 'image'), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.sendMedia('t', '/etc/hostname', 'gif'), 'FLOWAI_INVALID_ARGUMENT')
})

test('wrong argument types are TypeErrors', async () => {
  const client = new MessagingClient()
  await assert.rejects(client.sendText(42, 'hi'), TypeError)
  await assert.rejects(client.sendText('t', null), TypeError)
  await assert.rejects(client.sendEvent('t', {}), TypeError)
  await assert.rejects(client.sendText('t', 'hi', 'options'), TypeError)
  await assert.rejects(client.sendMedia('t', 'f', 'image', { onProgress: 3 }), TypeError)
  await assert.rejects(client.createWebhook('x'), TypeError)
  await assert.rejects(client.sendText('t', 'hi', { traceId: 'seven' }), TypeError)
  assert.throws(() => new MessagingClient('key'), TypeError)
})

test('a wrong key is FLOWAI_AUTH with the HTTP status', async () => {
  const client = new MessagingClient({ messagingKey: 'wrong-key' })
  await assert.rejects(client.sendText(uniqueThread('auth'), 'hi'), (err) => {
    assert.ok(err instanceof FlowAIError)
    assert.ok(err instanceof Error)
    assert.equal(err.name, 'FlowAIError')
    assert.equal(err.code, 'FLOWAI_AUTH')
    assert.equal(err.status, 401)
    assert.ok(!err.message.includes('wrong-key'), 'the key must not leak into messages')
    return true
  })
})

test('a missing key is FLOWAI_INVALID_ARGUMENT naming the variable', () => {
  assert.throws(
    () => new MessagingClient({ messagingKey: '' }),
    (err) => err instanceof FlowAIError && err.code === 'FLOWAI_INVALID_ARGUMENT' && /FLOWAI_MESSAGING_KEY/.test(err.message),
  )
})

test('an unreachable service is FLOWAI_CONNECTION', async () => {
  const client = new MessagingClient({ apiUrl: 'http://127.0.0.1:9', requestTimeoutMs: 2000 })
  await rejectsWithCode(assert, client.sendText('t', 'hi'), 'FLOWAI_CONNECTION')
})

test('the code list is the shared one', () => {
  assert.equal(flowai.ERROR_CODES.length, 11)
  assert.ok(flowai.ERROR_CODES.includes('FLOWAI_QUEUE_FULL'))
})

test('an unreadable caCert file is FLOWAI_INVALID_ARGUMENT', () => {
  assert.throws(
    () => new MessagingClient({ caCert: '/no/such/ca.pem' }),
    (err) => err instanceof FlowAIError && err.code === 'FLOWAI_INVALID_ARGUMENT',
  )
})
