// A stage never hangs silently: its time limit and its idle watchdog stop a model that does not answer, with an
// error that says what the stage was doing; a running tool counts as activity up to its own limit; a provider
// that ignores a stop is abandoned after a grace period, its late answer unused; a stop is journaled the
// moment it is accepted.

import { Type } from "typebox";
import { afterEach, describe, expect, it, vi } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import type { WorkflowRun } from "../extensions/workflows/engine/run.js";
import { renderRunLines } from "../extensions/workflows/surface/widget.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import { createScriptedProvider, type Script } from "../extensions/workflows/testing/scripted-provider.js";
import { deferred } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

/** An answer held far longer than any test runs; the wait ends when the stage is aborted. */
const SILENT = { text: "too late", delayMs: 600_000 };

function oneStage(options: Record<string, unknown>) {
	return workflow({
		name: "one-stage",
		description: "a single stage with the given options",
		inputs: {},
		outputs: { result: Type.String() },
		run: async (ctx) => ({ result: (await ctx.task("work", { prompt: "Work", ...options })).text }),
	});
}

/** A registry with a silent provider and one that answers. */
async function silentThenAnswering() {
	const silent = createScriptedProvider({ models: ["m"], script: () => SILENT });
	const answering = createScriptedProvider({ models: ["m"], script: () => "answered by the fallback" });
	const modelRegistry = await createInMemoryModelRegistry({ silent: silent.config, answering: answering.config });
	return { silent, answering, modelRegistry };
}

describe("stage watchdogs", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("timeoutMs ends a stage whose model never answers, saying what it waited for; no fallback is tried", async () => {
		harness = await createHarness(() => "unused");
		const { answering, modelRegistry } = await silentThenAnswering();
		const report = await harness.run(
			oneStage({ model: "silent/m", fallbackModels: ["answering/m"], timeoutMs: 300 }),
			{},
			{ modelRegistry, defaultModel: "silent/m" },
		);
		expect(report.status).toBe("failed");
		const stage = report.stages[0];
		expect(stage?.status).toBe("failed");
		expect(stage?.error).toMatch(/^timed out after 300ms \(waiting for the model's first answer\)/);
		// The stage's own time limit covers all its models: the fallback never starts.
		expect(answering.calls).toEqual([]);
		expect(stage?.attempts.map((attempt) => [attempt.model, attempt.kind])).toEqual([["silent/m", "timeout"]]);
	});

	it("the idle watchdog ends a silent attempt and the fallback answers", async () => {
		harness = await createHarness(() => "unused");
		const { silent, answering, modelRegistry } = await silentThenAnswering();
		const report = await harness.run(
			oneStage({ model: "silent/m", fallbackModels: ["answering/m"], idleTimeoutMs: 300 }),
			{},
			{ modelRegistry, defaultModel: "silent/m" },
		);
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ result: "answered by the fallback" });
		expect(silent.calls).toHaveLength(1);
		expect(answering.calls).toHaveLength(1);
		const attempts = report.stages[0]?.attempts ?? [];
		expect(attempts.map((attempt) => [attempt.model, attempt.ok, attempt.kind])).toEqual([
			["silent/m", false, "timeout"],
			["answering/m", true, undefined],
		]);
		expect(attempts[0]?.error).toBe(
			"stopped: no output from the model and no tool activity for 300ms (waiting for the model's first answer)",
		);
		expect(report.stages[0]?.model).toBe("answering/m");
	});

	it("while the fallback answers, the widget shows the fallback's model", async () => {
		harness = await createHarness(() => "unused");
		const silent = createScriptedProvider({ models: ["m"], script: () => SILENT });
		let run: WorkflowRun | undefined;
		const shown: string[] = [];
		const answering = createScriptedProvider({
			models: ["m"],
			script: () => {
				const managed = { run: run as WorkflowRun, workflow: "one-stage", startedBy: "user" as const };
				const lines = renderRunLines([{ ...managed, startedAt: 0, cwd: harness.cwd, tools: new Map() }], 0);
				shown.push(...lines);
				return "answered by the fallback";
			},
		});
		const modelRegistry = await createInMemoryModelRegistry({ silent: silent.config, answering: answering.config });
		run = harness.start(
			oneStage({ model: "silent/m", fallbackModels: ["answering/m"], idleTimeoutMs: 300 }),
			{},
			{
				modelRegistry,
				defaultModel: "silent/m",
			},
		);
		expect((await run.done).status).toBe("completed");
		expect(shown.find((line) => line.includes("> work"))).toMatch(/^ {2}> work {2}answering\/m/);
	});

	it("without a fallback, a silent stage fails by the idle watchdog and the run fails", async () => {
		harness = await createHarness(() => SILENT);
		const report = await harness.run(oneStage({ idleTimeoutMs: 300 }), {});
		expect(report.status).toBe("failed");
		expect(report.errors[0]).toMatch(/stage "work": stopped: no output from the model and no tool activity/);
	});

	const runsBash: Script = (request) =>
		request.afterToolResult
			? "the command finished"
			: { toolCalls: [{ name: "bash", arguments: { command: "sleep 1" } }] };

	it("a running tool counts as activity: a command longer than the idle limit does not stop the stage", async () => {
		harness = await createHarness(runsBash);
		const report = await harness.run(oneStage({ idleTimeoutMs: 300, toolTimeoutMs: 30_000 }), {});
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ result: "the command finished" });
	});

	it("a tool running past its own limit stops the stage, naming the tool", async () => {
		harness = await createHarness(runsBash);
		const report = await harness.run(oneStage({ idleTimeoutMs: 30_000, toolTimeoutMs: 300 }), {});
		expect(report.status).toBe("failed");
		expect(report.stages[0]?.error).toMatch(/^stopped: tool "bash" ran for \d/);
	});

	it("0 turns the idle watchdog off", async () => {
		harness = await createHarness(() => SILENT);
		const run = harness.start(oneStage({ idleTimeoutMs: 0, timeoutMs: 600 }), {});
		const report = await run.done;
		// Only the time limit stopped it: with the idle watchdog on at its smallest it would have said "no output".
		expect(report.stages[0]?.error).toMatch(/^timed out after 600ms/);
	});

	it("a bad watchdog value fails the stage before any model call", async () => {
		harness = await createHarness(() => "unused");
		const report = await harness.run(oneStage({ idleTimeoutMs: -5 }), {});
		expect(report.status).toBe("failed");
		expect(report.stages[0]?.error).toBe(
			"idleTimeoutMs: expected a whole number of milliseconds, 0 or more (0: off), got -5",
		);
		expect(harness.provider.calls).toEqual([]);
	});
});

