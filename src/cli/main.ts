// Subcommand dispatch for the `bramble` executable: `bramble [serve] [flags]` runs the server
// (src/main.ts), `export`, `import` and `query` are client tools talking to servers over HTTP,
// `repair` works on a stopped server's data directory.
// Usage errors exit 2 with a pointer to --help; failures exit 1 with the reason.
import { UsageError } from './args.js';
import { runQueryCommand } from './query.js';
import { runTransferCommand } from './transfer-command.js';
import { runRepairCommand } from '../compactor/repair.js';

export const SUBCOMMANDS = ['export', 'import', 'query', 'repair'] as const;

export const COMMANDS_HELP = [
  '',
  'Commands:',
  '  serve (default)  Run the server with the flags above',
  '  export           Copy stored logs into another Loki-compatible endpoint (bramble export --help)',
  '  import           Copy history out of an existing Loki into Bramble (bramble import --help)',
  "  query            Run a LogQL query, logcli style (bramble query '{job=\"x\"}' --help)",
  '  repair           Rebuild the index from readable chunk files, set damaged ones aside (server stopped)',
  '',
].join('\n');

export function isSubcommand(arg: string | undefined): boolean {
  return arg !== undefined && (SUBCOMMANDS as readonly string[]).includes(arg);
}

/** Runs `export`/`import`/`query`; returns the process exit code. */
export async function runSubcommand(name: string, argv: string[]): Promise<number> {
  const io = { stdout: process.stdout, stderr: process.stderr };
  try {
    if (name === 'query') return await runQueryCommand(argv, io);
    if (name === 'repair') return await runRepairCommand(argv, io);
    return await runTransferCommand(name as 'export' | 'import', argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bramble ${name}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`bramble ${name}: ${(e as Error).message}\n`);
    return 1;
  }
}
