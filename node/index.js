// The `flowai` package: Promises for every call, EventEmitter sessions, FlowAIError with
// stable codes. All logic lives in the native core; this file converts arguments, errors
// and events.
'use strict'

const { EventEmitter } = require('node:events')
const native = require('./native.js')

/** The stable error codes, the same in every language. */
const ERROR_CODES = Object.freeze([
  'FLOWAI_INVALID_ARGUMENT',
  'FLOWAI_AUTH',
  'FLOWAI_HTTP',
  'FLOWAI_RATE_LIMITED',
  'FLOWAI_TIMEOUT',
  'FLOWAI_CONNECTION',
  'FLOWAI_PROTOCOL',
  'FLOWAI_CLOSED',
  'FLOWAI_VERIFICATION',
  'FLOWAI_QUEUE_FULL',
  'FLOWAI_INTERNAL',
])

/** Every error of the SDK; `code` is one of ERROR_CODES, `status` the HTTP status if any. */
class FlowAIError extends Error {
  constructor(code, message, options) {
    super(message, options)
    this.name = 'FlowAIError'
    this.code = code
    const status = /^HTTP (\d{3})\b/.exec(message)
    this.status = status ? Number(status[1]) : undefined
  }
}

// Node-API statuses that mean a JS value of the wrong type reached the native side.
const TYPE_STATUSES = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
])

/** A native error as a FlowAIError (message `FLOWAI_X: ...`) or a TypeError. */
function convertError(err) {
  if (!(err instanceof Error) || err instanceof FlowAIError || err instanceof TypeError) {
    return err
  }
  const match = /^(FLOWAI_[A-Z_]+): ([\s\S]*)$/.exec(err.message)
  if (match) {
    return new FlowAIError(match[1], match[2])
  }
  if (TYPE_STATUSES.has(err.code)) {
    return new TypeError(err.message)
  }
  return err
}

function callSync(fn) {
  try {
    return fn()
  } catch (err) {
    throw convertError(err)
  }
}

async function callAsync(fn) {
  try {
    return await fn()
  } catch (err) {
    throw convertError(err)
  }
}

function checkString(value, name) {
  if (typeof value !== 'string') {
    throw new TypeError(`${name} must be a string, not ${describe(value)}`)
  }
}

function checkOptionalObject(value, name) {
  if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw new TypeError(`${name} must be an object, not ${describe(value)}`)
  }
}

function checkOptionalFunction(value, name) {
  if (value !== undefined && value !== null && typeof value !== 'function') {
    throw new TypeError(`${name} must be a function, not ${describe(value)}`)
  }
}

function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

// Validates arguments synchronously (TypeError) but always reports through the Promise.
function asyncCall(check, fn) {
  try {
    check()
  } catch (err) {
    return Promise.reject(err)
  }
  return callAsync(fn)
}

/** The Messaging REST API and webhook subscriptions; keys from options or FLOWAI_* variables. */
class MessagingClient {
  #native

  constructor(options) {
    checkOptionalObject(options, 'options')
    this.#native = callSync(() => new native.MessagingClient(options))
  }

  sendText(threadId, text, options) {
    return asyncCall(
      () => {
        checkString(threadId, 'threadId')
        checkString(text, 'text')
        checkOptionalObject(options, 'options')
      },
      () => this.#native.sendText(threadId, text, options),
    )
  }

  sendEvent(threadId, eventName, options) {
    return asyncCall(
      () => {
        checkString(threadId, 'threadId')
        checkString(eventName, 'eventName')
        checkOptionalObject(options, 'options')
      },
      () => this.#native.sendEvent(threadId, eventName, options),
    )
  }

  sendLocation(threadId, lat, lng, options) {
    return asyncCall(
      () => {
        checkString(threadId, 'threadId')
        if (typeof lat === 'number') lat = String(lat)
        if (typeof lng === 'number') lng = String(lng)
        checkString(lat, 'lat')
        checkString(lng, 'lng')
        checkOptionalObject(options, 'options')
      },
      () => this.#native.sendLocation(threadId, lat, lng, options),
    )
  }

