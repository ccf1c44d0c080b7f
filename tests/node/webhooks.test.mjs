// Webhook subscriptions, the embedded receiver and verifyAndParse.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { flowai, uniqueThread, waitFor, replyTexts, rejectsWithCode } from './support.mjs'

const { MessagingClient, WebhookReceiver, verifyAndParse, FlowAIError } = flowai

test('webhook CRUD', async () => {
  const client = new MessagingClient()
  const receiver = await WebhookReceiver.start({ verifyKey: 'vk-crud-1' })
  try {
    const created = await client.createWebhook({
      url: receiver.url,
      verifyKey: 'vk-crud-1',
      events: ['message.reply'],
    })
    assert.equal(created.url, receiver.url)
    assert.deepEqual(created.events, ['message.reply'])
    assert.equal(typeof created.webhookId, 'string')
    const got = await client.getWebhook(created.webhookId)
    assert.equal(got.webhookId, created.webhookId)
    const updated = await client.updateWebhook(created.webhookId, {
      events: ['message.reply', 'message.delivered'],
    })
    assert.deepEqual(updated.events, ['message.reply', 'message.delivered'])
    const listed = await client.listWebhooks()
    assert.ok(listed.some((w) => w.webhookId === created.webhookId))
    await client.deleteWebhook(created.webhookId)
    await assert.rejects(client.getWebhook(created.webhookId), FlowAIError)
    const after = await client.listWebhooks()
    assert.ok(!after.some((w) => w.webhookId === created.webhookId))
  } finally {
    await receiver.close()
  }
})

test('webhook validation errors', async () => {
  const client = new MessagingClient()
  await rejectsWithCode(assert, client.createWebhook({ url: 'not a url', verifyKey: 'k', events: ['message.reply'] }), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.createWebhook({ url: 'http://127.0.0.1:1/x', verifyKey: 'k', events: [] }), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.getWebhook(''), 'FLOWAI_INVALID_ARGUMENT')
  await assert.rejects(client.getWebhook(1), TypeError)
})

test('the receiver gets the bot reply to a REST message', async () => {
  const client = new MessagingClient()
  const receiver = await WebhookReceiver.start({ verifyKey: 'vk-reply-2' })
  const hook = await client.createWebhook({ url: receiver.url, verifyKey: 'vk-reply-2', events: ['message.reply'] })
  try {
    const thread = uniqueThread('hook')
    const reply = waitFor(receiver, 'message.reply', (e) => e.payload.threadId === thread)
    const any = waitFor(receiver, 'event', (e) => e.type === 'message.reply' && e.payload.threadId === thread)
    await client.sendText(thread, 'hi')
    const event = await reply
    assert.equal(event.type, 'message.reply')
    assert.match(replyTexts(event.payload).join(' '), /customer service demo bot/)
    assert.equal((await any).payload.threadId, thread)
  } finally {
    await client.deleteWebhook(hook.webhookId)
    await receiver.close()
  }
})

test('a listener that throws declines the call and the sender retries', async () => {
  const client = new MessagingClient()
  const receiver = await WebhookReceiver.start({ verifyKey: 'vk-retry-3' })
  const hook = await client.createWebhook({ url: receiver.url, verifyKey: 'vk-retry-3', events: ['message.reply'] })
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const thread = uniqueThread('retry')
    let calls = 0
    const second = new Promise((resolve) => {
      receiver.on('message.reply', (event) => {
        if (event.payload.threadId !== thread) return
        calls += 1
        if (calls === 1) throw new Error('not yet')
        resolve(event)
      })
    })
    await client.sendText(thread, 'hi')
    await second
    assert.equal(calls, 2)
  } finally {
    process.off('warning', onWarning)
    await client.deleteWebhook(hook.webhookId)
    await receiver.close()
  }
})

test('verifyAndParse checks the key and parses', () => {
  const body = JSON.stringify({ type: 'message.delivered', payload: { threadId: 't', traceId: 5 } })
  const event = verifyAndParse({ 'x-flowai-verify-key': 'vk-4' }, body, 'vk-4')
  assert.deepEqual(event, { type: 'message.delivered', payload: { threadId: 't', traceId: 5 } })
  // Node's header objects: mixed case names, Buffer bodies, query string and body field.
  assert.equal(verifyAndParse({ 'X-Flowai-Verify-Key': ['vk-4'] }, Buffer.from(body), 'vk-4').type, 'message.delivered')
  assert.equal(verifyAndParse({}, body, 'vk-4', { query: 'verifyKey=vk-4' }).type, 'message.delivered')
  assert.equal(verifyAndParse({ 'x-sig': 'vk-4' }, body, 'vk-4', { headerName: 'X-Sig' }).type, 'message.delivered')
  const unknown = verifyAndParse({ 'x-flowai-verify-key': 'vk-4' }, '{"type":"thread.archived","payload":{"x":1}}', 'vk-4')
  assert.deepEqual(unknown, { type: 'thread.archived', payload: { x: 1 } })
})

test('verifyAndParse errors', () => {
  const body = '{"type":"message.reply","payload":{}}'
  const code = (fn) => {
    try {
      fn()
    } catch (err) {
      assert.ok(err instanceof FlowAIError, String(err))
      return err.code
    }
    assert.fail('no error')
  }
  assert.equal(code(() => verifyAndParse({ 'x-flowai-verify-key': 'wrong' }, body, 'vk-5')), 'FLOWAI_VERIFICATION')
  assert.equal(code(() => verifyAndParse({}, body, 'vk-5')), 'FLOWAI_VERIFICATION')
  assert.equal(code(() => verifyAndParse({ 'x-flowai-verify-key': 'vk-5' }, '{not json', 'vk-5')), 'FLOWAI_PROTOCOL')
  assert.equal(code(() => verifyAndParse({}, body, '')), 'FLOWAI_INVALID_ARGUMENT')
  assert.throws(() => verifyAndParse(null, body, 'k'), TypeError)
  assert.throws(() => verifyAndParse({}, 42, 'k'), TypeError)
  assert.throws(() => verifyAndParse({}, body, 42), TypeError)
})

test('receiver option errors', async () => {
  await assert.rejects(WebhookReceiver.start({}), TypeError)
  await rejectsWithCode(assert, WebhookReceiver.start({ verifyKey: '' }), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, WebhookReceiver.start({ verifyKey: 'k', path: 'no-slash' }), 'FLOWAI_INVALID_ARGUMENT')
})
