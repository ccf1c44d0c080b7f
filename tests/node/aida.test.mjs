// AIDA bots over Phoenix channels through the Node package, against the emulator.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { flowai, waitFor, rejectsWithCode } from './support.mjs'

const { AidaClient, AidaSession } = flowai

test('a session talks to the bot and ends with closed after delete', async () => {
  const client = await AidaClient.connect()
  try {
    assert.deepEqual(await client.info(), { bot: process.env.FLOWAI_AIDA_BOT, connected: true })
    const session = await client.newSession({ data: { name: 'Node' } })
    assert.ok(session instanceof AidaSession)
    const { sessionId } = await session.info()
    assert.equal(typeof sessionId, 'string')
    const message = waitFor(session, 'aidaMessage')
    await session.sendText('hi')
    const reply = await message
    assert.equal(reply.sessionId, sessionId)
    assert.match(reply.text, /customer service demo bot/)
    assert.equal(reply.data.session, sessionId)
    await session.putData({ city: 'Amsterdam' })
    const events = []
    session.on('event', (e) => events.push(e.event))
    const closed = waitFor(session, 'closed')
    assert.equal(await session.delete(), null)
    await closed
    assert.deepEqual(events, ['closed'])
    await rejectsWithCode(assert, session.sendText('again'), 'FLOWAI_CLOSED')
  } finally {
    await client.close()
  }
})

test('sessions only see their own replies; the client sees all; for await ends at closed', async () => {
  const client = await AidaClient.connect()
  const clientMessages = []
  client.on('aidaMessage', (p) => clientMessages.push(p.sessionId))
  try {
    const a = await client.newSession()
    const b = await client.newSession()
    const aId = (await a.info()).sessionId
    const bMessages = []
    b.on('aidaMessage', (p) => bMessages.push(p))
    const seen = []
    const loop = (async () => {
      for await (const ev of a) {
        seen.push(ev)
        if (ev.event === 'aidaMessage') await a.close()
      }
    })()
    await a.sendText('hi')
    await loop
    assert.equal(seen.at(-1).event, 'closed')
    assert.ok(seen.filter((e) => e.event === 'aidaMessage').every((e) => e.payload.sessionId === aId))
    assert.equal(bMessages.length, 0)
    assert.ok(clientMessages.includes(aId))
    await b.close()
  } finally {
    await client.close()
  }
})

test('a session is resumed by id', async () => {
  const client = await AidaClient.connect()
  try {
    const first = await client.newSession()
    const { sessionId } = await first.info()
    const again = await client.session(sessionId)
    assert.deepEqual(await again.info(), { sessionId })
    const message = waitFor(again, 'aidaMessage')
    await again.sendText('hi')
    assert.equal((await message).sessionId, sessionId)
    await first.close()
    await again.close()
  } finally {
    await client.close()
  }
})

test('images go up and come back', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowai-aida-'))
  const file = path.join(dir, 'tiny.png')
  const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4])
  fs.writeFileSync(file, bytes)
  const client = await AidaClient.connect()
  try {
    const session = await client.newSession()
    const { imageId } = await session.sendImage(file, { contentType: 'image/png' })
    assert.equal(typeof imageId, 'string')
    const back = await client.fetchImage(imageId)
    assert.equal(back.contentType, 'image/png')
    assert.deepEqual([...Buffer.from(back.data, 'base64')], [...bytes])
    await session.close()
  } finally {
    await client.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('client events end with closed; closing ends every session', async () => {
  const client = new AidaClient()
  const names = []
  client.on('event', (e) => names.push(e.event))
  await client.ready()
  const session = await client.newSession()
  const sessionClosed = waitFor(session, 'closed')
  await client.close()
  await sessionClosed
  assert.equal(names[0], 'connected')
  assert.equal(names.at(-1), 'closed')
  assert.equal(names.filter((t) => t === 'closed').length, 1)
})

test('errors: a wrong token is FLOWAI_AUTH without the token, wrong types are FLOWAI_INVALID_ARGUMENT', async () => {
  await assert.rejects(AidaClient.connect({ aidaToken: 'wrong-secret-token' }), (err) => {
    assert.equal(err.code, 'FLOWAI_AUTH')
    assert.ok(!err.message.includes('wrong-secret-token'), err.message)
    return true
  })
  assert.throws(() => new AidaSession(), TypeError)
  const client = await AidaClient.connect()
  try {
    const session = await client.newSession()
    await rejectsWithCode(assert, session.sendText(1), 'FLOWAI_INVALID_ARGUMENT')
    await rejectsWithCode(assert, session.sendImage(42), 'FLOWAI_INVALID_ARGUMENT')
    await rejectsWithCode(assert, client.session(3), 'FLOWAI_INVALID_ARGUMENT')
    await rejectsWithCode(assert, client.newSession({ data: 'x' }), 'FLOWAI_INVALID_ARGUMENT')
    await session.close()
  } finally {
    await client.close()
  }
})
