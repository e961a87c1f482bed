/**
 * What a process holds open, read from outside it through Linux's /proc, so the process under test
 * runs no code for it: its file descriptors by kind, and each of its TCP sockets with its state and
 * ports (/proc/<pid>/fd links a socket to an inode; /proc/<pid>/net/tcp{,6} lists the sockets of the
 * process's network namespace by inode).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The kernel's TCP states (include/net/tcp_states.h), as /proc/net/tcp writes them (hex). */
const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

export interface TcpSocket {
  state: string;
  localPort: number;
  remotePort: number;
}

export interface OpenFiles {
  /** Every descriptor the process holds. */
  total: number;
  /** By kind: `socket`, `pipe`, `anon_inode:[eventpoll]`, `file`, … */
  byKind: Record<string, number>;
  /** The process's TCP sockets (listening ones included). */
  tcp: TcpSocket[];
}

/** The descriptors `pid` holds now; undefined where /proc is missing (not Linux) or the process is gone. */
export function openFiles(pid: number): OpenFiles | undefined {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const byKind: Record<string, number> = {};
  const socketInodes = new Set<string>();
  for (const name of names) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch {
      continue; // closed between the listing and the read
    }
    const socket = /^socket:\[(\d+)\]$/.exec(target);
    if (socket) socketInodes.add(socket[1]!);
    const kind = socket ? 'socket' : target.startsWith('pipe:') ? 'pipe' : target.startsWith('anon_inode:') ? target : target.startsWith('/dev/') ? target : 'file';
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  const tcp: TcpSocket[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !socketInodes.has(f[9]!)) continue;
      tcp.push({ state: TCP_STATES[f[3]!] ?? f[3]!, localPort: parseInt(f[1]!.split(':')[1]!, 16), remotePort: parseInt(f[2]!.split(':')[1]!, 16) });
    }
  }
  return { total: names.length, byKind, tcp };
}
