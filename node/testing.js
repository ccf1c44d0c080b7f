// Offline tests of a bot integration: startEmulator() starts a Flow.ai + AIDA emulator in
// this process on a free 127.0.0.1 port and gives the settings that point every client at
// it (`settings`, to pass as options; `env`, the same as FLOWAI_* variables) and `stop()`.
'use strict'

const { Emulator } = require('./classes.js')

/** `apiUrl` -> `FLOWAI_API_URL`: the variable every client reads for a setting. */
function envName(setting) {
  return `FLOWAI_${setting.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`
}

/**
 * Start an emulator with the emulator kind's options (`{ timeScale, project, replay }`).
 * Resolves with `{ settings, env, emulator, stop }`; `stop()` resolves once it is closed.
 */
async function startEmulator(options = {}) {
  const emulator = await Emulator.open(options)
  let settings
  try {
    settings = await emulator.info()
  } catch (err) {
    await emulator.close()
    throw err
  }
  const env = Object.fromEntries(Object.entries(settings).map(([k, v]) => [envName(k), String(v)]))
  return { settings, env, emulator, stop: () => emulator.close() }
}

module.exports = { startEmulator }
