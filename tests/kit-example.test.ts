// The testing kit's example in the README, as it is written there (a test checks the two are the same).
import { reviewChange } from "pi-workflows/builtin";
import { scripted, testWorkflow } from "pi-workflows/testing";
import { expect, it } from "vitest";

it("review-change keeps only findings with evidence", async () => {
	const finding = { severity: "blocker", file: "src/parse.ts", line: 3, suggestion: "guard it" };
	const run = await testWorkflow(reviewChange, {
		inputs: { target: "PR 12" },
		model: scripted.byStage({
			scout: "parse.ts reads the header",
			correctness: scripted.submit({ findings: [{ ...finding, evidence: "x / 0 on line 3" }] }),
			maintainability: scripted.submit({ findings: [{ ...finding, evidence: "" }] }),
			synthesis: scripted.submit({
				summary: "one blocker",
				blockers: [{ ...finding, reviewer: "correctness", evidence: "x / 0 on line 3" }],
				suggestions: [],
			}),
		}),
	});
	expect(run.report.status).toBe("completed");
	expect(run.report.outputs).toMatchObject({ result: "one blocker", dropped: 1 });
	expect(run.calls("synthesis")[0]?.lastMessage).toContain("findings.json");
	run.cleanup();
});
