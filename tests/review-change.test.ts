// The review-change scenario end to end: real Pi sessions, a scripted model, real files.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readJournalFile } from "../extensions/workflows/store/file-journal.js";
import reviewChange from "../workflows/review-change.js";
import { createHarness, type Harness } from "./support/harness.js";

const SCOUT_MAP = "SCOUT-MAP: files a.ts and b.ts; risk in parser";

describe("review-change workflow", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("hands the scout map through a file, reviews in parallel on two models, and synthesizes", async () => {
		harness = await createHarness((request) => {
			switch (request.stage) {
				case "scout":
					return SCOUT_MAP;
				case "correctness":
					return "REVIEW-CORRECTNESS: off-by-one in parser";
				case "maintainability":
					return "REVIEW-MAINTAINABILITY: rename helpers";
				case "synthesis":
					return "VERDICT: fix the off-by-one, then rename";
				default:
					return `unexpected stage ${request.stage}`;
			}
		});
		const report = await harness.run(reviewChange, { target: "PR 12", reviewerModel: "scripted/smart:high" });

		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ result: "VERDICT: fix the off-by-one, then rename" });

		// The scout's text lives in scout.md, and never in a reviewer's prompt.
		const runDir = join(harness.cwd, ".pi/workflows/runs", report.runId);
		expect(readFileSync(join(runDir, "artifacts/scout.md"), "utf8")).toBe(SCOUT_MAP);
		const callsOf = (stage: string) => harness.provider.calls.filter((call) => call.stage === stage);
		for (const reviewer of ["correctness", "maintainability"]) {
			const [call] = callsOf(reviewer);
			expect(call).toBeDefined();
			expect(call?.transcript.join("\n")).not.toContain(SCOUT_MAP);
			expect(call?.transcript.join("\n")).toContain(join(runDir, "artifacts/scout.md"));
			// Fresh context: one user message, no scout transcript.
			expect(call?.transcript).toHaveLength(1);
		}
		// Each reviewer went to its own model.
		expect(callsOf("correctness").map((call) => call.model)).toEqual(["smart"]);
		expect(callsOf("maintainability").map((call) => call.model)).toEqual(["fast"]);
		// Synthesis saw both reviews.
		const synthesisPrompt = callsOf("synthesis")[0]?.transcript.join("\n") ?? "";
		expect(synthesisPrompt).toContain("REVIEW-CORRECTNESS: off-by-one in parser");
		expect(synthesisPrompt).toContain("REVIEW-MAINTAINABILITY: rename helpers");

		// report.json: 4 stages, the graph, per-stage usage and a total equal to their sum.
		const saved = JSON.parse(readFileSync(join(runDir, "report.json"), "utf8"));
		expect(saved).toEqual(report);
		expect(saved.version).toBe(1);
		expect(saved.stages.map((stage: { id: string; parents: string[] }) => [stage.id, stage.parents])).toEqual([
			["scout", []],
			["correctness", ["scout"]],
			["maintainability", ["scout"]],
			["synthesis", ["correctness", "maintainability"]],
		]);
		expect(saved.stages.find((stage: { id: string }) => stage.id === "correctness").model).toBe(
			"scripted/smart:high",
		);
		for (const stage of saved.stages) {
			expect(stage.status).toBe("completed");
			expect(stage.usage.totalTokens).toBeGreaterThan(0);
			expect(stage.usage.cost).toBeGreaterThan(0);
			expect(stage.usage.turns).toBe(1);
		}
		for (const key of ["input", "output", "totalTokens", "cost", "turns", "toolCalls"] as const) {
			const sum = saved.stages.reduce(
				(total: number, stage: { usage: Record<string, number> }) => total + (stage.usage[key] ?? 0),
				0,
			);
			expect(saved.usage[key]).toBeCloseTo(sum, 10);
		}
		expect(saved.artifacts).toContain("artifacts/scout.md");

		// Journal and transcripts exist.
		const journal = readJournalFile(join(runDir, "journal.jsonl"));
		expect(journal.header.workflow).toBe("review-change");
		const types = journal.events.map((event) => event.type);
		expect(types[0]).toBe("run_started");
		expect(types.at(-1)).toBe("run_finished");
		expect(types.filter((type) => type === "node_started")).toHaveLength(4);
		expect(
			journal.events.filter((event) => event.type === "node_finished" && event.status === "completed"),
		).toHaveLength(4);
		for (const stage of saved.stages) expect(existsSync(join(runDir, stage.sessionFile))).toBe(true);
		expect(existsSync(join(runDir, "report.md"))).toBe(true);
		expect(readFileSync(join(harness.cwd, ".pi/workflows/runs/.gitignore"), "utf8")).toContain("*");
	});
});
