// Messaging REST API and settings through the Node package, against the emulator.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import util from 'node:util'

import { flowai, env, uniqueThread, rejectsWithCode } from './support.mjs'

const { MessagingClient, FlowAIError } = flowai

test('sends text, event and location with options', async () => {
  const client = new MessagingClient()
  const thread = uniqueThread('msg')
  assert.equal(await client.sendText(thread, 'hi', { traceId: 7, lang: 'en', timezone: 2 }), null)
  assert.equal(await client.sendEvent(thread, 'INTRO'), null)
  await client.sendLocation(thread, '52.37', '4.89')
  await client.sendLocation(thread, 52.37, 4.89)
  await client.sendText(thread, 'weather', { params: { city: [{ value: 'Amsterdam' }] } })
  await client.send({ threadId: thread, type: 'text', text: 'raw', traceId: 8 })
  await client.close()
})

test('settings given override the environment; open() resolves once ready', async () => {
  const client = await MessagingClient.open({ apiUrl: env.FLOWAI_API_URL, messagingKey: env.FLOWAI_MESSAGING_KEY })
  await client.sendText(uniqueThread('cfg'), 'hi')
  // snake_case keys are the same settings.
  await new MessagingClient({ api_url: env.FLOWAI_API_URL }).sendText(uniqueThread('cfg'), 'hi')
})

test('invalid settings reject with the core message, the same in every language', async () => {
  await rejectsWithCode(
    assert,
    MessagingClient.open({ apiUrl: env.FLOWAI_API_URL, messagingKey: 'k', timeoutMs: 0 }),
    'FLOWAI_INVALID_ARGUMENT',
    'timeout_ms must be greater than 0',
  )
  await rejectsWithCode(
    assert,
    MessagingClient.open({ apiUrl: 'not a url', messagingKey: 'k' }),
    'FLOWAI_INVALID_ARGUMENT',
    'api_url is not a valid URL: relative URL without a base',
  )
  // The sync constructor reports it through ready(), every call and 'closed'.
  const client = new MessagingClient({ timeoutMs: 0 })
  const closed = new Promise((resolve) => client.once('closed', resolve))
  await rejectsWithCode(assert, client.ready(), 'FLOWAI_INVALID_ARGUMENT', 'timeout_ms must be greater than 0')
  await rejectsWithCode(assert, client.sendText('t', 'hi'), 'FLOWAI_INVALID_ARGUMENT')
  assert.equal((await closed).error.code, 'FLOWAI_INVALID_ARGUMENT')
  await client.close()
  await rejectsWithCode(assert, MessagingClient.open({ colour: 'red' }), 'FLOWAI_INVALID_ARGUMENT', 'invalid settings: unknown field `colour`')
  await rejectsWithCode(assert, MessagingClient.open('key'), 'FLOWAI_INVALID_ARGUMENT', 'settings must be an object')
})

