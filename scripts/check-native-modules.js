#!/usr/bin/env node
// postinstall: says in one line what to install when a native module could not be built.
//
// better-sqlite3 and keytar download a prebuilt binary, and build from source where none can be downloaded — which
// needs a C++ compiler, make, Python 3 and, for keytar on Linux, the libsecret headers. npm 11 runs a package's
// preinstall only after every dependency is built (the root's) or before any is built (a dependency's), and a failed
// dependency build stops npm before anything of ours runs. So both modules are optional dependencies: a failed build
// no longer stops npm, this script runs after it, loads them, and fails the install with the line that says what to do.
'use strict';
const { spawnSync } = require('node:child_process');

function has(command, args = ['--version']) {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * A binary built for another runtime is there and fine: `electron-builder install-app-deps` rebuilds both modules for
 * the app's Electron, and a later npm install that reruns this script must not call that a failed build.
 */
function builtForAnotherRuntime(err) {
  return /NODE_MODULE_VERSION/.test(String(err && err.message));
}

function loadFailures() {
  const failed = [];
  const probes = {
    keytar: () => require('keytar'),
    'better-sqlite3': () => new (require('better-sqlite3'))(':memory:').close(), // the binding loads on first use
  };
  for (const [name, probe] of Object.entries(probes)) {
    try {
      probe();
    } catch (err) {
      if (!builtForAnotherRuntime(err)) failed.push({ name, error: err });
    }
  }
  return failed;
}

/** The system packages a source build needs that this machine lacks (Debian/Ubuntu names). */
function missingDebianPackages(failed) {
  const need = [];
  if (failed.some((f) => f.name === 'keytar')) {
    const mentionsLibsecret = failed.some((f) => /libsecret/.test(String(f.error && f.error.message)));
    if (!has('pkg-config')) need.push('pkg-config', 'libsecret-1-dev');
    else if (mentionsLibsecret || !has('pkg-config', ['--exists', 'libsecret-1'])) need.push('libsecret-1-dev');
  }
  if (!has('c++') || !has('make')) need.push('build-essential');
  if (!has('python3')) need.push('python3');
  return need;
}

function advice(failed) {
  if (process.platform === 'darwin') return 'install the Xcode command line tools (xcode-select --install) and Python 3';
  if (process.platform === 'win32') return 'install the Visual Studio Build Tools ("Desktop development with C++") and Python 3';
  const need = missingDebianPackages(failed);
  if (need.length === 0) return null;
  if (has('apt-get', ['--version'])) return `sudo apt-get install -y ${need.join(' ')}`;
  return `install ${need.join(', ')} (Debian names; your distribution's equivalents: the libsecret headers, a C++ compiler with make, Python 3)`;
}

const failed = loadFailures();
if (failed.length > 0) {
  const names = failed.map((f) => f.name).join(' and ');
  const what = advice(failed);
  const firstError = String(failed[0].error && failed[0].error.message).split('\n')[0];
  const line = what
    ? `lockstep: ${names} could not be built here (no prebuilt binary was downloaded): ${what}, then run npm ci again.`
    : `lockstep: ${names} could not be loaded (${firstError}): see the build output above, then run npm ci again.`;
  process.stderr.write(line + '\n');
  process.exit(1);
}