describe("stops that the provider ignores", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("a pause abandons a stage whose provider ignores the abort; its late answer is never used", async () => {
		const asked = deferred();
		const late = deferred<string>();
		harness = await createHarness((request) => {
			if (request.stage !== "work") return "unused";
			asked.resolve();
			// Never honours the abort: answers only when the test lets it, long after the run stopped.
			return late.promise;
		});
		const run = harness.start(oneStage({}), {}, { abandonAfterMs: 200 });
		await asked.promise;
		run.pause("paused by the test");
		const report = await run.done;
		expect(report.status).toBe("paused");
		expect(report.stages.map((stage) => [stage.id, stage.status])).toEqual([["work", "interrupted"]]);
		const events = harness.events(run.runId);
		const stopping = events.findIndex((event) => event.type === "run_stopping");
		const paused = events.findIndex((event) => event.type === "run_paused");
		expect(events[stopping]).toMatchObject({ type: "run_stopping", mode: "pause", reason: "paused by the test" });
		expect(stopping).toBeGreaterThan(-1);
		expect(stopping).toBeLessThan(paused);

		const journaled = harness.events(run.runId).length;
		late.resolve("the late answer");
		// The abandoned session's answer arrives now; nothing of it reaches the run.
		await vi.waitFor(() => expect(harness.provider.inFlight).toBe(0));
		expect(harness.events(run.runId)).toHaveLength(journaled);
		expect(harness.view(run.runId).report.status).toBe("paused");
	});

	it("a cancel is journaled the moment it is accepted, before the stage has stopped", async () => {
		const asked = deferred();
		const never = new Promise<string>(() => undefined);
		harness = await createHarness(() => {
			asked.resolve();
			return never;
		});
		const run = harness.start(oneStage({}), {}, { abandonAfterMs: 200 });
		await asked.promise;
		run.cancel("no longer needed");
		// Synchronously on disk (durable), while the stage is still waiting out its grace period.
		expect(harness.events(run.runId).at(-1)).toMatchObject({
			type: "run_stopping",
			mode: "cancel",
			reason: "no longer needed",
		});
		expect(harness.view(run.runId).report.stopping).toEqual({ mode: "cancel", reason: "no longer needed" });
		const report = await run.done;
		expect(report.status).toBe("cancelled");
		expect(report.reason).toBe("no longer needed");
		expect(report.stopping).toBeUndefined();
	});
});
