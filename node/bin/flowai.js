#!/usr/bin/env node
// `npx flowai emulator [--project FILE] [--time-scale F] [--replay FILE]`: a Flow.ai + AIDA
// emulator in the foreground. Prints `listening on URL` and one FLOWAI_NAME=value line per
// setting a client needs (as the CLI's `flowai emulator`), serves until Ctrl-C or SIGTERM.
'use strict'

const { parseArgs } = require('node:util')

const usage = 'usage: flowai emulator [--project FILE] [--time-scale F] [--replay FILE]'

async function main(argv) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { project: { type: 'string' }, 'time-scale': { type: 'string' }, replay: { type: 'string' } },
    })
  } catch (err) {
    console.error(`${err.message}\n${usage}`)
    return 2
  }
  const { positionals, values } = parsed
  if (positionals.length !== 1 || positionals[0] !== 'emulator') {
    console.error(usage)
    return 2
  }
  const options = {}
  if (values.project !== undefined) options.project = values.project
  if (values.replay !== undefined) options.replay = values.replay
  if (values['time-scale'] !== undefined) {
    options.timeScale = Number(values['time-scale'])
    if (!Number.isFinite(options.timeScale)) {
      console.error(`--time-scale must be a number\n${usage}`)
      return 2
    }
  }
  // Loaded after the arguments are checked, so a usage error needs no native addon.
  const { startEmulator } = require('../testing.js')
  const running = await startEmulator(options)
  const lines = [`listening on ${running.settings.apiUrl}`]
  for (const [name, value] of Object.entries(running.env)) lines.push(`${name}=${value}`)
  process.stdout.write(`${lines.join('\n')}\n`)
  await new Promise((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await running.stop()
  return 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`flowai: ${err.message}`)
    process.exit(1)
  },
)
