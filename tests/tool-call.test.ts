// ctx.tool: a side effect recorded as a graph node, replayed on resume without calling fn, with
// retries, a timeout per call, and failures returned as data for verify-and-repair loops.

import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ToolCallOptions } from "../extensions/workflows/authoring/types.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { runPaths } from "../extensions/workflows/store/run-directory.js";
import { createHarness, type Harness } from "./support/harness.js";

const exec = promisify(execFile);

describe("ctx.tool", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `fixed by ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	it("records the JSON result as a graph node that the next stage depends on", async () => {
		const flow = workflow({
			name: "tool-node",
			description: "a tool between two stages",
			inputs: {},
			outputs: { count: Type.Number() },
			run: async (ctx) => {
				await ctx.task("plan", { prompt: "plan" });
				const counted = await ctx.tool("count", { dir: "src" }, async (args) => ({ files: 3, dir: args.dir }));
				await ctx.task("act", { prompt: `act on ${counted.files} files` });
				return { count: counted.files };
			},
		});
		const report = await harness.run(flow, {});
		expect(report.outputs).toEqual({ count: 3 });
		expect(report.stages.map((stage) => [stage.id, stage.kind, stage.parents])).toEqual([
			["plan", "task", []],
			["count", "tool", ["plan"]],
			["act", "task", ["count"]],
		]);
	});

	it("on resume returns the recorded result without calling fn again (a repair loop replays as it ran)", async () => {
		let testRuns = 0;
		const loop = workflow({
			name: "repair-loop",
			description: "test, fix, test again",
			inputs: {},
			outputs: { attempts: Type.Number() },
			run: async (ctx) => {
				for (let attempt = 1; attempt <= 3; attempt++) {
					const test = await ctx.tool(
						"test",
						{ attempt },
						async () => {
							testRuns++;
							if (attempt === 1)
								throw Object.assign(new Error("1 failing"), { code: 1, stdout: "", stderr: "x" });
							return "passed";
						},
						{ failureMode: "return" },
					);
					if (test.ok) return { attempts: attempt };
					await ctx.task("fix", { prompt: `fix: ${test.error.message}` });
				}
				return { attempts: -1 };
			},
		});
		const first = await harness.run(loop, {});
		expect(first.outputs).toEqual({ attempts: 2 });
		expect(testRuns).toBe(2);
		// Cut the journal as if the process died right after the fix, before the second test ran.
		const journal = runPaths(harness.cwd, first.runId).journal;
		const lines = readFileSync(journal, "utf8").trim().split("\n");
		const fixDone = lines.findIndex((line) => line.includes('"node_finished"') && line.includes('"stageId":"fix"'));
		writeFileSync(journal, `${lines.slice(0, fixDone + 1).join("\n")}\n`);
		const modelCalls = harness.provider.calls.length;

		const resumed = await harness.resume(loop, first.runId).done;

		expect(resumed.outputs).toEqual({ attempts: 2 });
		expect(testRuns).toBe(3);
		expect(harness.provider.calls.length).toBe(modelCalls);
		expect(resumed.stages.map((stage) => [stage.id, stage.status, stage.replayed])).toEqual([
			["test", "failed", true],
			["fix", "completed", true],
			["test-2", "completed", false],
		]);
		expect(resumed.errors).toEqual([]);
	});

	it("returns a command failure with exit code, stdout and stderr", async () => {
		const flow = workflow({
			name: "command",
			description: "a failing command",
			inputs: {},
			outputs: { failure: Type.Unknown() },
			run: async (ctx) => {
				const result = await ctx.tool(
					"check",
					{},
					async () => (await exec("sh", ["-c", "echo out; echo err >&2; exit 3"])).stdout,
					{ failureMode: "return" },
				);
				return { failure: result.ok ? null : result.error };
			},
		});
		const report = await harness.run(flow, {});
		expect(report.outputs?.failure).toMatchObject({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
	});

	it("retries a failing fn and times out a hanging one", async () => {
		let calls = 0;
		const flow = workflow({
			name: "retry-timeout",
			description: "flaky, then hanging",
			inputs: {},
			outputs: { flaky: Type.String() },
			run: async (ctx) => {
				const flaky = await ctx.tool(
					"flaky",
					{},
					async (_args, call) => {
						calls++;
						if (call.attempt < 3) throw new Error(`attempt ${call.attempt} failed`);
						return "ok on 3";
					},
					{ retries: 2 },
				);
				await ctx.tool(
					"hang",
					{},
					(_args, call) =>
						new Promise((_, reject) => call.signal.addEventListener("abort", () => reject(new Error("aborted")))),
					{ timeoutMs: 20 },
				);
				return { flaky };
			},
		});
		const report = await harness.run(flow, {});
		expect(calls).toBe(3);
		expect(report.status).toBe("failed");
		expect(report.errors[0]).toBe('Workflow "retry-timeout", stage "hang": timed out after 20 ms (attempt 1)');
	});

	it("rejects bad options with an error naming the workflow and the call, before running anything", async () => {
		let ran = false;
		const flow = workflow({
			name: "bad-tool",
			description: "bad retries",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.tool(
					"deploy",
					{},
					() => {
						ran = true;
					},
					{ retries: -1 },
				);
				return {};
			},
		});
		const report = await harness.run(flow, {});
		expect(ran).toBe(false);
		expect(report.errors).toEqual([
			'Workflow "bad-tool", stage "deploy": retries: expected an integer from 0 and up, got -1',
		]);
	});
});

describe("ctx.tool interrupted while it ran", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	function deploy(options: Omit<ToolCallOptions, "failureMode">, seen: { calls: number; keys: string[] }) {
		return workflow({
			name: "deploy",
			description: "a side effect between two stages",
			inputs: {},
			outputs: { deployed: Type.Unknown() },
			run: async (ctx) => {
				await ctx.task("build", { prompt: "build" });
				const deployed = await ctx.tool(
					"deploy",
					{ to: "staging" },
					(_args, call) => {
						seen.calls++;
						seen.keys.push(call.idempotencyKey);
						return "deployed";
					},
					options,
				);
				await ctx.task("announce", { prompt: "announce" });
				return { deployed };
			},
		});
	}

	/** Leaves the journal as a process killed while `deploy` ran: its start is recorded, its end is not. */
	function killDuringDeploy(runId: string): void {
		const path = runPaths(harness.cwd, runId).journal;
		const lines = readFileSync(path, "utf8").trim().split("\n");
		const started = lines.findIndex((line) => line.includes('"node_started"') && line.includes('"stageId":"deploy"'));
		writeFileSync(path, `${lines.slice(0, started + 1).join("\n")}\n`);
	}

	it("hands fn one idempotency key: the same on every attempt and every resume of the call", async () => {
		const seen = { calls: 0, keys: [] as string[] };
		const first = await harness.run(deploy({ idempotent: true }, seen), {});
		killDuringDeploy(first.runId);
		const resumed = await harness.resume(deploy({ idempotent: true }, seen), first.runId).done;
		expect(resumed.status).toBe("completed");
		expect(seen.calls).toBe(2);
		expect(new Set(seen.keys).size).toBe(1);
		expect(seen.keys[0]).toMatch(new RegExp(`^${first.runId}-[0-9a-f]{16}$`));
		expect(resumed.stages.find((stage) => stage.id === "deploy")?.rerun).toMatch(/onInterrupted: rerun/);
	});

	it('onInterrupted "fail" fails the run instead of repeating the effect', async () => {
		const seen = { calls: 0, keys: [] as string[] };
		const first = await harness.run(deploy({ onInterrupted: "fail" }, seen), {});
		killDuringDeploy(first.runId);
		const resumed = await harness.resume(deploy({ onInterrupted: "fail" }, seen), first.runId).done;
		expect(resumed.status).toBe("failed");
		expect(seen.calls).toBe(1);
		expect(resumed.errors[0]).toMatch(
			/stage "deploy": interrupted while it ran .*whether its effect happened is unknown/,
		);
	});

	for (const [answer, calls, deployed] of [
		["treat it as done", 1, null],
		["run it again", 2, "deployed"],
	] as const) {
		it(`a call that is not idempotent asks a person by default: "${answer}"`, async () => {
			const seen = { calls: 0, keys: [] as string[] };
			const first = await harness.run(deploy({}, seen), {});
			killDuringDeploy(first.runId);
			const asked: string[] = [];
			const run = harness.resume(deploy({}, seen), first.runId, {
				onPrompt: (prompt) => {
					asked.push(prompt.message);
					queueMicrotask(() => run.answer(prompt.id, answer));
				},
			});
			const resumed = await run.done;
			expect(resumed.status).toBe("completed");
			expect(asked).toEqual([
				'Tool call "deploy" was interrupted while it ran (the process running it stopped); its effect may or may not have happened. Run it again, or treat it as done (it then returns null)?',
			]);
			expect(seen.calls).toBe(calls);
			expect(resumed.outputs).toEqual({ deployed });
			// The answer is part of the run: a later resume neither asks nor calls fn again.
			const after = seen.calls;
			const again = await harness.resume(deploy({}, seen), crashAtEnd(harness, first.runId)).done;
			expect(again.status).toBe("completed");
			expect(seen.calls).toBe(after);
		});
	}
});

function crashAtEnd(harness: Harness, runId: string): string {
	const path = runPaths(harness.cwd, runId).journal;
	const lines = readFileSync(path, "utf8").trim().split("\n");
	writeFileSync(path, `${lines.slice(0, -1).join("\n")}\n`);
	return runId;
}
