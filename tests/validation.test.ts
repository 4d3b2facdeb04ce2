// Bad input: inputs are checked before anything is written, outputs when run returns, definitions
// when declared, models and paths before any model call. Every message names workflow and stage.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { createHarness, type Harness } from "./support/harness.js";

const typed = workflow({
	name: "typed",
	description: "inputs of several kinds",
	inputs: {
		target: Type.String(),
		count: Type.Integer(),
		mode: Type.Union([Type.Literal("fast"), Type.Literal("deep")]),
		note: Type.Optional(Type.String()),
	},
	outputs: {},
	run: async () => ({}),
});

describe("input validation", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("lists every problem in one error, expected vs got, and writes nothing", async () => {
		harness = await createHarness(() => "ok");
		let message = "";
		try {
			harness.start(typed, { count: "three", mode: "quick", extra: true });
		} catch (error) {
			message = (error as Error).message;
		}
		expect(message).toBe(
			[
				'Workflow "typed": invalid inputs:',
				'- unknown input "extra" (expected one of: target, count, mode, note)',
				'- missing required input "target" (expected string)',
				'- input "count": expected integer, got string "three"',
				'- input "mode": expected "fast" | "deep", got string "quick"',
			].join("\n"),
		);
		expect(existsSync(join(harness.cwd, ".pi"))).toBe(false);
		expect(harness.provider.calls).toHaveLength(0);
	});

	it("accepts valid inputs with optional keys left out", async () => {
		harness = await createHarness(() => "ok");
		const report = await harness.run(typed, { target: "x", count: 3, mode: "deep" });
		expect(report.status).toBe("completed");
		expect(report.inputs).toEqual({ target: "x", count: 3, mode: "deep" });
	});
});

describe("how a failed run names its error", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	// Decided by the error's class: the engine's own errors already name the workflow; anything else the
	// workflow throws gets the name in front, whatever its message says.
	it.each([
		[
			"a misused ctx call",
			(ctx: { chain: (steps: unknown) => unknown }) => ctx.chain("no steps"),
			'Workflow "names": chain expected an array of steps, got string',
		],
		[
			"an error of the workflow's own",
			() => Promise.reject(new Error("no config file")),
			'Workflow "names": no config file',
		],
		[
			"an error whose text happens to start with the workflow's name",
			() => Promise.reject(new Error('Workflow "names" needs a config file')),
			'Workflow "names": Workflow "names" needs a config file',
		],
	])("%s", async (_name, fail, error) => {
		harness = await createHarness(() => "ok");
		const flow = workflow({
			name: "names",
			description: "fails as the test says",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await fail(ctx as unknown as { chain: (steps: unknown) => unknown });
				return {};
			},
		});
		const report = await harness.run(flow, {});
		expect(report.status).toBe("failed");
		expect(report.errors).toEqual([error]);
	});
});

describe("output validation", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	const returning = (value: unknown) =>
		workflow({
			name: "outputs-check",
			description: "returns what the test says",
			inputs: {},
			outputs: { result: Type.String(), score: Type.Optional(Type.Number()) },
			run: async () => value as { result: string },
		});

	it.each([
		[{ result: "ok", extra: 1 }, 'unknown output "extra" (expected one of: result, score)'],
		[{ score: 2 }, 'missing required output "result" (expected string)'],
		[{ result: 5 }, 'output "result": expected string, got number 5'],
		[{ result: "ok", score: Number.NaN }, 'output "score"'],
		[{ result: "ok", score: () => 1 }, 'output "score": expected number, got function'],
	])("fails the run for %j", async (value, problem) => {
		harness = await createHarness(() => "ok");
		const report = await harness.run(returning(value), {});
		expect(report.status).toBe("failed");
		expect(report.errors[0]).toMatch(/^Workflow "outputs-check": invalid outputs:\n- /);
		expect(report.errors[0]).toContain(problem);
		expect(report.outputs).toBeUndefined();
		// A failed run still writes report.json with the error.
		const saved = JSON.parse(
			readFileSync(join(harness.cwd, ".pi/workflows/runs", report.runId, "report.json"), "utf8"),
		);
		expect(saved.status).toBe("failed");
		expect(saved.errors).toEqual(report.errors);
	});

	it("rejects a value that passes the schema but is not JSON", async () => {
		harness = await createHarness(() => "ok");
		const definition = workflow({
			name: "non-json",
			description: "returns a Map inside an object",
			inputs: {},
			outputs: { data: Type.Any() },
			run: async () => ({ data: { when: new Map() } }),
		});
		const report = await harness.run(definition, {});
		expect(report.status).toBe("failed");
		expect(report.errors[0]).toContain('output "data" is not a JSON value (data.when is Map instance)');
	});
});

