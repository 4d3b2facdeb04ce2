// Dynamic specs: dependsOn levels, nesting, and `save` writing a TypeScript file that loads and
// records the same graph as the spec it came from.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { definitionFromSpec, parseSpec, saveSpec } from "../extensions/workflows/surface/dynamic-spec.js";
import { loadWorkflowFile } from "../extensions/workflows/surface/workflow-loader.js";
import { createHarness, type Harness } from "./support/harness.js";

const graphOf = (report: { stages: Array<{ id: string; parents: string[] }> }) =>
	Object.fromEntries(report.stages.map((stage) => [stage.id, [...stage.parents].sort()]));

describe("dynamic workflow specs", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("orders dependsOn steps in levels and hands each step its dependencies' results", async () => {
		harness = await createHarness((request) => `R(${request.stage})`);
		const spec = parseSpec({
			name: "deps",
			description: "diamond",
			steps: [
				{ name: "join", prompt: "Join", dependsOn: ["left", "right"] },
				{ name: "left", prompt: "Left", dependsOn: ["root"] },
				{ name: "right", prompt: "Right", dependsOn: ["root"] },
				{ name: "root", prompt: "Root" },
			],
		});
		const report = await harness.run(definitionFromSpec(spec), {});
		expect(report.status).toBe("completed");
		expect(graphOf(report)).toEqual({ root: [], left: ["root"], right: ["root"], join: ["left", "right"] });
		const joinPrompt = harness.provider.calls.find((call) => call.stage === "join")?.transcript[0] ?? "";
		expect(joinPrompt).toContain("R(left)");
		expect(joinPrompt).toContain("R(right)");
		expect(report.outputs).toEqual({ result: "R(join)" });
	});

	it("lists dependency problems with their paths", () => {
		expect(() =>
			parseSpec({
				name: "loops",
				steps: [
					{ name: "a", prompt: "A", dependsOn: ["b"] },
					{ name: "b", prompt: "B", dependsOn: ["a", "ghost"] },
				],
			}),
		).toThrow(/cycle a -> b -> a[\s\S]*steps "b".dependsOn: unknown step "ghost"/);
	});

	it("takes worktree on a step, checked: a bad one is refused with its path", async () => {
		expect(() => parseSpec({ name: "iso", steps: [{ name: "a", prompt: "A", worktree: { bsae: "main" } }] })).toThrow(
			/steps\[0\]\.worktree: unknown key "bsae"; expected base, carry, link/,
		);
		const spec = parseSpec({ name: "iso", steps: [{ name: "a", prompt: "A", worktree: true }] });
		expect(JSON.stringify(spec.plan)).toContain('"worktree":true');
	});

	it("saves a spec as a TypeScript workflow that loads and records the same graph", async () => {
		harness = await createHarness((request) => `R(${request.stage})`);
		const raw = {
			name: "saved-flow",
			description: "plan, fan out with a nested sequence, conclude",
			steps: [
				{ name: "plan", prompt: "Plan it", tools: ["read"] },
				{
					parallel: [
						{ name: "fast-check", prompt: "Quick check" },
						{
							sequence: [
								{ name: "deep-1", prompt: "Deep one" },
								{ name: "deep-2", prompt: "Deep two" },
							],
						},
					],
					concurrency: 2,
				},
				{ name: "conclude", prompt: "Conclude", output: "final.md" },
			],
		};
		const spec = parseSpec(raw);
		const fromSpec = await harness.run(definitionFromSpec(spec), {});
		expect(fromSpec.status).toBe("completed");

		const saved = saveSpec(spec, harness.cwd);
		expect(saved.file).toBe(join(".pi", "workflows", "saved-flow.ts"));
		const source = readFileSync(join(harness.cwd, saved.file), "utf8");
		expect(source).toContain('import { workflow } from "pi-workflows";');
		// Code a person reads: variables named after their stages, no generated step numbers or unread records.
		expect(source).toContain('const plan = await ctx.task("plan", { prompt: "Plan it", tools: ["read"] });');
		expect(source).toContain('const deep2 = await branch2.task("deep-2", { prompt: "Deep two", previous: deep1 });');
		expect(source).not.toMatch(/\bstep\d|done\[/);
		const loaded = await loadWorkflowFile(join(harness.cwd, saved.file));
		if (!loaded.ok) throw new Error(loaded.error);
		const fromFile = await harness.run(loaded.definition, {});
		expect(fromFile.status).toBe("completed");
		expect(graphOf(fromFile)).toEqual(graphOf(fromSpec));
		expect(graphOf(fromSpec)).toEqual({
			plan: [],
			"fast-check": ["plan"],
			"deep-1": ["plan"],
			"deep-2": ["deep-1"],
			conclude: ["deep-2", "fast-check"],
		});
		expect(fromFile.outputs).toEqual(fromSpec.outputs);
		expect(() => saveSpec(spec, harness.cwd)).toThrow(/already exists/);
	});

	it("saves a dependsOn graph as stages in parallel and a stage that takes both", async () => {
		harness = await createHarness((request) => `R(${request.stage})`);
		const spec = parseSpec({
			name: "dag-flow",
			description: "two checks, then a verdict on both",
			steps: [
				{ name: "lint", prompt: "Lint" },
				{ name: "test", prompt: "Test" },
				{ name: "verdict", prompt: "Decide", dependsOn: ["lint", "test"] },
			],
		});
		const fromSpec = await harness.run(definitionFromSpec(spec), {});
		const saved = saveSpec(spec, harness.cwd);
		const source = readFileSync(join(harness.cwd, saved.file), "utf8");
		expect(source).toContain("const [lint, test] = await ctx.parallel(");
		expect(source).toContain(
			'const verdict = await ctx.task("verdict", { prompt: "Decide", previous: [lint, test] });',
		);
		const loaded = await loadWorkflowFile(join(harness.cwd, saved.file));
		if (!loaded.ok) throw new Error(loaded.error);
		const fromFile = await harness.run(loaded.definition, {});
		expect(graphOf(fromFile)).toEqual(graphOf(fromSpec));
		expect(fromFile.outputs).toEqual({ result: "R(verdict)" });
	});
});
