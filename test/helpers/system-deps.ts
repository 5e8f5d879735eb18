import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian packages the tests drive for real: a NATS JetStream cluster and a headless browser. */
const SYSTEM_PACKAGES = [
  {
    command: 'nats-server',
    debianPackage: 'nats-server',
    usedBy: 'the JetStream tests (test/bus)',
  },
  { command: 'chromium', debianPackage: 'chromium', usedBy: 'the chart page tests (test/chart)' },
] as const;

async function hasCommand(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

async function aptInstall(packages: string[]): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env });
  try {
    await install();
  } catch {
    // A fresh machine may have no package lists yet.
    await run('apt-get', ['update'], { env });
    await install();
  }
}

// `npm test` must pass on a fresh machine by itself: install what is missing from Debian, as root,
// or stop with a message that says what to install.
export async function setup(): Promise<void> {
  const missing = [];
  for (const entry of SYSTEM_PACKAGES) {
    if (!(await hasCommand(entry.command))) missing.push(entry);
  }
  if (missing.length === 0) return;
  const names = missing.map((entry) => entry.debianPackage);
  const isRoot = process.getuid?.() === 0;
  try {
    if (!isRoot) throw new Error('not running as root');
    await aptInstall(names);
  } catch (error) {
    const why = missing.map((entry) => `${entry.command} (for ${entry.usedBy})`).join(', ');
    throw new Error(
      `the tests need ${why}; installing with apt-get failed (${(error as Error).message}). ` +
        `Install them with: sudo apt-get install -y ${names.join(' ')}`,
    );
  }
  for (const entry of missing) {
    if (!(await hasCommand(entry.command))) {
      throw new Error(
        `apt-get installed ${entry.debianPackage} but ${entry.command} is not on PATH`,
      );
    }
  }
}
