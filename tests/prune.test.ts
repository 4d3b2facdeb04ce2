// Pruning old runs removes them whole, and never one a process drives or a resume would continue (unless asked);
// `/workflow runs` lists the project's runs newest first with outcome, duration and cost.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { parseAge, pruneRuns } from "../extensions/workflows/engine/prune.js";
import { projectStore } from "../extensions/workflows/engine/runs.js";
import { formatRunHistory } from "../extensions/workflows/surface/format.js";
import { RunManager } from "../extensions/workflows/surface/run-manager.js";
import { deferred } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

const DAY = 86_400_000;

const oneStage = workflow({
	name: "one",
	description: "one stage",
	run: async (ctx) => {
		await ctx.task("only", { prompt: "go" });
		return {};
	},
});

const asks = workflow({
	name: "asks",
	description: "asks a question",
	run: async (ctx) => {
		await ctx.ui.confirm("Go on?");
		return {};
	},
});

describe("pruning runs", () => {
	let harness: Harness;
	// A stage of the live run tells it started, then answers once released.
	let started = () => {};
	let hold: Promise<void> | undefined;
	beforeEach(async () => {
		harness = await createHarness(async () => {
			started();
			await hold;
			return "done";
		});
	});
	afterEach(() => harness.cleanup());

	it("removes old finished runs whole; keeps live and resumable ones, saying why, unless asked", async () => {
		const finished = await harness.run(oneStage, {});
		const waiting = await harness.run(asks, {}, { inputMode: "stop" });
		expect(waiting.status).toBe("awaiting_input");
		const reached = deferred();
		const release = deferred();
		started = reached.resolve;
		hold = release.promise;
		const live = harness.start(oneStage, {});
		await reached.promise;
		const store = projectStore(harness.cwd);
		const later = Date.now() + 40 * DAY;

		// Nothing is 50 days old.
		expect(pruneRuns(store, { olderThanMs: 50 * DAY, now: later })).toEqual({ removed: [], kept: [] });
		const pruned = pruneRuns(store, { olderThanMs: 30 * DAY, now: later });
		expect(pruned.removed).toEqual([finished.runId]);
		expect(pruned.kept).toEqual(
			expect.arrayContaining([
				{ runId: waiting.runId, why: "it is awaiting_input and can be resumed (--resumable removes it)" },
				{ runId: live.runId, why: "a process is running it" },
			]),
		);
		expect(existsSync(join(harness.cwd, ".pi/workflows/runs", finished.runId))).toBe(false);
		expect(store.has(waiting.runId)).toBe(true);

		const asked = pruneRuns(store, { olderThanMs: 30 * DAY, now: later, resumable: true });
		expect(asked.removed).toEqual([waiting.runId]);
		expect(asked.kept).toEqual([{ runId: live.runId, why: "a process is running it" }]);
		release.resolve();
		expect((await live.done).status).toBe("completed");
	});

	it("refuses an age it cannot read, saying what it expects", () => {
		expect(parseAge("30d")).toEqual({ ok: true, ms: 30 * DAY });
		expect(parseAge("12h")).toEqual({ ok: true, ms: 12 * 3_600_000 });
		expect(parseAge("30 days")).toEqual({
			ok: false,
			error: '--older-than: expected a number and a unit, m (minutes), h, d or w (like 30d or 12h), got "30 days"',
		});
	});

	it("lists runs newest first with outcome, duration and cost, in columns", async () => {
		const first = await harness.run(oneStage, {});
		const second = await harness.run(asks, {}, { inputMode: "stop" });
		const text = formatRunHistory(new RunManager().listings(harness.cwd));
		const [header, newest, oldest] = text.split("\n");
		expect(header).toMatch(/^run {7}workflow {2}outcome {9}duration {5}cost {2}started {11}why$/);
		expect(newest).toMatch(
			new RegExp(
				`^${second.runId}  asks {6}awaiting_input  +\\S+  \\$0\\.0000  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d  awaiting input`,
			),
		);
		expect(oldest).toMatch(new RegExp(`^${first.runId}  one {7}completed  +\\S+  \\$0\\.\\d{4}  \\d{4}-`));
	});
});
