// Stops that stop: a budget is checked on every model turn of the running stages (which it stops), when a stage
// gets its slot (not before it waits for one) and before every tool call and question, so a fan-out cannot run
// past it; a cancel or a budget stop inside a parallel branch ends the run cancelled or blocked in both
// fail-fast modes, never failed.

import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkflowBudget } from "../extensions/workflows/authoring/types.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { createHarness, type Harness } from "./support/harness.js";

function fanOut(budget: WorkflowBudget, branches = 12, concurrency = 2) {
	return workflow({
		name: "fan-out",
		description: "many branches, few slots",
		inputs: {},
		outputs: {},
		budget,
		run: async (ctx) => {
			await ctx.parallel(
				Array.from({ length: branches }, (_, index) => ({ name: `b${index + 1}`, prompt: `branch ${index + 1}` })),
				{ concurrency },
			);
			return {};
		},
	});
}

describe("budgets", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	it("a fan-out stops at the limit: only the stages that had a slot when it was reached ran", async () => {
		const report = await harness.run(fanOut({ maxTokens: 1 }), {});
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(
			/^budget: \d+ tokens reached the limit of 1 token \(maxTokens\) while stage "b[12]" ran; the running stages were stopped$/,
		);
		// Two slots: b1 and b2 started before anything was spent; nothing started after.
		expect(harness.provider.calls.map((call) => call.stage).sort()).toEqual(["b1", "b2"]);
		expect(report.stages.map((stage) => stage.id)).toEqual(["b1", "b2"]);
	});

	it("is checked before a tool call and before a question too", async () => {
		let toolCalls = 0;
		const flow = workflow({
			name: "then-tool",
			description: "a stage spends the budget, then a tool and a question would run",
			inputs: {},
			outputs: {},
			budget: { maxTokens: 1 },
			run: async (ctx) => {
				await ctx.task("spend", { prompt: "spend it" });
				await ctx.tool("effect", {}, () => {
					toolCalls++;
				});
				await ctx.ui.confirm("Go on?");
				return {};
			},
		});
		const first = await harness.run(flow, {});
		expect(first.status).toBe("blocked");
		expect(first.reason).toMatch(/while stage "spend" ran/);
		// Resumed without a larger budget: the stage's answer is in its transcript (free), the tool is not.
		const report = await harness.resume(flow, first.runId).done;
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(/before stage "effect" started/);
		expect(toolCalls).toBe(0);
		expect(report.prompts).toEqual([]);
	});
});

describe("stops pass through parallel", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	for (const failFast of [true, false]) {
		it(`ctx.cancel in a branch ends the run cancelled (failFast ${failFast})`, async () => {
			const flow = workflow({
				name: "cancel-in-branch",
				description: "a branch decides to stop the run",
				inputs: {},
				outputs: {},
				run: async (ctx) => {
					await ctx.parallel(
						[
							async (branch) => {
								await branch.task("look", { prompt: "look" });
								return branch.cancel("nothing to do");
							},
							{ name: "other", prompt: "other" },
						],
						{ failFast },
					);
					await ctx.task("after", { prompt: "never" });
					return {};
				},
			});
			const report = await harness.run(flow, {});
			expect(report.status).toBe("cancelled");
			expect(report.reason).toBe("nothing to do");
			expect(harness.provider.calls.map((call) => call.stage)).not.toContain("after");
		});

		it(`a budget stop in a branch ends the run blocked (failFast ${failFast})`, async () => {
			const flow = workflow({
				name: "budget-in-branch",
				description: "a branch spends the budget, then wants more",
				inputs: {},
				outputs: {},
				budget: { maxTokens: 1 },
				run: async (ctx) => {
					await ctx.parallel(
						[
							async (branch) => {
								await branch.task("spend", { prompt: "spend" });
								return branch.task("more", { prompt: "more" });
							},
						],
						{ failFast },
					);
					return {};
				},
			});
			const report = await harness.run(flow, {});
			expect(report.status).toBe("blocked");
			expect(report.reason).toMatch(/while stage "spend" ran/);
			expect(harness.provider.calls.map((call) => call.stage)).not.toContain("more");
		});
	}
});

describe("a fan-out with no branches", () => {
	it("leaves the next stage its parents", async () => {
		const harness = await createHarness((request) => `answer of ${request.stage}`);
		try {
			const flow = workflow({
				name: "empty-group",
				description: "a, an empty parallel group, b",
				inputs: {},
				outputs: { none: Type.Number() },
				run: async (ctx) => {
					await ctx.task("a", { prompt: "a" });
					const none = await ctx.parallel([]);
					await ctx.task("b", { prompt: "b" });
					return { none: none.length };
				},
			});
			const report = await harness.run(flow, {});
			expect(report.stages.map((stage) => [stage.id, stage.parents])).toEqual([
				["a", []],
				["b", ["a"]],
			]);
		} finally {
			harness.cleanup();
		}
	});
});
