// report.md is the receipt a reviewer reads: outcome and reason, inputs and outputs, budget against limits, a table
// of stages (models tried, turns, tool calls, tokens, cost, duration, replayed), the graph, each stage's prompt and
// answer, the questions and answers, changes, linked artifacts, errors naming their stage, and warnings.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { zeroUsage } from "../extensions/workflows/authoring/usage.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import type { WorkflowRun } from "../extensions/workflows/engine/run-driver.js";
import type { RunReport } from "../extensions/workflows/store/report.js";
import { renderReportMarkdown } from "../extensions/workflows/store/report-markdown.js";
import type { ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import { createHarness, type Harness } from "./support/harness.js";

const reviewed = workflow({
	name: "reviewed",
	description: "a stage with a fallback, a note, a question, a closing stage",
	inputs: { topic: Type.String() },
	outputs: { verdict: Type.String() },
	budget: { maxTurns: 50 },
	run: async (ctx) => {
		await ctx.task("draft", {
			prompt: `Draft a note on ${ctx.inputs.topic}.`,
			fallbackModels: ["scripted/smart"],
			output: "draft.md",
		});
		if (!(await ctx.ui.confirm("Publish the draft?"))) ctx.cancel("not published");
		const verdict = await ctx.task("verdict", { prompt: "Say if the draft holds up.", reads: ["draft.md"] });
		return { verdict: verdict.text };
	},
});

function script(request: ScriptedRequest) {
	// The draft's first model answers nothing: the fallback writes it.
	if (request.stage === "draft" && request.model === "fast") return "";
	return request.stage === "draft" ? "DRAFT TEXT on caching" : "VERDICT: it holds up";
}

describe("report.md", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness(script);
	});
	afterEach(() => harness.cleanup());

	it("is a receipt a reviewer reads, with the replayed stages of a resumed run marked", async () => {
		const stopped = await harness.run(reviewed, { topic: "caching" }, { inputMode: "stop" });
		expect(stopped.status).toBe("awaiting_input");
		let run: WorkflowRun | undefined;
		run = harness.resume(reviewed, stopped.runId, {
			onPrompt: (prompt) => queueMicrotask(() => run?.answer(prompt.id, true)),
		});
		const report = await run.done;
		expect(report.status).toBe("completed");
		const page = readFileSync(join(harness.cwd, ".pi/workflows/runs", report.runId, "report.md"), "utf8");

		expect(page).toContain(`# Workflow run ${report.runId}: reviewed`);
		expect(page).toContain("- Outcome: **completed**");
		expect(page).toContain('## Inputs\n\n```json\n{\n  "topic": "caching"\n}\n```');
		expect(page).toContain('"verdict": "VERDICT: it holds up"');
		expect(page).toMatch(
			/## Budget\n\n\| limit \| spent \| of \|\n\|---\|---\|---\|\n\| stages \| 2 \| 200 \|\n\| turns \| \d+ \| 50 \|/,
		);
		expect(page).toContain("| stage | status | model | turns | tool calls | tokens | cost | duration | replayed |");
		// The draft: its first model and why it moved on, the one that answered, replayed on the resume.
		expect(page).toMatch(
			/\| draft \| completed \| scripted\/fast \(empty\), scripted\/smart \| 2 \| 0 \| \d+ \| \$\S+ \| \S+ \| yes \|/,
		);
		expect(page).toMatch(/\| verdict \| completed \| scripted\/fast \| 1 \| 0 \| \d+ \| \$\S+ \| \S+ \| {2}\|/);
		expect(page).toContain("```mermaid");
		expect(page).toContain('### draft\n\nPrompt:\n\n> Stage "draft" of workflow "reviewed"');
		expect(page).toContain("> Draft a note on caching.");
		expect(page).toContain("Answer:\n\n> DRAFT TEXT on caching");
		expect(page).toMatch(/Transcript: \[stages\/draft~2\.jsonl\]\(stages\/draft~2\.jsonl\)/);
		expect(page).toContain("- confirm (confirm): Publish the draft? — answered true");
		expect(page).toContain("- [artifacts/draft.md](artifacts/draft.md)");
		expect(page).not.toContain("## Errors");
	});

	it("says what changed, which stage raised each error, and the warnings", () => {
		const report: RunReport = {
			version: 1,
			runId: "fail0001",
			workflow: "fix",
			status: "failed",
			reason: 'stage "check" failed',
			inputs: {},
			startedAt: "2026-12-01T00:00:00.000Z",
			usage: zeroUsage(),
			stages: [
				{
					id: "impl",
					kind: "task",
					name: "impl",
					status: "completed",
					parents: [],
					attempts: [],
					usage: zeroUsage(),
					replayed: false,
					change: { patch: "artifacts/impl.patch", files: 2, insertions: 5, deletions: 1 },
				},
			],
			prompts: [],
			artifacts: ["artifacts/impl.patch"],
			errors: ['Workflow "fix", stage "check": 2 tests fail'],
			warnings: ["skipped an unreadable last line of the journal"],
		};
		const page = renderReportMarkdown(report);
		expect(page).toContain('- Outcome: **failed**: stage "check" failed');
		expect(page).toContain(
			"## Changes\n\n- impl: 2 files, +5 -1, diff: [artifacts/impl.patch](artifacts/impl.patch)",
		);
		expect(page).toContain('## Errors\n\n- Workflow "fix", stage "check": 2 tests fail');
		expect(page).toContain("## Warnings\n\n- skipped an unreadable last line of the journal");
		// The terminal's page draws the graph as text.
		expect(renderReportMarkdown(report, { graph: "text" })).toContain("## Graph\n\n```text\n✓ impl\n```");
	});
});
