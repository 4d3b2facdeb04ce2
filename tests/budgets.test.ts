// Budgets end to end: every run limit (stages, turns, tool calls, tokens, cost, driven time, warnings) stops or warns
// a real run, live while stages run; a raised budget resumes without redoing work; stage budgets, unpriced models,
// the report's figures, fallback attempts and branches; dynamic specs and every bad budget refused before a spend.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { parseBudgetText } from "../extensions/workflows/authoring/budget-spec.js";
import type { WorkflowBudget } from "../extensions/workflows/authoring/types.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { DEFAULT_MAX_STAGES } from "../extensions/workflows/engine/budget.js";
import type { RunReport } from "../extensions/workflows/store/report.js";
import { runPaths } from "../extensions/workflows/store/run-directory.js";
import { takeBudget } from "../extensions/workflows/surface/command-args.js";
import { definitionFromSpec, parseSpec } from "../extensions/workflows/surface/dynamic-spec.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import {
	createScriptedProvider,
	type Script,
	type ScriptedReply,
	type ScriptedRequest,
} from "../extensions/workflows/testing/scripted-provider.js";
import { deferred } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

/** A stage that keeps working: a different bash call each turn, up to `calls` of them, then an answer. */
function busy(calls: number): (request: ScriptedRequest) => ScriptedReply {
	return (request) =>
		request.stageCall <= calls
			? { toolCalls: [{ name: "bash", arguments: { command: `echo turn ${request.stageCall}` } }] }
			: "done working";
}

/** Stages run one after another, each answering in one turn unless the script says otherwise. */
function sequence(name: string, stages: string[], budget?: WorkflowBudget) {
	return workflow({
		name,
		description: "stages one after another",
		inputs: {},
		outputs: { result: Type.String() },
		...(budget ? { budget } : {}),
		run: async (ctx) => {
			let last = "";
			for (const stage of stages) last = (await ctx.task(stage, { prompt: `do ${stage}` })).text;
			return { result: last };
		},
	});
}

function calledStages(harness: Harness, from = 0): string[] {
	return harness.provider.calls.slice(from).map((call) => call.stage ?? "?");
}

function stageStatus(report: RunReport, id: string): string | undefined {
	return report.stages.find((stage) => stage.id === id)?.status;
}

function readReportJson(harness: Harness, runId: string): RunReport {
	return JSON.parse(readFileSync(runPaths(harness.cwd, runId).reportJson, "utf8")) as RunReport;
}

const runsDir = (harness: Harness) => join(harness.cwd, ".pi", "workflows", "runs");

let harness: Harness | undefined;
afterEach(() => {
	harness?.cleanup();
	harness = undefined;
});

async function open(script: Script): Promise<Harness> {
	harness = await createHarness(script);
	return harness;
}

/** A harness whose registry also notes, for every model request, whether it went out on a signal not yet aborted
 * (after a stop Pi may still send one request on the aborted signal; it spends nothing). */
async function openWatched(script: Script) {
	const h = await open(script);
	const live: boolean[] = [];
	const config = h.provider.config;
	const streamSimple = config.streamSimple as NonNullable<typeof config.streamSimple>;
	const modelRegistry = await createInMemoryModelRegistry({
		scripted: {
			...config,
			streamSimple: (model, context, options) => {
				live.push(options?.signal?.aborted !== true);
				return streamSimple(model, context, options);
			},
		},
	});
	const liveStages = () => h.provider.calls.filter((_, index) => live[index]).map((call) => call.stage ?? "?");
	return { h, options: { modelRegistry }, liveStages };
}

