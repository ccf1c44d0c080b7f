// Node binding benchmark against the emulator: event delivery to a JS listener and acked
// messages per second for one session. `node tests/bench/bench.mjs [--json] [--seconds N]`.
// Uses FLOWAI_API_URL / FLOWAI_CLIENT_ID when set, else starts target/debug/flowai emulator
// (FLOWAI_BIN picks another build). The baseline is a raw `ws` client in the same process,
// measured when the `ws` package of tests/peer is installed.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const { Session } = createRequire(import.meta.url)(path.join(root, 'node'))

const args = process.argv.slice(2)
const json = args.includes('--json')
const secondsArg = args.indexOf('--seconds')
const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 2

async function emulatorEnv() {
  if (process.env.FLOWAI_API_URL && process.env.FLOWAI_CLIENT_ID) {
    return { env: process.env, stop: () => {} }
  }
  const bin = process.env.FLOWAI_BIN || path.join(root, 'target', 'debug', 'flowai')
  const child = spawn(bin, ['emulator', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const env = await new Promise((resolve, reject) => {
    const found = {}
    let text = ''
    child.stdout.on('data', (chunk) => {
      text += chunk
      for (const line of text.split('\n')) {
        const m = /^(FLOWAI_[A-Z_]+)=(.*)$/.exec(line.trim())
        if (m) found[m[1]] = m[2]
      }
      if (found.FLOWAI_AIDA_TOKEN) resolve(found)
    })
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)))
  })
  return { env, stop: () => child.kill() }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function connect(env, name) {
  return Session.connect({
    apiUrl: env.FLOWAI_API_URL,
    clientId: env.FLOWAI_CLIENT_ID,
    threadId: `bench-${name}-${process.pid}`,
    queueCapacity: 4096,
  })
}

// One message in flight: time from send() to the 'delivered' listener, and to the Promise.
async function oneInFlight(env) {
  const session = await connect(env, 'one')
  const waiting = new Map()
  session.on('delivered', ({ delivered }) => {
    const start = waiting.get(delivered.traceId)
    if (start !== undefined) {
      waiting.delete(delivered.traceId)
      listenerLatencies.push(Number(process.hrtime.bigint() - start) / 1e3)
    }
  })
  const listenerLatencies = []
  const promiseLatencies = []
  let traceId = 1
  const end = Date.now() + seconds * 1000
  while (Date.now() < end) {
    const id = traceId++
    const start = process.hrtime.bigint()
    waiting.set(id, start)
    await session.sendText('ping', { traceId: id })
    promiseLatencies.push(Number(process.hrtime.bigint() - start) / 1e3)
  }
  await session.close()
  listenerLatencies.sort((a, b) => a - b)
  promiseLatencies.sort((a, b) => a - b)
  return {
    acked_msgs_per_s: promiseLatencies.length / seconds,
    p50_round_trip_us: percentile(promiseLatencies, 50),
    p99_round_trip_us: percentile(promiseLatencies, 99),
    p50_send_to_listener_us: percentile(listenerLatencies, 50),
  }
}

// `window` sends in flight; counts acks and every event that reaches the listener.
async function pipelined(env, window) {
  const session = await connect(env, `window${window}`)
  let events = 0
  session.on('event', () => {
    events += 1
  })
  let acked = 0
  const end = Date.now() + seconds * 1000
  const worker = async () => {
    while (Date.now() < end) {
      await session.sendText('ping')
      acked += 1
    }
  }
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: window }, worker))
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  await session.close()
  return { window, acked_msgs_per_s: acked / elapsed, events_per_s: events / elapsed }
}

function loadWs() {
  try {
    return createRequire(path.join(root, 'tests', 'peer', 'package.json'))('ws')
  } catch {
    return null
  }
}

// Baseline: socket.info + a raw websocket, message.send / message.delivered by hand.
async function rawBaseline(env, WebSocket, window) {
  const info = await fetch(
    `${env.FLOWAI_API_URL}/socket.info?clientId=${encodeURIComponent(env.FLOWAI_CLIENT_ID)}&sessionId=bench${process.pid}${window}`,
  ).then((r) => r.json())
  const ws = new WebSocket(info.payload.endpoint)
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const pending = new Map()
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString())
    if (frame.type === 'message.delivered') {
      const done = pending.get(frame.payload.traceId)
      if (done) {
        pending.delete(frame.payload.traceId)
        done()
      }
    }
  })
  const threadId = `bench-raw-${process.pid}-${window}`
  let traceId = 1
  const sendOne = () =>
    new Promise((resolve) => {
      const id = traceId++
      pending.set(id, resolve)
      ws.send(JSON.stringify({ type: 'message.send', payload: { threadId, traceId: id, speech: 'ping' } }))
    })
  const latencies = []
  let acked = 0
  const end = Date.now() + seconds * 1000
  const worker = async () => {
    while (Date.now() < end) {
      const start = process.hrtime.bigint()
      await sendOne()
      latencies.push(Number(process.hrtime.bigint() - start) / 1e3)
      acked += 1
    }
  }
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: window }, worker))
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  ws.close()
  latencies.sort((a, b) => a - b)
  return { window, acked_msgs_per_s: acked / elapsed, p50_round_trip_us: percentile(latencies, 50) }
}

const { env, stop } = await emulatorEnv()
try {
  const one = await oneInFlight(env)
  const window64 = await pipelined(env, 64)
  const WebSocket = loadWs()
  const baseline = WebSocket
    ? { one_in_flight: await rawBaseline(env, WebSocket, 1), pipelined: await rawBaseline(env, WebSocket, 64) }
    : null
  const result = {
    binding: 'node',
    node: process.version,
    seconds,
    one_in_flight: one,
    pipelined: window64,
    baseline_raw_ws: baseline,
    ratio_one_in_flight: baseline ? one.acked_msgs_per_s / baseline.one_in_flight.acked_msgs_per_s : null,
    ratio_pipelined: baseline ? window64.acked_msgs_per_s / baseline.pipelined.acked_msgs_per_s : null,
  }
  if (json) {
    console.log(JSON.stringify(result))
  } else {
    console.log(`one in flight: ${one.acked_msgs_per_s.toFixed(0)} acked msg/s, p50 ${one.p50_round_trip_us.toFixed(0)} us, p99 ${one.p99_round_trip_us.toFixed(0)} us, send->listener p50 ${one.p50_send_to_listener_us?.toFixed(0)} us`)
    console.log(`window 64: ${window64.acked_msgs_per_s.toFixed(0)} acked msg/s, ${window64.events_per_s.toFixed(0)} events/s to the listener`)
    if (baseline) {
      console.log(`raw ws baseline: one in flight ${baseline.one_in_flight.acked_msgs_per_s.toFixed(0)} msg/s (p50 ${baseline.one_in_flight.p50_round_trip_us.toFixed(0)} us), window 64 ${baseline.pipelined.acked_msgs_per_s.toFixed(0)} msg/s`)
      console.log(`ratios: one in flight ${result.ratio_one_in_flight.toFixed(2)}, window 64 ${result.ratio_pipelined.toFixed(2)}`)
    }
  }
} finally {
  stop()
}
