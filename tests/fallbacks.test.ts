// Per-stage models and fallbacks: which failures move a stage on to its next model (and which do not), how every
// attempt is recorded (result, journal, report, usage), the two circuit breakers (a provider that refused, the
// same failure ending 3 stages), honest run statuses, and bad model options refused before anything is spent.

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ModelRegistry } from "@mariozechner/pi-coding-agent";
import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import type { StageResult, TaskOptions } from "../extensions/workflows/authoring/types.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import type { RunWorkflowOptions } from "../extensions/workflows/engine/run.js";
import { startWorkflow } from "../extensions/workflows/engine/run.js";
import type { JournalEvent } from "../extensions/workflows/store/events.js";
import { definitionFromSpec, parseSpec, specModels } from "../extensions/workflows/surface/dynamic-spec.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import {
	createScriptedProvider,
	type Script,
	type ScriptedProvider,
} from "../extensions/workflows/testing/scripted-provider.js";
import { deferred } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

/** Providers p1 and p2 (one model "m" each, answering from their scripts) and p3, nobody logged in to it. */
interface Providers {
	p1: ScriptedProvider;
	p2: ScriptedProvider;
	p3: ScriptedProvider;
	registry: ModelRegistry;
	/** Run options that use them, with Pi's own retries giving up fast. */
	options: Partial<RunWorkflowOptions>;
}

async function providers(p1: Script, p2: Script = () => "answer of p2"): Promise<Providers> {
	const first = createScriptedProvider({ models: ["m"], script: p1 });
	const second = createScriptedProvider({ models: ["m"], script: p2 });
	const third = createScriptedProvider({ models: ["m"], script: () => "answer of p3", loggedOut: true });
	const registry = await createInMemoryModelRegistry({ p1: first.config, p2: second.config, p3: third.config });
	return {
		p1: first,
		p2: second,
		p3: third,
		registry,
		options: { modelRegistry: registry, defaultModel: "p1/m", retry: { maxRetries: 1, baseDelayMs: 1 } },
	};
}

/** One stage "a" with the given options; the stage's result is kept in `seen`. */
function oneStage(options: Partial<TaskOptions>, seen: StageResult[] = []) {
	return workflow({
		name: "one-stage",
		description: "a single stage",
		inputs: {},
		outputs: {},
		run: async (ctx) => {
			seen.push(await ctx.task("a", { prompt: "do a", ...options }));
			return {};
		},
	});
}

function ofType<T extends JournalEvent["type"]>(events: JournalEvent[], type: T, stageId?: string) {
	return events.filter(
		(event): event is Extract<JournalEvent, { type: T }> =>
			event.type === type && (stageId === undefined || (event as { stageId?: string }).stageId === stageId),
	);
}

