// What every generated class of classes.js shares: the addon loader, FlowAIError, and
// FlowAIObject (an EventEmitter over one native Handle). Conversion only: arguments go to
// the addon as JSON text, results come back as JSON text, events as one JSON array per batch.
'use strict'

const { EventEmitter } = require('node:events')

// The platform as the addons' names spell it, with the C library on Linux (gnu or musl).
function platformName() {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`
  const glibc = process.report?.getReport()?.header?.glibcVersionRuntime
  return `${process.platform}-${process.arch}-${glibc ? `gnu (glibc ${glibc})` : 'musl'}`
}

function load() {
  try {
    return require('./native.js')
  } catch (err) {
    const shipped = require('node:fs').readdirSync(__dirname).filter((f) => f.endsWith('.node'))
    throw new Error(
      `flowai: no prebuilt native addon fits this platform (${platformName()}, Node ${process.version}); ` +
        `this package has: ${shipped.join(', ') || 'none'}. ` +
        'Build one from source with `npm run build` in the flowai package (needs a Rust toolchain).',
      { cause: err },
    )
  }
}
const native = load()

/** Every error of the SDK: `code` from the error table, `status` the HTTP status or null. */
class FlowAIError extends Error {
  constructor(code, message, status = null, options = undefined) {
    super(message, options)
    this.name = 'FlowAIError'
    this.code = code
    this.status = status ?? null
  }
}

// A native rejection carries code, message and status; anything else passes through.
function fail(err) {
  if (err instanceof Error && typeof err.code === 'string' && err.code.startsWith('FLOWAI_') && !(err instanceof FlowAIError)) {
    throw new FlowAIError(err.code, err.message, err.status)
  }
  throw err
}

// Top-level Buffers go as text (a webhook body as the app's HTTP server read it).
function encode(value) {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const out = {}
    for (const key of Object.keys(value)) {
      const v = value[key]
      out[key] = Buffer.isBuffer(v) ? v.toString('utf8') : v
    }
    value = out
  }
  return JSON.stringify(value ?? {})
}

const classes = new Map()

/** Make `cls` the wrapper of its kind's native handles (classes.js registers each class). */
function register(cls) {
  classes.set(cls.kind, cls)
}

function decode(result) {
  if (typeof result === 'string') return JSON.parse(result)
  const cls = classes.get(result.kind) ?? FlowAIObject
  return new cls(undefined, result)
}

/**
 * A listener that threw: rethrown on its own tick, so it reaches 'uncaughtException' like
 * an exception of any other I/O callback, after the rest of the batch went out.
 */
function report(err) {
  process.nextTick(() => {
    throw err
  })
}

// The native side holds this function until `closed`. Objects that keep the process alive
// hold their wrapper strongly; the others only weakly, so a forgotten client can be
// collected (its handle then closes in the background).
// (Two functions: a closure shares its function's context, so one holding `target` would
// make the weak one strong too.)
function receiver(target, keepAlive) {
  return keepAlive ? (json) => target._batch(json) : weakReceiver(new WeakRef(target))
}

function weakReceiver(ref) {
  return (json) => ref.deref()?._batch(json)
}

/**
 * One flowai object: methods return Promises, events are emitted by name with their payload
 * and as 'event' with `{ event, payload }`, `for await` iterates them; 'closed' comes once
 * and last.
 */
class FlowAIObject extends EventEmitter {
  constructor(settings, handle) {
    super()
    const cls = new.target
    this._sinks = new Set()
    this._closed = false
    this._native = null
    this._ended = new Promise((resolve) => {
      this._end = resolve
    })
    if (handle instanceof native.Handle) {
      this._attach(handle)
      this._ready = Promise.resolve(handle)
    } else if (!cls.openable) {
      throw new TypeError(`${cls.name} is made by a method of another object, not by new`)
    } else {
      // `new Promise` turns a throwing encode (a BigInt, a cycle) into the rejection.
      this._ready = new Promise((resolve) => resolve(native.Handle.open(cls.kind, encode(settings))))
        .then((h) => this._attach(h), (err) => this._failed(err))
      // A failed open is reported by ready(), every call and 'closed': never as unhandled.
      this._ready.catch(() => {})
    }
  }

  /** Open an object and resolve once it is ready (connected, bound). */
  static async open(settings) {
    return new this(settings).ready()
  }

  _attach(handle) {
    this._native = handle
    handle.listen(receiver(this, this.constructor.keepAlive), this.constructor.keepAlive)
    return handle
  }

  _failed(err) {
    let error = err
    try {
      fail(err)
    } catch (converted) {
      error = converted
    }
    // No native events will come: 'closed' still ends the stream, once and last.
    this._dispatch({ event: 'closed', payload: { error: { code: error.code ?? null, message: error.message } } })
    throw error
  }

  /** Resolves with this object once open; rejects with the open's FlowAIError. */
  ready() {
    return this._ready.then(() => this)
  }

  /** Whether 'closed' was emitted. */
  get closed() {
    return this._closed
  }

  /** Call `method` (as in the method table, either case) with `args`; what every method does. */
  call(method, args) {
    return this._call(method, args)
  }

  // A generated method: its required arguments in `args`, the optional ones in `options`.
  _call(method, args, options) {
    let json
    try {
      if (options !== undefined && options !== null) {
        if (typeof options !== 'object' || Array.isArray(options)) throw new TypeError('options must be an object')
        args = { ...options, ...args }
      }
      json = encode(args)
    } catch (err) {
      return Promise.reject(err)
    }
    const handle = this._native
    const pending = handle ? handle.call(String(method), json) : this._ready.then((h) => h.call(String(method), json))
    return pending.then(decode, fail)
  }

  /** End the object; resolves after 'closed' was emitted. Closing twice is fine. */
  async close() {
    let handle
    try {
      handle = await this._ready
    } catch {
      return
    }
    await handle.close().catch(fail)
    await this._ended
  }

  _batch(json) {
    const events = JSON.parse(json)
    for (let i = 0; i < events.length; i++) this._dispatch(events[i])
  }

  _dispatch(ev) {
    if (this._closed) return
    const last = ev.event === 'closed'
    if (last) this._closed = true
    if (this._sinks.size > 0) for (const sink of this._sinks) sink.push(ev, last)
    // A throwing listener must not cost the other events or 'closed'. 'error' events are
    // not fatal: without a listener they are not emitted (EventEmitter would throw).
    try {
      if (ev.event !== 'error' || this.listenerCount('error') > 0) this.emit(ev.event, ev.payload)
    } catch (err) {
      report(err)
    }
    try {
      this.emit('event', ev)
    } catch (err) {
      report(err)
    }
    if (last) this._end()
  }

  /** Every event from now on as `{ event, payload }`, until 'closed'. */
  [Symbol.asyncIterator]() {
    const buffer = []
    const waiters = []
    let done = this._closed
    const sink = {
      push: (ev, last) => {
        if (waiters.length > 0) waiters.shift()({ value: ev, done: false })
        else buffer.push(ev)
        if (last) stop(false)
      },
    }
    const stop = (drop) => {
      done = true
      this._sinks.delete(sink)
      if (drop) buffer.length = 0
      while (waiters.length > 0) waiters.shift()({ value: undefined, done: true })
    }
    if (!done) this._sinks.add(sink)
    return {
      next: () => {
        if (buffer.length > 0) return Promise.resolve({ value: buffer.shift(), done: false })
        if (done) return Promise.resolve({ value: undefined, done: true })
        return new Promise((resolve) => waiters.push(resolve))
      },
      return: () => {
        stop(true)
        return Promise.resolve({ value: undefined, done: true })
      },
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }
}

module.exports = { native, FlowAIError, FlowAIObject, register }
