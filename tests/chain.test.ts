// ctx.chain: steps run in order, {previous} and {task} are filled in, and the graph is a line.

import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { createHarness, type Harness } from "./support/harness.js";

describe("ctx.chain", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("fills {task} and {previous} and links each step to the one before", async () => {
		harness = await createHarness((request) => `OUT(${request.stage})`);
		const definition = workflow({
			name: "chain-test",
			description: "three steps",
			inputs: {},
			outputs: { last: Type.String() },
			run: async (ctx) => {
				const results = await ctx.chain(
					[
						{ name: "draft", prompt: "Draft a plan for {task}" },
						{ name: "critique", prompt: "Critique this: {previous}" },
						{ name: "final", prompt: "Finalize {task}" },
					],
					{ task: "TASK-42" },
				);
				return { last: results.at(-1)?.text ?? "" };
			},
		});
		const report = await harness.run(definition, {});
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ last: "OUT(final)" });
		const prompt = (stage: string) =>
			harness.provider.calls.find((call) => call.stage === stage)?.transcript[0] ?? "";
		expect(prompt("draft")).toContain("Draft a plan for TASK-42");
		expect(prompt("critique")).toContain("Critique this: OUT(draft)");
		expect(prompt("critique")).not.toContain("{previous}");
		// Without a placeholder the prior step still arrives as a handoff.
		expect(prompt("final")).toContain("Finalize TASK-42");
		expect(prompt("final")).toContain("OUT(critique)");
		expect(report.stages.map((stage) => [stage.id, stage.parents])).toEqual([
			["draft", []],
			["critique", ["draft"]],
			["final", ["critique"]],
		]);
	});

	it("fails the step that uses {task} when the chain has no task, naming workflow and stage", async () => {
		harness = await createHarness(() => "ok");
		const definition = workflow({
			name: "chain-no-task",
			description: "missing task",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.chain([{ name: "draft", prompt: "Do {task}" }]);
				return {};
			},
		});
		const report = await harness.run(definition, {});
		expect(report.status).toBe("failed");
		expect(report.errors[0]).toContain('Workflow "chain-no-task", stage "draft"');
		expect(report.errors[0]).toContain("{task}");
		expect(harness.provider.calls).toHaveLength(0);
	});
});
