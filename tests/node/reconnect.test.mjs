// A dropped socket: the session reports disconnected/reconnecting/connected and the send
// queued meanwhile is delivered after the reconnect. Uses its own emulator, since faults
// are global to an emulator and other test files run at the same time.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { flowai, root, waitFor } from './support.mjs'

const { Session } = flowai

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
  session.on('event', (e) => types.push(e.type))
  try {
    await faults({ dropAfterFrames: 1 })
    const disconnected = waitFor(session, 'disconnected')
    assert.equal((await session.sendText('hi')).speech, 'hi')
    await disconnected
    // Sent while offline: waits in the queue and goes out after the reconnect.
    const queued = session.sendText('while offline')
    await faults(null)
    const delivered = await queued
    assert.equal(delivered.speech, 'while offline')
    const reconnecting = types.indexOf('reconnecting')
    assert.ok(reconnecting > types.indexOf('disconnected'), types.join(','))
    assert.ok(types.lastIndexOf('connected') > reconnecting, types.join(','))
  } finally {
    await faults(null)
    await session.close()
  }
  assert.equal(types.at(-1), 'closed')
})