describe("workflow() definitions", () => {
	it("refuses a bad declaration, listing every problem", () => {
		expect(() =>
			workflow({
				name: "Bad Name",
				description: "",
				inputs: { a: "string" as never },
				outputs: {},
				budget: { maxCostUsd: -1 },
				run: undefined as never,
			}),
		).toThrow(
			[
				'Workflow "Bad Name" is not a valid definition:',
				'- name: expected lower-case words joined by "-" (like "review-change"), got "Bad Name"',
				'- description: expected a non-empty string, got ""',
				"- inputs.a: expected a TypeBox schema, got string",
				"- run: expected an async function (ctx) => outputs, got undefined",
				"- budget.maxCostUsd: expected a number above 0, got -1",
			].join("\n"),
		);
	});
});

describe("stage preconditions", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	const oneStage = (options: Record<string, unknown>) =>
		workflow({
			name: "preconditions",
			description: "one stage with the given options",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.task("only", { prompt: "Do it", ...options });
				return {};
			},
		});

	it.each([
		[{ model: "nowhere/x" }, 'model "nowhere/x": unknown provider "nowhere" (known providers:'],
		[
			{ model: "scripted/missing" },
			'model "scripted/missing": unknown id "missing" for provider "scripted" (known: fast, smart, other)',
		],
		[
			{ model: "scripted/fast:ultra" },
			'model "scripted/fast:ultra": bad thinking level "ultra" (expected one of off, minimal, low, medium, high, xhigh)',
		],
		[{ model: "fast" }, 'model: expected "provider/id" or "provider/id:level", got "fast"'],
		[{ reads: ["missing.md"] }, "reads: file not found: missing.md"],
		[{ reads: ["."] }, "reads: expected a file, got the directory"],
		[{ promt: "typo" }, 'unknown option "promt": pi-workflows has no such stage option'],
		[{ excludedTools: "bash" }, 'excludedTools: expected an array of tool names, got "bash"'],
		[{ reads: ["../../../../etc/hostname"] }, "outside the project"],
		[{ output: "../../../../../../../../escape.md" }, "output: path"],
		[{ output: "/etc/escape.md" }, "outside the project"],
		[{ outputMode: "file-only" }, 'outputMode "file-only" needs "output"'],
		[{ context: "shared" }, 'context: expected "fresh" or "fork", got "shared"'],
	])("%j fails the stage before any model call", async (options, problem) => {
		harness = await createHarness(() => "ok");
		const report = await harness.run(oneStage(options), {});
		expect(report.status).toBe("failed");
		expect(report.errors[0]).toContain('Workflow "preconditions", stage "only": ');
		expect(report.errors[0]).toContain(problem);
		expect(report.stages.map((stage) => stage.status)).toEqual(["failed"]);
		expect(harness.provider.calls).toHaveLength(0);
		const runDir = join(harness.cwd, ".pi/workflows/runs", report.runId);
		expect(readdirSync(join(runDir, "artifacts"))).toEqual([]);
		expect(readdirSync(join(runDir, "stages"))).toEqual([]);
	});

	it("accepts absolute paths inside the project and reads project files", async () => {
		harness = await createHarness(() => "ok");
		const { writeFileSync } = await import("node:fs");
		writeFileSync(join(harness.cwd, "spec.md"), "the spec");
		const report = await harness.run(
			oneStage({ reads: ["spec.md"], output: join(harness.cwd, "out", "plan.md") }),
			{},
		);
		expect(report.status).toBe("completed");
		expect(readFileSync(join(harness.cwd, "out", "plan.md"), "utf8")).toBe("ok");
		expect(harness.provider.calls[0]?.transcript[0]).toContain(join(harness.cwd, "spec.md"));
	});
});
