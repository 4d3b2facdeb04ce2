// Replay on resume, as scenario tables: a run's journal is cut back to the point a crash would have
// left it, then a resume re-executes the workflow. Recorded calls return their results without a
// model call; changed or missing ones run again, and the report says which and why.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { runPaths } from "../extensions/workflows/store/run-directory.js";
import { createHarness, type Harness } from "./support/harness.js";
import { type JournalLine, label } from "./support/journal-lines.js";

function abc(promptA = "Write A") {
	return workflow({
		name: "abc",
		description: "A writes a file, B reads it, C summarises B",
		inputs: {},
		outputs: { result: Type.String() },
		run: async (ctx) => {
			await ctx.task("A", { prompt: promptA, output: "a.md" });
			const b = await ctx.task("B", { prompt: "Review A", reads: ["a.md"] });
			const c = await ctx.task("C", { prompt: "Summarise", previous: b });
			return { result: c.text };
		},
	});
}

/** Keeps the journal up to and including the first event matching `until` (type and stage id). */
function cutJournal(harness: Harness, runId: string, until: string): void {
	const path = runPaths(harness.cwd, runId).journal;
	const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
	const kept: string[] = [header as string];
	for (const line of lines) {
		kept.push(line);
		if (label(JSON.parse(line) as JournalLine) === until) break;
	}
	writeFileSync(path, `${kept.join("\n")}\n`);
	rmSync(runPaths(harness.cwd, runId).reportJson, { force: true });
}

function stagesCalled(harness: Harness, from: number): string[] {
	return harness.provider.calls.slice(from).map((call) => call.stage ?? "?");
}

describe("resume replays what the journal recorded", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	const scenarios: Array<{
		name: string;
		cutAfter: string;
		change?: (harness: Harness, runId: string) => void;
		definition?: ReturnType<typeof abc>;
		calls: string[];
		replayed: string[];
		rerun?: Record<string, RegExp>;
	}> = [
		{
			name: "with only run_started recorded, runs A, B and C",
			cutAfter: "run_started",
			calls: ["A", "B", "C"],
			replayed: [],
		},
		{
			name: "with A recorded, replays A and runs B and C",
			cutAfter: "completed A",
			calls: ["B", "C"],
			replayed: ["A"],
		},
		{
			name: "with A and B recorded, runs C only",
			cutAfter: "completed B",
			calls: ["C"],
			replayed: ["A", "B"],
		},
		{
			name: "with B started and its transcript holding its answer, finishes B without a model call",
			cutAfter: "started B",
			calls: ["C"],
			replayed: ["A"],
			rerun: { B: /transcript already held its answer/ },
		},
		{
			name: "with every stage recorded but not the end, makes no model call",
			cutAfter: "completed C",
			calls: [],
			replayed: ["A", "B", "C"],
		},
		{
			name: "with A's prompt changed, runs A again; B replays because the file it reads is unchanged",
			cutAfter: "completed C",
			definition: abc("Write A, carefully"),
			calls: ["A"],
			replayed: ["B", "C"],
			rerun: { A: /definition changed/ },
		},
		{
			name: "with A's output file deleted, runs A again",
			cutAfter: "completed C",
			change: (h, runId) => rmSync(`${runPaths(h.cwd, runId).artifactsDir}/a.md`),
			calls: ["A"],
			replayed: ["B", "C"],
			rerun: { A: /output file .*a\.md was deleted/ },
		},
		{
			name: "with A's output file edited, runs B (which reads it) and C again",
			cutAfter: "completed C",
			change: (h, runId) => writeFileSync(`${runPaths(h.cwd, runId).artifactsDir}/a.md`, "edited by hand"),
			calls: ["B", "C"],
			replayed: ["A"],
			rerun: { B: /definition changed/, C: /what it consumed changed: "B"/ },
		},
	];

	for (const scenario of scenarios) {
		it(scenario.name, async () => {
			const first = await harness.run(abc(), {});
			expect(first.status).toBe("completed");
			cutJournal(harness, first.runId, scenario.cutAfter);
			scenario.change?.(harness, first.runId);
			const before = harness.provider.calls.length;

			const resumed = await harness.resume(scenario.definition ?? abc(), first.runId).done;

			expect(resumed.status).toBe("completed");
			expect(resumed.outputs).toEqual(first.outputs);
			expect(stagesCalled(harness, before)).toEqual(scenario.calls);
			expect(resumed.stages.filter((stage) => stage.replayed).map((stage) => stage.id)).toEqual(scenario.replayed);
			for (const [id, reason] of Object.entries(scenario.rerun ?? {})) {
				expect(resumed.stages.find((stage) => stage.id === id)?.rerun).toMatch(reason);
			}
			expect(resumed.stages.map((stage) => stage.status)).toEqual(["completed", "completed", "completed"]);
		});
	}

	it("resuming a completed run is a no-op that reports completion", async () => {
		const first = await harness.run(abc(), {});
		const journal = readFileSync(runPaths(harness.cwd, first.runId).journal, "utf8");
		const before = harness.provider.calls.length;
		const again = await harness.resume(abc(), first.runId).done;
		expect(again.status).toBe("completed");
		expect(again.outputs).toEqual(first.outputs);
		expect(harness.provider.calls.length).toBe(before);
		expect(readFileSync(runPaths(harness.cwd, first.runId).journal, "utf8")).toBe(journal);
	});
});