describe("run limits stop a running run", () => {
	it("maxTokens reached by one branch stops the branch still in flight (interrupted) and starts nothing more", async () => {
		const longInFlight = deferred();
		const h = await open(async (request) => {
			if (request.stage === "long") {
				longInFlight.resolve();
				// Only the first run's request hangs; a resume's answers at once.
				return request.stageCall === 1 ? { text: "late", delayMs: 30_000 } : "long done";
			}
			if (request.stage === "spender") await longInFlight.promise;
			return `answer of ${request.stage}`;
		});
		const flow = workflow({
			name: "live-stop",
			description: "two branches in flight, a third waiting for a slot, then a last stage",
			inputs: {},
			outputs: {},
			budget: { maxTokens: 1 },
			run: async (ctx) => {
				await ctx.parallel(
					[
						{ name: "long", prompt: "take your time" },
						{ name: "spender", prompt: "spend" },
						{ name: "queued", prompt: "wait for a slot" },
					],
					{ concurrency: 2 },
				);
				await ctx.task("after", { prompt: "never" });
				return {};
			},
		});
		const report = await h.run(flow, {});
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(
			/^budget: \d+ tokens reached the limit of 1 token \(maxTokens\) while stage "spender" ran; the running stages were stopped$/,
		);
		expect(stageStatus(report, "long")).toBe("interrupted");
		expect(calledStages(h).sort()).toEqual(["long", "spender"]);
		expect(report.stages.map((stage) => stage.id).sort()).toEqual(["long", "spender"]);

		// A raised budget continues: the spender is not asked again, the interrupted and unstarted stages run.
		const before = h.provider.calls.length;
		const resumed = await h.resume(flow, report.runId, { budget: { maxTokens: 100_000_000 } }).done;
		expect(resumed.status).toBe("completed");
		expect(calledStages(h, before).sort()).toEqual(["after", "long", "queued"]);
		expect(stageStatus(resumed, "long")).toBe("completed");
	});

	it("maxTurns stops the stage at the turn that reaches it", async () => {
		const { h, options, liveStages } = await openWatched(busy(10));
		const report = await h.run(sequence("turns", ["worker", "after"], { maxTurns: 3 }), {}, options);
		expect(report.status).toBe("blocked");
		expect(report.reason).toBe(
			'budget: 3 model turns reached the limit of 3 model turns (maxTurns) while stage "worker" ran; the running stages were stopped',
		);
		expect(stageStatus(report, "worker")).toBe("interrupted");
		expect(calledStages(h)).not.toContain("after");
		// The stage was stopped at turn 3, not left to work on to its tenth.
		expect(liveStages()).toEqual(["worker", "worker", "worker"]);
	});

	it("a stopped stage's aborted request is not counted as a model turn", async () => {
		// After turn 3 reached the limit, Pi sends one more request on the already aborted signal; it returns
		// nothing (0 tokens) and must not count as a turn spent.
		const h = await open(busy(10));
		const report = await h.run(sequence("phantom", ["worker"], { maxTurns: 3 }), {});
		expect(report.status).toBe("blocked");
		expect(report.budget?.spent.turns).toBe(3);
		expect(report.usage.turns).toBe(3);
	});

	it("maxToolCalls stops the stage at the tool call that reaches it", async () => {
		const { h, options, liveStages } = await openWatched(busy(10));
		const report = await h.run(sequence("tool-calls", ["worker", "after"], { maxToolCalls: 2 }), {}, options);
		expect(report.status).toBe("blocked");
		expect(report.reason).toBe(
			'budget: 2 tool calls reached the limit of 2 tool calls (maxToolCalls) while stage "worker" ran; the running stages were stopped',
		);
		expect(stageStatus(report, "worker")).toBe("interrupted");
		expect(liveStages()).toEqual(["worker", "worker"]);
	});

	it("maxCostUsd stops the run once the priced spend reaches it", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		const report = await h.run(sequence("cost", ["a", "b"], { maxCostUsd: 0.0001 }), {});
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(
			/^budget: \$0\.\d+ reached the limit of \$0\.0001 \(maxCostUsd\) while stage "a" ran; the running stages were stopped$/,
		);
		expect(calledStages(h)).toEqual(["a"]);
		expect(report.budget?.spent.costUsd).toBeGreaterThanOrEqual(0.0001);
	});

	it("maxStages refuses stage N+1 before it starts; ctx.tool calls are not stages", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		let effects = 0;
		const flow = workflow({
			name: "stage-limit",
			description: "a, a tool, b, then c over the limit",
			inputs: {},
			outputs: {},
			budget: { maxStages: 2 },
			run: async (ctx) => {
				await ctx.task("a", { prompt: "a" });
				await ctx.tool("effect", {}, () => {
					effects++;
				});
				await ctx.task("b", { prompt: "b" });
				await ctx.task("c", { prompt: "c" });
				return {};
			},
		});
		const report = await h.run(flow, {});
		expect(report.status).toBe("blocked");
		expect(report.reason).toBe('budget: 2 stages reached the limit of 2 stages (maxStages) before stage "c" started');
		expect(effects).toBe(1);
		expect(calledStages(h)).toEqual(["a", "b"]);
		expect(report.stages.map((stage) => stage.id)).toEqual(["a", "effect", "b"]);
	});

	it(`every run has a stage limit of ${DEFAULT_MAX_STAGES} unless its budget says otherwise`, async () => {
		expect(DEFAULT_MAX_STAGES).toBe(200);
		const h = await open(() => "ok");
		const flow = workflow({
			name: "runaway",
			description: "a loop that would start stages forever",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				for (let index = 0; ; index++) await ctx.task(`s${index}`, { prompt: "again" });
			},
		});
		const report = await h.run(flow, {});
		expect(report.status).toBe("blocked");
		expect(report.reason).toBe(
			'budget: 200 stages reached the limit of 200 stages (maxStages) before stage "s200" started',
		);
		expect(h.provider.calls).toHaveLength(200);
	});

	it("maxDurationMs stops the run when its driven time is up, the running stage included", async () => {
		const h = await open((request) => (request.stage === "slow" ? { text: "late", delayMs: 30_000 } : "ok"));
		const report = await h.run(sequence("duration", ["first", "slow", "after"], { maxDurationMs: 500 }), {});
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(
			/^budget: \S+ of driving reached the limit of 500ms \(maxDurationMs\); the running stages were stopped$/,
		);
		expect(stageStatus(report, "first")).toBe("completed");
		expect(stageStatus(report, "slow")).toBe("interrupted");
		expect(calledStages(h)).toEqual(["first", "slow"]);
	});

	it("warnAtPercent warns once per limit when spending crosses that share, and the run goes on", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		const stages = ["a", "b", "c", "d", "e", "f"];
		const warned = await h.run(sequence("warned", stages, { maxTurns: 10, warnAtPercent: 50 }), {});
		expect(warned.status).toBe("completed");
		const budgetWarnings = warned.warnings.filter((warning) => warning.startsWith("budget:"));
		expect(budgetWarnings).toHaveLength(1);
		expect(budgetWarnings[0]).toMatch(
			/^budget: [5-6] model turns spent, 50% of the limit of 10 model turns \(maxTurns\)$/,
		);
		// Below the share, or without warnAtPercent, nothing is said.
		const quiet = await h.run(sequence("quiet", ["a", "b"], { maxTurns: 10, warnAtPercent: 50 }), {});
		const unasked = await h.run(sequence("unasked", stages, { maxTurns: 10 }), {});
		for (const report of [quiet, unasked]) {
			expect(report.status).toBe("completed");
			expect(report.warnings.filter((warning) => warning.startsWith("budget:"))).toEqual([]);
		}
	});
});

