// `npm run demo`, the README's first command, as a newcomer runs it: the task loop fails verify once, fixes the bug,
// is answered yes at the apply gate, and the fix is in the generated repository.

import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("npm run demo runs the task loop to an applied fix and prints where the report is", () => {
	const root = fileURLToPath(new URL("..", import.meta.url));
	const demo = spawnSync(process.execPath, ["--import", "jiti/register", "scripts/demo.ts"], {
		cwd: root,
		encoding: "utf8",
		env: { ...process.env, PI_OFFLINE: "1" },
	});
	expect(demo.status, demo.stderr).toBe(0);
	expect(demo.stdout).toContain("+ verify: failed (exit 1)");
	expect(demo.stdout).toContain("+ verify-2: passed");
	expect(demo.stdout).toContain("Iterations: 2, verified: true, applied: true");
	expect(demo.stdout).toContain("sum.js in the repository now: module.exports = (a, b) => a + b;");
	expect(demo.stdout).toMatch(/Report:\n {2}\S+report\.md/);
	// The demo keeps its repository for a person to look at; the test does not.
	const project = /the task loop in (\S+)/.exec(demo.stdout)?.[1];
	if (project) rmSync(dirname(project), { recursive: true, force: true });
});
