#!/usr/bin/env node
// Builds the native addon from source with @napi-rs/cli (the `install` script).
// Release by default; FLOWAI_NODE_PROFILE=debug builds in debug mode, which reuses the
// artifacts of `cargo build`/`cargo test` in the same target directory.
'use strict'

const { spawnSync } = require('node:child_process')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
function findCli() {
  try {
    return require.resolve('@napi-rs/cli/package.json', { paths: [root] })
  } catch {
    return null
  }
}

// `npm install ./node` from a project outside this repository links the folder without
// installing its dependencies: install them here first (from package-lock.json).
let cliPackage = findCli()
if (cliPackage === null) {
  const npm = process.env.npm_execpath
  const command = npm ? process.execPath : 'npm'
  const npmArgs = ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=dev']
  const installed = spawnSync(command, npm ? [npm, ...npmArgs] : npmArgs, { cwd: root, stdio: 'inherit' })
  cliPackage = installed.status === 0 ? findCli() : null
  if (cliPackage === null) {
    console.error('flowai: cannot install @napi-rs/cli, which builds the native addon')
    process.exit(1)
  }
}
const cli = path.join(path.dirname(cliPackage), require(cliPackage).bin.napi)
const args = [
  cli,
  'build',
  '--platform',
  '--manifest-path',
  path.join('..', 'bindings', 'node', 'Cargo.toml'),
  '--output-dir',
  '.',
  '--js',
  'native.js',
  '--dts',
  'native.d.ts',
]
if ((process.env.FLOWAI_NODE_PROFILE || 'release') !== 'debug') {
  args.push('--release')
}
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' })
if (result.error) {
  console.error(`flowai: cannot run napi build: ${result.error.message}`)
  process.exit(1)
}
process.exit(result.status === null ? 1 : result.status)