describe("resume with a raised budget", () => {
	it("continues a run stopped while a stage ran, without asking for finished stages again", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		const flow = sequence("raised", ["a", "b", "c"], { maxTurns: 2 });
		const first = await h.run(flow, {});
		expect(first.status).toBe("blocked");
		expect(first.reason).toMatch(
			/^budget: 2 model turns reached the limit of 2 model turns \(maxTurns\) while stage "b"/,
		);
		expect(calledStages(h)).toEqual(["a", "b"]);

		// The same budget: still blocked, and nothing is asked of a model.
		const same = await h.resume(flow, first.runId).done;
		expect(same.status).toBe("blocked");
		expect(calledStages(h)).toEqual(["a", "b"]);

		const resumed = await h.resume(flow, first.runId, { budget: { maxTurns: 10 } }).done;
		expect(resumed.status).toBe("completed");
		expect(resumed.outputs).toEqual({ result: "answer of c" });
		expect(calledStages(h)).toEqual(["a", "b", "c"]);
		expect(resumed.stages.find((stage) => stage.id === "a")?.replayed).toBe(true);
		expect(resumed.stages.map((stage) => stage.status)).toEqual(["completed", "completed", "completed"]);
		expect(resumed.budget?.limits).toEqual({ maxStages: 200, maxTurns: 10 });
	});

	it("overrides accumulate across resumes and are journaled with the limits in force", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		const flow = sequence("accumulate", ["a", "b", "c"], { maxStages: 1 });
		const first = await h.run(flow, {});
		expect(first.status).toBe("blocked");
		expect(first.reason).toBe('budget: 1 stage reached the limit of 1 stage (maxStages) before stage "b" started');

		const second = await h.resume(flow, first.runId, { budget: { maxStages: 2 } }).done;
		expect(second.status).toBe("blocked");
		expect(second.reason).toBe('budget: 2 stages reached the limit of 2 stages (maxStages) before stage "c" started');
		expect(second.stages.find((stage) => stage.id === "a")?.replayed).toBe(true);

		// An override of another key keeps the earlier maxStages 2 (not the workflow's 1).
		const third = await h.resume(flow, first.runId, { budget: { maxTokens: 10_000_000 } }).done;
		expect(third.status).toBe("blocked");
		expect(third.reason).toBe('budget: 2 stages reached the limit of 2 stages (maxStages) before stage "c" started');

		const last = await h.resume(flow, first.runId, { budget: { maxStages: 3 } }).done;
		expect(last.status).toBe("completed");
		expect(calledStages(h)).toEqual(["a", "b", "c"]);
		expect(last.stages.filter((stage) => stage.replayed).map((stage) => stage.id)).toEqual(["a", "b"]);
		expect(last.budget?.limits).toEqual({ maxStages: 3, maxTokens: 10_000_000 });

		const opens = h
			.events(first.runId)
			.filter((event) => event.type === "run_started" || event.type === "run_resumed")
			.map((event) => {
				const { budget, budgetOverride } = event as { budget?: WorkflowBudget; budgetOverride?: WorkflowBudget };
				return { type: event.type, budget, budgetOverride };
			});
		expect(opens).toEqual([
			{ type: "run_started", budget: { maxStages: 1 }, budgetOverride: undefined },
			{ type: "run_resumed", budget: { maxStages: 2 }, budgetOverride: { maxStages: 2 } },
			{
				type: "run_resumed",
				budget: { maxStages: 2, maxTokens: 10_000_000 },
				budgetOverride: { maxTokens: 10_000_000 },
			},
			{ type: "run_resumed", budget: { maxStages: 3, maxTokens: 10_000_000 }, budgetOverride: { maxStages: 3 } },
		]);
	});

	it("a one-run override at start replaces the workflow's key and is journaled on run_started", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		const flow = sequence("override", ["a", "b", "c"], { maxTurns: 1, maxTokens: 50_000_000 });
		const report = await h.run(flow, {}, { budget: { maxTurns: 50 } });
		expect(report.status).toBe("completed");
		expect(report.budget?.limits).toEqual({ maxStages: 200, maxTurns: 50, maxTokens: 50_000_000 });
		const started = h.events(report.runId).find((event) => event.type === "run_started") as {
			budget?: WorkflowBudget;
			budgetOverride?: WorkflowBudget;
		};
		expect(started.budget).toEqual({ maxStages: 200, maxTurns: 50, maxTokens: 50_000_000 });
		expect(started.budgetOverride).toEqual({ maxTurns: 50 });
	});
});

