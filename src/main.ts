// Process entry: `bramble [serve] [flags]` with Loki's flag names (`export`, `import` and `query`
// subcommands are dispatched to src/cli). Loads config (embedded
// defaults, -config.file YAML, flags), starts the server, and on SIGTERM/SIGINT flushes every
// head to chunk files and exits cleanly.
import pino from 'pino';
import { stringify as toYaml } from 'yaml';
import { flagsHelp, loadConfig, parseFlags } from './config/config.js';
import { startServer } from './server.js';
import { COMMANDS_HELP, isSubcommand, runSubcommand } from './cli/main.js';

async function main(argv: string[]): Promise<void> {
  if (isSubcommand(argv[0])) {
    process.exitCode = await runSubcommand(argv[0]!, argv.slice(1));
    return;
  }
  if (argv[0] === 'serve') argv = argv.slice(1);
  let cli;
  let loaded;
  try {
    cli = parseFlags(argv);
    if (cli.help) {
      process.stdout.write(flagsHelp() + COMMANDS_HELP);
      return;
    }
    loaded = loadConfig(cli);
  } catch (e) {
    process.stderr.write(`bramble: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const config = loaded.config;
  if (cli.printConfig) process.stderr.write(toYaml(config));
  const log = pino({ level: config.server.logLevel });
  for (const k of loaded.ignoredKeys) log.warn({ key: k }, `config key ${k} is not used by Bramble; ignored`);
  const server = await startServer(config, { logger: log });
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'shutting down: flushing heads to chunks');
    server.close().then(
      () => {
        log.info('shutdown complete');
        process.exit(0);
      },
      (e) => {
        log.error({ err: (e as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`bramble: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
