// The `flowai` package: one class per kind of flowai object (classes.js, generated from the
// method table), FlowAIError, and the error codes and event names. All logic is in the
// native core; runtime.js converts arguments, results, errors and events.
'use strict'

const { native, FlowAIError, FlowAIObject } = require('./runtime.js')
const classes = require('./classes.js')

/**
 * Send the SDK's log records (REST requests and retries, receiver warnings) to
 * `logger({ level, levelNumber, target, message })`; null stops. `DEBUG=flowai` logs to stderr.
 */
function setLogger(logger) {
  if (logger !== null && logger !== undefined && typeof logger !== 'function') {
    throw new TypeError('the logger must be a function or null')
  }
  native.setLogger(logger ? (json) => logger(JSON.parse(json)) : null)
}
if (/(^|[\s,])flowai(\*|:\*)?($|[\s,])/.test(process.env.DEBUG ?? '')) {
  setLogger((r) => console.error(`flowai ${r.level} ${r.target}: ${r.message}`))
}

module.exports = { FlowAIError, FlowAIObject, setLogger, ...classes }
// The addon itself, for tests/bench/bench.mjs (`_benchFloor`, `_debugBuild`); not API.
Object.defineProperty(module.exports, '_native', { value: native, enumerable: false })