describe("stage budgets", () => {
	it("a stage's own limit fails that stage (no fallback tries), and the run fails", async () => {
		const { h, options, liveStages } = await openWatched(busy(5));
		const flow = workflow({
			name: "stage-limit",
			description: "a stage with a turn limit, then another",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.task("worker", {
					prompt: "work",
					budget: { maxTurns: 2 },
					fallbackModels: ["scripted/smart"],
				});
				await ctx.task("after", { prompt: "never" });
				return {};
			},
		});
		const report = await h.run(flow, {}, options);
		expect(report.status).toBe("failed");
		const worker = report.stages.find((stage) => stage.id === "worker");
		expect(worker?.status).toBe("failed");
		expect(worker?.error).toMatch(/^stage budget: 2 model turns reached the limit of 2 model turns \(maxTurns\)/);
		expect(h.provider.calls.filter((call) => call.model === "smart")).toEqual([]);
		expect(liveStages()).toEqual(["worker", "worker"]);
	});

	it("a workflow that catches the stage's failure goes on", async () => {
		const { h, options, liveStages } = await openWatched((request) =>
			request.stage === "worker" ? busy(5)(request) : "after done",
		);
		let caught = "";
		const flow = workflow({
			name: "stage-limit-caught",
			description: "a stage over its token limit, caught",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				try {
					await ctx.task("worker", { prompt: "work", budget: { maxTokens: 1 } });
				} catch (error) {
					caught = error instanceof Error ? error.message : String(error);
				}
				await ctx.task("after", { prompt: "go on" });
				// A caught failure still fails a run that just returns; this one says it completes anyway.
				return ctx.exit({ status: "completed", reason: "the worker's limit was expected" });
			},
		});
		const report = await h.run(flow, {}, options);
		expect(report.status).toBe("completed");
		expect(stageStatus(report, "worker")).toBe("failed");
		expect(caught).toMatch(/stage budget: \d+ tokens reached the limit of 1 token \(maxTokens\)/);
		expect(liveStages()).toEqual(["worker", "after"]);
		expect(stageStatus(report, "after")).toBe("completed");
	});
});

