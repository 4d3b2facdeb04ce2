// Structured outputs: a stage with `schema` gets a `submit_result` tool taking it and returns the validated
// submission as `structured`; no valid submission means 3 corrections, then a "structured" failure that the
// stage's fallback models (and the run's same-failure breaker) act on; a completed structured stage replays.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { runPaths } from "../extensions/workflows/store/run-directory.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import { createScriptedProvider, type ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import { createHarness, type Harness } from "./support/harness.js";

const Finding = Type.Object({ title: Type.String(), count: Type.Integer() });
const CORRECTION = "You finished without submitting a valid result";

/** A model that submits `value` on its first call and closes with `closing` once the tool result is back. */
function submits(value: Record<string, unknown>, closing = "submitted") {
	return (request: ScriptedRequest) =>
		request.afterToolResult ? closing : { toolCalls: [{ name: "submit_result", arguments: value }] };
}

function oneStage(options: { tools?: string[]; fallbackModels?: string[]; output?: string } = {}) {
	return workflow({
		name: "structured",
		description: "one stage with a structured result",
		inputs: {},
		outputs: { title: Type.String(), count: Type.Integer(), model: Type.String() },
		run: async (ctx) => {
			const result = await ctx.task("find", { prompt: "Find the worst bug", schema: Finding, ...options });
			return { title: result.structured.title, count: result.structured.count, model: result.model };
		},
	});
}

