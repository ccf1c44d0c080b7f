// Node binding benchmark, each figure next to its baseline, in one run.
//
//   node tests/bench/bench.mjs [--json] [--seconds S] [--events N] [--samples N]
//
// Build the addon in release mode first (`FLOWAI_NODE_PROFILE=release npm install` in
// node/, or `npm run build` there); a debug build is reported as such. The socket scenarios
// use FLOWAI_API_URL / FLOWAI_CLIENT_ID when set, else start $FLOWAI_BIN or
// target/release/flowai emulator, else an emulator in this process (the `emulator` kind).
//
// Scenarios:
// events     the `bench` kind emits N `progress` events as fast as its queue takes them;
//            they reach a JS 'progress' listener through the path of every object (event
//            queue, waker, threadsafe function, one JSON.parse per batch, EventEmitter).
//            Events per second, from run() to 'closed' handled.
// latency    the same at one event per millisecond (an idle pipeline): from `atNs`, stamped
//            on CLOCK_MONOTONIC just before the event goes into the queue, to the entry of
//            the JS listener (process.hrtime, the same clock). p50 / p99 in microseconds.
// floor      the same pacing and stamp through a bare napi threadsafe function calling an
//            empty listener (`_benchFloor`): what any event from another thread costs.
// one        one session against the emulator, one send in flight: acked msg/s, round trip.
// pipelined  one session with 64 sends in flight: acked messages per second.
// baseline   the same two over a raw `ws` client in this process, when the `ws` package of
//            tests/peer is installed.
//
// The bar: >= 250,000 events/s to a listener, and latency p50 <= 50 us or within 10 us of
// the floor.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import path from 'node:path'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const requireHere = createRequire(import.meta.url)
const flowai = requireHere(path.join(root, 'node'))
const native = flowai._native
const { EventBench, Session, Emulator } = flowai

const BAR_EVENTS_PER_S = 250_000
const BAR_P50_US = 50
const BAR_OVER_FLOOR_US = 10
const WINDOW = 64
const INTERVAL_US = 1000

const args = process.argv.slice(2)
const json = args.includes('--json')
function numberArg(name, fallback) {
  const at = args.indexOf(name)
  return at >= 0 ? Number(args[at + 1]) : fallback
}
const seconds = numberArg('--seconds', 2)
const eventCount = numberArg('--events', 300_000)
const samples = numberArg('--samples', 2_000)

const now = () => Number(process.hrtime.bigint())
const round1 = (x) => Math.round(x * 10) / 10
const round3 = (x) => Math.round(x * 1000) / 1000

function percentile(sorted, p) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

// n events from the bench kind to `onProgress`; resolves with the seconds to 'closed'.
async function benchEvents(n, intervalUs, onProgress) {
  const bench = await EventBench.open({})
  bench.on('progress', onProgress)
  const closed = new Promise((resolve) => bench.once('closed', resolve))
  const started = now()
  await bench.run(n, intervalUs ? { intervalUs } : undefined)
  await closed
  return (now() - started) / 1e9
}

async function events(n) {
  let count = 0
  const onProgress = () => {
    count += 1
  }
  await benchEvents(Math.min(n, 20_000), 0, onProgress) // warm-up
  count = 0
  const taken = await benchEvents(n, 0, onProgress)
  if (count !== n) throw new Error(`the listener saw ${count} of ${n} events`)
  return { n, node_events_per_s: Math.round(n / taken) }
}

function summary(latenciesNs) {
  const us = latenciesNs.map((ns) => ns / 1e3).sort((a, b) => a - b)
  return { p50_us: round1(percentile(us, 50)), p99_us: round1(percentile(us, 99)) }
}

async function latency(n) {
  const latencies = []
  await benchEvents(n, INTERVAL_US, ({ atNs }) => {
    latencies.push(now() - atNs)
  })
  return summary(latencies)
}

function floor(n) {
  return new Promise((resolve) => {
    const latencies = []
    native._benchFloor(n, INTERVAL_US, (atNs) => {
      latencies.push(now() - atNs)
      if (latencies.length === n) resolve(summary(latencies))
    })
  })
}

async function emulatorSettings() {
  if (process.env.FLOWAI_API_URL && process.env.FLOWAI_CLIENT_ID) {
    return { settings: { apiUrl: process.env.FLOWAI_API_URL, clientId: process.env.FLOWAI_CLIENT_ID }, stop: () => {} }
  }
  // A debug emulator would measure itself: without a release one, the addon's own.
  const release = path.join(root, 'target', 'release', 'flowai')
  const bin = process.env.FLOWAI_BIN || (fs.existsSync(release) ? release : null)
  if (!bin) {
    // Shares this process's runtime with the client: figures are lower than against a separate one.
    const emulator = await Emulator.open({})
    return { settings: await emulator.info(), stop: () => emulator.close(), where: 'in-process' }
  }
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
  return { settings: { apiUrl: env.FLOWAI_API_URL, clientId: env.FLOWAI_CLIENT_ID }, stop: () => child.kill(), where: bin }
}

function connect(settings, name) {
  return Session.connect({ ...settings, threadId: `bench-${name}-${process.pid}`, queueCapacity: 4096 })
}

