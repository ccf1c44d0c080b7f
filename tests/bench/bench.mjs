// Node binding benchmark, each figure next to the same scenario without JS, in one run.
//
//   node tests/bench/bench.mjs [--json] [--seconds S] [--events N] [--samples N]
//
// Uses FLOWAI_API_URL / FLOWAI_CLIENT_ID when set, else starts target/release/flowai emulator
// (or target/debug/flowai, or $FLOWAI_BIN). Build the addon in release mode first
// (`FLOWAI_NODE_PROFILE=release npm install` in node/, or `npm run build` there); a debug
// build is reported as such.
//
// Scenarios:
// events     N synthetic 'delivered' events made on the native runtime go through the session
//            dispatch (the event channel, dispatch loop and threadsafe function every session
//            uses, then the EventEmitter of index.js) to a 'delivered' listener that counts
//            them; the Rust figure sends them through the same loop into a no-op closure.
//            Events per second, creation of the first to 'closed' handled.
// latency    the same path paced at one event per millisecond (an idle pipeline): time from
//            the event's creation on the runtime to the entry of the JS listener
//            (process.hrtime, the monotonic clock the creation stamp is taken on), and to the
//            entry of the Rust closure. p50 / p99 in microseconds.
// one        one session against the emulator, one send in flight: acked msg/s and latencies.
// pipelined  one session with 64 sends in flight: 64 async loops awaiting sendText (events to
//            an 'event' counter); Rust runs 64 tokio tasks awaiting Session::send_text.
//            Acked messages per second, after a warm-up.
// baseline   a raw `ws` client in the same process, when the `ws` package of tests/peer is
//            installed.
//
// The bar: Node listeners >= 250,000 events/s and latency p50 <= 50 us.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import path from 'node:path'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const requireHere = createRequire(import.meta.url)
const flowai = requireHere(path.join(root, 'node'))
const native = requireHere(path.join(root, 'node', 'native.js'))
const { Session } = flowai

const BAR_EVENTS_PER_S = 250_000
const BAR_P50_US = 50
const WINDOW = 64

const args = process.argv.slice(2)
const json = args.includes('--json')
const secondsArg = args.indexOf('--seconds')
const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 2
function numberArg(name, fallback) {
  const at = args.indexOf(name)
  return at >= 0 ? Number(args[at + 1]) : fallback
}
const eventCount = numberArg('--events', 300_000)
const samples = numberArg('--samples', 2_000)

async function emulatorEnv() {
  if (process.env.FLOWAI_API_URL && process.env.FLOWAI_CLIENT_ID) {
    return { env: process.env, stop: () => {} }
  }
  const release = path.join(root, 'target', 'release', 'flowai')
  const bin = process.env.FLOWAI_BIN || (fs.existsSync(release) ? release : path.join(root, 'target', 'debug', 'flowai'))
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
  let elapsed = 0
  for (const span of [Math.min(0.5, seconds / 2), seconds]) {
    acked = 0
    events = 0
    const end = Date.now() + span * 1000
    const worker = async () => {
      while (Date.now() < end) {
        await session.sendText('ping')
        acked += 1
      }
    }
    const started = process.hrtime.bigint()
    await Promise.all(Array.from({ length: window }, worker))
    elapsed = Number(process.hrtime.bigint() - started) / 1e9
  }
  const seen = events
  await session.close()
  const rust = await native._benchPipelined(window, seconds, Math.min(0.5, seconds / 2), env.FLOWAI_API_URL, env.FLOWAI_CLIENT_ID)
  const node = acked / elapsed
  return {
    window,
    acked_msgs_per_s: Math.round(node),
    rust_acked_msgs_per_s: Math.round(rust),
    node_over_rust: round3(node / rust),
    events_per_s: Math.round(seen / elapsed),
  }
}

function round3(x) {
  return Math.round(x * 1000) / 1000
}

// n synthetic events through the session dispatch to a JS listener; resolves after 'closed'.
async function jsEvents(n, intervalMs, onDelivered) {
  const { emitter, figures } = flowai._benchEvents(n, intervalMs)
  emitter.on('delivered', onDelivered)
  const started = process.hrtime.bigint()
  await new Promise((resolve) => emitter.once('closed', resolve))
  const secondsTaken = Number(process.hrtime.bigint() - started) / 1e9
  return { seconds: secondsTaken, ...(await figures) }
}

function rustEvents(n, intervalMs) {
  return native._benchEvents(n, intervalMs, Number(process.hrtime.bigint()), null)
}