describe("a cost limit needs priced models", () => {
	async function freeAndPriced() {
		const h = await open((request) => `answer of ${request.stage}`);
		const free = createScriptedProvider({
			models: ["m"],
			script: () => "free answer",
			cost: { input: 0, output: 0 },
		});
		const modelRegistry = await createInMemoryModelRegistry({
			scripted: h.provider.config,
			free: free.config,
		});
		return { h, free, modelRegistry };
	}

	it("a free default model with a workflow cost limit: startWorkflow throws and writes nothing", async () => {
		const { h, free, modelRegistry } = await freeAndPriced();
		const flow = sequence("free-default", ["a"], { maxCostUsd: 1 });
		expect(() => h.start(flow, {}, { modelRegistry, defaultModel: "free/m" })).toThrow(/has no known price/);
		// The same through the run's own option.
		expect(() =>
			h.start(
				sequence("free-option", ["a"]),
				{},
				{ modelRegistry, defaultModel: "free/m", budget: { maxCostUsd: 1 } },
			),
		).toThrow(/"free\/m" has no known price/);
		expect(existsSync(runsDir(h))).toBe(false);
		expect(free.calls).toEqual([]);
		// Without a cost limit the free model runs.
		const report = await h.run(sequence("free-fine", ["a"]), {}, { modelRegistry, defaultModel: "free/m" });
		expect(report.status).toBe("completed");
	});

	it("a stage whose own model is free fails before any model call, under the run's or its own cost limit", async () => {
		const { h, free, modelRegistry } = await freeAndPriced();
		const onFree = (name: string, budget: { run?: WorkflowBudget; stage?: WorkflowBudget }) =>
			workflow({
				name,
				description: "a priced stage, then one on a free model",
				inputs: {},
				outputs: {},
				...(budget.run ? { budget: budget.run } : {}),
				run: async (ctx) => {
					await ctx.task("priced", { prompt: "priced" });
					await ctx.task("cheap", {
						prompt: "cheap",
						model: "free/m",
						...(budget.stage ? { budget: budget.stage } : {}),
					});
					return {};
				},
			});
		const runLimit = await h.run(onFree("run-limit", { run: { maxCostUsd: 1 } }), {}, { modelRegistry });
		expect(runLimit.status).toBe("failed");
		expect(runLimit.stages.find((stage) => stage.id === "cheap")?.error).toMatch(
			/model "free\/m" has no known price .*the run's budget maxCostUsd/,
		);
		const stageLimit = await h.run(onFree("stage-limit", { stage: { maxCostUsd: 1 } }), {}, { modelRegistry });
		expect(stageLimit.status).toBe("failed");
		expect(stageLimit.stages.find((stage) => stage.id === "cheap")?.error).toMatch(
			/model "free\/m" has no known price .*the stage's budget maxCostUsd/,
		);
		expect(free.calls).toEqual([]);
		expect(calledStages(h)).toEqual(["priced", "priced"]);
	});
});

