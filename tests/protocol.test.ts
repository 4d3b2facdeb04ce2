// The one call protocol, as scenario tables: a run records a task, a tool call and a question; a resume with
// a change to one of them runs that one again and replays the others, the same way for every kind. Then the
// two ways a result used to be served stale: a fork whose source changed, and a file-only handoff.

import { readFileSync, writeFileSync } from "node:fs";
import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { createHarness, type Harness } from "./support/harness.js";

interface Variant {
	prompt?: string;
	toolArg?: number;
	question?: string;
}

function mixed(variant: Variant, counts: { tool: number; asked: number }) {
	return workflow({
		name: "mixed",
		description: "a task, a tool call and a question",
		inputs: {},
		outputs: { text: Type.String(), n: Type.Number(), go: Type.Boolean() },
		run: async (ctx) => {
			const task = await ctx.task("write", { prompt: variant.prompt ?? "Write it" });
			const tool = await ctx.tool("count", { n: variant.toolArg ?? 1 }, (args) => {
				counts.tool++;
				return args.n * 10;
			});
			const go = await ctx.ui.confirm(variant.question ?? "Go on?");
			return { text: task.text, n: tool, go };
		},
	});
}

describe("one protocol for every kind of call", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	/** Runs the workflow, answering yes to every question, and counts what ran. */
	async function runAnswering(variant: Variant, runId?: string) {
		const counts = { tool: 0, asked: 0 };
		const definition = mixed(variant, counts);
		const options = {
			onPrompt: (prompt: { id: string }) => {
				counts.asked++;
				queueMicrotask(() => live.answer(prompt.id, "yes"));
			},
		};
		const live = runId ? harness.resume(definition, runId, options) : harness.start(definition, {}, options);
		const calls = harness.provider.calls.length;
		const report = await live.done;
		return { report, counts, modelCalls: harness.provider.calls.length - calls };
	}

	const scenarios: Array<{
		name: string;
		change: Variant;
		rerun: string;
		reason: RegExp;
		model: number;
		tool: number;
		asked: number;
	}> = [
		{
			name: "task: a changed prompt runs the task again, the tool and the question replay",
			change: { prompt: "Write it again" },
			rerun: "write",
			reason: /definition changed/,
			model: 1,
			tool: 0,
			asked: 0,
		},
		{
			name: "tool: changed arguments call fn again, the task and the question replay",
			change: { toolArg: 2 },
			rerun: "count",
			reason: /its arguments changed/,
			model: 0,
			tool: 1,
			asked: 0,
		},
		{
			name: "question: a changed question is asked again, the task and the tool replay",
			change: { question: "Really go on?" },
			rerun: "confirm",
			reason: /definition changed/,
			model: 0,
			tool: 0,
			asked: 1,
		},
	];

	it("with everything recorded, a resume replays every kind: no model call, no fn call, nobody asked", async () => {
		const first = await runAnswering({});
		expect(first.report.status).toBe("completed");
		expect(first.counts).toEqual({ tool: 1, asked: 1 });
		// Cut the end, as a crash before run_finished would leave it.
		const again = await runAnswering({}, crashBeforeEnd(harness, first.report.runId));
		expect(again.report.status).toBe("completed");
		expect({ model: again.modelCalls, ...again.counts }).toEqual({ model: 0, tool: 0, asked: 0 });
		expect(again.report.stages.map((stage) => [stage.id, stage.kind, stage.replayed])).toEqual([
			["write", "task", true],
			["count", "tool", true],
			["confirm", "prompt", true],
		]);
		expect(again.report.outputs).toEqual(first.report.outputs);
	});

	for (const scenario of scenarios) {
		it(scenario.name, async () => {
			const first = await runAnswering({});
			const again = await runAnswering(scenario.change, crashBeforeEnd(harness, first.report.runId));
			expect(again.report.status).toBe("completed");
			expect({ model: again.modelCalls, tool: again.counts.tool, asked: again.counts.asked }).toEqual({
				model: scenario.model,
				tool: scenario.tool,
				asked: scenario.asked,
			});
			for (const stage of again.report.stages) {
				if (stage.id === scenario.rerun) {
					expect(stage.replayed).toBe(false);
					expect(stage.rerun).toMatch(scenario.reason);
				} else expect(stage.replayed).toBe(true);
			}
		});
	}
});

/** Removes the run's last line (run_finished), as a process that died just before writing it; returns the run id. */
function crashBeforeEnd(harness: Harness, runId: string): string {
	const events = harness.events(runId);
	expect(events.at(-1)?.type).toBe("run_finished");
	cutAfterEvents(harness, runId, events.length - 1);
	return runId;
}

function cutAfterEvents(harness: Harness, runId: string, keep: number): void {
	const path = harness.store.paths(runId).journal;
	const lines = readFileSync(path, "utf8").trimEnd().split("\n");
	writeFileSync(path, `${lines.slice(0, keep + 1).join("\n")}\n`);
}

describe("a stage is never replayed on top of what it consumed changing", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `${request.stage} said: ${request.lastMessage.slice(-40)}`);
	});
	afterEach(() => harness.cleanup());

	const forked = (promptA: string) =>
		workflow({
			name: "forked",
			description: "b continues a's transcript",
			inputs: {},
			outputs: { b: Type.String() },
			run: async (ctx) => {
				await ctx.task("a", { prompt: promptA });
				return { b: (await ctx.task("b", { prompt: "Go on from there", context: "fork" })).text };
			},
		});

	const fileOnly = (promptA: string) =>
		workflow({
			name: "file-only",
			description: "a hands b a file-only result",
			inputs: {},
			outputs: { b: Type.String() },
			run: async (ctx) => {
				const a = await ctx.task("a", { prompt: promptA, output: "a.md", outputMode: "file-only" });
				return { b: (await ctx.task("b", { prompt: "Use it", previous: a })).text };
			},
		});

	for (const [name, build] of [
		["a fork whose source ran again", forked],
		["a file-only handoff whose file was rewritten", fileOnly],
	] as const) {
		it(`${name}: the consumer runs again too`, async () => {
			const first = await harness.run(build("Write A"), {});
			expect(first.status).toBe("completed");
			const calls = harness.provider.calls.length;
			const again = await harness.resume(build("Write A, differently"), crashBeforeEnd(harness, first.runId)).done;
			expect(again.status).toBe("completed");
			expect(harness.provider.calls.slice(calls).map((call) => call.stage)).toEqual(["a", "b"]);
			const b = again.stages.find((stage) => stage.id === "b");
			expect(b?.replayed).toBe(false);
			expect(b?.rerun).toBe('what it consumed changed: "a"');
		});

		it(`${name}: with nothing changed, both replay`, async () => {
			const first = await harness.run(build("Write A"), {});
			const calls = harness.provider.calls.length;
			const again = await harness.resume(build("Write A"), crashBeforeEnd(harness, first.runId)).done;
			expect(harness.provider.calls.length).toBe(calls);
			expect(again.stages.map((stage) => stage.replayed)).toEqual([true, true]);
		});
	}
});
