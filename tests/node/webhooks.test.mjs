// Webhook subscriptions, the embedded receiver and the verifier.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { flowai, uniqueThread, waitFor, replyTexts, rejectsWithCode } from './support.mjs'

const { MessagingClient, WebhookReceiver, WebhookVerifier, FlowAIError } = flowai

test('webhook CRUD', async () => {
  const client = new MessagingClient()
  const receiver = await WebhookReceiver.open({ verifyKey: 'vk-crud-1' })
  try {
    const { url } = await receiver.info()
    const created = await client.createWebhook(url, 'vk-crud-1', ['message.reply'])
    assert.equal(created.url, url)
    assert.deepEqual(created.events, ['message.reply'])
    assert.equal(typeof created.webhookId, 'string')
    const got = await client.getWebhook(created.webhookId)
    assert.equal(got.webhookId, created.webhookId)
    const updated = await client.updateWebhook(created.webhookId, { events: ['message.reply', 'message.delivered'] })
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
  await rejectsWithCode(assert, client.createWebhook('not a url', 'k', ['message.reply']), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.createWebhook('http://127.0.0.1:1/x', 'k', []), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.createWebhook('http://127.0.0.1:1/x', 'k', 'all'), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.getWebhook(''), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.getWebhook(1), 'FLOWAI_INVALID_ARGUMENT')
})

test('the receiver gets the bot reply to a REST message as a reply event', async () => {
  const client = new MessagingClient()
  const receiver = await WebhookReceiver.open({ verifyKey: 'vk-reply-2' })
  const hook = await client.createWebhook((await receiver.info()).url, 'vk-reply-2', ['message.reply'])
  try {
    const thread = uniqueThread('hook')
    const reply = waitFor(receiver, 'reply', (p) => p.threadId === thread)
    const any = waitFor(receiver, 'event', (e) => e.event === 'reply' && e.payload.threadId === thread)
    await client.sendText(thread, 'hi')
    const payload = await reply
    assert.equal(payload.reply.threadId, thread)
    assert.match(replyTexts(payload.reply).join(' '), /customer service demo bot/)
    assert.equal((await any).payload.threadId, thread)
  } finally {
    await client.deleteWebhook(hook.webhookId)
    await receiver.close()
  }
})

test('the receiver verifies, drops retried duplicates and passes unknown types through', async () => {
  const receiver = await WebhookReceiver.open({ verifyKey: 'vk-direct-3' })
  const { url } = await receiver.info()
  const events = []
  receiver.on('event', (e) => events.push(e))
  const post = (body, key, id) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-flowai-verify-key': key, 'x-flowai-delivery-id': id },
      body: JSON.stringify(body),
    }).then((r) => r.status)
  const delivered = { type: 'message.delivered', payload: { threadId: 't-3', traceId: 5 } }
  assert.equal(await post(delivered, 'vk-direct-3', 'a'), 200)
  assert.equal(await post(delivered, 'wrong', 'b'), 401)
  assert.equal(await post(delivered, 'vk-direct-3', 'a'), 200)
  assert.equal(await post({ type: 'thread.archived', payload: { x: 1 } }, 'vk-direct-3', 'c'), 200)
  await receiver.close()
  assert.deepEqual(
    events.map((e) => e.event),
    ['delivered', 'unknown', 'closed'],
  )
  assert.equal(events[0].payload.traceId, 5)
  assert.deepEqual(events[1].payload, { type: 'thread.archived', raw: { type: 'thread.archived', payload: { x: 1 } } })
})

test('the verifier checks the key and parses into an event', async () => {
  const verifier = await WebhookVerifier.open({ verifyKey: 'vk-4' })
  const body = JSON.stringify({ type: 'message.delivered', payload: { threadId: 't', traceId: 5 } })
  const event = await verifier.verify({ 'x-flowai-verify-key': 'vk-4' }, body)
  assert.equal(event.event, 'delivered')
  assert.equal(event.payload.threadId, 't')
  assert.equal(event.payload.traceId, 5)
  // Mixed-case names, pairs, Buffer bodies, the query string.
  assert.equal((await verifier.verify({ 'X-Flowai-Verify-Key': 'vk-4' }, Buffer.from(body))).event, 'delivered')
  assert.equal((await verifier.verify([['x-flowai-verify-key', 'vk-4']], body)).event, 'delivered')
  assert.equal((await verifier.verify({}, body, { query: 'verifyKey=vk-4' })).event, 'delivered')
  const custom = await WebhookVerifier.open({ verifyKey: 'vk-4', verifyHeader: 'X-Sig' })
  assert.equal((await custom.verify({ 'x-sig': 'vk-4' }, body)).event, 'delivered')
  const unknown = await verifier.verify({ 'x-flowai-verify-key': 'vk-4' }, '{"type":"thread.archived","payload":{"x":1}}')
  assert.equal(unknown.event, 'unknown')
  assert.equal(unknown.payload.type, 'thread.archived')
})

test('verifier errors', async () => {
  const verifier = await WebhookVerifier.open({ verifyKey: 'vk-5' })
  const body = '{"type":"message.reply","payload":{}}'
  await rejectsWithCode(assert, verifier.verify({ 'x-flowai-verify-key': 'wrong' }, body), 'FLOWAI_VERIFICATION')
  await rejectsWithCode(assert, verifier.verify({}, body), 'FLOWAI_VERIFICATION')
  await rejectsWithCode(assert, verifier.verify({ 'x-flowai-verify-key': 'vk-5' }, '{not json'), 'FLOWAI_PROTOCOL')
  await rejectsWithCode(assert, verifier.verify(null, body), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, verifier.verify({}, 42), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, WebhookVerifier.open({ verifyKey: '' }), 'FLOWAI_INVALID_ARGUMENT')
})

test('receiver setting errors', async () => {
  await rejectsWithCode(assert, WebhookReceiver.open({}), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, WebhookReceiver.open({ verifyKey: '' }), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, WebhookReceiver.open({ verifyKey: 'k', path: 'no-slash' }), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, WebhookReceiver.open({ verifyKey: 7 }), 'FLOWAI_INVALID_ARGUMENT')
})