describe("a stage moves on to its fallback model", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	const advancing: Array<{ name: string; reply: string | { error: string }; kind: string }> = [
		{ name: "an auth error (401)", reply: { error: "401 invalid x-api-key" }, kind: "auth" },
		{ name: "an auth error (403)", reply: { error: "403 forbidden: this key may not use the model" }, kind: "auth" },
		{ name: "a usage limit (429)", reply: { error: "429 usage limit reached for this plan" }, kind: "quota" },
		{ name: "an insufficient quota", reply: { error: "insufficient quota for this request" }, kind: "quota" },
		{ name: "an unknown model", reply: { error: "404 model m does not exist" }, kind: "unknown-model" },
		{
			name: "a context overflow",
			reply: { error: "prompt is too long: 213462 tokens > 200000 maximum" },
			kind: "context-overflow",
		},
		{
			name: "a rate limit Pi's retries did not get past",
			reply: { error: "429 rate limit exceeded" },
			kind: "transient",
		},
		{ name: "an overload Pi's retries did not get past", reply: { error: "503 overloaded" }, kind: "transient" },
		{ name: "an empty answer", reply: "", kind: "empty" },
	];
	for (const { name, reply, kind } of advancing) {
		it(`on ${name} (kind ${kind})`, async () => {
			harness = await createHarness(() => "unused");
			const setup = await providers(() => reply);
			const seen: StageResult[] = [];
			const report = await harness.run(oneStage({ fallbackModels: ["p2/m"] }, seen), {}, setup.options);
			expect(report.status).toBe("completed");
			expect(seen[0]?.text).toBe("answer of p2");
			expect(seen[0]?.model).toBe("p2/m");
			expect(seen[0]?.attempts).toMatchObject([
				{ model: "p1/m", ok: false, kind },
				{ model: "p2/m", ok: true },
			]);
			// The failed attempt says what the provider said, and what it spent is counted.
			if (typeof reply !== "string") expect(seen[0]?.attempts?.[0]?.error).toContain(reply.error);
			expect(seen[0]?.attempts?.[0]?.usage.turns).toBeGreaterThanOrEqual(1);
			expect(setup.p1.calls.length).toBeGreaterThanOrEqual(1);
			expect(setup.p2.calls).toHaveLength(1);
			expect(report.stages[0]?.model).toBe("p2/m");
			expect(report.usage.turns).toBe(
				(seen[0]?.attempts ?? []).reduce((sum, attempt) => sum + attempt.usage.turns, 0),
			);
		});
	}

	it("on silence: the idle watchdog stops the attempt and the fallback answers", async () => {
		harness = await createHarness(() => "unused");
		const setup = await providers(() => ({ delayMs: 60_000 }));
		const seen: StageResult[] = [];
		const report = await harness.run(
			oneStage({ fallbackModels: ["p2/m"], idleTimeoutMs: 300 }, seen),
			{},
			setup.options,
		);
		expect(report.status).toBe("completed");
		expect(seen[0]?.model).toBe("p2/m");
		expect(seen[0]?.attempts?.[0]).toMatchObject({ model: "p1/m", ok: false, kind: "timeout" });
		expect(seen[0]?.attempts?.[0]?.error).toContain("no output from the model and no tool activity");
		expect(setup.p1.calls).toHaveLength(1);
	});

	it("when the model's structured-output corrections are spent", async () => {
		harness = await createHarness(() => "unused");
		const setup = await providers(
			() => "I will not call any tool",
			(request) =>
				request.afterToolResult ? "submitted" : { toolCalls: [{ name: "submit_result", arguments: { n: 7 } }] },
		);
		const seen: StageResult[] = [];
		const schema = Type.Object({ n: Type.Number() });
		const report = await harness.run(oneStage({ fallbackModels: ["p2/m"], schema }, seen), {}, setup.options);
		expect(report.status).toBe("completed");
		expect(seen[0]?.structured).toEqual({ n: 7 });
		expect(seen[0]?.attempts).toMatchObject([
			{ model: "p1/m", ok: false, kind: "structured" },
			{ model: "p2/m", ok: true },
		]);
		// The first answer and its 3 corrections, all on p1.
		expect(setup.p1.calls).toHaveLength(4);
	});
});

describe("a stage does not move on", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("on a plain bad request: the stage fails and its fallback is never called", async () => {
		harness = await createHarness(() => "unused");
		const setup = await providers(() => ({ error: "400 invalid request: bad parameter" }));
		const report = await harness.run(oneStage({ fallbackModels: ["p2/m"] }), {}, setup.options);
		expect(report.status).toBe("failed");
		expect(report.errors[0]).toContain("400 invalid request: bad parameter");
		expect(report.stages[0]?.attempts).toMatchObject([{ model: "p1/m", ok: false, kind: "other" }]);
		expect(setup.p2.calls).toHaveLength(0);
	});

	it("on an abort: a cancelled run does not try the fallback", async () => {
		harness = await createHarness(() => "unused");
		const called = deferred();
		const setup = await providers(() => {
			called.resolve();
			return { delayMs: 60_000 };
		});
		const run = harness.start(oneStage({ fallbackModels: ["p2/m"] }), {}, setup.options);
		await called.promise;
		run.cancel("enough");
		const report = await run.done;
		expect(report.status).toBe("cancelled");
		expect(setup.p2.calls).toHaveLength(0);
		expect(ofType(harness.events(run.runId), "node_attempt")).toEqual([]);
	});
});

