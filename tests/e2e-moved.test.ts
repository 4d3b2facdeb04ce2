// A project moved to another folder keeps its runs: a run that failed before the move resumes after it, from the
// workflow file at its new place, without running its finished stages again. A run's folder can be named by its path.

import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPiSandbox, type PiSandbox } from "./support/pi-cli.js";

const SCRIPT = `export const script = (r) =>
	r.stage === "second" && process.env.FAIL_SECOND ? { error: "400 invalid request: not now" } : "answer of " + r.stage;`;

const TWO_STAGES = `import { workflow } from "pi-workflows";
import { Type } from "typebox";
export default workflow({
	name: "two", description: "two stages", outputs: { result: Type.String() },
	run: async (ctx) => {
		await ctx.task("first", { prompt: "First" });
		return { result: (await ctx.task("second", { prompt: "Second" })).text };
	},
});`;

describe("a moved project", () => {
	let sandbox: PiSandbox;
	afterEach(() => sandbox?.cleanup());

	it("resumes its runs from the workflow file's new place, and names runs by their folders", async () => {
		sandbox = createPiSandbox(SCRIPT);
		mkdirSync(join(sandbox.cwd, ".pi/workflows"), { recursive: true });
		writeFileSync(join(sandbox.cwd, ".pi/workflows/two.ts"), TWO_STAGES);
		const failed = await sandbox.run(["--trust-workflows", "-p", "/workflow run two"], { env: { FAIL_SECOND: "1" } });
		const runId = /workflow run (\S+) failed/.exec(failed.stdout)?.[1] ?? "";
		expect(runId, failed.stdout).not.toBe("");

		const moved = join(sandbox.root, "moved");
		renameSync(sandbox.cwd, moved);
		const calls = sandbox.calls().length;
		const resumed = await sandbox.run(["--trust-workflows", "-p", `/workflow resume ${runId}`], { cwd: moved });
		expect(resumed.stderr).toBe("");
		expect(resumed.stdout).toContain(`workflow run ${runId} completed`);
		// The first stage was not run again.
		expect(
			sandbox
				.calls()
				.slice(calls)
				.map((call) => call.stage),
		).toEqual(["second"]);

		const byPath = await sandbox.run(["-p", `/workflow status .pi/workflows/runs/${runId}`], { cwd: moved });
		expect(byPath.stdout).toMatch(new RegExp(`^${runId}\\s+two\\s+completed`));
		const notARun = await sandbox.run(["-p", "/workflow status .pi/workflows"], { cwd: moved });
		expect(notARun.code).toBe(1);
		expect(notARun.stderr).toContain(
			`expected a run id (or a unique prefix of one) or a folder in ${join(moved, ".pi/workflows/runs")}, got ".pi/workflows"`,
		);
		expect(notARun.stderr).not.toContain("Run folder");
	});
});
