// A journal written by version 1 (fixtures/journal-v1.jsonl: a real run of the previous release, a task, a tool
// call, a question and a stage consuming the first, with this machine's paths taken out) reads, reports and
// resumes under version 2 unchanged: every recorded call replays, nothing runs or is asked again.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { createHarness, type Harness } from "./support/harness.js";
import { journalEvents, label } from "./support/journal-lines.js";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "journal-v1.jsonl");
const RUN_ID = "legacy01";

/** The workflow that wrote the fixture, as it was. */
function legacy(counts: { tool: number; asked: number }) {
	return workflow({
		name: "legacy",
		description: "a task, a tool, a question, a consumer",
		inputs: { topic: Type.String() },
		outputs: { result: Type.String() },
		run: async (ctx) => {
			const a = await ctx.task("a", { prompt: `Write about ${ctx.inputs.topic}` });
			const n = await ctx.tool("count", { of: "words" }, () => {
				counts.tool++;
				return 42;
			});
			const go = await ctx.ui.confirm("Go on?");
			const b = await ctx.task("b", { prompt: `Use ${n} (${go})`, previous: a });
			return { result: b.text };
		},
	});
}

describe("a version 1 journal", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`, ["fast"]);
	});
	afterEach(() => harness.cleanup());

	/** Puts the fixture in place as run legacy01 of this project, keeping its first `lines` lines (all by default). */
	function install(lines?: number): string {
		const path = harness.store.paths(RUN_ID).journal;
		mkdirSync(dirname(path), { recursive: true });
		mkdirSync(harness.store.paths(RUN_ID).stagesDir, { recursive: true });
		const text = readFileSync(FIXTURE, "utf8").replaceAll("{{PROJECT}}", harness.cwd).trimEnd().split("\n");
		writeFileSync(path, `${text.slice(0, lines).join("\n")}\n`);
		return path;
	}

	it("reads as version 2 node events and reports the run as it ended", () => {
		install();
		const view = harness.view(RUN_ID);
		expect(view.report.status).toBe("completed");
		expect(view.report.outputs).toEqual({ result: "answer of b" });
		expect(view.report.stages.map((stage) => [stage.id, stage.kind, stage.status, stage.parents])).toEqual([
			["a", "task", "completed", []],
			["count", "tool", "completed", ["a"]],
			["confirm", "prompt", "completed", ["count"]],
			["b", "task", "completed", ["confirm"]],
		]);
		expect(view.report.prompts).toEqual([{ id: "confirm", kind: "confirm", message: "Go on?", answer: true }]);
		expect(view.report.usage.totalTokens).toBe(592 + 603);
		expect(view.report.warnings).toEqual([]);
	});

	it("cut before its end, resumes with every call replayed: no model call, no tool call, nobody asked", async () => {
		const path = install(-1);
		const counts = { tool: 0, asked: 0 };
		const report = await harness.resume(legacy(counts), RUN_ID, {
			onPrompt: () => {
				counts.asked++;
			},
		}).done;
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ result: "answer of b" });
		expect(harness.provider.calls).toEqual([]);
		expect(counts).toEqual({ tool: 0, asked: 0 });
		expect(report.stages.map((stage) => stage.replayed)).toEqual([true, true, true, true]);
		// The old lines stay as they were; what this version adds is in version 2 words.
		const added = journalEvents(path).slice(9).map(label);
		expect(added).toEqual([
			"run_resumed",
			"replayed a",
			"replayed count",
			"replayed confirm",
			"replayed b",
			"run_finished",
		]);
	});

	it("cut while its last stage ran, resumes that stage only", async () => {
		install(9);
		const counts = { tool: 0, asked: 0 };
		const report = await harness.resume(legacy(counts), RUN_ID).done;
		expect(report.status).toBe("completed");
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["b"]);
		expect(counts.tool).toBe(0);
		expect(report.stages.map((stage) => stage.replayed)).toEqual([true, true, true, false]);
	});
});
