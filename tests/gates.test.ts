// Human gates in process: ctx.ui questions wait for an answer from any surface, invalid answers leave
// them pending, headless runs stop at them (awaiting_input) and continue once answered, answered
// questions replay on resume, and dialogs of extensions inside a stage become questions of the run.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AnyWorkflowDefinition } from "../extensions/workflows/authoring/types.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import type { PendingPrompt } from "../extensions/workflows/engine/calls/prompt-board.js";
import type { WorkflowRun } from "../extensions/workflows/engine/run.js";
import { controlRun } from "../extensions/workflows/engine/run-control.js";
import { loadWorkflowFile } from "../extensions/workflows/surface/workflow-loader.js";
import { createHarness, type Harness } from "./support/harness.js";

const reviewAndApprove = workflow({
	name: "review-and-approve",
	description: "plan, ask, implement",
	inputs: {},
	outputs: { result: Type.String() },
	run: async (ctx) => {
		const plan = await ctx.task("plan", { prompt: "Plan the change" });
		if (!(await ctx.ui.confirm(`Approve this plan?\n${plan.text}`))) ctx.cancel("the plan was not approved");
		const done = await ctx.task("implement", { prompt: "Implement the plan", previous: plan });
		return { result: done.text };
	},
});

/** Starts a run whose questions are answered (asynchronously, as a person would) by `answer`. */
function startAnswering(
	harness: Harness,
	definition: AnyWorkflowDefinition,
	answer: (prompt: PendingPrompt) => unknown,
) {
	let run: WorkflowRun | undefined;
	const errors: string[] = [];
	run = harness.start(
		definition,
		{},
		{
			onPrompt: (prompt) =>
				queueMicrotask(() => {
					try {
						run?.answer(prompt.id, answer(prompt));
					} catch (error) {
						errors.push((error as Error).message);
					}
				}),
		},
	);
	return { run, errors };
}

describe("ctx.ui gates", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	it("a yes lets implement run; the prompt is a node between plan and implement", async () => {
		const { run } = startAnswering(harness, reviewAndApprove, () => "yes");
		const report = await run.done;
		expect(report.status).toBe("completed");
		expect(report.stages.map((stage) => [stage.id, stage.kind, stage.parents])).toEqual([
			["plan", "task", []],
			["confirm", "prompt", ["plan"]],
			["implement", "task", ["confirm"]],
		]);
		expect(report.prompts).toEqual([
			{ id: "confirm", kind: "confirm", message: "Approve this plan?\nanswer of plan", answer: true },
		]);
	});

	it("a no ends the run cancelled without running implement", async () => {
		const { run } = startAnswering(harness, reviewAndApprove, () => "n");
		const report = await run.done;
		expect(report.status).toBe("cancelled");
		expect(report.reason).toBe("the plan was not approved");
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["plan"]);
	});

	it("an invalid answer leaves the prompt pending and says what is valid", async () => {
		const refusals: string[] = [];
		const run: WorkflowRun = harness.start(
			reviewAndApprove,
			{},
			{
				onPrompt: (prompt) =>
					queueMicrotask(() => {
						try {
							run.answer(prompt.id, "maybe");
						} catch (error) {
							refusals.push((error as Error).message);
							expect(run.pending().map((pending) => pending.id)).toEqual(["confirm"]);
							run.answer(prompt.id, "yes");
						}
					}),
			},
		);
		const report = await run.done;
		expect(refusals).toEqual([
			`Run ${run.runId}, prompt "confirm": expected yes or no (also y, n, true, false), got "maybe"; it is still waiting.`,
		]);
		expect(report.status).toBe("completed");
	});

	it("select takes an option or its 1-based number; an empty list fails at the call, naming workflow and prompt", async () => {
		const pick = workflow({
			name: "pick",
			description: "two selects",
			inputs: {},
			outputs: { first: Type.String(), second: Type.String() },
			run: async (ctx) => {
				const first = await ctx.ui.select("Which model?", ["fast", "smart"] as const);
				const second = await ctx.ui.select("Which again?", ["fast", "smart"] as const);
				await ctx.ui.select("Nothing to pick", [] as string[]);
				return { first, second };
			},
		});
		const given = ["2", "fast"];
		const { run, errors } = startAnswering(harness, pick, () => given.shift());
		const report = await run.done;
		expect(errors).toEqual([]);
		expect(report.prompts.map((prompt) => prompt.answer)).toEqual(["smart", "fast"]);
		expect(report.status).toBe("failed");
		expect(report.errors).toContain(
			'Workflow "pick", stage "select-3": select: expected a non-empty list of options, got []',
		);
	});
});

