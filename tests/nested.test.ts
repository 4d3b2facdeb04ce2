// ctx.workflow: a child workflow runs inside the run with validated inputs and hands back
// { status, outputs, exited }; its ctx.exit returns to the parent; an unexpected failure throws a StageError
// naming the child; nesting has a depth limit; children share the run's journal, replay and budget, and their
// nodes are recorded within the child's node.

import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StageError } from "../extensions/workflows/authoring/stage-error.js";
import type { AnyWorkflowDefinition, ChildWorkflowResult } from "../extensions/workflows/authoring/types.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { createHarness, type Harness } from "./support/harness.js";

const review = workflow({
	name: "review",
	description: "reviews a target in two stages",
	inputs: { target: Type.String() },
	outputs: { verdict: Type.String() },
	run: async (ctx) => {
		const look = await ctx.task("look", { prompt: `Look at ${ctx.inputs.target}` });
		const judge = await ctx.task("judge", { prompt: "Judge it", previous: look });
		return { verdict: judge.text };
	},
});

function parentOf(child: AnyWorkflowDefinition, seen: { result?: ChildWorkflowResult<unknown> }, budget?: object) {
	return workflow({
		name: "parent",
		description: "plans, runs a child, then writes",
		inputs: {},
		outputs: { verdict: Type.String() },
		run: async (ctx) => {
			await ctx.task("plan", { prompt: "Plan" });
			const result = await ctx.workflow(child, { inputs: { target: "src" }, ...(budget ? { budget } : {}) });
			seen.result = result as ChildWorkflowResult<unknown>;
			await ctx.task("write", { prompt: `Write: ${result.status}` });
			return { verdict: String((result.outputs as { verdict?: string }).verdict ?? result.status) };
		},
	});
}

