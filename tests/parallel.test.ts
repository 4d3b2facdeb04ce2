// ctx.parallel and the run-wide limit: concurrency is really bounded, failFast stops siblings,
// failFast false lets every branch finish and reports every failure.

import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { ParallelError } from "../extensions/workflows/authoring/parallel-error.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import type { Script } from "../extensions/workflows/testing/scripted-provider.js";
import { createHarness, type Harness } from "./support/harness.js";

/**
 * A script that tracks how many requests are answered at once. A barrier, not a delay, makes them overlap:
 * each request waits until `limit` are in flight (or all `total` have started), so the peak reaches the limit
 * whenever the engine allows it, and a peak above the limit can only come from the engine.
 */
function trackingScript(total: number, limit: number) {
	let inFlight = 0;
	let started = 0;
	let gate = barrier();
	const stats = { peak: 0 };
	const script: Script = async (request) => {
		inFlight++;
		started++;
		stats.peak = Math.max(stats.peak, inFlight);
		if (inFlight >= limit || started === total) {
			gate.open();
			gate = barrier();
		} else await gate.opened;
		inFlight--;
		return `done ${request.stage}`;
	};
	return { script, stats };
}

function barrier() {
	let open = () => {};
	const opened = new Promise<void>((resolve) => {
		open = resolve;
	});
	return { opened, open };
}

const steps = (count: number) =>
	Array.from({ length: count }, (_, index) => ({ name: `worker-${index + 1}`, prompt: `Work item ${index + 1}` }));

describe("ctx.parallel", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("keeps at most `concurrency` branches in flight", async () => {
		const { script, stats } = trackingScript(6, 2);
		harness = await createHarness(script);
		const definition = workflow({
			name: "bounded",
			description: "six branches, two at a time",
			inputs: {},
			outputs: { count: Type.Number() },
			run: async (ctx) => {
				const results = await ctx.parallel(steps(6), { concurrency: 2 });
				return { count: results.length };
			},
		});
		const report = await harness.run(definition, {});
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ count: 6 });
		expect(stats.peak).toBe(2);
	});

	it("applies the run-wide stage limit across parallel groups (default 4)", async () => {
		const { script, stats } = trackingScript(10, 4);
		harness = await createHarness(script);
		const definition = workflow({
			name: "run-wide",
			description: "ten branches, no group limit",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.parallel(steps(10));
				return {};
			},
		});
		expect((await harness.run(definition, {})).status).toBe("completed");
		expect(stats.peak).toBe(4);

		const second = trackingScript(10, 3);
		harness.cleanup();
		harness = await createHarness(second.script);
		expect((await harness.run(definition, {}, { concurrency: 3 })).status).toBe("completed");
		expect(second.stats.peak).toBe(3);
	});

	it("failFast (default) stops the other branches and fails with the first failure", async () => {
		harness = await createHarness(async (request) => {
			if (request.stage === "worker-1") return { error: "400 worker-1 rejected by provider" };
			return { text: "slow", delayMs: 5_000 };
		});
		const definition = workflow({
			name: "fail-fast",
			description: "one fails",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.parallel(steps(3));
				return {};
			},
		});
		const report = await harness.run(definition, {});
		expect(report.status).toBe("failed");
		expect(report.errors).toEqual(['Workflow "fail-fast", stage "worker-1": 400 worker-1 rejected by provider']);
		const byId = Object.fromEntries(report.stages.map((stage) => [stage.id, stage.status]));
		expect(byId).toEqual({ "worker-1": "failed", "worker-2": "cancelled", "worker-3": "cancelled" });
	});

	it("failFast false runs every branch and reports every failure with the successful results", async () => {
		harness = await createHarness((request) =>
			request.stage === "worker-2" || request.stage === "worker-4"
				? { error: `boom in ${request.stage}` }
				: `ok ${request.stage}`,
		);
		let caught: ParallelError | undefined;
		const definition = workflow({
			name: "all-settle",
			description: "two of four fail",
			inputs: {},
			outputs: { survivors: Type.Array(Type.String()) },
			run: async (ctx) => {
				try {
					await ctx.parallel(steps(4), { failFast: false });
					return { survivors: [] };
				} catch (error) {
					caught = error as ParallelError;
					const survivors = caught.results
						.filter((r): r is { text: string } => r !== undefined)
						.map((r) => r.text);
					return { survivors };
				}
			},
		});
		const report = await harness.run(definition, {});
		expect(caught).toBeInstanceOf(ParallelError);
		expect(caught?.failures.map((failure) => failure.message)).toEqual([
			'Workflow "all-settle", stage "worker-2": boom in worker-2',
			'Workflow "all-settle", stage "worker-4": boom in worker-4',
		]);
		expect(report.outputs).toEqual({ survivors: ["ok worker-1", "ok worker-3"] });
		expect(report.stages.map((stage) => stage.status)).toEqual(["completed", "failed", "completed", "failed"]);
	});

	it("runs function branches as sequences that share the group's parents", async () => {
		harness = await createHarness((request) => `out ${request.stage}`);
		const definition = workflow({
			name: "nested",
			description: "branch sequences",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.task("plan", { prompt: "Plan" });
				await ctx.parallel([
					async (branch) => {
						await branch.task("a1", { prompt: "A1" });
						return branch.task("a2", { prompt: "A2" });
					},
					{ name: "b", prompt: "B" },
				]);
				await ctx.task("join", { prompt: "Join" });
				return {};
			},
		});
		const report = await harness.run(definition, {});
		expect(Object.fromEntries(report.stages.map((stage) => [stage.id, stage.parents]))).toEqual({
			plan: [],
			a1: ["plan"],
			b: ["plan"],
			a2: ["a1"],
			join: ["a2", "b"],
		});
	});
});