describe("attempt records", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("result, journal and report list every attempt, and the run's usage counts them all", async () => {
		harness = await createHarness(() => "unused");
		const setup = await providers(() => "");
		const seen: StageResult[] = [];
		const report = await harness.run(oneStage({ fallbackModels: ["p2/m"] }, seen), {}, setup.options);
		expect(report.status).toBe("completed");

		// The result: the answering model, both attempts with their usage.
		const result = seen[0] as StageResult;
		expect(result.model).toBe("p2/m");
		expect(result.attempts?.map((attempt) => [attempt.model, attempt.ok])).toEqual([
			["p1/m", false],
			["p2/m", true],
		]);
		expect(result.attempts?.[0]).toMatchObject({ error: "the model's answer was empty", kind: "empty" });
		expect(result.attempts?.[0]?.usage.turns).toBe(1);
		expect(result.attempts?.[1]?.usage.turns).toBe(1);
		expect(result.usage.turns).toBe(2);
		expect(result.sessionFile).toMatch(/stages[/\\]a~2\.jsonl$/);

		// The journal: a start per model (the second on a new transcript), and the attempt the stage moved on from.
		const events = harness.events(report.runId);
		const starts = ofType(events, "node_started", "a");
		expect(starts).toHaveLength(2);
		expect(starts[0]).toMatchObject({ kind: "task", model: "p1/m" });
		expect(starts[0]).not.toHaveProperty("attempt");
		expect(starts[1]).toMatchObject({ kind: "task", model: "p2/m", attempt: 1 });
		const files = starts.map((start) => (start as { sessionFile: string }).sessionFile);
		expect(files[0]).toMatch(/stages[/\\]a\.jsonl$/);
		expect(files[1]).toMatch(/stages[/\\]a~2\.jsonl$/);
		for (const file of files) expect(existsSync(file)).toBe(true);
		const attempts = ofType(events, "node_attempt", "a");
		expect(attempts).toHaveLength(1);
		expect(attempts[0]).toMatchObject({
			model: "p1/m",
			error: "the model's answer was empty",
			kind: "empty",
			sessionFile: files[0],
		});
		expect(attempts[0]?.usage?.turns).toBe(1);
		// The attempt is journaled before the next model's start.
		expect(events.indexOf(attempts[0] as JournalEvent)).toBeLessThan(events.indexOf(starts[1] as JournalEvent));

		// The report, from the fold: the attempts in order, the answering model, usage of both.
		const stage = report.stages[0];
		expect(stage?.model).toBe("p2/m");
		expect(stage?.attempts).toMatchObject([
			{ model: "p1/m", ok: false, kind: "empty" },
			{ model: "p2/m", ok: true },
		]);
		expect(stage?.usage.turns).toBe(2);
		const sum = (stage?.attempts ?? []).reduce((total, attempt) => total + (attempt.usage?.turns ?? 0), 0);
		expect(sum).toBe(2);
		expect(report.usage.turns).toBe(sum);
		expect(report.usage.totalTokens).toBe(
			(stage?.attempts ?? []).reduce((total, attempt) => total + (attempt.usage?.totalTokens ?? 0), 0),
		);
	});

	it("a fallback without credentials is skipped, not tried, with a warning", async () => {
		harness = await createHarness(() => "unused");
		const setup = await providers(() => ({ error: "insufficient quota" }));
		const seen: StageResult[] = [];
		const report = await harness.run(oneStage({ fallbackModels: ["p3/m", "p2/m"] }, seen), {}, setup.options);
		expect(report.status).toBe("completed");
		expect(seen[0]?.model).toBe("p2/m");
		expect(seen[0]?.attempts).toMatchObject([
			{ model: "p1/m", ok: false, kind: "quota" },
			{ model: "p3/m", ok: false, skipped: true },
			{ model: "p2/m", ok: true },
		]);
		expect(seen[0]?.attempts?.[1]?.error).toContain('no API key or login configured for provider "p3"');
		expect(setup.p3.calls).toHaveLength(0);
		expect(report.warnings.some((warning) => warning.includes('stage "a": model p3/m skipped'))).toBe(true);
		const skipped = ofType(harness.events(report.runId), "node_attempt", "a").filter((event) => event.skipped);
		expect(skipped).toMatchObject([{ model: "p3/m", skipped: true }]);
		expect(skipped[0]?.error).toContain("no API key or login");
		expect(report.stages[0]?.attempts.map((attempt) => [attempt.model, attempt.skipped === true])).toEqual([
			["p1/m", false],
			["p3/m", true],
			["p2/m", false],
		]);
		// Only models that were tried start a transcript.
		const starts = ofType(harness.events(report.runId), "node_started", "a");
		expect(starts.map((event) => (event.kind === "task" ? event.model : event.kind))).toEqual(["p1/m", "p2/m"]);
	});
});

