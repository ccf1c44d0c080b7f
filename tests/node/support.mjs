// Shared helpers of the Node tests: the package under test and the emulator's settings.
import { createRequire } from 'node:module'
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

/** Resolve with the first event of `emitter` named `name` that satisfies `match`. */
export function waitFor(emitter, name, match = () => true) {
  return new Promise((resolve) => {
    const listener = (event) => {
      if (match(event)) {
        emitter.off(name, listener)
        resolve(event)
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

/** Assert that `promise` rejects with a FlowAIError of `code`. */
export async function rejectsWithCode(assert, promise, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof flowai.FlowAIError, `expected FlowAIError, got ${err && err.stack}`)
    assert.equal(err.code, code, err.message)
    return true
  })
}
