// Flow REST API v1 through the Node package: sync sends, listings walked with `for await`, bot pause.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { flowai, rejectsWithCode } from './support.mjs'

const { Emulator, RestClient } = flowai
const THREADS = 45 // more than two pages of 20

/** The texts of the bot's replies in a sync send's answer. */
function texts(receipt) {
  return receipt.messages.flatMap((m) => m.responses.filter((r) => r.type === 'text').map((r) => r.payload.text))
}

// An emulator of this file's own, so the thread count is known.
let emulator
let client
before(async () => {
  emulator = await Emulator.open()
  client = await RestClient.open(await emulator.info())
})
after(async () => {
  await client.close()
  await emulator.close()
})

test('a sync send answers with the greeting', async () => {
  const receipt = await client.sendText('hi', { sync: true })
  assert.ok(receipt.threadId)
  assert.ok(texts(receipt).some((t) => t.includes('customer service demo bot')), JSON.stringify(receipt))
})

test('for await walks every thread, a page at a time', async () => {
  const made = new Set()
  for (let i = 0; i < THREADS; i++) made.add((await client.sendText(`hello ${i}`)).threadId)
  assert.equal(made.size, THREADS)
  const first = await client.threadsPage({ page: 1 })
  assert.equal(first.items.length, 20)
  assert.equal(first.hasMore, true)
  const seen = []
  for await (const thread of client.threads()) seen.push(thread.threadId)
  assert.equal(new Set(seen).size, seen.length, 'a thread listed twice')
  for (const id of made) assert.ok(seen.includes(id), `${id} not listed`)
  // Leaving a loop early closes its cursor; a new loop starts from the first page.
  for await (const thread of client.threads()) {
    assert.equal(thread.threadId, seen[0])
    break
  }
  const messages = []
  for await (const message of client.messages([...made][0])) messages.push(message)
  assert.ok(messages.length > 0)
})

test('a paused bot does not answer until resumed', async () => {
  const { threadId } = await client.sendText('hi', { sync: true })
  assert.equal((await client.pause(threadId)).isPaused, true)
  assert.equal((await client.pauseStatus(threadId)).isPaused, true)
  assert.deepEqual(texts(await client.sendText('hi', { threadId, sync: true })), [])
  assert.equal((await client.resume(threadId)).isPaused, false)
  assert.ok(texts(await client.sendText('hi', { threadId, sync: true })).length > 0)
})

test('bad input is refused before sending', async () => {
  await rejectsWithCode(assert, client.sendText('x'.repeat(256), { sync: true }), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, client.send({ payload: { type: 'fax' } }), 'FLOWAI_INVALID_ARGUMENT')
})

test('setLogger gets a line per request, never with the key', async () => {
  const records = []
  flowai.setLogger((record) => records.push(record))
  try {
    const { threadId } = await client.sendText('hi')
    await client.pauseStatus(threadId)
    for (let i = 0; i < 100 && !records.some((r) => r.message.includes('/rest/v1/pause/')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  } finally {
    flowai.setLogger(null)
  }
  assert.ok(records.some((r) => r.message.includes('/rest/v1/pause/') && r.level === 'debug'), JSON.stringify(records))
  const key = (await emulator.info()).messagingKey
  assert.ok(!records.some((r) => JSON.stringify(r).includes(key)))
})