/** Stages "first", "second", "third" in turn. */
const threeStages = (second: Partial<TaskOptions> = {}) =>
	workflow({
		name: "three-stages",
		description: "first, second, third",
		inputs: {},
		outputs: {},
		run: async (ctx) => {
			await ctx.task("first", { prompt: "one" });
			await ctx.task("second", { prompt: "two", ...second });
			await ctx.task("third", { prompt: "three" });
			return {};
		},
	});

describe("circuit breaker: a provider that refused the run", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	const refusals = [
		{ kind: "auth", error: "401 invalid x-api-key" },
		{ kind: "quota", error: "429 usage limit reached for this plan" },
	];
	for (const { kind, error } of refusals) {
		it(`blocks the run on ${kind} no fallback got past; a resume after the fix completes without re-running`, async () => {
			harness = await createHarness(() => "unused");
			let fixed = false;
			const setup = await providers((request) =>
				request.stage === "second" && !fixed ? { error } : `p1 answer of ${request.stage}`,
			);
			// Its fallback is on the same provider: skipped once the provider refused.
			const definition = threeStages({ fallbackModels: ["p1/m:low"] });
			const report = await harness.run(definition, {}, setup.options);
			expect(report.status).toBe("blocked");
			expect(report.reason?.startsWith(`provider "p1" refused the run (${kind})`)).toBe(true);
			expect(report.reason).toContain('stage "second"');
			expect(report.stages.map((stage) => [stage.id, stage.status])).toEqual([
				["first", "completed"],
				["second", "failed"],
			]);
			expect(report.stages[1]?.attempts).toMatchObject([{ model: "p1/m", ok: false, kind }]);
			expect(report.errors[0]).toContain(`${error} [models tried: p1/m (${kind}); not tried: p1/m:low]`);
			// The fallback on the refused provider never started (one start: the stage's own model), nor did the
			// next stage.
			expect(ofType(harness.events(report.runId), "node_started", "second")).toHaveLength(1);
			expect(setup.p1.calls.some((call) => call.stage === "third")).toBe(false);
			const firstCalls = setup.p1.calls.filter((call) => call.stage === "first").length;
			expect(firstCalls).toBe(1);

			fixed = true;
			const resumed = await harness.resume(definition, report.runId, setup.options).done;
			expect(resumed.status).toBe("completed");
			expect(resumed.stages.map((stage) => [stage.id, stage.status])).toEqual([
				["first", "completed"],
				["second", "completed"],
				["third", "completed"],
			]);
			expect(resumed.stages[0]?.replayed).toBe(true);
			expect(setup.p1.calls.filter((call) => call.stage === "first")).toHaveLength(firstCalls);
			expect(setup.p1.calls.filter((call) => call.stage === "third")).toHaveLength(1);
		});
	}

	it("a later stage skips a model of the provider that refused and goes straight to its fallback", async () => {
		harness = await createHarness(() => "unused");
		const setup = await providers((request) =>
			request.stage === "first" ? { error: "insufficient quota" } : "p1 should not be asked",
		);
		const seen: StageResult[] = [];
		const definition = workflow({
			name: "refused-earlier",
			description: "first hits the quota, second starts on the same provider",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				seen.push(await ctx.task("first", { prompt: "one", fallbackModels: ["p2/m"] }));
				seen.push(await ctx.task("second", { prompt: "two", fallbackModels: ["p2/m"] }));
				return {};
			},
		});
		const report = await harness.run(definition, {}, setup.options);
		expect(report.status).toBe("completed");
		expect(setup.p1.calls.map((call) => call.stage)).toEqual(["first"]);
		expect(setup.p2.calls.map((call) => call.stage)).toEqual(["first", "second"]);
		expect(seen[1]?.model).toBe("p2/m");
		expect(seen[1]?.attempts).toMatchObject([
			{ model: "p1/m", ok: false, skipped: true },
			{ model: "p2/m", ok: true },
		]);
		expect(seen[1]?.attempts?.[0]?.error).toContain('its provider "p1" refused earlier in this run');
		// The stage ran on its fallback, in a transcript of its own.
		const starts = ofType(harness.events(report.runId), "node_started", "second");
		expect(starts.at(-1)).toMatchObject({ model: "p2/m", attempt: 1 });
		expect(ofType(harness.events(report.runId), "node_attempt", "second")).toMatchObject([
			{ model: "p1/m", skipped: true },
		]);
		expect(report.warnings.some((warning) => warning.includes('stage "second": model p1/m skipped'))).toBe(true);
	});
});

