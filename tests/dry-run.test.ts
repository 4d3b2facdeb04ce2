// A dry run walks a workflow's real code against a stub model: every stage answers (structured ones with an
// example of their schema), questions take their first option, ctx.tool runs only when allowed, and nothing of the
// project is written. It reports the graph, the stage count and the models, and what it held back.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { dryRunWorkflow } from "../extensions/workflows/engine/dry-run.js";
import reviewChange from "../workflows/review-change.js";
import { createHarness, type Harness } from "./support/harness.js";

const gated = workflow({
	name: "gated",
	description: "a pick, a gate, a stage that writes into the project, a tool call",
	outputs: { picked: Type.String(), wrote: Type.String() },
	run: async (ctx) => {
		const picked = await ctx.ui.select("Which model?", ["fast", "smart"]);
		if (!(await ctx.ui.confirm("Go on?"))) ctx.cancel("stopped at the gate");
		const notes = await ctx.task("notes", {
			prompt: "Write notes",
			output: join(ctx.cwd, "notes.md"),
			model: `scripted/${picked}`,
		});
		const stamp = await ctx.tool("stamp", {}, () => "stamped");
		return { picked, wrote: `${notes.text} ${String(stamp)}` };
	},
});

describe("dry run", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness(() => "a real model must not be called");
	});
	afterEach(() => harness.cleanup());
	const options = () => ({ cwd: harness.cwd, modelRegistry: harness.modelRegistry, defaultModel: "scripted/fast" });

	it("walks every stage on the stub with schema examples, and writes nothing of the project", async () => {
		const result = await dryRunWorkflow(reviewChange, { target: "PR 1" }, { ...options(), allowTools: true });
		expect(result.report.status).toBe("completed");
		expect(result.stages).toBe(4);
		expect(result.models).toEqual([{ model: "scripted/fast", stages: 4 }]);
		expect(result.graph).toContain("┬ 2 in parallel");
		expect(result.report.outputs).toMatchObject({ blockers: [], suggestions: [], dropped: 0 });
		expect(harness.provider.calls).toHaveLength(0);
		expect(readdirSync(harness.cwd)).toEqual([]);
	});

	it("runs no ctx.tool unless allowed, takes first options, and names the outputs it did not write", async () => {
		const result = await dryRunWorkflow(gated, {}, options());
		expect(result.report.status).toBe("completed");
		expect(result.report.outputs).toEqual({ picked: "fast", wrote: "(dry run: the answer of notes) null" });
		expect(result.heldBack).toEqual([
			`dry run: stage "notes" would write ${join(harness.cwd, "notes.md")}; not written`,
			'dry run: ctx.tool "stamp" was not run; it returned null',
		]);
		expect(existsSync(join(harness.cwd, "notes.md"))).toBe(false);
		const allowed = await dryRunWorkflow(gated, {}, { ...options(), allowTools: ["stamp"] });
		expect(allowed.report.outputs).toMatchObject({ wrote: "(dry run: the answer of notes) stamped" });
	});

	it("refuses missing inputs, and fails on a model the host does not know, as a real run would", async () => {
		await expect(dryRunWorkflow(reviewChange, {}, options())).rejects.toThrow(
			/invalid inputs:\n- missing required input "target"/,
		);
		const result = await dryRunWorkflow(reviewChange, { target: "x", reviewerModel: "nowhere/model" }, options());
		expect(result.report.status).toBe("failed");
		expect(result.report.errors.join("\n")).toContain('model "nowhere/model": unknown provider "nowhere"');
		expect(readdirSync(harness.cwd)).toEqual([]);
	});
});