describe("ctx.workflow", () => {
	let harness: Harness;
	let failWrite = false;
	beforeEach(async () => {
		failWrite = false;
		harness = await createHarness((request) =>
			request.stage === "write" && failWrite ? { error: "401 unauthorized" } : `answer of ${request.stage}`,
		);
	});
	afterEach(() => harness.cleanup());

	it("runs the child with its inputs and returns its outputs; the child's nodes are within its node", async () => {
		const seen: { result?: ChildWorkflowResult<unknown> } = {};
		const report = await harness.run(parentOf(review, seen), {});
		expect(report.status).toBe("completed");
		expect(seen.result).toEqual({ status: "completed", outputs: { verdict: "answer of judge" }, exited: false });
		expect(report.outputs).toEqual({ verdict: "answer of judge" });
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["plan", "look", "judge", "write"]);
		const byId = Object.fromEntries(report.stages.map((stage) => [stage.id, stage]));
		expect(byId.review).toMatchObject({ kind: "workflow", status: "completed", parents: ["plan"] });
		expect(byId.look).toMatchObject({ within: "review", parents: ["plan"] });
		expect(byId.judge).toMatchObject({ within: "review", parents: ["look"] });
		expect(byId.write).toMatchObject({ parents: ["review"] });
		expect(byId.write?.within).toBeUndefined();
		const started = harness.events(report.runId).find((e) => e.type === "node_started" && e.stageId === "look");
		expect(started).toMatchObject({ key: "workflow:review#1/look#1", within: "review" });
	});

	it("refuses inputs that do not fit the child, naming the child and the input, before it runs", async () => {
		const bad = workflow({
			name: "parent",
			description: "gives the child a number",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.workflow(review, { inputs: { target: 42 } as never });
				return {};
			},
		});
		const report = await harness.run(bad, {});
		expect(report.status).toBe("failed");
		expect(report.errors.join("\n")).toMatch(/workflow "review": invalid inputs:[\s\S]*target/);
		expect(harness.provider.calls).toEqual([]);
	});

	it("a child's ctx.exit returns to the parent with its status, reason and outputs", async () => {
		const skips = workflow({
			name: "skips",
			description: "looks, then exits",
			inputs: { target: Type.String() },
			outputs: { verdict: Type.String() },
			run: async (ctx) => {
				await ctx.task("look", { prompt: "Look" });
				return ctx.exit({ status: "skipped", reason: "nothing to review", outputs: { verdict: "none" } });
			},
		});
		const seen: { result?: ChildWorkflowResult<unknown> } = {};
		const report = await harness.run(parentOf(skips, seen), {});
		expect(seen.result).toEqual({
			status: "skipped",
			outputs: { verdict: "none" },
			exited: true,
			reason: "nothing to review",
		});
		// The parent went on: the run completed, not skipped.
		expect(report.status).toBe("completed");
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["plan", "look", "write"]);
	});

	it("a child that exits blocked is data for the parent, not a failure of the run", async () => {
		const blocks = workflow({
			name: "blocks",
			description: "exits blocked",
			inputs: { target: Type.String() },
			outputs: {},
			run: async (ctx) => ctx.exit({ status: "blocked", reason: "needs a human" }),
		});
		const seen: { result?: ChildWorkflowResult<unknown> } = {};
		const report = await harness.run(parentOf(blocks, seen), {});
		expect(seen.result).toMatchObject({ status: "blocked", exited: true, reason: "needs a human" });
		expect(report.status).toBe("completed");
	});

	it("an unexpected failure of the child throws a StageError naming the child", async () => {
		const breaks = workflow({
			name: "breaks",
			description: "throws",
			inputs: { target: Type.String() },
			outputs: {},
			run: async () => {
				throw new Error("the child broke");
			},
		});
		let caught: unknown;
		const flow = workflow({
			name: "parent",
			description: "catches the child's failure",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				try {
					await ctx.workflow(breaks, { inputs: { target: "x" } });
				} catch (error) {
					caught = error;
				}
				return {};
			},
		});
		const report = await harness.run(flow, {});
		expect(caught).toBeInstanceOf(StageError);
		expect((caught as StageError).message).toContain('child workflow "breaks" failed: the child broke');
		expect((caught as StageError).stageId).toBe("breaks");
		// Caught, but a node of the run failed: the run does not claim completion.
		expect(report.status).toBe("failed");
	});

	it("refuses nesting deeper than the limit, naming the chain", async () => {
		const levels: AnyWorkflowDefinition[] = [];
		const level = (depth: number): AnyWorkflowDefinition =>
			workflow({
				name: `level${depth}`,
				description: `level ${depth}`,
				inputs: {},
				outputs: {},
				run: async (ctx) => {
					const next = levels[depth + 1];
					if (next) await ctx.workflow(next);
					else await ctx.task("leaf", { prompt: "Leaf" });
					return {};
				},
			});
		for (let depth = 0; depth <= 5; depth++) levels.push(level(depth));
		const report = await harness.run(levels[0] as AnyWorkflowDefinition, {});
		expect(report.status).toBe("failed");
		expect(report.errors.join("\n")).toContain(
			'workflow "level5": nested 5 levels deep (level0 > level1 > level2 > level3 > level4 > level5), the limit is 4',
		);
		expect(harness.provider.calls).toEqual([]);
		const deep = await harness.run(levels[0] as AnyWorkflowDefinition, {}, { maxWorkflowDepth: 5 });
		expect(deep.status).toBe("completed");
		expect(deep.stages.find((stage) => stage.id === "leaf")).toMatchObject({ within: "level5" });
	});

	it("a finished child replays on resume without model calls", async () => {
		failWrite = true;
		const first = await harness.run(parentOf(review, {}), {}, { retry: { enabled: false } });
		expect(first.status).toBe("blocked");
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["plan", "look", "judge", "write"]);
		failWrite = false;
		harness.provider.calls.length = 0;
		const seen: { result?: ChildWorkflowResult<unknown> } = {};
		const resumed = await harness.resume(parentOf(review, seen), first.runId).done;
		expect(resumed.status).toBe("completed");
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["write"]);
		expect(seen.result).toMatchObject({ status: "completed", outputs: { verdict: "answer of judge" } });
		expect(resumed.stages.find((stage) => stage.id === "review")?.replayed).toBe(true);
	});

	it("a child's own budget ends the child blocked; the run's budget counts the child's stages", async () => {
		const seen: { result?: ChildWorkflowResult<unknown> } = {};
		const report = await harness.run(parentOf(review, seen, { maxStages: 1 }), {});
		expect(seen.result).toMatchObject({ status: "blocked", exited: true });
		expect(seen.result?.reason).toContain('budget of child workflow "review": stages 2 of 1 reached before "judge"');
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["plan", "look", "write"]);
		expect(report.status).toBe("completed");

		const capped = await harness.run(parentOf(review, {}), {}, { budget: { maxStages: 2 } });
		expect(capped.status).toBe("blocked");
		expect(capped.reason).toContain('before stage "judge"');
	});

	it("refuses a child budget key that cannot limit a child", async () => {
		const report = await harness.run(parentOf(review, {}, { maxDurationMs: 10 }), {});
		expect(report.status).toBe("failed");
		expect(report.errors.join("\n")).toContain("maxDurationMs cannot limit a child workflow");
	});
});
