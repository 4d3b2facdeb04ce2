// ctx.exit: ends the run at once with its status, reason and (checked, partial) outputs, stopping the stages
// still running, also from inside a parallel branch; a bad exit fails the run; a completed or skipped run
// stays ended on resume, a blocked or failed one resumes and replays what it finished.

import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ExitOptions, ExitStatus } from "../extensions/workflows/authoring/types.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { deferred } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

const outputs = { summary: Type.String(), count: Type.Number() };

/** Runs stage "look", then exits as `exit` says; what follows the exit must never run. */
function exitsAfterLook(exit: () => ExitOptions, after: { ran: boolean }) {
	return workflow({
		name: "exits",
		description: "looks, then exits",
		inputs: {},
		outputs,
		run: async (ctx) => {
			await ctx.task("look", { prompt: "Look around" });
			ctx.exit(exit());
			after.ran = true;
			await ctx.task("after", { prompt: "never" });
			return { summary: "returned", count: 0 };
		},
	});
}

describe("ctx.exit", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	const statuses: ExitStatus[] = ["completed", "skipped", "cancelled", "blocked", "failed"];
	for (const status of statuses) {
		it(`ends the run ${status} at once, with its reason and the outputs given`, async () => {
			const after = { ran: false };
			const flow = exitsAfterLook(
				() => ({ status, reason: `exit as ${status}`, outputs: { summary: "partial" } }),
				after,
			);
			const report = await harness.run(flow, {});
			expect(report.status).toBe(status);
			expect(report.reason).toBe(`exit as ${status}`);
			// A subset of the declared outputs is allowed.
			expect(report.outputs).toEqual({ summary: "partial" });
			expect(after.ran).toBe(false);
			expect(harness.provider.calls.map((call) => call.stage)).toEqual(["look"]);
			const finished = harness.events(report.runId).filter((event) => event.type === "run_finished");
			expect(finished).toMatchObject([{ status, reason: `exit as ${status}` }]);
		});
	}

	it("without outputs reports none", async () => {
		const report = await harness.run(
			exitsAfterLook(() => ({ status: "skipped", reason: "nothing to review" }), { ran: false }),
			{},
		);
		expect(report.status).toBe("skipped");
		expect(report.outputs).toBeUndefined();
		expect(report.errors).toEqual([]);
	});

	const invalid: Array<{ name: string; exit: unknown; error: RegExp }> = [
		{
			name: "an unknown status",
			exit: { status: "done", reason: "r" },
			error: /exit: status: expected one of completed, skipped, cancelled, blocked, failed, got "done"/,
		},
		{
			name: "an empty reason",
			exit: { status: "completed", reason: "  " },
			error: /exit: reason: expected a non-empty string/,
		},
		{
			name: "an output of the wrong type",
			exit: { status: "completed", reason: "r", outputs: { count: "three" } },
			error: /exit: invalid outputs:\n- output "count": expected number, got/,
		},
		{
			name: "an undeclared output",
			exit: { status: "completed", reason: "r", outputs: { summary: "s", extra: 1 } },
			error: /exit: invalid outputs:\n- unknown output "extra" \(expected one of: summary, count\)/,
		},
	];
	for (const { name, exit, error } of invalid) {
		it(`with ${name} fails the run, naming the problem`, async () => {
			const after = { ran: false };
			const report = await harness.run(
				exitsAfterLook(() => exit as ExitOptions, after),
				{},
			);
			expect(report.status).toBe("failed");
			expect(report.errors).toHaveLength(1);
			expect(report.errors[0]).toMatch(/^Workflow "exits": /);
			expect(report.errors[0]).toMatch(error);
			expect(report.outputs).toBeUndefined();
			expect(after.ran).toBe(false);
		});
	}

	for (const status of ["completed", "skipped"] as const) {
		it(`a ${status} run resumed is a no-op that reports the same`, async () => {
			const after = { ran: false };
			const flow = exitsAfterLook(() => ({ status, reason: "done early", outputs: { count: 1 } }), after);
			const first = await harness.run(flow, {});
			expect(first.status).toBe(status);
			const calls = harness.provider.calls.length;
			const events = harness.events(first.runId).length;
			const resumed = await harness.resume(flow, first.runId).done;
			expect(resumed.status).toBe(status);
			expect(resumed.reason).toBe("done early");
			expect(resumed.outputs).toEqual({ count: 1 });
			expect(harness.provider.calls).toHaveLength(calls);
			expect(harness.events(first.runId)).toHaveLength(events);
		});
	}

	it("a cancelled run is not resumed", async () => {
		const flow = exitsAfterLook(() => ({ status: "cancelled", reason: "not wanted" }), { ran: false });
		const first = await harness.run(flow, {});
		expect(first.status).toBe("cancelled");
		expect(() => harness.resume(flow, first.runId)).toThrow(
			/was cancelled \(not wanted\); a cancelled run is not resumed/,
		);
		expect(harness.provider.calls).toHaveLength(1);
	});

	for (const status of ["blocked", "failed"] as const) {
		it(`a ${status} run can be resumed: it re-executes, replaying the stages it finished`, async () => {
			let exitNow = true;
			const flow = workflow({
				name: "exits",
				description: "looks, exits while exitNow, then works",
				inputs: {},
				outputs,
				run: async (ctx) => {
					const look = await ctx.task("look", { prompt: "Look around" });
					if (exitNow) ctx.exit({ status, reason: "waiting on a fix", outputs: { summary: look.text } });
					const work = await ctx.task("work", { prompt: "Work" });
					return { summary: work.text, count: 2 };
				},
			});
			const first = await harness.run(flow, {});
			expect(first.status).toBe(status);
			expect(first.reason).toBe("waiting on a fix");
			expect(first.outputs).toEqual({ summary: "answer of look" });
			exitNow = false;
			const report = await harness.resume(flow, first.runId).done;
			expect(report.status).toBe("completed");
			expect(report.reason).toBeUndefined();
			expect(report.outputs).toEqual({ summary: "answer of work", count: 2 });
			expect(harness.provider.calls.map((call) => call.stage)).toEqual(["look", "work"]);
			expect(report.stages.find((stage) => stage.id === "look")?.replayed).toBe(true);
		});
	}
});

