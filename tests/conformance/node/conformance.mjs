// The conformance scenario (tests/conformance/SCENARIO.md) through the `flowai` package;
// prints one JSON line per step, events as Node hands them over (camelCase). Every step
// prints its line even when it fails, so a broken step is a diff of that one line. Exits 1
// when any step went otherwise than the scenario plans.
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const { Emulator, Session, AidaClient, WebhookReceiver, WebhookVerifier, MessagingClient, RestClient } = createRequire(
  import.meta.url,
)(path.join(root, 'node'))

const EVENT_TIMEOUT_MS = 10_000
const BODY =
  '{"type":"message.reply","payload":{"threadId":"conformance-thread","messages":[{"fallback":"hello","silent":false,"responses":[{"type":"text","payload":{"text":"hello"},"delay":0}]}]}}'
const VERIFY_KEY = 'conformance-key'

let surprises = 0

function line(value) {
  process.stdout.write(JSON.stringify(value) + '\n')
}

function errorValue(err) {
  return { code: err.code ?? null, message: err.message }
}

/** A call's result (null for nothing), or its error when it failed. */
async function result(step, promise) {
  try {
    const value = (await promise) ?? null
    line({ step, result: value })
    return value
  } catch (err) {
    surprises += 1
    line({ step, error: errorValue(err) })
    return undefined
  }
}

/** A call expected to fail: its error, or its result when it did not. */
async function error(step, promise) {
  try {
    const value = (await promise) ?? null
    surprises += 1
    line({ step, result: value })
  } catch (err) {
    line({ step, error: errorValue(err) })
  }
}

/** Collects an object's events from the moment it exists, for `events` lines. */
function track(object) {
  const tracked = { object, kept: [], notify: null }
  object.on('event', (ev) => {
    tracked.kept.push(ev)
    tracked.notify?.()
  })
  return tracked
}

/** Events up to and including the first `name`; later ones stay for the next line. */
async function events(step, tracked, name) {
  const deadline = Date.now() + EVENT_TIMEOUT_MS
  for (;;) {
    const at = tracked.kept.findIndex((ev) => ev.event === name)
    if (at >= 0) {
      line({ step, events: tracked.kept.splice(0, at + 1) })
      return
    }
    const left = deadline - Date.now()
    if (left <= 0 || (tracked.object.closed && tracked.kept.every((ev) => ev.event !== 'closed'))) {
      surprises += 1
      const seen = tracked.kept.splice(0)
      line({ step, events: seen, error: { code: 'CONFORMANCE_TIMEOUT', message: `no \`${name}\` within 10 s` } })
      return
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, left)
      tracked.notify = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    tracked.notify = null
  }
}

/** Open an object, tracking its events before any can arrive. */
async function open(cls, settings) {
  const object = new cls(settings)
  const tracked = track(object)
  await object.ready()
  return tracked
}

async function sessionSteps(S) {
  let session
  try {
    session = await open(Session, S)
  } catch (err) {
    return result('session.connected', Promise.reject(err))
  }
  const s = session.object
  await events('session.connected', session, 'connected')
  await result('session.send_text', s.sendText('hi'))
  await events('session.send_text.events', session, 'reply')
  await result('session.send_event', s.sendEvent('INTRO'))
  await events('session.send_event.events', session, 'reply')
  await result('session.typing', s.typing())
  await result('session.history', s.history())
  await result('session.close', s.close())
  await events('session.closed', session, 'closed')
}

async function aidaSteps(S) {
  let aida
  try {
    aida = await open(AidaClient, S)
  } catch (err) {
    return result('aida.connected', Promise.reject(err))
  }
  await events('aida.connected', aida, 'connected')
  const sessions = []
  for (const step of ['aida.s1', 'aida.s2']) {
    try {
      const s = await aida.object.newSession()
      sessions.push(track(s))
      await result(step, s.info())
    } catch (err) {
      return result(step, Promise.reject(err))
    }
  }
  const [s1, s2] = sessions
  await result('aida.s1.send_text', s1.object.sendText('hi'))
  await events('aida.s1.events', s1, 'aidaMessage')
  await result('aida.s2.send_text', s2.object.sendText('hello'))
  await events('aida.s2.events', s2, 'aidaMessage')
  await result('aida.close', aida.object.close())
  await events('aida.events', aida, 'closed')
  await events('aida.s1.closed', s1, 'closed')
  // Not a step: s2 ended with its client; closing it again is allowed and prints nothing.
  await s2.object.close().catch(() => {})
}