  /** `options.onProgress(bytesSent, totalBytes)` is called as the file goes out. */
  sendMedia(threadId, path, mediaType, options) {
    return asyncCall(
      () => {
        checkString(threadId, 'threadId')
        checkString(path, 'path')
        checkString(mediaType, 'mediaType')
        checkOptionalObject(options, 'options')
        checkOptionalFunction(options && options.onProgress, 'options.onProgress')
      },
      () => {
        const { onProgress, ...rest } = options || {}
        return this.#native.sendMedia(threadId, path, mediaType, rest, onProgress)
      },
    )
  }

  createWebhook(webhook) {
    return asyncCall(
      () => {
        if (webhook === null || typeof webhook !== 'object') {
          throw new TypeError(`webhook must be an object, not ${describe(webhook)}`)
        }
        checkString(webhook.url, 'webhook.url')
        checkString(webhook.verifyKey, 'webhook.verifyKey')
        if (!Array.isArray(webhook.events)) throw new TypeError('webhook.events must be an array')
      },
      () => this.#native.createWebhook(webhook),
    )
  }

  getWebhook(webhookId) {
    return asyncCall(
      () => checkString(webhookId, 'webhookId'),
      () => this.#native.getWebhook(webhookId),
    )
  }

  updateWebhook(webhookId, update) {
    return asyncCall(
      () => {
        checkString(webhookId, 'webhookId')
        if (update === null || typeof update !== 'object') {
          throw new TypeError(`update must be an object, not ${describe(update)}`)
        }
      },
      () => this.#native.updateWebhook(webhookId, update),
    )
  }

  listWebhooks() {
    return callAsync(() => this.#native.listWebhooks())
  }

  deleteWebhook(webhookId) {
    return asyncCall(
      () => checkString(webhookId, 'webhookId'),
      () => this.#native.deleteWebhook(webhookId),
    )
  }
}

/** The Management API; key from options or FLOWAI_MANAGEMENT_KEY. */
class ManagementClient {
  #native

  constructor(options) {
    checkOptionalObject(options, 'options')
    this.#native = callSync(() => new native.ManagementClient(options))
  }

