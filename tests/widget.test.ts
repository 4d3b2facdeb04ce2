// The live view of a run in the TUI: stages are counted as they start (a gate or a tool is not a stage), a run
// that waits for a person says so instead of "running", and a resumed run's cost and time go on from where they
// were instead of starting at 0.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import type { WorkflowRun } from "../extensions/workflows/engine/run-driver.js";
import type { ManagedRun } from "../extensions/workflows/surface/run-manager.js";
import { footerStatus, renderRunLines } from "../extensions/workflows/surface/widget.js";
import { createHarness, type Harness } from "./support/harness.js";

const gated = workflow({
	name: "gated",
	description: "a stage, a recorded tool call, then a question",
	run: async (ctx) => {
		await ctx.task("plan", { prompt: "Plan" });
		await ctx.tool("note", {}, () => "noted");
		await ctx.ui.confirm("Ship it?");
		return {};
	},
});

function managed(run: WorkflowRun): ManagedRun {
	return { run, workflow: "gated", startedBy: "user", startedAt: Date.now(), cwd: "", tools: new Map() };
}

describe("the run widget", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness(() => "planned");
	});
	afterEach(() => harness.cleanup());

	it("counts the stages that started, shows the question it waits on, and keeps cost and time across a resume", async () => {
		// Headless: the run stops at the question, as a print-mode run does.
		const first = await harness.run(gated, {}, { inputMode: "stop" });
		expect(first.status).toBe("awaiting_input");
		const cost = first.usage.cost;
		expect(cost).toBeGreaterThan(0);

		let shown: { lines: string[]; footer: string } | undefined;
		let run: WorkflowRun | undefined;
		run = harness.resume(gated, first.runId, {
			onPrompt: (prompt) => {
				const view = managed(run as WorkflowRun);
				shown = { lines: renderRunLines([view], Date.now()), footer: footerStatus([view]) };
				queueMicrotask(() => run?.answer(prompt.id, true));
			},
		});
		expect((await run.done).status).toBe("completed");
		const [head, , ...rest] = shown?.lines ?? [];
		// One stage (the tool call and the question are not stages), nothing running, the cost of the first process.
		expect(head).toMatch(
			new RegExp(`^workflow gated ${first.runId}  1 stage done, waiting for an answer  \\$${cost.toFixed(4)}  `),
		);
		expect(rest).toEqual([`  ? confirm  waiting for an answer (/workflow answer ${first.runId})`]);
		expect(shown?.footer).toBe("workflows: 1 waiting for an answer");
	});
});
