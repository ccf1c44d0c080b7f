// Record and replay through the in-process Emulator: one Emulator plays the real service,
// another records a session's conversation with it into a file, a third replays the file
// with the service gone, and a session sees the same bot reply with its own thread.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { flowai, waitFor, replyTexts, rejectsWithCode } from './support.mjs'

const { Emulator, Session } = flowai

/** Connect with `settings`, say "hi", and give the texts of the bot's reply. */
async function sayHi(settings) {
  const session = await Session.connect(settings)
  try {
    const { threadId } = await session.info()
    const reply = waitFor(session, 'reply')
    const delivered = await session.sendText('hi')
    assert.equal(delivered.speech, 'hi')
    const payload = await reply
    assert.equal(payload.threadId, threadId)
    assert.equal(payload.reply.traceId, delivered.traceId)
    return replyTexts(payload.reply)
  } finally {
    await session.close()
  }
}

test('a conversation recorded through an Emulator replays through another', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowai-replay-'))
  const file = path.join(dir, 'session.jsonl')
  const service = await Emulator.open({})
  let recorder
  let replay
  try {
    const real = await service.info()
    recorder = await Emulator.open({ record: file, upstream: real.apiUrl })
    const urls = await recorder.info()
    // The recorder's URLs only: the keys are the service's own and pass through it.
    assert.deepEqual(Object.keys(urls).sort(), ['aidaUrl', 'apiUrl'])
    assert.notEqual(urls.apiUrl, real.apiUrl)
    const live = await sayHi({ ...real, ...urls })
    assert.ok(live.some((t) => /customer service demo bot/.test(t)), JSON.stringify(live))
    await recorder.close()

    // Complete once close resolved; the service's client id is masked.
    const text = fs.readFileSync(file, 'utf8')
    assert.equal(JSON.parse(text.split('\n')[0]).format, 'flowai-recording')
    assert.ok(text.includes('"kind":"frame"'))
    assert.ok(!text.includes(real.clientId))

    await service.close()
    replay = await Emulator.open({ replay: file })
    const settings = await replay.info()
    assert.notEqual(settings.clientId, real.clientId)
    // A recording without AIDA traffic offers no bot.
    assert.equal(settings.aidaBot, undefined)
    assert.deepEqual(await sayHi(settings), live)
  } finally {
    await recorder?.close()
    await replay?.close()
    await service.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('record and replay settings are checked before anything starts', async () => {
  const bad = 'FLOWAI_INVALID_ARGUMENT'
  await rejectsWithCode(assert, Emulator.open({ record: '/tmp/r.jsonl' }), bad,
    'record needs upstream: the URL of the service to record')
  await rejectsWithCode(assert, Emulator.open({ replay: '/tmp/r.jsonl', timeScale: 0.5 }), bad,
    'replay cannot be combined with time_scale: a replay serves the recording as it is')
  await rejectsWithCode(assert, Emulator.open({ upstream: 'http://127.0.0.1:9' }), bad,
    'upstream is only used with record: give record too')
  const missing = path.join(os.tmpdir(), `flowai-no-such-${process.pid}.jsonl`)
  await assert.rejects(Emulator.open({ replay: missing }), (err) => {
    assert.equal(err.code, bad)
    assert.ok(err.message.startsWith(`cannot start the replay: cannot read the recording ${missing}`), err.message)
    return true
  })
})
