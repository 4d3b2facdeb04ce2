// Session start offers the runs a resume would continue, reading only the runs the store lists as open (runs/.open):
// a run is listed from its start, stays listed while it may be resumed, and leaves the list once it ended for good.
// A project from before the list is read whole once, and the list made from it.

import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { controlRun } from "../extensions/workflows/engine/run-control.js";
import { projectStore, resumableRuns } from "../extensions/workflows/engine/runs.js";
import { deferred } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

const twoStages = workflow({
	name: "two",
	description: "two stages",
	run: async (ctx) => {
		await ctx.task("first", { prompt: "First" });
		await ctx.task("second", { prompt: "Second" });
		return {};
	},
});

describe("the list of open runs", () => {
	let harness: Harness;
	let onSecond: () => void = () => {};
	beforeEach(async () => {
		harness = await createHarness(async (request) => {
			if (request.stage === "second") onSecond();
			return "done";
		});
	});
	afterEach(() => harness.cleanup());

	const openDir = () => join(harness.cwd, ".pi/workflows/runs/.open");

	async function pausedRun(): Promise<string> {
		const reached = deferred();
		onSecond = () => reached.resolve();
		const run = harness.start(twoStages, {});
		await reached.promise;
		onSecond = () => {};
		run.pause("paused for the test");
		expect((await run.done).status).toBe("paused");
		return run.runId;
	}

	it("lists a run while it may be resumed, and drops it once it ended for good", async () => {
		const finished = await harness.run(twoStages, {});
		expect(readdirSync(openDir())).not.toContain(finished.runId);
		const paused = await pausedRun();
		expect(readdirSync(openDir())).toEqual([paused]);
		const store = projectStore(harness.cwd);
		expect(resumableRuns(store).map((report) => report.runId)).toEqual([paused]);
		// Cancelled from another process (nobody drives it): it leaves the list.
		await controlRun(store, paused, { type: "cancel", reason: "not needed" });
		expect(readdirSync(openDir())).toEqual([]);
		expect(resumableRuns(store)).toEqual([]);
	});

	it("a resume lists the run again, and its completion drops it", async () => {
		const paused = await pausedRun();
		const resumed = harness.resume(twoStages, paused);
		expect(readdirSync(openDir())).toEqual([paused]);
		expect((await resumed.done).status).toBe("completed");
		expect(readdirSync(openDir())).toEqual([]);
	});

	it("reads a project without the list whole once, and makes the list from it", async () => {
		await harness.run(twoStages, {});
		const paused = await pausedRun();
		rmSync(openDir(), { recursive: true });
		const store = projectStore(harness.cwd);
		expect(store.openRunIds()).toBeUndefined();
		expect(resumableRuns(store).map((report) => report.runId)).toEqual([paused]);
		expect(existsSync(openDir())).toBe(true);
		expect(store.openRunIds()).toEqual([paused]);
	});
});