// One message in flight: time from send() to its Promise.
async function oneInFlight(settings) {
  const session = await connect(settings, 'one')
  const latencies = []
  const end = Date.now() + seconds * 1000
  while (Date.now() < end) {
    const start = now()
    await session.sendText('ping')
    latencies.push(now() - start)
  }
  await session.close()
  return { acked_msgs_per_s: Math.round(latencies.length / seconds), ...summary(latencies) }
}

// `window` sends in flight, after a warm-up; counts acks and the events reaching a listener.
async function pipelined(settings, window) {
  const session = await connect(settings, `window${window}`)
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
    const started = now()
    await Promise.all(Array.from({ length: window }, worker))
    elapsed = (now() - started) / 1e9
  }
  const seen = events
  await session.close()
  return { window, acked_msgs_per_s: Math.round(acked / elapsed), events_per_s: Math.round(seen / elapsed) }
}

function loadWs() {
  try {
    return createRequire(path.join(root, 'tests', 'peer', 'package.json'))('ws')
  } catch {
    return null
  }
}

// Baseline: socket.info + a raw websocket, message.send / message.delivered by hand.
async function rawBaseline(settings, WebSocket, window) {
  const info = await fetch(
    `${settings.apiUrl}/socket.info?clientId=${encodeURIComponent(settings.clientId)}&sessionId=bench${process.pid}${window}`,
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
  const end = Date.now() + seconds * 1000
  const worker = async () => {
    while (Date.now() < end) {
      const start = now()
      await sendOne()
      latencies.push(now() - start)
    }
  }
  const started = now()
  await Promise.all(Array.from({ length: window }, worker))
  const elapsed = (now() - started) / 1e9
  ws.close()
  return { window, acked_msgs_per_s: Math.round(latencies.length / elapsed), ...summary(latencies) }
}

const ev = await events(eventCount)
const lat = await latency(samples)
const flo = await floor(samples)
const { settings, stop, where } = await emulatorSettings()
let one, window64, baseline
try {
  one = await oneInFlight(settings)
  window64 = await pipelined(settings, WINDOW)
  const WebSocket = loadWs()
  baseline = WebSocket
    ? { one_in_flight: await rawBaseline(settings, WebSocket, 1), pipelined: await rawBaseline(settings, WebSocket, WINDOW) }
    : null
} finally {
  await stop()
}
const overFloor = round1(lat.p50_us - flo.p50_us)
const result = {
  binding: 'node',
  node: process.version,
  build: native._debugBuild() ? 'debug' : 'release',
  emulator: where ?? 'external',
  seconds,
  events: ev,
  latency: { definition: `atNs (monotonic, before the queue) -> JS listener entry, 1 event per ${INTERVAL_US} us`, samples, ...lat },
  floor: { definition: 'the same through a bare threadsafe function to an empty listener', samples, ...flo },
  latency_over_floor_p50_us: overFloor,
  one_in_flight: one,
  pipelined: window64,
  baseline_raw_ws: baseline,
  ratio_one_in_flight: baseline ? round3(one.acked_msgs_per_s / baseline.one_in_flight.acked_msgs_per_s) : null,
  ratio_pipelined: baseline ? round3(window64.acked_msgs_per_s / baseline.pipelined.acked_msgs_per_s) : null,
  bar: {
    events_per_s_min: BAR_EVENTS_PER_S,
    p50_us_max: BAR_P50_US,
    p50_over_floor_us_max: BAR_OVER_FLOOR_US,
    met: ev.node_events_per_s >= BAR_EVENTS_PER_S && (lat.p50_us <= BAR_P50_US || overFloor <= BAR_OVER_FLOOR_US),
  },
}
if (json) {
  console.log(JSON.stringify(result))
} else {
  console.log(`build: ${result.build}, node ${process.version}, emulator: ${result.emulator}`)
  console.log(`events to a listener: ${ev.node_events_per_s.toLocaleString('en')}/s`)
  console.log(`latency atNs->listener: p50 ${lat.p50_us} us, p99 ${lat.p99_us} us`)
  console.log(`floor (bare threadsafe function): p50 ${flo.p50_us} us, p99 ${flo.p99_us} us; p50 over the floor ${overFloor} us`)
  console.log(`one in flight: ${one.acked_msgs_per_s} acked msg/s, p50 ${one.p50_us} us, p99 ${one.p99_us} us`)
  console.log(`window ${WINDOW}: ${window64.acked_msgs_per_s} acked msg/s, ${window64.events_per_s} events/s to the listener`)
  if (baseline) {
    console.log(`raw ws baseline: one in flight ${baseline.one_in_flight.acked_msgs_per_s} msg/s (p50 ${baseline.one_in_flight.p50_us} us), window 64 ${baseline.pipelined.acked_msgs_per_s} msg/s`)
    console.log(`ratios: one in flight ${result.ratio_one_in_flight}, window 64 ${result.ratio_pipelined}`)
  }
  console.log(
    `bar (>= ${BAR_EVENTS_PER_S.toLocaleString('en')} events/s; p50 <= ${BAR_P50_US} us or within ${BAR_OVER_FLOOR_US} us of the floor): ${result.bar.met ? 'met' : 'NOT met'}`,
  )
}
