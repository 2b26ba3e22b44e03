// Standalone entry for the repair tool: `node dist/compactor/repair-main.js [DATA_DIR]`
// (or `npx tsx src/compactor/repair-main.ts`). `bramble repair` runs the same function.
import { runRepairCommand } from './repair.js';

process.exitCode = await runRepairCommand(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