describe("headless gates and restarts", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	it("stops at the prompt (awaiting_input); after a stop the same prompt is pending again, asked once; the answer continues it", async () => {
		const stopped = await harness.start(reviewAndApprove, {}, { inputMode: "stop" }).done;
		expect(stopped.status).toBe("awaiting_input");
		expect(stopped.prompts).toEqual([
			{ id: "confirm", kind: "confirm", message: "Approve this plan?\nanswer of plan" },
		]);
		expect(harness.view(stopped.runId).report.status).toBe("awaiting_input");

		// Resumed without an answer (as after a crash): the same prompt waits again, journaled once.
		const again = await harness.resume(reviewAndApprove, stopped.runId, { inputMode: "stop" }).done;
		expect(again.status).toBe("awaiting_input");
		const asked = harness
			.events(stopped.runId)
			.filter((event) => event.type === "node_started" && event.kind === "prompt");
		expect(asked).toHaveLength(1);

		await expect(controlRun(harness.store, stopped.runId, { type: "answer", value: "perhaps" })).rejects.toThrow(
			/prompt "confirm": expected yes or no .*; it is still waiting/,
		);
		await expect(
			controlRun(harness.store, stopped.runId, { type: "answer", promptId: "select", value: "y" }),
		).rejects.toThrow(`Run ${stopped.runId} has no pending prompt "select" (waiting: confirm).`);
		expect(await controlRun(harness.store, stopped.runId, { type: "answer", value: "yes" })).toBe(
			`Answered prompt "confirm" of run ${stopped.runId}: true.`,
		);
		const planCalls = harness.provider.calls.length;
		const finished = await harness.resume(reviewAndApprove, stopped.runId, { inputMode: "stop" }).done;

		expect(finished.status).toBe("completed");
		expect(harness.provider.calls.slice(planCalls).map((call) => call.stage)).toEqual(["implement"]);
		expect(finished.stages.find((stage) => stage.id === "confirm")?.replayed).toBe(true);
		await expect(controlRun(harness.store, stopped.runId, { type: "answer", value: "yes" })).rejects.toThrow(
			`Run ${stopped.runId} is not waiting for an answer; nothing was changed.`,
		);
	});
});

describe("prompt identity", () => {
	it("does not depend on source lines: editing the file above an answered question does not ask it again", async () => {
		const harness = await createHarness((request) => `answer of ${request.stage}`);
		try {
			const file = join(harness.cwd, "gate.ts");
			const source = [
				'import { workflow } from "pi-workflows";',
				'import { Type } from "typebox";',
				"export default workflow({",
				'  name: "gate", description: "ask, then act", inputs: {}, outputs: { result: Type.String() },',
				"  run: async (ctx) => {",
				'    const go = await ctx.ui.confirm("Go?");',
				'    return { result: go ? (await ctx.task("act", { prompt: "act" })).text : "skipped" };',
				"  },",
				"});",
			];
			writeFileSync(file, source.join("\n"));
			const load = async () => {
				const loaded = await loadWorkflowFile(file);
				if (!loaded.ok) throw new Error(loaded.error);
				return loaded.definition;
			};
			const stopped = await harness.start(await load(), {}, { inputMode: "stop" }).done;
			expect(stopped.status).toBe("awaiting_input");
			await controlRun(harness.store, stopped.runId, { type: "answer", value: "yes" });
			// Lines above the question move it down the file; its identity is its scope, kind and occurrence.
			source.splice(5, 0, "    // A comment,", "    // and another one, added after the answer.", "");
			writeFileSync(file, source.join("\n"));
			const asked: PendingPrompt[] = [];
			const resumed = await harness.resume(await load(), stopped.runId, { onPrompt: (prompt) => asked.push(prompt) })
				.done;
			expect(resumed.status).toBe("completed");
			expect(resumed.outputs).toEqual({ result: "answer of act" });
			expect(asked).toEqual([]);
		} finally {
			harness.cleanup();
		}
	});
});

describe("gates inside stages", () => {
	it("a stage extension's confirm becomes a prompt of the run, labelled with run and stage", async () => {
		const harness = await createHarness((request) =>
			request.afterToolResult
				? `tool said: ${request.lastMessage}`
				: { toolCalls: [{ name: "deploy", arguments: {} }] },
		);
		try {
			const extensions = join(harness.agentDir, "extensions");
			mkdirSync(extensions, { recursive: true });
			writeFileSync(
				join(extensions, "guard.ts"),
				[
					'import { Type } from "typebox";',
					"export default function (pi) {",
					'  pi.registerTool({ name: "deploy", label: "Deploy", description: "deploy", promptSnippet: "deploy",',
					"    parameters: Type.Object({}),",
					"    execute: async (_id, _params, _signal, _update, ctx) => {",
					'      const ok = await ctx.ui.confirm("Deploy?", "to production");',
					'      return { content: [{ type: "text", text: ok ? "deployed" : "refused" }], details: {} };',
					"    } });",
					"}",
				].join("\n"),
			);
			const ship = workflow({
				name: "ship",
				description: "one stage that deploys",
				inputs: {},
				outputs: { result: Type.String() },
				run: async (ctx) => ({ result: (await ctx.task("release", { prompt: "Ship it" })).text }),
			});
			const asked: PendingPrompt[] = [];
			const { run } = startAnswering(harness, ship, (prompt) => {
				asked.push(prompt);
				return "yes";
			});
			const report = await run.done;
			expect(report.outputs).toEqual({ result: "tool said: deployed" });
			expect(asked).toEqual([
				{
					id: "confirm",
					kind: "confirm",
					message: `Run ${run.runId}, stage "release": Deploy?\nto production`,
					stage: "release",
				},
			]);
		} finally {
			harness.cleanup();
		}
	});
});
