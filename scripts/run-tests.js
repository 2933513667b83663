#!/usr/bin/env node
// Runs every compiled test file with node's test runner, and says plainly which suites cannot run on this machine
// and how to enable them. Under CI=true a missing real part is a failure, not a notice: CI must skip nothing.
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const buildTest = path.join(root, 'build', 'test');

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

// `files`: the test files that need this part; they are left out (and named) where it is missing.
const parts = [
  { name: 'PostgreSQL shared-database suites', ok: Boolean(process.env.LOCKSTEP_TEST_PG_URL), how: 'start PostgreSQL and set LOCKSTEP_TEST_PG_URL=postgres://lockstep@127.0.0.1:5432/postgres (a role with CREATEDB; bash .ci/start-postgres.sh prints it)' },
  { name: 'OS keychain (Secret Service) suite', ok: has('dbus-run-session') && has('gnome-keyring-daemon'), how: 'apt-get install gnome-keyring dbus dbus-x11 libsecret-1-dev' },
  { name: 'suites that need root: installer as a real unprivileged user, full-disk tmpfs mounts (sudo, strace, useradd)', ok: isRoot && has('sudo') && has('strace') && has('useradd') && has('runuser'), files: /(installer[\\/](elevatedInstall|elevatedModules|elevatedFleetModules|crashAndRecovery|pipeline|archiveAttack|diskFull)|feed[\\/]hashingWriter)\.test\.js$/, how: 'run as root after bash .ci/setup-installer.sh' },
  { name: 'PostgreSQL TLS suite (a second, throwaway TLS-only cluster: root, PostgreSQL server binaries, openssl)', ok: isRoot && has('runuser') && has('openssl') && fs.existsSync('/usr/lib/postgresql'), files: /db[\\/]pgTls\.test\.js$/, how: 'run as root with the Debian postgresql and openssl packages (bash .ci/setup-system.sh)' },
  { name: 'HTTPS feed suite (openssl makes its certificate)', ok: has('openssl'), files: /(feed[\\/][^\\/]*(tls|https)[^\\/]*|db[\\/]pgCleartext)\.test\.js$/i, how: 'apt-get install openssl' },
  { name: 'browser suites in Chromium', ok: fs.existsSync('/usr/bin/chromium'), files: /[\\/]ui[\\/].*\.test\.js$/, how: 'apt-get install chromium (Debian package; /usr/bin/chromium)' },
  { name: 'SQL Server suites', ok: Boolean(process.env.LOCKSTEP_TEST_MSSQL_URL), how: 'set LOCKSTEP_TEST_MSSQL_URL=mssql://user:pw@host:1433/master (none can run on these machines; the T-SQL compile test always runs)', optional: true },
];

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.test.js') ? [p] : [];
  });
}

const filter = process.argv.slice(2);
const missingFiles = parts.filter((p) => !p.ok && p.files).map((p) => p.files);
const files = walk(buildTest)
  .filter((f) => filter.length === 0 || filter.some((w) => f.includes(w)))
  .filter((f) => !missingFiles.some((re) => re.test(f)))
  .sort();
if (files.length === 0) {
  console.error('No compiled tests found under build/test: run the TypeScript build first (npm test does).');
  process.exit(1);
}

const missing = parts.filter((p) => !p.ok);
for (const p of missing) console.log(`NOT RUN: ${p.name} — to enable: ${p.how}`);
if (process.env.CI === 'true' && missing.some((p) => !p.optional)) {
  console.error('CI=true but a required real part is missing: CI must run every suite.');
  process.exit(1);
}

// A filtered run that includes the browser or packed-example suites builds the windows once here, before the test processes start
// (npm test builds them itself right after the typecheck).
if (filter.length > 0 && files.some((f) => /[\\/](ui|example)[\\/]/.test(f))) {
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-renderer.js')], { stdio: 'inherit', cwd: root });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

// A hung test fails after 10 minutes instead of eating the CI budget (the longest real test takes ~80 s).
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', '--test-reporter=spec', ...files], { stdio: 'inherit', cwd: root, env: process.env });
if (missing.length) console.log(`\nReminder — not run here: ${missing.map((p) => p.name).join('; ')}`);
process.exit(result.status ?? 1);
