// No progress: ctx.progress blocks a run whose loop reports the same state `limit` times in a row (counted per
// scope, bad limits and signatures refused), and inside a stage the same tool call 5 times in a row steers the
// model once, 10 times fails the stage with kind "no-progress" (no fallback), unless the model changed course.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import type { ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import { createHarness, type Harness } from "./support/harness.js";

/** A loop of up to `rounds` stages, reporting `signature(round)` after each. */
function loop(rounds: number, signature: (round: number) => unknown, limit?: unknown) {
	return workflow({
		name: "loop",
		description: "a fix loop",
		inputs: {},
		outputs: { rounds: Type.Number() },
		run: async (ctx) => {
			let round = 0;
			while (round < rounds) {
				round++;
				await ctx.task("fix", { prompt: `Fix round ${round}` });
				ctx.progress(signature(round), limit === undefined ? undefined : { limit: limit as number });
			}
			return { rounds: round };
		},
	});
}

const fixCalls = (harness: Harness) => harness.provider.calls.filter((call) => call.stage?.startsWith("fix")).length;

describe("ctx.progress", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("the same signature 3 times in a row blocks the run, reason no progress", async () => {
		harness = await createHarness(() => "tried again");
		const report = await harness.run(
			loop(10, () => ({ failing: ["t1"], diff: "same" })),
			{},
		);
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(/^no progress: the workflow reported the same state 3 times in a row/);
		expect(fixCalls(harness)).toBe(3);
		expect(report.stages.map((stage) => stage.status)).toEqual(["completed", "completed", "completed"]);
	});

	it("a limit changes how many rounds in a row it takes", async () => {
		harness = await createHarness(() => "tried again");
		const report = await harness.run(
			loop(10, () => "same", 5),
			{},
		);
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(/^no progress: the workflow reported the same state 5 times in a row/);
		expect(fixCalls(harness)).toBe(5);
	});

	it("a changing signature never stops the loop, and a change resets the count", async () => {
		harness = await createHarness(() => "progress");
		// Two equal rounds in a row at most (limit 3): a, a, b, b, c, c, ...
		const report = await harness.run(
			loop(8, (round) => `state ${Math.ceil(round / 2)}`),
			{},
		);
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ rounds: 8 });
		expect(fixCalls(harness)).toBe(8);
	});

	it("is counted per scope: a loop in each parallel branch on its own", async () => {
		harness = await createHarness(() => "branch work");
		const flow = workflow({
			name: "branch-loops",
			description: "two branches each report the same state twice",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				const branchLoop = (name: string) => async (branch: typeof ctx) => {
					for (let round = 1; round <= 2; round++) {
						await branch.task(name, { prompt: `${name} round ${round}` });
						branch.progress("same state");
					}
				};
				await ctx.parallel([branchLoop("a"), branchLoop("b")]);
				// The workflow's own scope starts from zero as well.
				ctx.progress("same state");
				ctx.progress("same state");
				return {};
			},
		});
		const report = await harness.run(flow, {});
		// Counted together the signature would have come 6 times in a row.
		expect(report.status).toBe("completed");
		expect(harness.provider.calls).toHaveLength(4);
	});

	it("a branch that repeats itself blocks the run", async () => {
		harness = await createHarness(() => "branch work");
		const flow = workflow({
			name: "branch-stuck",
			description: "one branch repeats itself",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.parallel(
					[
						async (branch) => {
							for (let round = 1; round <= 5; round++) {
								await branch.task("stuck", { prompt: `round ${round}` });
								branch.progress("same");
							}
						},
						{ name: "other", prompt: "other" },
					],
					{ failFast: false },
				);
				return {};
			},
		});
		const report = await harness.run(flow, {});
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(/^no progress/);
		expect(harness.provider.calls.filter((call) => call.stage?.startsWith("stuck"))).toHaveLength(3);
	});

	for (const limit of [1, 2.5, "x"]) {
		it(`a bad limit (${JSON.stringify(limit)}) fails the run`, async () => {
			harness = await createHarness(() => "ok");
			const report = await harness.run(
				loop(3, () => "s", limit),
				{},
			);
			expect(report.status).toBe("failed");
			expect(report.errors).toEqual([
				`Workflow "loop": progress: limit: expected an integer from 2 and up, got ${JSON.stringify(limit)}`,
			]);
			expect(fixCalls(harness)).toBe(1);
		});
	}

	const circular: Record<string, unknown> = { name: "node" };
	circular.self = circular;
	for (const [label, signature] of [
		["a BigInt", { count: 10n }],
		["a circular object", circular],
	] as const) {
		it(`a signature JSON cannot hold (${label}) fails the run with a clear message`, async () => {
			harness = await createHarness(() => "ok");
			const report = await harness.run(
				loop(3, () => signature),
				{},
			);
			expect(report.status).toBe("failed");
			expect(report.errors).toHaveLength(1);
			expect(report.errors[0]).toMatch(
				/^Workflow "loop": progress: expected a signature that JSON can hold \(a string, say\), got one that fails: /,
			);
			expect(fixCalls(harness)).toBe(1);
		});
	}
});