describe("what counts", () => {
	it("report.json carries the limits in force (maxStages 200 by default) and the spend", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		const report = await h.run(sequence("report", ["a", "b"]), {});
		expect(report.status).toBe("completed");
		const written = readReportJson(h, report.runId);
		expect(written.budget?.limits).toEqual({ maxStages: 200 });
		const spent = written.budget?.spent;
		expect(spent).toMatchObject({ stages: 2, turns: 2, toolCalls: 0 });
		expect(spent?.tokens).toBe(written.usage.totalTokens);
		expect(spent?.tokens).toBeGreaterThan(0);
		expect(spent?.costUsd).toBeCloseTo(written.usage.cost, 10);
		expect(spent?.durationMs).toBeGreaterThanOrEqual(0);
		expect(Object.keys(spent ?? {}).sort()).toEqual([
			"costUsd",
			"durationMs",
			"stages",
			"tokens",
			"toolCalls",
			"turns",
		]);
	});

	it("a failed model attempt before a fallback counts in the run's usage and budget", async () => {
		const h = await open(() => "unused");
		const p1 = createScriptedProvider({ models: ["m"], script: () => ({ error: "503 overloaded" }) });
		const p2 = createScriptedProvider({ models: ["m"], script: (request) => `answer of ${request.stage}` });
		const modelRegistry = await createInMemoryModelRegistry({ p1: p1.config, p2: p2.config });
		const flow = (name: string, budget?: WorkflowBudget) =>
			workflow({
				name,
				description: "a stage whose first model is overloaded, then a stage on the second",
				inputs: {},
				outputs: {},
				...(budget ? { budget } : {}),
				run: async (ctx) => {
					await ctx.task("s", { prompt: "try", model: "p1/m", fallbackModels: ["p2/m"] });
					await ctx.task("next", { prompt: "next" });
					await ctx.task("last", { prompt: "last" });
					return {};
				},
			});
		const options = { modelRegistry, defaultModel: "p2/m", retry: { maxRetries: 1, baseDelayMs: 1 } };

		const full = await h.run(flow("fallback-usage"), {}, options);
		expect(full.status).toBe("completed");
		const s = full.stages.find((stage) => stage.id === "s");
		expect(s?.attempts.map((attempt) => [attempt.model, attempt.ok])).toEqual([
			["p1/m", false],
			["p2/m", true],
		]);
		const failedAttempt = s?.attempts[0]?.usage;
		expect(failedAttempt?.totalTokens).toBeGreaterThan(0);
		const stageTokens = full.stages.reduce((sum, stage) => sum + stage.usage.totalTokens, 0);
		const attemptTokens = s?.attempts.reduce((sum, attempt) => sum + (attempt.usage?.totalTokens ?? 0), 0);
		expect(s?.usage.totalTokens).toBe(attemptTokens);
		expect(full.usage.totalTokens).toBe(stageTokens);
		expect(full.budget?.spent.tokens).toBe(full.usage.totalTokens);
		expect(full.budget?.spent.turns).toBe(full.usage.turns);
		// s: p1's request and Pi's one retry of it (both spent), then the fallback's answer; next and last: one each.
		expect(p1.calls).toHaveLength(2);
		expect(s?.attempts[0]?.usage?.turns).toBe(2);
		expect(full.usage.turns).toBe(5);

		// s's third turn (the fallback's answer) reaches a limit of 3: the run stops there, next never starts.
		const before = p2.calls.length;
		const limited = await h.run(flow("fallback-budget", { maxTurns: 3 }), {}, options);
		expect(limited.status).toBe("blocked");
		expect(limited.reason).toMatch(
			/^budget: 3 model turns reached the limit of 3 model turns \(maxTurns\) while stage "s" ran/,
		);
		expect(p2.calls.slice(before).map((call) => call.stage)).toEqual(["s"]);
	});

	it("the figures of a stop's reason agree with the report's spend when a retried attempt is counted live", async () => {
		// Pi retries p1's 503 once: two requests, of which the transcript keeps one. The live check counted both
		// (and stopped the run at "2 model turns"); the report must not then say only 1 turn was spent.
		const h = await open(() => "unused");
		const p1 = createScriptedProvider({ models: ["m"], script: () => ({ error: "503 overloaded" }) });
		const p2 = createScriptedProvider({ models: ["m"], script: () => "fine" });
		const modelRegistry = await createInMemoryModelRegistry({ p1: p1.config, p2: p2.config });
		const flow = workflow({
			name: "retry-figures",
			description: "an overloaded model, retried, under a turn limit",
			inputs: {},
			outputs: {},
			budget: { maxTurns: 2 },
			run: async (ctx) => {
				await ctx.task("s", { prompt: "try", model: "p1/m", fallbackModels: ["p2/m"] });
				return {};
			},
		});
		const report = await h.run(
			flow,
			{},
			{ modelRegistry, defaultModel: "p2/m", retry: { maxRetries: 1, baseDelayMs: 1 } },
		);
		expect(report.status).toBe("blocked");
		const stated =
			/^budget: (\d+) model turns reached the limit of 2 model turns \(maxTurns\) while stage "s" ran/.exec(
				report.reason ?? "",
			);
		expect(stated, report.reason).not.toBeNull();
		expect(report.budget?.spent.turns).toBeGreaterThanOrEqual(Number(stated?.[1]));
	});

	it("stages of parallel branches count: the stage limit stops the stage after them", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		const flow = workflow({
			name: "branches",
			description: "two branches of two stages each, then a final stage",
			inputs: {},
			outputs: {},
			budget: { maxStages: 4 },
			run: async (ctx) => {
				await ctx.parallel([
					async (branch) => {
						await branch.task("left-1", { prompt: "l1" });
						return branch.task("left-2", { prompt: "l2" });
					},
					async (branch) => {
						await branch.task("right-1", { prompt: "r1" });
						return branch.task("right-2", { prompt: "r2" });
					},
				]);
				await ctx.task("final", { prompt: "final" });
				return {};
			},
		});
		const report = await h.run(flow, {});
		expect(report.status).toBe("blocked");
		expect(report.reason).toBe(
			'budget: 4 stages reached the limit of 4 stages (maxStages) before stage "final" started',
		);
		expect(report.budget?.spent).toMatchObject({ stages: 4, turns: 4 });
		expect(calledStages(h)).not.toContain("final");
	});
});