async function webhookSteps(emulator) {
  let receiver
  try {
    receiver = await open(WebhookReceiver, { verifyKey: VERIFY_KEY })
  } catch (err) {
    await result('receiver.open', Promise.reject(err))
  }
  if (receiver) {
    const info = await result('receiver.open', receiver.object.info())
    for (const [step, verifyKey, deliveryId] of [
      ['receiver.signed', VERIFY_KEY, 'd-1'],
      ['receiver.bad_key', 'wrong-key', 'd-2'],
      ['receiver.duplicate', VERIFY_KEY, 'd-1'],
    ]) {
      await result(step, emulator.postWebhook(info?.url ?? '', BODY, { verifyKey, deliveryId }))
    }
    await result('receiver.close', receiver.object.close())
    await events('receiver.events', receiver, 'closed')
  }

  let verifier
  try {
    verifier = await WebhookVerifier.open({ verifyKey: VERIFY_KEY })
  } catch (err) {
    return result('verifier.signed', Promise.reject(err))
  }
  const verify = (key) => verifier.verify({ 'X-Flowai-Verify-Key': key }, BODY)
  await result('verifier.signed', verify(VERIFY_KEY))
  await error('verifier.bad_key', verify('wrong-key'))
  // Not a step: every object is closed before the program ends.
  await verifier.close()
}

async function settingsSteps(S) {
  await error('settings.zero_timeout', MessagingClient.open({ apiUrl: S.apiUrl, messagingKey: 'k', timeoutMs: 0 }))
  await error('settings.bad_url', MessagingClient.open({ apiUrl: 'not a url', messagingKey: 'k' }))
  let client
  try {
    client = await MessagingClient.open(S)
  } catch (err) {
    return result('call.too_long', Promise.reject(err))
  }
  await error('call.too_long', client.sendText('t-1', 'x'.repeat(256)))
  await error('call.unknown_argument', client.call('sendText', { threadId: 't-1', text: 'hi', colour: 'red' }))
  // Not a step: every object is closed before the program ends.
  await client.close()
}

/** The number of items of a paged listing, walked with `for await`. */
async function count(listing) {
  let n = 0
  for await (const _ of listing) n++
  return { count: n }
}

async function restSteps(S, emulator) {
  let client
  try {
    client = await RestClient.open(S)
  } catch (err) {
    return result('rest.send_sync', Promise.reject(err))
  }
  const sent = await result('rest.send_sync', client.sendText('hi', { sync: true }))
  const threadId = sent?.threadId ?? ''
  // Not a step: more threads than two pages hold.
  for (let i = 0; i < 24; i++) await client.sendText('hello')
  await result('rest.threads', count(client.threads()))
  const page = client.threadsPage({ page: 2 }).then((p) => ({ page: p.page, hasMore: p.hasMore, items: p.items.length }))
  await result('rest.threads_page', page)
  await result('rest.messages', count(client.messages(threadId)))
  await result('rest.pause', client.pause(threadId))
  await result('rest.paused_send', client.sendText('hi', { threadId, sync: true }))
  await result('rest.pause_status', client.pauseStatus(threadId))
  await result('rest.resume', client.resume(threadId))
  await result('rest.resumed_send', client.sendText('hi', { threadId, sync: true }))
  await result('rest.handover', client.handover(threadId, { seconds: 60 }))
  await result('rest.handover_status', client.pauseStatus(threadId))
  await result('rest.trigger_events', client.triggerEvents())
  await result('rest.trigger_event', client.triggerEvent(threadId, 'INTRO'))
  await result('rest.business_hours', client.businessHours())
  await result('rest.segments', client.segments())
  await error('rest.too_long', client.sendText('x'.repeat(256), { sync: true }))
  // A send is never retried: the one failure is the answer. A read is.
  await emulator.setFaults({ restV1Failures: 1, restV1Status: 500 })
  await error('rest.send_5xx', client.sendText('hi', { threadId, sync: true }))
  await emulator.setFaults({ restV1Failures: 1, restV1Status: 503 })
  await result('rest.read_retried', client.pauseStatus(threadId))
  // Not a step: every object is closed before the program ends.
  await client.close()
}

async function main() {
  let emulator
  try {
    emulator = await Emulator.open({})
  } catch (err) {
    await result('emulator.info', Promise.reject(err))
    return 1
  }
  const S = await result('emulator.info', emulator.info())
  if (S === undefined) return 1
  await sessionSteps(S)
  await aidaSteps(S)
  await webhookSteps(emulator)
  await settingsSteps(S)
  await restSteps(S, emulator)
  await result('emulator.close', emulator.close())
  if (surprises > 0) console.error(`conformance: ${surprises} step(s) went wrong`)
  return surprises === 0 ? 0 : 1
}

process.exitCode = await main()
