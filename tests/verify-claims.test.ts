// The verify-claims builtin: independent reviewers in fresh contexts, each on its model, submit structured
// verdicts with evidence; the decision is reduced by code (majority or unanimous) and every verdict is reported.

import { scripted, testWorkflow } from "pi-workflows/testing";
import { describe, expect, it } from "vitest";
import type { ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import verifyClaims from "../workflows/verify-claims.js";

const inputs = {
	claim: "the parser handles empty input",
	criteria: ["parse('') returns []", "a test covers it"],
	target: "src/parse.ts",
	models: ["scripted/fast", "scripted/smart", "scripted/other"],
};

function verdict(request: ScriptedRequest) {
	const fails = request.stage === "reviewer-3";
	return scripted.submit({
		verdict: fails ? "fail" : "pass",
		evidence: [fails ? "no test named empty input in tests/" : "parse.ts:3 returns [] for ''"],
		criteria: [
			{ criterion: "parse('') returns []", met: true, evidence: "parse.ts:3" },
			{ criterion: "a test covers it", met: !fails, evidence: fails ? "none found" : "parse.test.ts:9" },
		],
	});
}

/** Every reviewer answers `verdict`; the kit answers the call-back after each submission. */
const reviewers = scripted.byStage({}, verdict);

describe("verify-claims", () => {
	const models = ["fast", "smart", "other"];

	it("reduces the verdicts by majority, reporting each with its model and evidence", async () => {
		const run = await testWorkflow(verifyClaims, { inputs, model: reviewers, models });
		const { report } = run;
		expect(report.status).toBe("completed");
		expect(report.outputs).toMatchObject({ decision: "accepted", rule: "majority", passes: 2, fails: 1 });
		const verdicts = report.outputs?.verdicts as Array<{ reviewer: string; model: string; verdict: string }>;
		expect(verdicts.map((entry) => [entry.reviewer, entry.model, entry.verdict])).toEqual([
			["reviewer-1", "scripted/fast", "pass"],
			["reviewer-2", "scripted/smart", "pass"],
			["reviewer-3", "scripted/other", "fail"],
		]);
		expect(JSON.stringify(verdicts[2])).toContain("no test named empty input");
		// Fresh contexts: no reviewer saw another's work.
		for (const call of run.allCalls.filter((entry) => !entry.afterToolResult)) {
			const text = call.transcript.join("\n");
			expect(text).not.toContain("Submitted.");
			expect(text).toContain("the parser handles empty input");
		}
		run.cleanup();
	});

	it("a unanimous rule rejects with one fail", async () => {
		const run = await testWorkflow(verifyClaims, {
			inputs: { ...inputs, rule: "unanimous" },
			model: reviewers,
			models,
		});
		expect(run.report.outputs).toMatchObject({ decision: "rejected", rule: "unanimous", passes: 2, fails: 1 });
		run.cleanup();
	});

	it("a verdict without evidence is refused by its schema, and the reviewer is asked again", async () => {
		const run = await testWorkflow(verifyClaims, {
			inputs: { ...inputs, reviewers: 1, models: undefined },
			model: scripted.byStage({
				"reviewer-1": [
					scripted.submit({ verdict: "pass", evidence: [], criteria: [] }),
					// Called back with the refusal: it submits again, with evidence.
					scripted.submit({ verdict: "pass", evidence: ["checked"], criteria: [] }),
				],
			}),
		});
		expect(run.report.outputs).toMatchObject({ decision: "accepted", passes: 1 });
		// The empty evidence was refused with the schema's reason; the reviewer's second submission is the verdict.
		const calls = run.calls("reviewer-1");
		// Pi words its schema errors per line: "must not have fewer than 1 items" (0.73.1), "expected at least 1 items" (1.x).
		expect(calls[1]?.lastMessage).toMatch(/evidence: (must not have fewer than|expected at least) 1 items/);
		const verdicts = (run.report.outputs?.verdicts ?? []) as Array<{ evidence: string[] }>;
		expect(verdicts[0]?.evidence).toEqual(["checked"]);
		run.cleanup();
	});

	it("refuses a claim without criteria before any model call", async () => {
		await expect(
			testWorkflow(verifyClaims, { inputs: { claim: "x", criteria: [] }, model: scripted.inOrder([]) }),
		).rejects.toThrow(/invalid inputs[\s\S]*criteria/);
	});
});