describe("circuit breaker: the same failure ending 3 stages", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("stops a fan-out blocked after the third, nothing else started", async () => {
		harness = await createHarness(() => ({ error: "400 invalid request: bad parameter" }));
		const definition = workflow({
			name: "same-failure",
			description: "six stages that fail alike",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.parallel(
					Array.from({ length: 6 }, (_, index) => ({ name: `s${index + 1}`, prompt: `stage ${index + 1}` })),
					{ concurrency: 1, failFast: false },
				);
				return {};
			},
		});
		const report = await harness.run(definition, {}, { retry: { maxRetries: 1, baseDelayMs: 1 } });
		expect(report.status).toBe("blocked");
		expect(report.reason).toContain("the same failure ended 3 stages");
		expect(report.reason).toContain("model scripted/fast, other: s1, s2, s3");
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["s1", "s2", "s3"]);
		expect(report.stages.map((stage) => stage.id)).toEqual(["s1", "s2", "s3"]);
		expect(ofType(harness.events(report.runId), "node_started").map((event) => event.stageId)).toEqual([
			"s1",
			"s2",
			"s3",
		]);
	});

	it("two stages failing alike do not trip it", async () => {
		harness = await createHarness(() => ({ error: "400 invalid request: bad parameter" }));
		const definition = workflow({
			name: "two-failures",
			description: "two stages that fail alike, caught",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.parallel(
					[
						{ name: "s1", prompt: "one" },
						{ name: "s2", prompt: "two" },
					],
					{ concurrency: 1, failFast: false },
				);
				return {};
			},
		});
		const report = await harness.run(definition, {}, { retry: { maxRetries: 1, baseDelayMs: 1 } });
		expect(report.status).toBe("failed");
		expect(report.reason ?? "").not.toContain("the same failure");
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["s1", "s2"]);
	});
});

describe("honest statuses", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("a workflow that catches a stage failure and returns ends failed, naming the stage", async () => {
		harness = await createHarness((request) =>
			request.stage === "x" ? { error: "400 invalid request: bad parameter" } : "fine",
		);
		let caught = "";
		const definition = workflow({
			name: "caught",
			description: "catches the failure of x",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				try {
					await ctx.task("x", { prompt: "fails" });
				} catch (error) {
					caught = error instanceof Error ? error.message : String(error);
				}
				await ctx.task("y", { prompt: "works" });
				return {};
			},
		});
		const report = await harness.run(definition, {});
		expect(caught).toContain("400 invalid request: bad parameter");
		expect(report.status).toBe("failed");
		expect(report.reason?.startsWith("the workflow returned, but 1 stage failed (x)")).toBe(true);
		expect(report.stages.map((stage) => [stage.id, stage.status])).toEqual([
			["x", "failed"],
			["y", "completed"],
		]);
	});
});