  listFlows() {
    return callAsync(() => this.#native.listFlows())
  }

  flowInfo(flowId) {
    return asyncCall(() => checkString(flowId, 'flowId'), () => this.#native.flowInfo(flowId))
  }

  listIntents() {
    return callAsync(() => this.#native.listIntents())
  }

  intentInfo(intentId) {
    return asyncCall(() => checkString(intentId, 'intentId'), () => this.#native.intentInfo(intentId))
  }

  listEntityTypes() {
    return callAsync(() => this.#native.listEntityTypes())
  }

  entityTypeInfo(entityTypeId) {
    return asyncCall(
      () => checkString(entityTypeId, 'entityTypeId'),
      () => this.#native.entityTypeInfo(entityTypeId),
    )
  }

  listProjects() {
    return callAsync(() => this.#native.listProjects())
  }

  projectInfo(projectId) {
    return asyncCall(() => checkString(projectId, 'projectId'), () => this.#native.projectInfo(projectId))
  }

  listMembers() {
    return callAsync(() => this.#native.listMembers())
  }
}

/** Normalise Node's IncomingHttpHeaders (arrays, undefined) into plain strings. */
function flattenHeaders(headers) {
  const flat = {}
  if (headers === null || typeof headers !== 'object') {
    throw new TypeError(`headers must be an object, not ${describe(headers)}`)
  }
  const entries = typeof headers.entries === 'function' && !Array.isArray(headers)
    ? headers.entries()
    : Object.entries(headers)
  for (const [name, value] of entries) {
    if (value === undefined || value === null) continue
    flat[String(name).toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return flat
}

/**
 * Verify a webhook call (constant-time key check) and parse its body into `{ type, payload }`.
 * Throws FlowAIError FLOWAI_VERIFICATION on a wrong or missing key.
 */
function verifyAndParse(headers, body, verifyKey, options) {
  const flat = flattenHeaders(headers)
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) {
    if (body instanceof Uint8Array) {
      body = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    } else {
      throw new TypeError(`body must be a string or a Buffer, not ${describe(body)}`)
    }
  }
  checkString(verifyKey, 'verifyKey')
  checkOptionalObject(options, 'options')
  return callSync(() => native.verifyAndParse(flat, body, verifyKey, options))
}

/**
 * Buffers events for `for await` loops; one per iterator, ended after `closed`.
 * Events reach it synchronously from the emitter's dispatch, so none is lost between two
 * `next()` calls.
 */
function makeIterator(source) {
  const buffer = []
  const waiters = []
  let finished = source._ended
  const sink = {
    push(event) {
      if (waiters.length > 0) {
        waiters.shift()({ value: event, done: false })
      } else {
        buffer.push(event)
      }
    },
    end() {
      finished = true
      while (waiters.length > 0) waiters.shift()({ value: undefined, done: true })
    },
  }
  source._sinks.add(sink)
  const stop = () => {
    source._sinks.delete(sink)
    sink.end()
    buffer.length = 0
  }
  return {
    next() {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift(), done: false })
      if (finished) return Promise.resolve({ value: undefined, done: true })
      return new Promise((resolve) => waiters.push(resolve))
    },
    return() {
      stop()
      return Promise.resolve({ value: undefined, done: true })
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
}

/**
 * A listener threw: rethrow it on its own tick, so it reaches process 'uncaughtException'
 * like an exception of any other I/O callback, after the events of this batch went out.
 */
function reportListenerError(err) {
  process.nextTick(() => {
    throw err
  })
}

/**
 * Shared machinery of Session and AidaSession: connects in the constructor, emits every
 * event by its `type` and as 'event', feeds async iterators, and settles `closed` last.
 * A throwing listener is reported through reportListenerError; dispatch goes on.
 */
class EventSession extends EventEmitter {
  constructor(connect) {
    super()
    this._sinks = new Set()
    this._ended = false
    this._native = null
    this._closedEvent = new Promise((resolve) => {
      this._resolveClosed = resolve
    })
    this._ready = callAsync(() => connect((json) => this._dispatchBatch(json))).then(
      (handle) => {
        this._native = handle
        return this
      },
      (err) => {
        // No native events will come: end the stream here so `closed` is still last and once.
        this._dispatch({ type: 'closed', error: { code: err.code, message: err.message } })
        throw err
      },
    )
    // A failed connect is reported by `ready()` and the 'closed' event; do not also crash.
    this._ready.catch(() => {})
  }

  /** Resolves with the session once connected; rejects with the connect error. */
  ready() {
    return this._ready
  }

  /** Whether the session has ended (`closed` was emitted). */
  get closed() {
    return this._ended
  }

  // The native side hands over every event queued since its last call as one JSON array.
  _dispatchBatch(json) {
    const events = JSON.parse(json)
    for (let i = 0; i < events.length; i++) this._dispatch(events[i])
  }

  _dispatch(event) {
    if (this._ended) return
    const type = event.type
    const last = type === 'closed'
    if (last) this._ended = true
    if (this._sinks.size > 0) {
      for (const sink of this._sinks) sink.push(event)
      if (last) for (const sink of this._sinks) sink.end()
    }
    // A throwing listener must not cost the other listeners, the later events or 'closed'.
    try {
      // An 'error' event without a listener would throw: session errors are not fatal.
      if (type !== 'error' || this.listenerCount('error') > 0) this.emit(type, event)
    } catch (err) {
      reportListenerError(err)
    }
    try {
      this.emit('event', event)
    } catch (err) {
      reportListenerError(err)
    }
    if (last) this._resolveClosed(event)
  }

  [Symbol.asyncIterator]() {
    return makeIterator(this)
  }

  async _call(fn) {
    const handle = await this._ready
    return callAsync(() => fn(handle._native))
  }

  /** Close the session; resolves after the 'closed' event was emitted. Closing twice is fine. */
  async close() {
    try {
      await this._ready
    } catch {
      return
    }
    await callAsync(() => this._native.close())
    await this._closedEvent
  }
}

function sendOptions(options) {
  checkOptionalObject(options, 'options')
  const o = options || {}
  const message = {}
  if (o.traceId !== undefined) message.traceId = o.traceId
  if (o.originator !== undefined) message.originator = o.originator
  if (o.language !== undefined || o.timezone !== undefined || o.params !== undefined) {
    message.metadata = { language: o.language, timezone: o.timezone, params: o.params }
  }
  return message
}

/**
 * A real-time Flow Socket session. Connects on construction; emits 'connected',
 * 'delivered', 'reply', 'agentTyping', 'interruption', 'error', 'reconnecting',
 * 'disconnected', 'unknown' and finally 'closed' (always last, exactly once), each also
 * as 'event'. Keeps the process alive until closed.
 */
class Session extends EventSession {
  constructor(options) {
    checkOptionalObject(options, 'options')
    super((onEvent) => native.connectSession(options, onEvent))
  }

  /** Connect and resolve once connected. */
  static connect(options) {
    try {
      return new Session(options).ready()
    } catch (err) {
      return Promise.reject(err)
    }
  }

  get threadId() {
    return this._native ? this._native.threadId : undefined
  }

  get sessionId() {
    return this._native ? this._native.sessionId : undefined
  }

  /** Send a text; resolves with its delivery `{ threadId, traceId, ... }`. */
  sendText(text, options) {
    let message
    try {
      checkString(text, 'text')
      message = { ...sendOptions(options), speech: text }
    } catch (err) {
      return Promise.reject(err)
    }
    return this._call((n) => n.send(message))
  }

  /** Trigger an event by name; resolves with its delivery. */
  sendEvent(eventName, options) {
    let message
    try {
      checkString(eventName, 'eventName')
      message = {
        ...sendOptions(options),
        speech: 'event attachment',
        attachment: { type: 'event', payload: { name: eventName } },
      }
    } catch (err) {
      return Promise.reject(err)
    }
    return this._call((n) => n.send(message))
  }

  /** Send a full message `{ speech, traceId?, attachment?, originator?, metadata? }`. */
  send(message) {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      return Promise.reject(new TypeError(`message must be an object, not ${describe(message)}`))
    }
    return this._call((n) => n.send(message))
  }

  typing() {
    return this._call((n) => n.typing())
  }

  noticed() {
    return this._call((n) => n.noticed())
  }

  history() {
    return this._call((n) => n.history())
  }

  unnoticed() {
    return this._call((n) => n.unnoticed())
  }

  /** Upload a file to the thread; `onProgress(bytesSent, totalBytes)` as it goes. */
  upload(path, onProgress) {
    try {
      checkString(path, 'path')
      checkOptionalFunction(onProgress, 'onProgress')
    } catch (err) {
      return Promise.reject(err)
    }
    return this._call((n) => n.upload(path, onProgress))
  }
}

/**
 * An embedded HTTP server for webhook calls: verifies each call, emits 'event' with
 * `{ type, payload }` (and by type, e.g. 'message.reply'), one at a time, in order. A
 * listener that throws declines the call (500, the sender retries). Keeps the process
 * alive until closed.
 */
class WebhookReceiver extends EventEmitter {
  #native = null

  constructor(native_) {
    super()
    this.#native = native_
  }

  /** Start listening (default 127.0.0.1, a free port, path /webhook). */
  static async start(options) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object, not ${describe(options)}`)
    }
    checkString(options.verifyKey, 'options.verifyKey')
    let receiver = null
    const pending = []
    const handler = (json) => {
      const event = JSON.parse(json)
      if (receiver === null) {
        pending.push(event)
        return true
      }
      return receiver._deliver(event)
    }
    const handle = await callAsync(() => native.startReceiver(options, handler))
    receiver = new WebhookReceiver(handle)
    for (const event of pending) receiver._deliver(event)
    return receiver
  }

  _deliver(event) {
    try {
      this.emit(event.type, event)
      this.emit('event', event)
      return true
    } catch (err) {
      process.emitWarning(`webhook listener failed: ${err && err.message}`)
      return false
    }
  }

  /** The URL to register as a webhook. */
  get url() {
    return this.#native.url
  }

  get port() {
    return this.#native.port
  }

  /** Stop listening and let the process exit. */
  close() {
    return callAsync(() => this.#native.close())
  }
}

/**
 * A connection to one AIDA bot (FLOWAI_AIDA_URL / _BOT / _TOKEN or options). Emits
 * 'connected', 'disconnected', 'reconnecting', 'error' and 'closed' (last, once). AIDA
 * broadcasts every session's replies to every client of the bot: a client sees all
 * sessions' traffic, each AidaSession only its own.
 */
class AidaClient extends EventSession {
  constructor(options) {
    checkOptionalObject(options, 'options')
    super((onEvent) => native.connectAida(options, onEvent))
  }

  /** Connect and join the bot; resolves once joined (FLOWAI_AUTH when refused). */
  static connect(options) {
    try {
      return new AidaClient(options).ready()
    } catch (err) {
      return Promise.reject(err)
    }
  }

  get bot() {
    return this._native ? this._native.bot : undefined
  }

  get isConnected() {
    return this._native ? this._native.isConnected : false
  }

  /** Start a session; `data` is merged into the session's data on the server. */
  async newSession(data) {
    const client = await this._ready
    const session = new AidaSession((onEvent) => client._native.newSession(data, onEvent))
    return session.ready()
  }

  /** A handle to an existing session by id. */
  session(id) {
    checkString(id, 'id')
    if (this._native === null) throw new FlowAIError('FLOWAI_CLOSED', 'the client is not connected')
    const handle = callSync(() => this._native.session(id, (json) => session._dispatchBatch(json)))
    const session = new AidaSession(() => Promise.resolve(handle))
    return session
  }

  /** Fetch an uploaded image as a Buffer. */
  downloadImage(id) {
    try {
      checkString(id, 'id')
    } catch (err) {
      return Promise.reject(err)
    }
    return this._call((n) => n.downloadImage(id))
  }
}

/**
 * One conversation with an AIDA bot. Emits 'message' `{ type, session, text, payload }`
 * for each bot reply of this session, then 'closed' (after delete(), close() or the
 * client's close). Keeps the process alive until closed.
 */
class AidaSession extends EventSession {
  get id() {
    return this._native ? this._native.id : undefined
  }

  sendText(text) {
    try {
      checkString(text, 'text')
    } catch (err) {
      return Promise.reject(err)
    }
    return this._call((n) => n.sendText(text))
  }

  putData(data) {
    try {
      checkOptionalObject(data, 'data')
    } catch (err) {
      return Promise.reject(err)
    }
    return this._call((n) => n.putData(data))
  }

  /** Upload an image (file path or Buffer) and send it; resolves with the image id. */
  sendImage(image, filename, contentType) {
    try {
      if (typeof image !== 'string' && !Buffer.isBuffer(image)) {
        throw new TypeError(`image must be a path or a Buffer, not ${describe(image)}`)
      }
      checkString(filename, 'filename')
      checkString(contentType, 'contentType')
    } catch (err) {
      return Promise.reject(err)
    }
    return this._call((n) => n.sendImage(image, filename, contentType))
  }

  /** Delete the session on the server; resolves after 'closed'. */
  async delete() {
    await this._call((n) => n.delete())
    await this._closedEvent
  }

  /** Stop receiving (the session stays on the server); resolves after 'closed'. */
  async close() {
    try {
      await this._ready
    } catch {
      return
    }
    callSync(() => this._native.close())
    await this._closedEvent
  }
}

// Benchmark hook of tests/bench/bench.mjs, not API: `n` synthetic 'delivered' events
// (traceId 0..n-1, then 'closed') made on the native runtime and emitted through the session
// dispatch. Returns the emitter and the native figures (creation times on process.hrtime).
function benchEvents(n, intervalMs) {
  let figures
  const emitter = new EventSession((onEvent) => {
    figures = native._benchEvents(n, intervalMs, Number(process.hrtime.bigint()), onEvent)
    return Promise.resolve({})
  })
  return { emitter, figures }
}

module.exports = {
  ERROR_CODES,
  FlowAIError,
  MessagingClient,
  ManagementClient,
  WebhookReceiver,
  verifyAndParse,
  Session,
  AidaClient,
  AidaSession,
}
Object.defineProperty(module.exports, '_benchEvents', { value: benchEvents, enumerable: false })