async function events(n) {
  let count = 0
  const onDelivered = () => {
    count += 1
  }
  await jsEvents(Math.min(n, 20_000), 0, onDelivered) // warm-up
  await rustEvents(Math.min(n, 20_000), 0)
  count = 0
  const js = await jsEvents(n, 0, onDelivered)
  if (count !== n) throw new Error(`the listener saw ${count} of ${n} events`)
  const rust = await rustEvents(n, 0)
  const jsRate = n / js.seconds
  const rustRate = n / rust.seconds
  return {
    n,
    node_events_per_s: Math.round(jsRate),
    rust_events_per_s: Math.round(rustRate),
    node_over_rust: round3(jsRate / rustRate),
  }
}

async function latency(n) {
  const entries = new Float64Array(n)
  const js = await jsEvents(n, 1, (event) => {
    entries[event.delivered.traceId] = Number(process.hrtime.bigint())
  })
  const jsUs = Array.from(entries, (entered, i) => (entered - js.createdNs[i]) / 1e3).sort((a, b) => a - b)
  const rust = await rustEvents(n, 1)
  const rustUs = rust.latenciesNs.map((ns) => ns / 1e3).sort((a, b) => a - b)
  const r1 = (x) => Math.round(x * 10) / 10
  return {
    definition: 'event created on the native runtime -> listener entry, 1 event/ms',
    samples: n,
    node_p50_us: r1(percentile(jsUs, 50)),
    node_p99_us: r1(percentile(jsUs, 99)),
    rust_p50_us: r1(percentile(rustUs, 50)),
    rust_p99_us: r1(percentile(rustUs, 99)),
  }
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
  const ev = await events(eventCount)
  const lat = await latency(samples)
  const one = await oneInFlight(env)
  const window64 = await pipelined(env, WINDOW)
  const WebSocket = loadWs()
  const baseline = WebSocket
    ? { one_in_flight: await rawBaseline(env, WebSocket, 1), pipelined: await rawBaseline(env, WebSocket, WINDOW) }
    : null
  const result = {
    binding: 'node',
    node: process.version,
    build: native._debugBuild() ? 'debug' : 'release',
    seconds,
    events: ev,
    latency: lat,
    one_in_flight: one,
    pipelined: window64,
    baseline_raw_ws: baseline,
    ratio_one_in_flight: baseline ? one.acked_msgs_per_s / baseline.one_in_flight.acked_msgs_per_s : null,
    ratio_pipelined: baseline ? window64.acked_msgs_per_s / baseline.pipelined.acked_msgs_per_s : null,
    bar: {
      events_per_s_min: BAR_EVENTS_PER_S,
      p50_us_max: BAR_P50_US,
      met: ev.node_events_per_s >= BAR_EVENTS_PER_S && lat.node_p50_us <= BAR_P50_US,
    },
  }
  if (json) {
    console.log(JSON.stringify(result))
  } else {
    console.log(`build: ${result.build}, node ${process.version}`)
    console.log(`events to a listener: node ${ev.node_events_per_s.toLocaleString('en')}/s, rust ${ev.rust_events_per_s.toLocaleString('en')}/s (node/rust ${ev.node_over_rust})`)
    console.log(`latency creation->listener: node p50 ${lat.node_p50_us} us p99 ${lat.node_p99_us} us, rust p50 ${lat.rust_p50_us} us p99 ${lat.rust_p99_us} us`)
    console.log(`one in flight: ${one.acked_msgs_per_s.toFixed(0)} acked msg/s, p50 ${one.p50_round_trip_us.toFixed(0)} us, p99 ${one.p99_round_trip_us.toFixed(0)} us, send->listener p50 ${one.p50_send_to_listener_us?.toFixed(0)} us`)
    console.log(`window ${WINDOW}: node ${window64.acked_msgs_per_s} acked msg/s, rust ${window64.rust_acked_msgs_per_s} (node/rust ${window64.node_over_rust}), ${window64.events_per_s} events/s to the listener`)
    if (baseline) {
      console.log(`raw ws baseline: one in flight ${baseline.one_in_flight.acked_msgs_per_s.toFixed(0)} msg/s (p50 ${baseline.one_in_flight.p50_round_trip_us.toFixed(0)} us), window 64 ${baseline.pipelined.acked_msgs_per_s.toFixed(0)} msg/s`)
      console.log(`ratios: one in flight ${result.ratio_one_in_flight.toFixed(2)}, window 64 ${result.ratio_pipelined.toFixed(2)}`)
    }
    console.log(`bar (>= ${BAR_EVENTS_PER_S.toLocaleString('en')} events/s, p50 <= ${BAR_P50_US} us): ${result.bar.met ? 'met' : 'NOT met'}`)
  }
} finally {
  stop()
}
