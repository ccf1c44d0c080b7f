// Faults: a dropped socket (disconnected/reconnecting/connected, queued send delivered after
// the reconnect), garbage frames ('error' events), a late delivery (FLOWAI_TIMEOUT), a
// failing REST service (FLOWAI_HTTP). Uses its own emulator, since faults are global to an
// emulator and other test files run at the same time.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { flowai, root, waitFor, rejectsWithCode } from './support.mjs'

const { Session, MessagingClient } = flowai

function startEmulator() {
  const bin = process.env.FLOWAI_BIN || path.join(root, 'target', 'debug', 'flowai')
  assert.ok(fs.existsSync(bin), `${bin} is missing: cargo build -p flowai-cli`)
  const child = spawn(bin, ['emulator', '--port', '0', '--time-scale', '0.001'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    const env = {}
    let buffered = ''
    child.stdout.on('data', (chunk) => {
      buffered += chunk
      for (const line of buffered.split('\n')) {
        const match = /^(FLOWAI_[A-Z_]+)=(.*)$/.exec(line.trim())
        if (match) env[match[1]] = match[2]
      }
      if (env.FLOWAI_AIDA_TOKEN) resolve({ child, env })
    })
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)))
  })
}

const emulator = await startEmulator()
after(() => emulator.child.kill())

async function faults(body) {
  const response = await fetch(`${emulator.env.FLOWAI_API_URL}/_emulator/faults`, {
    method: body ? 'POST' : 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  })
  assert.equal(response.status, 200)
}

test('a send queued across a dropped connection is delivered after the reconnect', async () => {
  const session = await Session.connect({
    apiUrl: emulator.env.FLOWAI_API_URL,
    clientId: emulator.env.FLOWAI_CLIENT_ID,
    threadId: `reconnect-${process.pid}`,
    backoffBaseMs: 5,
    backoffCapMs: 20,
  })
  const types = []
  session.on('event', (e) => types.push(e.event))
  try {
    await faults({ dropAfterFrames: 1 })
    const disconnected = waitFor(session, 'disconnected')
    const reconnecting = waitFor(session, 'reconnecting')
    assert.equal((await session.sendText('hi')).speech, 'hi')
    await disconnected
    // Sent while offline: waits in the queue and goes out after the reconnect.
    const queued = session.sendText('while offline')
    await faults(null)
    const delivered = await queued
    assert.equal(delivered.speech, 'while offline')
    const { attempt, delayMs } = await reconnecting
    assert.ok(attempt >= 1 && Number.isInteger(delayMs) && delayMs >= 0, JSON.stringify({ attempt, delayMs }))
    assert.equal(typeof (await disconnected).reason, 'string')
    const at = types.indexOf('reconnecting')
    assert.ok(at > types.indexOf('disconnected'), types.join(','))
    assert.ok(types.lastIndexOf('connected') > at, types.join(','))
  } finally {
    await faults(null)
    await session.close()
  }
  assert.equal(types.at(-1), 'closed')
})

function connect(extra = {}) {
  return Session.connect({
    apiUrl: emulator.env.FLOWAI_API_URL,
    clientId: emulator.env.FLOWAI_CLIENT_ID,
    threadId: `faults-${process.pid}-${Math.random().toString(36).slice(2)}`,
    ...extra,
  })
}

test('a frame that is not JSON is an error event; the session goes on', async () => {
  const session = await connect()
  try {
    const error = waitFor(session, 'error')
    await faults({ socketGarbageFrames: 1 })
    const delivered = await session.sendText('hi')
    assert.equal(delivered.speech, 'hi')
    const payload = await error
    assert.equal(payload.code, 'FLOWAI_PROTOCOL')
    assert.equal(typeof payload.message, 'string')
  } finally {
    await faults(null)
    await session.close()
  }
})

test('a delivery later than sendTimeoutMs is FLOWAI_TIMEOUT', async () => {
  const session = await connect({ sendTimeoutMs: 50 })
  try {
    await faults({ replyDelayMs: 2000 })
    await rejectsWithCode(assert, session.sendText('hi'), 'FLOWAI_TIMEOUT')
  } finally {
    await faults(null)
    await session.close()
  }
})

test('a failing REST service is FLOWAI_HTTP with the status', async () => {
  const client = new MessagingClient({
    apiUrl: emulator.env.FLOWAI_API_URL,
    messagingKey: emulator.env.FLOWAI_MESSAGING_KEY,
  })
  try {
    await faults({ failHttp: 1 })
    await assert.rejects(client.sendText('t', 'hi'), (err) => err.code === 'FLOWAI_HTTP' && err.status === 500)
  } finally {
    await faults(null)
  }
})

test('more sends in flight than queueCapacity is FLOWAI_QUEUE_FULL', async () => {
  const session = await connect({ queueCapacity: 2 })
  try {
    await faults({ replyDelayMs: 300 })
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => session.sendText(`m${i}`)))
    const ok = results.filter((r) => r.status === 'fulfilled').length
    const full = results.filter((r) => r.status === 'rejected' && r.reason.code === 'FLOWAI_QUEUE_FULL').length
    assert.equal(ok, 2)
    assert.equal(full, 4)
  } finally {
    await faults(null)
    await session.close()
  }
})
