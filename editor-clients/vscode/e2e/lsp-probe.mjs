// Ask the language server for its capabilities (initialize, shutdown, exit) over stdio, so the
// e2e test knows which features to expect from the server as it is today.
import { spawn } from 'node:child_process';

function frame(message) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

/** Messages parsed from a Content-Length framed stream, handed to `onMessage`. */
function reader(onMessage) {
  let buffer = Buffer.alloc(0);
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, end).toString('ascii'))?.[1]);
      if (!Number.isFinite(length) || buffer.length < end + 4 + length) return;
      onMessage(JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString('utf8')));
      buffer = buffer.subarray(end + 4 + length);
    }
  };
}

export function probeCapabilities(command, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, ['--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let answered = false;
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      if (!answered) {
        clearTimeout(timer);
        reject(new Error(`${command} exited (${signal ?? code}) before answering initialize:\n${stderr.trim()}`));
      }
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not answer initialize within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${command}: ${error.message}`));
    });
    child.stdout.on('data', reader((message) => {
      if (message.id === 1) {
        answered = true;
        clearTimeout(timer);
        if (message.error) {
          reject(new Error(`initialize failed: ${JSON.stringify(message.error)}`));
        } else {
          resolve(message.result.capabilities ?? {});
        }
        child.stdin.write(frame({ id: 2, method: 'shutdown' }));
      } else if (message.id === 2) {
        child.stdin.end(frame({ method: 'exit' }));
      }
    }));
    child.stdin.write(frame({ id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {} } }));
  });
}
