// The process-wide run manager keeps the runs it drives, and only the newest finished ones: a long-lived pi
// process does not hold every run it ever ran in memory; older reports are read from disk when asked for.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { RunManager } from "../extensions/workflows/surface/run-manager.js";
import { createHarness, type Harness } from "./support/harness.js";

const quick = workflow({
	name: "quick",
	description: "one stage",
	inputs: {},
	outputs: {},
	run: async (ctx) => {
		await ctx.task("only", { prompt: "go" });
		return {};
	},
});

describe("RunManager", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	/** A manager that ran `count` quick runs one after another, and their ids in start order. */
	async function runsOf(count: number): Promise<{ manager: RunManager; runIds: string[] }> {
		const manager = new RunManager();
		const options = {
			cwd: harness.cwd,
			agentDir: harness.agentDir,
			modelRegistry: harness.modelRegistry,
			defaultModel: "scripted/fast",
		};
		const runIds: string[] = [];
		for (let index = 0; index < count; index++) {
			const managed = manager.start(quick, {}, options, "user");
			runIds.push(managed.run.runId);
			await managed.run.done;
		}
		return { manager, runIds };
	}

	it("keeps the newest 20 finished runs in memory and reads older ones from disk", async () => {
		const { manager, runIds } = await runsOf(25);
		expect(runIds.filter((runId) => manager.get(runId)).length).toBe(20);
		expect(manager.get(runIds[0] as string)).toBeUndefined();
		expect(manager.get(runIds[24] as string)?.final?.status).toBe("completed");
		expect(manager.report(harness.cwd, runIds[0] as string).status).toBe("completed");
		expect(manager.allRunIds(harness.cwd)).toHaveLength(25);
	});

	it("lists runs newest first, and offers them newest first with workflow, status and age", async () => {
		const { manager, runIds } = await runsOf(4);
		// Run ids are random: listed by id, the order would rarely be the start order.
		const listed = manager.listings(harness.cwd).map((listing) => listing.runId);
		expect(listed).toEqual([...runIds].reverse());
		const choices = manager.runChoices(harness.cwd);
		expect(choices.map((choice) => choice.runId)).toEqual([...runIds].reverse());
		expect(choices[0]?.description).toMatch(/^quick {2}completed {2}\d+s ago$/);
	});
});