test('uploads media with progress events', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowai-node-'))
  const file = path.join(dir, 'picture.png')
  fs.writeFileSync(file, Buffer.alloc(300 * 1024, 7))
  const seen = []
  try {
    const client = new MessagingClient()
    client.on('progress', ({ sent, total }) => seen.push([sent, total]))
    await client.sendMedia(uniqueThread('media'), file, 'image', { mimeType: 'image/png' })
    // Progress events are queued to the event loop; let the last ones arrive.
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(seen.length > 0)
    assert.deepEqual(seen.at(-1), [300 * 1024, 300 * 1024])
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0])
    await client.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('invalid arguments are FLOWAI_INVALID_ARGUMENT before anything is sent', async () => {
  const client = new MessagingClient()
  await rejectsWithCode(assert, client.sendText('t', 'x'.repeat(256)), 'FLOWAI_INVALID_ARGUMENT', 'text is 256 characters; the limit is 255')
  await client.sendText(uniqueThread('len'), 'é'.repeat(255))
  await rejectsWithCode(assert, client.sendText('', 'hi'), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.sendText('t', 'hi', { lang: 'eng' }), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.sendText('t', 'hi', { traceId: -1 }), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.sendMedia('t', '/no/such/file.png', 'image'), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.sendMedia('t', '/etc/hostname', 'gif'), 'FLOWAI_INVALID_ARGUMENT')
  // Types are checked against the method table, with the same messages as everywhere.
  await rejectsWithCode(assert, client.sendText(42, 'hi'), 'FLOWAI_INVALID_ARGUMENT', 'send_text: `thread_id` must be a string')
  await rejectsWithCode(assert, client.sendText('t', null), 'FLOWAI_INVALID_ARGUMENT', 'send_text: `text` is required')
  await rejectsWithCode(assert, client.sendText('t', 'hi', { traceId: 'seven' }), 'FLOWAI_INVALID_ARGUMENT', 'send_text: `trace_id` must be a whole number')
  await rejectsWithCode(assert, client.call('sendText', { threadId: 't', text: 'hi', colour: 'red' }), 'FLOWAI_INVALID_ARGUMENT', 'send_text: unknown argument `colour`')
  await rejectsWithCode(assert, client.call('sendTxt', {}), 'FLOWAI_INVALID_ARGUMENT')
  // What JSON cannot carry is a TypeError, through the Promise.
  await assert.rejects(client.sendText('t', 10n), TypeError)
})

test('a wrong key is FLOWAI_AUTH with the HTTP status, and the key is in no message', async () => {
  const client = new MessagingClient({ messagingKey: 'wrong-secret-key' })
  await assert.rejects(client.sendText(uniqueThread('auth'), 'hi'), (err) => {
    assert.ok(err instanceof FlowAIError)
    assert.ok(err instanceof Error)
    assert.equal(err.name, 'FlowAIError')
    assert.equal(err.code, 'FLOWAI_AUTH')
    assert.equal(err.status, 401)
    assert.ok(!err.message.includes('wrong-secret-key'), 'the key must not leak into messages')
    assert.ok(!util.inspect(err).includes('wrong-secret-key'))
    return true
  })
  assert.ok(!util.inspect(client, { depth: 5 }).includes('wrong-secret-key'), 'nor into inspect()')
})

test('a missing key is FLOWAI_INVALID_ARGUMENT naming the variable', async () => {
  await rejectsWithCode(
    assert,
    MessagingClient.open({ messagingKey: '' }),
    'FLOWAI_INVALID_ARGUMENT',
    'no messaging_key given: set messaging_key or FLOWAI_MESSAGING_KEY',
  )
})

test('an unreachable service is FLOWAI_CONNECTION', async () => {
  const client = new MessagingClient({ apiUrl: 'http://127.0.0.1:9', timeoutMs: 2000 })
  await rejectsWithCode(assert, client.sendText('t', 'hi'), 'FLOWAI_CONNECTION')
})

test('the error codes come from the native table', () => {
  assert.equal(flowai.ERROR_CODES.length, 12)
  assert.ok(flowai.ERROR_CODES.includes('FLOWAI_QUEUE_FULL'))
  assert.ok(flowai.ERROR_CODES.includes('FLOWAI_MISUSE'))
  assert.ok(!flowai.ERROR_CODES.includes('FLOWAI_OK'))
  const err = new FlowAIError('FLOWAI_TIMEOUT', 'late')
  assert.ok(err instanceof Error)
  assert.equal(err.code, 'FLOWAI_TIMEOUT')
  assert.equal(err.status, null)
  assert.equal(flowai.EVENT_NAMES.at(-1), 'closed')
  assert.ok(flowai.EVENT_NAMES.includes('agentTyping'))
})

test('an unreadable caCert file is FLOWAI_INVALID_ARGUMENT', async () => {
  await rejectsWithCode(assert, MessagingClient.open({ caCert: '/no/such/ca.pem' }), 'FLOWAI_INVALID_ARGUMENT')
})
