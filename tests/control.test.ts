// Pause, resume, steer and cancel on a live run in this process: a paused stage continues its own
// transcript on resume (with the user's message), a steer reaches the stage's next model call.

import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import type { Script } from "../extensions/workflows/testing/scripted-provider.js";
import { deferred } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

/** A stage that reads a file, then holds in its second model call (until stopped, signalling `reached`);
 * calls after that (a resume) are answered by `then`. */
function readThenHold(reached: { resolve(): void }, then: Script): Script {
	return (request) => {
		if (request.stageCall === 1) return { toolCalls: [{ name: "read", arguments: { path: "notes.txt" } }] };
		if (request.stageCall === 2) {
			reached.resolve();
			return { text: "never delivered", delayMs: 60_000 };
		}
		return then(request);
	};
}

const oneStage = workflow({
	name: "one-stage",
	description: "a single stage that reads a file first",
	inputs: {},
	outputs: { result: Type.String() },
	run: async (ctx) => ({ result: (await ctx.task("work", { prompt: "Read notes.txt, then answer" })).text }),
});

describe("pause and resume", () => {
	let harness: Harness;
	afterEach(() => harness.cleanup());

	it("interrupts a running stage and continues its transcript on resume, with the user's message", async () => {
		const secondCall = deferred();
		harness = await createHarness(
			readThenHold(secondCall, (request) => `final answer after: ${request.lastMessage}`),
		);
		const run = harness.start(oneStage, {});
		await secondCall.promise;
		run.pause();
		const paused = await run.done;
		expect(paused.status).toBe("paused");
		expect(paused.stages[0]?.status).toBe("interrupted");

		const resumed = await harness.resume(oneStage, run.runId, { message: "keep it short" }).done;

		expect(resumed.status).toBe("completed");
		const calls = harness.provider.calls;
		expect(calls.map((call) => call.stageCall)).toEqual([1, 2, 3]);
		const continuation = calls[2];
		// The third call continues the same transcript: the tool result of the first attempt is still there.
		expect(continuation?.transcript.some((line) => line.startsWith("toolResult:"))).toBe(true);
		expect(continuation?.lastMessage).toMatch(/has now been resumed/);
		expect(continuation?.lastMessage).toMatch(/keep it short/);
		expect(resumed.outputs?.result).toMatch(/^final answer after: The workflow run stopped/);
		const stage = resumed.stages[0];
		expect(stage?.rerun).toBe("continued from its transcript");
		expect(stage?.sessionFile).toBe("stages/work.jsonl");
		// The call the pause cut short answered nothing: it is no turn.
		expect(stage?.usage.turns).toBe(2);
	});

	it("starts a stage over when its transcript holds no work yet", async () => {
		const firstCall = deferred();
		harness = await createHarness(() => {
			if (harness.provider.calls.length === 1) {
				firstCall.resolve();
				return { text: "never delivered", delayMs: 60_000 };
			}
			return "fresh answer";
		});
		const run = harness.start(oneStage, {});
		await firstCall.promise;
		run.pause();
		await run.done;
		const resumed = await harness.resume(oneStage, run.runId).done;
		expect(resumed.outputs).toEqual({ result: "fresh answer" });
		expect(resumed.stages[0]?.rerun).toMatch(/started over/);
		expect(harness.provider.calls[1]?.transcript).toHaveLength(1);
	});
});

describe("steer across a pause", () => {
	let harness: Harness;
	afterEach(() => harness.cleanup());

	it("hands a steer that never reached the transcript to the resumed stage", async () => {
		const secondCall = deferred();
		harness = await createHarness(readThenHold(secondCall, () => "done"));
		const run = harness.start(oneStage, {});
		await secondCall.promise;
		await run.steer("work", "also check the docs");
		run.pause();
		await run.done;
		await harness.resume(oneStage, run.runId).done;
		expect(harness.provider.calls[2]?.lastMessage).toContain(
			"Message from the user while you worked: also check the docs",
		);
	});

	it("tells a steer that was delivered from one that only appears inside other text", async () => {
		// The stage's prompt says "yes"; a steer "yes" that never reached the stage must still be handed over.
		const yesOrNo = workflow({
			name: "yes-or-no",
			description: "a stage asked to answer yes or no",
			inputs: {},
			outputs: { result: Type.String() },
			run: async (ctx) => ({
				result: (await ctx.task("work", { prompt: "Read notes.txt, then answer yes or no" })).text,
			}),
		});
		const secondCall = deferred();
		harness = await createHarness(readThenHold(secondCall, () => "done"));
		const run = harness.start(yesOrNo, {});
		await secondCall.promise;
		await run.steer("work", "yes");
		run.pause();
		await run.done;
		await harness.resume(yesOrNo, run.runId).done;
		expect(harness.provider.calls[2]?.lastMessage).toContain("Message from the user while you worked: yes");
	});
});

