// The run store is a seam: the engine runs, pauses and resumes a run the same way against the in-memory store
// as against the files, with its journal, lock and mailbox in memory and its transcripts still on disk.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { controlRun } from "../extensions/workflows/engine/run-control.js";
import { openRunView } from "../extensions/workflows/engine/runs.js";
import { MemoryRunStore } from "../extensions/workflows/store/memory-store.js";
import { twoStages } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

describe("the in-memory run store", () => {
	let harness: Harness;
	afterEach(() => harness.cleanup());

	it("runs, pauses (asked through the store's mailbox) and resumes a run, replaying what it recorded", async () => {
		let reachedSecond: () => void = () => undefined;
		const inSecond = new Promise<void>((resolve) => {
			reachedSecond = resolve;
		});
		harness = await createHarness((request) => {
			if (request.stage === "second" && request.stageCall === 1) {
				reachedSecond();
				return { text: "never delivered", delayMs: 60_000 };
			}
			return `answer of ${request.stage}`;
		});
		const store = new MemoryRunStore(harness.cwd);
		const run = harness.start(twoStages, {}, { store });
		await inSecond;
		// As another process would: through the store, not the live run.
		expect(await controlRun(store, run.runId, { type: "pause" })).toBe(
			`Run ${run.runId} paused. Resume it with /workflow resume ${run.runId} (finished stages are not run again).`,
		);
		expect(openRunView(store, run.runId).report.status).toBe("paused");

		const resumed = await harness.resume(twoStages, run.runId, { store }).done;
		expect(resumed.status).toBe("completed");
		expect(resumed.outputs).toEqual({ result: "answer of second" });
		expect(resumed.stages.map((stage) => [stage.id, stage.replayed])).toEqual([
			["first", true],
			["second", false],
		]);
		// The journal lives in the store; the transcripts are files of the run.
		expect(existsSync(harness.store.paths(run.runId).journal)).toBe(false);
		expect(existsSync(join(run.paths.runDir, resumed.stages[1]?.sessionFile ?? "missing"))).toBe(true);
		expect(store.owner(run.runId)).toEqual({ state: "free" });
	});
});
