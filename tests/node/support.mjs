// Shared helpers of the Node tests: the package under test and the emulator's settings.
import { createRequire } from 'node:module'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

export const here = path.dirname(fileURLToPath(import.meta.url))
export const root = path.resolve(here, '..', '..')
export const packageDir = path.join(root, 'node')

const require = createRequire(import.meta.url)
export const flowai = require(packageDir)

for (const name of ['FLOWAI_API_URL', 'FLOWAI_MESSAGING_KEY', 'FLOWAI_MANAGEMENT_KEY', 'FLOWAI_CLIENT_ID']) {
  if (!process.env[name]) {
    throw new Error(`${name} is not set: run tests/node/run.sh (it starts the emulator)`)
  }
}

export const env = process.env

/** A thread id unique to this run, so parallel test files never share a conversation. */
export function uniqueThread(prefix) {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

/** Resolve with the first argument of `emitter`'s `name` event that satisfies `match`. */
export function waitFor(emitter, name, match = () => true) {
  return new Promise((resolve) => {
    const listener = (value) => {
      if (match(value)) {
        emitter.off(name, listener)
        resolve(value)
      }
    }
    emitter.on(name, listener)
  })
}

/** Every text of the text templates of a reply (`Received`). */
export function replyTexts(received) {
  return received.messages.flatMap((m) =>
    m.responses.filter((r) => r.type === 'text').map((r) => r.payload.text),
  )
}

/** Assert that `promise` rejects with a FlowAIError of `code` (and `message`, when given). */
export async function rejectsWithCode(assert, promise, code, message) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof flowai.FlowAIError, `expected FlowAIError, got ${err && err.stack}`)
    assert.equal(err.code, code, err.message)
    if (message !== undefined) assert.equal(err.message, message)
    return true
  })
}

/** Resolve after pending callbacks, microtasks and unhandled-rejection checks have run. */
export function settle(ms = 20) {
  return new Promise((resolve) => setTimeout(() => setImmediate(resolve), ms))
}

/** Run `node script arg` and resolve with its exit and output; fail past `timeoutMs`. */
export function runChild(script, arg, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, script), arg], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} ${arg} did not exit by itself within ${timeoutMs} ms:\n${out}\n${err}`))
    }, timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, err })
    })
  })
}