describe("dynamic specs", () => {
	const steps = (count: number) => Array.from({ length: count }, (_, index) => ({ name: `s${index}`, prompt: "go" }));

	it("a spec of more steps than its stage limit is refused by parseSpec", () => {
		expect(() => parseSpec({ name: "huge", steps: steps(10_000) })).toThrow(
			/steps: 10000 steps, more than the run may start \(budget\.maxStages 200, the default\)/,
		);
		expect(() => parseSpec({ name: "over", steps: steps(201) })).toThrow(/201 steps.*maxStages 200/);
		expect(() => parseSpec({ name: "small-limit", budget: { maxStages: 2 }, steps: steps(3) })).toThrow(
			/3 steps, more than the run may start \(budget\.maxStages 2\)/,
		);
		expect(parseSpec({ name: "at-limit", steps: steps(200) }).plan).toMatchObject({ kind: "sequence" });
		expect(parseSpec({ name: "raised", budget: { maxStages: 10_000 }, steps: steps(10_000) }).budget).toEqual({
			maxStages: 10_000,
		});
	});

	it("step-level budget, time limits, fallbackModels and schema are checked with their path", () => {
		let message = "";
		try {
			parseSpec({
				name: "bad-steps",
				budget: { maxCost: 1 },
				steps: [
					{ name: "a", prompt: "a", budget: { maxTurns: -1 } },
					{ name: "b", prompt: "b", budget: { maxStages: 3 }, timeoutMs: 0 },
					{ name: "c", prompt: "c", idleTimeoutMs: -1, toolTimeoutMs: "1s" },
					{ name: "d", prompt: "d", fallbackModels: "p2/m" },
					{ name: "e", prompt: "e", schema: "an object" },
				],
			});
		} catch (error) {
			message = error instanceof Error ? error.message : String(error);
		}
		expect(message).toContain("budget.maxCost: unknown limit (it was renamed maxCostUsd)");
		expect(message).toContain("steps[0].budget.maxTurns: expected a whole number above 0, got -1");
		expect(message).toContain(
			"steps[1].budget.maxStages: unknown limit; expected one of maxTurns, maxToolCalls, maxTokens, maxCostUsd, maxDurationMs",
		);
		expect(message).toContain("steps[1].timeoutMs: expected a whole number of milliseconds above 0, got 0");
		expect(message).toContain("steps[2].idleTimeoutMs: expected a whole number of milliseconds, 0 or more, got -1");
		expect(message).toContain('steps[2].toolTimeoutMs: expected a whole number of milliseconds above 0, got "1s"');
		expect(message).toContain('steps[3].fallbackModels: expected an array of strings, got "p2/m"');
		expect(message).toMatch(/steps\[4\]\.schema/);
	});

	it("a spec's budget is the run's budget", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		const spec = parseSpec({
			name: "spec-budget",
			budget: { maxTurns: 1 },
			steps: [
				{ name: "one", prompt: "one", budget: { maxTokens: 100_000_000 } },
				{ name: "two", prompt: "two" },
			],
		});
		const definition = definitionFromSpec(spec);
		expect(definition.budget).toEqual({ maxTurns: 1 });
		const report = await h.run(definition, {}, { spec });
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(/^budget: 1 model turn reached the limit of 1 model turn \(maxTurns\)/);
		expect(calledStages(h)).toEqual(["one"]);
	});
});

