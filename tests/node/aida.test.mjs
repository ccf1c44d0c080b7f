// AIDA bots over Phoenix channels through the Node package, against the emulator.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { flowai, waitFor, rejectsWithCode } from './support.mjs'

const { AidaClient, FlowAIError } = flowai

test('a session talks to the bot and ends with closed after delete', async () => {
  const client = await AidaClient.connect()
  try {
    assert.equal(client.bot, process.env.FLOWAI_AIDA_BOT)
    assert.ok(client.isConnected)
    const session = await client.newSession({ name: 'Node' })
    assert.equal(typeof session.id, 'string')
    const message = waitFor(session, 'message')
    await session.sendText('hi')
    const reply = await message
    assert.equal(reply.type, 'message')
    assert.equal(reply.session, session.id)
    assert.match(reply.text, /customer service demo bot/)
    await session.putData({ city: 'Amsterdam' })
    const events = []
    session.on('event', (e) => events.push(e.type))
    await session.delete()
    assert.deepEqual(events, ['closed'])
    await rejectsWithCode(assert, session.sendText('again'), 'FLOWAI_CLOSED')
  } finally {
    await client.close()
  }
})

test('sessions only see their own replies; for await ends at closed', async () => {
  const client = await AidaClient.connect()
  try {
    const a = await client.newSession()
    const b = await client.newSession()
    const bMessages = []
    b.on('message', (e) => bMessages.push(e))
    const seen = []
    const loop = (async () => {
      for await (const event of a) {
        seen.push(event)
        if (event.type === 'message') await a.close()
      }
    })()
    await a.sendText('hi')
    await loop
    assert.equal(seen.at(-1).type, 'closed')
    assert.ok(seen.filter((e) => e.type === 'message').every((e) => e.session === a.id))
    assert.equal(bMessages.length, 0)
    await b.close()
  } finally {
    await client.close()
  }
})

test('images go up and come back', async () => {
  const client = await AidaClient.connect()
  try {
    const session = await client.newSession()
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4])
    const id = await session.sendImage(bytes, 'tiny.png', 'image/png')
    assert.equal(typeof id, 'string')
    const back = await client.downloadImage(id)
    assert.ok(Buffer.isBuffer(back))
    assert.deepEqual([...back], [...bytes])
    await session.close()
  } finally {
    await client.close()
  }
})

test('client events end with closed; closing ends every session', async () => {
  const client = new AidaClient()
  const types = []
  client.on('event', (e) => types.push(e.type))
  await client.ready()
  const session = await client.newSession()
  const sessionClosed = waitFor(session, 'closed')
  await client.close()
  await sessionClosed
  assert.equal(types[0], 'connected')
  assert.equal(types.at(-1), 'closed')
  assert.equal(types.filter((t) => t === 'closed').length, 1)
})

test('errors: wrong token is FLOWAI_AUTH, wrong types are TypeErrors', async () => {
  await rejectsWithCode(assert, AidaClient.connect({ token: 'wrong-token' }), 'FLOWAI_AUTH')
  await assert.rejects(AidaClient.connect({ token: 'wrong-token' }), (err) => !err.message.includes('wrong-token'))
  const client = await AidaClient.connect()
  try {
    const session = await client.newSession()
    await assert.rejects(session.sendText(1), TypeError)
    await assert.rejects(session.sendImage(42, 'a', 'b'), TypeError)
    assert.throws(() => client.session(3), TypeError)
    await session.close()
    assert.ok(new FlowAIError('FLOWAI_AUTH', 'x') instanceof Error)
  } finally {
    await client.close()
  }
})