describe("structured results", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("offers submit_result with the schema and returns the submission as `structured`", async () => {
		harness = await createHarness(submits({ title: "race in cache", count: 3 }));
		const report = await harness.run(oneStage(), {});
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ title: "race in cache", count: 3, model: "scripted/fast" });
		const [first] = harness.provider.calls;
		expect(first?.tools).toContain("submit_result");
		// Pi's own tools are still there when no allow-list is given.
		expect(first?.tools).toContain("read");
		expect(harness.provider.calls[1]?.afterToolResult).toBe(true);
		// Submitted on the first answer: no correction was needed.
		expect(harness.provider.calls.some((call) => call.lastMessage.includes(CORRECTION))).toBe(false);
	});

	it("adds submit_result to a tool allow-list", async () => {
		harness = await createHarness(submits({ title: "t", count: 1 }));
		const report = await harness.run(oneStage({ tools: ["read"] }), {});
		expect(report.status).toBe("completed");
		expect([...(harness.provider.calls[0]?.tools ?? [])].sort()).toEqual(["read", "submit_result"]);
	});

	it("corrects a model that never submits 3 times, then fails the stage with kind structured", async () => {
		harness = await createHarness(() => "here is my answer in prose");
		const report = await harness.run(oneStage(), {});
		expect(report.status).toBe("failed");
		const calls = harness.provider.calls.filter((call) => call.stage === "find");
		expect(calls).toHaveLength(4);
		expect(calls[0]?.lastMessage).not.toContain(CORRECTION);
		for (const n of [1, 2, 3]) {
			expect(calls[n]?.lastMessage).toContain(CORRECTION);
			expect(calls[n]?.lastMessage).toContain(`correction ${n} of 3`);
		}
		expect(report.errors[0]).toMatch(/stage "find": no valid structured result after 3 corrections/);
		const finished = harness.events(report.runId).find((event) => event.type === "node_finished");
		expect(finished).toMatchObject({ status: "failed", kind: "structured" });
	});

	it("a structured failure moves on to the fallback model, in a new transcript", async () => {
		harness = await createHarness((request) => {
			if (request.model !== "smart") return "prose only";
			// The fallback gets corrections of its own: it submits after the first.
			if (!request.lastMessage.includes(CORRECTION) && !request.afterToolResult) return "smart prose";
			return submits({ title: "from smart", count: 2 })(request);
		});
		const report = await harness.run(oneStage({ fallbackModels: ["scripted/smart"] }), {});
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ title: "from smart", count: 2, model: "scripted/smart" });
		const models = harness.provider.calls.map((call) => call.model);
		expect(models).toEqual(["fast", "fast", "fast", "fast", "smart", "smart", "smart"]);
		expect(harness.provider.calls[5]?.lastMessage).toContain("correction 1 of 3");
		// The fallback starts over: its transcript holds no corrections of the first model.
		const smartFirst = harness.provider.calls[4];
		expect(smartFirst?.transcript.join("\n")).not.toContain(CORRECTION);
		expect(smartFirst?.transcript.join("\n")).not.toContain("prose only");
		const events = harness.events(report.runId);
		expect(events.filter((event) => event.type === "node_attempt")).toMatchObject([
			{ stageId: "find", model: "scripted/fast", kind: "structured" },
		]);
		const starts = events.filter((event) => event.type === "node_started");
		expect(starts).toHaveLength(2);
		expect(starts.map((event) => (event as { sessionFile?: string }).sessionFile)).toEqual([
			expect.stringMatching(/find\.jsonl$/),
			expect.stringMatching(/find~2\.jsonl$/),
		]);
		expect(report.stages[0]?.attempts).toMatchObject([
			{ model: "scripted/fast", ok: false, kind: "structured" },
			{ model: "scripted/smart", ok: true },
		]);
	});

	it("falls back across providers too", async () => {
		const first = createScriptedProvider({ models: ["m"], script: () => "no tool for me" });
		const second = createScriptedProvider({ models: ["m"], script: submits({ title: "p2", count: 9 }) });
		const modelRegistry = await createInMemoryModelRegistry({ p1: first.config, p2: second.config });
		harness = await createHarness(() => "unused");
		const report = await harness.run(
			oneStage({ fallbackModels: ["p2/m"] }),
			{},
			{ modelRegistry, defaultModel: "p1/m" },
		);
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ title: "p2", count: 9, model: "p2/m" });
		expect(first.calls).toHaveLength(4);
		expect(second.calls).toHaveLength(2);
	});

	it("rejects an invalid submission with an error tool result; it does not count as the result", async () => {
		harness = await createHarness((request) => {
			if (request.stageCall === 1) return { toolCalls: [{ name: "submit_result", arguments: { title: "t" } }] };
			if (request.stageCall === 2) return "done (I think)";
			if (request.stageCall === 3)
				return { toolCalls: [{ name: "submit_result", arguments: { title: "fixed", count: 5 } }] };
			return "done";
		});
		const report = await harness.run(oneStage(), {});
		expect(report.status).toBe("completed");
		expect(report.outputs).toMatchObject({ title: "fixed", count: 5 });
		const calls = harness.provider.calls;
		expect(calls[1]?.afterToolResult).toBe(true);
		expect(calls[1]?.lastMessage).toMatch(/count/);
		expect(calls[1]?.lastMessage).not.toMatch(/Result received/);
		// The invalid submission left the stage without a result: the model was corrected.
		expect(calls[2]?.lastMessage).toContain(CORRECTION);
		expect(calls[2]?.lastMessage).toContain("correction 1 of 3");
		expect(calls[3]?.lastMessage).toMatch(/Result received/);
		expect(calls).toHaveLength(4);
	});

	it("writes the structured JSON to the output file when the final text is empty", async () => {
		harness = await createHarness(submits({ title: "to file", count: 4 }, ""));
		const report = await harness.run(oneStage({ output: "finding.json" }), {});
		expect(report.status).toBe("completed");
		const file = join(runPaths(harness.cwd, report.runId).artifactsDir, "finding.json");
		expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ title: "to file", count: 4 });
		expect(report.stages[0]?.output).toBe("artifacts/finding.json");
	});

	for (const [label, schema] of [
		["Type.String()", Type.String()],
		['"x"', "x"],
	] as const) {
		it(`a schema that is not an object schema (${label}) fails the stage before any model call`, async () => {
			harness = await createHarness(() => "never");
			const flow = workflow({
				name: "bad-schema",
				description: "schema is not an object",
				inputs: {},
				outputs: {},
				run: async (ctx) => {
					await ctx.task("find", { prompt: "Find", schema: schema as never });
					return {};
				},
			});
			const report = await harness.run(flow, {});
			expect(report.status).toBe("failed");
			expect(report.errors[0]).toMatch(
				/^Workflow "bad-schema", stage "find": schema: expected a TypeBox schema of an object/,
			);
			expect(harness.provider.calls).toHaveLength(0);
		});
	}

	it("the same structured failure ending 3 stages of a fan-out blocks the run", async () => {
		harness = await createHarness(() => "prose, never a submission");
		const flow = workflow({
			name: "fan-out",
			description: "five structured stages that all fail the same way",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.parallel(
					Array.from({ length: 5 }, (_, index) => ({
						name: `s${index + 1}`,
						prompt: `stage ${index + 1}`,
						schema: Finding,
					})),
					{ concurrency: 1, failFast: false },
				);
				return {};
			},
		});
		const report = await harness.run(flow, {});
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(
			/^the same failure ended 3 stages \(model scripted\/fast, structured: s1, s2, s3\)/,
		);
		expect([...new Set(harness.provider.calls.map((call) => call.stage))]).toEqual(["s1", "s2", "s3"]);
		expect(report.stages.map((stage) => stage.id)).toEqual(["s1", "s2", "s3"]);
	});

	it("a resumed run replays a completed structured stage with its structured value", async () => {
		let nextFails = true;
		harness = await createHarness((request) => {
			if (request.stage === "find") return submits({ title: "kept", count: 11 })(request);
			return nextFails ? { error: "400 bad request: unsupported parameter" } : "next done";
		});
		const flow = workflow({
			name: "structured-resume",
			description: "a structured stage, then one that fails the first time",
			inputs: {},
			outputs: { title: Type.String(), count: Type.Integer() },
			run: async (ctx) => {
				const found = await ctx.task("find", { prompt: "Find", schema: Finding });
				await ctx.task("next", { prompt: `Fix ${found.structured.title}` });
				return { title: found.structured.title, count: found.structured.count };
			},
		});
		const first = await harness.run(flow, {});
		expect(first.status).toBe("failed");
		const findCalls = harness.provider.calls.filter((call) => call.stage === "find").length;
		nextFails = false;
		const report = await harness.resume(flow, first.runId).done;
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ title: "kept", count: 11 });
		expect(harness.provider.calls.filter((call) => call.stage === "find")).toHaveLength(findCalls);
		expect(report.stages.find((stage) => stage.id === "find")?.replayed).toBe(true);
	});
});
