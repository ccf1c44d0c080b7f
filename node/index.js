// The `flowai` package: one class per kind of flowai object (classes.js, generated from the
// method table), FlowAIError, and the error codes and event names. All logic is in the
// native core; runtime.js converts arguments, results, errors and events.
'use strict'

const { native, FlowAIError, FlowAIObject } = require('./runtime.js')
const classes = require('./classes.js')

module.exports = { FlowAIError, FlowAIObject, ...classes }
// The addon itself, for tests/bench/bench.mjs (`_benchFloor`, `_debugBuild`); not API.
Object.defineProperty(module.exports, '_native', { value: native, enumerable: false })
