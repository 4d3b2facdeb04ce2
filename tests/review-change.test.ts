// The review-change scenario end to end: real Pi sessions, a scripted model, real files. Reviewers submit
// structured findings; code keeps the evidenced ones, hands them to the synthesis as findings.json, and drops
// whatever the synthesis returns without evidence.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readJournalFile } from "../extensions/workflows/store/file-journal.js";
import type { ScriptedReply, ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import reviewChange from "../workflows/review-change.js";
import { createHarness, type Harness } from "./support/harness.js";

const SCOUT_MAP = "SCOUT-MAP: files a.ts and b.ts; risk in parser";

const OFF_BY_ONE = {
	severity: "blocker",
	file: "src/parser.ts",
	line: 2,
	evidence: "return text.split(',').slice(0, -1); drops the last item",
	suggestion: "Remove the slice",
};
/** A hunch: no evidence, so code drops it before the synthesis sees it. */
const HUNCH = { severity: "major", file: "src/lexer.ts", line: 0, evidence: "  ", suggestion: "Check the lexer" };
const NO_TEST = {
	severity: "minor",
	file: "tests/parser.test.ts",
	line: 0,
	evidence: "grep parseList tests/ finds nothing",
	suggestion: "Add a test for empty and single-item input",
};
/** What the synthesis adds on its own, without evidence: code drops it from the outputs. */
const INVENTED = {
	reviewer: "correctness",
	severity: "blocker",
	file: "src/other.ts",
	line: 1,
	evidence: "",
	suggestion: "Rewrite it",
};
const SUMMARY = "VERDICT: fix the off-by-one, then add the test";

function submit(result: Record<string, unknown>): ScriptedReply {
	return { toolCalls: [{ name: "submit_result", arguments: result }] };
}

/** The synthesis as a model would do it: read findings.json from the path its prompt names, sort the findings by
 * severity, and (wrongly) add one without evidence. */
function synthesize(request: ScriptedRequest): ScriptedReply {
	if (request.stageCall === 1) {
		const path = /- (\S+findings\.json)$/m.exec(request.lastMessage)?.[1];
		if (!path) return `no findings.json in the prompt: ${request.lastMessage}`;
		return { toolCalls: [{ name: "read", arguments: { path } }] };
	}
	if (request.stageCall === 2) {
		const findings = JSON.parse(request.lastMessage) as Array<{ severity: string }>;
		return submit({
			summary: SUMMARY,
			blockers: [...findings.filter((finding) => finding.severity === "blocker"), INVENTED],
			suggestions: findings.filter((finding) => finding.severity !== "blocker"),
		});
	}
	return "synthesis submitted";
}

function reviewScript(request: ScriptedRequest): ScriptedReply {
	switch (request.stage) {
		case "scout":
			return SCOUT_MAP;
		case "correctness":
			return request.afterToolResult ? "correctness submitted" : submit({ findings: [OFF_BY_ONE, HUNCH] });
		case "maintainability":
			return request.afterToolResult ? "maintainability submitted" : submit({ findings: [NO_TEST] });
		case "synthesis":
			return synthesize(request);
		default:
			return `unexpected stage ${request.stage}`;
	}
}

describe("review-change workflow", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("structured findings flow from the reviewers through findings.json into the synthesis and the report", async () => {
		harness = await createHarness(reviewScript);
		const report = await harness.run(reviewChange, {
			target: "PR 12",
			reviewerModel: "scripted/smart:high",
			maintainabilityModel: "scripted/other",
		});

		expect(report.status).toBe("completed");
		const blocker = { reviewer: "correctness", ...OFF_BY_ONE };
		const suggestion = { reviewer: "maintainability", ...NO_TEST };
		// The hunch never reached the synthesis; the synthesis's invented blocker never reached the outputs.
		expect(report.outputs).toEqual({ result: SUMMARY, blockers: [blocker], suggestions: [suggestion], dropped: 2 });

		// The scout's text lives in scout.md, and never in a reviewer's prompt.
		const runDir = join(harness.cwd, ".pi/workflows/runs", report.runId);
		expect(readFileSync(join(runDir, "artifacts/scout.md"), "utf8")).toBe(SCOUT_MAP);
		const callsOf = (stage: string) => harness.provider.calls.filter((call) => call.stage === stage);
		for (const reviewer of ["correctness", "maintainability"]) {
			const [call] = callsOf(reviewer);
			expect(call).toBeDefined();
			expect(call?.transcript.join("\n")).not.toContain(SCOUT_MAP);
			expect(call?.transcript.join("\n")).toContain(join(runDir, "artifacts/scout.md"));
			expect(call?.tools).toContain("submit_result");
			// Fresh context: one user message, no scout transcript.
			expect(call?.transcript).toHaveLength(1);
		}
		// Each reviewer went to its own model.
		expect(callsOf("correctness").map((call) => call.model)).toEqual(["smart", "smart"]);
		expect(callsOf("maintainability").map((call) => call.model)).toEqual(["other", "other"]);

		// findings.json holds the evidenced findings, tagged with their reviewer, and not the hunch.
		const findingsPath = join(runDir, "artifacts/findings.json");
		expect(JSON.parse(readFileSync(findingsPath, "utf8"))).toEqual([blocker, suggestion]);
		// The synthesis was handed the file, never the reviews' texts or findings in its prompt.
		const [synthesisCall] = callsOf("synthesis");
		const synthesisPrompt = synthesisCall?.transcript.join("\n") ?? "";
		expect(synthesisPrompt).toContain(`- ${findingsPath}`);
		expect(synthesisPrompt).toContain("1 without evidence were left out");
		expect(synthesisPrompt).not.toContain(OFF_BY_ONE.evidence);
		expect(synthesisPrompt).not.toContain("correctness submitted");
		expect(synthesisPrompt).not.toContain(HUNCH.suggestion);
		expect(synthesisCall?.tools.sort()).toEqual(["read", "submit_result"]);

		// report.json: the stages, the findings tool node between reviewers and synthesis, usage summed.
		const saved = JSON.parse(readFileSync(join(runDir, "report.json"), "utf8"));
		expect(saved).toEqual(report);
		expect(saved.version).toBe(1);
		expect(saved.outputs.blockers).toEqual([blocker]);
		expect(saved.outputs.suggestions).toEqual([suggestion]);
		type SavedStage = { id: string; kind: string; parents: string[]; usage: Record<string, number> };
		expect(saved.stages.map((stage: SavedStage) => [stage.id, stage.kind, stage.parents])).toEqual([
			["scout", "task", []],
			["correctness", "task", ["scout"]],
			["maintainability", "task", ["scout"]],
			["findings", "tool", ["correctness", "maintainability"]],
			["synthesis", "task", ["findings"]],
		]);
		const byId = (id: string) => saved.stages.find((stage: { id: string }) => stage.id === id);
		expect(byId("correctness").model).toBe("scripted/smart:high");
		expect(byId("maintainability").model).toBe("scripted/other");
		// Turns: the scout answers; a reviewer submits, then answers; the synthesis reads, submits, then answers.
		const turns = { scout: [1, 0], correctness: [2, 1], maintainability: [2, 1], synthesis: [3, 2] };
		for (const [id, [turnCount, toolCalls]] of Object.entries(turns)) {
			const stage = byId(id);
			expect(stage.status).toBe("completed");
			expect(stage.usage.totalTokens).toBeGreaterThan(0);
			expect(stage.usage.cost).toBeGreaterThan(0);
			expect([stage.usage.turns, stage.usage.toolCalls]).toEqual([turnCount, toolCalls]);
		}
		for (const key of ["input", "output", "totalTokens", "cost", "turns", "toolCalls"] as const) {
			const sum = saved.stages.reduce((total: number, stage: SavedStage) => total + (stage.usage?.[key] ?? 0), 0);
			expect(saved.usage[key]).toBeCloseTo(sum, 10);
		}
		expect(saved.artifacts).toEqual(expect.arrayContaining(["artifacts/scout.md", "artifacts/findings.json"]));

		// Journal and transcripts exist.
		const journal = readJournalFile(join(runDir, "journal.jsonl"));
		expect(journal.header.workflow).toBe("review-change");
		const types = journal.events.map((event) => event.type);
		expect(types[0]).toBe("run_started");
		expect(types.at(-1)).toBe("run_finished");
		expect(types.filter((type) => type === "node_started")).toHaveLength(5);
		expect(
			journal.events.filter((event) => event.type === "node_finished" && event.status === "completed"),
		).toHaveLength(5);
		for (const stage of saved.stages.filter((entry: SavedStage) => entry.kind === "task")) {
			expect(existsSync(join(runDir, stage.sessionFile))).toBe(true);
		}
		expect(existsSync(join(runDir, "report.md"))).toBe(true);
		expect(readFileSync(join(harness.cwd, ".pi/workflows/runs/.gitignore"), "utf8")).toContain("*");
	});

	it("with no evidenced finding the synthesis still runs on an empty findings.json", async () => {
		harness = await createHarness((request) => {
			if (request.stage === "scout") return SCOUT_MAP;
			if (request.afterToolResult) return "submitted";
			if (request.stage === "synthesis") return submit({ summary: "nothing to fix", blockers: [], suggestions: [] });
			return submit({ findings: request.stage === "correctness" ? [HUNCH] : [] });
		});
		const report = await harness.run(reviewChange, { target: "src/" });
		expect(report.outputs).toEqual({ result: "nothing to fix", blockers: [], suggestions: [], dropped: 1 });
		const runDir = join(harness.cwd, ".pi/workflows/runs", report.runId);
		expect(JSON.parse(readFileSync(join(runDir, "artifacts/findings.json"), "utf8"))).toEqual([]);
		// Both reviewers ran on the run's model when no model of their own was given.
		expect(new Set(harness.provider.calls.map((call) => call.model))).toEqual(new Set(["fast"]));
	});

	it("refuses an empty target before any model call, naming the input", async () => {
		harness = await createHarness(reviewScript);
		expect(() => harness.run(reviewChange, { target: "" })).toThrow(
			/invalid inputs[\s\S]*input "target": expected string, got string ""/,
		);
		expect(harness.provider.calls).toEqual([]);
	});
});
