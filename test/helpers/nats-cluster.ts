import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** The Debian package's binary (test/helpers/system-deps.ts installs it when missing). */
const NATS_SERVER = 'nats-server';
const READY_TIMEOUT_MS = 15_000;

/** Credentials the cluster requires from clients, when given. */
export interface ClusterAuth {
  user: string;
  pass: string;
}

/** One nats-server process of the cluster. */
interface Node {
  name: string;
  clientPort: number;
  clusterPort: number;
  configPath: string;
  process: ChildProcess | undefined;
  log: string;
}

/** A real three-node JetStream cluster on 127.0.0.1 with free ports and temporary storage. */
export interface NatsCluster {
  /** `nats://127.0.0.1:PORT` of every node (no credentials). */
  readonly urls: string[];
  /** The URLs joined by commas, as `--servers` / `--publish` take them. */
  readonly servers: string;
  /** Stops node `index` (SIGTERM, or SIGKILL with `hard`) and waits for its exit. */
  stopNode(index: number, hard?: boolean): Promise<void>;
  /** Starts node `index` again on its ports and storage; resolves once it serves clients. */
  startNode(index: number): Promise<void>;
  /** The node's log so far (for a failing test's message). */
  log(index: number): string;
  /** Stops every node and removes the storage. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function configText(
  node: Node,
  peers: Node[],
  storeDir: string,
  clusterName: string,
  auth?: ClusterAuth,
): string {
  const routes = peers
    .filter((peer) => peer !== node)
    .map((peer) => `"nats-route://127.0.0.1:${peer.clusterPort}"`);
  const authBlock = auth
    ? `authorization { user: ${JSON.stringify(auth.user)}, password: ${JSON.stringify(auth.pass)} }`
    : '';
  return [
    `server_name: ${node.name}`,
    'host: 127.0.0.1',
    `port: ${node.clientPort}`,
    authBlock,
    `jetstream { store_dir: ${JSON.stringify(storeDir)}, max_memory_store: 64MB, max_file_store: 256MB }`,
    'cluster {',
    `  name: ${clusterName}`,
    `  listen: 127.0.0.1:${node.clusterPort}`,
    `  routes: [${routes.join(', ')}]`,
    '}',
  ].join('\n');
}

// A node serves clients once it logs "Server is ready"; JetStream answers once the cluster has a
// meta leader, which every node logs (leader and followers word it differently).
const READY_LINE = 'Server is ready';
const META_LEADER = /metadata leader/;

function waitForLog(node: Node, pattern: RegExp | string, timeoutMs: number): Promise<void> {
  const matches = () =>
    typeof pattern === 'string' ? node.log.includes(pattern) : pattern.test(node.log);
  if (matches()) return Promise.resolve();
  const child = node.process;
  if (!child) return Promise.reject(new Error(`${node.name} is not running`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(`${node.name}: no '${String(pattern)}' within ${timeoutMs} ms:\n${node.log}`),
      );
    }, timeoutMs);
    const onData = () => {
      if (matches()) {
        cleanup();
        resolve();
      }
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`${node.name} exited before '${String(pattern)}':\n${node.log}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

function launch(node: Node): void {
  node.log = '';
  const child = spawn(NATS_SERVER, ['-c', node.configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    // Keep the tail only: a long test would otherwise hold every log line.
    node.log = (node.log + chunk).slice(-20_000);
  });
  node.process = child;
}

async function stop(node: Node, hard: boolean): Promise<void> {
  const child = node.process;
  node.process = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(hard ? 'SIGKILL' : 'SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a three-node JetStream cluster (nats-server from Debian) and resolves once every node
 * serves clients and the cluster has elected a meta leader.
 */
export async function startNatsCluster(options: { auth?: ClusterAuth } = {}): Promise<NatsCluster> {
  // A free port can be taken by another process between our probe and the server's bind (the
  // machine is shared): start again on new ports then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      // Also when the nodes found no meta leader in time (seen on a loaded machine).
      if (attempt >= 3 || !/address already in use|metadata leader/.test(String(error))) {
        throw error;
      }
    }
  }
}

async function startOnce(options: { auth?: ClusterAuth }): Promise<NatsCluster> {
  const root = await mkdtemp(join(tmpdir(), 'argo-nats-'));
  // A name of its own: a port probed free and then taken by another test's cluster on this
  // machine must not let the two clusters route to each other.
  const clusterName = `argo-${basename(root).slice('argo-nats-'.length)}`;
  const nodes: Node[] = [];
  for (let i = 0; i < 3; i++) {
    nodes.push({
      name: `n${i + 1}`,
      clientPort: await freePort(),
      clusterPort: await freePort(),
      configPath: join(root, `n${i + 1}.conf`),
      process: undefined,
      log: '',
    });
  }
  for (const node of nodes) {
    await writeFile(
      node.configPath,
      configText(node, nodes, join(root, node.name), clusterName, options.auth),
    );
  }
  const closeAll = async () => {
    await Promise.all(nodes.map((node) => stop(node, true)));
    await rm(root, { recursive: true, force: true });
  };
  try {
    for (const node of nodes) launch(node);
    await Promise.all(nodes.map((node) => waitForLog(node, READY_LINE, READY_TIMEOUT_MS)));
    await Promise.all(nodes.map((node) => waitForLog(node, META_LEADER, READY_TIMEOUT_MS)));
  } catch (error) {
    await closeAll();
    throw error;
  }
  const urls = nodes.map((node) => `nats://127.0.0.1:${node.clientPort}`);
  const at = (index: number): Node => {
    const node = nodes[index];
    if (!node) throw new Error(`no node ${index}`);
    return node;
  };
  return {
    urls,
    servers: urls.join(','),
    stopNode: (index, hard = false) => stop(at(index), hard),
    async startNode(index) {
      const node = at(index);
      if (node.process) return;
      launch(node);
      await waitForLog(node, READY_LINE, READY_TIMEOUT_MS);
    },
    log: (index) => at(index).log,
    close: closeAll,
  };
}