describe("a transcript that cannot be read", () => {
	let harness: Harness;
	afterEach(() => harness.cleanup());

	it("is said to be unreadable (never taken for no work): the stage starts over in a new transcript, with a warning", async () => {
		const secondCall = deferred();
		harness = await createHarness(readThenHold(secondCall, () => "done"));
		const run = harness.start(oneStage, {});
		await secondCall.promise;
		run.pause();
		await run.done;
		const transcript = join(run.paths.stagesDir, "work.jsonl");
		rmSync(transcript);
		mkdirSync(transcript);
		const resumed = await harness.resume(oneStage, run.runId).done;
		expect(resumed.status).toBe("completed");
		const work = resumed.stages.find((stage) => stage.id === "work");
		expect(work?.rerun).toMatch(/^started over: its transcript could not be read \(/);
		expect(work?.sessionFile).toBe("stages/work~2.jsonl");
		expect(resumed.warnings).toEqual([
			expect.stringMatching(/^stage "work": its transcript .*work\.jsonl could not be read/),
		]);
	});
});

describe("steer", () => {
	let harness: Harness;
	afterEach(() => harness.cleanup());

	it("delivers a message to a running stage before its next model call", async () => {
		const inFirstCall = deferred();
		const release = deferred();
		harness = await createHarness(async (request) => {
			if (request.stageCall === 1) {
				inFirstCall.resolve();
				await release.promise;
				return "first answer";
			}
			return `answer to: ${request.lastMessage}`;
		});
		const run = harness.start(oneStage, {});
		await inFirstCall.promise;
		await run.steer("work", "also check the tests");
		release.resolve();
		const report = await run.done;

		expect(report.outputs).toEqual({ result: "answer to: also check the tests" });
		const steered = harness.events(run.runId).find((event) => event.type === "node_steered");
		expect(steered).toMatchObject({ stageId: "work", message: "also check the tests" });
	});

	it("keeps a message for a stage that has not started; a run cancelled before it starts reports it undeliverable", async () => {
		const inFirstCall = deferred();
		harness = await createHarness(() => {
			inFirstCall.resolve();
			return { text: "slow", delayMs: 60_000 };
		});
		const run = harness.start(oneStage, {});
		await inFirstCall.promise;
		await expect(run.steer("review", "hi")).resolves.toContain(`Queued for stage "review" of run ${run.runId}`);
		run.cancel();
		const report = await run.done;
		expect(report.status).toBe("cancelled");
		expect(report.undeliverable).toEqual([
			{ stage: "review", messages: ["hi"], reason: 'stage "review" never started: the run ended cancelled' },
		]);
		expect(report.warnings.join("\n")).toContain("undeliverable");
	});
});

describe("cancel", () => {
	it("stops every branch of a parallel group and starts nothing after it", async () => {
		const bothRunning = deferred();
		const harness = await createHarness(() => {
			if (harness.provider.inFlight === 2) bothRunning.resolve();
			return { text: "slow", delayMs: 60_000 };
		});
		try {
			const fanOut = workflow({
				name: "fan-out",
				description: "two branches, then a stage",
				inputs: {},
				outputs: {},
				run: async (ctx) => {
					await ctx.parallel([
						{ name: "left", prompt: "left" },
						{ name: "right", prompt: "right" },
					]);
					await ctx.task("after", { prompt: "after" });
					return {};
				},
			});
			const run = harness.start(fanOut, {});
			await bothRunning.promise;
			run.cancel("enough");
			const report = await run.done;
			expect(report.status).toBe("cancelled");
			expect(report.reason).toBe("enough");
			expect(report.stages.map((stage) => [stage.id, stage.status])).toEqual([
				["left", "cancelled"],
				["right", "cancelled"],
			]);
			expect(() => harness.resume(fanOut, run.runId)).toThrow(
				/was cancelled \(enough\); a cancelled run is not resumed/,
			);
		} finally {
			harness.cleanup();
		}
	});
});