const STEER = "with the same arguments 5 times in a row";

describe("the same tool call again and again inside a stage", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	const repeat = { toolCalls: [{ name: "bash", arguments: { command: "echo same" } }] };

	function looping(fallbackModels?: string[]) {
		return workflow({
			name: "tool-loop",
			description: "a stage whose model repeats a tool call",
			inputs: {},
			outputs: { text: Type.String() },
			run: async (ctx) => {
				const result = await ctx.task("spin", {
					prompt: "Check the thing",
					...(fallbackModels ? { fallbackModels } : {}),
				});
				return { text: result.text };
			},
		});
	}

	const steered = (request: ScriptedRequest) => request.transcript.some((line) => line.includes(STEER));

	it("steers the model once at 5 calls, and fails the stage at 10 with kind no-progress, no fallback", async () => {
		harness = await createHarness(() => repeat);
		const report = await harness.run(looping(["scripted/smart"]), {});
		expect(report.status).toBe("failed");
		expect(report.errors).toHaveLength(1);
		expect(report.errors[0]).toMatch(
			/^Workflow "tool-loop", stage "spin": no progress: the same call of tool "bash" 10 times in a row/,
		);
		// The fallback model is not tried: another model is not expected to get out of the loop.
		expect(harness.provider.calls.map((call) => call.model)).not.toContain("smart");
		const finished = harness.events(report.runId).find((event) => event.type === "node_finished");
		expect(finished).toMatchObject({ status: "failed", kind: "no-progress" });
		expect(harness.events(report.runId).filter((event) => event.type === "node_attempt")).toEqual([]);
		// The model made 10 calls; any request after the 10th only carries the aborted tool's result.
		const calls = harness.provider.calls;
		expect(calls.filter((call) => !/aborted/i.test(call.lastMessage))).toHaveLength(10);
		expect(calls.length).toBeLessThanOrEqual(11);
		const firstSteered = calls.findIndex(steered);
		// The steer lands after the 5th call ran: the 6th request is the first to carry it.
		expect(firstSteered).toBe(5);
		expect(calls[firstSteered]?.lastMessage).toContain(STEER);
		expect(calls[firstSteered]?.lastMessage).toContain('tool "bash"');
		// One steering message only, as a user message of the session.
		const last = calls.at(-1)?.transcript ?? [];
		const steers = last.filter((line) => /with the same arguments \d+ times in a row/.test(line));
		expect(steers).toHaveLength(1);
		expect(steers[0]).toMatch(/^user: You have called tool "bash" with the same arguments 5 times in a row/);
	});

	it("a model that stops repeating after the steer completes normally", async () => {
		harness = await createHarness((request) => (steered(request) ? "Changed course: the thing is fine." : repeat));
		const report = await harness.run(looping(), {});
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ text: "Changed course: the thing is fine." });
		expect(harness.provider.calls).toHaveLength(6);
		expect(report.stages[0]?.usage.toolCalls).toBe(5);
	});

	it("a repeated read of a real file counts as well, while alternating calls do not", async () => {
		harness = await createHarness((request) => {
			// Requests 1-6 alternate between two spellings of the path; from request 7 on it is the same every time.
			const path = request.stageCall < 7 && request.stageCall % 2 === 0 ? "./notes.md" : "notes.md";
			return { toolCalls: [{ name: "read", arguments: { path } }] };
		});
		writeFileSync(join(harness.cwd, "notes.md"), "some notes\n");
		const report = await harness.run(looping(), {});
		expect(report.status).toBe("failed");
		expect(report.errors[0]).toContain('no progress: the same call of tool "read" 10 times in a row');
		const calls = harness.provider.calls;
		// The read really ran: the model got the file back.
		expect(calls[1]?.lastMessage).toContain("some notes");
		// Requests 7 to 16 answer with the same call: steered after the 5th of them (request 11), failed at the 10th.
		expect(calls.findIndex(steered)).toBe(11);
		expect(calls.filter((call) => !/aborted/i.test(call.lastMessage))).toHaveLength(16);
		expect(calls.length).toBeLessThanOrEqual(17);
	});
});