describe("ctx.exit inside parallel", () => {
	for (const failFast of [true, false]) {
		it(`passes through as the run's end and stops the running branches (failFast ${failFast})`, async () => {
			const slowStarted = deferred();
			const harness = await createHarness((request) => {
				if (request.stage !== "slow") return `answer of ${request.stage}`;
				slowStarted.resolve();
				// Answers only when stopped (the wait ends on abort), so the run can end only by stopping it.
				return { text: "late", delayMs: 600_000 };
			});
			try {
				let afterParallel = false;
				const flow = workflow({
					name: "exit-in-branch",
					description: "one branch exits while another's stage runs",
					inputs: {},
					outputs,
					run: async (ctx) => {
						await ctx.parallel(
							[
								{ name: "slow", prompt: "take your time" },
								async (branch) => {
									await branch.task("look", { prompt: "look" });
									await slowStarted.promise;
									return branch.exit({ status: "skipped", reason: "already reviewed", outputs: { count: 0 } });
								},
							],
							{ failFast },
						);
						afterParallel = true;
						return { summary: "", count: 1 };
					},
				});
				const report = await harness.run(flow, {});
				expect(report.status).toBe("skipped");
				expect(report.reason).toBe("already reviewed");
				expect(report.outputs).toEqual({ count: 0 });
				expect(report.errors).toEqual([]);
				expect(afterParallel).toBe(false);
				expect(harness.provider.inFlight).toBe(0);
				const slow = report.stages.find((stage) => stage.id === "slow");
				expect(slow?.status).not.toBe("completed");
				expect(slow?.status).not.toBe("running");
			} finally {
				harness.cleanup();
			}
		});
	}
});
