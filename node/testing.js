// Offline tests of a bot integration: startEmulator() starts a Flow.ai + AIDA emulator in
// this process on a free 127.0.0.1 port and gives the settings that point every client at
// it (`settings`, to pass as options; `env`, the same as FLOWAI_* variables) and `stop()`.
'use strict'

const { Emulator } = require('./classes.js')

/**
 * Start an emulator with the emulator kind's options (`{ timeScale, project, replay }`).
 * Resolves with `{ settings, env, emulator, stop }`; `stop()` resolves once it is closed.
 */
async function startEmulator(options = {}) {
  const emulator = await Emulator.open(options)
  let settings, env
  try {
    settings = await emulator.info()
    env = await emulator.env()
  } catch (err) {
    await emulator.close()
    throw err
  }
  return { settings, env, emulator, stop: () => emulator.close() }
}

module.exports = { startEmulator }