describe("bad model options fail before anything is spent", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	const cases: Array<{ name: string; options: Partial<TaskOptions>; error: RegExp }> = [
		{
			name: "fallbackModels that is not a list",
			options: { fallbackModels: "scripted/smart" as unknown as string[] },
			error: /stage "a": fallbackModels: expected an array of strings/,
		},
		{
			name: "a fallback of an unknown provider",
			options: { fallbackModels: ["nope/model"] },
			error: /stage "a": fallbackModels\[0\]: model "nope\/model": unknown provider "nope"/,
		},
		{
			name: "a bad thinking level",
			options: { model: "scripted/fast:turbo" },
			error: /bad thinking level "turbo"/,
		},
	];
	for (const { name, options, error } of cases) {
		it(name, async () => {
			harness = await createHarness(() => "should not be asked");
			const report = await harness.run(oneStage(options), {});
			expect(report.status).toBe("failed");
			expect(report.errors[0]).toMatch(error);
			expect(harness.provider.calls).toHaveLength(0);
		});
	}
});

describe("models checked before a run starts", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("lists every problem at once and writes nothing; a fallback without credentials is no problem", async () => {
		harness = await createHarness(() => "unused");
		const setup = await providers(() => "answer of p1");
		const start = (models: RunWorkflowOptions["models"]) =>
			startWorkflow(oneStage({}), {}, {
				cwd: harness.cwd,
				agentDir: harness.agentDir,
				...setup.options,
				models,
			} as RunWorkflowOptions);
		let message = "";
		try {
			start([
				{ spec: "nope/m", where: 'step "a" model' },
				{ spec: "p1/missing", where: 'step "b" model' },
				{ spec: "p1/m:turbo", where: 'step "c" model' },
				{ spec: "p3/m", where: 'step "d" model' },
				{ spec: "p3/m", where: 'step "e" fallbackModels[0]', fallback: true },
			]);
		} catch (error) {
			message = error instanceof Error ? error.message : String(error);
		}
		expect(message).toContain('Workflow "one-stage": models:');
		expect(message).toContain('step "a" model: model "nope/m": unknown provider "nope"');
		expect(message).toContain('step "b" model: model "p1/missing": unknown id "missing" for provider "p1"');
		expect(message).toContain('step "c" model: model "p1/m:turbo": bad thinking level "turbo"');
		expect(message).toContain('step "d" model: model "p3/m": no API key or login configured for provider "p3"');
		expect(message).not.toContain('step "e"');
		expect(message).toContain("Nothing was started.");
		expect(existsSync(join(harness.cwd, ".pi", "workflows", "runs"))).toBe(false);
		expect(setup.p1.calls).toHaveLength(0);

		// Only a fallback without credentials: the run starts.
		const report = await start([
			{ spec: "p1/m", where: 'step "a" model' },
			{ spec: "p3/m", where: 'step "a" fallbackModels[0]', fallback: true },
		]).done;
		expect(report.status).toBe("completed");
		expect(setup.p1.calls).toHaveLength(1);
	});

	it("a dynamic spec gives its models and fallbacks, checked before its run starts", async () => {
		harness = await createHarness(() => "unused");
		const setup = await providers(() => "answer of p1");
		const spec = parseSpec({
			name: "one-off",
			description: "a scout with fallbacks",
			steps: [
				{ name: "scout", prompt: "look around", model: "p1/m", fallbackModels: ["p3/m", "nope/m"] },
				{ name: "plain", prompt: "no model of its own" },
			],
		});
		expect(specModels(spec)).toEqual([
			{ spec: "p1/m", where: 'step "scout" model', fallback: false },
			{ spec: "p3/m", where: 'step "scout" fallbackModels[0]', fallback: true },
			{ spec: "nope/m", where: 'step "scout" fallbackModels[1]', fallback: true },
		]);
		const options = {
			cwd: harness.cwd,
			agentDir: harness.agentDir,
			...setup.options,
			models: specModels(spec),
		} as RunWorkflowOptions;
		expect(() => startWorkflow(definitionFromSpec(spec), {}, options)).toThrow(
			/step "scout" fallbackModels\[1\]: model "nope\/m": unknown provider "nope"/,
		);
		expect(() => startWorkflow(definitionFromSpec(spec), {}, options)).not.toThrow(/fallbackModels\[0\]/);
		expect(existsSync(join(harness.cwd, ".pi", "workflows", "runs"))).toBe(false);
		expect(() => parseSpec({ name: "bad", steps: [{ name: "s", prompt: "p", fallbackModels: "p2/m" }] })).toThrow(
			/steps\[0\]\.fallbackModels: expected an array of strings/,
		);
	});
});