describe("bad budgets are refused before anything is spent", () => {
	const define = (budget: unknown) => () =>
		workflow({
			name: "bad-budget",
			description: "a workflow with a bad budget",
			inputs: {},
			outputs: {},
			budget: budget as WorkflowBudget,
			run: async () => ({}),
		});

	it("workflow() names the field, what it expects and what it got", () => {
		const keys = "maxStages, maxTurns, maxToolCalls, maxTokens, maxCostUsd, maxDurationMs, warnAtPercent";
		const cases: Array<[unknown, string]> = [
			[{ maxTokens: -1 }, "budget.maxTokens: expected a whole number above 0, got -1"],
			[{ maxTurns: 0 }, "budget.maxTurns: expected a whole number above 0, got 0"],
			[{ maxStages: 1.5 }, "budget.maxStages: expected a whole number above 0, got 1.5"],
			[{ maxCostUsd: "2" }, 'budget.maxCostUsd: expected a number, got string "2"'],
			[{ maxCostUsd: 0 }, "budget.maxCostUsd: expected a number above 0, got 0"],
			[{ maxDurationMs: Number.NaN }, "budget.maxDurationMs: expected a number, got NaN"],
			[{ warnAtPercent: 100 }, "budget.warnAtPercent: expected a percentage above 0 and below 100, got 100"],
			[{ maxCost: 2 }, `budget.maxCost: unknown limit (it was renamed maxCostUsd); expected one of ${keys}`],
			[{ tokens: 5 }, `budget.tokens: unknown limit; expected one of ${keys}`],
			["lots", 'budget: expected an object of limits ({ maxStages, maxTurns, ... }), got string "lots"'],
		];
		for (const [budget, problem] of cases) {
			expect(define(budget), JSON.stringify(budget)).toThrow(problem);
		}
		expect(define({ maxTurns: -1, maxCost: 1 })).toThrow(
			/maxTurns: expected a whole number above 0, got -1\n- budget\.maxCost/,
		);
		expect(define({ maxTurns: 5, maxCostUsd: 0.5, warnAtPercent: 80 })).not.toThrow();
	});

	it("a stage's bad budget fails that stage before any model call", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		const flow = (name: string, budget: unknown) =>
			workflow({
				name,
				description: "a stage with a bad budget",
				inputs: {},
				outputs: {},
				run: async (ctx) => {
					await ctx.task("x", { prompt: "x", budget: budget as WorkflowBudget });
					return {};
				},
			});
		const runLimit = await h.run(flow("stage-keys", { maxStages: 3 }), {});
		expect(runLimit.status).toBe("failed");
		expect(runLimit.stages[0]?.error).toContain(
			"budget.maxStages: unknown limit; expected one of maxTurns, maxToolCalls, maxTokens, maxCostUsd, maxDurationMs",
		);
		const negative = await h.run(flow("stage-negative", { maxTurns: -1 }), {});
		expect(negative.stages[0]?.error).toContain("budget.maxTurns: expected a whole number above 0, got -1");
		const renamed = await h.run(flow("stage-renamed", { maxCost: 1 }), {});
		expect(renamed.stages[0]?.error).toContain("budget.maxCost: unknown limit (it was renamed maxCostUsd)");
		expect(h.provider.calls).toEqual([]);
	});

	it("a bad run option: startWorkflow and resumeWorkflow throw 'invalid budget' and change nothing", async () => {
		const h = await open((request) => `answer of ${request.stage}`);
		const flow = sequence("option", ["a", "b"], { maxStages: 1 });
		expect(() => h.start(flow, {}, { budget: { maxCost: 2 } as WorkflowBudget })).toThrow(
			/invalid budget:\n- budget\.maxCost: unknown limit \(it was renamed maxCostUsd\)/,
		);
		expect(() => h.start(flow, {}, { budget: { maxTokens: 0 } })).toThrow(
			/invalid budget:\n- budget\.maxTokens: expected a whole number above 0, got 0/,
		);
		expect(existsSync(runsDir(h))).toBe(false);

		const first = await h.run(flow, {});
		expect(first.status).toBe("blocked");
		const journal = readFileSync(runPaths(h.cwd, first.runId).journal, "utf8");
		expect(() => h.resume(flow, first.runId, { budget: { maxStages: -3 } })).toThrow(
			/invalid budget:\n- budget\.maxStages: expected a whole number above 0, got -3/,
		);
		expect(readFileSync(runPaths(h.cwd, first.runId).journal, "utf8")).toBe(journal);
		expect(calledStages(h)).toEqual(["a"]);
	});

	it("parseBudgetText reads the short form and names the bad part", () => {
		expect(parseBudgetText("cost=2,tokens=500k,stages=50,turns=80,tools=300,duration=30m,warn=80")).toEqual({
			ok: true,
			budget: {
				maxCostUsd: 2,
				maxTokens: 500_000,
				maxStages: 50,
				maxTurns: 80,
				maxToolCalls: 300,
				maxDurationMs: 1_800_000,
				warnAtPercent: 80,
			},
		});
		expect(parseBudgetText("maxTokens=2m, duration=90s")).toEqual({
			ok: true,
			budget: { maxTokens: 2_000_000, maxDurationMs: 90_000 },
		});
		const bad = (text: string) => {
			const parsed = parseBudgetText(text);
			expect(parsed.ok, text).toBe(false);
			return parsed.ok ? "" : parsed.error;
		};
		expect(bad("cost=abc")).toMatch(/"cost=abc": expected a number like/);
		expect(bad("tokens=5,bogus=1")).toMatch(/"bogus=1": expected key=value with a key of/);
		expect(bad("")).toMatch(/expected at least one limit, got none/);
		expect(bad("duration=soon")).toMatch(/"duration=soon": expected a duration like 90s, 30m or 2h/);
		expect(bad("warn=100")).toContain("budget.warnAtPercent: expected a percentage above 0 and below 100, got 100");
		expect(bad("turns=0")).toContain("budget.maxTurns: expected a whole number above 0, got 0");
	});

	it("takeBudget pulls --budget <text> out of command arguments", () => {
		const words = (taken: ReturnType<typeof takeBudget>) => (taken.ok ? taken.rest.split(/\s+/) : taken.error);
		const spaced = takeBudget("review --budget cost=2,tokens=500k target=src");
		expect(spaced).toMatchObject({ ok: true, budget: { maxCostUsd: 2, maxTokens: 500_000 } });
		expect(words(spaced)).toEqual(["review", "target=src"]);
		const quoted = takeBudget('review --budget="turns=3" x=1');
		expect(quoted).toMatchObject({ ok: true, budget: { maxTurns: 3 } });
		expect(words(quoted)).toEqual(["review", "x=1"]);
		expect(takeBudget("review target=src")).toEqual({ ok: true, rest: "review target=src" });
		const missing = takeBudget("review --budget");
		expect(missing.ok).toBe(false);
		const bad = takeBudget("review --budget cost=abc");
		expect(bad).toEqual({ ok: false, error: expect.stringMatching(/"cost=abc": expected a number/) });
	});
});
