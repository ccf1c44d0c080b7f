// Types of testing.js: an emulator in this process for offline tests.
import type { Emulator, EmulatorOptions, EmulatorSettings } from './index'

/** A running emulator: the settings that point clients at it, the same as FLOWAI_* variables, and stop(). */
export interface RunningEmulator {
  settings: EmulatorSettings
  env: Record<string, string>
  emulator: Emulator
  /** Resolves once the emulator is closed and its port free. */
  stop(): Promise<void>
}

/** Start a Flow.ai + AIDA emulator on a free 127.0.0.1 port. */
export function startEmulator(options?: EmulatorOptions): Promise<RunningEmulator>
