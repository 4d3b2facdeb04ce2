// The fan-out builtin: a planner's structured slices run in parallel under the concurrency limit, each writing its
// result to a file of its own; the synthesis reads the files, and no slice's text travels in a prompt.

import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import fanOut from "../workflows/fan-out.js";
import { createHarness, type Harness } from "./support/harness.js";

const SLICES = ["auth", "billing", "search"];

describe("fan-out", () => {
	let harness: Harness;
	let peak = 0;
	beforeEach(async () => {
		peak = 0;
		harness = await createHarness((request: ScriptedRequest) => {
			peak = Math.max(peak, harness.provider.inFlight);
			if (request.stage === "plan") {
				if (request.afterToolResult) return "planned";
				const slices = SLICES.map((name) => ({ name, prompt: `Review the ${name} module` }));
				return { toolCalls: [{ name: "submit_result", arguments: { slices } }] };
			}
			if (request.stage === "synthesis") return "one synthesis";
			return { text: `SLICE RESULT of ${request.stage}`, delayMs: 20 };
		});
	});
	afterEach(() => harness.cleanup());

	it("runs the planned slices side by side, each into its file, and synthesizes from the files", async () => {
		const report = await harness.run(fanOut, { goal: "Review the app", concurrency: 2 });
		expect(report.status).toBe("completed");
		const outputs = report.outputs as { result: string; slices: Array<{ name: string; file: string }> };
		expect(outputs.result).toBe("one synthesis");
		expect(outputs.slices.map((slice) => slice.name)).toEqual(SLICES);
		for (const slice of outputs.slices) {
			expect(slice.file).toMatch(new RegExp(`artifacts/slices/${slice.name}\\.md$`));
			expect(readFileSync(slice.file, "utf8")).toContain(`SLICE RESULT of ${slice.name}`);
		}
		expect(peak).toBeLessThanOrEqual(2);
		// The synthesis got the files to read, never the slices' texts in its prompt.
		const synthesis = harness.provider.calls.find((call) => call.stage === "synthesis");
		const prompt = synthesis?.transcript[0] ?? "";
		expect(prompt).toContain("slices/auth.md");
		expect(prompt).not.toContain("SLICE RESULT");
		const byId = Object.fromEntries(report.stages.map((stage) => [stage.id, stage]));
		expect(byId.synthesis?.parents.sort()).toEqual(SLICES);
	});

	it("refuses a plan with more slices than maxSlices", async () => {
		const report = await harness.run(fanOut, { goal: "Review the app", maxSlices: 2 });
		expect(report.status).toBe("failed");
		expect(report.reason).toContain("the plan has 3 slices, more than maxSlices 2");
		expect(harness.provider.calls.filter((call) => SLICES.includes(call.stage ?? ""))).toEqual([]);
	});
});
