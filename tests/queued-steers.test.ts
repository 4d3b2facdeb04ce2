// Messages to stages that have not started: kept in the journal (bounded per stage), handed to the stage in its
// first prompt when it starts, also when the message came while nobody drove the run; refused for a stage
// that ended; reported undeliverable when the run ends for good before the stage starts.

import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { controlRun } from "../extensions/workflows/engine/run-control.js";
import { MAX_QUEUED_PER_STAGE } from "../extensions/workflows/engine/steer-queue.js";
import { deferred } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

function gated(gate: Promise<void>) {
	return workflow({
		name: "gated",
		description: "plan waits at a gate, then build and check",
		inputs: {},
		outputs: { built: Type.String() },
		run: async (ctx) => {
			await ctx.task("plan", { prompt: "Plan" });
			await gate;
			const build = await ctx.task("build", { prompt: "Build" });
			if (build.text.includes("skip")) return { built: build.text };
			await ctx.task("check", { prompt: "Check" });
			return { built: build.text };
		},
	});
}

/** Starts the gated workflow and returns once "plan" finished, with the gate that holds it before "build". */
async function startPlanned(harness: Harness) {
	const gate = deferred();
	const planned = deferred();
	const run = harness.start(
		gated(gate.promise),
		{},
		{
			onEvent: (event) => {
				if (event.type === "journal" && event.event.type === "node_finished" && event.event.stageId === "plan")
					planned.resolve();
			},
		},
	);
	await planned.promise;
	return { run, gate };
}

describe("messages to stages that have not started", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	it("are queued durably and handed to the stage in its first prompt", async () => {
		const { run, gate } = await startPlanned(harness);
		const reply = await run.steer("build", "use the fast path");
		expect(reply).toContain('Queued for stage "build"');
		expect(reply).toContain("stages started so far: plan");
		expect(run.report().queued).toEqual([{ stage: "build", messages: ["use the fast path"] }]);
		gate.resolve();
		const report = await run.done;
		expect(report.status).toBe("completed");
		const build = harness.provider.calls.find((call) => call.stage === "build");
		expect(build?.lastMessage).toContain("use the fast path");
		expect(report.queued).toBeUndefined();
		expect(report.undeliverable).toBeUndefined();
		// Delivered once: a later stage does not get it.
		const check = harness.provider.calls.find((call) => call.stage === "check");
		expect(check?.transcript.join("\n")).not.toContain("use the fast path");
	});

	it("sent while nobody drives the run, a message reaches the stage when a resume starts it", async () => {
		const { run, gate } = await startPlanned(harness);
		run.pause("a break");
		gate.resolve();
		expect((await run.done).status).toBe("paused");
		const reply = await controlRun(harness.store, run.runId, {
			type: "steer",
			stageId: "build",
			message: "from the other side",
		});
		expect(reply).toContain('Queued for stage "build"');
		const resumed = await harness.resume(gated(Promise.resolve()), run.runId).done;
		expect(resumed.status).toBe("completed");
		const build = harness.provider.calls.find((call) => call.stage === "build");
		expect(build?.lastMessage).toContain("from the other side");
	});

	it("refuses a stage that ended, and more than the queue holds, sending nothing", async () => {
		const { run, gate } = await startPlanned(harness);
		await expect(run.steer("plan", "too late")).rejects.toThrow(
			`Run ${run.runId}: stage "plan" has already ended (completed); nothing was sent.`,
		);
		for (let index = 0; index < MAX_QUEUED_PER_STAGE; index++) await run.steer("build", `note ${index}`);
		await expect(run.steer("build", "one more")).rejects.toThrow(
			`stage "build" has ${MAX_QUEUED_PER_STAGE} messages waiting already, the most it may have; nothing was sent.`,
		);
		gate.resolve();
		await run.done;
		const queued = harness.events(run.runId).filter((event) => event.type === "node_queued");
		expect(queued).toHaveLength(MAX_QUEUED_PER_STAGE);
	});

	it("a stage the run never starts: its messages are reported undeliverable when the run ends", async () => {
		const gate = deferred();
		const planned = deferred();
		harness = await createHarness((request) => (request.stage === "build" ? "skip the check" : "ok"));
		const run = harness.start(
			gated(gate.promise),
			{},
			{
				onEvent: (event) => {
					if (event.type === "journal" && event.event.type === "node_finished" && event.event.stageId === "plan")
						planned.resolve();
				},
			},
		);
		await planned.promise;
		await run.steer("check", "look at the edge cases");
		gate.resolve();
		const report = await run.done;
		expect(report.status).toBe("completed");
		expect(report.undeliverable).toEqual([
			{
				stage: "check",
				messages: ["look at the edge cases"],
				reason: 'stage "check" never started: the run ended completed',
			},
		]);
		const lost = harness.events(report.runId).filter((event) => event.type === "node_undeliverable");
		expect(lost).toHaveLength(1);
	});
});
