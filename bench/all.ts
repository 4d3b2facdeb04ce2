// Runs every bench of bench/ one after another in fresh processes of this Node (as `npm run bench` does), so
// the Pi 1.x line's runner can start them all with one command. Stops at the first that fails.

import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
for (const bench of ["resume.ts", "overhead.ts", "task-loop.ts", "startup.ts", "tokens.ts"]) {
	const result = spawnSync(process.execPath, [...process.execArgv, join(here, bench)], { stdio: "inherit" });
	if (result.status !== 0) {
		process.exitCode = result.status ?? 1;
		break;
	}
	console.log();
}
